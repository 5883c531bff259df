//! Where access lines go: the buffered sink (full, on time, on demand, on
//! drop, from many threads) and the default sink with no `tracing`
//! subscriber (standard output, in a child process of its own).

mod common;

use std::io::{self, Write};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gateway_core::testing::Client;
use gateway_core::{Body, Environ, Error, Middleware, StartResponse};
use gateway_middleware::access_log::{AccessLog, Buffer, Format};

use common::Broken;

/// A writer that keeps each `write` call apart, so a test sees how lines
/// were grouped into writes.
#[derive(Clone, Default)]
struct Writes(Arc<Mutex<Vec<Vec<u8>>>>);

impl Write for Writes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().push(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Writes {
    /// Each write, as text.
    fn writes(&self) -> Vec<String> {
        let writes = self.0.lock().unwrap();
        writes
            .iter()
            .map(|w| String::from_utf8(w.clone()).unwrap())
            .collect()
    }
    /// Every line written so far.
    fn lines(&self) -> Vec<String> {
        self.writes().concat().lines().map(str::to_owned).collect()
    }
    /// Wait (up to five seconds) until `n` lines have been written.
    fn wait_for(&self, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let lines = self.lines();
            if lines.len() >= n || Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn hello(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from("Hello"))
}

/// Lines of the form `/path 200`, buffered as `buffer` says.
fn log(buffer: Buffer) -> (AccessLog, Writes) {
    let writes = Writes::default();
    let log = AccessLog::new()
        .format(Format::parse("%U %>s").unwrap())
        .to_buffered_writer(writes.clone(), buffer);
    (log, writes)
}

/// Long enough that no test sees a timed flush it did not wait for.
const NEVER: Duration = Duration::from_secs(3600);

#[test]
fn buffered_lines_reach_the_writer_after_the_interval_without_more_traffic() {
    let (log, writes) = log(Buffer::new().flush_interval(Duration::from_millis(20)));
    let client = Client::new(log.wrap(hello));
    client.get("/one").send();
    client.get("/two").send();
    assert_eq!(writes.wait_for(2), ["/one 200", "/two 200"]);
}

#[test]
fn lines_wait_in_the_buffer_until_a_flush() {
    let (log, writes) = log(Buffer::new().flush_interval(NEVER));
    let client = Client::new(log.wrap(hello));
    client.get("/a").send();
    assert!(writes.lines().is_empty(), "buffered, not written");
    log.flush();
    assert_eq!(writes.lines(), ["/a 200"]);

    client.get("/b").send();
    let handle = log.flush_handle();
    handle.flush();
    assert_eq!(writes.lines(), ["/a 200", "/b 200"]);
}

#[test]
fn a_full_buffer_is_written_before_the_next_line() {
    // "/1 200\n" is 7 bytes: two lines fill 14, the third does not fit.
    let (log, writes) = log(Buffer::new().size(14).flush_interval(NEVER));
    let client = Client::new(log.wrap(hello));
    client.get("/1").send();
    client.get("/2").send();
    assert!(writes.writes().is_empty(), "two lines fit");
    client.get("/3").send();
    assert_eq!(writes.writes(), ["/1 200\n/2 200\n"]);
    log.flush();
    assert_eq!(writes.writes(), ["/1 200\n/2 200\n", "/3 200\n"]);
}

#[test]
fn a_line_longer_than_the_buffer_is_written_whole_and_in_order() {
    let (log, writes) = log(Buffer::new().size(10).flush_interval(NEVER));
    let client = Client::new(log.wrap(hello));
    client.get("/a").send();
    client.get("/a-path-longer-than-ten-bytes").send();
    assert_eq!(
        writes.writes(),
        ["/a 200\n", "/a-path-longer-than-ten-bytes 200\n"]
    );
}

#[test]
fn a_buffer_of_size_zero_writes_each_line_at_once_and_a_huge_one_is_no_error() {
    let (log, writes) = log(Buffer::new().size(0).flush_interval(NEVER));
    let client = Client::new(log.wrap(hello));
    client.get("/a").send();
    client.get("/b").send();
    assert_eq!(writes.writes(), ["/a 200\n", "/b 200\n"]);

    let (log, writes) = self::log(Buffer::new().size(usize::MAX).flush_interval(NEVER));
    Client::new(log.wrap(hello)).get("/c").send();
    log.flush();
    assert_eq!(writes.writes(), ["/c 200\n"]);
}

#[test]
fn dropping_the_log_and_its_app_writes_what_is_buffered() {
    let (log, writes) = log(Buffer::new().flush_interval(NEVER));
    let handle = log.flush_handle();
    let client = Client::new(log.wrap(hello));
    client.get("/last").send();
    assert!(writes.lines().is_empty());
    drop(client);
    assert!(writes.lines().is_empty(), "the log itself still holds it");
    drop(log);
    assert_eq!(writes.lines(), ["/last 200"]);
    handle.flush(); // the log is gone: nothing to do, and no panic
    assert_eq!(writes.lines(), ["/last 200"]);
}

#[test]
fn many_threads_lines_all_arrive_whole() {
    const THREADS: usize = 8;
    const EACH: usize = 200;
    let (log, writes) = log(Buffer::new()
        .size(1000)
        .flush_interval(Duration::from_millis(1)));
    let client = Arc::new(Client::new(log.wrap(hello)));
    drop(log);
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let client = client.clone();
            std::thread::spawn(move || {
                for i in 0..EACH {
                    client.get(&format!("/t{t}/request-{i}")).send();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    drop(client);
    let all = writes.writes();
    assert!(all.len() > 1, "the buffer was written more than once");
    assert!(
        all.iter().all(|w| w.ends_with('\n')),
        "no line is split between writes"
    );
    let mut lines = writes.lines();
    lines.sort();
    let mut expected: Vec<String> = (0..THREADS)
        .flat_map(|t| (0..EACH).map(move |i| format!("/t{t}/request-{i} 200")))
        .collect();
    expected.sort();
    assert_eq!(lines, expected);
}

#[test]
fn a_failing_buffered_writer_never_fails_the_request() {
    for panics in [false, true] {
        let log = AccessLog::new().to_buffered_writer(Broken { panics }, Buffer::new().size(10));
        let client = Client::new(log.wrap(hello));
        for _ in 0..3 {
            let response = client.get("/").send();
            assert_eq!(
                (response.status.as_u16(), response.text().as_str()),
                (200, "Hello")
            );
        }
        log.flush();
    }
}

/// Set in the child process that serves a request with the default sink.
const CHILD: &str = "GATEWAY_ACCESS_LOG_CHILD";

/// In the child (and only there): one request through `AccessLog::new()`,
/// with no subscriber installed.
#[test]
fn child_serves_one_request_with_the_default_sink() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let app = |mut environ: Environ, sr: StartResponse| -> Result<Body, Error> {
        writeln!(environ.errors_mut(), "disk nearly full").unwrap();
        sr.start("200 OK", ())?;
        Ok(Body::from("ok"))
    };
    let log = AccessLog::new().format(Format::parse("%>s %U").unwrap());
    Client::new(log.wrap(app)).get("/seen").send();
}

#[test]
fn with_no_subscriber_the_default_sink_writes_to_stdout() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_serves_one_request_with_the_default_sink",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.contains(&"200 /seen"), "{stdout}");
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("[error] [client 127.0.0.1] disk nearly full")),
        "{stdout}"
    );
}
