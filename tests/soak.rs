//! A soak of the release `stack` example: 256 keep-alive connections, each
//! sending requests one after another for 30 s (`SOAK_SECS` says
//! otherwise), over four routes in turn: `GET /` (Inline), `GET /big`
//! (64 KiB, Inline), `GET /stream?chunks=4&size=256` (Blocking, chunked) and
//! `POST /echo` with a 100-byte body (Blocking). Every answer's status and
//! whole body are checked; a connection error, a reset or a wrong byte fails
//! the run. It reports the requests, p50/p99/max latency and the stack's
//! peak RSS (`VmHWM`). Long and Linux only, so `#[ignore]`d:
//!
//! ```text
//! cargo build --release --example stack
//! cargo test --release --test soak -- --ignored --nocapture
//! ```

#[path = "common/release.rs"]
mod release;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use release::{start, status_kib};
use tokio::net::TcpStream;

/// Connections at once.
const CONNECTIONS: usize = 256;

/// The longest one request may take before the run fails.
const STEP: Duration = Duration::from_secs(30);

/// One of the routes, with what its answer must be.
struct Route {
    method: &'static str,
    path: &'static str,
    body: Bytes,
    expected: Bytes,
}

fn routes(big: Bytes) -> Vec<Route> {
    let echo = Bytes::from(vec![b'e'; 100]);
    vec![
        Route {
            method: "GET",
            path: "/",
            body: Bytes::new(),
            expected: Bytes::from_static(b"Hello, World!"),
        },
        Route {
            method: "GET",
            path: "/big",
            body: Bytes::new(),
            expected: big,
        },
        Route {
            method: "GET",
            path: "/stream?chunks=4&size=256",
            body: Bytes::new(),
            expected: Bytes::from(vec![b'x'; 1024]),
        },
        Route {
            method: "POST",
            path: "/echo",
            body: echo.clone(),
            expected: echo,
        },
    ]
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Sender {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).unwrap();
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    send
}

/// One request: its status and whole body, or why it failed.
async fn fetch(send: &mut Sender, route: &Route) -> Result<(u16, Bytes), String> {
    let request = http::Request::builder()
        .method(route.method)
        .uri(route.path)
        .header("host", "soak")
        .body(Full::new(route.body.clone()))
        .unwrap();
    let run = async {
        send.ready().await.map_err(|e| format!("not ready: {e}"))?;
        let response = send
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(STEP, run)
        .await
        .map_err(|_| "no answer in 30 s".to_owned())?
}

/// What one connection did.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    failures: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: 30 s of load against the release stack (see the module docs)"]
async fn the_release_stack_answers_256_connections_for_30_s_without_a_fault() {
    let secs: u64 = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let (stack, addr) = start();
    let pid = stack.0.id();
    let mut probe = connect(addr).await;
    let big = fetch(&mut probe, &routes(Bytes::new())[1]).await.unwrap();
    assert_eq!((big.0, big.1.len()), (200, 64 * 1024));
    let routes = std::sync::Arc::new(routes(big.1));

    let before = status_kib(pid, "VmRSS:");
    let until = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::with_capacity(CONNECTIONS);
    for i in 0..CONNECTIONS {
        let routes = routes.clone();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut send = connect(addr).await;
            let mut n = i;
            while Instant::now() < until {
                let route = &routes[n % routes.len()];
                n += 1;
                let started = Instant::now();
                match fetch(&mut send, route).await {
                    Ok((200, body)) if body == route.expected => {
                        let us = started.elapsed().as_micros();
                        tally
                            .latencies_us
                            .push(u32::try_from(us).unwrap_or(u32::MAX));
                    }
                    Ok((status, body)) => {
                        tally.failures.push(format!(
                            "{} {}: {status}, {} bytes",
                            route.method,
                            route.path,
                            body.len()
                        ));
                    }
                    Err(e) => {
                        tally
                            .failures
                            .push(format!("{} {}: {e}", route.method, route.path));
                        return tally; // the connection is gone
                    }
                }
            }
            tally
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    for task in tasks {
        let tally = task.await.expect("a connection task does not panic");
        latencies.extend(tally.latencies_us);
        failures.extend(tally.failures);
    }
    let peak = status_kib(pid, "VmHWM:");
    let rss = status_kib(pid, "VmRSS:");
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "{CONNECTIONS} connections, {secs} s: {} correct answers ({:.0}/s), {} failures; \
         latency p50 {} us, p99 {} us, max {} us; stack RSS {before} KiB before, \
         {rss} KiB after, peak (VmHWM) {peak} KiB",
        latencies.len(),
        latencies.len() as f64 / secs as f64,
        failures.len(),
        at(0.50),
        at(0.99),
        latencies.last().copied().unwrap_or_default(),
    );
    assert!(
        failures.is_empty(),
        "{:?}",
        &failures[..failures.len().min(20)]
    );
    assert!(!latencies.is_empty());
}
