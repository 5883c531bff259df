//! Load-benchmark peer: the axum + tower-http equivalent of gateway's `stack`
//! example, layer for layer, outermost first:
//!
//! - `SetRequestIdLayer` (UUID `x-request-id`) and `PropagateRequestIdLayer`,
//!   `CatchPanicLayer`, `TimeoutLayer` (408 after 30 s): the same tower-http
//!   layers the `stack` example puts in front of its gateway stack (here
//!   `TimeoutLayer` sits innermost: it needs a response body with a
//!   `Default`, which those of `Trace` and `Compression` have not);
//! - `TraceLayer` at INFO to stdout (the stack writes an Apache combined line
//!   per request to stdout);
//! - `CompressionLayer`, gzip only, at the default level (the stack's `Gzip`);
//! - Basic auth `demo:demo` on `/private/`: tower-http's
//!   `ValidateRequestHeaderLayer::custom` with the very check of its
//!   `ValidateRequestHeaderLayer::basic` (one header compared with the
//!   precomputed `Basic ZGVtbzpkZW1v`, `401` + `WWW-Authenticate: Basic`
//!   otherwise), which is deprecated since 0.6.7.
//!
//! Routes: `/` hello, `/big` the bytes of the file named by `PEER_BIG_FILE`
//! (run.py fetches gateway's `/big` into it, so both serve identical bytes),
//! `/private/` `{"user":"demo"}`.
//!
//! `load-peer-axum-stack 127.0.0.1:0` prints `listening on ADDR`.

use std::time::Duration;

use axum::{Router, http::StatusCode, http::header, routing::get};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

/// How long a request may take to produce its head (as in the stack).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_max_level(Level::INFO)
        .with_ansi(false)
        .init();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let big = match std::env::var_os("PEER_BIG_FILE") {
        Some(path) => std::fs::read(path)?,
        None => {
            eprintln!("load-peer-axum-stack: set PEER_BIG_FILE to the bytes `/big` serves");
            std::process::exit(2);
        }
    };
    let big = axum::body::Bytes::from(big);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let expected = header::HeaderValue::from_static("Basic ZGVtbzpkZW1v"); // demo:demo
    let basic = tower_http::validate_request::ValidateRequestHeaderLayer::custom(
        move |request: &mut axum::http::Request<axum::body::Body>| {
            if request.headers().get(header::AUTHORIZATION) == Some(&expected) {
                return Ok(());
            }
            let mut refused = axum::http::Response::new(axum::body::Body::default());
            *refused.status_mut() = StatusCode::UNAUTHORIZED;
            refused.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic"),
            );
            Err(refused)
        },
    );
    let private = Router::new()
        .route(
            "/private/",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    r#"{"user":"demo"}"#,
                )
            }),
        )
        .route_layer(basic);
    let app = Router::new()
        .route("/", get(|| async { "Hello, World!" }))
        .route(
            "/big",
            get(move || async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], big) }),
        )
        .merge(private)
        // Innermost here: `Timeout` needs a response body with a `Default`,
        // which the bodies of `Trace` and `Compression` have not.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::new())
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(
                    CompressionLayer::new()
                        .gzip(true)
                        .no_br()
                        .no_deflate()
                        .no_zstd(),
                ),
        );
    axum::serve(listener, app).await
}
