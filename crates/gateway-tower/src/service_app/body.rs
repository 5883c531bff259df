//! The inner response body as the app's body: each chunk waited for on the
//! runtime that lent the thread.

use std::pin::Pin;

use bytes::{Buf, Bytes};
use gateway_core::{BoxError, Error};
use http_body_util::BodyExt;
use tokio::runtime::Handle;

/// The inner response body, waited for chunk by chunk.
pub(super) struct Chunks<B> {
    pub(super) handle: Handle,
    pub(super) body: Pin<Box<B>>,
    pub(super) done: bool,
}

impl<B> Iterator for Chunks<B>
where
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    type Item = Result<Bytes, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.handle.block_on(self.body.frame()) {
                Some(Ok(frame)) => {
                    // Trailers have no place in a PEP 3333 body: skip them.
                    if let Ok(mut data) = frame.into_data() {
                        return Some(Ok(data.copy_to_bytes(data.remaining())));
                    }
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(Error::App(e.into())));
                }
                None => self.done = true,
            }
        }
        None
    }
}
