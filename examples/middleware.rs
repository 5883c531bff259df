//! Middleware of your own, as closures: one adds a response header, one
//! times each request and logs its status and duration.
//!
//! ```text
//! cargo run --example middleware            # 127.0.0.1:8000, or --addr HOST:PORT
//! curl -i http://127.0.0.1:8000/
//! ```
//!
//! A middleware is `(environ, start_response, next) -> body`. WSGI's head is
//! lazy (an app may call `start_response` from inside its body), so the
//! response is not there when `next.call` returns; a middleware hooks it
//! instead, before calling on: `on_head` changes the final head, `on_finish`
//! runs once the response is over, however it ended.

mod cli;

use std::time::Instant;

use gateway::tower::{IntoService, Server};
use gateway::{Body, Environ, Error, Next, Stack, StartResponse, middleware_fn};

fn hello(_: Environ, start_response: StartResponse) -> Result<Body, Error> {
    start_response.start("200 OK", [("Content-Type", "text/plain; charset=utf-8")])?;
    Ok(Body::from("Hello, World!\n"))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let served_by = middleware_fn(|environ: Environ, sr: StartResponse, next: Next<'_>| {
        sr.on_head(|head| head.set_header("x-served-by", "gateway"));
        next.call(environ, sr)
    });
    let timed = middleware_fn(|environ: Environ, sr: StartResponse, next: Next<'_>| {
        let (started, method, path) = (
            Instant::now(),
            environ.method().clone(),
            environ.quoted_path(),
        );
        sr.on_finish(move |outcome| {
            println!(
                "{method} {path} {} in {:?}",
                outcome.status.as_u16(),
                started.elapsed()
            );
        });
        next.call(environ, sr)
    });
    let app = Stack::new().with(timed).with(served_by).wrap(hello);

    let addr = cli::listen_addr().map_err(std::io::Error::other)?;
    let server = Server::bind(&*addr).await?;
    eprintln!("middleware: listening on http://{}", server.local_addr()?);
    server.serve(app.into_service()).await
}
