//! Micro-benchmarks of gateway-core: what the protocol itself costs.
//!
//! - `handler/hello`: `Handler::run` + draining the body for a hello app
//!   (`hello_no_headers`: the same without its one header, so without the
//!   app's own `HeaderMap`);
//! - `middleware/N`: the hello app behind N pass-through middleware (a static
//!   `Stack` of `middleware_fn`); one costs `(time(N) - time(0)) / N`;
//! - `environ/from_parts`: an `Environ` from the parts of a request with 8
//!   typical browser headers (the parts are built outside the timing);
//! - `environ/vars`: iterating the full CGI view of that environ.
//!
//! Each sample is timed in batches of [`BATCH`] calls (inputs made before
//! the batch), and counts as its fastest batch: on a machine shared with other
//! work, that is the batch no other process cut into. A batch is a few
//! microseconds, far below a scheduler time slice.
//!
//! Run: `cargo bench -p gateway-core --bench handler -- --warm-up-time 1 --measurement-time 3`

// criterion_group! makes an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use gateway_core::{
    App, Body, Environ, Error, Handler, Input, Next, Stack, StartResponse, middleware_fn,
};
use http::header::{CONTENT_TYPE, HeaderValue};

/// Calls per timed batch.
const BATCH: usize = 32;

/// Time `iters` calls of `run` on inputs from `make`, as `iters` times the
/// fastest batch's time per call.
fn fastest<T, R>(iters: u64, mut make: impl FnMut() -> T, mut run: impl FnMut(T) -> R) -> Duration {
    let mut best = Duration::MAX;
    let mut left = iters;
    let mut inputs = Vec::with_capacity(BATCH);
    let mut outputs = Vec::with_capacity(BATCH);
    while left > 0 {
        let n = BATCH.min(left as usize);
        inputs.extend((0..n).map(|_| make()));
        let start = Instant::now();
        for input in inputs.drain(..) {
            outputs.push(black_box(run(input)));
        }
        best = best.min(start.elapsed() / n as u32);
        outputs.clear();
        left -= n as u64;
    }
    best.mul_f64(iters as f64)
}

fn hello(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start(
        http::StatusCode::OK,
        [(CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
    )?;
    Ok(Body::from("Hello, World!"))
}

/// Hello without headers: what is left is the Handler's own work.
fn bare(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start(http::StatusCode::OK, ())?;
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
        .header(
            "User-Agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        )
        .header(
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
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
        b.iter_custom(|iters| fastest(iters, environ, |e| serve(&hello, e)))
    });
    c.bench_function("handler/hello_no_headers", |b| {
        b.iter_custom(|iters| fastest(iters, environ, |e| serve(&bare, e)))
    });
}

/// A static stack of pass-through middleware around `hello`, one per name.
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
        b.iter_custom(|iters| fastest(iters, environ, |e| serve(&hello, e)))
    });
    let one = stack!(p);
    group.bench_function("1", |b| {
        b.iter_custom(|iters| fastest(iters, environ, |e| serve(&one, e)))
    });
    let four = stack!(p p p p);
    group.bench_function("4", |b| {
        b.iter_custom(|iters| fastest(iters, environ, |e| serve(&four, e)))
    });
    let sixteen = stack!(p p p p p p p p p p p p p p p p);
    group.bench_function("16", |b| {
        b.iter_custom(|iters| fastest(iters, environ, |e| serve(&sixteen, e)))
    });
    group.finish();
}

fn environ_view(c: &mut Criterion) {
    c.bench_function("environ/from_parts", |b| {
        b.iter_custom(|iters| {
            fastest(iters, browser_parts, |parts| {
                Environ::from_parts(parts, Input::empty())
            })
        })
    });
    let environ = Environ::from_parts(browser_parts(), Input::empty());
    c.bench_function("environ/vars", |b| {
        b.iter_custom(|iters| {
            fastest(
                iters,
                || (),
                |()| {
                    black_box(&environ)
                        .vars()
                        .map(|(k, v)| k.len() + v.len())
                        .sum::<usize>()
                },
            )
        })
    });
}

criterion_group!(benches, handler, middleware, environ_view);
criterion_main!(benches);
