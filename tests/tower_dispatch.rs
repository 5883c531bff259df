//! Dispatch chosen per request (`AppService::inline_when`), over a real
//! loopback socket: the predicate sees the head and whether a body follows,
//! inline requests run on the connection's task, the others on the blocking
//! pool, and a blocking request waiting for a place never holds up an
//! inline one.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{STEP, client, eventually, get, request, send, start};
use gateway::tower::{AppService, RequestInfo};
use gateway::{Body, Environ, Error, StartResponse};

/// Answers where it ran: `pool` on a blocking thread, `task` on the async one.
fn where_it_ran(mut environ: Environ, sr: StartResponse) -> Result<Body, Error> {
    let body = environ.input().read_all(1 << 16)?;
    let name = std::thread::current().name().unwrap_or("").to_owned();
    let place = if name == "gateway-blocking" {
        "pool"
    } else {
        "task"
    };
    sr.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from(format!("{place} {}", body.len())))
}

#[tokio::test]
async fn the_predicate_chooses_each_requests_dispatch() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let service = AppService::new(where_it_ran).inline_when(move |req: &RequestInfo<'_>| {
        log.lock().unwrap().push(format!(
            "{} {} {}",
            req.method(),
            req.path(),
            req.has_body()
        ));
        !req.has_body() && !req.path().starts_with("/slow")
    });
    assert_eq!(service.mode(), None);
    let server = start(service).await;
    let c = client();
    assert_eq!(get(&c, &server.url("/fast")).await.text(), "task 0");
    assert_eq!(get(&c, &server.url("/slow")).await.text(), "pool 0");
    let upload = send(&c, request("POST", &server.url("/fast"), "12345")).await;
    assert_eq!(upload.text(), "pool 5");
    let empty_post = send(&c, request("POST", &server.url("/fast"), "")).await;
    assert_eq!(empty_post.text(), "task 0");
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "GET /fast false",
            "GET /slow false",
            "POST /fast true",
            "POST /fast false"
        ]
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_blocking_request_waiting_for_a_place_does_not_hold_up_inline_ones() {
    // `/hold` keeps the only blocking place until the test lets it go.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let held = Arc::new(Mutex::new(held));
    let running = Arc::new(Mutex::new(0usize));
    let (gate, count) = (held.clone(), running.clone());
    let app = move |environ: Environ, sr: StartResponse| -> Result<Body, Error> {
        if environ.path_info() == b"/hold" {
            *count.lock().unwrap() += 1;
            let _ = gate.lock().unwrap().recv_timeout(STEP);
        }
        sr.start("200 OK", ())?;
        Ok(Body::from(
            String::from_utf8_lossy(environ.path_info()).into_owned(),
        ))
    };
    let service = AppService::new(app)
        .max_blocking(1)
        .inline_when(|req: &RequestInfo<'_>| req.path() == "/quick");
    let server = start(service).await;
    let c = client();
    let first = tokio::spawn(get_owned(c.clone(), server.url("/hold")));
    eventually("the first /hold runs", || *running.lock().unwrap() == 1).await;
    // The second blocking request waits for the place inside its future.
    let second = tokio::spawn(get_owned(c.clone(), server.url("/other")));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!second.is_finished(), "it waits for the one place");
    // An inline request answers at once all the same.
    let quick = tokio::time::timeout(Duration::from_secs(5), get(&c, &server.url("/quick")))
        .await
        .expect("an inline request is not held up");
    assert_eq!(quick.text(), "/quick");
    release.send(()).unwrap();
    let first = tokio::time::timeout(STEP, first).await.unwrap().unwrap();
    let second = tokio::time::timeout(STEP, second).await.unwrap().unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("/hold", "/other"));
    server.stop().await.unwrap();
}

async fn get_owned(
    c: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<bytes::Bytes>,
    >,
    url: String,
) -> String {
    get(&c, &url).await.text()
}
