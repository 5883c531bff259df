//! Conformance: every check of Python's `wsgiref.validate`, and how gateway
//! holds it — by a typed error or a `500` (each such row runs its proof
//! below), by a type that makes the mistake impossible, or by a deliberate
//! difference (with its reason, and a proof of what gateway does instead).
//! Then the rules `wsgiref.validate` does not check.
//!
//! The same table is `docs/conformance.md`; `the_markdown_is_current` fails
//! when they drift. To rewrite the markdown from this file:
//! `GATEWAY_BLESS=1 cargo test -p gateway-core --test conformance`.

use std::io::{BufRead, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::Bytes;
use gateway_core::testing::{Client, TestResponse};
use gateway_core::{
    Body, Environ, Error, Handler, Head, Input, StartResponse, UrlScheme, WSGI_VERSION,
};
use http::{Method, StatusCode};

/// How gateway holds a rule.
#[derive(Clone, Copy)]
enum How {
    /// Checked at run time: a typed error, a `500` or an aborted response.
    Enforced(&'static str, fn()),
    /// The mistake cannot be written: the type that prevents it.
    Type(&'static str),
    /// gateway does otherwise, on purpose: why, and what it does.
    Differs(&'static str, fn()),
}

struct Row {
    check: &'static str,
    how: How,
}

const fn enforced(check: &'static str, how: &'static str, proof: fn()) -> Row {
    Row {
        check,
        how: How::Enforced(how, proof),
    }
}
const fn by_type(check: &'static str, how: &'static str) -> Row {
    Row {
        check,
        how: How::Type(how),
    }
}
const fn differs(check: &'static str, how: &'static str, proof: fn()) -> Row {
    Row {
        check,
        how: How::Differs(how, proof),
    }
}

/// Every check of `wsgiref.validate` (Python 3.11), in the order of its source.
const VALIDATE: &[Row] = &[
    // lint_app and start_response_wrapper
    by_type(
        "The application is called with two arguments",
        "`App::call(&self, Environ, StartResponse)`: the compiler checks the arity.",
    ),
    by_type(
        "No keyword arguments (to the application or to start_response)",
        "Rust has no keyword arguments.",
    ),
    by_type(
        "start_response takes 2 or 3 arguments",
        "`start(status, headers)` and `start_with_error(status, headers, error)`: two methods, each of fixed arity.",
    ),
    by_type(
        "The application must return an iterator, if only an empty list (not None or False)",
        "`App::call` returns `Result<Body, Error>`: there is no null body; a failure is an `Err` (a `500`).",
    ),
    enforced(
        "The returned iterable is not a string (it would go out one character at a time)",
        "`Body::from(\"text\")` is one chunk, never one per character.",
        proof::string_body_is_one_chunk,
    ),
    // InputWrapper
    by_type(
        "wsgi.input.read() is called with exactly one argument and returns bytes",
        "`Input: std::io::Read`: `read(&mut self, buf: &mut [u8]) -> io::Result<usize>`.",
    ),
    by_type(
        "wsgi.input.readline() takes at most one argument and returns bytes",
        "`Input: BufRead`: `read_line`, `read_until`; a size limit is `Read::take`.",
    ),
    by_type(
        "wsgi.input.readlines() returns a list of bytes",
        "`BufRead::lines()` / `split(b'\\n')` yield lines; no other shape exists.",
    ),
    by_type(
        "Iterating wsgi.input yields lines of bytes",
        "`BufRead::split(b'\\n')` yields `io::Result<Vec<u8>>`.",
    ),
    by_type(
        "wsgi.input.close() must not be called",
        "`Input` has no `close`; the environ owns it and drops it.",
    ),
    // ErrorWrapper
    by_type(
        "wsgi.errors.write() is called with a str",
        "`ErrorStream: io::Write` takes bytes (decoded as UTF-8, lossily) and `ErrorStream::log(&str)` takes text: both are well typed.",
    ),
    by_type(
        "wsgi.errors.writelines() writes each line",
        "`io::Write::write_all` / `write!`; lines are cut at `\\n` and each is logged.",
    ),
    by_type(
        "wsgi.errors.close() must not be called",
        "`ErrorStream` has no `close`; a partial line is flushed on drop.",
    ),
    // WriteWrapper
    by_type(
        "write() is called with bytes",
        "`Writer::write(impl Into<Bytes>)`.",
    ),
    // IteratorWrapper
    enforced(
        "The body is not read after it was closed",
        "Closing is dropping the `Body`, which the Handler owns: after the end, `Output` yields `None` and never pulls again.",
        proof::no_read_after_close,
    ),
    by_type(
        "The body yields bytes only",
        "`Body: Iterator<Item = Result<Bytes, Error>>`.",
    ),
    enforced(
        "The body is not iterated before start_response was called",
        "`Error::NotStarted`, a `500`; `start_response` may still be called inside the first `next()` (PEP 3333 allows it).",
        proof::body_before_start_response,
    ),
    enforced(
        "The body is closed (close() called)",
        "Dropping is `close()`, and the Handler drops the body on every path: end, error, panic, the server dropping the response.",
        proof::body_is_closed,
    ),
    // check_environ
    by_type(
        "The environ is a dict (not a subclass)",
        "`Environ` is one concrete type.",
    ),
    enforced(
        "Required keys: REQUEST_METHOD, SERVER_NAME, SERVER_PORT, wsgi.version, wsgi.input, wsgi.errors, wsgi.multithread, wsgi.multiprocess, wsgi.run_once",
        "Typed fields that always exist: `get(\"REQUEST_METHOD\" | \"SERVER_NAME\" | \"SERVER_PORT\")` is always `Some` (SERVER_NAME falls back to the local address, then `localhost`), `WSGI_VERSION`, `input()`, `errors()`, `flags()`.",
        proof::required_keys,
    ),
    enforced(
        "No HTTP_CONTENT_TYPE or HTTP_CONTENT_LENGTH (they are CONTENT_TYPE and CONTENT_LENGTH)",
        "The CGI view never maps those two headers to `HTTP_*`.",
        proof::no_http_content_headers,
    ),
    enforced(
        "QUERY_STRING is present (warning)",
        "Always present: `\"\"` when the request has no query.",
        proof::query_string_present,
    ),
    by_type(
        "CGI variables (keys without a dot) are str",
        "The CGI view yields `(Cow<str>, Cow<str>)`; bytes are ISO-8859-1 native strings, so every byte round-trips.",
    ),
    by_type(
        "wsgi.version is a tuple",
        "`WSGI_VERSION: (u32, u32) = (1, 0)`.",
    ),
    by_type(
        "wsgi.url_scheme is 'http' or 'https'",
        "`UrlScheme::{Http, Https}`.",
    ),
    by_type(
        "wsgi.input has read, readline, readlines and __iter__",
        "`Input: Read + BufRead`.",
    ),
    by_type(
        "wsgi.errors has flush, write and writelines",
        "`ErrorStream: io::Write`.",
    ),
    differs(
        "REQUEST_METHOD is a known method (warning)",
        "Any RFC 9110 method token is a method (`http::Method`): WebDAV's PROPFIND is as valid as GET. An invalid token never reaches the app (hyper refuses it; the CGI gateway answers `400`).",
        proof::extension_methods,
    ),
    enforced(
        "SCRIPT_NAME is empty or starts with /",
        "`set_script_name` stores `\"app\"` as `\"/app\"`; from a request it is empty.",
        proof::script_name_rooted,
    ),
    enforced(
        "PATH_INFO is empty or starts with /",
        "From a request it is the origin-form path (it starts with `/`); `set_path_info` stores `\"x\"` as `\"/x\"`. The asterisk-form target of `OPTIONS *` is kept as `*` (as gunicorn and Werkzeug do): it has no path.",
        proof::path_info_rooted,
    ),
    enforced(
        "CONTENT_LENGTH, when set, is a non-negative integer",
        "The CGI view shows CONTENT_LENGTH only when it is digits; `content_length()` is a `u64`.",
        proof::content_length_is_a_number,
    ),
    enforced(
        "SCRIPT_NAME or PATH_INFO is set (PATH_INFO at least '/' at the root)",
        "Both always exist; a request for the root has PATH_INFO `/`.",
        proof::script_name_or_path_info,
    ),
    enforced(
        "SCRIPT_NAME is not '/' (it is '', and PATH_INFO '/')",
        "`set_script_name(\"/\")` stores `\"\"`.",
        proof::script_name_not_slash,
    ),
    // check_status
    by_type(
        "The status is a str",
        "`IntoStatus`: `&str`, `String` or `http::StatusCode`.",
    ),
    enforced(
        "The status code is three characters",
        "`Error::InvalidStatus`.",
        proof::status_three_digits,
    ),
    enforced(
        "The status code is at least 100",
        "`Error::InvalidStatus` (codes are 100 to 999).",
        proof::status_at_least_100,
    ),
    enforced(
        "The status is three digits, one space and a reason (warning)",
        "An error, not a warning: `Error::InvalidStatus`; a reason holding control bytes is refused too.",
        proof::status_form,
    ),
    // check_headers
    by_type(
        "The headers are a list",
        "`IntoHeaders`: arrays, `Vec`s or slices of pairs, a `HeaderMap`, or `()`.",
    ),
    by_type("Each header is a tuple of two", "`(name, value)` pairs."),
    by_type(
        "Header names and values are str",
        "`IntoHeaderName` / `IntoHeaderValue`: text, bytes, `HeaderName`, `HeaderValue`, numbers.",
    ),
    enforced(
        "No Status header (it is CGI's, not WSGI's)",
        "`Error::InvalidHeaderName`.",
        proof::no_status_header,
    ),
    enforced(
        "Header names hold no ':' or newline",
        "`Error::InvalidHeaderName`: a name is an RFC 9110 token.",
        proof::header_name_no_colon,
    ),
    differs(
        "Header names match `^[a-zA-Z][a-zA-Z0-9\\-_]*$`",
        "A name is any RFC 9110 token (letters, digits and ``!#$%&'*+-.^_`|~``), as HTTP allows; anything else is `Error::InvalidHeaderName`.",
        proof::header_names_are_tokens,
    ),
    differs(
        "Header names do not end in '-' or '_'",
        "Such names are valid RFC 9110 tokens and are sent as given.",
        proof::header_name_trailing_dash,
    ),
    enforced(
        "Header values hold no character below 0x20",
        "`Error::InvalidHeaderValue` for CR, LF, NUL, every other control byte and DEL; TAB is allowed (RFC 9110 field values may hold HTAB).",
        proof::header_value_controls,
    ),
    // check_content_type
    differs(
        "A Content-Type is given unless the status is 204 or 304",
        "Not required: RFC 9110 §8.3 lets a sender omit it, and gateway adds no default (a lint middleware may insist).",
        proof::content_type_optional,
    ),
    differs(
        "No Content-Type in a 204 or 304 response",
        "Passed through: a 304 may carry the fields of the representation (RFC 9110 §15.4.5); the body is stripped either way.",
        proof::content_type_on_304,
    ),
    // check_exc_info
    by_type(
        "exc_info is a tuple or None",
        "`start(..)` has none; `start_with_error(.., error: Error)` takes the error itself.",
    ),
];

/// Rules `wsgiref.validate` does not check, and gateway enforces.
const BEYOND: &[Row] = &[
    enforced(
        "start_response is called once, unless exc_info is given",
        "`Error::AlreadyStarted`; the first head stays.",
        proof::second_start_response,
    ),
    enforced(
        "exc_info after the head was sent re-raises the original error",
        "`start_with_error` returns the error given, for the app to return; the response is aborted.",
        proof::exc_info_re_raise,
    ),
    enforced(
        "exc_info before the head was sent replaces the head, and the write() data of the old response",
        "The new head goes out; data written for the replaced response is dropped.",
        proof::exc_info_replaces,
    ),
    by_type(
        "write() is not called before start_response",
        "The `Writer` is what `start` returns: there is none before it.",
    ),
    enforced(
        "write() data and body chunks go out in order",
        "The Handler takes `write` data before each chunk it pulls, and after the last.",
        proof::write_order,
    ),
    enforced(
        "write() after the response ended fails",
        "`Error::ClientGone`.",
        proof::write_after_close,
    ),
    enforced(
        "No hop-by-hop headers from the app (wsgiref's handler asserts it)",
        "`Error::HopByHopHeader` for Connection, Keep-Alive, Transfer-Encoding, Upgrade, TE, Trailer, Proxy-*.",
        proof::hop_by_hop,
    ),
    enforced(
        "A Content-Length is one non-negative decimal number",
        "`Error::InvalidHeaderValue` from `start_response`; one that a middleware breaks later is a `500`.",
        proof::invalid_content_length,
    ),
    enforced(
        "A header value is a native string: ISO-8859-1",
        "`\"café\"` goes out as the bytes `caf\\xe9`; a character past U+00FF is `Error::InvalidHeaderValue`.",
        proof::latin1_values,
    ),
    enforced(
        "The head is final only when the first non-empty chunk is ready",
        "Empty chunks do not send the head; `exc_info` may still replace it.",
        proof::deferred_head,
    ),
    enforced(
        "start_response may be called from the body's first next()",
        "The `StartResponse` is owned and may move into the body.",
        proof::lazy_start_response,
    ),
    enforced(
        "A body that overruns its Content-Length is cut",
        "The excess is not sent, the body is not pulled further, and `wsgi.errors` says so.",
        proof::overrun,
    ),
    enforced(
        "A body that falls short of its Content-Length is reported",
        "An `Err` item at the end: the server closes the connection instead of leaving the client waiting.",
        proof::underrun,
    ),
    enforced(
        "An error or panic before the head is a 500",
        "`500 Internal Server Error`, a short text body, the error in `wsgi.errors`.",
        proof::error_before_head,
    ),
    enforced(
        "An error or panic after the head aborts the response",
        "An `Err` item: the server cuts the connection; the error is in `wsgi.errors`.",
        proof::error_after_head,
    ),
    enforced(
        "HEAD, 1xx, 204, 205 and 304 responses carry no body",
        "The body is not sent; 1xx, 204 and 205 lose Content-Length, HEAD and 304 keep it.",
        proof::bodiless,
    ),
    enforced(
        "A whole body is framed with its length",
        "`Output::content_length()`: a single-chunk body (or one of wsgiref's one-block iterables) without `write` gets a Content-Length.",
        proof::whole_body_length,
    ),
    enforced(
        "Header names holding '_' do not become HTTP_* variables",
        "`X_Forwarded_For` cannot pass for `X-Forwarded-For` (the smuggling hole nginx and gunicorn close).",
        proof::underscore_headers,
    ),
    enforced(
        "wsgi.input never reads past CONTENT_LENGTH, and ends with EOF",
        "`Input` is cut at the length; `wsgi.input_terminated` is true.",
        proof::input_bounded,
    ),
];

#[test]
fn every_enforced_row_holds() {
    let mut failed = Vec::new();
    for row in VALIDATE.iter().chain(BEYOND) {
        if let How::Enforced(_, proof) | How::Differs(_, proof) = row.how {
            if catch_unwind(AssertUnwindSafe(proof)).is_err() {
                failed.push(row.check);
            }
        }
    }
    assert!(failed.is_empty(), "rows that do not hold: {failed:#?}");
}

#[test]
fn the_markdown_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/conformance.md");
    let want = markdown();
    if std::env::var_os("GATEWAY_BLESS").is_some() {
        std::fs::write(path, &want).expect("write docs/conformance.md");
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "docs/conformance.md differs from the table in tests/conformance.rs: \
         GATEWAY_BLESS=1 cargo test -p gateway-core --test conformance"
    );
}

fn markdown() -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let table = |rows: &[Row], first: &str| {
        let mut out = format!("| {first} | gateway | how |\n|---|---|---|\n");
        for row in rows {
            let (kind, how) = match row.how {
                How::Enforced(how, _) => ("enforced", how),
                How::Type(how) => ("impossible by type", how),
                How::Differs(how, _) => ("differs, on purpose", how),
            };
            out += &format!("| {} | {kind} | {} |\n", cell(row.check), cell(how));
        }
        out
    };
    let count = |f: fn(&How) -> bool| VALIDATE.iter().filter(|r| f(&r.how)).count();
    format!(
        "# Conformance: PEP 3333 and `wsgiref.validate`\n\n\
         <!-- Generated from crates/gateway-core/tests/conformance.rs: edit the table there, then\n     \
         GATEWAY_BLESS=1 cargo test -p gateway-core --test conformance -->\n\n\
         Python's `wsgiref.validate` checks an app and a server against PEP 3333 with \
         `assert` statements. Below is each of its {} checks and how gateway holds it: \
         **enforced** at run time (a typed `Error`, a `500` or an aborted response; \
         each such row is proved by a test in `crates/gateway-core/tests/conformance.rs`), \
         **impossible by type** (the mistake does not compile), or **differs, on purpose** \
         (with the reason, and a test of what gateway does instead). \
         Of the {}: {} enforced, {} impossible by type, {} differ.\n\n\
         ## The checks of `wsgiref.validate`\n\n{}\n\
         ## Rules `wsgiref.validate` does not check\n\n\
         PEP 3333, wsgiref's handler and RFC 9110 framing, held by gateway's `Handler`.\n\n{}",
        VALIDATE.len(),
        VALIDATE.len(),
        count(|h| matches!(h, How::Enforced(..))),
        count(|h| matches!(h, How::Type(..))),
        count(|h| matches!(h, How::Differs(..))),
        table(VALIDATE, "`wsgiref.validate` check"),
        table(BEYOND, "rule"),
    )
}

/// The proofs, one per enforced or differing row.
mod proof {
    use super::*;

    fn respond(status: &'static str, headers: Vec<(&'static str, &'static str)>) -> TestResponse {
        Client::new(
            move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
                sr.start(status, headers.clone())?;
                Ok(Body::from("body"))
            },
        )
        .get("/")
        .send()
    }

    fn start_err(status: &str, headers: Vec<(&str, &str)>) -> Error {
        Head::parse(status, headers).expect_err("refused")
    }

    fn environ(uri: &str) -> Environ {
        Client::new(|_: Environ, _: StartResponse| -> Result<Body, Error> { Ok(Body::empty()) })
            .get(uri)
            .environ()
    }

    /// A body that counts pulls and records its close.
    fn counted(chunks: &'static [&'static str]) -> (Body, Arc<AtomicUsize>, Arc<AtomicBool>) {
        let (pulls, closed) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (p, c) = (pulls.clone(), closed.clone());
        let mut items = chunks.iter();
        let body = Body::iter(std::iter::from_fn(move || {
            p.fetch_add(1, Ordering::SeqCst);
            items.next().copied()
        }))
        .on_close(move || c.store(true, Ordering::SeqCst));
        (body, pulls, closed)
    }

    pub(super) fn string_body_is_one_chunk() {
        let r = respond("200 OK", vec![]);
        assert_eq!(r.chunks, ["body"]);
    }

    pub(super) fn no_read_after_close() {
        let (body, pulls, closed) = counted(&["a", "b"]);
        let mut body = Some(body);
        let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", ())?;
            Ok(body.take().unwrap_or_default())
        };
        let app = std::sync::Mutex::new(app);
        let app = move |e: Environ, sr: StartResponse| app.lock().unwrap()(e, sr);
        let mut response = Handler::new().run(&app, environ("/"));
        let got: Vec<_> = response.body.by_ref().map(Result::unwrap).collect();
        assert_eq!(got, ["a", "b"]);
        assert!(closed.load(Ordering::SeqCst));
        let after = pulls.load(Ordering::SeqCst);
        for _ in 0..3 {
            assert!(response.body.next().is_none());
        }
        assert_eq!(pulls.load(Ordering::SeqCst), after);
    }

    pub(super) fn body_before_start_response() {
        let r = Client::new(|_: Environ, _: StartResponse| -> Result<Body, Error> {
            Ok(Body::iter(["x"]))
        })
        .get("/")
        .send();
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    pub(super) fn body_is_closed() {
        for early in [false, true] {
            let (body, _, closed) = counted(&["a", "b", "c"]);
            let mut body = Some(body);
            let app = std::sync::Mutex::new(
                move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
                    sr.start("200 OK", ())?;
                    Ok(body.take().unwrap_or_default())
                },
            );
            let app = move |e: Environ, sr: StartResponse| app.lock().unwrap()(e, sr);
            let mut response = Handler::new().run(&app, environ("/"));
            if early {
                assert!(response.body.next().is_some());
                drop(response);
            } else {
                response.body.by_ref().for_each(drop);
            }
            assert!(closed.load(Ordering::SeqCst), "early drop: {early}");
        }
    }

    pub(super) fn required_keys() {
        let e = Environ::new(Method::GET, http::Uri::from_static("/"));
        for key in [
            "REQUEST_METHOD",
            "SERVER_NAME",
            "SERVER_PORT",
            "SERVER_PROTOCOL",
        ] {
            assert!(e.get(key).is_some(), "{key}");
        }
        assert_eq!(e.get("SERVER_NAME").as_deref(), Some("localhost"));
        assert_eq!(WSGI_VERSION, (1, 0));
        assert_eq!(
            e.flags(),
            gateway_core::Flags {
                multithread: true,
                multiprocess: false,
                run_once: false
            }
        );
        assert_eq!(e.url_scheme(), UrlScheme::Http);
    }

    pub(super) fn no_http_content_headers() {
        let e = Client::new(|_: Environ, _: StartResponse| -> Result<Body, Error> {
            Ok(Body::empty())
        })
        .post("/")
        .header("Content-Type", "text/plain")
        .body("abc")
        .environ();
        assert_eq!(e.get("CONTENT_TYPE").as_deref(), Some("text/plain"));
        assert_eq!(e.get("CONTENT_LENGTH").as_deref(), Some("3"));
        assert!(
            e.vars()
                .all(|(k, _)| k != "HTTP_CONTENT_TYPE" && k != "HTTP_CONTENT_LENGTH")
        );
        assert_eq!(e.get("HTTP_CONTENT_TYPE"), None);
    }

    pub(super) fn query_string_present() {
        let e = environ("/path");
        assert_eq!(e.get("QUERY_STRING").as_deref(), Some(""));
        assert!(e.vars().any(|(k, _)| k == "QUERY_STRING"));
    }

    pub(super) fn extension_methods() {
        let e = Environ::new(
            Method::from_bytes(b"PROPFIND").unwrap(),
            http::Uri::from_static("/"),
        );
        assert_eq!(e.get("REQUEST_METHOD").as_deref(), Some("PROPFIND"));
    }

    pub(super) fn script_name_rooted() {
        let mut e = environ("/x");
        assert_eq!(e.get("SCRIPT_NAME").as_deref(), Some(""));
        e.set_script_name("app");
        assert_eq!(e.get("SCRIPT_NAME").as_deref(), Some("/app"));
    }

    pub(super) fn path_info_rooted() {
        let mut e = environ("/a/b?q");
        assert_eq!(e.get("PATH_INFO").as_deref(), Some("/a/b"));
        e.set_path_info("x");
        assert_eq!(e.path_info(), b"/x");
        let star = Environ::new(Method::OPTIONS, http::Uri::from_static("*"));
        assert_eq!(star.path_info(), b"*");
    }

    pub(super) fn content_length_is_a_number() {
        let mut e = environ("/");
        e.headers_mut()
            .insert("content-length", http::HeaderValue::from_static("-5"));
        assert_eq!(e.get("CONTENT_LENGTH"), None);
        e.headers_mut()
            .insert("content-length", http::HeaderValue::from_static("5"));
        assert_eq!(e.get("CONTENT_LENGTH").as_deref(), Some("5"));
    }

    pub(super) fn script_name_or_path_info() {
        let e = environ("/");
        assert_eq!(
            (
                e.get("SCRIPT_NAME").as_deref(),
                e.get("PATH_INFO").as_deref()
            ),
            (Some(""), Some("/"))
        );
    }

    pub(super) fn script_name_not_slash() {
        let mut e = environ("/");
        e.set_script_name("/");
        assert_eq!(e.get("SCRIPT_NAME").as_deref(), Some(""));
    }

    pub(super) fn status_three_digits() {
        for bad in ["20 OK", "2000 OK", "abc OK"] {
            assert!(
                matches!(start_err(bad, vec![]), Error::InvalidStatus { .. }),
                "{bad}"
            );
        }
        assert_eq!(
            respond("2000 OK", vec![]).status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    pub(super) fn status_at_least_100() {
        assert!(matches!(
            start_err("099 Low", vec![]),
            Error::InvalidStatus { .. }
        ));
    }

    pub(super) fn status_form() {
        for bad in ["200", "200OK", "200 ", "200 OK\r\nX: y"] {
            assert!(
                matches!(start_err(bad, vec![]), Error::InvalidStatus { .. }),
                "{bad:?}"
            );
        }
    }

    pub(super) fn no_status_header() {
        assert!(matches!(
            start_err("200 OK", vec![("Status", "500")]),
            Error::InvalidHeaderName { .. }
        ));
    }

    pub(super) fn header_name_no_colon() {
        for bad in ["X:Y", "X\nY", "X Y"] {
            assert!(matches!(
                start_err("200 OK", vec![(bad, "v")]),
                Error::InvalidHeaderName { .. }
            ));
        }
    }

    pub(super) fn header_names_are_tokens() {
        let r = respond(
            "200 OK",
            vec![("X-Fine.Name!", "v"), ("1-Starts-With-Digit", "v")],
        );
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("x-fine.name!"), Some("v"));
        assert!(matches!(
            start_err("200 OK", vec![("Bad(Name)", "v")]),
            Error::InvalidHeaderName { .. }
        ));
    }

    pub(super) fn header_name_trailing_dash() {
        let r = respond("200 OK", vec![("X-Trailing-", "v"), ("X-Under_", "w")]);
        assert_eq!(
            (r.header("x-trailing-"), r.header("x-under_")),
            (Some("v"), Some("w"))
        );
    }

    pub(super) fn header_value_controls() {
        for bad in ["a\rb", "a\nb", "a\0b", "a\x1fb", "a\x7fb"] {
            assert!(
                matches!(
                    start_err("200 OK", vec![("X", bad)]),
                    Error::InvalidHeaderValue { .. }
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            respond("200 OK", vec![("X", "a\tb")]).header("x"),
            Some("a\tb")
        );
    }

    pub(super) fn content_type_optional() {
        let r = respond("200 OK", vec![]);
        assert_eq!((r.status, r.header("content-type")), (StatusCode::OK, None));
    }

    pub(super) fn content_type_on_304() {
        let r = respond("304 Not Modified", vec![("Content-Type", "text/html")]);
        assert_eq!(r.header("content-type"), Some("text/html"));
        assert!(r.body.is_empty());
    }

    pub(super) fn second_start_response() {
        let r = Client::new(|_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", ())?;
            assert!(matches!(
                sr.start("404 Not Found", ()),
                Err(Error::AlreadyStarted)
            ));
            Ok(Body::from("first"))
        })
        .get("/")
        .send();
        assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "first"));
    }

    pub(super) fn exc_info_re_raise() {
        let r = Client::new(|_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", ())?;
            let mut sr = Some(sr);
            let mut sent = false;
            Ok(Body::try_iter(std::iter::from_fn(move || {
                if !sent {
                    sent = true;
                    return Some(Ok(Bytes::from_static(b"out")));
                }
                let sr = sr.take()?;
                Some(
                    sr.start_with_error("500 Oops", (), Error::msg("original"))
                        .map(|_| Bytes::new()),
                )
            })))
        })
        .get("/")
        .send();
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.aborted.map(|e| e.to_string()).as_deref(),
            Some("original")
        );
    }

    pub(super) fn exc_info_replaces() {
        let r = Client::new(|_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", ())?.write("half")?;
            sr.start_with_error("503 Busy", (), Error::msg("db"))?;
            Ok(Body::from("try later"))
        })
        .get("/")
        .send();
        assert_eq!(
            (r.status, r.text().as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "try later")
        );
    }

    pub(super) fn write_order() {
        let r = Client::new(|_: Environ, sr: StartResponse| -> Result<Body, Error> {
            let w = sr.start("200 OK", ())?;
            w.write("1")?;
            let mut n = 1;
            Ok(Body::try_iter(std::iter::from_fn(move || {
                n += 1;
                (n < 5).then(|| {
                    w.write((n * 10).to_string())
                        .map(|()| Bytes::from(n.to_string()))
                })
            })))
        })
        .get("/")
        .send();
        assert_eq!(r.text(), "1202303404");
    }

    pub(super) fn write_after_close() {
        let kept = Arc::new(std::sync::Mutex::new(None));
        let k = kept.clone();
        let r = Client::new(
            move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
                *k.lock().unwrap() = Some(sr.start("200 OK", ())?);
                Ok(Body::from("x"))
            },
        )
        .get("/")
        .send();
        assert_eq!(r.text(), "x");
        let writer = kept.lock().unwrap().take().unwrap();
        assert!(matches!(writer.write("late"), Err(Error::ClientGone)));
    }

    pub(super) fn hop_by_hop() {
        for name in [
            "Connection",
            "Keep-Alive",
            "Transfer-Encoding",
            "Upgrade",
            "TE",
            "Trailer",
            "Proxy-Authenticate",
        ] {
            assert!(
                matches!(
                    start_err("200 OK", vec![(name, "x")]),
                    Error::HopByHopHeader { .. }
                ),
                "{name}"
            );
        }
    }

    pub(super) fn invalid_content_length() {
        assert!(matches!(
            start_err("200 OK", vec![("Content-Length", "ten")]),
            Error::InvalidHeaderValue { .. }
        ));
        assert_eq!(
            respond("200 OK", vec![("Content-Length", "ten")]).status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    pub(super) fn latin1_values() {
        let head = Head::parse("200 OK", [("X-Name", "café")]).unwrap();
        assert_eq!(head.headers["x-name"].as_bytes(), b"caf\xe9");
        assert!(matches!(
            start_err("200 OK", vec![("X-Name", "€")]),
            Error::InvalidHeaderValue { .. }
        ));
    }

    pub(super) fn deferred_head() {
        let r = Client::new(|_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", ())?;
            let mut n = 0;
            Ok(Body::try_iter(std::iter::from_fn(move || {
                n += 1;
                match n {
                    1 => Some(Ok(Bytes::new())),
                    2 => Some(
                        sr.start_with_error("503 Busy", (), Error::msg("x"))
                            .map(|_| Bytes::from("busy")),
                    ),
                    _ => None,
                }
            })))
        })
        .get("/")
        .send();
        assert_eq!(
            (r.status, r.text().as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "busy")
        );
    }

    pub(super) fn lazy_start_response() {
        let r = Client::new(|_: Environ, sr: StartResponse| -> Result<Body, Error> {
            let mut sr = Some(sr);
            Ok(Body::try_iter(std::iter::from_fn(move || {
                let sr = sr.take()?;
                Some(sr.start("202 Accepted", ()).map(|_| Bytes::from("later")))
            })))
        })
        .get("/")
        .send();
        assert_eq!(
            (r.status, r.text().as_str()),
            (StatusCode::ACCEPTED, "later")
        );
    }

    pub(super) fn overrun() {
        let (body, pulls, _) = counted(&["abcdef", "ghi"]);
        let mut body = Some(body);
        let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let sink = lines.clone();
        let app = std::sync::Mutex::new(
            move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
                sr.start("200 OK", [("Content-Length", "4")])?;
                Ok(body.take().unwrap_or_default())
            },
        );
        let r = Client::new(move |e: Environ, sr: StartResponse| app.lock().unwrap()(e, sr))
            .get("/")
            .errors(gateway_core::ErrorStream::to_fn(move |l| {
                sink.lock().unwrap().push(l.to_owned())
            }))
            .send();
        assert_eq!(r.text(), "abcd");
        assert_eq!(pulls.load(Ordering::SeqCst), 1);
        assert!(lines.lock().unwrap().iter().any(|l| l.contains("overran")));
    }

    pub(super) fn underrun() {
        let r = respond("200 OK", vec![("Content-Length", "10")]);
        assert!(matches!(
            r.aborted,
            Some(Error::ContentLengthUnderrun {
                declared: 10,
                sent: 4
            })
        ));
    }

    pub(super) fn error_before_head() {
        let r = Client::new(|_: Environ, _: StartResponse| -> Result<Body, Error> { panic!("no") })
            .get("/")
            .send();
        assert_eq!(
            (r.status, r.text().as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error\n")
        );
    }

    pub(super) fn error_after_head() {
        let r = Client::new(|_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", ())?;
            Ok(Body::try_iter([
                Ok("partial"),
                Err(Error::msg("lost the database")),
            ]))
        })
        .get("/")
        .send();
        assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "partial"));
        assert!(r.aborted.is_some());
    }

    pub(super) fn bodiless() {
        let head = Client::new(|_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", ())?;
            Ok(Body::from("twelve bytes"))
        })
        .head("/")
        .send();
        assert_eq!(
            (head.body.len(), head.header("content-length")),
            (0, Some("12"))
        );
        for status in ["204 No Content", "205 Reset Content", "103 Early Hints"] {
            let r = respond(status, vec![("Content-Length", "4")]);
            assert!(r.body.is_empty(), "{status}");
            let want = (status.starts_with("205")).then_some("0");
            assert_eq!(r.header("content-length"), want, "{status}");
        }
        let not_modified = respond("304 Not Modified", vec![("Content-Length", "4")]);
        assert_eq!(
            (
                not_modified.body.len(),
                not_modified.header("content-length")
            ),
            (0, Some("4"))
        );
    }

    pub(super) fn whole_body_length() {
        assert_eq!(
            respond("200 OK", vec![]).header("content-length"),
            Some("4")
        );
        let streamed = Client::new(|_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", ())?;
            Ok(Body::iter(["a", "b"]))
        })
        .get("/")
        .send();
        assert_eq!(streamed.header("content-length"), None);
    }

    pub(super) fn underscore_headers() {
        let e = Client::new(|_: Environ, _: StartResponse| -> Result<Body, Error> {
            Ok(Body::empty())
        })
        .get("/")
        .header("X_Forwarded_For", "6.6.6.6")
        .environ();
        assert_eq!(e.get("HTTP_X_FORWARDED_FOR"), None);
        assert!(e.vars().all(|(k, _)| !k.starts_with("HTTP_X_FORWARDED")));
    }

    pub(super) fn input_bounded() {
        let mut input =
            Input::from_reader(std::io::Cursor::new(b"body|next request".to_vec()), Some(4));
        let mut all = String::new();
        input.read_to_string(&mut all).unwrap();
        assert_eq!(all, "body");
        assert!(input.is_terminated());
        assert_eq!(input.fill_buf().unwrap(), b"");
    }
}
