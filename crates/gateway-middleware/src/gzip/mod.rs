//! Gzip: negotiated, streaming compression of responses, and optional
//! decompression of gzip request bodies.
//!
//! [`Gzip`] is a [`Middleware`]: `Gzip::default().wrap(app)`, or one layer of
//! a [`Stack`](gateway_core::Stack). For each request it reads
//! `Accept-Encoding` (RFC 9110 §12.5.3: q-values, `*`, `x-gzip`,
//! `identity;q=0`, case-insensitive; no header means identity), registers an
//! [`Intercept`](gateway_core::Intercept) and calls the app. When the head is
//! final it decides:
//!
//! - **left alone**: `1xx`, `204`, `206`, a `Content-Range`,
//!   a `Content-Encoding` already set, `Cache-Control: no-transform`, a
//!   content digest header (`Content-Digest`, `Repr-Digest`, `Digest`,
//!   `Content-MD5`: it would no longer match), an empty body or one whose
//!   known size is under [`Gzip::min_size`] (1 KiB), and what the
//!   [predicate](Gzip::predicate) turns down (by default [`compressible`]:
//!   not images but SVG, audio, video, archives, WOFF, `octet-stream`);
//! - **compressed** when the client takes gzip: `Content-Encoding: gzip`,
//!   `Vary: Accept-Encoding` (once; never next to `Vary: *`), a strong `ETag`
//!   made weak, `Accept-Ranges` dropped, and `Content-Length` set to the
//!   compressed size for a body known whole or removed for a stream;
//! - **sent as is** to a client that does not take gzip, with
//!   `Vary: Accept-Encoding` all the same (caches must not hand the identity
//!   copy to a client that takes gzip);
//! - a `HEAD` request gets the header fields its `GET` would get (RFC 9110
//!   §9.3.2; caches validate with `HEAD`): `Content-Encoding: gzip` and, for
//!   a body known whole, the compressed `Content-Length`.
//!   A `304` to a client that takes gzip gets the `Vary` and the weak `ETag`
//!   of the representation it validates.
//!
//! A body known whole (one chunk in memory, or one that fills the head's
//! `Content-Length` at once, as most framework answers do) is compressed in
//! one shot, by libdeflate at levels 2 to 8 and by flate2 on zlib-rs at the
//! others (measured faster there on real HTML, CSS, JS and JSON, at the
//! same ratio). A stream goes through flate2 chunk by chunk, in order with the
//! legacy `write` data, holding one chunk at a time: a 1 GiB body is never
//! in memory. By default every chunk the app yields is flushed
//! ([`Flush::EveryChunk`]), so server-sent events and long polls reach the
//! client as they are made; [`Flush::Never`] trades that for a better ratio.
//!
//! With [`Gzip::decompress_requests`], a request with `Content-Encoding:
//! gzip` has its `wsgi.input` inflated as the app reads it, and its
//! `Content-Encoding` and `Content-Length` removed. Reading past the limit
//! fails with an `io::Error` holding [`Error::PayloadTooLarge`]; an app that
//! fails on it (or answers anything but a `4xx` of its own) is answered
//! `413 Payload Too Large`, and one whose request body is not gzip, `400 Bad
//! Request`. This holds while the head is not sent: an app that reads its
//! input from inside a streamed body gets the error there. A request body in
//! another coding is passed on unchanged.
//!
//! ```
//! use std::io::Read;
//! use gateway_core::{testing::Client, Body, Environ, Error, Middleware, StartResponse};
//! use gateway_middleware::gzip::{Flush, Gzip};
//!
//! fn page(_: Environ, start_response: StartResponse) -> Result<Body, Error> {
//!     start_response.start("200 OK", [("Content-Type", "text/html; charset=utf-8")])?;
//!     Ok(Body::from("<p>hello, gzip</p>\n".repeat(100)))
//! }
//!
//! let gzip = Gzip::new().level(9)?.min_size(256).flush(Flush::EveryChunk);
//! let client = Client::new(gzip.wrap(page));
//! let response = client.get("/").header("Accept-Encoding", "br, gzip;q=0.8").send();
//! assert_eq!(response.header("content-encoding"), Some("gzip"));
//! assert_eq!(response.header("vary"), Some("Accept-Encoding"));
//! assert_eq!(response.header("content-length"), Some(response.body.len().to_string().as_str()));
//!
//! let mut html = String::new();
//! flate2::read::GzDecoder::new(&response.body[..]).read_to_string(&mut html)?;
//! assert_eq!(html, "<p>hello, gzip</p>\n".repeat(100));
//!
//! let identity = client.get("/").header("Accept-Encoding", "gzip;q=0").send();
//! assert_eq!(identity.header("content-encoding"), None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod decompress;
mod encoder;
mod intercept;
mod negotiate;
mod predicate;

use std::fmt;
use std::sync::Arc;

use gateway_core::{App, Body, Environ, Error, Head, Middleware, StartResponse};
use http::Method;

pub use predicate::compressible;

use intercept::{GzipIntercept, State};
use predicate::Predicate;

/// When the streaming compressor sends what it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Flush {
    /// After every chunk the app yields (or writes), a sync flush: the client
    /// can decode everything produced so far. Right for server-sent events
    /// and long streams; costs a few bytes per chunk.
    #[default]
    EveryChunk,
    /// Only when the compressor's buffer fills, and at the end: the best
    /// ratio, but a slow stream arrives late.
    Never,
}

/// The compression level given to [`Gzip::level`] is not 0 to 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("gzip level {level} is out of range: use 0 (stored) to 9 (smallest); 6 is the default")]
pub struct InvalidLevel {
    level: u32,
}

impl InvalidLevel {
    /// The level that was refused.
    pub fn level(&self) -> u32 {
        self.level
    }
}

/// The gzip middleware. See the [module docs](self).
#[derive(Debug, Clone, Default)]
pub struct Gzip {
    config: Config,
}

/// Everything a [`Gzip`] was told, shared by its apps and their interceptors.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    level: u32,
    min_size: u64,
    flush: Flush,
    predicate: Predicate,
    /// Requests whose responses are never compressed ([`Gzip::skip_requests`]).
    skip: Option<SkipRequests>,
    /// The inflated-size limit when request bodies are decompressed.
    decompress: Option<u64>,
}

/// A [`Gzip::skip_requests`] predicate.
#[derive(Clone)]
struct SkipRequests(Arc<dyn Fn(&Environ) -> bool + Send + Sync>);

impl fmt::Debug for SkipRequests {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SkipRequests")
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            level: 6,
            min_size: 1024,
            flush: Flush::EveryChunk,
            predicate: Predicate::Default,
            skip: None,
            decompress: None,
        }
    }
}

impl Gzip {
    /// Level 6, bodies of 1 KiB and more, [`Flush::EveryChunk`], the
    /// [`compressible`] predicate, request bodies left alone.
    pub fn new() -> Self {
        Gzip::default()
    }

    /// The compression level, `0` (stored, no compression) to `9` (smallest,
    /// slowest). An error for anything else.
    pub fn level(mut self, level: u32) -> Result<Self, InvalidLevel> {
        if level > 9 {
            return Err(InvalidLevel { level });
        }
        self.config.level = level;
        Ok(self)
    }

    /// Leave alone a body whose size is known and under `bytes` (default
    /// 1024): gzip's 20 bytes of framing would eat the gain. A stream of
    /// unknown length is compressed whatever its size.
    pub fn min_size(mut self, bytes: u64) -> Self {
        self.config.min_size = bytes;
        self
    }

    /// The flush policy of streamed bodies (default [`Flush::EveryChunk`]).
    pub fn flush(mut self, flush: Flush) -> Self {
        self.config.flush = flush;
        self
    }

    /// Decide from the final head (status, headers) whether a response is
    /// worth compressing, in place of [`compressible`]. The rules on
    /// statuses, `Content-Encoding`, `no-transform` and size apply either way.
    pub fn predicate<P>(mut self, predicate: P) -> Self
    where
        P: Fn(&Head) -> bool + Send + Sync + 'static,
    {
        self.config.predicate = Predicate::Custom(Arc::new(predicate));
        self
    }

    /// Never compress the responses to the requests `skip` picks (by path,
    /// method, header): the routes whose pages carry a secret next to text an
    /// attacker can make the page reflect (a CSRF token beside a search
    /// term), which is what BREACH needs. One response can opt out by
    /// itself with `Cache-Control: no-transform`.
    ///
    /// ```
    /// use gateway_middleware::gzip::Gzip;
    ///
    /// let gzip = Gzip::new().skip_requests(|environ| environ.path_info().starts_with(b"/account/"));
    /// # let _ = gzip;
    /// ```
    pub fn skip_requests<F>(mut self, skip: F) -> Self
    where
        F: Fn(&Environ) -> bool + Send + Sync + 'static,
    {
        self.config.skip = Some(SkipRequests(Arc::new(skip)));
        self
    }

    /// Inflate `Content-Encoding: gzip` request bodies, up to `limit` bytes
    /// inflated (past it: `413`). Off by default.
    pub fn decompress_requests(mut self, limit: u64) -> Self {
        self.config.decompress = Some(limit);
        self
    }
}

impl<A: App> Middleware<A> for Gzip {
    type App = GzipApp<A>;

    fn wrap(&self, app: A) -> GzipApp<A> {
        GzipApp {
            app,
            config: Arc::new(self.config.clone()),
        }
    }
}

/// An app wrapped in [`Gzip`].
pub struct GzipApp<A> {
    app: A,
    config: Arc<Config>,
}

impl<A: App> App for GzipApp<A> {
    fn call(&self, mut environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
        let inflated = self
            .config
            .decompress
            .and_then(|limit| decompress::inflate_request(&mut environ, limit));
        let skip = self
            .config
            .skip
            .as_ref()
            .is_some_and(|skip| (skip.0)(&environ));
        if skip && inflated.is_none() {
            return self.app.call(environ, start_response);
        }
        start_response.intercept(GzipIntercept {
            config: self.config.clone(),
            accepts_gzip: !skip && negotiate::accepts_gzip(environ.headers()),
            head_request: environ.method() == Method::HEAD,
            inflated,
            state: State::Plain,
        });
        self.app.call(environ, start_response)
    }
}

impl<A> fmt::Debug for GzipApp<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GzipApp")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
