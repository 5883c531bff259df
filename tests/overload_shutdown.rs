//! Graceful shutdown under load, on the `stack` example as a user runs it:
//! several connections each with a request in flight when SIGTERM comes;
//! every one completes with its whole body within the grace period, no
//! connection is accepted after, the process exits 0, and the access log
//! has one line per answer. Past a short grace period, the requests still
//! streaming are cut (their connections closed before the chunked body's
//! end), the others complete, and the exit status (3) says so. Requests
//! sent are counted against full answers received.
//!
//! Also through the stack: a client's bad request body is logged as a
//! `400` (the client's error), not a `500`.
#![cfg(unix)]

mod common;
#[path = "common/example.rs"]
mod example;

use std::time::Duration;

use common::{STEP, header_in, read_head};
use example::Running;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Connections kept busy at once.
const CONNECTIONS: usize = 6;
/// Quick requests each connection completes before the slow one.
const BEFORE: usize = 2;
/// The slow request in flight at SIGTERM: 5 chunks of 10 bytes, 100 ms apart.
const SLOW: &str = "/stream?chunks=5&size=10&delay_ms=100";
const QUICK: &str = "/stream?chunks=2&size=10&delay_ms=1";

/// Read a chunked body to its terminator (bounded): the body, or `None`
/// when the connection ended first.
async fn read_chunked(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let run = async {
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(body) = dechunk(&raw) {
                return Some(body);
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(STEP, run)
        .await
        .expect("a body in time")
}

/// The body of a whole chunked encoding, if `raw` holds all of it.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..end]).ok()?.trim(), 16).ok()?;
        raw = &raw[end + 2..];
        if size == 0 {
            return raw.starts_with(b"\r\n").then_some(body);
        }
        if raw.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

async fn send(stream: &mut TcpStream, path: &str) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
}

/// `CONNECTIONS` connections to `addr`, each after `quick` full answers
/// to `QUICK`; with the count of requests sent (each answered in full).
async fn connections_after_quick(
    addr: std::net::SocketAddr,
    quick: usize,
) -> (Vec<TcpStream>, usize) {
    let mut streams = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        for _ in 0..quick {
            send(&mut stream, QUICK).await;
            let head = read_head(&mut stream).await;
            assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
            assert_eq!(read_chunked(&mut stream).await.unwrap(), b"x".repeat(20));
        }
        streams.push(stream);
    }
    (streams, CONNECTIONS * quick)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_completes_every_request_in_flight_and_logs_each() {
    let running = Running::start("stack", &[("GATEWAY_GRACE_PERIOD", "20")]);
    let (mut streams, mut sent) = connections_after_quick(running.addr, BEFORE).await;
    let mut full = sent;
    // A slow request in flight on every connection: its head (with the
    // first chunk) is in.
    for stream in &mut streams {
        send(stream, SLOW).await;
        sent += 1;
    }
    let mut heads = Vec::new();
    for stream in &mut streams {
        heads.push(read_head(stream).await);
    }
    running.signal("TERM");
    // Draining: no new connection is accepted (the listener is closed).
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        TcpStream::connect(running.addr).await.is_err(),
        "a connection was accepted after SIGTERM"
    );
    for (stream, head) in streams.iter_mut().zip(&heads) {
        assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
        assert_eq!(header_in(head, "transfer-encoding"), Some("chunked"));
        let body = read_chunked(stream).await.expect("the whole body, not cut");
        assert_eq!(body, b"x".repeat(50));
        full += 1;
    }
    // The connections close after their last answer.
    for stream in &mut streams {
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(STEP, stream.read_to_end(&mut rest)).await;
        assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    }
    assert_eq!(sent, CONNECTIONS * (BEFORE + 1));
    assert_eq!(full, sent, "every request sent got its full answer");
    drop(streams);
    let exited = running.exited().await;
    assert_eq!(exited.status.code(), Some(0), "{exited:?}");
    let log = String::from_utf8_lossy(&exited.stdout);
    let quick = log
        .matches(&format!("\"GET {QUICK} HTTP/1.1\" 200 20 "))
        .count();
    let slow = log
        .matches(&format!("\"GET {SLOW} HTTP/1.1\" 200 50 "))
        .count();
    assert_eq!((quick, slow), (CONNECTIONS * BEFORE, CONNECTIONS), "{log}");
    assert_eq!(log.lines().count(), full, "one line per answer: {log}");
    eprintln!(
        "sent {sent}, full answers {full}, access log lines {}",
        log.lines().count()
    );
}

/// Streams still running past the grace period: 60 chunks, 100 ms apart.
const ENDLESS: &str = "/stream?chunks=60&size=10&delay_ms=100";
/// A short grace period for the stack.
const SHORT_GRACE: &str = "0.4";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_grace_period_streams_are_cut_the_rest_complete_and_the_exit_status_says_so() {
    let running = Running::start("stack", &[("GATEWAY_GRACE_PERIOD", SHORT_GRACE)]);
    let (mut streams, mut sent) = connections_after_quick(running.addr, 1).await;
    let mut full = sent;
    // Half the connections start a 6 s stream, the others one that ends
    // well within the grace period.
    let (endless, quick) = streams.split_at_mut(CONNECTIONS / 2);
    for stream in endless.iter_mut() {
        send(stream, ENDLESS).await;
        sent += 1;
    }
    for stream in quick.iter_mut() {
        send(stream, QUICK).await;
        sent += 1;
    }
    for stream in endless.iter_mut() {
        let head = read_head(stream).await;
        assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    }
    running.signal("TERM");
    let mut cut = 0;
    for stream in quick.iter_mut() {
        let head = read_head(stream).await;
        assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
        assert_eq!(read_chunked(stream).await.unwrap(), b"x".repeat(20));
        full += 1;
    }
    for stream in endless.iter_mut() {
        // The connection ends before the body's terminator: cut.
        match read_chunked(stream).await {
            Some(body) => panic!("a 6 s stream completed ({} bytes)", body.len()),
            None => cut += 1,
        }
    }
    assert_eq!(sent, CONNECTIONS * 2);
    assert_eq!((full, cut), (sent - CONNECTIONS / 2, CONNECTIONS / 2));
    drop(streams);
    let exited = running.exited().await;
    assert_eq!(exited.status.code(), Some(3), "{exited:?}");
    assert!(
        exited.stderr.contains(&format!(
            "closed {} connections still open after the grace period of 400ms",
            CONNECTIONS / 2
        )),
        "{}",
        exited.stderr
    );
    // Every completed request is in the access log.
    let log = String::from_utf8_lossy(&exited.stdout);
    let quick_lines = log
        .matches(&format!("\"GET {QUICK} HTTP/1.1\" 200 20 "))
        .count();
    assert_eq!(quick_lines, full, "{log}");
    eprintln!(
        "sent {sent}, full answers {full}, cut {cut}, access log lines {}",
        log.lines().count()
    );
}

#[tokio::test]
async fn a_bad_chunk_size_is_logged_400_by_the_stack() {
    let running = Running::start("stack", &[]);
    let request = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    let answer = String::from_utf8_lossy(&common::raw(running.addr, request).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    let exited = running.stop("TERM").await;
    assert_eq!(exited.status.code(), Some(0), "{exited:?}");
    let log = String::from_utf8_lossy(&exited.stdout);
    assert!(log.contains("\"POST /echo HTTP/1.1\" 400 "), "{log}");
    assert!(!log.contains("\" 500 "), "{log}");
    assert!(
        exited.stderr.contains("the client's error"),
        "{}",
        exited.stderr
    );
}
