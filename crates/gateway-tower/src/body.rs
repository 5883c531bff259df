//! `GatewayBody`: the response body hyper writes, over the Handler's output.
//!
//! A [`GatewayBody`] is an [`http_body::Body`] of `Bytes` frames. It reports
//! an exact [`size_hint`](http_body::Body::size_hint) when the length is known
//! (hyper then writes the `Content-Length` itself instead of chunking), and
//! [`is_end_stream`](http_body::Body::is_end_stream) when the whole response
//! is already in hand. An `Err` frame means the response broke after its head
//! (an app error, a `Content-Length` underrun): hyper then aborts the
//! connection, so the client sees a broken response rather than a silently
//! short one. Dropping the body drops the Handler's output, which closes the
//! app's body (PEP 3333's `close()`), on the task (Inline) or on the app's
//! thread (Blocking).
//!
//! ```
//! use bytes::Bytes;
//! use gateway_tower::GatewayBody;
//! use http_body::Body as _;
//!
//! let body = GatewayBody::from(Bytes::from_static(b"Hello"));
//! assert_eq!(body.size_hint().exact(), Some(5));
//! assert!(GatewayBody::empty().is_end_stream());
//! ```

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use gateway_core::{Error, Output};
use http_body::{Frame, SizeHint};
use tokio::sync::mpsc;

/// The response body of an [`AppService`](crate::AppService).
pub struct GatewayBody {
    /// A chunk already taken from the source, sent first.
    first: Option<Result<Bytes, Error>>,
    source: Source,
    /// The bytes left to send, where known.
    remaining: Option<u64>,
    /// The error that ends the body, held back for one poll.
    failed: Option<Error>,
}

// The Output is boxed: a response is moved several times on its way to
// hyper (through the service's and the server's futures, into hyper's
// dispatcher), and a large body makes each move a large copy. The box costs
// one allocation only for a streaming Inline response; a response whose
// body is whole (the common case) holds no Output at all.
enum Source {
    /// Nothing more after `first`.
    Done,
    /// The Handler's output, pulled on the task (Inline dispatch).
    Output(Box<Output>),
    /// Chunks from the app's thread (Blocking dispatch), with backpressure.
    Channel(mpsc::Receiver<Result<Bytes, Error>>),
}

impl GatewayBody {
    /// An empty body.
    pub const fn empty() -> Self {
        GatewayBody {
            first: None,
            source: Source::Done,
            remaining: Some(0),
            failed: None,
        }
    }

    /// The body starts with `first` (if any) and ends there.
    pub(crate) fn once(first: Option<Result<Bytes, Error>>, length: Option<u64>) -> Self {
        GatewayBody {
            first,
            source: Source::Done,
            remaining: length,
            failed: None,
        }
    }

    /// `first` (if any), then the rest of the Handler's output.
    pub(crate) fn output(
        first: Option<Result<Bytes, Error>>,
        output: Output,
        length: Option<u64>,
    ) -> Self {
        GatewayBody {
            first,
            source: Source::Output(Box::new(output)),
            remaining: length,
            failed: None,
        }
    }

    /// `first` (if any), then what the app's thread sends.
    pub(crate) fn channel(
        first: Option<Result<Bytes, Error>>,
        rx: mpsc::Receiver<Result<Bytes, Error>>,
        length: Option<u64>,
    ) -> Self {
        GatewayBody {
            first,
            source: Source::Channel(rx),
            remaining: length,
            failed: None,
        }
    }

    /// Turn the next item into a frame. An error is held back for one poll
    /// (the task is woken at once): hyper flushes what it buffered when the
    /// body is pending, so the client gets the head and the bytes before
    /// the abort, not an empty broken connection.
    fn next_frame(
        &mut self,
        item: Option<Result<Bytes, Error>>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match item {
            Some(Ok(chunk)) => {
                if let Some(left) = &mut self.remaining {
                    *left = left.saturating_sub(chunk.len() as u64);
                }
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            Some(Err(e)) => {
                // Close now: nothing may follow an error.
                self.source = Source::Done;
                self.failed = Some(e);
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            None => {
                self.source = Source::Done;
                Poll::Ready(None)
            }
        }
    }
}

impl http_body::Body for GatewayBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.get_mut();
        if let Some(e) = this.failed.take() {
            return Poll::Ready(Some(Err(e)));
        }
        if let Some(first) = this.first.take() {
            return this.next_frame(Some(first), cx);
        }
        let item = match &mut this.source {
            Source::Done => None,
            Source::Output(output) => output.next(),
            Source::Channel(rx) => match rx.poll_recv(cx) {
                Poll::Ready(item) => item,
                Poll::Pending => return Poll::Pending,
            },
        };
        this.next_frame(item, cx)
    }

    fn is_end_stream(&self) -> bool {
        self.first.is_none()
            && self.failed.is_none()
            && match &self.source {
                Source::Done => true,
                Source::Output(output) => output.is_end_stream(),
                Source::Channel(_) => false,
            }
    }

    fn size_hint(&self) -> SizeHint {
        if self.is_end_stream() {
            return SizeHint::with_exact(0);
        }
        match self.remaining {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}

impl Default for GatewayBody {
    fn default() -> Self {
        GatewayBody::empty()
    }
}

impl From<Bytes> for GatewayBody {
    fn from(bytes: Bytes) -> Self {
        let len = bytes.len() as u64;
        let first = (len > 0).then_some(Ok(bytes));
        GatewayBody::once(first, Some(len))
    }
}

impl From<&'static str> for GatewayBody {
    fn from(text: &'static str) -> Self {
        GatewayBody::from(Bytes::from_static(text.as_bytes()))
    }
}

impl fmt::Debug for GatewayBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Done => "done",
            Source::Output(_) => "output",
            Source::Channel(_) => "channel",
        };
        f.debug_struct("GatewayBody")
            .field("source", &source)
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn channel_body_streams_then_ends() {
        let (tx, rx) = mpsc::channel(2);
        let mut body = GatewayBody::channel(Some(Ok(Bytes::from("a"))), rx, Some(3));
        assert_eq!(body.size_hint().exact(), Some(3));
        tokio::spawn(async move {
            tx.send(Ok(Bytes::from("bc"))).await.unwrap();
        });
        let mut got = Vec::new();
        while let Some(frame) = body.frame().await {
            got.extend_from_slice(&frame.unwrap().into_data().unwrap());
        }
        assert_eq!(got, b"abc");
        assert!(body.is_end_stream());
    }

    #[tokio::test]
    async fn an_error_ends_the_body() {
        let (tx, rx) = mpsc::channel(2);
        tx.send(Err(Error::msg("broken"))).await.unwrap();
        tx.send(Ok(Bytes::from("never"))).await.unwrap();
        let mut body = GatewayBody::channel(None, rx, None);
        assert!(!body.is_end_stream());
        assert!(body.frame().await.unwrap().is_err());
        assert!(body.frame().await.is_none());
    }
}
