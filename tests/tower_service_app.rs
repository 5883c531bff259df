//! The other direction: tower services (tower-http's `ServeDir`, an axum
//! `Router`) as gateway apps, with gateway middleware in front of them.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use common::{client, get, request, send, start};
use gateway::tower::{AppService, Dispatch, ServiceApp};
use gateway::{Body, Environ, Error, ErrorStream, Next, Stack, StartResponse, middleware_fn};
use http::HeaderValue;
use tower_http::services::ServeDir;

/// A directory of files for `ServeDir`, unique to this test run.
fn files(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("gateway-service-app-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hello.txt"), "hello from a file\n").unwrap();
    std::fs::write(dir.join("secret.txt"), "do not show\n").unwrap();
    std::fs::write(dir.join("a b.txt"), "a space in the name\n").unwrap();
    dir
}

/// Refuses `/secret*`; marks everything else with `x-gateway: seen`.
fn guard(environ: Environ, sr: StartResponse, next: Next<'_>) -> Result<Body, Error> {
    if environ.path_info().starts_with(b"/secret") {
        sr.start("403 Forbidden", [("Content-Type", "text/plain")])?;
        return Ok(Body::from("no\n"));
    }
    sr.on_head(|head| head.set_header("x-gateway", "seen"));
    next.call(environ, sr)
}

#[tokio::test]
async fn serve_dir_behind_a_gateway_middleware() {
    let dir = files("serve-dir");
    let app = Stack::new()
        .with(middleware_fn(guard))
        .wrap(ServiceApp::new(
            ServeDir::new(&dir),
            tokio::runtime::Handle::current(),
        ));
    let server = start(AppService::new(app)).await;
    let c = client();

    let hello = get(&c, &server.url("/hello.txt")).await;
    assert_eq!(hello.status, 200);
    assert_eq!(hello.text(), "hello from a file\n");
    assert_eq!(hello.header("x-gateway"), Some("seen"));
    assert_eq!(hello.header("content-length"), Some("18"));
    assert!(
        hello
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );

    let spaced = get(&c, &server.url("/a%20b.txt")).await;
    assert_eq!(
        spaced.text(),
        "a space in the name\n",
        "PATH_INFO is percent-encoded again"
    );

    let secret = get(&c, &server.url("/secret.txt")).await;
    assert_eq!(
        (secret.status.as_u16(), secret.text().as_str()),
        (403, "no\n")
    );

    let missing = get(&c, &server.url("/missing.txt")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("x-gateway"), Some("seen"));

    let head = send(&c, request("HEAD", &server.url("/hello.txt"), "")).await;
    assert_eq!(
        (head.header("content-length"), head.body.len()),
        (Some("18"), 0)
    );

    server.stop().await.unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn inline_dispatch_refuses_a_service_app_with_a_clear_error() {
    let dir = files("inline");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let errors = ErrorStream::to_fn(move |line| sink.lock().unwrap().push(line.to_owned()));
    let app = ServiceApp::new(ServeDir::new(&dir), tokio::runtime::Handle::current());
    let server = start(
        AppService::new(app)
            .dispatch(Dispatch::Inline)
            .errors(errors),
    )
    .await;
    let answer = get(&client(), &server.url("/hello.txt")).await;
    assert_eq!(answer.status, 500);
    let lines = lines.lock().unwrap().join("\n");
    assert!(
        lines.contains("ServiceApp needs Blocking dispatch"),
        "wsgi.errors got: {lines}"
    );
    server.stop().await.unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn an_axum_router_as_an_app_reads_wsgi_input_as_its_body() {
    use axum::routing::{get as axum_get, post};
    let router = axum::Router::new()
        .route(
            "/hi/{name}",
            axum_get(
                |axum::extract::Path(name): axum::extract::Path<String>| async move {
                    format!("hi {name}")
                },
            ),
        )
        .route(
            "/upper",
            post(|body: String| async move { body.to_uppercase() }),
        );
    let tag = middleware_fn(|mut environ: Environ, sr: StartResponse, next: Next<'_>| {
        environ
            .headers_mut()
            .insert("x-from-gateway", HeaderValue::from_static("1"));
        next.call(environ, sr)
    });
    let app = Stack::new()
        .with(tag)
        .wrap(ServiceApp::current(router).expect("a runtime"));
    let server = start(AppService::new(app)).await;
    let c = client();
    assert_eq!(get(&c, &server.url("/hi/ann")).await.text(), "hi ann");
    let upper = send(&c, request("POST", &server.url("/upper"), "shout this")).await;
    assert_eq!(upper.text(), "SHOUT THIS");
    assert_eq!(get(&c, &server.url("/nothing-here")).await.status, 404);
    server.stop().await.unwrap();
}
