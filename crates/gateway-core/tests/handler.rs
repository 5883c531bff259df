//! The Handler's rules, one test each: every test fails without its rule.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use gateway_core::{
    Body, BodyInfo, End, Environ, Error, ErrorStream, Handled, Handler, Head, Intercept, Outcome,
    RemoteUser, StartResponse, Writer,
};
use http::{Method, StatusCode, Uri};

/// What an app wrote to `wsgi.errors`.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn errors(&self) -> ErrorStream {
        let lines = self.0.clone();
        ErrorStream::to_fn(move |line| lines.lock().unwrap().push(line.to_owned()))
    }

    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn contains(&self, needle: &str) -> bool {
        self.lines().iter().any(|l| l.contains(needle))
    }
}

fn run_method(app: &dyn gateway_core::App, method: Method) -> (Handled, Log) {
    let log = Log::default();
    let mut environ = Environ::new(method, Uri::from_static("/"));
    environ.set_errors(log.errors());
    (Handler::new().run(app, environ), log)
}

fn run(app: &dyn gateway_core::App) -> (Handled, Log) {
    run_method(app, Method::GET)
}

/// The body chunks, and the error that aborted it, if any (bounded).
fn drain(response: &mut Handled) -> (Vec<Bytes>, Option<Error>) {
    let mut chunks = Vec::new();
    for _ in 0..10_000 {
        match response.body.next() {
            Some(Ok(c)) => chunks.push(c),
            Some(Err(e)) => {
                assert!(response.body.next().is_none(), "nothing after an abort");
                return (chunks, Some(e));
            }
            None => return (chunks, None),
        }
    }
    panic!("the body did not end in 10 000 chunks");
}

/// The body chunks of a response that must not abort.
fn drain_ok(response: &mut Handled) -> Vec<Bytes> {
    let (chunks, aborted) = drain(response);
    assert!(aborted.is_none(), "aborted: {aborted:?}");
    chunks
}

fn text(chunks: &[Bytes]) -> String {
    String::from_utf8(chunks.concat()).unwrap()
}

/// What a probed body yields: a chunk, or `Err("panic")` / `Err(message)`.
type Items = Vec<Result<&'static str, &'static str>>;

/// A body that counts its pulls and records its close.
#[derive(Clone, Default)]
struct Probe {
    pulls: Arc<AtomicUsize>,
    closed: Arc<AtomicBool>,
}

impl Probe {
    fn body(&self, items: Items) -> Body {
        Body::try_iter(Probed {
            probe: self.clone(),
            items: items.into_iter(),
        })
    }
    fn pulls(&self) -> usize {
        self.pulls.load(Ordering::SeqCst)
    }
    fn closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

struct Probed {
    probe: Probe,
    items: std::vec::IntoIter<Result<&'static str, &'static str>>,
}

impl Iterator for Probed {
    type Item = Result<&'static str, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        self.probe.pulls.fetch_add(1, Ordering::SeqCst);
        match self.items.next()? {
            Ok(chunk) => Some(Ok(chunk)),
            Err("panic") => panic!("the body panicked"),
            Err(msg) => Some(Err(Error::msg(msg))),
        }
    }
}

impl Drop for Probed {
    fn drop(&mut self) {
        self.probe.closed.store(true, Ordering::SeqCst);
    }
}

// ----- the deferred head -----

#[test]
fn the_head_is_not_final_until_the_first_non_empty_chunk() {
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", [("X-Old", "1")])?;
        let mut step = 0;
        Ok(Body::try_iter(std::iter::from_fn(move || {
            step += 1;
            match step {
                1 | 2 => Some(Ok(Bytes::new())),
                3 => Some(
                    sr.start_with_error("503 Busy", [("X-New", "1")], Error::msg("db down"))
                        .map(|_| Bytes::from_static(b"sorry")),
                ),
                _ => None,
            }
        })))
    };
    let (mut response, _) = run(&app);
    assert_eq!(response.head.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.head.headers.contains_key("x-new"));
    assert!(!response.head.headers.contains_key("x-old"));
    assert_eq!(text(&drain(&mut response).0), "sorry");
}

#[test]
fn start_response_may_be_called_in_the_first_next() {
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        let mut sr = Some(sr);
        Ok(Body::try_iter(["lazy", " body"].into_iter().map(
            move |chunk| {
                if let Some(sr) = sr.take() {
                    sr.start("201 Created", [("Content-Type", "text/plain")])?;
                }
                Ok::<_, Error>(chunk)
            },
        )))
    };
    let (mut response, _) = run(&app);
    assert_eq!(response.head.status, StatusCode::CREATED);
    assert_eq!(text(&drain(&mut response).0), "lazy body");
}

#[test]
fn a_body_of_only_empty_chunks_is_an_empty_response() {
    let probe = Probe::default();
    let p = probe.clone();
    let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", ())?;
        Ok(p.body(vec![Ok(""), Ok(""), Ok("")]))
    };
    let (mut response, _) = run(&app);
    assert_eq!(response.head.status, StatusCode::OK);
    assert_eq!(response.body.content_length(), Some(0));
    assert_eq!(drain_ok(&mut response), Vec::<Bytes>::new());
    assert_eq!(probe.pulls(), 4);
    assert!(probe.closed());
}

// ----- write -----

#[test]
fn write_data_comes_out_in_order_with_the_body() {
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        let write = sr.start("200 OK", ())?;
        write.write("1")?;
        write.write("2")?;
        let mut n = 0;
        Ok(Body::try_iter(std::iter::from_fn(move || {
            n += 1;
            match n {
                1 => Some(Ok(Bytes::from_static(b"3"))),
                2 => Some(write.write("4").map(|()| Bytes::from_static(b"5"))),
                3 => Some(write.write("6").map(|()| Bytes::new())),
                // written during the last next(): still sent
                4 => write.write("7").err().map(Err),
                _ => None,
            }
        })))
    };
    let (mut response, _) = run(&app);
    let (chunks, aborted) = drain(&mut response);
    assert!(aborted.is_none());
    assert_eq!(text(&chunks), "1234567");
    assert_eq!(response.body.content_length(), None);
}

#[test]
fn write_after_the_response_is_closed_is_client_gone() {
    let kept: Arc<Mutex<Option<Writer>>> = Arc::default();
    let k = kept.clone();
    let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        let write = sr.start("200 OK", ())?;
        *k.lock().unwrap() = Some(write);
        Ok(Body::from("done"))
    };
    let (mut response, _) = run(&app);
    let write = kept.lock().unwrap().take().unwrap();
    write
        .write("still open")
        .unwrap_or_else(|e| panic!("open until the end: {e}"));
    drain(&mut response);
    assert!(matches!(write.write("too late"), Err(Error::ClientGone)));
}

#[test]
fn exc_info_drops_write_data_of_the_replaced_response() {
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        let write = sr.start("200 OK", ())?;
        write.write("half of the page")?;
        sr.start_with_error("500 Oops", (), Error::msg("template failed"))?;
        Ok(Body::from("error page"))
    };
    let (mut response, _) = run(&app);
    assert_eq!(response.head.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(text(&drain(&mut response).0), "error page");
}

#[test]
fn exc_info_after_the_head_re_raises_the_original_error() {
    let seen: Arc<Mutex<Option<String>>> = Arc::default();
    let s = seen.clone();
    let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", ())?;
        let s = s.clone();
        let mut n = 0;
        Ok(Body::try_iter(std::iter::from_fn(move || {
            n += 1;
            match n {
                1 => Some(Ok(Bytes::from_static(b"head is out"))),
                2 => {
                    let err = sr.start_with_error("500 Oops", (), Error::msg("the original"));
                    let err = err.expect_err("a re-raise, not a new head");
                    *s.lock().unwrap() = Some(err.to_string());
                    Some(Err(err))
                }
                _ => None,
            }
        })))
    };
    let (mut response, log) = run(&app);
    assert_eq!(response.head.status, StatusCode::OK);
    let (chunks, aborted) = drain(&mut response);
    assert_eq!(text(&chunks), "head is out");
    assert_eq!(seen.lock().unwrap().as_deref(), Some("the original"));
    assert_eq!(aborted.unwrap().to_string(), "the original");
    assert!(log.contains("the original"));
}

// ----- Content-Length and framing -----

#[test]
fn content_length_is_known_for_a_whole_body_only() {
    fn length(body: impl Fn() -> Body + Send + Sync + 'static, write: bool) -> Option<u64> {
        let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
            let w = sr.start("200 OK", ())?;
            if write {
                w.write("w")?;
            }
            Ok(body())
        };
        let (mut response, _) = run(&app);
        let len = response.body.content_length();
        let (chunks, aborted) = drain(&mut response);
        assert!(aborted.is_none());
        if let Some(len) = len {
            assert_eq!(chunks.concat().len() as u64, len);
        }
        len
    }
    assert_eq!(length(|| Body::from("hello"), false), Some(5));
    assert_eq!(length(Body::empty, false), Some(0));
    // wsgiref's rule: a body of one block is whole once that block is read.
    assert_eq!(length(|| Body::iter(["one block"]), false), Some(9));
    assert_eq!(length(|| Body::iter(["two", "blocks"]), false), None);
    assert_eq!(length(|| Body::from("hello"), true), None);
    assert_eq!(length(|| Body::iter(["one block"]), true), None);
    // A generator of unknown size: the head goes with its first block.
    let lazy = || {
        let mut once = Some("x");
        Body::iter(std::iter::from_fn(move || once.take()))
    };
    assert_eq!(length(lazy, false), None);
}

#[test]
fn a_declared_body_length_becomes_the_content_length() {
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", ())?;
        Ok(Body::iter(["ab", "cd"]).with_len(4))
    };
    let (mut response, _) = run(&app);
    assert_eq!(response.head.headers["content-length"], "4");
    assert_eq!(response.body.content_length(), Some(4));
    assert_eq!(text(&drain(&mut response).0), "abcd");
}

#[test]
fn a_file_larger_than_one_block_keeps_its_whole_length() {
    let data: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
    let copy = data.clone();
    let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", ())?;
        let reader = std::io::Cursor::new(copy.clone());
        Ok(Body::reader(reader, 64 * 1024).with_len(150_000))
    };
    let (mut response, log) = run(&app);
    assert_eq!(response.head.headers["content-length"], "150000");
    assert_eq!(response.body.content_length(), Some(150_000));
    assert_eq!(drain_ok(&mut response).concat(), data);
    assert!(log.lines().is_empty(), "{:?}", log.lines());
}

#[test]
fn a_small_file_is_a_whole_body() {
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", ())?;
        Ok(Body::reader(std::io::Cursor::new(b"tiny file".to_vec()), 64 * 1024).with_len(9))
    };
    let (mut response, _) = run(&app);
    assert_eq!(response.body.content_length(), Some(9));
    assert_eq!(drain_ok(&mut response), [Bytes::from_static(b"tiny file")]);
}

#[test]
fn an_overrun_is_cut_logged_and_the_body_not_pulled_further() {
    for (chunks, cut) in [
        (vec![Ok("abcdef"), Ok("ghi")], vec!["abc"]),
        (vec![Ok("ab"), Ok("cdef"), Ok("g")], vec!["ab", "c"]),
    ] {
        let probe = Probe::default();
        let p = probe.clone();
        let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", [("Content-Length", "3")])?;
            Ok(p.body(chunks.clone()))
        };
        let (mut response, log) = run(&app);
        assert_eq!(response.body.content_length(), Some(3));
        let (got, aborted) = drain(&mut response);
        assert!(aborted.is_none());
        assert_eq!(got, cut);
        assert_eq!(probe.pulls(), cut.len(), "not pulled past the length");
        assert!(probe.closed());
        assert!(
            log.contains("overran its Content-Length of 3 bytes"),
            "{:?}",
            log.lines()
        );
    }
}

#[test]
fn an_underrun_is_an_error_at_the_end() {
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", [("Content-Length", "10")])?;
        Ok(Body::iter(["abc", "de"]))
    };
    let (mut response, log) = run(&app);
    let (chunks, aborted) = drain(&mut response);
    assert_eq!(text(&chunks), "abcde");
    assert!(matches!(
        aborted,
        Some(Error::ContentLengthUnderrun {
            declared: 10,
            sent: 5
        })
    ));
    assert!(log.contains("after 5 of the 10 bytes"));
}

#[test]
fn content_length_zero_goes_without_pulling_the_body() {
    let probe = Probe::default();
    let p = probe.clone();
    let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", [("Content-Length", "0")])?;
        Ok(p.body(vec![Ok("never")]))
    };
    let (mut response, _) = run(&app);
    assert_eq!(response.body.content_length(), Some(0));
    assert_eq!(drain_ok(&mut response), Vec::<Bytes>::new());
    assert_eq!(probe.pulls(), 0);
    assert!(probe.closed());
}

#[test]
fn bodies_of_head_1xx_204_205_304_are_stripped_with_the_right_framing() {
    // (method, status, app's Content-Length, body) -> (length, Content-Length header)
    type Case = (
        Method,
        &'static str,
        Option<&'static str>,
        fn() -> Body,
        Option<u64>,
        Option<&'static str>,
    );
    let cases: [Case; 8] = [
        (
            Method::HEAD,
            "200 OK",
            None,
            || Body::from("a GET's body"),
            Some(12),
            None,
        ),
        (
            Method::HEAD,
            "200 OK",
            Some("12"),
            || Body::iter(["a GET's", " body"]),
            Some(12),
            Some("12"),
        ),
        (
            Method::HEAD,
            "200 OK",
            None,
            || Body::iter(["ab"]).with_len(2),
            Some(2),
            Some("2"),
        ),
        (
            Method::GET,
            "204 No Content",
            Some("5"),
            || Body::from("nope!"),
            None,
            None,
        ),
        (
            Method::GET,
            "103 Early Hints",
            Some("5"),
            || Body::from("nope!"),
            None,
            None,
        ),
        (
            Method::GET,
            "205 Reset Content",
            Some("5"),
            || Body::from("nope!"),
            Some(0),
            None,
        ),
        (
            Method::GET,
            "304 Not Modified",
            Some("1234"),
            || Body::from("nope!"),
            Some(1234),
            Some("1234"),
        ),
        (
            Method::GET,
            "304 Not Modified",
            None,
            || Body::from("nope!"),
            None,
            None,
        ),
    ];
    for (method, status, length, body, want_len, want_header) in cases {
        let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
            let headers: Vec<(&str, &str)> =
                length.iter().map(|l| ("Content-Length", *l)).collect();
            sr.start(status, headers)?;
            Ok(body())
        };
        let (mut response, log) = run_method(&app, method.clone());
        let case = format!("{method} {status}");
        assert_eq!(response.head.status.as_str(), &status[..3], "{case}");
        assert_eq!(response.body.content_length(), want_len, "{case}");
        let header = response
            .head
            .headers
            .get("content-length")
            .map(|v| v.to_str().unwrap());
        assert_eq!(header, want_header, "{case}");
        assert_eq!(drain_ok(&mut response), Vec::<Bytes>::new(), "{case}");
        assert!(log.lines().is_empty(), "{case}: {:?}", log.lines());
    }
}

#[test]
fn an_invalid_content_length_is_a_500() {
    for bad in ["abc", "-1", "+5", "1 2", ""] {
        let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", [("Content-Length", bad)])?;
            Ok(Body::from("x"))
        };
        let (mut response, log) = run(&app);
        assert_eq!(
            response.head.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{bad:?}"
        );
        assert_eq!(text(&drain(&mut response).0), "Internal Server Error\n");
        assert!(log.contains("content-length"), "{bad:?}: {:?}", log.lines());
    }
    // Disagreeing repeats, and one set by a middleware after start_response.
    let twice = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", [("Content-Length", "1"), ("Content-Length", "2")])?;
        Ok(Body::from("x"))
    };
    assert_eq!(run(&twice).0.head.status, StatusCode::INTERNAL_SERVER_ERROR);
    struct BadLength;
    impl Intercept for BadLength {
        fn head(&mut self, head: &mut Head, _: BodyInfo) -> Result<(), Error> {
            head.headers
                .insert("content-length", http::HeaderValue::from_static("x"));
            Ok(())
        }
    }
    let intercepted = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.intercept(BadLength);
        sr.start("200 OK", ())?;
        Ok(Body::iter(["a", "b"]))
    };
    assert_eq!(
        run(&intercepted).0.head.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[test]
fn repeated_equal_content_lengths_go_out_once() {
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", [("Content-Length", "1"), ("Content-Length", "1")])?;
        Ok(Body::from("x"))
    };
    let (response, _) = run(&app);
    assert_eq!(
        response
            .head
            .headers
            .get_all("content-length")
            .iter()
            .count(),
        1
    );
}

// ----- errors and panics -----

#[test]
fn an_error_or_panic_before_the_head_is_a_500_and_logged() {
    let failing: [(&str, Box<dyn gateway_core::App>); 5] = [
        (
            "app error",
            Box::new(|_: Environ, _: StartResponse| -> Result<Body, Error> {
                Err(Error::msg("boom: app"))
            }),
        ),
        (
            "app panic",
            Box::new(|_: Environ, _: StartResponse| -> Result<Body, Error> {
                panic!("boom: panic")
            }),
        ),
        (
            "first chunk error",
            Box::new(|_: Environ, sr: StartResponse| -> Result<Body, Error> {
                sr.start("200 OK", ())?;
                Ok(Body::try_iter([Err::<&str, _>(Error::msg("boom: chunk"))]))
            }),
        ),
        (
            "first chunk panic",
            Box::new(|_: Environ, sr: StartResponse| -> Result<Body, Error> {
                sr.start("200 OK", ())?;
                Ok(Body::try_iter(std::iter::from_fn(
                    || -> Option<Result<&str, Error>> { panic!("boom: next") },
                )))
            }),
        ),
        (
            "bad head",
            Box::new(|_: Environ, sr: StartResponse| -> Result<Body, Error> {
                sr.start("200 OK", [("X-Split", "a\r\nSet-Cookie: evil")])?;
                Ok(Body::from("never"))
            }),
        ),
    ];
    for (case, app) in failing {
        let (mut response, log) = run(&*app);
        assert_eq!(
            response.head.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{case}"
        );
        assert_eq!(
            response.head.headers["content-type"],
            "text/plain; charset=utf-8"
        );
        assert_eq!(response.body.content_length(), Some(22), "{case}");
        assert_eq!(
            drain_ok(&mut response),
            vec![Bytes::from_static(b"Internal Server Error\n")],
            "{case}"
        );
        assert!(
            log.contains("boom") || log.contains("X-Split") || log.contains("x-split"),
            "{case}: {:?}",
            log.lines()
        );
    }
}

#[test]
fn an_error_or_panic_after_the_head_aborts_and_is_logged() {
    for (item, want) in [
        ("failed", "failed"),
        ("panic", "the app panicked: the body panicked"),
    ] {
        let probe = Probe::default();
        let p = probe.clone();
        let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", ())?;
            Ok(p.body(vec![Ok("first"), Err(item), Ok("never")]))
        };
        let (mut response, log) = run(&app);
        assert_eq!(response.head.status, StatusCode::OK);
        let (chunks, aborted) = drain(&mut response);
        assert_eq!(text(&chunks), "first");
        assert_eq!(aborted.unwrap().to_string(), want);
        assert!(log.contains(want), "{:?}", log.lines());
        assert!(probe.closed());
        assert_eq!(probe.pulls(), 2);
    }
}

#[test]
fn a_body_without_start_response_is_a_500() {
    let app = |_: Environ, _: StartResponse| -> Result<Body, Error> { Ok(Body::from("orphan")) };
    let (mut response, log) = run(&app);
    assert_eq!(response.head.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(text(&drain(&mut response).0), "Internal Server Error\n");
    assert!(log.contains("without calling start_response"));
    let empty = |_: Environ, _: StartResponse| -> Result<Body, Error> { Ok(Body::empty()) };
    assert_eq!(run(&empty).0.head.status, StatusCode::INTERNAL_SERVER_ERROR);
}

// ----- close -----

#[test]
fn the_body_is_closed_on_every_path() {
    type Drive = fn(Handled);
    let complete: Drive = |mut r| assert!(drain(&mut r).1.is_none());
    let aborted: Drive = |mut r| assert!(drain(&mut r).1.is_some());
    let early: Drive = |mut r| {
        assert!(r.body.next().is_some());
        drop(r);
    };
    let cases: [(&str, Items, Drive); 5] = [
        ("normal end", vec![Ok("a"), Ok("b")], complete),
        ("error", vec![Ok("a"), Err("failed")], aborted),
        ("panic in next", vec![Ok("a"), Err("panic")], aborted),
        ("error before the head", vec![Err("failed")], complete),
        (
            "server drops the response early",
            vec![Ok("a"), Ok("b"), Ok("c")],
            early,
        ),
    ];
    for (case, items, drive) in cases {
        let probe = Probe::default();
        let p = probe.clone();
        let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", ())?;
            Ok(p.body(items.clone()))
        };
        let (response, _) = run(&app);
        drive(response);
        assert!(probe.closed(), "{case}: not closed");
    }
}

#[test]
fn a_panic_in_the_body_drop_does_not_propagate() {
    struct PanicOnDrop;
    impl Iterator for PanicOnDrop {
        type Item = &'static str;
        fn next(&mut self) -> Option<&'static str> {
            None
        }
    }
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("close failed");
        }
    }
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", ())?;
        Ok(Body::iter(["x"].into_iter().chain(PanicOnDrop)))
    };
    let (mut response, log) = run(&app);
    assert_eq!(drain_ok(&mut response), vec![Bytes::from_static(b"x")]);
    assert!(log.contains("panicked while closing"));
    // and when the server drops it early
    let (response, log) = run(&app);
    drop(response);
    assert!(log.contains("panicked while closing"));
}

// ----- interceptors -----

/// Records what it sees, and tags the data it passes on.
struct Tag {
    name: &'static str,
    seen: Arc<Mutex<Vec<String>>>,
    outcome: Arc<Mutex<Option<Outcome>>>,
}

impl Tag {
    fn note(&self, what: String) {
        self.seen
            .lock()
            .unwrap()
            .push(format!("{}:{what}", self.name));
    }
}

impl Intercept for Tag {
    fn head(&mut self, head: &mut Head, _: BodyInfo) -> Result<(), Error> {
        self.note(format!("head {}", head.status.as_str()));
        head.headers
            .append("x-via", http::HeaderValue::from_static(self.name));
        Ok(())
    }
    fn data(&mut self, chunk: Bytes) -> Result<Bytes, Error> {
        self.note(String::from_utf8_lossy(&chunk).into_owned());
        Ok(format!("{}({})", self.name, String::from_utf8_lossy(&chunk)).into())
    }
    fn end(&mut self) -> Result<Bytes, Error> {
        self.note("end".into());
        Ok(format!("[{}]", self.name).into())
    }
    fn finish(&mut self, outcome: &Outcome) {
        self.note("finish".into());
        *self.outcome.lock().unwrap() = Some(outcome.clone());
    }
}

#[derive(Clone, Default)]
struct Seen {
    seen: Arc<Mutex<Vec<String>>>,
    outer: Arc<Mutex<Option<Outcome>>>,
    inner: Arc<Mutex<Option<Outcome>>>,
}

fn tagged(seen: Seen, chunks: &'static [&'static str]) -> impl gateway_core::App {
    move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        // The outer middleware is called first and registers first.
        sr.intercept(Tag {
            name: "outer",
            seen: seen.seen.clone(),
            outcome: seen.outer.clone(),
        });
        sr.intercept(Tag {
            name: "inner",
            seen: seen.seen.clone(),
            outcome: seen.inner.clone(),
        });
        sr.start("200 OK", ())?;
        Ok(Body::iter(chunks.iter().copied()))
    }
}

#[test]
fn interceptors_run_innermost_first() {
    let seen = Seen::default();
    let (mut response, _) = run(&tagged(seen.clone(), &["a", "b"]));
    let via: Vec<_> = response.head.headers.get_all("x-via").iter().collect();
    assert_eq!(via, ["inner", "outer"]);
    let (chunks, aborted) = drain(&mut response);
    assert!(aborted.is_none());
    assert_eq!(
        text(&chunks),
        "outer(inner(a))outer(inner(b))outer([inner])[outer]"
    );
    assert_eq!(
        *seen.seen.lock().unwrap(),
        [
            "inner:head 200",
            "outer:head 200",
            "inner:a",
            "outer:inner(a)",
            "inner:b",
            "outer:inner(b)",
            "inner:end",
            "outer:[inner]",
            "outer:end",
            "inner:finish",
            "outer:finish",
        ]
    );
    let outcome = seen.outer.lock().unwrap().clone().unwrap();
    assert_eq!(outcome.status, StatusCode::OK);
    assert_eq!(outcome.bytes_sent, chunks.concat().len() as u64);
    assert_eq!(outcome.end, End::Complete);
    assert!(outcome.values.is_empty());
}

#[test]
fn finish_reports_client_gone_on_an_early_drop() {
    let seen = Seen::default();
    let (mut response, _) = run(&tagged(seen.clone(), &["a", "b", "c"]));
    let first = response.body.next().unwrap().unwrap();
    drop(response);
    let outcome = seen.outer.lock().unwrap().clone().unwrap();
    assert_eq!(outcome.end, End::ClientGone);
    assert_eq!(outcome.bytes_sent, first.len() as u64);
    assert_eq!(
        seen.inner.lock().unwrap().as_ref().unwrap().end,
        End::ClientGone
    );
}

#[test]
fn finish_reports_the_500_when_the_app_fails_before_its_head() {
    let seen = Seen::default();
    let s = seen.clone();
    let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.intercept(Tag {
            name: "outer",
            seen: s.seen.clone(),
            outcome: s.outer.clone(),
        });
        Err(Error::msg("no head"))
    };
    let (mut response, _) = run(&app);
    assert_eq!(response.head.headers["x-via"], "outer");
    let (chunks, _) = drain(&mut response);
    assert_eq!(text(&chunks), "outer(Internal Server Error\n)[outer]");
    let outcome = seen.outer.lock().unwrap().clone().unwrap();
    assert_eq!(
        (outcome.status, outcome.end),
        (StatusCode::INTERNAL_SERVER_ERROR, End::Complete)
    );
    assert_eq!(outcome.bytes_sent, chunks.concat().len() as u64);
}

#[test]
fn a_panicking_interceptor_is_a_500_before_the_head_and_an_abort_after() {
    struct Explode {
        at_data: bool,
    }
    impl Intercept for Explode {
        fn head(&mut self, _: &mut Head, _: BodyInfo) -> Result<(), Error> {
            if !self.at_data {
                panic!("interceptor head");
            }
            Ok(())
        }
        fn data(&mut self, chunk: Bytes) -> Result<Bytes, Error> {
            if chunk == "second" {
                panic!("interceptor data");
            }
            Ok(chunk)
        }
    }
    for at_data in [false, true] {
        let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.intercept(Explode { at_data });
            sr.start("200 OK", ())?;
            Ok(Body::iter(["first", "second"]))
        };
        let (mut response, log) = run(&app);
        let (chunks, aborted) = drain(&mut response);
        if at_data {
            assert_eq!(response.head.status, StatusCode::OK);
            assert_eq!(text(&chunks), "first");
            assert!(matches!(aborted, Some(Error::Panic { .. })));
            assert!(log.contains("interceptor data"));
        } else {
            assert_eq!(response.head.status, StatusCode::INTERNAL_SERVER_ERROR);
            assert!(log.contains("interceptor head"));
        }
    }
}

#[test]
fn values_published_by_inner_layers_reach_the_outer_interceptors() {
    use gateway_core::{Next, Stack, middleware_fn, testing::Client};

    struct Keep(Arc<Mutex<Option<Outcome>>>);
    impl Intercept for Keep {
        fn finish(&mut self, outcome: &Outcome) {
            *self.0.lock().unwrap() = Some(outcome.clone());
        }
    }

    let kept = Arc::new(Mutex::new(None));
    let outer_kept = kept.clone();
    // Outer: watches the response; inner: publishes a user twice (the last wins),
    // in an environ the outer layer never sees again.
    let outer = middleware_fn(move |environ: Environ, sr: StartResponse, next: Next<'_>| {
        sr.intercept(Keep(outer_kept.clone()));
        next.call(environ, sr)
    });
    let inner = middleware_fn(|mut environ: Environ, sr: StartResponse, next: Next<'_>| {
        sr.publish(RemoteUser::new("first", "Basic"));
        sr.publish(RemoteUser::new("alice", "Basic"));
        environ.set_var("REMOTE_USER", "alice")?;
        next.call(environ, sr)
    });
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", ())?;
        Ok(Body::from("hi"))
    };
    let response = Client::new(Stack::new().with(outer).with(inner).wrap(app))
        .get("/")
        .send();
    assert_eq!(response.text(), "hi");
    let outcome = kept.lock().unwrap().clone().expect("finish was called");
    assert_eq!(
        outcome.get::<RemoteUser>(),
        Some(&RemoteUser::new("alice", "Basic"))
    );
    assert_eq!(outcome.values.len(), 1);
    assert_eq!(outcome.get::<String>(), None);
}

#[test]
fn closures_change_the_head_and_see_the_outcome() {
    use gateway_core::{Next, Stack, middleware_fn, testing::Client};

    let finished = Arc::new(Mutex::new(Vec::new()));
    let log = finished.clone();
    let hooks = middleware_fn(move |environ: Environ, sr: StartResponse, next: Next<'_>| {
        let log = log.clone();
        sr.on_head(|head| head.set_header("x-served-by", "gateway"));
        sr.on_finish(move |outcome| log.lock().unwrap().push((outcome.status, outcome.end)));
        next.call(environ, sr)
    });
    // The app calls start_response lazily, from its body: the hook still
    // sees the final head.
    let lazy = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        let mut sr = Some(sr);
        Ok(Body::try_iter(std::iter::from_fn(move || {
            let sr = sr.take()?;
            Some(
                sr.start("201 Created", ())
                    .map(|_| Bytes::from_static(b"made")),
            )
        })))
    };
    let response = Client::new(Stack::new().with(hooks.clone()).wrap(lazy))
        .get("/")
        .send();
    assert_eq!(response.status, 201);
    assert_eq!(response.header("x-served-by"), Some("gateway"));

    // A header the rules refuse is the app's error: a 500, and still finished.
    let bad = middleware_fn(|environ: Environ, sr: StartResponse, next: Next<'_>| {
        sr.on_head(|head| head.set_header("x-split", "a\r\nSet-Cookie: evil"));
        next.call(environ, sr)
    });
    let ok = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", ())?;
        Ok(Body::from("fine"))
    };
    let response = Client::new(Stack::new().with(hooks).with(bad).wrap(ok))
        .get("/")
        .send();
    assert_eq!(response.status, 500);
    assert_eq!(response.header("set-cookie"), None);
    assert_eq!(
        *finished.lock().unwrap(),
        [
            (StatusCode::CREATED, End::Complete),
            (StatusCode::INTERNAL_SERVER_ERROR, End::Complete)
        ]
    );
}

/// An interceptor that records the `BodyInfo` its head hook is given.
struct See(Arc<Mutex<Vec<BodyInfo>>>);

impl Intercept for See {
    fn head(&mut self, _: &mut Head, body: BodyInfo) -> Result<(), Error> {
        self.0.lock().unwrap().push(body);
        Ok(())
    }
}

#[test]
fn a_first_chunk_that_fills_the_content_length_is_a_whole_body() {
    // A framework's answer (Flask's): one block from an iterator of unknown
    // size, under the Content-Length it computed. The interceptors see it
    // whole (gzip compresses it in one shot), and nothing more is pulled.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let pulled = Arc::new(Mutex::new(0));
    for length in ["4", "6"] {
        let (seen, pulled) = (seen.clone(), pulled.clone());
        let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.intercept(See(seen.clone()));
            sr.start("200 OK", [("Content-Length", length)])?;
            let pulled = pulled.clone();
            let mut chunks = ["abcd", "ef"].into_iter();
            Ok(Body::iter(std::iter::from_fn(move || {
                *pulled.lock().unwrap() += 1;
                chunks.next()
            })))
        };
        let (mut response, log) = run(&app);
        let want = if length == "4" { "abcd" } else { "abcdef" };
        assert_eq!(response.head.headers["content-length"], length);
        assert_eq!(text(&drain_ok(&mut response)), want);
        assert!(log.lines().is_empty(), "{:?}", log.lines());
    }
    assert_eq!(
        *seen.lock().unwrap(),
        [BodyInfo::whole(4), BodyInfo::streamed(None)]
    );
    // "4": one pull. "6": two chunks, and the end is not pulled for: the
    // Content-Length was reached.
    assert_eq!(*pulled.lock().unwrap(), 3);
}

#[test]
fn the_head_hook_knows_a_whole_body_from_a_stream() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    for streamed in [false, true] {
        let seen = seen.clone();
        let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.intercept(See(seen.clone()));
            sr.start("200 OK", ())?;
            Ok(if streamed {
                Body::iter(["ab", "cd"])
            } else {
                Body::from("abcd")
            })
        };
        let environ = Environ::new(http::Method::GET, http::Uri::from_static("/"));
        let mut response = Handler::new().run(&app, environ);
        assert_eq!(text(&drain_ok(&mut response)), "abcd");
    }
    assert_eq!(
        *seen.lock().unwrap(),
        [BodyInfo::whole(4), BodyInfo::streamed(None)]
    );
}
