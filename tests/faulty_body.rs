//! A client's bad request body is the client's error, over a real socket:
//! a bad chunk size, a truncated chunk or a body shorter than its
//! `Content-Length` is `400` (not `500`), a body over the limit `413`
//! (chunked ones too, mid-stream), a stalled one `408`; the app gets a typed
//! [`gateway::Error`] from `wsgi.input` in both dispatch modes, the line on
//! `wsgi.errors` says whose error it was, and an access log in the app's
//! stack has a line with the status. Over HTTP/2 (h2c) the same holds for
//! a body over the limit (announced, or growing), a stalled one, and a
//! stream the client resets mid-body; the connection serves on.

mod common;

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{MODES, captured_errors, raw, raw_then_eof, read_head, start};
use gateway::tower::{AppService, Dispatch};
use gateway::{Body, Environ, Error, StartResponse};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// What the app got from `wsgi.input`, when it failed.
type Seen = Arc<Mutex<Vec<String>>>;

/// An app that reads its whole body before its head, keeping the error.
fn reader(
    seen: &Seen,
) -> impl Fn(Environ, StartResponse) -> Result<Body, Error> + Send + Sync + 'static {
    let seen = seen.clone();
    move |mut environ: Environ, sr: StartResponse| {
        let mut body = Vec::new();
        if let Err(e) = environ.input().read_to_end(&mut body) {
            let error = Error::from(e);
            seen.lock()
                .unwrap()
                .push(format!("{}: {error}", error.status()));
            return Err(error);
        }
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        Ok(Body::from(body))
    }
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

const CHUNKED: &str = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";

#[tokio::test]
async fn a_bad_chunk_size_is_a_400_reported_as_the_clients() {
    for mode in MODES {
        let seen = Seen::default();
        let (errors, lines) = captured_errors();
        let service = AppService::new(reader(&seen)).dispatch(mode).errors(errors);
        let server = start(service).await;
        let answer = text(
            raw(
                server.addr,
                format!("{CHUNKED}zz\r\nhello\r\n0\r\n\r\n").as_bytes(),
            )
            .await,
        );
        assert!(answer.starts_with("HTTP/1.1 400 "), "{mode:?}: {answer}");
        let lines = lines.lock().unwrap().clone();
        assert!(
            lines
                .iter()
                .any(|l| l.contains("POST /echo") && l.contains("the client's error")),
            "{mode:?}: {lines:?}"
        );
        {
            // Both modes: Inline's app reads the same typed error.
            let seen = seen.lock().unwrap().clone();
            assert!(seen.len() == 1 && seen[0].starts_with("400 "), "{seen:?}");
        }
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_truncated_chunk_then_eof_is_a_400() {
    for mode in MODES {
        let seen = Seen::default();
        let service = AppService::new(reader(&seen)).dispatch(mode);
        let server = start(service).await;
        let answer = text(raw_then_eof(server.addr, format!("{CHUNKED}a\r\nabc").as_bytes()).await);
        assert!(answer.starts_with("HTTP/1.1 400 "), "{mode:?}: {answer:?}");
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_then_eof_is_a_400() {
    for mode in MODES {
        let seen = Seen::default();
        let service = AppService::new(reader(&seen)).dispatch(mode);
        let server = start(service).await;
        let request = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc";
        let answer = text(raw_then_eof(server.addr, request).await);
        assert!(answer.starts_with("HTTP/1.1 400 "), "{mode:?}: {answer:?}");
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn the_demo_echo_streaming_its_body_answers_a_bad_chunk_400() {
    // The head is only final with the first chunk, read from wsgi.input.
    let server = start(common::demo(Dispatch::Blocking)).await;
    let answer = text(raw(server.addr, format!("{CHUNKED}zz\r\n").as_bytes()).await);
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn blocking_dispatch_with_a_body_limit_answers_413_chunked_ones_mid_stream() {
    let seen = Seen::default();
    let service = AppService::new(reader(&seen)).body_limit(1024);
    assert_eq!(service.mode(), Some(Dispatch::Blocking));
    let server = start(service).await;
    // Announced too large: refused at the first read.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4096\r\nExpect: 100-continue\r\n\r\n")
        .await
        .unwrap();
    let head = read_head(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 413 "), "{head}");
    // Chunked, growing past the limit.
    let mut chunked = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..3 {
        chunked.extend_from_slice(b"200\r\n");
        chunked.extend_from_slice(&[b'a'; 512]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let answer = text(raw(server.addr, &chunked).await);
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|s| s.starts_with("413 ")), "{seen:?}");
    // At the limit: served.
    let at_limit = common::request("POST", &server.url("/echo"), vec![b'b'; 1024]);
    assert_eq!(
        common::send(&common::client(), at_limit).await.body.len(),
        1024
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_stalled_body_is_a_408_and_a_typed_error_not_a_hang() {
    for mode in MODES {
        let seen = Seen::default();
        let (errors, lines) = captured_errors();
        let service = AppService::new(reader(&seen))
            .dispatch(mode)
            .errors(errors)
            .body_timeout(Duration::from_millis(200));
        let server = start(service).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            .await
            .unwrap();
        let started = Instant::now();
        let head = read_head(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 408 "), "{mode:?}: {head}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        let lines = lines.lock().unwrap().clone();
        assert!(
            lines.iter().any(|l| l.contains("timed out")),
            "{mode:?}: {lines:?}"
        );
        {
            // Both modes: Inline's app reads the same typed error.
            let seen = seen.lock().unwrap().clone();
            assert!(seen.len() == 1 && seen[0].starts_with("408 "), "{seen:?}");
        }
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_body_stalled_after_the_head_closes_the_connection() {
    // The head and a first chunk are out when the app reads its body.
    let app = |mut environ: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        let mut input = environ.take_input();
        let mut first = true;
        Ok(Body::try_iter(std::iter::from_fn(move || {
            if std::mem::take(&mut first) {
                return Some(Ok(bytes::Bytes::from_static(b"started\n")));
            }
            let mut rest = Vec::new();
            match input.read_to_end(&mut rest) {
                Ok(_) => None,
                Err(e) => Some(Err(Error::from(e))),
            }
        })))
    };
    let service = AppService::new(app).body_timeout(Duration::from_millis(200));
    let server = start(service).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        .await
        .unwrap();
    let answer = text(common::read_to_close(&mut stream).await);
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(answer.contains("started\n"), "{answer}");
    assert!(
        !answer.ends_with("0\r\n\r\n"),
        "the response is cut: {answer:?}"
    );
    server.stop().await.unwrap();
}

/// An access log's output, shared with the test.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn lines(&self) -> Vec<String> {
        text(self.0.lock().unwrap().clone())
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// `app` in `mode`, with a 1 KiB body limit and a 200 ms body timeout.
fn strict<A: gateway::App>(
    app: A,
    mode: Dispatch,
    errors: gateway::core::ErrorStream,
) -> AppService<A> {
    AppService::new(app)
        .dispatch(mode)
        .errors(errors)
        .body_limit(1024)
        .body_timeout(Duration::from_millis(200))
}

#[tokio::test]
async fn every_refused_body_has_its_access_log_line_in_both_modes() {
    let over = |n: usize| {
        let mut chunked = CHUNKED.as_bytes().to_vec();
        for _ in 0..n {
            chunked.extend_from_slice(b"200\r\n");
            chunked.extend_from_slice(&[b'a'; 512]);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        chunked
    };
    let cases: [(&str, Vec<u8>, u16); 4] = [
        (
            "a bad chunk size",
            format!("{CHUNKED}zz\r\n").into_bytes(),
            400,
        ),
        (
            "a Content-Length over the limit",
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4096\r\n\r\n".to_vec(),
            413,
        ),
        ("a chunked body growing past the limit", over(3), 413),
        (
            "a stalled body",
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc".to_vec(),
            408,
        ),
    ];
    for mode in MODES {
        let seen = Seen::default();
        let sink = Sink::default();
        let (errors, _) = captured_errors();
        let app = gateway::Stack::new()
            .with(gateway::middleware::access_log::AccessLog::new().to_writer(sink.clone()))
            .wrap(reader(&seen));
        let service = strict(app, mode, errors);
        let server = start(service).await;
        for (i, (case, request, status)) in cases.iter().enumerate() {
            let mut stream = TcpStream::connect(server.addr).await.unwrap();
            stream.write_all(request).await.unwrap();
            let head = read_head(&mut stream).await;
            assert!(
                head.starts_with(&format!("HTTP/1.1 {status} ")),
                "{mode:?}, {case}: {head}"
            );
            drop(stream);
            let want = format!("\"POST /echo HTTP/1.1\" {status} ");
            common::eventually(&format!("{mode:?}, {case}: an access log line"), || {
                sink.lines().len() == i + 1
            })
            .await;
            let lines = sink.lines();
            assert!(lines[i].contains(&want), "{mode:?}, {case}: {lines:?}");
        }
        let seen = seen.lock().unwrap().clone();
        let statuses: Vec<_> = seen.iter().map(|s| &s[..3]).collect();
        assert_eq!(statuses, ["400", "413", "413", "408"], "{mode:?}: {seen:?}");
        server.stop().await.unwrap();
    }
}

/// A request body fed by the test, frame by frame; an `Err` ends it in
/// error (hyper's client then resets the HTTP/2 stream).
struct Fed(tokio::sync::mpsc::Receiver<Result<bytes::Bytes, std::io::Error>>);

impl hyper::body::Body for Fed {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, std::io::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|next| next.map(|chunk| chunk.map(hyper::body::Frame::data)))
    }
}

/// `POST /echo` over `h2` with a fed body (and `content_length` if given):
/// the sender, and the response's status once it comes (`None` if the
/// stream ended without one).
fn h2_post(
    h2: &mut hyper::client::conn::http2::SendRequest<Fed>,
    content_length: Option<u64>,
) -> (
    tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
    tokio::task::JoinHandle<Option<u16>>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let mut request = http::Request::post("http://t/echo");
    if let Some(n) = content_length {
        request = request.header("content-length", n);
    }
    let response = h2.send_request(request.body(Fed(rx)).unwrap());
    let status = tokio::spawn(async move {
        tokio::time::timeout(common::STEP, response)
            .await
            .expect("an answer or a reset in time")
            .ok()
            .map(|r| r.status().as_u16())
    });
    (tx, status)
}

#[tokio::test]
async fn http2_bodies_over_the_limit_reset_or_stalled_are_the_clients_errors() {
    for mode in MODES {
        let seen = Seen::default();
        let (errors, lines) = captured_errors();
        let service = strict(reader(&seen), mode, errors);
        let server = start(service).await;
        let stream = TcpStream::connect(server.addr).await.unwrap();
        let (mut h2, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .unwrap();
        tokio::spawn(conn);
        let chunk = || Ok(bytes::Bytes::from_static(&[b'a'; 512]));

        // Announced over the limit: 413 before a byte is sent.
        let (tx, status) = h2_post(&mut h2, Some(4096));
        assert_eq!(status.await.unwrap(), Some(413), "{mode:?}: announced");
        drop(tx);

        // No length, growing past the limit mid-stream: 413.
        let (tx, status) = h2_post(&mut h2, None);
        for _ in 0..3 {
            if tx.send(chunk()).await.is_err() {
                break; // the server answered and stopped reading
            }
        }
        assert_eq!(status.await.unwrap(), Some(413), "{mode:?}: growing");
        drop(tx);

        // Stalled after one frame: 408, while the client still holds the body.
        let (tx, status) = h2_post(&mut h2, Some(1000));
        tx.send(chunk()).await.unwrap();
        assert_eq!(status.await.unwrap(), Some(408), "{mode:?}: stalled");
        drop(tx);

        // Reset by the client mid-body: the app reads a client error.
        let (tx, status) = h2_post(&mut h2, Some(1000));
        tx.send(chunk()).await.unwrap();
        tx.send(Err(std::io::Error::other("the client gave up")))
            .await
            .unwrap();
        let _ = status.await.unwrap(); // the stream is gone: no answer to read
        common::eventually(&format!("{mode:?}: the app saw the reset"), || {
            seen.lock().unwrap().len() == 4
        })
        .await;

        // The server goes on, on the same connection.
        let (tx, status) = h2_post(&mut h2, Some(3));
        tx.send(Ok(bytes::Bytes::from_static(b"abc")))
            .await
            .unwrap();
        drop(tx);
        assert_eq!(status.await.unwrap(), Some(200), "{mode:?}: after");

        let seen = seen.lock().unwrap().clone();
        let statuses: Vec<_> = seen.iter().map(|s| &s[..3]).collect();
        assert_eq!(statuses, ["413", "413", "408", "400"], "{mode:?}: {seen:?}");
        let lines = lines.lock().unwrap().clone();
        let clients = lines
            .iter()
            .filter(|l| l.contains("POST /echo") && l.contains("the client's error"))
            .count();
        assert_eq!(clients, 4, "{mode:?}: {lines:?}");
        server.stop().await.unwrap();
    }
}
