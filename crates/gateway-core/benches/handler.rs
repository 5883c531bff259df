//! Micro-benchmarks of gateway-core: what the protocol itself costs.
//!
//! - `handler/hello`: `Handler::run` + draining the body for a hello app;
//! - `middleware/N`: the same behind N pass-through middleware (a static
//!   `Stack` of `middleware_fn`), so the cost of one is `(N - 0) / N`;
//! - `environ/from_parts`: an `Environ` from the parts of a request with 8
//!   typical browser headers (the parts are built outside the timing);
//! - `environ/vars`: iterating the full CGI view of that environ.
//!
//! Run: `cargo bench -p gateway-core --bench handler -- --warm-up-time 1 --measurement-time 3`

// criterion_group! makes an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use gateway_core::{
    App, Body, Environ, Error, Handler, Input, Next, Stack, StartResponse, middleware_fn,
};
use http::header::{CONTENT_TYPE, HeaderValue};

fn hello(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start(http::StatusCode::OK, [(CONTENT_TYPE, HeaderValue::from_static("text/plain"))])?;
    Ok(Body::from("Hello, World!"))
}

fn environ() -> Environ {
    Environ::new(http::Method::GET, http::Uri::from_static("/"))
}

/// One request through `app`: run, then drain the body as a server would.
fn serve(app: &impl App, environ: Environ) -> usize {
    let response = Handler::new().run(app, environ);
    let mut n = response.head.headers.len();
    for chunk in response.body {
        n += chunk.map_or(0, |c| c.len());
    }
    n
}

fn browser_parts() -> http::request::Parts {
    let request = http::Request::get("/search?q=rust+wsgi&page=2")
        .header("Host", "example.com")
        .header("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
        .header("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
        .header("Accept-Language", "en-US,en;q=0.5")
        .header("Accept-Encoding", "gzip, deflate, br, zstd")
        .header("Referer", "https://example.com/")
        .header("Cookie", "session=abc123; theme=dark")
        .header("Upgrade-Insecure-Requests", "1")
        .body(())
        .unwrap();
    request.into_parts().0
}

fn handler(c: &mut Criterion) {
    c.bench_function("handler/hello", |b| {
        b.iter_batched(environ, |e| serve(&hello, e), BatchSize::SmallInput)
    });
}

/// A static stack of `n` pass-through middleware around `hello`.
macro_rules! stack {
    ($($m:ident)*) => {{
        let stack = Stack::new();
        $(let stack = stack.with($m.clone());)*
        stack.wrap(hello)
    }};
}

fn middleware(c: &mut Criterion) {
    let p = middleware_fn(|e: Environ, sr: StartResponse, next: Next<'_>| next.call(e, sr));
    let mut group = c.benchmark_group("middleware");
    group.bench_function("0", |b| {
        b.iter_batched(environ, |e| serve(&hello, e), BatchSize::SmallInput)
    });
    let one = stack!(p);
    group.bench_function("1", |b| b.iter_batched(environ, |e| serve(&one, e), BatchSize::SmallInput));
    let four = stack!(p p p p);
    group.bench_function("4", |b| b.iter_batched(environ, |e| serve(&four, e), BatchSize::SmallInput));
    let sixteen = stack!(p p p p p p p p p p p p p p p p);
    group.bench_function("16", |b| {
        b.iter_batched(environ, |e| serve(&sixteen, e), BatchSize::SmallInput)
    });
    group.finish();
}

fn environ_view(c: &mut Criterion) {
    c.bench_function("environ/from_parts", |b| {
        b.iter_batched(
            browser_parts,
            |parts| Environ::from_parts(parts, Input::empty()),
            BatchSize::SmallInput,
        )
    });
    let environ = Environ::from_parts(browser_parts(), Input::empty());
    c.bench_function("environ/vars", |b| {
        b.iter(|| black_box(&environ).vars().map(|(k, v)| k.len() + v.len()).sum::<usize>())
    });
}

criterion_group!(benches, handler, middleware, environ_view);
criterion_main!(benches);
