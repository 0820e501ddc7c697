//! Slack legacy `oauth.access` bodies: no panic, every returned string decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let r = picoauth::json::slack::parse_v1(body);
    match &r {
        Ok(v) => picoauth_fuzz::check_slack_v1(v),
        Err(e) => {
            let _ = (e.to_string(), e.offset(), e.field());
        }
    }
    picoauth_fuzz::check_document(body, r.is_ok());
});
