//! `ResponseFuture`: the one response future of every dispatch.
//!
//! Documented on [`ResponseFuture`](crate::ResponseFuture).

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use gateway_core::{App, BoxError, ErrorStream, RequestLine};
use http::StatusCode;
use http::request::Parts;
use http_body::Body;
use pin_project_lite::pin_project;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tokio::time::Sleep;
use tokio_util::sync::PollSemaphore;

use super::blocking;
use super::bridge::{Config, plain};
use super::inline::{self, Collect};
use super::queue::{QueueSlot, busy};
use crate::GatewayBody;

type Answer = http::Response<GatewayBody>;

pin_project! {
    /// The response of an [`AppService`](crate::AppService), in the making,
    /// for every dispatch.
    ///
    /// It resolves to the final head with a [`GatewayBody`] once the Handler has
    /// the head final: at once for an Inline request without a body (the app ran
    /// inside `call`), after the request body is read for an Inline request with
    /// one, and when the blocking thread sends the head for Blocking dispatch.
    /// A Blocking request of a per-request policy first waits here for a place
    /// among the apps allowed to run at once. It never fails: every failure is
    /// an HTTP answer. Dropping it before it resolves (the client went away, a
    /// timeout layer gave up) closes the app's body on its thread.
    ///
    /// With a [`deadline`](crate::AppService::deadline), it resolves at the
    /// deadline if the head is not final by then: `503` with `Retry-After`
    /// while the request still waits for a place, `504` once the app runs
    /// (an app blocked on its thread stays blocked, holding its place).
    pub struct ResponseFuture<A, B> {
        #[pin]
        state: State<A, B>,
        deadline: Option<Box<Deadline>>,
    }
}

/// A request's deadline, and what to name it by when it passes.
pub(crate) struct Deadline {
    sleep: Pin<Box<Sleep>>,
    after: Duration,
    method: http::Method,
    target: String,
    request_id: Option<String>,
    /// The service's `wsgi.errors`, if not the default.
    errors: Option<ErrorStream>,
}

impl Deadline {
    /// The deadline of a request, if the service has one (and a timer runs).
    pub(crate) fn of(config: &Config, parts: &Parts) -> Option<Box<Deadline>> {
        let after = config.deadline?;
        tokio::runtime::Handle::try_current().ok()?;
        Some(Box::new(Deadline {
            sleep: Box::pin(tokio::time::sleep(after)),
            after,
            method: parts.method.clone(),
            target: parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned(),
            request_id: parts
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            errors: config.errors.clone(),
        }))
    }

    /// Report that the deadline passed.
    fn report(&self, waiting: bool) {
        let line = RequestLine {
            method: self.method.as_str(),
            target: &self.target,
            request_id: self.request_id.as_deref(),
        };
        let what = if waiting {
            "waited for a blocking place"
        } else {
            "ran without a final head"
        };
        let message = format!(
            "the request {what} past its deadline of {:?}: answered {}",
            self.after,
            if waiting { "503" } else { "504" }
        );
        match &self.errors {
            Some(errors) => errors.report(&line, &message),
            None => ErrorStream::default().report(&line, &message),
        }
    }
}

pin_project! {
    #[project = StateProj]
    enum State<A, B> {
        Ready { response: Option<Answer> },
        Collect { #[pin] collect: Collect<A, B> },
        Waiting { places: PollSemaphore, pending: Option<Pending<A, B>>, slot: Option<QueueSlot> },
        Blocking { rx: oneshot::Receiver<Answer> },
    }
}

/// A Blocking request waiting for a place.
struct Pending<A, B> {
    app: Arc<A>,
    config: Config,
    parts: Parts,
    body: B,
}

impl<A: App, B> ResponseFuture<A, B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    /// Serve a request Inline.
    pub(crate) fn inline(app: &Arc<A>, config: &Config, parts: Parts, body: B) -> Self {
        let state = match inline::call(app, config, parts, body) {
            inline::Call::Done(response) => State::Ready {
                response: Some(response),
            },
            inline::Call::Collect(collect) => State::Collect { collect },
        };
        ResponseFuture {
            state,
            deadline: None,
        }
    }
}

impl<A, B> ResponseFuture<A, B> {
    /// An answer made without the app.
    pub(crate) fn answer(response: Answer) -> Self {
        ResponseFuture {
            state: State::Ready {
                response: Some(response),
            },
            deadline: None,
        }
    }

    /// Give up at `deadline`, if any.
    pub(crate) fn with_deadline(mut self, deadline: Option<Box<Deadline>>) -> Self {
        self.deadline = deadline;
        self
    }
}

impl<A, B> ResponseFuture<A, B>
where
    A: App,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Serve a request Blocking, in the place `permit` holds.
    pub(crate) fn blocking(
        app: &Arc<A>,
        config: &Config,
        permit: Option<OwnedSemaphorePermit>,
        parts: Parts,
        body: B,
    ) -> Self {
        ResponseFuture {
            state: blocking_state(app.clone(), config, permit, parts, body),
            deadline: None,
        }
    }

    /// Serve a request Blocking once one of `places` is free (at once if
    /// one is free now), waiting in `queue` (or answered `503` when it is full).
    pub(crate) fn wait_for_place(
        app: &Arc<A>,
        config: &Config,
        places: &Arc<Semaphore>,
        queue: &Arc<std::sync::atomic::AtomicUsize>,
        parts: Parts,
        body: B,
    ) -> Self {
        if let Ok(permit) = places.clone().try_acquire_owned() {
            return Self::blocking(app, config, Some(permit), parts, body);
        }
        let Some(slot) = QueueSlot::enter(queue, config.max_queued) else {
            return Self::answer(busy());
        };
        let pending = Pending {
            app: app.clone(),
            config: config.clone(),
            parts,
            body,
        };
        ResponseFuture {
            state: State::Waiting {
                places: PollSemaphore::new(places.clone()),
                pending: Some(pending),
                slot: Some(slot),
            },
            deadline: None,
        }
    }
}

fn blocking_state<A, B>(
    app: Arc<A>,
    config: &Config,
    permit: Option<OwnedSemaphorePermit>,
    parts: Parts,
    body: B,
) -> State<A, B>
where
    A: App,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    match blocking::call(app, config, permit, parts, body) {
        Ok(rx) => State::Blocking { rx },
        Err(refused) => State::Ready {
            response: Some(refused.answer()),
        },
    }
}

impl<A, B> Future for ResponseFuture<A, B>
where
    A: App,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Output = Result<Answer, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut state = this.state;
        let polled = poll_state(state.as_mut(), cx);
        if polled.is_ready() {
            return polled;
        }
        let Some(deadline) = this.deadline.as_mut() else {
            return Poll::Pending;
        };
        ready!(deadline.sleep.as_mut().poll(cx));
        let waiting = matches!(*state, State::Waiting { .. });
        deadline.report(waiting);
        let answer = if waiting {
            busy()
        } else {
            plain(StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout\n")
        };
        // Dropping the state drops a Blocking request's receiver: the app's
        // thread learns at its next send that nobody waits.
        state.set(State::Ready { response: None });
        Poll::Ready(Ok(answer))
    }
}

/// Drive the state to the answer (without the deadline).
fn poll_state<A, B>(
    mut state: Pin<&mut State<A, B>>,
    cx: &mut Context<'_>,
) -> Poll<Result<Answer, Infallible>>
where
    A: App,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    loop {
        let response = match state.as_mut().project() {
            StateProj::Ready { response } => response.take().unwrap_or_else(internal_error),
            StateProj::Collect { collect } => ready!(collect.poll(cx)),
            StateProj::Blocking { rx } => match ready!(Pin::new(rx).poll(cx)) {
                Ok(response) => response,
                // The thread ended without an answer: nothing is left to send.
                Err(_) => internal_error(),
            },
            StateProj::Waiting {
                places, pending, ..
            } => {
                let permit = ready!(places.poll_acquire(cx));
                let next = match (permit, pending.take()) {
                    (Some(permit), Some(p)) => {
                        blocking_state(p.app, &p.config, Some(permit), p.parts, p.body)
                    }
                    // The semaphore never closes; polled after it ended.
                    _ => State::Ready {
                        response: Some(blocking::Refused::Unavailable.answer()),
                    },
                };
                state.set(next);
                continue;
            }
        };
        return Poll::Ready(Ok(response));
    }
}

fn internal_error() -> Answer {
    plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error\n")
}

impl<A, B> fmt::Debug for ResponseFuture<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Ready { .. } => "ready",
            State::Collect { .. } => "collecting the request body",
            State::Waiting { .. } => "waiting for a blocking place",
            State::Blocking { .. } => "running on a blocking thread",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .field("deadline", &self.deadline.as_ref().map(|d| d.after))
            .finish()
    }
}
