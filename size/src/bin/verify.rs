//! picoauth-embassy's certificate verifier on an emulated Cortex-M3 (qemu
//! mps2-an385, run with `-icount shift=0` by `size/qemu-verify.sh`): the instructions
//! and peak stack of verifying a Slack-shaped chain (RSA-2048 leaf ← RSA-2048 ←
//! cross-signed RSA-4096 root ← RSA-4096 anchor) and its RSA-PSS CertificateVerify, and
//! the same for an ECDSA P-256 chain, next to the P-256 ECDHE the handshake also does.
//!
//! Instructions come from SysTick: under `-icount shift=0` QEMU's virtual clock advances
//! one nanosecond per instruction, and SysTick counts that clock (on `mps2-an385`, whose
//! SysTick is wired to its 25 MHz clock; the `lm3s6965evb` model leaves it unclocked);
//! a loop of a known number of instructions calibrates ticks to instructions. Fixtures:
//! `size/fixtures/verify/` (written by adapter-embassy's ignored `qemu_fixtures` test).
#![no_std]
#![no_main]

use cortex_m::peripheral::SYST;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use p256::elliptic_curve::ops::MulByGenerator;
use p256::{ProjectivePoint, Scalar};
use picoauth_embassy::verifier::{verify_certificate_verify, verify_chain};
use picoauth_embassy::{anchor_from_trusted_cert, CertificateDer, SignatureScheme};
use picoauth_size::semihosting::{fail, halt};
use picoauth_size::stack;
use picoauth_size::systick::{start, ticks};

const CONTENT: &[u8] = include_bytes!("../../fixtures/verify/content.bin");
const NOW: &str = include_str!("../../fixtures/verify/now");

struct Chain {
    name: &'static str,
    anchor: &'static [u8],
    root: &'static [u8],
    int: &'static [u8],
    leaf: &'static [u8],
    scheme: SignatureScheme,
    cv: &'static [u8],
}

macro_rules! chain {
    ($name:literal, $scheme:expr) => {
        Chain {
            name: $name,
            anchor: include_bytes!(concat!("../../fixtures/verify/", $name, "-anchor.der")),
            root: include_bytes!(concat!("../../fixtures/verify/", $name, "-root.der")),
            int: include_bytes!(concat!("../../fixtures/verify/", $name, "-int.der")),
            leaf: include_bytes!(concat!("../../fixtures/verify/", $name, "-leaf.der")),
            scheme: $scheme,
            cv: include_bytes!(concat!("../../fixtures/verify/", $name, "-cv.sig")),
        }
    };
}

/// Runs `f` and returns its result, the SysTick ticks it took and its peak stack.
fn measure<R>(syst: &mut SYST, f: impl FnOnce() -> R) -> (R, u64, usize) {
    let t0 = ticks(syst);
    let (r, stack) = stack::peak_within(40 * 1024, f);
    (r, ticks(syst) - t0, stack)
}

#[entry]
fn main() -> ! {
    let (mut syst, per_k) = start();
    let insns = |t: u64| t * per_k / 1000;
    let now: u64 = NOW.trim().parse().unwrap_or_else(|_| fail("now"));

    let mut ok = true;
    for c in [
        chain!("slack", SignatureScheme::RsaPssRsaeSha256),
        chain!("p256", SignatureScheme::EcdsaSecp256r1Sha256),
    ] {
        let anchor_der = CertificateDer::from(c.anchor);
        let anchor = anchor_from_trusted_cert(&anchor_der).unwrap_or_else(|_| fail("anchor"));
        let anchors = [anchor];
        let inter = [CertificateDer::from(c.int), CertificateDer::from(c.root)];
        let leaf = CertificateDer::from(c.leaf);
        let (r, t_chain, s_chain) = measure(&mut syst, || {
            verify_chain(&anchors, &leaf, &inter, "auth.test", now)
        });
        ok &= r.is_ok();
        let (r2, t_cv, s_cv) = measure(&mut syst, || {
            verify_certificate_verify(c.leaf, c.scheme, CONTENT, c.cv)
        });
        ok &= r2.is_ok();
        // A flipped byte must be refused.
        let mut bad = [0u8; 512];
        bad[..c.cv.len()].copy_from_slice(c.cv);
        bad[c.cv.len() / 2] ^= 1;
        ok &= verify_certificate_verify(c.leaf, c.scheme, CONTENT, &bad[..c.cv.len()]).is_err();
        hprintln!(
            "{}: chain {} instructions ({} B stack), CertificateVerify {} instructions ({} B stack), total {} instructions; chain {:?}, CertificateVerify {:?}",
            c.name,
            insns(t_chain),
            s_chain,
            insns(t_cv),
            s_cv,
            insns(t_chain + t_cv),
            r,
            r2
        );
    }

    // The P-256 ECDHE of the same handshake: the client's key share and the shared point.
    let k = Scalar::from(0x1234_5678_9abc_def0_u64) * Scalar::from(0x0fed_cba9_8765_4321_u64);
    let ((), t_ecdhe, s_ecdhe) = measure(&mut syst, || {
        let public = ProjectivePoint::mul_by_generator(&k);
        let shared = public * k;
        core::hint::black_box(shared.to_affine());
    });
    hprintln!(
        "P-256 ECDHE (key share + shared secret): {} instructions ({} B stack)",
        insns(t_ecdhe),
        s_ecdhe
    );

    if ok {
        hprintln!("verify: all checks passed");
        debug::exit(debug::EXIT_SUCCESS);
    } else {
        fail("a verification did not give the expected result");
    }
    halt()
}
