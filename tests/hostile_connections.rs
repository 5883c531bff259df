//! Hostile clients, over a real socket: a head trickled in slower than the
//! header-read timeout is cut off in bounded time, and a flood of
//! connections past `max_connections` waits for a place, each then served.

mod common;

use std::time::{Duration, Instant};

use common::{demo, read_to_close, start_with, status_of};
use gateway::tower::Dispatch;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn a_head_sent_one_byte_at_a_time_is_cut_off_at_the_timeout() {
    let timeout = Duration::from_millis(300);
    let server = start_with(demo(Dispatch::Inline), move |s| {
        s.header_read_timeout(timeout)
    })
    .await;
    let head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: loris-loris-loris\r\n\r\n";
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let start = Instant::now();
    // One byte every 50 ms: the whole head would take ~2.7 s.
    let trickle = tokio::spawn(async move {
        for byte in head {
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), reader.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection");
    let took = start.elapsed();
    trickle.abort();
    assert!(
        took < Duration::from_millis(1500),
        "cut off after {took:?}, not near the 300 ms timeout"
    );
    assert!(took >= timeout, "cut off before the timeout: {took:?}");
    let status = status_of(&answer);
    assert!(matches!(status, None | Some(408)), "{status:?}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn connections_past_the_bound_wait_then_are_all_served() {
    let server = start_with(demo(Dispatch::Inline), |s| s.max_connections(2)).await;
    // Two idle connections hold both places (served once, kept alive).
    let mut holders = Vec::new();
    for _ in 0..2 {
        let mut idle = TcpStream::connect(server.addr).await.unwrap();
        idle.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .unwrap();
        let (head, _) = common::read_response(&mut idle).await;
        assert!(head.starts_with("HTTP/1.1 200"));
        holders.push(idle);
    }
    // A flood of 20 more: connected (the listen queue), not served meanwhile.
    let mut flood = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        flood.push(s);
    }
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(300), flood[0].read(&mut byte)).await;
    assert!(early.is_err(), "served past max_connections(2)");
    drop(holders);
    // Every waiting connection then gets its whole answer: none reset.
    for mut s in flood {
        let answer = read_to_close(&mut s).await;
        assert_eq!(
            status_of(&answer),
            Some(200),
            "{:?}",
            String::from_utf8_lossy(&answer)
        );
        assert!(answer.ends_with(b"Hello, World!"));
    }
    server.stop().await.unwrap();
}
