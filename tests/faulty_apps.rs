//! Faulty apps over a real socket against `Server`: every way an app can
//! break the protocol is a `500` while the head is not out, an aborted
//! response once it is (HTTP/1.1: the connection closes without the final
//! chunk; HTTP/2: the stream is reset), a line on `wsgi.errors` in every
//! case, the app's body closed, and the server goes on serving.
//!
//! The Handler's own tests (`crates/gateway-core/tests/`) check the typed
//! errors one by one; these check what reaches the client.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common::{MODES, STEP, captured_errors, eventually, get, h2_client, raw, start};
use gateway::tower::AppService;
use gateway::{Body, Environ, Error, StartResponse};
use http_body_util::BodyExt;

/// How many bodies were closed.
static CLOSED: AtomicUsize = AtomicUsize::new(0);

/// One fault per path.
fn faulty(environ: Environ, sr: StartResponse) -> Result<Body, Error> {
    let text = [("Content-Type", "text/plain")];
    match std::str::from_utf8(environ.path_info()).unwrap_or("") {
        "/ok" => {
            sr.start("200 OK", text)?;
            Ok(Body::from("fine"))
        }
        "/panic-before" => panic!("before the head"),
        "/panic-after" => {
            sr.start("200 OK", text)?;
            let mut n = 0;
            let chunks = std::iter::from_fn(move || {
                n += 1;
                match n {
                    1 => Some(Bytes::from_static(b"first chunk\n")),
                    _ => panic!("after the head"),
                }
            });
            Ok(Body::iter(chunks).on_close(|| {
                CLOSED.fetch_add(1, Ordering::SeqCst);
            }))
        }
        "/bad-status" => {
            sr.start("OK", text)?;
            Ok(Body::from("never"))
        }
        "/crlf" => {
            sr.start("200 OK", [("X-Injected", "a\r\nSet-Cookie: evil=1")])?;
            Ok(Body::from("never"))
        }
        "/hop-by-hop" => {
            sr.start("200 OK", [("Connection", "close")])?;
            Ok(Body::from("never"))
        }
        "/twice" => {
            sr.start("200 OK", text)?;
            sr.start("404 Not Found", text)?;
            Ok(Body::from("never"))
        }
        "/no-start" => Ok(Body::from("a body without a head")),
        "/overrun" => {
            sr.start("200 OK", [("Content-Length", "4")])?;
            Ok(Body::iter(["abc", "def"]))
        }
        "/underrun" => {
            sr.start("200 OK", [("Content-Length", "10")])?;
            Ok(Body::iter(["abc", "def"]))
        }
        _ => {
            sr.start("404 Not Found", text)?;
            Ok(Body::empty())
        }
    }
}

type Lines = Arc<Mutex<Vec<String>>>;

fn logged(lines: &Lines, path: &str) -> bool {
    lines
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains(&format!("GET {path}")))
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

fn get_closing(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").into_bytes()
}

#[tokio::test]
async fn protocol_faults_before_the_head_are_a_500_and_a_log_line() {
    for mode in MODES {
        let (errors, lines) = captured_errors();
        let server = start(AppService::new(faulty).dispatch(mode).errors(errors)).await;
        for path in [
            "/panic-before",
            "/bad-status",
            "/crlf",
            "/hop-by-hop",
            "/twice",
            "/no-start",
        ] {
            let answer = text(raw(server.addr, &get_closing(path)).await);
            assert!(
                answer.starts_with("HTTP/1.1 500 "),
                "{mode:?} {path}: {answer}"
            );
            assert!(!answer.contains("evil"), "{answer}");
            assert!(!answer.contains("never"), "{answer}");
            assert!(
                logged(&lines, path),
                "{mode:?} {path}: {:?}",
                lines.lock().unwrap()
            );
        }
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn content_length_overrun_is_cut_and_underrun_closes_both_logged() {
    for mode in MODES {
        let (errors, lines) = captured_errors();
        let server = start(AppService::new(faulty).dispatch(mode).errors(errors)).await;
        let over = text(raw(server.addr, &get_closing("/overrun")).await);
        assert!(over.starts_with("HTTP/1.1 200 "), "{over}");
        assert!(
            over.ends_with("\r\n\r\nabcd"),
            "cut at its length: {over:?}"
        );
        let under = text(raw(server.addr, b"GET /underrun HTTP/1.1\r\nHost: t\r\n\r\n").await);
        assert!(under.starts_with("HTTP/1.1 200 "), "{under}");
        assert!(
            under.ends_with("\r\n\r\nabcdef"),
            "short, then closed: {under:?}"
        );
        eventually("both are logged", || {
            logged(&lines, "/overrun") && logged(&lines, "/underrun")
        })
        .await;
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_panic_after_the_head_aborts_closes_the_body_and_the_server_serves_on() {
    for mode in MODES {
        let (errors, lines) = captured_errors();
        let server = start(AppService::new(faulty).dispatch(mode).errors(errors)).await;
        let before = CLOSED.load(Ordering::SeqCst);
        // HTTP/1.1: the head and the first chunk, then a close without `0\r\n\r\n`.
        let answer = text(raw(server.addr, b"GET /panic-after HTTP/1.1\r\nHost: t\r\n\r\n").await);
        assert!(answer.starts_with("HTTP/1.1 200 "), "{mode:?}: {answer}");
        assert!(answer.contains("transfer-encoding: chunked"), "{answer}");
        assert!(answer.contains("first chunk\n"), "{answer}");
        assert!(
            !answer.ends_with("0\r\n\r\n"),
            "{mode:?}: no terminator: {answer:?}"
        );
        eventually("the body is closed", || {
            CLOSED.load(Ordering::SeqCst) > before
        })
        .await;
        assert!(
            logged(&lines, "/panic-after"),
            "{:?}",
            lines.lock().unwrap()
        );
        // HTTP/2: the stream is reset, the client sees an error in the body.
        let h2 = h2_client();
        let request = http::Request::get(server.url("/panic-after"))
            .body(Default::default())
            .unwrap();
        let response = tokio::time::timeout(STEP, h2.request(request))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(response.status(), 200);
        let body = tokio::time::timeout(STEP, response.into_body().collect())
            .await
            .unwrap();
        assert!(body.is_err(), "{mode:?}: the stream is reset, not ended");
        // And the server serves on, on a new connection and on the h2 one.
        assert_eq!(
            get(&common::client(), &server.url("/ok")).await.text(),
            "fine"
        );
        assert_eq!(get(&h2, &server.url("/ok")).await.text(), "fine");
        server.stop().await.unwrap();
    }
}
