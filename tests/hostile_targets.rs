//! Hostile clients, over a real socket: request targets in a form their
//! method does not take, a missing, repeated or contradicting `Host`,
//! singleton fields sent twice with different values, header names with
//! `_`, and obsolete line folding. Each refused one is `400`, logged, and
//! never reaches the app.

mod common;

use common::{captured_errors, demo, raw, start_with, status_of};
use gateway::tower::Dispatch;

/// The status of one request sent alone on a connection, and its body.
async fn status(addr: std::net::SocketAddr, request: &str) -> (Option<u16>, String) {
    let answer = raw(addr, request.as_bytes()).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    (status_of(&answer), text)
}

#[tokio::test]
async fn targets_in_the_wrong_form_are_400() {
    let (errors, lines) = captured_errors();
    let server = start_with(demo(Dispatch::Inline), |s| s.error_stream(errors)).await;
    for request in [
        "GET * HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        "CONNECT / HTTP/1.1\r\nHost: t\r\n\r\n",
    ] {
        let (code, text) = status(server.addr, request).await;
        assert_eq!(code, Some(400), "{request:?}: {text}");
        assert!(text.contains("form"), "a short reason: {text}");
    }
    assert_eq!(
        lines.lock().unwrap().len(),
        3,
        "one log line each: {lines:?}"
    );
    // OPTIONS * reaches the app, which answers as it likes.
    let (code, _) = status(
        server.addr,
        "OPTIONS * HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_ne!(code, Some(400));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn one_host_and_the_same_as_an_absolute_target() {
    let server = start_with(demo(Dispatch::Inline), |s| s).await;
    for request in [
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n",
    ] {
        let (code, text) = status(server.addr, request).await;
        assert_eq!(code, Some(400), "{request:?}: {text}");
        assert!(text.contains("Host"), "{text}");
    }
    let (code, text) = status(
        server.addr,
        "GET http://a/environ HTTP/1.1\r\nHost: A:80\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(code, Some(200), "{text}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn singletons_twice_with_different_values_are_400() {
    let server = start_with(demo(Dispatch::Inline), |s| s).await;
    for request in [
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: a/b\r\nContent-Type: c/d\r\nContent-Length: 0\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    ] {
        let (code, text) = status(server.addr, request).await;
        assert_eq!(code, Some(400), "{request:?}: {text}");
    }
    // The same value twice is one value.
    let (code, text) = status(
        server.addr,
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: a/b\r\nContent-Type: a/b\r\n\
         Content-Length: 2\r\nConnection: close\r\n\r\nok",
    )
    .await;
    assert_eq!(code, Some(200), "{text}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn header_names_with_underscores_never_become_http_vars() {
    let server = start_with(demo(Dispatch::Inline), |s| s).await;
    let (code, text) = status(
        server.addr,
        "GET /environ HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: good\r\nX_Forwarded_For: evil\r\n\
         Connection: close\r\n\r\n",
    )
    .await;
    assert_eq!(code, Some(200), "{text}");
    assert!(
        text.contains("\"HTTP_X_FORWARDED_FOR\": \"good\""),
        "{text}"
    );
    assert!(!text.contains("evil"), "{text}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn obsolete_line_folding_is_400() {
    let (errors, lines) = captured_errors();
    let server = start_with(demo(Dispatch::Inline), |s| s.error_stream(errors)).await;
    let (code, text) = status(
        server.addr,
        "GET /environ HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n b\r\n\r\n",
    )
    .await;
    assert_eq!(code, Some(400), "{text}");
    assert!(!text.contains("X_FOLDED"), "{text}");
    assert_eq!(lines.lock().unwrap().len(), 1, "{lines:?}");
    server.stop().await.unwrap();
}
