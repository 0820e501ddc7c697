//! What picoauth-embassy's network-namespace tests share: the namespace with its TAP
//! device, running the test binary again inside it with a hard time limit, the DNS
//! responder for `*.test`, the embassy-net stack on the TAP, a real-time clock, and the
//! executor loop that runs the client task and collects its report lines.
//!
//! ```text
//!  netns <prefix>-<pid>
//!  ┌──────────────────────────────────────────────────────────────────┐
//!  │ <tap> 192.0.2.1/24  ← Linux side: the test's server(s) and a DNS   │
//!  │                       responder on :53 (*.test → 192.0.2.1)        │
//!  │ embassy-net 192.0.2.2/24 on the same TAP (embassy-net-tuntap)      │
//!  └──────────────────────────────────────────────────────────────────┘
//! ```
//!
//! 192.0.2.0/24 is TEST-NET-1 (RFC 5737); the namespace has no other interface, so no
//! packet can leave it.

use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::io::{Read as _, Write as _};
use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use embassy_executor::Spawner;
use embassy_net::{Ipv4Address, Ipv4Cidr, Runner, Stack, StackResources, StaticConfigV4};
use embassy_net_tuntap::TunTapDevice;
use picoauth_embassy::UnixClock;
use static_cell::StaticCell;

/// Set in the environment of the test binary run inside the namespace.
pub const CHILD_ENV: &str = "PICOAUTH_EMBASSY_NETNS_CHILD";
/// When set, a missing prerequisite (root, `/dev/net/tun`, `ip`) fails the test.
pub const REQUIRE_ENV: &str = "PICOAUTH_REQUIRE_NETNS";
/// The Linux side of the TAP device: the servers and the DNS responder.
pub const LINUX_IP: [u8; 4] = [192, 0, 2, 1];
/// The embassy-net side.
pub const EMBASSY_IP: [u8; 4] = [192, 0, 2, 2];

/// Writes straight to stderr, past the test harness's capture, so a skip is seen.
pub fn say(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// Whether this process is the run inside the namespace.
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// How a namespace test runs its own binary inside a namespace it creates.
#[derive(Debug, Clone, Copy)]
pub struct NetnsRun<'a> {
    /// The test function's name (the child runs exactly it).
    pub test_name: &'a str,
    /// The namespace is called `<ns_prefix>-<pid>`.
    pub ns_prefix: &'a str,
    /// The TAP device inside it.
    pub tap: &'a str,
    /// The whole child run, hard: it is killed past this.
    pub hard_timeout: Duration,
}

impl NetnsRun<'_> {
    /// The namespace's name for this process.
    pub fn ns_name(&self) -> String {
        format!("{}-{}", self.ns_prefix, std::process::id())
    }

    /// Creates the namespace, runs the test inside it with [`CHILD_ENV`] set, deletes
    /// the namespace (killing whatever is left in it), and returns whether the child
    /// passed and all it printed. `None` when a prerequisite is missing and
    /// [`REQUIRE_ENV`] is unset (the skip is said on stderr); with it set, that panics.
    pub fn run(&self) -> Option<(bool, String)> {
        let name = self.test_name;
        if let Some(why) = missing_prerequisite() {
            let msg =
                format!("SKIPPED {name}: {why} (needs root, /dev/net/tun and iproute2's `ip`)");
            assert!(
                std::env::var_os(REQUIRE_ENV).is_none(),
                "{msg}, and {REQUIRE_ENV} is set"
            );
            say(&msg);
            return None;
        }
        let started = Instant::now();
        let ns = Netns::create(&self.ns_name(), self.tap).expect("create the network namespace");
        let exe = std::env::current_exe().expect("test binary path");
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.name])
            .arg(exe)
            // `--include-ignored`: an ignored test is run inside too.
            .args([
                name,
                "--exact",
                "--nocapture",
                "--test-threads=1",
                "--include-ignored",
            ])
            .env(CHILD_ENV, "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the child in the namespace");
        let (ok, out) = wait_bounded(child, self.hard_timeout, name);
        drop(ns);
        say(&format!(
            "{name}: child finished in {:.1?}\n{out}",
            started.elapsed()
        ));
        assert!(
            !Netns::exists(&self.ns_name()),
            "namespace {} left behind",
            self.ns_name()
        );
        Some((ok, out))
    }
}

/// Why the namespace cannot be made here, if it cannot.
pub fn missing_prerequisite() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("");
    if euid != "0" {
        return Some(format!("not root (effective uid {euid:?})"));
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("no /dev/net/tun".into());
    }
    match Command::new("ip")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => None,
        _ => Some("no `ip` command".into()),
    }
}

/// Waits for `child` at most `limit`, killing it past that; returns success and all output.
pub fn wait_bounded(mut child: Child, limit: Duration, name: &str) -> (bool, String) {
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let ok = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                say(&format!(
                    "{name}: hard timeout of {limit:?}, killing the child"
                ));
                let _ = child.kill();
                let _ = child.wait();
                break false;
            }
        }
    };
    // A grandchild that still holds the pipes (killed with the namespace) must not
    // keep these readers, and so the test, waiting.
    let out = join_within(out_reader, Duration::from_secs(5));
    let err = join_within(err_reader, Duration::from_secs(5));
    (ok, format!("--- stdout\n{out}\n--- stderr\n{err}"))
}

fn join_within(reader: std::thread::JoinHandle<String>, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    while !reader.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if reader.is_finished() {
        reader.join().unwrap_or_default()
    } else {
        "(output still open: a process in the namespace kept the pipe)".into()
    }
}

/// A network namespace with a configured TAP device, deleted on drop (also on panic),
/// after killing any process still inside it.
#[derive(Debug)]
pub struct Netns {
    /// The namespace's name.
    pub name: String,
    tap: String,
}

impl Netns {
    /// Creates namespace `name` (replacing a stale one of that name) with loopback up
    /// and `tap` at 192.0.2.1/24.
    pub fn create(name: &str, tap: &str) -> Result<Self, String> {
        if Self::exists(name) {
            ip(&["netns", "del", name])?;
        }
        ip(&["netns", "add", name])?;
        // From here on, Drop deletes it whatever fails next.
        let ns = Self {
            name: name.to_owned(),
            tap: tap.to_owned(),
        };
        let n = ns.name.as_str();
        let linux = format!(
            "{}.{}.{}.{}/24",
            LINUX_IP[0], LINUX_IP[1], LINUX_IP[2], LINUX_IP[3]
        );
        ip(&["-n", n, "link", "set", "lo", "up"])?;
        ip(&["-n", n, "tuntap", "add", "dev", tap, "mode", "tap"])?;
        ip(&["-n", n, "addr", "add", &linux, "dev", tap])?;
        ip(&["-n", n, "link", "set", tap, "up"])?;
        Ok(ns)
    }

    /// Whether a namespace called `name` exists.
    pub fn exists(name: &str) -> bool {
        Command::new("ip")
            .args(["netns", "list"])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| l.split_whitespace().next() == Some(name))
            })
            .unwrap_or(false)
    }

    /// The processes inside the namespace (only ones this test started).
    fn pids(&self) -> Vec<String> {
        Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // A server the child started and could not stop (the child was killed) would
        // keep the namespace alive after `netns del`: end it, by its process id.
        for pid in self.pids() {
            say(&format!("killing process {pid} left in {}", self.name));
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
        }
        let _ = ip(&["-n", &self.name, "link", "del", &self.tap]);
        if let Err(e) = ip(&["netns", "del", &self.name]) {
            say(&format!("could not delete namespace {}: {e}", self.name));
        }
    }
}

/// Runs `ip` with `args`; its stderr is the error.
pub fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {args:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

// ---------------------------------------------------------------------------------------
// Inside the namespace.

/// The real time, as a firmware RTC would give it.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock;
impl UnixClock for SystemClock {
    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// A DNS responder on 192.0.2.1:53, stopped (and joined) on drop.
#[derive(Debug)]
pub struct Dns {
    stop: std::sync::Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Dns {
    /// Binds 192.0.2.1:53 and answers there from a thread.
    pub fn start() -> Self {
        let socket = UdpSocket::bind((core::net::Ipv4Addr::from(LINUX_IP), 53))
            .expect("bind DNS on 192.0.2.1:53");
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || dns_responder(&socket, &flag));
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers A queries for `*.test` with 192.0.2.1 and everything else with NXDOMAIN,
/// until `stop` is set. simple-dns does the wire format.
pub fn dns_responder(socket: &UdpSocket, stop: &AtomicBool) {
    use simple_dns::rdata::{RData, A};
    use simple_dns::{Packet, ResourceRecord, CLASS, QTYPE, RCODE, TYPE};
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("read timeout");
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::SeqCst) {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let Some(Ok(query)) = buf.get(..n).map(Packet::parse) else {
            continue;
        };
        let mut reply = Packet::new_reply(query.id());
        for q in &query.questions {
            reply.questions.push(q.clone());
            let name = q.qname.to_string();
            if q.qtype == QTYPE::TYPE(TYPE::A) && name.trim_end_matches('.').ends_with(".test") {
                reply.answers.push(ResourceRecord::new(
                    q.qname.clone(),
                    CLASS::IN,
                    60,
                    RData::A(A {
                        address: u32::from_be_bytes(LINUX_IP),
                    }),
                ));
            }
        }
        if reply.answers.is_empty() {
            *reply.rcode_mut() = RCODE::NameError;
        }
        if let Ok(bytes) = reply.build_bytes_vec() {
            let _ = socket.send_to(&bytes, from);
        }
    }
}

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, TunTapDevice>) -> ! {
    runner.run().await
}

/// The device's embassy-net configuration: 192.0.2.2/24, no gateway, 192.0.2.1 (the
/// namespace's Linux side) as its DNS server.
pub fn stack_config() -> embassy_net::Config {
    let mut dns_servers = heapless::Vec::new();
    let _ = dns_servers.push(Ipv4Address::from(LINUX_IP));
    embassy_net::Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(Ipv4Address::from(EMBASSY_IP), 24),
        gateway: None,
        dns_servers,
    })
}

/// Starts embassy-net on `device` at 192.0.2.2/24 with 192.0.2.1 as its DNS server,
/// and returns the stack once it is up.
pub async fn start_stack(spawner: Spawner, device: TunTapDevice) -> Stack<'static> {
    static RESOURCES: StaticCell<StackResources<4>> = StaticCell::new();
    let config = stack_config();
    let seed = u64::from_le_bytes(*b"picoauth");
    let (stack, runner) =
        embassy_net::new(device, config, RESOURCES.init(StackResources::new()), seed);
    spawner.spawn(net_task(runner).expect("spawn net task"));
    stack.wait_config_up().await;
    stack
}

/// The line a client task sends last, after its report lines.
pub const DONE: &str = "DONE";

/// Runs an embassy executor on a thread of its own with the TAP device `tap` (inside the
/// namespace), started by `start` (which spawns the client task), and returns the lines
/// the task sends on `results` up to [`DONE`], printing each as it comes when `echo`.
/// Panics when [`DONE`] has not come within `timeout`, with the lines so far and
/// `context()` (e.g. a peer's stderr). The executor is stopped before returning.
pub fn run_client(
    tap: &'static str,
    results: &mpsc::Receiver<String>,
    timeout: Duration,
    echo: bool,
    start: impl FnOnce(Spawner, TunTapDevice) + Send + 'static,
    context: impl Fn() -> String,
) -> Vec<String> {
    let done: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    std::thread::spawn(move || {
        let device = TunTapDevice::new(tap).expect("open the TAP inside the namespace");
        let executor = Box::leak(Box::new(embassy_executor::Executor::new()));
        executor.run_until(
            |spawner| start(spawner, device),
            || done.load(Ordering::SeqCst),
        );
    });
    let started = Instant::now();
    let mut lines = Vec::new();
    loop {
        let left = timeout.saturating_sub(started.elapsed());
        match results.recv_timeout(left) {
            Ok(line) if line == DONE => break,
            Ok(line) => {
                if echo {
                    println!("{line}");
                }
                lines.push(line);
            }
            Err(e) => {
                done.store(true, Ordering::SeqCst);
                panic!(
                    "client task did not finish within {timeout:?}: {e}; so far: {lines:#?}{}",
                    context()
                );
            }
        }
    }
    done.store(true, Ordering::SeqCst);
    lines
}
