//! A test client for apps, as Werkzeug's `Client`: build a request, run it
//! through the [`Handler`] with every check on, and read the status, headers
//! and body. No socket, no runtime.
//!
//! ```
//! use gateway_core::{testing::Client, Body, Environ, Error, StartResponse};
//!
//! let app = |environ: Environ, sr: StartResponse| -> Result<Body, Error> {
//!     sr.start("200 OK", [("Content-Type", "text/plain")])?;
//!     Ok(Body::from(format!("you asked for {}", environ.path_info_str().unwrap_or("?"))))
//! };
//! let response = Client::new(app).get("/hello").header("Accept", "text/plain").send();
//! assert_eq!(response.status, 200);
//! assert_eq!(response.header("content-length"), Some("20"));
//! assert_eq!(response.text(), "you asked for /hello");
//! ```

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue, TRANSFER_ENCODING};
use http::{Method, StatusCode, Uri, Version};

use crate::{App, Environ, Error, ErrorStream, Handled, Handler, Input};

/// Runs requests against an app.
#[derive(Debug)]
pub struct Client<A> {
    app: A,
    handler: Handler,
}

impl<A: App> Client<A> {
    /// A client for `app`.
    pub fn new(app: A) -> Self {
        Client {
            app,
            handler: Handler::new(),
        }
    }

    /// The app under test.
    pub fn app(&self) -> &A {
        &self.app
    }

    /// A request with any method.
    pub fn request(&self, method: Method, uri: &str) -> TestRequest<'_, A> {
        TestRequest {
            client: self,
            method,
            uri: uri.to_owned(),
            version: Version::HTTP_11,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            chunked: false,
            remote_addr: Some(SocketAddr::from(([127, 0, 0, 1], 50000))),
            errors: None,
        }
    }

    /// A `GET`.
    pub fn get(&self, uri: &str) -> TestRequest<'_, A> {
        self.request(Method::GET, uri)
    }

    /// A `HEAD`.
    pub fn head(&self, uri: &str) -> TestRequest<'_, A> {
        self.request(Method::HEAD, uri)
    }

    /// A `POST`.
    pub fn post(&self, uri: &str) -> TestRequest<'_, A> {
        self.request(Method::POST, uri)
    }
}

/// A request being built; [`TestRequest::send`] runs it.
#[derive(Debug)]
pub struct TestRequest<'a, A> {
    client: &'a Client<A>,
    method: Method,
    uri: String,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
    chunked: bool,
    remote_addr: Option<SocketAddr>,
    errors: Option<ErrorStream>,
}

impl<A: App> TestRequest<'_, A> {
    /// Add a request header. Panics on an invalid name or value: this is test code.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
        let value = HeaderValue::from_str(value).expect("a valid header value");
        self.headers.append(name, value);
        self
    }

    /// The request body (sent with a `Content-Length`).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Send the body as if it were chunked: no `Content-Length`, EOF-terminated.
    pub fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }

    /// The HTTP version of the request.
    pub fn version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// Where `wsgi.errors` writes go.
    pub fn errors(mut self, errors: ErrorStream) -> Self {
        self.errors = Some(errors);
        self
    }

    /// The environ this request makes.
    pub fn environ(mut self) -> Environ {
        let uri: Uri = self.uri.parse().expect("a valid request target");
        let (mut parts, ()) = http::Request::new(()).into_parts();
        parts.method = self.method;
        parts.uri = uri;
        parts.version = self.version;
        let input = if self.chunked {
            self.headers
                .insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
            Input::from_reader(std::io::Cursor::new(self.body), None)
        } else {
            if !self.body.is_empty() {
                self.headers
                    .insert(CONTENT_LENGTH, HeaderValue::from(self.body.len()));
            }
            Input::from_bytes(self.body)
        };
        parts.headers = self.headers;
        let mut environ = Environ::from_parts(parts, input);
        environ.set_remote_addr(self.remote_addr);
        environ.set_local_addr(Some(SocketAddr::from(([127, 0, 0, 1], 80))));
        if let Some(errors) = self.errors {
            environ.set_errors(errors);
        }
        environ
    }

    /// Run the request and keep the Handler's streaming response.
    pub fn run(self) -> Handled {
        let client = self.client;
        client.handler.run(&client.app, self.environ())
    }

    /// Run the request and read the whole response.
    pub fn send(self) -> TestResponse {
        let response = self.run();
        let mut headers = response.head.headers.clone();
        if let Some(len) = response.body.content_length() {
            headers
                .entry(CONTENT_LENGTH)
                .or_insert_with(|| HeaderValue::from(len));
        }
        let status = response.head.status;
        let reason = response.head.reason().to_owned();
        let mut body = Vec::new();
        let mut chunks = Vec::new();
        let mut aborted = None;
        for chunk in response.body {
            match chunk {
                Ok(c) => {
                    body.extend_from_slice(&c);
                    chunks.push(c);
                }
                Err(e) => aborted = Some(e),
            }
        }
        TestResponse {
            status,
            reason,
            headers,
            body: body.into(),
            chunks,
            aborted,
        }
    }
}

/// A whole response, as a client would have seen it.
#[derive(Debug)]
pub struct TestResponse {
    /// The status code.
    pub status: StatusCode,
    /// The reason phrase.
    pub reason: String,
    /// The headers, with the `Content-Length` the server would send.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The body as it came, chunk by chunk.
    pub chunks: Vec<Bytes>,
    /// Set when the response was aborted after the head (the server would
    /// close the connection).
    pub aborted: Option<Error>,
}

impl TestResponse {
    /// A header, as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}
