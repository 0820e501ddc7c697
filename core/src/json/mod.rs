//! Token and error bodies into borrowed, typed, redacting views.
//!
//! Each provider has its own parser: [`slack::parse_v2`] and [`slack::parse_v1`] for
//! Slack `oauth.v2.access` / `oauth.access`, [`pinterest::parse`] for Pinterest v5
//! `POST /v5/oauth/token`, [`rfc6749::parse`] for any RFC 6749 §5.1 / §5.2 endpoint.
//! Every parser borrows the body: strings come back as [`JsonStr`] views over the
//! raw text between the quotes, decoded lazily and without allocation, and secrets
//! come back as [`AccessToken`], [`RefreshToken`], [`IdToken`] and [`WebhookUrl`],
//! whose `Debug` and `Display` are redacted.
//!
//! ```
//! use picoauth::json::slack::{self, SlackV2};
//! let body = br#"{"ok":true,"access_token":"xoxb-17653672481-19874698323","team":{"id":"T1","name":"Caf\u00e9"}}"#;
//! let SlackV2::Token(t) = slack::parse_v2(body).unwrap() else { panic!() };
//! assert_eq!(t.access_token.unwrap().expose(), "xoxb-17653672481-19874698323");
//! assert_eq!(format!("{:?}", t.access_token.unwrap()), "AccessToken(xoxb…[redacted])");
//! assert_eq!(t.team.unwrap().name.unwrap(), "Café");
//! ```
//!
//! ## Why a hand-written parser
//!
//! `serde-json-core` 0.7 (the usual `no_std`, no-`alloc` choice) was evaluated and
//! does not fit: its `deserialize_any` returns `AnyIsUnsupported`, so a field that is
//! a number at one provider and a string at another (Pinterest sends
//! `"expires_in": "2592000"` where everyone else sends `3600`) cannot be read; its
//! skipping of unknown values accepts invalid JSON such as `{"x": tru}`; and it hands
//! back raw escaped text without a way to decode it in place. So the parser is a
//! small, strict RFC 8259 pull parser written for this crate (its values are
//! [`value`]): zero-copy, iterative (no recursion, depth limited to
//! [`value::MAX_DEPTH`]), and every unknown value is validated while it is skipped.
//!
//! ## Rules common to every parser
//!
//! - The body must be UTF-8 and exactly one JSON object, optionally surrounded by JSON
//!   whitespace. A UTF-8 byte order mark is rejected (RFC 8259 §8.1 forbids sending
//!   one), as [`JsonError::UnexpectedByte`] at offset 0.
//! - Unknown members (including nested objects and arrays) are skipped, after being
//!   validated.
//! - `null` means absent for every optional field.
//! - A known member with the wrong JSON type gives [`JsonError::WrongType`]; a known
//!   member that appears twice gives [`JsonError::DuplicateField`], so a second
//!   `access_token` can never silently win.
//! - Integer fields accept a JSON number or a string of ASCII digits; negative,
//!   fractional or overflowing values give [`JsonError::InvalidInteger`].
//! - No error carries body bytes.

pub mod pinterest;
pub mod rfc6749;
pub mod slack;
pub mod value;

mod error;
mod fields;
mod lexer;
mod reader;
mod string;
mod token;

pub use error::JsonError;
pub use string::{Chars, JsonStr, Scopes};
pub use token::{AccessToken, IdToken, RefreshToken, WebhookUrl};
