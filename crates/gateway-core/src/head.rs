//! The response head an app gives `start_response`: status and headers, and
//! the PEP 3333 rules they must follow.
//!
//! A status is `NNN Reason` (`"200 OK"`), or an [`http::StatusCode`]. Headers
//! are any list of name/value pairs ([`IntoHeaders`]): names must be RFC 9110
//! tokens, values must not hold CR, LF, NUL or other control bytes (TAB is
//! allowed), and hop-by-hop headers (`Connection`, `Transfer-Encoding`, ...)
//! belong to the server. A text value is a PEP 3333 native string: its
//! characters are ISO-8859-1 bytes (`"café"` goes out as `caf\xe9`), and one
//! beyond U+00FF is refused. A `Content-Length` is one decimal number. Every
//! broken rule is an [`Error`], never a panic.
//!
//! ```
//! use gateway_core::Head;
//! use http::StatusCode;
//!
//! let head = Head::parse("404 Gone Fishing", [("Content-Type", "text/plain")]).unwrap();
//! assert_eq!(head.status, StatusCode::NOT_FOUND);
//! assert_eq!(head.reason(), "Gone Fishing");
//! assert!(Head::parse("200 OK", [("Bad Name", "x")]).is_err());
//! assert!(Head::parse("200 OK", [("X-Split", "a\r\nSet-Cookie: evil")]).is_err());
//! assert!(Head::parse("200 OK", [("Connection", "close")]).is_err());
//! ```

use std::borrow::Cow;

use http::StatusCode;
use http::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue};

use crate::Error;

/// A response head: status, reason phrase and headers.
#[derive(Debug, Clone)]
pub struct Head {
    /// The status code.
    pub status: StatusCode,
    /// A reason phrase that differs from the canonical one (`None`: canonical).
    pub reason: Option<Cow<'static, str>>,
    /// The headers.
    pub headers: HeaderMap,
}

impl Head {
    /// A head with a status and no headers.
    pub fn new(status: StatusCode) -> Self {
        Head {
            status,
            reason: None,
            headers: HeaderMap::new(),
        }
    }

    /// Parse and check a status and headers by the rules of `start_response`.
    pub fn parse(status: impl IntoStatus, headers: impl IntoHeaders) -> Result<Self, Error> {
        let (status, reason) = status.into_status()?;
        let mut map = HeaderMap::new();
        headers.into_headers(&mut map)?;
        let head = Head {
            status,
            reason,
            headers: map,
        };
        head.content_length()?;
        Ok(head)
    }

    /// The `Content-Length` of this head: `None` when it has none, an error
    /// when it is not digits only or when repeated values disagree.
    pub fn content_length(&self) -> Result<Option<u64>, Error> {
        let mut found = None;
        for value in self.headers.get_all(CONTENT_LENGTH) {
            let bad = || Error::InvalidHeaderValue {
                name: CONTENT_LENGTH.as_str().to_owned(),
            };
            let digits = value.as_bytes();
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            let n: u64 = std::str::from_utf8(digits)
                .ok()
                .and_then(|d| d.parse().ok())
                .ok_or_else(bad)?;
            if found.is_some_and(|f| f != n) {
                return Err(bad());
            }
            found = Some(n);
        }
        Ok(found)
    }

    /// Set a header, replacing any of the same name, by the rules of
    /// `start_response` (a token name, a value with no control byte, no
    /// hop-by-hop header).
    pub fn set_header(
        &mut self,
        name: impl IntoHeaderName,
        value: impl IntoHeaderValue,
    ) -> Result<(), Error> {
        let (name, value) = checked(name, value)?;
        self.headers.insert(name, value);
        Ok(())
    }

    /// Add a header beside any of the same name (`Set-Cookie`, `Vary`), by
    /// the rules of `start_response`.
    pub fn append_header(
        &mut self,
        name: impl IntoHeaderName,
        value: impl IntoHeaderValue,
    ) -> Result<(), Error> {
        let (name, value) = checked(name, value)?;
        self.headers.append(name, value);
        Ok(())
    }

    /// The reason phrase: the app's own, else the canonical one.
    pub fn reason(&self) -> &str {
        match &self.reason {
            Some(r) => r,
            None => self.status.canonical_reason().unwrap_or(""),
        }
    }

    /// The status line as PEP 3333 writes it: `"200 OK"`.
    pub fn status_line(&self) -> String {
        format!("{} {}", self.status.as_str(), self.reason())
    }
}

/// What can be a status: `"200 OK"`-style strings, or a [`StatusCode`].
pub trait IntoStatus {
    /// Check and convert; the reason is `None` when canonical.
    fn into_status(self) -> Result<(StatusCode, Option<Cow<'static, str>>), Error>;
}

impl IntoStatus for StatusCode {
    fn into_status(self) -> Result<(StatusCode, Option<Cow<'static, str>>), Error> {
        Ok((self, None))
    }
}

impl IntoStatus for &str {
    fn into_status(self) -> Result<(StatusCode, Option<Cow<'static, str>>), Error> {
        let (code, reason) = parse_status(self)?;
        if code.canonical_reason() == Some(reason) {
            Ok((code, None))
        } else {
            Ok((code, Some(Cow::Owned(reason.to_owned()))))
        }
    }
}

impl IntoStatus for String {
    fn into_status(self) -> Result<(StatusCode, Option<Cow<'static, str>>), Error> {
        self.as_str().into_status()
    }
}

impl IntoStatus for &String {
    fn into_status(self) -> Result<(StatusCode, Option<Cow<'static, str>>), Error> {
        self.as_str().into_status()
    }
}

fn parse_status(status: &str) -> Result<(StatusCode, &str), Error> {
    let invalid = || Error::InvalidStatus {
        status: status.to_owned(),
    };
    let b = status.as_bytes();
    if b.len() < 5 || !b[..3].iter().all(u8::is_ascii_digit) || b[3] != b' ' {
        return Err(invalid());
    }
    let reason = &status[4..];
    // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ), and not only blanks.
    let ok_byte = |c: &u8| *c == b'\t' || (*c >= 0x20 && *c != 0x7f);
    if !reason.as_bytes().iter().all(ok_byte) || reason.trim().is_empty() {
        return Err(invalid());
    }
    let code = StatusCode::from_bytes(&b[..3]).map_err(|_| invalid())?;
    Ok((code, reason))
}

/// What can be a response header name.
pub trait IntoHeaderName {
    /// Check and convert.
    fn into_header_name(self) -> Result<HeaderName, Error>;
}

impl IntoHeaderName for HeaderName {
    fn into_header_name(self) -> Result<HeaderName, Error> {
        Ok(self)
    }
}

impl IntoHeaderName for &HeaderName {
    fn into_header_name(self) -> Result<HeaderName, Error> {
        Ok(self.clone())
    }
}

impl IntoHeaderName for &str {
    fn into_header_name(self) -> Result<HeaderName, Error> {
        HeaderName::from_bytes(self.as_bytes()).map_err(|_| Error::InvalidHeaderName {
            name: self.to_owned(),
        })
    }
}

impl IntoHeaderName for String {
    fn into_header_name(self) -> Result<HeaderName, Error> {
        self.as_str().into_header_name()
    }
}

/// What can be a response header value.
pub trait IntoHeaderValue {
    /// Check and convert; `name` is for the error message.
    fn into_header_value(self, name: &HeaderName) -> Result<HeaderValue, Error>;
}

fn bad_value(name: &HeaderName) -> Error {
    Error::InvalidHeaderValue {
        name: name.as_str().to_owned(),
    }
}

impl IntoHeaderValue for HeaderValue {
    fn into_header_value(self, _: &HeaderName) -> Result<HeaderValue, Error> {
        Ok(self)
    }
}

impl IntoHeaderValue for &HeaderValue {
    fn into_header_value(self, _: &HeaderName) -> Result<HeaderValue, Error> {
        Ok(self.clone())
    }
}

/// A text value is a PEP 3333 native string: each `char` is one ISO-8859-1
/// byte, so `"café"` goes out as `caf\xe9`, the way browsers read it.
impl IntoHeaderValue for &str {
    fn into_header_value(self, name: &HeaderName) -> Result<HeaderValue, Error> {
        if self.is_ascii() {
            return HeaderValue::from_str(self).map_err(|_| bad_value(name));
        }
        latin1_value(self, name)
    }
}

impl IntoHeaderValue for String {
    fn into_header_value(self, name: &HeaderName) -> Result<HeaderValue, Error> {
        if self.is_ascii() {
            return HeaderValue::try_from(self).map_err(|_| bad_value(name));
        }
        latin1_value(&self, name)
    }
}

/// Encode a value that is not ASCII as ISO-8859-1; a `char` past U+00FF has
/// no byte there and is refused.
fn latin1_value(text: &str, name: &HeaderName) -> Result<HeaderValue, Error> {
    let bytes = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).map_err(|_| bad_value(name)))
        .collect::<Result<Vec<u8>, Error>>()?;
    HeaderValue::from_bytes(&bytes).map_err(|_| bad_value(name))
}

impl IntoHeaderValue for &String {
    fn into_header_value(self, name: &HeaderName) -> Result<HeaderValue, Error> {
        self.as_str().into_header_value(name)
    }
}

impl IntoHeaderValue for &[u8] {
    fn into_header_value(self, name: &HeaderName) -> Result<HeaderValue, Error> {
        HeaderValue::from_bytes(self).map_err(|_| bad_value(name))
    }
}

impl IntoHeaderValue for u64 {
    fn into_header_value(self, _: &HeaderName) -> Result<HeaderValue, Error> {
        Ok(HeaderValue::from(self))
    }
}

impl IntoHeaderValue for usize {
    fn into_header_value(self, _: &HeaderName) -> Result<HeaderValue, Error> {
        Ok(HeaderValue::from(self))
    }
}

/// A list of response headers: arrays, vectors or slices of pairs, a
/// [`HeaderMap`], or `()` for none.
pub trait IntoHeaders {
    /// Check every header and append it to `map`.
    fn into_headers(self, map: &mut HeaderMap) -> Result<(), Error>;
}

impl IntoHeaders for () {
    fn into_headers(self, _: &mut HeaderMap) -> Result<(), Error> {
        Ok(())
    }
}

impl IntoHeaders for HeaderMap {
    fn into_headers(self, map: &mut HeaderMap) -> Result<(), Error> {
        for name in self.keys() {
            check_name(name)?;
        }
        if map.is_empty() {
            *map = self;
        } else {
            map.extend(self);
        }
        Ok(())
    }
}

fn append_all<N, V>(
    pairs: impl IntoIterator<Item = (N, V)>,
    map: &mut HeaderMap,
) -> Result<(), Error>
where
    N: IntoHeaderName,
    V: IntoHeaderValue,
{
    for (name, value) in pairs {
        let (name, value) = checked(name, value)?;
        map.append(name, value);
    }
    Ok(())
}

/// A header name and value checked by the rules of `start_response`.
fn checked(
    name: impl IntoHeaderName,
    value: impl IntoHeaderValue,
) -> Result<(HeaderName, HeaderValue), Error> {
    let name = name.into_header_name()?;
    check_name(&name)?;
    let value = value.into_header_value(&name)?;
    Ok((name, value))
}

impl<N: IntoHeaderName, V: IntoHeaderValue, const K: usize> IntoHeaders for [(N, V); K] {
    fn into_headers(self, map: &mut HeaderMap) -> Result<(), Error> {
        map.reserve(K);
        append_all(self, map)
    }
}

impl<N: IntoHeaderName, V: IntoHeaderValue> IntoHeaders for Vec<(N, V)> {
    fn into_headers(self, map: &mut HeaderMap) -> Result<(), Error> {
        map.reserve(self.len());
        append_all(self, map)
    }
}

impl<N, V> IntoHeaders for &[(N, V)]
where
    N: IntoHeaderName + Clone,
    V: IntoHeaderValue + Clone,
{
    fn into_headers(self, map: &mut HeaderMap) -> Result<(), Error> {
        map.reserve(self.len());
        append_all(self.iter().cloned(), map)
    }
}

/// Hop-by-hop headers (RFC 9110 §7.6.1 and wsgiref's list): the server's business.
const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
];

/// `true` for a hop-by-hop header name.
pub fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
}

/// The name-level rules: no hop-by-hop header, and no `Status` header (a CGI
/// gateway would read it as the status line).
fn check_name(name: &HeaderName) -> Result<(), Error> {
    if is_hop_by_hop(name) {
        return Err(Error::HopByHopHeader {
            name: name.as_str().to_owned(),
        });
    }
    if name.as_str() == "status" {
        return Err(Error::InvalidHeaderName {
            name: "Status".to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(s: &str) -> Result<(StatusCode, Option<Cow<'static, str>>), Error> {
        s.into_status()
    }

    #[test]
    fn status_must_be_three_digits_space_reason() {
        assert!(status("200 OK").is_ok());
        assert!(status("599 Custom Thing").is_ok());
        for bad in [
            "200", "200 ", "200OK", "20 OK", "2000 OK", "abc OK", "200  ", "099 Low",
        ] {
            assert!(
                matches!(status(bad), Err(Error::InvalidStatus { .. })),
                "{bad:?} must be refused"
            );
        }
    }

    #[test]
    fn status_reason_has_no_control_bytes() {
        assert!(status("200 O\tK").is_ok());
        for bad in ["200 OK\r\nX: y", "200 OK\n", "200 O\0K", "200 OK\x7f"] {
            assert!(
                matches!(status(bad), Err(Error::InvalidStatus { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn canonical_reason_is_not_stored_custom_is() {
        assert_eq!(status("200 OK").unwrap().1, None);
        assert_eq!(status("200 Fine").unwrap().1.as_deref(), Some("Fine"));
    }

    #[test]
    fn header_names_are_tokens() {
        for bad in ["Bad Name", "X:Y", "", "X\r\nY", "Ünicode", "a\0"] {
            let r = Head::parse("200 OK", [(bad, "v")]);
            assert!(matches!(r, Err(Error::InvalidHeaderName { .. })), "{bad:?}");
        }
        assert!(Head::parse("200 OK", [("X-Fine_Name.1!", "v")]).is_ok());
    }

    #[test]
    fn header_values_have_no_control_bytes_but_tab() {
        assert!(Head::parse("200 OK", [("X-A", "a\tb")]).is_ok());
        for bad in ["a\rb", "a\nb", "a\0b", "a\x01b", "a\x7fb"] {
            let r = Head::parse("200 OK", [("X-A", bad)]);
            assert!(
                matches!(r, Err(Error::InvalidHeaderValue { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn text_values_are_latin1() {
        let head = Head::parse("200 OK", [("X-Name", "café")]).unwrap();
        assert_eq!(head.headers["x-name"].as_bytes(), b"caf\xe9");
        let owned = Head::parse("200 OK", [("X-Name", String::from("ÿ"))]).unwrap();
        assert_eq!(owned.headers["x-name"].as_bytes(), b"\xff");
        for beyond in ["€", "日本"] {
            let r = Head::parse("200 OK", [("X-Name", beyond)]);
            assert!(
                matches!(r, Err(Error::InvalidHeaderValue { .. })),
                "{beyond:?}"
            );
        }
    }

    #[test]
    fn content_length_is_one_decimal_number() {
        for bad in ["", "x", "-1", "+1", "1.0", " 1", "99999999999999999999999"] {
            let r = Head::parse("200 OK", [("Content-Length", bad)]);
            assert!(
                matches!(r, Err(Error::InvalidHeaderValue { .. })),
                "{bad:?}"
            );
        }
        let r = Head::parse("200 OK", [("Content-Length", "1"), ("Content-Length", "2")]);
        assert!(r.is_err());
        let head =
            Head::parse("200 OK", [("Content-Length", "7"), ("Content-Length", "7")]).unwrap();
        assert_eq!(head.content_length().unwrap(), Some(7));
        assert_eq!(
            Head::parse("200 OK", ()).unwrap().content_length().unwrap(),
            None
        );
    }

    #[test]
    fn hop_by_hop_headers_are_refused() {
        for name in [
            "Connection",
            "Keep-Alive",
            "Transfer-Encoding",
            "Upgrade",
            "TE",
            "Trailer",
        ] {
            let r = Head::parse("200 OK", [(name, "x")]);
            assert!(matches!(r, Err(Error::HopByHopHeader { .. })), "{name}");
        }
        let mut map = HeaderMap::new();
        map.insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        assert!(matches!(
            Head::parse("200 OK", map),
            Err(Error::HopByHopHeader { .. })
        ));
    }

    #[test]
    fn status_header_is_refused() {
        let r = Head::parse("200 OK", [("Status", "500 Oops")]);
        assert!(matches!(r, Err(Error::InvalidHeaderName { .. })));
    }

    #[test]
    fn repeated_headers_are_kept_in_order() {
        let head = Head::parse("200 OK", [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]).unwrap();
        let all: Vec<_> = head.headers.get_all("set-cookie").iter().collect();
        assert_eq!(all, ["a=1", "b=2"]);
    }
}
