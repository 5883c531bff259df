//! Middleware for gateway apps: access logging, gzip, auth and mounting.
//!
//! Each is a [`gateway_core::Middleware`]: it wraps an app in an app, and
//! stacks with the others and with your own.
//!
//! - `access_log`: Apache common / combined, named fields or JSON lines, to
//!   standard output, `tracing` or any writer, buffered if you like.
//! - `gzip`: negotiated, streaming gzip compression of responses.
//! - `auth`: HTTP Basic and Bearer authentication.
//! - `mount`: the app under a path prefix (`SCRIPT_NAME`), `404` outside it.
//!
//! # Features
//!
//! One Cargo feature per middleware, all on by default. A module and
//! the dependencies only it uses are compiled only with its feature, so
//! `default-features = false, features = ["access-log"]` builds the access
//! log alone.
//!
//! | feature | module | its own dependencies |
//! |---|---|---|
//! | `access-log` | `access_log` | `time`, `itoa`, `tracing` |
//! | `gzip` | `gzip` | `flate2` |
//! | `auth` | `auth` | `base64`, `sha2`, `subtle` |
//! | `mount` | `mount` | none |
//!
//! The `gateway` facade has the same three features and forwards them.

#[cfg(feature = "access-log")]
pub mod access_log;
#[cfg(feature = "auth")]
pub mod auth;
#[cfg(feature = "gzip")]
pub mod gzip;
#[cfg(feature = "mount")]
pub mod mount;
