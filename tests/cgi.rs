//! The `cgi` example as a CGI server runs it: (a) as a child process with the
//! request in its environment and body on stdin, parsing its stdout; (b)
//! under a real CGI server, Python's `http.server --cgi`, over TCP.
//!
//! Cargo builds the examples before the integration tests on `cargo test`;
//! the binary is found next to this test's own (`target/<profile>/examples/`).

#[path = "../examples/demo/mod.rs"]
mod demo;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Every wait in this file is bounded by this.
const TIMEOUT: Duration = Duration::from_secs(20);

#[path = "common/example.rs"]
mod example;

/// The built `cgi` example (built once if `cargo test --test cgi` runs alone).
fn example() -> PathBuf {
    example::example("cgi")
}

/// A CGI response: status line, headers, body.
#[derive(Debug)]
struct CgiResponse {
    status: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl CgiResponse {
    /// Split a CGI (or HTTP) response at its blank line.
    fn parse(raw: &[u8]) -> CgiResponse {
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a blank line after the head");
        let head = std::str::from_utf8(&raw[..split]).expect("an ASCII head");
        let mut status = String::new();
        let mut headers = Vec::new();
        for line in head.split("\r\n") {
            let (name, value) = line.split_once(": ").unwrap_or((line, ""));
            if name.eq_ignore_ascii_case("status") {
                status = value.to_owned();
            }
            headers.push((name.to_ascii_lowercase(), value.to_owned()));
        }
        CgiResponse {
            status,
            headers,
            body: raw[split + 4..].to_vec(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// Wait for `child` at most `TIMEOUT`, killing it past that.
fn wait(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the CGI script did not end in {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Run the example once, as a CGI server does: a clean environment holding
/// only the request's meta-variables, the body on stdin.
fn cgi(vars: &[(&str, &str)], stdin: &[u8]) -> CgiResponse {
    let mut child = Command::new(example())
        .env_clear()
        .envs(vars.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the cgi example runs");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).map(|_| out)
    });
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).expect("stdin");
    drop(input);
    let status = wait(&mut child);
    let out = reader.join().unwrap().expect("stdout");
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "exit {status}; stderr: {err}");
    CgiResponse::parse(&out)
}

/// The variables of a GET of `path_info?query` at `/cgi-bin/app`.
fn get(
    method: &'static str,
    path_info: &'static str,
    query: &'static str,
) -> Vec<(&'static str, &'static str)> {
    vec![
        ("GATEWAY_INTERFACE", "CGI/1.1"),
        ("REQUEST_METHOD", method),
        ("SCRIPT_NAME", "/cgi-bin/app"),
        ("PATH_INFO", path_info),
        ("QUERY_STRING", query),
        ("SERVER_NAME", "cgi.example"),
        ("SERVER_PORT", "8080"),
        ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("REMOTE_ADDR", "203.0.113.7"),
        ("REMOTE_PORT", "51234"),
        ("HTTP_USER_AGENT", "cgi-test/1"),
        ("HTTP_X_REQUEST_ID", "abc-123"),
    ]
}

#[test]
fn hello() {
    let r = cgi(&get("GET", "/", ""), b"");
    assert_eq!(r.status, "200 OK");
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.header("content-length"), Some("13"));
    assert_eq!(r.text(), "Hello, World!");
}

#[test]
fn environ_comes_from_the_cgi_variables() {
    let mut vars = get("GET", "/environ", "x=1&y=%20");
    vars.push(("HOME", "/root"));
    let r = cgi(&vars, b"");
    assert_eq!(r.status, "200 OK");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let env = r.json();
    assert_eq!(env["REQUEST_METHOD"], "GET");
    assert_eq!(env["SCRIPT_NAME"], "/cgi-bin/app");
    assert_eq!(env["PATH_INFO"], "/environ");
    assert_eq!(env["QUERY_STRING"], "x=1&y=%20");
    assert_eq!(env["SERVER_NAME"], "cgi.example");
    assert_eq!(env["SERVER_PORT"], "8080");
    assert_eq!(env["REMOTE_ADDR"], "203.0.113.7");
    assert_eq!(env["REMOTE_PORT"], "51234");
    assert_eq!(env["HTTP_USER_AGENT"], "cgi-test/1");
    assert_eq!(env["HTTP_X_REQUEST_ID"], "abc-123");
    assert_eq!(env["GATEWAY_INTERFACE"], "CGI/1.1");
    assert_eq!(env["wsgi.run_once"], true);
    assert_eq!(env["wsgi.multiprocess"], true);
    assert_eq!(env["wsgi.multithread"], false);
    assert_eq!(env["wsgi.url_scheme"], "http");
    assert!(
        env.get("HOME").is_none(),
        "only CGI variables are the request's"
    );
}

#[test]
fn echo_reads_the_body_from_stdin_up_to_content_length() {
    let mut vars = get("POST", "/echo", "");
    vars.extend([("CONTENT_LENGTH", "11"), ("CONTENT_TYPE", "text/x-demo")]);
    let r = cgi(&vars, b"hello stdin and what comes after");
    assert_eq!(r.status, "200 OK");
    assert_eq!(r.header("content-type"), Some("text/x-demo"));
    assert_eq!(r.header("content-length"), Some("11"));
    assert_eq!(r.text(), "hello stdin");
}

#[test]
fn stream_big_and_write() {
    let stream = cgi(&get("GET", "/stream", "chunks=5&size=3"), b"");
    assert_eq!(stream.status, "200 OK");
    assert_eq!(stream.header("content-length"), None);
    assert_eq!(stream.text(), "x".repeat(15));

    let big = cgi(&get("GET", "/big", ""), b"");
    assert_eq!(big.header("content-length"), Some("65536"));
    assert_eq!(big.body, demo::big_body());

    let write = cgi(&get("GET", "/write", ""), b"");
    assert_eq!(write.status, "200 OK");
    assert_eq!(write.text(), "written through write(), in order\n");
}

#[test]
fn not_found_wrong_method_and_head() {
    let missing = cgi(&get("GET", "/nope", ""), b"");
    assert_eq!(missing.status, "404 Not Found");
    assert_eq!(missing.text(), "Not Found\n");

    let wrong = cgi(&get("DELETE", "/", ""), b"");
    assert_eq!(wrong.status, "405 Method Not Allowed");
    assert_eq!(wrong.header("allow"), Some("GET, HEAD"));

    let head = cgi(&get("HEAD", "/big", ""), b"");
    assert_eq!(head.status, "200 OK");
    assert_eq!(head.header("content-length"), Some("65536"));
    assert!(head.body.is_empty());
}

// ----- under a real CGI server -----

/// Python's `http.server --cgi`, killed when dropped.
struct PythonCgiServer {
    child: Child,
    port: u16,
    root: PathBuf,
}

impl PythonCgiServer {
    /// Start it on 127.0.0.1 on a port it picks, serving a temp dir whose
    /// `cgi-bin/cgi` is a copy of the example. `None` without python3.
    fn start() -> Option<Self> {
        let python = Command::new("python3").arg("--version").output();
        if !python.is_ok_and(|o| o.status.success()) {
            return None;
        }
        let root = std::env::temp_dir().join(format!("gateway-cgi-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("cgi-bin")).unwrap();
        std::fs::copy(example(), root.join("cgi-bin").join("cgi")).unwrap();
        let mut child = Command::new("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "--cgi",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(&root)
            .arg("0")
            .current_dir(&root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        // "Serving HTTP on 127.0.0.1 port 12345 (http://127.0.0.1:12345/) ..."
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let port = line
                    .split(" port ")
                    .nth(1)
                    .and_then(|r| r.split(' ').next());
                if let Some(port) = port.and_then(|p| p.parse::<u16>().ok()) {
                    let _ = tx.send(port);
                }
            }
        });
        let mut server = PythonCgiServer {
            child,
            port: 0,
            root,
        };
        server.port = rx.recv_timeout(TIMEOUT).expect("http.server says its port");
        Some(server)
    }

    /// One HTTP/1.0 request over a plain TCP connection; the whole answer.
    fn get(&self, target: &str) -> Vec<u8> {
        let mut tcp = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
        tcp.set_write_timeout(Some(TIMEOUT)).unwrap();
        write!(
            tcp,
            "GET {target} HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: cgi-e2e/1\r\n\r\n"
        )
        .unwrap();
        let deadline = Instant::now() + TIMEOUT;
        let mut answer = Vec::new();
        let mut buf = [0; 16 * 1024];
        loop {
            assert!(
                Instant::now() < deadline,
                "no end of response in {TIMEOUT:?}"
            );
            match tcp.read(&mut buf).expect("read within the timeout") {
                0 => return answer,
                n => answer.extend_from_slice(&buf[..n]),
            }
        }
    }
}

impl Drop for PythonCgiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[test]
fn under_python_http_server_cgi() {
    let Some(server) = PythonCgiServer::start() else {
        println!("note: python3 is not installed: skipping the run under http.server --cgi");
        return;
    };
    // http.server answers "HTTP/1.0 200 Script output follows" itself and
    // passes the script's output through, Status line included.
    let raw = server.get("/cgi-bin/cgi/environ?x=1");
    assert!(
        raw.starts_with(b"HTTP/1.0 200 "),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    let r = CgiResponse::parse(&raw);
    assert_eq!(r.status, "200 OK");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let env = r.json();
    assert_eq!(env["SCRIPT_NAME"], "/cgi-bin/cgi");
    assert_eq!(env["PATH_INFO"], "/environ");
    assert_eq!(env["QUERY_STRING"], "x=1");
    assert_eq!(env["REMOTE_ADDR"], "127.0.0.1");
    assert_eq!(env["SERVER_PORT"], server.port.to_string());
    assert_eq!(env["HTTP_USER_AGENT"], "cgi-e2e/1");
    assert_eq!(env["GATEWAY_INTERFACE"], "CGI/1.1");
    assert_eq!(env["wsgi.run_once"], true);
    assert_eq!(env["wsgi.multiprocess"], true);

    let hello = CgiResponse::parse(&server.get("/cgi-bin/cgi/"));
    assert_eq!(hello.status, "200 OK");
    assert_eq!(hello.header("content-length"), Some("13"));
    assert_eq!(hello.text(), "Hello, World!");
}
