//! Instruction counts (under callgrind) and heap allocation counts (natively) of one
//! parse or encode, per case and per implementation.
//!
//! - `ir --list`: the case names, one a line.
//! - `ir <case>`: runs the case once to warm up, then once inside
//!   `picoauth_ir_measure`, the function callgrind collects in
//!   (`--collect-atstart=no --toggle-collect=picoauth_ir_measure`).
//! - `ir --allocs`: each case's allocations per call, from a counting allocator.
//!
//! `.ci/bench` drives it; see `BENCHMARKS.md`.

use std::hint::black_box;

use picoauth_bench::{
    core_encode, core_parse, oauth2_encode, oauth2_parse, parse_cases, rfc_provider, serde_parse,
    EncodeCase, OauthClients,
};
use picoauth_test_support::alloc::{self, Counting};

/// Counts allocations (the binary is single-threaded).
#[global_allocator]
static GLOBAL: Counting = Counting;

/// Callgrind collects only while this function runs.
#[no_mangle]
#[inline(never)]
pub fn picoauth_ir_measure(f: &mut dyn FnMut() -> usize) -> usize {
    black_box(f())
}

type Job = Box<dyn FnMut() -> usize>;

fn jobs() -> Vec<(String, Job)> {
    let mut out: Vec<(String, Job)> = Vec::new();
    for case in parse_cases() {
        let (kind, expect, name) = (case.kind, case.expect, case.name);
        let wire = case.wire.clone();
        let mut buf = vec![0u8; 4096];
        out.push((
            format!("parse/picoauth/{name}"),
            Box::new(move || core_parse(kind, black_box(&wire), &mut buf)),
        ));
        let wire = case.wire.clone();
        out.push((
            format!("parse/oauth2/{name}"),
            Box::new(move || oauth2_parse(expect, black_box(&wire))),
        ));
        let wire = case.wire;
        out.push((
            format!("parse/serde_json/{name}"),
            Box::new(move || serde_parse(kind, black_box(&wire))),
        ));
    }
    for case in EncodeCase::ALL {
        let rfc = rfc_provider();
        let mut out_buf = vec![0u8; 1024];
        out.push((
            format!("encode/picoauth/{}", case.name()),
            Box::new(move || core_encode(black_box(case), &rfc, &mut out_buf)),
        ));
        let clients = OauthClients::new();
        out.push((
            format!("encode/oauth2/{}", case.name()),
            Box::new(move || oauth2_encode(black_box(case), &clients)),
        ));
    }
    out
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "--list".into());
    let mut jobs = jobs();
    match arg.as_str() {
        "--list" => {
            for (name, _) in &jobs {
                println!("{name}");
            }
        }
        "--allocs" => {
            for (name, job) in &mut jobs {
                job(); // warm-up
                let before = alloc::total();
                let r = black_box(job());
                let n = alloc::total() - before;
                assert!(r > 0 || name.contains("oauth2/slack_v1"), "{name} failed");
                println!("{name} {n}");
            }
        }
        wanted => {
            let Some((_, job)) = jobs.iter_mut().find(|(n, _)| n == wanted) else {
                eprintln!("unknown case {wanted}; see --list");
                std::process::exit(2);
            };
            job(); // warm-up, outside the collected function
            let r = picoauth_ir_measure(job.as_mut());
            if r == 0 && !wanted.contains("oauth2/slack_v1") {
                eprintln!("{wanted}: the work failed");
                std::process::exit(1);
            }
        }
    }
}
