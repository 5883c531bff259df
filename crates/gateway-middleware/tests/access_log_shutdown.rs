//! A buffered access log behind gateway-tower's `Server`: the graceful
//! shutdown (what SIGTERM and SIGINT start; here its trigger, so the test
//! process keeps its signals) drops the service stack, and the lines still
//! in the buffer reach the writer.

mod common;

use std::time::{Duration, Instant};

use gateway_core::{Body, Environ, Error, Middleware, StartResponse};
use gateway_middleware::access_log::{AccessLog, Buffer, Format};
use gateway_tower::{IntoService, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use common::Lines;

fn hello(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from("bye"))
}

/// One HTTP/1.1 request on its own connection; the response's status line.
async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    response.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_writes_the_buffered_lines() {
    let lines = Lines::default();
    let log = AccessLog::new()
        .format(Format::parse("\"%r\" %>s").unwrap())
        .to_buffered_writer(
            lines.clone(),
            Buffer::new().flush_interval(Duration::from_secs(3600)),
        );
    let app = log.wrap(hello);
    drop(log);

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        Server::from_listener(listener)
            .handle_signals(false)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .serve(app.into_service()),
    );
    assert_eq!(get(addr, "/one").await, "HTTP/1.1 200 OK");
    assert_eq!(get(addr, "/two").await, "HTTP/1.1 200 OK");
    assert_eq!(lines.text(), "", "the lines wait in the buffer");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    // The service is dropped as `serve` returns; allow its last clones a
    // moment to go.
    let deadline = Instant::now() + Duration::from_secs(5);
    while lines.text().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        lines.text(),
        "\"GET /one HTTP/1.1\" 200\n\"GET /two HTTP/1.1\" 200\n"
    );
}
