#![doc = include_str!(concat!(env!("OUT_DIR"), "/README.md"))]
//!
//! ## This crate
//!
//! The facade re-exports the three crates, each with its own pages here:
//! [`core`] (`gateway-core`, the protocol),
//! [`middleware`] (`gateway-middleware`: access log,
//! gzip, auth) and [`tower`] (`gateway-tower`: apps as tower
//! services over hyper, and back). The types a middleware needs are at the
//! root. [`docs`] holds the guides of `docs/`, compiled with their examples.
//!
//! ## Features
//!
//! One per shipped middleware, all on by default: `access-log`, `gzip`,
//! `auth`. Turn off the ones you do not use with `default-features = false`.

/// The guides of `docs/`, one page each; their examples are compiled and run
/// as tests.
pub mod docs {
    #[doc = include_str!(concat!(env!("OUT_DIR"), "/guide.md"))]
    pub mod guide {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/tower.md"))]
    pub mod tower {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/middleware.md"))]
    pub mod middleware {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/design.md"))]
    pub mod design {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/dispatch.md"))]
    pub mod dispatch {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/conformance.md"))]
    pub mod conformance {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/reliability.md"))]
    pub mod reliability {}

    #[doc = include_str!(concat!(env!("OUT_DIR"), "/benchmarks.md"))]
    pub mod benchmarks {}
}

/// `gateway-core`: the protocol (PEP 3333) between a server and an app.
pub mod core {
    #[doc(inline)]
    pub use gateway_core::*;
}

/// `gateway-middleware`: the access log, gzip, auth and mount middleware
/// (each behind its feature).
#[cfg(any(
    feature = "access-log",
    feature = "gzip",
    feature = "auth",
    feature = "mount"
))]
pub mod middleware {
    #[doc(inline)]
    pub use gateway_middleware::*;
}

/// `gateway-tower`: apps as tower services, served by hyper; tower services
/// as apps.
pub mod tower {
    #[doc(inline)]
    pub use gateway_tower::*;
}

pub use gateway_core::{
    App, Body, BodyInfo, BoxApp, End, Environ, Error, ErrorStream, Flags, Handled, Handler, Head,
    Input, Intercept, Middleware, Next, Outcome, RemoteUser, Stack, StartResponse, UrlScheme,
    Writer, middleware_fn,
};
