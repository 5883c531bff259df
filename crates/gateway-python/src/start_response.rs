//! `start_response(status, response_headers, exc_info=None)`:
//! [`PyStartResponse`], over the Rust [`StartResponse`], and the `write()`
//! callable it returns, [`PyWrite`].

use gateway_core::{StartResponse, Writer};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use crate::body::chunk;
use crate::error::{PythonError, py_err, type_name};

/// `start_response(status, response_headers, exc_info=None)`.
#[pyclass(module = "gateway", name = "StartResponse", frozen)]
#[derive(Debug)]
pub struct PyStartResponse {
    pub(crate) sr: StartResponse,
}

#[pymethods]
impl PyStartResponse {
    #[pyo3(signature = (status, response_headers, exc_info = None))]
    fn __call__(
        &self,
        py: Python<'_>,
        status: &Bound<'_, PyAny>,
        response_headers: &Bound<'_, PyAny>,
        exc_info: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyWrite> {
        let exc_info = exc_info.filter(|e| !e.is_none());
        // PEP 3333: with exc_info once the head is out, re-raise at once.
        if let Some(exc_info) = exc_info {
            if self.sr.is_head_sent() {
                return Err(reraise(exc_info));
            }
        }
        let status = status
            .cast::<PyString>()
            .map_err(|_| {
                PyTypeError::new_err(format!(
                    "start_response: the status must be a str, not {} (PEP 3333: native string)",
                    type_name(status)
                ))
            })?
            .to_str()?
            .to_owned();
        let headers = headers(response_headers)?;
        let writer = match exc_info {
            None => self.sr.start(status, headers),
            Some(exc_info) => {
                let value = exc_info.get_item(1)?;
                let error = PythonError::from_py(py, &PyErr::from_value(value));
                match self.sr.start_with_error(status, headers, error.into()) {
                    Err(_) if self.sr.is_head_sent() => return Err(reraise(exc_info)),
                    other => other,
                }
            }
        };
        writer.map(|writer| PyWrite { writer }).map_err(py_err)
    }
}

/// Re-raise the exception of an `exc_info` tuple, its traceback kept.
fn reraise(exc_info: &Bound<'_, PyAny>) -> PyErr {
    match exc_info.get_item(1) {
        Ok(value) if !value.is_none() => PyErr::from_value(value),
        _ => PyTypeError::new_err("start_response: exc_info is not a sys.exc_info() tuple"),
    }
}

/// `response_headers`: a list of `(name, value)` tuples of native strings.
fn headers(list: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let list = list.cast::<PyList>().map_err(|_| {
        PyTypeError::new_err(format!(
            "start_response: response_headers must be a list, not {} (PEP 3333)",
            type_name(list)
        ))
    })?;
    let mut headers = Vec::with_capacity(list.len());
    for item in list.iter() {
        let pair = item.cast::<PyTuple>().ok().filter(|t| t.len() == 2);
        let Some(pair) = pair else {
            return Err(PyTypeError::new_err(format!(
                "start_response: each header is a (name, value) tuple, not {} (PEP 3333)",
                item.repr().map(|r| r.to_string()).unwrap_or_default()
            )));
        };
        let text = |i: usize| -> PyResult<String> {
            let v = pair.get_item(i)?;
            match v.cast::<PyString>() {
                Ok(s) => Ok(s.to_str()?.to_owned()),
                Err(_) => Err(PyTypeError::new_err(format!(
                    "start_response: header names and values are str, not {} (PEP 3333: \
                     native strings)",
                    type_name(&v)
                ))),
            }
        };
        headers.push((text(0)?, text(1)?));
    }
    Ok(headers)
}

/// The `write(data)` callable `start_response` returns.
#[pyclass(module = "gateway", name = "Write", frozen)]
#[derive(Debug)]
pub struct PyWrite {
    writer: Writer,
}

#[pymethods]
impl PyWrite {
    fn __call__(&self, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let data = chunk(data).map_err(|_| {
            PyTypeError::new_err(format!(
                "write() takes bytes, not {} (PEP 3333)",
                type_name(data)
            ))
        })?;
        self.writer.write(data).map_err(py_err)
    }
}
