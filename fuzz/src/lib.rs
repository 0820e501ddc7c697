//! Shared helpers of the picoauth fuzz targets.
//!
//! - [`Framed`]: the input layout of the split-feeding targets,
//!   `[selector, n, size_1 … size_n, wire …]`.
//! - [`Replay`] (from `picoauth-test-support`, shared with the core's tests): an in-memory
//!   `embedded-io` (and `embedded-io-async`) transport that replays fuzzer bytes as the
//!   server, in fuzzer-chosen read sizes.
//! - [`OwnedResponse`]: compares the results of two reader runs (outcomes compare with `==`).
//! - [`check_str`] and the `check_*` walkers: every string a parser returns decodes,
//!   agrees with serde_json, and redacts itself when it is a secret.
//!
//! Everything here panics on a broken invariant: that is how libFuzzer finds it.

use core::convert::Infallible;

use picoauth::exchange::{Answer, ExchangeError, Outcome, ProviderError, Token};
use picoauth::http::response::{Response, ResponseError, ResponseReader, RetryAfter, Status};
use picoauth::json::pinterest::{Pinterest, PinterestError, PinterestToken};
use picoauth::json::rfc6749::{ErrorResponse, Rfc6749, TokenResponse, TokenType};
use picoauth::json::slack::{
    AuthedUser, IncomingWebhook, SlackError, SlackV1, SlackV1Token, SlackV2, SlackV2Token,
    SlackWarning, Warnings,
};
use picoauth::json::value::Value;
use picoauth::json::{AccessToken, IdToken, JsonError, JsonStr, RefreshToken, WebhookUrl};
use picoauth::BufferTooSmall;

// ---------------------------------------------------------------------------------
// Input framing
// ---------------------------------------------------------------------------------

/// A split-feeding input: `[selector, n, size_1 … size_n, wire …]`.
///
/// `n` is taken modulo 8; a size byte of 0 means "as much as fits". No sizes means the
/// wire is delivered in one piece (as far as the buffer allows).
#[derive(Debug)]
pub struct Framed<'a> {
    /// Chooses the buffer size (and, for some targets, more).
    pub selector: u8,
    /// Piece sizes, used in turn.
    pub sizes: Vec<usize>,
    /// The bytes the server sends.
    pub wire: &'a [u8],
}

impl<'a> Framed<'a> {
    /// Splits fuzzer input into its parts; never fails.
    pub fn parse(data: &'a [u8]) -> Self {
        let selector = data.first().copied().unwrap_or(0);
        let n = usize::from(data.get(1).copied().unwrap_or(0) % 8);
        let sizes = data
            .get(2..2 + n)
            .unwrap_or(&[])
            .iter()
            .map(|&b| if b == 0 { usize::MAX } else { usize::from(b) })
            .collect();
        let wire = data.get(2 + n..).unwrap_or(&[]);
        Self {
            selector,
            sizes,
            wire,
        }
    }

    /// The buffer capacity the selector picks: `fixed[i]` when its low two bits are
    /// `i` (0 to 2), else `rest(selector >> 2)`.
    pub fn capacity(&self, fixed: [usize; 3], rest: impl FnOnce(u8) -> usize) -> usize {
        match fixed.get(usize::from(self.selector & 3)) {
            Some(&cap) => cap,
            None => rest(self.selector >> 2),
        }
    }

    /// The inverse of [`parse`](Self::parse), for seed corpora and tests.
    pub fn encode(selector: u8, sizes: &[u8], wire: &[u8]) -> Vec<u8> {
        let mut v = vec![selector, sizes.len() as u8];
        v.extend_from_slice(sizes);
        v.extend_from_slice(wire);
        v
    }
}

/// Size `turn` of `sizes` (cycled), or unbounded when there are none.
pub fn size_at(sizes: &[usize], turn: usize) -> usize {
    if sizes.is_empty() {
        usize::MAX
    } else {
        sizes[turn % sizes.len()]
    }
}

// ---------------------------------------------------------------------------------
// The HTTP response reader, three ways
// ---------------------------------------------------------------------------------

/// An owned copy of everything a [`Response`] exposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedResponse {
    /// Status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Retry-After`.
    pub retry_after: Option<RetryAfter>,
    /// `WWW-Authenticate`.
    pub www_authenticate: Option<String>,
    /// The de-chunked body.
    pub body: Vec<u8>,
    /// Connection reuse.
    pub keep_alive: bool,
    /// JSON media type.
    pub is_json: bool,
    /// Every header field, in order.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl From<Response<'_>> for OwnedResponse {
    fn from(r: Response<'_>) -> Self {
        Self {
            status: r.status,
            content_type: r.content_type.map(str::to_owned),
            retry_after: r.retry_after,
            www_authenticate: r.www_authenticate.map(str::to_owned),
            body: r.body.to_vec(),
            keep_alive: r.keep_alive,
            is_json: r.is_json(),
            headers: r
                .headers()
                .map(|(n, v)| (n.to_owned(), v.to_vec()))
                .collect(),
        }
    }
}

/// Checks that an error is sticky: every later call returns it again.
fn assert_sticky(r: &mut ResponseReader<'_>, e: ResponseError) {
    assert!(r.spare().is_empty(), "spare() not empty after {e:?}");
    assert_eq!(r.advance(0), Err(e), "error not sticky");
    assert_eq!(r.feed(b"x"), Err(e), "error not sticky for feed");
    assert_eq!(r.finish(), Err(e), "error not sticky for finish");
    assert!(r.response().is_none(), "a failed reader has a response");
}

/// Checks the reader once it reported `Complete`, and copies the response.
fn complete(r: &mut ResponseReader<'_>) -> OwnedResponse {
    assert_eq!(
        r.finish(),
        Ok(Status::Complete),
        "complete must stay complete"
    );
    let resp = r.response().expect("Complete without a response");
    // `Debug` never shows the body.
    let _ = format!("{resp:?}");
    OwnedResponse::from(resp)
}

/// Feeds `wire` through [`ResponseReader::feed`] in pieces of `sizes` (cycled), then
/// `finish()` if still incomplete. Returns the result and the bytes consumed.
pub fn run_feed(
    wire: &[u8],
    sizes: &[usize],
    cap: usize,
) -> (Result<OwnedResponse, ResponseError>, usize) {
    let mut buf = vec![0u8; cap];
    let mut r = ResponseReader::new(&mut buf);
    let mut at = 0usize;
    let mut turn = 0usize;
    loop {
        let n = size_at(sizes, turn).min(wire.len() - at);
        turn += 1;
        if n == 0 {
            break;
        }
        match r.feed(&wire[at..at + n]) {
            Err(e) => {
                assert_sticky(&mut r, e);
                return (Err(e), at);
            }
            Ok((used, Status::NeedMore)) => {
                assert_eq!(used, n, "NeedMore must consume the whole piece");
                at += n;
            }
            Ok((used, Status::Complete)) => {
                assert!(used <= n);
                at += used;
                // Once complete, feeding more consumes nothing.
                assert_eq!(r.feed(&wire[at..]), Ok((0, Status::Complete)));
                return (Ok(complete(&mut r)), at);
            }
        }
    }
    match r.finish() {
        Ok(Status::Complete) => (Ok(complete(&mut r)), at),
        Ok(Status::NeedMore) => panic!("finish() returned NeedMore"),
        Err(e) => {
            assert_sticky(&mut r, e);
            (Err(e), at)
        }
    }
}

/// The same through `spare()`/`advance()`, reading pieces of `sizes` (cycled) into
/// whatever room the reader offers; EOF (`finish`) when the wire is used up.
pub fn run_advance(
    wire: &[u8],
    sizes: &[usize],
    cap: usize,
) -> Result<OwnedResponse, ResponseError> {
    let mut buf = vec![0u8; cap];
    let mut r = ResponseReader::new(&mut buf);
    let mut rest = wire;
    let mut turn = 0usize;
    loop {
        let spare = r.spare();
        let n = rest.len().min(spare.len()).min(size_at(sizes, turn));
        turn += 1;
        spare[..n].copy_from_slice(&rest[..n]);
        rest = &rest[n..];
        let s = if n == 0 { r.finish() } else { r.advance(n) };
        match s {
            Ok(Status::Complete) => return Ok(complete(&mut r)),
            Ok(Status::NeedMore) => {
                assert!(n > 0, "finish() returned NeedMore");
                assert!(!r.spare().is_empty(), "NeedMore with no room to read into");
            }
            Err(e) => {
                assert_sticky(&mut r, e);
                return Err(e);
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// The exchange driver over an in-memory transport
// ---------------------------------------------------------------------------------

pub use picoauth_test_support::replay::{requests, Replay};

/// Runs a future whose I/O is always ready (the [`Replay`] transport) to completion.
pub use picoauth_test_support::ready::block_on;

/// What an exchange returns, with the transport error ruled out.
pub type ExchangeResult<'b> = Result<Answer<'b>, ExchangeError<Infallible>>;

/// Checks every string of an exchange result.
pub fn check_result(r: &ExchangeResult<'_>) {
    let Ok(answer) = r else { return };
    let _ = format!("{answer:?}");
    let outcome = &answer.outcome;
    assert_eq!(answer.response.status, outcome.status());
    match outcome {
        Outcome::Token { token, status } => {
            assert!((200..300).contains(status));
            match token {
                Token::SlackV2(t) => check_slack_v2_token(t),
                Token::SlackV1(t) => check_slack_v1_token(t),
                Token::Pinterest(t) => check_pinterest_token(t),
                Token::Rfc6749(t) => check_rfc_token(t),
                _ => {}
            }
        }
        Outcome::Error { error, .. } => check_provider_error(error),
        Outcome::RateLimited { error: Some(e), .. } => check_provider_error(e),
        _ => {}
    }
}

fn check_provider_error(e: &ProviderError<'_>) {
    match e {
        ProviderError::Slack(e) => check_slack_error(e),
        ProviderError::Pinterest(e) => check_pinterest_error(e),
        ProviderError::Rfc6749(e) => check_rfc_error(e),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------

/// Checks one string a parser returned: every way of reading it agrees, it decodes
/// into a buffer of exactly `decoded_len()`, a shorter buffer is refused untouched,
/// and serde_json reads the same raw text as the same string.
pub fn check_str(s: JsonStr<'_>) {
    let chars: String = s.chars().collect();
    assert_eq!(s.decoded_len(), chars.len());
    let mut buf = vec![0u8; chars.len()];
    assert_eq!(s.decode_into(&mut buf), Ok(chars.as_str()));
    if !chars.is_empty() {
        let mut short = vec![0xa5u8; chars.len() - 1];
        assert_eq!(
            s.decode_into(&mut short),
            Err(BufferTooSmall {
                needed: chars.len()
            })
        );
        assert!(short.iter().all(|&b| b == 0xa5), "short buffer written");
    }
    assert_eq!(s.to_string(), chars);
    assert!(s == chars.as_str());
    assert_eq!(s.has_escapes(), s.raw().contains('\\'));
    if let Some(plain) = s.as_plain() {
        assert_eq!(plain, chars);
    }
    assert!(s.eq_ignore_ascii_case(&chars.to_ascii_uppercase()));
    let quoted = format!("\"{}\"", s.raw());
    let serde: String =
        serde_json::from_str(&quoted).expect("serde_json rejects a validated string");
    assert_eq!(serde, chars, "serde_json decodes {quoted:?} differently");
    let mut joined = String::new();
    for scope in s.scopes() {
        let piece: String = scope.chars().collect();
        assert!(!piece.is_empty());
        assert!(
            !piece.contains([' ', ',']),
            "scope {piece:?} holds a separator"
        );
        joined.push_str(&piece);
    }
    let unseparated: String = chars.chars().filter(|c| !matches!(c, ' ' | ',')).collect();
    assert_eq!(joined, unseparated, "scopes lose or invent characters");
}

fn opt(s: Option<JsonStr<'_>>) {
    if let Some(s) = s {
        check_str(s);
    }
}

/// The exact redacted form of a secret.
fn redacted(chars: &str) -> String {
    let len = chars.chars().count();
    let shown = picoauth::secret::SHOWN_PREFIX.min(len / 4);
    let mut out: String = chars.chars().take(shown).collect();
    if shown > 0 {
        out.push('…');
    }
    out.push_str("[redacted]");
    out
}

macro_rules! secret_check {
    ($fn:ident, $ty:ident) => {
        fn $fn(t: &$ty<'_>) {
            let s = t.expose();
            check_str(s);
            let want = redacted(&s.to_string());
            assert_eq!(t.to_string(), want);
            assert_eq!(format!("{t:?}"), format!("{}({want})", stringify!($ty)));
        }
    };
}
secret_check!(check_access, AccessToken);
secret_check!(check_refresh, RefreshToken);
secret_check!(check_id_token, IdToken);
secret_check!(check_webhook, WebhookUrl);

fn check_warnings(w: &Warnings<'_>) {
    let mut n = 0usize;
    for warning in w.iter() {
        n += 1;
        if let SlackWarning::Other(s) = warning {
            check_str(s);
        }
        assert!(!warning.as_str().is_empty());
    }
    assert_eq!(w.is_empty(), n == 0);
}

fn check_webhook_obj(h: &IncomingWebhook<'_>) {
    opt(h.channel);
    opt(h.channel_id);
    opt(h.configuration_url);
    if let Some(u) = &h.url {
        check_webhook(u);
    }
}

fn check_authed_user(u: &AuthedUser<'_>) {
    opt(u.id);
    opt(u.scope);
    opt(u.token_type);
    if let Some(t) = &u.access_token {
        check_access(t);
    }
    if let Some(t) = &u.refresh_token {
        check_refresh(t);
    }
    u.scopes().for_each(check_str);
}

/// Checks every string of a Slack v2 token.
pub fn check_slack_v2_token(t: &SlackV2Token<'_>) {
    if let Some(a) = &t.access_token {
        check_access(a);
    }
    if let Some(r) = &t.refresh_token {
        check_refresh(r);
    }
    opt(t.token_type);
    opt(t.scope);
    opt(t.bot_user_id);
    opt(t.app_id);
    if let Some(team) = &t.team {
        opt(team.id);
        opt(team.name);
    }
    if let Some(e) = &t.enterprise {
        opt(e.id);
        opt(e.name);
    }
    if let Some(u) = &t.authed_user {
        check_authed_user(u);
    }
    if let Some(h) = &t.incoming_webhook {
        check_webhook_obj(h);
    }
    check_warnings(&t.warnings);
    t.scopes().for_each(check_str);
    let _ = format!("{t:?}");
}

/// Checks every string of a Slack v1 token.
pub fn check_slack_v1_token(t: &SlackV1Token<'_>) {
    check_access(&t.access_token);
    opt(t.scope);
    opt(t.user_id);
    opt(t.team_id);
    opt(t.team_name);
    opt(t.enterprise_id);
    opt(t.token_type);
    if let Some(h) = &t.incoming_webhook {
        check_webhook_obj(h);
    }
    if let Some(b) = &t.bot {
        opt(b.bot_user_id);
        if let Some(a) = &b.bot_access_token {
            check_access(a);
        }
    }
    check_warnings(&t.warnings);
    t.scopes().for_each(check_str);
    let _ = format!("{t:?}");
}

/// Checks every string of a Slack error.
pub fn check_slack_error(e: &SlackError<'_>) {
    let code = e.code.to_string();
    assert!(!e.code.as_str().is_empty() || code.is_empty());
    opt(e.description);
    check_warnings(&e.warnings);
    let _ = format!("{e:?}");
}

/// Checks every string of a Pinterest token.
pub fn check_pinterest_token(t: &PinterestToken<'_>) {
    check_access(&t.access_token);
    if let Some(r) = &t.refresh_token {
        check_refresh(r);
    }
    opt(t.response_type);
    opt(t.token_type);
    opt(t.scope);
    t.scopes().for_each(check_str);
    let _ = format!("{t:?}");
}

/// Checks every string of a Pinterest error.
pub fn check_pinterest_error(e: &PinterestError<'_>) {
    check_str(e.message);
    let _ = format!("{e:?}");
}

/// Checks every string of an RFC 6749 token, and walks its whole object.
pub fn check_rfc_token(t: &TokenResponse<'_>) {
    check_access(&t.access_token);
    if let Some(r) = &t.refresh_token {
        check_refresh(r);
    }
    if let Some(i) = &t.id_token {
        check_id_token(i);
    }
    if let TokenType::Other(s) = t.token_type {
        check_str(s);
        assert!(!s.eq_ignore_ascii_case("bearer"));
    }
    opt(t.scope);
    t.scopes().for_each(check_str);
    check_value(Value::Object(t.object), 0);
    let _ = format!("{t:?}");
}

/// Checks every string of an RFC 6749 error.
pub fn check_rfc_error(e: &ErrorResponse<'_>) {
    let _ = e.code.to_string();
    opt(e.description);
    opt(e.uri);
    check_value(Value::Object(e.object), 0);
    let _ = format!("{e:?}");
}

/// Walks a value tree, checking every key and string.
pub fn check_value(v: Value<'_>, depth: usize) {
    assert!(
        depth <= picoauth::json::value::MAX_DEPTH + 1,
        "tree deeper than MAX_DEPTH"
    );
    match v {
        Value::String(s) => check_str(s),
        Value::Object(o) => {
            for (k, v) in o.members() {
                check_str(k);
                check_value(v, depth + 1);
            }
        }
        Value::Array(a) => {
            for v in a.elements() {
                check_value(v, depth + 1);
            }
        }
        Value::Number(n) => {
            let text = n.as_str();
            // serde_json refuses only magnitudes beyond f64 (`1e400`), never the syntax.
            if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
                assert!(e.to_string().contains("out of range"), "{text:?}: {e}");
            }
            if let Some(u) = n.as_u64() {
                assert_eq!(text.parse::<u64>().ok(), Some(u));
            }
            if let Some(i) = n.as_i64() {
                assert_eq!(text.parse::<i64>().ok(), Some(i));
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// Checks whatever a Slack v2 parse returned.
pub fn check_slack_v2(r: &SlackV2<'_>) {
    match r {
        SlackV2::Token(t) => check_slack_v2_token(t),
        SlackV2::Error(e) => check_slack_error(e),
    }
}

/// Checks whatever a Slack v1 parse returned.
pub fn check_slack_v1(r: &SlackV1<'_>) {
    match r {
        SlackV1::Token(t) => check_slack_v1_token(t),
        SlackV1::Error(e) => check_slack_error(e),
    }
}

/// Checks whatever a Pinterest parse returned.
pub fn check_pinterest(r: &Pinterest<'_>) {
    match r {
        Pinterest::Token(t) => check_pinterest_token(t),
        Pinterest::Error(e) => check_pinterest_error(e),
    }
}

/// Checks whatever an RFC 6749 parse returned.
pub fn check_rfc6749(r: &Rfc6749<'_>) {
    match r {
        Rfc6749::Token(t) => check_rfc_token(t),
        Rfc6749::Error(e) => check_rfc_error(e),
    }
}

/// One provider parser's result on `body`: a value goes through `check`, an error
/// formats and says where it is; then the document-level checks of [`check_document`].
pub fn check_parsed<T>(body: &[u8], parsed: &Result<T, JsonError>, check: impl FnOnce(&T)) {
    match parsed {
        Ok(v) => check(v),
        Err(e) => {
            let _ = (e.to_string(), e.offset(), e.field());
        }
    }
    check_document(body, parsed.is_ok());
}

/// Common to every JSON target: the document parser never panics, and a body a
/// provider parser accepts is a JSON object the document parser accepts too.
pub fn check_document(body: &[u8], provider_ok: bool) {
    match picoauth::json::value::parse_document(body) {
        Ok(v) => check_value(v, 0),
        Err(e) => {
            let _ = e.to_string();
            assert!(
                !provider_ok,
                "a provider parser accepted what the lexer refuses"
            );
        }
    }
}
