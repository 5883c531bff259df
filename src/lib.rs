#![doc = include_str!("../README.md")]
//!
//! ## This crate
//!
//! The facade re-exports the three crates: [`core`] (`gateway-core`, the
//! protocol), [`middleware`] (`gateway-middleware`: access log, gzip, auth)
//! and [`tower`] (`gateway-tower`: apps as tower services over hyper, and
//! back). [`demo`] is the app the examples serve; [`guide`], [`tower_guide`] and
//! [`middleware_guide`] are the guides of `docs/`, compiled with their examples.

pub mod demo;

#[doc = include_str!("../docs/guide.md")]
pub mod guide {}

#[doc = include_str!("../docs/tower.md")]
pub mod tower_guide {}

#[doc = include_str!("../docs/middleware.md")]
pub mod middleware_guide {}

pub use gateway_core as core;
pub use gateway_middleware as middleware;
pub use gateway_tower as tower;

pub use gateway_core::{
    App, Body, BoxApp, Environ, Error, Errors, Handler, Head, Input, Intercept, Middleware, Next,
    Stack, StartResponse, Writer, middleware_fn,
};
