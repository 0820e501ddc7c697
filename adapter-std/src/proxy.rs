//! HTTPS through an HTTP proxy: `CONNECT host:port`, then TLS end to end with the
//! provider, so the proxy sees neither the request nor the certificate check.
//!
//! [`Proxy::from_env`] reads `HTTPS_PROXY` (or `https_proxy`, then `ALL_PROXY` /
//! `all_proxy`) and `NO_PROXY` (or `no_proxy`) as curl does. A proxy is used only when
//! the client is given one ([`ClientBuilder::proxy`](crate::ClientBuilder::proxy)):
//! the environment is never read behind the caller's back.
//!
//! Written here rather than taken from a crate: the proxy crates on offer
//! (hyper-util's, reqwest's) are tied to hyper's connector stack, which neither client
//! of this crate uses; a CONNECT handshake is one request line and one response head.

use core::fmt;
use std::io::{self, Read as _, Write as _};
use std::net::TcpStream;
use std::time::Instant;

use base64::Engine as _;
use zeroize::Zeroizing;

/// The most bytes of the proxy's answer to `CONNECT` that are read.
pub const MAX_CONNECT_RESPONSE: usize = 8 * 1024;

/// An HTTP proxy that tunnels with `CONNECT`, and the hosts that bypass it.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    host: String,
    port: u16,
    /// `Proxy-Authorization` value (`Basic …`), from the URL's user info.
    authorization: Option<Zeroizing<String>>,
    no_proxy: NoProxy,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "[redacted]"),
            )
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// Why a proxy URL or a tunnel was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy URL is not `http://[user:password@]host[:port][/]`.
    InvalidUrl,
    /// The proxy answered `CONNECT` with this non-2xx status (407: it wants credentials).
    Refused(u16),
    /// The proxy's answer was not an HTTP/1.x response head.
    MalformedResponse,
    /// The proxy's answer head was longer than [`MAX_CONNECT_RESPONSE`].
    ResponseTooLarge,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl => f.write_str("proxy URL is not http://[user:password@]host[:port]"),
            Self::Refused(s) => write!(f, "proxy refused CONNECT with HTTP {s}"),
            Self::MalformedResponse => f.write_str("proxy answered CONNECT with a malformed head"),
            Self::ResponseTooLarge => f.write_str("proxy's answer to CONNECT is too large"),
        }
    }
}

impl core::error::Error for ProxyError {}

impl Proxy {
    /// A proxy from `http://[user:password@]host[:port][/]` (port 80 when none is given;
    /// user and password percent-decoded, sent as `Proxy-Authorization: Basic`).
    ///
    /// # Errors
    /// [`ProxyError::InvalidUrl`] for another scheme, an empty host, a bad port, or a
    /// path other than `/`.
    pub fn parse(url: &str) -> Result<Self, ProxyError> {
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("HTTP://"))
            .ok_or(ProxyError::InvalidUrl)?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) {
            return Err(ProxyError::InvalidUrl);
        }
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (host, port) = split_host_port(hostport).ok_or(ProxyError::InvalidUrl)?;
        let authorization = match userinfo {
            None => None,
            Some(u) => {
                let (user, pass) = u.split_once(':').unwrap_or((u, ""));
                let user = percent_decode(user).ok_or(ProxyError::InvalidUrl)?;
                let pass = percent_decode(pass).ok_or(ProxyError::InvalidUrl)?;
                let pair = Zeroizing::new(format!("{}:{}", *user, *pass));
                let b64 = Zeroizing::new(
                    base64::engine::general_purpose::STANDARD.encode(pair.as_bytes()),
                );
                Some(Zeroizing::new(format!("Basic {}", *b64)))
            }
        };
        Ok(Self {
            host: host.to_owned(),
            port,
            authorization,
            no_proxy: NoProxy::default(),
        })
    }

    /// The proxy the environment names for HTTPS (`HTTPS_PROXY`, `https_proxy`,
    /// `ALL_PROXY`, `all_proxy`, the first one set and not empty) with `NO_PROXY` /
    /// `no_proxy`; `Ok(None)` when none is set.
    ///
    /// # Errors
    /// [`ProxyError::InvalidUrl`] when the variable is set to something that is not an
    /// `http://` proxy URL (never silently ignored).
    pub fn from_env() -> Result<Option<Self>, ProxyError> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        let Some(url) = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
            .iter()
            .find_map(|n| var(n))
        else {
            return Ok(None);
        };
        let mut proxy = Self::parse(url.trim())?;
        if let Some(list) = var("NO_PROXY").or_else(|| var("no_proxy")) {
            proxy.no_proxy = NoProxy::parse(&list);
        }
        Ok(Some(proxy))
    }

    /// Replaces the bypass list with `NO_PROXY` syntax: comma-separated host names
    /// (matching the name and its subdomains; a leading `.` or `*.` is the same), IP
    /// addresses, or `*` for every host.
    #[must_use]
    pub fn with_no_proxy(mut self, list: &str) -> Self {
        self.no_proxy = NoProxy::parse(list);
        self
    }

    /// The proxy's host (an IPv6 literal without brackets) and port.
    pub fn addr(&self) -> (&str, u16) {
        (&self.host, self.port)
    }

    /// Whether a connection to `host` goes through the proxy (`host` without brackets).
    pub fn applies_to(&self, host: &str) -> bool {
        !self.no_proxy.matches(host)
    }

    /// The `CONNECT` request for `host:port`.
    fn connect_request(&self, host: &str, port: u16) -> Zeroizing<Vec<u8>> {
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        // Sized up front: a regrowth would leave a copy of the credentials behind.
        let credentials = self.authorization.as_ref().map_or(0, |a| a.len() + 32);
        let mut r = Zeroizing::new(String::with_capacity(
            2 * authority.len() + 32 + credentials,
        ));
        r.push_str(&format!(
            "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
        ));
        if let Some(a) = &self.authorization {
            r.push_str("Proxy-Authorization: ");
            r.push_str(a);
            r.push_str("\r\n");
        }
        r.push_str("\r\n");
        Zeroizing::new(core::mem::take(&mut *r).into_bytes())
    }

    /// Opens the tunnel on a connected `tcp` (blocking): writes `CONNECT`, reads the
    /// answer head byte by byte (so no byte of the TLS stream is consumed) until
    /// `deadline`.
    pub(crate) fn tunnel(
        &self,
        tcp: &mut TcpStream,
        host: &str,
        port: u16,
        deadline: Instant,
    ) -> Result<(), crate::Error> {
        let left = || {
            let l = deadline.saturating_duration_since(Instant::now());
            if l.is_zero() {
                Err(crate::Error::Timeout)
            } else {
                Ok(l)
            }
        };
        tcp.set_write_timeout(Some(left()?))
            .map_err(crate::Error::Connect)?;
        tcp.write_all(&self.connect_request(host, port))
            .map_err(|e| io_error(&e))?;
        let mut head = ConnectHead::default();
        let mut byte = [0u8; 1];
        while !head.is_complete()? {
            tcp.set_read_timeout(Some(left()?))
                .map_err(crate::Error::Connect)?;
            let read = tcp.read(&mut byte);
            head.take(read, byte[0])?;
        }
        tcp.set_read_timeout(None).map_err(crate::Error::Connect)?;
        tcp.set_write_timeout(None).map_err(crate::Error::Connect)?;
        check_head(&head.bytes)
    }

    /// Opens the tunnel on a connected tokio `tcp`; the caller bounds it in time.
    #[cfg(feature = "tokio")]
    pub(crate) async fn tunnel_async(
        &self,
        tcp: &mut tokio::net::TcpStream,
        host: &str,
        port: u16,
    ) -> Result<(), crate::Error> {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        tcp.write_all(&self.connect_request(host, port))
            .await
            .map_err(|e| io_error(&e))?;
        let mut head = ConnectHead::default();
        let mut byte = [0u8; 1];
        while !head.is_complete()? {
            let read = tcp.read(&mut byte).await;
            head.take(read, byte[0])?;
        }
        check_head(&head.bytes)
    }
}

/// The proxy's answer head to `CONNECT`, read one byte at a time (so no byte of the
/// TLS stream behind it is consumed) by the blocking and the async tunnel alike.
#[derive(Default)]
struct ConnectHead {
    bytes: Vec<u8>,
}

impl ConnectHead {
    /// Whether the blank line that ends the head has come; an error once the head is
    /// [`MAX_CONNECT_RESPONSE`] bytes long without it.
    fn is_complete(&self) -> Result<bool, crate::Error> {
        if self.bytes.ends_with(b"\r\n\r\n") {
            Ok(true)
        } else if self.bytes.len() >= MAX_CONNECT_RESPONSE {
            Err(crate::Error::Proxy(ProxyError::ResponseTooLarge))
        } else {
            Ok(false)
        }
    }

    /// Takes the result of one read of at most one byte into `byte`: the end of the
    /// stream before the head ends is a malformed answer; an interrupted read is tried
    /// again by the caller's loop.
    fn take(&mut self, read: io::Result<usize>, byte: u8) -> Result<(), crate::Error> {
        match read {
            Ok(0) => Err(crate::Error::Proxy(ProxyError::MalformedResponse)),
            Ok(_) => {
                self.bytes.push(byte);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(io_error(&e)),
        }
    }
}

fn io_error(e: &io::Error) -> crate::Error {
    if matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    ) {
        crate::Error::Timeout
    } else {
        crate::Error::Connect(io::Error::new(e.kind(), e.to_string()))
    }
}

/// Accepts `HTTP/1.x 2xx …\r\n…\r\n\r\n`.
fn check_head(head: &[u8]) -> Result<(), crate::Error> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(crate::Error::Proxy(ProxyError::MalformedResponse)),
    }
    match resp.code {
        Some(c) if (200..300).contains(&c) => Ok(()),
        Some(c) => Err(crate::Error::Proxy(ProxyError::Refused(c))),
        None => Err(crate::Error::Proxy(ProxyError::MalformedResponse)),
    }
}

/// `host[:port]` or `[v6][:port]`, port 80 by default.
fn split_host_port(s: &str) -> Option<(&str, u16)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        match after {
            "" => (h, None),
            p => (h, Some(p.strip_prefix(':')?)),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() || host.contains(['@', ' ', '[', ']']) {
        return None;
    }
    let port = match port {
        None => 80,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
        Some(_) => return None,
    };
    (port != 0).then_some((host, port))
}

fn percent_decode(s: &str) -> Option<Zeroizing<String>> {
    let bytes = s.as_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let v = u8::from_str_radix(core::str::from_utf8(hex).ok()?, 16).ok()?;
            out.push(v);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(core::mem::take(&mut *out))
        .ok()
        .map(Zeroizing::new)
}

/// `NO_PROXY`: the hosts that are reached directly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NoProxy {
    all: bool,
    entries: Vec<String>,
}

impl NoProxy {
    fn parse(list: &str) -> Self {
        let mut n = Self::default();
        for e in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if e == "*" {
                n.all = true;
                continue;
            }
            let e = e.trim_start_matches("*.").trim_start_matches('.');
            let e = e
                .strip_prefix('[')
                .and_then(|x| x.strip_suffix(']'))
                .unwrap_or(e);
            n.entries.push(e.to_ascii_lowercase());
        }
        n
    }

    fn matches(&self, host: &str) -> bool {
        if self.all {
            return true;
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.entries.iter().any(|e| {
            host == *e
                || host
                    .strip_suffix(e.as_str())
                    .is_some_and(|prefix| prefix.ends_with('.'))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let p = Proxy::parse("http://proxy.corp:3128").unwrap();
        assert_eq!(p.addr(), ("proxy.corp", 3128));
        assert!(p.authorization.is_none());
        assert_eq!(
            Proxy::parse("http://[::1]:8080/").unwrap().addr(),
            ("::1", 8080)
        );
        assert_eq!(
            Proxy::parse("http://10.0.0.1").unwrap().addr(),
            ("10.0.0.1", 80)
        );
        let p = Proxy::parse("http://u%40x:p%3Aw@h:1").unwrap();
        // base64("u@x:p:w")
        assert_eq!(
            p.authorization.as_deref().map(String::as_str),
            Some("Basic dUB4OnA6dw==")
        );
        assert!(!format!("{p:?}").contains("dUB4"), "{p:?}");
        for bad in [
            "https://h:1",
            "socks5://h:1",
            "h:1",
            "http://",
            "http://h:0",
            "http://h:x",
            "http://h:1/path",
            "http://h:99999",
            "http://u:%zz@h:1",
        ] {
            assert_eq!(Proxy::parse(bad), Err(ProxyError::InvalidUrl), "{bad}");
        }
    }

    #[test]
    fn no_proxy_matches_names_subdomains_and_ips() {
        let p = Proxy::parse("http://h:1")
            .unwrap()
            .with_no_proxy(" example.com, .internal,*.corp , 127.0.0.1,[::1]");
        for direct in [
            "example.com",
            "api.example.com",
            "EXAMPLE.com.",
            "a.internal",
            "x.corp",
            "127.0.0.1",
            "::1",
        ] {
            assert!(!p.applies_to(direct), "{direct}");
        }
        for proxied in ["slack.com", "notexample.com", "internal.net", "127.0.0.2"] {
            assert!(p.applies_to(proxied), "{proxied}");
        }
        assert!(!Proxy::parse("http://h:1")
            .unwrap()
            .with_no_proxy("*")
            .applies_to("slack.com"));
    }

    #[test]
    fn connect_heads() {
        assert!(check_head(b"HTTP/1.1 200 Connection established\r\n\r\n").is_ok());
        assert!(check_head(b"HTTP/1.0 200 OK\r\nVia: x\r\n\r\n").is_ok());
        assert!(matches!(
            check_head(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"),
            Err(crate::Error::Proxy(ProxyError::Refused(407)))
        ));
        assert!(matches!(
            check_head(b"SSH-2.0-OpenSSH\r\n\r\n"),
            Err(crate::Error::Proxy(ProxyError::MalformedResponse))
        ));
        let p = Proxy::parse("http://u:p@h:1").unwrap();
        assert_eq!(
            &p.connect_request("::1", 443)[..],
            b"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
        );
    }

    #[test]
    fn the_connect_request_is_written_without_regrowth() {
        // A regrowth would copy the credentials and free the old buffer unwiped: the
        // buffer sized up front is the one returned, for a long host and credentials.
        let user = "u".repeat(300);
        let p = Proxy::parse(&format!("http://{user}:p@h:1")).unwrap();
        let host = "a".repeat(250);
        let r = p.connect_request(&host, 443);
        let authority = host.len() + ":443".len();
        let credentials = p.authorization.as_ref().map_or(0, |a| a.len() + 32);
        assert_eq!(r.capacity(), 2 * authority + 32 + credentials);
        assert!(r.ends_with(b"\r\n\r\n"));
    }
}
