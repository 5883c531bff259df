//! `serve()`: a WSGI app behind its middleware, served until SIGINT or
//! SIGTERM.
//!
//! The options are checked first (a `TypeError` or `ValueError` naming
//! the option); then the server runs on a tokio runtime of its own with the
//! GIL released (`Python::detach`), so the app's requests, on the blocking
//! threads of `AppService`, take the GIL only while Python runs. On SIGINT
//! (Ctrl-C) or SIGTERM the server stops accepting, lets the requests in
//! flight finish and returns; the `KeyboardInterrupt` that Python's own
//! SIGINT handler left pending is then dropped, so a Ctrl-C ends the
//! program without a traceback.

use std::io;
use std::time::Duration;

use gateway_core::{BoxApp, Flags};
use gateway_python::PyApp;
use gateway_tower::{AppService, Listener, Server, Workers};
use pyo3::exceptions::{PyKeyboardInterrupt, PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::bind::Bind;
use crate::layers::Layer;

/// The default `threads`: how many requests run the app at once. It is
/// `AppService`'s own default: with fewer, requests wait for a place and
/// each wait costs a wake-up, which measured dearer than the GIL's
/// contention (docs/design.md, "`--threads` stays large for Python").
pub(crate) const DEFAULT_THREADS: usize = gateway_tower::DEFAULT_MAX_BLOCKING;

/// The most `threads` (the blocking pool that every service shares runs at
/// most 512 apps at once).
const MAX_THREADS: usize = 512;

/// The most `workers`.
const MAX_WORKERS: usize = 256;

/// What `run` needs, checked.
#[derive(Debug)]
struct Options {
    bind: Bind,
    workers: usize,
    threads: usize,
    timeout: Option<Duration>,
    keep_alive: bool,
    header_timeout: Option<Duration>,
    body_timeout: Option<Duration>,
    graceful_timeout: Option<Duration>,
    server_header: Option<String>,
}

/// Serve the WSGI callable `app` (PEP 3333) over HTTP/1.1 and HTTP/2 until
/// SIGINT (Ctrl-C) or SIGTERM, then finish the requests in flight and
/// return.
///
/// - bind: "HOST:PORT", "[IPv6]:PORT", ":PORT" (all interfaces), "HOST", or
///   "unix:PATH" (a Unix domain socket; a stale socket file is replaced).
/// - middleware: gateway middleware, outermost first, e.g.
///   [AccessLog(), BasicAuth(file="users.txt"), Gzip()].
/// - workers: processes, each with its own interpreter and GIL (the
///   program is run again for each; see below). 1: this process serves.
/// - threads: how many requests run the app at once (the GIL still runs one
///   Python thread at a time; the others wait for I/O).
/// - timeout: seconds from a request to its response head; past it 504
///   Gateway Timeout (None or 0: no limit).
/// - keep_alive: seconds an idle HTTP/1.1 connection is kept (0: no
///   keep-alive; None: header_timeout). The server has one timer for both
///   an idle connection and a slow request head, so the smaller applies.
/// - header_timeout: seconds a client may take to send a request head.
/// - body_timeout: seconds the app waits for the next bytes of a request
///   body; past it 408 (None: no limit).
/// - graceful_timeout: seconds the requests in flight get to finish once a
///   signal stops the server; past it their connections are closed and
///   serve() raises OSError (None: as long as they take).
/// - server_header: the Server response header (None: none).
///
/// A bad option is a TypeError or ValueError; an address that cannot be
/// bound an OSError.
///
/// With workers > 1 this process is the master: it binds, then runs its
/// own command again (sys.executable with sys.orig_argv) for each worker,
/// whose serve() call serves on the master's socket; it restarts a worker
/// that dies, and stops at SIGTERM / Ctrl-C after draining them. It returns
/// when every worker exited cleanly, else raises SystemExit with the
/// master's status (3: a worker could not load the app).
#[pyfunction]
#[pyo3(signature = (
    app,
    bind = "127.0.0.1:8000",
    *,
    middleware = None,
    workers = 1,
    threads = DEFAULT_THREADS as i64,
    timeout = Some(30.0),
    keep_alive = None,
    header_timeout = Some(30.0),
    body_timeout = None,
    graceful_timeout = Some(30.0),
    server_header = Some("gateway".to_owned()),
))]
// One parameter per keyword of the Python function.
#[allow(clippy::too_many_arguments)]
pub(crate) fn serve(
    py: Python<'_>,
    app: Bound<'_, PyAny>,
    bind: &str,
    middleware: Option<Bound<'_, PyAny>>,
    workers: i64,
    threads: i64,
    timeout: Option<f64>,
    keep_alive: Option<f64>,
    header_timeout: Option<f64>,
    body_timeout: Option<f64>,
    graceful_timeout: Option<f64>,
    server_header: Option<String>,
) -> PyResult<()> {
    if !app.is_callable() {
        let kind = app.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "serve(app=...): a WSGI application must be callable, got {kind}"
        )));
    }
    let mut layers = Vec::new();
    if let Some(list) = middleware {
        if list.is_instance_of::<pyo3::types::PyString>() {
            return Err(PyTypeError::new_err(
                "serve(middleware=...): expected a list of middleware, got a str",
            ));
        }
        for (index, item) in list.try_iter()?.enumerate() {
            layers.push(Layer::from_py(&item?, index)?);
        }
    }
    let threads = count("threads", threads, MAX_THREADS)?;
    let workers = count("workers", workers, MAX_WORKERS)?;
    let header_timeout = seconds("header_timeout", header_timeout)?;
    let (keep_alive, header_timeout) = match keep_alive {
        Some(0.0) => (false, header_timeout),
        None => (true, header_timeout),
        Some(_) => {
            let idle = seconds("keep_alive", keep_alive)?;
            (true, header_timeout.into_iter().chain(idle).min())
        }
    };
    let options = Options {
        bind: Bind::parse(bind).map_err(PyValueError::new_err)?,
        workers,
        threads,
        timeout: seconds("timeout", timeout)?,
        keep_alive,
        header_timeout,
        body_timeout: seconds("body_timeout", body_timeout)?,
        // 0 is no grace at all here, not "no limit".
        graceful_timeout: match graceful_timeout {
            Some(0.0) => Some(Duration::ZERO),
            other => seconds("graceful_timeout", other)?,
        },
        server_header,
    };
    let inherited = if workers > 1 || Workers::worker_index().is_some() {
        let started = crate::workers::start(
            py,
            &options.bind,
            workers,
            threads,
            options.graceful_timeout,
        );
        match drop_interrupt(py, started)? {
            Some(listener) => Some(listener),
            // The master, done.
            None => return Ok(()),
        }
    } else {
        None
    };
    // Innermost first: the list is outermost first.
    let mut stack = BoxApp::new(PyApp::new(app.unbind()));
    for layer in layers.iter().rev() {
        stack = layer.wrap(stack);
    }
    let served = py.detach(move || run(options, stack, inherited));
    drop_interrupt(py, served.map_err(PyErr::from))
}

/// `result`, once the `KeyboardInterrupt` pending from a Ctrl-C is dropped:
/// Python's SIGINT handler saw the Ctrl-C that stopped the server too, and
/// the server has handled it.
fn drop_interrupt<T>(py: Python<'_>, result: PyResult<T>) -> PyResult<T> {
    match py.check_signals() {
        Err(e) if !e.is_instance_of::<PyKeyboardInterrupt>(py) => Err(e),
        _ => result,
    }
}

/// Check a `bind` address without binding it (the command checks its
/// options before it imports the app): a `ValueError` saying what forms are
/// understood.
#[pyfunction]
pub(crate) fn check_bind(bind: &str) -> PyResult<()> {
    Bind::parse(bind).map(drop).map_err(PyValueError::new_err)
}

/// A count from 1 to `most`, else a `ValueError`.
fn count(name: &str, value: i64, most: usize) -> PyResult<usize> {
    usize::try_from(value)
        .ok()
        .filter(|n| (1..=most).contains(n))
        .ok_or_else(|| {
            PyValueError::new_err(format!("serve({name}={value}): give 1 to {most} {name}"))
        })
}

/// A number of seconds: `None` or `0` for none; negative, NaN or infinite
/// is a `ValueError`.
fn seconds(name: &str, value: Option<f64>) -> PyResult<Option<Duration>> {
    match value {
        None => Ok(None),
        Some(0.0) => Ok(None),
        Some(s) => Duration::try_from_secs_f64(s).map(Some).map_err(|_| {
            PyValueError::new_err(format!(
                "serve({name}={s}): give a number of seconds, 0 or more (None or 0: no limit)"
            ))
        }),
    }
}

/// Bind (or take the listener a master bound), then serve until a signal;
/// the runtime is this call's own.
fn run(options: Options, app: BoxApp, inherited: Option<Listener>) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("gateway-wsgi")
        .build()?;
    runtime.block_on(async move {
        let server = match (inherited, &options.bind) {
            (Some(Listener::Tcp(listener)), _) => Server::from_tcp(listener)?,
            (Some(Listener::Unix(listener)), _) => Server::from_unix(listener)?,
            (None, Bind::Tcp(host, port)) => Server::bind((host.as_str(), *port)).await?,
            (None, Bind::Unix(path)) => Server::bind_unix(path)?,
        };
        let worker = Workers::worker_index().is_some();
        let mut server = server
            .header_read_timeout(options.header_timeout)
            .keep_alive(options.keep_alive)
            .grace_period(options.graceful_timeout);
        if let Some(value) = &options.server_header {
            server = server.server_header(value);
        }
        // PEP 3333's flags, told the truth: other threads call the app
        // unless `threads` is 1, other processes when there are workers.
        let flags = Flags {
            multithread: options.threads > 1,
            multiprocess: options.workers > 1,
            run_once: false,
        };
        let mut service = AppService::new(app)
            .max_blocking(options.threads)
            .flags(flags);
        if let Some(deadline) = options.timeout {
            service = service.deadline(deadline);
        }
        if let Some(timeout) = options.body_timeout {
            service = service.body_timeout(timeout);
        }
        let endpoint = server.local_endpoint()?;
        let scheme = if matches!(options.bind, Bind::Tcp(..)) {
            "http://"
        } else {
            ""
        };
        if !worker {
            eprintln!(
                "gateway-wsgi: listening on {scheme}{endpoint} ({} threads)",
                options.threads
            );
        }
        server.serve(service).await
    })
}
