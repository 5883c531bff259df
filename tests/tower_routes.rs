//! The demo app's routes over a real socket, in both dispatch modes, over
//! HTTP/1.1 and HTTP/2; HEAD, custom reason phrases, app failures and
//! Content-Length underruns as a client sees them.

mod common;

use bytes::Bytes;
use common::{MODES, client, demo, get, h2_client, raw, request, send, start};
use gateway::tower::{AppService, Dispatch};
use gateway::{Body, Environ, Error, StartResponse};
use http_body_util::{BodyExt, Full};

#[tokio::test]
async fn every_demo_route_in_both_modes() {
    for mode in MODES {
        let server = start(demo(mode)).await;
        let c = client();

        let hello = get(&c, &server.url("/")).await;
        assert_eq!(hello.status, 200, "{mode:?}");
        assert_eq!(hello.text(), "Hello, World!");
        assert_eq!(hello.header("content-length"), Some("13"));
        assert_eq!(
            hello.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert!(hello.header("date").is_some(), "hyper adds Date");

        let env = get(&c, &server.url("/environ?a=b&c=%20")).await.json();
        assert_eq!(env["REQUEST_METHOD"], "GET");
        assert_eq!(env["PATH_INFO"], "/environ");
        assert_eq!(env["QUERY_STRING"], "a=b&c=%20");
        assert_eq!(env["SERVER_PROTOCOL"], "HTTP/1.1");
        assert_eq!(env["SERVER_NAME"], "127.0.0.1");
        assert_eq!(env["SERVER_PORT"], server.addr.port().to_string());
        assert_eq!(env["REMOTE_ADDR"], "127.0.0.1");
        assert!(env["REMOTE_PORT"].as_str().unwrap().parse::<u16>().is_ok());
        assert_eq!(env["HTTP_HOST"], server.addr.to_string());
        assert_eq!(env["wsgi.url_scheme"], "http");
        assert!(env.get("CONTENT_LENGTH").is_none());

        let echo = send(&c, {
            let mut r = request("POST", &server.url("/echo"), "ping pong");
            r.headers_mut()
                .insert("content-type", "text/x-demo".parse().unwrap());
            r
        })
        .await;
        assert_eq!(
            (echo.status.as_u16(), echo.text().as_str()),
            (200, "ping pong")
        );
        assert_eq!(echo.header("content-type"), Some("text/x-demo"));
        assert_eq!(echo.header("content-length"), Some("9"));

        let stream = get(&c, &server.url("/stream?chunks=3&size=5")).await;
        assert_eq!(stream.text(), "x".repeat(15));
        assert_eq!(stream.header("transfer-encoding"), Some("chunked"));
        assert_eq!(stream.header("content-length"), None);

        let big = get(&c, &server.url("/big")).await;
        assert_eq!(big.body, common::demo::big_body());
        assert_eq!(big.header("content-length"), Some("65536"));

        let write = get(&c, &server.url("/write")).await;
        assert_eq!(write.text(), "written through write(), in order\n");

        for path in ["/private/me", "/api/me"] {
            let who = get(&c, &server.url(path)).await;
            assert_eq!(
                (who.status.as_u16(), who.text().as_str()),
                (200, r#"{"user":null}"#)
            );
        }

        assert_eq!(get(&c, &server.url("/nope")).await.status, 404);
        assert_eq!(get(&c, &server.url("/stream?chunks=x")).await.status, 400);
        let wrong = send(&c, request("POST", &server.url("/"), "")).await;
        assert_eq!(
            (wrong.status.as_u16(), wrong.header("allow")),
            (405, Some("GET, HEAD"))
        );

        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn without_a_host_header_the_server_address_comes_from_the_socket() {
    for mode in MODES {
        let server = start(demo(mode)).await;
        let answer = raw(server.addr, b"GET /environ HTTP/1.0\r\n\r\n").await;
        let answer = String::from_utf8(answer).unwrap();
        let json = answer.split_once("\r\n\r\n").expect("a head and a body").1;
        let env: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(env["SERVER_PROTOCOL"], "HTTP/1.0", "{mode:?}");
        assert_eq!(env["SERVER_NAME"], "127.0.0.1");
        assert_eq!(env["SERVER_PORT"], server.addr.port().to_string());
        assert!(env.get("HTTP_HOST").is_none());
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn http2_prior_knowledge_in_both_modes() {
    for mode in MODES {
        let server = start(demo(mode)).await;
        let c = h2_client();
        let env = get(&c, &server.url("/environ")).await;
        assert_eq!(env.version, http::Version::HTTP_2, "{mode:?}");
        assert_eq!(env.json()["SERVER_PROTOCOL"], "HTTP/2");
        assert_eq!(env.json()["SERVER_NAME"], "127.0.0.1");
        let big = get(&c, &server.url("/big")).await;
        assert_eq!(big.body, common::demo::big_body());
        assert_eq!(big.header("content-length"), Some("65536"));
        let stream = get(&c, &server.url("/stream?chunks=4&size=1000")).await;
        assert_eq!(stream.body.len(), 4000);
        let echo = send(&c, request("POST", &server.url("/echo"), "over h2")).await;
        assert_eq!(echo.text(), "over h2");
        let head = send(&c, request("HEAD", &server.url("/big"), "")).await;
        assert_eq!(
            (head.header("content-length"), head.body.len()),
            (Some("65536"), 0)
        );
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn head_carries_the_length_but_no_body() {
    for mode in MODES {
        let server = start(demo(mode)).await;
        for (path, length) in [
            ("/big", Some("65536")),
            ("/", Some("13")),
            ("/stream?chunks=2", None),
        ] {
            let text = format!("HEAD {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            let answer = String::from_utf8(raw(server.addr, text.as_bytes()).await).unwrap();
            assert!(
                answer.starts_with("HTTP/1.1 200 OK\r\n"),
                "{mode:?} {path}: {answer}"
            );
            assert!(
                answer.ends_with("\r\n\r\n"),
                "{mode:?} {path}: no body after the head: {answer:?}"
            );
            assert_eq!(
                common::header_in(&answer, "content-length"),
                length,
                "{mode:?} {path}"
            );
        }
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_custom_reason_phrase_reaches_http1_clients() {
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("299 Quite Fine", [("Content-Type", "text/plain")])?;
        Ok(Body::from("ok"))
    };
    for mode in MODES {
        let server = start(AppService::new(app).dispatch(mode)).await;
        let answer = raw(
            server.addr,
            b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .await;
        let answer = String::from_utf8(answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 299 Quite Fine\r\n"),
            "{mode:?}: {answer}"
        );
        assert!(answer.ends_with("\r\n\r\nok"));
        server.stop().await.unwrap();
    }
}

/// Fails in each way an app can, by path.
fn failing(environ: Environ, sr: StartResponse) -> Result<Body, Error> {
    match environ.path_info() {
        b"/error" => Err(Error::msg("the database is down")),
        b"/panic" => panic!("the app panicked"),
        b"/body-panic" => {
            sr.start("200 OK", ())?;
            Ok(Body::try_iter(std::iter::from_fn(
                || -> Option<Result<Bytes, Error>> { panic!("the body panicked") },
            )))
        }
        b"/underrun" => {
            sr.start("200 OK", [("Content-Length", "100")])?;
            Ok(Body::iter(["only ten b"]))
        }
        b"/late-error" => {
            sr.start("200 OK", ())?;
            let mut sent = false;
            Ok(Body::try_iter(std::iter::from_fn(move || {
                if sent {
                    return Some(Err(Error::msg("failed after the head")));
                }
                sent = true;
                Some(Ok(Bytes::from_static(b"first part")))
            })))
        }
        _ => {
            sr.start("200 OK", ())?;
            Ok(Body::from("still serving"))
        }
    }
}

#[tokio::test]
async fn app_errors_and_panics_give_500_and_the_server_keeps_serving() {
    for mode in MODES {
        let server = start(AppService::new(failing).dispatch(mode)).await;
        let c = client();
        for path in ["/error", "/panic", "/body-panic"] {
            let answer = get(&c, &server.url(path)).await;
            assert_eq!(answer.status, 500, "{mode:?} {path}");
            assert_eq!(answer.text(), "Internal Server Error\n");
            let after = get(&c, &server.url("/")).await;
            assert_eq!(
                (after.status.as_u16(), after.text().as_str()),
                (200, "still serving")
            );
        }
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_body_that_breaks_after_the_head_aborts_the_response() {
    for mode in MODES {
        let server = start(AppService::new(failing).dispatch(mode)).await;
        let c = client();
        for path in ["/underrun", "/late-error"] {
            let response = c.request(
                http::Request::get(server.url(path))
                    .body(Full::default())
                    .unwrap(),
            );
            let response = tokio::time::timeout(common::STEP, response)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(response.status(), 200, "{mode:?} {path}");
            let body = tokio::time::timeout(common::STEP, response.into_body().collect())
                .await
                .unwrap();
            assert!(
                body.is_err(),
                "{mode:?} {path}: the client sees a broken body, not a short one"
            );
        }
        // On a raw socket: the head promised 100 bytes, 10 came, then the close.
        let answer = raw(server.addr, b"GET /underrun HTTP/1.1\r\nHost: t\r\n\r\n").await;
        let answer = String::from_utf8(answer).unwrap();
        assert_eq!(common::header_in(&answer, "content-length"), Some("100"));
        assert!(
            answer.ends_with("\r\n\r\nonly ten b"),
            "{mode:?}: {answer:?}"
        );
        assert_eq!(get(&c, &server.url("/")).await.text(), "still serving");
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn the_body_type_is_any_http_body() {
    // AppService takes any request body, not only hyper's Incoming.
    use tower::ServiceExt;
    let service = demo(Dispatch::Blocking);
    let request = http::Request::post("/echo")
        .body(Full::new(Bytes::from("from memory")))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "from memory"
    );
}
