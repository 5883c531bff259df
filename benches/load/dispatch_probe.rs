//! Probe for `docs/dispatch.md`: can the library choose Inline or Blocking
//! dispatch by itself, safely? Four measurements, printed as a table:
//!
//! 1. What one Inline request costs in process (`AppService` oneshot, the
//!    demo's `/`), with a fixed mode and with an `inline_when` predicate, and
//!    what timing it (two `Instant::now`) would add.
//! 2. The stall: the server on one async thread (as in the load benchmark),
//!    a client asking `/` in a loop while another asks `/stream` (which
//!    sleeps 100 ms in its body) every 250 ms; latency of `/` under Inline
//!    for all, under the `stack` example's predicate, and under an adaptive
//!    policy that runs a path inline until one of its requests was slow.
//! 3. The wedge: an app that waits for a tokio task (a channel fed by
//!    `tokio::spawn`), with a 1 s bound, Inline and Blocking.
//!
//! `cargo run --release --example dispatch-probe`

#[path = "../../examples/demo/mod.rs"]
mod demo;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gateway::tower::{AppService, Dispatch, RequestInfo, Server};
use gateway::{App, Body, Environ, Error, StartResponse};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::ServiceExt;

/// The demo app as a function pointer.
type Demo = fn(Environ, StartResponse) -> Result<Body, Error>;

/// A path is slow when one step of one request (the app's call, one chunk
/// of its body) takes longer than this.
const SLOW: Duration = Duration::from_millis(10);

/// A request of `/` that took this long waited for a `/stream` sleep.
const STALL: Duration = Duration::from_millis(50);

fn main() {
    println!("| measurement | value |\n|---|---|");
    cost_in_process();
    for policy in ["inline", "predicate", "adaptive"] {
        stall(policy);
    }
    wedge(Dispatch::Inline);
    wedge(Dispatch::Blocking);
}

/// 1. ns per Inline request in process, and ns per `Instant::now` pair.
fn cost_in_process() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    const N: u32 = 200_000;
    let per_request = |service: AppService<Demo>| {
        runtime.block_on(async {
            let started = Instant::now();
            for _ in 0..N {
                let request = http::Request::get("/").body(Empty::<Bytes>::new()).unwrap();
                let response = service.clone().oneshot(request).await.unwrap();
                let _ = response.into_body().collect().await;
            }
            started.elapsed().as_nanos() / u128::from(N)
        })
    };
    let demo = demo::app as Demo;
    let fixed = per_request(AppService::new(demo).dispatch(Dispatch::Inline));
    let chosen = per_request(
        AppService::new(demo)
            .inline_when(|r: &RequestInfo<'_>| !r.has_body() && r.path() != "/stream"),
    );
    let blocking = per_request(AppService::new(demo));
    let started = Instant::now();
    let mut sink = Duration::ZERO;
    for _ in 0..N * 10 {
        let a = Instant::now();
        sink += a.elapsed();
    }
    let timing = started.elapsed().as_nanos() / u128::from(N * 10);
    println!("| Inline request in process, fixed mode | {fixed} ns |");
    println!("| Inline request in process, `inline_when` predicate | {chosen} ns |");
    println!("| Blocking request in process | {blocking} ns |");
    println!("| timing one step (`Instant::now` + `elapsed`) | {timing} ns (sum {sink:?}) |");
}

/// The demo app, timed: a path is marked slow when its call or one chunk of
/// its body takes longer than [`SLOW`].
fn timed(slow: Arc<Mutex<HashSet<String>>>) -> impl App {
    move |environ: Environ, sr: StartResponse| -> Result<Body, Error> {
        let path = String::from_utf8_lossy(environ.path_info()).into_owned();
        let started = Instant::now();
        let body = demo::app(environ, sr)?;
        let mark = Marker {
            slow: slow.clone(),
            path,
        };
        mark.check(started);
        let mut body = body;
        Ok(Body::try_iter(std::iter::from_fn(move || {
            let started = Instant::now();
            let chunk = body.next();
            mark.check(started);
            chunk
        })))
    }
}

struct Marker {
    slow: Arc<Mutex<HashSet<String>>>,
    path: String,
}

impl Marker {
    fn check(&self, started: Instant) {
        if started.elapsed() > SLOW {
            self.slow.lock().unwrap().insert(self.path.clone());
        }
    }
}

/// 2. Latency of `/` while `/stream` sleeps, under one policy.
fn stall(policy: &str) {
    let slow = Arc::new(Mutex::new(HashSet::new()));
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let known = slow.clone();
    let policy_name = policy.to_owned();
    let server = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let server = Server::bind("127.0.0.1:0")
                .await
                .expect("bind")
                .handle_signals(false)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                });
            addr_tx.send(server.local_addr().unwrap()).unwrap();
            let app = timed(known.clone());
            let service = match policy_name.as_str() {
                "inline" => AppService::new(app).dispatch(Dispatch::Inline),
                "predicate" => AppService::new(app)
                    .inline_when(|r: &RequestInfo<'_>| !r.has_body() && r.path() != "/stream"),
                _ => AppService::new(app).inline_when(move |r: &RequestInfo<'_>| {
                    !r.has_body() && !known.lock().unwrap().contains(r.path())
                }),
            };
            let _ = server.serve(service).await;
        });
    });
    let addr = addr_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("an address");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let latencies = runtime.block_on(async move {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let slow_client = client.clone();
        let slow_url = format!("http://{addr}/stream?chunks=2&size=1&delay_ms=100");
        let slow_requests = tokio::spawn(async move {
            for _ in 0..8 {
                let request = http::Request::get(&slow_url).body(Full::default()).unwrap();
                if let Ok(Ok(response)) =
                    tokio::time::timeout(Duration::from_secs(10), slow_client.request(request))
                        .await
                {
                    let _ = response.into_body().collect().await;
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        });
        let mut latencies = Vec::new();
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            let request = http::Request::get(format!("http://{addr}/"))
                .body(Full::default())
                .unwrap();
            let started = Instant::now();
            if let Ok(Ok(response)) =
                tokio::time::timeout(Duration::from_secs(10), client.request(request)).await
            {
                let _ = response.into_body().collect().await;
                latencies.push(started.elapsed());
            }
        }
        let _ = slow_requests.await;
        latencies
    });
    let _ = stop_tx.send(());
    let _ = server.join();
    if latencies.is_empty() {
        println!("| `/` during `/stream`, {policy} | no answer at all |");
        return;
    }
    let mut sorted = latencies.clone();
    sorted.sort();
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q) as usize];
    let stalled = sorted.iter().filter(|l| **l > STALL).count();
    println!(
        "| `/` during 8 `/stream` (100 ms sleep), {policy} | {} requests in 2 s; p50 {:?}, p99 {:?}, max {:?}; {stalled} over {STALL:?}; slow paths learnt: {:?} |",
        sorted.len(),
        at(0.5),
        at(0.99),
        at(1.0),
        slow.lock().unwrap()
    );
}

/// 3. An app that waits for a tokio task, bounded by 1 s.
fn wedge(mode: Dispatch) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        let (tx, rx) = std::sync::mpsc::channel();
        tokio::spawn(async move {
            let _ = tx.send("from a task");
        });
        let started = Instant::now();
        let got = rx.recv_timeout(Duration::from_secs(1));
        sr.start("200 OK", ())?;
        Ok(Body::from(format!("{got:?} after {:?}", started.elapsed())))
    };
    let text = runtime.block_on(async move {
        let request = http::Request::get("/").body(Empty::<Bytes>::new()).unwrap();
        let response = AppService::new(app)
            .dispatch(mode)
            .oneshot(request)
            .await
            .unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8_lossy(&body).into_owned()
    });
    println!("| app waiting for a tokio task, {mode:?} | {text} |");
}
