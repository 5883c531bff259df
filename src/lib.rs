//! **gateway**: the WSGI model (PEP 3333) in Rust, joined to the tower ecosystem.
//!
//! An app takes an `environ` and a `start_response` callable and returns an
//! iterable body; middleware are decorators that stack; a bridge turns any
//! stack into a tower `Service`, so every tower-http layer works with it and
//! hyper serves it.
//!
//! This facade re-exports the three crates:
//!
//! - [`core`] (`gateway-core`): the protocol: [`Environ`], [`StartResponse`],
//!   [`Body`], [`App`], [`Middleware`], [`Handler`], CGI and a test client;
//! - [`middleware`] (`gateway-middleware`): access log, gzip, auth;
//! - [`tower`] (`gateway-tower`): apps as tower services over hyper, and back.
//!
//! The guide is in `docs/` of the repository; [`demo`] is the app the
//! examples serve.
#![doc = ""]

pub mod demo;

pub use gateway_core as core;
pub use gateway_middleware as middleware;
pub use gateway_tower as tower;

pub use gateway_core::{
    App, Body, BoxApp, Environ, Error, Errors, Handler, Head, Input, Intercept, Middleware, Next,
    Stack, StartResponse, Writer, middleware_fn,
};
