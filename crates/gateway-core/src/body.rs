//! The response body an app returns: PEP 3333's iterable of byte strings.
//!
//! A [`Body`] is an iterator of `Result<Bytes, Error>` chunks. It knows its
//! exact length when it can ([`Body::len`]), so the gateway can send a
//! `Content-Length` instead of chunked framing. Dropping a body is PEP 3333's
//! `close()`: put clean-up in a `Drop` impl of your iterator, or use
//! [`Body::on_close`]. [`Body::file`] and [`Body::reader`] are
//! `wsgi.file_wrapper`: they read a file or any reader in blocks.
//!
//! ```
//! use gateway_core::Body;
//!
//! let whole = Body::from("Hello, World!");
//! assert_eq!(whole.len(), Some(13));
//!
//! let chunks = Body::iter(["a", "b", "c"]).with_len(3);
//! let all: Vec<_> = chunks.map(Result::unwrap).collect();
//! assert_eq!(all, ["a", "b", "c"]);
//! ```

use std::fmt;
use std::io::Read;

use bytes::Bytes;

use crate::Error;

/// The size of the blocks [`Body::file`] reads.
pub const DEFAULT_BLOCK_SIZE: usize = 64 * 1024;

type Chunks = Box<dyn Iterator<Item = Result<Bytes, Error>> + Send>;

/// A response body: an iterator of byte chunks. Dropping it closes it.
pub struct Body {
    kind: Kind,
}

enum Kind {
    Empty,
    Full(Bytes),
    Chunks {
        iter: Chunks,
        len: Option<u64>,
    },
    Reader {
        reader: Box<dyn Read + Send>,
        block: usize,
        /// The declared total, which `len` reports.
        len: Option<u64>,
        /// What is left of it to read.
        remaining: Option<u64>,
    },
}

impl Body {
    /// An empty body.
    pub const fn empty() -> Self {
        Body { kind: Kind::Empty }
    }

    /// A body of one known chunk (also `Body::from(bytes)`).
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() {
            Body::empty()
        } else {
            Body {
                kind: Kind::Full(bytes),
            }
        }
    }

    /// A body made of the chunks of an iterator, produced lazily.
    pub fn iter<I, B>(chunks: I) -> Self
    where
        I: IntoIterator<Item = B>,
        I::IntoIter: Send + 'static,
        B: Into<Bytes> + 'static,
    {
        Body::try_iter(chunks.into_iter().map(Ok::<B, Error>))
    }

    /// A body from an iterator of fallible chunks: an `Err` aborts the
    /// response (or becomes a `500` when nothing was sent yet).
    pub fn try_iter<I, B, E>(chunks: I) -> Self
    where
        I: IntoIterator<Item = Result<B, E>>,
        I::IntoIter: Send + 'static,
        B: Into<Bytes> + 'static,
        E: Into<Error> + 'static,
    {
        let iter = chunks
            .into_iter()
            .map(|c| c.map(Into::into).map_err(Into::into));
        Body {
            kind: Kind::Chunks {
                iter: Box::new(iter),
                len: None,
            },
        }
    }

    /// `wsgi.file_wrapper`: a file read in blocks, its length from its metadata.
    pub fn file(file: std::fs::File) -> std::io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(Body::reader(file, DEFAULT_BLOCK_SIZE).with_len(len))
    }

    /// Any reader, read in blocks of `block_size` bytes until EOF.
    pub fn reader(reader: impl Read + Send + 'static, block_size: usize) -> Self {
        let block = block_size.max(1);
        Body {
            kind: Kind::Reader {
                reader: Box::new(reader),
                block,
                len: None,
                remaining: None,
            },
        }
    }

    /// Declare the exact total length of a body: the Handler sends it as the
    /// `Content-Length` when the head has none (and no `write` data came
    /// first). A body that then sends more or less is cut or reported.
    pub fn with_len(mut self, len: u64) -> Self {
        match &mut self.kind {
            Kind::Chunks { len: l, .. } => *l = Some(len),
            Kind::Reader {
                len: l, remaining, ..
            } => (*l, *remaining) = (Some(len), Some(len)),
            Kind::Empty | Kind::Full(_) => {}
        }
        self
    }

    /// Run `f` when the body is closed (dropped), whatever way it ends.
    pub fn on_close(self, f: impl FnOnce() + Send + 'static) -> Self {
        let len = self.len();
        let guard = OnClose {
            body: self,
            f: Some(f),
        };
        Body {
            kind: Kind::Chunks {
                iter: Box::new(guard),
                len,
            },
        }
    }

    /// The exact total length, where it is known (the same before and
    /// after chunks were read).
    pub fn len(&self) -> Option<u64> {
        match &self.kind {
            Kind::Empty => Some(0),
            Kind::Full(b) => Some(b.len() as u64),
            Kind::Chunks { len, .. } => *len,
            Kind::Reader { len, .. } => *len,
        }
    }

    /// `true` when the body is known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The whole body, when it is one chunk already in memory.
    pub fn as_full(&self) -> Option<&Bytes> {
        match &self.kind {
            Kind::Full(b) => Some(b),
            _ => None,
        }
    }

    /// `true` when the whole body is in memory (one chunk, or empty).
    pub fn is_whole(&self) -> bool {
        matches!(self.kind, Kind::Empty | Kind::Full(_))
    }

    /// Take the whole body out, when it is in memory (see [`Body::is_whole`]).
    pub fn take_whole(&mut self) -> Option<Bytes> {
        match std::mem::replace(&mut self.kind, Kind::Empty) {
            Kind::Empty => Some(Bytes::new()),
            Kind::Full(b) => Some(b),
            other => {
                self.kind = other;
                None
            }
        }
    }
}

impl Iterator for Body {
    type Item = Result<Bytes, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.kind {
            Kind::Empty => None,
            Kind::Full(_) => match std::mem::replace(&mut self.kind, Kind::Empty) {
                Kind::Full(b) => Some(Ok(b)),
                _ => None,
            },
            Kind::Chunks { iter, .. } => iter.next(),
            Kind::Reader {
                reader,
                block,
                remaining,
                ..
            } => {
                let want = match remaining {
                    Some(0) => return None,
                    Some(n) => (*n).min(*block as u64) as usize,
                    None => *block,
                };
                let mut buf = vec![0; want];
                match read_some(reader, &mut buf) {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        if let Some(r) = remaining {
                            *r -= n as u64;
                        }
                        Some(Ok(Bytes::from(buf)))
                    }
                    Err(e) => Some(Err(Error::from(e))),
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.kind {
            Kind::Empty => (0, Some(0)),
            Kind::Full(_) => (1, Some(1)),
            Kind::Chunks { iter, .. } => iter.size_hint(),
            Kind::Reader {
                remaining: Some(0), ..
            } => (0, Some(0)),
            Kind::Reader { .. } => (0, None),
        }
    }
}

/// Fill as much of `buf` as the reader gives before EOF (so blocks are full).
fn read_some(reader: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Empty => "empty",
            Kind::Full(_) => "full",
            Kind::Chunks { .. } => "chunks",
            Kind::Reader { .. } => "reader",
        };
        f.debug_struct("Body")
            .field("kind", &kind)
            .field("len", &self.len())
            .finish()
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::full(b)
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::full(Bytes::from_static(s.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Self {
        Body::full(Bytes::from_static(s))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::full(s)
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Body::full(v)
    }
}

struct OnClose<F: FnOnce()> {
    body: Body,
    f: Option<F>,
}

impl<F: FnOnce()> Iterator for OnClose<F> {
    type Item = Result<Bytes, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        self.body.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.body.size_hint()
    }
}

impl<F: FnOnce()> Drop for OnClose<F> {
    fn drop(&mut self) {
        if let Some(f) = self.f.take() {
            f();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn full_body_yields_once_and_knows_its_length() {
        let mut b = Body::from("abc");
        assert_eq!(b.len(), Some(3));
        assert_eq!(b.next().unwrap().unwrap(), "abc");
        assert!(b.next().is_none());
        assert!(b.next().is_none());
    }

    #[test]
    fn empty_bytes_make_an_empty_body() {
        assert!(Body::from(String::new()).is_empty());
        assert!(Body::empty().is_whole());
    }

    #[test]
    fn reader_reads_in_blocks_up_to_the_declared_length() {
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let body = Body::reader(std::io::Cursor::new(data.clone()), 4096);
        let chunks: Vec<Bytes> = body.map(Result::unwrap).collect();
        assert_eq!(
            chunks.iter().map(Bytes::len).collect::<Vec<_>>(),
            [4096, 4096, 1808]
        );
        assert_eq!(chunks.concat(), data);

        let cut = Body::reader(std::io::Cursor::new(data.clone()), 4096).with_len(5000);
        assert_eq!(cut.len(), Some(5000));
        let got: Vec<u8> = cut.map(Result::unwrap).collect::<Vec<_>>().concat();
        assert_eq!(got, &data[..5000]);

        // The length is the declared total, before and after reading; the
        // size hint says when nothing is left.
        let mut read = Body::reader(std::io::Cursor::new(data.clone()), 4096).with_len(5000);
        assert_eq!(read.size_hint(), (0, None));
        read.next().unwrap().unwrap();
        assert_eq!(read.len(), Some(5000));
        read.next().unwrap().unwrap();
        assert_eq!(read.size_hint(), (0, Some(0)));
        assert!(read.next().is_none());
    }

    #[test]
    fn file_body_knows_its_length() {
        let path = std::env::temp_dir().join(format!("gateway-body-{}", std::process::id()));
        std::fs::write(&path, b"file contents").unwrap();
        let body = Body::file(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(body.len(), Some(13));
        let got: Vec<u8> = body.map(Result::unwrap).collect::<Vec<_>>().concat();
        assert_eq!(got, b"file contents");
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn dropping_is_close() {
        let closed = Arc::new(AtomicBool::new(false));
        let flag = closed.clone();
        let body = Body::iter(["a", "b"]).on_close(move || flag.store(true, Ordering::SeqCst));
        drop(body);
        assert!(closed.load(Ordering::SeqCst));
    }
}
