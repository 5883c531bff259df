//! How a response ended, and the typed values middleware pass outward.
//!
//! The environ moves inward and never comes back, so what an inner
//! middleware learns (auth: who the user is) is invisible to an outer one
//! (the access log) unless it is handed outward. It goes by type: the inner
//! one calls [`StartResponse::publish`](crate::StartResponse::publish) once,
//! and every outer one reads it from the [`Outcome`] of the response
//! ([`Outcome::get`]), in [`Intercept::finish`](crate::Intercept::finish) or
//! an [`on_finish`](crate::StartResponse::on_finish) closure.
//! [`RemoteUser`] is the value every authenticating middleware publishes.
//!
//! ```
//! use gateway_core::{middleware_fn, testing::Client, Body, Environ, Error, Next, Outcome,
//!                    RemoteUser, Stack, StartResponse};
//! use std::sync::{Arc, Mutex};
//!
//! let seen = Arc::new(Mutex::new(None));
//! let log = seen.clone();
//! let outer = middleware_fn(move |environ: Environ, sr: StartResponse, next: Next<'_>| {
//!     let log = log.clone();
//!     sr.on_finish(move |outcome: &Outcome| {
//!         *log.lock().unwrap() = outcome.get::<RemoteUser>().map(|u| u.name.clone());
//!     });
//!     next.call(environ, sr)
//! });
//! let inner = middleware_fn(|environ: Environ, sr: StartResponse, next: Next<'_>| {
//!     sr.publish(RemoteUser::new("alice", "Basic"));
//!     next.call(environ, sr)
//! });
//! let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
//!     sr.start("204 No Content", ())?;
//!     Ok(Body::empty())
//! };
//! Client::new(Stack::new().with(outer).with(inner).wrap(app)).get("/").send();
//! assert_eq!(seen.lock().unwrap().as_deref(), Some("alice"));
//! ```

use std::borrow::Cow;

use http::{Extensions, StatusCode};

/// How a response ended, as [`Intercept::finish`](crate::Intercept::finish) learns it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Outcome {
    /// The status sent (a `500` when the app failed before the head).
    pub status: StatusCode,
    /// Body bytes handed to the server for the client, after every interceptor.
    pub bytes_sent: u64,
    /// How it ended.
    pub end: End,
    /// The values middleware published with
    /// [`StartResponse::publish`](crate::StartResponse::publish), by type.
    pub values: Extensions,
}

impl Outcome {
    /// The value of type `T` an inner middleware published, if any.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.values.get::<T>()
    }
}

/// The way a response ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The whole body was sent.
    Complete,
    /// The app or its body failed after the head was sent: the response was cut.
    Failed,
    /// The server dropped the response before its end: the client went away.
    ClientGone,
}

/// Who the request was authenticated as: what an authenticating middleware
/// publishes (and sets as `REMOTE_USER` / `AUTH_TYPE` in the environ), and an
/// access log outside it logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUser {
    /// `REMOTE_USER`: the user's name.
    pub name: String,
    /// `AUTH_TYPE`: the scheme that proved it (`Basic`, `Bearer`).
    pub auth_type: Cow<'static, str>,
}

impl RemoteUser {
    /// A user authenticated by `auth_type`.
    pub fn new(name: impl Into<String>, auth_type: impl Into<Cow<'static, str>>) -> Self {
        RemoteUser {
            name: name.into(),
            auth_type: auth_type.into(),
        }
    }
}
