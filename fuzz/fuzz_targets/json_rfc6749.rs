//! RFC 6749 §5.1 token and §5.2 error bodies: no panic, every returned string
//! decodes (the whole object included).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let r = picoauth::json::rfc6749::parse(body);
    picoauth_fuzz::check_parsed(body, &r, picoauth_fuzz::check_rfc6749);
});
