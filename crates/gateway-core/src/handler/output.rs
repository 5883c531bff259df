//! [`Output`]: the response body as the Handler gives it to the server, and
//! the steps that make it (finish_response, write, close).

use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http::{Method, StatusCode, Uri};

use super::{guard, no_content, sends_no_body};
use crate::error_stream::RequestLine;
use crate::start_response::Slot;
use crate::{Body, BodyInfo, End, Error, ErrorStream, Handled, Head, Intercept, Outcome};

/// The body of the `500` sent when the app fails before its head.
const ERROR_BODY: &[u8] = b"Internal Server Error\n";

/// The body of the answer to an error before the head: the client's errors
/// ([`Error::is_client_error`]) say what the client did wrong (the message
/// names no app detail); any other is a plain `500`.
fn error_body(error: &Error) -> Bytes {
    if error.is_client_error() {
        Bytes::from(format!("{error}\n"))
    } else {
        Bytes::from_static(ERROR_BODY)
    }
}

/// The response body as the Handler gives it to the server: an iterator of
/// chunks after every interceptor and every framing rule. An `Err` means the
/// response must be aborted (the connection closed). Dropping it closes the
/// app's body.
pub struct Output {
    slot: Arc<Slot>,
    body: Option<Body>,
    /// Interceptors, innermost first.
    chain: Vec<Box<dyn Intercept>>,
    ready: Option<Bytes>,
    queue: VecDeque<Bytes>,
    errors: ErrorStream,
    /// The request, to name it in error reports.
    request: Request,
    status: StatusCode,
    /// Send body bytes at all (not for HEAD, 1xx, 204, 205, 304).
    send_body: bool,
    /// The Content-Length of the final head.
    declared: Option<u64>,
    /// The length to frame the response with, where known.
    length: Option<u64>,
    /// Body bytes queued for the server so far.
    sent: u64,
    /// Where the response is in its life.
    phase: Phase,
}

/// The phases of a response after its head, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// **write**: chunks come from the app's body (and `write`).
    Body,
    /// The app's body is done (or must not be pulled any more): the
    /// interceptors' `end` is still to run.
    Tail,
    /// Everything is queued: the length check and the close are left.
    Check,
    /// **close** ran: the app's body is dropped, the interceptors know how
    /// it ended.
    Ended(End),
}

/// What the Handler keeps of the request to name it in error reports:
/// clones that share the request's bytes (no allocation).
#[derive(Debug)]
pub(super) struct Request {
    pub(super) method: Method,
    pub(super) uri: Uri,
    pub(super) request_id: Option<HeaderValue>,
}

impl Output {
    pub(super) fn new(slot: Arc<Slot>, errors: ErrorStream, request: Request) -> Self {
        Output {
            slot,
            body: None,
            chain: Vec::new(),
            ready: None,
            queue: VecDeque::new(),
            errors,
            request,
            status: StatusCode::OK,
            send_body: true,
            declared: None,
            length: None,
            sent: 0,
            phase: Phase::Body,
        }
    }

    fn head_request(&self) -> bool {
        self.request.method == Method::HEAD
    }

    /// The app's body is done: only the interceptors' tail is left.
    fn body_done(&mut self) {
        if self.phase == Phase::Body {
            self.phase = Phase::Tail;
        }
    }

    pub(super) fn set_body(&mut self, body: Body) {
        self.body = Some(body);
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
        let settled = match self.phase {
            Phase::Body => false,
            Phase::Tail => self.chain.is_empty() && !self.falls_short(),
            Phase::Check => !self.falls_short(),
            Phase::Ended(_) => true,
        };
        self.ready.is_none() && self.queue.is_empty() && settled
    }

    // ----- finish_response: find the final head -----

    /// Pull the body until the head is final; queue what came with it.
    pub(super) fn finish_response(&mut self) -> Result<Head, Error> {
        // Read before the first pull, while the body is as the app made it.
        let declared = self.declared_body_len();
        loop {
            let written = self.slot.take_written();
            if !written.is_empty() {
                let head = self.send_headers(None)?;
                self.write_all(written)?;
                return Ok(head);
            }
            if self.slot.has_head() {
                if let Some(whole) = self.body.as_mut().and_then(Body::take_whole) {
                    return self.send_whole(whole, None);
                }
                if self.head_request() || self.head_says_no_body() {
                    return self.send_headers(declared);
                }
            }
            match self.pull() {
                Some(Ok(chunk)) if chunk.is_empty() => continue,
                Some(Ok(chunk)) => return self.first_chunk(chunk, declared),
                Some(Err(e)) => return Err(e),
                None => {
                    self.body_done();
                    let written = self.slot.take_written();
                    if written.is_empty() {
                        return self.send_whole(Bytes::new(), declared);
                    }
                    let head = self.send_headers(None)?;
                    self.write_all(written)?;
                    return Ok(head);
                }
            }
        }
    }

    /// The first non-empty chunk made the head final. When the body says it
    /// has nothing more (wsgiref's one-block rule), the whole body is known.
    /// So it is when the chunk is all the head's `Content-Length` (a
    /// framework's one-block answer, as Flask's): nothing after it would be
    /// sent, so the body is not pulled further, as when any chunk reaches it.
    fn first_chunk(&mut self, chunk: Bytes, declared: Option<u64>) -> Result<Head, Error> {
        let written = self.slot.take_written();
        let len = declared.filter(|_| written.is_empty());
        if written.is_empty() && self.head_length() == Some(chunk.len() as u64) {
            return self.send_whole(chunk, len);
        }
        let spent = self
            .body
            .as_ref()
            .is_some_and(|b| b.size_hint().1 == Some(0));
        if written.is_empty() && spent {
            let after = self.pull();
            let later = self.slot.take_written();
            match after {
                None if later.is_empty() => return self.send_whole(chunk, len),
                None => self.body_done(),
                Some(Err(e)) => return Err(e),
                Some(Ok(next)) => {
                    let head = self.send_headers(len.filter(|_| later.is_empty()))?;
                    self.write(chunk)?;
                    self.write_all(later)?;
                    self.write(next)?;
                    return Ok(head);
                }
            }
            let head = self.send_headers(None)?;
            self.write(chunk)?;
            self.write_all(later)?;
            return Ok(head);
        }
        let head = self.send_headers(len)?;
        self.write_all(written)?;
        self.write(chunk)?;
        Ok(head)
    }

    /// The length a body declared ([`Body::with_len`], a file), when it is
    /// not already whole in memory (whole bodies are framed by their size).
    fn declared_body_len(&self) -> Option<u64> {
        self.body
            .as_ref()
            .filter(|b| !b.is_whole())
            .and_then(Body::len)
    }

    /// The app head's `Content-Length`, when it has one valid value.
    fn head_length(&self) -> Option<u64> {
        let state = self.slot.lock();
        state.head.as_ref()?.content_length().ok().flatten()
    }

    /// A head whose status has no body, or whose Content-Length is 0, may go
    /// without pulling the body.
    fn head_says_no_body(&self) -> bool {
        let state = self.slot.lock();
        let Some(head) = state.head.as_ref() else {
            return false;
        };
        sends_no_body(head.status) || matches!(head.content_length(), Ok(Some(0)))
    }

    /// Take the app's head and the interceptors out of the slot: the head is
    /// final from here on. A declared body length becomes its Content-Length
    /// before the interceptors see it (so one that changes the body drops it).
    fn take_head(&mut self, declared: Option<u64>) -> Result<Head, Error> {
        let mut head = {
            let mut state = self.slot.lock();
            let head = state.head.take().ok_or(Error::NotStarted)?;
            state.head_sent = true;
            self.chain = std::mem::take(&mut state.intercepts);
            head
        };
        self.chain.reverse();
        if let Some(len) = declared {
            if !sends_no_body(head.status) && !head.headers.contains_key(CONTENT_LENGTH) {
                head.headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
            }
        }
        Ok(head)
    }

    /// The head goes out ahead of a streamed body of `len` bytes if known.
    fn send_headers(&mut self, len: Option<u64>) -> Result<Head, Error> {
        let mut head = self.take_head(len)?;
        for intercept in &mut self.chain {
            intercept.head(&mut head, BodyInfo::streamed(len))?;
        }
        self.frame(&mut head, None)?;
        if !self.send_body || self.declared == Some(0) {
            self.body_done();
        }
        Ok(head)
    }

    /// The head goes out with the whole body, known at once.
    fn send_whole(&mut self, body: Bytes, declared: Option<u64>) -> Result<Head, Error> {
        let mut head = self.take_head(declared)?;
        let body = through_whole(&mut self.chain, &mut head, body)?;
        self.phase = Phase::Check;
        self.frame(&mut head, Some(body.len() as u64))?;
        self.send(body);
        Ok(head)
    }

    /// Settle the framing of the final head: which statuses carry a body, and
    /// the Content-Length.
    fn frame(&mut self, head: &mut Head, whole: Option<u64>) -> Result<(), Error> {
        let status = head.status;
        let reset = status == StatusCode::RESET_CONTENT;
        self.status = status;
        self.send_body = !sends_no_body(status) && !self.head_request();
        if no_content(status) || reset {
            head.headers.remove(CONTENT_LENGTH);
        }
        self.declared = head.content_length()?;
        if let Some(len) = self.declared {
            if head.headers.get_all(CONTENT_LENGTH).iter().nth(1).is_some() {
                head.headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
            }
        }
        self.length = match (self.declared, whole) {
            _ if reset => Some(0),
            (Some(declared), _) => Some(declared),
            (None, Some(len)) if !sends_no_body(status) => Some(len),
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
        if !self.send_body || chunk.is_empty() || matches!(self.phase, Phase::Ended(_)) {
            return;
        }
        if let Some(declared) = self.declared {
            let room = declared.saturating_sub(self.sent);
            if chunk.len() as u64 > room {
                chunk.truncate(room as usize);
                self.log(&Error::ContentLengthOverrun { declared });
            }
            if chunk.len() as u64 == room {
                self.body_done();
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
        self.body.as_mut()?.next()
    }

    /// The next piece of output: queued bytes, else the next chunk of the
    /// body (with any `write` data before it), else the interceptors' tail,
    /// else the length check and the close.
    fn advance(&mut self) -> Option<Result<Bytes, Error>> {
        loop {
            if let Some(chunk) = self.pop() {
                return Some(Ok(chunk));
            }
            match self.phase {
                Phase::Ended(_) => return None,
                Phase::Body => {
                    let pulled = self.pull();
                    let written = self.slot.take_written();
                    let wrote = match pulled {
                        None => {
                            self.body_done();
                            self.write_all(written)
                        }
                        Some(Err(e)) => Err(e),
                        Some(Ok(chunk)) => self.write_all(written).and_then(|()| self.write(chunk)),
                    };
                    if let Err(e) = wrote {
                        return Some(self.fail(e));
                    }
                }
                Phase::Tail => {
                    self.phase = Phase::Check;
                    match self.end_chain() {
                        Ok(tail) => self.send(tail),
                        Err(e) => return Some(self.fail(e)),
                    }
                }
                Phase::Check => {
                    if self.falls_short() {
                        let (declared, sent) = (self.declared.unwrap_or_default(), self.sent);
                        return Some(self.fail(Error::ContentLengthUnderrun { declared, sent }));
                    }
                    self.close(End::Complete);
                    return None;
                }
            }
        }
    }

    /// The body sent less than its declared Content-Length.
    fn falls_short(&self) -> bool {
        self.send_body && self.declared.is_some_and(|declared| self.sent < declared)
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
        self.close(End::Failed);
        self.ready = None;
        self.queue.clear();
        Err(error)
    }

    /// An error before the head: a `500`, through the interceptors if they
    /// have not seen a head yet.
    pub(super) fn error_before_head(mut self, error: Error) -> Handled {
        self.log(&error);
        self.drop_body();
        let error_body = error_body(&error);
        let mut head = Head::new(error.status());
        head.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        let mut body = error_body.clone();
        let fresh = {
            let mut state = self.slot.lock();
            state.head_sent = true;
            state.head = None;
            let fresh = self.chain.is_empty();
            if fresh {
                self.chain = std::mem::take(&mut state.intercepts);
            }
            fresh
        };
        self.slot.discard_written();
        if fresh {
            self.chain.reverse();
            let (mut h, mut b) = (head.clone(), body.clone());
            let chain = &mut self.chain;
            let through = guard(|| {
                b = through_whole(chain, &mut h, std::mem::take(&mut b))?;
                Ok(())
            });
            match through {
                Ok(()) => (head, body) = (h, b),
                Err(e) => self.log(&e),
            }
        }
        self.phase = Phase::Check;
        self.ready = None;
        self.queue.clear();
        self.sent = 0;
        if self.frame(&mut head, Some(body.len() as u64)).is_err() {
            // An interceptor broke the Content-Length of the 500: send ours.
            head.headers.remove(CONTENT_LENGTH);
            body = error_body;
            let _ = self.frame(&mut head, Some(body.len() as u64));
        }
        self.send(body);
        Handled { head, body: self }
    }

    /// Report `error` on `wsgi.errors`, naming the request.
    fn log(&self, error: &dyn fmt::Display) {
        let request = &self.request;
        let line = RequestLine {
            method: request.method.as_str(),
            target: request.uri.path_and_query().map_or("/", |p| p.as_str()),
            request_id: request.request_id.as_ref().and_then(|v| v.to_str().ok()),
        };
        self.errors.report(&line, error);
    }

    // ----- close -----

    fn drop_body(&mut self) {
        if let Some(body) = self.body.take() {
            if catch_unwind(AssertUnwindSafe(|| drop(body))).is_err() {
                self.log(&"the app's body panicked while closing");
            }
        }
    }

    /// PEP 3333's `close()`: drop the app's body, then tell the interceptors.
    fn close(&mut self, end: End) {
        if matches!(self.phase, Phase::Ended(_)) {
            return;
        }
        self.phase = Phase::Ended(end);
        self.drop_body();
        let values = {
            let mut state = self.slot.lock();
            state.closed = true;
            std::mem::take(&mut state.values)
        };
        let pending = self.ready.as_ref().map_or(0, Bytes::len)
            + self.queue.iter().map(Bytes::len).sum::<usize>();
        let bytes_sent = self.sent - pending as u64;
        let outcome = Outcome {
            status: self.status,
            bytes_sent,
            end,
            values,
        };
        let mut panicked = false;
        for intercept in &mut self.chain {
            panicked |= catch_unwind(AssertUnwindSafe(|| intercept.finish(&outcome))).is_err();
        }
        if panicked {
            self.log(&"an interceptor panicked in finish");
        }
    }
}

/// A whole body through the interceptors, innermost first: each sees the
/// head (with the body's size as the one inside left it), then the body in
/// one `data`, then its `end`.
fn through_whole(
    chain: &mut [Box<dyn Intercept>],
    head: &mut Head,
    mut body: Bytes,
) -> Result<Bytes, Error> {
    for intercept in chain {
        intercept.head(head, BodyInfo::whole(body.len() as u64))?;
        if !body.is_empty() {
            body = intercept.data(body)?;
        }
        body = concat(body, intercept.end()?);
    }
    Ok(body)
}

/// Join two chunks, copying only when both hold bytes.
fn concat(a: Bytes, b: Bytes) -> Bytes {
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

impl Iterator for Output {
    type Item = Result<Bytes, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        match catch_unwind(AssertUnwindSafe(|| self.advance())) {
            Ok(item) => item,
            Err(panic) => Some(self.fail(Error::from_panic(panic))),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.is_end_stream() {
            (0, Some(0))
        } else {
            (0, None)
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        let end = if self.is_end_stream() {
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
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}
