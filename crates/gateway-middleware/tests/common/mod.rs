//! Writers the access-log tests read back, shared by the test files.
#![allow(dead_code, unreachable_pub)]

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// A writer whose lines the test reads back.
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Lines {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("lines are UTF-8")
    }
    pub fn lines(&self) -> Vec<String> {
        let text = self.text();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "every line ends: {text:?}"
        );
        text.lines().map(str::to_owned).collect()
    }
    /// The one line written.
    pub fn line(&self) -> String {
        let lines = self.lines();
        assert_eq!(lines.len(), 1, "one line: {lines:?}");
        lines[0].clone()
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.line()).expect("a JSON line")
    }
}

/// A writer that always fails, or panics.
pub struct Broken {
    /// Panic instead of failing.
    pub panics: bool,
}

impl Write for Broken {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        assert!(!self.panics, "the writer panicked");
        Err(io::Error::other("disk full"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Err(io::Error::other("disk full"))
    }
}
