//! A connection flood against the release `stack` example: 2,000 idle
//! keep-alive connections open at once, and the server's peak RSS read
//! from `/proc/PID/status` (`VmHWM`). Long and Linux only, so `#[ignore]`d:
//!
//! ```text
//! cargo build --release --example stack
//! cargo test --test hostile_flood -- --ignored --nocapture
//! ```

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How many idle connections the flood holds open.
const CONNECTIONS: usize = 2000;

/// The bound the issue sets on the stack's peak RSS meanwhile.
const MAX_RSS_KIB: u64 = 128 * 1024;

/// The release stack, killed when dropped.
struct Stack(Child);

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `target/release/examples/stack`, started on a free loopback port.
fn start() -> (Stack, SocketAddr) {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    let exe = target.join("release/examples/stack");
    assert!(
        exe.is_file(),
        "run `cargo build --release --example stack` first"
    );
    let mut child = Command::new(exe)
        .args(["--addr", "127.0.0.1:0"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the stack starts");
    let stderr = child.stderr.take().unwrap();
    let stack = Stack(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let _ = tx.send(addr);
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the stack listens");
    (stack, addr.parse().expect("an address"))
}

/// A field of `/proc/PID/status`, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc");
    status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .expect("the field")
}

#[tokio::test]
#[ignore = "long: a flood against the release stack (see the module docs)"]
async fn peak_rss_of_the_stack_with_2000_idle_connections() {
    let (stack, addr) = start();
    let pid = stack.0.id();
    let before = status_kib(pid, "VmRSS:");
    let start = Instant::now();
    let mut open = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        // Each served once, then idle on keep-alive.
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 512];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        open.push(s);
    }
    let opened = start.elapsed();
    // Inside the stack's 10 s header-read timeout: all still open.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = status_kib(pid, "VmRSS:");
    let peak = status_kib(pid, "VmHWM:");
    let mut alive = 0;
    for s in &open {
        let mut byte = [0u8; 1];
        if tokio::time::timeout(Duration::from_millis(1), s.peek(&mut byte))
            .await
            .is_err()
        {
            alive += 1;
        }
    }
    println!(
        "{CONNECTIONS} connections opened in {opened:?}, {alive} still open; stack RSS {} KiB \
         before, {rss} KiB with them, peak (VmHWM) {peak} KiB",
        before
    );
    assert_eq!(alive, CONNECTIONS, "every idle connection stays open");
    assert!(peak < MAX_RSS_KIB, "peak RSS {peak} KiB over 128 MiB");
    drop(open);
}
