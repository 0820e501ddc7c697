use core::fmt;

/// Why a token or authorization URL was refused ([`Endpoint::parse`],
/// [`Endpoint::validate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EndpointError {
    /// The URL is not of the form `https://host[:port]/path`.
    InvalidUrl,
    /// The URL is `http://` for a host that is not a loopback address.
    InsecureUrl,
    /// The host holds a character that cannot appear in a `Host` header.
    InvalidHost,
    /// The path holds a control character, a space or a `#`.
    InvalidPath,
}

impl EndpointError {
    /// A short static description.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidUrl => "URL is not https://host[:port]/path",
            Self::InsecureUrl => "http:// is allowed only for loopback hosts",
            Self::InvalidHost => "invalid character in host",
            Self::InvalidPath => "invalid character in path",
        }
    }
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for EndpointError {}

/// A token endpoint: scheme, host, port and path, borrowed from the caller's URL.
///
/// ```
/// use picoauth::provider::Endpoint;
/// let e = Endpoint::parse("https://[::1]:8443/oauth/token").unwrap();
/// assert_eq!((e.host, e.host_name(), e.port, e.path), ("[::1]", "::1", 8443, "/oauth/token"));
/// assert!(Endpoint::parse("http://auth.example.com/token").is_err()); // plain HTTP only on loopback
/// assert!(Endpoint::parse("http://127.0.0.1:8080/token").is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Endpoint<'a> {
    /// `true` for `https`.
    pub tls: bool,
    /// The host as written in the URL (an IPv6 literal keeps its brackets).
    pub host: &'a str,
    /// The port (443 or 80 when the URL names none).
    pub port: u16,
    /// The path (and query, if any), starting with `/`.
    pub path: &'a str,
}

impl<'a> Endpoint<'a> {
    /// An `https` endpoint on port 443. Not validated: for `const` presets.
    pub const fn https(host: &'a str, path: &'a str) -> Self {
        Self {
            tls: true,
            host,
            port: 443,
            path,
        }
    }

    /// Parses `https://host[:port]/path`. `http://` is accepted only for a loopback
    /// host (`localhost`, `127.0.0.0/8`, `[::1]`), for tests.
    ///
    /// # Errors
    /// [`EndpointError::InvalidUrl`], [`EndpointError::InsecureUrl`],
    /// [`EndpointError::InvalidHost`] or [`EndpointError::InvalidPath`].
    pub fn parse(url: &'a str) -> Result<Self, EndpointError> {
        let (tls, rest) = if let Some(r) = strip_prefix_ci(url, "https://") {
            (true, r)
        } else if let Some(r) = strip_prefix_ci(url, "http://") {
            (false, r)
        } else {
            return Err(EndpointError::InvalidUrl);
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("/")),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            // Userinfo in a token URL is a credential leak waiting to happen.
            return Err(EndpointError::InvalidUrl);
        }
        let (host, port) = split_port(authority)?;
        let port = match port {
            Some(p) => p,
            None if tls => 443,
            None => 80,
        };
        let e = Self {
            tls,
            host,
            port,
            path,
        };
        e.validate()?;
        if !tls && !e.is_loopback() {
            return Err(EndpointError::InsecureUrl);
        }
        Ok(e)
    }

    /// The host without IPv6 brackets: what DNS, TLS SNI and certificate checks use.
    pub fn host_name(&self) -> &'a str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(self.host)
    }

    /// Whether the host is loopback: exactly `localhost` (any case), an IPv4 literal in
    /// `127.0.0.0/8`, or the IPv6 literal `[::1]`. A name that merely starts like an
    /// address (`127.0.0.1.1.1`, resolved through DNS) is not.
    pub fn is_loopback(&self) -> bool {
        use core::str::FromStr as _;
        let h = self.host;
        if let Some(inner) = h.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
            return core::net::Ipv6Addr::from_str(inner).is_ok_and(|a| a.is_loopback());
        }
        h.eq_ignore_ascii_case("localhost")
            || core::net::Ipv4Addr::from_str(h).is_ok_and(|a| a.is_loopback())
    }

    /// Whether the port is the scheme's default (and so left out of `Host`).
    pub const fn default_port(&self) -> bool {
        (self.tls && self.port == 443) || (!self.tls && self.port == 80)
    }

    /// Checks host and path for bytes that could break out of the request line or a header.
    ///
    /// # Errors
    /// [`EndpointError::InvalidHost`] or [`EndpointError::InvalidPath`].
    pub fn validate(&self) -> Result<(), EndpointError> {
        let h = self.host;
        let ok_host = if let Some(inner) = h.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
            !inner.is_empty()
                && inner
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        } else {
            !h.is_empty()
                && h.len() <= 253
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        };
        if !ok_host {
            return Err(EndpointError::InvalidHost);
        }
        let p = self.path.as_bytes();
        if p.first() != Some(&b'/')
            || p.len() > crate::request::MAX_VALUE_LEN
            || p.iter().any(|&b| b <= b' ' || b >= 0x7f || b == b'#')
        {
            return Err(EndpointError::InvalidPath);
        }
        Ok(())
    }
}

fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

fn split_port(authority: &str) -> Result<(&str, Option<u16>), EndpointError> {
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => {
                let host = authority.get(..=end).unwrap_or("");
                match authority.get(end + 1..).unwrap_or("") {
                    "" => (host, None),
                    rest => (
                        host,
                        Some(rest.strip_prefix(':').ok_or(EndpointError::InvalidUrl)?),
                    ),
                }
            }
            None => return Err(EndpointError::InvalidHost),
        }
    } else {
        match authority.rfind(':') {
            Some(i) => (authority.get(..i).unwrap_or(""), authority.get(i + 1..)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(EndpointError::InvalidUrl);
            }
            match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(EndpointError::InvalidUrl),
                Ok(n) => Some(n),
            }
        }
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let e = Endpoint::parse("https://slack.com/api/oauth.v2.access").unwrap();
        assert_eq!(e, Endpoint::https("slack.com", "/api/oauth.v2.access"));
        let e = Endpoint::parse("HTTPS://auth.example.com:8443").unwrap();
        assert_eq!((e.host, e.port, e.path), ("auth.example.com", 8443, "/"));
        let e = Endpoint::parse("http://localhost:9000/token?tenant=a").unwrap();
        assert!(!e.tls && e.is_loopback());
        assert_eq!(e.path, "/token?tenant=a");
        assert!(Endpoint::parse("http://127.0.0.1/token").is_ok());
        assert!(Endpoint::parse("http://[::1]:80/token")
            .unwrap()
            .default_port());
    }

    #[test]
    fn refuses_bad_urls() {
        use EndpointError::*;
        let cases: &[(&str, EndpointError)] = &[
            ("ftp://x/y", InvalidUrl),
            ("slack.com/api", InvalidUrl),
            ("http://example.com/token", InsecureUrl),
            ("http://127.0.0.1.evil.com/token", InsecureUrl),
            ("https://user:pw@example.com/token", InvalidUrl),
            ("https://example.com:0/t", InvalidUrl),
            ("https://example.com:65536/t", InvalidUrl),
            ("https://example.com:/t", InvalidUrl),
            ("https://example.com:12a/t", InvalidUrl),
            ("https:///t", InvalidHost),
            ("https://exa mple.com/t", InvalidHost),
            ("https://example.com\r\nX: y/t", InvalidUrl),
            ("https://exa\r\nmple.com/t", InvalidHost),
            ("https://[::1/t", InvalidHost),
            ("https://[::1]x/t", InvalidUrl),
            ("https://example.com/t x", InvalidPath),
            ("https://example.com/t\r\nInjected: 1", InvalidPath),
            ("https://example.com/t\0", InvalidPath),
            ("https://example.com/t#frag", InvalidPath),
            ("https://example.com/tö", InvalidPath),
        ];
        for (url, want) in cases {
            assert_eq!(Endpoint::parse(url), Err(*want), "{url:?}");
        }
    }
}
