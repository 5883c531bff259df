//! The body of a response the `Server` writes: the service's own, or the
//! short text of a request the server refused itself (`400`, `414`, `431`).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use gateway_core::BoxError;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// The service's body, or the server's text.
    #[project = ServedProj]
    pub(crate) enum ServedBody<B> {
        /// The service's response body.
        App { #[pin] body: B },
        /// The server's own answer, sent whole.
        Text { text: Option<Bytes> },
    }
}

impl<B> ServedBody<B> {
    /// A body holding `text`.
    pub(crate) fn text(text: impl Into<Bytes>) -> Self {
        ServedBody::Text {
            text: Some(text.into()),
        }
    }
}

impl<B> Body for ServedBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = ServedData<B::Data>;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.project() {
            ServedProj::App { body } => body.poll_frame(cx).map(|frame| {
                frame.map(|frame| {
                    frame
                        .map(|frame| frame.map_data(ServedData::App))
                        .map_err(Into::into)
                })
            }),
            ServedProj::Text { text } => {
                Poll::Ready(text.take().map(|t| Ok(Frame::data(ServedData::Text(t)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ServedBody::App { body } => body.is_end_stream(),
            ServedBody::Text { text } => text.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ServedBody::App { body } => body.size_hint(),
            ServedBody::Text { text } => {
                SizeHint::with_exact(text.as_ref().map_or(0, |t| t.len() as u64))
            }
        }
    }
}

/// A chunk of a [`ServedBody`].
#[derive(Debug)]
pub(crate) enum ServedData<D> {
    /// The service's chunk.
    App(D),
    /// The server's text.
    Text(Bytes),
}

impl<D: Buf> Buf for ServedData<D> {
    fn remaining(&self) -> usize {
        match self {
            ServedData::App(d) => d.remaining(),
            ServedData::Text(t) => t.remaining(),
        }
    }

    fn chunk(&self) -> &[u8] {
        match self {
            ServedData::App(d) => d.chunk(),
            ServedData::Text(t) => t.chunk(),
        }
    }

    fn advance(&mut self, n: usize) {
        match self {
            ServedData::App(d) => d.advance(n),
            ServedData::Text(t) => t.advance(n),
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [std::io::IoSlice<'a>]) -> usize {
        match self {
            ServedData::App(d) => d.chunks_vectored(dst),
            ServedData::Text(t) => t.chunks_vectored(dst),
        }
    }

    fn copy_to_bytes(&mut self, len: usize) -> Bytes {
        match self {
            ServedData::App(d) => d.copy_to_bytes(len),
            ServedData::Text(t) => t.copy_to_bytes(len),
        }
    }
}
