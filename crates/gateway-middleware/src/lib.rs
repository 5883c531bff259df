//! Middleware for gateway apps: access logging, gzip and auth.
//!
//! Each is a [`gateway_core::Middleware`]: it wraps an app in an app, and
//! stacks with the others and with your own.
//!
//! - [`access_log`]: Apache common / combined, named fields or JSON lines,
//!   to `tracing` or any writer.
//! - [`gzip`]: negotiated, streaming gzip compression of responses.
//! - [`auth`]: HTTP Basic and Bearer authentication.

pub mod access_log;
pub mod auth;
pub mod gzip;
