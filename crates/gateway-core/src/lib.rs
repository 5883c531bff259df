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
//! | `wsgi.errors` | [`ErrorStream`] (`Write`, to the log) |
//! | `start_response(status, headers, exc_info)` | [`StartResponse::start`], [`StartResponse::start_with_error`] |
//! | `write(data)` | [`Writer::write`] |
//! | the returned iterable, `close()` | [`Body`]; dropping it |
//! | `wsgi.file_wrapper` | [`Body::file`], [`Body::reader`] |
//! | middleware | [`Middleware`], [`middleware_fn`], [`StartResponse::on_head`] / [`StartResponse::on_finish`], [`Intercept`] |
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
pub mod environ;
mod error;
pub mod error_stream;
pub mod handler;
pub mod head;
mod input;
pub mod intercept;
pub mod middleware;
pub mod outcome;
pub mod start_response;
pub mod testing;

pub use app::{App, BoxApp};
pub use body::{Body, DEFAULT_BLOCK_SIZE};
pub use environ::{Environ, Flags, UrlScheme, latin1, quote_path};
pub use error::{BoxError, Error};
pub use error_stream::{ErrorStream, RequestLine};
pub use handler::{Handled, Handler, Output};
pub use head::{Head, IntoHeaderName, IntoHeaderValue, IntoHeaders, IntoStatus, is_hop_by_hop};
pub use input::Input;
pub use intercept::{BodyInfo, Intercept};
pub use middleware::{
    Chain, Either, FromFn, FromFnApp, Identity, Middleware, Next, Optional, Stack, middleware_fn,
};
pub use outcome::{End, Outcome, RemoteUser};
pub use start_response::{StartResponse, Writer};

/// The PEP 3333 version this crate implements: `wsgi.version`.
pub const WSGI_VERSION: (u32, u32) = (1, 0);
