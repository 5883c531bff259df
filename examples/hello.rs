//! The smallest gateway program: one app, one server.
//!
//! `cargo run --example hello`, then `curl http://127.0.0.1:8000/`.

use gateway::tower::{IntoService, Server};
use gateway::{Body, Environ, Error, StartResponse};

fn hello(_: Environ, start_response: StartResponse) -> Result<Body, Error> {
    start_response.start("200 OK", [("Content-Type", "text/plain; charset=utf-8")])?;
    Ok(Body::from("Hello, World!\n"))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    Server::bind("127.0.0.1:8000")
        .await?
        .serve(hello.into_service())
        .await
}
