//! Python WSGI applications (PEP 3333) as gateway apps.
//!
//! [`PyApp`] wraps a Python WSGI callable (Flask's `app`, Django's
//! `get_wsgi_application()`, any `application(environ, start_response)`) in
//! an [`App`](gateway_core::App), so it stacks with every gateway middleware and runs under
//! `gateway_tower::AppService` like a Rust app. CPython is embedded through
//! PyO3 (`auto-initialize`: the interpreter starts on first use).
//!
//! | PEP 3333 | here |
//! |---|---|
//! | `environ` | a `dict` built from [`Environ::vars`](gateway_core::Environ::vars) (native strings, latin-1) and the `wsgi.*` keys |
//! | `wsgi.input` | [`WsgiInput`], over the Rust [`Input`](gateway_core::Input): the GIL is released while it reads |
//! | `wsgi.errors` | [`WsgiErrors`], into the Rust [`ErrorStream`](gateway_core::ErrorStream) |
//! | `wsgi.file_wrapper` | [`FileWrapper`]: a real file becomes a [`Body::reader`](gateway_core::Body::reader) read without the GIL |
//! | `start_response` | [`PyStartResponse`], over [`StartResponse::start`](gateway_core::StartResponse::start) / [`StartResponse::start_with_error`](gateway_core::StartResponse::start_with_error) |
//! | `write` | [`PyWrite`], over [`Writer::write`](gateway_core::Writer::write) |
//! | the returned iterable | a [`Body`](gateway_core::Body) whose every `next()` takes the GIL; dropping it calls `close()` |
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

mod app;
mod body;
mod environ;
mod error;
mod errors;
mod file_wrapper;
mod input;
mod start_response;

pub use app::PyApp;
pub use error::PythonError;
pub use errors::WsgiErrors;
pub use file_wrapper::{FILE_WRAPPER_BLOCK_SIZE, FileWrapper};
pub use input::WsgiInput;
pub use start_response::{PyStartResponse, PyWrite};

use std::sync::{Mutex, MutexGuard};

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
