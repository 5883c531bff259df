//! The master's side: start the workers, restart the ones that die, stop
//! them all on a signal — gunicorn's arbiter, on a small tokio runtime.
//!
//! Each worker is the master's own command run again, with the listener as
//! fd 3, in a process group of its own (so a Ctrl-C at the terminal reaches
//! the master alone, which then stops the workers once, with `SIGTERM`). A
//! task per worker waits for its exit and reports it on a channel; the loop
//! below reacts to those reports, to the signals, and to the graceful
//! timeout.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::process::ExitStatus;
use std::time::Duration;

use command_fds::{CommandFdExt, FdMapping};
use gateway_core::ErrorStream;
use rustix::process::{Pid, Signal};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::worker::MASTER_ENV;
use super::{Listener, WORKER_BOOT_ERROR, WORKER_ENV};

/// The first restart delay of a worker that died.
const BACKOFF_MIN: Duration = Duration::from_millis(100);

/// The longest restart delay: the delay doubles while a worker keeps dying.
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// A worker that ran this long before it died is restarted after
/// [`BACKOFF_MIN`] again.
const STABLE: Duration = Duration::from_secs(10);

/// What the master is told.
enum Event {
    /// Worker `index` (`pid`) has exited.
    Exited {
        index: usize,
        pid: u32,
        status: io::Result<ExitStatus>,
    },
    /// Worker `index`'s restart delay is over.
    Restart { index: usize },
}

/// Why the master stops.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// `SIGTERM` or `SIGINT`.
    Signal,
    /// A worker exited with [`WORKER_BOOT_ERROR`].
    BootError,
    /// A worker could not be started at all.
    SpawnError,
}

/// A worker that is running.
struct Running {
    pid: u32,
    started: Instant,
}

/// The master's settings and state.
pub(super) struct Master<'a> {
    pub(super) count: usize,
    pub(super) graceful_timeout: Duration,
    pub(super) program: OsString,
    pub(super) args: Vec<OsString>,
    pub(super) errors: &'a ErrorStream,
    pub(super) listener: &'a Listener,
}

impl Master<'_> {
    /// Supervise the workers until told to stop; the master's exit status.
    pub(super) async fn supervise(&self) -> io::Result<u8> {
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let (events, mut inbox) = mpsc::unbounded_channel();
        let mut running: HashMap<usize, Running> = HashMap::new();
        let mut backoff = vec![BACKOFF_MIN; self.count];
        let mut stop: Option<Stop> = None;
        let mut deadline: Option<Instant> = None;
        let mut clean = true;

        for index in 0..self.count {
            match self.spawn(index, &events) {
                Ok(worker) => {
                    running.insert(index, worker);
                }
                Err(e) => {
                    self.log(&format!("cannot start worker {index}: {e}"));
                    stop = Some(Stop::SpawnError);
                    break;
                }
            }
        }
        if stop.is_some() {
            deadline = Some(self.stop_all(&running));
        }

        while stop.is_none() || !running.is_empty() {
            let timeout = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = term.recv() => self.on_signal("SIGTERM", &mut stop, &mut deadline, &running),
                _ = int.recv() => self.on_signal("SIGINT", &mut stop, &mut deadline, &running),
                () = timeout => {
                    self.log(&format!(
                        "{} worker(s) still running after the graceful timeout of {:?}: killing them",
                        running.len(),
                        self.graceful_timeout
                    ));
                    kill_all(&running, Signal::KILL);
                    deadline = None;
                }
                Some(event) = inbox.recv() => match event {
                    Event::Exited { index, pid, status } => {
                        let Some(worker) = running.remove(&index) else { continue };
                        if stop.is_some() {
                            if !status.as_ref().is_ok_and(ExitStatus::success) {
                                clean = false;
                                self.log(&format!("worker {index} (pid {pid}) exited: {}", words(&status)));
                            }
                        } else if status.as_ref().ok().and_then(ExitStatus::code) == Some(i32::from(WORKER_BOOT_ERROR)) {
                            self.log(&format!(
                                "worker {index} (pid {pid}) failed to boot (exit status {WORKER_BOOT_ERROR}); \
                                 stopping the other workers"
                            ));
                            stop = Some(Stop::BootError);
                            deadline = Some(self.stop_all(&running));
                        } else {
                            let delay = next_delay(&mut backoff[index], worker.started.elapsed());
                            self.log(&format!(
                                "worker {index} (pid {pid}) died unexpectedly ({}); restarting it in {delay:?}",
                                words(&status)
                            ));
                            let events = events.clone();
                            tokio::spawn(async move {
                                tokio::time::sleep(delay).await;
                                let _ = events.send(Event::Restart { index });
                            });
                        }
                    }
                    Event::Restart { index } => {
                        if stop.is_some() {
                            continue;
                        }
                        match self.spawn(index, &events) {
                            Ok(worker) => {
                                running.insert(index, worker);
                            }
                            Err(e) => {
                                self.log(&format!("cannot restart worker {index}: {e}; stopping"));
                                stop = Some(Stop::SpawnError);
                                deadline = Some(self.stop_all(&running));
                            }
                        }
                    }
                },
            }
        }

        Ok(match stop {
            Some(Stop::BootError) => {
                self.log("a worker failed to boot: the master exits");
                WORKER_BOOT_ERROR
            }
            Some(Stop::SpawnError) => 1,
            Some(Stop::Signal) | None if clean => 0,
            Some(Stop::Signal) | None => 1,
        })
    }

    /// Start worker `index`: the command again, the listener as fd 3.
    fn spawn(&self, index: usize, events: &mpsc::UnboundedSender<Event>) -> io::Result<Running> {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .env(WORKER_ENV, index.to_string())
            .env(MASTER_ENV, std::process::id().to_string())
            .env("LISTEN_FDS", "1")
            .env("LISTEN_PID", "")
            .env("LISTEN_FDS_FIRST_FD", "3")
            .process_group(0)
            .fd_mappings(vec![FdMapping {
                parent_fd: self.listener.duplicate()?,
                child_fd: 3,
            }])
            .map_err(io::Error::other)?;
        let mut child = command.spawn().map_err(|e| {
            io::Error::new(e.kind(), format!("{}: {e}", self.program.to_string_lossy()))
        })?;
        let pid = child.id().unwrap_or_default();
        let events = events.clone();
        tokio::spawn(async move {
            let status = child.wait().await;
            let _ = events.send(Event::Exited { index, pid, status });
        });
        Ok(Running {
            pid,
            started: Instant::now(),
        })
    }

    /// SIGTERM or SIGINT: the first stops the workers gracefully, the next
    /// kills them.
    fn on_signal(
        &self,
        name: &str,
        stop: &mut Option<Stop>,
        deadline: &mut Option<Instant>,
        running: &HashMap<usize, Running>,
    ) {
        if stop.is_none() {
            *stop = Some(Stop::Signal);
            *deadline = Some(self.stop_all(running));
        } else {
            self.log(&format!(
                "second signal ({name}): killing {} worker(s)",
                running.len()
            ));
            kill_all(running, Signal::KILL);
            *deadline = None;
        }
    }

    /// Send every worker `SIGTERM`; the time they have to exit.
    fn stop_all(&self, running: &HashMap<usize, Running>) -> Instant {
        kill_all(running, Signal::TERM);
        Instant::now() + self.graceful_timeout
    }

    fn log(&self, line: &str) {
        self.errors
            .log(&format!("gateway: master {}: {line}", std::process::id()));
    }
}

/// Send `signal` to every running worker (one already gone is no error).
fn kill_all(running: &HashMap<usize, Running>, signal: Signal) {
    for worker in running.values() {
        if let Some(pid) = i32::try_from(worker.pid).ok().and_then(Pid::from_raw) {
            let _ = rustix::process::kill_process(pid, signal);
        }
    }
}

/// The restart delay after a death, and the next one in `backoff`.
fn next_delay(backoff: &mut Duration, lived: Duration) -> Duration {
    if lived >= STABLE {
        *backoff = BACKOFF_MIN;
    }
    let delay = *backoff;
    *backoff = (delay * 2).min(BACKOFF_MAX);
    delay
}

/// `exit status: N` / `signal: 9 (SIGKILL)`, as std words it.
fn words(status: &io::Result<ExitStatus>) -> String {
    match status {
        Ok(status) => status.to_string(),
        Err(e) => format!("its exit status could not be read: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_and_resets_after_a_stable_run() {
        let mut backoff = BACKOFF_MIN;
        let quick = Duration::from_millis(5);
        let delays: Vec<_> = (0..10).map(|_| next_delay(&mut backoff, quick)).collect();
        assert_eq!(delays[0], BACKOFF_MIN);
        assert_eq!(delays[1], BACKOFF_MIN * 2);
        assert_eq!(*delays.last().unwrap(), BACKOFF_MAX);
        assert_eq!(next_delay(&mut backoff, STABLE), BACKOFF_MIN);
    }
}
