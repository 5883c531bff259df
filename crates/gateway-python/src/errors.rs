//! `wsgi.errors`: [`WsgiErrors`], a text stream into the request's Rust
//! [`ErrorStream`] (the server's log).

use std::io::Write;
use std::sync::Mutex;

use gateway_core::ErrorStream;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::error::type_name;
use crate::lock;

/// `wsgi.errors`: text into the Rust [`ErrorStream`] (the server's log).
#[pyclass(module = "gateway", name = "Errors", frozen)]
#[derive(Debug)]
pub struct WsgiErrors {
    pub(crate) stream: Mutex<ErrorStream>,
}

#[pymethods]
impl WsgiErrors {
    /// `write(str)`.
    fn write(&self, s: &Bound<'_, PyAny>) -> PyResult<()> {
        let s = s.cast::<PyString>().map_err(|_| {
            PyTypeError::new_err(format!(
                "wsgi.errors.write() takes a str, not {} (PEP 3333: wsgi.errors is a text stream)",
                type_name(s)
            ))
        })?;
        lock(&self.stream).write_all(s.to_str()?.as_bytes())?;
        Ok(())
    }

    /// `writelines(seq)`.
    fn writelines(&self, seq: &Bound<'_, PyAny>) -> PyResult<()> {
        for s in seq.try_iter()? {
            self.write(&s?)?;
        }
        Ok(())
    }

    /// `flush()`.
    fn flush(&self) -> PyResult<()> {
        lock(&self.stream).flush()?;
        Ok(())
    }
}
