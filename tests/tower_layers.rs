//! tower-http layers around an `AppService`, all in one `ServiceBuilder`
//! stack, each doing its job: `TraceLayer`, `SetRequestIdLayer` +
//! `PropagateRequestIdLayer`, `CatchPanicLayer`, `TimeoutLayer`,
//! `RequestBodyLimitLayer`.

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{client, get, request, send, start};
use gateway::tower::{Dispatch, IntoService};
use gateway::{Body, Environ, Error, StartResponse};
use http::{Request, StatusCode};
use hyper::body::Incoming;
use tower::ServiceBuilder;
use tower_http::body::Limited;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Released by the timeout test once it has its 408.
static RELEASE: AtomicBool = AtomicBool::new(false);

/// The demo app, plus `/slow` (waits to be released) and `/request-id`
/// (the `RequestId` extension tower-http put on the request).
fn app(environ: Environ, sr: StartResponse) -> Result<Body, Error> {
    match environ.path_info() {
        b"/slow" => {
            let since = Instant::now();
            while !RELEASE.load(Ordering::SeqCst) && since.elapsed() < common::STEP {
                std::thread::sleep(Duration::from_millis(5));
            }
            sr.start("200 OK", ())?;
            Ok(Body::from("too late"))
        }
        b"/request-id" => {
            let id = environ
                .extensions()
                .get::<RequestId>()
                .map(|id| id.header_value().clone());
            sr.start("200 OK", ())?;
            Ok(Body::from(
                id.map(|v| v.as_bytes().to_vec()).unwrap_or_default(),
            ))
        }
        _ => common::demo::app(environ, sr),
    }
}

fn panic_on_boom(request: Request<Limited<Incoming>>) -> Request<Limited<Incoming>> {
    assert!(request.uri().path() != "/boom", "a layer panicked");
    request
}

/// Every layer in one stack, as `examples/stack.rs` has them.
async fn serve_stack(mode: Dispatch, timeout: Duration) -> common::TestServer {
    let service = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(CatchPanicLayer::new())
        .layer(RequestBodyLimitLayer::new(1024))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .map_request(panic_on_boom)
        .service(app.into_service().dispatch(mode));
    start(service).await
}

#[tokio::test]
async fn request_ids_are_set_seen_by_the_app_and_propagated() {
    for mode in common::MODES {
        let server = serve_stack(mode, common::STEP).await;
        let c = client();
        let answer = get(&c, &server.url("/request-id")).await;
        let id = answer
            .header("x-request-id")
            .expect("x-request-id on the response")
            .to_owned();
        assert_eq!(id.len(), 36, "a UUID: {id}");
        assert_eq!(answer.text(), id, "{mode:?}: the app sees the same id");
        let env = get(&c, &server.url("/environ")).await;
        assert_eq!(
            env.json()["HTTP_X_REQUEST_ID"],
            env.header("x-request-id").unwrap()
        );
        let mut own = request("GET", &server.url("/"), "");
        own.headers_mut()
            .insert("x-request-id", "client-chosen-42".parse().unwrap());
        assert_eq!(
            send(&c, own).await.header("x-request-id"),
            Some("client-chosen-42")
        );
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_panic_in_a_layer_becomes_a_500_and_the_server_keeps_serving() {
    for mode in common::MODES {
        let server = serve_stack(mode, common::STEP).await;
        let c = client();
        let boom = get(&c, &server.url("/boom")).await;
        assert_eq!(boom.status, 500, "{mode:?}");
        assert!(boom.header("x-request-id").is_some());
        assert_eq!(get(&c, &server.url("/")).await.text(), "Hello, World!");
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_slow_app_is_answered_408_by_the_timeout_layer() {
    let server = serve_stack(Dispatch::Blocking, Duration::from_millis(200)).await;
    let slow = get(&client(), &server.url("/slow")).await;
    RELEASE.store(true, Ordering::SeqCst);
    assert_eq!(slow.status, StatusCode::REQUEST_TIMEOUT);
    assert!(slow.header("x-request-id").is_some());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn request_bodies_over_the_limit_get_413() {
    for mode in common::MODES {
        let server = serve_stack(mode, common::STEP).await;
        let c = client();
        let big = send(&c, request("POST", &server.url("/echo"), vec![b'a'; 2048])).await;
        assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE, "{mode:?}");
        let small = send(&c, request("POST", &server.url("/echo"), vec![b'a'; 1000])).await;
        assert_eq!((small.status.as_u16(), small.body.len()), (200, 1000));
        server.stop().await.unwrap();
    }
}

/// Collects what the `fmt` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_trace_layer_records_each_request() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Process-wide, not `set_default`: a thread-local subscriber misses
    // events whose callsite interest another test's thread cached first.
    // Other tests' events land here too; the assertions look for this one's.
    tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
    let server = serve_stack(Dispatch::Inline, common::STEP).await;
    assert_eq!(get(&client(), &server.url("/big")).await.status, 200);
    server.stop().await.unwrap();
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("started processing request"), "{log}");
    assert!(
        log.contains("finished processing request") && log.contains("status=200"),
        "{log}"
    );
    assert!(log.contains("uri=/big"), "{log}");
}
