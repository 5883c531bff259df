//! `wsgi.errors`: where an app writes its diagnostics.
//!
//! [`Errors`] is a `std::io::Write`. Text is cut into lines; each line goes to
//! the log: a `tracing` event at `ERROR` on target `gateway::errors` by
//! default, or any sink you give ([`Errors::to_fn`]), such as the access log's.
//! The [`Handler`](crate::Handler) writes the errors it turns into `500`s here
//! too. A partial line is written on `flush` or when the handle is dropped.
//!
//! ```
//! use std::io::Write;
//! use std::sync::{Arc, Mutex};
//! use gateway_core::Errors;
//!
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let sink = seen.clone();
//! let mut errors = Errors::to_fn(move |line| sink.lock().unwrap().push(line.to_owned()));
//! write!(errors, "disk almost full\nretrying").unwrap();
//! drop(errors);
//! assert_eq!(*seen.lock().unwrap(), ["disk almost full", "retrying"]);
//! ```

use std::fmt;
use std::io;
use std::sync::Arc;

type LineFn = dyn Fn(&str) + Send + Sync;

/// `wsgi.errors`: a line-buffered writer into the log.
pub struct Errors {
    sink: Option<Arc<LineFn>>,
    partial: Vec<u8>,
}

impl Errors {
    /// Lines become `tracing` events at `ERROR` on target `gateway::errors`.
    pub const fn to_tracing() -> Self {
        Errors {
            sink: None,
            partial: Vec::new(),
        }
    }

    /// Lines go to `sink`, one call each, without the newline.
    pub fn to_fn(sink: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Errors {
            sink: Some(Arc::new(sink)),
            partial: Vec::new(),
        }
    }

    /// Write one whole line (or several, split at newlines).
    pub fn log(&self, text: &str) {
        for line in text.lines() {
            self.emit(line);
        }
    }

    fn emit(&self, line: &str) {
        match &self.sink {
            Some(sink) => sink(line),
            None => tracing::error!(target: "gateway::errors", "{line}"),
        }
    }

    fn emit_bytes(&self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        self.emit(&String::from_utf8_lossy(line));
    }
}

impl io::Write for Errors {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            if self.partial.is_empty() {
                self.emit_bytes(&rest[..nl]);
            } else {
                self.partial.extend_from_slice(&rest[..nl]);
                let line = std::mem::take(&mut self.partial);
                self.emit_bytes(&line);
            }
            rest = &rest[nl + 1..];
        }
        self.partial.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.emit_bytes(&line);
        }
        Ok(())
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        let _ = io::Write::flush(self);
    }
}

/// A clone shares the sink, not the partial line.
impl Clone for Errors {
    fn clone(&self) -> Self {
        Errors {
            sink: self.sink.clone(),
            partial: Vec::new(),
        }
    }
}

impl Default for Errors {
    fn default() -> Self {
        Errors::to_tracing()
    }
}

impl fmt::Debug for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sink = if self.sink.is_some() { "fn" } else { "tracing" };
        f.debug_struct("Errors").field("sink", &sink).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::Mutex;

    fn capture() -> (Errors, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        (
            Errors::to_fn(move |l| sink.lock().unwrap().push(l.to_owned())),
            seen,
        )
    }

    #[test]
    fn lines_are_cut_at_newlines_across_writes() {
        let (mut e, seen) = capture();
        e.write_all(b"par").unwrap();
        e.write_all(b"tial\r\nnext\nlast").unwrap();
        assert_eq!(*seen.lock().unwrap(), ["partial", "next"]);
        e.flush().unwrap();
        assert_eq!(*seen.lock().unwrap(), ["partial", "next", "last"]);
    }

    #[test]
    fn clones_share_the_sink() {
        let (e, seen) = capture();
        e.clone().log("from a clone");
        assert_eq!(*seen.lock().unwrap(), ["from a clone"]);
    }
}
