//! The access log, request by request through `gateway_core::testing::Client`.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use gateway_core::testing::Client;
use gateway_core::{
    App, Body, Environ, Error, Handler, Intercept, Middleware, Next, Stack, StartResponse,
    middleware_fn,
};
use gateway_middleware::access_log::{AccessLog, Format};
use http::HeaderValue;
use http::header::{REFERER, USER_AGENT};
use serde_json::{Value, json};
use time::macros::datetime;

use common::{Broken, Lines};

/// A log writing `format` to lines the test reads, at a fixed time.
fn log(format: Format) -> (AccessLog, Lines) {
    let lines = Lines::default();
    let log = AccessLog::new()
        .format(format)
        .clock(|| datetime!(2000-10-10 13:55:36 UTC))
        .to_writer(lines.clone());
    (log, lines)
}

fn hello(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start(
        "200 OK",
        [("Content-Type", "text/plain"), ("X-Request-Id", "resp-7")],
    )?;
    Ok(Body::from("Hello, World!"))
}

/// Three chunks of ten bytes, streamed.
fn streamed(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::iter(["0123456789", "abcdefghij", "ABCDEFGHIJ"]))
}

/// Run `environ` through `app` and read the whole body.
fn run(app: &impl App, environ: Environ) -> Vec<u8> {
    let response = Handler::new().run(app, environ);
    response.body.flat_map(Result::ok).flatten().collect()
}

#[test]
fn common_line() {
    let (log, lines) = log(Format::common());
    let client = Client::new(log.wrap(hello));
    client.get("/a/b?x=1").header("User-Agent", "curl/8").send();
    assert_eq!(
        lines.line(),
        r#"127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /a/b?x=1 HTTP/1.1" 200 13"#
    );
}

#[test]
fn combined_line() {
    let (log, lines) = log(Format::combined());
    let client = Client::new(log.wrap(hello));
    client
        .get("/")
        .header("Referer", "http://x/")
        .header("User-Agent", "curl/8 (x; y)")
        .send();
    client.post("/form").body("a=1").send();
    assert_eq!(
        lines.lines(),
        [
            r#"127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 13 "http://x/" "curl/8 (x; y)""#,
            r#"127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "POST /form HTTP/1.1" 200 13 "-" "-""#,
        ]
    );
}

#[test]
fn an_http2_request_line_holds_the_path_as_sent() {
    let (log, lines) = log(Format::parse(r#""%r""#).unwrap());
    let client = Client::new(log.wrap(hello));
    client
        .get("https://example.com/p?q=1")
        .version(http::Version::HTTP_2)
        .send();
    client.get("http://proxy.example/p").send();
    assert_eq!(
        lines.lines(),
        [
            r#""GET /p?q=1 HTTP/2""#,
            r#""GET http://proxy.example/p HTTP/1.1""#
        ]
    );
}

#[test]
fn combined_is_the_default() {
    let lines = Lines::default();
    let log = AccessLog::new()
        .clock(|| datetime!(2000-10-10 13:55:36 UTC))
        .to_writer(lines.clone());
    Client::new(log.wrap(hello)).get("/").send();
    assert_eq!(
        lines.line(),
        r#"127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 13 "-" "-""#
    );
}

#[test]
fn named_fields() {
    let format = Format::parse(
        "{remote_addr} {ident} {user} {time} [{request_line}] {method} {path} {query} %q \
         {protocol} {status} {bytes} {bytes_sent} {referer} {user_agent} {header.accept} \
         {response_header.content-type} {env.SERVER_NAME} {request_id} {aborted} 100%% {{x}}",
    )
    .unwrap();
    let (log, lines) = log(format);
    let client = Client::new(log.wrap(hello));
    client
        .get("/caf%C3%A9?q=1")
        .header("Accept", "text/*")
        .header("Host", "example.org")
        .send();
    client.get("/").header("X-Request-Id", "req-1").send();
    assert_eq!(
        lines.lines(),
        [
            "127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] [GET /caf%C3%A9?q=1 HTTP/1.1] GET \
             /caf\\xc3\\xa9 q=1 ?q=1 HTTP/1.1 200 13 13 - - text/* text/plain example.org resp-7 - \
             100% {x}",
            "127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] [GET / HTTP/1.1] GET / -  HTTP/1.1 \
             200 13 13 - - - text/plain 127.0.0.1 req-1 - 100% {x}",
        ]
    );
}

#[test]
fn timings_are_numbers_and_head_comes_first() {
    let format =
        Format::parse("%D {duration_us} {duration_ms} %T {head_us} %^FB {head_ms}").unwrap();
    let (log, lines) = log(format);
    Client::new(log.wrap(hello)).get("/").send();
    let numbers: Vec<u64> = lines
        .line()
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect();
    let [total, total2, ms, s, head, head2, head_ms] = numbers[..] else {
        panic!("{numbers:?}")
    };
    assert!(total2 >= total && head2 >= head, "read later, not earlier");
    assert!(head <= total && head_ms <= ms && ms <= total2 / 1000 && s <= ms / 1000);
}

#[test]
fn json_lines() {
    let (log, lines) = log(Format::json());
    let client = Client::new(log.wrap(hello));
    client
        .get("/p?q=1")
        .header("User-Agent", "curl/8")
        .header("X-Request-Id", "r1")
        .send();
    let mut line = lines.json();
    let object = line.as_object_mut().unwrap();
    let head_us = object.remove("head_us").unwrap();
    let duration_us = object.remove("duration_us").unwrap();
    assert!(head_us.as_u64().unwrap() <= duration_us.as_u64().unwrap());
    assert_eq!(
        line,
        json!({
            "time": "2000-10-10T13:55:36.000000+00:00",
            "remote_addr": "127.0.0.1",
            "user": null,
            "method": "GET",
            "path": "/p",
            "query": "q=1",
            "protocol": "HTTP/1.1",
            "status": 200,
            "bytes": 13,
            "referer": null,
            "user_agent": "curl/8",
            "request_id": "r1",
            "aborted": null,
        })
    );
}

#[test]
fn json_of_chosen_fields() {
    let (log, lines) =
        log(Format::json_fields("%>s {header.accept} %{Content-Type}o {env.REMOTE_PORT}").unwrap());
    Client::new(log.wrap(hello))
        .get("/")
        .header("Accept", "a")
        .header("Accept", "b")
        .send();
    assert_eq!(
        lines.json(),
        json!({"status": 200, "header.accept": "a, b", "response_header.content-type": "text/plain",
               "env.REMOTE_PORT": "50000"})
    );
}

/// A request whose every field is hostile: quotes, backslashes, newlines,
/// escape sequences, bytes that are not UTF-8, spaces where fields split.
fn hostile(client: &Client<impl App>) -> Environ {
    let mut environ = client
        .get("/a\"b\\c/%0A127.0.0.1%20-%1B[2J%FF?q=%22\u{e9}")
        .environ();
    let headers = environ.headers_mut();
    headers.insert(
        USER_AGENT,
        HeaderValue::from_bytes(b"ua\" 200 \"forged\xff\t").unwrap(),
    );
    headers.insert(REFERER, HeaderValue::from_bytes(b"\\\" \"x").unwrap());
    environ
        .set_var("REMOTE_USER", "eve\nroot [x]\x1b\"")
        .unwrap();
    environ
}

#[test]
fn hostile_input_cannot_forge_a_text_field_or_line() {
    for (format, expected) in [
        (
            Format::combined(),
            r#"127.0.0.1 - eve\nroot\x20[x]\x1b\" [10/Oct/2000:13:55:36 +0000] "GET /a\"b\\c/%0A127.0.0.1%20-%1B[2J%FF?q=%22\xc3\xa9 HTTP/1.1" 200 13 "\\\" \"x" "ua\" 200 \"forged\xff\t""#,
        ),
        (
            Format::parse("{user} {path} {user_agent} [{referer}]").unwrap(),
            r#"eve\nroot\x20[x]\x1b\" /a\"b\\c/\n127.0.0.1\x20-\x1b[2J\xff ua\"\x20200\x20\"forged\xff\t [\\\"\x20\"x]"#,
        ),
    ] {
        let (log, lines) = log(format);
        let client = Client::new(log.wrap(hello));
        run(client.app(), hostile(&client));
        let line = lines.line();
        assert_eq!(line, expected);
        assert!(
            line.bytes().all(|b| b.is_ascii_graphic() || b == b' '),
            "printable ASCII: {line:?}"
        );
    }
}

#[test]
fn hostile_input_cannot_forge_a_json_member_or_line() {
    let (log, lines) = log(Format::json());
    let client = Client::new(log.wrap(hello));
    run(client.app(), hostile(&client));
    let line = lines.json();
    assert_eq!(line["user"], "eve\nroot [x]\u{1b}\"");
    assert_eq!(line["path"], "/a\"b\\c/\n127.0.0.1 -\u{1b}[2J\u{fffd}");
    assert_eq!(line["query"], "q=%22\u{e9}");
    assert_eq!(line["user_agent"], "ua\" 200 \"forged\u{fffd}\t");
    assert_eq!(line["referer"], "\\\" \"x");
    assert_eq!(line["status"], 200);
    assert_eq!(line.as_object().unwrap().len(), 15, "no member forged");
}

/// An interceptor that keeps every other byte: a stand-in for compression.
struct Halve;

impl Intercept for Halve {
    fn data(&mut self, chunk: Bytes) -> Result<Bytes, Error> {
        Ok(chunk.iter().step_by(2).copied().collect::<Vec<u8>>().into())
    }
}

#[test]
fn bytes_are_counted_after_inner_middleware() {
    let (log, lines) = log(Format::parse("%b %B {bytes}").unwrap());
    let halve = middleware_fn(|environ: Environ, sr: StartResponse, next: Next<'_>| {
        sr.intercept(Halve);
        next.call(environ, sr)
    });
    let stack = Stack::new().with(log).with(halve);
    assert_eq!(
        Client::new(stack.wrap(streamed)).get("/").send().body.len(),
        15
    );
    assert_eq!(Client::new(stack.wrap(hello)).get("/").send().body.len(), 7);
    assert_eq!(lines.lines(), ["15 15 15", "7 7 7"]);
}

#[test]
fn no_bytes_is_a_dash() {
    let (log, lines) = log(Format::parse("%>s %b %B").unwrap());
    let client = Client::new(
        log.wrap(|_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("204 No Content", ())?;
            Ok(Body::empty())
        }),
    );
    client.get("/").send();
    let (log, lines_head) = self::log(Format::parse("%>s %b %B").unwrap());
    Client::new(log.wrap(hello)).head("/").send();
    assert_eq!(lines.line(), "204 - 0");
    assert_eq!(lines_head.line(), "200 - 0");
}

#[test]
fn a_body_that_fails_after_the_head_is_logged_once_as_failed() {
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", ())?;
        Ok(Body::try_iter([Ok("part"), Err(Error::msg("db gone"))]))
    };
    let (log, lines) = log(Format::parse("%>s %b").unwrap());
    let response = Client::new(log.wrap(app)).get("/").send();
    assert!(response.aborted.is_some());
    assert_eq!(lines.line(), "200 4 aborted=failed");

    let (log, lines) = self::log(Format::json_fields("{status} {aborted}").unwrap());
    Client::new(log.wrap(app)).get("/").send();
    assert_eq!(lines.json(), json!({"status": 200, "aborted": "failed"}));
}

#[test]
fn a_client_that_goes_away_is_logged_once_when_the_body_is_dropped() {
    let (log, lines) = log(Format::parse("%>s %b").unwrap());
    let client = Client::new(log.wrap(streamed));
    let mut response = client.get("/").run();
    assert_eq!(response.body.next().unwrap().unwrap(), "0123456789");
    assert!(
        lines.lines().is_empty(),
        "nothing before the response is over"
    );
    drop(response);
    assert_eq!(lines.line(), "200 10 aborted=client_gone");

    let (log, lines) = self::log(Format::json_fields("{status} {bytes}").unwrap());
    let client = Client::new(log.wrap(streamed));
    let mut response = client.get("/").run();
    response.body.next();
    drop(response);
    assert_eq!(
        lines.json(),
        json!({"status": 200, "bytes": 10, "aborted": "client_gone"})
    );
}

#[test]
fn the_marker_can_be_turned_off_or_placed() {
    let (log, lines) = log(Format::parse("%>s").unwrap());
    let client = Client::new(log.mark_aborted(false).wrap(streamed));
    let mut response = client.get("/").run();
    response.body.next();
    drop(response);
    let (log, placed) = self::log(Format::parse("[{aborted}] %>s").unwrap());
    let mut response = Client::new(log.wrap(streamed)).get("/").run();
    response.body.next();
    drop(response);
    assert_eq!(lines.line(), "200");
    assert_eq!(placed.line(), "[client_gone] 200");
}

#[test]
fn an_app_that_fails_before_its_head_is_logged_as_500() {
    let (log, lines) = log(Format::common());
    let client = Client::new(
        log.wrap(|_: Environ, _: StartResponse| -> Result<Body, Error> { Err(Error::msg("boom")) }),
    );
    assert_eq!(client.get("/x").send().status, 500);
    assert_eq!(
        lines.line(),
        r#"127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /x HTTP/1.1" 500 22"#
    );
}

#[test]
fn every_request_is_logged_once() {
    let (log, lines) = log(Format::parse("%U %>s").unwrap());
    let client = Client::new(log.wrap(streamed));
    for i in 0..5 {
        client.get(&format!("/{i}")).send();
    }
    assert_eq!(
        lines.lines(),
        ["/0 200", "/1 200", "/2 200", "/3 200", "/4 200"]
    );
}

#[test]
fn the_duration_covers_the_whole_body() {
    const PAUSE: Duration = Duration::from_millis(5);
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", ())?;
        Ok(Body::iter((0..4).map(|_| {
            std::thread::sleep(PAUSE);
            "chunk"
        })))
    };
    let (log, lines) = log(Format::parse("{head_us} {duration_us}").unwrap());
    Client::new(log.wrap(app)).get("/").send();
    let line = lines.line();
    let (head, total) = line.split_once(' ').unwrap();
    let (head, total): (u64, u64) = (head.parse().unwrap(), total.parse().unwrap());
    assert!(
        total >= 4 * PAUSE.as_micros() as u64,
        "{total}µs covers four pauses"
    );
    assert!(head >= PAUSE.as_micros() as u64 && head <= total);
}

#[test]
fn credentials_are_never_logged() {
    let format = "{header.authorization} %{Cookie}i {header.proxy-authorization} \
                  {response_header.set-cookie} {env.HTTP_COOKIE} {env.HTTP_AUTHORIZATION} \"%r\"";
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", [("Set-Cookie", "session=s3cret")])?;
        Ok(Body::from("ok"))
    };
    let (text, text_lines) = log(Format::parse(format).unwrap());
    let (json, json_lines) = log(Format::json_fields(format).unwrap());
    let stack = Stack::new().with(text).with(json).wrap(app);
    Client::new(stack)
        .get("http://alice:s3cret@example.com/p?q=1")
        .header("Authorization", "Basic s3cret")
        .header("Cookie", "id=s3cret")
        .header("Proxy-Authorization", "Bearer s3cret")
        .send();
    let line = text_lines.line();
    assert_eq!(
        line,
        "[redacted] [redacted] [redacted] [redacted] [redacted] [redacted] \
         \"GET http://alice:[redacted]@example.com/p?q=1 HTTP/1.1\""
    );
    let json = json_lines.json();
    assert!(!json.to_string().contains("s3cret"), "{json}");
    assert_eq!(json["header.cookie"], "[redacted]");
    assert_eq!(
        json["request_line"],
        "GET http://alice:[redacted]@example.com/p?q=1 HTTP/1.1"
    );
}

#[test]
fn the_user_is_remote_user_never_the_authorization_header() {
    let (log, lines) = log(Format::parse("%u").unwrap());
    let client = Client::new(log.wrap(hello));
    client
        .get("/")
        .header("Authorization", "Basic YWxpY2U6cHc=")
        .send();

    // Set inside the log, as auth middleware does: in the environ, and published.
    let (log, inner) = self::log(Format::parse("%u {env.AUTH_TYPE}").unwrap());
    let auth = middleware_fn(|mut environ: Environ, sr: StartResponse, next: Next<'_>| {
        environ.set_var("REMOTE_USER", "alice")?;
        environ.set_var("AUTH_TYPE", "Basic")?;
        sr.publish(gateway_core::RemoteUser::new("alice", "Basic"));
        next.call(environ, sr)
    });
    Client::new(Stack::new().with(log).with(auth).wrap(hello))
        .get("/")
        .send();

    // Set outside the log (by the server, or middleware around it).
    let (log, outer) = self::log(Format::parse("%u").unwrap());
    let server = middleware_fn(|mut environ: Environ, sr: StartResponse, next: Next<'_>| {
        environ.set_var("REMOTE_USER", "bob")?;
        next.call(environ, sr)
    });
    Client::new(Stack::new().with(server).with(log).wrap(hello))
        .get("/")
        .send();

    assert_eq!(lines.line(), "-");
    assert_eq!(inner.line(), "alice Basic");
    assert_eq!(outer.line(), "bob");
}

fn complains(mut environ: Environ, sr: StartResponse) -> Result<Body, Error> {
    write!(environ.errors_mut(), "disk \x1b[31m full\nretrying").unwrap();
    environ.errors_mut().flush().unwrap();
    sr.start("200 OK", ())?;
    Ok(Body::from("ok"))
}

#[test]
fn wsgi_errors_reach_the_same_sink() {
    let (log, lines) = log(Format::parse("%>s").unwrap());
    Client::new(log.wrap(complains)).get("/").send();
    assert_eq!(
        lines.lines(),
        [
            r"[10/Oct/2000:13:55:36 +0000] [error] [client 127.0.0.1] disk \x1b[31m full",
            "[10/Oct/2000:13:55:36 +0000] [error] [client 127.0.0.1] retrying",
            "200",
        ]
    );

    let (log, lines) = self::log(Format::json_fields("{status}").unwrap());
    Client::new(log.wrap(complains)).get("/").send();
    let parsed: Vec<Value> = lines
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        parsed[0],
        json!({"time": "2000-10-10T13:55:36.000000+00:00", "level": "error",
               "remote_addr": "127.0.0.1", "message": "disk \u{1b}[31m full"})
    );
    assert_eq!(parsed.len(), 3);

    let (log, lines) = self::log(Format::parse("%>s").unwrap());
    Client::new(log.capture_errors(false).wrap(complains))
        .get("/")
        .send();
    assert_eq!(lines.line(), "200");
}

#[test]
fn a_failing_sink_never_fails_the_request() {
    for panics in [false, true] {
        let log = AccessLog::new().to_writer(Broken { panics });
        let client = Client::new(log.wrap(complains));
        for _ in 0..2 {
            let response = client.get("/").send();
            assert_eq!(
                (response.status.as_u16(), response.text().as_str()),
                (200, "ok")
            );
            assert!(response.aborted.is_none());
        }
    }
}

mod traced {
    use super::*;
    use tracing::field::{Field, Visit};
    use tracing::{Level, Subscriber};
    use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

    #[derive(Debug, Clone)]
    pub(super) struct Event {
        pub(super) target: String,
        pub(super) level: Level,
        pub(super) fields: BTreeMap<String, String>,
    }

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<Event>>>);

    struct Fields<'a>(&'a mut BTreeMap<String, String>);

    impl Visit for Fields<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.insert(field.name().to_owned(), format!("{value:?}"));
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.insert(field.name().to_owned(), value.to_owned());
        }
    }

    impl<S: Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            let mut fields = BTreeMap::new();
            event.record(&mut Fields(&mut fields));
            let meta = event.metadata();
            let target = meta.target().to_owned();
            self.0.lock().unwrap().push(Event {
                target,
                level: *meta.level(),
                fields,
            });
        }
    }

    /// The events `f` emits, on this thread.
    pub(super) fn events(f: impl FnOnce()) -> Vec<Event> {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::registry().with(capture.clone());
        tracing::subscriber::with_default(subscriber, f);
        capture.0.lock().unwrap().clone()
    }
}

#[test]
fn the_tracing_sink_emits_info_events_whose_message_is_the_line() {
    let log = AccessLog::new()
        .format(Format::common())
        .clock(|| datetime!(2000-10-10 13:55:36 UTC));
    let client = Client::new(log.wrap(complains));
    let events = traced::events(|| {
        client
            .get("http://u:s3cret@h/x?y=1")
            .header("User-Agent", "curl/8")
            .header("X-Request-Id", "r-9")
            .header("Cookie", "a=s3cret")
            .send();
    });
    let [error1, error2, access] = &events[..] else {
        panic!("{events:#?}")
    };
    assert_eq!(
        (access.target.as_str(), access.level),
        ("gateway::access", tracing::Level::INFO)
    );
    let fields: Vec<(&str, &str)> = access
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        fields,
        [(
            "message",
            r#"127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET http://u:[redacted]@h/x?y=1 HTTP/1.1" 200 2"#
        )],
        "the line, and no field twice"
    );
    assert!(
        events
            .iter()
            .all(|e| e.fields.values().all(|v| !v.contains("s3cret")))
    );
    assert_eq!(
        (error1.target.as_str(), error1.level),
        ("gateway::errors", tracing::Level::ERROR)
    );
    assert_eq!(error1.fields["message"], r"disk \x1b[31m full");
    assert_eq!(error2.fields["remote_addr"], "127.0.0.1");
}

#[test]
fn the_tracing_sink_notes_aborted_responses() {
    let client = Client::new(
        AccessLog::new()
            .format(Format::parse("%>s %b").unwrap())
            .wrap(streamed),
    );
    let events = traced::events(|| {
        let mut response = client.get("/").run();
        let _ = response.body.next();
    });
    let [access] = &events[..] else {
        panic!("{events:#?}")
    };
    assert_eq!(access.fields["message"], "200 10 aborted=client_gone");
}

#[test]
fn a_json_format_gives_tracing_its_structure() {
    let log = AccessLog::new()
        .to_tracing()
        .format(Format::json_fields("{status} {bytes}").unwrap());
    let client = Client::new(log.wrap(hello));
    let events = traced::events(|| {
        client.get("/").send();
    });
    let [access] = &events[..] else {
        panic!("{events:#?}")
    };
    let line: Value = serde_json::from_str(&access.fields["message"]).unwrap();
    assert_eq!(line, json!({"status": 200, "bytes": 13}));
}
