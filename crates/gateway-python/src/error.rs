//! [`PythonError`]: a Python exception as a gateway error, and the other
//! way, a gateway error as the Python exception an app sees.

use std::fmt;

use gateway_core::Error;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;

/// A Python exception, as a gateway error: the exception's type, message
/// and formatted traceback (which the Handler's log shows).
#[derive(Debug, Clone)]
pub struct PythonError {
    /// The exception's type name, such as `ValueError`.
    pub kind: String,
    /// `str(exception)`.
    pub message: String,
    /// The traceback as `traceback.format_exception` formats it.
    pub traceback: String,
}

impl PythonError {
    /// Take the type, message and traceback of a Python exception.
    pub fn from_py(py: Python<'_>, err: &PyErr) -> Self {
        let value = err.value(py);
        let kind = type_name(value.as_any());
        let message = value
            .str()
            .map(|s| s.to_string())
            .unwrap_or_else(|_| String::new());
        let traceback = py
            .import("traceback")
            .and_then(|tb| {
                let traceback = err.traceback(py);
                tb.call_method1("format_exception", (value.get_type(), value, traceback))
            })
            .and_then(|lines| PyString::new(py, "").call_method1("join", (lines,)))
            .and_then(|s| s.extract::<String>())
            .unwrap_or_else(|_| format!("{kind}: {message}\n"));
        PythonError {
            kind,
            message,
            traceback,
        }
    }
}

impl fmt::Display for PythonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the Python application raised {}: {}\n{}",
            self.kind,
            self.message,
            self.traceback.trim_end()
        )
    }
}

impl std::error::Error for PythonError {}

impl From<PythonError> for Error {
    fn from(err: PythonError) -> Self {
        Error::app(err)
    }
}

/// A gateway error as the Python exception an app sees: `ValueError` for a
/// bad status or header, `RuntimeError` for a call out of order, `OSError`
/// for I/O; the message is the Rust one (the rule broken).
pub(crate) fn py_err(err: Error) -> PyErr {
    match err {
        Error::InvalidStatus { .. }
        | Error::InvalidHeaderName { .. }
        | Error::InvalidHeaderValue { .. }
        | Error::HopByHopHeader { .. } => PyValueError::new_err(err.to_string()),
        Error::Io(io) => io.into(),
        other => PyRuntimeError::new_err(other.to_string()),
    }
}

/// The name of `obj`'s type, for error messages.
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}
