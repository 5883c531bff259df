//! The `cors` example end to end, as a user runs it: the built binary on
//! 127.0.0.1 port 0, spoken to over real sockets. tower-http's `CorsLayer`
//! answers preflights itself and marks every answer, the `413` of
//! `RequestBodyLimitLayer` included; gateway's access log and gzip run
//! inside.
#![cfg(unix)]

mod common;
#[path = "common/example.rs"]
mod example;

use common::{client, send};
use example::Running;
use http::{Method, Request};
use http_body_util::Full;

const ORIGIN: &str = "https://app.example";

fn cors() -> Running {
    Running::start("cors", &[])
}

#[tokio::test]
async fn a_preflight_is_answered_by_cors_without_the_app() {
    let running = cors();
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri(running.url("/echo"))
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .body(Full::default())
        .unwrap();
    let answer = send(&client(), preflight).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN));
    let methods = answer.header("access-control-allow-methods").unwrap();
    assert!(methods.contains("POST"), "{methods}");
    assert_eq!(
        answer.header("access-control-allow-headers"),
        Some("content-type")
    );
    assert!(answer.body.is_empty());
    // The app never saw it: the access log has no line for it.
    let log = String::from_utf8_lossy(&running.stdout_so_far()).into_owned();
    assert!(!log.contains("OPTIONS"), "{log}");
    let exited = running.stop("TERM").await;
    assert!(exited.status.success(), "{exited:?}");
}

#[tokio::test]
async fn a_cross_origin_post_is_echoed_and_logged() {
    let running = cors();
    let post = Request::post(running.url("/echo"))
        .header("origin", ORIGIN)
        .body(Full::new(bytes::Bytes::from_static(b"ping")))
        .unwrap();
    let answer = send(&client(), post).await;
    assert_eq!(
        (answer.status.as_u16(), answer.text().as_str()),
        (200, "ping")
    );
    assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN));
    common::eventually("the access log line", || {
        String::from_utf8_lossy(&running.stdout_so_far()).contains("\"POST /echo HTTP/1.1\" 200 4")
    })
    .await;
    let other = Request::get(running.url("/"))
        .header("origin", "https://elsewhere.example")
        .body(Full::default())
        .unwrap();
    let answer = send(&client(), other).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("access-control-allow-origin"), None);
    running.stop("TERM").await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_cors_headers() {
    let running = cors();
    let big = Request::post(running.url("/echo"))
        .header("origin", ORIGIN)
        .body(Full::new(bytes::Bytes::from(vec![b'x'; 64 * 1024 + 1])))
        .unwrap();
    let answer = send(&client(), big).await;
    assert_eq!(answer.status, 413);
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some(ORIGIN),
        "the 413 is readable by the browser"
    );
    let exact = Request::post(running.url("/echo"))
        .header("origin", ORIGIN)
        .body(Full::new(bytes::Bytes::from(vec![b'y'; 64 * 1024])))
        .unwrap();
    let answer = send(&client(), exact).await;
    assert_eq!(
        (answer.status.as_u16(), answer.body.len()),
        (200, 64 * 1024)
    );
    running.stop("TERM").await;
}

#[tokio::test]
async fn a_port_in_use_names_the_address_and_how_to_pick_another() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    for name in ["cors", "stack"] {
        let exited = Running::run_to_exit(name, &["--addr", &addr], &[]).await;
        assert_eq!(exited.status.code(), Some(1), "{name}: {exited:?}");
        assert!(
            exited
                .stderr
                .contains(&format!("cannot listen on {addr}: "))
                && exited
                    .stderr
                    .contains("pick another with --addr HOST:PORT or GATEWAY_ADDR"),
            "{name}: {}",
            exited.stderr
        );
    }
    drop(taken);
}
