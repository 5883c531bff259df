//! What the Handler allocates per request, counted by a global allocator.
//!
//! The target (DESIGN.md, "lazy start_response vs zero cost"): at most one
//! small heap allocation per request for a single-chunk body beyond the body
//! itself — the `Arc` of the slot that `start_response`, `write` and the
//! Handler share — and none for a middleware that does not intercept.
//!
//! The counter is process-wide, so this binary holds one test, and every
//! figure is the total over `ROUNDS` requests divided by `ROUNDS`: a stray
//! allocation of the test harness cannot reach a whole one per request.
//! Run with `--nocapture` to see the figures.

use gateway_core::{
    App, Body, Environ, Error, Handler, Head, Middleware, Next, Stack, StartResponse, middleware_fn,
};
use http::header::{CONTENT_TYPE, HeaderValue};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const ROUNDS: usize = 1000;

/// Allocations per call of `f`, over `ROUNDS` calls; `setup` is not counted.
fn per_call<T>(mut setup: impl FnMut() -> T, mut f: impl FnMut(T)) -> usize {
    let inputs: Vec<T> = (0..ROUNDS).map(|_| setup()).collect();
    let region = Region::new(GLOBAL);
    for input in inputs {
        f(input);
    }
    let allocations = region.change().allocations;
    allocations / ROUNDS
}

fn environ() -> Environ {
    Environ::new(http::Method::GET, http::Uri::from_static("/"))
}

/// Run and drain a request; the environ is built before the count.
fn request(app: &impl App) -> usize {
    per_call(environ, |environ| {
        let response = Handler::new().run(app, environ);
        assert_eq!(response.head.status, 200);
        for chunk in response.body {
            assert_eq!(chunk.unwrap().len(), 13);
        }
    })
}

/// Hello, with no headers: everything counted is the Handler's.
fn bare(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start(http::StatusCode::OK, ())?;
    Ok(Body::from("Hello, World!"))
}

/// Hello, with a Content-Type: the app's own HeaderMap is counted too.
fn hello(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start(
        http::StatusCode::OK,
        [(CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
    )?;
    Ok(Body::from("Hello, World!"))
}

/// A hand-written pass-through middleware.
#[derive(Debug, Clone, Copy)]
struct PassThrough;

struct PassThroughApp<A>(A);

impl<A: App> App for PassThroughApp<A> {
    fn call(&self, environ: Environ, sr: StartResponse) -> Result<Body, Error> {
        self.0.call(environ, sr)
    }
}

impl<A: App> Middleware<A> for PassThrough {
    type App = PassThroughApp<A>;
    fn wrap(&self, app: A) -> Self::App {
        PassThroughApp(app)
    }
}

#[test]
fn the_handler_allocates_only_its_slot() {
    let handler_own = request(&bare);
    let head_map = per_call(
        || (),
        |()| {
            let head = Head::parse(
                http::StatusCode::OK,
                [(CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
            );
            assert!(head.is_ok());
        },
    );
    let with_head = request(&hello);
    let pass = middleware_fn(|e: Environ, sr: StartResponse, next: Next<'_>| next.call(e, sr));
    let through_fn = request(&Stack::new().with(pass.clone()).with(pass).wrap(bare));
    let through_struct = request(&Stack::new().with(PassThrough).with(PassThrough).wrap(bare));

    let parts = || {
        let request = http::Request::get("/search?q=rust&page=2")
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
            .header("Accept-Encoding", "gzip, deflate, br")
            .header("Connection", "keep-alive")
            .header("Cookie", "session=abc123; theme=dark")
            .header("Upgrade-Insecure-Requests", "1")
            .body(())
            .unwrap();
        request.into_parts().0
    };
    let from_parts = per_call(parts, |parts| {
        drop(Environ::from_parts(parts, gateway_core::Input::empty()))
    });
    let encoded = per_call(
        || {
            let mut p = parts();
            p.uri = http::Uri::from_static("/caf%C3%A9/menu");
            p
        },
        |parts| drop(Environ::from_parts(parts, gateway_core::Input::empty())),
    );

    println!("allocations per request, over {ROUNDS} requests:");
    println!("  Handler (hello, no headers, run + drain):    {handler_own}");
    println!("  the app's head (one header, Head::parse):    {head_map}");
    println!("  hello with its Content-Type:                 {with_head}");
    println!("  + 2 pass-through middleware_fn:              {through_fn}");
    println!("  + 2 pass-through Middleware structs:         {through_struct}");
    println!("  Environ::from_parts, 8 headers, plain path:  {from_parts}");
    println!("  Environ::from_parts, percent-encoded path:   {encoded}");

    assert!(
        handler_own <= 1,
        "the Handler allocates {handler_own} times per request"
    );
    assert_eq!(
        with_head,
        handler_own + head_map,
        "nothing but the app's head on top"
    );
    assert_eq!(
        through_fn, handler_own,
        "middleware_fn pass-through allocates"
    );
    assert_eq!(
        through_struct, handler_own,
        "Middleware pass-through allocates"
    );
    assert_eq!(from_parts, 0, "the environ moves the request in");
    assert!(encoded <= 1, "a percent-encoded path is decoded once");
}
