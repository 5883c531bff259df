//! Access logging: one line per request, written when the response is over.
//!
//! [`AccessLog`] is a [`Middleware`](gateway_core::Middleware). Put it
//! outermost, so it sees the request first and the response as the client
//! got it (after gzip: the byte count is what went on the wire). It
//! registers an [`Intercept`](gateway_core::Intercept) and writes its line in
//! [`finish`](gateway_core::Intercept::finish), once, however the response
//! ended: complete, cut by an error after the head (`aborted=failed`), or
//! dropped because the client went away (`aborted=client_gone`); an app that
//! fails before its head is logged with the `500` that was sent. The
//! duration covers the whole body.
//!
//! - **Formats** ([`Format`]): Apache common, Apache combined (the default), a
//!   format string of Apache directives and/or named fields (the syntax and
//!   every field are on [`Format`]'s page), or JSON lines. Parsed once; an
//!   unknown field is a [`FormatError`] at construction.
//! - **Sinks**: by default, `tracing` when a subscriber is installed (an
//!   INFO event on target `gateway::access` whose message is the line;
//!   nothing is captured when that target is disabled), and standard output
//!   when none is, so the log is never silent. Or always `tracing`
//!   ([`AccessLog::to_tracing`]), any [`Write`](std::io::Write), one write
//!   per line ([`AccessLog::to_writer`]), or any writer through a buffer
//!   flushed when full, every second and at shutdown
//!   ([`AccessLog::to_buffered_writer`], [`Buffer`]). A failing sink never
//!   fails the request.
//! - **Shutdown**: a buffered sink writes what it holds when it is dropped,
//!   which happens when the log and the service stack built from it are
//!   dropped (gateway-tower's `Server` drops its service when a graceful
//!   shutdown, on SIGTERM or SIGINT, has finished the requests in flight).
//!   Where that does not happen (`std::process::exit`, a stack kept in a
//!   `static`, your own signal handling), keep a [`FlushHandle`]
//!   ([`AccessLog::flush_handle`]) and call [`FlushHandle::flush`] last.
//! - **`wsgi.errors`**: lines the app writes there go to the same sink,
//!   marked as errors ([`AccessLog::capture_errors`]).
//! - **Safety**: every value that comes from the client or the app is
//!   escaped (as Apache does in text, plus spaces outside quotes; by JSON's
//!   rules in JSON), so none can forge a field or a line. `Authorization`,
//!   `Proxy-Authorization`, `Cookie` and `Set-Cookie` print as `[redacted]` even when the format
//!   names them, as does the password of a URL in absolute form. The user
//!   is `REMOTE_USER`, never decoded from a header: set outside the log in
//!   the environ, or inside it by a middleware that publishes a
//!   [`RemoteUser`](gateway_core::RemoteUser) with
//!   [`StartResponse::publish`](gateway_core::StartResponse::publish), as
//!   auth does (`{env.REMOTE_USER}` and `{env.AUTH_TYPE}` read it too).
//! - **Time**: `[10/Oct/2000:13:55:36 +0000]`, in UTC unless you give an
//!   offset ([`AccessLog::utc_offset`]): reading the local offset is unsound
//!   in a multithreaded program on some platforms, so the log never does it;
//!   read it once at startup if you want it. The clock can be replaced
//!   ([`AccessLog::clock`]), for tests.
//! - **Cost**: only what the format uses is captured per request (header
//!   values are reference-counted, not copied), and the line is written into
//!   a buffer reused by each thread.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use gateway_core::{testing::Client, Body, Environ, Error, Middleware, StartResponse};
//! use gateway_middleware::access_log::{AccessLog, Format};
//!
//! # #[derive(Clone, Default)] struct Shared(Arc<Mutex<Vec<u8>>>);
//! # impl std::io::Write for Shared {
//! #     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
//! #     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
//! # }
//! let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
//!     sr.start("200 OK", [("Content-Type", "text/plain")])?;
//!     Ok(Body::from("Hello"))
//! };
//! let out = Shared::default();
//! let log = AccessLog::new()
//!     .format(Format::parse(r#"{remote_addr} "%r" %>s %b {header.user-agent}"#)?)
//!     .to_writer(out.clone());
//! let client = Client::new(log.wrap(app));
//! client.get("/hi?x=1").header("User-Agent", "curl/8").send();
//! let line = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
//! assert_eq!(line, "127.0.0.1 \"GET /hi?x=1 HTTP/1.1\" 200 5 curl/8\n");
//! # Ok::<(), gateway_middleware::access_log::FormatError>(())
//! ```
//!
//! ## Layout
//!
//! As tower-http lays out a middleware: `middleware` (the [`AccessLog`]
//! settings and its [`Middleware`](gateway_core::Middleware) impl), `app`
//! ([`AccessLogApp`], the app it makes), `interceptor` (the
//! [`Intercept`](gateway_core::Intercept) that records one request and
//! writes its line), `format` ([`Format`]: parsing, what to capture, and
//! writing a line), `sink` (where lines go), and two leaves that import
//! nothing back, `escape` and `stamp`. Each module imports only those after
//! it in that list.

mod app;
mod escape;
mod format;
mod interceptor;
mod middleware;
mod sink;
mod stamp;

pub use app::AccessLogApp;
pub use format::{Format, FormatError};
pub use middleware::AccessLog;
pub use sink::{Buffer, FlushHandle};
