//! Where lines go: standard output or `tracing` (the default picks by
//! whether a subscriber is installed), `tracing` alone, any `Write` one
//! `write_all` per line, or any `Write` through a buffer flushed when full,
//! at an interval, on demand and on drop ([`Buffer`]). Lines never
//! interleave: each is written whole, under a lock. A sink that fails (an
//! I/O error, even a panic in the writer) never fails the request: the
//! line is dropped.
//!
//! This module knows bytes and events, not formats: it imports nothing
//! from the rest of the access log.

use std::fmt;
use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::thread::{self, Thread};
use std::time::Duration;

use tracing::subscriber::NoSubscriber;

/// How an access log buffers the lines it writes, as nginx's
/// `access_log ... buffer=64k flush=1s`: lines gather in memory and are
/// written in one `write_all` when the next would not fit, when they have
/// waited `flush_interval`, on [`AccessLog::flush`](super::AccessLog::flush)
/// (or a [`FlushHandle`]), and when the log is dropped. A line is never
/// split between two writes, and one longer than the buffer is written on
/// its own.
///
/// ```
/// use std::fs::File;
/// use std::time::Duration;
/// use gateway_middleware::access_log::{AccessLog, Buffer};
///
/// # let file = std::io::sink();
/// // let file = File::options().append(true).create(true).open("access.log")?;
/// let log = AccessLog::new().to_buffered_writer(
///     file,
///     Buffer::new().size(256 * 1024).flush_interval(Duration::from_millis(500)),
/// );
/// # let _ = log;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buffer {
    size: usize,
    interval: Duration,
}

impl Buffer {
    /// 64 KiB, flushed at least every second.
    pub const fn new() -> Self {
        Buffer {
            size: 64 * 1024,
            interval: Duration::from_secs(1),
        }
    }

    /// Hold up to `bytes` of lines (`0`: write each line at once).
    pub const fn size(mut self, bytes: usize) -> Self {
        self.size = bytes;
        self
    }

    /// Write what is buffered at least every `every` (at least a
    /// millisecond), even when no further request comes. A background
    /// thread does it; it ends when the log is dropped.
    pub const fn flush_interval(mut self, every: Duration) -> Self {
        self.interval = every;
        self
    }
}

impl Default for Buffer {
    /// [`Buffer::new`].
    fn default() -> Self {
        Buffer::new()
    }
}

/// A way to flush an access log's buffered lines from elsewhere (a signal
/// handler's task, the end of `main`) without keeping the log alive: once
/// the log is dropped (which flushes it), [`flush`](FlushHandle::flush)
/// does nothing. Made by [`AccessLog::flush_handle`](super::AccessLog::flush_handle).
#[derive(Clone)]
pub struct FlushHandle(pub(super) Weak<Sink>);

impl FlushHandle {
    /// Write what the log has buffered, now, and flush its writer.
    pub fn flush(&self) {
        if let Some(sink) = self.0.upgrade() {
            sink.flush();
        }
    }
}

impl fmt::Debug for FlushHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FlushHandle")
            .field(&self.0.upgrade().map(|sink| sink.kind()))
            .finish()
    }
}

/// The destination of an access log.
pub(super) enum Sink {
    /// `tracing` events when this thread has a subscriber, else standard
    /// output: never silent.
    Default,
    /// INFO events on `gateway::access`; `wsgi.errors` lines as ERROR events
    /// on `gateway::errors`.
    Tracing,
    /// Lines, each ending in `\n`, one `write_all` each.
    Writer(Mutex<Box<dyn Write + Send>>),
    /// Lines through a buffer.
    Buffered(Buffered),
}

impl Sink {
    pub(super) fn writer(writer: impl Write + Send + 'static) -> Self {
        Sink::Writer(Mutex::new(Box::new(writer)))
    }

    pub(super) fn buffered(writer: impl Write + Send + 'static, buffer: Buffer) -> Self {
        Sink::Buffered(Buffered::new(Box::new(writer), buffer))
    }

    /// Whether lines go out as `tracing` events right now (rather than as
    /// bytes).
    pub(super) fn events(&self) -> bool {
        match self {
            Sink::Tracing => true,
            Sink::Default => !tracing::dispatcher::get_default(|d| d.is::<NoSubscriber>()),
            Sink::Writer(_) | Sink::Buffered(_) => false,
        }
    }

    /// Whether a line would go nowhere: events, and their target disabled.
    pub(super) fn disabled(&self) -> bool {
        self.events() && !tracing::enabled!(target: "gateway::access", tracing::Level::INFO)
    }

    /// Send an access line, as the message of an INFO event on
    /// `gateway::access` (and nothing else: the line is the record) or
    /// as bytes.
    pub(super) fn access(&self, line: &mut Vec<u8>) {
        if self.events() {
            let message = String::from_utf8_lossy(line);
            tracing::info!(target: "gateway::access", "{message}");
        } else {
            self.write(line);
        }
    }

    /// Send an error line that an app wrote: as an ERROR event on
    /// `gateway::errors`, or as bytes.
    pub(super) fn error(&self, line: &mut Vec<u8>, remote: &dyn fmt::Display) {
        if self.events() {
            let message = String::from_utf8_lossy(line);
            tracing::error!(target: "gateway::errors", remote_addr = %remote, "{message}");
        } else {
            self.write(line);
        }
    }

    /// One line, with its newline added.
    fn write(&self, line: &mut Vec<u8>) {
        line.push(b'\n');
        match self {
            Sink::Writer(writer) => guarded(|| lock(writer).write_all(line)),
            Sink::Buffered(buffered) => buffered.shared.push(line),
            Sink::Default | Sink::Tracing => guarded(|| io::stdout().lock().write_all(line)),
        }
    }

    /// Write what is buffered and flush the writer.
    pub(super) fn flush(&self) {
        match self {
            Sink::Writer(writer) => guarded(|| lock(writer).flush()),
            Sink::Buffered(buffered) => buffered.shared.flush(),
            Sink::Default | Sink::Tracing => guarded(|| io::stdout().flush()),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Sink::Default => "Default",
            Sink::Tracing => "Tracing",
            Sink::Writer(_) => "Writer",
            Sink::Buffered(_) => "Buffered",
        }
    }
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())
    }
}

/// A writer behind a buffer, and the thread that flushes it on time.
pub(super) struct Buffered {
    shared: Arc<Shared>,
    /// The flusher, if it could be started.
    flusher: Option<Thread>,
}

/// What the sink and its flusher share.
struct Shared {
    state: Mutex<State>,
    size: usize,
    /// Set when the sink is dropped: the flusher ends.
    closed: AtomicBool,
}

struct State {
    buf: Vec<u8>,
    writer: Box<dyn Write + Send>,
}

impl Buffered {
    fn new(writer: Box<dyn Write + Send>, buffer: Buffer) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                // Grown up to `size` as lines come, past the first MiB.
                buf: Vec::with_capacity(buffer.size.min(1 << 20)),
                writer,
            }),
            size: buffer.size,
            closed: AtomicBool::new(false),
        });
        let every = buffer.interval.max(Duration::from_millis(1));
        let weak = Arc::downgrade(&shared);
        // Without a thread (none can be spawned), lines still go out when
        // the buffer fills, on `flush` and on drop.
        let flusher = thread::Builder::new()
            .name("access-log-flush".into())
            .spawn(move || flush_every(&weak, every))
            .ok()
            .map(|handle| handle.thread().clone());
        Buffered { shared, flusher }
    }
}

impl Drop for Buffered {
    /// Shutdown: write what is left, and end the flusher.
    fn drop(&mut self) {
        self.shared.flush();
        self.shared.closed.store(true, Ordering::Release);
        if let Some(flusher) = &self.flusher {
            flusher.unpark();
        }
    }
}

/// The flusher's loop: holds the buffer only while it flushes, so that
/// dropping the log ends it.
fn flush_every(shared: &Weak<Shared>, every: Duration) {
    loop {
        thread::park_timeout(every);
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if shared.closed.load(Ordering::Acquire) {
            return;
        }
        shared.flush();
    }
}

impl Shared {
    /// Buffer `line`, writing out what is buffered first if it would not fit.
    fn push(&self, line: &[u8]) {
        let mut state = lock(&self.state);
        if state.buf.len() + line.len() > self.size && !state.buf.is_empty() {
            state.write_out();
        }
        if line.len() > self.size {
            let writer = &mut state.writer;
            guarded(|| writer.write_all(line).and_then(|()| writer.flush()));
        } else {
            state.buf.extend_from_slice(line);
        }
    }

    fn flush(&self) {
        let mut state = lock(&self.state);
        if state.buf.is_empty() {
            let writer = &mut state.writer;
            guarded(|| writer.flush());
        } else {
            state.write_out();
        }
    }
}

impl State {
    /// Write the buffer in one `write_all`, then flush the writer. On a
    /// failure the buffered lines are dropped.
    fn write_out(&mut self) {
        let State { buf, writer } = self;
        guarded(|| writer.write_all(buf).and_then(|()| writer.flush()));
        buf.clear();
    }
}

/// Lock `mutex`, even if a writer panicked while holding it.
fn lock<T: ?Sized>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Run a write: its error, or its panic, is dropped.
fn guarded(write: impl FnOnce() -> io::Result<()>) {
    let _ = catch_unwind(AssertUnwindSafe(write));
}
