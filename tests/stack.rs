//! The `stack` example end to end, as a user runs it: the built binary as a
//! child process on 127.0.0.1 port 0, spoken to over real sockets (hyper's
//! client over HTTP/1.1 and HTTP/2 prior knowledge, raw TCP for what a
//! client library would not send), its stdout read as the access log, and
//! stopped by a signal.
#![cfg(unix)]

#[path = "common/combined.rs"]
mod combined;
mod common;
#[path = "common/example.rs"]
mod example;

use std::io::{Read, Write};

use bytes::Bytes;
use common::demo::{BIG_LEN, big_body};
use common::{STEP, client, get, h2_client, header_in, raw, send};
use example::Running;
use flate2::read::GzDecoder;
use http::{Method, Request, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// The stack example with the default credentials (demo:demo, demo-token).
fn stack() -> Running {
    Running::start("stack", &[])
}

/// Both clients, with the version each speaks.
fn clients() -> [(HttpClient, Version); 2] {
    [(client(), Version::HTTP_11), (h2_client(), Version::HTTP_2)]
}

/// `method url` with `headers`; the whole answer (bounded).
async fn fetch(
    c: &HttpClient,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
) -> common::Answer {
    let mut request = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(c, request.body(Full::default()).unwrap()).await
}

/// `Basic base64(user:password)`.
fn basic(user: &str, password: &str) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}").into_bytes();
    let mut out = String::from("Basic ");
    for chunk in input.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            let c = if i <= chunk.len() {
                ABC[(n >> (18 - 6 * i) & 63) as usize]
            } else {
                b'='
            };
            out.push(char::from(c));
        }
    }
    out
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(body)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

/// The one `x-request-id` of a response.
fn request_id(answer: &common::Answer) -> String {
    let ids: Vec<_> = answer.headers.get_all("x-request-id").iter().collect();
    assert_eq!(ids.len(), 1, "one x-request-id: {:?}", answer.headers);
    ids[0].to_str().unwrap().to_owned()
}

/// A v4 UUID's shape: 8-4-4-4-12 lowercase hex digits.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<_> = s.split('-').map(str::len).collect();
    groups == [8, 4, 4, 4, 12] && s.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
}

/// One request on its own connection (`Connection: close`); the raw answer.
async fn raw_get(running: &Running, target: &[u8], headers: &[u8]) -> String {
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(target);
    request.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    request.extend_from_slice(headers);
    request.extend_from_slice(b"\r\n");
    String::from_utf8_lossy(&raw(running.addr, &request).await).into_owned()
}

#[tokio::test]
async fn hello_environ_and_head_with_a_request_id_on_every_response() {
    let running = stack();
    for (c, version) in clients() {
        let hello = get(&c, &running.url("/")).await;
        assert_eq!((hello.status, hello.version), (StatusCode::OK, version));
        assert_eq!(hello.text(), "Hello, World!");
        assert_eq!(
            hello.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(hello.header("content-length"), Some("13"));
        let id = request_id(&hello);
        assert!(is_uuid(&id), "{id}");
        let again = request_id(&get(&c, &running.url("/")).await);
        assert!(
            is_uuid(&again) && again != id,
            "a new id per request: {id} {again}"
        );
        let missing = get(&c, &running.url("/nope")).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(is_uuid(&request_id(&missing)));

        // A client's id comes back as it was, and is the one the app sees.
        let own = [("x-request-id", "client-chosen-42")];
        let echoed = fetch(&c, Method::GET, &running.url("/"), &own).await;
        assert_eq!(request_id(&echoed), "client-chosen-42");
        let environ = fetch(&c, Method::GET, &running.url("/environ?a=1&b"), &own).await;
        assert_eq!(environ.status, StatusCode::OK);
        assert_eq!(environ.header("content-type"), Some("application/json"));
        assert_eq!(request_id(&environ), "client-chosen-42");
        let env = environ.json();
        assert_eq!(env["REQUEST_METHOD"], "GET");
        assert_eq!(env["PATH_INFO"], "/environ");
        assert_eq!(env["QUERY_STRING"], "a=1&b");
        assert_eq!(env["REMOTE_ADDR"], "127.0.0.1");
        assert_eq!(env["SERVER_PORT"], running.addr.port().to_string());
        let protocol = if version == Version::HTTP_2 {
            "HTTP/2"
        } else {
            "HTTP/1.1"
        };
        assert_eq!(env["SERVER_PROTOCOL"], protocol);
        assert_eq!(env["HTTP_X_REQUEST_ID"], "client-chosen-42");
        assert_eq!(env["wsgi.url_scheme"], "http");
        // A generated id is in the environ too: the app and the client agree.
        let generated = get(&c, &running.url("/environ")).await;
        assert_eq!(
            generated.json()["HTTP_X_REQUEST_ID"],
            request_id(&generated)
        );

        let head = fetch(&c, Method::HEAD, &running.url("/big"), &[]).await;
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(
            head.header("content-length"),
            Some(BIG_LEN.to_string().as_str())
        );
        assert_eq!(
            head.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(
            head.body.is_empty(),
            "HEAD has no body: {} bytes",
            head.body.len()
        );
        assert!(is_uuid(&request_id(&head)));
    }
    let exited = running.stop("TERM").await;
    assert!(exited.status.success(), "{exited:?}");
}

#[tokio::test]
async fn big_is_gzip_for_a_client_that_takes_it_and_identity_otherwise() {
    let running = stack();
    for (c, version) in clients() {
        let gz = fetch(
            &c,
            Method::GET,
            &running.url("/big"),
            &[("accept-encoding", "gzip")],
        )
        .await;
        assert_eq!((gz.status, gz.version), (StatusCode::OK, version));
        assert_eq!(gz.header("content-encoding"), Some("gzip"));
        let vary: Vec<_> = gz.headers.get_all("vary").iter().collect();
        assert_eq!(vary, ["Accept-Encoding"], "Vary once");
        let sent = gz.body.len();
        assert_eq!(gz.header("content-length"), Some(sent.to_string().as_str()));
        assert!(sent < BIG_LEN / 2, "compressed: {sent} bytes");
        assert_eq!(gunzip(&gz.body), big_body());
        assert!(is_uuid(&request_id(&gz)));

        let plain = get(&c, &running.url("/big")).await;
        assert_eq!(plain.status, StatusCode::OK);
        assert_eq!(plain.header("content-encoding"), None);
        assert_eq!(
            plain.header("content-length"),
            Some(BIG_LEN.to_string().as_str())
        );
        assert_eq!(plain.body, big_body());
    }
    assert!(running.stop("TERM").await.status.success());
}

#[tokio::test]
async fn a_gzip_stream_decodes_as_it_arrives() {
    let running = stack();
    for (c, version) in clients() {
        let url = running.url("/stream?chunks=5&size=2000&delay_ms=50");
        let request = Request::get(url)
            .header("accept-encoding", "gzip")
            .body(Full::default())
            .unwrap();
        let response = tokio::time::timeout(STEP, c.request(request))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (response.status(), response.version()),
            (StatusCode::OK, version)
        );
        assert_eq!(response.headers()["content-encoding"], "gzip");
        assert!(
            response.headers().get("content-length").is_none(),
            "a stream has no length"
        );
        let mut body = response.into_body();
        let mut decoder = flate2::write::GzDecoder::new(Vec::new());
        // How much had been decoded after each data frame, frame by frame.
        let mut decoded = Vec::new();
        for _ in 0..10_000 {
            let Some(frame) = tokio::time::timeout(STEP, body.frame())
                .await
                .expect("a frame in time")
            else {
                break;
            };
            if let Ok(data) = frame.expect("a good frame").into_data() {
                decoder.write_all(&data).expect("gzip");
                decoder.flush().expect("gzip");
                decoded.push(decoder.get_ref().len());
            }
        }
        let first = decoded.iter().position(|&n| n > 0).expect("some data");
        assert!(
            first + 1 < decoded.len() && decoded[first] < 10_000,
            "the first bytes decode before the stream ends: {decoded:?}"
        );
        let steps = decoded.windows(2).filter(|w| w[1] > w[0]).count() + 1;
        assert!(steps >= 2, "decoded in steps: {decoded:?}");
        assert_eq!(
            decoder.finish().expect("a whole gzip stream"),
            vec![b'x'; 10_000]
        );
    }
    assert!(running.stop("TERM").await.status.success());
}

#[tokio::test]
async fn basic_auth_guards_private_however_the_path_is_spelt() {
    let running = stack();
    let url = running.url("/private/x");
    for (c, _) in clients() {
        let none = get(&c, &url).await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED);
        let challenge = none.header("www-authenticate").unwrap_or_default();
        assert!(
            challenge.starts_with("Basic realm=\"gateway demo\""),
            "{challenge}"
        );
        assert!(is_uuid(&request_id(&none)));
        assert!(!none.text().contains("user"), "{}", none.text());

        for wrong in [
            basic("demo", "nope"),
            basic("nope", "demo"),
            "Bearer demo-token".into(),
        ] {
            let refused = fetch(&c, Method::GET, &url, &[("authorization", &wrong)]).await;
            assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{wrong}");
        }
        let right = fetch(
            &c,
            Method::GET,
            &url,
            &[("authorization", &basic("demo", "demo"))],
        )
        .await;
        assert_eq!(right.status, StatusCode::OK);
        assert_eq!(right.header("content-type"), Some("application/json"));
        assert_eq!(right.text(), r#"{"user":"demo"}"#);
    }
    // Spellings a client library would tidy up, sent as they are.
    for target in [
        "//private/x",
        "/./private/x",
        "/%2e/private/x",
        "/%2E/private/x",
        "/PRIVATE/x",
        "/private/%2e%2e/big",
        "/private//x",
    ] {
        let answer = raw_get(&running, target.as_bytes(), b"").await;
        assert!(answer.starts_with("HTTP/1.1 401 "), "{target}: {answer}");
        let challenge = header_in(&answer, "www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Basic realm="), "{target}: {answer}");
    }
    // A prefix is matched by segments: /privateer is not under /private/.
    let beside = raw_get(&running, b"/privateer", b"").await;
    assert!(beside.starts_with("HTTP/1.1 404 "), "{beside}");
    assert!(running.stop("TERM").await.status.success());
}

#[tokio::test]
async fn bearer_auth_guards_api() {
    let running = stack();
    let url = running.url("/api/x");
    for (c, _) in clients() {
        let none = get(&c, &url).await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            none.header("www-authenticate"),
            Some(r#"Bearer realm="gateway demo""#)
        );

        let right = fetch(
            &c,
            Method::GET,
            &url,
            &[("authorization", "Bearer demo-token")],
        )
        .await;
        assert_eq!(right.status, StatusCode::OK);
        assert_eq!(right.json(), json!({"user": "demo"}));

        let wrong = fetch(
            &c,
            Method::GET,
            &url,
            &[("authorization", "Bearer demo-tokem")],
        )
        .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        let challenge = wrong.header("www-authenticate").unwrap_or_default();
        assert!(
            challenge.starts_with("Bearer realm=\"gateway demo\""),
            "{challenge}"
        );
        assert!(
            challenge.contains(r#"error="invalid_token""#),
            "{challenge}"
        );

        let other = fetch(
            &c,
            Method::GET,
            &url,
            &[("authorization", &basic("demo", "demo"))],
        )
        .await;
        assert_eq!(
            other.status,
            StatusCode::UNAUTHORIZED,
            "Basic is not Bearer"
        );
    }
    let sneaky = raw_get(&running, b"//api/./x", b"").await;
    assert!(sneaky.starts_with("HTTP/1.1 401 "), "{sneaky}");
    assert!(running.stop("TERM").await.status.success());
}

#[tokio::test]
async fn credentials_come_from_the_environment() {
    let running = Running::start(
        "stack",
        &[
            ("GATEWAY_DEMO_USER", "alice"),
            ("GATEWAY_DEMO_PASSWORD", "correct horse"),
            ("GATEWAY_DEMO_TOKEN", "tok-alice-1"),
        ],
    );
    let c = client();
    let private = running.url("/private/x");
    let api = running.url("/api/x");
    let alice = basic("alice", "correct horse");
    let ok = fetch(&c, Method::GET, &private, &[("authorization", &alice)]).await;
    assert_eq!(
        (ok.status, ok.json()),
        (StatusCode::OK, json!({"user": "alice"}))
    );
    let old = fetch(
        &c,
        Method::GET,
        &private,
        &[("authorization", &basic("demo", "demo"))],
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);

    let ok = fetch(
        &c,
        Method::GET,
        &api,
        &[("authorization", "Bearer tok-alice-1")],
    )
    .await;
    assert_eq!(
        (ok.status, ok.json()),
        (StatusCode::OK, json!({"user": "alice"}))
    );
    let old = fetch(
        &c,
        Method::GET,
        &api,
        &[("authorization", "Bearer demo-token")],
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    drop(c);
    assert!(
        running.stop("INT").await.status.success(),
        "SIGINT exits 0 too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_slow_request_finish_then_exits_0() {
    let running = stack();
    let c = client();
    // Once it has answered, it is serving (and handling signals).
    assert_eq!(get(&c, &running.url("/")).await.status, StatusCode::OK);
    let url = running.url("/stream?chunks=3&size=10&delay_ms=300");
    let request = Request::get(url).body(Full::default()).unwrap();
    let response = tokio::time::timeout(STEP, c.request(request))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // The head comes with the first chunk: the request is in flight.
    running.signal("TERM");
    let body = tokio::time::timeout(STEP, response.into_body().collect())
        .await
        .expect("the body in time")
        .expect("the whole body, not cut")
        .to_bytes();
    assert_eq!(body, "x".repeat(30));
    drop(c);
    let addr = running.addr;
    let exited = running.exited().await;
    assert_eq!(exited.status.code(), Some(0), "{exited:?}");
    assert!(
        exited.stderr.contains("stack: stopped"),
        "{}",
        exited.stderr
    );
    let logged = String::from_utf8_lossy(&exited.stdout);
    assert!(
        logged.contains("\"GET /stream?chunks=3&size=10&delay_ms=300 HTTP/1.1\" 200 30 "),
        "{logged}"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the port is closed"
    );
}

/// A request of the access log test: client, method, path, `Authorization`,
/// `Accept-Encoding`, and the user its line must name.
type Case<'a> = (
    &'a HttpClient,
    Method,
    &'static str,
    Option<String>,
    Option<&'static str>,
    &'static str,
);

/// What one request's access log line must say.
struct Expected {
    user_agent: Vec<u8>,
    request: Vec<u8>,
    status: u16,
    user: &'static str,
    bytes: Option<u64>,
}

#[tokio::test]
async fn the_access_log_has_one_combined_line_per_request_and_no_secret() {
    const PASSWORD: &str = "pw-Secret-42";
    const TOKEN: &str = "tok-Secret-99";
    let running = Running::start(
        "stack",
        &[
            ("GATEWAY_DEMO_USER", "logan"),
            ("GATEWAY_DEMO_PASSWORD", PASSWORD),
            ("GATEWAY_DEMO_TOKEN", TOKEN),
        ],
    );
    let (h1, h2) = (client(), h2_client());
    let mut expected = Vec::new();
    let cases: [Case<'_>; 10] = [
        (&h1, Method::GET, "/", None, None, "-"),
        (&h2, Method::GET, "/environ?q=1", None, None, "-"),
        (
            &h1,
            Method::GET,
            "/private/x",
            Some(basic("logan", PASSWORD)),
            None,
            "logan",
        ),
        (
            &h2,
            Method::GET,
            "/private/x",
            Some(basic("logan", "wrong-Secret")),
            None,
            "-",
        ),
        (
            &h2,
            Method::GET,
            "/api/x",
            Some(format!("Bearer {TOKEN}")),
            None,
            "logan",
        ),
        (
            &h1,
            Method::GET,
            "/api/x",
            Some("Bearer tok-Wrong-77".into()),
            None,
            "-",
        ),
        (&h1, Method::GET, "/big", None, Some("gzip"), "-"),
        (&h2, Method::GET, "/big", None, None, "-"),
        (&h1, Method::HEAD, "/big", None, None, "-"),
        (
            &h1,
            Method::GET,
            "/stream?chunks=3&size=1500",
            None,
            Some("gzip"),
            "-",
        ),
    ];
    for (n, (c, method, path, authorization, encoding, user)) in cases.into_iter().enumerate() {
        let user_agent = format!("stack-test/{n}");
        let mut headers = vec![("user-agent", user_agent.as_str())];
        headers.extend(authorization.as_deref().map(|a| ("authorization", a)));
        headers.extend(encoding.map(|e| ("accept-encoding", e)));
        let answer = fetch(c, method.clone(), &running.url(path), &headers).await;
        let protocol = if answer.version == Version::HTTP_2 {
            "HTTP/2"
        } else {
            "HTTP/1.1"
        };
        expected.push(Expected {
            user_agent: user_agent.into_bytes(),
            request: format!("{method} {path} {protocol}").into_bytes(),
            status: answer.status.as_u16(),
            user,
            bytes: (method != Method::HEAD).then_some(answer.body.len() as u64),
        });
    }
    assert!(
        expected[6].bytes < Some(BIG_LEN as u64 / 2),
        "gzip: the bytes sent, compressed"
    );
    assert_eq!(expected[7].bytes, Some(BIG_LEN as u64));
    assert_eq!(expected[3].status, 401);

    // A hostile client: a user agent that closes its quote and writes the
    // rest of a line, bytes that are not ASCII (U+2028, U+0085), and a
    // percent-encoded newline in the path.
    let hostile = b"stack-test/evil\" 200 1 \"-\" \"forged\\ \xe2\x80\xa8 \xc2\x85 end";
    let target = b"/nope%0A127.0.0.1%20-%20root%20[01/Jan/2000:00:00:00%20+0000]";
    let mut header = b"User-Agent: ".to_vec();
    header.extend_from_slice(hostile);
    header.extend_from_slice(b"\r\n");
    let answer = raw_get(&running, target, &header).await;
    assert!(answer.starts_with("HTTP/1.1 404 "), "{answer}");
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(target);
    request.extend_from_slice(b" HTTP/1.1");
    expected.push(Expected {
        user_agent: hostile.to_vec(),
        request,
        status: 404,
        user: "-",
        bytes: Some("Not Found\n".len() as u64),
    });
    // ESC (a terminal escape) is not a legal header byte: hyper refuses the
    // request before any app sees it. Whether that gets a line or not, no
    // ESC may reach the log.
    let refused = raw_get(&running, b"/", b"User-Agent: x\x1b]0;pwned\x07\x1b[2J\r\n").await;
    assert!(refused.starts_with("HTTP/1.1 400 "), "{refused}");

    drop((h1, h2));
    let exited = running.stop("TERM").await;
    assert!(exited.status.success(), "{exited:?}");
    let stdout = exited.stdout;
    let text = String::from_utf8_lossy(&stdout);
    assert!(stdout.ends_with(b"\n"), "whole lines only: {text}");
    assert!(
        !exited.stderr.contains("stack-test/"),
        "the log is on stdout only"
    );
    for secret in [
        PASSWORD.to_owned(),
        TOKEN.to_owned(),
        "wrong-Secret".into(),
        "tok-Wrong-77".into(),
        basic("logan", PASSWORD)["Basic ".len()..].to_owned(),
        basic("logan", "wrong-Secret")["Basic ".len()..].to_owned(),
        "Bearer".into(),
        "Basic".into(),
    ] {
        assert!(!text.contains(&secret), "{secret:?} is on stdout: {text}");
    }
    assert!(!stdout.contains(&0x1b), "no ESC on stdout");

    let mut lines = Vec::new();
    for line in stdout[..stdout.len() - 1].split(|&b| b == b'\n') {
        let parsed = combined::parse(line).unwrap_or_else(|e| {
            panic!(
                "not a combined line ({e}): {}",
                String::from_utf8_lossy(line)
            )
        });
        assert_eq!(parsed.host, b"127.0.0.1");
        assert_eq!(parsed.ident, b"-");
        assert_eq!(parsed.referer, b"-");
        lines.push(parsed);
    }
    for want in &expected {
        let found: Vec<_> = lines
            .iter()
            .filter(|l| l.user_agent == want.user_agent)
            .collect();
        let ua = String::from_utf8_lossy(&want.user_agent);
        assert_eq!(found.len(), 1, "one line for {ua}: {text}");
        let line = found[0];
        assert_eq!(line.request, want.request, "{ua}: {text}");
        assert_eq!(line.status, want.status, "{ua}: {text}");
        assert_eq!(line.user, want.user.as_bytes(), "{ua}: {text}");
        assert_eq!(line.bytes, want.bytes, "{ua}: {text}");
    }
    // Nothing else: at most a line for the request hyper refused.
    let others: Vec<_> = lines
        .iter()
        .filter(|l| !expected.iter().any(|e| e.user_agent == l.user_agent))
        .collect();
    assert!(
        others.len() <= 1 && others.iter().all(|l| l.status == 400),
        "{text}"
    );
}

#[test]
fn the_log_reader_refuses_forged_lines() {
    let good =
        br#"127.0.0.1 - - [24/Nov/2026:21:03:06 +0000] "GET / HTTP/1.1" 200 13 "-" "a\"b\x20\\""#;
    let line = combined::parse(good).unwrap();
    assert_eq!(line.user_agent, b"a\"b \\");
    assert_eq!((line.status, line.bytes), (200, Some(13)));
    for forged in [
        &br#"127.0.0.1 - - [24/Nov/2026:21:03:06 +0000] "GET / HTTP/1.1" 200 13 "-" "a" 200 1 "-" "b""#[..],
        br#"127.0.0.1 - - [24/Nov/2026:21:03:06 +0000] "GET / HTTP/1.1" 200 13 "-" "a\q""#,
        b"127.0.0.1 - - [24/Nov/2026:21:03:06 +0000] \"GET / HTTP/1.1\" 200 13 \"-\" \"\x1b\"",
        br#"127.0.0.1 - a b [24/Nov/2026:21:03:06 +0000] "GET / HTTP/1.1" 200 13 "-" "-""#,
        br#"127.0.0.1 - - [24/Nov/2026 21:03:06 +0000] "GET / HTTP/1.1" 200 13 "-" "-""#,
    ] {
        assert!(combined::parse(forged).is_err(), "{}", String::from_utf8_lossy(forged));
    }
}
