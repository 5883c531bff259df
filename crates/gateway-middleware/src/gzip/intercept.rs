//! The response side: decide per response, rewrite the head, compress the body.

use std::sync::Arc;

use bytes::Bytes;
use gateway_core::{BodyInfo, Error, Head, Intercept};
use http::StatusCode;
use http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, ETAG, HeaderMap,
    HeaderName, HeaderValue, VARY,
};

use super::Config;
use super::decompress::Inflated;
use super::encoder::{Encoder, gzip_whole};

/// Digest headers that would be wrong once the content is re-encoded.
const DIGESTS: [HeaderName; 4] = [
    HeaderName::from_static("content-digest"),
    HeaderName::from_static("repr-digest"),
    HeaderName::from_static("digest"),
    HeaderName::from_static("content-md5"),
];

/// What to do with one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Not a candidate whatever the client accepts: leave it alone.
    Pass,
    /// A candidate sent as is (the client did not take gzip): only
    /// `Vary: Accept-Encoding`.
    Identity,
    /// A `304` to a client that takes gzip: the headers of the gzip
    /// representation it validates (`Vary`, weak `ETag`), no body.
    NotModified,
    /// Compress.
    Gzip,
}

/// The per-request interceptor a [`GzipApp`](super::GzipApp) registers.
#[derive(Debug)]
pub(crate) struct GzipIntercept {
    pub(crate) config: Arc<Config>,
    /// The request's `Accept-Encoding` makes gzip the coding to send.
    pub(crate) accepts_gzip: bool,
    pub(crate) head_request: bool,
    /// Set when the request body is being inflated.
    pub(crate) inflated: Option<Arc<Inflated>>,
    pub(crate) state: State,
}

/// Where the response is.
#[derive(Debug, Default)]
pub(crate) enum State {
    /// Passing through.
    #[default]
    Plain,
    /// Compressing a stream.
    Gzip(Box<Encoder>),
    /// Compressing a body known whole, in one shot when it comes.
    Whole,
    /// The app's answer was replaced (a request body over the limit): its
    /// chunks are dropped and this goes out at the end.
    Replaced(Bytes),
}

impl GzipIntercept {
    fn plan(&self, head: &Head, len: Option<u64>) -> Plan {
        let status = head.status;
        let headers = &head.headers;
        if status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::PARTIAL_CONTENT
        {
            return Plan::Pass;
        }
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok());
        // A 304's own body is empty: only a declared length says anything.
        let len = if status == StatusCode::NOT_MODIFIED {
            declared
        } else {
            declared.or(len)
        };
        // The size first: it settles most small answers in one lookup.
        if len.is_some_and(|n| n == 0 || n < self.config.min_size)
            || headers.contains_key(CONTENT_RANGE)
            || headers.contains_key(CONTENT_ENCODING)
            || DIGESTS.iter().any(|d| headers.contains_key(d))
            || has_token(headers, &CACHE_CONTROL, "no-transform")
            || !self.config.predicate.check(head)
        {
            return Plan::Pass;
        }
        match (self.accepts_gzip, status == StatusCode::NOT_MODIFIED) {
            (false, _) => Plan::Identity,
            (true, true) => Plan::NotModified,
            (true, false) => Plan::Gzip,
        }
    }

    /// Replace the app's answer when the request body could not be inflated.
    fn reject(&mut self, head: &mut Head) -> Option<Bytes> {
        let (new, body) = self
            .inflated
            .as_ref()?
            .rejection(head, self.config.decompress?)?;
        *head = new;
        Some(body)
    }
}

impl Intercept for GzipIntercept {
    fn head(&mut self, head: &mut Head, body: BodyInfo) -> Result<(), Error> {
        if let Some(body) = self.reject(head) {
            self.state = State::Replaced(body);
            return Ok(());
        }
        let plan = self.plan(head, body.len);
        edit_head(&mut head.headers, plan);
        if plan == Plan::Gzip {
            // The Handler frames a whole body by its compressed size.
            head.headers.remove(CONTENT_LENGTH);
            // A HEAD answer gets the GET's header fields (RFC 9110 §9.3.2):
            // a whole body is compressed for its length; a stream, which
            // HEAD never pulls, needs no encoder.
            self.state = if body.whole {
                State::Whole
            } else if self.head_request {
                State::Plain
            } else {
                State::Gzip(Box::new(Encoder::new(self.config.level, self.config.flush)))
            };
        }
        Ok(())
    }

    fn data(&mut self, chunk: Bytes) -> Result<Bytes, Error> {
        match &mut self.state {
            State::Plain => Ok(chunk),
            State::Gzip(encoder) => encoder.data(&chunk),
            State::Whole => {
                // The whole body, in one shot; anything after it would be a
                // second gzip member, so the Handler never sends more.
                self.state = State::Plain;
                gzip_whole(self.config.level, &chunk)
            }
            State::Replaced(_) => Ok(Bytes::new()),
        }
    }

    fn end(&mut self) -> Result<Bytes, Error> {
        match std::mem::take(&mut self.state) {
            State::Plain => Ok(Bytes::new()),
            State::Gzip(mut encoder) => encoder.finish(),
            State::Whole => gzip_whole(self.config.level, &[]),
            State::Replaced(body) => Ok(body),
        }
    }
}

/// The header changes of a plan (but `Content-Length`, which depends on
/// whether the body is known whole).
fn edit_head(headers: &mut HeaderMap, plan: Plan) {
    if plan == Plan::Pass {
        return;
    }
    if !has_token(headers, &VARY, "accept-encoding") && !has_token(headers, &VARY, "*") {
        headers.append(VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if plan == Plan::Identity {
        return;
    }
    weaken_etag(headers);
    if plan == Plan::Gzip {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        // Byte ranges of the identity representation do not apply to this one.
        headers.remove(ACCEPT_RANGES);
    }
}

/// `true` when a comma-separated list header holds `token` (case-insensitive;
/// a token with parameters, as `no-transform=x`, does not count).
fn has_token(headers: &HeaderMap, name: &HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// A strong `ETag` (`"x"`) becomes weak (`W/"x"`): the gzip bytes are not
/// the bytes the app tagged. A weak one stays as it is.
fn weaken_etag(headers: &mut HeaderMap) {
    if let http::header::Entry::Occupied(mut entry) = headers.entry(ETAG) {
        for value in entry.iter_mut() {
            if value.as_bytes().first() == Some(&b'"') {
                let mut weak = Vec::with_capacity(value.len() + 2);
                weak.extend_from_slice(b"W/");
                weak.extend_from_slice(value.as_bytes());
                if let Ok(weak) = HeaderValue::from_bytes(&weak) {
                    *value = weak;
                }
            }
        }
    }
}
