//! The PostgreSQL token store over TCP, against real private clusters on 127.0.0.1:
//! TLS is required and verified (chain and host name), a server that answers "no TLS"
//! is refused rather than used in clear text, and `sslmode=disable` is honoured only
//! for a loopback address. Needs Debian's `postgresql` (CI installs it).

use picoauth_local_provider::pki::TestCa;
use picoauth_std::tokens::{PostgresStore, StoreError};
use picoauth_std::Trust;
use picoauth_test_support::cli::run;
use picoauth_test_support::postgres::{Cluster, ServerTls};
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// What connecting with `config` and `trust` gives: `Ok` or the error's text.
fn connect(config: &str, trust: &Trust) -> Result<(), String> {
    runtime().block_on(async {
        let connecting = PostgresStore::connect_with(config, 1, trust);
        match tokio::time::timeout(core::time::Duration::from_secs(30), connecting).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => panic!("{config}: no answer within 30 s"),
        }
    })
}

#[test]
fn tls_to_a_tcp_host_is_required_and_verified() {
    let ours = TestCa::new("picoauth test database CA").unwrap();
    // For localhost only.
    let leaf = ours.leaf(&["localhost"]).unwrap();
    let cluster = Cluster::start_tcp(Some(ServerTls {
        chain_pem: &leaf.chain_pem,
        key_pem: &leaf.key_pem,
    }));
    let port = cluster.port();
    // `hostaddr` is the address connected to, `host` the name the certificate must hold.
    let named = |host: &str| {
        format!("host={host} hostaddr=127.0.0.1 port={port} user=postgres dbname=postgres")
    };
    let trusted = Trust::only_pem(ours.pem.as_bytes()).unwrap();

    // The server accepts TCP clients over TLS only (`hostssl`): a store that migrates
    // and prepares its statements has talked TLS.
    connect(&named("localhost"), &trusted).expect("TLS with our CA");

    // The public roots do not hold our CA: refused.
    let e = connect(&named("localhost"), &Trust::public()).unwrap_err();
    assert!(e.contains("invalid peer certificate: UnknownIssuer"), "{e}");

    // A chain to another CA (what an attacker in the middle could present): refused.
    let theirs = TestCa::new("someone else's CA").unwrap();
    let e = connect(
        &named("localhost"),
        &Trust::only_pem(theirs.pem.as_bytes()).unwrap(),
    )
    .unwrap_err();
    assert!(e.contains("invalid peer certificate: UnknownIssuer"), "{e}");

    // The certificate is for localhost, not for the name asked for: refused.
    let e = connect(&named("db.example"), &trusted).unwrap_err();
    assert!(
        e.contains("certificate not valid for name \"db.example\""),
        "{e}"
    );

    // The command line: `--store-ca-cert` trusts our CA for the database, and nothing
    // else does.
    let url = format!("postgres://postgres@localhost:{port}/postgres?hostaddr=127.0.0.1");
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), &ours.pem).unwrap();
    let ca_path = ca_file.path().to_str().unwrap();
    let (code, _, err) = run(&[
        "tokens",
        "list",
        "--store",
        &url,
        "--store-ca-cert",
        ca_path,
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["tokens", "list", "--store", &url]);
    assert_ne!(code, 0);
    assert!(
        err.contains("invalid peer certificate: UnknownIssuer"),
        "{err}"
    );
}

#[test]
fn a_server_without_tls_is_refused_unless_disabled_for_loopback() {
    let cluster = Cluster::start_tcp(None);
    let plain = format!(
        "host=127.0.0.1 port={} user=postgres dbname=postgres",
        cluster.port()
    );
    // The default (`prefer`) would go on in clear text: refused instead.
    let e = connect(&plain, &Trust::public()).unwrap_err();
    assert!(e.contains("server does not support TLS"), "{e}");
    let e = connect(&format!("{plain} sslmode=prefer"), &Trust::public()).unwrap_err();
    assert!(e.contains("server does not support TLS"), "{e}");

    // Asked for explicitly, on loopback: allowed.
    connect(&format!("{plain} sslmode=disable"), &Trust::public()).expect("no TLS on loopback");
}

#[test]
fn no_tls_to_a_remote_host_is_refused_before_connecting() {
    // Refused while parsing: nothing is looked up or sent.
    let e = runtime().block_on(PostgresStore::connect(
        "host=db.example.com user=postgres sslmode=disable",
        1,
    ));
    match e {
        Err(StoreError::TlsRequired { host }) => assert_eq!(host, "db.example.com"),
        other => panic!("{other:?}"),
    }
}
