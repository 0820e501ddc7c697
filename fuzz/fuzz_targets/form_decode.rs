//! Form decoding and redirect-callback parsing (what a redirect's query goes
//! through): no panic; decode, `decoded_len`, `decode_borrowed` and `pairs` agree;
//! decoded text re-encodes and decodes to itself; a callback parses with a scratch as
//! long as its input, a short scratch says exactly how much it needs, and each value
//! it returns is the decoded parameter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picoauth::callback::{Callback, CallbackError};
use picoauth::form::{self, FormDecodeError};

fn decode_owned(v: &[u8]) -> Result<String, FormDecodeError> {
    let mut out = vec![0u8; v.len()];
    form::decode(v, &mut out).map(str::to_owned)
}

fn check_decode(input: &[u8]) {
    let len = form::decoded_len(input);
    let mut out = vec![0u8; input.len()];
    let decoded = form::decode(input, &mut out).map(str::to_owned);
    match (&decoded, len) {
        (Ok(s), Ok(n)) => {
            assert_eq!(s.len(), n);
            assert!(n <= input.len());
            // A short buffer is refused, untouched.
            if n > 0 {
                let mut short = vec![0x5au8; n - 1];
                assert_eq!(
                    form::decode(input, &mut short),
                    Err(FormDecodeError::BufferTooSmall { needed: n })
                );
                assert!(short.iter().all(|&b| b == 0x5a));
            }
            // Encode → decode is the identity on decoded text.
            let mut enc = vec![0u8; form::encoded_len(s, form::Space::Plus)];
            let m = form::encode(s, &mut enc).expect("exact buffer");
            assert_eq!(m, enc.len());
            assert!(enc.iter().all(u8::is_ascii_graphic));
            assert_eq!(decode_owned(&enc).as_deref(), Ok(s.as_str()));
        }
        (Err(FormDecodeError::InvalidPercent { offset }), Err(e)) => {
            assert_eq!(e, FormDecodeError::InvalidPercent { offset: *offset });
            assert_eq!(input.get(*offset), Some(&b'%'));
        }
        (Err(FormDecodeError::InvalidUtf8), Ok(_)) => {}
        other => panic!("decode and decoded_len disagree: {other:?}"),
    }
    match form::decode_borrowed(input) {
        Ok(Some(s)) => assert_eq!(decoded.as_deref(), Ok(s)),
        Ok(None) => assert!(input.iter().any(|&b| b == b'+' || b == b'%')),
        Err(e) => assert_eq!(decoded, Err(e)),
    }
}

fuzz_target!(|input: &[u8]| {
    check_decode(input);
    for (name, value) in form::pairs(input) {
        assert!(!name.contains(&b'&') && !value.contains(&b'&'));
        assert!(!name.contains(&b'='));
        assert!(!name.is_empty() || !value.is_empty() || input.contains(&b'='));
        check_decode(name);
        check_decode(value);
    }

    let mut scratch = vec![0u8; input.len()];
    let full = Callback::parse(input, &mut scratch);
    assert!(
        !matches!(full, Err(CallbackError::ScratchTooSmall { .. })),
        "a scratch as long as the input must suffice"
    );
    if let Ok(cb) = &full {
        let _ = format!("{cb:?}");
        let _ = cb.check_state("xyz");
        let _ = cb.issuer_matches("https://issuer.example", true);
        assert_ne!(cb.code().is_some(), cb.error().is_some());
        if let Some(code) = cb.code() {
            assert!(!code.expose().is_empty());
        }
        // When the input is a bare query, every value is its decoded parameter.
        let bare = !input.contains(&b'?')
            && !input.contains(&b'#')
            && input.first() != Some(&b'/')
            && !input.windows(3).any(|w| w == b"://");
        if bare {
            let param = |name: &str| {
                form::pairs(input)
                    .find(|(n, _)| *n == name.as_bytes())
                    .map(|(_, v)| decode_owned(v).expect("parsed callback has a bad value"))
            };
            assert_eq!(cb.state().map(str::to_owned), param("state"));
            assert_eq!(cb.iss().map(str::to_owned), param("iss"));
            if let Some(c) = cb.code() {
                assert_eq!(Some(c.expose().to_owned()), param("code"));
            }
            assert_eq!(
                cb.error_description().map(str::to_owned),
                cb.error().and_then(|_| param("error_description"))
            );
            if let Some(e) = cb.error() {
                assert_eq!(Some(e.as_str().to_owned()), param("error"));
            }
        }
    }

    // A scratch too short by one byte says how much it needs, and that is enough.
    let mut tiny = [0u8; 0];
    if let Err(CallbackError::ScratchTooSmall { needed }) = Callback::parse(input, &mut tiny) {
        assert!(needed > 0 && needed <= input.len());
        let mut exact = vec![0u8; needed];
        let again = Callback::parse(input, &mut exact);
        assert_eq!(
            again.map(|c| format!("{c:?}")),
            full.map(|c| format!("{c:?}")),
            "exact scratch differs from a long one"
        );
        let mut short = vec![0u8; needed - 1];
        assert!(matches!(
            Callback::parse(input, &mut short),
            Err(CallbackError::ScratchTooSmall { .. })
        ));
    }
});
