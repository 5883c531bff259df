//! Running out of file descriptors (EMFILE on accept) does not stop the
//! server: it logs the error, pauses, and serves the waiting connection once
//! a descriptor is free.
//!
//! Alone in its own test binary: it lowers the process's descriptor limit
//! (with util-linux `prlimit`) and installs the global log subscriber.
#![cfg(target_os = "linux")]

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::{eventually, start};
use gateway::tower::{AppService, Dispatch};

/// Collects what the log subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// This process's (soft, hard) limit on open files.
fn nofile() -> (String, String) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let mut fields = line["Max open files".len()..].split_whitespace();
    (
        fields.next().unwrap().to_owned(),
        fields.next().unwrap().to_owned(),
    )
}

fn set_nofile(soft: &str, hard: &str) {
    let status = Command::new("prlimit")
        .args([
            "--pid",
            &std::process::id().to_string(),
            &format!("--nofile={soft}:{hard}"),
        ])
        .status()
        .expect("util-linux prlimit");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_errors_do_not_stop_the_server() {
    let log = Captured::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let server = start(AppService::new(common::demo::app).dispatch(Dispatch::Inline)).await;
    let (soft, hard) = nofile();

    // Fill every free descriptor number below the last spare: after that,
    // a limit of `last + 1` leaves no descriptor free at all.
    let mut spares: Vec<File> = (0..64).map(|_| File::open("/dev/null").unwrap()).collect();
    let limit = spares.last().unwrap().as_raw_fd() + 1;
    set_nofile(&limit.to_string(), &hard);

    // One free descriptor: the client's socket takes it; the server's accept fails.
    spares.pop();
    let mut stream = std::net::TcpStream::connect(server.addr).expect("the client socket");
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let seen = log.clone();
    eventually("the accept error is logged", move || {
        String::from_utf8_lossy(&seen.0.lock().unwrap()).contains("accept error")
    })
    .await;

    // A descriptor comes free: the waiting connection is served.
    spares.pop();
    stream.set_read_timeout(Some(common::STEP)).unwrap();
    let answer = tokio::task::spawn_blocking(move || {
        let mut answer = String::new();
        stream.read_to_string(&mut answer).map(|_| answer)
    })
    .await
    .unwrap()
    .expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.ends_with("Hello, World!"));

    drop(spares);
    set_nofile(&soft, &hard);
    server.stop().await.unwrap();
}
