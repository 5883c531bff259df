//! Writing a line: field values, in text or JSON, into one buffer reused
//! by each thread. What comes from outside is escaped ([`escape`](super::escape)).

use std::cell::Cell;
use std::io::Write as _;
use std::net::IpAddr;

use http::{HeaderValue, Method, Uri};
use time::OffsetDateTime;

use super::escape::{escape_json, escape_text};
use super::record::Remote;
use super::stamp;

/// A field's value, before it is written in a text or JSON line.
#[derive(Debug)]
pub(super) enum Value<'a> {
    /// Nothing: `-` in text, `null` in JSON.
    Missing,
    Num(u64),
    /// Text of ours, written as is (in quotes in JSON).
    Static(&'static str),
    /// Text from the request or the app: escaped.
    Bytes(&'a [u8]),
    /// The values of one header (`index`), joined by `, `.
    Headers(&'a [(usize, HeaderValue)], usize),
    Addr(&'a Remote),
    Time(OffsetDateTime),
    /// Apache's `%q`: `?query`, or nothing at all.
    QueryMark(Option<&'a str>),
    RequestLine(&'a Method, &'a Uri, &'static str),
}

impl Value<'_> {
    /// Write the value in a text line; outside quotes (`quoted` false) a
    /// space from outside is escaped too, so that it cannot split the field.
    pub(super) fn text(&self, buf: &mut Vec<u8>, quoted: bool) {
        let start = buf.len();
        self.parts(&mut |s: &[u8], outside: bool| {
            if outside {
                escape_text(buf, s, quoted);
            } else {
                buf.extend_from_slice(s);
            }
        });
        let nothing = buf.len() == start;
        match self {
            Value::Missing => buf.push(b'-'),
            Value::Num(n) => buf.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
            Value::Static(s) => buf.extend_from_slice(s.as_bytes()),
            Value::Addr(Remote::Ip(ip)) => ip_into(*ip, buf),
            Value::Time(t) => {
                buf.push(b'[');
                if !stamp::clf(*t, buf) {
                    buf.truncate(start);
                    buf.push(b'-');
                } else {
                    buf.push(b']');
                }
            }
            Value::QueryMark(_) => {}
            _ if nothing => buf.push(b'-'),
            _ => {}
        }
    }

    /// Write the value in a JSON line.
    pub(super) fn json(&self, buf: &mut Vec<u8>) {
        match self {
            Value::Missing | Value::Addr(Remote::None) => buf.extend_from_slice(b"null"),
            Value::Num(n) => buf.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
            Value::Headers(values, i) if !values.iter().any(|(at, _)| at == i) => {
                buf.extend_from_slice(b"null");
            }
            Value::QueryMark(None) => buf.extend_from_slice(b"null"),
            Value::Time(t) => {
                let start = buf.len();
                buf.push(b'"');
                if !stamp::rfc3339(*t, buf) {
                    buf.truncate(start);
                    buf.extend_from_slice(b"null");
                } else {
                    buf.push(b'"');
                }
            }
            Value::Addr(Remote::Ip(ip)) => {
                buf.push(b'"');
                ip_into(*ip, buf);
                buf.push(b'"');
            }
            _ => {
                buf.push(b'"');
                match self {
                    Value::Static(s) => escape_json(buf, s.as_bytes()),
                    Value::QueryMark(Some(q)) => escape_json(buf, q.as_bytes()),
                    _ => self.parts(&mut |s: &[u8], _| escape_json(buf, s)),
                }
                buf.push(b'"');
            }
        }
    }

    /// The pieces of a text value: `put(piece, true)` for those that come
    /// from outside (to escape), `put(piece, false)` for ours.
    fn parts(&self, put: &mut dyn FnMut(&[u8], bool)) {
        match self {
            Value::Bytes(b) => put(b, true),
            Value::Addr(Remote::Var(s)) => put(s.as_bytes(), true),
            Value::Headers(values, i) => {
                for (n, (_, v)) in values.iter().filter(|(at, _)| at == i).enumerate() {
                    if n > 0 {
                        put(b", ", false);
                    }
                    put(v.as_bytes(), true);
                }
            }
            Value::QueryMark(Some(q)) => {
                put(b"?", false);
                put(q.as_bytes(), true);
            }
            Value::RequestLine(method, uri, protocol) => {
                put(method.as_str().as_bytes(), true);
                put(b" ", false);
                target(uri, put);
                put(b" ", false);
                put(protocol.as_bytes(), false);
            }
            _ => {}
        }
    }
}

/// An IP address, IPv4 without `fmt`.
fn ip_into(ip: IpAddr, buf: &mut Vec<u8>) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    buf.push(b'.');
                }
                buf.extend_from_slice(itoa::Buffer::new().format(octet).as_bytes());
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(buf, "{v6}");
        }
    }
}

/// The request target as received, but for the password of a URL in
/// absolute form (`http://user:pass@host/`), which becomes `[redacted]`.
/// Pieces from the client are put with `true`.
pub(super) fn target(uri: &Uri, put: &mut dyn FnMut(&[u8], bool)) {
    if let Some(scheme) = uri.scheme_str() {
        put(scheme.as_bytes(), true);
        put(b"://", false);
    }
    if let Some(authority) = uri.authority() {
        match authority.as_str().rsplit_once('@') {
            Some((userinfo, host)) => {
                match userinfo.split_once(':') {
                    Some((user, _password)) => {
                        put(user.as_bytes(), true);
                        put(b":[redacted]", false);
                    }
                    None => put(userinfo.as_bytes(), true),
                }
                put(b"@", false);
                put(host.as_bytes(), true);
            }
            None => put(authority.as_str().as_bytes(), true),
        }
    }
    put(uri.path().as_bytes(), true);
    if let Some(query) = uri.query() {
        put(b"?", false);
        put(query.as_bytes(), true);
    }
}

/// Lines past this size do not keep their buffer.
const KEEP: usize = 16 * 1024;

thread_local! {
    static BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Run `f` with an empty buffer: this thread's, reused from line to line
/// (a fresh one if a line is being written on this thread already).
pub(super) fn with_buffer<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut buf = BUFFER.try_with(Cell::take).unwrap_or_default();
    buf.clear();
    buf.reserve(512);
    let out = f(&mut buf);
    if buf.capacity() <= KEEP {
        let _ = BUFFER.try_with(|cell| cell.set(buf));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_redacted() {
        let mut out = Vec::new();
        let uri: Uri = "http://alice:s3cret@example.com:8080/p?q=1"
            .parse()
            .unwrap();
        target(&uri, &mut |s, _| out.extend_from_slice(s));
        assert_eq!(out, b"http://alice:[redacted]@example.com:8080/p?q=1");
        out.clear();
        target(&Uri::from_static("/a/b?c"), &mut |s, _| {
            out.extend_from_slice(s)
        });
        assert_eq!(out, b"/a/b?c");
    }

    #[test]
    fn addresses_are_written() {
        let mut buf = Vec::new();
        for (ip, text) in [
            ("10.0.200.7", "10.0.200.7"),
            ("::1", "::1"),
            ("2001:db8::8a2e:370:7334", "2001:db8::8a2e:370:7334"),
        ] {
            buf.clear();
            Value::Addr(&Remote::Ip(ip.parse().unwrap())).text(&mut buf, false);
            assert_eq!(buf, text.as_bytes());
        }
        buf.clear();
        Value::Addr(&Remote::None).json(&mut buf);
        assert_eq!(buf, b"null");
    }

    #[test]
    fn times_are_formatted() {
        let t = time::macros::datetime!(2000-10-10 13:55:36 UTC);
        let mut buf = Vec::new();
        Value::Time(t).text(&mut buf, false);
        assert_eq!(buf, b"[10/Oct/2000:13:55:36 +0000]");
        buf.clear();
        Value::Time(t.to_offset(time::macros::offset!(-7))).json(&mut buf);
        assert_eq!(buf, b"\"2000-10-10T06:55:36.000000-07:00\"");
    }

    #[test]
    fn the_buffer_is_reused_and_reentrancy_is_safe() {
        let first = with_buffer(|b| {
            b.extend_from_slice(b"x");
            with_buffer(|inner| assert!(inner.is_empty()));
            b.as_ptr()
        });
        let again = with_buffer(|b| {
            assert!(b.is_empty() && b.capacity() >= 512);
            b.as_ptr()
        });
        assert_eq!(first, again, "the same allocation serves the next line");
    }
}
