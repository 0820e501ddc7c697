//! Owned results for std users: the token set with `expires_at`, every parsed field
//! under the provider's own names, redacted `Debug`, secrets wiped when dropped, and
//! (feature `serde`) `Serialize` and `Deserialize` for a service's own storage.
//!
//! In three files: [`Secret`] (secret.rs), the fields ([`Field`], [`Fields`];
//! fields.rs) and the outcome ([`OwnedOutcome`], [`TokenSet`], [`parse_body`],
//! [`parse_response`]; outcome.rs). The command line's JSON rendering of an outcome
//! lives in the `picoauth` command's crate (`picoauth_cli::json`).

mod fields;
mod outcome;
mod secret;

pub use fields::{is_secret_name, Field, Fields, MAX_MEMBERS};
pub use outcome::{parse_body, parse_response, OwnedOutcome, ParseError, TokenSet};
pub use secret::{redacted, Secret};
