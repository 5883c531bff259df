//! The one error type of gateway: what went wrong, and which rule was broken.
//!
//! PEP 3333 leaves most checks to `assert` statements (wsgiref) that vanish
//! under `python -O`. Here every rule is a variant of [`Error`]: an app gets it
//! back from the call that broke the rule, the [`Handler`](crate::Handler)
//! turns it into a `500` (before the head) or an aborted response (after it),
//! and nothing panics.
//!
//! ```
//! use gateway_core::{Error, Head};
//!
//! let err = Head::parse("OK", ()).unwrap_err();
//! assert!(matches!(err, Error::InvalidStatus { .. }));
//! assert!(err.to_string().contains("three digits"));
//! ```

use std::fmt;
use std::io;
use std::time::Duration;

use http::StatusCode;

/// A boxed error from an app, a body or an I/O source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every way a request can go wrong in gateway, named after the rule broken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `start_response` got a status that is not `NNN Reason`.
    #[error(
        "start_response: invalid status {status:?}: a status is three digits, one space and a \
         reason phrase without control bytes, such as \"200 OK\" (PEP 3333)"
    )]
    InvalidStatus {
        /// The status as given (control bytes escaped by `Debug`).
        status: String,
    },
    /// A response header name is not an RFC 9110 token.
    #[error(
        "start_response: invalid header name {name:?}: a header name is an RFC 9110 token \
         (letters, digits and !#$%&'*+-.^_`|~)"
    )]
    InvalidHeaderName {
        /// The name as given.
        name: String,
    },
    /// A response header value holds CR, LF, NUL or another control byte, a
    /// character beyond ISO-8859-1, or (for `Content-Length`) is not one length.
    #[error(
        "start_response: the value of header {name:?} is refused: a value holds no control \
         byte (CR, LF, NUL or another byte below 0x20 but TAB, or DEL), which could split the \
         response, and no character beyond ISO-8859-1 (PEP 3333); a Content-Length is one \
         decimal number"
    )]
    InvalidHeaderValue {
        /// The header whose value was refused.
        name: String,
    },
    /// The app set a hop-by-hop header, which only the server may set.
    #[error(
        "start_response: {name:?} is a hop-by-hop header; PEP 3333 leaves connection \
         management to the server: remove it"
    )]
    HopByHopHeader {
        /// The header name.
        name: String,
    },
    /// `start_response` was called a second time without `exc_info`.
    #[error(
        "start_response called a second time without exc_info: call it once, or pass the \
         error that made you change the response (start_with_error)"
    )]
    AlreadyStarted,
    /// `write` was called before `start_response`.
    #[error("write() called before start_response(): call start_response first")]
    WriteBeforeStart,
    /// The app's body produced output but `start_response` was never called.
    #[error(
        "the app returned (or produced) a body without calling start_response: call \
         start_response before the first chunk"
    )]
    NotStarted,
    /// The body sent more bytes than its `Content-Length` declared; the excess was cut.
    #[error("the body overran its Content-Length of {declared} bytes; the excess was not sent")]
    ContentLengthOverrun {
        /// The declared length.
        declared: u64,
    },
    /// The body ended before its `Content-Length` was reached; the connection must close.
    #[error(
        "the body ended after {sent} of the {declared} bytes its Content-Length declared; \
         the response is incomplete"
    )]
    ContentLengthUnderrun {
        /// The declared length.
        declared: u64,
        /// What was sent.
        sent: u64,
    },
    /// A variable was set that the environ cannot take by that name.
    #[error("environ: cannot set {name}: {rule}")]
    Var {
        /// The variable's name.
        name: String,
        /// Why, and what to do instead.
        rule: &'static str,
    },
    /// The request body was larger than a configured limit.
    #[error(
        "the request body is larger than the limit of {limit} bytes (413 Payload Too Large), \
         the client's error, not the app's"
    )]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The client's request body broke its framing: an invalid chunk size, a
    /// truncated chunk, fewer bytes than its `Content-Length` before the
    /// connection ended. The client's error, not the app's: `400`.
    #[error(
        "the client's request body is malformed or cut short ({reason}): the client's error \
         (400 Bad Request), not the app's"
    )]
    ClientBody {
        /// What the connection reported.
        reason: String,
    },
    /// The client sent no byte of its request body for longer than the
    /// body-read timeout: `408`.
    #[error(
        "the client sent no request body bytes for {after:?}: the body read timed out \
         (408 Request Timeout), the client's error, not the app's"
    )]
    BodyTimeout {
        /// The timeout that passed.
        after: Duration,
    },
    /// The app (or a body chunk) panicked; the message is kept.
    #[error("the app panicked: {message}")]
    Panic {
        /// The panic payload, when it was a string.
        message: String,
    },
    /// The client went away before the response was complete.
    #[error("the client went away before the response was complete")]
    ClientGone,
    /// Reading the request or writing the response failed. (An `io::Error`
    /// that holds an [`Error`], as `wsgi.input` returns for a client's bad
    /// body, converts back to that error, not to this variant.)
    #[error("I/O error: {0}")]
    Io(std::io::Error),
    /// An error raised by the app or its body.
    #[error("{0}")]
    App(#[source] BoxError),
}

impl Error {
    /// Wrap any error raised by an app. An `io::Error` holding an [`Error`]
    /// (a client's bad body from `wsgi.input`) becomes that error again.
    pub fn app(err: impl Into<BoxError>) -> Self {
        let err = err.into();
        match err.downcast::<io::Error>() {
            Ok(io) => Error::from(*io),
            Err(err) => match err.downcast::<Error>() {
                Ok(error) => *error,
                Err(err) => Error::App(err),
            },
        }
    }

    /// The status a response that failed with this error before its head
    /// gets: `400` for [`Error::ClientBody`], `413` for
    /// [`Error::PayloadTooLarge`], `408` for [`Error::BodyTimeout`] (the
    /// client's errors), `500` for every other (the app's or the server's).
    ///
    /// ```
    /// use gateway_core::Error;
    ///
    /// let bad = Error::ClientBody { reason: "invalid chunk size".into() };
    /// assert_eq!(bad.status(), 400);
    /// assert!(bad.is_client_error());
    /// assert_eq!(Error::msg("boom").status(), 500);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            Error::ClientBody { .. } => StatusCode::BAD_REQUEST,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// `true` for the errors that are the client's, not the app's: a bad,
    /// too large or stalled request body ([`Error::status`] is a `4xx`).
    pub fn is_client_error(&self) -> bool {
        self.status().is_client_error()
    }

    /// An app error with a message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Error::App(message.to_string().into())
    }

    /// Turn a caught panic payload into an error.
    pub fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "(non-string panic payload)".to_owned()
        };
        Error::Panic { message }
    }

    /// `true` for the errors that mean the app broke a PEP 3333 rule.
    pub fn is_protocol_violation(&self) -> bool {
        matches!(
            self,
            Error::InvalidStatus { .. }
                | Error::InvalidHeaderName { .. }
                | Error::InvalidHeaderValue { .. }
                | Error::HopByHopHeader { .. }
                | Error::AlreadyStarted
                | Error::WriteBeforeStart
                | Error::NotStarted
                | Error::ContentLengthOverrun { .. }
                | Error::ContentLengthUnderrun { .. }
        )
    }
}

/// An `io::Error` that holds an [`Error`] (as `wsgi.input` returns for a
/// client's bad body) gives that error back; any other is [`Error::Io`].
impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        if err.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            if let Some(inner) = err.into_inner() {
                if let Ok(error) = inner.downcast::<Error>() {
                    return *error;
                }
            }
            // Unreachable: the inner error was just checked to be an Error.
            return Error::msg("an I/O error lost its cause");
        }
        Error::Io(err)
    }
}

/// An [`Error`] as the `io::Error` a `Read` returns: the kind says what
/// happened (`InvalidData`, `TimedOut`, `FileTooLarge`), and
/// `Error::from` gives the typed error back.
impl From<Error> for io::Error {
    fn from(err: Error) -> Self {
        let kind = match &err {
            Error::ClientBody { .. } => io::ErrorKind::InvalidData,
            Error::BodyTimeout { .. } => io::ErrorKind::TimedOut,
            Error::PayloadTooLarge { .. } => io::ErrorKind::FileTooLarge,
            Error::Io(e) => e.kind(),
            _ => io::ErrorKind::Other,
        };
        match err {
            Error::Io(e) => e,
            other => io::Error::new(kind, other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Client;
    use crate::{Body, Environ, StartResponse};

    #[test]
    fn an_io_error_holding_an_error_gives_it_back() {
        let io = io::Error::from(Error::ClientBody {
            reason: "bad chunk".into(),
        });
        assert_eq!(io.kind(), io::ErrorKind::InvalidData);
        assert!(matches!(Error::from(io), Error::ClientBody { .. }));
        let io = io::Error::from(Error::BodyTimeout {
            after: Duration::from_secs(1),
        });
        assert!(matches!(Error::app(io), Error::BodyTimeout { .. }));
        assert!(matches!(
            Error::from(io::Error::other("disk")),
            Error::Io(_)
        ));
    }

    #[test]
    fn a_clients_error_before_the_head_is_its_4xx_not_a_500() {
        for (error, status) in [
            (
                Error::ClientBody {
                    reason: "invalid chunk size".into(),
                },
                400,
            ),
            (Error::PayloadTooLarge { limit: 4 }, 413),
            (
                Error::BodyTimeout {
                    after: Duration::from_millis(5),
                },
                408,
            ),
        ] {
            let io = std::sync::Mutex::new(Some(io::Error::from(error)));
            let app = move |_: Environ, _: StartResponse| -> Result<Body, Error> {
                // As an app reading wsgi.input with `?` fails.
                Err(io
                    .lock()
                    .unwrap()
                    .take()
                    .map_or(Error::msg("twice"), Error::from))
            };
            let response = Client::new(app).post("/").send();
            assert_eq!(response.status, status);
            assert!(response.text().contains("the client's error"));
        }
    }
}
