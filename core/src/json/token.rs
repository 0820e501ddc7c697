//! Secret views over token-body strings; `Debug` and `Display` are redacted.

use core::fmt;

use super::JsonStr;
use crate::secret::fmt_redacted;

/// Declares a `Copy` newtype over [`JsonStr`] whose `Debug` and `Display` are
/// redacted with [`fmt_redacted`].
macro_rules! secret_view {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq)]
        pub struct $name<'b>(JsonStr<'b>);

        impl<'b> $name<'b> {
            /// Wraps a string from a body.
            pub(crate) const fn new(value: JsonStr<'b>) -> Self {
                Self(value)
            }

            /// The secret itself. Call this only where the value must be used.
            pub const fn expose(&self) -> JsonStr<'b> {
                self.0
            }
        }

        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "("))?;
                fmt_redacted(f, self.0.chars())?;
                f.write_str(")")
            }
        }

        impl fmt::Display for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt_redacted(f, self.0.chars())
            }
        }

        #[cfg(feature = "defmt")]
        impl defmt::Format for $name<'_> {
            fn format(&self, f: defmt::Formatter<'_>) {
                defmt::write!(f, "{=str}([redacted])", stringify!($name))
            }
        }
    };
}

secret_view! {
    /// An access token (`access_token`, Slack v1 `bot.bot_access_token`).
    AccessToken
}

secret_view! {
    /// A refresh token (`refresh_token`).
    RefreshToken
}

secret_view! {
    /// An OpenID Connect ID token (`id_token`).
    IdToken
}

secret_view! {
    /// A Slack incoming-webhook URL: its path is the credential that lets anyone post.
    WebhookUrl
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
