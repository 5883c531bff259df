//! `environ`: the request as PEP 3333 describes it, owned and typed.
//!
//! An [`Environ`] owns the request: the method, `SCRIPT_NAME` and `PATH_INFO`
//! (percent-decoded bytes: a path that is not UTF-8 round-trips exactly),
//! `QUERY_STRING`, the server and remote addresses, the URL scheme, the
//! headers (an [`http::HeaderMap`], moved in, never copied), `wsgi.input`,
//! `wsgi.errors`, extra string variables (`REMOTE_USER`, `AUTH_TYPE`, ...) and
//! typed extensions.
//!
//! The CGI view computes every variable by its PEP 3333 name on demand:
//! [`Environ::get`] and [`Environ::vars`]. Values are PEP 3333 "native
//! strings": bytes decoded as ISO-8859-1, so every byte maps to one `char` and
//! back. Header names that hold `_` are never shown as `HTTP_*`: otherwise a
//! client could send `X_Forwarded_For` and pass it off as `X-Forwarded-For`
//! (the smuggling hole nginx and gunicorn close).
//!
//! ```
//! use gateway_core::Environ;
//!
//! let request = http::Request::get("/caf%C3%A9/%FF?q=1")
//!     .header("User-Agent", "curl/8")
//!     .header("X_Smuggled", "1")
//!     .body(())
//!     .unwrap();
//! let (parts, ()) = request.into_parts();
//! let environ = Environ::from_parts(parts, Default::default());
//! assert_eq!(environ.path_info(), b"/caf\xc3\xa9/\xff");
//! assert_eq!(environ.get("QUERY_STRING").as_deref(), Some("q=1"));
//! assert_eq!(environ.get("HTTP_USER_AGENT").as_deref(), Some("curl/8"));
//! assert_eq!(environ.get("HTTP_X_SMUGGLED"), None);
//! ```

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use http::header::{self, HeaderMap, HeaderName};
use http::{Extensions, Method, Uri, Version};

use crate::{Error, ErrorStream, Input};

/// `wsgi.url_scheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UrlScheme {
    /// `http`
    #[default]
    Http,
    /// `https`
    Https,
}

impl UrlScheme {
    /// `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            UrlScheme::Http => "http",
            UrlScheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            UrlScheme::Http => 80,
            UrlScheme::Https => 443,
        }
    }
}

/// The request, as the app sees it.
pub struct Environ {
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    script_name: Vec<u8>,
    /// `None` while PATH_INFO is the URI's path as is (it had no `%`).
    path_info: Option<Vec<u8>>,
    url_scheme: UrlScheme,
    server: Option<(String, u16)>,
    local_addr: Option<SocketAddr>,
    remote_addr: Option<SocketAddr>,
    input: Input,
    errors: ErrorStream,
    vars: Vec<(Cow<'static, str>, String)>,
    extensions: Extensions,
    flags: Flags,
}

/// `wsgi.multithread`, `wsgi.multiprocess` and `wsgi.run_once`: what the
/// server tells the app about how it is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    /// `wsgi.multithread`: other threads of this process may call the app at
    /// the same time.
    pub multithread: bool,
    /// `wsgi.multiprocess`: other processes may call an equivalent app.
    pub multiprocess: bool,
    /// `wsgi.run_once`: the app is called once in this process (CGI).
    pub run_once: bool,
}

/// Many threads, one process, called many times: the tower bridge's flags.
impl Default for Flags {
    fn default() -> Self {
        Flags {
            multithread: true,
            multiprocess: false,
            run_once: false,
        }
    }
}

impl Environ {
    /// A GET of `uri` with no headers and no body (for tests and tools).
    pub fn new(method: Method, uri: Uri) -> Self {
        let (mut parts, ()) = http::Request::new(()).into_parts();
        parts.method = method;
        parts.uri = uri;
        Environ::from_parts(parts, Input::empty())
    }

    /// Take over the parts of an HTTP request: nothing is copied.
    pub fn from_parts(parts: http::request::Parts, input: Input) -> Self {
        let path_info = match percent_encoding::percent_decode(parts.uri.path().as_bytes()).into() {
            Cow::Borrowed(_) => None,
            Cow::Owned(decoded) => Some(decoded),
        };
        Environ {
            method: parts.method,
            uri: parts.uri,
            version: parts.version,
            headers: parts.headers,
            script_name: Vec::new(),
            path_info,
            url_scheme: UrlScheme::Http,
            server: None,
            local_addr: None,
            remote_addr: None,
            input,
            errors: ErrorStream::default(),
            vars: Vec::new(),
            extensions: parts.extensions,
            flags: Flags::default(),
        }
    }

    // ----- the request line -----

    /// `REQUEST_METHOD`.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request target as received.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The HTTP version (`SERVER_PROTOCOL`).
    pub fn version(&self) -> Version {
        self.version
    }

    /// `SERVER_PROTOCOL`: `HTTP/1.0`, `HTTP/1.1`, `HTTP/2` or `HTTP/3`.
    pub fn server_protocol(&self) -> &'static str {
        match self.version {
            Version::HTTP_09 => "HTTP/0.9",
            Version::HTTP_10 => "HTTP/1.0",
            Version::HTTP_2 => "HTTP/2",
            Version::HTTP_3 => "HTTP/3",
            _ => "HTTP/1.1",
        }
    }

    /// `SCRIPT_NAME`, percent-decoded: where the app is mounted (`""` at the root).
    pub fn script_name(&self) -> &[u8] {
        &self.script_name
    }

    /// `PATH_INFO`, percent-decoded bytes, exactly as the client sent them.
    pub fn path_info(&self) -> &[u8] {
        match &self.path_info {
            Some(p) => p,
            None => self.uri.path().as_bytes(),
        }
    }

    /// `PATH_INFO` as UTF-8, when it is.
    pub fn path_info_str(&self) -> Option<&str> {
        std::str::from_utf8(self.path_info()).ok()
    }

    /// `QUERY_STRING`, as received (not decoded); `""` when there is none.
    pub fn query_string(&self) -> &str {
        self.uri.query().unwrap_or("")
    }

    /// `SCRIPT_NAME` + `PATH_INFO`, percent-encoded again: the path of PEP
    /// 3333's URL reconstruction (`quote(SCRIPT_NAME) + quote(PATH_INFO)`).
    pub fn quoted_path(&self) -> String {
        let mut path = String::with_capacity(self.script_name.len() + self.path_info().len() + 1);
        quote_path(&mut path, &self.script_name);
        quote_path(&mut path, self.path_info());
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        path
    }

    /// Move the app's mount point (as a mounting middleware does), with
    /// [`Environ::set_path_info`]. PEP 3333's form is kept: `SCRIPT_NAME` is
    /// empty (the root) or starts with `/`, and is never `/` itself; so `"/"`
    /// is stored as `""` and `"app"` as `"/app"`.
    pub fn set_script_name(&mut self, script_name: impl Into<Vec<u8>>) {
        let mut script_name = script_name.into();
        if script_name == b"/" {
            script_name.clear();
        }
        self.script_name = rooted(script_name);
    }

    /// Replace `PATH_INFO`: empty, or starting with `/` (`"x"` is stored as
    /// `"/x"`).
    pub fn set_path_info(&mut self, path_info: impl Into<Vec<u8>>) {
        self.path_info = Some(rooted(path_info.into()));
    }

    // ----- headers -----

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The request headers, to change.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// `CONTENT_TYPE`.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// `CONTENT_LENGTH`, when it is a valid length (digits only).
    pub fn content_length(&self) -> Option<u64> {
        let value = self.headers.get(header::CONTENT_LENGTH)?.to_str().ok()?;
        value
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| value.parse().ok())?
    }

    // ----- the server and the client -----

    /// `wsgi.url_scheme`.
    pub fn url_scheme(&self) -> UrlScheme {
        self.url_scheme
    }

    /// Set `wsgi.url_scheme`.
    pub fn set_url_scheme(&mut self, scheme: UrlScheme) {
        self.url_scheme = scheme;
    }

    /// The address the request came in on.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// Set the address the request came in on.
    pub fn set_local_addr(&mut self, addr: Option<SocketAddr>) {
        self.local_addr = addr;
    }

    /// `REMOTE_ADDR` and `REMOTE_PORT`.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
    }

    /// Set the client's address.
    pub fn set_remote_addr(&mut self, addr: Option<SocketAddr>) {
        self.remote_addr = addr;
    }

    /// Fix `SERVER_NAME` and `SERVER_PORT` (else they come from the Host
    /// header, the request's authority, or the local address).
    pub fn set_server(&mut self, name: impl Into<String>, port: u16) {
        self.server = Some((name.into(), port));
    }

    /// `SERVER_NAME` and `SERVER_PORT`.
    pub fn server(&self) -> (Cow<'_, str>, u16) {
        if let Some((name, port)) = &self.server {
            return (Cow::Borrowed(name), *port);
        }
        let from_uri = || {
            let authority = self.uri.authority()?.as_str();
            split_authority(
                authority
                    .rsplit_once('@')
                    .map_or(authority, |(_, host)| host),
            )
        };
        let authority = self
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(split_authority)
            .or_else(from_uri);
        if let Some((host, port)) = authority {
            return (
                Cow::Borrowed(host),
                port.unwrap_or(self.url_scheme.default_port()),
            );
        }
        match self.local_addr {
            Some(addr) => (Cow::Owned(addr.ip().to_string()), addr.port()),
            None => (Cow::Borrowed("localhost"), self.url_scheme.default_port()),
        }
    }

    // ----- wsgi.* -----

    /// `wsgi.input`.
    pub fn input(&mut self) -> &mut Input {
        &mut self.input
    }

    /// Take `wsgi.input` out, leaving an empty one.
    pub fn take_input(&mut self) -> Input {
        std::mem::take(&mut self.input)
    }

    /// Replace `wsgi.input`.
    pub fn set_input(&mut self, input: Input) {
        self.input = input;
    }

    /// `wsgi.errors`.
    pub fn errors(&self) -> &ErrorStream {
        &self.errors
    }

    /// `wsgi.errors`, to write to.
    pub fn errors_mut(&mut self) -> &mut ErrorStream {
        &mut self.errors
    }

    /// Replace `wsgi.errors`.
    pub fn set_errors(&mut self, errors: ErrorStream) {
        self.errors = errors;
    }

    /// `wsgi.multithread`, `wsgi.multiprocess`, `wsgi.run_once`.
    pub fn flags(&self) -> Flags {
        self.flags
    }

    /// Set `wsgi.multithread`, `wsgi.multiprocess`, `wsgi.run_once`.
    pub fn set_flags(&mut self, flags: Flags) {
        self.flags = flags;
    }

    /// Typed values that travel with the request (a verified identity, a
    /// request id, anything a tower layer put in the request's extensions).
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// The typed extensions, to change.
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.extensions
    }

    // ----- variables by name -----

    /// A variable by its PEP 3333 / CGI name: the standard ones
    /// (`PATH_INFO`, `SERVER_NAME`, ...) computed on demand, `HTTP_*` from
    /// the headers, and the extra ones middleware set ([`Environ::set_var`]:
    /// `REMOTE_USER`, `AUTH_TYPE`, ...).
    pub fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        if let Some(v) = self.standard(name) {
            return v;
        }
        if let Some(h) = name.strip_prefix("HTTP_") {
            return self.http_var(h);
        }
        self.extra(name).map(Cow::Borrowed)
    }

    /// Set a variable by name, so that [`Environ::get`] reads it back.
    ///
    /// An extra variable (`REMOTE_USER`, `AUTH_TYPE`, `X_ANYTHING`) is
    /// stored as given. A standard one that the environ can take is set
    /// through its typed field: `SCRIPT_NAME` and `PATH_INFO` (a native
    /// string: each character one byte, U+0000 to U+00FF), `SERVER_NAME`,
    /// `SERVER_PORT`, `REMOTE_ADDR` and `REMOTE_PORT` (as a proxy-fixing
    /// middleware does). One derived from the request itself
    /// (`REQUEST_METHOD`, `QUERY_STRING`, `REQUEST_URI`, `CONTENT_TYPE`,
    /// `CONTENT_LENGTH`, `SERVER_PROTOCOL`, `HTTP_*`) is an [`Error::Var`]
    /// that says where to change it instead: never silently ignored.
    pub fn set_var(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Result<(), Error> {
        let name = name.into();
        let value = value.into();
        let refuse = |rule: &'static str| Error::Var {
            name: name.clone().into_owned(),
            rule,
        };
        if matches!(&*name, "REMOTE_ADDR" | "REMOTE_PORT") && self.set_remote_var(&name, &value) {
            return Ok(());
        }
        match &*name {
            "SCRIPT_NAME" | "PATH_INFO" => {
                let bytes = native_bytes(&value)
                    .ok_or_else(|| refuse("a path is a native string: U+0000 to U+00FF only"))?;
                if name == "SCRIPT_NAME" {
                    self.set_script_name(bytes);
                } else {
                    self.set_path_info(bytes);
                }
                return Ok(());
            }
            "SERVER_NAME" => {
                let port = self.server().1;
                self.set_server(value, port);
                return Ok(());
            }
            "SERVER_PORT" => {
                let port = value
                    .parse()
                    .map_err(|_| refuse("a port is a number from 0 to 65535"))?;
                let name = self.server().0.into_owned();
                self.set_server(name, port);
                return Ok(());
            }
            "REQUEST_METHOD" | "REQUEST_URI" | "QUERY_STRING" | "SERVER_PROTOCOL" => {
                return Err(refuse(
                    "it is derived from the request line: build the Environ from other request parts",
                ));
            }
            "CONTENT_TYPE" | "CONTENT_LENGTH" => {
                return Err(refuse(
                    "it is derived from a request header: change it with headers_mut()",
                ));
            }
            http if http.starts_with("HTTP_") => {
                return Err(refuse(
                    "HTTP_* variables are the request headers: change them with headers_mut()",
                ));
            }
            wsgi if wsgi.starts_with("wsgi.") => {
                return Err(refuse(
                    "wsgi.* values are typed: use set_url_scheme, set_input, set_errors or set_flags",
                ));
            }
            _ => {}
        }
        match self.vars.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((name, value)),
        }
        Ok(())
    }

    /// `REMOTE_ADDR` / `REMOTE_PORT` set by name while the client's socket
    /// address is known: a value that fits it (an IP, a port) changes it in
    /// place and is not stored apart; one that does not (a proxy's name for
    /// the client) ends the socket address, whose other half becomes a
    /// variable too, so that [`Environ::get`] reads back what was set.
    /// `true` when the socket address took the value.
    fn set_remote_var(&mut self, name: &str, value: &str) -> bool {
        let Some(mut addr) = self.remote_addr else {
            return false;
        };
        let fits = if name == "REMOTE_ADDR" {
            value.parse().map(|ip| addr.set_ip(ip)).is_ok()
        } else {
            value.parse().map(|port| addr.set_port(port)).is_ok()
        };
        if fits {
            self.remote_addr = Some(addr);
            return true;
        }
        self.remote_addr = None;
        let (other, kept) = if name == "REMOTE_ADDR" {
            ("REMOTE_PORT", addr.port().to_string())
        } else {
            ("REMOTE_ADDR", addr.ip().to_string())
        };
        if self.extra(other).is_none() {
            self.vars.push((Cow::Borrowed(other), kept));
        }
        false
    }

    /// Remove an extra variable (one [`Environ::set_var`] stored as given,
    /// such as `REMOTE_USER`); the standard ones cannot be removed.
    pub fn remove_var(&mut self, name: &str) -> Option<String> {
        let at = self.vars.iter().position(|(n, _)| n == name)?;
        Some(self.vars.remove(at).1)
    }

    /// An extra variable, stored by [`Environ::set_var`].
    fn extra(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every variable, by name: the CGI ones, `HTTP_*` for each header, then
    /// the extra ones.
    pub fn vars(&self) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> + '_ {
        // Every standard value at once, the server's name and port found once.
        let (server_name, server_port) = self.server();
        let values = [
            Some(Cow::Borrowed(self.method.as_str())),
            Some(latin1(self.script_name())),
            Some(latin1(self.path_info())),
            Some(Cow::Borrowed(self.query_string())),
            Some(Cow::Borrowed(self.request_uri())),
            self.content_type_var(),
            self.content_length_var(),
            Some(server_name),
            Some(Cow::Owned(decimal(server_port))),
            Some(Cow::Borrowed(self.server_protocol())),
            self.remote_addr_var(),
            self.remote_port_var(),
        ];
        let standard = STANDARD
            .into_iter()
            .zip(values)
            .filter_map(|(n, v)| Some((Cow::Borrowed(n), v?)));
        let http = self
            .headers
            .keys()
            .filter(|n| cgi_header_name(n))
            .map(move |n| (http_name(n), self.header_value(n)));
        let host = (!self.headers.contains_key(header::HOST))
            .then(|| self.uri.authority())
            .flatten()
            .map(|a| (Cow::Borrowed("HTTP_HOST"), Cow::Borrowed(a.as_str())));
        let extra = self
            .vars
            .iter()
            .filter(|(n, _)| !STANDARD.contains(&n.as_ref()) && !n.starts_with("HTTP_"))
            .map(|(n, v)| (Cow::Borrowed(n.as_ref()), Cow::Borrowed(v.as_str())));
        standard.chain(http).chain(host).chain(extra)
    }

    /// A standard variable: `Some(value)` when `name` is one, `None` if not.
    /// (The same values as [`Environ::vars`] lists, one at a time.)
    fn standard(&self, name: &str) -> Option<Option<Cow<'_, str>>> {
        let value = match name {
            "REQUEST_METHOD" => Some(Cow::Borrowed(self.method.as_str())),
            "SCRIPT_NAME" => Some(latin1(self.script_name())),
            "PATH_INFO" => Some(latin1(self.path_info())),
            "QUERY_STRING" => Some(Cow::Borrowed(self.query_string())),
            "REQUEST_URI" => Some(Cow::Borrowed(self.request_uri())),
            "CONTENT_TYPE" => self.content_type_var(),
            "CONTENT_LENGTH" => self.content_length_var(),
            "SERVER_NAME" => Some(self.server().0),
            "SERVER_PORT" => Some(Cow::Owned(decimal(self.server().1))),
            "SERVER_PROTOCOL" => Some(Cow::Borrowed(self.server_protocol())),
            "REMOTE_ADDR" => self.remote_addr_var(),
            "REMOTE_PORT" => self.remote_port_var(),
            _ => return None,
        };
        Some(value)
    }

    /// `REQUEST_URI`: the path and query as received.
    fn request_uri(&self) -> &str {
        self.uri.path_and_query().map_or("/", |p| p.as_str())
    }

    /// `CONTENT_TYPE`, when the request has one.
    fn content_type_var(&self) -> Option<Cow<'_, str>> {
        self.headers
            .get(header::CONTENT_TYPE)
            .map(|v| latin1(v.as_bytes()))
    }

    /// `CONTENT_LENGTH`, when the request has a valid one.
    fn content_length_var(&self) -> Option<Cow<'_, str>> {
        self.headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .map(Cow::Borrowed)
    }

    /// `REMOTE_ADDR`: the peer's address, else one set as an extra variable.
    fn remote_addr_var(&self) -> Option<Cow<'_, str>> {
        match self.remote_addr {
            Some(addr) => Some(Cow::Owned(ip_string(addr.ip()))),
            None => self.extra("REMOTE_ADDR").map(Cow::Borrowed),
        }
    }

    /// `REMOTE_PORT`: the peer's port, else one set as an extra variable.
    fn remote_port_var(&self) -> Option<Cow<'_, str>> {
        match self.remote_addr {
            Some(addr) => Some(Cow::Owned(decimal(addr.port()))),
            None => self.extra("REMOTE_PORT").map(Cow::Borrowed),
        }
    }

    /// `HTTP_<NAME>`: the header `name` (`_` read as `-`), values joined.
    fn http_var(&self, upper: &str) -> Option<Cow<'_, str>> {
        if upper.is_empty() || upper.bytes().any(|b| b == b'-' || b.is_ascii_lowercase()) {
            return None;
        }
        let lower: String = upper
            .chars()
            .map(|c| {
                if c == '_' {
                    '-'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        let name = HeaderName::from_bytes(lower.as_bytes()).ok()?;
        if !cgi_header_name(&name) {
            return None;
        }
        if name == header::HOST && !self.headers.contains_key(header::HOST) {
            return self.uri.authority().map(|a| Cow::Borrowed(a.as_str()));
        }
        self.headers
            .contains_key(&name)
            .then(|| self.header_value(&name))
    }

    /// All values of a header, joined as CGI does (`; ` for cookies).
    fn header_value(&self, name: &HeaderName) -> Cow<'_, str> {
        let mut values = self.headers.get_all(name).iter();
        let first = values
            .next()
            .map_or(Cow::Borrowed(""), |v| latin1(v.as_bytes()));
        let sep = if name == header::COOKIE { "; " } else { ", " };
        values.fold(first, |mut acc, v| {
            let s = acc.to_mut();
            s.push_str(sep);
            s.push_str(&latin1(v.as_bytes()));
            acc
        })
    }
}

/// A native string's bytes: each character one byte, when all are U+00FF or
/// below.
fn native_bytes(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// A path that is empty or starts with `/`.
fn rooted(mut path: Vec<u8>) -> Vec<u8> {
    if path.first().is_some_and(|&b| b != b'/') {
        path.insert(0, b'/');
    }
    path
}

/// The standard variables, in the order [`Environ::vars`] lists them.
const STANDARD: [&str; 12] = [
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
];

/// Headers shown as `HTTP_*`: not Content-Type / Content-Length (they have
/// their own variables), and none whose name holds `_`.
fn cgi_header_name(name: &HeaderName) -> bool {
    name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH && !name.as_str().contains('_')
}

/// `HTTP_<NAME>` for a header: a static name for the common ones (no
/// allocation for a typical browser request), else built.
fn http_name(name: &HeaderName) -> Cow<'static, str> {
    let known = match name.as_str() {
        "accept" => "HTTP_ACCEPT",
        "accept-charset" => "HTTP_ACCEPT_CHARSET",
        "accept-encoding" => "HTTP_ACCEPT_ENCODING",
        "accept-language" => "HTTP_ACCEPT_LANGUAGE",
        "authorization" => "HTTP_AUTHORIZATION",
        "cache-control" => "HTTP_CACHE_CONTROL",
        "connection" => "HTTP_CONNECTION",
        "cookie" => "HTTP_COOKIE",
        "dnt" => "HTTP_DNT",
        "expect" => "HTTP_EXPECT",
        "forwarded" => "HTTP_FORWARDED",
        "host" => "HTTP_HOST",
        "if-match" => "HTTP_IF_MATCH",
        "if-modified-since" => "HTTP_IF_MODIFIED_SINCE",
        "if-none-match" => "HTTP_IF_NONE_MATCH",
        "if-range" => "HTTP_IF_RANGE",
        "if-unmodified-since" => "HTTP_IF_UNMODIFIED_SINCE",
        "origin" => "HTTP_ORIGIN",
        "pragma" => "HTTP_PRAGMA",
        "priority" => "HTTP_PRIORITY",
        "range" => "HTTP_RANGE",
        "referer" => "HTTP_REFERER",
        "sec-fetch-dest" => "HTTP_SEC_FETCH_DEST",
        "sec-fetch-mode" => "HTTP_SEC_FETCH_MODE",
        "sec-fetch-site" => "HTTP_SEC_FETCH_SITE",
        "sec-fetch-user" => "HTTP_SEC_FETCH_USER",
        "upgrade-insecure-requests" => "HTTP_UPGRADE_INSECURE_REQUESTS",
        "user-agent" => "HTTP_USER_AGENT",
        "via" => "HTTP_VIA",
        "x-forwarded-for" => "HTTP_X_FORWARDED_FOR",
        "x-forwarded-host" => "HTTP_X_FORWARDED_HOST",
        "x-forwarded-proto" => "HTTP_X_FORWARDED_PROTO",
        "x-real-ip" => "HTTP_X_REAL_IP",
        "x-request-id" => "HTTP_X_REQUEST_ID",
        other => {
            let mut s = String::with_capacity(5 + other.len());
            s.push_str("HTTP_");
            s.extend(other.chars().map(|c| {
                if c == '-' {
                    '_'
                } else {
                    c.to_ascii_uppercase()
                }
            }));
            return Cow::Owned(s);
        }
    };
    Cow::Borrowed(known)
}

/// Split an authority (`host`, `host:port`, `[v6]:port`) into host and port,
/// without copying; `None` when it is not one.
fn split_authority(authority: &str) -> Option<(&str, Option<u16>)> {
    let allowed = |b: u8| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'['
                    | b']'
                    | b'%'
            )
    };
    if !authority.bytes().all(allowed) {
        return None;
    }
    let port = |p: &str| -> Option<u16> {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, rest) = v6.split_once(']')?;
            match rest {
                "" => (host, None),
                rest => (host, Some(port(rest.strip_prefix(':')?)?)),
            }
        }
        None => match authority.split_once(':') {
            Some((host, p)) => (host, Some(port(p)?)),
            None => (authority, None),
        },
    };
    (!host.is_empty()).then_some((host, port))
}

/// Bytes escaped when a decoded path goes back into a URI: controls, space,
/// and what is not a path character (`"#%<>?\\^`{|}`).
const PATH_ESCAPES: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Percent-encode a decoded path (bytes) onto `out`, as PEP 3333's URL
/// reconstruction quotes `SCRIPT_NAME` and `PATH_INFO`; `/` stays a `/`.
pub fn quote_path(out: &mut String, path: &[u8]) {
    out.extend(percent_encoding::percent_encode(path, PATH_ESCAPES));
}

/// PEP 3333's native string: bytes as ISO-8859-1, so every byte round-trips.
pub fn latin1(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) if s.is_ascii() => Cow::Borrowed(s),
        _ => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// A port in decimal (itoa: no formatting machinery).
fn decimal(n: u16) -> String {
    itoa::Buffer::new().format(n).to_owned()
}

/// An IP address as CGI writes it: dotted IPv4 built by hand (it is in every
/// environ), IPv6 by its `Display`.
fn ip_string(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let mut s = String::with_capacity(15);
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    s.push('.');
                }
                s.push_str(itoa::Buffer::new().format(octet));
            }
            s
        }
        IpAddr::V6(v6) => v6.to_string(),
    }
}

impl fmt::Debug for Environ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environ")
            .field("method", &self.method)
            .field("script_name", &latin1(self.script_name()))
            .field("path_info", &latin1(self.path_info()))
            .field("query_string", &self.query_string())
            .field("version", &self.version)
            .field("remote_addr", &self.remote_addr)
            .field("headers", &self.headers.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environ(req: http::Request<()>) -> Environ {
        Environ::from_parts(req.into_parts().0, Input::empty())
    }

    #[test]
    fn path_info_is_decoded_and_non_utf8_round_trips() {
        let e = environ(
            http::Request::get("/a%20b/%FF%00/%2F?x=%20")
                .body(())
                .unwrap(),
        );
        assert_eq!(e.path_info(), b"/a b/\xff\x00//");
        assert_eq!(e.path_info_str(), None);
        // The native string maps each byte to one char and back.
        let native = e.get("PATH_INFO").unwrap();
        let back: Vec<u8> = native.chars().map(|c| c as u32 as u8).collect();
        assert_eq!(back, e.path_info());
        assert_eq!(e.query_string(), "x=%20");
        assert_eq!(
            e.get("REQUEST_URI").as_deref(),
            Some("/a%20b/%FF%00/%2F?x=%20")
        );
    }

    #[test]
    fn quoted_path_round_trips_any_bytes() {
        let mut e = environ(http::Request::get("/a%20b/%FF%3F%25/%2F").body(()).unwrap());
        e.set_script_name(b"/mount point".to_vec());
        let quoted = e.quoted_path();
        assert_eq!(quoted, "/mount%20point/a%20b/%FF%3F%25//");
        let back: Vec<u8> = percent_encoding::percent_decode_str(&quoted).collect();
        assert_eq!(back, [e.script_name(), e.path_info()].concat());
        assert!(quoted.parse::<http::uri::PathAndQuery>().is_ok());
    }

    #[test]
    fn plain_path_is_not_copied() {
        let e = environ(http::Request::get("/plain/path").body(()).unwrap());
        assert!(e.path_info.is_none());
        assert_eq!(e.path_info(), b"/plain/path");
    }

    #[test]
    fn headers_with_underscores_are_not_http_vars() {
        let e = environ(
            http::Request::get("/")
                .header("X-Forwarded-For", "1.1.1.1")
                .header("X_Forwarded_For", "6.6.6.6")
                .body(())
                .unwrap(),
        );
        assert_eq!(e.get("HTTP_X_FORWARDED_FOR").as_deref(), Some("1.1.1.1"));
        let all: Vec<_> = e.vars().filter(|(n, _)| n.starts_with("HTTP_")).collect();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].1, "1.1.1.1");
    }

    #[test]
    fn repeated_headers_are_joined() {
        let e = environ(
            http::Request::get("/")
                .header("Accept", "a")
                .header("Accept", "b")
                .header("Cookie", "x=1")
                .header("Cookie", "y=2")
                .body(())
                .unwrap(),
        );
        assert_eq!(e.get("HTTP_ACCEPT").as_deref(), Some("a, b"));
        assert_eq!(e.get("HTTP_COOKIE").as_deref(), Some("x=1; y=2"));
    }

    #[test]
    fn content_headers_have_their_own_vars() {
        let e = environ(
            http::Request::post("/")
                .header("Content-Type", "text/plain")
                .header("Content-Length", "5")
                .body(())
                .unwrap(),
        );
        assert_eq!(e.get("CONTENT_TYPE").as_deref(), Some("text/plain"));
        assert_eq!(e.get("CONTENT_LENGTH").as_deref(), Some("5"));
        assert_eq!(e.get("HTTP_CONTENT_TYPE"), None);
        assert!(e.vars().all(|(n, _)| n != "HTTP_CONTENT_LENGTH"));
    }

    #[test]
    fn server_name_and_port_come_from_host_then_local_addr() {
        let mut e = environ(
            http::Request::get("/")
                .header("Host", "example.com:8080")
                .body(())
                .unwrap(),
        );
        assert_eq!(e.server(), (Cow::Borrowed("example.com"), 8080));
        e.headers_mut().remove(header::HOST);
        e.set_local_addr(Some("127.0.0.1:9000".parse().unwrap()));
        assert_eq!(e.server(), (Cow::Borrowed("127.0.0.1"), 9000));
        let h2 = environ(http::Request::get("https://h2.example/").body(()).unwrap());
        assert_eq!(h2.get("HTTP_HOST").as_deref(), Some("h2.example"));
        assert_eq!(h2.get("SERVER_NAME").as_deref(), Some("h2.example"));
    }

    #[test]
    fn script_name_and_path_info_keep_the_pep_form() {
        let mut e = environ(http::Request::get("/").body(()).unwrap());
        e.set_script_name("/");
        assert_eq!(e.script_name(), b"");
        e.set_script_name("app");
        assert_eq!(e.script_name(), b"/app");
        e.set_path_info("x/y");
        assert_eq!(e.path_info(), b"/x/y");
        e.set_path_info("");
        assert_eq!(e.path_info(), b"");
    }

    #[test]
    fn an_invalid_content_length_is_not_shown() {
        for bad in ["abc", "-1", "+1", ""] {
            let e = environ(
                http::Request::post("/")
                    .header("Content-Length", bad)
                    .body(())
                    .unwrap(),
            );
            assert_eq!(e.get("CONTENT_LENGTH"), None, "{bad:?}");
            assert_eq!(e.content_length(), None, "{bad:?}");
        }
    }

    #[test]
    fn server_name_from_odd_hosts() {
        let host = |h: &str| {
            let e = environ(http::Request::get("/").header("Host", h).body(()).unwrap());
            let (name, port) = e.server();
            (name.into_owned(), port)
        };
        assert_eq!(host("[::1]:8443"), ("::1".to_owned(), 8443));
        assert_eq!(host("[::1]"), ("::1".to_owned(), 80));
        assert_eq!(host("example.com"), ("example.com".to_owned(), 80));
        // not an authority: the local address, else localhost
        for bad in ["a b", "host:x", "host:99999", "", "user@host", "[::1"] {
            assert_eq!(host(bad), ("localhost".to_owned(), 80), "{bad:?}");
        }
        let e = environ(
            http::Request::get("http://u:p@h.example:81/")
                .body(())
                .unwrap(),
        );
        assert_eq!(e.server(), (Cow::Borrowed("h.example"), 81));
    }

    #[test]
    fn the_static_http_names_are_the_computed_ones() {
        for name in [
            "accept",
            "accept-charset",
            "accept-encoding",
            "accept-language",
            "authorization",
            "cache-control",
            "connection",
            "cookie",
            "dnt",
            "expect",
            "forwarded",
            "host",
            "if-match",
            "if-modified-since",
            "if-none-match",
            "if-range",
            "if-unmodified-since",
            "origin",
            "pragma",
            "priority",
            "range",
            "referer",
            "sec-fetch-dest",
            "sec-fetch-mode",
            "sec-fetch-site",
            "sec-fetch-user",
            "upgrade-insecure-requests",
            "user-agent",
            "via",
            "x-forwarded-for",
            "x-forwarded-host",
            "x-forwarded-proto",
            "x-real-ip",
            "x-request-id",
        ] {
            let computed = format!("HTTP_{}", name.to_ascii_uppercase().replace('-', "_"));
            let name = HeaderName::from_static(name);
            assert!(matches!(http_name(&name), Cow::Borrowed(_)), "{name}");
            assert_eq!(http_name(&name), computed);
        }
    }

    #[test]
    fn every_header_has_its_http_name() {
        let e = environ(
            http::Request::get("/")
                .header("User-Agent", "a")
                .header("X-Custom-Thing", "b")
                .header("Sec-Fetch-Mode", "c")
                .body(())
                .unwrap(),
        );
        let names: Vec<_> = e
            .vars()
            .map(|(k, _)| k.into_owned())
            .filter(|k| k.starts_with("HTTP_"))
            .collect();
        assert_eq!(
            names,
            [
                "HTTP_USER_AGENT",
                "HTTP_X_CUSTOM_THING",
                "HTTP_SEC_FETCH_MODE"
            ]
        );
    }

    #[test]
    fn protocol_names() {
        let mut req = http::Request::get("/").body(()).unwrap();
        *req.version_mut() = Version::HTTP_2;
        assert_eq!(
            environ(req).get("SERVER_PROTOCOL").as_deref(),
            Some("HTTP/2")
        );
    }

    #[test]
    fn extra_vars_are_set_replaced_and_listed() {
        let mut e = environ(http::Request::get("/").body(()).unwrap());
        e.set_var("REMOTE_USER", "alice").unwrap();
        e.set_var("REMOTE_USER", "bob").unwrap();
        assert_eq!(e.get("REMOTE_USER").as_deref(), Some("bob"));
        assert_eq!(e.vars().filter(|(n, _)| n == "REMOTE_USER").count(), 1);
        assert_eq!(e.remove_var("REMOTE_USER").as_deref(), Some("bob"));
        assert_eq!(e.get("REMOTE_USER"), None);
    }

    #[test]
    fn a_remote_addr_that_is_no_ip_replaces_the_socket_address() {
        let mut e = environ(http::Request::get("/").body(()).unwrap());
        e.remote_addr = Some("10.0.0.1:5000".parse().unwrap());
        e.set_var("REMOTE_ADDR", "client.example").unwrap();
        assert_eq!(e.remote_addr(), None);
        assert_eq!(e.get("REMOTE_ADDR").as_deref(), Some("client.example"));
        assert_eq!(e.get("REMOTE_PORT").as_deref(), Some("5000"));
        assert_eq!(e.vars().filter(|(n, _)| n == "REMOTE_ADDR").count(), 1);
    }

    #[test]
    fn set_var_on_a_standard_name_works_or_is_an_error() {
        let mut e = environ(
            http::Request::get("http://example.com:8080/a?q=1")
                .body(())
                .unwrap(),
        );
        e.remote_addr = Some("10.0.0.1:5000".parse().unwrap());
        e.set_var("SCRIPT_NAME", "/mnt").unwrap();
        e.set_var("PATH_INFO", "/caf\u{e9}").unwrap();
        e.set_var("SERVER_NAME", "internal").unwrap();
        e.set_var("SERVER_PORT", "9000").unwrap();
        e.set_var("REMOTE_ADDR", "203.0.113.7").unwrap();
        assert_eq!(e.script_name(), b"/mnt");
        assert_eq!(e.path_info(), b"/caf\xe9");
        assert_eq!(e.get("PATH_INFO").as_deref(), Some("/caf\u{e9}"));
        assert_eq!(e.get("SERVER_NAME").as_deref(), Some("internal"));
        assert_eq!(e.get("SERVER_PORT").as_deref(), Some("9000"));
        assert_eq!(e.get("REMOTE_ADDR").as_deref(), Some("203.0.113.7"));
        assert_eq!(e.get("REMOTE_PORT").as_deref(), Some("5000"));
        for name in [
            "REQUEST_METHOD",
            "QUERY_STRING",
            "REQUEST_URI",
            "CONTENT_TYPE",
            "CONTENT_LENGTH",
            "SERVER_PROTOCOL",
            "HTTP_HOST",
            "wsgi.url_scheme",
        ] {
            let err = e.set_var(name, "x").unwrap_err();
            assert!(
                matches!(&err, Error::Var { name: n, .. } if n == name),
                "{err}"
            );
        }
        assert!(e.set_var("PATH_INFO", "/\u{263a}").is_err());
        assert!(e.set_var("SERVER_PORT", "http").is_err());
        assert_eq!(e.get("QUERY_STRING").as_deref(), Some("q=1"));
        assert_eq!(e.get("PATH_INFO").as_deref(), Some("/caf\u{e9}"));
    }

    #[test]
    fn http_lookup_rejects_odd_names() {
        let e = environ(http::Request::get("/").header("x-a", "1").body(()).unwrap());
        assert_eq!(e.get("HTTP_X_A").as_deref(), Some("1"));
        assert_eq!(e.get("HTTP_x_a"), None);
        assert_eq!(e.get("HTTP_X-A"), None);
        assert_eq!(e.get("HTTP_"), None);
    }
}
