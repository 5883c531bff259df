//! Inline dispatch: the app runs on the async task, after the request body
//! has been read whole (up to the service's limit).
//!
//! A request without a body (most `GET`s) runs the app at once inside
//! `call`: no extra future state, no buffer. A body is collected frame by
//! frame without copying when it comes in one frame. A body that cannot be
//! read still reaches the app, as in Blocking dispatch: its `wsgi.input`
//! fails at the first read with the typed client error, so the app's own
//! middleware (an access log) sees the request, and an app that fails with
//! it before its head is answered `413` (a `Content-Length` over the limit,
//! refused before a byte is read; a body that grows past it), `400` (a body
//! the connection reports broken) or `408` (a body stalled past the
//! body-read timeout) by the Handler, which reports it on `wsgi.errors` as
//! the client's error. The response body is then pulled from the Handler's
//! [`Output`](gateway_core::Output) inside hyper's `poll_frame`.

use std::future::Future;
use std::io::{self, Read};
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

use super::bridge::{Config, RequestKind, environ, plain, start};
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
        let limit = config.body_limit as u64;
        let input = failed(Error::PayloadTooLarge { limit });
        return Call::Done(run(&**app, parts, input, config));
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

/// A `wsgi.input` whose first read fails with the client's `error`, and
/// every later one with the same kind.
fn failed(error: Error) -> Input {
    Input::from_reader(Failed(Some(error)), None)
}

/// The reader of [`failed`].
struct Failed(Option<Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(match self.0.take() {
            Some(error) => io::Error::from(error),
            None => io::Error::new(
                io::ErrorKind::InvalidData,
                "the request body already failed to read",
            ),
        })
    }
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
    /// The client's `error` for the app to read from `wsgi.input`.
    fn fail(
        pending: &mut Option<(Parts, Arc<A>)>,
        config: &Config,
        error: Error,
    ) -> http::Response<GatewayBody> {
        match pending.take() {
            Some((parts, app)) => run(&*app, parts, failed(error), config),
            None => polled_again(),
        }
    }
}

/// The answer of a future polled after it finished: a broken caller,
/// answered, not a panic.
fn polled_again() -> http::Response<GatewayBody> {
    plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error\n")
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
                        return Poll::Ready(Self::fail(this.pending, this.config, error));
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
                            return Poll::Ready(Self::fail(this.pending, this.config, error));
                        }
                        if !chunk.is_empty() {
                            this.buf.push(chunk);
                        }
                    }
                }
                Some(Err(e)) => {
                    let error = client_body(e.into());
                    return Poll::Ready(Self::fail(this.pending, this.config, error));
                }
                None => break,
            }
        }
        let Some((parts, app)) = this.pending.take() else {
            return Poll::Ready(polled_again());
        };
        let input = std::mem::replace(this.buf, Collected::Nothing).into_input();
        Poll::Ready(run(&*app, parts, input, this.config))
    }
}
