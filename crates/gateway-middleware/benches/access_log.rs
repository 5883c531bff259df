//! The access log through the Handler: a combined line per request, written
//! to a real file (`/dev/null`, so each `write` is a syscall) one write per
//! line (`to_writer`) or through the default 64 KiB buffer
//! (`to_buffered_writer`); `io_sink` is the same line to `io::sink()`, no
//! syscall at all, and `none` the app without the log.
//!
//! `cargo bench -p gateway-middleware --bench access_log -- --warm-up-time 1 --measurement-time 3`

// `criterion_group!` makes an undocumented `pub fn`.
#![allow(missing_docs)]

use std::fs::File;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gateway_core::{App, Body, Environ, Error, Handler, Middleware, StartResponse};
use gateway_middleware::access_log::{AccessLog, Buffer};
use http::header::{HeaderValue, REFERER, USER_AGENT};
use http::{Method, Uri};

fn hello(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from("Hello, World!"))
}

fn request() -> Environ {
    let mut environ = Environ::new(Method::GET, Uri::from_static("/some/path?q=1"));
    let headers = environ.headers_mut();
    headers.insert(USER_AGENT, HeaderValue::from_static("bench/1.0"));
    headers.insert(REFERER, HeaderValue::from_static("http://example.com/"));
    environ
}

fn run(app: &impl App) -> usize {
    let response = Handler::new().run(app, request());
    response.body.flat_map(Result::ok).map(|b| b.len()).sum()
}

fn null() -> File {
    File::create("/dev/null").expect("/dev/null opens")
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("access_log");
    let none = hello;
    group.bench_function("none", |b| b.iter(|| black_box(run(&none))));
    let io_sink = AccessLog::new().to_writer(std::io::sink()).wrap(hello);
    group.bench_function("io_sink", |b| b.iter(|| black_box(run(&io_sink))));
    let unbuffered = AccessLog::new().to_writer(null()).wrap(hello);
    group.bench_function("file_per_line", |b| b.iter(|| black_box(run(&unbuffered))));
    let buffered = AccessLog::new()
        .to_buffered_writer(null(), Buffer::new())
        .wrap(hello);
    group.bench_function("file_buffered_64k", |b| {
        b.iter(|| black_box(run(&buffered)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
