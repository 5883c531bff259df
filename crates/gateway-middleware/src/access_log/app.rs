//! [`AccessLogApp`]: the app the middleware makes. For each request it
//! registers the interceptor that records it and writes its line, and
//! routes what the app writes to `wsgi.errors` to the log.

use std::fmt;
use std::sync::Arc;

use gateway_core::{App, Body, Environ, Error, ErrorStream, StartResponse};

use super::interceptor::{Log, LogIntercept};

/// The app an [`AccessLog`](super::AccessLog) makes around an inner app:
/// it calls the inner app and logs the response.
pub struct AccessLogApp<A> {
    pub(super) app: A,
    pub(super) log: Arc<Log>,
}

impl<A: App> App for AccessLogApp<A> {
    fn call(&self, mut environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
        let log = &self.log;
        if log.sink.disabled() {
            return self.app.call(environ, start_response);
        }
        let intercept = LogIntercept::new(log.clone(), &environ);
        if log.capture_errors {
            let (log, remote) = (log.clone(), intercept.remote().clone());
            environ.set_errors(ErrorStream::to_fn(move |line| log.error(&remote, line)));
        }
        start_response.intercept(intercept);
        self.app.call(environ, start_response)
    }
}

impl<A> fmt::Debug for AccessLogApp<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessLogApp")
            .field("sink", &self.log.sink)
            .finish_non_exhaustive()
    }
}
