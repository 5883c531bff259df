//! Load-benchmark server: the bare bridge, no middleware, no tower layer:
//! `gateway::demo::app` as an `AppService`, served by gateway's `Server`.
//!
//! `cargo run --release --example load-bridge -- --addr 127.0.0.1:0 [--inline]`
//! prints `listening on ADDR`; `--inline` picks Inline dispatch (default:
//! Blocking).
//!
//! Like its peer `load-peer-hyper`, it runs without a header-read timeout
//! (hyper arms a timer per request for it): this server measures what the
//! bridge costs, not the `Server`'s guards. The `stack` example keeps them.

use gateway::tower::{IntoService, Server};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut addr = "127.0.0.1:0".to_owned();
    let mut inline = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--inline" => inline = true,
            "--addr" => addr = args.next().unwrap_or(addr),
            other => addr = other.to_owned(),
        }
    }
    let server = Server::bind(&*addr).await?.header_read_timeout(None);
    println!("listening on {}", server.local_addr()?);
    if inline {
        server.serve(gateway::demo::app.into_service_inline()).await
    } else {
        server.serve(gateway::demo::app.into_service()).await
    }
}
