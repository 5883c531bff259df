//! The main job: the demo app behind gateway middleware and tower-http
//! layers, in one stack, served over HTTP/1.1 and HTTP/2.
//!
//! ```text
//! cargo run --release --example stack                       # 127.0.0.1:8000
//! cargo run --release --example stack -- --addr 127.0.0.1:9000
//! GATEWAY_ADDR=127.0.0.1:9000 cargo run --release --example stack
//! ```
//!
//! Every response carries `x-request-id` (the client's, or a new UUID); a
//! request whose head takes longer than 30 s gets `408`; a panic in a layer
//! becomes a `500`. A client gets 10 s to send its request head (then the
//! connection is closed); a request line over 8 KiB gets `414`, a header
//! line over 8 KiB, more than 100 fields or a head over 32 KiB `431`.
//!
//! Ctrl-C or SIGTERM stops it: no new connection is accepted, the requests
//! in flight get a grace period of 30 s (`GATEWAY_GRACE_PERIOD=SECONDS`,
//! decimals allowed, says otherwise) to finish, and the access log's buffer
//! is written out. It exits with status 0 when every request finished, and
//! with status 3 when connections were still open at the end of the grace
//! period (or at a second signal) and were closed. `RUST_LOG` sets the log
//! level (`info`).
//!
//! Requests that cannot block (no request body, and not `/stream`, which
//! sleeps between chunks) run on the connection's task (Inline dispatch);
//! the others on the blocking pool (Blocking dispatch), through the same
//! middleware stack: `AppService::inline_when(never_blocks)` chooses per
//! request. A port in use exits with status 1 and says which address.

mod cli;
mod demo;

use std::time::Duration;

use gateway::middleware::access_log::{AccessLog, Buffer};
use gateway::middleware::auth::{AuthError, BasicAuth, BearerAuth, Credentials, StaticTokens};
use gateway::middleware::gzip::Gzip;
use gateway::tower::{AppService, RequestInfo, Server};
use gateway::{App, Stack};
use http::{Method, StatusCode};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tracing_subscriber::EnvFilter;

/// The demo credentials: Basic on `/private/`, Bearer on `/api/`, unless
/// `GATEWAY_DEMO_USER`, `GATEWAY_DEMO_PASSWORD`, `GATEWAY_DEMO_TOKEN` say otherwise.
const DEMO_USER: &str = "demo";
const DEMO_PASSWORD: &str = "demo";
const DEMO_TOKEN: &str = "demo-token";
const REALM: &str = "gateway demo";

/// How long a request may take to produce its head.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a client may take to send its request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The exit status when the grace period ended with connections open.
const EXIT_CUT: i32 = 3;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = match cli::listen_addr() {
        Ok(addr) => addr,
        Err(why) => {
            eprintln!(
                "stack: {why}\nusage: stack [--addr HOST:PORT]   (or GATEWAY_ADDR=HOST:PORT)"
            );
            std::process::exit(2);
        }
    };
    let grace = match grace_period() {
        Ok(grace) => grace,
        Err(why) => {
            eprintln!("stack: {why}");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();

    let (user, password, token) = demo_credentials();
    let access_log = AccessLog::new().to_buffered_writer(std::io::stdout(), Buffer::new());
    let flush = access_log.flush_handle();
    let app = match demo_stack(access_log, &user, &password, &token) {
        Ok(app) => app,
        Err(why) => {
            eprintln!("stack: {why}");
            std::process::exit(2);
        }
    };

    let service = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(CatchPanicLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .service(AppService::new(app).inline_when(never_blocks));

    let server = match Server::bind(&*addr).await {
        Ok(server) => server
            .server_header("gateway")
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .max_request_line(8 * 1024)
            .max_header_line(8 * 1024)
            .max_head(32 * 1024)
            .max_headers(100)
            .grace_period(grace),
        Err(e) => {
            eprintln!("stack: {e}; pick another with --addr HOST:PORT or GATEWAY_ADDR");
            std::process::exit(1);
        }
    };
    eprintln!(
        "stack: listening on http://{} (HTTP/1.1 and h2c; Basic {user}:{password} on \
         /private/, Bearer {token} on /api/; access log on stdout; Ctrl-C to stop)",
        server.local_addr()?
    );
    let served = server.serve(service).await;
    // Every request has been answered (or its connection cut) and logged; a
    // blocking-pool thread may still hold the app (and so the log) a
    // moment: write the buffer now.
    flush.flush();
    match served {
        Ok(()) => {
            eprintln!("stack: stopped");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            eprintln!("stack: stopped: {e}");
            std::process::exit(EXIT_CUT);
        }
        Err(e) => Err(e),
    }
}

/// `GATEWAY_GRACE_PERIOD` (seconds) or 30 s.
fn grace_period() -> Result<Duration, String> {
    match std::env::var("GATEWAY_GRACE_PERIOD") {
        Err(_) => Ok(gateway::tower::DEFAULT_GRACE_PERIOD),
        Ok(text) => text
            .parse::<f64>()
            .ok()
            .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
            .ok_or_else(|| format!("GATEWAY_GRACE_PERIOD={text:?} is not a number of seconds")),
    }
}

/// The gateway side of the stack, outermost first: the access log (Apache
/// combined, one line per request on stdout, buffered as nginx's
/// `buffer=64k flush=1s`: written at least every second, and all of it at
/// shutdown), gzip, Basic auth on `/private/`, Bearer auth on `/api/`, and
/// the demo app.
fn demo_stack(
    access_log: AccessLog,
    user: &str,
    password: &str,
    token: &str,
) -> Result<impl App, AuthError> {
    Ok(Stack::new()
        .with(access_log)
        .with(Gzip::new())
        .with(
            BasicAuth::new(REALM, Credentials::new([(user, password)])?)?
                .only_under("/private/")?,
        )
        .with(BearerAuth::new(REALM, StaticTokens::new([(token, user)])?)?.only_under("/api/")?)
        .wrap(demo::app))
}

/// A request whose app cannot block: no body to read, and one of the demo's
/// routes that never sleep, named exactly as sent. Anything else, including
/// an encoded spelling such as `/%73tream` (the app decodes it to the
/// sleeping `/stream`), takes the safe way: the blocking pool.
fn never_blocks(req: &RequestInfo<'_>) -> bool {
    let path = req.path();
    matches!(*req.method(), Method::GET | Method::HEAD)
        && !req.has_body()
        && (matches!(path, "/" | "/environ" | "/big" | "/write")
            || path.starts_with("/private/")
            || path.starts_with("/api/"))
}

/// The demo credentials, from the environment or the defaults.
fn demo_credentials() -> (String, String, String) {
    let var =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    (
        var("GATEWAY_DEMO_USER", DEMO_USER),
        var("GATEWAY_DEMO_PASSWORD", DEMO_PASSWORD),
        var("GATEWAY_DEMO_TOKEN", DEMO_TOKEN),
    )
}
