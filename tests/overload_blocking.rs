//! Overload over a real socket: an app that blocks holds one blocking place
//! only; with every place taken, requests queue up to
//! `AppService::max_queued` and the next one is answered `503` with
//! `Retry-After` at once (never dropped); `AppService::deadline` answers a
//! request whose app does not answer in time (`504`, or `503` while it still
//! waits for a place) and frees the connection for the next request.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::{captured_errors, eventually, header_in, read_response, start};
use gateway::tower::{AppService, RequestInfo};
use gateway::{Body, Environ, Error, StartResponse};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Holds `/block` requests until opened (a test's "forever", released at
/// its end so that no thread outlives it).
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
    /// `/block` requests that entered the app.
    running: AtomicUsize,
}

impl Gate {
    fn wait(&self) {
        self.running.fetch_add(1, Ordering::SeqCst);
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
    }

    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

fn app(
    gate: &Arc<Gate>,
) -> impl Fn(Environ, StartResponse) -> Result<Body, Error> + Send + Sync + 'static {
    let gate = gate.clone();
    move |environ: Environ, sr: StartResponse| {
        if environ.path_info() == b"/block" {
            gate.wait();
        }
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        Ok(Body::from("done"))
    }
}

/// A connection with `GET path` written on it.
async fn send_get(addr: std::net::SocketAddr, path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// The status line of a raw head.
fn status(head: &str) -> &str {
    head.lines().next().unwrap_or("")
}

async fn queue_is_bounded_then_503(service: AppService<impl gateway::App>, gate: Arc<Gate>) {
    let server = start(service).await;
    // Two apps block: both places taken.
    let mut blocked = Vec::new();
    for _ in 0..2 {
        blocked.push(send_get(server.addr, "/block").await);
    }
    eventually("both places are taken", || {
        gate.running.load(Ordering::SeqCst) == 2
    })
    .await;
    // Two wait in the queue.
    let mut queued = Vec::new();
    for _ in 0..2 {
        queued.push(send_get(server.addr, "/ok").await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // One more: refused at once, with Retry-After.
    let started = Instant::now();
    let mut refused = send_get(server.addr, "/ok").await;
    let (head, body) = read_response(&mut refused).await;
    assert!(status(&head).starts_with("HTTP/1.1 503 "), "{head}");
    assert_eq!(header_in(&head, "retry-after"), Some("1"), "{head}");
    assert_eq!(body, b"Service Unavailable\n");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        gate.running.load(Ordering::SeqCst),
        2,
        "one place each, no more"
    );
    // Released: every request that was let in is answered in full.
    gate.open();
    for stream in blocked.iter_mut().chain(queued.iter_mut()) {
        let (head, body) = read_response(stream).await;
        assert!(status(&head).starts_with("HTTP/1.1 200 "), "{head}");
        assert_eq!(body, b"done");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn with_every_place_taken_requests_queue_to_the_bound_then_get_503() {
    let gate = Arc::new(Gate::default());
    let service = AppService::new(app(&gate)).max_blocking(2).max_queued(2);
    queue_is_bounded_then_503(service, gate).await;
}

#[tokio::test]
async fn the_queue_bound_holds_for_a_per_request_policy_too() {
    let gate = Arc::new(Gate::default());
    let service = AppService::new(app(&gate))
        .inline_when(|_: &RequestInfo<'_>| false)
        .max_blocking(2)
        .max_queued(2);
    queue_is_bounded_then_503(service, gate).await;
}

#[tokio::test]
async fn a_deadline_answers_504_and_frees_the_connection() {
    let gate = Arc::new(Gate::default());
    let (errors, lines) = captured_errors();
    let service = AppService::new(app(&gate))
        .deadline(Duration::from_millis(300))
        .errors(errors);
    let server = start(service).await;
    let mut stream = send_get(server.addr, "/block").await;
    let started = Instant::now();
    let (head, _) = read_response(&mut stream).await;
    assert!(status(&head).starts_with("HTTP/1.1 504 "), "{head}");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // The same connection serves the next request.
    stream
        .write_all(b"GET /ok HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let (head, body) = read_response(&mut stream).await;
    assert!(status(&head).starts_with("HTTP/1.1 200 "), "{head}");
    assert_eq!(body, b"done");
    assert!(
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("GET /block") && l.contains("deadline")),
        "{:?}",
        lines.lock().unwrap()
    );
    // The app's thread was still blocked all along: one place held.
    assert_eq!(gate.running.load(Ordering::SeqCst), 1);
    gate.open();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_deadline_passed_waiting_for_a_place_is_a_503() {
    let gate = Arc::new(Gate::default());
    let service = AppService::new(app(&gate))
        .inline_when(|_: &RequestInfo<'_>| false)
        .max_blocking(1)
        .deadline(Duration::from_millis(300));
    let server = start(service).await;
    let mut first = send_get(server.addr, "/block").await;
    eventually("the place is taken", || {
        gate.running.load(Ordering::SeqCst) == 1
    })
    .await;
    let mut second = send_get(server.addr, "/ok").await;
    let (head, _) = read_response(&mut second).await;
    assert!(status(&head).starts_with("HTTP/1.1 503 "), "{head}");
    assert_eq!(header_in(&head, "retry-after"), Some("1"), "{head}");
    let (head, _) = read_response(&mut first).await;
    assert!(status(&head).starts_with("HTTP/1.1 504 "), "{head}");
    gate.open();
    server.stop().await.unwrap();
}
