//! HTTP/1.1 framing: requests out, responses in.

pub mod request;
pub mod response;
