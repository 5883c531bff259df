//! Blocking dispatch: the app and its body run on a blocking thread of
//! the [`pool`](super::pool), never on an async worker.
//!
//! `call` moves the environ to a blocking thread, where the Handler runs the
//! app and pulls its body until the head is final. The head (with the first
//! chunk) comes back through a oneshot; when that chunk was the whole body,
//! that is all. Otherwise the thread goes on pulling the body and sends each
//! chunk through a bounded channel (`blocking_send`: the app waits while the
//! client is slow). When hyper drops the response body (the client went
//! away), the next send fails, the thread drops the Handler's output, and the
//! app's body is closed on that thread.

use std::sync::Arc;

use bytes::Bytes;
use gateway_core::{App, Environ, Error, Handler, Input};
use http::StatusCode;
use http::request::Parts;
use http_body::Body;
use tokio::runtime::Handle;
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot};

use super::bridge::{Config, RequestKind, environ, plain, start};
use super::pool;
use crate::GatewayBody;
use crate::input::BodyReader;

/// How many chunks may wait between the app's thread and the connection.
const CHANNEL: usize = 4;

/// Why a request could not run on a blocking thread.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Refused {
    /// No place among the apps allowed at once, or no thread could start.
    Unavailable,
    /// No tokio runtime to lend the thread its handle.
    NoRuntime,
}

impl Refused {
    /// The answer to the client.
    pub(crate) fn answer(self) -> http::Response<GatewayBody> {
        match self {
            Refused::Unavailable => plain(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n"),
            Refused::NoRuntime => {
                plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error\n")
            }
        }
    }
}

/// Serve a request on a blocking thread, holding `permit` while it runs:
/// the receiver of its answer.
pub(crate) fn call<A, B>(
    app: Arc<A>,
    config: &Config,
    permit: Option<OwnedSemaphorePermit>,
    parts: Parts,
    body: B,
) -> Result<oneshot::Receiver<http::Response<GatewayBody>>, Refused>
where
    A: App,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<gateway_core::BoxError>,
{
    let Some(permit) = permit else {
        return Err(Refused::Unavailable);
    };
    let Ok(handle) = Handle::try_current() else {
        // Blocking dispatch needs a tokio runtime to lend it threads.
        return Err(Refused::NoRuntime);
    };
    let input = if body.is_end_stream() {
        Input::empty()
    } else {
        let length = body.size_hint().exact();
        let limit = config.limit_streams.then_some(config.body_limit as u64);
        let reader = BodyReader::new(body)
            .limit(limit)
            .timeout(config.body_timeout);
        Input::from_reader(reader, length)
    };
    let environ = environ(parts, input, config);
    let (tx, rx) = oneshot::channel();
    let job = move || {
        let _permit = permit;
        // As on tokio's own blocking threads, the app sees the runtime
        // (`Handle::current`, `tokio::spawn`) and may still block on it.
        let _tokio = handle.enter();
        run(&*app, environ, tx);
    };
    if pool::spawn(job).is_err() {
        // Not a single thread could be started to run the app.
        return Err(Refused::Unavailable);
    }
    Ok(rx)
}

/// On the blocking thread: run the app, send the head, then stream the body.
fn run<A: App + ?Sized>(
    app: &A,
    environ: Environ,
    tx: oneshot::Sender<http::Response<GatewayBody>>,
) {
    let kind = RequestKind::of(&environ);
    let started = start(Handler::new().run(app, environ), kind);
    let Some(mut output) = started.rest else {
        let body = GatewayBody::once(started.first, started.length);
        let _ = tx.send(started.head.map(|()| body));
        return;
    };
    let (chunks, rx) = mpsc::channel::<Result<Bytes, Error>>(CHANNEL);
    let body = GatewayBody::channel(started.first, rx, started.length);
    if tx.send(started.head.map(|()| body)).is_err() {
        // The request was dropped before its head: the client is gone.
        return;
    }
    for item in output.by_ref() {
        if chunks.blocking_send(item).is_err() {
            // The response body was dropped: stop, and close the app's body.
            return;
        }
    }
}
