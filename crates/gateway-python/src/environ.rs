//! The environ dict of PEP 3333, built from the Rust [`Environ`]: its CGI
//! variables as native strings and the `wsgi.*` keys.
//!
//! The keys are interned Python strings made once per name ([`Keys`]: the
//! CGI names, `HTTP_*` names up to [`MAX_KEYS`], the `wsgi.*` names), so a
//! request makes no key string and the dict never hashes one (an interned
//! `str` keeps its hash). The `wsgi.*` values that do not change start each
//! request's dict as the copy of one template dict. Only the values are new
//! strings.

use std::sync::{Arc, Mutex};

use fnv::FnvHashMap;

use gateway_core::{Environ, ErrorStream, Flags, Input};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::lock;

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
    let dict = template(py)?.copy()?;
    let scheme = environ.url_scheme().as_str();
    if scheme != "http" {
        let scheme = match scheme {
            "https" => intern!(py, "https").clone(),
            other => PyString::new(py, other),
        };
        dict.set_item(intern!(py, "wsgi.url_scheme"), scheme)?;
    }
    let flags = environ.flags();
    if flags != Flags::default() {
        dict.set_item(intern!(py, "wsgi.multithread"), flags.multithread)?;
        dict.set_item(intern!(py, "wsgi.multiprocess"), flags.multiprocess)?;
        dict.set_item(intern!(py, "wsgi.run_once"), flags.run_once)?;
    }
    dict.set_item(
        intern!(py, "wsgi.input"),
        WsgiInput {
            input: Arc::new(Mutex::new(input)),
        },
    )?;
    dict.set_item(
        intern!(py, "wsgi.errors"),
        WsgiErrors {
            stream: Mutex::new(errors),
        },
    )?;
    // Native strings: every value of `vars()` is already one character per
    // byte (latin-1) where the bytes are not text (PATH_INFO, headers).
    for (name, value) in environ.vars() {
        dict.set_item(key(py, &name), &*value)?;
    }
    Ok(dict)
}

/// The environ key `name`: a common one from its static, else from [`KEYS`]
/// (whose lock is released on return, before any Python code could run and
/// let another thread take the GIL and wait for it).
fn key<'py>(py: Python<'py>, name: &str) -> Bound<'py, PyString> {
    match common_key(py, name) {
        Some(key) => key.clone(),
        None => lock(&KEYS).get(py, name),
    }
}

/// The variables every environ has: the template holds them (with an empty
/// value each request replaces), so a request's dict starts the right size
/// and replaces values instead of inserting keys.
const ALWAYS: [&str; 8] = [
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "REQUEST_URI",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
];

/// The key of a variable most requests have, as an interned string held by
/// its own static (`intern!`): no map, no lock. Others go through [`KEYS`].
fn common_key<'py>(py: Python<'py>, name: &str) -> Option<&'py Bound<'py, PyString>> {
    macro_rules! keys {
        ($($name:literal),* $(,)?) => {
            match name {
                $($name => Some(intern!(py, $name)),)*
                _ => None,
            }
        };
    }
    keys!(
        "REQUEST_METHOD",
        "SCRIPT_NAME",
        "PATH_INFO",
        "QUERY_STRING",
        "REQUEST_URI",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "REMOTE_ADDR",
        "REMOTE_PORT",
        "HTTP_HOST",
        "HTTP_USER_AGENT",
        "HTTP_ACCEPT",
        "HTTP_ACCEPT_ENCODING",
        "HTTP_ACCEPT_LANGUAGE",
        "HTTP_CONNECTION",
        "HTTP_COOKIE",
    )
}

/// The `wsgi.*` keys whose values are the same for every request (with
/// `wsgi.url_scheme` `"http"` and the default [`Flags`], set again when a
/// request differs), and the keys of [`ALWAYS`], made once: a request's dict
/// starts as its copy.
fn template(py: Python<'_>) -> PyResult<&Bound<'_, PyDict>> {
    static TEMPLATE: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
    let template = TEMPLATE.get_or_try_init(py, || -> PyResult<_> {
        let dict = PyDict::new(py);
        let flags = Flags::default();
        dict.set_item(intern!(py, "wsgi.version"), PyTuple::new(py, [1, 0])?)?;
        dict.set_item(intern!(py, "wsgi.url_scheme"), intern!(py, "http"))?;
        dict.set_item(intern!(py, "wsgi.input_terminated"), true)?;
        dict.set_item(intern!(py, "wsgi.multithread"), flags.multithread)?;
        dict.set_item(intern!(py, "wsgi.multiprocess"), flags.multiprocess)?;
        dict.set_item(intern!(py, "wsgi.run_once"), flags.run_once)?;
        dict.set_item(
            intern!(py, "wsgi.file_wrapper"),
            py.get_type::<FileWrapper>(),
        )?;
        // Placeholders each request replaces (its `vars()` always has them).
        dict.set_item(intern!(py, "wsgi.input"), py.None())?;
        dict.set_item(intern!(py, "wsgi.errors"), py.None())?;
        for name in ALWAYS {
            dict.set_item(key(py, name), intern!(py, ""))?;
        }
        Ok(dict.unbind())
    })?;
    Ok(template.bind(py))
}

/// How many environ key names [`Keys`] keeps: the CGI names and the
/// `HTTP_*` names of the headers clients send, not an unbounded set a
/// client could grow with made-up headers.
pub(crate) const MAX_KEYS: usize = 256;

/// The environ's key names as interned Python strings, shared by every
/// request of the process (taken under the GIL, so never contended).
static KEYS: Mutex<Keys> = Mutex::new(Keys { map: None });

/// FNV (the `fnv` crate, as `http` uses for header names): the names are
/// short and chosen by the server or the client's header names (bounded by
/// [`MAX_KEYS`]), where SipHash's cost is most of a lookup and its flood
/// resistance buys nothing.
struct Keys {
    map: Option<FnvHashMap<Box<str>, Py<PyString>>>,
}

impl Keys {
    /// The key `name`: the kept string, or a new one (kept while there is room).
    fn get<'py>(&mut self, py: Python<'py>, name: &str) -> Bound<'py, PyString> {
        let map = self.map.get_or_insert_with(FnvHashMap::default);
        if let Some(key) = map.get(name) {
            return key.bind(py).clone();
        }
        let key = PyString::intern(py, name);
        if map.len() < MAX_KEYS {
            map.insert(name.into(), key.clone().unbind());
        }
        key
    }
}
