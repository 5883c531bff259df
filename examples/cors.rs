//! tower-http's `CorsLayer` and `RequestBodyLimitLayer` around gateway
//! middleware (the access log, gzip) and a tiny app.
//!
//! ```text
//! cargo run --example cors                              # 127.0.0.1:8000
//! cargo run --example cors -- --addr 127.0.0.1:9000     # or GATEWAY_ADDR=127.0.0.1:9000
//! curl -i -X OPTIONS http://127.0.0.1:8000/echo \
//!      -H 'Origin: https://app.example' -H 'Access-Control-Request-Method: POST'
//! curl -i http://127.0.0.1:8000/echo -H 'Origin: https://app.example' --data 'hi'
//! ```
//!
//! `GET /` says hello, `POST /echo` answers the request body, and a body over
//! 64 KiB is refused with `413`. Browsers on `https://app.example` may call
//! it cross-origin. The access log goes to stdout.
//!
//! The stack, outermost first:
//!
//! ```text
//! CorsLayer                preflights answered here; CORS headers on every answer
//!   RequestBodyLimitLayer  413 past 64 KiB
//!     AppService -> AccessLog -> Gzip -> app
//! ```
//!
//! # The layer-order rule, and why
//!
//! **`CorsLayer` goes outermost** (or at least outside every layer that can
//! answer by itself, such as `RequestBodyLimitLayer`): an answer made outside
//! it carries no `Access-Control-Allow-Origin`, and a browser then reports a
//! CORS failure instead of, say, "413 Payload Too Large". Outermost, it also
//! answers preflights before any other layer spends work on them.
//!
//! **The body inside `CorsLayer` must be `Default`.** `CorsLayer` answers a
//! preflight (`OPTIONS` with `Access-Control-Request-Method`) itself, without
//! calling the service inside it, with an empty body made by
//! `ResBody::default()`; its `Service` impl requires `ResBody: Default`. An
//! `AppService`'s [`GatewayBody`](gateway::tower::GatewayBody) is `Default`,
//! and since tower-http 0.7.0 so is `RequestBodyLimitLayer`'s
//! `limit::ResponseBody<B>` when `B` is (tower-http #679), so this stack
//! compiles. With tower-http 0.6 it did not: `limit::ResponseBody` had no
//! `Default`, and no `Default` on `GatewayBody` could give it one. A layer
//! whose body is still not `Default` (0.7's `TraceLayer`, the response-body
//! timeouts, a `map_response_body` of yours) between `CorsLayer` and the app
//! gives four E0277 errors at `Server::serve`:
//!
//! ```text
//! error[E0277]: the trait bound `ResponseBody<ResponseBody<GatewayBody>, ...>: Default` is not satisfied
//!     |     server.serve(service).await
//!     = help: the trait `Service<http::Request<ReqBody>>` is implemented for `Cors<S>`
//! ```
//!
//! Then either move that layer outside `CorsLayer` (`TraceLayer` belongs
//! outermost anyway), or put `.map_response_body(BoxBody::new)` (tower-http's
//! `ServiceBuilderExt`, http-body-util's `BoxBody`, which is `Default`) just
//! inside `CorsLayer`, at the price of one allocation per response.

mod cli;

use gateway::middleware::access_log::AccessLog;
use gateway::middleware::gzip::Gzip;
use gateway::tower::{IntoService, Server};
use gateway::{Body, Environ, Error, Stack, StartResponse};
use http::{HeaderValue, Method, header};
use tower::ServiceBuilder;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;

/// The one origin allowed to call it from a browser.
const ALLOWED_ORIGIN: &str = "https://app.example";

/// The largest request body: 64 KiB.
const BODY_LIMIT: usize = 64 * 1024;

/// `GET /`: hello; `POST /echo`: the request body back; else 404.
fn app(mut environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
    let text = [("Content-Type", "text/plain; charset=utf-8")];
    match (environ.method().clone(), environ.path_info()) {
        (Method::GET | Method::HEAD, b"/") => {
            start_response.start("200 OK", text)?;
            Ok(Body::from("Hello from behind CORS!\n"))
        }
        (Method::POST, b"/echo") => {
            let body = environ.input().read_all(BODY_LIMIT)?;
            start_response.start("200 OK", [("Content-Type", "application/octet-stream")])?;
            Ok(Body::from(body))
        }
        _ => {
            start_response.start("404 Not Found", text)?;
            Ok(Body::from("Not Found\n"))
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = match cli::listen_addr() {
        Ok(addr) => addr,
        Err(why) => {
            eprintln!("cors: {why}\nusage: cors [--addr HOST:PORT]   (or GATEWAY_ADDR=HOST:PORT)");
            std::process::exit(2);
        }
    };
    let app = Stack::new()
        .with(AccessLog::new().to_writer(std::io::stdout()))
        .with(Gzip::new())
        .wrap(app);
    let cors = CorsLayer::new()
        .allow_origin([HeaderValue::from_static(ALLOWED_ORIGIN)])
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    let service = ServiceBuilder::new()
        .layer(cors)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .service(app.into_service());

    let server = match Server::bind(&*addr).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("cors: {e}; pick another with --addr HOST:PORT or GATEWAY_ADDR");
            std::process::exit(1);
        }
    };
    eprintln!(
        "cors: listening on http://{} (CORS for {ALLOWED_ORIGIN}; bodies up to {BODY_LIMIT} \
         bytes; Ctrl-C to stop)",
        server.local_addr()?
    );
    server.serve(service).await
}
