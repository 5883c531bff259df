//! `Handler`: runs an app and turns what it says into a correct HTTP response.
//!
//! This is the seed's (and wsgiref's) `BaseHandler`, without the I/O: the
//! gateway around it (CGI, the tower bridge, the test client) writes what it
//! yields. It reads as the protocol does:
//!
//! 1. **run** — call the app with the environ and a fresh `start_response`;
//! 2. **start_response** — the app sets the head, now or from inside its body;
//! 3. **finish_response** — pull the body until the first non-empty chunk (or
//!    a `write`, or the end): only then is the head final (so `exc_info` can
//!    still replace it), and it goes through the middleware's interceptors;
//! 4. **write** — every later chunk, in order with `write` data, through the
//!    interceptors, cut at the `Content-Length`;
//! 5. **close** — the app's body is dropped (PEP 3333's `close()`) on every
//!    path: end, error, panic, or the server dropping the response because
//!    the client went away.
//!
//! On top of wsgiref it defers the head, frames the response
//! ([`Output::content_length`] when the whole body is known; a body's
//! declared length ([`Body::with_len`](crate::Body::with_len), a file) becomes its `Content-Length`),
//! strips the body of `HEAD`, `1xx`, `204`, `205` and `304` responses, cuts a
//! body that overruns its `Content-Length` and reports one that falls short
//! (so the server closes the connection instead of leaving the client
//! waiting), and turns an error or a panic before the head into a `500`
//! (after it, into an aborted body). Errors are reported on `wsgi.errors`
//! ([`ErrorStream::report`](crate::ErrorStream::report)), naming the
//! request's method, target and `x-request-id`.
//!
//! ```
//! use gateway_core::{Body, Environ, Error, Handler, StartResponse};
//!
//! let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
//!     sr.start("200 OK", [("Content-Type", "text/plain")])?;
//!     Ok(Body::from("Hello"))
//! };
//! let environ = Environ::new(http::Method::GET, http::Uri::from_static("/"));
//! let response = Handler::new().run(&app, environ);
//! assert_eq!(response.head.status, 200);
//! assert_eq!(response.body.content_length(), Some(5));
//! let body: Vec<_> = response.body.map(Result::unwrap).collect();
//! assert_eq!(body, ["Hello"]);
//! ```

mod output;

use std::panic::{AssertUnwindSafe, catch_unwind};

use http::StatusCode;
use http::header::HeaderName;

use crate::{App, Environ, Error, Head, StartResponse};

pub use output::Output;

/// The header an error report names the request by.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Runs apps by the rules of PEP 3333. Cheap to copy; holds no per-request state.
#[derive(Debug, Clone, Copy, Default)]
pub struct Handler {
    _private: (),
}

/// What the Handler made of a request: the final head, then the body.
#[derive(Debug)]
pub struct Handled {
    /// The final head: send it before any of the body.
    pub head: Head,
    /// The body chunks; the length to frame with is [`Output::content_length`].
    pub body: Output,
}

impl Handler {
    /// A handler.
    pub const fn new() -> Self {
        Handler { _private: () }
    }

    /// Run `app` for one request: call it, and pull its body until the head
    /// is final. The rest of the body comes from iterating [`Handled::body`].
    ///
    /// Never panics because of the app: a panic in the app, its body or an
    /// interceptor becomes a `500` (or an aborted body once the head is out).
    pub fn run<A: App + ?Sized>(&self, app: &A, environ: Environ) -> Handled {
        let (start_response, slot) = StartResponse::new();
        let request = output::Request {
            method: environ.method().clone(),
            uri: environ.uri().clone(),
            request_id: environ.headers().get(X_REQUEST_ID).cloned(),
        };
        let mut out = Output::new(slot, environ.errors().clone(), request);
        let called = guard(|| app.call(environ, start_response));
        let head = called.and_then(|body| {
            out.set_body(body);
            guard(|| out.finish_response())
        });
        match head {
            Ok(head) => Handled { head, body: out },
            Err(error) => out.error_before_head(error),
        }
    }
}

/// Run `f`, turning a panic into [`Error::Panic`].
fn guard<T>(f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| Err(Error::from_panic(panic)))
}

/// Statuses whose responses never carry content and have no length:
/// `1xx` and `204` (RFC 9110 §8.6: no `Content-Length` at all).
fn no_content(status: StatusCode) -> bool {
    status.is_informational() || status == StatusCode::NO_CONTENT
}

/// Statuses whose responses send no body bytes: `1xx`, `204`, `205` (its
/// content is empty, RFC 9110 §15.3.6) and `304` (it keeps the length of the
/// representation, RFC 9110 §8.6).
fn sends_no_body(status: StatusCode) -> bool {
    no_content(status) || status == StatusCode::RESET_CONTENT || status == StatusCode::NOT_MODIFIED
}
