//! `Handler`: runs an app and turns what it says into a correct HTTP response.
//!
//! This is the seed's (and wsgiref's) `BaseHandler`, without the I/O: the
//! gateway around it (CGI, the tower bridge, the test client) writes what it
//! yields. It reads as the protocol does:
//!
//! 1. **run** — call the app with the environ and a fresh `start_response`;
//! 2. **start_response** — the app sets the head, now or from inside its body;
//! 3. **finish_response** — pull the body until the first non-empty chunk (or
//!    a `write`, or the end): only then is the head final (so `exc_info` can
//!    still replace it), and it goes through the middleware's interceptors;
//! 4. **write** — every later chunk, in order with `write` data, through the
//!    interceptors, cut at the `Content-Length`;
//! 5. **close** — the app's body is dropped (PEP 3333's `close()`) on every
//!    path: end, error, panic, or the server dropping the response because
//!    the client went away.
//!
//! On top of wsgiref it defers the head, frames the response
//! ([`Output::content_length`] when the whole body is known), strips the body
//! of `HEAD`, `1xx`, `204` and `304` responses, cuts a body that overruns its
//! `Content-Length` and reports one that falls short (so the server closes
//! the connection instead of leaving the client waiting), and turns an error
//! or a panic before the head into a `500` (after it, into an aborted body).
//!
//! ```
//! use gateway_core::{Body, Environ, Error, Handler, StartResponse};
//!
//! let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
//!     sr.start("200 OK", [("Content-Type", "text/plain")])?;
//!     Ok(Body::from("Hello"))
//! };
//! let environ = Environ::new(http::Method::GET, http::Uri::from_static("/"));
//! let response = Handler::new().run(&app, environ);
//! assert_eq!(response.head.status, 200);
//! assert_eq!(response.body.content_length(), Some(5));
//! let body: Vec<_> = response.body.map(Result::unwrap).collect();
//! assert_eq!(body, ["Hello"]);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http::{Method, StatusCode};

use crate::intercept::concat;
use crate::start_response::Slot;
use crate::{App, Body, End, Environ, Error, Errors, Head, Intercept, Outcome, StartResponse};

/// The body of the `500` sent when the app fails before its head.
const ERROR_BODY: &[u8] = b"Internal Server Error\n";

/// Runs apps by the rules of PEP 3333. Cheap to copy; holds no per-request state.
#[derive(Debug, Clone, Copy, Default)]
pub struct Handler {
    _private: (),
}

/// What the Handler made of a request: the final head, then the body.
#[derive(Debug)]
pub struct Response {
    /// The final head: send it before any of the body.
    pub head: Head,
    /// The body chunks; the length to frame with is [`Output::content_length`].
    pub body: Output,
}

impl Handler {
    /// A handler.
    pub const fn new() -> Self {
        Handler { _private: () }
    }

    /// Run `app` for one request: call it, and pull its body until the head
    /// is final. The rest of the body comes from iterating [`Response::body`].
    pub fn run<A: App + ?Sized>(&self, app: &A, environ: Environ) -> Response {
        let mut out = Output::new(environ.errors().clone(), environ.method() == Method::HEAD);
        let (start_response, slot) = StartResponse::new();
        out.slot = Some(slot);
        let called = catch_unwind(AssertUnwindSafe(|| app.call(environ, start_response)));
        match called.unwrap_or_else(|panic| Err(Error::from_panic(panic))) {
            Ok(body) => {
                out.body = Some(body);
                match out.finish_response() {
                    Ok(head) => Response { head, body: out },
                    Err(e) => out.error_before_head(e),
                }
            }
            Err(e) => out.error_before_head(e),
        }
    }
}

/// The response body as the Handler gives it to the server: an iterator of
/// chunks after every interceptor and every framing rule. An `Err` means the
/// response must be aborted (the connection closed). Dropping it closes the
/// app's body.
pub struct Output {
    slot: Option<Arc<Slot>>,
    body: Option<Body>,
    /// Interceptors, innermost first.
    chain: Vec<Box<dyn Intercept>>,
    ready: Option<Bytes>,
    queue: VecDeque<Bytes>,
    errors: Errors,
    head_request: bool,
    status: StatusCode,
    /// Send body bytes at all (not for HEAD, 1xx, 204, 304).
    send_body: bool,
    /// The Content-Length of the final head.
    declared: Option<u64>,
    /// The length to frame the response with, where known.
    length: Option<u64>,
    sent: u64,
    /// The app's body is exhausted (or must not be pulled any more).
    body_done: bool,
    /// The interceptors' `end` has run.
    chain_ended: bool,
    /// How it ended, once it did.
    ended: Option<End>,
}

impl Output {
    fn new(errors: Errors, head_request: bool) -> Self {
        Output {
            slot: None,
            body: None,
            chain: Vec::new(),
            ready: None,
            queue: VecDeque::new(),
            errors,
            head_request,
            status: StatusCode::OK,
            send_body: true,
            declared: None,
            length: None,
            sent: 0,
            body_done: false,
            chain_ended: false,
            ended: None,
        }
    }

    /// The exact length of the response body, when known: the head's
    /// `Content-Length`, or the size of a body known whole. For a `HEAD`
    /// request it is the length a `GET` would have had (nothing is sent).
    /// A gateway writes it as `Content-Length` if the head has none.
    pub fn content_length(&self) -> Option<u64> {
        self.length
    }

    /// `true` when nothing more will come.
    pub fn is_end_stream(&self) -> bool {
        self.ended.is_some() && self.ready.is_none() && self.queue.is_empty()
    }

    fn slot(&self) -> &Slot {
        self.slot.as_deref().expect("the slot is set before the app is called")
    }

    // ----- finish_response: find the final head -----

    fn finish_response(&mut self) -> Result<Head, Error> {
        loop {
            let written = self.slot().take_written();
            if !written.is_empty() {
                let head = self.send_headers(None)?;
                self.write_all(written)?;
                return Ok(head);
            }
            if self.slot().lock().head.is_some() {
                let body = self.body.as_mut().expect("body is set");
                if let Some(whole) = body.take_whole() {
                    return self.send_whole(whole);
                }
                let len = body.len();
                if self.head_request || self.head_says_no_body() {
                    return self.send_headers(len);
                }
            }
            match self.pull() {
                Some(Ok(chunk)) if chunk.is_empty() => continue,
                Some(Ok(chunk)) => {
                    let written = self.slot().take_written();
                    let len = self.body.as_ref().and_then(Body::len);
                    let head = self.send_headers(len)?;
                    self.write_all(written)?;
                    self.write(chunk)?;
                    return Ok(head);
                }
                Some(Err(e)) => return Err(e),
                None => {
                    self.body_done = true;
                    let written = self.slot().take_written();
                    if written.is_empty() {
                        return self.send_whole(Bytes::new());
                    }
                    let head = self.send_headers(None)?;
                    self.write_all(written)?;
                    return Ok(head);
                }
            }
        }
    }

    /// A head whose status has no body, or whose Content-Length is 0, may go
    /// without pulling the body.
    fn head_says_no_body(&self) -> bool {
        let state = self.slot().lock();
        let Some(head) = state.head.as_ref() else { return false };
        no_body_status(head.status)
            || head.headers.get(CONTENT_LENGTH).is_some_and(|v| v.as_bytes() == b"0")
    }

    /// Take the app's head and the interceptors out of the slot: the head is
    /// final from here on.
    fn take_head(&mut self) -> Result<Head, Error> {
        let slot = self.slot.clone().expect("slot");
        let mut state = slot.lock();
        let head = state.head.take().ok_or(Error::NotStarted)?;
        state.head_sent = true;
        self.chain = std::mem::take(&mut state.intercepts);
        self.chain.reverse();
        Ok(head)
    }

    /// The head goes out ahead of a streamed body of `len` bytes if known.
    fn send_headers(&mut self, len: Option<u64>) -> Result<Head, Error> {
        let mut head = self.take_head()?;
        for intercept in &mut self.chain {
            intercept.head(&mut head, len)?;
        }
        self.frame(&mut head, None)?;
        if !self.send_body || self.declared == Some(0) {
            self.body_done = true;
        }
        Ok(head)
    }

    /// The head goes out with the whole body, known at once.
    fn send_whole(&mut self, mut body: Bytes) -> Result<Head, Error> {
        let mut head = self.take_head()?;
        for intercept in &mut self.chain {
            body = intercept.whole(&mut head, body)?;
        }
        self.chain_ended = true;
        self.body_done = true;
        self.frame(&mut head, Some(body.len() as u64))?;
        self.send(body);
        Ok(head)
    }

    /// Settle the framing of the final head: which statuses carry a body, and
    /// the Content-Length.
    fn frame(&mut self, head: &mut Head, whole: Option<u64>) -> Result<(), Error> {
        self.status = head.status;
        let bodiless = no_body_status(head.status);
        self.send_body = !bodiless && !self.head_request;
        if head.status.is_informational() || head.status == StatusCode::NO_CONTENT {
            head.headers.remove(CONTENT_LENGTH);
        }
        self.declared = declared_length(head)?;
        self.length = match (self.declared, whole) {
            (Some(declared), _) => Some(declared),
            (None, Some(len)) if !bodiless => Some(len),
            _ => None,
        };
        Ok(())
    }

    // ----- write: every chunk after the head -----

    fn write_all(&mut self, chunks: Vec<Bytes>) -> Result<(), Error> {
        chunks.into_iter().try_for_each(|c| self.write(c))
    }

    /// One chunk of output, through the interceptors, then framed.
    fn write(&mut self, mut chunk: Bytes) -> Result<(), Error> {
        for intercept in &mut self.chain {
            if chunk.is_empty() {
                return Ok(());
            }
            chunk = intercept.data(chunk)?;
        }
        self.send(chunk);
        Ok(())
    }

    /// Queue a chunk for the server, never past the declared Content-Length.
    fn send(&mut self, mut chunk: Bytes) {
        if !self.send_body || chunk.is_empty() || self.ended.is_some() {
            return;
        }
        if let Some(declared) = self.declared {
            let room = declared - self.sent;
            if chunk.len() as u64 > room {
                chunk.truncate(room as usize);
                self.log(&Error::ContentLengthOverrun { declared });
            }
            if chunk.len() as u64 == room {
                self.body_done = true;
            }
        }
        if chunk.is_empty() {
            return;
        }
        self.sent += chunk.len() as u64;
        if self.ready.is_none() && self.queue.is_empty() {
            self.ready = Some(chunk);
        } else {
            self.queue.push_back(chunk);
        }
    }

    fn pop(&mut self) -> Option<Bytes> {
        self.ready.take().or_else(|| self.queue.pop_front())
    }

    fn pull(&mut self) -> Option<Result<Bytes, Error>> {
        let body = self.body.as_mut()?;
        match catch_unwind(AssertUnwindSafe(|| body.next())) {
            Ok(item) => item,
            Err(panic) => Some(Err(Error::from_panic(panic))),
        }
    }

    /// The body ended: the interceptors' last bytes, then the length check.
    fn end_stream(&mut self) -> Option<Result<Bytes, Error>> {
        if !self.chain_ended {
            self.chain_ended = true;
            match self.end_chain() {
                Ok(tail) => self.send(tail),
                Err(e) => return Some(self.fail(e)),
            }
        }
        if let Some(declared) = self.declared.filter(|&d| self.send_body && self.sent < d) {
            return Some(self.fail(Error::ContentLengthUnderrun { declared, sent: self.sent }));
        }
        self.close(End::Complete);
        self.pop().map(Ok)
    }

    /// Each interceptor's `end`, its bytes passed through the outer ones.
    fn end_chain(&mut self) -> Result<Bytes, Error> {
        let mut out = Bytes::new();
        for intercept in &mut self.chain {
            if !out.is_empty() {
                out = intercept.data(out)?;
            }
            out = concat(out, intercept.end()?);
        }
        Ok(out)
    }

    /// An error after the head: log it, close, and tell the server to abort.
    fn fail(&mut self, error: Error) -> Result<Bytes, Error> {
        self.log(&error);
        self.ready = None;
        self.queue.clear();
        self.close(End::Failed);
        Err(error)
    }

    /// An error before the head: a `500`, through the interceptors if they
    /// have not seen anything yet.
    fn error_before_head(mut self, error: Error) -> Response {
        self.log(&error);
        self.drop_body();
        let mut head = Head::new(StatusCode::INTERNAL_SERVER_ERROR);
        head.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        let mut body = Bytes::from_static(ERROR_BODY);
        if let Some(slot) = self.slot.clone() {
            let mut state = slot.lock();
            state.head_sent = true;
            state.head = None;
            if self.chain.is_empty() {
                self.chain = std::mem::take(&mut state.intercepts);
                self.chain.reverse();
                drop(state);
                let (mut h, mut b) = (head.clone(), body.clone());
                let through = self.chain.iter_mut().try_for_each(|i| {
                    b = i.whole(&mut h, std::mem::take(&mut b))?;
                    Ok::<(), Error>(())
                });
                if through.is_ok() {
                    (head, body) = (h, b);
                }
            }
        }
        self.chain_ended = true;
        self.body_done = true;
        self.ready = None;
        self.queue.clear();
        self.sent = 0;
        // The 500 head is ours and valid: framing cannot fail on it.
        let _ = self.frame(&mut head, Some(body.len() as u64));
        self.send(body);
        Response { head, body: self }
    }

    fn log(&self, error: &Error) {
        self.errors.log(&format!("gateway: {error}"));
    }

    // ----- close -----

    fn drop_body(&mut self) {
        if let Some(body) = self.body.take() {
            if catch_unwind(AssertUnwindSafe(|| drop(body))).is_err() {
                self.errors.log("gateway: the app's body panicked while closing");
            }
        }
    }

    /// PEP 3333's `close()`: drop the app's body, then tell the interceptors.
    fn close(&mut self, end: End) {
        if self.ended.is_some() {
            return;
        }
        self.ended = Some(end);
        self.drop_body();
        if let Some(slot) = &self.slot {
            slot.lock().closed = true;
        }
        let outcome = Outcome { status: self.status, bytes_sent: self.sent, end };
        for intercept in &mut self.chain {
            if catch_unwind(AssertUnwindSafe(|| intercept.finish(&outcome))).is_err() {
                self.errors.log("gateway: an interceptor panicked in finish");
            }
        }
    }
}

impl Iterator for Output {
    type Item = Result<Bytes, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(chunk) = self.pop() {
                return Some(Ok(chunk));
            }
            if self.ended.is_some() {
                return None;
            }
            if self.body_done {
                return self.end_stream();
            }
            match self.pull() {
                None => self.body_done = true,
                Some(Err(e)) => return Some(self.fail(e)),
                Some(Ok(chunk)) => {
                    let written = self.slot().take_written();
                    let wrote = self.write_all(written).and_then(|()| self.write(chunk));
                    if let Err(e) = wrote {
                        return Some(self.fail(e));
                    }
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.is_end_stream() { (0, Some(0)) } else { (0, None) }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        let end = if self.body_done && self.ready.is_none() && self.queue.is_empty() {
            End::Complete
        } else {
            End::ClientGone
        };
        self.close(end);
    }
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Output")
            .field("status", &self.status)
            .field("content_length", &self.length)
            .field("sent", &self.sent)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// Statuses whose responses never carry a body.
fn no_body_status(status: StatusCode) -> bool {
    status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED
}

/// The head's Content-Length: digits only, and one value (repeats must agree).
fn declared_length(head: &Head) -> Result<Option<u64>, Error> {
    let mut found = None;
    for value in head.headers.get_all(CONTENT_LENGTH) {
        let bad = || Error::InvalidHeaderValue { name: "content-length".to_owned() };
        let text = value.to_str().map_err(|_| bad())?;
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u64 = text.parse().map_err(|_| bad())?;
        if found.is_some_and(|f| f != n) {
            return Err(bad());
        }
        found = Some(n);
    }
    Ok(found)
}
