//! [`BearerAuth`]: Bearer token authentication (RFC 6750).
//!
//! The token comes from `Authorization: Bearer <b64token>` only (not from
//! the query string or a form body, which RFC 6750 discourages). The answers
//! follow RFC 6750 §3:
//!
//! | request | answer |
//! |---|---|
//! | no `Authorization`, or another scheme | `401`, `WWW-Authenticate: Bearer realm="…"` |
//! | a token the verifier refuses | `401`, `Bearer realm="…", error="invalid_token"` |
//! | `Bearer` with no token, a token that is not `b64token` syntax, or two `Authorization` headers | `400`, `Bearer realm="…", error="invalid_request"` |
//!
//! ```
//! use gateway_core::{testing::Client, Body, Environ, Error, Middleware, StartResponse};
//! use gateway_middleware::auth::{BearerAuth, StaticTokens};
//!
//! let whoami = |environ: Environ, sr: StartResponse| -> Result<Body, Error> {
//!     sr.start("200 OK", [("Content-Type", "text/plain")])?;
//!     Ok(Body::from(environ.get("REMOTE_USER").unwrap_or_default().into_owned()))
//! };
//! let auth = BearerAuth::new("api", StaticTokens::new([("mF_9.B5f-4.1JqM", "robot")])?)?;
//! let client = Client::new(auth.wrap(whoami));
//! let ok = client.get("/").header("Authorization", "Bearer mF_9.B5f-4.1JqM").send();
//! assert_eq!(ok.text(), "robot");
//! let bad = client.get("/").header("Authorization", "Bearer guess").send();
//! assert_eq!(bad.status, 401);
//! assert_eq!(bad.header("www-authenticate"), Some(r#"Bearer realm="api", error="invalid_token""#));
//! # Ok::<(), gateway_middleware::auth::AuthError>(())
//! ```

use std::fmt;
use std::sync::Arc;

use gateway_core::{App, Body, Environ, Error, Middleware, RemoteUser, StartResponse};
use http::StatusCode;
use http::header::HeaderValue;

use super::common::{self, Presented, Settings};
use super::{AuthError, AuthScheme, BearerVerifier};

/// The three challenges, made once.
#[derive(Clone)]
struct Challenges {
    plain: HeaderValue,
    invalid_token: HeaderValue,
    invalid_request: HeaderValue,
}

/// The Bearer authentication middleware.
pub struct BearerAuth<V> {
    verifier: Arc<V>,
    realm: Arc<str>,
    challenges: Challenges,
    settings: Settings,
}

impl<V: BearerVerifier> BearerAuth<V> {
    /// Guard every request with `verifier`, in `realm`. Refuses a realm with
    /// control characters.
    pub fn new(realm: &str, verifier: V) -> Result<Self, AuthError> {
        let plain = format!("Bearer realm={}", common::quoted(realm)?);
        let challenges = Challenges {
            invalid_token: common::challenge(format!("{plain}, error=\"invalid_token\""))?,
            invalid_request: common::challenge(format!("{plain}, error=\"invalid_request\""))?,
            plain: common::challenge(plain)?,
        };
        Ok(BearerAuth {
            verifier: Arc::new(verifier),
            realm: realm.into(),
            challenges,
            settings: Settings::default(),
        })
    }
}

super::options!(BearerAuth);

impl<V> Clone for BearerAuth<V> {
    fn clone(&self) -> Self {
        BearerAuth {
            verifier: self.verifier.clone(),
            realm: self.realm.clone(),
            challenges: self.challenges.clone(),
            settings: self.settings.clone(),
        }
    }
}

impl<V> fmt::Debug for BearerAuth<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerAuth")
            .field("realm", &self.realm)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<A: App, V: BearerVerifier> Middleware<A> for BearerAuth<V> {
    type App = BearerAuthApp<A, V>;

    fn wrap(&self, app: A) -> Self::App {
        BearerAuthApp {
            app,
            auth: self.clone(),
        }
    }
}

/// The app [`BearerAuth`] makes around an inner app.
pub struct BearerAuthApp<A, V> {
    app: A,
    auth: BearerAuth<V>,
}

impl<A, V> fmt::Debug for BearerAuthApp<A, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerAuthApp")
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl<A: App, V: BearerVerifier> App for BearerAuthApp<A, V> {
    fn call(&self, mut environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
        let auth = &self.auth;
        if !auth.settings.guards(&environ) {
            return self.app.call(environ, start_response);
        }
        let (status, challenge) = match common::presented(environ.headers(), "Bearer") {
            Presented::Nothing => (StatusCode::UNAUTHORIZED, &auth.challenges.plain),
            Presented::Credentials(token) if common::is_b64token(token) => {
                // b64token is ASCII, so this never fails.
                let identity = std::str::from_utf8(token)
                    .ok()
                    .and_then(|t| auth.verifier.verify(t));
                match identity {
                    Some(name) => {
                        let user = RemoteUser::new(name, AuthScheme::Bearer.as_str());
                        auth.settings.grant(&mut environ, &start_response, user)?;
                        return self.app.call(environ, start_response);
                    }
                    None => (StatusCode::UNAUTHORIZED, &auth.challenges.invalid_token),
                }
            }
            Presented::Credentials(_) | Presented::Malformed => {
                (StatusCode::BAD_REQUEST, &auth.challenges.invalid_request)
            }
        };
        common::deny(start_response, status, challenge)
    }
}
