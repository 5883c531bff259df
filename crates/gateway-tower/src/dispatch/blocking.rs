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
//!
//! While it runs there, the thread knows its runtime ([`runtime`]), so that
//! [`ServiceApp`](crate::ServiceApp) can wait for an async service.

use std::cell::RefCell;
use std::sync::Arc;

use bytes::Bytes;
use gateway_core::{App, Environ, Error, Handler, Input};
use http::{Request, StatusCode};
use http_body::Body;
use tokio::runtime::Handle;
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot};

use super::{Config, RequestKind, environ, plain, pool, start};
use crate::GatewayBody;
use crate::future::ResponseFuture;
use crate::input::BodyReader;

/// How many chunks may wait between the app's thread and the connection.
const CHANNEL: usize = 4;

thread_local! {
    /// The runtime of the blocking dispatch running on this thread, if any.
    static RUNTIME: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

/// The runtime to wait on, when this thread runs an app for Blocking dispatch.
pub(crate) fn runtime() -> Option<Handle> {
    RUNTIME.with(|rt| rt.borrow().clone())
}

/// Marks this thread as running an app for the duration of a request.
struct Enter;

impl Enter {
    fn new(handle: Handle) -> Self {
        RUNTIME.with(|rt| *rt.borrow_mut() = Some(handle));
        Enter
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        RUNTIME.with(|rt| *rt.borrow_mut() = None);
    }
}

/// Serve `req` on a blocking thread, holding `permit` while it runs.
pub(crate) fn call<A, B>(
    app: &Arc<A>,
    config: &Config,
    permit: Option<OwnedSemaphorePermit>,
    req: Request<B>,
) -> ResponseFuture<A, B>
where
    A: App,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<gateway_core::BoxError>,
{
    let Some(permit) = permit else {
        return ResponseFuture::ready(plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable\n",
        ));
    };
    let Ok(handle) = Handle::try_current() else {
        // Blocking dispatch needs a tokio runtime to lend it threads.
        return ResponseFuture::ready(plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error\n",
        ));
    };
    let (parts, body) = req.into_parts();
    let input = if body.is_end_stream() {
        Input::empty()
    } else {
        let length = body.size_hint().exact();
        Input::from_reader(BodyReader::new(body), length)
    };
    let environ = environ(parts, input, config);
    let (tx, rx) = oneshot::channel();
    let app = app.clone();
    let marker = handle;
    let job = move || {
        let _permit = permit;
        // As on tokio's own blocking threads, the app sees the runtime
        // (`Handle::current`, `tokio::spawn`) and may still block on it.
        let _tokio = marker.enter();
        let _enter = Enter::new(marker.clone());
        run(&*app, environ, tx);
    };
    if pool::spawn(job).is_err() {
        // Not a single thread could be started to run the app.
        return ResponseFuture::ready(plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable\n",
        ));
    }
    ResponseFuture::blocking(rx)
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
