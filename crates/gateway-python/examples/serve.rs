//! Serve a Python WSGI app over HTTP/1.1 and HTTP/2, optionally behind
//! gateway's Rust Gzip: the smallest server on `PyApp` (the real CLI is a
//! later step, see docs/python.md).
//!
//! ```text
//! cargo run --release -p gateway-python --example serve -- hello:application 127.0.0.1:8000 [--gzip] [--threads N]
//! ```
//!
//! The module is looked up on `sys.path`, which starts with the current
//! directory and `examples/python`.

use gateway_core::{Body, Either, Environ, Error, Middleware, StartResponse};
use gateway_middleware::gzip::Gzip;
use gateway_python::PyApp;
use gateway_tower::{AppService, Server};
use pyo3::prelude::*;

fn rust_hello(_: Environ, start_response: StartResponse) -> Result<Body, Error> {
    start_response.start("200 OK", [("Content-Type", "text/plain; charset=utf-8")])?;
    Ok(Body::from("Hello, World!\n"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let spec = args.first().map_or("hello:application", String::as_str);
    let addr = args.get(1).map_or("127.0.0.1:8000", String::as_str);
    let gzip = args.iter().any(|a| a == "--gzip");
    // `--threads N`: how many requests run the app at once (the GIL lets
    // one run Python at a time; the others wait for the client or the GIL).
    let threads = args
        .iter()
        .position(|a| a == "--threads")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(gateway_tower::DEFAULT_MAX_BLOCKING);
    Python::attach(|py| -> PyResult<()> {
        let path = py.import("sys")?.getattr("path")?;
        path.call_method1("insert", (0, "."))?;
        let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/python");
        path.call_method1("insert", (1, examples))?;
        Ok(())
    })?;
    // `rust:hello` is the same hello in Rust, for a baseline of the server.
    let app = if spec == "rust:hello" {
        Either::Left(rust_hello)
    } else {
        Either::Right(PyApp::import(spec)?)
    };
    let app = if gzip {
        Either::Left(Gzip::new().wrap(app))
    } else {
        Either::Right(app)
    };
    let server = Server::bind(addr).await?.server_header("gateway");
    eprintln!("serving {spec} on http://{}", server.local_addr()?);
    server
        .serve(AppService::new(app).max_blocking(threads))
        .await?;
    Ok(())
}
