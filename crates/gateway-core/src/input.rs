//! `wsgi.input`: the request body as a blocking reader.
//!
//! [`Input`] is `Read` and `BufRead` (`read`, `read_line`, `lines()`), never
//! reads past `CONTENT_LENGTH`, and ends with EOF for bodies of unknown length
//! (chunked requests), so `wsgi.input_terminated` is always true: an app may
//! read until EOF without trusting `CONTENT_LENGTH`. Reading after EOF returns
//! nothing, again and again.
//!
//! ```
//! use std::io::{BufRead, Read};
//! use gateway_core::Input;
//!
//! let mut input = Input::from_bytes("line one\nline two\n");
//! let mut first = String::new();
//! input.read_line(&mut first).unwrap();
//! assert_eq!(first, "line one\n");
//! let mut rest = String::new();
//! input.read_to_string(&mut rest).unwrap();
//! assert_eq!(rest, "line two\n");
//! assert_eq!(input.read(&mut [0; 8]).unwrap(), 0);
//! ```

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

use bytes::{Buf, Bytes};

/// The buffer size of a streaming input.
const BUFFER: usize = 16 * 1024;

/// `wsgi.input`: the request body.
pub struct Input {
    src: Src,
}

enum Src {
    Bytes(Bytes),
    Reader {
        reader: BufReader<Limited>,
        remaining: Option<u64>,
    },
}

/// A reader cut at a length, if one is given.
struct Limited {
    inner: Box<dyn Read + Send>,
    left: Option<u64>,
}

impl Read for Limited {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = match self.left {
            Some(0) => return Ok(0),
            Some(n) => buf.len().min(n.min(usize::MAX as u64) as usize),
            None => buf.len(),
        };
        let n = self.inner.read(&mut buf[..want])?;
        if let Some(left) = &mut self.left {
            *left -= n as u64;
        }
        Ok(n)
    }
}

impl Input {
    /// No body.
    pub fn empty() -> Self {
        Input {
            src: Src::Bytes(Bytes::new()),
        }
    }

    /// A body already in memory.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        Input {
            src: Src::Bytes(bytes.into()),
        }
    }

    /// A streaming body: read from `reader`, never past `content_length` when
    /// it is given, else until EOF.
    pub fn from_reader(reader: impl Read + Send + 'static, content_length: Option<u64>) -> Self {
        let limited = Limited {
            inner: Box::new(reader),
            left: content_length,
        };
        let reader = BufReader::with_capacity(BUFFER, limited);
        Input {
            src: Src::Reader {
                reader,
                remaining: content_length,
            },
        }
    }

    /// The bytes left to read, where known.
    pub fn remaining(&self) -> Option<u64> {
        match &self.src {
            Src::Bytes(b) => Some(b.len() as u64),
            Src::Reader { remaining, .. } => *remaining,
        }
    }

    /// `wsgi.input_terminated`: reading until EOF is safe. Always `true` here.
    pub fn is_terminated(&self) -> bool {
        true
    }

    /// Read everything left, refusing more than `limit` bytes.
    pub fn read_all(&mut self, limit: usize) -> io::Result<Bytes> {
        if let Src::Bytes(b) = &mut self.src {
            if b.len() > limit {
                return Err(too_large(limit));
            }
            return Ok(std::mem::take(b));
        }
        let mut out = Vec::new();
        let read = self.take(limit as u64 + 1).read_to_end(&mut out)?;
        if read > limit {
            return Err(too_large(limit));
        }
        Ok(out.into())
    }
}

/// [`Error::PayloadTooLarge`](crate::Error::PayloadTooLarge) as an `io::Error`.
fn too_large(limit: usize) -> io::Error {
    io::Error::from(crate::Error::PayloadTooLarge {
        limit: limit as u64,
    })
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.src {
            Src::Bytes(b) => {
                let n = buf.len().min(b.len());
                b.copy_to_slice(&mut buf[..n]);
                Ok(n)
            }
            Src::Reader { reader, remaining } => {
                let n = reader.read(buf)?;
                if let Some(r) = remaining {
                    *r = r.saturating_sub(n as u64);
                }
                Ok(n)
            }
        }
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match &mut self.src {
            Src::Bytes(b) => Ok(&b[..]),
            Src::Reader { reader, .. } => reader.fill_buf(),
        }
    }

    fn consume(&mut self, amt: usize) {
        match &mut self.src {
            Src::Bytes(b) => b.advance(amt.min(b.len())),
            Src::Reader { reader, remaining } => {
                reader.consume(amt);
                if let Some(r) = remaining {
                    *r = r.saturating_sub(amt as u64);
                }
            }
        }
    }
}

impl Default for Input {
    fn default() -> Self {
        Input::empty()
    }
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("remaining", &self.remaining())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_reads_past_content_length() {
        let src = io::Cursor::new(b"hello world, and the next request".to_vec());
        let mut input = Input::from_reader(src, Some(11));
        let mut all = String::new();
        input.read_to_string(&mut all).unwrap();
        assert_eq!(all, "hello world");
        assert_eq!(input.remaining(), Some(0));
    }

    #[test]
    fn reads_to_eof_without_a_length() {
        let mut input = Input::from_reader(io::Cursor::new(b"chunked body".to_vec()), None);
        assert!(input.is_terminated());
        let mut all = Vec::new();
        input.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"chunked body");
    }

    #[test]
    fn reading_after_eof_returns_empty() {
        for mut input in [
            Input::from_bytes("ab"),
            Input::from_reader(io::Cursor::new(b"ab".to_vec()), Some(2)),
        ] {
            let mut buf = [0u8; 4];
            assert_eq!(input.read(&mut buf).unwrap(), 2);
            for _ in 0..3 {
                assert_eq!(input.read(&mut buf).unwrap(), 0);
                let mut line = String::new();
                assert_eq!(input.read_line(&mut line).unwrap(), 0);
            }
        }
    }

    #[test]
    fn lines_iterate() {
        let src = io::Cursor::new(b"a\nb\nc".to_vec());
        let input = Input::from_reader(src, None);
        let lines: Vec<String> = input.lines().map(Result::unwrap).collect();
        assert_eq!(lines, ["a", "b", "c"]);
    }

    #[test]
    fn read_all_refuses_more_than_the_limit() {
        let mut input = Input::from_reader(io::Cursor::new(vec![7u8; 100]), None);
        assert!(input.read_all(99).is_err());
        let mut input = Input::from_reader(io::Cursor::new(vec![7u8; 100]), None);
        assert_eq!(input.read_all(100).unwrap().len(), 100);
        assert!(Input::from_bytes(vec![1u8; 10]).read_all(9).is_err());
    }
}
