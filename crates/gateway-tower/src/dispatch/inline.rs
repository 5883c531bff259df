//! Inline dispatch: the app runs on the async task, after the request body
//! has been read whole (up to the service's limit).
//!
//! A request without a body (most `GET`s) runs the app at once inside
//! `call`: no extra future state, no buffer. A body is collected frame by
//! frame without copying when it comes in one frame; a `Content-Length` over
//! the limit is refused (`413`) before a byte is read, and so is a body that
//! grows past it. The response body is then pulled from the Handler's
//! [`Output`](gateway_core::Output) inside hyper's `poll_frame`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use gateway_core::{App, Handler, Input};
use http::StatusCode;
use http::request::Parts;
use http_body::Body;
use pin_project_lite::pin_project;

use super::bridge::{Config, RequestKind, environ, plain, start};
use crate::GatewayBody;

/// What `call` leaves to do: nothing (the answer), or read the body first.
pub(crate) enum Call<A, B> {
    /// The app ran (or the request was refused): the answer.
    Done(http::Response<GatewayBody>),
    /// The body is read first, then the app runs.
    Collect(Collect<A, B>),
}

/// Serve a request inline.
pub(crate) fn call<A: App, B: Body>(
    app: &Arc<A>,
    config: &Config,
    parts: Parts,
    body: B,
) -> Call<A, B> {
    if body.is_end_stream() {
        return Call::Done(run(&**app, parts, Input::empty(), config));
    }
    if body.size_hint().lower() > config.body_limit as u64 {
        return Call::Done(too_large());
    }
    Call::Collect(Collect {
        body,
        pending: Some((parts, app.clone())),
        buf: Collected::Nothing,
        config: config.clone(),
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
    }
}

impl<A: App, B: Body> Future for Collect<A, B> {
    type Output = http::Response<GatewayBody>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match ready!(this.body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Ok(mut data) = frame.into_data() {
                        let chunk = data.copy_to_bytes(data.remaining());
                        if this.buf.len() + chunk.len() > this.config.body_limit {
                            return Poll::Ready(too_large());
                        }
                        if !chunk.is_empty() {
                            this.buf.push(chunk);
                        }
                    }
                }
                Some(Err(_)) => {
                    return Poll::Ready(plain(StatusCode::BAD_REQUEST, "Bad Request\n"));
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
