//! Micro-benchmark of the `stack` example's gateway side, in process, with
//! no sockets: the access log (Apache combined, to a sink), gzip, Basic
//! auth on `/private/`, Bearer auth on `/api/` and the demo app.
//!
//! - `stack/bare`: the demo app alone on `/` (the Handler's own cost);
//! - `stack/hello`: the whole stack on `/`;
//! - `stack/private`: the whole stack on `/private/` with good Basic
//!   credentials, as `wrk` sends them; the difference from `stack/hello`
//!   is what authenticating a request costs;
//! - `basic/verify`: [`Credentials::verify`](gateway::middleware::auth::BasicVerifier),
//!   the salted-digest, constant-time check alone.
//!
//! Run: `cargo bench --bench stack -- --warm-up-time 1 --measurement-time 3`

// criterion_group! makes an undocumented `pub fn`.
#![allow(missing_docs)]

#[path = "../examples/demo/mod.rs"]
mod demo;

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use gateway::middleware::access_log::AccessLog;
use gateway::middleware::auth::{BasicAuth, BasicVerifier, BearerAuth, Credentials, StaticTokens};
use gateway::middleware::gzip::Gzip;
use gateway::{App, Environ, Handler, Input, Stack};

const REALM: &str = "gateway demo";

/// A request as `wrk` sends it: `Host`, and `Authorization` when asked.
fn request(path: &'static str, basic: bool) -> Environ {
    let mut request = http::Request::get(path).header("Host", "127.0.0.1:8000");
    if basic {
        // "demo:demo"
        request = request.header("Authorization", "Basic ZGVtbzpkZW1v");
    }
    let (parts, ()) = request.body(()).expect("a valid request").into_parts();
    Environ::from_parts(parts, Input::empty())
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

fn credentials() -> Credentials {
    Credentials::new([("demo", "demo")]).expect("valid credentials")
}

fn stack(c: &mut Criterion) {
    let tokens = StaticTokens::new([("demo-token", "demo")]).expect("a valid token");
    let app = Stack::new()
        .with(AccessLog::new().to_writer(std::io::sink()))
        .with(Gzip::new())
        .with(
            BasicAuth::new(REALM, credentials())
                .and_then(|auth| auth.only_under("/private/"))
                .expect("valid Basic settings"),
        )
        .with(
            BearerAuth::new(REALM, tokens)
                .and_then(|auth| auth.only_under("/api/"))
                .expect("valid Bearer settings"),
        )
        .wrap(demo::app);
    let mut group = c.benchmark_group("stack");
    let mut bench = |name: &str, app: &dyn Fn(Environ) -> usize, path, basic| {
        group.bench_function(name, |b| {
            b.iter_batched(|| request(path, basic), app, BatchSize::SmallInput)
        });
    };
    bench("bare", &|e| serve(&demo::app, e), "/", false);
    bench("hello", &|e| serve(&app, e), "/", false);
    bench("private", &|e| serve(&app, e), "/private/", true);
    group.finish();

    let credentials = credentials();
    c.bench_function("basic/verify", |b| {
        b.iter(|| credentials.verify(black_box("demo"), black_box("demo")))
    });
}

criterion_group!(benches, stack);
criterion_main!(benches);
