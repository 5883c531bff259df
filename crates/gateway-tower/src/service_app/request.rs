//! The inner request: the environ's pieces moved out of it, the target
//! rebuilt from `SCRIPT_NAME` + `PATH_INFO` + `QUERY_STRING`, and
//! `wsgi.input` as the body.

use std::fmt;
use std::io::BufRead;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use gateway_core::{Environ, Error, Input};
use http::Request;
use http::uri::PathAndQuery;
use http_body::Frame;

use super::ServiceAppError;

/// The inner request: the environ's pieces, moved out of it.
pub(super) fn into_request(environ: &mut Environ) -> Result<Request<InputBody>, Error> {
    let uri = target(environ)?;
    let mut request = Request::new(InputBody {
        input: environ.take_input(),
    });
    *request.method_mut() = environ.method().clone();
    *request.uri_mut() = uri;
    *request.version_mut() = environ.version();
    *request.headers_mut() = std::mem::take(environ.headers_mut());
    *request.extensions_mut() = std::mem::take(environ.extensions_mut());
    Ok(request)
}

/// SCRIPT_NAME + PATH_INFO, percent-encoded, and the query.
fn target(environ: &Environ) -> Result<http::Uri, Error> {
    let uri = environ.uri();
    if environ.script_name().is_empty() && environ.path_info() == uri.path().as_bytes() {
        return Ok(uri.clone());
    }
    let mut path = environ.quoted_path();
    if let Some(query) = uri.query() {
        path.push('?');
        path.push_str(query);
    }
    let invalid = |_| Error::app(ServiceAppError::InvalidTarget);
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path).map_err(invalid)?);
    http::Uri::from_parts(parts).map_err(|_| Error::app(ServiceAppError::InvalidTarget))
}

/// `wsgi.input` as the body of the inner request. Reading blocks the
/// thread, which is why [`ServiceApp`](crate::ServiceApp) needs Blocking dispatch.
pub struct InputBody {
    input: Input,
}

impl http_body::Body for InputBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let input = &mut self.input;
        let chunk = match input.fill_buf() {
            Ok([]) => return Poll::Ready(None),
            Ok(buf) => Bytes::copy_from_slice(buf),
            Err(e) => return Poll::Ready(Some(Err(e))),
        };
        input.consume(chunk.len());
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.input.remaining() == Some(0)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match self.input.remaining() {
            Some(n) => http_body::SizeHint::with_exact(n),
            None => http_body::SizeHint::default(),
        }
    }
}

impl fmt::Debug for InputBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InputBody")
            .field("input", &self.input)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_is_rebuilt_from_script_name_and_path_info() {
        let mut environ = Environ::new(http::Method::GET, "/a%20b/c?x=1".parse().unwrap());
        assert_eq!(target(&environ).unwrap(), "/a%20b/c?x=1");
        environ.set_script_name("/mount");
        environ.set_path_info(b"/caf\xc3\xa9 %/".to_vec());
        assert_eq!(target(&environ).unwrap(), "/mount/caf%C3%A9%20%25/?x=1");
    }
}
