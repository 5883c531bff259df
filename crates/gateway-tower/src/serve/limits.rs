//! The limits on a request's head, and the checks of its target and of
//! its singleton fields, made before the request reaches the service.
//!
//! hyper caps the whole head of an HTTP/1 request (its read buffer,
//! answering `431`) and the number of its header fields (`431`), and
//! answers `400` to a head it cannot parse; HTTP/2 caps the decoded header
//! list (`SETTINGS_MAX_HEADER_LIST_SIZE`). What hyper does not check is
//! checked here, on the parsed head, for both versions: the length of the
//! request line (`414`) and of each header line (`431`), the number of
//! fields (`431`), the form of the request target and the `Host` field
//! (RFC 9112 §3.2, `400`), and fields that may appear once only
//! (`Content-Type`, `Content-Length`, `Host`: `400` when repeated with
//! different values, rather than a silent pick). Every check is a few
//! comparisons per field: no allocation on the way of a good request.

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderValue};
use http::{Method, StatusCode, Version};

/// The default [`Server::max_request_line`](crate::Server::max_request_line): 8 KiB (nginx's
/// `large_client_header_buffers` buffer).
pub const DEFAULT_MAX_REQUEST_LINE: usize = 8 * 1024;

/// The default [`Server::max_header_line`](crate::Server::max_header_line): 8 KiB.
pub const DEFAULT_MAX_HEADER_LINE: usize = 8 * 1024;

/// The default [`Server::max_head`](crate::Server::max_head): 32 KiB (nginx's 4 × 8 KiB).
pub const DEFAULT_MAX_HEAD: usize = 32 * 1024;

/// The default [`Server::max_headers`](crate::Server::max_headers): 100 fields
/// (gunicorn's `limit_request_fields`, hyper's default).
pub const DEFAULT_MAX_HEADERS: usize = 100;

/// The smallest whole-head limit hyper accepts (its read buffer's minimum).
pub(crate) const MIN_MAX_HEAD: usize = 8 * 1024;

/// The limits of one server, copied into each connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) request_line: usize,
    pub(crate) header_line: usize,
    pub(crate) head: usize,
    pub(crate) headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_line: DEFAULT_MAX_REQUEST_LINE,
            header_line: DEFAULT_MAX_HEADER_LINE,
            head: DEFAULT_MAX_HEAD,
            headers: DEFAULT_MAX_HEADERS,
        }
    }
}

/// Why a request is refused before the service sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    /// A short reason, for the body and the log: never the client's bytes
    /// beyond a field's name (a token) and lengths.
    pub(crate) reason: String,
}

impl Refusal {
    fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        Refusal {
            status,
            reason: reason.into(),
        }
    }
}

/// Fields that a request may carry once only (`Host` is checked on its own).
/// Check `req`'s head against `limits` and RFC 9112 §3.2.
pub(crate) fn check<B>(req: &http::Request<B>, limits: &Limits) -> Result<(), Refusal> {
    let line = request_line_len(req);
    if line > limits.request_line {
        return Err(Refusal::new(
            StatusCode::URI_TOO_LONG,
            format!(
                "request line of {line} bytes over the limit of {}",
                limits.request_line
            ),
        ));
    }
    let headers = req.headers();
    if headers.len() > limits.headers {
        return Err(Refusal::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "{} header fields, over the limit of {}",
                headers.len(),
                limits.headers
            ),
        ));
    }
    // One pass over the fields: the line lengths, and where the singleton
    // fields are (a standard name compares as one integer), so that the
    // good request, with each of them once, costs no hash lookup.
    let mut host = None;
    let (mut hosts, mut content_types, mut content_lengths) = (0, 0, 0);
    for (name, value) in headers {
        // `name: value`, as sent on the wire (hyper trims the spaces).
        let len = name.as_str().len() + 2 + value.len();
        if len > limits.header_line {
            return Err(Refusal::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                format!(
                    "header line {name} of {len} bytes over the limit of {}",
                    limits.header_line
                ),
            ));
        }
        if *name == HOST {
            hosts += 1;
            host = Some(value);
        } else if *name == CONTENT_TYPE {
            content_types += 1;
        } else if *name == CONTENT_LENGTH {
            content_lengths += 1;
        }
    }
    check_target(req)?;
    if hosts > 1 {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "more than one Host field",
        ));
    }
    check_host(req, host)?;
    for (name, count) in [
        (CONTENT_TYPE, content_types),
        (CONTENT_LENGTH, content_lengths),
    ] {
        if count > 1 {
            let mut values = headers.get_all(&name).iter();
            let first = values.next();
            if values.any(|v| Some(v) != first) {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    format!("{name} sent more than once with different values"),
                ));
            }
        }
    }
    Ok(())
}

fn request_line_len<B>(req: &http::Request<B>) -> usize {
    let uri = req.uri();
    let path = uri.path_and_query().map_or(0, |p| p.as_str().len());
    let target = if req.version() == Version::HTTP_2 {
        path
    } else {
        uri.scheme_str().map_or(0, |s| s.len() + 3)
            + uri.authority().map_or(0, |a| a.as_str().len())
            + path
    };
    req.method().as_str().len() + 1 + target + " HTTP/1.1".len()
}

/// Asterisk form for `OPTIONS` only, authority form for `CONNECT` only
/// (RFC 9112 §3.2.3, §3.2.4).
fn check_target<B>(req: &http::Request<B>) -> Result<(), Refusal> {
    let uri = req.uri();
    let method = req.method();
    if uri.path() == "*" && uri.query().is_none() && *method != Method::OPTIONS {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "the asterisk form (*) is for OPTIONS only",
        ));
    }
    let authority_form = uri.scheme().is_none() && uri.authority().is_some();
    let connect = *method == Method::CONNECT;
    if authority_form && !connect {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "the authority form (host:port) is for CONNECT only",
        ));
    }
    // HTTP/2's extended CONNECT (RFC 8441) has a path: HTTP/1 only here.
    if connect && !authority_form && req.version() < Version::HTTP_2 {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "CONNECT takes the authority form (host:port) only",
        ));
    }
    Ok(())
}

/// The one `Host` (required in HTTP/1.1) is the same as the target's authority
/// when it has one (RFC 9112 §3.2, RFC 9113 §8.3.1).
fn check_host<B>(req: &http::Request<B>, host: Option<&HeaderValue>) -> Result<(), Refusal> {
    match (host, req.uri().authority()) {
        (None, _) if req.version() == Version::HTTP_11 => Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "an HTTP/1.1 request without a Host field",
        )),
        (Some(host), Some(authority))
            if !same_authority(host.as_bytes(), authority.as_str().as_bytes()) =>
        {
            Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "a Host field that differs from the target's authority",
            ))
        }
        _ => Ok(()),
    }
}

/// `a` and `b` name the same authority: equal but for ASCII case and an
/// explicit default port (`:80`, `:443`) on one side.
fn same_authority(a: &[u8], b: &[u8]) -> bool {
    fn bare(s: &[u8]) -> &[u8] {
        s.strip_suffix(b":80")
            .or_else(|| s.strip_suffix(b":443"))
            .unwrap_or(s)
    }
    a.eq_ignore_ascii_case(b) || bare(a).eq_ignore_ascii_case(bare(b))
}

#[cfg(test)]
mod tests;
