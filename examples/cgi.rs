//! The demo app as a CGI/1.1 script (RFC 3875).
//!
//! A CGI server (Apache's `mod_cgi`, Python's `http.server --cgi`, ...) runs
//! the program once per request with the request in the environment and the
//! body on stdin; the program writes a `Status:` line, the headers and the
//! body to stdout. `wsgi.errors` goes to stderr, the server's error log.
//!
//! ```sh
//! cargo build --example cgi
//! mkdir -p /tmp/site/cgi-bin && cp target/debug/examples/cgi /tmp/site/cgi-bin/
//! cd /tmp/site && python3 -m http.server --cgi --bind 127.0.0.1 8000
//! curl 'http://127.0.0.1:8000/cgi-bin/cgi/environ?x=1'
//! ```
//!
//! Or by hand, as a server would:
//!
//! ```sh
//! REQUEST_METHOD=GET PATH_INFO=/ target/debug/examples/cgi
//! ```

mod demo;

fn main() -> std::io::Result<()> {
    gateway::core::cgi::run(&demo::app)
}
