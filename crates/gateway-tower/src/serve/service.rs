//! The per-connection hyper service: checks each request's head (see
//! [`limits`](super::limits)), refusing a bad one itself with a short text,
//! a log line and, on HTTP/1, `Connection: close`; tags a good one with the
//! connection's addresses, calls the tower service (`poll_ready`, then
//! `call`, as tower's `Oneshot`), and adds the `Server` header.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use gateway_core::ErrorStream;
use http::header::{CONNECTION, CONTENT_TYPE, HeaderValue, SERVER};
use hyper::body::Incoming;
use pin_project_lite::pin_project;
use tower::Service;
use tower::util::Oneshot;

use super::body::ServedBody;
use super::limits::{self, Limits, Refusal};
use super::listener::Peer;
use crate::ConnectionInfo;

/// A tower service bound to one connection, as hyper wants it.
#[derive(Debug, Clone)]
pub(crate) struct Connected<S> {
    pub(crate) service: S,
    /// The addresses, for a TCP connection: a Unix socket's have none.
    pub(crate) info: Option<ConnectionInfo>,
    pub(crate) server: Option<HeaderValue>,
    pub(crate) limits: Limits,
    pub(crate) errors: Arc<ErrorStream>,
}

impl<S, B> hyper::service::Service<http::Request<Incoming>> for Connected<S>
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone,
{
    type Response = http::Response<ServedBody<B>>;
    type Error = S::Error;
    type Future = ConnectedFuture<S, http::Request<Incoming>, B>;

    fn call(&self, mut req: http::Request<Incoming>) -> Self::Future {
        if let Err(refusal) = limits::check(&req, &self.limits) {
            // Never silent: stderr when no subscriber is installed. The
            // reason holds no byte of the client's beyond a field name.
            self.errors.log(&format!(
                "gateway: {} for {} from {}: {}",
                refusal.status,
                req.method(),
                Peer(self.info),
                refusal.reason
            ));
            return ConnectedFuture::Refused {
                response: Some(refused(&refusal, req.version(), self.server.clone())),
            };
        }
        if let Some(info) = self.info {
            req.extensions_mut().insert(info);
        }
        ConnectedFuture::Called {
            inner: Oneshot::new(self.service.clone(), req),
            server: self.server.clone(),
        }
    }
}

/// The answer to a refused request: its status, the reason as text.
fn refused<B>(
    refusal: &Refusal,
    version: http::Version,
    server: Option<HeaderValue>,
) -> http::Response<ServedBody<B>> {
    let mut response = http::Response::new(ServedBody::text(format!("{}\n", refusal.reason)));
    *response.status_mut() = refusal.status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if version < http::Version::HTTP_2 {
        // hyper closes the connection once this response is out.
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    if let Some(server) = server {
        headers.insert(SERVER, server);
    }
    response
}

pin_project! {
    /// The response of a [`Connected`] service.
    #[project = ConnectedProj]
    pub(crate) enum ConnectedFuture<S: Service<R>, R, B> {
        /// The tower service's answer, on its way.
        Called {
            #[pin]
            inner: Oneshot<S, R>,
            server: Option<HeaderValue>,
        },
        /// The server's own answer to a refused request.
        Refused { response: Option<http::Response<ServedBody<B>>> },
    }
}

impl<S, R, B> Future for ConnectedFuture<S, R, B>
where
    S: Service<R, Response = http::Response<B>>,
{
    type Output = Result<http::Response<ServedBody<B>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ConnectedProj::Called { inner, server } => {
                let response = ready!(inner.poll(cx))?;
                let mut response = response.map(|body| ServedBody::App { body });
                if let Some(server) = server.take() {
                    response.headers_mut().entry(SERVER).or_insert(server);
                }
                Poll::Ready(Ok(response))
            }
            ConnectedProj::Refused { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                // Polled again after its end: hyper never does.
                None => Poll::Pending,
            },
        }
    }
}
