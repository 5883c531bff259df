//! gateway's server for Python WSGI apps, as a Python extension module.
//!
//! This crate is the compiled half of the Python package `gateway_wsgi`
//! (`pip install ./crates/gateway-wsgi`, built by maturin): the module
//! `gateway_wsgi._native`, which the package's Python half
//! (`python/gateway_wsgi/`: the `gateway-wsgi` command and `import_app`)
//! re-exports. It serves a WSGI callable as a [`gateway_python::PyApp`]
//! behind a list of gateway middleware, under
//! [`gateway_tower::AppService`] and [`gateway_tower::Server`] (HTTP/1.1
//! and HTTP/2 by hyper):
//!
//! ```text
//! import gateway_wsgi
//! gateway_wsgi.serve(app, "127.0.0.1:8000",
//!                    middleware=[gateway_wsgi.AccessLog(), gateway_wsgi.Gzip()])
//! ```
//!
//! - `layers`: the middleware as Python classes (`AccessLog`, `Gzip`,
//!   `BasicAuth`, `BearerAuth`, `Mount`), each validated when it is built
//!   (a `ValueError` / `TypeError` that names the rule) and turned into the
//!   Rust middleware of `gateway_middleware`.
//! - `credentials`: the credentials files of `BasicAuth(file=...)` and
//!   `BearerAuth(file=...)`.
//! - `bind`: the `bind` address (`HOST:PORT`, `:PORT`, `unix:PATH`).
//! - `serve`: the `serve()` function: the options, then the server run on
//!   a tokio runtime with the GIL released, until SIGINT or SIGTERM.
//! - `workers`: `serve(workers=N)`, on [`gateway_tower::Workers`].
//!
//! The interpreter is the one that imported the module, so `gateway-python`
//! is used without its `auto-initialize` feature.

mod bind;
mod credentials;
mod layers;
mod serve;
mod workers;

use pyo3::prelude::*;

/// gateway's WSGI server (the compiled part of `gateway_wsgi`).
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<layers::AccessLog>()?;
    m.add_class::<layers::Gzip>()?;
    m.add_class::<layers::BasicAuth>()?;
    m.add_class::<layers::BearerAuth>()?;
    m.add_class::<layers::Mount>()?;
    m.add_function(wrap_pyfunction!(serve::serve, m)?)?;
    m.add_function(wrap_pyfunction!(serve::check_bind, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULT_THREADS", serve::DEFAULT_THREADS)?;
    m.add("WORKER_BOOT_ERROR", gateway_tower::WORKER_BOOT_ERROR)?;
    m.add("WORKER_ENV", gateway_tower::WORKER_ENV)?;
    Ok(())
}
