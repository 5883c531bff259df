//! `start_response` and the legacy `write` callable.
//!
//! [`StartResponse`] is an owned handle: an app may call it at once, or move
//! it into its body and call it on the first `next()` (a generator app). It
//! checks the status and headers ([`Head::parse`]), refuses a second call
//! unless the app passes the error that made it change its mind
//! ([`StartResponse::start_with_error`], PEP 3333's `exc_info`), and hands that
//! error back once the head has been sent (the re-raise). It returns a
//! [`Writer`], PEP 3333's `write`, for apps written the old way.
//!
//! The handle and the [`Handler`](crate::Handler) share one small slot: the
//! only allocation `start_response` costs per request.
//!
//! ```
//! use gateway_core::{Body, Environ, Error, StartResponse};
//!
//! fn app(_environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
//!     start_response.start("200 OK", [("Content-Type", "text/plain")])?;
//!     Ok(Body::from("Hello"))
//! }
//! ```

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http::Extensions;

use crate::intercept::{OnFinish, OnHead};
use crate::{Error, Head, Intercept, IntoHeaders, IntoStatus, Outcome};

/// What `start_response`, `write` and the Handler share for one request.
#[derive(Default)]
pub(crate) struct Slot {
    state: Mutex<State>,
    /// Set when `write` queued data; saves the Handler a lock per chunk.
    written: AtomicBool,
}

#[derive(Default)]
pub(crate) struct State {
    /// The head the app set, until the Handler takes it.
    pub(crate) head: Option<Head>,
    /// `start_response` was called (the head may have been taken since).
    pub(crate) started: bool,
    /// The head went out: `exc_info` now means re-raise.
    pub(crate) head_sent: bool,
    /// The response is over (ended or dropped): `write` fails from now on.
    pub(crate) closed: bool,
    /// `write` data the Handler has not taken yet.
    pub(crate) written: Vec<Bytes>,
    /// Interceptors, outermost first.
    pub(crate) intercepts: Vec<Box<dyn Intercept>>,
    /// Typed values for the layers outside ([`StartResponse::publish`]).
    pub(crate) values: Extensions,
}

impl Slot {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held leaves nothing half-written that
        // matters more than serving the rest of the request: go on.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Take what `write` queued, if anything (no lock when nothing was written).
    pub(crate) fn take_written(&self) -> Vec<Bytes> {
        if self.written.swap(false, Ordering::Acquire) {
            std::mem::take(&mut self.lock().written)
        } else {
            Vec::new()
        }
    }

    /// Drop what `write` queued: it belonged to a response that was replaced.
    pub(crate) fn discard_written(&self) {
        if self.written.swap(false, Ordering::Acquire) {
            self.lock().written.clear();
        }
    }

    /// `true` while the app's head waits to be taken.
    pub(crate) fn has_head(&self) -> bool {
        self.lock().head.is_some()
    }
}

/// PEP 3333's `start_response` callable, as an owned handle.
pub struct StartResponse {
    slot: Arc<Slot>,
}

impl StartResponse {
    pub(crate) fn new() -> (Self, Arc<Slot>) {
        let slot = Arc::new(Slot::default());
        (StartResponse { slot: slot.clone() }, slot)
    }

    /// Set the status and headers. Returns the legacy `write` callable.
    pub fn start(
        &self,
        status: impl IntoStatus,
        headers: impl IntoHeaders,
    ) -> Result<Writer, Error> {
        let head = Head::parse(status, headers)?;
        let mut state = self.slot.lock();
        if state.started {
            return Err(Error::AlreadyStarted);
        }
        state.started = true;
        state.head = Some(head);
        drop(state);
        Ok(Writer {
            slot: self.slot.clone(),
        })
    }

    /// `start_response(status, headers, exc_info)`: the app hit `error` and
    /// wants to send another response instead. Before the head is sent, the
    /// new head replaces the old (and `write` data not yet sent, which was
    /// for the old response, is dropped); after, `error` comes back to the
    /// app (PEP 3333's re-raise), which should return it.
    pub fn start_with_error(
        &self,
        status: impl IntoStatus,
        headers: impl IntoHeaders,
        error: Error,
    ) -> Result<Writer, Error> {
        let mut state = self.slot.lock();
        if state.head_sent {
            return Err(error);
        }
        drop(state);
        let head = Head::parse(status, headers)?;
        state = self.slot.lock();
        if state.head_sent {
            return Err(error);
        }
        state.started = true;
        state.head = Some(head);
        state.written.clear();
        self.slot.written.store(false, Ordering::Release);
        Ok(Writer {
            slot: self.slot.clone(),
        })
    }

    /// `true` once `start_response` has been called.
    pub fn is_started(&self) -> bool {
        self.slot.lock().started
    }

    /// `true` once the head has gone to the client.
    pub fn is_head_sent(&self) -> bool {
        self.slot.lock().head_sent
    }

    /// Register an interceptor: it sees the head, every chunk and the end of
    /// the response of the app this handle is passed to. Interceptors
    /// registered first are outermost (they see the output last).
    pub fn intercept(&self, intercept: impl Intercept) {
        self.slot.lock().intercepts.push(Box::new(intercept));
    }
}

impl StartResponse {
    /// Change the final head before it goes out: `f` runs once, when the
    /// inner app's head is final (after the interceptors registered after
    /// this one, so after every middleware inside). An error from `f` is the
    /// app's error: a `500`.
    ///
    /// ```
    /// # use gateway_core::{Body, Environ, Error, Next, StartResponse};
    /// fn served_by(environ: Environ, sr: StartResponse, next: Next<'_>) -> Result<Body, Error> {
    ///     sr.on_head(|head| head.set_header("x-served-by", "gateway"));
    ///     next.call(environ, sr)
    /// }
    /// ```
    pub fn on_head(&self, f: impl FnOnce(&mut Head) -> Result<(), Error> + Send + 'static) {
        self.intercept(OnHead(Some(f)));
    }

    /// Run `f` once the response is over, however it ended (complete,
    /// failed, client gone), with its [`Outcome`]: the place to time a
    /// request, count bytes or log.
    ///
    /// ```
    /// # use gateway_core::{Body, Environ, Error, Next, StartResponse};
    /// fn timed(environ: Environ, sr: StartResponse, next: Next<'_>) -> Result<Body, Error> {
    ///     let (started, path) = (std::time::Instant::now(), environ.quoted_path());
    ///     sr.on_finish(move |outcome| {
    ///         eprintln!("{path}: {} in {:?}", outcome.status, started.elapsed());
    ///     });
    ///     next.call(environ, sr)
    /// }
    /// ```
    pub fn on_finish(&self, f: impl FnOnce(&Outcome) + Send + 'static) {
        self.intercept(OnFinish(Some(f)));
    }

    /// Hand a typed value to the middleware outside this one, which read it
    /// in the response's [`Outcome`] ([`Outcome::get`]): auth publishes the
    /// [`RemoteUser`](crate::RemoteUser) for the access log. The environ
    /// moves inward and never comes back, so this is the way outward. A
    /// second value of the same type replaces the first.
    pub fn publish<T: Clone + Send + Sync + 'static>(&self, value: T) {
        self.slot.lock().values.insert(value);
    }
}

impl fmt::Debug for StartResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.slot.lock();
        f.debug_struct("StartResponse")
            .field("started", &state.started)
            .field("head_sent", &state.head_sent)
            .finish()
    }
}

/// PEP 3333's `write` callable: body data sent ahead of the returned body.
///
/// Data is passed on, in order with the body's chunks, when the app returns
/// or yields its next chunk. New code should return a [`Body`](crate::Body).
#[derive(Clone)]
pub struct Writer {
    slot: Arc<Slot>,
}

impl Writer {
    /// Send `data` as part of the body.
    pub fn write(&self, data: impl Into<Bytes>) -> Result<(), Error> {
        let data = data.into();
        let mut state = self.slot.lock();
        if state.closed {
            return Err(Error::ClientGone);
        }
        if state.head.is_none() && !state.head_sent {
            return Err(Error::WriteBeforeStart);
        }
        if !data.is_empty() {
            state.written.push(data);
            self.slot.written.store(true, Ordering::Release);
        }
        Ok(())
    }
}

impl std::io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Writer::write(self, Bytes::copy_from_slice(buf)).map_err(std::io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    #[test]
    fn second_call_without_exc_info_is_an_error() {
        let (sr, slot) = StartResponse::new();
        sr.start("200 OK", ()).unwrap();
        assert!(matches!(
            sr.start("500 Oops", ()),
            Err(Error::AlreadyStarted)
        ));
        assert_eq!(slot.lock().head.as_ref().unwrap().status, StatusCode::OK);
    }

    #[test]
    fn exc_info_before_the_head_is_sent_replaces_it() {
        let (sr, slot) = StartResponse::new();
        sr.start("200 OK", [("X-Old", "1")]).unwrap();
        sr.start_with_error("503 Busy", [("X-New", "1")], Error::msg("db down"))
            .unwrap();
        let state = slot.lock();
        let head = state.head.as_ref().unwrap();
        assert_eq!(head.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(head.headers.contains_key("x-new") && !head.headers.contains_key("x-old"));
    }

    #[test]
    fn exc_info_after_the_head_is_sent_re_raises_the_original() {
        let (sr, slot) = StartResponse::new();
        sr.start("200 OK", ()).unwrap();
        slot.lock().head_sent = true;
        let err = sr
            .start_with_error("500 Oops", (), Error::msg("the original"))
            .unwrap_err();
        assert_eq!(err.to_string(), "the original");
    }

    #[test]
    fn exc_info_without_a_previous_call_is_a_first_call() {
        let (sr, slot) = StartResponse::new();
        sr.start_with_error("500 Oops", (), Error::msg("x"))
            .unwrap();
        assert!(slot.lock().started);
    }

    #[test]
    fn invalid_heads_are_not_recorded() {
        let (sr, slot) = StartResponse::new();
        assert!(sr.start("200 OK", [("Bad Name", "x")]).is_err());
        assert!(!slot.lock().started);
        sr.start("200 OK", ()).unwrap();
    }

    #[test]
    fn write_queues_in_order_and_fails_after_close() {
        let (sr, slot) = StartResponse::new();
        let w = sr.start("200 OK", ()).unwrap();
        w.write("a").unwrap();
        w.write("").unwrap();
        w.write("b").unwrap();
        assert_eq!(slot.take_written(), ["a", "b"]);
        assert!(slot.take_written().is_empty());
        slot.lock().closed = true;
        assert!(matches!(w.write("c"), Err(Error::ClientGone)));
    }
}
