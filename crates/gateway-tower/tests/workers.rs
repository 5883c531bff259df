//! Worker processes, for real: the `workers` example (a master and two
//! workers that answer with their pid) on 127.0.0.1 port 0, spoken to over
//! new connections, its workers killed and its master signalled. Every loop
//! is bounded in count and time.

#[path = "../../../tests/common/example.rs"]
mod example;

use std::collections::BTreeSet;
use std::io;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use example::Running;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest any one step may take.
const STEP: Duration = Duration::from_secs(30);

/// The most requests any one step sends.
const MAX_REQUESTS: usize = 2000;

/// The pid of the worker that answers `GET /` on a new connection.
async fn whoami(addr: SocketAddr) -> io::Result<u32> {
    let answer = tokio::time::timeout(STEP, get(addr, "/"))
        .await?
        .expect("the request task ends")?;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    let (_, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    body.trim()
        .strip_prefix("pid ")
        .and_then(|pid| pid.parse().ok())
        .ok_or_else(|| io::Error::other(format!("not a pid: {body:?}")))
}

/// Request until the answers came from `n` pids that `wanted` accepts,
/// each over a new connection; every request must succeed.
async fn pids(addr: SocketAddr, n: usize, wanted: impl Fn(u32) -> bool) -> BTreeSet<u32> {
    pids_resetting(addr, n, wanted, 0).await
}

/// [`pids`], allowing up to `resets` connections reset by the server.
async fn pids_resetting(
    addr: SocketAddr,
    n: usize,
    wanted: impl Fn(u32) -> bool,
    mut resets: usize,
) -> BTreeSet<u32> {
    let deadline = Instant::now() + STEP;
    let mut seen = BTreeSet::new();
    for _ in 0..MAX_REQUESTS {
        let pid = match whoami(addr).await {
            Ok(pid) => pid,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset && resets > 0 => {
                resets -= 1;
                continue;
            }
            Err(e) => panic!("every request is answered: {e}"),
        };
        if wanted(pid) {
            seen.insert(pid);
        }
        if seen.len() >= n || Instant::now() > deadline {
            break;
        }
    }
    assert!(
        seen.len() >= n,
        "{n} pids wanted, seen {seen:?} in {MAX_REQUESTS} requests or {STEP:?}"
    );
    seen
}

/// Whether `pid` is still a live process (not gone, not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, after_name) = stat.rsplit_once(')')?;
            Some(!after_name.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Whether `pid` exists at all (a zombie counts: nobody reaped it).
fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Every one of `workers` is gone (reaped) once their master has exited.
fn all_gone(workers: &BTreeSet<u32>) {
    for pid in workers {
        assert!(!exists(*pid), "worker {pid} outlived its master");
    }
}

/// Wait (bounded) until `pid` is no longer a live process.
async fn wait_dead(pid: u32) {
    let deadline = Instant::now() + STEP;
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "pid {pid} still alive after {STEP:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn kill(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid}: {status}");
}

#[tokio::test]
async fn both_workers_answer_and_a_killed_worker_is_replaced() {
    let server = Running::start("workers", &[]);
    let first = pids(server.addr, 2, |_| true).await;
    let victim = *first.first().unwrap();

    kill("KILL", victim);
    wait_dead(victim).await;
    // Service goes on, from the survivor and from a new worker.
    let replacement = pids(server.addr, 1, |pid| !first.contains(&pid)).await;
    let survivor = *first.last().unwrap();
    assert!(alive(survivor));

    let exited = server.stop("TERM").await;
    assert!(exited.status.success(), "{exited:?}");
    assert!(
        exited.stderr.contains(&format!(
            "(pid {victim}) died unexpectedly (signal: 9 (SIGKILL)); restarting it in"
        )),
        "{}",
        exited.stderr
    );
    all_gone(&first);
    all_gone(&replacement);
}

#[tokio::test]
async fn sigterm_or_sigint_to_the_master_stops_every_worker_and_it_exits_0() {
    for signal in ["TERM", "INT"] {
        let server = Running::start("workers", &[]);
        let workers = pids(server.addr, 2, |_| true).await;
        let exited = server.stop(signal).await;
        assert!(exited.status.success(), "SIG{signal}: {exited:?}");
        // Nothing went wrong, so the master said nothing.
        assert!(
            !exited.stderr.contains("gateway: master"),
            "{}",
            exited.stderr
        );
        all_gone(&workers);
    }
}

#[tokio::test]
async fn a_worker_that_fails_to_boot_stops_the_master_with_code_3() {
    let args = ["--addr", "127.0.0.1:0", "--workers", "2", "--fail-boot"];
    let exited = Running::run_to_exit("workers", &args, &[]).await;
    assert_eq!(
        exited.status.code(),
        Some(i32::from(gateway_tower::WORKER_BOOT_ERROR)),
        "{exited:?}"
    );
    assert!(
        exited
            .stderr
            .contains("failed to boot (exit status 3); stopping the other workers"),
        "{}",
        exited.stderr
    );
    assert!(
        exited
            .stderr
            .contains("a worker failed to boot: the master exits"),
        "{}",
        exited.stderr
    );
    // Not restarted: at most the two workers first started tried to boot.
    let boots = exited.stderr.matches("this worker does not boot").count();
    assert!((1..=2).contains(&boots), "{}", exited.stderr);
}

#[tokio::test]
async fn a_process_that_is_not_a_workers_child_refuses_to_serve() {
    // GATEWAY_WORKER set by hand, as if inherited: no master, no listener.
    let exited = Running::run_to_exit(
        "workers",
        &["--addr", "127.0.0.1:0"],
        &[("GATEWAY_WORKER", "0"), ("GATEWAY_WORKER_MASTER", "1")],
    )
    .await;
    assert_eq!(exited.status.code(), Some(3), "{exited:?}");
    assert!(
        exited.stderr.contains("is not the master (pid 1)"),
        "{}",
        exited.stderr
    );
}

/// Wait (bounded) until the server's stdout holds `text`.
async fn wait_stdout(server: &Running, text: &str) {
    let deadline = Instant::now() + STEP;
    while !String::from_utf8_lossy(&server.stdout_so_far()).contains(text) {
        assert!(
            Instant::now() < deadline,
            "no {text:?} on stdout in {STEP:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `GET path` on a new connection, on a task: the whole answer, or the error.
fn get(addr: SocketAddr, path: &str) -> tokio::task::JoinHandle<io::Result<String>> {
    let path = path.to_owned();
    tokio::spawn(async move { exchange(TcpStream::connect(addr).await?, &path).await })
}

/// `GET path` on `stream`, closing it after: the whole answer.
async fn exchange(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    path: &str,
) -> io::Result<String> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    Ok(answer)
}

#[tokio::test]
async fn on_sigterm_a_request_in_flight_finishes_before_the_workers_exit() {
    let server = Running::start("workers", &[]);
    let slow = get(server.addr, "/sleep/500");
    wait_stdout(&server, "sleeping 500 ms").await;
    server.signal("TERM");
    let answer = tokio::time::timeout(STEP, slow)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    let exited = server.exited().await;
    assert!(exited.status.success(), "{exited:?}");
}

#[tokio::test]
async fn workers_still_busy_after_the_graceful_timeout_are_killed_and_the_master_exits_1() {
    let server = Running::start_with("workers", &["--graceful-timeout", "1"], &[]);
    let stuck = get(server.addr, "/sleep/60000");
    wait_stdout(&server, "sleeping 60000 ms").await;
    let exited = server.stop("TERM").await;
    assert_eq!(exited.status.code(), Some(1), "{exited:?}");
    assert!(
        exited
            .stderr
            .contains("worker(s) still running after the graceful timeout of 1s: killing them"),
        "{}",
        exited.stderr
    );
    assert!(
        exited.stderr.contains("signal: 9 (SIGKILL)"),
        "{}",
        exited.stderr
    );
    // The stuck request's connection ends with its worker, unanswered.
    let answer = tokio::time::timeout(STEP, stuck).await.unwrap().unwrap();
    assert!(!answer.is_ok_and(|a| a.starts_with("HTTP/1.1 200")));
}

#[tokio::test]
async fn a_second_signal_kills_the_workers_at_once() {
    let server = Running::start("workers", &[]);
    let _stuck = get(server.addr, "/sleep/60000");
    wait_stdout(&server, "sleeping 60000 ms").await;
    // Two kinds, so that they cannot merge into one: whichever the master
    // sees second kills the busy worker.
    server.signal("TERM");
    let exited = server.stop("INT").await;
    assert_eq!(exited.status.code(), Some(1), "{exited:?}");
    assert!(
        exited.stderr.contains("second signal (SIG"),
        "{}",
        exited.stderr
    );
}

#[tokio::test]
async fn sighup_replaces_every_worker_and_requests_go_on() {
    let server = Running::start("workers", &[]);
    let old = pids(server.addr, 2, |_| true).await;
    server.signal("HUP");
    // Requests go on being answered while the old workers drain and the new
    // ones boot, until two new workers have answered. A connection that an
    // old worker accepted the moment it was told to stop, before it read
    // the request, is closed by its Server's graceful shutdown (hyper
    // closes a connection with no request in flight): at most one each.
    let new = pids_resetting(server.addr, 2, |pid| !old.contains(&pid), old.len()).await;
    for pid in &old {
        wait_dead(*pid).await;
    }
    let exited = server.stop("TERM").await;
    assert!(exited.status.success(), "{exited:?}");
    assert!(
        !exited.stderr.contains("gateway: master"),
        "{}",
        exited.stderr
    );
    all_gone(&old);
    all_gone(&new);
}

/// The parent of `pid`, from `/proc/PID/stat`.
fn parent_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("a live pid");
    let (_, after_name) = stat.rsplit_once(')').expect("(comm)");
    after_name
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("a ppid")
}

#[tokio::test]
async fn workers_share_a_unix_socket_whose_file_the_master_removes() {
    let dir = std::env::temp_dir().join(format!("gateway-workers-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("app.sock");
    let unix = path.to_str().unwrap().to_owned();
    let master = tokio::spawn(async move {
        Running::run_to_exit("workers", &["--unix", &unix, "--workers", "2"], &[]).await
    });
    // Until the socket is there and two workers have answered on it.
    let deadline = Instant::now() + STEP;
    let mut seen = BTreeSet::new();
    for _ in 0..MAX_REQUESTS {
        assert!(
            Instant::now() < deadline,
            "two workers wanted, seen {seen:?}"
        );
        let Ok(stream) = tokio::net::UnixStream::connect(&path).await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let answer = tokio::time::timeout(STEP, exchange(stream, "/"))
            .await
            .unwrap()
            .unwrap();
        let pid = answer
            .rsplit_once("pid ")
            .and_then(|(_, pid)| pid.trim().parse().ok());
        seen.insert(pid.unwrap_or_else(|| panic!("{answer}")));
        if seen.len() == 2 {
            break;
        }
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    let parents: BTreeSet<u32> = seen.iter().map(|pid| parent_of(*pid)).collect();
    assert_eq!(parents.len(), 1, "one master: {parents:?}");
    kill("TERM", *parents.first().unwrap());
    let exited = tokio::time::timeout(STEP, master).await.unwrap().unwrap();
    assert!(exited.status.success(), "{exited:?}");
    assert!(
        exited
            .stderr
            .contains(&format!("listening on unix:{}", path.display())),
        "{}",
        exited.stderr
    );
    assert!(!path.exists(), "the master removes the socket's file");
    all_gone(&seen);
    std::fs::remove_dir(&dir).unwrap();
}
