//! The per-connection hyper service: tags each request with the
//! connection's addresses, calls the tower service (`poll_ready`, then
//! `call`, as tower's `Oneshot`), and adds the `Server` header.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::header::{HeaderValue, SERVER};
use hyper::body::Incoming;
use pin_project_lite::pin_project;
use tower::Service;
use tower::util::Oneshot;

use crate::ConnectionInfo;

/// A tower service bound to one connection, as hyper wants it.
#[derive(Debug, Clone)]
pub(crate) struct Connected<S> {
    pub(crate) service: S,
    pub(crate) info: ConnectionInfo,
    pub(crate) server: Option<HeaderValue>,
}

impl<S, B> hyper::service::Service<http::Request<Incoming>> for Connected<S>
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone,
{
    type Response = http::Response<B>;
    type Error = S::Error;
    type Future = ConnectedFuture<S, http::Request<Incoming>>;

    fn call(&self, mut req: http::Request<Incoming>) -> Self::Future {
        req.extensions_mut().insert(self.info);
        ConnectedFuture {
            inner: Oneshot::new(self.service.clone(), req),
            server: self.server.clone(),
        }
    }
}

pin_project! {
    /// The response of a [`Connected`] service.
    pub(crate) struct ConnectedFuture<S: Service<R>, R> {
        #[pin]
        inner: Oneshot<S, R>,
        server: Option<HeaderValue>,
    }
}

impl<S, R, B> Future for ConnectedFuture<S, R>
where
    S: Service<R, Response = http::Response<B>>,
{
    type Output = Result<http::Response<B>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        if let Some(server) = this.server.take() {
            response.headers_mut().entry(SERVER).or_insert(server);
        }
        Poll::Ready(Ok(response))
    }
}
