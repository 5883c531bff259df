//! `wsgi.errors`: where an app writes its diagnostics.
//!
//! [`ErrorStream`] is a `std::io::Write`. Text is cut into lines; each line
//! goes to the log. By default ([`ErrorStream::default`]) that is a `tracing`
//! event at `ERROR` on target `gateway::errors` when a `tracing` subscriber
//! is installed, and the process's stderr when none is: an error is never
//! silent. [`ErrorStream::to_fn`] sends lines anywhere else.
//! The [`Handler`](crate::Handler) reports the errors it turns into `500`s
//! here too, with the request's method, path and request id
//! ([`ErrorStream::report`]). A partial line is written on `flush` or when
//! the handle is dropped.
//!
//! ```
//! use std::io::Write;
//! use std::sync::{Arc, Mutex};
//! use gateway_core::ErrorStream;
//!
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let sink = seen.clone();
//! let mut errors = ErrorStream::to_fn(move |line| sink.lock().unwrap().push(line.to_owned()));
//! write!(errors, "disk almost full\nretrying").unwrap();
//! drop(errors);
//! assert_eq!(*seen.lock().unwrap(), ["disk almost full", "retrying"]);
//! ```

use std::fmt;
use std::io;
use std::sync::Arc;

type LineFn = dyn Fn(&str) + Send + Sync;

/// `wsgi.errors`: a line-buffered writer into the log. See the [module
/// docs](self).
pub struct ErrorStream {
    sink: Sink,
    partial: Vec<u8>,
}

/// Where the lines go.
#[derive(Clone)]
enum Sink {
    /// `tracing` when a subscriber is installed, else stderr.
    Default,
    /// Always a `tracing` event.
    Tracing,
    /// Always stderr.
    Stderr,
    /// A function.
    Fn(Arc<LineFn>),
}

/// The request an error belongs to, as [`ErrorStream::report`] names it.
#[derive(Debug, Clone, Copy)]
pub struct RequestLine<'a> {
    /// `REQUEST_METHOD`.
    pub method: &'a str,
    /// The request target as sent (path and query).
    pub target: &'a str,
    /// The request's `x-request-id`, when it has one.
    pub request_id: Option<&'a str>,
}

impl fmt::Display for RequestLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.target)?;
        if let Some(id) = self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl ErrorStream {
    /// Lines always become `tracing` events at `ERROR` on target
    /// `gateway::errors`, even when no subscriber is installed.
    pub const fn to_tracing() -> Self {
        ErrorStream {
            sink: Sink::Tracing,
            partial: Vec::new(),
        }
    }

    /// Lines always go to the process's stderr.
    pub const fn to_stderr() -> Self {
        ErrorStream {
            sink: Sink::Stderr,
            partial: Vec::new(),
        }
    }

    /// Lines go to `sink`, one call each, without the newline.
    pub fn to_fn(sink: impl Fn(&str) + Send + Sync + 'static) -> Self {
        ErrorStream {
            sink: Sink::Fn(Arc::new(sink)),
            partial: Vec::new(),
        }
    }

    /// Report an error the server met while serving `request`: one line
    /// `gateway: METHOD TARGET (request id ID): ERROR`, or, to `tracing`, an
    /// event with `method`, `target` and `request_id` fields.
    pub fn report(&self, request: &RequestLine<'_>, error: &dyn fmt::Display) {
        if self.to_subscriber() {
            tracing::error!(
                target: "gateway::errors",
                method = request.method,
                target = request.target,
                request_id = request.request_id,
                "{error}"
            );
        } else {
            self.log(&format!("gateway: {request}: {error}"));
        }
    }

    /// `true` when lines go to a `tracing` subscriber.
    fn to_subscriber(&self) -> bool {
        match self.sink {
            Sink::Default => tracing::dispatcher::has_been_set(),
            Sink::Tracing => true,
            Sink::Stderr | Sink::Fn(_) => false,
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
            Sink::Fn(sink) => sink(line),
            _ if self.to_subscriber() => tracing::error!(target: "gateway::errors", "{line}"),
            _ => {
                use io::Write as _;
                let _ = writeln!(io::stderr().lock(), "{line}");
            }
        }
    }

    fn emit_bytes(&self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        self.emit(&String::from_utf8_lossy(line));
    }
}

impl io::Write for ErrorStream {
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

impl Drop for ErrorStream {
    fn drop(&mut self) {
        let _ = io::Write::flush(self);
    }
}

/// A clone shares the sink, not the partial line.
impl Clone for ErrorStream {
    fn clone(&self) -> Self {
        ErrorStream {
            sink: self.sink.clone(),
            partial: Vec::new(),
        }
    }
}

/// `tracing` when a subscriber is installed (checked per line), else stderr.
impl Default for ErrorStream {
    fn default() -> Self {
        ErrorStream {
            sink: Sink::Default,
            partial: Vec::new(),
        }
    }
}

impl fmt::Debug for ErrorStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sink = match self.sink {
            Sink::Default => "default",
            Sink::Tracing => "tracing",
            Sink::Stderr => "stderr",
            Sink::Fn(_) => "fn",
        };
        f.debug_struct("ErrorStream").field("sink", &sink).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::Mutex;

    fn capture() -> (ErrorStream, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        (
            ErrorStream::to_fn(move |l| sink.lock().unwrap().push(l.to_owned())),
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
    fn reports_name_the_request() {
        let (e, seen) = capture();
        let request = RequestLine {
            method: "GET",
            target: "/x?y",
            request_id: Some("abc"),
        };
        e.report(&request, &"it broke");
        assert_eq!(
            *seen.lock().unwrap(),
            ["gateway: GET /x?y (request id abc): it broke"]
        );
    }

    #[test]
    fn clones_share_the_sink() {
        let (e, seen) = capture();
        e.clone().log("from a clone");
        assert_eq!(*seen.lock().unwrap(), ["from a clone"]);
    }
}
