//! `AppService`: any gateway app as a tower service.
//!
//! Documented on [`AppService`](crate::AppService).

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::task::{Context, Poll};
use std::time::Duration;

use gateway_core::{App, BoxError, ErrorStream, Flags, UrlScheme};
use http::Request;
use http_body::Body;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::PollSemaphore;
use tower::Service;

use crate::GatewayBody;
use crate::dispatch::bridge::Config;
use crate::dispatch::queue::{QueueSlot, busy};
use crate::dispatch::{Deadline, Dispatch, Policy, RequestInfo, ResponseFuture};

/// The default [`AppService::body_limit`]: 2 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The default [`AppService::max_blocking`]: half of the 512 threads of the
/// blocking pool, which every service in the process shares.
pub const DEFAULT_MAX_BLOCKING: usize = 256;

/// A gateway app as a tower service.
///
/// [`AppService`] takes `http::Request<B>` for any body `B`, builds the
/// [`Environ`](gateway_core::Environ) from the request's parts (moved, not
/// copied: method, URI, headers, extensions; `REMOTE_ADDR` and the server's
/// address from a [`ConnectionInfo`](crate::ConnectionInfo) extension), runs
/// the app under the core [`Handler`](gateway_core::Handler), and answers
/// with the final head and a [`GatewayBody`]. It never fails
/// (`Error = Infallible`): an app that fails becomes a `500`, a body that
/// breaks after the head an aborted response.
///
/// It is `Clone` and cheap to clone (an `Arc`), so any tower or tower-http
/// layer can wrap it, and hyper can clone it per request. Options:
/// [`dispatch`](AppService::dispatch) (Blocking, the default, or Inline),
/// [`inline_when`](AppService::inline_when) (chosen per request by a
/// predicate over the request's head),
/// [`body_limit`](AppService::body_limit) (Inline's request buffer, and
/// Blocking's streamed body once set),
/// [`body_timeout`](AppService::body_timeout) (a stalled request body),
/// [`max_blocking`](AppService::max_blocking) (apps running at once in
/// Blocking mode; `poll_ready` waits for a place),
/// [`max_queued`](AppService::max_queued) (requests waiting for one; past
/// that, `503` with `Retry-After`),
/// [`deadline`](AppService::deadline) (the longest wait for a final head),
/// [`url_scheme`](AppService::url_scheme), [`flags`](AppService::flags)
/// (`wsgi.multithread` / `multiprocess` / `run_once`) and
/// [`errors`](AppService::errors) (`wsgi.errors`).
///
/// ```
/// use gateway_core::{Body, Environ, Error, StartResponse};
/// use gateway_tower::AppService;
/// use http_body_util::BodyExt;
/// use tower::ServiceExt;
///
/// fn hello(_: Environ, start_response: StartResponse) -> Result<Body, Error> {
///     start_response.start("200 OK", [("Content-Type", "text/plain")])?;
///     Ok(Body::from("Hello"))
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let service = AppService::new(hello);
/// let request = http::Request::get("/").body(http_body_util::Empty::<bytes::Bytes>::new()).unwrap();
/// let response = service.oneshot(request).await.unwrap();
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "Hello");
/// # });
/// ```
pub struct AppService<A> {
    app: Arc<A>,
    config: Config,
    policy: Policy,
    /// Places for apps running at once (Blocking dispatch).
    places: Arc<Semaphore>,
    /// The place `poll_ready` reserved for the next `call`.
    permit: Option<OwnedSemaphorePermit>,
    /// Waits for a place when none was free.
    waiting: Option<PollSemaphore>,
    /// How many Blocking requests wait for a place, shared by the clones.
    queue: Arc<AtomicUsize>,
    /// This service's place in that queue while `poll_ready` waits.
    slot: Option<QueueSlot>,
    /// `poll_ready` found the queue full: `call` answers `503`.
    refuse: bool,
}

impl<A: App> AppService<A> {
    /// Serve `app` with Blocking dispatch and the default limits.
    pub fn new(app: A) -> Self {
        AppService::from_arc(Arc::new(app))
    }

    /// Serve an app already shared.
    pub fn from_arc(app: Arc<A>) -> Self {
        AppService {
            app,
            policy: Policy::Always(Dispatch::Blocking),
            config: Config {
                body_limit: DEFAULT_BODY_LIMIT,
                limit_streams: false,
                body_timeout: None,
                deadline: None,
                max_queued: None,
                url_scheme: UrlScheme::Http,
                flags: Flags::default(),
                errors: None,
            },
            places: Arc::new(Semaphore::new(DEFAULT_MAX_BLOCKING)),
            permit: None,
            waiting: None,
            queue: Arc::new(AtomicUsize::new(0)),
            slot: None,
            refuse: false,
        }
    }
}

impl<A> AppService<A> {
    /// Where the app runs, for every request: [`Dispatch::Blocking`] or
    /// [`Dispatch::Inline`]. Replaces an [`inline_when`](Self::inline_when).
    pub fn dispatch(mut self, dispatch: Dispatch) -> Self {
        self.policy = Policy::Always(dispatch);
        self
    }

    /// Choose per request: Inline when `inline` returns `true` (the request
    /// cannot make the app block), Blocking otherwise. The predicate sees
    /// the request's head and whether a body follows ([`RequestInfo`]); it
    /// runs on the connection's task, so it must be quick.
    ///
    /// With a predicate the service is always ready (`poll_ready` never
    /// waits): a Blocking request waits for one of the
    /// [`max_blocking`](Self::max_blocking) places inside its
    /// [`ResponseFuture`], so Inline requests never queue behind it.
    ///
    /// ```
    /// use gateway_core::{Body, Environ, Error, StartResponse};
    /// use gateway_tower::{AppService, RequestInfo};
    ///
    /// fn app(_: Environ, start_response: StartResponse) -> Result<Body, Error> {
    ///     start_response.start("204 No Content", ())?;
    ///     Ok(Body::empty())
    /// }
    ///
    /// // Reports and uploads may block; everything else never does.
    /// let service = AppService::new(app).inline_when(|req: &RequestInfo<'_>| {
    ///     !req.has_body() && !req.path().starts_with("/reports/")
    /// });
    /// # let _ = service;
    /// ```
    pub fn inline_when<F>(mut self, inline: F) -> Self
    where
        F: Fn(&RequestInfo<'_>) -> bool + Send + Sync + 'static,
    {
        self.policy = Policy::InlineWhen(Arc::new(inline));
        self
    }

    /// The dispatch every request gets, or `None` when an
    /// [`inline_when`](Self::inline_when) predicate chooses per request.
    pub fn mode(&self) -> Option<Dispatch> {
        match self.policy {
            Policy::Always(dispatch) => Some(dispatch),
            Policy::InlineWhen(_) => None,
        }
    }

    /// The largest request body. Inline dispatch reads the body into memory
    /// up to it ([`DEFAULT_BODY_LIMIT`] unless set); for a larger one the
    /// app's `wsgi.input` fails with
    /// [`Error::PayloadTooLarge`](gateway_core::Error::PayloadTooLarge), and
    /// an app that fails with it is answered `413 Payload Too Large`. Blocking dispatch streams the body and
    /// enforces no limit unless this is called: then its `wsgi.input` fails
    /// with [`Error::PayloadTooLarge`](gateway_core::Error::PayloadTooLarge)
    /// at the first read of a body announced larger (`Content-Length`), or
    /// once a chunked one grows past it; an app that fails with it before its
    /// head is answered `413`.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.config.body_limit = bytes;
        self.config.limit_streams = true;
        self
    }

    /// The longest wait for the next bytes of a request body (none by
    /// default; the server's own timeouts still apply). Past it, Blocking's
    /// `wsgi.input` fails with
    /// [`Error::BodyTimeout`](gateway_core::Error::BodyTimeout) (an app
    /// that fails with it before its head is answered `408 Request
    /// Timeout`; after it, the response is aborted), and so does Inline's,
    /// once the body it reads first has stalled.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.config.body_timeout = Some(timeout);
        self
    }

    /// The longest a request may take from `call` to its final head (none by
    /// default). Past it the request is answered without the app: `503` with
    /// `Retry-After` while it still waits for a Blocking place, `504 Gateway
    /// Timeout` once the app runs; the connection is free for the next
    /// request, and the deadline is reported on `wsgi.errors`. Rust cannot
    /// stop a thread: an app blocked forever stays blocked on its thread and
    /// keeps its [`max_blocking`](Self::max_blocking) place, whatever the
    /// deadline. (Time spent in `poll_ready` does not count: bound it with
    /// [`max_queued`](Self::max_queued).)
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.config.deadline = Some(deadline);
        self
    }

    /// How many Blocking requests may wait at once for one of the
    /// [`max_blocking`](Self::max_blocking) places (no bound by default).
    /// One more is answered `503 Service Unavailable` with `Retry-After: 1`
    /// at once, never dropped. Counted over the clones made after this call.
    pub fn max_queued(mut self, requests: usize) -> Self {
        self.config.max_queued = Some(requests);
        self.queue = Arc::new(AtomicUsize::new(0));
        self.slot = None;
        self
    }

    /// How many apps may run at once with Blocking dispatch (at least 1).
    /// The blocking pool, shared by every service, runs at most 512 apps at
    /// once; past that, apps wait for a thread.
    /// The limit is shared by the clones made after this call.
    pub fn max_blocking(mut self, apps: usize) -> Self {
        self.places = Arc::new(Semaphore::new(apps.clamp(1, Semaphore::MAX_PERMITS)));
        self.permit = None;
        self.waiting = None;
        self
    }

    /// `wsgi.url_scheme` (`http` by default; `https` behind TLS).
    pub fn url_scheme(mut self, scheme: UrlScheme) -> Self {
        self.config.url_scheme = scheme;
        self
    }

    /// `wsgi.multithread`, `wsgi.multiprocess` and `wsgi.run_once` for every
    /// request ([`Flags::default`]: many threads, one process, many calls).
    /// A server that runs the app on one thread, or in several processes,
    /// says so here.
    pub fn flags(mut self, flags: Flags) -> Self {
        self.config.flags = flags;
        self
    }

    /// `wsgi.errors` for every request: where the app's diagnostics and the
    /// Handler's reports (a failed app, a broken body) go. `tracing` by default.
    pub fn errors(mut self, errors: ErrorStream) -> Self {
        self.config.errors = Some(errors);
        self
    }

    /// The app.
    pub fn app(&self) -> &A {
        &self.app
    }
}

impl<A, B> Service<Request<B>> for AppService<A>
where
    A: App,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<GatewayBody>;
    type Error = Infallible;
    type Future = ResponseFuture<A, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        if !matches!(self.policy, Policy::Always(Dispatch::Blocking)) || self.permit.is_some() {
            return Poll::Ready(Ok(()));
        }
        if self.refuse {
            return Poll::Ready(Ok(()));
        }
        if let Ok(permit) = self.places.clone().try_acquire_owned() {
            self.permit = Some(permit);
            self.slot = None;
            return Poll::Ready(Ok(()));
        }
        if self.slot.is_none() {
            match QueueSlot::enter(&self.queue, self.config.max_queued) {
                Some(slot) => self.slot = Some(slot),
                None => {
                    // Full: `call` answers 503 at once.
                    self.refuse = true;
                    return Poll::Ready(Ok(()));
                }
            }
        }
        let places = &self.places;
        let waiting = self
            .waiting
            .get_or_insert_with(|| PollSemaphore::new(places.clone()));
        match waiting.poll_acquire(cx) {
            Poll::Ready(permit) => {
                // `None` only if the semaphore were closed; it never is, and
                // `call` then answers 503 rather than run without a place.
                self.permit = permit;
                self.waiting = None;
                self.slot = None;
                Poll::Ready(Ok(()))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if std::mem::take(&mut self.refuse) {
            return ResponseFuture::answer(busy());
        }
        let (parts, body) = req.into_parts();
        let deadline = Deadline::of(&self.config, &parts);
        let future = match &self.policy {
            Policy::Always(Dispatch::Inline) => {
                ResponseFuture::inline(&self.app, &self.config, parts, body)
            }
            Policy::Always(Dispatch::Blocking) => {
                // A caller that skipped `poll_ready` gets a place if one is free.
                let permit = self
                    .permit
                    .take()
                    .or_else(|| self.places.clone().try_acquire_owned().ok());
                ResponseFuture::blocking(&self.app, &self.config, permit, parts, body)
            }
            Policy::InlineWhen(inline) => {
                if inline(&RequestInfo::new(&parts, !body.is_end_stream())) {
                    ResponseFuture::inline(&self.app, &self.config, parts, body)
                } else {
                    ResponseFuture::wait_for_place(
                        &self.app,
                        &self.config,
                        &self.places,
                        &self.queue,
                        parts,
                        body,
                    )
                }
            }
        };
        future.with_deadline(deadline)
    }
}

/// A clone shares the app and the limit on blocking apps, not a reserved place.
impl<A> Clone for AppService<A> {
    fn clone(&self) -> Self {
        AppService {
            app: self.app.clone(),
            config: self.config.clone(),
            policy: self.policy.clone(),
            places: self.places.clone(),
            permit: None,
            waiting: None,
            queue: self.queue.clone(),
            slot: None,
            refuse: false,
        }
    }
}

impl<A> fmt::Debug for AppService<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppService")
            .field("dispatch", &self.policy)
            .field("body_limit", &self.config.body_limit)
            .field("url_scheme", &self.config.url_scheme)
            .field("free_places", &self.places.available_permits())
            .field("max_queued", &self.config.max_queued)
            .field("deadline", &self.config.deadline)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
