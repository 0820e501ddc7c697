//! Writes the chains that `size/src/bin/verify.rs` verifies on the emulated Cortex-M3
//! (`size/fixtures/verify/`): Slack's shape (RSA-2048 leaf ← RSA-2048 ← cross-signed
//! RSA-4096 root ← RSA-4096 anchor) with an RSA-PSS-SHA256 CertificateVerify, and
//! ECDSA P-256 throughout with an ECDSA CertificateVerify, valid at the time written to
//! `now`. Ignored: run it by hand to regenerate, then commit the files.
//!
//! ```sh
//! cargo test -p picoauth-embassy --test qemu_fixtures -- --ignored
//! ```

mod chains;

use chains::{ca_params, key, leaf_params, KeyKind, HOST};
use rcgen::{Issuer, KeyPair};
use ring::rand::SystemRandom;
use ring::signature as rs;

const CONTEXT: &[u8] = b"TLS 1.3, server CertificateVerify\x00";

/// 64 spaces, the context string and a transcript hash (SHA-256 of a fixed string).
fn content() -> Vec<u8> {
    let mut m = vec![0x20u8; 64];
    m.extend_from_slice(CONTEXT);
    m.extend_from_slice(
        ring::digest::digest(&ring::digest::SHA256, b"picoauth transcript").as_ref(),
    );
    m
}

fn chain(
    dir: &std::path::Path,
    name: &str,
    kinds: [KeyKind; 4],
    cross: bool,
) -> (Vec<u8>, KeyPair) {
    let anchor_key = key(kinds[0]);
    let anchor_params = ca_params("Test Anchor", None);
    let anchor = anchor_params.self_signed(&anchor_key).expect("anchor");
    let anchor_issuer = Issuer::new(anchor_params, anchor_key);
    let root_key = key(kinds[1]);
    let root_params = ca_params("Test Root", None);
    let root = if cross {
        root_params
            .signed_by(&root_key, &anchor_issuer)
            .expect("cross-signed root")
    } else {
        root_params
            .signed_by(&root_key, &anchor_issuer)
            .expect("intermediate")
    };
    let root_issuer = Issuer::new(root_params, root_key);
    let int_key = key(kinds[2]);
    let int_params = ca_params("Test Intermediate", Some(0));
    let int = int_params
        .signed_by(&int_key, &root_issuer)
        .expect("intermediate");
    let int_issuer = Issuer::new(int_params, int_key);
    let leaf_key = key(kinds[3]);
    let leaf = leaf_params(&[HOST])
        .signed_by(&leaf_key, &int_issuer)
        .expect("leaf");
    for (part, der) in [
        ("anchor", anchor.der()),
        ("root", root.der()),
        ("int", int.der()),
        ("leaf", leaf.der()),
    ] {
        std::fs::write(dir.join(format!("{name}-{part}.der")), der).expect("write");
    }
    (leaf.der().to_vec(), leaf_key)
}

#[test]
#[ignore = "regenerates size/fixtures/verify; run by hand"]
fn write_qemu_fixtures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../size/fixtures/verify");
    std::fs::create_dir_all(&dir).expect("dir");
    let rng = SystemRandom::new();
    let msg = content();
    std::fs::write(dir.join("content.bin"), &msg).expect("write");

    let kinds = [
        KeyKind::Rsa("4096-a"),
        KeyKind::Rsa("4096-b"),
        KeyKind::Rsa("2048-a"),
        KeyKind::Rsa("2048-b"),
    ];
    let (_, leaf_key) = chain(&dir, "slack", kinds, true);
    let pair = rs::RsaKeyPair::from_pkcs8(&leaf_key.serialize_der()).expect("ring key");
    let mut sig = vec![0u8; pair.public().modulus_len()];
    pair.sign(&rs::RSA_PSS_SHA256, &rng, &msg, &mut sig)
        .expect("sign");
    std::fs::write(dir.join("slack-cv.sig"), &sig).expect("write");

    let (_, leaf_key) = chain(&dir, "p256", [KeyKind::P256; 4], false);
    let pair = rs::EcdsaKeyPair::from_pkcs8(
        &rs::ECDSA_P256_SHA256_ASN1_SIGNING,
        &leaf_key.serialize_der(),
        &rng,
    )
    .expect("ring key");
    let sig = pair.sign(&rng, &msg).expect("sign");
    std::fs::write(dir.join("p256-cv.sig"), sig.as_ref()).expect("write");

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    std::fs::write(dir.join("now"), now.to_string()).expect("write");
}
