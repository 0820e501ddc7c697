//! Pinterest v5 token and error bodies: no panic, every returned string decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let r = picoauth::json::pinterest::parse(body);
    picoauth_fuzz::check_parsed(body, &r, picoauth_fuzz::check_pinterest);
});
