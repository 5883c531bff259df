//! The threads that run apps for Blocking dispatch.
//!
//! Like tokio's blocking pool, it runs each job on a thread that may block,
//! never on an async worker. Unlike it, a job does not wake a thread of its
//! own: when a thread is already woken and on its way, the job waits for it,
//! and a thread that finishes a job takes the next one before it sleeps. On
//! a loaded server whose async worker queues many requests at once, one
//! wake-up then serves a batch of requests instead of one, saving two
//! context switches per request. A thread that finds the queue empty
//! yields its core once before it sleeps, so the next batch often finds it
//! awake. A job that blocks does not hold up the
//! others: a thread that takes a job while more wait wakes another thread
//! first. Threads are started on demand (at most [`MAX_THREADS`]) and end
//! after [`KEEP_ALIVE`] idle.
//!
//! [`wrap_blocking_threads`] lets a caller run each new thread's whole life
//! inside a function of its own: gateway-python keeps a Python thread state
//! on each thread that way, instead of one made and freed per request.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, RwLock};
use std::thread;
use std::time::Duration;

/// The most threads the pool runs (tokio's default for its blocking pool).
pub(crate) const MAX_THREADS: usize = 512;

/// How long an idle thread waits for a job before it ends.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A function the life of each blocking thread runs inside: it must call
/// the given closure (the thread's loop of jobs) once, on its own thread,
/// and return when it returns. See [`wrap_blocking_threads`].
pub type ThreadWrapper = fn(&mut (dyn FnMut() + Send));

/// The wrappers, outermost first.
static WRAPPERS: RwLock<Vec<ThreadWrapper>> = RwLock::new(Vec::new());

/// Run the life of every blocking thread started from now on inside
/// `wrapper` (the threads of Blocking dispatch, which every
/// [`AppService`](crate::AppService) in the process shares; threads already
/// running keep their life as it is). Wrappers nest, the first registered
/// outermost; register each once (a [`std::sync::Once`] on the caller's
/// side). A wrapper that does not call the closure does not stop the thread:
/// its loop then runs unwrapped.
///
/// This is how an embedded interpreter keeps one per-thread state for the
/// thread's whole life rather than one per job: gateway-python registers
/// `|run| Python::attach(|py| py.detach(run))`.
///
/// ```
/// fn named(run: &mut (dyn FnMut() + Send)) {
///     // set up something per thread here (a thread-local, a runtime state)
///     run();
///     // and tear it down here
/// }
/// gateway_tower::wrap_blocking_threads(named);
/// ```
pub fn wrap_blocking_threads(wrapper: ThreadWrapper) {
    WRAPPERS
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .push(wrapper);
}

/// Run `run` inside `wrappers`, outermost first, and once in all.
fn wrapped(wrappers: &[ThreadWrapper], run: &mut (dyn FnMut() + Send)) {
    let Some((outer, inner)) = wrappers.split_first() else {
        return run();
    };
    let mut ran = false;
    outer(&mut || {
        if !ran {
            ran = true;
            wrapped(inner, run);
        }
    });
    if !ran {
        wrapped(inner, run);
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    /// Threads waiting for a job.
    idle: usize,
    /// Wake-ups sent (or threads started) that no thread has taken yet.
    notified: usize,
    /// Threads alive.
    threads: usize,
}

#[derive(Default)]
struct Pool {
    state: Mutex<State>,
    wake: Condvar,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(Pool::default)
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Make sure a thread will look at the queue, unless one is on its way.
    fn wake_one(&'static self, state: &mut State) {
        if state.notified > 0 {
            return;
        }
        if state.idle > 0 {
            state.notified += 1;
            self.wake.notify_one();
        } else if state.threads < MAX_THREADS {
            let started = thread::Builder::new()
                .name("gateway-blocking".into())
                .spawn(move || {
                    let wrappers = WRAPPERS.read().unwrap_or_else(|p| p.into_inner()).clone();
                    wrapped(&wrappers, &mut || self.work());
                });
            if started.is_ok() {
                state.threads += 1;
                state.notified += 1;
            }
        }
    }

    /// A thread's life: take jobs until idle for too long.
    fn work(&'static self) {
        // Counts the thread out however it ends (a job that panics too).
        struct Alive(&'static Pool);
        impl Drop for Alive {
            fn drop(&mut self) {
                let mut state = self.0.lock();
                state.threads -= 1;
                if !state.queue.is_empty() {
                    self.0.wake_one(&mut state);
                }
            }
        }
        let _alive = Alive(self);
        let mut state = self.lock();
        // This thread was started as a wake-up: it is taken.
        state.notified = state.notified.saturating_sub(1);
        loop {
            if let Some(job) = state.queue.pop_front() {
                if !state.queue.is_empty() {
                    // This job may block: someone else looks at the rest.
                    self.wake_one(&mut state);
                }
                drop(state);
                job();
                state = self.lock();
                continue;
            }
            // Before sleeping, give the core away once: on a loaded server
            // the async worker runs and queues the next requests, and this
            // thread takes one without a sleep and a wake-up (two futex
            // calls and two context switches a request, for short jobs).
            // It counts as on its way meanwhile: a job queued then wakes or
            // starts no other thread.
            state.notified += 1;
            drop(state);
            thread::yield_now();
            state = self.lock();
            state.notified = state.notified.saturating_sub(1);
            if !state.queue.is_empty() {
                continue;
            }
            state.idle += 1;
            let (guard, waited) = self
                .wake
                .wait_timeout(state, KEEP_ALIVE)
                .unwrap_or_else(|p| p.into_inner());
            state = guard;
            state.idle -= 1;
            state.notified = state.notified.saturating_sub(1);
            if waited.timed_out() && state.queue.is_empty() {
                return;
            }
        }
    }
}

/// Run `job` on a pool thread. Fails only when no thread can be started at
/// all (the system refuses new threads and none is running).
pub(crate) fn spawn(job: impl FnOnce() + Send + 'static) -> Result<(), ()> {
    let pool = pool();
    let mut state = pool.lock();
    state.queue.push_back(Box::new(job));
    pool.wake_one(&mut state);
    if state.threads == 0 {
        state.queue.pop_back();
        return Err(());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;

    #[test]
    fn jobs_run_off_the_calling_thread() {
        let (tx, rx) = mpsc::channel();
        let me = thread::current().id();
        for _ in 0..100 {
            let tx = tx.clone();
            spawn(move || tx.send(thread::current().id()).unwrap()).unwrap();
        }
        for _ in 0..100 {
            let id = rx.recv_timeout(Duration::from_secs(10)).unwrap();
            assert_ne!(id, me);
        }
    }

    thread_local! {
        static WRAPPED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }

    fn count_in(run: &mut (dyn FnMut() + Send)) {
        WRAPPED.with(|w| w.set(w.get() + 1));
        run();
    }

    fn skip(_: &mut (dyn FnMut() + Send)) {}

    #[test]
    fn wrapped_threads_run_their_jobs_inside_the_wrappers() {
        // `skip` never calls its closure: the loop still runs (unwrapped by
        // it, still inside `count_in`).
        wrap_blocking_threads(count_in);
        wrap_blocking_threads(skip);
        // Jobs run on threads started after the registration, inside the
        // wrapper; a job on an older thread (started by another test) may
        // see 0, so look for one that sees 1 among jobs run at once.
        let (tx, rx) = mpsc::channel();
        let gate = Arc::new(std::sync::Barrier::new(32));
        for _ in 0..32 {
            let (tx, gate) = (tx.clone(), gate.clone());
            spawn(move || {
                gate.wait();
                tx.send(WRAPPED.with(|w| w.get())).unwrap();
            })
            .unwrap();
        }
        let seen: Vec<u32> = (0..32)
            .map(|_| rx.recv_timeout(Duration::from_secs(20)).unwrap())
            .collect();
        assert!(seen.iter().all(|&n| n <= 1), "{seen:?}");
        assert!(seen.contains(&1), "{seen:?}");
    }

    #[test]
    fn wrappers_nest_and_the_loop_runs_once() {
        let runs = AtomicUsize::new(0);
        let before = WRAPPED.with(|w| w.get());
        wrapped(&[count_in, skip, count_in], &mut || {
            runs.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(WRAPPED.with(|w| w.get()) - before, 2);
        fn twice(run: &mut (dyn FnMut() + Send)) {
            run();
            run();
        }
        wrapped(&[twice], &mut || {
            runs.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_blocked_job_does_not_hold_up_the_next() {
        // The first job waits for the second: with one thread for both, it
        // would wait forever (bounded here by the timeout).
        let (tx, rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel();
        let ran = Arc::new(AtomicUsize::new(0));
        let first = ran.clone();
        spawn(move || {
            let got = rx.recv_timeout(Duration::from_secs(10)).is_ok();
            first.fetch_add(1, Ordering::SeqCst);
            done_tx.send(got).unwrap();
        })
        .unwrap();
        spawn(move || tx.send(()).unwrap()).unwrap();
        assert!(done_rx.recv_timeout(Duration::from_secs(20)).unwrap());
        assert_eq!(ran.load(Ordering::SeqCst), 1);
    }
}
