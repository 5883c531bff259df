//! Python WSGI apps (examples/python/wsgi_apps.py) served through `PyApp`,
//! each wrapped in `wsgiref.validate.validator` with its warnings made
//! errors, so the stdlib's own checker judges our environ, our
//! start_response and our handling of the returned iterable.

use std::ffi::CString;
use std::sync::{Arc, Mutex};

use gateway_core::testing::Client;
use gateway_core::{App, ErrorStream, Middleware};
use gateway_python::PyApp;
use pyo3::prelude::*;
use pyo3::types::PyModule;

const APPS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/python");

/// The test apps' module, imported once (sys.path gets examples/python).
fn apps(py: Python<'_>) -> Bound<'_, PyModule> {
    let sys = py.import("sys").unwrap();
    let path = sys.getattr("path").unwrap();
    if !path.contains(APPS).unwrap() {
        path.call_method1("insert", (0, APPS)).unwrap();
    }
    let warnings = py.import("warnings").unwrap();
    let validate = py.import("wsgiref.validate").unwrap();
    warnings
        .call_method1(
            "simplefilter",
            ("error", validate.getattr("WSGIWarning").unwrap()),
        )
        .unwrap();
    py.import("wsgi_apps").unwrap()
}

/// `name` from wsgi_apps.py, wrapped in wsgiref's validator.
fn validated(name: &str) -> PyApp {
    Python::attach(|py| {
        let app = apps(py).getattr(name).unwrap();
        let validator = py
            .import("wsgiref.validate")
            .unwrap()
            .getattr("validator")
            .unwrap();
        PyApp::new(validator.call1((app,)).unwrap().unbind())
    })
}

/// `name` from wsgi_apps.py, not validated (the test says why).
fn raw(name: &str) -> PyApp {
    Python::attach(|py| PyApp::new(apps(py).getattr(name).unwrap().unbind()))
}

/// The `app` of a module made from `code` (not validated: the test says why).
fn from_code(code: &std::ffi::CStr, name: &std::ffi::CStr) -> PyApp {
    Python::attach(|py| {
        let module = PyModule::from_code(py, code, name, name).unwrap();
        PyApp::new(module.getattr("app").unwrap().unbind())
    })
}

fn log() -> (ErrorStream, Arc<Mutex<String>>) {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    let stream = ErrorStream::to_fn(move |line| {
        let mut text = sink.lock().unwrap();
        text.push_str(line);
        text.push('\n');
    });
    (stream, text)
}

fn closed() -> Vec<String> {
    Python::attach(|py| apps(py).getattr("CLOSED").unwrap().extract().unwrap())
}

#[test]
fn hello() {
    let response = Client::new(validated("hello")).get("/").send();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("text/plain"));
    assert_eq!(response.text(), "Hello, World!");
    assert!(response.aborted.is_none());
}

#[test]
fn the_example_hello_imports_by_module_and_callable() {
    Python::attach(|py| {
        apps(py);
    });
    let app = PyApp::import("hello:application").unwrap();
    assert_eq!(Client::new(app).get("/").send().text(), "Hello, World!\n");
    let err = PyApp::import("no_such_module_here:app").unwrap_err();
    assert!(err.to_string().contains("ModuleNotFoundError"), "{err}");
    assert!(PyApp::import(":app").is_err());
}

#[test]
fn inline_app_from_code() {
    let app = Python::attach(|py| {
        let code = CString::new(
            "def app(environ, start_response):\n    start_response('201 Created', [('Content-Type', 'text/plain'), ('X-Inline', 'yes')])\n    return [b'inline']\n",
        )
        .unwrap();
        let module = PyModule::from_code(py, &code, c"inline.py", c"inline").unwrap();
        let validator = py
            .import("wsgiref.validate")
            .unwrap()
            .getattr("validator")
            .unwrap();
        PyApp::new(
            validator
                .call1((module.getattr("app").unwrap(),))
                .unwrap()
                .unbind(),
        )
    });
    let response = Client::new(app).get("/").send();
    assert_eq!(response.status, 201);
    assert_eq!(response.header("x-inline"), Some("yes"));
    assert_eq!(response.text(), "inline");
}

#[test]
fn lazy_start_response_in_a_generator() {
    let response = Client::new(validated("lazy")).get("/").send();
    assert_eq!(response.status, 200);
    assert_eq!(response.chunks, ["lazy ", "generator"]);
}

#[test]
fn write_callable_comes_before_the_returned_body() {
    let response = Client::new(validated("writer")).get("/").send();
    assert_eq!(response.text(), "written returned");
}

#[test]
fn exc_info_before_the_head_replaces_the_response() {
    let response = Client::new(validated("exc_info_before_head"))
        .get("/")
        .send();
    assert_eq!(response.status, 503);
    assert_eq!(response.text(), "replaced");
}

#[test]
fn exc_info_after_the_head_reraises_and_aborts() {
    let (errors, text) = log();
    let response = Client::new(validated("exc_info_after_head"))
        .get("/")
        .errors(errors)
        .send();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "part one");
    let aborted = response.aborted.expect("aborted").to_string();
    assert!(
        aborted.contains("ValueError: too late to change"),
        "{aborted}"
    );
    drop(text);
}

#[test]
fn an_exception_before_the_head_is_a_500_with_the_traceback_logged() {
    let (errors, text) = log();
    let response = Client::new(validated("raise_before_head"))
        .get("/x")
        .errors(errors)
        .send();
    assert_eq!(response.status, 500);
    let log = text.lock().unwrap().clone();
    assert!(log.contains("Traceback (most recent call last)"), "{log}");
    assert!(log.contains("wsgi_apps.py"), "{log}");
    assert!(
        log.contains("RuntimeError: broken before the head"),
        "{log}"
    );
}

#[test]
fn an_exception_after_the_head_aborts_the_response() {
    let response = Client::new(validated("raise_after_head")).get("/").send();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "part one");
    let aborted = response.aborted.expect("aborted").to_string();
    assert!(
        aborted.contains("RuntimeError: broken after the head"),
        "{aborted}"
    );
    assert!(aborted.contains("Traceback"), "{aborted}");
}

#[test]
fn start_response_raises_the_rule_it_broke() {
    let response = Client::new(validated("bad_header")).get("/").send();
    assert_eq!(response.status, 200);
    assert!(
        response.text().contains("hop-by-hop"),
        "{}",
        response.text()
    );
}

#[test]
fn close_is_called_at_the_end_on_error_and_when_the_client_goes() {
    let client = Client::new(validated("closing"));
    assert_eq!(client.get("/?end").send().text(), "abc");
    assert!(closed().contains(&"end".to_owned()));

    let response = client.get("/?error").send();
    assert!(response.aborted.is_some());
    assert!(closed().contains(&"error".to_owned()));

    // The client goes after the first chunk: the body is dropped.
    let mut handled = client.get("/?gone").run();
    assert!(handled.body.next().is_some());
    assert!(!closed().contains(&"gone".to_owned()));
    drop(handled);
    assert!(closed().contains(&"gone".to_owned()));
}

#[test]
fn wsgi_input_read_readline_and_iteration() {
    let response = Client::new(validated("echo_input"))
        .post("/")
        .body("12345first\nsecond\nthird\nlast")
        .send();
    assert_eq!(
        response.text(),
        "[b'12345', b'first\\n', b'sec', [b'ond\\n', b'third\\n', b'last'], b'']"
    );
}

#[test]
fn wsgi_input_chunked_request_is_terminated() {
    let response = Client::new(validated("echo_input"))
        .post("/")
        .body("12345a\nb\n")
        .chunked()
        .send();
    assert_eq!(response.text(), "[b'12345', b'a\\n', b'b\\n', [], b'']");
}

#[test]
fn wsgi_input_readlines_with_a_hint() {
    let response = Client::new(validated("read_lines"))
        .post("/")
        .body("one\ntwo\nthree\nfour\n")
        .send();
    assert_eq!(
        response.text(),
        "[[b'one\\n', b'two\\n'], [b'three\\n', b'four\\n']]"
    );
}

#[test]
fn streaming_upload_read_in_blocks() {
    let body = vec![b'x'; 3 * 65536 + 17];
    let response = Client::new(validated("upload")).post("/").body(body).send();
    assert_eq!(response.text(), (3 * 65536 + 17).to_string());
}

#[test]
fn file_wrapper_with_a_real_file() {
    let source = std::fs::read(format!("{APPS}/wsgi_apps.py")).unwrap();
    // Validated: the validator wraps the iterable, so its blocks are iterated.
    let response = Client::new(validated("file_wrapper")).get("/").send();
    assert_eq!(response.body, source);
    assert!(response.chunks.iter().all(|c| c.len() <= 4096));
    // Not validated (the validator would hide the wrapper): the fast path,
    // read by Rust, its length known.
    let response = Client::new(raw("file_wrapper")).get("/").send();
    assert_eq!(response.body, source);
    assert_eq!(
        response.header("content-length"),
        Some(source.len().to_string().as_str())
    );
}

#[test]
fn wsgi_errors_goes_to_the_error_stream() {
    let (errors, text) = log();
    let response = Client::new(validated("errors"))
        .get("/")
        .errors(errors)
        .send();
    assert_eq!(response.text(), "logged");
    let log = text.lock().unwrap().clone();
    assert!(log.contains("one line"), "{log}");
    assert!(log.contains("two lines"), "{log}");
}

#[test]
fn environ_keys_and_types() {
    let response = Client::new(validated("environ_types"))
        .get("/caf%C3%A9/x?q=1")
        .header("x-name", "é")
        .send();
    let text = response.text();
    for expected in [
        "('HTTP_X_NAME', 'Ã©')",
        "('PATH_INFO', '/cafÃ©/x')",
        "('QUERY_STRING', 'q=1')",
        "('REQUEST_METHOD', 'GET')",
        "('SCRIPT_NAME', '')",
        "('SERVER_PROTOCOL', 'HTTP/1.1')",
        "('scheme', 'http')",
        "('version', (1, 0))",
        "('wsgi.input_terminated', True)",
        "('wsgi.multithread', True)",
        "('wsgi.multiprocess', False)",
        "('wsgi.run_once', False)",
        "('REMOTE_USER', None)",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
}

#[test]
fn middleware_variables_reach_python() {
    use gateway_middleware::auth::{BasicAuth, Credentials};
    let auth = BasicAuth::new("test", Credentials::new([("alice", "secret")]).unwrap()).unwrap();
    let client = Client::new(auth.wrap(validated("environ_types")));
    assert_eq!(client.get("/").send().status, 401);
    let text = client
        .get("/")
        .header("authorization", "Basic YWxpY2U6c2VjcmV0")
        .send()
        .text();
    assert!(text.contains("('REMOTE_USER', 'alice')"), "{text}");
    assert!(text.contains("('AUTH_TYPE', 'Basic')"), "{text}");
}

#[test]
fn a_str_chunk_names_the_rule() {
    // Not validated: the validator would refuse the str chunk itself.
    let response = Client::new(raw("text_chunk")).get("/").send();
    assert_eq!(response.status, 500);
    let (errors, text) = log();
    let response = Client::new(raw("text_chunk"))
        .get("/")
        .errors(errors)
        .send();
    assert_eq!(response.status, 500);
    let log = text.lock().unwrap().clone();
    assert!(
        log.contains("TypeError") && log.contains("PEP 3333 requires bytes"),
        "{log}"
    );
}

#[test]
fn pyapp_is_an_app() {
    fn is_app<A: App>(_: &A) {}
    is_app(&validated("hello"));
}

#[test]
fn a_second_start_response_and_a_bad_header_value_say_which_rule() {
    let response = Client::new(validated("rules")).get("/").send();
    assert_eq!(response.status, 200);
    let text = response.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("ValueError: start_response: the value of header"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("RuntimeError: start_response called a second time"),
        "{text}"
    );
}

#[test]
fn write_takes_bytes_only() {
    // Not validated: the validator's write() wrapper would refuse the str itself.
    let app = from_code(
        c"def app(environ, start_response):\n    write = start_response('200 OK', [('Content-Type', 'text/plain')])\n    try:\n        write('text')\n    except TypeError as err:\n        return [str(err).encode()]\n    return [b'accepted']\n",
        c"write_str",
    );
    let text = Client::new(app).get("/").send().text();
    assert_eq!(text, "write() takes bytes, not str (PEP 3333)");
}

#[test]
fn an_exception_from_close_goes_to_wsgi_errors() {
    let (errors, text) = log();
    let response = Client::new(validated("failing_close"))
        .get("/")
        .errors(errors)
        .send();
    assert_eq!(response.text(), "body");
    let log = text.lock().unwrap().clone();
    assert!(
        log.contains("close() of the application's iterable raised"),
        "{log}"
    );
    assert!(log.contains("RuntimeError: close failed"), "{log}");
}

#[test]
fn url_scheme_and_flags_follow_the_environ() {
    use gateway_core::{Environ, Flags, StartResponse, UrlScheme};
    // The constant wsgi.* values come from a template dict: a request whose
    // scheme and flags differ from the template's must still see its own.
    let app = validated("environ_types");
    let cgi = move |mut environ: Environ, start_response: StartResponse| {
        environ.set_url_scheme(UrlScheme::Https);
        environ.set_flags(Flags {
            multithread: false,
            multiprocess: true,
            run_once: true,
        });
        app.call(environ, start_response)
    };
    let text = Client::new(cgi).get("/").send().text();
    for expected in [
        "('scheme', 'https')",
        "('wsgi.multithread', False)",
        "('wsgi.multiprocess', True)",
        "('wsgi.run_once', True)",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
}

#[test]
fn an_app_that_changes_its_environ_does_not_change_the_next_one() {
    // Each request's dict is a copy of the template, never the template.
    let app = from_code(
        c"def app(environ, start_response):\n    seen = environ['wsgi.url_scheme'] + ' ' + repr(environ['wsgi.version'])\n    environ['wsgi.url_scheme'] = 'changed'\n    environ['wsgi.version'] = (9, 9)\n    del environ['wsgi.run_once']\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [seen.encode()]\n",
        c"mutate",
    );
    let client = Client::new(app);
    for _ in 0..3 {
        assert_eq!(client.get("/").send().text(), "http (1, 0)");
    }
    let text = Client::new(validated("environ_types"))
        .get("/")
        .send()
        .text();
    assert!(text.contains("('wsgi.run_once', False)"), "{text}");
}
