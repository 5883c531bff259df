//! `wsgi.input`: [`WsgiInput`], the request body read from the Rust
//! [`Input`] with the GIL released.

use std::io::{BufRead, Read};
use std::sync::{Arc, Mutex};

use gateway_core::Input;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use crate::lock;

/// `wsgi.input`: the request body, read from the Rust [`Input`] with the GIL
/// released, never past `CONTENT_LENGTH` (the [`Input`] ends there).
#[pyclass(module = "gateway", name = "Input", frozen)]
#[derive(Debug)]
pub struct WsgiInput {
    pub(crate) input: Arc<Mutex<Input>>,
}

impl WsgiInput {
    fn read_line(&self, py: Python<'_>, size: Option<i64>) -> PyResult<Vec<u8>> {
        let input = &self.input;
        py.detach(|| {
            let mut input = lock(input);
            let mut line = Vec::new();
            match size {
                Some(n) if n >= 0 => (&mut *input).take(n as u64).read_until(b'\n', &mut line),
                _ => input.read_until(b'\n', &mut line),
            }
            .map(|_| line)
        })
        .map_err(PyErr::from)
    }
}

#[pymethods]
impl WsgiInput {
    /// `read(size=-1)`: up to `size` bytes (all that is left when negative or None).
    #[pyo3(signature = (size = None))]
    fn read<'py>(&self, py: Python<'py>, size: Option<i64>) -> PyResult<Bound<'py, PyBytes>> {
        let input = &self.input;
        let data = py.detach(|| {
            let mut input = lock(input);
            let mut data = Vec::new();
            match size {
                Some(n) if n >= 0 => (&mut *input).take(n as u64).read_to_end(&mut data),
                _ => input.read_to_end(&mut data),
            }
            .map(|_| data)
        })?;
        Ok(PyBytes::new(py, &data))
    }

    /// `readline(size=-1)`: one line, its `\n` included, at most `size` bytes.
    #[pyo3(signature = (size = None))]
    fn readline<'py>(&self, py: Python<'py>, size: Option<i64>) -> PyResult<Bound<'py, PyBytes>> {
        let line = self.read_line(py, size)?;
        Ok(PyBytes::new(py, &line))
    }

    /// `readlines(hint=-1)`: the lines left, stopping once `hint` bytes were read.
    #[pyo3(signature = (hint = None))]
    fn readlines<'py>(&self, py: Python<'py>, hint: Option<i64>) -> PyResult<Bound<'py, PyList>> {
        let lines = PyList::empty(py);
        let mut total = 0i64;
        loop {
            let line = self.read_line(py, None)?;
            if line.is_empty() {
                break;
            }
            total += line.len() as i64;
            lines.append(PyBytes::new(py, &line))?;
            if matches!(hint, Some(h) if h > 0 && total >= h) {
                break;
            }
        }
        Ok(lines)
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let line = self.read_line(py, None)?;
        Ok((!line.is_empty()).then(|| PyBytes::new(py, &line)))
    }
}
