//! The demo app that the examples serve and the tests exercise (shared as
//! a module: `mod demo;` in an example, `#[path]` in tests and benches).
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | `200`, `text/plain; charset=utf-8`, `Hello, World!` |
//! | `GET /environ` | every CGI variable by its PEP 3333 name, plus `wsgi.*`, as JSON |
//! | `POST /echo` | the request body, streamed back from `wsgi.input`, same `Content-Type` |
//! | `GET /stream?chunks=N&size=S&delay_ms=D` | `N` chunks of `S` bytes made lazily, `D` ms apart; `start_response` is called from the body's first `next()` |
//! | `GET /big` | 64 KiB of deterministic `text/html` |
//! | `GET /write` | a body sent through the legacy `write` callable |
//! | `GET /private/…`, `GET /api/…` | `{"user": REMOTE_USER}` as JSON (the `stack` example puts auth in front) |
//! | anything else | `404` (`405` with `Allow` for a known path and another method) |
//!
//! `HEAD` works on every `GET` route: the Handler strips the body.
//!
//! ```text
//! use gateway::core::testing::Client;
//!
//! let client = Client::new(demo::app);
//! assert_eq!(client.get("/").send().text(), "Hello, World!");
//! assert_eq!(client.get("/stream?chunks=3&size=2").send().text(), "xxxxxx");
//! assert_eq!(client.get("/nope").send().status, 404);
//! ```

// Shared by examples, tests and benches, each of which uses a part of it.
#![allow(dead_code, unreachable_pub)]

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use gateway::core::WSGI_VERSION;
use gateway::{Body, Environ, Error, StartResponse};
use http::Method;
use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};

const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const JSON: HeaderValue = HeaderValue::from_static("application/json");
const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

/// The size of `/big`.
pub const BIG_LEN: usize = 64 * 1024;

/// The most `/stream` sends: 1 GiB.
pub const STREAM_MAX: u64 = 1 << 30;

/// The demo app (see the module docs for its routes).
pub fn app(environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
    let path = environ.path_info();
    let get = matches!(*environ.method(), Method::GET | Method::HEAD);
    let route = |allowed: &'static str, ok: bool| if ok { Ok(()) } else { Err(allowed) };
    let checked = match path {
        b"/" => route("GET, HEAD", get).map(|()| hello as Route),
        b"/environ" => route("GET, HEAD", get).map(|()| environ_json as Route),
        b"/echo" => route("POST", environ.method() == Method::POST).map(|()| echo as Route),
        b"/stream" => route("GET, HEAD", get).map(|()| stream as Route),
        b"/big" => route("GET, HEAD", get).map(|()| big as Route),
        b"/write" => route("GET, HEAD", get).map(|()| write as Route),
        p if p.starts_with(b"/private/") || p.starts_with(b"/api/") => {
            route("GET, HEAD", get).map(|()| whoami as Route)
        }
        _ => Ok(not_found as Route),
    };
    match checked {
        Ok(handler) => handler(environ, start_response),
        Err(allow) => {
            start_response.start(
                "405 Method Not Allowed",
                [
                    (CONTENT_TYPE, TEXT),
                    (ALLOW, HeaderValue::from_static(allow)),
                ],
            )?;
            Ok(Body::from("Method Not Allowed\n"))
        }
    }
}

type Route = fn(Environ, StartResponse) -> Result<Body, Error>;

fn hello(_: Environ, start_response: StartResponse) -> Result<Body, Error> {
    start_response.start(http::StatusCode::OK, [(CONTENT_TYPE, TEXT)])?;
    Ok(Body::from("Hello, World!"))
}

fn not_found(_: Environ, start_response: StartResponse) -> Result<Body, Error> {
    start_response.start(http::StatusCode::NOT_FOUND, [(CONTENT_TYPE, TEXT)])?;
    Ok(Body::from("Not Found\n"))
}

/// Every CGI variable, then the `wsgi.*` keys, as one JSON object.
pub fn environ_json(environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
    let mut map = serde_json::Map::new();
    for (name, value) in environ.vars() {
        map.insert(name.into_owned(), value.into_owned().into());
    }
    let flags = environ.flags();
    let wsgi = [
        (
            "wsgi.version",
            serde_json::json!([WSGI_VERSION.0, WSGI_VERSION.1]),
        ),
        ("wsgi.url_scheme", environ.url_scheme().as_str().into()),
        ("wsgi.multithread", flags.multithread.into()),
        ("wsgi.multiprocess", flags.multiprocess.into()),
        ("wsgi.run_once", flags.run_once.into()),
        ("wsgi.input_terminated", true.into()),
    ];
    for (k, v) in wsgi {
        map.insert(k.to_owned(), v);
    }
    let body = serde_json::to_vec_pretty(&map).map_err(Error::app)?;
    start_response.start(http::StatusCode::OK, [(CONTENT_TYPE, JSON)])?;
    Ok(Body::from(body))
}

/// The request body, streamed back as it is read.
fn echo(mut environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
    let content_type = environ
        .headers()
        .get(CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let length = environ.content_length();
    let mut headers = vec![(CONTENT_TYPE, content_type)];
    if let Some(len) = length {
        headers.push((CONTENT_LENGTH, HeaderValue::from(len)));
    }
    start_response.start(http::StatusCode::OK, headers)?;
    let input = environ.take_input();
    let body = Body::reader(input, 64 * 1024);
    Ok(match length {
        Some(len) => body.with_len(len),
        None => body,
    })
}

/// `N` chunks of `S` bytes, `D` ms apart, with `start_response` called lazily.
fn stream(environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
    let query = environ.query_string();
    let param = |name: &str, default: u64, max: u64| -> Result<u64, String> {
        let found = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name);
        match found {
            None => Ok(default),
            Some((_, v)) => match v.parse::<u64>() {
                Ok(n) if n <= max => Ok(n),
                _ => Err(format!("{name} must be a whole number up to {max}\n")),
            },
        }
    };
    let parsed = (|| {
        let chunks = param("chunks", 10, 1 << 20)?;
        let size = param("size", 1024, 1 << 20)?;
        let delay = param("delay_ms", 0, 10_000)?;
        if chunks * size > STREAM_MAX {
            return Err(format!("chunks * size must be at most {STREAM_MAX}\n"));
        }
        Ok((chunks, size as usize, delay))
    })();
    let (chunks, size, delay) = match parsed {
        Ok(p) => p,
        Err(why) => {
            start_response.start(http::StatusCode::BAD_REQUEST, [(CONTENT_TYPE, TEXT)])?;
            return Ok(Body::from(why));
        }
    };
    let chunk = Bytes::from(vec![b'x'; size]);
    let mut start_response = Some(start_response);
    let mut made = 0;
    let lazy = std::iter::from_fn(move || {
        if let Some(sr) = start_response.take() {
            if let Err(e) = sr.start(http::StatusCode::OK, [(CONTENT_TYPE, TEXT)]) {
                return Some(Err(e));
            }
        }
        if made == chunks {
            return None;
        }
        if delay > 0 && made > 0 {
            std::thread::sleep(Duration::from_millis(delay));
        }
        made += 1;
        Some(Ok(chunk.clone()))
    });
    Ok(Body::try_iter(lazy))
}

/// 64 KiB of deterministic HTML, made once.
pub fn big_body() -> Bytes {
    static BIG: OnceLock<Bytes> = OnceLock::new();
    BIG.get_or_init(|| {
        let mut html = String::from("<!doctype html>\n<html><head><title>big</title></head><body>\n");
        let mut i = 0u64;
        while html.len() < BIG_LEN - 32 {
            html.push_str(&format!("<p id=\"p{i}\">Paragraph {i}: the quick brown fox jumps over the lazy dog {}.</p>\n", i * 7919 % 1000));
            i += 1;
        }
        html.truncate(BIG_LEN - 15);
        html.push_str("\n</body></html>");
        while html.len() < BIG_LEN {
            html.push('\n');
        }
        Bytes::from(html)
    })
    .clone()
}

fn big(_: Environ, start_response: StartResponse) -> Result<Body, Error> {
    start_response.start(http::StatusCode::OK, [(CONTENT_TYPE, HTML)])?;
    Ok(Body::from(big_body()))
}

/// The legacy `write` callable, then an empty body.
fn write(_: Environ, start_response: StartResponse) -> Result<Body, Error> {
    let write = start_response.start(http::StatusCode::OK, [(CONTENT_TYPE, TEXT)])?;
    write.write("written through write(), ")?;
    write.write("in order\n")?;
    Ok(Body::empty())
}

fn whoami(environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
    // One escaped JSON string (or null) written into one buffer: no map, no
    // intermediate string.
    let user = environ.get("REMOTE_USER");
    let mut body = Vec::with_capacity(32 + user.as_ref().map_or(0, |u| u.len()));
    body.extend_from_slice(br#"{"user":"#);
    serde_json::to_writer(&mut body, &user).map_err(Error::app)?;
    body.push(b'}');
    start_response.start(http::StatusCode::OK, [(CONTENT_TYPE, JSON)])?;
    // Shrunk to fit: `Bytes` takes a boxed slice over as it is, where a
    // `Vec` with spare room would cost it one more allocation.
    Ok(Body::from(Bytes::from(body.into_boxed_slice())))
}
