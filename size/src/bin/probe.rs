//! The size probe: the core's encode and parse for every provider, with inputs the
//! compiler cannot see through, in a minimal Cortex-M binary. Built with and
//! without `--features with-core`; `report.sh` takes the difference.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::sync::atomic::{AtomicUsize, Ordering};

use cortex_m_rt::entry;

/// Where results go, so nothing is optimised away.
static SINK: AtomicUsize = AtomicUsize::new(0);

#[cfg(any(feature = "encode", feature = "parse"))]
fn work() {
    #[cfg(feature = "parse")]
    use picoauth::exchange::{interpret, Outcome};
    #[cfg(feature = "parse")]
    use picoauth::http::response::ResponseReader;
    #[cfg(feature = "parse")]
    use picoauth::provider::ProviderKind;
    #[cfg(feature = "encode")]
    use picoauth::provider::{Endpoint, Provider, PINTEREST, SLACK_V1, SLACK_V2};
    #[cfg(feature = "encode")]
    use picoauth::request::{ClientAuth, Grant, TokenRequest};

    let mut buf = [0u8; 2048];
    // With `slack-only` the provider, client auth and grant are known at compile time
    // (what a firmware that talks to one provider looks like), so LTO can drop the
    // other providers' code; otherwise each is picked at run time.
    let pick = |n: usize| {
        if cfg!(feature = "slack-only") {
            0
        } else {
            black_box(0usize) % n
        }
    };
    #[cfg(feature = "encode")]
    {
        let generic = match Endpoint::parse(black_box("https://auth.example.com/oauth/token")) {
            Ok(ep) => Provider::rfc6749(ep),
            Err(_) => return,
        };
        let providers = [SLACK_V2, SLACK_V1, PINTEREST, generic];
        let id = black_box("client");
        let secret = black_box("secret");
        let auths = [
            ClientAuth::basic(id, secret.into()),
            ClientAuth::post(id, secret.into()),
            ClientAuth::public(id),
        ];
        let grants = [
            Grant::authorization_code(black_box("code"))
                .with_redirect_uri(black_box("https://app.example/cb"))
                .with_code_verifier(black_box("verifier")),
            Grant::refresh_token(black_box("refresh")).with_scope(black_box("a b")),
            Grant::client_credentials().with_scope(black_box("a b")),
        ];
        let p = providers[pick(4)];
        let a = auths[pick(3)];
        let g = grants[pick(3)];
        let req = TokenRequest::new(&p, a, g).continuous_refresh(black_box(true));
        let n = req.encode(&mut buf).unwrap_or(0) + req.encoded_len().unwrap_or(0);
        SINK.fetch_add(n, Ordering::Relaxed);
    }

    // Parse: the response arrives in `buf`; every provider's body shape.
    #[cfg(feature = "parse")]
    {
        let kinds = [
            ProviderKind::SlackV2,
            ProviderKind::SlackV1,
            ProviderKind::Pinterest,
            ProviderKind::Rfc6749,
        ];
        let kind = kinds[pick(4)];
        let wire: &[u8] = black_box(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        let mut reader = ResponseReader::new(&mut buf);
        if reader.feed(wire).is_ok() {
            if let Some(r) = reader.response() {
                let o = interpret(kind, &r);
                let v = match o {
                    Ok(Outcome::Token { token, .. }) => {
                        // Touch the token so its fields are read.
                        black_box(&token);
                        1
                    }
                    Ok(o) => o.status() as usize,
                    Err(_) => 2,
                };
                SINK.fetch_add(v, Ordering::Relaxed);
            }
        }
    }
}

#[entry]
fn main() -> ! {
    #[cfg(any(feature = "encode", feature = "parse"))]
    work();
    SINK.fetch_add(black_box(1), Ordering::Relaxed);
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    cortex_m::asm::udf()
}
