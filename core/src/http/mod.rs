//! HTTP/1.1 framing: requests out, responses in.

mod chunked;
pub mod request;
pub mod response;
