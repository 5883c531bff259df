//! PEP 3333 (WSGI) in Rust: the protocol between a server and an app.
//!
//! An **app** takes an [`Environ`] (the request, in the shape of CGI
//! variables) and a [`StartResponse`] (how it sets the status and headers),
//! and returns a [`Body`] (an iterator of byte chunks). A **middleware** wraps
//! an app in another app ([`Middleware`], stacked with [`Stack`]). The
//! **[`Handler`]** runs an app by the rules of the PEP and yields the final
//! head and the body chunks for a server to write; [`cgi`] is such a server,
//! over a process's environment, stdin and stdout; `gateway-tower` is another,
//! over hyper.
//!
//! | PEP 3333 | here |
//! |---|---|
//! | `application(environ, start_response)` | [`App::call`], any `Fn(Environ, StartResponse) -> Result<Body, Error>` |
//! | `environ` dict | [`Environ`]; by CGI name through [`Environ::get`] / [`Environ::vars`] |
//! | `wsgi.input` | [`Input`] (`Read` + `BufRead`) |
//! | `wsgi.errors` | [`Errors`] (`Write`, to the log) |
//! | `start_response(status, headers, exc_info)` | [`StartResponse::start`], [`StartResponse::start_with_error`] |
//! | `write(data)` | [`Writer::write`] |
//! | the returned iterable, `close()` | [`Body`]; dropping it |
//! | `wsgi.file_wrapper` | [`Body::file`], [`Body::reader`] |
//! | middleware | [`Middleware`], [`middleware_fn`], [`Intercept`] |
//! | the server's `BaseHandler` | [`Handler`] |
//!
//! gateway-core has no async runtime, tower or hyper dependency: it is the
//! protocol, as wsgiref is.
//!
//! ```
//! use gateway_core::{testing::Client, Body, Environ, Error, StartResponse};
//!
//! fn hello(_: Environ, start_response: StartResponse) -> Result<Body, Error> {
//!     start_response.start("200 OK", [("Content-Type", "text/plain; charset=utf-8")])?;
//!     Ok(Body::from("Hello, World!"))
//! }
//!
//! let response = Client::new(hello).get("/").send();
//! assert_eq!(response.status, 200);
//! assert_eq!(response.text(), "Hello, World!");
//! ```

mod app;
mod body;
pub mod cgi;
mod environ;
mod error;
mod errors;
mod handler;
mod head;
mod input;
mod intercept;
mod middleware;
mod start_response;
pub mod testing;

pub use app::{App, BoxApp};
pub use body::{Body, DEFAULT_BLOCK_SIZE};
pub use environ::{Environ, UrlScheme, latin1, quote_path};
pub use error::{BoxError, Error};
pub use errors::Errors;
pub use handler::{Handler, Output, Response};
pub use head::{Head, IntoHeaderName, IntoHeaderValue, IntoHeaders, IntoStatus, is_hop_by_hop};
pub use input::Input;
pub use intercept::{End, Intercept, Outcome, concat};
pub use middleware::{
    Chain, Either, FromFn, FromFnApp, Identity, Middleware, Next, Optional, Stack, middleware_fn,
};
pub use start_response::{StartResponse, Writer};

/// The PEP 3333 version this crate implements: `wsgi.version`.
pub const WSGI_VERSION: (u32, u32) = (1, 0);
