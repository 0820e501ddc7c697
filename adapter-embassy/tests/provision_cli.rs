//! Provisioning round trip through the built `picoauth` binary: `picoauth login
//! --save-token-set --provisioning-image` against the built-in provider, and
//! `picoauth tokens export` from the SQLite store that login filled; the files are
//! read by the firmware-side code (core decoder, `provision` into a `TokenStore` on
//! a NOR double) and must come back bit for bit. The files are mode 0600 and no
//! token is printed.
//!
//! Run: `cargo test -p picoauth-embassy --features provision --test provision_cli`

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use picoauth::provision::Image;
use picoauth::token_set::TokenSet;
use picoauth_embassy::persist::TokenStore;
use picoauth_embassy::provision::{load_client, provision, Provisioned};
use picoauth_local_provider::{self as lp, LocalProvider, LocalProviderConfig};

use picoauth_test_support::flash::{CutFlash, PAGE};
use picoauth_test_support::ready::block_on;

/// The firmware example's capacities.
type Set = TokenSet<512, 512>;

/// The `picoauth` binary, built once (a test of this package cannot name another
/// package's binary).
fn picoauth_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // target/<profile>/deps/provision_cli-… → target/<profile>/picoauth
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
        let target_dir = profile_dir.parent().unwrap().to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut build = Command::new(cargo);
        build
            .args(["build", "-q", "-p", "picoauth-cli", "--bin", "picoauth"])
            .arg("--target-dir")
            .arg(&target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "building the picoauth binary failed");
        profile_dir.join(format!("picoauth{}", std::env::consts::EXE_SUFFIX))
    })
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(picoauth_bin())
        .args(args)
        .env(
            "PICOAUTH_PROVISION_SECRET",
            lp::SLACK_ROTATING_CLIENT_SECRET,
        )
        .output()
        .expect("run picoauth");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn encoded(set: &Set) -> Vec<u8> {
    let mut out = vec![0u8; set.encoded_len().unwrap()];
    set.encode(&mut out).unwrap();
    out
}

/// The device side: the image written into a provisioning region (as `probe-rs
/// download` would), one boot, and what the map holds afterwards.
fn device_boot(image: &[u8]) -> (Provisioned, Vec<u8>, (u64, String, Option<String>)) {
    let mut map = TokenStore::new(
        CutFlash::new(vec![0xFF; 4 * PAGE], None),
        0..(4 * PAGE) as u32,
    )
    .unwrap();
    let mut region_mem = vec![0xFF; 2 * PAGE];
    region_mem[..image.len()].copy_from_slice(image);
    let mut region = CutFlash::new(region_mem, None);
    let mut buf = [0u8; 4096];
    let what = block_on(provision::<_, _, 512, 512>(
        &mut region,
        0..(2 * PAGE) as u32,
        &mut map,
        &mut buf,
    ))
    .unwrap();
    assert!(region.mem.iter().all(|&b| b == 0xFF), "region erased");
    let set = block_on(map.load::<512, 512>(&mut buf)).unwrap().unwrap();
    let client = block_on(load_client(&mut map, &mut buf)).unwrap().unwrap();
    let client = (
        client.id,
        client.client_id.to_owned(),
        client.client_secret.map(|s| s.expose().to_owned()),
    );
    (what, encoded(&set), client)
}

/// Checks a pair of files written together: the raw set decodes with the
/// firmware's capacities and re-encodes to the same bytes; the image carries the
/// same bytes and the client; the device's map ends up with them bit for bit.
fn check_pair(set_file: &Path, image_file: &Path, printed: &str) {
    assert_eq!(mode(set_file), 0o600);
    assert_eq!(mode(image_file), 0o600);
    let raw = std::fs::read(set_file).unwrap();
    let set = Set::decode(&raw).unwrap();
    assert_eq!(encoded(&set), raw, "decode + encode is the identity");
    let main = set.credential(picoauth::token_set::Slot::Main).unwrap();
    let refresh = main
        .refresh_token
        .as_ref()
        .expect("a refresh token")
        .expose();
    assert!(!printed.contains(refresh), "refresh token printed");
    assert!(
        !printed.contains(main.access_token.expose()),
        "access token printed"
    );
    assert!(!printed.contains(lp::SLACK_ROTATING_CLIENT_SECRET));

    let image_bytes = std::fs::read(image_file).unwrap();
    let image = Image::parse(&image_bytes).unwrap();
    assert_eq!(image.token_set, &raw[..], "the image carries the same set");
    assert_eq!(image.client_id, lp::SLACK_ROTATING_CLIENT_ID);
    assert_eq!(
        image.client_secret.map(|s| s.expose()),
        Some(lp::SLACK_ROTATING_CLIENT_SECRET)
    );

    let (what, stored, client) = device_boot(&image_bytes);
    assert_eq!(what, Provisioned::Moved { id: image.id });
    assert_eq!(stored, raw, "the map holds the set bit for bit");
    assert_eq!(
        client,
        (
            image.id,
            lp::SLACK_ROTATING_CLIENT_ID.to_owned(),
            Some(lp::SLACK_ROTATING_CLIENT_SECRET.to_owned())
        )
    );
}

#[test]
fn login_and_export_round_trip_to_the_device() {
    let mut clients = lp::default_clients();
    for c in &mut clients {
        c.redirect_uris.clear();
    }
    let p = LocalProvider::start(LocalProviderConfig {
        clients,
        ..Default::default()
    })
    .unwrap();
    let dir = std::env::temp_dir().join(format!("picoauth-provision-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, p.ca_cert_pem()).unwrap();
    let db = dir.join("store.db");
    let store_arg = format!("sqlite:{}", db.display());
    let set_file = dir.join("login.tokenset");
    let image_file = dir.join("login.img");
    // An existing, world-readable file is narrowed to 0600.
    std::fs::write(&image_file, b"old").unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&image_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let base = p.base_url();
    let authorize = format!("{base}/oauth/v2/authorize");
    let token = format!("{base}/api/oauth.v2.access");
    let (code, out, err) = run(&[
        "login",
        "--provider",
        "slack-v2",
        "--listen",
        "127.0.0.1:0",
        "--authorize-url",
        &authorize,
        "--token-url",
        &token,
        "--ca-cert",
        ca.to_str().unwrap(),
        "--timeout",
        "20",
        "--client-id",
        lp::SLACK_ROTATING_CLIENT_ID,
        "--client-secret-env",
        "PICOAUTH_PROVISION_SECRET",
        "--scope",
        "chat:write",
        "--browser-follow",
        "--store",
        &store_arg,
        "--save-token-set",
        set_file.to_str().unwrap(),
        "--provisioning-image",
        image_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("wrote the provisioning image"), "{err}");
    check_pair(&set_file, &image_file, &format!("{out}{err}"));

    // `tokens export` of the installation login saved: the same set, a new id.
    let export_set = dir.join("export.tokenset");
    let export_image = dir.join("export.img");
    let (code, out, err) = run(&[
        "tokens",
        "export",
        "--store",
        &store_arg,
        "slack:|T0LOCAL01||0",
        "--client-id",
        lp::SLACK_ROTATING_CLIENT_ID,
        "--client-secret-env",
        "PICOAUTH_PROVISION_SECRET",
        "--save-token-set",
        export_set.to_str().unwrap(),
        "--provisioning-image",
        export_image.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    check_pair(&export_set, &export_image, &format!("{out}{err}"));
    assert_eq!(
        std::fs::read(&export_set).unwrap(),
        std::fs::read(&set_file).unwrap(),
        "export writes the set login got"
    );
    let a = std::fs::read(&image_file).unwrap();
    let b = std::fs::read(&export_image).unwrap();
    assert_ne!(
        Image::parse(&a).unwrap().id,
        Image::parse(&b).unwrap().id,
        "each image has its own id"
    );

    // Usage errors.
    let (code, _, err) = run(&[
        "tokens",
        "export",
        "--store",
        &store_arg,
        "slack:|T0LOCAL01||0",
    ]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&[
        "tokens",
        "export",
        "--store",
        &store_arg,
        "slack:|T0LOCAL01||0",
        "--provisioning-image",
        export_image.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
