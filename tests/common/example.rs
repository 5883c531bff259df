//! A built example server run as a child process, as a user runs it: found
//! next to the test binary (`target/<profile>/examples/`, where `cargo test`
//! builds examples before the integration tests), built once with `cargo
//! build --example NAME` when missing (`cargo test --test NAME` alone does
//! not build examples), started on `--addr 127.0.0.1:0` with its address
//! read from its `listening on http://ADDR` line on stderr, its stdout and
//! stderr collected, stopped by a signal sent with `kill`, and killed when
//! dropped. Every wait is bounded by [`WAIT`].
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// The longest any one wait on the child may take.
pub const WAIT: Duration = Duration::from_secs(30);

/// The path of the built example `name`, building it once if missing.
pub fn example(name: &str) -> PathBuf {
    static BUILDING: Mutex<()> = Mutex::new(());
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/..");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let _one_build_at_a_time = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    if !path.is_file() {
        build(name, profile_dir);
    }
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --example {name}`",
        path.display()
    );
    path
}

/// `cargo build --example name` into the same target dir and profile, in
/// bounded time.
fn build(name: &str, profile_dir: &Path) {
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let target_dir = profile_dir.parent().expect("target/<profile>");
    let mut cargo = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--example", name, "--profile", profile])
        .arg("--manifest-path")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir)
        .stdin(Stdio::null())
        .spawn()
        .expect("cargo runs");
    let deadline = Instant::now() + Duration::from_secs(600);
    while cargo.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = cargo.kill();
            let _ = cargo.wait();
            panic!("`cargo build --example {name}` did not end in 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Everything a pipe of the child gave, and word when it reached its end.
struct Collected {
    bytes: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Collected {
    /// Read `pipe` line by line on a thread, handing each line to `each`.
    fn spawn(
        pipe: impl Read + Send + 'static,
        mut each: impl FnMut(&[u8]) + Send + 'static,
    ) -> Self {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let (done_tx, done) = mpsc::channel();
        let sink = bytes.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                each(&line);
                sink.lock().unwrap().extend_from_slice(&line);
                line.clear();
            }
            let _ = done_tx.send(());
        });
        Collected { bytes, done }
    }

    fn snapshot(&self) -> Vec<u8> {
        self.bytes.lock().unwrap().clone()
    }

    /// Everything, once the pipe is closed (bounded).
    fn all(self) -> Vec<u8> {
        self.done
            .recv_timeout(WAIT)
            .expect("the pipe closes once the child has exited");
        self.snapshot()
    }
}

/// A running example server; killed (and reaped) when dropped.
pub struct Running {
    child: Child,
    /// Where it listens (always loopback).
    pub addr: SocketAddr,
    stdout: Option<Collected>,
    stderr: Option<Collected>,
}

/// How the child ended, and all it wrote.
#[derive(Debug)]
pub struct Exited {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Running {
    /// Start example `name` with `--addr 127.0.0.1:0`, with `GATEWAY_*`
    /// and `RUST_LOG` removed from its environment and `envs` added, and
    /// wait (bounded) for its address on stderr.
    pub fn start(name: &str, envs: &[(&str, &str)]) -> Running {
        Running::start_with(name, &[], envs)
    }

    /// [`Running::start`] with `args` after `--addr 127.0.0.1:0`.
    pub fn start_with(name: &str, args: &[&str], envs: &[(&str, &str)]) -> Running {
        let args = [&["--addr", "127.0.0.1:0"], args].concat();
        let (mut running, addr_rx) = Running::spawn(name, &args, envs);
        match addr_rx.recv_timeout(WAIT) {
            Ok(addr) => running.addr = addr,
            Err(e) => panic!(
                "no `listening on` line from {name} ({e}); stderr: {}",
                String::from_utf8_lossy(&running.stderr.as_ref().unwrap().snapshot())
            ),
        }
        assert!(running.addr.ip().is_loopback(), "{}", running.addr);
        running
    }

    /// Run example `name` with `args` (environment as for [`Running::start`])
    /// and wait (bounded) for it to exit on its own.
    pub async fn run_to_exit(name: &str, args: &[&str], envs: &[(&str, &str)]) -> Exited {
        Running::spawn(name, args, envs).0.exited().await
    }

    /// Start example `name` with `args`; the receiver gets the address of
    /// its `listening on` line.
    fn spawn(
        name: &str,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> (Running, mpsc::Receiver<SocketAddr>) {
        let mut command = Command::new(example(name));
        command.args(args);
        for (var, _) in std::env::vars_os() {
            let text = var.to_string_lossy();
            if text.starts_with("GATEWAY_") || text == "RUST_LOG" {
                command.env_remove(&var);
            }
        }
        let mut child = command
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("the {name} example runs: {e}"));
        let stdout = Collected::spawn(child.stdout.take().unwrap(), |_| {});
        let (addr_tx, addr_rx) = mpsc::channel();
        let stderr = Collected::spawn(child.stderr.take().unwrap(), move |line| {
            if let Some(addr) = listening_on(line) {
                let _ = addr_tx.send(addr);
            }
        });
        let running = Running {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            stdout: Some(stdout),
            stderr: Some(stderr),
        };
        (running, addr_rx)
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What it has written to stdout so far.
    pub fn stdout_so_far(&self) -> Vec<u8> {
        self.stdout.as_ref().unwrap().snapshot()
    }

    /// Send it `SIG{signal}` (`"TERM"`, `"INT"`) with `kill`.
    pub fn signal(&self, signal: &str) {
        let kill = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(kill.success(), "kill -{signal} failed: {kill}");
    }

    /// Wait (bounded, without blocking the runtime) for it to exit, then
    /// for the ends of its pipes.
    pub async fn exited(mut self) -> Exited {
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit in {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        Exited {
            status,
            stdout: self.stdout.take().unwrap().all(),
            stderr: String::from_utf8_lossy(&self.stderr.take().unwrap().all()).into_owned(),
        }
    }

    /// Send `SIG{signal}` and wait (bounded) for the exit.
    pub async fn stop(self, signal: &str) -> Exited {
        self.signal(signal);
        self.exited().await
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Once reaped (by `exited`), `kill` signals nothing.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ADDR` out of `... listening on http://ADDR ...`.
fn listening_on(line: &[u8]) -> Option<SocketAddr> {
    let line = std::str::from_utf8(line).ok()?;
    let (_, rest) = line.split_once("listening on http://")?;
    rest.split(|c: char| c.is_whitespace() || c == '/')
        .next()?
        .parse()
        .ok()
}
