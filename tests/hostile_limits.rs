//! Hostile clients, over a real socket: request heads past the `Server`'s
//! limits get `414` or `431`, a log line, and a closed connection; the
//! service never sees them.

mod common;

use bytes::Bytes;
use common::{
    assert_status, captured_errors, demo, h2_client, logged, raw, raw_lenient, responses_in, send,
    start_with, status_of,
};
use gateway::tower::{DEFAULT_MAX_HEADER_LINE, DEFAULT_MAX_REQUEST_LINE, Dispatch};
use http_body_util::Full;

/// A GET of `target` with `extra` header lines, then a second, good,
/// request on the same connection (which must not be answered).
fn head(target: &str, extra: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: t\r\n{extra}\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .into_bytes()
}

#[tokio::test]
async fn a_request_line_over_8_kib_is_414_logged_and_closed() {
    let (errors, lines) = captured_errors();
    let server = start_with(demo(Dispatch::Inline), |s| s.error_stream(errors)).await;
    // "GET " + target + " HTTP/1.1" just over the default.
    let long = format!("/{}", "a".repeat(DEFAULT_MAX_REQUEST_LINE - 13));
    let answer = raw(server.addr, &head(&long, "")).await;
    assert_status(&answer, 414);
    assert_eq!(
        responses_in(&answer),
        1,
        "the connection is closed after the 414"
    );
    assert!(logged(&lines, &["414"]), "{lines:?}");
    // One byte shorter is the limit itself: served.
    let fits = format!("/{}", "a".repeat(DEFAULT_MAX_REQUEST_LINE - 14));
    let answer = raw(server.addr, &head(&fits, "Connection: close\r\n")).await;
    assert_eq!(status_of(&answer), Some(404));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_header_line_over_8_kib_is_431_logged_and_closed() {
    let (errors, lines) = captured_errors();
    let server = start_with(demo(Dispatch::Inline), |s| s.error_stream(errors)).await;
    let big = format!("X-Big: {}\r\n", "v".repeat(DEFAULT_MAX_HEADER_LINE));
    let answer = raw(server.addr, &head("/", &big)).await;
    assert_status(&answer, 431);
    assert_eq!(responses_in(&answer), 1);
    assert!(logged(&lines, &["431", "x-big"]), "{lines:?}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_200_kb_header_line_is_431_not_200() {
    let (errors, lines) = captured_errors();
    let server = start_with(demo(Dispatch::Inline), |s| s.error_stream(errors)).await;
    let huge = format!("X-Huge: {}\r\n", "v".repeat(200_000));
    let answer = raw_lenient(server.addr, &head("/", &huge)).await;
    assert_status(&answer, 431);
    assert_eq!(responses_in(&answer), 1);
    assert!(logged(&lines, &["too large"]), "{lines:?}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_whole_head_and_the_field_count_are_capped() {
    let server = start_with(demo(Dispatch::Inline), |s| {
        s.max_head(16 * 1024).max_headers(10).max_header_line(1024)
    })
    .await;
    // 20 lines of 1000 bytes: each under the line limit, 20 KB in all.
    let lines: String = (0..20)
        .map(|i| format!("X-{i:02}: {}\r\n", "v".repeat(994)))
        .collect();
    let answer = raw_lenient(server.addr, &head("/", &lines)).await;
    assert_status(&answer, 431);
    // 11 small fields (Host is one) over max_headers(10).
    let many: String = (0..10).map(|i| format!("X-{i}: v\r\n")).collect();
    let answer = raw(server.addr, &head("/", &many)).await;
    assert_status(&answer, 431);
    assert_eq!(responses_in(&answer), 1);
    // 10 are fine.
    let ten: String = (0..8).map(|i| format!("X-{i}: v\r\n")).collect();
    let answer = raw(
        server.addr,
        &head("/", &format!("{ten}Connection: close\r\n")),
    )
    .await;
    assert_status(&answer, 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn http2_gets_the_same_limits_on_one_stream() {
    let server = start_with(demo(Dispatch::Inline), |s| s).await;
    let client = h2_client();
    let big = "v".repeat(DEFAULT_MAX_HEADER_LINE);
    let request = http::Request::get(server.url("/"))
        .header("x-big", big)
        .body(Full::<Bytes>::default())
        .unwrap();
    let answer = send(&client, request).await;
    assert_eq!(answer.version, http::Version::HTTP_2);
    assert_eq!(answer.status, 431);
    // The connection goes on serving.
    let answer = common::get(&client, &server.url("/")).await;
    assert_eq!(answer.status, 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn http2_header_lists_over_the_whole_head_limit_are_refused() {
    let server = start_with(demo(Dispatch::Inline), |s| s).await;
    let client = h2_client();
    // 40 fields of 1,000 bytes: each line fine, 40 KB in all over 32 KiB.
    let mut request = http::Request::get(server.url("/"));
    for i in 0..40 {
        request = request.header(format!("x-{i:02}"), "v".repeat(990));
    }
    let request = request.body(Full::<Bytes>::default()).unwrap();
    let run = client.request(request);
    let outcome = tokio::time::timeout(common::STEP, run)
        .await
        .expect("an answer in time");
    // h2 answers 431 on that stream (SETTINGS_MAX_HEADER_LIST_SIZE).
    let response = outcome.expect("a response");
    assert_eq!(response.status(), 431);
    let answer = common::get(&client, &server.url("/")).await;
    assert_eq!(answer.status, 200);
    server.stop().await.unwrap();
}
