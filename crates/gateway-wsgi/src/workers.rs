//! `serve(workers=N)` / `--workers N`: gateway-tower's worker processes
//! ([`gateway_tower::Workers`], gunicorn's arbiter) for a Python program.
//!
//! The program runs again in each worker: `sys.executable` with
//! `sys.orig_argv`, so the command (`gateway-wsgi ...` or `python -m
//! gateway_wsgi ...`) or the user's script imports its app and reaches
//! `serve()` again, where [`Workers::start`] finds it is a worker and hands
//! it the listener the master bound (fd 3). Each worker has its own
//! interpreter and GIL. The master binds, supervises (restarts a worker
//! that dies; stops when one cannot boot), and on SIGTERM / Ctrl-C drains
//! the workers for up to the graceful timeout.

use std::ffi::OsString;
use std::time::Duration;

use gateway_tower::{Listener, Role, Workers};
use pyo3::exceptions::{PyRuntimeError, PySystemExit};
use pyo3::prelude::*;

use crate::bind::Bind;

/// The graceful timeout when `graceful_timeout=None` ("as long as they
/// take"): a year.
const FOREVER: Duration = Duration::from_secs(365 * 24 * 3600);

/// In a worker, or the master of more than one: `Ok(Some(listener))` in a
/// worker (serve on it), `Ok(None)` in the master once every worker exited
/// cleanly; `SystemExit(status)` when the master ends otherwise (3: a worker
/// could not load the app; 1: anything else).
pub(crate) fn start(
    py: Python<'_>,
    bind: &Bind,
    count: usize,
    threads: usize,
    graceful_timeout: Option<Duration>,
) -> PyResult<Option<Listener>> {
    let sys = py.import("sys")?;
    let program: OsString = sys.getattr("executable")?.extract()?;
    if program.is_empty() {
        return Err(PyRuntimeError::new_err(
            "serve(workers=...): sys.executable is empty, so no worker can be started",
        ));
    }
    let argv: Vec<OsString> = sys.getattr("orig_argv")?.extract()?;
    let args: Vec<OsString> = argv.into_iter().skip(1).collect();
    let bind = bind.clone();
    let role = py.detach(move || {
        Workers::new(count)
            .graceful_timeout(graceful_timeout.unwrap_or(FOREVER))
            .command(program, args)
            .start(|| {
                let listener = match &bind {
                    Bind::Tcp(host, port) => Listener::bind_tcp((host.as_str(), *port))?,
                    Bind::Unix(path) => Listener::bind_unix(path)?,
                };
                eprintln!(
                    "gateway-wsgi: listening on {} ({count} workers, {threads} threads each)",
                    listener.describe()
                );
                Ok(listener)
            })
    })?;
    match role {
        Role::Worker { listener, .. } => Ok(Some(listener)),
        Role::Master { status: 0 } => Ok(None),
        Role::Master { status } => Err(PySystemExit::new_err(status)),
    }
}
