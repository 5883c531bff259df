//! Streaming with bounded memory: a 256 MiB upload echoed back and a
//! 256 MiB download in Blocking mode, checked as they arrive and never held
//! whole; a client that goes away closes the app's body; Inline's body limit.

mod common;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use common::{MODES, STEP, eventually, raw, read_head, start};
use gateway::tower::{AppService, Dispatch};
use gateway::{Body, Environ, Error, StartResponse};
use http_body_util::BodyExt;
use hyper::body::{Frame, SizeHint};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOTAL: u64 = 256 * 1024 * 1024;
/// The pattern's period: byte `i` of the stream is `i % PERIOD`.
const PERIOD: usize = 251;
/// A block of whole periods, about 64 KiB.
const BLOCK: usize = PERIOD * 261;

/// The pattern from offset 0, one period longer than a block.
fn reference() -> Bytes {
    (0..BLOCK + PERIOD)
        .map(|i| (i % PERIOD) as u8)
        .collect::<Vec<u8>>()
        .into()
}

/// A request body made block by block as it is sent: never whole in memory.
struct Pattern {
    block: Bytes,
    left: u64,
}

impl hyper::body::Body for Pattern {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = self.left.min(BLOCK as u64) as usize;
        self.left -= n as u64;
        Poll::Ready(Some(Ok(Frame::data(self.block.slice(..n)))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

/// The peak resident memory of this process so far, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_256_mib_upload_and_download_stream_with_bounded_memory() {
    let server = start(AppService::new(common::demo::app)).await;
    let reference = reference();
    let before = peak_rss();

    // Upload 256 MiB to /echo and check the echo as it streams back.
    let client = Client::builder(TokioExecutor::new()).build_http::<Pattern>();
    let body = Pattern {
        block: reference.slice(..BLOCK),
        left: TOTAL,
    };
    let request = http::Request::post(server.url("/echo")).body(body).unwrap();
    let run = async {
        let response = client.request(request).await.expect("a response");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-length"], TOTAL.to_string());
        let mut body = response.into_body();
        let mut offset = 0u64;
        while let Some(frame) = body.frame().await {
            let data = frame.expect("a frame").into_data().unwrap_or_default();
            for piece in data.chunks(BLOCK) {
                let start = (offset % PERIOD as u64) as usize;
                assert!(
                    piece == &reference[start..start + piece.len()],
                    "bytes differ at {offset}"
                );
                offset += piece.len() as u64;
            }
        }
        assert_eq!(offset, TOTAL);
    };
    tokio::time::timeout(STEP * 10, run)
        .await
        .expect("the upload finishes in time");

    // Download 256 MiB from /stream, checked as it arrives.
    let c = common::client();
    let url = server.url(&format!("/stream?chunks={}&size=65536", TOTAL / 65536));
    let run = async {
        let response = c
            .request(http::Request::get(url).body(Default::default()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        let mut got = 0u64;
        while let Some(frame) = body.frame().await {
            let data = frame.expect("a frame").into_data().unwrap_or_default();
            assert!(data.iter().all(|&b| b == b'x'));
            got += data.len() as u64;
        }
        assert_eq!(got, TOTAL);
    };
    tokio::time::timeout(STEP * 10, run)
        .await
        .expect("the download finishes in time");

    let grown = peak_rss().saturating_sub(before);
    eprintln!(
        "peak resident memory grew by {} KiB over 2 x 256 MiB",
        grown >> 10
    );
    assert!(
        grown < 64 * 1024 * 1024,
        "peak memory grew by {} MiB for 256 MiB streams",
        grown >> 20
    );
    server.stop().await.unwrap();
}

/// An endless body that records when it is closed (dropped).
fn endless(
    closed: Arc<AtomicBool>,
) -> impl Fn(Environ, StartResponse) -> Result<Body, Error> + Send + Sync + 'static {
    move |_: Environ, sr: StartResponse| {
        sr.start("200 OK", [("Content-Type", "application/octet-stream")])?;
        let chunk = Bytes::from(vec![b'z'; 16 * 1024]);
        let flag = closed.clone();
        Ok(Body::iter(std::iter::repeat(chunk))
            .on_close(move || flag.store(true, Ordering::SeqCst)))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_closes_the_app_body() {
    for mode in MODES {
        let closed = Arc::new(AtomicBool::new(false));
        let server = start(AppService::new(endless(closed.clone())).dispatch(mode)).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .unwrap();
        let head = read_head(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        let mut first = [0u8; 1024];
        tokio::time::timeout(STEP, stream.read_exact(&mut first))
            .await
            .unwrap()
            .unwrap();
        assert!(
            !closed.load(Ordering::SeqCst),
            "{mode:?}: the body is still open while read"
        );
        drop(stream);
        eventually(&format!("{mode:?}: the app's body is closed"), || {
            closed.load(Ordering::SeqCst)
        })
        .await;
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn inline_dispatch_refuses_bodies_over_its_limit() {
    let service = AppService::new(common::demo::app)
        .dispatch(Dispatch::Inline)
        .body_limit(1024);
    let server = start(service).await;
    // Announced too large: refused before the body is read (no 100 Continue).
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4096\r\nExpect: 100-continue\r\n\r\n")
        .await
        .unwrap();
    let head = read_head(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 413 Payload Too Large"), "{head}");
    // Chunked, and growing past the limit.
    let mut chunked = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..3 {
        chunked.extend_from_slice(b"200\r\n");
        chunked.extend_from_slice(&[b'a'; 512]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let answer = String::from_utf8(raw(server.addr, &chunked).await).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 413 Payload Too Large"),
        "{answer}"
    );
    // At the limit: served.
    let at_limit = common::request("POST", &server.url("/echo"), vec![b'b'; 1024]);
    assert_eq!(
        common::send(&common::client(), at_limit).await.body.len(),
        1024
    );
    server.stop().await.unwrap();
}
