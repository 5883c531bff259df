//! The worker's side: knowing it is a worker, and following its master.
//!
//! The master starts each worker with [`WORKER_ENV`](super::WORKER_ENV) set
//! to its index and `GATEWAY_WORKER_MASTER` to its own pid. A worker asks
//! the kernel for `SIGTERM` when its parent dies (Linux's parent-death
//! signal), so a master killed with `SIGKILL` leaves no worker behind: each
//! drains as on any `SIGTERM`. It then checks that its parent is still that
//! master: if not (the master died first, or the variables were inherited
//! by a process the master did not start), it refuses to serve.

use std::io;

use super::{Listener, WORKER_ENV};

/// The variable that names the master's pid.
pub(super) const MASTER_ENV: &str = "GATEWAY_WORKER_MASTER";

/// This process's worker index, when a master started it.
pub(super) fn index() -> Option<usize> {
    std::env::var(WORKER_ENV).ok()?.parse().ok()
}

/// The inherited listener of worker `index`, once its master is known to
/// be its parent.
pub(super) fn take_listener(index: usize) -> io::Result<Listener> {
    follow_master()?;
    Listener::inherited()
        .map_err(|e| io::Error::new(e.kind(), format!("worker {index} has no listener: {e}")))
}

/// Ask for `SIGTERM` when the parent dies, then check the parent is the master.
fn follow_master() -> io::Result<()> {
    let master: Option<i32> = std::env::var(MASTER_ENV).ok().and_then(|v| v.parse().ok());
    let Some(master) = master else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{WORKER_ENV} is set but {MASTER_ENV} does not name the master's pid"),
        ));
    };
    #[cfg(any(target_os = "linux", target_os = "android"))]
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM))?;
    let parent = rustix::process::Pid::as_raw(rustix::process::getppid());
    if parent != master {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{WORKER_ENV} is set but this process's parent (pid {parent}) is not the master \
                 (pid {master}): the master is gone, or the variable was inherited by a process \
                 it did not start"
            ),
        ));
    }
    Ok(())
}
