//! Secret views over token-body strings; `Debug` and `Display` are redacted.

use super::JsonStr;
use crate::secret::secret_newtype;

secret_newtype! {
    /// An access token (`access_token`, Slack v1 `bot.bot_access_token`).
    pub(crate) AccessToken<'b>(JsonStr<'b>)
}

secret_newtype! {
    /// A refresh token (`refresh_token`).
    pub(crate) RefreshToken<'b>(JsonStr<'b>)
}

secret_newtype! {
    /// An OpenID Connect ID token (`id_token`).
    pub(crate) IdToken<'b>(JsonStr<'b>)
}

secret_newtype! {
    /// A Slack incoming-webhook URL: its path is the credential that lets anyone post.
    pub(crate) WebhookUrl<'b>(JsonStr<'b>)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn redacted_in_debug_and_display() {
        let raw = JsonStr::from_validated(r"xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy");
        let t = AccessToken::new(raw);
        assert_eq!(format!("{t:?}"), "AccessToken(xoxb…[redacted])");
        assert_eq!(format!("{t}"), "xoxb…[redacted]");
        assert_eq!(
            t.expose(),
            "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
        );
        // The redaction counts decoded characters, not escapes.
        let esc = RefreshToken::new(JsonStr::from_validated(r"\u0078oxe-1-abcdefghijkl"));
        assert_eq!(format!("{esc:?}"), "RefreshToken(xoxe…[redacted])");
        let url = WebhookUrl::new(JsonStr::from_validated(
            r"https:\/\/hooks.slack.com\/services\/T\/B\/secret",
        ));
        let d = format!("{url:?} {url}");
        assert!(!d.contains("secret") && !d.contains("hooks"), "{d}");
        assert_eq!(
            format!("{:?}", IdToken::new(JsonStr::from_validated("abc"))),
            "IdToken([redacted])"
        );
    }
}
