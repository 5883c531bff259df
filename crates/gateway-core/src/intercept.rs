//! The one mechanism by which middleware sees and changes a response.
//!
//! In Python a middleware that wants the status, the headers, the `write`
//! calls and the body wraps `start_response`, wraps `write`, and wraps the
//! body iterable: three hand-made wrappers that must keep `write` data and
//! body chunks in order, and most get it wrong somewhere. Here a middleware
//! registers an [`Intercept`] on the `StartResponse` it is given
//! ([`StartResponse::intercept`](crate::StartResponse::intercept)) and the
//! [`Handler`](crate::Handler) runs every piece of output through the chain,
//! innermost middleware first, in the order the app produced it:
//!
//! - [`head`](Intercept::head) once, when the head is final;
//! - [`data`](Intercept::data) for each chunk, from `write` and from the body alike;
//! - [`end`](Intercept::end) when the body ends (a compressor flushes its trailer);
//! - or, when the whole body is known at once, [`whole`](Intercept::whole)
//!   instead of the three (a compressor compresses it in one shot);
//! - [`finish`](Intercept::finish) once, however the response ended.
//!
//! Middleware that does not intercept costs nothing.
//!
//! ```
//! use bytes::Bytes;
//! use gateway_core::{Error, Head, Intercept, Outcome};
//!
//! /// Upper-cases every text response.
//! struct Shout;
//!
//! impl Intercept for Shout {
//!     fn data(&mut self, chunk: Bytes) -> Result<Bytes, Error> {
//!         Ok(chunk.to_ascii_uppercase().into())
//!     }
//! }
//! ```

use std::borrow::Cow;

use bytes::{Bytes, BytesMut};
use http::StatusCode;

use crate::{Error, Head};

/// A middleware's view of the response as it goes out. See the module docs.
pub trait Intercept: Send + 'static {
    /// The head is final as far as the inner app goes; change it here.
    /// `len` is the body's exact length when the app declared it
    /// ([`Body::with_len`](crate::Body::with_len), a file); the head then
    /// holds it as `Content-Length` too, so an interceptor that changes the
    /// body's length removes that header.
    fn head(&mut self, head: &mut Head, len: Option<u64>) -> Result<(), Error> {
        let _ = (head, len);
        Ok(())
    }

    /// A chunk of output (from the body or from `write`); return what goes on.
    /// An empty return sends nothing for now.
    fn data(&mut self, chunk: Bytes) -> Result<Bytes, Error> {
        Ok(chunk)
    }

    /// The body ended; return any last bytes.
    fn end(&mut self) -> Result<Bytes, Error> {
        Ok(Bytes::new())
    }

    /// The whole body is known at once (one chunk, no `write`). By default:
    /// `head`, `data`, `end`. A middleware that can do better on a whole body
    /// (compress it in one shot, give it a `Content-Length`) overrides this.
    fn whole(&mut self, head: &mut Head, body: Bytes) -> Result<Bytes, Error> {
        self.head(head, Some(body.len() as u64))?;
        let data = self.data(body)?;
        let tail = self.end()?;
        Ok(concat(data, tail))
    }

    /// The response is over: complete, failed, or abandoned by the client.
    fn finish(&mut self, outcome: &Outcome) {
        let _ = outcome;
    }
}

/// Join two chunks, copying only when both hold bytes.
pub fn concat(a: Bytes, b: Bytes) -> Bytes {
    if b.is_empty() {
        a
    } else if a.is_empty() {
        b
    } else {
        let mut all = BytesMut::with_capacity(a.len() + b.len());
        all.extend_from_slice(&a);
        all.extend_from_slice(&b);
        all.freeze()
    }
}

/// How a response ended, as [`Intercept::finish`] learns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The status sent (a `500` when the app failed before the head).
    pub status: StatusCode,
    /// Body bytes handed to the server for the client, after every interceptor.
    pub bytes_sent: u64,
    /// How it ended.
    pub end: End,
    /// The notes middleware left with [`StartResponse::note`](crate::StartResponse::note).
    pub notes: Vec<(Cow<'static, str>, String)>,
}

impl Outcome {
    /// The note of that name, if any.
    pub fn note(&self, name: &str) -> Option<&str> {
        self.notes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
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
