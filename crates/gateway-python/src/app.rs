//! [`PyApp`]: a Python WSGI callable as a gateway [`App`], and the request's
//! trip through it (the GIL taken, the environ built, the callable called,
//! its result turned into a [`Body`]).

use std::fmt;
use std::sync::Once;

use gateway_core::{App, Body, Environ, Error, StartResponse};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::body::into_body;
use crate::environ::build_environ;
use crate::error::PythonError;
use crate::start_response::PyStartResponse;

/// A Python WSGI callable as a gateway [`App`].
pub struct PyApp {
    app: Py<PyAny>,
}

impl PyApp {
    /// Wrap a Python callable `application(environ, start_response)`.
    ///
    /// The first `PyApp` also makes every blocking thread of
    /// `gateway_tower` started from then on keep one Python thread state
    /// for its life ([`gateway_tower::wrap_blocking_threads`]), so that a
    /// request takes the GIL without making a thread state. Such a thread
    /// takes the GIL once when it starts, even to run a Rust app.
    pub fn new(app: Py<PyAny>) -> Self {
        static WRAP: Once = Once::new();
        WRAP.call_once(|| gateway_tower::wrap_blocking_threads(attached));
        PyApp { app }
    }

    /// Import `module:callable` (as gunicorn does; `callable` may be a dotted
    /// path of attributes, and is `application` when the colon is missing).
    /// The directories of `sys.path` apply; the error holds the traceback.
    pub fn import(spec: &str) -> Result<Self, Error> {
        let (module, attr) = spec.split_once(':').unwrap_or((spec, "application"));
        if module.is_empty() || attr.is_empty() {
            return Err(Error::msg(format!(
                "PyApp::import({spec:?}): expected \"module:callable\", such as \"app:application\""
            )));
        }
        Python::attach(|py| {
            let mut obj = py.import(module)?.into_any();
            for part in attr.split('.') {
                obj = obj.getattr(part)?;
            }
            if !obj.is_callable() {
                return Err(PyTypeError::new_err(format!(
                    "{spec}: the WSGI application must be callable"
                )));
            }
            Ok(PyApp::new(obj.unbind()))
        })
        .map_err(|err| Python::attach(|py| PythonError::from_py(py, &err).into()))
    }

    /// The Python callable.
    pub fn callable(&self) -> &Py<PyAny> {
        &self.app
    }
}

impl fmt::Debug for PyApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PyApp").field("app", &self.app).finish()
    }
}

impl App for PyApp {
    fn call(&self, mut environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
        let input = environ.take_input();
        let errors = environ.errors().clone();
        Python::attach(|py| {
            let dict = build_environ(py, &environ, input, errors.clone())
                .map_err(|e| PythonError::from_py(py, &e))?;
            let start = Py::new(py, PyStartResponse { sr: start_response })
                .map_err(|e| PythonError::from_py(py, &e))?;
            let result = self
                .app
                .bind(py)
                .call1((dict, start))
                .map_err(|e| PythonError::from_py(py, &e))?;
            into_body(py, result, errors).map_err(|e| PythonError::from_py(py, &e).into())
        })
    }
}

/// A blocking thread's life, attached to the interpreter: the thread gets
/// its Python thread state once, and releases the GIL while it waits for
/// work, so each request's `Python::attach` only takes the GIL (and not a
/// new `PyThreadState`, made and freed by `PyGILState_Ensure` /
/// `PyGILState_Release` on a thread that has none).
fn attached(run: &mut (dyn FnMut() + Send)) {
    Python::attach(|py| py.detach(run));
}
