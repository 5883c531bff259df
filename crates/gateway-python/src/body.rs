//! The app's returned iterable as a [`Body`]: a list taken at once, a real
//! file behind `wsgi.file_wrapper` read from Rust, anything else iterated
//! with the GIL taken for each `next()`; `close()` called when it is dropped.

use bytes::Bytes;
use gateway_core::{Body, Error, ErrorStream};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyList};

use crate::error::{PythonError, type_name};
use crate::file_wrapper::{FileWrapper, real_file};

/// The app's iterable as a [`Body`]: a real file behind `wsgi.file_wrapper`
/// is read from Rust; a list of bytes is taken at once; anything else is
/// iterated lazily. `close()` runs when the body is dropped.
pub(crate) fn into_body(
    py: Python<'_>,
    result: Bound<'_, PyAny>,
    errors: ErrorStream,
) -> PyResult<Body> {
    if let Ok(wrapper) = result.cast::<FileWrapper>() {
        let wrapper = wrapper.get();
        if let Some((file, remaining)) = real_file(wrapper.filelike.bind(py)) {
            let filelike = wrapper.filelike.clone_ref(py);
            let body = Body::reader(file, wrapper.blksize).with_len(remaining);
            return Ok(body.on_close(move || close(&filelike, &errors)));
        }
    }
    if let Ok(list) = result.cast_exact::<PyList>() {
        // A list (not a subclass, which could have close()) has no close():
        // its chunks are taken now, under the GIL we hold.
        let mut chunks = Vec::with_capacity(list.len());
        for item in list.iter() {
            chunks.push(chunk(&item)?);
        }
        return Ok(match chunks.len() {
            0 => Body::empty(),
            1 => Body::full(chunks.pop().unwrap_or_default()),
            _ => Body::iter(chunks),
        });
    }
    let iterable = result.clone().unbind();
    let iter = match result.try_iter() {
        Ok(iter) => iter.into_any().unbind(),
        Err(err) => {
            // Not iterable, but it may still have close(): PEP 3333 wants it called.
            close(&iterable, &errors);
            return Err(err);
        }
    };
    Ok(Body::try_iter(PyIter { iter: Some(iter) }).on_close(move || close(&iterable, &errors)))
}

/// A body chunk: `bytes` and nothing else (PEP 3333: the iterable yields
/// bytestrings).
pub(crate) fn chunk(item: &Bound<'_, PyAny>) -> PyResult<Bytes> {
    if item.cast::<PyBytes>().is_err() {
        return Err(PyTypeError::new_err(format!(
            "the application's iterable yielded a {} object: PEP 3333 requires bytes \
             (encode text, e.g. body.encode('utf-8'))",
            type_name(item)
        )));
    }
    let backed: PyBackedBytes = item.extract()?;
    Ok(Bytes::from_owner(backed))
}

/// Call `obj.close()` if it has one (PEP 3333: on every path); an exception
/// from it goes to `wsgi.errors`.
fn close(obj: &Py<PyAny>, errors: &ErrorStream) {
    Python::attach(|py| {
        let obj = obj.bind(py);
        match obj.hasattr("close") {
            Ok(true) => {
                if let Err(err) = obj.call_method0("close") {
                    errors.log(&format!(
                        "close() of the application's iterable raised: {}",
                        PythonError::from_py(py, &err)
                    ));
                }
            }
            Ok(false) => {}
            Err(err) => errors.log(&PythonError::from_py(py, &err).to_string()),
        }
    })
}

/// The app's iterator, advanced with the GIL taken for each `next()`.
struct PyIter {
    iter: Option<Py<PyAny>>,
}

impl Iterator for PyIter {
    type Item = Result<Bytes, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let iter = self.iter.as_ref()?;
        let next = Python::attach(|py| {
            let iter = iter.bind(py);
            match iter.call_method0("__next__") {
                Ok(item) => Some(chunk(&item).map_err(|e| PythonError::from_py(py, &e).into())),
                Err(err) if err.is_instance_of::<pyo3::exceptions::PyStopIteration>(py) => None,
                Err(err) => Some(Err(PythonError::from_py(py, &err).into())),
            }
        });
        if !matches!(next, Some(Ok(_))) {
            self.iter = None;
        }
        next
    }
}
