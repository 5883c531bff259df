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

use std::fmt;
use std::io::{self, Read};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread, ThreadId};

use bytes::{Buf, Bytes};
use http_body::Body;

/// A blocking reader over a request body.
pub(crate) struct BodyReader<B> {
    body: Pin<Box<B>>,
    chunk: Bytes,
    done: bool,
    waker: Option<(ThreadId, Waker)>,
}

impl<B> BodyReader<B> {
    pub(crate) fn new(body: B) -> Self {
        BodyReader {
            body: Box::pin(body),
            chunk: Bytes::new(),
            done: false,
            waker: None,
        }
    }
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

/// Block this thread until `poll` is ready, parking between polls.
pub(crate) fn park_on<T>(
    waker: &mut Option<(ThreadId, Waker)>,
    mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>,
) -> T {
    let me = thread::current();
    let waker = match waker {
        Some((id, w)) if *id == me.id() => w,
        slot => &mut slot.insert((me.id(), Waker::from(Arc::new(Unpark(me))))).1,
    };
    let mut cx = Context::from_waker(waker);
    loop {
        match poll(&mut cx) {
            Poll::Ready(value) => return value,
            // A spurious wake-up only costs one more poll.
            Poll::Pending => thread::park(),
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
            let body = &mut self.body;
            match park_on(&mut self.waker, |cx| body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Ok(mut data) = frame.into_data() {
                        self.chunk = data.copy_to_bytes(data.remaining());
                    }
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Err(io::Error::other(e.into()));
                }
                None => self.done = true,
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
    fn body_errors_are_io_errors() {
        let (tx, rx) = mpsc::channel(2);
        tx.try_send(Ok(Bytes::from("x"))).unwrap();
        tx.try_send(Err(io::Error::other("cut"))).unwrap();
        let mut reader = BodyReader::new(Fed(rx));
        let mut all = Vec::new();
        assert!(reader.read_to_end(&mut all).is_err());
        assert_eq!(all, b"x");
        assert_eq!(reader.read(&mut [0; 4]).unwrap(), 0);
    }
}
