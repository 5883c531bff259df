//! The middleware of `serve(middleware=[...])` as Python classes.
//!
//! Each class checks its arguments when it is built (a `ValueError` or
//! `TypeError` naming the rule, never later at serve time) and holds the
//! ready Rust middleware of `gateway_middleware`; [`Layer`] is the one a
//! list item stands for, and wraps an app in it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use gateway_core::{BoxApp, Middleware};
use gateway_middleware::access_log::{self, Format};
use gateway_middleware::auth::{self, Credentials, StaticTokens};
use gateway_middleware::{gzip, mount};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::credentials::{self, Kind};

/// One item of the middleware list, as Rust middleware.
#[derive(Debug, Clone)]
pub(crate) enum Layer {
    AccessLog(access_log::AccessLog),
    Gzip(gzip::Gzip),
    Basic(auth::BasicAuth<Credentials>),
    Bearer(auth::BearerAuth<StaticTokens>),
    Mount(mount::Mount),
}

impl Layer {
    /// The Rust middleware a Python middleware object stands for; a
    /// `TypeError` naming the position for anything else.
    pub(crate) fn from_py(obj: &Bound<'_, PyAny>, index: usize) -> PyResult<Layer> {
        if let Ok(m) = obj.extract::<PyRef<'_, AccessLog>>() {
            return Ok(Layer::AccessLog(m.inner.clone()));
        }
        if let Ok(m) = obj.extract::<PyRef<'_, Gzip>>() {
            return Ok(Layer::Gzip(m.inner.clone()));
        }
        if let Ok(m) = obj.extract::<PyRef<'_, BasicAuth>>() {
            return Ok(Layer::Basic(m.inner.clone()));
        }
        if let Ok(m) = obj.extract::<PyRef<'_, BearerAuth>>() {
            return Ok(Layer::Bearer(m.inner.clone()));
        }
        if let Ok(m) = obj.extract::<PyRef<'_, Mount>>() {
            return Ok(Layer::Mount(m.inner.clone()));
        }
        let kind = obj.get_type().name()?;
        Err(PyTypeError::new_err(format!(
            "middleware[{index}]: expected gateway_wsgi.AccessLog, Gzip, BasicAuth, BearerAuth \
             or Mount, got {kind}"
        )))
    }

    /// `app` wrapped in this middleware.
    pub(crate) fn wrap(&self, app: BoxApp) -> BoxApp {
        match self {
            Layer::AccessLog(m) => BoxApp::new(m.wrap(app)),
            Layer::Gzip(m) => BoxApp::new(m.wrap(app)),
            Layer::Basic(m) => BoxApp::new(m.wrap(app)),
            Layer::Bearer(m) => BoxApp::new(m.wrap(app)),
            Layer::Mount(m) => BoxApp::new(m.wrap(app)),
        }
    }
}

/// One line per request on standard output, written when the response is
/// over (its byte count is what went on the wire, after Gzip: put AccessLog
/// first, outermost). `format` is "combined" (Apache combined, the default),
/// "common", "json" (JSON lines), or a format of Apache directives and named
/// fields such as '%h "%r" %>s %b {duration_ms}'. Credentials and cookies
/// are never written. A bad format is a ValueError.
#[pyclass(frozen, module = "gateway_wsgi", name = "AccessLog")]
pub(crate) struct AccessLog {
    inner: access_log::AccessLog,
    format: String,
}

#[pymethods]
impl AccessLog {
    #[new]
    #[pyo3(signature = (format = "combined"))]
    fn new(format: &str) -> PyResult<Self> {
        let parsed = match format {
            "combined" => Format::combined(),
            "common" => Format::common(),
            "json" => Format::json(),
            spec => Format::parse(spec)
                .map_err(|e| PyValueError::new_err(format!("AccessLog(format={spec:?}): {e}")))?,
        };
        Ok(AccessLog {
            inner: access_log::AccessLog::new()
                .format(parsed)
                .to_writer(std::io::stdout()),
            format: format.to_owned(),
        })
    }

    fn __repr__(&self) -> String {
        format!("AccessLog(format={:?})", self.format)
    }
}

/// Compress responses with gzip when the client accepts it (Accept-Encoding
/// with q-values), streaming, with bounded memory. Skips HEAD, 204, 304,
/// ranges, bodies already encoded or smaller than `min_size` bytes, and
/// content types already compressed (images, audio, video, archives).
/// `level` is 0 to 9, else a ValueError.
#[pyclass(frozen, module = "gateway_wsgi", name = "Gzip")]
pub(crate) struct Gzip {
    inner: gzip::Gzip,
    level: u32,
    min_size: u64,
}

#[pymethods]
impl Gzip {
    #[new]
    #[pyo3(signature = (level = 6, min_size = 1024))]
    fn new(level: u32, min_size: u64) -> PyResult<Self> {
        let inner = gzip::Gzip::new()
            .level(level)
            .map_err(|e| PyValueError::new_err(format!("Gzip(level={level}): {e}")))?
            .min_size(min_size);
        Ok(Gzip {
            inner,
            level,
            min_size,
        })
    }

    fn __repr__(&self) -> String {
        format!("Gzip(level={}, min_size={})", self.level, self.min_size)
    }
}

/// `dict` or `file=`, exactly one, for the auth classes.
fn pairs(
    class: &str,
    what: &str,
    given: Option<BTreeMap<String, String>>,
    file: Option<PathBuf>,
    kind: Kind,
) -> PyResult<Vec<(String, String)>> {
    match (given, file) {
        (Some(map), None) => Ok(map.into_iter().collect()),
        (None, Some(path)) => credentials::read(&path, kind)
            .map_err(|e| PyValueError::new_err(format!("{class}(file=...): {e}"))),
        (Some(_), Some(_)) => Err(PyTypeError::new_err(format!(
            "{class}: give {what}= or file=, not both"
        ))),
        (None, None) => Err(PyTypeError::new_err(format!(
            "{class}: give {what}= (a dict) or file= (a credentials file)"
        ))),
    }
}

/// HTTP Basic authentication (RFC 7617) for every request: `users` is a
/// dict of user -> password, or `file` a credentials file of `user:password`
/// lines (blank lines and `#` comments skipped). Without good credentials
/// the answer is 401 with a `WWW-Authenticate: Basic realm=...` challenge;
/// with them the app sees REMOTE_USER and AUTH_TYPE. Passwords are kept
/// only as salted digests and compared in constant time. An empty set, a
/// ':' in a user name or a control character is a ValueError.
#[pyclass(frozen, module = "gateway_wsgi", name = "BasicAuth")]
pub(crate) struct BasicAuth {
    inner: auth::BasicAuth<Credentials>,
    realm: String,
}

#[pymethods]
impl BasicAuth {
    #[new]
    #[pyo3(signature = (users = None, *, file = None, realm = "gateway"))]
    fn new(
        users: Option<BTreeMap<String, String>>,
        file: Option<PathBuf>,
        realm: &str,
    ) -> PyResult<Self> {
        let pairs = pairs("BasicAuth", "users", users, file, Kind::Basic)?;
        let error = |e: auth::AuthError| PyValueError::new_err(format!("BasicAuth: {e}"));
        let credentials = Credentials::new(pairs).map_err(error)?;
        Ok(BasicAuth {
            inner: auth::BasicAuth::new(realm, credentials).map_err(error)?,
            realm: realm.to_owned(),
        })
    }

    fn __repr__(&self) -> String {
        format!("BasicAuth(realm={:?})", self.realm)
    }
}

/// Bearer token authentication (RFC 6750) for every request: `tokens` is a
/// dict of token -> identity, or `file` a credentials file of
/// `identity:token` lines. The identity becomes REMOTE_USER. Without a good
/// token: 401 with a `WWW-Authenticate: Bearer` challenge. A token that is
/// not RFC 6750 syntax, a duplicate or an empty set is a ValueError.
#[pyclass(frozen, module = "gateway_wsgi", name = "BearerAuth")]
pub(crate) struct BearerAuth {
    inner: auth::BearerAuth<StaticTokens>,
    realm: String,
}

#[pymethods]
impl BearerAuth {
    #[new]
    #[pyo3(signature = (tokens = None, *, file = None, realm = "gateway"))]
    fn new(
        tokens: Option<BTreeMap<String, String>>,
        file: Option<PathBuf>,
        realm: &str,
    ) -> PyResult<Self> {
        let mut pairs = pairs("BearerAuth", "tokens", tokens, file.clone(), Kind::Bearer)?;
        if file.is_some() {
            // The file says identity:token; StaticTokens takes (token, identity).
            for (identity, token) in &mut pairs {
                std::mem::swap(identity, token);
            }
        }
        let error = |e: auth::AuthError| PyValueError::new_err(format!("BearerAuth: {e}"));
        let tokens = StaticTokens::new(pairs).map_err(error)?;
        Ok(BearerAuth {
            inner: auth::BearerAuth::new(realm, tokens).map_err(error)?,
            realm: realm.to_owned(),
        })
    }

    fn __repr__(&self) -> String {
        format!("BearerAuth(realm={:?})", self.realm)
    }
}

/// Serve the app under a path prefix (gunicorn's SCRIPT_NAME, uvicorn's
/// --root-path): a request for `prefix` or below reaches the app with the
/// prefix in SCRIPT_NAME and the rest in PATH_INFO, so the framework builds
/// its URLs under the prefix; any other request is answered 404. `prefix`
/// starts with '/' ("/app"), else a ValueError.
#[pyclass(frozen, module = "gateway_wsgi", name = "Mount")]
pub(crate) struct Mount {
    inner: mount::Mount,
}

#[pymethods]
impl Mount {
    #[new]
    fn new(prefix: &str) -> PyResult<Self> {
        let inner = mount::Mount::new(prefix).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Mount { inner })
    }

    /// The prefix, without a trailing '/'.
    #[getter]
    fn prefix(&self) -> &str {
        self.inner.prefix()
    }

    fn __repr__(&self) -> String {
        format!("Mount({:?})", self.inner.prefix())
    }
}
