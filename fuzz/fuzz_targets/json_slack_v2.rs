//! Slack `oauth.v2.access` bodies: no panic, every returned string decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let r = picoauth::json::slack::parse_v2(body);
    picoauth_fuzz::check_parsed(body, &r, picoauth_fuzz::check_slack_v2);
});
