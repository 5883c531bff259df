//! Unit tests of `AppService`: the Inline body limit, the URL scheme and
//! the flags, a blocking app off the worker, and `poll_ready` waiting for a
//! place.

use super::*;
use bytes::Bytes;
use gateway_core::{Body as AppBody, Environ, Error, StartResponse};
use http_body_util::{BodyExt, Full};
use std::future::poll_fn;
use tower::ServiceExt;

fn echo(mut environ: Environ, sr: StartResponse) -> Result<AppBody, Error> {
    let body = environ.input().read_all(1 << 20)?;
    sr.start("200 OK", ())?;
    Ok(AppBody::from(body))
}

#[tokio::test]
async fn inline_refuses_a_body_over_the_limit() {
    let service = AppService::new(echo)
        .dispatch(Dispatch::Inline)
        .body_limit(4);
    let small = Request::post("/")
        .body(Full::new(Bytes::from("abcd")))
        .unwrap();
    let response = service.clone().oneshot(small).await.unwrap();
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "abcd"
    );
    let big = Request::post("/")
        .body(Full::new(Bytes::from("abcde")))
        .unwrap();
    assert_eq!(service.oneshot(big).await.unwrap().status(), 413);
}

#[tokio::test]
async fn the_flags_are_configurable() {
    let flags = |environ: Environ, sr: StartResponse| -> Result<AppBody, Error> {
        let f = environ.flags();
        let text = format!("{} {} {}", f.multithread, f.multiprocess, f.run_once);
        sr.start("200 OK", ())?;
        Ok(AppBody::from(text))
    };
    let one_thread_many_processes = Flags {
        multithread: false,
        multiprocess: true,
        run_once: false,
    };
    for (service, expected) in [
        (AppService::new(flags), "true false false"),
        (
            AppService::new(flags).flags(one_thread_many_processes),
            "false true false",
        ),
    ] {
        let request = Request::get("/").body(Full::new(Bytes::new())).unwrap();
        let response = service.oneshot(request).await.unwrap();
        assert_eq!(
            response.into_body().collect().await.unwrap().to_bytes(),
            expected
        );
    }
}

#[tokio::test]
async fn the_url_scheme_is_configurable() {
    let scheme = |environ: Environ, sr: StartResponse| -> Result<AppBody, Error> {
        let (name, port) = environ.server();
        let text = format!("{} {name}:{port}", environ.url_scheme().as_str());
        sr.start("200 OK", ())?;
        Ok(AppBody::from(text))
    };
    for (service, expected) in [
        (AppService::new(scheme), "http localhost:80"),
        (
            AppService::new(scheme).url_scheme(UrlScheme::Https),
            "https localhost:443",
        ),
    ] {
        let request = Request::get("/").body(Full::new(Bytes::new())).unwrap();
        let response = service
            .dispatch(Dispatch::Inline)
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(
            response.into_body().collect().await.unwrap().to_bytes(),
            expected
        );
    }
}

#[tokio::test]
async fn a_blocking_app_runs_off_the_worker_and_sees_the_runtime() {
    let worker = std::thread::current().id();
    let app = move |_: Environ, sr: StartResponse| -> Result<AppBody, Error> {
        let off = std::thread::current().id() != worker;
        let runtime = tokio::runtime::Handle::try_current().is_ok();
        sr.start("200 OK", ())?;
        Ok(AppBody::from(format!("{off} {runtime}")))
    };
    let request = Request::get("/").body(Full::new(Bytes::new())).unwrap();
    let response = AppService::new(app).oneshot(request).await.unwrap();
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "true true"
    );
}

#[tokio::test]
async fn poll_ready_waits_for_a_blocking_place() {
    let mut first = AppService::new(echo).max_blocking(1);
    let mut second = first.clone();
    poll_fn(|cx| Service::<Request<Full<Bytes>>>::poll_ready(&mut first, cx))
        .await
        .unwrap();
    let mut cx = Context::from_waker(std::task::Waker::noop());
    assert!(Service::<Request<Full<Bytes>>>::poll_ready(&mut second, &mut cx).is_pending());
    let request = Request::post("/")
        .body(Full::new(Bytes::from("x")))
        .unwrap();
    let response = first.call(request).await.unwrap();
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "x"
    );
    drop(first);
    poll_fn(|cx| Service::<Request<Full<Bytes>>>::poll_ready(&mut second, cx))
        .await
        .unwrap();
}
