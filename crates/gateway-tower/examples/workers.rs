//! Several worker processes on one port: `cargo run -p gateway-tower
//! --example workers -- --addr 127.0.0.1:8000 --workers 4`.
//!
//! The master binds, prints `listening on http://ADDR`, and starts the
//! workers (this same program, run again); each answers with its pid, so
//! `curl` a few times to see them take turns. Kill a worker and the master
//! starts another; `SIGHUP` to the master replaces them all; Ctrl-C (or
//! `SIGTERM` to the master) stops them all gracefully. `--fail-boot` makes every worker exit with
//! `WORKER_BOOT_ERROR`, as a worker whose app cannot load does: the master
//! then stops and exits with that code. `/sleep/MS` answers after MS
//! milliseconds, to watch a graceful stop finish it.
//!
//! Options: `--addr ADDR` (127.0.0.1:8000), `--unix PATH` (a Unix socket
//! instead), `--workers N` (2),
//! `--graceful-timeout SECONDS` (30), `--fail-boot`.

use std::process::ExitCode;
use std::time::Duration;

use gateway_core::{Body, Environ, Error, StartResponse};
use gateway_tower::{IntoService, Listener, Server, WORKER_BOOT_ERROR, Workers};

/// Answers with the pid of the worker that served the request; on
/// `/sleep/MS`, after saying so on stdout and sleeping MS milliseconds (a
/// request in flight, to watch a graceful stop).
fn whoami(environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
    let path = environ.get("PATH_INFO").unwrap_or_default();
    if let Some(ms) = path.strip_prefix("/sleep/").and_then(|ms| ms.parse().ok()) {
        println!("pid {}: sleeping {ms} ms", std::process::id());
        std::thread::sleep(Duration::from_millis(ms));
    }
    start_response.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from(format!("pid {}\n", std::process::id())))
}

/// The command line.
struct Options {
    addr: String,
    unix: Option<String>,
    workers: usize,
    graceful_timeout: Duration,
    fail_boot: bool,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        addr: "127.0.0.1:8000".to_owned(),
        unix: None,
        workers: 2,
        graceful_timeout: Workers::DEFAULT_GRACEFUL_TIMEOUT,
        fail_boot: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--addr" => options.addr = value()?,
            "--unix" => options.unix = Some(value()?),
            "--workers" => {
                options.workers = value()?.parse().map_err(|e| format!("--workers: {e}"))?;
            }
            "--graceful-timeout" => {
                let seconds = value()?
                    .parse()
                    .map_err(|e| format!("--graceful-timeout: {e}"))?;
                options.graceful_timeout = Duration::from_secs(seconds);
            }
            "--fail-boot" => options.fail_boot = true,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

/// Serve `whoami` on the inherited listener until SIGTERM.
fn serve(listener: Listener) -> ExitCode {
    let served = tokio::runtime::Runtime::new().and_then(|runtime| {
        runtime.block_on(async {
            let server = match listener {
                Listener::Tcp(listener) => Server::from_tcp(listener)?,
                Listener::Unix(listener) => Server::from_unix(listener)?,
            };
            server.serve(whoami.into_service()).await
        })
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("workers example: worker {}: {e}", std::process::id());
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("workers example: {e}");
            return ExitCode::from(2);
        }
    };
    Workers::new(options.workers)
        .graceful_timeout(options.graceful_timeout)
        .run(
            || {
                let listener = match &options.unix {
                    Some(path) => Listener::bind_unix(path)?,
                    None => Listener::bind_tcp(options.addr.as_str())?,
                };
                eprintln!(
                    "listening on {} with {} worker(s), master pid {}",
                    listener.describe(),
                    options.workers,
                    std::process::id()
                );
                Ok(listener)
            },
            |listener| {
                if options.fail_boot {
                    eprintln!("workers example: --fail-boot: this worker does not boot");
                    return ExitCode::from(WORKER_BOOT_ERROR);
                }
                serve(listener)
            },
        )
}
