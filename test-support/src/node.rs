//! The Node interop peer: `tests/interop/server.mjs`, which runs panva's
//! `oidc-provider` (pinned in `tests/interop/package.json`) over HTTPS with a CA and
//! leaf the test generates, and speaks one JSON object a line on stdin/stdout
//! (`{"ready":true,"port":…,"issuer":…,"version":…}` first, then one answer per
//! command, such as `authorize`).
//!
//! Used by the std clients' interop test (`tests/tests/interop.rs`, on 127.0.0.1) and
//! picoauth-embassy's (`adapter-embassy/tests/interop_netns.rs`, inside a network
//! namespace the test creates).

use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};

use serde_json::{json, Value};

/// `tests/interop/` of the workspace (the peer's script and its `node_modules`).
pub fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop")
}

/// The Node binary: `$NODE`, else `node`.
pub fn node_command() -> String {
    std::env::var("NODE").unwrap_or_else(|_| "node".to_owned())
}

/// Panics, saying what to run, unless the peer's package is installed.
fn assert_installed() {
    let pkg = interop_dir().join("node_modules/oidc-provider/package.json");
    assert!(
        pkg.is_file(),
        "the interop peer is not installed: {} is missing. Run `.ci/interop` \
         (or `cd tests/interop && npm ci`) first; it needs Node 18+ and npm.",
        pkg.display()
    );
}

/// Checks that Node runs and the peer package is installed, and returns
/// `"<node> <version>"`; panics saying what to install if not.
pub fn node_or_panic() -> String {
    assert_installed();
    let node = node_command();
    let version = Command::new(&node)
        .arg("--version")
        .stdin(Stdio::null())
        .output();
    match version {
        Ok(o) if o.status.success() => {
            format!("{node} {}", String::from_utf8_lossy(&o.stdout).trim())
        }
        Ok(o) => panic!(
            "`{node} --version` failed ({}): install Node.js 18+ for the interop peer",
            o.status
        ),
        Err(e) => panic!("cannot run `{node}` for the interop peer: {e}. Install Node.js 18+."),
    }
}

/// The peer's TLS material, as PEM.
#[derive(Debug, Clone, Copy)]
pub struct PeerTls<'a> {
    /// The CA the clients trust (the peer trusts it too, for its own requests).
    pub ca_pem: &'a str,
    /// The leaf, then the CA.
    pub chain_pem: &'a str,
    /// The leaf's private key.
    pub key_pem: &'a str,
}

/// The running Node server, killed and its files removed on drop.
#[derive(Debug)]
pub struct NodePeer {
    child: Mutex<Child>,
    stdin: Mutex<Option<ChildStdin>>,
    lines: Mutex<mpsc::Receiver<String>>,
    stderr: Arc<Mutex<String>>,
    dir: PathBuf,
    next_id: AtomicU32,
}

impl NodePeer {
    /// Starts `server.mjs` on `host` (any free port) with `tls`, and returns it with its
    /// first line (`ready`, checked), read within `start_timeout`. Panics, saying what
    /// to install, when the package or Node is missing.
    pub fn start(host: &str, tls: PeerTls<'_>, start_timeout: Duration) -> (Self, Value) {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        assert_installed();
        let interop = interop_dir();
        let dir = std::env::temp_dir().join(format!(
            "picoauth-interop-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let write = |name: &str, text: &str| {
            let p = dir.join(name);
            std::fs::write(&p, text).expect("write a PEM file");
            p
        };
        let ca = write("ca.pem", tls.ca_pem);
        let cert = write("chain.pem", tls.chain_pem);
        let key = write("key.pem", tls.key_pem);

        let node = node_command();
        let mut child = match Command::new(&node)
            .arg(interop.join("server.mjs"))
            .current_dir(&interop)
            .env("INTEROP_CA", &ca)
            .env("INTEROP_CERT", &cert)
            .env("INTEROP_KEY", &key)
            .env("INTEROP_HOST", host)
            .env("INTEROP_PORT", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                panic!("cannot run `{node}` for the interop peer: {e}. Install Node.js 18+.");
            }
        };
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        let stderr = Arc::new(Mutex::new(String::new()));
        let notes = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // oidc-provider prints its own notices on stdout: keep them with the
                // logs; the protocol's lines are JSON objects.
                if !line.starts_with('{') {
                    if let Ok(mut s) = notes.lock() {
                        s.push_str(&line);
                        s.push('\n');
                    }
                } else if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut err_pipe = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = err_pipe.read(&mut buf) {
                if let (Ok(mut s), Some(b)) = (sink.lock(), buf.get(..n)) {
                    s.push_str(&String::from_utf8_lossy(b));
                }
            }
        });
        let stdin = Mutex::new(child.stdin.take());
        let peer = Self {
            child: Mutex::new(child),
            stdin,
            lines: Mutex::new(lines),
            stderr,
            dir,
            next_id: AtomicU32::new(0),
        };
        let ready = peer.recv(start_timeout, "start");
        assert_eq!(ready["ready"], true, "unexpected first line {ready}");
        (peer, ready)
    }

    /// The next JSON line from the server, within `timeout`; panics with the server's
    /// exit status and stderr when none comes.
    pub fn recv(&self, timeout: Duration, what: &str) -> Value {
        let next = self.lines.lock().expect("peer lines").recv_timeout(timeout);
        match next {
            Ok(line) => serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("the interop peer wrote {line:?}: {e}")),
            Err(e) => {
                let status = self
                    .child
                    .lock()
                    .ok()
                    .and_then(|mut c| c.try_wait().ok().flatten());
                panic!(
                    "the interop peer did not answer ({what}) within {timeout:?}: {e}; \
                     exit status {status:?}; its stderr:\n{}",
                    self.stderr_text()
                );
            }
        }
    }

    /// All the server wrote on stderr (and its non-protocol stdout lines) so far.
    pub fn stderr_text(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Runs the authorization endpoint for `client_id` (the server approves at once),
    /// with a PKCE `challenge` if given, and returns the code from the redirect to
    /// `redirect_uri`; the answer must come within `timeout`.
    pub fn authorize(
        &self,
        client_id: &str,
        redirect_uri: &str,
        scope: &str,
        challenge: Option<&str>,
        timeout: Duration,
    ) -> String {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut cmd = json!({
            "id": id, "op": "authorize", "client_id": client_id,
            "redirect_uri": redirect_uri, "scope": scope,
        });
        if let Some(c) = challenge {
            cmd["code_challenge"] = Value::from(c);
        }
        {
            let mut stdin = self.stdin.lock().expect("peer stdin");
            let stdin = stdin.as_mut().expect("peer stdin open");
            writeln!(stdin, "{cmd}").expect("write to the interop peer");
            stdin.flush().expect("flush to the interop peer");
        }
        let answer = self.recv(timeout, "authorize");
        assert_eq!(answer["id"], id, "{answer}");
        match answer["code"].as_str() {
            Some(code) => code.to_owned(),
            None => panic!(
                "authorization for {client_id:?} failed: {}; peer stderr:\n{}",
                answer["error"],
                self.stderr_text()
            ),
        }
    }
}

impl Drop for NodePeer {
    fn drop(&mut self) {
        // Closing stdin asks the server to stop; the kill makes sure.
        if let Ok(stdin) = self.stdin.get_mut() {
            drop(stdin.take());
        }
        if let Ok(child) = self.child.get_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        if std::thread::panicking() {
            eprintln!("interop peer stderr:\n{}", self.stderr_text());
        }
    }
}
