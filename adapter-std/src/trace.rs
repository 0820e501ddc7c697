//! `tracing` events per exchange (feature `tracing`): provider, grant, host, status,
//! outcome and the duration. Never a secret: no token,
//! code, credential or body is recorded.

use std::time::Instant;

use picoauth::exchange::Outcome;
use picoauth::request::{Grant, TokenRequest};

/// One exchange being traced; without feature `tracing` it records nothing.
pub(crate) struct Exchange {
    #[cfg(feature = "tracing")]
    span: tracing::Span,
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    start: Instant,
}

/// The grant's name as RFC 6749 spells it.
fn grant(req: &TokenRequest<'_>) -> &'static str {
    match req.grant() {
        Grant::AuthorizationCode { .. } => "authorization_code",
        Grant::RefreshToken { .. } => "refresh_token",
        Grant::ClientCredentials { .. } => "client_credentials",
    }
}

impl Exchange {
    /// Opens the exchange's span.
    pub(crate) fn begin(req: &TokenRequest<'_>) -> Self {
        #[cfg(feature = "tracing")]
        let span = tracing::info_span!(
            "picoauth.exchange",
            provider = req.provider().kind.name(),
            grant = grant(req),
            host = req.provider().endpoint.host,
        );
        #[cfg(not(feature = "tracing"))]
        let _ = grant(req);
        Self {
            #[cfg(feature = "tracing")]
            span,
            start: Instant::now(),
        }
    }

    /// Milliseconds since the exchange started.
    #[cfg(feature = "tracing")]
    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Records the outcome the provider gave.
    #[cfg_attr(not(feature = "tracing"), allow(clippy::unused_self))]
    pub(crate) fn outcome(&self, o: &Outcome<'_>) {
        #[cfg(feature = "tracing")]
        {
            let ms = self.elapsed_ms();
            let _in = self.span.enter();
            match o {
                Outcome::Token { status, .. } => {
                    tracing::info!(status, outcome = "token", duration_ms = ms, "token issued");
                }
                Outcome::Error { status, .. } => tracing::warn!(
                    status,
                    outcome = "error",
                    duration_ms = ms,
                    "provider refused"
                ),
                Outcome::RateLimited { status, .. } => tracing::warn!(
                    status,
                    outcome = "rate_limited",
                    duration_ms = ms,
                    "rate limited"
                ),
                _ => tracing::warn!(
                    status = o.status(),
                    outcome = "http_error",
                    duration_ms = ms,
                    "unexpected answer"
                ),
            }
        }
        #[cfg(not(feature = "tracing"))]
        let _ = o;
    }

    /// Records a failure of the exchange itself (transport, TLS, timeout, …).
    #[cfg_attr(not(feature = "tracing"), allow(clippy::unused_self))]
    pub(crate) fn failed(&self, e: &crate::Error) {
        #[cfg(feature = "tracing")]
        {
            let ms = self.elapsed_ms();
            let _in = self.span.enter();
            tracing::warn!(error = %e, duration_ms = ms, "exchange failed");
        }
        #[cfg(not(feature = "tracing"))]
        let _ = e;
    }
}
