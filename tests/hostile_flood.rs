//! A connection flood against the release `stack` example: 2,000 idle
//! keep-alive connections open at once, and the server's peak RSS read
//! from `/proc/PID/status` (`VmHWM`). Long and Linux only, so `#[ignore]`d:
//!
//! ```text
//! cargo build --release --example stack
//! cargo test --test hostile_flood -- --ignored --nocapture
//! ```

#[path = "common/release.rs"]
mod release;

use std::time::{Duration, Instant};

use release::{start, status_kib};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How many idle connections the flood holds open.
const CONNECTIONS: usize = 2000;

/// The bound the issue sets on the stack's peak RSS meanwhile.
const MAX_RSS_KIB: u64 = 128 * 1024;

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
