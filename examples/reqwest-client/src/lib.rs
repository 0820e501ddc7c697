//! picoauth with reqwest: picoauth decides what to send and what the answer means;
//! reqwest, the client the service already runs, moves the bytes.
//!
//! Run `cargo run -p picoauth-example-reqwest -- TOKEN_URL` with `CLIENT_ID`,
//! `CLIENT_SECRET` and `CODE` in the environment for a Slack v2 code exchange.

use picoauth::request::TokenRequest;
use picoauth_std::http_types::{from_response, to_request, FormBody};
use picoauth_std::OwnedOutcome;

/// Why the exchange did not produce an outcome.
#[derive(Debug)]
pub enum Error {
    /// picoauth refused the request.
    Request(picoauth_std::http_types::ToRequestError),
    /// reqwest failed (connect, TLS, timeout, …).
    Reqwest(reqwest::Error),
    /// The answer's status and headers did not make an `http::Response`.
    Http(http::Error),
    /// The answer was not the provider's.
    Response(picoauth_std::owned::ParseError),
}

/// One token exchange over a reqwest blocking client.
///
/// # Errors
/// See [`Error`].
pub fn exchange(
    client: &reqwest::blocking::Client,
    req: &TokenRequest<'_>,
) -> Result<OwnedOutcome, Error> {
    let request = to_request(req).map_err(Error::Request)?;
    let request = reqwest::blocking::Request::try_from(request.map(FormBody::into_vec))
        .map_err(Error::Reqwest)?;
    let response = client.execute(request).map_err(Error::Reqwest)?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response.bytes().map_err(Error::Reqwest)?;
    let response = builder.body(body).map_err(Error::Http)?;
    from_response(req.provider().kind, &response).map_err(Error::Response)
}
