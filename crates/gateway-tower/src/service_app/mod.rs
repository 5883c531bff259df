//! `ServiceApp`: a tower service as a gateway app.
//!
//! Documented on [`ServiceApp`](crate::ServiceApp).

mod body;
mod request;

use std::fmt;

use gateway_core::{App, Body, BoxError, Environ, Error, StartResponse, is_hop_by_hop};
use http::Request;
use tokio::runtime::Handle;
use tower::{Service, ServiceExt};

use self::body::Chunks;
pub use self::request::InputBody;
use self::request::into_request;

/// What [`ServiceApp`] refuses to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceAppError {
    /// The app was called from inside an async task, where waiting for the
    /// service would stall the runtime.
    #[error(
        "ServiceApp needs Blocking dispatch: a sync app cannot wait for an async service on \
         the runtime's own thread; serve it with Dispatch::Blocking (AppService::new, \
         .into_service()), not Inline, or return false from inline_when for its requests"
    )]
    NeedsBlockingDispatch,
    /// [`ServiceApp::current`] was called outside a tokio runtime.
    #[error(
        "ServiceApp::current: no tokio runtime here; build it inside one, or give it a \
         runtime's Handle with ServiceApp::new"
    )]
    NoRuntime,
    /// The environ's path and query do not make a request target.
    #[error("ServiceApp: SCRIPT_NAME + PATH_INFO + QUERY_STRING is not a valid request target")]
    InvalidTarget,
}

/// A tower service (tower-http's `ServeDir`, an axum `Router`, ...) as a
/// gateway app, so gateway middleware can sit in front of it.
///
/// The environ's pieces become the inner request: the method, the URI
/// rebuilt from `SCRIPT_NAME` + `PATH_INFO` (percent-encoded again) and
/// `QUERY_STRING`, the headers, the typed extensions, and `wsgi.input` as
/// the body ([`InputBody`]). The inner response's status and headers go
/// through `start_response` (hop-by-hop headers dropped: they are the
/// server's), and its body becomes the app's body.
///
/// An app is synchronous and a service is not: `ServiceApp` waits for the
/// service on the runtime whose [`Handle`] it was given
/// ([`ServiceApp::new`], or [`ServiceApp::current`] to take the runtime it
/// is built on). It may wait on any thread that is not running an async
/// task: a thread of Blocking dispatch, or a plain thread (a test's
/// `gateway_core::testing::Client`). Called from inside an async task
/// (Inline dispatch, or a task's `spawn_blocking`), it would stall the
/// runtime, so the call fails with
/// [`ServiceAppError::NeedsBlockingDispatch`]: a `500`, and the reason in
/// `wsgi.errors`, never a panic or a deadlock.
///
/// ```
/// use gateway_core::{middleware_fn, Environ, Next, Stack, StartResponse};
/// use gateway_tower::{InputBody, IntoService, ServiceApp};
/// use http_body_util::BodyExt;
/// use tower::ServiceExt;
///
/// # let runtime = tokio::runtime::Runtime::new().unwrap();
/// // Any tower service: here a closure; tower-http's ServeDir works the same.
/// let inner = tower::service_fn(|request: http::Request<InputBody>| async move {
///     let user = request.headers().get("x-user").cloned();
///     Ok::<_, std::convert::Infallible>(http::Response::new(format!("hello {user:?}")))
/// });
/// // A gateway middleware in front of it.
/// let tag = middleware_fn(|mut environ: Environ, sr: StartResponse, next: Next<'_>| {
///     environ.headers_mut().insert("x-user", http::HeaderValue::from_static("alice"));
///     next.call(environ, sr)
/// });
/// let service = Stack::new().with(tag).wrap(ServiceApp::new(inner, runtime.handle().clone()));
/// let service = service.into_service();
///
/// # runtime.block_on(async {
/// let request = http::Request::get("/").body(http_body_util::Empty::<bytes::Bytes>::new()).unwrap();
/// let response = service.oneshot(request).await.unwrap();
/// let body = response.into_body().collect().await.unwrap().to_bytes();
/// assert_eq!(body, r#"hello Some("alice")"#);
/// # });
/// ```
#[derive(Clone)]
pub struct ServiceApp<S> {
    service: S,
    handle: Handle,
}

impl<S> ServiceApp<S> {
    /// Wrap `service`, run on the runtime of `handle`; the service is cloned
    /// for each request, as hyper does.
    pub fn new(service: S, handle: Handle) -> Self {
        ServiceApp { service, handle }
    }

    /// Wrap `service`, run on the runtime this is called on
    /// ([`Handle::try_current`]); [`ServiceAppError::NoRuntime`] outside one.
    pub fn current(service: S) -> Result<Self, ServiceAppError> {
        let handle = Handle::try_current().map_err(|_| ServiceAppError::NoRuntime)?;
        Ok(ServiceApp::new(service, handle))
    }

    /// The runtime the service runs on.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The inner service.
    pub fn service(&self) -> &S {
        &self.service
    }
}

impl<S, ResBody> App for ServiceApp<S>
where
    S: Service<Request<InputBody>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Error: Into<BoxError>,
    ResBody: http_body::Body + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    fn call(&self, mut environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
        if tokio::task::try_id().is_some() {
            // On an async task (Inline dispatch): `block_on` would panic,
            // and waiting any other way would stall the runtime.
            return Err(Error::app(ServiceAppError::NeedsBlockingDispatch));
        }
        let handle = self.handle.clone();
        let request = into_request(&mut environ)?;
        let call = self.service.clone().oneshot(request);
        let response = handle.block_on(call).map_err(|e| Error::App(e.into()))?;
        let (mut parts, body) = response.into_parts();
        let hop: Vec<_> = parts
            .headers
            .keys()
            .filter(|n| is_hop_by_hop(n))
            .cloned()
            .collect();
        for name in hop {
            parts.headers.remove(name);
        }
        let reason = parts.extensions.get::<hyper::ext::ReasonPhrase>();
        match reason.and_then(|r| std::str::from_utf8(r.as_bytes()).ok()) {
            Some(reason) => start_response
                .start(format!("{} {reason}", parts.status.as_str()), parts.headers)?,
            None => start_response.start(parts.status, parts.headers)?,
        };
        if body.is_end_stream() {
            return Ok(Body::empty());
        }
        let len = body.size_hint().exact();
        let chunks = Chunks {
            handle,
            body: Box::pin(body),
            done: false,
        };
        let body = Body::try_iter(chunks);
        Ok(match len {
            Some(len) => body.with_len(len),
            None => body,
        })
    }
}

impl<S> fmt::Debug for ServiceApp<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceApp").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> impl Service<
        Request<InputBody>,
        Response = http::Response<String>,
        Error = std::convert::Infallible,
        Future = impl Send,
    > + Clone
    + Send
    + Sync
    + 'static {
        tower::service_fn(|_: Request<InputBody>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new("hi".to_owned()))
        })
    }

    #[test]
    fn current_outside_a_runtime_is_a_typed_error() {
        assert!(matches!(
            ServiceApp::current(hello()),
            Err(ServiceAppError::NoRuntime)
        ));
    }

    #[test]
    fn a_plain_thread_waits_on_the_given_runtime() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let app = ServiceApp::new(hello(), runtime.handle().clone());
        let response = gateway_core::testing::Client::new(app).get("/").send();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, "hi");
    }

    #[tokio::test]
    async fn inside_an_async_task_it_is_a_typed_error() {
        let app = ServiceApp::current(hello()).unwrap();
        let response = gateway_core::testing::Client::new(app).get("/").send();
        assert_eq!(response.status, 500);
    }
}
