//! Incremental HTTP/1.1 response reading into one fixed buffer.
//!
//! A [`ResponseReader`] owns nothing: it borrows one caller-supplied buffer, and the
//! transport reads straight into [`ResponseReader::spare`] and reports how many bytes it
//! got with [`ResponseReader::advance`] (or copies with [`ResponseReader::feed`]). Bytes may
//! arrive in any split, down to one at a time; the outcome does not depend on the split,
//! and any prefix of a valid response gives [`Status::NeedMore`], never an error.
//!
//! The head (status line and header fields) is parsed by [`httparse`]. The body is framed
//! by `Content-Length`, by `Transfer-Encoding: chunked` (de-chunked in place, so
//! [`Response::body`] is one contiguous slice), or by the peer closing the connection
//! ([`ResponseReader::finish`]). Interim `1xx` responses are skipped; `204` and `304`
//! have no body.
//!
//! ```
//! use picoauth::http::response::{ResponseReader, Status};
//!
//! let mut buf = [0u8; 256];
//! let mut reader = ResponseReader::new(&mut buf);
//! let wire = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";
//! // A transport would read into `reader.spare()` and call `reader.advance(n)`.
//! let (used, status) = reader.feed(wire).unwrap();
//! assert_eq!((used, status), (wire.len(), Status::Complete));
//! let response = reader.response().unwrap();
//! assert_eq!(response.status, 200);
//! assert!(response.is_json());
//! assert_eq!(response.body, b"{\"ok\":true}");
//! ```
//!
//! ## Buffer size
//!
//! The buffer must hold the whole head and the whole body at once (the body is handed
//! out as one slice). A chunked body also needs room for its framing in flight: a few
//! bytes beyond the body for the last chunk line and the trailer section. A body framed
//! by connection close must leave at least one byte free: a full buffer is reported as
//! [`ResponseError::BodyTooLarge`] rather than a possibly cut-off body.
//!
//! ## Files
//!
//! [`ResponseReader`] and [`Status`] (the reader, `reader.rs`), [`Response`] and
//! [`Headers`] (the complete response, `view.rs`), the header fields the reader acts
//! on (`head.rs`), [`RetryAfter`] and [`HttpDate`] (`date.rs`), and
//! [`ResponseError`] (`error.rs`).

mod date;
mod error;
mod head;
mod reader;
#[cfg(test)]
mod test_support;
mod view;

pub use date::{HttpDate, RetryAfter};
pub use error::{HeadErrorKind, ResponseError};
pub use reader::{ResponseReader, Status, MAX_HEADERS, MAX_INTERIM_RESPONSES};
pub use view::{is_json_media_type, Headers, Response};
