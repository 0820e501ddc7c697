//! A private PostgreSQL cluster for a test: `initdb` and `pg_ctl` in a temporary
//! directory, listening on a Unix socket in that directory (and, with
//! [`Cluster::start_tcp`], on a free port of 127.0.0.1, TLS or not), run as
//! the `postgres` user when the test runs as root (PostgreSQL refuses root), stopped
//! and deleted on every path (`Drop`).
//!
//! The binaries are looked up in `PICOAUTH_PG_BIN`, then Debian's
//! `/usr/lib/postgresql/<version>/bin`, then `PATH`. A missing binary is a clear
//! panic: CI installs Debian's `postgresql` package.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running private cluster; stopped and deleted when dropped.
pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres: bool,
    port: u16,
}

/// A server certificate chain and its key, as PEM, for [`Cluster::start_tcp`].
pub struct ServerTls<'a> {
    /// The leaf, then any intermediates.
    pub chain_pem: &'a str,
    /// The leaf's private key.
    pub key_pem: &'a str,
}

/// Where the cluster listens besides its Unix socket.
enum Listen<'a> {
    /// The socket only.
    Socket,
    /// Also 127.0.0.1, with TLS (this certificate) or without.
    Tcp(Option<ServerTls<'a>>),
}

/// Gives `path` (and what is below it) to the `postgres` user.
fn give_to_postgres(path: &Path) {
    let ok = Command::new("chown")
        .args(["-R", "postgres:"])
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "chown of {} to `postgres` failed (no such user?)",
        path.display()
    );
}

fn find_bin() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("PICOAUTH_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    let out = Command::new("pg_config").arg("--bindir").output();
    match out {
        Ok(o) if o.status.success() => {
            let bin = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
            if bin.join("initdb").exists() {
                return Ok(bin);
            }
            Err(format!("pg_config --bindir gave {bin:?} without initdb"))
        }
        _ => Err(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's \
                  `postgresql` package (it puts them in /usr/lib/postgresql/<version>/bin) \
                  or set PICOAUTH_PG_BIN"
                .into(),
        ),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Cluster {
    /// Creates and starts a cluster; panics with a clear message when PostgreSQL is
    /// not installed.
    pub fn start() -> Self {
        Self::start_with(Listen::Socket)
    }

    /// Creates and starts a cluster that also listens on 127.0.0.1 ([`port`](Self::port),
    /// a free one). With `tls`, TCP clients must use TLS (`hostssl` only) with that
    /// certificate; without, TCP has no TLS at all (`ssl=off`).
    pub fn start_tcp(tls: Option<ServerTls<'_>>) -> Self {
        Self::start_with(Listen::Tcp(tls))
    }

    fn start_with(listen: Listen<'_>) -> Self {
        let bin = find_bin().unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::Builder::new()
            .prefix("picoauth-pg-")
            .tempdir()
            .unwrap();
        let as_postgres = is_root();
        if as_postgres {
            give_to_postgres(dir.path());
        }
        let port = match listen {
            Listen::Tcp(_) => std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("a free loopback port"),
            Listen::Socket => 5432,
        };
        let c = Self {
            dir,
            bin,
            as_postgres,
            port,
        };
        let data = c.data();
        c.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let mut opts = format!(
            "-k {} -p {port} -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            c.dir.path().display()
        );
        match &listen {
            Listen::Socket => opts.push_str(" -c listen_addresses=''"),
            Listen::Tcp(tls) => {
                opts.push_str(" -c listen_addresses=127.0.0.1");
                let hba = match tls {
                    Some(t) => {
                        c.write_private("server.crt", t.chain_pem);
                        c.write_private("server.key", t.key_pem);
                        opts.push_str(
                            " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key",
                        );
                        "local all all trust\nhostssl all all 127.0.0.1/32 trust\n"
                    }
                    None => {
                        opts.push_str(" -c ssl=off");
                        "local all all trust\nhost all all 127.0.0.1/32 trust\n"
                    }
                };
                c.write_private("pg_hba.conf", hba);
            }
        }
        let log = c.dir.path().join("server.log");
        c.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        c
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Writes `name` in the data directory, readable by the server's user only (as
    /// PostgreSQL wants a key file).
    fn write_private(&self, name: &str, text: &str) {
        use std::os::unix::fs::PermissionsExt as _;
        let path = self.data().join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        if self.as_postgres {
            give_to_postgres(&path);
        }
    }

    /// The TCP port (5432, unused, for a cluster without TCP).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `tool` from the cluster's binaries, run as `postgres` when the test runs as root.
    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let out = self
            .command(tool)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
        assert!(
            out.status.success(),
            "{tool} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The connection string (Unix socket in the cluster's directory).
    pub fn conninfo(&self) -> String {
        format!(
            "host={} port={} user=postgres dbname=postgres",
            self.dir.path().display(),
            self.port
        )
    }

    /// The cluster's temporary directory (data and socket).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        // The TempDir removes the directory after this.
    }
}
