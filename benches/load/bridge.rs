//! Load-benchmark server: the bare bridge, no middleware, no tower layer:
//! `demo::app` as an `AppService`, served by gateway's `Server`.
//!
//! `cargo run --release --example load-bridge -- --addr 127.0.0.1:0 [--inline | --mixed]`
//! prints `listening on ADDR`; `--inline` picks Inline dispatch, `--mixed`
//! a per-request predicate (`inline_when`: Inline without a body, else
//! Blocking), to show what choosing costs; the default is Blocking.
//!
//! Like its peer `load-peer-hyper`, it runs without a header-read timeout
//! (hyper arms a timer per request for it): this server measures what the
//! bridge costs, not the `Server`'s guards. The `stack` example keeps them.

#[path = "../../examples/demo/mod.rs"]
mod demo;

use gateway::tower::{AppService, IntoService, RequestInfo, Server};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut addr = "127.0.0.1:0".to_owned();
    let mut inline = false;
    let mut mixed = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--inline" => inline = true,
            "--mixed" => mixed = true,
            "--addr" => addr = args.next().unwrap_or(addr),
            other => addr = other.to_owned(),
        }
    }
    let server = Server::bind(&*addr).await?.header_read_timeout(None);
    println!("listening on {}", server.local_addr()?);
    if mixed {
        let service =
            AppService::new(demo::app).inline_when(|req: &RequestInfo<'_>| !req.has_body());
        server.serve(service).await
    } else if inline {
        server.serve(demo::app.into_service_inline()).await
    } else {
        server.serve(demo::app.into_service()).await
    }
}
