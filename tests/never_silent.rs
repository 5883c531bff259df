//! With no `tracing` subscriber installed, what goes wrong still reaches the
//! terminal: the test runs a real server in a child process (this test
//! binary again, with no subscriber), makes an app fail over a loopback
//! socket, and reads the child's stderr.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use gateway::tower::{AppService, Server};
use gateway::{Body, Environ, Error, StartResponse};

/// Calls `start_response` twice without `exc_info`: a PEP 3333 error.
fn twice(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start("200 OK", [("Content-Type", "text/plain")])?;
    sr.start("500 Changed My Mind", [("Content-Type", "text/plain")])?;
    Ok(Body::from("unreachable"))
}

/// The child: serves `twice` on an ephemeral loopback port, sends it one
/// request, prints the status line on stdout and exits. Run by
/// `an_app_error_reaches_stderr_without_a_subscriber`, not on its own.
#[test]
#[ignore = "the child process of an_app_error_reaches_stderr_without_a_subscriber"]
fn child_serves_a_failing_app() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = Server::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        tokio::spawn(server.serve(AppService::new(twice)));
        let status = tokio::task::spawn_blocking(move || {
            let mut stream = TcpStream::connect(addr).unwrap();
            stream
                .write_all(
                    b"GET /twice?x=1 HTTP/1.1\r\nHost: localhost\r\nx-request-id: req-42\r\n\
                      Connection: close\r\n\r\n",
                )
                .unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            answer.lines().next().unwrap_or_default().to_owned()
        })
        .await
        .unwrap();
        println!("status: {status}");
    });
}

#[test]
fn an_app_error_reaches_stderr_without_a_subscriber() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_serves_a_failing_app",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("status: HTTP/1.1 500"),
        "the client gets a 500:\n{stdout}"
    );
    let line = stderr
        .lines()
        .find(|l| l.contains("start_response called a second time without exc_info"))
        .unwrap_or_else(|| panic!("the error is on stderr:\n{stderr}"));
    assert!(
        line.contains("GET /twice?x=1") && line.contains("request id req-42"),
        "the line names the request: {line}"
    );
}
