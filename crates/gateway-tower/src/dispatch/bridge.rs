//! What both dispatch modes share: the request's parts into an [`Environ`],
//! and the Handler's answer into an `http::Response` ready for hyper.

use bytes::Bytes;
use gateway_core::{Environ, Error, ErrorStream, Flags, Handled, Input, Output, UrlScheme};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http::{StatusCode, Version};

use crate::{ConnectionInfo, GatewayBody};

/// The per-service settings, cloned into requests that outlive `call`.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) body_limit: usize,
    /// Whether Blocking's streaming `wsgi.input` enforces `body_limit` too
    /// (only once [`AppService::body_limit`](crate::AppService::body_limit)
    /// was called).
    pub(crate) limit_streams: bool,
    /// The longest wait for the next frame of a request body.
    pub(crate) body_timeout: Option<std::time::Duration>,
    /// The longest a request may take to its final head.
    pub(crate) deadline: Option<std::time::Duration>,
    /// The most Blocking requests waiting for a place at once.
    pub(crate) max_queued: Option<usize>,
    pub(crate) url_scheme: UrlScheme,
    /// `wsgi.multithread`, `wsgi.multiprocess`, `wsgi.run_once`.
    pub(crate) flags: Flags,
    /// `wsgi.errors` for every request, when not the default (`tracing`).
    pub(crate) errors: Option<ErrorStream>,
}

/// The request as the app sees it: the parts are moved in, not copied.
pub(crate) fn environ(parts: http::request::Parts, input: Input, config: &Config) -> Environ {
    let info = parts.extensions.get::<ConnectionInfo>().copied();
    let mut environ = Environ::from_parts(parts, input);
    if let Some(info) = info {
        environ.set_local_addr(Some(info.local));
        environ.set_remote_addr(Some(info.remote));
    }
    if config.url_scheme != UrlScheme::Http {
        environ.set_url_scheme(config.url_scheme);
    }
    if config.flags != Flags::default() {
        environ.set_flags(config.flags);
    }
    if let Some(errors) = &config.errors {
        environ.set_errors(errors.clone());
    }
    environ
}

/// What a request needs to know about itself once the environ is gone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestKind {
    pub(crate) version: Version,
    pub(crate) head_request: bool,
}

impl RequestKind {
    pub(crate) fn of(environ: &Environ) -> Self {
        RequestKind {
            version: environ.version(),
            head_request: environ.method() == http::Method::HEAD,
        }
    }
}

/// The Handler's answer, ready for hyper: the head, the first chunk, and the
/// rest of the output unless the first chunk was all of it.
pub(crate) struct Started {
    pub(crate) head: http::Response<()>,
    pub(crate) first: Option<Result<Bytes, Error>>,
    pub(crate) rest: Option<Output>,
    pub(crate) length: Option<u64>,
}

/// Take the Handler's final head and the first chunk of its body.
pub(crate) fn start(response: Handled, kind: RequestKind) -> Started {
    let Handled {
        head,
        body: mut output,
    } = response;
    let length = output.content_length();
    // The Handler already holds the first chunk (it pulled the body until
    // the head was final): taking it is free, and tells whether it was all.
    let first = output.next();
    let rest = if output.is_end_stream() {
        None
    } else {
        Some(output)
    };
    let mut res = http::Response::new(());
    *res.status_mut() = head.status;
    *res.headers_mut() = head.headers;
    if let Some(reason) = head.reason {
        if kind.version < Version::HTTP_2 {
            let bytes = match reason {
                std::borrow::Cow::Borrowed(s) => Bytes::from_static(s.as_bytes()),
                std::borrow::Cow::Owned(s) => Bytes::from(s),
            };
            if let Ok(reason) = hyper::ext::ReasonPhrase::try_from(bytes) {
                res.extensions_mut().insert(reason);
            }
        }
    }
    if kind.head_request {
        // hyper sends no Content-Length for an empty HEAD response unless
        // the head has one: give it the length a GET would have had.
        if let Some(len) = length {
            res.headers_mut()
                .entry(CONTENT_LENGTH)
                .or_insert_with(|| HeaderValue::from(len));
        }
    }
    Started {
        head: res,
        first,
        rest,
        length,
    }
}

/// An answer of the bridge itself (not of the app): a status and a line of text.
pub(crate) fn plain(status: StatusCode, text: &'static str) -> http::Response<GatewayBody> {
    let mut res = http::Response::new(GatewayBody::from(text));
    *res.status_mut() = status;
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}
