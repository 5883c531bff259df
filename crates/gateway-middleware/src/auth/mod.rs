//! HTTP authentication: [`BasicAuth`] (RFC 7617) and [`BearerAuth`] (RFC 6750).
//!
//! Each is a [`Middleware`](gateway_core::Middleware): when the request
//! carries good credentials it sets `REMOTE_USER` and `AUTH_TYPE` (`Basic` or
//! `Bearer`) in the environ, [publishes](gateway_core::StartResponse::publish)
//! a [`RemoteUser`](gateway_core::RemoteUser) for the middleware outside it
//! (the access log logs it) and calls the inner app; otherwise it answers itself, `401`
//! with a `WWW-Authenticate` challenge and a short body that does not say
//! what was wrong (`400` for a malformed Bearer request, as RFC 6750 asks).
//! Bad input from a client never panics; constructors return an
//! [`AuthError`] instead of panicking.
//!
//! Who is let in is a verifier's call: any closure
//! `Fn(&str, &str) -> bool` ([`BasicVerifier`]) or `Fn(&str) -> Option<String>`
//! ([`BearerVerifier`]), or the ready [`Credentials`] and [`StaticTokens`],
//! which compare salted SHA-256 digests in constant time against every entry.
//!
//! ```
//! use gateway_core::{testing::Client, Body, Environ, Error, Stack, StartResponse};
//! use gateway_middleware::auth::{BasicAuth, BearerAuth, Credentials, StaticTokens};
//!
//! let app = |environ: Environ, sr: StartResponse| -> Result<Body, Error> {
//!     let who = environ.get("REMOTE_USER").unwrap_or("anyone".into()).into_owned();
//!     sr.start("200 OK", [("Content-Type", "text/plain")])?;
//!     Ok(Body::from(who))
//! };
//! let stack = Stack::new()
//!     .with(BasicAuth::new("private", Credentials::new([("demo", "demo")])?)?.only_under("/private/")?)
//!     .with(BearerAuth::new("api", StaticTokens::new([("s3cr3t", "robot")])?)?
//!         .only_under("/api/")?
//!         .exempt("/api/health")?);
//! let client = Client::new(stack.wrap(app));
//!
//! assert_eq!(client.get("/").send().text(), "anyone");
//! assert_eq!(client.get("/private/x").send().status, 401);
//! assert_eq!(client.get("//private/x").send().status, 401);
//! let basic = client.get("/private/x").header("Authorization", "Basic ZGVtbzpkZW1v").send();
//! assert_eq!(basic.text(), "demo");
//! let bearer = client.get("/api/items").header("Authorization", "bearer s3cr3t").send();
//! assert_eq!(bearer.text(), "robot");
//! assert_eq!(client.get("/api/health").send().status, 200);
//! # Ok::<(), gateway_middleware::auth::AuthError>(())
//! ```
//!
//! # Which requests are guarded
//!
//! All of them, unless you narrow it: [`only_under`](BasicAuth::only_under)
//! guards only paths under some prefixes, [`exempt`](BasicAuth::exempt) and
//! [`exempt_under`](BasicAuth::exempt_under) let some through. Paths are
//! matched on `SCRIPT_NAME` + `PATH_INFO`, both percent-decoded (so `%2F` is
//! a `/` here, as it is to the app), segment by segment, with `//` and `.`
//! dropped. A `..` segment may be read two ways (resolved by a file server,
//! kept by an app that routes on the raw path), so each decision takes the
//! safe one:
//!
//! - protected by a prefix: under it either way, ignoring ASCII case
//!   (`/./private/x`, `//private/x`, `/PRIVATE/x`, `/private/..%2Fpublic`
//!   are protected by `only_under("/private/")`; `/privateer` is not);
//! - exempt: no `..` segment, and exactly the exempt path's segments
//!   (`/health`, `//health`, `/./health`, `/health/`, `/%2Fhealth` are exempt
//!   by `exempt("/health")`; `/healthz`, `/Health` and `/x/../health` are not,
//!   and need credentials like any other path).
//!
//! Clients normalise dot segments before sending (RFC 3986 §5.2.4), so the
//! cautious readings only ever cost a crafted request a `401`.
//!
//! # What the app sees
//!
//! On success: `REMOTE_USER` (the Basic user-id, or the identity the Bearer
//! verifier returned) and `AUTH_TYPE`; the middleware outside see the same
//! in the published [`RemoteUser`](gateway_core::RemoteUser).
//! If an outer layer already set `REMOTE_USER`, they are left as they
//! are (the credentials are still checked) unless you ask for
//! [`overwrite_remote_user(true)`](BasicAuth::overwrite_remote_user).
//!
//! The `Authorization` header is passed on as it came, as `HTTP_AUTHORIZATION`
//! (CGI servers hide it from scripts by default; gateway apps may need it,
//! for instance to forward a token). Ask for
//! [`strip_authorization(true)`](BasicAuth::strip_authorization) to remove
//! it once verified (it is left alone on paths the middleware does not
//! guard, where it may be another middleware's). The access log never
//! writes it, and no `Debug` output here shows a secret.

use std::fmt;

/// The builder methods both middleware share (they differ only in the type).
macro_rules! options {
    ($name:ident) => {
        impl<V> $name<V> {
            /// Guard only requests whose path is under `prefix` (may be
            /// called again: a path under any of them is guarded). See
            /// "Which requests are guarded" in the [module docs](super).
            /// Refuses a prefix that does not start with `/`, or holds `..`
            /// or a control character.
            pub fn only_under(mut self, prefix: &str) -> Result<Self, AuthError> {
                self.settings.paths.only_under(prefix)?;
                Ok(self)
            }

            /// Let requests for exactly `path` through without credentials.
            /// Refuses a path that does not start with `/`, or holds `..` or
            /// a control character.
            pub fn exempt(mut self, path: &str) -> Result<Self, AuthError> {
                self.settings.paths.exempt(path)?;
                Ok(self)
            }

            /// Let requests for any path under `prefix` through without
            /// credentials. Same checks as [`exempt`](Self::exempt).
            pub fn exempt_under(mut self, prefix: &str) -> Result<Self, AuthError> {
                self.settings.paths.exempt_under(prefix)?;
                Ok(self)
            }

            /// Replace a `REMOTE_USER` (and `AUTH_TYPE`) that an outer layer
            /// set. Off by default.
            pub fn overwrite_remote_user(mut self, overwrite: bool) -> Self {
                self.settings.overwrite_remote_user = overwrite;
                self
            }

            /// Remove the `Authorization` header before calling the inner
            /// app, once it has been verified. Off by default.
            pub fn strip_authorization(mut self, strip: bool) -> Self {
                self.settings.strip_authorization = strip;
                self
            }
        }
    };
}
use options;

mod basic;
mod bearer;
mod common;
mod path;
mod verify;

pub use basic::{BasicAuth, BasicAuthApp};
pub use bearer::{BearerAuth, BearerAuthApp};
pub(crate) use common::is_b64token;
pub use verify::{BasicVerifier, BearerVerifier, Credentials, StaticTokens};

/// How a user was authenticated: the environ's `AUTH_TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthScheme {
    /// HTTP Basic (RFC 7617).
    Basic,
    /// Bearer token (RFC 6750).
    Bearer,
}

impl AuthScheme {
    /// `"Basic"` or `"Bearer"`, as `AUTH_TYPE` holds it.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthScheme::Basic => "Basic",
            AuthScheme::Bearer => "Bearer",
        }
    }
}

impl fmt::Display for AuthScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an auth middleware or verifier could not be built. No variant holds
/// a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The realm holds a control character, which no quoted-string may hold.
    #[error("the realm holds a control character: a realm is sent as an RFC 9110 quoted-string")]
    InvalidRealm,
    /// A user-id (or a token's identity) is empty.
    #[error("a user-id is empty: give every user a name")]
    EmptyUser,
    /// A Basic user-id holds `:`, which RFC 7617 forbids.
    #[error("a user-id holds ':': RFC 7617 splits user-id and password at the first ':'")]
    ColonInUser,
    /// A user-id, password or identity holds a control character.
    #[error("a user-id, password or identity holds a control character, which RFC 7617 forbids")]
    ControlCharacter,
    /// A token is empty.
    #[error("a token is empty")]
    EmptyToken,
    /// A token is not RFC 6750 `b64token` syntax, so no client could send it.
    #[error(
        "a token is not RFC 6750 b64token syntax (letters, digits, -._~+/ then any '='), so no \
         client could send it"
    )]
    InvalidToken,
    /// The same token was given twice.
    #[error("the same token was given twice: give each token one identity")]
    DuplicateToken,
    /// A static verifier was given no entries: nobody could get in.
    #[error("no credentials were given: nobody could get in")]
    NoCredentials,
    /// A path for `only_under` / `exempt` / `exempt_under` is not usable.
    #[error(
        "invalid path {path:?}: give a decoded path that starts with '/' and holds no '..' \
         segment and no control character"
    )]
    InvalidPath {
        /// The path as given.
        path: String,
    },
}
