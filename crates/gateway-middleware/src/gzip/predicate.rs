//! Which responses are worth compressing: the default [`compressible`]
//! predicate, and the [`Predicate`] a user may put in its place.

use std::fmt;
use std::sync::Arc;

use gateway_core::Head;
use http::header::CONTENT_TYPE;

/// The default predicate: `true` when the response's `Content-Type` is one
/// that gzip makes smaller.
///
/// `false` for types that are already compressed: images (but
/// `image/svg+xml`), audio, video, WOFF and WOFF2 fonts, zip, gzip, 7z, rar,
/// bzip2, xz, zstd, and `application/octet-stream`. A response without a
/// `Content-Type` is `application/octet-stream` to its recipient (RFC 9110
/// §8.3), so it is not compressed either. Everything else (`text/*`, JSON,
/// JavaScript, XML, SVG, `text/event-stream`, ...) is.
///
/// Compose it to refine the default:
///
/// ```
/// use gateway_core::Head;
/// use gateway_middleware::gzip::{compressible, Gzip};
///
/// let gzip = Gzip::new().predicate(|head: &Head| {
///     compressible(head) && !head.headers.contains_key("x-no-compression")
/// });
/// # let _ = gzip;
/// ```
pub fn compressible(head: &Head) -> bool {
    head.headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(compressible_type)
}

/// Subtypes of `application/` that are compressed already.
const COMPRESSED_APPLICATION: [&str; 15] = [
    "octet-stream",
    "zip",
    "gzip",
    "x-gzip",
    "x-7z-compressed",
    "vnd.rar",
    "x-rar-compressed",
    "x-bzip",
    "x-bzip2",
    "x-xz",
    "zstd",
    "x-zstd",
    "x-compress",
    "font-woff",
    "font-woff2",
];

/// [`compressible`] for one `Content-Type` value.
fn compressible_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    if is(kind, "image") {
        is(subtype, "svg+xml")
    } else if is(kind, "audio") || is(kind, "video") {
        false
    } else if is(kind, "font") {
        !(is(subtype, "woff") || is(subtype, "woff2"))
    } else if is(kind, "application") {
        !COMPRESSED_APPLICATION.iter().any(|c| is(subtype, c))
    } else {
        !kind.is_empty() && !subtype.is_empty()
    }
}

/// The predicate a [`Gzip`](super::Gzip) asks whether a response is worth
/// compressing: [`compressible`], or the user's own.
#[derive(Clone, Default)]
pub(crate) enum Predicate {
    /// [`compressible`].
    #[default]
    Default,
    /// The user's.
    Custom(Arc<dyn Fn(&Head) -> bool + Send + Sync>),
}

impl Predicate {
    pub(crate) fn check(&self, head: &Head) -> bool {
        match self {
            Predicate::Default => compressible(head),
            Predicate::Custom(f) => f(head),
        }
    }
}

impl fmt::Debug for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Predicate::Default => f.write_str("compressible"),
            Predicate::Custom(_) => f.write_str("custom"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        for yes in [
            "text/html; charset=utf-8",
            "TEXT/PLAIN",
            "application/json",
            "application/javascript",
            "application/xml",
            "image/svg+xml",
            "Image/SVG+XML; charset=utf-8",
            "text/event-stream",
            "font/ttf",
            "application/wasm",
        ] {
            assert!(compressible_type(yes), "{yes}");
        }
        for no in [
            "image/png",
            "image/jpeg",
            "image/webp",
            "audio/ogg",
            "video/mp4",
            "application/zip",
            "application/gzip",
            "application/x-gzip",
            "application/x-7z-compressed",
            "application/vnd.rar",
            "application/x-bzip2",
            "application/x-xz",
            "application/zstd",
            "font/woff2",
            "font/woff",
            "application/octet-stream",
            "Application/Octet-Stream; x=y",
            "",
            "text",
            "/plain",
        ] {
            assert!(!compressible_type(no), "{no}");
        }
    }
}
