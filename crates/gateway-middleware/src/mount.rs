//! Mounting an app under a path prefix: [`Mount`] (gunicorn's and
//! uvicorn's `--root-path`, werkzeug's `DispatcherMiddleware` for one app).
//!
//! A request whose `PATH_INFO` is the prefix or lies under it (`/app`,
//! `/app/`, `/app/x` for the prefix `/app`; not `/application`) reaches the
//! inner app with the prefix moved from `PATH_INFO` to the end of
//! `SCRIPT_NAME` (PEP 3333's split: `SCRIPT_NAME` says where the app is
//! mounted, `PATH_INFO` what is asked of it, so a framework builds its URLs
//! under the prefix). Any other request is answered `404 Not Found` by the
//! middleware itself. The match is on the percent-decoded path, segment by
//! segment, case-sensitive, as the app would route it.
//!
//! ```
//! use gateway_core::{testing::Client, Body, Environ, Error, Middleware, StartResponse};
//! use gateway_middleware::mount::Mount;
//!
//! let app = |environ: Environ, sr: StartResponse| -> Result<Body, Error> {
//!     let script = String::from_utf8_lossy(environ.script_name()).into_owned();
//!     let path = String::from_utf8_lossy(environ.path_info()).into_owned();
//!     sr.start("200 OK", [("Content-Type", "text/plain")])?;
//!     Ok(Body::from(format!("{script} {path}")))
//! };
//! let client = Client::new(Mount::new("/app")?.wrap(app));
//! assert_eq!(client.get("/app/users/1").send().text(), "/app /users/1");
//! assert_eq!(client.get("/app").send().text(), "/app ");
//! assert_eq!(client.get("/application").send().status, 404);
//! # Ok::<(), gateway_middleware::mount::MountError>(())
//! ```

use std::sync::Arc;

use gateway_core::{App, Body, Environ, Error, Middleware, StartResponse};

/// Why a [`Mount`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MountError {
    /// The prefix is not a decoded path such as `/app` or `/a/b`.
    #[error(
        "invalid mount prefix {prefix:?}: give a decoded path that starts with '/', such as \
         \"/app\", with no empty, '.' or '..' segment and no control character"
    )]
    InvalidPrefix {
        /// The prefix as given.
        prefix: String,
    },
}

/// The mounting middleware: the inner app lives under a path prefix.
#[derive(Debug, Clone)]
pub struct Mount {
    /// The prefix without a trailing `/` (never empty: `/` mounts nothing).
    prefix: Arc<[u8]>,
}

impl Mount {
    /// Mount under `prefix` (`/app`; a trailing `/` is dropped). `/` alone
    /// is the root: every request passes unchanged. Refuses a prefix that
    /// does not start with `/`, has an empty, `.` or `..` segment, or holds
    /// a control character.
    pub fn new(prefix: &str) -> Result<Self, MountError> {
        let invalid = || MountError::InvalidPrefix {
            prefix: prefix.to_owned(),
        };
        let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
        if !prefix.starts_with('/') || prefix.chars().any(char::is_control) {
            return Err(invalid());
        }
        if !trimmed.is_empty()
            && trimmed[1..]
                .split('/')
                .any(|segment| matches!(segment, "" | "." | ".."))
        {
            return Err(invalid());
        }
        Ok(Mount {
            prefix: trimmed.as_bytes().into(),
        })
    }

    /// The prefix, without a trailing `/` (empty for the root).
    pub fn prefix(&self) -> &str {
        // Built from a `&str`, so always UTF-8.
        std::str::from_utf8(&self.prefix).unwrap_or_default()
    }
}

impl<A: App> Middleware<A> for Mount {
    type App = MountApp<A>;

    fn wrap(&self, app: A) -> Self::App {
        MountApp {
            app,
            prefix: self.prefix.clone(),
        }
    }
}

/// The app [`Mount`] makes around an inner app.
#[derive(Debug, Clone)]
pub struct MountApp<A> {
    app: A,
    prefix: Arc<[u8]>,
}

impl<A: App> App for MountApp<A> {
    fn call(&self, mut environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
        let rest = match environ.path_info().strip_prefix(&*self.prefix) {
            Some(rest) if rest.is_empty() || rest.starts_with(b"/") => rest.to_vec(),
            _ => {
                start_response.start(
                    "404 Not Found",
                    [("Content-Type", "text/plain; charset=utf-8")],
                )?;
                return Ok(Body::from("Not Found\n"));
            }
        };
        if !self.prefix.is_empty() {
            let mut script = environ.script_name().to_vec();
            script.extend_from_slice(&self.prefix);
            environ.set_script_name(script);
            environ.set_path_info(rest);
        }
        self.app.call(environ, start_response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::testing::Client;

    fn echo(environ: Environ, sr: StartResponse) -> Result<Body, Error> {
        let script = String::from_utf8_lossy(environ.script_name()).into_owned();
        let path = String::from_utf8_lossy(environ.path_info()).into_owned();
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        Ok(Body::from(format!("[{script}] [{path}]")))
    }

    type Echo = fn(Environ, StartResponse) -> Result<Body, Error>;

    fn client(prefix: &str) -> Client<MountApp<Echo>> {
        Client::new(Mount::new(prefix).unwrap().wrap(echo as Echo))
    }

    #[test]
    fn splits_the_prefix_into_script_name() {
        let c = client("/app");
        assert_eq!(c.get("/app/x/y?q=1").send().text(), "[/app] [/x/y]");
        assert_eq!(c.get("/app/").send().text(), "[/app] [/]");
        assert_eq!(c.get("/app").send().text(), "[/app] []");
    }

    #[test]
    fn a_trailing_slash_on_the_prefix_is_dropped() {
        let c = client("/a/b/");
        assert_eq!(c.get("/a/b/c").send().text(), "[/a/b] [/c]");
    }

    #[test]
    fn outside_the_prefix_is_404_without_the_app() {
        let c = client("/app");
        for path in ["/", "/application", "/ap", "/other/app", "/APP/x"] {
            let r = c.get(path).send();
            assert_eq!(r.status, 404, "{path}");
            assert_eq!(r.text(), "Not Found\n");
        }
    }

    #[test]
    fn matches_the_decoded_path() {
        let c = client("/caf\u{e9}");
        assert_eq!(c.get("/caf%C3%A9/x").send().text(), "[/caf\u{e9}] [/x]");
    }

    #[test]
    fn the_root_mounts_nothing() {
        let c = client("/");
        assert_eq!(c.get("/x").send().text(), "[] [/x]");
        assert_eq!(Mount::new("/").unwrap().prefix(), "");
    }

    #[test]
    fn refuses_bad_prefixes() {
        for bad in ["", "app", "/a//b", "/a/./b", "/a/../b", "/a\nb", "//"] {
            assert!(
                matches!(Mount::new(bad), Err(MountError::InvalidPrefix { .. })),
                "{bad:?}"
            );
        }
        let msg = Mount::new("app").unwrap_err().to_string();
        assert!(msg.contains("\"app\""), "{msg}");
    }
}
