//! Serve gateway apps as tower services over hyper, and tower services as
//! gateway apps.
//!
//! This is where the synchronous WSGI model meets async Rust:
//!
//! - [`AppService`] turns any [`App`](gateway_core::App) (a closure, a
//!   middleware stack) into a tower [`Service`](tower::Service) of
//!   `http::Request<B>` for any body `B`, answering
//!   `http::Response<`[`GatewayBody`]`>`. It is cheap to clone and never
//!   fails, so every tower and tower-http layer wraps it with
//!   `ServiceBuilder`. [`IntoService`] spells it `app.into_service()`.
//! - [`Dispatch`] says where the app runs: on a pool of blocking threads
//!   (Blocking, the default: `wsgi.input` streams the request body as the
//!   app reads it, the response streams back with backpressure, and
//!   `poll_ready` bounds how many apps run at once), or on the async task
//!   (Inline: the fast path for apps that never block; the request body is
//!   read first, up to a limit), or either, chosen per request by a
//!   predicate over the request's head
//!   ([`AppService::inline_when`], which sees a [`RequestInfo`]).
//! - [`GatewayBody`] is the response body: exact `size_hint` when the length
//!   is known (hyper writes `Content-Length`), an aborted connection when the
//!   body breaks after the head, and the app's body closed when it is
//!   dropped.
//! - [`Server`] serves any tower service over hyper-util's HTTP/1.1 + HTTP/2
//!   connection builder, on TCP or a Unix domain socket ([`Endpoint`]),
//!   with graceful shutdown on SIGINT / SIGTERM or a future (bounded by a
//!   grace period, past which [`ConnectionsCut`] says what was closed), a
//!   header-read timeout, a connection limit and [`ConnectionInfo`] on
//!   every TCP request.
//! - [`Workers`] serves with several worker processes on one listener, as
//!   gunicorn's arbiter does: the master binds, starts the workers (the
//!   same program run again, each inheriting the socket), restarts the ones
//!   that die, and stops them all gracefully on SIGTERM.
//! - [`ServiceApp`] goes the other way: a tower service (tower-http's
//!   `ServeDir`, an axum `Router`) as an app, so gateway middleware can sit in
//!   front of it.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use gateway_core::{Body, Environ, Error, StartResponse};
//! use gateway_tower::{IntoService, Server};
//! use http::StatusCode;
//! use tower::ServiceBuilder;
//! use tower_http::timeout::TimeoutLayer;
//!
//! fn hello(environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
//!     let who = environ.get("REMOTE_ADDR").unwrap_or_default().into_owned();
//!     start_response.start("200 OK", [("Content-Type", "text/plain; charset=utf-8")])?;
//!     Ok(Body::from(format!("Hello, {who}!\n")))
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     // Any tower layer goes around the app's service.
//!     let service = ServiceBuilder::new()
//!         .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
//!         .service(hello.into_service());
//!     let server = Server::bind("127.0.0.1:8000").await?.server_header("gateway");
//!     eprintln!("listening on http://{}", server.local_addr()?);
//!     server.serve(service).await // until Ctrl-C; in-flight requests finish
//! }
//! ```

mod body;
mod connection;
mod dispatch;
mod input;
mod into_service;
mod serve;
mod service;
mod service_app;
#[cfg(unix)]
mod workers;

pub use body::GatewayBody;
pub use connection::ConnectionInfo;
pub use dispatch::{Dispatch, RequestInfo, ResponseFuture, ThreadWrapper, wrap_blocking_threads};
pub use into_service::IntoService;
pub use serve::{
    ConnectionsCut, DEFAULT_GRACE_PERIOD, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_HEAD, DEFAULT_MAX_HEADER_LINE, DEFAULT_MAX_HEADERS, DEFAULT_MAX_REQUEST_LINE,
    Endpoint, Server, serve,
};
pub use service::{AppService, DEFAULT_BODY_LIMIT, DEFAULT_MAX_BLOCKING};
pub use service_app::{InputBody, ServiceApp, ServiceAppError};
#[cfg(unix)]
pub use workers::{Listener, Role, WORKER_BOOT_ERROR, WORKER_ENV, Workers};
