//! The environ dict of PEP 3333, built from the Rust [`Environ`]: its CGI
//! variables as native strings and the `wsgi.*` keys.

use std::sync::{Arc, Mutex};

use gateway_core::{Environ, ErrorStream, Input};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::WsgiErrors;
use crate::file_wrapper::FileWrapper;
use crate::input::WsgiInput;

/// The environ dict of PEP 3333.
pub(crate) fn build_environ<'py>(
    py: Python<'py>,
    environ: &Environ,
    input: Input,
    errors: ErrorStream,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    // Native strings: every value of `vars()` is already one character per
    // byte (latin-1) where the bytes are not text (PATH_INFO, headers).
    for (name, value) in environ.vars() {
        dict.set_item(&*name, &*value)?;
    }
    let flags = environ.flags();
    dict.set_item("wsgi.version", (1, 0))?;
    dict.set_item("wsgi.url_scheme", environ.url_scheme().as_str())?;
    dict.set_item(
        "wsgi.input",
        WsgiInput {
            input: Arc::new(Mutex::new(input)),
        },
    )?;
    dict.set_item("wsgi.input_terminated", true)?;
    dict.set_item(
        "wsgi.errors",
        WsgiErrors {
            stream: Mutex::new(errors),
        },
    )?;
    dict.set_item("wsgi.multithread", flags.multithread)?;
    dict.set_item("wsgi.multiprocess", flags.multiprocess)?;
    dict.set_item("wsgi.run_once", flags.run_once)?;
    dict.set_item("wsgi.file_wrapper", py.get_type::<FileWrapper>())?;
    Ok(dict)
}
