//! [`BasicAuth`]: HTTP Basic authentication (RFC 7617).
//!
//! The credentials are `base64(user-id ":" password)`, decoded strictly (the
//! standard alphabet, canonical padding, nothing before or after, no
//! whitespace inside), read as UTF-8 and split at the first `:`, so a
//! password may hold `:`. A user-id or password with a control character, an
//! empty user-id, or anything malformed is refused like a wrong password:
//! `401`, the same body and the same challenge,
//! `WWW-Authenticate: Basic realm="…", charset="UTF-8"`.
//!
//! ```
//! use gateway_core::{testing::Client, Body, Environ, Error, Middleware, StartResponse};
//! use gateway_middleware::auth::{BasicAuth, Credentials};
//!
//! let whoami = |environ: Environ, sr: StartResponse| -> Result<Body, Error> {
//!     sr.start("200 OK", [("Content-Type", "text/plain")])?;
//!     Ok(Body::from(environ.get("REMOTE_USER").unwrap_or_default().into_owned()))
//! };
//! let auth = BasicAuth::new("demo", Credentials::new([("demo", "demo")])?)?;
//! let client = Client::new(auth.wrap(whoami));
//! // "demo:demo" in base64.
//! let ok = client.get("/").header("Authorization", "Basic ZGVtbzpkZW1v").send();
//! assert_eq!(ok.text(), "demo");
//! let no = client.get("/").send();
//! assert_eq!(no.status, 401);
//! assert_eq!(no.header("www-authenticate"), Some(r#"Basic realm="demo", charset="UTF-8""#));
//! # Ok::<(), gateway_middleware::auth::AuthError>(())
//! ```

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use gateway_core::{App, Body, Environ, Error, Middleware, RemoteUser, StartResponse};
use http::StatusCode;
use http::header::HeaderValue;

use super::common::{self, Presented, Settings};
use super::verify::has_control;
use super::{AuthError, AuthScheme, BasicVerifier};

/// The Basic authentication middleware.
pub struct BasicAuth<V> {
    verifier: Arc<V>,
    realm: Arc<str>,
    challenge: HeaderValue,
    settings: Settings,
}

impl<V: BasicVerifier> BasicAuth<V> {
    /// Guard every request with `verifier`, in `realm`. Refuses a realm with
    /// control characters.
    pub fn new(realm: &str, verifier: V) -> Result<Self, AuthError> {
        let value = format!("Basic realm={}, charset=\"UTF-8\"", common::quoted(realm)?);
        Ok(BasicAuth {
            verifier: Arc::new(verifier),
            realm: realm.into(),
            challenge: common::challenge(value)?,
            settings: Settings::default(),
        })
    }
}

super::options!(BasicAuth);

impl<V> Clone for BasicAuth<V> {
    fn clone(&self) -> Self {
        BasicAuth {
            verifier: self.verifier.clone(),
            realm: self.realm.clone(),
            challenge: self.challenge.clone(),
            settings: self.settings.clone(),
        }
    }
}

impl<V> fmt::Debug for BasicAuth<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("realm", &self.realm)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<A: App, V: BasicVerifier> Middleware<A> for BasicAuth<V> {
    type App = BasicAuthApp<A, V>;

    fn wrap(&self, app: A) -> Self::App {
        BasicAuthApp {
            app,
            auth: self.clone(),
        }
    }
}

/// The app [`BasicAuth`] makes around an inner app.
pub struct BasicAuthApp<A, V> {
    app: A,
    auth: BasicAuth<V>,
}

impl<A, V> fmt::Debug for BasicAuthApp<A, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuthApp")
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl<A: App, V: BasicVerifier> App for BasicAuthApp<A, V> {
    fn call(&self, mut environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
        let auth = &self.auth;
        if !auth.settings.guards(&environ) {
            return self.app.call(environ, start_response);
        }
        let user = match common::presented(environ.headers(), "Basic") {
            Presented::Credentials(param) => check(param, |u, p| auth.verifier.verify(u, p)),
            Presented::Nothing | Presented::Malformed => None,
        };
        match user {
            Some(name) => {
                auth.settings.grant(
                    &mut environ,
                    &start_response,
                    RemoteUser::new(name, AuthScheme::Basic.as_str()),
                )?;
                self.app.call(environ, start_response)
            }
            None => common::deny(start_response, StatusCode::UNAUTHORIZED, &auth.challenge),
        }
    }
}

/// Decode `param` and ask `verify`: the user-id when it says yes.
fn check(param: &[u8], verify: impl FnOnce(&str, &str) -> bool) -> Option<String> {
    let mut text = String::from_utf8(STANDARD.decode(param).ok()?).ok()?;
    let colon = text.find(':')?;
    if colon == 0 || has_control(&text) {
        return None;
    }
    if !verify(&text[..colon], &text[colon + 1..]) {
        return None;
    }
    text.truncate(colon);
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &[u8]) -> Vec<u8> {
        STANDARD.encode(s).into_bytes()
    }

    #[test]
    fn decoding_is_strict() {
        let any = |_: &str, _: &str| true;
        assert_eq!(check(&b64(b"u:p"), any).as_deref(), Some("u"));
        assert_eq!(check(&b64(b"u:"), any).as_deref(), Some("u"));
        assert_eq!(check(&b64("ü:p".as_bytes()), any).as_deref(), Some("ü"));
        let bad: &[&[u8]] = &[
            b"dTpw",  // "u:p" fine...
            b"dTp",   // ...missing padding: "u:" is "dTo="
            b"dTo",   // unpadded
            b"dTo=x", // trailing garbage
            b"dT o=", // whitespace inside
            b"dTo==", // too much padding
            b"dTp=",  // non-canonical trailing bits
            b"dT-w",  // URL-safe alphabet
            b"!!!!",  // not base64 at all
        ];
        assert!(check(bad[0], any).is_some());
        for param in &bad[1..] {
            assert_eq!(
                check(param, any),
                None,
                "{}",
                String::from_utf8_lossy(param)
            );
        }
        for decoded in [
            &b"nocolon"[..],
            b":p",
            b"\xff:p",
            b"u\x01:p",
            b"u:p\x7f",
            b"u:p\n",
        ] {
            assert_eq!(check(&b64(decoded), any), None, "{decoded:?}");
        }
    }

    #[test]
    fn split_at_the_first_colon() {
        let mut seen = None;
        let user = check(&b64(b"user:pa:ss"), |u, p| {
            seen = Some((u.to_owned(), p.to_owned()));
            true
        });
        assert_eq!(user.as_deref(), Some("user"));
        assert_eq!(seen, Some(("user".into(), "pa:ss".into())));
    }

    #[test]
    fn realm_with_control_bytes_is_refused() {
        let v = |_: &str, _: &str| true;
        assert!(matches!(
            BasicAuth::new("a\r\nb", v),
            Err(AuthError::InvalidRealm)
        ));
        let auth = BasicAuth::new(r#"say "hi""#, v).unwrap();
        assert_eq!(
            auth.challenge,
            r#"Basic realm="say \"hi\"", charset="UTF-8""#
        );
    }
}
