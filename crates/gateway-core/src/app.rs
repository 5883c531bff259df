//! `App`: PEP 3333's application callable.
//!
//! An app takes the [`Environ`] and a [`StartResponse`], calls
//! `start_response` (now, or later from inside its body), and returns a
//! [`Body`]. Any `Fn(Environ, StartResponse) -> Result<Body, Error>` closure
//! is an app; [`BoxApp`] erases the type for stacks chosen at run time.
//!
//! ```
//! use gateway_core::{App, Body, BoxApp, Environ, Error, StartResponse};
//!
//! let hello = |_: Environ, start_response: StartResponse| -> Result<Body, Error> {
//!     start_response.start("200 OK", [("Content-Type", "text/plain")])?;
//!     Ok(Body::from("Hello, World!"))
//! };
//! let boxed = BoxApp::new(hello);
//! # let _ = boxed;
//! ```

use std::sync::Arc;

use crate::{Body, Environ, Error, StartResponse};

/// A PEP 3333 application.
pub trait App: Send + Sync + 'static {
    /// Handle one request.
    fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, Error>;
}

impl<F> App for F
where
    F: Fn(Environ, StartResponse) -> Result<Body, Error> + Send + Sync + 'static,
{
    fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
        self(environ, start_response)
    }
}

impl<A: App + ?Sized> App for Arc<A> {
    fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
        (**self).call(environ, start_response)
    }
}

/// An app whose type is erased, for stacks chosen at run time.
pub struct BoxApp(Box<dyn App>);

impl BoxApp {
    /// Erase the type of `app`.
    pub fn new(app: impl App) -> Self {
        BoxApp(Box::new(app))
    }
}

impl App for BoxApp {
    fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
        self.0.call(environ, start_response)
    }
}

impl std::fmt::Debug for BoxApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoxApp").finish_non_exhaustive()
    }
}
