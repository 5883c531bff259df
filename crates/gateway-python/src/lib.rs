//! Python WSGI applications (PEP 3333) as gateway apps.
//!
//! [`PyApp`] wraps a Python WSGI callable (Flask's `app`, Django's
//! `get_wsgi_application()`, any `application(environ, start_response)`) in
//! an [`App`], so it stacks with every gateway middleware and runs under
//! `gateway_tower::AppService` like a Rust app. CPython is embedded through
//! PyO3 (`auto-initialize`: the interpreter starts on first use).
//!
//! | PEP 3333 | here |
//! |---|---|
//! | `environ` | a `dict` built from [`Environ::vars`] (native strings, latin-1) and the `wsgi.*` keys |
//! | `wsgi.input` | [`WsgiInput`], over the Rust [`Input`]: the GIL is released while it reads |
//! | `wsgi.errors` | [`WsgiErrors`], into the Rust [`ErrorStream`] |
//! | `wsgi.file_wrapper` | [`FileWrapper`]: a real file becomes a [`Body::reader`] read without the GIL |
//! | `start_response` | [`PyStartResponse`], over [`StartResponse::start`] / [`StartResponse::start_with_error`] |
//! | `write` | [`PyWrite`], over [`Writer::write`] |
//! | the returned iterable | a [`Body`] whose every `next()` takes the GIL; dropping it calls `close()` |
//! | an exception | [`PythonError`], with the formatted traceback |
//!
//! **The GIL** is taken only while Python runs: to build the environ and call
//! the app, for each `next()` of the returned iterable, and for `close()`. It
//! is released while `wsgi.input` waits for the client, and the body is
//! written by the server with the GIL released (between two `next()`s).
//!
//! ```no_run
//! use gateway_core::testing::Client;
//! use gateway_python::PyApp;
//!
//! let app = PyApp::import("myproject.wsgi:application")?;
//! let response = Client::new(app).get("/").send();
//! assert_eq!(response.status, 200);
//! # Ok::<(), gateway_core::Error>(())
//! ```
//!
//! PyO3's `#[pyclass]` / `#[pymethods]` expand to `unsafe` code, but inside
//! PyO3's own macros: the workspace's `unsafe_code = "forbid"` lint does not
//! fire on it (it fires on `unsafe` written in this crate, and there is none),
//! so the lint stays on here as everywhere.

use std::fmt;
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use gateway_core::{App, Body, Environ, Error, ErrorStream, Input, StartResponse, Writer};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

/// The block size of `wsgi.file_wrapper` when the app gives none.
pub const FILE_WRAPPER_BLOCK_SIZE: usize = 8192;

/// A Python WSGI callable as a gateway [`App`].
pub struct PyApp {
    app: Py<PyAny>,
}

impl PyApp {
    /// Wrap a Python callable `application(environ, start_response)`.
    pub fn new(app: Py<PyAny>) -> Self {
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

/// The environ dict of PEP 3333.
fn build_environ<'py>(
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

/// The app's iterable as a [`Body`]: a real file behind `wsgi.file_wrapper`
/// is read from Rust; a list of bytes is taken at once; anything else is
/// iterated lazily. `close()` runs when the body is dropped.
fn into_body(py: Python<'_>, result: Bound<'_, PyAny>, errors: ErrorStream) -> PyResult<Body> {
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
fn chunk(item: &Bound<'_, PyAny>) -> PyResult<Bytes> {
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

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
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

/// The fast path of `wsgi.file_wrapper`: a regular file with a `fileno()`,
/// reopened from Rust at its current position (no `unsafe` fd adoption:
/// through `/proc/self/fd` on Linux; elsewhere the blocks are iterated).
fn real_file(filelike: &Bound<'_, PyAny>) -> Option<(std::fs::File, u64)> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let fd: i64 = filelike.call_method0("fileno").ok()?.extract().ok()?;
    let pos: u64 = filelike.call_method0("tell").ok()?.extract().ok()?;
    // Checked before opening: opening a FIFO could block.
    let path = format!("/proc/self/fd/{fd}");
    if !std::fs::metadata(&path).ok()?.is_file() {
        return None;
    }
    let mut file = std::fs::File::open(&path).ok()?;
    let meta = file.metadata().ok()?;
    file.seek(SeekFrom::Start(pos)).ok()?;
    Some((file, meta.len().saturating_sub(pos)))
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
fn py_err(err: Error) -> PyErr {
    match err {
        Error::InvalidStatus { .. }
        | Error::InvalidHeaderName { .. }
        | Error::InvalidHeaderValue { .. }
        | Error::HopByHopHeader { .. } => PyValueError::new_err(err.to_string()),
        Error::Io(io) => io.into(),
        other => PyRuntimeError::new_err(other.to_string()),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `wsgi.input`: the request body, read from the Rust [`Input`] with the GIL
/// released, never past `CONTENT_LENGTH` (the [`Input`] ends there).
#[pyclass(module = "gateway", name = "Input", frozen)]
#[derive(Debug)]
pub struct WsgiInput {
    input: Arc<Mutex<Input>>,
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

/// `wsgi.errors`: text into the Rust [`ErrorStream`] (the server's log).
#[pyclass(module = "gateway", name = "Errors", frozen)]
#[derive(Debug)]
pub struct WsgiErrors {
    stream: Mutex<ErrorStream>,
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

/// `wsgi.file_wrapper(filelike, blksize=8192)`. Returned by the app, a real
/// file (with `fileno()`) is sent by Rust without the GIL; otherwise (or when
/// a Python middleware iterates it) it yields `filelike.read(blksize)` blocks.
/// `close()` closes the file.
#[pyclass(module = "gateway", name = "FileWrapper", frozen)]
#[derive(Debug)]
pub struct FileWrapper {
    filelike: Py<PyAny>,
    blksize: usize,
}

#[pymethods]
impl FileWrapper {
    #[new]
    #[pyo3(signature = (filelike, blksize = FILE_WRAPPER_BLOCK_SIZE))]
    fn new(filelike: Py<PyAny>, blksize: usize) -> Self {
        FileWrapper {
            filelike,
            blksize: blksize.max(1),
        }
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let block = self
            .filelike
            .bind(py)
            .call_method1("read", (self.blksize,))?;
        Ok((block.len().unwrap_or(0) > 0).then_some(block))
    }

    /// Close the file, if it has `close()`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let filelike = self.filelike.bind(py);
        if filelike.hasattr("close")? {
            filelike.call_method0("close")?;
        }
        Ok(())
    }
}

/// `start_response(status, response_headers, exc_info=None)`.
#[pyclass(module = "gateway", name = "StartResponse", frozen)]
#[derive(Debug)]
pub struct PyStartResponse {
    sr: StartResponse,
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
