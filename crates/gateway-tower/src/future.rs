//! `ResponseFuture`: what [`AppService::call`](crate::AppService) returns.
//!
//! It resolves to the final head with a [`GatewayBody`] once the Handler has
//! the head final: at once for an Inline request without a body (the app ran
//! inside `call`), after the request body is read for an Inline request with
//! one, and when the blocking thread sends the head for Blocking dispatch.
//! It never fails: every failure is an HTTP answer. Dropping it before it
//! resolves (the client went away, a timeout layer gave up) closes the app's
//! body on its thread.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use gateway_core::App;
use http::StatusCode;
use http_body::Body;
use pin_project_lite::pin_project;
use tokio::sync::oneshot;

use crate::GatewayBody;
use crate::dispatch::inline::Collect;
use crate::dispatch::plain;

pin_project! {
    /// The response of an [`AppService`](crate::AppService), in the making.
    pub struct ResponseFuture<A, B> {
        #[pin]
        state: State<A, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<A, B> {
        Ready { response: Option<http::Response<GatewayBody>> },
        Collect { #[pin] collect: Collect<A, B> },
        Blocking { rx: oneshot::Receiver<http::Response<GatewayBody>> },
    }
}

impl<A, B> ResponseFuture<A, B> {
    pub(crate) fn ready(response: http::Response<GatewayBody>) -> Self {
        ResponseFuture {
            state: State::Ready {
                response: Some(response),
            },
        }
    }

    pub(crate) fn collect(collect: Collect<A, B>) -> Self {
        ResponseFuture {
            state: State::Collect { collect },
        }
    }

    pub(crate) fn blocking(rx: oneshot::Receiver<http::Response<GatewayBody>>) -> Self {
        ResponseFuture {
            state: State::Blocking { rx },
        }
    }
}

impl<A: App, B: Body> Future for ResponseFuture<A, B> {
    type Output = Result<http::Response<GatewayBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let response = match self.project().state.project() {
            StateProj::Ready { response } => response.take().unwrap_or_else(internal_error),
            StateProj::Collect { collect } => match collect.poll(cx) {
                Poll::Ready(response) => response,
                Poll::Pending => return Poll::Pending,
            },
            StateProj::Blocking { rx } => match Pin::new(rx).poll(cx) {
                Poll::Ready(Ok(response)) => response,
                // The thread ended without an answer: nothing is left to send.
                Poll::Ready(Err(_)) => internal_error(),
                Poll::Pending => return Poll::Pending,
            },
        };
        Poll::Ready(Ok(response))
    }
}

fn internal_error() -> http::Response<GatewayBody> {
    plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error\n")
}

impl<A, B> fmt::Debug for ResponseFuture<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Ready { .. } => "ready",
            State::Collect { .. } => "collecting the request body",
            State::Blocking { .. } => "running on a blocking thread",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}
