//! A Python app over a real socket: `gateway_tower::{AppService, Server}` on
//! 127.0.0.1:0 with gateway's Rust Gzip in front, the app validated by
//! wsgiref. Also: the GIL is not held while `wsgi.input` waits for a client,
//! `close()` runs when the client goes away mid-download, and a blocking
//! thread keeps its Python thread state (a `threading.local`) between requests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gateway_core::Middleware;
use gateway_middleware::gzip::Gzip;
use gateway_python::PyApp;
use gateway_tower::{AppService, Server};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use pyo3::prelude::*;

const APPS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/python");

fn app(name: &str, validate: bool) -> PyApp {
    Python::attach(|py| {
        let path = py.import("sys").unwrap().getattr("path").unwrap();
        if !path.contains(APPS).unwrap() {
            path.call_method1("insert", (0, APPS)).unwrap();
        }
        let mut app = py.import("wsgi_apps").unwrap().getattr(name).unwrap();
        if validate {
            let validator = py
                .import("wsgiref.validate")
                .unwrap()
                .getattr("validator")
                .unwrap();
            app = validator.call1((app,)).unwrap();
        }
        PyApp::new(app.unbind())
    })
}

async fn serve(app: PyApp) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = Server::bind("127.0.0.1:0")
        .await
        .unwrap()
        .handle_signals(false)
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
    let addr = server.local_addr().unwrap();
    let service = AppService::new(Gzip::new().wrap(app));
    tokio::spawn(server.serve(service));
    (addr, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_app_behind_rust_gzip_over_a_socket() {
    let (addr, stop) = serve(app("big", true)).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let request = http::Request::get(format!("http://{addr}/"))
        .header("accept-encoding", "gzip")
        .body(Empty::new())
        .unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "gateway python ".repeat(4096));
    assert!(body.len() < text.len() / 10);
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gil_is_released_while_wsgi_input_waits_for_the_client() {
    let (slow_addr, stop_slow) = serve(app("slow_upload", true)).await;
    let (addr, stop) = serve(app("hello", true)).await;
    let result = tokio::task::spawn_blocking(move || {
        // A POST whose body comes late: its app waits in wsgi.input.read().
        let mut slow = TcpStream::connect(slow_addr).unwrap();
        slow.write_all(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nab",
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        // Meanwhile another Python app answers at once.
        let started = Instant::now();
        let mut fast = TcpStream::connect(addr).unwrap();
        // Were the GIL held across the slow read, this would never answer.
        fast.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        fast.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        fast.read_to_string(&mut answer).unwrap();
        let waited = started.elapsed();
        slow.write_all(b"cd").unwrap();
        let mut slow_answer = String::new();
        slow.read_to_string(&mut slow_answer).unwrap();
        (answer, waited, slow_answer)
    })
    .await
    .unwrap();
    let (answer, waited, slow_answer) = result;
    assert!(answer.contains("Hello, World!"), "{answer}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    assert!(slow_answer.contains("got abcd"), "{slow_answer}");
    let _ = stop.send(());
    let _ = stop_slow.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_runs_when_the_client_goes_mid_download() {
    let (addr, stop) = serve(app("endless", true)).await;
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut buf = [0; 65536];
        let _ = stream.read(&mut buf).unwrap();
        // Gone, mid-body.
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let closed: Vec<String> = Python::attach(|py| {
            let module = py.import("wsgi_apps").unwrap();
            module.getattr("CLOSED").unwrap().extract().unwrap()
        });
        if closed.contains(&"socket-gone".to_owned()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "close() was not called: {closed:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_thread_keeps_its_python_thread_state_between_requests() {
    // A `threading.local` lives in the Python thread state: were one made
    // and freed per request (PyGILState_Ensure on a thread without one),
    // every request would count 1. With one state per blocking thread, 20
    // requests on the few threads of the pool reach 2 on one of them.
    let app = Python::attach(|py| {
        let code = c"import threading\nlocal = threading.local()\ndef app(environ, start_response):\n    local.n = getattr(local, 'n', 0) + 1\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [str(local.n).encode()]\n";
        let module = pyo3::types::PyModule::from_code(py, code, c"local.py", c"local").unwrap();
        PyApp::new(module.getattr("app").unwrap().unbind())
    });
    let (addr, stop) = serve(app).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut counts = Vec::new();
    for _ in 0..20 {
        let request = http::Request::get(format!("http://{addr}/"))
            .body(Empty::new())
            .unwrap();
        let response = client.request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        counts.push(std::str::from_utf8(&body).unwrap().parse::<u32>().unwrap());
    }
    assert!(counts.iter().any(|&n| n >= 2), "{counts:?}");
    let _ = stop.send(());
}
