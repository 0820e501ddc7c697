//! The accept loop, connection handling, test hooks and the hyper service.

use core::convert::Infallible;
use core::future::Future as _;
use core::pin::Pin;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll};
use core::time::Duration;
use std::collections::VecDeque;
use std::io::Cursor;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Body, Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::request::{HttpRequest, Reply};
use super::state::State;
use super::{authorize, pinterest, rfc6749, slack, AuthMethod, RequestRecord};

/// Time allowed for a TLS handshake, and for the first request line.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a request head once the connection is up.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request body read.
const MAX_BODY: usize = 64 * 1024;
/// Largest request line the peek before hyper looks at.
const MAX_PEEK: usize = 8 * 1024;

/// State shared by the handle and the server thread.
pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    pub(super) log: Mutex<Vec<RequestRecord>>,
    pub(super) served: AtomicU64,
    /// TCP connections accepted.
    pub(super) accepted: AtomicU64,
    pub(super) shutdown: watch::Receiver<bool>,
}

impl Shared {
    fn record(&self, record: RequestRecord) {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(record);
        self.served.fetch_add(1, Ordering::SeqCst);
    }
}

/// Resolves once shutdown was asked for (or the handle is gone).
async fn wait_shutdown(mut rx: watch::Receiver<bool>) {
    // An error means the sender was dropped: that is a shutdown too.
    let _ = rx.wait_for(|stop| *stop).await;
}

/// The server thread's body: serve until shutdown, then give connections `grace` to finish.
pub(super) fn run(
    runtime: tokio::runtime::Runtime,
    listener: std::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shared: Arc<Shared>,
    grace: Duration,
    ready: std::sync::mpsc::Sender<std::io::Result<()>>,
) {
    runtime.block_on(async move {
        let listener = match TcpListener::from_std(listener) {
            Ok(listener) => {
                let _ = ready.send(Ok(()));
                listener
            }
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let acceptor = TlsAcceptor::from(tls);
        let mut connections = JoinSet::new();
        let stop = wait_shutdown(shared.shutdown.clone());
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => break,
                accepted = listener.accept() => match accepted {
                    Ok((tcp, _peer)) => {
                        shared.accepted.fetch_add(1, Ordering::SeqCst);
                        connections.spawn(serve_connection(tcp, acceptor.clone(), Arc::clone(&shared)));
                    }
                    // E.g. out of file descriptors: back off instead of spinning.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        drop(listener);
        let _ = tokio::time::timeout(grace, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    });
    // Dropping the runtime drops whatever is left.
    drop(runtime);
}

async fn serve_connection(tcp: TcpStream, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    let _ = tcp.set_nodelay(true);
    let stop = wait_shutdown(shared.shutdown.clone());
    tokio::pin!(stop);
    let tls = tokio::select! {
        () = &mut stop => return,
        r = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)) => match r {
            Ok(Ok(tls)) => tls,
            _ => return,
        },
    };
    let (mut reader, writer) = tokio::io::split(tls);
    let head = tokio::select! {
        () = &mut stop => return,
        r = tokio::time::timeout(HANDSHAKE_TIMEOUT, peek_request_line(&mut reader)) => match r {
            Ok(Ok(head)) if !head.is_empty() => head,
            _ => return,
        },
    };
    if let Some(path @ ("/test/truncated" | "/test/truncated-abrupt")) = request_target(&head) {
        let close_notify = path == "/test/truncated";
        let path = path.to_owned();
        let hook = truncated(reader, writer, head, &path, close_notify, &shared);
        let _ = tokio::time::timeout(HEADER_TIMEOUT, hook).await;
        return;
    }
    // Hand hyper the bytes already read, then the rest of the stream.
    let io = TokioIo::new(tokio::io::join(Cursor::new(head).chain(reader), writer));
    let service_shared = Arc::clone(&shared);
    let service = service_fn(move |req| handle(req, Arc::clone(&service_shared)));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        () = &mut stop => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Reads until the request line is complete (or `MAX_PEEK` bytes, or end of stream).
async fn peek_request_line<R: AsyncRead + Unpin>(reader: &mut R) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(1024);
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < MAX_PEEK {
        if reader.read_buf(&mut head).await? == 0 {
            break;
        }
    }
    Ok(head)
}

/// The path of the request line in `head` (without the query).
fn request_target(head: &[u8]) -> Option<&str> {
    let line_end = head.windows(2).position(|w| w == b"\r\n")?;
    let line = core::str::from_utf8(head.get(..line_end)?).ok()?;
    let target = line.split(' ').nth(1)?;
    Some(target.split('?').next().unwrap_or(target))
}

/// `/test/truncated`: `Content-Length: 100`, 10 bytes of body, then close (with a TLS
/// `close_notify` unless `close_notify` is false). hyper refuses to write broken framing, so
/// this hook writes the response bytes itself.
async fn truncated<R, W>(
    mut reader: R,
    mut writer: W,
    mut head: Vec<u8>,
    path: &str,
    close_notify: bool,
    shared: &Shared,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_BODY {
        match reader.read_buf(&mut head).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
    let method = head
        .split(|b| *b == b' ')
        .next()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .unwrap_or_default();
    shared.record(RequestRecord {
        method,
        path: path.to_owned(),
        auth: AuthMethod::None,
        content_type: None,
        body: String::new(),
    });
    let response = b"HTTP/1.1 200 OK\r\n\
content-type: application/json\r\n\
content-length: 100\r\n\
connection: close\r\n\
\r\n\
{\"access_t";
    let _ = writer.write_all(response).await;
    let _ = writer.flush().await;
    if close_notify {
        let _ = writer.shutdown().await;
    }
    // Otherwise dropping the halves closes the TCP connection with no `close_notify`.
}

/// Response body type: whole, or pre-cut chunks sent with `Transfer-Encoding: chunked`.
type ResBody = BoxBody<Bytes, Infallible>;

/// A body of several data frames and no known length, so hyper frames it as chunked,
/// optionally waiting `delay` before each frame. (`http-body-util`'s `StreamBody` would need a
/// `futures` stream dependency for this.)
struct ChunkedBody {
    chunks: VecDeque<Bytes>,
    delay: Option<Duration>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl ChunkedBody {
    fn new(body: Vec<u8>, pieces: usize, delay: Option<Duration>) -> Self {
        let bytes = Bytes::from(body);
        let len = bytes.len();
        let step = len.div_ceil(pieces.max(1)).max(1);
        let mut chunks = VecDeque::new();
        let mut start = 0;
        while start < len {
            let end = start.saturating_add(step).min(len);
            chunks.push_back(bytes.slice(start..end));
            start = end;
        }
        Self {
            chunks,
            delay,
            sleep: None,
        }
    }
}

impl Body for ChunkedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.chunks.is_empty() {
            return Poll::Ready(None);
        }
        if let Some(delay) = self.delay {
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.sleep = None;
        }
        Poll::Ready(self.chunks.pop_front().map(|c| Ok(Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }
}

fn into_response(reply: Reply) -> Response<ResBody> {
    let body: ResBody = if reply.chunked {
        ChunkedBody::new(reply.body, 3, None).boxed()
    } else {
        Full::new(Bytes::from(reply.body)).boxed()
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    for (name, value) in reply.headers {
        if let Ok(value) = hyper::header::HeaderValue::from_str(&value) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// The hyper service.
async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<ResBody>, std::io::Error> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let header = |name: hyper::header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(hyper::header::CONTENT_TYPE);
    let authorization = header(hyper::header::AUTHORIZATION);

    if path.starts_with("/test/") {
        shared.record(RequestRecord {
            method,
            path: path.clone(),
            auth: AuthMethod::None,
            content_type,
            body: String::new(),
        });
        return hook(&path, &shared).await;
    }

    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => {
            shared.record(RequestRecord {
                method,
                path,
                auth: AuthMethod::None,
                content_type,
                body: String::new(),
            });
            return Ok(into_response(Reply::json(
                413,
                "application/json",
                r#"{"error":"invalid_request","error_description":"request body too large"}"#
                    .into(),
            )));
        }
    };
    let request = HttpRequest {
        method,
        path,
        query,
        content_type,
        authorization,
        body,
    };
    let auth = {
        let form = request.form();
        request.credentials(&form).method()
    };
    // The lifecycle hook: hold a labelled installation's refresh before processing it.
    if let Some(token) = super::lifecycle::presented_refresh_token(&request) {
        let delay = shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .lifecycle
            .take_delay(&token);
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
    }
    let reply = {
        let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        route(&request, &mut state)
    };
    shared.record(RequestRecord {
        method: request.method,
        path: request.path,
        auth,
        content_type: request.content_type,
        body: String::from_utf8_lossy(&request.body).into_owned(),
    });
    Ok(into_response(reply))
}

fn route(req: &HttpRequest, state: &mut State) -> Reply {
    match req.path.as_str() {
        "/api/oauth.v2.access" => slack::oauth_v2_access(req, state),
        "/api/oauth.access" => slack::oauth_access(req, state),
        "/api/auth.test" => super::lifecycle::auth_test(req, state),
        "/v5/oauth/token" => pinterest::token(req, state),
        "/oauth/token" => rfc6749::token(req, state),
        "/authorize" | "/oauth/" | "/oauth" => authorize::authorize(req, state, false),
        "/oauth/v2/authorize" => authorize::authorize(req, state, true),
        _ => Reply::json(404, "application/json", r#"{"error":"not_found"}"#.into()),
    }
}

/// The misbehaviour hooks hyper can express (see the module docs).
async fn hook(path: &str, shared: &Shared) -> Result<Response<ResBody>, std::io::Error> {
    let reply = match path {
        "/test/silent" => {
            wait_shutdown(shared.shutdown.clone()).await;
            // Abort the connection without an answer.
            return Err(std::io::Error::other("shutting down"));
        }
        "/test/oversized" => {
            let padding = "a".repeat(1024 * 1024);
            Reply::json(
                200,
                "application/json",
                format!(
                    r#"{{"access_token":"oversized","token_type":"Bearer","expires_in":3600,"padding":"{padding}"}}"#
                ),
            )
        }
        "/test/not-json" => Reply::json(
            200,
            "text/html; charset=utf-8",
            "<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Please sign in</h1></body></html>".into(),
        ),
        "/test/slow-chunked" => {
            let body = br#"{"access_token":"slow-but-complete","token_type":"Bearer","expires_in":3600,"scope":"read"}"#;
            let mut response = into_response(Reply::json(200, "application/json", String::new()));
            *response.body_mut() =
                ChunkedBody::new(body.to_vec(), 8, Some(Duration::from_millis(20))).boxed();
            return Ok(response);
        }
        "/test/empty-429" => Reply::json(429, "application/json; charset=utf-8", String::new()),
        "/test/redirect" => Reply {
            status: 302,
            headers: vec![("location", "/oauth/token".to_owned())],
            body: Vec::new(),
            chunked: false,
        },
        "/test/truncated" | "/test/truncated-abrupt" => Reply::json(
            400,
            "text/plain",
            "the truncation hooks work only as the first request of a connection".into(),
        ),
        _ => Reply::json(404, "application/json", r#"{"error":"no such hook"}"#.into()),
    };
    Ok(into_response(reply))
}
