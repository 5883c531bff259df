//! SIGTERM stops a server gracefully: the request in flight finishes, then
//! `serve` returns `Ok(())` (so a program built on it exits 0).
//!
//! Alone in its own test binary: the signal goes to the whole process.
#![cfg(unix)]

mod common;

use common::{STEP, client, get};
use gateway::tower::{AppService, Server};
use http_body_util::BodyExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_request_in_flight_finish_then_serve_returns_ok() {
    let server = Server::bind("127.0.0.1:0").await.unwrap(); // signals on by default
    let addr = server.local_addr().unwrap();
    let task = tokio::spawn(server.serve(AppService::new(common::demo::app)));
    let c = client();
    // Once it has answered, `serve` is running and listening for signals.
    assert_eq!(get(&c, &format!("http://{addr}/")).await.status, 200);

    let url = format!("http://{addr}/stream?chunks=20&size=100&delay_ms=20");
    let response = c.request(http::Request::get(url).body(Default::default()).unwrap());
    let response = tokio::time::timeout(STEP, response).await.unwrap().unwrap();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success());

    let body = tokio::time::timeout(STEP, response.into_body().collect())
        .await
        .unwrap();
    assert_eq!(body.expect("the whole body").to_bytes().len(), 2000);
    let served = tokio::time::timeout(STEP, task)
        .await
        .expect("serve returns in time")
        .unwrap();
    assert!(served.is_ok(), "{served:?}");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the listener is closed"
    );
}
