//! The command's JSON rendering of an outcome: one object per answer,
//! `{"outcome":…,"http_status":N,"retry_after":N,"www_authenticate":…,"fields":{…}}`,
//! secrets redacted unless asked for (`--show-secrets`).

use picoauth_std::owned::{Field, Fields, OwnedOutcome};
use serde_json::{Map, Value};

/// The command line's JSON object for `o`:
/// `{"outcome":…,"http_status":N,"retry_after":N,"www_authenticate":…,"fields":{…}}`
/// (`retry_after` and `www_authenticate` only when present); secrets redacted unless
/// `show_secrets`.
pub fn outcome_json(o: &OwnedOutcome, show_secrets: bool) -> Value {
    let mut m = Map::new();
    m.insert("outcome".into(), Value::from(o.kind()));
    m.insert("http_status".into(), Value::from(o.status()));
    if let OwnedOutcome::RateLimited {
        retry_after: Some(r),
        ..
    } = o
    {
        m.insert("retry_after".into(), Value::from(*r));
    }
    if let Some(w) = o.www_authenticate() {
        m.insert("www_authenticate".into(), Value::from(w));
    }
    let fields = match o {
        OwnedOutcome::Token { fields, .. }
        | OwnedOutcome::Error { fields, .. }
        | OwnedOutcome::RateLimited { fields, .. } => fields_json(fields, show_secrets),
        // `HttpError` carries no fields.
        _ => Value::Object(Map::new()),
    };
    m.insert("fields".into(), fields);
    Value::Object(m)
}

/// The fields as a JSON object; secrets redacted unless `show_secrets`.
pub fn fields_json(fields: &Fields, show_secrets: bool) -> Value {
    Value::Object(
        fields
            .0
            .iter()
            .map(|(k, v)| (k.clone(), field_json(v, show_secrets)))
            .collect::<Map<_, _>>(),
    )
}

fn field_json(f: &Field, show: bool) -> Value {
    match f {
        Field::Str(s) => Value::String(s.clone()),
        Field::Secret(s) if show => Value::String(s.expose().to_owned()),
        Field::Secret(s) => Value::String(s.to_string()),
        Field::Int(i) => Value::from(*i),
        Field::UInt(u) => Value::from(*u),
        Field::Bool(b) => Value::Bool(*b),
        Field::Object(o) => fields_json(o, show),
        Field::List(l) => Value::Array(l.iter().map(|x| field_json(x, show)).collect()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use picoauth::provider::ProviderKind;
    use picoauth_std::owned::parse_body;

    use super::*;

    fn now_unix() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    const BODY: &[u8] = br#"{"ok":true,"access_token":"xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy","token_type":"bot","refresh_token":"xoxe-1-My0xLTEyMzQ1Njc4OTAxMi0xMjM0","expires_in":43200,"authed_user":{"id":"U1","access_token":"xoxp-1234567890-abcdefghijkl","refresh_token":"xoxe-1-userrefreshsecretvalue"},"incoming_webhook":{"url":"https:\/\/hooks.slack.com\/services\/T000\/B000\/XXXXSECRETXXXX"}}"#;
    const SECRETS: &[&str] = &[
        "pdFZKVeTuE8sk7oOcBrzbqgy",
        "My0xLTEyMzQ1Njc4OTAxMi0xMjM0",
        "abcdefghijkl",
        "userrefreshsecretvalue",
        "XXXXSECRETXXXX",
    ];

    #[test]
    fn unknown_members_inside_known_objects_are_printed_and_redacted_by_name() {
        let body = br##"{"ok":true,"access_token":"xoxb-1","token_type":"bot","team":{"id":"T1","name":"n","domain":"acme"},"enterprise":null,"authed_user":{"id":"U1","new_field":"x","id_token":"USERIDTOKENSECRET"},"incoming_webhook":{"url":"https://hooks.example/HOOKSECRET","channel":"#c"}}"##;
        let o = parse_body(ProviderKind::SlackV2, 200, body).unwrap();
        let json = outcome_json(&o, false);
        assert_eq!(json["fields"]["team"]["domain"], "acme", "{json}");
        assert_eq!(json["fields"]["authed_user"]["new_field"], "x", "{json}");
        assert_eq!(
            json["fields"]["incoming_webhook"]["channel"], "#c",
            "{json}"
        );
        let text = json.to_string();
        for s in ["USERIDTOKENSECRET", "HOOKSECRET"] {
            assert!(!text.contains(s), "{s} leaks: {text}");
        }
        assert!(outcome_json(&o, true)
            .to_string()
            .contains("USERIDTOKENSECRET"));

        let v1 = br#"{"access_token":"xoxp-1","scope":"read","bot":{"bot_user_id":"B1","bot_access_token":"xoxb-BOTSECRET","bot_extra":"y"}}"#;
        let o = parse_body(ProviderKind::SlackV1, 200, v1).unwrap();
        let json = outcome_json(&o, false);
        assert_eq!(json["fields"]["bot"]["bot_extra"], "y", "{json}");
        assert!(!json.to_string().contains("BOTSECRET"));
    }

    #[test]
    fn debug_and_json_never_show_secrets_unless_asked() {
        let o = parse_body(ProviderKind::SlackV2, 200, BODY).unwrap();
        let debug = format!("{o:?} {:?}", o.tokens());
        let json = outcome_json(&o, false).to_string();
        for s in SECRETS {
            assert!(!debug.contains(s), "Debug leaks {s}: {debug}");
            assert!(!json.contains(s), "JSON leaks {s}: {json}");
        }
        let shown = outcome_json(&o, true).to_string();
        for s in SECRETS {
            assert!(shown.contains(s), "--show-secrets must show {s}");
        }
        // Storage: Serialize writes the real values, and `expires_at` is set.
        let t = o.tokens().unwrap();
        let stored = serde_json::to_string(t).unwrap();
        assert!(stored.contains("pdFZKVeTuE8sk7oOcBrzbqgy"));
        let at = t.expires_at.unwrap();
        assert!(at >= now_unix() + 43_190 && at <= now_unix() + 43_200);
        assert!(!t.is_expired());
        assert_eq!(
            t.user
                .as_ref()
                .unwrap()
                .refresh_token
                .as_ref()
                .unwrap()
                .expose(),
            "xoxe-1-userrefreshsecretvalue"
        );
    }
}
