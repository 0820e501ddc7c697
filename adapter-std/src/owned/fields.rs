//! Every parsed field under the provider's own names: [`Field`], [`Fields`], and how a
//! provider's JSON members become fields (secret-named ones kept as [`Secret`]s, the
//! number of members bounded by [`MAX_MEMBERS`]).

use picoauth::json::JsonStr;

use super::secret::Secret;

/// One parsed field value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Field {
    /// A string, unescaped.
    Str(String),
    /// A secret string.
    Secret(Secret),
    /// A number.
    Int(i64),
    /// A number above `i64::MAX`, kept exactly.
    UInt(u64),
    /// A boolean.
    Bool(bool),
    /// A nested object.
    Object(Fields),
    /// A list.
    List(Vec<Self>),
}

/// Parsed fields under the provider's own names, in the provider's model order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Fields(pub Vec<(String, Field)>);

impl Fields {
    pub(super) fn push(&mut self, name: &str, v: Field) {
        self.0.push((name.to_owned(), v));
    }
    pub(super) fn str(&mut self, name: &str, v: Option<JsonStr<'_>>) {
        if let Some(v) = v {
            self.push(name, Field::Str(decode(v)));
        }
    }
    pub(super) fn secret(&mut self, name: &str, v: Option<JsonStr<'_>>) {
        if let Some(v) = v {
            self.push(name, Field::Secret(Secret::new(decode(v))));
        }
    }
    pub(super) fn int(&mut self, name: &str, v: Option<impl Into<i128>>) {
        if let Some(v) = v {
            self.push(name, int_field(v.into()));
        }
    }
    pub(super) fn bool(&mut self, name: &str, v: Option<bool>) {
        if let Some(v) = v {
            self.push(name, Field::Bool(v));
        }
    }
    pub(super) fn object(&mut self, name: &str, v: Option<Self>) {
        if let Some(v) = v {
            self.push(name, Field::Object(v));
        }
    }

    /// A field by name.
    pub fn get(&self, name: &str) -> Option<&Field> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// An integer as the field that holds it exactly (`i64`, or `u64` above `i64::MAX`;
/// the core's integers are `i64` or `u64`, so nothing is clamped).
pub(super) fn int_field(v: i128) -> Field {
    match (i64::try_from(v), u64::try_from(v)) {
        (Ok(i), _) => Field::Int(i),
        (_, Ok(u)) => Field::UInt(u),
        // Not reachable from the core's types; kept exact as text all the same.
        _ => Field::Str(v.to_string()),
    }
}

pub(super) fn decode(s: JsonStr<'_>) -> String {
    s.chars().collect()
}

/// A Slack team or enterprise object.
pub(super) fn team_fields(id: Option<JsonStr<'_>>, name: Option<JsonStr<'_>>) -> Fields {
    let mut f = Fields::default();
    f.str("id", id);
    f.str("name", name);
    f
}

pub(super) fn webhook_fields(w: &picoauth::json::slack::IncomingWebhook<'_>) -> Fields {
    let mut f = Fields::default();
    f.str("channel", w.channel);
    f.str("channel_id", w.channel_id);
    f.str("configuration_url", w.configuration_url);
    f.secret("url", w.url.map(|u| u.expose()));
    f
}

/// Slack's `warning` and `response_metadata.warnings`, merged in order, each once.
pub(super) fn warnings_field(f: &mut Fields, w: &picoauth::json::slack::Warnings<'_>) {
    let mut list: Vec<Field> = Vec::new();
    for x in w.iter() {
        let text = match x {
            picoauth::json::slack::SlackWarning::Other(s) => decode(s),
            known => known.as_str().to_owned(),
        };
        let item = Field::Str(text);
        if !list.contains(&item) {
            list.push(item);
        }
    }
    if !list.is_empty() {
        f.push("warnings", Field::List(list));
    }
}

/// The members Slack's envelope carries that `warnings` replaces.
pub(super) const SLACK_MERGED: &[&str] = &["warning", "response_metadata"];

/// The most members and list elements copied from the parts of a body the provider
/// model does not name (extension members and what they nest), per body. Copying is
/// linear in the body; past this cap [`parse_body`](super::parse_body) and [`parse_response`](super::parse_response) refuse the
/// body with [`ParseError::TooManyMembers`](super::ParseError::TooManyMembers), and the clients' outcomes
/// ([`OwnedOutcome::from_outcome`](super::OwnedOutcome::from_outcome)) keep the first ones only.
pub const MAX_MEMBERS: usize = 4096;

/// Whether a member named `name` holds a secret: `*token*` (but not `token_type`),
/// `*secret*`, `*password*`, `code`, or a webhook's `url`. Such string values, and
/// every string nested in an object or list under such a member, are redacted unless
/// secrets are asked for.
pub fn is_secret_name(name: &str, in_webhook: bool) -> bool {
    let n = name.to_ascii_lowercase();
    (n.contains("token") && n != "token_type")
        || n.contains("secret")
        || n.contains("password")
        || n == "code"
        || (in_webhook && n == "url")
}

/// What is left of [`MAX_MEMBERS`] while copying one body.
pub(super) struct Budget {
    left: usize,
    /// Whether a member was refused for want of budget.
    pub(super) exceeded: bool,
}

impl Budget {
    pub(super) const fn new() -> Self {
        Self {
            left: MAX_MEMBERS,
            exceeded: false,
        }
    }

    /// Takes one member; `false` once the cap is reached.
    pub(super) fn take(&mut self) -> bool {
        if self.left == 0 {
            self.exceeded = true;
            return false;
        }
        self.left -= 1;
        true
    }
}

/// Copies a JSON value the provider model does not name; `name` is its member name
/// (for redaction), `in_webhook` whether it lies in a webhook object.
pub(super) fn value_field(
    name: &str,
    v: picoauth::json::value::Value<'_>,
    in_webhook: bool,
    budget: &mut Budget,
) -> Option<Field> {
    value_under(name, v, in_webhook, false, budget)
}

/// [`value_field`], `under_secret` when a member above this one has a secret name:
/// every string below such a member is a secret too, whatever its own name (a
/// `"tokens": [{"value": …}]` list, a `"client_secret": {"value": …}` object).
fn value_under(
    name: &str,
    v: picoauth::json::value::Value<'_>,
    in_webhook: bool,
    under_secret: bool,
    budget: &mut Budget,
) -> Option<Field> {
    use picoauth::json::value::Value;
    let secret = under_secret || is_secret_name(name, in_webhook);
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => Field::Bool(b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Field::Int(i),
            (None, Some(u)) => Field::UInt(u),
            _ => Field::Str(n.as_str().to_owned()),
        },
        Value::String(s) if secret => Field::Secret(Secret::new(decode(s))),
        Value::String(s) => Field::Str(decode(s)),
        Value::Object(o) => {
            let webhook = in_webhook || name.to_ascii_lowercase().contains("webhook");
            let mut f = Fields::default();
            for (k, v) in o.members() {
                if !budget.take() {
                    break;
                }
                let k = decode(k);
                if let Some(v) = value_under(&k, v, webhook, secret, budget) {
                    f.0.push((k, v));
                }
            }
            Field::Object(f)
        }
        Value::Array(a) => {
            let mut list = Vec::new();
            for v in a.elements() {
                if !budget.take() {
                    break;
                }
                list.extend(value_under(name, v, in_webhook, secret, budget));
            }
            Field::List(list)
        }
    })
}

/// Adds every member of `o` that `f` does not hold yet and `skip` does not name,
/// verbatim (secret-named ones as secrets).
pub(super) fn extensions(
    f: &mut Fields,
    o: &picoauth::json::value::Object<'_>,
    skip: &[&str],
    budget: &mut Budget,
) {
    for (k, v) in o.members() {
        let k = decode(k);
        if skip.contains(&k.as_str()) || f.get(&k).is_some() {
            continue;
        }
        if !budget.take() {
            break;
        }
        if let Some(v) = value_field(&k, v, false, budget) {
            f.0.push((k, v));
        }
    }
}

/// `fields` of the known object `name` of `parent`, with the members the provider model
/// does not name added verbatim (a field Slack adds inside `authed_user`, say).
pub(super) fn with_unknown(
    mut fields: Fields,
    parent: &picoauth::json::value::Object<'_>,
    name: &str,
    budget: &mut Budget,
) -> Fields {
    if let Some(picoauth::json::value::Value::Object(o)) = parent.get(name) {
        if name.contains("webhook") {
            // Every member of a webhook object goes through the webhook redaction rule.
            for (k, v) in o.members() {
                let k = decode(k);
                if fields.get(&k).is_some() || !budget.take() {
                    continue;
                }
                if let Some(v) = value_field(&k, v, true, budget) {
                    fields.0.push((k, v));
                }
            }
        } else {
            extensions(&mut fields, &o, &[], budget);
        }
    }
    fields
}

/// Slack's `response_metadata` without its `warnings` (merged into `warnings`), when
/// anything else is in it.
pub(super) fn slack_metadata(
    f: &mut Fields,
    o: &picoauth::json::value::Object<'_>,
    budget: &mut Budget,
) {
    use picoauth::json::value::Value;
    let Some(Value::Object(meta)) = o.get("response_metadata") else {
        return;
    };
    let mut m = Fields::default();
    extensions(&mut m, &meta, &["warnings"], budget);
    if !m.0.is_empty() {
        f.push("response_metadata", Field::Object(m));
    }
}

#[cfg(test)]
mod tests {
    use picoauth::provider::ProviderKind;

    use super::super::parse_body;

    #[test]
    fn strings_nested_under_a_secret_name_are_secrets() {
        let body = br#"{"access_token":"a","token_type":"Bearer",
            "issued_tokens":[{"kind":"api","value":"NESTED-SECRET-1"}],
            "client_secret":{"value":"NESTED-SECRET-2","expires_at":5},
            "team":{"name":"acme"}}"#;
        let o = parse_body(ProviderKind::Rfc6749, 200, body).unwrap();
        let d = format!("{o:?}");
        assert!(!d.contains("NESTED-SECRET"), "{d}");
        // Strings elsewhere and numbers stay as they are.
        assert!(d.contains("Str(\"acme\")") && d.contains("Int(5)"), "{d}");
    }
}
