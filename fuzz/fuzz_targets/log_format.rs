//! The access-log format parser: any format string is parsed or refused,
//! and a parsed one writes exactly one line per request.
#![no_main]

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use gateway_core::testing::Client;
use gateway_core::{Body, Environ, Error, Middleware, StartResponse};
use gateway_middleware::access_log::{AccessLog, Format};
use libfuzzer_sys::fuzz_target;

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn ok(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start("200 OK", [("X-Note", "a \"quoted\" value")])?;
    Ok(Body::from("logged"))
}

fuzz_target!(|spec: &str| {
    let Ok(format) = Format::parse(spec) else {
        return;
    };
    let lines = Lines::default();
    let log = AccessLog::new().format(format).to_writer(lines.clone());
    Client::new(log.wrap(ok))
        .get("/a%0Ab?q=%22x%22")
        .header("User-Agent", "ua \" 200 \"forged")
        .send();
    let written = lines.0.lock().unwrap();
    assert_eq!(written.iter().filter(|&&b| b == b'\n').count(), 1);
    assert_eq!(written.last(), Some(&b'\n'));
});
