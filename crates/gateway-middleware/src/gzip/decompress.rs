//! Request decompression: a `Content-Encoding: gzip` request body is inflated
//! as the app reads `wsgi.input`, never past a limit.

use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use bytes::Bytes;
use flate2::bufread::MultiGzDecoder;
use gateway_core::{Environ, Error, Head, Input};
use http::StatusCode;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};

/// What became of the request body, as the response interceptor learns it:
/// `0` (fine so far), [`TOO_LARGE`] or [`CORRUPT`].
#[derive(Debug, Default)]
pub(crate) struct Inflated(AtomicU8);

const TOO_LARGE: u8 = 1;
const CORRUPT: u8 = 2;

impl Inflated {
    fn set(&self, state: u8) {
        self.0.store(state, Ordering::Relaxed);
    }

    /// The answer the response must be replaced with, if the request body
    /// failed and the app did not answer with a client error of its own.
    pub(crate) fn rejection(&self, head: &Head, limit: u64) -> Option<(Head, Bytes)> {
        if head.status.is_client_error() {
            return None;
        }
        let (status, message) = match self.0.load(Ordering::Relaxed) {
            TOO_LARGE => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body inflates to more than {limit} bytes\n"),
            ),
            CORRUPT => (
                StatusCode::BAD_REQUEST,
                "the request body is not valid gzip\n".to_owned(),
            ),
            _ => return None,
        };
        let mut head = Head::new(status);
        head.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        head.headers
            .insert(CONTENT_LENGTH, HeaderValue::from(message.len()));
        Some((head, Bytes::from(message)))
    }
}

/// When the request says `Content-Encoding: gzip` (or `x-gzip`), and nothing
/// else: put a decoder around `wsgi.input` and remove `Content-Encoding` and
/// `Content-Length` from the headers. Other codings are left as they are.
pub(crate) fn inflate_request(environ: &mut Environ, limit: u64) -> Option<Arc<Inflated>> {
    let mut codings = environ
        .headers()
        .get_all(CONTENT_ENCODING)
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("?").split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let gzip = codings
        .next()
        .is_some_and(|c| c.eq_ignore_ascii_case("gzip") || c.eq_ignore_ascii_case("x-gzip"));
    if !gzip || codings.next().is_some() {
        return None;
    }
    let state = Arc::new(Inflated::default());
    let input = environ.take_input();
    let reader = Limit {
        decoder: MultiGzDecoder::new(input),
        limit,
        total: 0,
        state: state.clone(),
    };
    environ.set_input(Input::from_reader(reader, None));
    environ.headers_mut().remove(CONTENT_ENCODING);
    environ.headers_mut().remove(CONTENT_LENGTH);
    Some(state)
}

/// The inflated body, cut with an error one byte past the limit.
struct Limit {
    decoder: MultiGzDecoder<Input>,
    limit: u64,
    total: u64,
    state: Arc<Inflated>,
}

impl Read for Limit {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.total > self.limit {
            return Err(too_large(self.limit));
        }
        let room = usize::try_from(self.limit - self.total)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        let want = buf.len().min(room);
        match self.decoder.read(&mut buf[..want]) {
            Ok(n) => {
                self.total += n as u64;
                if self.total > self.limit {
                    self.state.set(TOO_LARGE);
                    return Err(too_large(self.limit));
                }
                Ok(n)
            }
            Err(e) => {
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidData
                        | io::ErrorKind::InvalidInput
                        | io::ErrorKind::UnexpectedEof
                ) {
                    self.state.set(CORRUPT);
                }
                Err(e)
            }
        }
    }
}

fn too_large(limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        Error::PayloadTooLarge { limit },
    )
}

impl fmt::Debug for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limit")
            .field("limit", &self.limit)
            .field("total", &self.total)
            .finish()
    }
}
