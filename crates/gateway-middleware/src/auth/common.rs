//! What Basic and Bearer share: the realm, reading the `Authorization`
//! header, the settings, and the two ways a request ends (granted: the
//! identity goes into the environ; denied: a short answer with a challenge).

use gateway_core::{Body, Environ, Error, RemoteUser, StartResponse};
use http::StatusCode;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, WWW_AUTHENTICATE};

use super::{AuthError, path::Paths};

/// `realm` as an RFC 9110 quoted-string: `"` and `\` escaped; control
/// characters (which no quoted-string may hold) refused.
pub(crate) fn quoted(realm: &str) -> Result<String, AuthError> {
    if realm.chars().any(char::is_control) {
        return Err(AuthError::InvalidRealm);
    }
    let mut out = String::with_capacity(realm.len() + 2);
    out.push('"');
    for c in realm.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// A challenge header value made of checked parts.
pub(crate) fn challenge(value: String) -> Result<HeaderValue, AuthError> {
    HeaderValue::try_from(value).map_err(|_| AuthError::InvalidRealm)
}

/// What the client presented for one scheme.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Presented<'a> {
    /// No `Authorization` header, or one for another scheme.
    Nothing,
    /// More than one `Authorization` header, or our scheme without a
    /// single well-formed parameter after it.
    Malformed,
    /// Our scheme and what follows it (not yet checked).
    Credentials(&'a [u8]),
}

/// Read `Authorization: <scheme> 1*SP <credentials>` (RFC 9110 §11.4),
/// the scheme matched without regard to ASCII case.
pub(crate) fn presented<'a>(headers: &'a HeaderMap, scheme: &str) -> Presented<'a> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Presented::Nothing;
    };
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let value = value.as_bytes();
    let start = value.iter().position(|b| !ows(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|b| !ows(b)).map_or(start, |i| i + 1);
    let value = &value[start..end];
    let name_len = value
        .iter()
        .position(|b| !is_tchar(*b))
        .unwrap_or(value.len());
    if !value[..name_len].eq_ignore_ascii_case(scheme.as_bytes()) {
        return if values.next().is_some() {
            Presented::Malformed
        } else {
            Presented::Nothing
        };
    }
    if values.next().is_some() {
        return Presented::Malformed;
    }
    let rest = &value[name_len..];
    let param = rest.trim_ascii_start();
    if param.is_empty()
        || !rest.starts_with(b" ")
        || rest[..rest.len() - param.len()].contains(&b'\t')
    {
        return Presented::Malformed;
    }
    Presented::Credentials(param)
}

/// RFC 9110 `tchar`: ALPHA, DIGIT and ``!#$%&'*+-.^_`|~``.
fn is_tchar(b: u8) -> bool {
    matches!(
        b,
        b'0'..=b'9'
            | b'a'..=b'z'
            | b'A'..=b'Z'
            | b'!'
            | b'#'..=b'\''
            | b'*'
            | b'+'
            | b'-'
            | b'.'
            | b'^'
            | b'_'
            | b'`'
            | b'|'
            | b'~'
    )
}

/// RFC 6750 §2.1 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
/// "+" / "/" ) *"="`.
pub(crate) fn is_b64token(token: &[u8]) -> bool {
    let body = token.iter().position(|&b| b == b'=').unwrap_or(token.len());
    body > 0
        && token[..body]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
        && token[body..].iter().all(|&b| b == b'=')
}

/// What both middleware are configured with, besides the scheme's own parts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    pub(crate) paths: Paths,
    pub(crate) overwrite_remote_user: bool,
    pub(crate) strip_authorization: bool,
}

impl Settings {
    /// `true` when this request needs credentials.
    pub(crate) fn guards(&self, environ: &Environ) -> bool {
        self.paths
            .guards(environ.script_name(), environ.path_info())
    }

    /// The credentials were good: record who it is, for the app
    /// (`REMOTE_USER`, `AUTH_TYPE`) and for the middleware outside (the
    /// published [`RemoteUser`]).
    pub(crate) fn grant(
        &self,
        environ: &mut Environ,
        start_response: &StartResponse,
        user: RemoteUser,
    ) -> Result<(), Error> {
        if self.strip_authorization {
            environ.headers_mut().remove(AUTHORIZATION);
        }
        if !self.overwrite_remote_user && environ.get("REMOTE_USER").is_some() {
            return Ok(());
        }
        environ.set_var("REMOTE_USER", user.name.clone())?;
        environ.set_var("AUTH_TYPE", user.auth_type.clone())?;
        start_response.publish(user);
        Ok(())
    }
}

/// Answer `401` (or `400`) with a challenge and a body that says no more.
pub(crate) fn deny(
    start_response: StartResponse,
    status: StatusCode,
    challenge: &HeaderValue,
) -> Result<Body, Error> {
    let body = if status == StatusCode::BAD_REQUEST {
        "Bad Request\n"
    } else {
        "Unauthorized\n"
    };
    start_response.start(
        status,
        [
            (WWW_AUTHENTICATE, challenge.clone()),
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
        ],
    )?;
    Ok(Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn tchar_is_rfc_9110s() {
        for b in 0..=255u8 {
            let rfc = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(is_tchar(b), rfc, "{b:#x}");
        }
    }

    #[test]
    fn authorization_header_is_read_strictly() {
        use Presented::*;
        let table: &[(&[&str], Presented<'_>)] = &[
            (&[], Nothing),
            (&["Basic abc"], Credentials(b"abc")),
            (&["bAsIc abc"], Credentials(b"abc")),
            (&["Basic   abc  "], Credentials(b"abc")),
            (&["Basic a b"], Credentials(b"a b")),
            (&["Bearer abc"], Nothing),
            (&["Basically abc"], Nothing),
            (&["Basic"], Malformed),
            (&["Basic   "], Malformed),
            (&["Basic\tabc"], Malformed),
            (&["Basic \tabc"], Malformed),
            (&["Basic,abc"], Malformed),
            (&["Basic abc", "Basic abc"], Malformed),
            (&["Bearer x", "Basic abc"], Malformed),
            (&["Basic abc", "Bearer x"], Malformed),
        ];
        for (values, want) in table {
            assert_eq!(presented(&headers(values), "Basic"), *want, "{values:?}");
        }
    }

    #[test]
    fn b64token_syntax() {
        for ok in ["a", "A-Z.0_9~+/", "abc=", "abc==", "mF_9.B5f-4.1JqM"] {
            assert!(is_b64token(ok.as_bytes()), "{ok}");
        }
        for bad in ["", "=", "a=b", "a b", "a,b", "a\"", "ä"] {
            assert!(!is_b64token(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn realm_is_quoted_and_checked() {
        assert_eq!(quoted(r#"a "b" \c"#).unwrap(), r#""a \"b\" \\c""#);
        assert_eq!(quoted("").unwrap(), r#""""#);
        assert_eq!(quoted("café").unwrap(), "\"café\"");
        for bad in ["a\r\nSet-Cookie: x", "a\0", "\t", "\u{7f}", "\u{85}"] {
            assert!(
                matches!(quoted(bad), Err(AuthError::InvalidRealm)),
                "{bad:?}"
            );
        }
    }
}
