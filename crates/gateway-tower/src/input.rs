//! `wsgi.input` over an async request body, for apps on blocking threads.
//!
//! A [`BodyReader`] is a blocking `Read` over any [`http_body::Body`]: each
//! read polls the body for its next frame and parks the thread until hyper
//! has one. Nothing is read ahead: memory stays at one frame whatever the
//! upload's size, and the body is not polled at all until the app first
//! reads, so a client that sent `Expect: 100-continue` gets its
//! `100 Continue` only from an app that wants the body.
//!
//! It blocks the thread it runs on: it is for Blocking dispatch (and any
//! other thread that may block), never for an async task.
//!
//! Its errors are typed [`gateway_core::Error`]s inside the `io::Error`
//! (`Error::from(io_error)` gives them back, and `?` in an app does): a body
//! the connection reports broken (a bad chunk size, a truncated chunk, EOF
//! before the `Content-Length`) is [`Error::ClientBody`]; one past the
//! service's limit, [`Error::PayloadTooLarge`]; no byte for the body-read
//! timeout, [`Error::BodyTimeout`]. An app that fails with one before its
//! head is answered `400`, `413` or `408` by the Handler.

use std::fmt;
use std::io::{self, Read};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread, ThreadId};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use gateway_core::{BoxError, Error};
use http_body::Body;

/// A blocking reader over a request body.
pub(crate) struct BodyReader<B> {
    body: Pin<Box<B>>,
    chunk: Bytes,
    done: bool,
    waker: Option<(ThreadId, Waker)>,
    /// The most body bytes taken, if limited.
    limit: Option<u64>,
    /// Body bytes taken so far.
    taken: u64,
    /// The longest wait for the next frame, if bounded.
    timeout: Option<Duration>,
}

impl<B> BodyReader<B> {
    /// A reader without limit or timeout.
    pub(crate) fn new(body: B) -> Self {
        BodyReader {
            body: Box::pin(body),
            chunk: Bytes::new(),
            done: false,
            waker: None,
            limit: None,
            taken: 0,
            timeout: None,
        }
    }

    /// Refuse a body of more than `limit` bytes ([`Error::PayloadTooLarge`]).
    pub(crate) fn limit(mut self, limit: Option<u64>) -> Self {
        self.limit = limit;
        self
    }

    /// Give up when no frame comes for `timeout` ([`Error::BodyTimeout`]).
    pub(crate) fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// End the body with `error`.
    fn fail(&mut self, error: Error) -> io::Error {
        self.done = true;
        self.chunk = Bytes::new();
        io::Error::from(error)
    }
}

/// A broken request body as the client's error, with the causes' messages.
pub(crate) fn client_body(err: BoxError) -> Error {
    let mut reason = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::ClientBody { reason }
}

/// Wakes a parked thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Block this thread until `poll` is ready, parking between polls; give
/// up (`None`) once `timeout`, if any, has passed.
fn park_until<T>(
    waker: &mut Option<(ThreadId, Waker)>,
    timeout: Option<Duration>,
    mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>,
) -> Option<T> {
    let me = thread::current();
    let waker = match waker {
        Some((id, w)) if *id == me.id() => w,
        slot => &mut slot.insert((me.id(), Waker::from(Arc::new(Unpark(me))))).1,
    };
    let mut cx = Context::from_waker(waker);
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    loop {
        match poll(&mut cx) {
            Poll::Ready(value) => return Some(value),
            // A spurious wake-up only costs one more poll.
            Poll::Pending => match deadline {
                None => thread::park(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return None;
                    }
                    thread::park_timeout(deadline - now);
                }
            },
        }
    }
}

impl<B> Read for BodyReader<B>
where
    B: Body,
    B::Error: Into<gateway_core::BoxError>,
{
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            if let Some(limit) = self.limit {
                // Announced too large: refused before a byte is read.
                if self.body.size_hint().lower() > limit {
                    return Err(self.fail(Error::PayloadTooLarge { limit }));
                }
            }
            let body = &mut self.body;
            let polled = park_until(&mut self.waker, self.timeout, |cx| {
                body.as_mut().poll_frame(cx)
            });
            match polled {
                Some(Some(Ok(frame))) => {
                    if let Ok(mut data) = frame.into_data() {
                        self.chunk = data.copy_to_bytes(data.remaining());
                        self.taken += self.chunk.len() as u64;
                        if let Some(limit) = self.limit.filter(|l| self.taken > *l) {
                            return Err(self.fail(Error::PayloadTooLarge { limit }));
                        }
                    }
                }
                Some(Some(Err(e))) => return Err(self.fail(client_body(e.into()))),
                Some(None) => self.done = true,
                None => {
                    let after = self.timeout.unwrap_or_default();
                    return Err(self.fail(Error::BodyTimeout { after }));
                }
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        Ok(n)
    }
}

impl<B> fmt::Debug for BodyReader<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyReader")
            .field("buffered", &self.chunk.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Frame;
    use tokio::sync::mpsc;

    /// A body fed through a channel, as hyper's is fed by the connection.
    struct Fed(mpsc::Receiver<Result<Bytes, io::Error>>);

    impl Body for Fed {
        type Data = Bytes;
        type Error = io::Error;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
            self.0
                .poll_recv(cx)
                .map(|item| item.map(|r| r.map(Frame::data)))
        }
    }

    #[test]
    fn reads_frames_sent_from_another_thread() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (tx, rx) = mpsc::channel(1);
        let mut reader = BodyReader::new(Fed(rx));
        rt.spawn(async move {
            for part in ["hello ", "", "world"] {
                tx.send(Ok(Bytes::from(part))).await.unwrap();
                tokio::task::yield_now().await;
            }
        });
        let mut all = String::new();
        reader.read_to_string(&mut all).unwrap();
        assert_eq!(all, "hello world");
        assert_eq!(reader.read(&mut [0; 4]).unwrap(), 0);
    }

    #[test]
    fn a_body_past_the_limit_is_a_typed_error() {
        let (tx, rx) = mpsc::channel(3);
        for part in ["abc", "def"] {
            tx.try_send(Ok(Bytes::from(part))).unwrap();
        }
        let mut reader = BodyReader::new(Fed(rx)).limit(Some(4));
        let mut all = Vec::new();
        let err = Error::from(reader.read_to_end(&mut all).unwrap_err());
        assert!(matches!(err, Error::PayloadTooLarge { limit: 4 }), "{err}");
        assert_eq!(err.status(), 413);
    }

    #[test]
    fn a_stalled_body_times_out() {
        let (tx, rx) = mpsc::channel(1);
        tx.try_send(Ok(Bytes::from("a"))).unwrap();
        let mut reader = BodyReader::new(Fed(rx)).timeout(Some(Duration::from_millis(50)));
        let mut all = Vec::new();
        let started = Instant::now();
        let err = Error::from(reader.read_to_end(&mut all).unwrap_err());
        assert!(matches!(err, Error::BodyTimeout { .. }), "{err}");
        assert_eq!(err.status(), 408);
        assert_eq!(all, b"a");
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(tx);
    }

    #[test]
    fn body_errors_are_io_errors() {
        let (tx, rx) = mpsc::channel(2);
        tx.try_send(Ok(Bytes::from("x"))).unwrap();
        tx.try_send(Err(io::Error::other("cut"))).unwrap();
        let mut reader = BodyReader::new(Fed(rx));
        let mut all = Vec::new();
        let err = Error::from(reader.read_to_end(&mut all).unwrap_err());
        assert!(matches!(err, Error::ClientBody { .. }), "{err}");
        assert!(err.is_client_error());
        assert_eq!(all, b"x");
        assert_eq!(reader.read(&mut [0; 4]).unwrap(), 0);
    }
}
