//! Inline dispatch: the app runs on the async task, after the request body
//! has been read whole (up to the service's limit).
//!
//! A request without a body (most `GET`s) runs the app at once inside
//! `call`: no extra future state, no buffer. A body is collected frame by
//! frame without copying when it comes in one frame; a `Content-Length` over
//! the limit is refused (`413`) before a byte is read, and so is a body that
//! grows past it. A body the connection reports broken is answered `400`,
//! one that stalls past the body-read timeout `408`; these answers, made
//! without the app, are reported on `wsgi.errors` as the client's errors.
//! The response body is then pulled from the Handler's
//! [`Output`](gateway_core::Output) inside hyper's `poll_frame`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use gateway_core::{App, BoxError, Error, Handler, Input};
use http::StatusCode;
use http::request::Parts;
use http_body::Body;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

use super::bridge::{Config, RequestKind, environ, plain, report, start};
use crate::GatewayBody;
use crate::input::client_body;

/// What `call` leaves to do: nothing (the answer), or read the body first.
pub(crate) enum Call<A, B> {
    /// The app ran (or the request was refused): the answer.
    Done(http::Response<GatewayBody>),
    /// The body is read first, then the app runs.
    Collect(Collect<A, B>),
}

/// Serve a request inline.
pub(crate) fn call<A: App, B>(app: &Arc<A>, config: &Config, parts: Parts, body: B) -> Call<A, B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    if body.is_end_stream() {
        return Call::Done(run(&**app, parts, Input::empty(), config));
    }
    if body.size_hint().lower() > config.body_limit as u64 {
        return Call::Done(too_large());
    }
    // Outside a runtime there is no timer: the timeout is then not kept.
    let stall = config
        .body_timeout
        .filter(|_| tokio::runtime::Handle::try_current().is_ok())
        .map(|t| Box::pin(tokio::time::sleep(t)));
    Call::Collect(Collect {
        body,
        pending: Some((parts, app.clone())),
        buf: Collected::Nothing,
        config: config.clone(),
        stall,
    })
}

/// Run the app for one request, its body in memory.
fn run<A: App + ?Sized>(
    app: &A,
    parts: Parts,
    input: Input,
    config: &Config,
) -> http::Response<GatewayBody> {
    let environ = environ(parts, input, config);
    let kind = RequestKind::of(&environ);
    let started = start(Handler::new().run(app, environ), kind);
    let body = match started.rest {
        Some(output) => GatewayBody::output(started.first, output, started.length),
        None => GatewayBody::once(started.first, started.length),
    };
    started.head.map(|()| body)
}

fn too_large() -> http::Response<GatewayBody> {
    plain(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large\n")
}

/// The request body so far.
enum Collected {
    Nothing,
    One(Bytes),
    Many(BytesMut),
}

impl Collected {
    fn len(&self) -> usize {
        match self {
            Collected::Nothing => 0,
            Collected::One(b) => b.len(),
            Collected::Many(b) => b.len(),
        }
    }

    fn push(&mut self, chunk: Bytes) {
        *self = match std::mem::replace(self, Collected::Nothing) {
            Collected::Nothing => Collected::One(chunk),
            Collected::One(first) => {
                let mut all = BytesMut::with_capacity(first.len() + chunk.len());
                all.extend_from_slice(&first);
                all.extend_from_slice(&chunk);
                Collected::Many(all)
            }
            Collected::Many(mut all) => {
                all.extend_from_slice(&chunk);
                Collected::Many(all)
            }
        }
    }

    fn into_input(self) -> Input {
        match self {
            Collected::Nothing => Input::empty(),
            Collected::One(b) => Input::from_bytes(b),
            Collected::Many(b) => Input::from_bytes(b.freeze()),
        }
    }
}

pin_project! {
    /// Reads the request body whole, then runs the app.
    pub(crate) struct Collect<A, B> {
        #[pin]
        body: B,
        pending: Option<(Parts, Arc<A>)>,
        buf: Collected,
        config: Config,
        // The body-read timeout, reset at every frame.
        stall: Option<Pin<Box<Sleep>>>,
    }
}

impl<A: App, B> Collect<A, B> {
    /// The client's error, reported and answered without the app.
    fn refuse(
        parts: Option<&Parts>,
        config: &Config,
        error: &Error,
    ) -> http::Response<GatewayBody> {
        if let Some(parts) = parts {
            report(parts, config, error);
        }
        match error {
            Error::PayloadTooLarge { .. } => too_large(),
            Error::BodyTimeout { .. } => plain(
                StatusCode::REQUEST_TIMEOUT,
                "Request Timeout: the request body stalled\n",
            ),
            _ => plain(
                StatusCode::BAD_REQUEST,
                "Bad Request: the request body is malformed or cut short\n",
            ),
        }
    }
}

impl<A: App, B> Future for Collect<A, B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Output = http::Response<GatewayBody>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let polled = match this.body.as_mut().poll_frame(cx) {
                Poll::Ready(frame) => frame,
                Poll::Pending => {
                    if let Some(stall) = this.stall.as_mut() {
                        ready!(stall.as_mut().poll(cx));
                        let after = this.config.body_timeout.unwrap_or_default();
                        let error = Error::BodyTimeout { after };
                        let parts = this.pending.as_ref().map(|(p, _)| p);
                        return Poll::Ready(Self::refuse(parts, this.config, &error));
                    }
                    return Poll::Pending;
                }
            };
            match polled {
                Some(Ok(frame)) => {
                    if let (Some(stall), Some(t)) = (this.stall.as_mut(), this.config.body_timeout)
                    {
                        stall.as_mut().reset(Instant::now() + t);
                    }
                    if let Ok(mut data) = frame.into_data() {
                        let chunk = data.copy_to_bytes(data.remaining());
                        if this.buf.len() + chunk.len() > this.config.body_limit {
                            let limit = this.config.body_limit as u64;
                            let error = Error::PayloadTooLarge { limit };
                            let parts = this.pending.as_ref().map(|(p, _)| p);
                            return Poll::Ready(Self::refuse(parts, this.config, &error));
                        }
                        if !chunk.is_empty() {
                            this.buf.push(chunk);
                        }
                    }
                }
                Some(Err(e)) => {
                    let error = client_body(e.into());
                    let parts = this.pending.as_ref().map(|(p, _)| p);
                    return Poll::Ready(Self::refuse(parts, this.config, &error));
                }
                None => break,
            }
        }
        let Some((parts, app)) = this.pending.take() else {
            // Polled after it finished: a broken caller, answered, not a panic.
            return Poll::Ready(plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error\n",
            ));
        };
        let input = std::mem::replace(this.buf, Collected::Nothing).into_input();
        Poll::Ready(run(&*app, parts, input, this.config))
    }
}
