//! Property tests for the incremental response reader: split invariance, chunked versus
//! `Content-Length` framing, prefixes, and no panics on arbitrary input.

use picoauth::http::response::{Response, ResponseError, ResponseReader, RetryAfter, Status};
use proptest::prelude::*;

/// An owned copy of everything a `Response` exposes, to compare runs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owned {
    status: u16,
    content_type: Option<String>,
    retry_after: Option<RetryAfter>,
    www_authenticate: Option<String>,
    body: Vec<u8>,
    keep_alive: bool,
    is_json: bool,
    headers: Vec<(String, Vec<u8>)>,
}

impl From<Response<'_>> for Owned {
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

/// Body framing of a generated response.
#[derive(Debug, Clone)]
enum Framing {
    Length,
    /// Chunk sizes (cycled until the body is used up), whether to add extensions, and
    /// trailer fields.
    Chunked {
        sizes: Vec<usize>,
        ext: bool,
        trailers: Vec<(String, String)>,
    },
}

/// A generated valid response.
#[derive(Debug, Clone)]
struct Spec {
    interim: bool,
    http10: bool,
    status: u16,
    content_type: Option<&'static str>,
    retry_after: Option<u64>,
    extra: Vec<(String, String)>,
    body: Vec<u8>,
    framing: Framing,
}

impl Spec {
    fn head(&self, framing: &Framing) -> Vec<u8> {
        let mut w = Vec::new();
        if self.interim {
            w.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let version = if self.http10 { "1.0" } else { "1.1" };
        w.extend_from_slice(format!("HTTP/{version} {} Reason Phrase\r\n", self.status).as_bytes());
        if let Some(ct) = self.content_type {
            w.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        if let Some(ra) = self.retry_after {
            w.extend_from_slice(format!("Retry-After: {ra}\r\n").as_bytes());
        }
        for (n, v) in &self.extra {
            w.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        match framing {
            Framing::Length => {
                w.extend_from_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes())
            }
            Framing::Chunked { .. } => w.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        }
        w.extend_from_slice(b"\r\n");
        w
    }

    fn wire_with(&self, framing: &Framing) -> Vec<u8> {
        let mut w = self.head(framing);
        match framing {
            Framing::Length => w.extend_from_slice(&self.body),
            Framing::Chunked {
                sizes,
                ext,
                trailers,
            } => {
                let mut rest = &self.body[..];
                let mut i = 0;
                while !rest.is_empty() {
                    let n = sizes
                        .get(i % sizes.len().max(1))
                        .copied()
                        .unwrap_or(1)
                        .clamp(1, rest.len());
                    i += 1;
                    let e = if *ext { ";a=b; q=\"x;y\"" } else { "" };
                    w.extend_from_slice(format!("{n:X}{e}\r\n").as_bytes());
                    w.extend_from_slice(&rest[..n]);
                    w.extend_from_slice(b"\r\n");
                    rest = &rest[n..];
                }
                w.extend_from_slice(if *ext { b"0;end\r\n" } else { b"0\r\n" });
                for (n, v) in trailers {
                    w.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
                }
                w.extend_from_slice(b"\r\n");
            }
        }
        w
    }

    fn wire(&self) -> Vec<u8> {
        self.wire_with(&self.framing)
    }
}

fn token() -> impl Strategy<Value = String> {
    "X-[A-Za-z0-9-]{1,12}"
}

fn field_value() -> impl Strategy<Value = String> {
    "[ -~]{0,24}".prop_map(|s| s.trim().to_owned())
}

fn framing() -> impl Strategy<Value = Framing> {
    prop_oneof![
        Just(Framing::Length),
        (
            prop::collection::vec(1usize..40, 1..6),
            any::<bool>(),
            prop::collection::vec((token(), field_value()), 0..3)
        )
            .prop_map(|(sizes, ext, trailers)| Framing::Chunked {
                sizes,
                ext,
                trailers
            }),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(vec![200u16, 201, 400, 401, 403, 429, 500, 503]),
        prop::option::of(prop::sample::select(vec![
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/jSoN",
            "application/problem+json",
            "text/plain",
            "text/html; charset=UTF-8",
        ])),
        prop::option::of(0u64..100_000_000_000),
        prop::collection::vec((token(), field_value()), 0..5),
        prop::collection::vec(any::<u8>(), 0..200),
        framing(),
    )
        .prop_map(
            |(interim, http10, status, content_type, retry_after, extra, body, framing)| Spec {
                interim,
                http10,
                status,
                content_type,
                retry_after,
                extra,
                body,
                framing,
            },
        )
}

/// Cut points inside `len`, sorted and deduplicated.
fn cuts(len: usize, raw: &[usize]) -> Vec<usize> {
    let mut c: Vec<usize> = raw
        .iter()
        .map(|&r| if len == 0 { 0 } else { r % len })
        .collect();
    c.sort_unstable();
    c.dedup();
    c
}

/// Feeds `wire` in the pieces `cuts` makes, then `finish()` if still incomplete. Returns the
/// outcome and, for `feed`, checks that every byte was consumed.
fn run_feed(wire: &[u8], cuts: &[usize], cap: usize) -> Result<Owned, ResponseError> {
    let mut buf = vec![0u8; cap];
    let mut r = ResponseReader::new(&mut buf);
    let mut start = 0;
    let mut status = Status::NeedMore;
    for end in cuts.iter().copied().chain([wire.len()]) {
        if end <= start {
            continue;
        }
        let (used, s) = r.feed(&wire[start..end])?;
        assert!(used <= end - start);
        if s == Status::NeedMore {
            assert_eq!(used, end - start, "NeedMore must consume everything");
        }
        status = s;
        start = end;
        if s == Status::Complete {
            break;
        }
    }
    if status == Status::NeedMore {
        status = r.finish()?;
    }
    assert_eq!(status, Status::Complete);
    Ok(r.response().expect("complete").into())
}

/// The same through `spare()`/`advance()`, reading at most `read_size` bytes per call.
fn run_advance(wire: &[u8], read_size: usize, cap: usize) -> Result<Owned, ResponseError> {
    let mut buf = vec![0u8; cap];
    let mut r = ResponseReader::new(&mut buf);
    let mut rest = wire;
    loop {
        let spare = r.spare();
        let n = rest.len().min(spare.len()).min(read_size.max(1));
        spare[..n].copy_from_slice(&rest[..n]);
        rest = &rest[n..];
        let s = if n == 0 { r.finish()? } else { r.advance(n)? };
        if s == Status::Complete {
            return Ok(r.response().expect("complete").into());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// (1) Any partition of a valid response gives the same response, through `feed` and
    /// through `advance`, and it is the response that was encoded.
    #[test]
    fn split_invariance(spec in spec(), raw_cuts in prop::collection::vec(any::<usize>(), 0..12), read_size in 1usize..64) {
        let wire = spec.wire();
        let whole = run_feed(&wire, &[], 1024).expect("valid response");
        prop_assert_eq!(&whole.body, &spec.body);
        prop_assert_eq!(whole.status, spec.status);
        prop_assert_eq!(whole.content_type.as_deref(), spec.content_type);
        prop_assert_eq!(whole.is_json, spec.content_type.is_some_and(|c| c.to_ascii_lowercase().starts_with("application/") && c.to_ascii_lowercase().contains("json")));
        prop_assert_eq!(whole.keep_alive, !spec.http10);
        prop_assert_eq!(whole.retry_after, spec.retry_after.map(|s| RetryAfter::Seconds(u32::try_from(s).unwrap_or(u32::MAX))));
        let split = run_feed(&wire, &cuts(wire.len(), &raw_cuts), 1024).expect("valid response");
        prop_assert_eq!(&split, &whole);
        let one_by_one = run_advance(&wire, 1, 1024).expect("valid response");
        prop_assert_eq!(&one_by_one, &whole);
        let sized = run_advance(&wire, read_size, 1024).expect("valid response");
        prop_assert_eq!(&sized, &whole);
    }

    /// (2) The same body framed by `Content-Length` and by chunks reads the same.
    #[test]
    fn chunked_equals_content_length(spec in spec(), chunked in framing().prop_filter("chunked", |f| matches!(f, Framing::Chunked { .. }))) {
        let by_length = run_feed(&spec.wire_with(&Framing::Length), &[], 1024).expect("valid");
        let by_chunks = run_feed(&spec.wire_with(&chunked), &[], 1024).expect("valid");
        prop_assert_eq!(&by_length.body, &by_chunks.body);
        prop_assert_eq!(by_length.status, by_chunks.status);
        prop_assert_eq!(&by_length.content_type, &by_chunks.content_type);
        prop_assert_eq!(by_length.retry_after, by_chunks.retry_after);
        prop_assert_eq!(by_length.keep_alive, by_chunks.keep_alive);
    }

    /// (3) Every strict prefix of a valid response is `NeedMore`, and `Truncated` once the
    /// peer closes.
    #[test]
    fn prefixes_need_more(spec in spec()) {
        let wire = spec.wire();
        let mut buf = vec![0u8; 1024];
        for cut in 0..wire.len() {
            let mut r = ResponseReader::new(&mut buf);
            prop_assert_eq!(r.feed(&wire[..cut]), Ok((cut, Status::NeedMore)), "cut at {}", cut);
            prop_assert!(r.response().is_none());
            prop_assert_eq!(r.finish(), Err(ResponseError::Truncated));
        }
    }

    /// A response split across a buffer just large enough for it still reads the same;
    /// one byte less fails the same way for every split.
    #[test]
    fn tight_buffers(spec in spec(), raw_cuts in prop::collection::vec(any::<usize>(), 0..8), cap in 0usize..400) {
        let wire = spec.wire();
        let whole = run_feed(&wire, &[], cap);
        let split = run_feed(&wire, &cuts(wire.len(), &raw_cuts), cap);
        prop_assert_eq!(&whole, &split);
        let one = run_advance(&wire, 1, cap);
        prop_assert_eq!(&whole, &one);
        if let Ok(r) = &whole {
            prop_assert_eq!(&r.body, &spec.body);
        }
    }

    /// `Response::headers` sees the same fields httparse does.
    #[test]
    fn header_iteration_matches_httparse(spec in spec()) {
        let wire = spec.wire();
        let mine = run_feed(&wire, &[], 1024).expect("valid").headers;
        let mut rest = &wire[..];
        loop {
            let mut fields = [httparse::EMPTY_HEADER; 32];
            let mut parsed = httparse::Response::new(&mut fields);
            let httparse::Status::Complete(len) = parsed.parse(rest).expect("valid") else {
                panic!("complete head expected");
            };
            if parsed.code.is_some_and(|c| c >= 200) {
                let theirs: Vec<(String, Vec<u8>)> =
                    parsed.headers.iter().map(|h| (h.name.to_owned(), h.value.to_vec())).collect();
                prop_assert_eq!(&mine, &theirs);
                break;
            }
            rest = &rest[len..];
        }
    }

    /// (4) Arbitrary bytes in arbitrary splits never panic, and the outcome does not
    /// depend on the split.
    #[test]
    fn arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..600), raw_cuts in prop::collection::vec(any::<usize>(), 0..16), cap in 0usize..700) {
        let whole = run_feed(&data, &[], cap);
        let split = run_feed(&data, &cuts(data.len(), &raw_cuts), cap);
        prop_assert_eq!(&whole, &split);
        let one = run_advance(&data, 1, cap);
        prop_assert_eq!(&whole, &one);
    }

    /// (4) Arbitrary bytes behind a plausible head, to reach the body decoders.
    #[test]
    fn arbitrary_bodies(
        head in prop::sample::select(vec![
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n",
            "HTTP/1.1 200 OK\r\n\r\n",
            "HTTP/1.1 100 Continue\r\n\r\n",
        ]),
        tail in prop::collection::vec(prop::sample::select(b"0123456789abcdefABCDEFxz;= \t\r\n:\"".to_vec()), 0..300),
        raw_cuts in prop::collection::vec(any::<usize>(), 0..16),
        cap in 40usize..400,
    ) {
        let mut data = head.as_bytes().to_vec();
        data.extend_from_slice(&tail);
        let whole = run_feed(&data, &[], cap);
        let split = run_feed(&data, &cuts(data.len(), &raw_cuts), cap);
        prop_assert_eq!(&whole, &split);
        let one = run_advance(&data, 1, cap);
        prop_assert_eq!(&whole, &one);
    }

    /// (4) Valid responses with a few bytes replaced or dropped: no panic, and the outcome
    /// does not depend on the split.
    #[test]
    fn mutated_responses(
        spec in spec(),
        edits in prop::collection::vec((any::<usize>(), prop::sample::select(b"0a \t\r\n:;,\x00\x7f\xff".to_vec()), any::<bool>()), 1..4),
        raw_cuts in prop::collection::vec(any::<usize>(), 0..16),
        cap in 30usize..600,
    ) {
        let mut data = spec.wire();
        for (at, byte, drop) in edits {
            if data.is_empty() {
                break;
            }
            let at = at % data.len();
            if drop {
                data.remove(at);
            } else {
                data[at] = byte;
            }
        }
        let whole = run_feed(&data, &[], cap);
        let split = run_feed(&data, &cuts(data.len(), &raw_cuts), cap);
        prop_assert_eq!(&whole, &split);
        let one = run_advance(&data, 1, cap);
        prop_assert_eq!(&whole, &one);
    }

    /// Bytes after a complete response are not consumed by `feed`, whatever the split.
    #[test]
    fn excess_is_not_consumed(spec in spec(), extra in prop::collection::vec(any::<u8>(), 1..40), cut in any::<usize>()) {
        let wire = spec.wire();
        let mut data = wire.clone();
        data.extend_from_slice(&extra);
        let cut = cut % data.len();
        let mut buf = vec![0u8; 1024];
        let mut r = ResponseReader::new(&mut buf);
        let (first, s) = r.feed(&data[..cut]).expect("valid");
        let used = if s == Status::Complete {
            first
        } else {
            let (second, s) = r.feed(&data[cut..]).expect("valid");
            prop_assert_eq!(s, Status::Complete);
            first + second
        };
        prop_assert_eq!(used, wire.len());
        prop_assert!(r.excess().is_empty());
        prop_assert_eq!(r.response().expect("complete").body, &spec.body[..]);
    }
}
