//! Listeners other than `Server::bind`: a Unix domain socket
//! (`Server::bind_unix`, `Server::from_unix`) spoken to over HTTP/1.1 and
//! HTTP/2 by hyper's client on a tokio `UnixStream`, and a std TCP listener
//! handed over with `Server::from_tcp`.
#![cfg(unix)]

mod common;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use common::{MODES, STEP, client, demo, get};
use gateway::tower::{Endpoint, Server};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::UnixStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "gateway-unix-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `server` serving the demo on a task, stopped by the sender.
fn run(
    server: Server,
    mode: gateway::tower::Dispatch,
) -> (oneshot::Sender<()>, JoinHandle<io::Result<()>>) {
    let (tx, rx) = oneshot::channel::<()>();
    let server = server.handle_signals(false).with_graceful_shutdown(async {
        let _ = rx.await;
    });
    (tx, tokio::spawn(server.serve(demo(mode))))
}

async fn stop(tx: oneshot::Sender<()>, task: JoinHandle<io::Result<()>>) {
    let _ = tx.send(());
    tokio::time::timeout(STEP, task)
        .await
        .expect("the server stops in time")
        .expect("no panic")
        .expect("serve ends Ok");
}

/// `GET path` over HTTP/1.1 on a new connection to the socket at `socket`.
async fn get_h1(socket: &Path, path: &str) -> (http::StatusCode, Bytes) {
    let stream = UnixStream::connect(socket).await.unwrap();
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let request = http::Request::get(path)
        .header("host", "sock.example")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = tokio::time::timeout(STEP, send.send_request(request))
        .await
        .unwrap()
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, body)
}

/// Two requests over one HTTP/2 (prior knowledge) connection to `socket`.
async fn get_h2_twice(socket: &Path, path: &str) -> Vec<(http::StatusCode, http::Version, Bytes)> {
    let stream = UnixStream::connect(socket).await.unwrap();
    let (mut send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut answers = Vec::new();
    for _ in 0..2 {
        let request = http::Request::get(format!("http://sock.example:8080{path}"))
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = tokio::time::timeout(STEP, send.send_request(request))
            .await
            .unwrap()
            .unwrap();
        let (status, version) = (response.status(), response.version());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        answers.push((status, version, body));
    }
    answers
}

#[tokio::test]
async fn a_unix_socket_serves_http1_and_http2_with_no_remote_addr() {
    for mode in MODES {
        let dir = TempDir::new();
        let socket = dir.path("app.sock");
        let server = Server::bind_unix(&socket).unwrap();
        assert_eq!(
            server.local_endpoint().unwrap(),
            Endpoint::Unix(socket.clone())
        );
        assert_eq!(
            server.local_endpoint().unwrap().to_string(),
            format!("unix:{}", socket.display())
        );
        let no_ip = server.local_addr().unwrap_err();
        assert_eq!(no_ip.kind(), io::ErrorKind::Unsupported, "{no_ip}");
        let (tx, task) = run(server, mode);

        let (status, body) = get_h1(&socket, "/").await;
        assert_eq!((status.as_u16(), &body[..]), (200, &b"Hello, World!"[..]));

        let (status, env) = get_h1(&socket, "/environ").await;
        assert_eq!(status, 200);
        let env: serde_json::Value = serde_json::from_slice(&env).unwrap();
        assert!(env.get("REMOTE_ADDR").is_none(), "{mode:?}: {env}");
        assert!(env.get("REMOTE_PORT").is_none(), "{mode:?}: {env}");
        assert_eq!(env["SERVER_NAME"], "sock.example", "{mode:?}");
        assert_eq!(env["SERVER_PORT"], "80", "{mode:?}");

        let h2 = get_h2_twice(&socket, "/environ").await;
        for (status, version, env) in h2 {
            assert_eq!((status.as_u16(), version), (200, http::Version::HTTP_2));
            let env: serde_json::Value = serde_json::from_slice(&env).unwrap();
            assert_eq!(env["SERVER_PROTOCOL"], "HTTP/2", "{mode:?}");
            assert_eq!(env["SERVER_NAME"], "sock.example", "{mode:?}");
            assert_eq!(env["SERVER_PORT"], "8080", "{mode:?}");
            assert!(env.get("REMOTE_ADDR").is_none(), "{mode:?}: {env}");
        }

        stop(tx, task).await;
        assert!(
            !socket.exists(),
            "the socket file is removed once the server is gone"
        );
    }
}

#[tokio::test]
async fn bind_unix_replaces_a_stale_socket_and_refuses_a_live_one_or_a_file() {
    let dir = TempDir::new();
    let socket = dir.path("app.sock");
    // A server that is gone leaves its socket file behind.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());
    let server = Server::bind_unix(&socket).expect("a stale socket is replaced");
    let (tx, task) = run(server, gateway::tower::Dispatch::Inline);

    let live = Server::bind_unix(&socket).unwrap_err();
    assert_eq!(live.kind(), io::ErrorKind::AddrInUse, "{live}");
    assert!(
        live.to_string().contains("a server answers there"),
        "{live}"
    );
    assert!(
        live.to_string().contains(&socket.display().to_string()),
        "{live}"
    );
    // The live server was left alone.
    assert_eq!(get_h1(&socket, "/").await.0, 200);
    stop(tx, task).await;

    let file = dir.path("not-a-socket");
    std::fs::write(&file, b"data").unwrap();
    let refused = Server::bind_unix(&file).unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::AddrInUse, "{refused}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"data",
        "the file is untouched"
    );
}

#[tokio::test]
async fn from_unix_serves_a_listener_the_caller_bound_and_leaves_its_file() {
    let dir = TempDir::new();
    let socket = dir.path("given.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let (tx, task) = run(
        Server::from_unix(listener).unwrap(),
        gateway::tower::Dispatch::Blocking,
    );
    let (status, body) = get_h1(&socket, "/").await;
    assert_eq!((status.as_u16(), &body[..]), (200, &b"Hello, World!"[..]));
    stop(tx, task).await;
    assert!(
        socket.exists(),
        "the caller's file is the caller's to remove"
    );
}

#[tokio::test]
async fn from_tcp_serves_a_std_listener() {
    for mode in MODES {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Server::from_tcp(listener).unwrap();
        assert_eq!(server.local_addr().unwrap(), addr);
        assert_eq!(server.local_endpoint().unwrap(), Endpoint::Tcp(addr));
        let (tx, task) = run(server, mode);
        let client = client();
        let answer = get(&client, &format!("http://{addr}/")).await;
        assert_eq!(answer.status, 200);
        assert_eq!(&answer.body[..], b"Hello, World!");
        let env = get(&client, &format!("http://{addr}/environ")).await;
        let env: serde_json::Value = serde_json::from_slice(&env.body).unwrap();
        assert_eq!(env["REMOTE_ADDR"], "127.0.0.1", "{mode:?}");
        stop(tx, task).await;
    }
}

#[test]
fn from_tcp_outside_a_runtime_is_an_error_not_a_panic() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let e = Server::from_tcp(listener).unwrap_err();
    assert!(e.to_string().contains("tokio runtime"), "{e}");
}
