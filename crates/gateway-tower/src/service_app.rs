//! `ServiceApp`: a tower [`Service`] (tower-http's `ServeDir`, an axum
//! `Router`, ...) as a gateway app, so gateway middleware can sit in front
//! of it.
//!
//! The environ's pieces become the inner request: the method, the URI
//! rebuilt from `SCRIPT_NAME` + `PATH_INFO` (percent-encoded again) and
//! `QUERY_STRING`, the headers, the typed extensions, and `wsgi.input` as
//! the body ([`InputBody`]). The inner response's status and headers go
//! through `start_response` (hop-by-hop headers dropped: they are the
//! server's), and its body becomes the app's body.
//!
//! An app is synchronous and a service is not: `ServiceApp` waits for the
//! service on the runtime that lent its thread, which only Blocking dispatch
//! does. Under Inline dispatch (or any gateway without a runtime) the call
//! fails with [`ServiceAppError::NeedsBlockingDispatch`]: a `500`, and the
//! reason in `wsgi.errors`, never a panic or a deadlock.
//!
//! ```
//! use gateway_core::{middleware_fn, Environ, Next, Stack, StartResponse};
//! use gateway_tower::{InputBody, IntoService, ServiceApp};
//! use http_body_util::BodyExt;
//! use tower::ServiceExt;
//!
//! // Any tower service: here a closure; tower-http's ServeDir works the same.
//! let inner = tower::service_fn(|request: http::Request<InputBody>| async move {
//!     let user = request.headers().get("x-user").cloned();
//!     Ok::<_, std::convert::Infallible>(http::Response::new(format!("hello {user:?}")))
//! });
//! // A gateway middleware in front of it.
//! let tag = middleware_fn(|mut environ: Environ, sr: StartResponse, next: Next<'_>| {
//!     environ.headers_mut().insert("x-user", http::HeaderValue::from_static("alice"));
//!     next.call(environ, sr)
//! });
//! let service = Stack::new().with(tag).wrap(ServiceApp::new(inner)).into_service();
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let request = http::Request::get("/").body(http_body_util::Empty::<bytes::Bytes>::new()).unwrap();
//! let response = service.oneshot(request).await.unwrap();
//! let body = response.into_body().collect().await.unwrap().to_bytes();
//! assert_eq!(body, r#"hello Some("alice")"#);
//! # });
//! ```

use std::fmt;
use std::io::BufRead;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use gateway_core::{App, Body, BoxError, Environ, Error, Input, StartResponse, is_hop_by_hop};
use http::Request;
use http::uri::PathAndQuery;
use http_body::Frame;
use http_body_util::BodyExt;
use percent_encoding::{AsciiSet, CONTROLS};
use tokio::runtime::Handle;
use tower::{Service, ServiceExt};

use crate::dispatch::blocking;

/// What [`ServiceApp`] refuses to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceAppError {
    /// The app is not running on a thread of Blocking dispatch.
    #[error(
        "ServiceApp needs Blocking dispatch: a sync app cannot wait for an async service on \
         the runtime's own thread; serve it with Dispatch::Blocking (AppService::new, \
         .into_service()), not Inline"
    )]
    NeedsBlockingDispatch,
    /// The environ's path and query do not make a request target.
    #[error("ServiceApp: SCRIPT_NAME + PATH_INFO + QUERY_STRING is not a valid request target")]
    InvalidTarget,
}

/// A tower service as a gateway app. See the module docs.
#[derive(Clone)]
pub struct ServiceApp<S> {
    service: S,
}

impl<S> ServiceApp<S> {
    /// Wrap `service`; it is cloned for each request, as hyper does.
    pub fn new(service: S) -> Self {
        ServiceApp { service }
    }

    /// The inner service.
    pub fn service(&self) -> &S {
        &self.service
    }
}

impl<S, ResBody> App for ServiceApp<S>
where
    S: Service<Request<InputBody>, Response = http::Response<ResBody>> + Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    ResBody: http_body::Body + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    fn call(&self, mut environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
        let handle = blocking::runtime().ok_or(ServiceAppError::NeedsBlockingDispatch).map_err(Error::app)?;
        let request = into_request(&mut environ)?;
        let call = self.service.clone().oneshot(request);
        let response = handle.block_on(call).map_err(|e| Error::App(e.into()))?;
        let (mut parts, body) = response.into_parts();
        let hop: Vec<_> = parts.headers.keys().filter(|n| is_hop_by_hop(n)).cloned().collect();
        for name in hop {
            parts.headers.remove(name);
        }
        let reason = parts.extensions.get::<hyper::ext::ReasonPhrase>();
        match reason.and_then(|r| std::str::from_utf8(r.as_bytes()).ok()) {
            Some(reason) => start_response.start(format!("{} {reason}", parts.status.as_str()), parts.headers)?,
            None => start_response.start(parts.status, parts.headers)?,
        };
        if body.is_end_stream() {
            return Ok(Body::empty());
        }
        let len = body.size_hint().exact();
        let chunks = Chunks { handle, body: Box::pin(body), done: false };
        let body = Body::try_iter(chunks);
        Ok(match len {
            Some(len) => body.with_len(len),
            None => body,
        })
    }
}

/// Bytes kept as they are in a rebuilt path: RFC 3986 `pchar` and `/`.
const PATH: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'<').add(b'>').add(b'?').add(b'`').add(b'{').add(b'}');

/// The inner request: the environ's pieces, moved out of it.
fn into_request(environ: &mut Environ) -> Result<Request<InputBody>, Error> {
    let uri = target(environ)?;
    let mut request = Request::new(InputBody { input: environ.take_input() });
    *request.method_mut() = environ.method().clone();
    *request.uri_mut() = uri;
    *request.version_mut() = environ.version();
    *request.headers_mut() = std::mem::take(environ.headers_mut());
    *request.extensions_mut() = std::mem::take(environ.extensions_mut());
    Ok(request)
}

/// SCRIPT_NAME + PATH_INFO, percent-encoded, and the query.
fn target(environ: &Environ) -> Result<http::Uri, Error> {
    let uri = environ.uri();
    if environ.script_name().is_empty() && environ.path_info() == uri.path().as_bytes() {
        return Ok(uri.clone());
    }
    let mut path = String::new();
    for part in [environ.script_name(), environ.path_info()] {
        path.extend(percent_encoding::percent_encode(part, PATH));
    }
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    if let Some(query) = uri.query() {
        path.push('?');
        path.push_str(query);
    }
    let invalid = |_| Error::app(ServiceAppError::InvalidTarget);
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path).map_err(invalid)?);
    http::Uri::from_parts(parts).map_err(|_| Error::app(ServiceAppError::InvalidTarget))
}

/// `wsgi.input` as the body of the inner request. Reading blocks the
/// thread, which is why [`ServiceApp`] needs Blocking dispatch.
pub struct InputBody {
    input: Input,
}

impl http_body::Body for InputBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let input = &mut self.input;
        let chunk = match input.fill_buf() {
            Ok([]) => return Poll::Ready(None),
            Ok(buf) => Bytes::copy_from_slice(buf),
            Err(e) => return Poll::Ready(Some(Err(e))),
        };
        input.consume(chunk.len());
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.input.remaining() == Some(0)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match self.input.remaining() {
            Some(n) => http_body::SizeHint::with_exact(n),
            None => http_body::SizeHint::default(),
        }
    }
}

impl fmt::Debug for InputBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InputBody").field("input", &self.input).finish()
    }
}

/// The inner response body, waited for chunk by chunk.
struct Chunks<B> {
    handle: Handle,
    body: Pin<Box<B>>,
    done: bool,
}

impl<B> Iterator for Chunks<B>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    type Item = Result<Bytes, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.handle.block_on(self.body.frame()) {
                Some(Ok(frame)) => {
                    // Trailers have no place in a PEP 3333 body: skip them.
                    if let Ok(mut data) = frame.into_data() {
                        return Some(Ok(data.copy_to_bytes(data.remaining())));
                    }
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(Error::App(e.into())));
                }
                None => self.done = true,
            }
        }
        None
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

    #[test]
    fn the_target_is_rebuilt_from_script_name_and_path_info() {
        let mut environ = Environ::new(http::Method::GET, "/a%20b/c?x=1".parse().unwrap());
        assert_eq!(target(&environ).unwrap(), "/a%20b/c?x=1");
        environ.set_script_name("/mount");
        environ.set_path_info(b"/caf\xc3\xa9 %/".to_vec());
        assert_eq!(target(&environ).unwrap(), "/mount/caf%C3%A9%20%25/?x=1");
    }

    #[test]
    fn without_blocking_dispatch_it_is_a_typed_error() {
        let app = ServiceApp::new(tower::service_fn(|_: Request<InputBody>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
        }));
        let response = gateway_core::testing::Client::new(app).get("/").send();
        assert_eq!(response.status, 500);
    }
}
