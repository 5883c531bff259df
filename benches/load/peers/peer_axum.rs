//! Load-benchmark peer: an axum hello server, no middleware.
//!
//! `cargo run --release --manifest-path benches/load/peers/Cargo.toml --bin
//! load-peer-axum -- 127.0.0.1:0` prints `listening on ADDR` and serves
//! `Hello, World!` on `/`.

use axum::{Router, routing::get};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let app = Router::new().route("/", get(|| async { "Hello, World!" }));
    axum::serve(listener, app).await
}
