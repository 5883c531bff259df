//! Load-benchmark peer: the axum + tower-http equivalent of gateway's `stack`
//! example: `TraceLayer` at INFO (to stdout, like the stack's access log),
//! `CompressionLayer` (gzip only, default level), and Basic auth on
//! `/private/` (tower-http's `ValidateRequestHeaderLayer::basic`, the ready
//! one an axum user reaches for, deprecated since 0.6.7 but still shipped).
//!
//! Routes: `/` hello, `/big` the same 64 KiB HTML as the demo app,
//! `/private/` `{"user":"demo"}` behind Basic `demo:demo`.

use axum::{Router, http::header, routing::get};
use tower_http::compression::CompressionLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_max_level(Level::INFO)
        .with_ansi(false)
        .init();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let big = gateway::demo::big_body();
    #[allow(deprecated)]
    let basic = tower_http::validate_request::ValidateRequestHeaderLayer::basic("demo", "demo");
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
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .no_br()
                .no_deflate()
                .no_zstd(),
        )
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        );
    axum::serve(listener, app).await
}
