//! The one mechanism by which middleware sees and changes a response.
//!
//! In Python a middleware that wants the status, the headers, the `write`
//! calls and the body wraps `start_response`, wraps `write`, and wraps the
//! body iterable: three hand-made wrappers that must keep `write` data and
//! body chunks in order, and most get it wrong somewhere. Here a middleware
//! hands the [`StartResponse`](crate::StartResponse) it is given a hook, and
//! the [`Handler`](crate::Handler) runs every piece of output through the
//! hooks, innermost middleware first, in the order the app produced it.
//!
//! For one thing a closure is enough:
//!
//! - [`StartResponse::on_head`](crate::StartResponse::on_head): change the
//!   final status and headers (add a header, drop one);
//! - [`StartResponse::on_finish`](crate::StartResponse::on_finish): learn how
//!   the response ended ([`Outcome`]: status, bytes sent, how it ended, and
//!   the typed values inner middleware [published](crate::StartResponse::publish)).
//!
//! ```
//! use gateway_core::{middleware_fn, testing::Client, Body, Environ, Error, Next, Stack,
//!                    StartResponse};
//!
//! let served_by = middleware_fn(|environ: Environ, sr: StartResponse, next: Next<'_>| {
//!     sr.on_head(|head| head.set_header("x-served-by", "gateway"));
//!     next.call(environ, sr)
//! });
//! let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
//!     sr.start("200 OK", [("Content-Type", "text/plain")])?;
//!     Ok(Body::from("hi"))
//! };
//! let response = Client::new(Stack::new().with(served_by).wrap(app)).get("/").send();
//! assert_eq!(response.header("x-served-by"), Some("gateway"));
//! ```
//!
//! A middleware that changes the body (a compressor, a filter) implements
//! [`Intercept`] and registers it with
//! [`StartResponse::intercept`](crate::StartResponse::intercept):
//!
//! - [`head`](Intercept::head) once, when the head is final, with what is
//!   known of the body ([`BodyInfo`]: its exact length, and whether it is
//!   already whole in memory, so a compressor can compress it in one shot);
//! - [`data`](Intercept::data) for each chunk, from `write` and from the body alike;
//! - [`end`](Intercept::end) when the body ends (a compressor flushes its trailer);
//! - [`finish`](Intercept::finish) once, however the response ended.
//!
//! Middleware that does not intercept costs nothing.
//!
//! ```
//! use bytes::Bytes;
//! use gateway_core::{BodyInfo, Error, Head, Intercept};
//!
//! /// Upper-cases every response body.
//! struct Shout;
//!
//! impl Intercept for Shout {
//!     fn head(&mut self, head: &mut Head, _body: BodyInfo) -> Result<(), Error> {
//!         head.headers.remove(http::header::ETAG); // the body is another now
//!         Ok(())
//!     }
//!
//!     fn data(&mut self, chunk: Bytes) -> Result<Bytes, Error> {
//!         Ok(chunk.to_ascii_uppercase().into())
//!     }
//! }
//! ```

use bytes::Bytes;

use crate::{Error, Head, Outcome};

/// A middleware's view of the response as it goes out. See the [module
/// docs](self).
pub trait Intercept: Send + 'static {
    /// The head is final as far as the inner app goes; change it here.
    ///
    /// When [`BodyInfo::len`] is known the head holds it as `Content-Length`
    /// too, so an interceptor that changes the body's length removes that
    /// header (the Handler then frames a whole body by its new size).
    fn head(&mut self, head: &mut Head, body: BodyInfo) -> Result<(), Error> {
        let _ = (head, body);
        Ok(())
    }

    /// A chunk of output (from the body or from `write`); return what goes on.
    /// An empty return sends nothing for now.
    fn data(&mut self, chunk: Bytes) -> Result<Bytes, Error> {
        Ok(chunk)
    }

    /// The body ended; return any last bytes.
    fn end(&mut self) -> Result<Bytes, Error> {
        Ok(Bytes::new())
    }

    /// The response is over: complete, failed, or abandoned by the client.
    fn finish(&mut self, outcome: &Outcome) {
        let _ = outcome;
    }
}

/// What an interceptor's [`head`](Intercept::head) knows of the body to come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BodyInfo {
    /// The body's exact length, when the app declared it
    /// ([`Body::with_len`](crate::Body::with_len), a file) or the body is whole.
    pub len: Option<u64>,
    /// The whole body is in memory: [`data`](Intercept::data) comes once with
    /// all of it (not at all when it is empty), then [`end`](Intercept::end).
    /// A compressor can compress it in one shot; the Handler frames the
    /// result with its exact `Content-Length`.
    pub whole: bool,
}

impl BodyInfo {
    /// A body of `len` bytes, already whole in memory.
    pub const fn whole(len: u64) -> Self {
        BodyInfo {
            len: Some(len),
            whole: true,
        }
    }

    /// A body that streams, of `len` bytes when known.
    pub const fn streamed(len: Option<u64>) -> Self {
        BodyInfo { len, whole: false }
    }
}

/// [`StartResponse::on_head`](crate::StartResponse::on_head)'s interceptor.
pub(crate) struct OnHead<F>(pub(crate) Option<F>);

impl<F> Intercept for OnHead<F>
where
    F: FnOnce(&mut Head) -> Result<(), Error> + Send + 'static,
{
    fn head(&mut self, head: &mut Head, _: BodyInfo) -> Result<(), Error> {
        match self.0.take() {
            Some(f) => f(head),
            None => Ok(()),
        }
    }
}

/// [`StartResponse::on_finish`](crate::StartResponse::on_finish)'s interceptor.
pub(crate) struct OnFinish<F>(pub(crate) Option<F>);

impl<F: FnOnce(&Outcome) + Send + 'static> Intercept for OnFinish<F> {
    fn finish(&mut self, outcome: &Outcome) {
        if let Some(f) = self.0.take() {
            f(outcome);
        }
    }
}
