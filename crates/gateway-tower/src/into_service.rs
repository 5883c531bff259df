//! `IntoService`: `app.into_service()` reads as what it does.
//!
//! Every [`App`] (closures, functions, middleware stacks) gets two methods:
//! [`into_service`](IntoService::into_service) (Blocking dispatch, safe for
//! any app) and [`into_service_inline`](IntoService::into_service_inline)
//! (Inline dispatch, for apps that never block). Both give an
//! [`AppService`], which takes further options.
//!
//! ```
//! use gateway_core::{Body, Environ, Error, StartResponse};
//! use gateway_tower::{Dispatch, IntoService};
//!
//! fn hello(_: Environ, start_response: StartResponse) -> Result<Body, Error> {
//!     start_response.start("200 OK", [("Content-Type", "text/plain")])?;
//!     Ok(Body::from("Hello"))
//! }
//!
//! let safe = hello.into_service();
//! let fast = hello.into_service_inline().body_limit(64 * 1024);
//! assert_eq!((safe.mode(), fast.mode()), (Some(Dispatch::Blocking), Some(Dispatch::Inline)));
//! ```

use gateway_core::App;

use crate::{AppService, Dispatch};

/// Turns an app into a tower service. Implemented for every [`App`].
pub trait IntoService: App + Sized {
    /// An [`AppService`] with Blocking dispatch: the app runs on a blocking
    /// thread, so it may block.
    fn into_service(self) -> AppService<Self> {
        AppService::new(self)
    }

    /// An [`AppService`] with Inline dispatch: the app runs on the async
    /// task, the fast path for apps that never block.
    fn into_service_inline(self) -> AppService<Self> {
        AppService::new(self).dispatch(Dispatch::Inline)
    }
}

impl<A: App> IntoService for A {}
