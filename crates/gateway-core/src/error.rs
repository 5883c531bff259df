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
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: u64,
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
    /// Reading the request or writing the response failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// An error raised by the app or its body.
    #[error("{0}")]
    App(#[source] BoxError),
}

impl Error {
    /// Wrap any error raised by an app.
    pub fn app(err: impl Into<BoxError>) -> Self {
        Error::App(err.into())
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
