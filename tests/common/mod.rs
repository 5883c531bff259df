//! Helpers shared by the `tower_*` tests: a real server on 127.0.0.1 port 0,
//! hyper clients (HTTP/1.1 and HTTP/2 prior knowledge), and a raw socket
//! for what a client library hides (pipelining, `100 Continue`, aborts).
#![allow(dead_code, unreachable_pub)]

/// The demo app of the examples, shared by the tests.
#[path = "../../examples/demo/mod.rs"]
pub mod demo;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use gateway::core::BoxError;
use gateway::tower::{AppService, Dispatch, Server};
use gateway::{Body, Environ, Error, StartResponse};
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The longest any one step of a test may take.
pub const STEP: Duration = Duration::from_secs(30);

/// Both dispatch modes, for tests that hold for each.
pub const MODES: [Dispatch; 2] = [Dispatch::Blocking, Dispatch::Inline];

/// The demo app's type, as a function pointer.
pub type Demo = fn(Environ, StartResponse) -> Result<Body, Error>;

/// The demo app as a service with the given dispatch mode.
pub fn demo(mode: Dispatch) -> AppService<Demo> {
    AppService::new(demo::app as Demo).dispatch(mode)
}

/// A server running on a task, stopped gracefully by [`TestServer::stop`].
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

/// Serve `service` on 127.0.0.1, a free port, without signal handling.
pub async fn start<S, B>(service: S) -> TestServer
where
    S: tower::Service<http::Request<Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    start_with(service, |server| server).await
}

/// As [`start`], with the server's settings changed by `configure`.
pub async fn start_with<S, B>(service: S, configure: impl FnOnce(Server) -> Server) -> TestServer
where
    S: tower::Service<http::Request<Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let (tx, rx) = oneshot::channel::<()>();
    let server = Server::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let server = configure(server.handle_signals(false)).with_graceful_shutdown(async {
        let _ = rx.await;
    });
    let addr = server.local_addr().unwrap();
    let task = tokio::spawn(server.serve(service));
    TestServer {
        addr,
        stop: Some(tx),
        task,
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Ask for a graceful shutdown, and wait (bounded) for `serve` to return.
    pub async fn stop(mut self) -> io::Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(STEP, &mut self.task)
            .await
            .expect("the server stops in time")
            .expect("the server task does not panic")
    }
}

/// An HTTP/1.1 client.
pub fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// An HTTP/2 client with prior knowledge (h2c).
pub fn h2_client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http()
}

/// A whole response.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub version: http::Version,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// Send `request` and read the whole answer (bounded in time).
pub async fn send(
    client: &Client<HttpConnector, Full<Bytes>>,
    request: http::Request<Full<Bytes>>,
) -> Answer {
    let run = async {
        let response = client.request(request).await.expect("a response");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("a whole body").to_bytes();
        Answer {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            body,
        }
    };
    tokio::time::timeout(STEP, run)
        .await
        .expect("the answer comes in time")
}

/// `GET url`.
pub async fn get(client: &Client<HttpConnector, Full<Bytes>>, url: &str) -> Answer {
    send(
        client,
        http::Request::get(url).body(Full::default()).unwrap(),
    )
    .await
}

/// A request of any method with a body.
pub fn request(method: &str, url: &str, body: impl Into<Bytes>) -> http::Request<Full<Bytes>> {
    http::Request::builder()
        .method(method)
        .uri(url)
        .body(Full::new(body.into()))
        .unwrap()
}

/// Write `bytes` on a new connection and read until the server closes it.
pub async fn raw(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.unwrap();
    read_to_close(&mut stream).await
}

/// Read until the server closes the connection (bounded in time).
pub async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    // A reset after the data is a close too: the result is what was read.
    let _ = tokio::time::timeout(STEP, stream.read_to_end(&mut out))
        .await
        .expect("the server closes in time");
    out
}

/// Read one response head (up to the blank line) from `stream`.
pub async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    let run = async {
        while !head.ends_with(b"\r\n\r\n") {
            let n = stream.read(&mut byte).await.expect("read");
            assert!(
                n == 1,
                "the connection closed inside a head: {:?}",
                String::from_utf8_lossy(&head)
            );
            head.push(byte[0]);
        }
    };
    tokio::time::timeout(STEP, run)
        .await
        .expect("a head in time");
    String::from_utf8(head).expect("an ASCII head")
}

/// Read one response (head, then a Content-Length body) from `stream`.
pub async fn read_response(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let head = read_head(stream).await;
    let len = header_in(&head, "content-length").map_or(0, |v| v.parse::<usize>().unwrap());
    let mut body = vec![0; len];
    tokio::time::timeout(STEP, stream.read_exact(&mut body))
        .await
        .expect("a body in time")
        .unwrap();
    (head, body)
}

/// A header's value in a raw head (names matched case-insensitively).
pub fn header_in<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Wait (bounded) until `check` holds, polling every 10 ms.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..3000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}: not within 30 s");
}

/// A `wsgi.errors` that keeps every line, and the lines so far.
pub fn captured_errors() -> (
    gateway::core::ErrorStream,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = lines.clone();
    let errors = gateway::core::ErrorStream::to_fn(move |line| {
        sink.lock().unwrap().push(line.to_owned());
    });
    (errors, lines)
}

/// Write `bytes` on a new connection, close the writing half (the server
/// reads EOF), and read until the server closes the connection.
pub async fn raw_then_eof(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.unwrap();
    stream.shutdown().await.unwrap();
    read_to_close(&mut stream).await
}

/// As [`raw`], but a write the server cuts short is no failure: the
/// answer is what was read before the server closed the connection.
pub async fn raw_lenient(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let _ = tokio::time::timeout(STEP, stream.write_all(bytes)).await;
    read_to_close(&mut stream).await
}

/// The status code of the first response in `answer`, if it has one.
pub fn status_of(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// How many responses `answer` holds (counted by their status lines).
pub fn responses_in(answer: &[u8]) -> usize {
    answer.windows(9).filter(|w| w == b"HTTP/1.1 ").count()
}

/// Assert that `answer` begins with a response of `status`, showing the
/// whole answer when it does not.
pub fn assert_status(answer: &[u8], status: u16) {
    assert_eq!(
        status_of(answer),
        Some(status),
        "{}",
        String::from_utf8_lossy(answer)
    );
}

/// `true` when one of the captured `lines` holds every one of `needles`.
pub fn logged(lines: &std::sync::Mutex<Vec<String>>, needles: &[&str]) -> bool {
    lines
        .lock()
        .unwrap()
        .iter()
        .any(|l| needles.iter().all(|n| l.contains(n)))
}
