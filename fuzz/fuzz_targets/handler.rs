//! The Handler driven by a random app: random `start_response` calls (valid
//! or not, with or without `exc_info`), `write` calls, body chunks, errors
//! and declared lengths, now or lazily from the body. Whatever the app does,
//! the Handler yields a head and a body that ends, never more bytes than a
//! declared `Content-Length`, and never panics. (App panics are covered by
//! the unit tests: libFuzzer's panic hook aborts on any panic, even a caught one.)
#![no_main]

use std::collections::VecDeque;

use arbitrary::Arbitrary;
use bytes::Bytes;
use gateway_core::{Body, Environ, Error, ErrorStream, Handler, StartResponse, Writer};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug, Clone)]
enum Op {
    Start {
        status: u8,
        header: Option<(u8, String)>,
    },
    StartWithError {
        status: u8,
    },
    Write(Vec<u8>),
    Chunk(Vec<u8>),
    Empty,
    Fail,
}

#[derive(Arbitrary, Debug)]
struct Script {
    now: Vec<Op>,
    later: Vec<Op>,
    declared: Option<u16>,
    head: bool,
}

const STATUSES: [&str; 8] = [
    "200 OK",
    "204 No Content",
    "304 Not Modified",
    "404 Not Found",
    "500 Oops",
    "bad",
    "2000 X",
    "103 Early Hints",
];
const NAMES: [&str; 6] = [
    "Content-Type",
    "X-Ok",
    "Content-Length",
    "Connection",
    "Bad Name",
    "Status",
];

struct State {
    sr: StartResponse,
    writer: Option<Writer>,
    declared: Option<u16>,
}

impl State {
    /// Run one op; `Some` is a chunk for the body.
    fn run(&mut self, op: Op) -> Option<Result<Bytes, Error>> {
        match op {
            Op::Start { status, header } => {
                let status = STATUSES[status as usize % STATUSES.len()];
                let mut headers: Vec<(String, String)> = header
                    .map(|(n, v)| (NAMES[n as usize % NAMES.len()].to_owned(), v))
                    .into_iter()
                    .collect();
                if let Some(len) = self.declared {
                    headers.push(("Content-Length".into(), len.to_string()));
                }
                match self.sr.start(status, headers) {
                    Ok(w) => self.writer = Some(w),
                    Err(e) => return Some(Err(e)),
                }
            }
            Op::StartWithError { status } => {
                let status = STATUSES[status as usize % STATUSES.len()];
                match self.sr.start_with_error(status, (), Error::msg("changed")) {
                    Ok(w) => self.writer = Some(w),
                    Err(e) => return Some(Err(e)),
                }
            }
            Op::Write(data) => {
                if let Some(w) = &self.writer {
                    if let Err(e) = w.write(data) {
                        return Some(Err(e));
                    }
                }
            }
            Op::Chunk(data) => return Some(Ok(Bytes::from(data))),
            Op::Empty => return Some(Ok(Bytes::new())),
            Op::Fail => return Some(Err(Error::msg("failed"))),
        }
        None
    }
}

fuzz_target!(|script: Script| {
    let Script {
        now,
        later,
        declared,
        head,
    } = script;
    let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        let mut state = State {
            sr,
            writer: None,
            declared,
        };
        for op in now.clone() {
            if let Some(Err(e)) = state.run(op) {
                return Err(e);
            }
        }
        let mut later: VecDeque<Op> = later.clone().into();
        Ok(Body::try_iter(std::iter::from_fn(move || {
            while let Some(op) = later.pop_front() {
                if let Some(item) = state.run(op) {
                    return Some(item);
                }
            }
            None
        })))
    };
    let method = if head {
        http::Method::HEAD
    } else {
        http::Method::GET
    };
    let mut environ = Environ::new(method, http::Uri::from_static("/"));
    environ.set_errors(ErrorStream::to_fn(|_| {}));
    let response = Handler::new().run(&app, environ);
    let declared = response.head.content_length().ok().flatten();
    let mut sent = 0u64;
    for (i, chunk) in response.body.enumerate() {
        assert!(i < 100_000, "the body ends");
        match chunk {
            Ok(c) => sent += c.len() as u64,
            Err(_) => break,
        }
    }
    if let Some(len) = declared {
        assert!(sent <= len, "{sent} > {len}");
    }
});
