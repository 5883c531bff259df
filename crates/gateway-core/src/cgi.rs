//! Run an app as a CGI/1.1 script (RFC 3875): the seed's `origin_server =
//! False` branch, and wsgiref's `CGIHandler`.
//!
//! The environ comes from the CGI meta-variables of the process environment
//! (only those: `PATH` and `HOME` are not the request's business), the input
//! from stdin, never past `CONTENT_LENGTH`, and the response goes to stdout as
//! a `Status:` line, the headers, a blank line and the body, flushed chunk by
//! chunk so streams arrive as they are made.
//!
//! ```no_run
//! use gateway_core::{cgi, Body, Environ, Error, StartResponse};
//!
//! fn main() -> std::io::Result<()> {
//!     cgi::run(&|_: Environ, sr: StartResponse| -> Result<Body, Error> {
//!         sr.start("200 OK", [("Content-Type", "text/plain")])?;
//!         Ok(Body::from("Hello from CGI"))
//!     })
//! }
//! ```

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Method, Uri, Version};
use percent_encoding::{AsciiSet, CONTROLS, percent_encode};

use crate::quote_path;

use crate::{App, Environ, ErrorStream, Handler, Input, UrlScheme};

/// The CGI meta-variables (RFC 3875 §4.1, and the common extensions) taken
/// into the environ; `HTTP_*` are taken as headers.
const META: [&str; 22] = [
    "AUTH_TYPE",
    "CONTENT_LENGTH",
    "CONTENT_TYPE",
    "DOCUMENT_ROOT",
    "GATEWAY_INTERFACE",
    "HTTPS",
    "PATH_INFO",
    "PATH_TRANSLATED",
    "QUERY_STRING",
    "REMOTE_ADDR",
    "REMOTE_HOST",
    "REMOTE_IDENT",
    "REMOTE_PORT",
    "REMOTE_USER",
    "REQUEST_METHOD",
    "REQUEST_URI",
    "SCRIPT_FILENAME",
    "SCRIPT_NAME",
    "SERVER_ADDR",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
];

/// Bytes a raw `QUERY_STRING` cannot hold in a URI (`%` stays: it is
/// already percent-encoded).
const QUERY_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Run `app` for the request described by this process's environment, stdin
/// and stdout; `wsgi.errors` is stderr, the CGI server's error log (as in
/// wsgiref's `CGIHandler`).
pub fn run<A: App + ?Sized>(app: &A) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let stderr = ErrorStream::to_fn(|line| {
        let _ = writeln!(io::stderr().lock(), "{line}");
    });
    serve(
        app,
        std::env::vars_os(),
        io::stdin(),
        &mut out,
        Some(stderr),
    )
}

/// Run `app` for the request described by `vars`, reading `stdin` and writing
/// the CGI response to `stdout`.
pub fn run_with<A: App + ?Sized>(
    app: &A,
    vars: impl IntoIterator<Item = (OsString, OsString)>,
    stdin: impl Read + Send + 'static,
    stdout: &mut impl Write,
) -> io::Result<()> {
    serve(app, vars, stdin, stdout, None)
}

fn serve<A: App + ?Sized>(
    app: &A,
    vars: impl IntoIterator<Item = (OsString, OsString)>,
    stdin: impl Read + Send + 'static,
    stdout: &mut impl Write,
    errors: Option<ErrorStream>,
) -> io::Result<()> {
    let mut environ = match environ_from_vars(vars, stdin) {
        Ok(environ) => environ,
        Err(why) => {
            write!(
                stdout,
                "Status: 400 Bad Request\r\nContent-Type: text/plain\r\n\r\n{why}\n"
            )?;
            return stdout.flush();
        }
    };
    if let Some(errors) = errors {
        environ.set_errors(errors);
    }
    let response = Handler::new().run(app, environ);
    let head = &response.head;
    write!(
        stdout,
        "Status: {} {}\r\n",
        head.status.as_str(),
        head.reason()
    )?;
    for (name, value) in &head.headers {
        stdout.write_all(name.as_str().as_bytes())?;
        stdout.write_all(b": ")?;
        stdout.write_all(value.as_bytes())?;
        stdout.write_all(b"\r\n")?;
    }
    if let Some(len) = response
        .body
        .content_length()
        .filter(|_| !head.headers.contains_key(CONTENT_LENGTH))
    {
        write!(stdout, "Content-Length: {len}\r\n")?;
    }
    stdout.write_all(b"\r\n")?;
    stdout.flush()?;
    for chunk in response.body {
        match chunk {
            Ok(bytes) => {
                stdout.write_all(&bytes)?;
                stdout.flush()?;
            }
            Err(e) => return Err(io::Error::other(e)),
        }
    }
    Ok(())
}

/// Build the environ of a CGI request.
pub fn environ_from_vars(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
    stdin: impl Read + Send + 'static,
) -> Result<Environ, String> {
    let mut meta: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, value) in vars {
        let Some(name) = name.to_str() else { continue };
        if META.contains(&name) || name.starts_with("HTTP_") {
            meta.push((name.to_owned(), os_bytes(value)));
        }
    }
    let get = |n: &str| meta.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_slice());
    let text = |n: &str| get(n).map(|v| String::from_utf8_lossy(v).into_owned());

    let method = Method::from_bytes(get("REQUEST_METHOD").unwrap_or(b"GET"))
        .map_err(|_| "REQUEST_METHOD is not a valid method".to_owned())?;
    let script_name = get("SCRIPT_NAME").unwrap_or(b"").to_vec();
    let path_info = get("PATH_INFO").unwrap_or(b"").to_vec();
    let query = text("QUERY_STRING").unwrap_or_default();
    let mut target = String::new();
    quote_path(&mut target, &script_name);
    quote_path(&mut target, &path_info);
    if !target.starts_with('/') {
        target.insert(0, '/');
    }
    if !query.is_empty() {
        target.push('?');
        // QUERY_STRING is still encoded: escape only what a URI cannot hold.
        target.extend(percent_encode(query.as_bytes(), QUERY_ESCAPES));
    }
    let uri: Uri = target
        .parse()
        .map_err(|_| "the request path and query do not make a URI".to_owned())?;

    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts.method = method;
    parts.uri = uri;
    parts.version = match get("SERVER_PROTOCOL") {
        Some(b"HTTP/1.0") => Version::HTTP_10,
        Some(b"HTTP/2" | b"HTTP/2.0") => Version::HTTP_2,
        _ => Version::HTTP_11,
    };
    for (name, value) in &meta {
        let header = match name.as_str() {
            "CONTENT_TYPE" => CONTENT_TYPE,
            "CONTENT_LENGTH" => CONTENT_LENGTH,
            n => match n.strip_prefix("HTTP_") {
                Some(h) => match HeaderName::from_bytes(h.replace('_', "-").as_bytes()) {
                    Ok(h) => h,
                    Err(_) => continue,
                },
                None => continue,
            },
        };
        if value.is_empty() && (header == CONTENT_TYPE || header == CONTENT_LENGTH) {
            continue;
        }
        if let Ok(v) = HeaderValue::from_bytes(value) {
            parts.headers.append(header, v);
        }
    }
    let content_length = match get("CONTENT_LENGTH").filter(|v| !v.is_empty()) {
        None => 0,
        Some(v) => std::str::from_utf8(v)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| "CONTENT_LENGTH is not a number".to_owned())?,
    };
    let input = if content_length == 0 {
        Input::empty()
    } else {
        Input::from_reader(stdin, Some(content_length))
    };
    let mut environ = Environ::from_parts(parts, input);
    environ.set_script_name(script_name);
    environ.set_path_info(path_info);
    environ.set_flags(crate::Flags {
        multithread: false,
        multiprocess: true,
        run_once: true,
    });
    if matches!(text("HTTPS").as_deref(), Some("on" | "ON" | "1" | "yes")) {
        environ.set_url_scheme(UrlScheme::Https);
    }
    if let Some(name) = text("SERVER_NAME") {
        let port = text("SERVER_PORT")
            .and_then(|p| p.parse().ok())
            .unwrap_or(80);
        environ.set_server(name, port);
    }
    // A socket address needs both; a server that gives no REMOTE_PORT (as
    // Python's http.server) keeps REMOTE_ADDR as given, without a made-up port.
    let remote_ip = text("REMOTE_ADDR").and_then(|a| a.parse::<IpAddr>().ok());
    let remote_port = text("REMOTE_PORT").and_then(|p| p.parse().ok());
    let remote = remote_ip
        .zip(remote_port)
        .map(|(ip, port)| SocketAddr::new(ip, port));
    environ.set_remote_addr(remote);
    for (name, value) in meta {
        let standard = matches!(
            name.as_str(),
            "CONTENT_LENGTH"
                | "CONTENT_TYPE"
                | "PATH_INFO"
                | "QUERY_STRING"
                | "REQUEST_METHOD"
                | "SCRIPT_NAME"
                | "SERVER_NAME"
                | "SERVER_PORT"
                | "SERVER_PROTOCOL"
                | "REQUEST_URI"
        ) || name.starts_with("HTTP_")
            || (remote.is_some() && (name == "REMOTE_ADDR" || name == "REMOTE_PORT"));
        if !standard {
            // The rest are extra variables, which set_var stores as given; a
            // `wsgi.*` name in a process environment is not PEP 3333's, and
            // is left out.
            environ
                .set_var(name, String::from_utf8_lossy(&value).into_owned())
                .ok();
        }
    }
    Ok(environ)
}

#[cfg(unix)]
fn os_bytes(value: OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStringExt;
    value.into_vec()
}

#[cfg(not(unix))]
fn os_bytes(value: OsString) -> Vec<u8> {
    value.to_string_lossy().into_owned().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Body, Error, StartResponse};

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    fn echo(mut environ: Environ, sr: StartResponse) -> Result<Body, Error> {
        let mut body = String::new();
        environ.input().read_to_string(&mut body)?;
        let line = format!(
            "{} {} {} {} user={} agent={}",
            environ.method(),
            environ.get("SCRIPT_NAME").unwrap(),
            environ.get("PATH_INFO").unwrap(),
            body,
            environ.get("REMOTE_USER").unwrap_or_default(),
            environ.get("HTTP_USER_AGENT").unwrap_or_default(),
        );
        sr.start("201 Made It", [("Content-Type", "text/plain")])?;
        Ok(Body::from(line))
    }

    #[test]
    fn a_cgi_request_round_trips() {
        let env = vars(&[
            ("REQUEST_METHOD", "POST"),
            ("SCRIPT_NAME", "/cgi-bin/app"),
            ("PATH_INFO", "/a b"),
            ("QUERY_STRING", "x=1"),
            ("CONTENT_LENGTH", "5"),
            ("REMOTE_USER", "alice"),
            ("HTTP_USER_AGENT", "test/1"),
            ("PATH", "/usr/bin"),
        ]);
        let mut out = Vec::new();
        run_with(
            &echo,
            env,
            io::Cursor::new(b"hello and more".to_vec()),
            &mut out,
        )
        .unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.starts_with("Status: 201 Made It\r\n"), "{out}");
        assert!(
            out.contains("content-length: 52\r\n") || out.contains("Content-Length: 52\r\n"),
            "{out}"
        );
        assert!(
            out.ends_with("\r\n\r\nPOST /cgi-bin/app /a b hello user=alice agent=test/1"),
            "{out}"
        );
    }

    #[test]
    fn only_cgi_variables_are_taken() {
        let environ =
            environ_from_vars(vars(&[("PATH", "/bin"), ("HOME", "/root")]), io::empty()).unwrap();
        assert_eq!(environ.get("PATH"), None);
        assert_eq!(environ.get("HOME"), None);
    }

    #[test]
    fn remote_addr_without_a_port_is_kept_as_given() {
        let environ =
            environ_from_vars(vars(&[("REMOTE_ADDR", "127.0.0.1")]), io::empty()).unwrap();
        assert_eq!(environ.get("REMOTE_ADDR").as_deref(), Some("127.0.0.1"));
        assert_eq!(environ.get("REMOTE_PORT"), None);
        let both = vars(&[("REMOTE_ADDR", "::1"), ("REMOTE_PORT", "4000")]);
        let environ = environ_from_vars(both, io::empty()).unwrap();
        assert_eq!(environ.remote_addr(), Some("[::1]:4000".parse().unwrap()));
    }

    #[test]
    fn a_bad_method_is_a_400() {
        let mut out = Vec::new();
        run_with(
            &echo,
            vars(&[("REQUEST_METHOD", "G E T")]),
            io::empty(),
            &mut out,
        )
        .unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .starts_with("Status: 400 Bad Request\r\n")
        );
    }
}
