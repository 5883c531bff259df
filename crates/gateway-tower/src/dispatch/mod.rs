//! Dispatch: where the app runs, and what every mode shares.
//!
//! Documented on [`Dispatch`](crate::Dispatch) and [`AppService::inline_when`](crate::AppService::inline_when).

pub(crate) mod blocking;
pub(crate) mod bridge;
mod future;
pub(crate) mod inline;
mod pool;
pub(crate) mod queue;

use std::fmt;
use std::sync::Arc;

use http::request::Parts;
use http::{HeaderMap, Method, Uri};

pub(crate) use self::future::Deadline;
pub use self::future::ResponseFuture;
pub use self::pool::{ThreadWrapper, wrap_blocking_threads};

/// How an [`AppService`](crate::AppService) runs its app: on a blocking
/// thread ([`Dispatch::Blocking`], the default), on the async task ([`Dispatch::Inline`]), or chosen per request
/// by a predicate ([`AppService::inline_when`](crate::AppService::inline_when)).
///
/// - **Blocking** runs the app and its body on a pool of blocking threads
///   (one wake-up serves a batch of requests on a loaded server).
///   `wsgi.input` streams the request body from hyper as the app reads it
///   (bounded memory, and `100 Continue` only once the app reads); the body
///   streams back through a bounded channel with backpressure. The number of
///   apps running at once is bounded, and `poll_ready` waits for a place.
/// - **Inline** runs the app on the task that serves the connection: no
///   thread hop, close to the cost of a plain hyper `service_fn`, for apps
///   that never block (no file, socket or lock waits, no `sleep`). The
///   request body is read whole first, up to a limit (`413` past it).
/// - **Per request** ([`inline_when`](crate::AppService::inline_when)): the
///   predicate sees a [`RequestInfo`] (the request's parts, and whether a
///   body follows); `true` runs the request Inline, `false` Blocking. The
///   service is then always ready: a blocking request waits for a place
///   inside its own [`ResponseFuture`], so an inline one never waits
///   behind it.
///
/// Why the library does not guess (time the app, run it inline until it is
/// slow): see `docs/dispatch.md` in the repository.
///
/// ```
/// use gateway_core::{Body, Environ, Error, StartResponse};
/// use gateway_tower::{AppService, Dispatch, RequestInfo};
///
/// fn app(_: Environ, start_response: StartResponse) -> Result<Body, Error> {
///     start_response.start("204 No Content", ())?;
///     Ok(Body::empty())
/// }
///
/// assert_eq!(AppService::new(app).mode(), Some(Dispatch::Blocking));
/// let fast = AppService::new(app).dispatch(Dispatch::Inline);
/// assert_eq!(fast.mode(), Some(Dispatch::Inline));
/// // Body-less requests outside /upload/ inline, the rest on the pool.
/// let mixed = AppService::new(app)
///     .inline_when(|req: &RequestInfo<'_>| !req.has_body() && !req.path().starts_with("/upload/"));
/// assert_eq!(mixed.mode(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dispatch {
    /// On a blocking thread: safe for apps that block. The default.
    #[default]
    Blocking,
    /// On the async task: the fast path, for apps that never block.
    Inline,
}

/// What a dispatch predicate
/// ([`AppService::inline_when`](crate::AppService::inline_when)) sees of a
/// request: its head, and whether a body follows it.
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    parts: &'a Parts,
    has_body: bool,
}

impl<'a> RequestInfo<'a> {
    /// The view of a request with head `parts`; `has_body` is `false` when
    /// the body is known to be empty (`http_body::Body::is_end_stream`).
    pub fn new(parts: &'a Parts, has_body: bool) -> Self {
        RequestInfo { parts, has_body }
    }

    /// The request's head: method, URI, version, headers, extensions.
    pub fn parts(&self) -> &'a Parts {
        self.parts
    }

    /// The method.
    pub fn method(&self) -> &'a Method {
        &self.parts.method
    }

    /// The request target.
    pub fn uri(&self) -> &'a Uri {
        &self.parts.uri
    }

    /// The path, as sent (still percent-encoded).
    pub fn path(&self) -> &'a str {
        self.parts.uri.path()
    }

    /// The headers.
    pub fn headers(&self) -> &'a HeaderMap {
        &self.parts.headers
    }

    /// Whether a body may follow the head: `false` for a request known to
    /// have none (no `Content-Length` or `Content-Length: 0` in HTTP/1, the
    /// end of the stream on the HEADERS frame in HTTP/2).
    pub fn has_body(&self) -> bool {
        self.has_body
    }
}

/// The predicate of [`AppService::inline_when`](crate::AppService::inline_when).
pub(crate) type Predicate = Arc<dyn Fn(&RequestInfo<'_>) -> bool + Send + Sync>;

/// How a service picks each request's dispatch.
#[derive(Clone)]
pub(crate) enum Policy {
    /// Every request the same way.
    Always(Dispatch),
    /// Inline when the predicate says so, Blocking otherwise.
    InlineWhen(Predicate),
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Policy::Always(dispatch) => dispatch.fmt(f),
            Policy::InlineWhen(_) => f.write_str("InlineWhen(..)"),
        }
    }
}
