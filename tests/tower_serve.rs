//! The server as a client sees it on the wire: keep-alive, pipelining,
//! chunked request bodies, `100 Continue`, graceful shutdown, the
//! connection limit, the `Server` header and the header-read timeout.

mod common;

use std::time::Duration;

use common::{
    MODES, STEP, client, demo, get, header_in, raw, read_head, read_response, start, start_with,
};
use gateway::tower::Dispatch;
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn keep_alive_serves_requests_one_after_another_on_one_connection() {
    for mode in MODES {
        let server = start(demo(mode)).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        for _ in 0..3 {
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                .await
                .unwrap();
            let (head, body) = read_response(&mut stream).await;
            assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{mode:?}: {head}");
            assert_eq!(body, b"Hello, World!");
        }
        let env = {
            stream
                .write_all(b"GET /environ HTTP/1.1\r\nHost: t\r\n\r\n")
                .await
                .unwrap();
            read_response(&mut stream).await.1
        };
        let port = stream.local_addr().unwrap().port().to_string();
        let env: serde_json::Value = serde_json::from_slice(&env).unwrap();
        assert_eq!(env["REMOTE_PORT"], port, "REMOTE_PORT is the client's port");
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    for mode in MODES {
        let server = start(demo(mode)).await;
        let two = b"GET /stream?chunks=2&size=3 HTTP/1.1\r\nHost: t\r\n\r\n\
                    POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nsecond\
                    GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
        let answer = String::from_utf8(raw(server.addr, two).await).unwrap();
        let statuses: Vec<_> = answer
            .match_indices("HTTP/1.1 200 OK")
            .map(|(i, _)| i)
            .collect();
        assert_eq!(statuses.len(), 3, "{mode:?}: {answer}");
        let (first, second, third) = (
            &answer[..statuses[1]],
            &answer[statuses[1]..statuses[2]],
            &answer[statuses[2]..],
        );
        assert!(
            first.contains("transfer-encoding: chunked") && first.contains("3\r\nxxx\r\n"),
            "{first}"
        );
        assert!(second.ends_with("\r\n\r\nsecond"), "{second}");
        assert!(third.ends_with("\r\n\r\nHello, World!"), "{third}");
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn chunked_request_bodies_are_read_to_eof_without_a_content_length() {
    for mode in MODES {
        let server = start(demo(mode)).await;
        let request = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                        5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n";
        let answer = String::from_utf8(raw(server.addr, request).await).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 200 OK\r\n"),
            "{mode:?}: {answer}"
        );
        // The app saw no CONTENT_LENGTH (so it declared none), and read to EOF.
        assert_eq!(header_in(&answer, "content-length"), None, "{answer}");
        assert_eq!(header_in(&answer, "transfer-encoding"), Some("chunked"));
        let body = answer.split_once("\r\n\r\n").unwrap().1;
        assert_eq!(body, "B\r\nhello world\r\n0\r\n\r\n");
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn expect_100_continue_gets_its_interim_response() {
    for mode in MODES {
        let server = start(demo(mode)).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\nExpect: 100-continue\r\n\r\n")
            .await
            .unwrap();
        let interim = read_head(&mut stream).await;
        assert!(
            interim.starts_with("HTTP/1.1 100 Continue\r\n"),
            "{mode:?}: {interim}"
        );
        stream.write_all(b"payload").await.unwrap();
        let (head, body) = read_response(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert_eq!(body, b"payload");
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn no_100_continue_for_an_app_that_answers_without_reading() {
    // Blocking dispatch polls the body only when the app reads wsgi.input:
    // `POST /` is refused (405) without reading, so no `100 Continue`.
    let server = start(demo(Dispatch::Blocking)).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\nExpect: 100-continue\r\n\r\n",
        )
        .await
        .unwrap();
    let head = read_head(&mut stream).await;
    assert!(
        head.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
        "{head}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn graceful_shutdown_lets_requests_in_flight_finish() {
    for mode in MODES {
        let server = start(demo(mode)).await;
        let addr = server.addr;
        let c = client();
        // 20 chunks, 20 ms apart: in flight while the server is told to stop.
        let url = server.url("/stream?chunks=20&size=100&delay_ms=20");
        let response = c.request(http::Request::get(url).body(Default::default()).unwrap());
        let response = tokio::time::timeout(STEP, response).await.unwrap().unwrap();
        assert_eq!(response.status(), 200);
        let stopped = tokio::spawn(server.stop());
        let body = tokio::time::timeout(STEP, response.into_body().collect())
            .await
            .unwrap();
        assert_eq!(
            body.expect("the whole body").to_bytes().len(),
            2000,
            "{mode:?}"
        );
        tokio::time::timeout(STEP, stopped)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "the listener is closed"
        );
    }
}

#[tokio::test]
async fn past_the_grace_period_the_connections_left_are_cut_and_serve_says_how_many() {
    // Blocking only: the demo's `/stream` sleeps, which an Inline app must not.
    let mode = Dispatch::Blocking;
    let grace = Duration::from_millis(200);
    let server = start_with(demo(mode), |s| s.grace_period(grace)).await;
    let c = client();
    // 100 chunks, 50 ms apart (5 s): still streaming when the grace ends.
    let url = server.url("/stream?chunks=100&size=10&delay_ms=50");
    let response = c.request(http::Request::get(url).body(Default::default()).unwrap());
    let response = tokio::time::timeout(STEP, response).await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    let stopped = tokio::spawn(server.stop());
    let body = tokio::time::timeout(STEP, response.into_body().collect())
        .await
        .unwrap();
    assert!(body.is_err(), "{mode:?}: the body is cut, not complete");
    let e = tokio::time::timeout(STEP, stopped)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
    let cut = e
        .get_ref()
        .and_then(|e| e.downcast_ref::<gateway::tower::ConnectionsCut>())
        .expect("a ConnectionsCut inside");
    assert_eq!((cut.connections, cut.grace_period), (1, Some(grace)));
    assert_eq!(
        e.to_string(),
        "closed 1 connection still open after the grace period of 200ms"
    );
}

#[tokio::test]
async fn connections_past_the_limit_wait_for_a_place() {
    let server = start_with(demo(Dispatch::Inline), |s| s.max_connections(1)).await;
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    first
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let (_, body) = read_response(&mut first).await;
    assert_eq!(body, b"Hello, World!");
    // The first connection stays open: the second is not served meanwhile.
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    second
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(300), second.read(&mut byte)).await;
    assert!(
        early.is_err(),
        "a second connection was served past max_connections(1)"
    );
    drop(first);
    let answer = common::read_to_close(&mut second).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200 OK"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_server_header_is_configurable_and_date_is_sent() {
    let server = start_with(demo(Dispatch::Inline), |s| s.server_header("gateway-test")).await;
    let answer = get(&client(), &server.url("/")).await;
    assert_eq!(answer.header("server"), Some("gateway-test"));
    assert!(answer.header("date").is_some());
    server.stop().await.unwrap();

    let bad = gateway::tower::Server::bind("127.0.0.1:0")
        .await
        .unwrap()
        .server_header("bad\nvalue");
    let refused = bad.serve(demo(Dispatch::Inline)).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_client_too_slow_to_send_its_head_is_cut_off() {
    let timeout = Duration::from_millis(200);
    let server = start_with(demo(Dispatch::Inline), move |s| {
        s.header_read_timeout(timeout)
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap(); // never finished
    let answer = common::read_to_close(&mut stream).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(!answer.contains("200 OK"), "{answer}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_port_in_use_is_an_error_that_names_the_address() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = taken.local_addr().unwrap();
    let refused = gateway::tower::Server::bind(addr).await.unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::AddrInUse);
    let message = refused.to_string();
    assert!(
        message.starts_with(&format!("cannot listen on {addr}: ")),
        "{message}"
    );
    let by_name = gateway::tower::Server::bind(addr.to_string())
        .await
        .unwrap_err();
    assert!(by_name.to_string().contains(&addr.to_string()), "{by_name}");
    drop(taken);
}
