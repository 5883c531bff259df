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
use std::os::unix::process::ExitStatusExt;
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
    /// Worker `pid` has exited.
    Exited {
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

/// A worker process that has not been reaped yet.
struct Running {
    index: usize,
    started: Instant,
    /// It was sent `SIGTERM`: its exit is no death.
    retiring: bool,
    /// Once sent `SIGTERM`, when it gets `SIGKILL`.
    deadline: Option<Instant>,
}

/// The master's settings.
pub(super) struct Master<'a> {
    pub(super) count: usize,
    pub(super) graceful_timeout: Duration,
    pub(super) program: OsString,
    pub(super) args: Vec<OsString>,
    pub(super) errors: &'a ErrorStream,
    pub(super) listener: &'a Listener,
}

/// The master's state while it supervises.
struct State {
    /// Every worker not reaped yet, by pid.
    running: HashMap<u32, Running>,
    /// The next restart delay of each worker index.
    backoff: Vec<Duration>,
    /// Why it stops, once it does.
    stop: Option<Stop>,
    /// Every worker told to stop exited with status 0.
    clean: bool,
    events: mpsc::UnboundedSender<Event>,
}

impl Master<'_> {
    /// Supervise the workers until told to stop; the master's exit status.
    pub(super) async fn supervise(&self) -> io::Result<u8> {
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut hup = signal(SignalKind::hangup())?;
        let (events, mut inbox) = mpsc::unbounded_channel();
        let mut state = State {
            running: HashMap::new(),
            backoff: vec![BACKOFF_MIN; self.count],
            stop: None,
            clean: true,
            events,
        };
        for index in 0..self.count {
            if state.stop.is_none() {
                self.start_worker(&mut state, index);
            }
        }
        while state.stop.is_none() || !state.running.is_empty() {
            let deadline = state.running.values().filter_map(|w| w.deadline).min();
            let timeout = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = term.recv() => self.on_signal(&mut state, "SIGTERM"),
                _ = int.recv() => self.on_signal(&mut state, "SIGINT"),
                _ = hup.recv() => self.replace_all(&mut state),
                () = timeout => self.kill_late(&mut state),
                Some(event) = inbox.recv() => match event {
                    Event::Exited { pid, status } => self.on_exit(&mut state, pid, &status),
                    Event::Restart { index } => {
                        if state.stop.is_none() {
                            self.start_worker(&mut state, index);
                        }
                    }
                },
            }
        }
        Ok(match state.stop {
            Some(Stop::BootError) => {
                self.log("a worker failed to boot: the master exits");
                WORKER_BOOT_ERROR
            }
            Some(Stop::SpawnError) => 1,
            Some(Stop::Signal) | None if state.clean => 0,
            Some(Stop::Signal) | None => 1,
        })
    }

    /// Start worker `index`; failing that, stop.
    fn start_worker(&self, state: &mut State, index: usize) {
        match self.spawn(index, &state.events) {
            Ok(pid) => {
                let worker = Running {
                    index,
                    started: Instant::now(),
                    retiring: false,
                    deadline: None,
                };
                state.running.insert(pid, worker);
            }
            Err(e) => {
                self.log(&format!("cannot start worker {index}: {e}; stopping"));
                self.stop_all(state, Stop::SpawnError);
            }
        }
    }

    /// Run the command again as worker `index`, the listener as fd 3; its pid.
    fn spawn(&self, index: usize, events: &mpsc::UnboundedSender<Event>) -> io::Result<u32> {
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
            let _ = events.send(Event::Exited { pid, status });
        });
        Ok(pid)
    }

    /// A worker exited: expected (told to stop), a boot error, or a death.
    fn on_exit(&self, state: &mut State, pid: u32, status: &io::Result<ExitStatus>) {
        let Some(worker) = state.running.remove(&pid) else {
            return;
        };
        let index = worker.index;
        if worker.retiring || state.stop.is_some() {
            if !status
                .as_ref()
                .is_ok_and(|s| stopped_as_told(*s, worker.retiring))
            {
                // A worker replaced on SIGHUP does not count against the
                // master's exit status; one stopped with the master does.
                state.clean &= state.stop.is_none();
                self.log(&format!(
                    "worker {index} (pid {pid}) exited: {}",
                    words(status)
                ));
            }
        } else if status.as_ref().ok().and_then(ExitStatus::code)
            == Some(i32::from(WORKER_BOOT_ERROR))
        {
            self.log(&format!(
                "worker {index} (pid {pid}) failed to boot (exit status {WORKER_BOOT_ERROR}); \
                 stopping the other workers"
            ));
            self.stop_all(state, Stop::BootError);
        } else {
            let delay = next_delay(&mut state.backoff[index], worker.started.elapsed());
            self.log(&format!(
                "worker {index} (pid {pid}) died unexpectedly ({}); restarting it in {delay:?}",
                words(status)
            ));
            let events = state.events.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = events.send(Event::Restart { index });
            });
        }
    }

    /// SIGTERM or SIGINT: the first stops the workers gracefully, the next
    /// kills them.
    fn on_signal(&self, state: &mut State, name: &str) {
        if state.stop.is_none() {
            self.stop_all(state, Stop::Signal);
        } else {
            self.log(&format!(
                "second signal ({name}): killing {} worker(s)",
                state.running.len()
            ));
            for (pid, worker) in &mut state.running {
                send(*pid, Signal::KILL);
                worker.deadline = None;
            }
        }
    }

    /// SIGHUP: start a new worker for each one, and stop the old ones
    /// gracefully (the connections that come meanwhile wait in the shared
    /// listen queue).
    fn replace_all(&self, state: &mut State) {
        if state.stop.is_some() {
            return;
        }
        let old: Vec<(u32, usize)> = (state.running.iter())
            .filter(|(_, worker)| !worker.retiring)
            .map(|(pid, worker)| (*pid, worker.index))
            .collect();
        for (pid, index) in old {
            self.start_worker(state, index);
            if state.stop.is_some() {
                return;
            }
            self.retire(state, pid);
        }
    }

    /// Send every worker `SIGTERM`, and stop for `why`.
    fn stop_all(&self, state: &mut State, why: Stop) {
        state.stop = Some(why);
        let pids: Vec<u32> = state.running.keys().copied().collect();
        for pid in pids {
            self.retire(state, pid);
        }
    }

    /// Send worker `pid` `SIGTERM` (once), and start its graceful timeout.
    fn retire(&self, state: &mut State, pid: u32) {
        if let Some(worker) = state.running.get_mut(&pid) {
            if !worker.retiring {
                worker.retiring = true;
                worker.deadline = Some(Instant::now() + self.graceful_timeout);
                send(pid, Signal::TERM);
            }
        }
    }

    /// Kill the workers whose graceful timeout is over.
    fn kill_late(&self, state: &mut State) {
        let now = Instant::now();
        let late: Vec<u32> = (state.running.iter())
            .filter(|(_, worker)| worker.deadline.is_some_and(|at| at <= now))
            .map(|(pid, _)| *pid)
            .collect();
        self.log(&format!(
            "{} worker(s) still running after the graceful timeout of {:?}: killing them",
            late.len(),
            self.graceful_timeout
        ));
        for pid in late {
            send(pid, Signal::KILL);
            if let Some(worker) = state.running.get_mut(&pid) {
                worker.deadline = None;
            }
        }
    }

    fn log(&self, line: &str) {
        self.errors
            .log(&format!("gateway: master {}: {line}", std::process::id()));
    }
}

/// Send `signal` to worker `pid` (one already gone is no error).
fn send(pid: u32, signal: Signal) {
    if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        let _ = rustix::process::kill_process(pid, signal);
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

/// A worker told to stop exited as it should: with status 0, or, when this
/// master sent it `SIGTERM`, killed by that signal. The latter is a worker
/// that had not begun to serve (a Python worker still importing its app):
/// `Server::serve` listens for `SIGTERM` before it accepts its first
/// connection, so such a worker had nothing in flight.
fn stopped_as_told(status: ExitStatus, sent_term: bool) -> bool {
    status.success() || (sent_term && status.signal() == Some(Signal::TERM.as_raw()))
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
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    #[test]
    fn a_worker_killed_by_the_sigterm_it_was_sent_stopped_as_told() {
        let exited = |code: i32| ExitStatus::from_raw(code << 8);
        let killed = |signal: i32| ExitStatus::from_raw(signal);
        assert!(super::stopped_as_told(exited(0), true));
        assert!(super::stopped_as_told(exited(0), false));
        assert!(super::stopped_as_told(killed(15), true));
        assert!(
            !super::stopped_as_told(killed(15), false),
            "a SIGTERM the master did not send"
        );
        assert!(
            !super::stopped_as_told(killed(9), true),
            "killed past its graceful timeout"
        );
        assert!(!super::stopped_as_told(exited(1), true));
    }

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
