//! The address to listen on, as gunicorn spells it: `HOST:PORT`,
//! `[IPv6]:PORT`, `:PORT` (every interface), `HOST` (port 8000), or
//! `unix:PATH` (a Unix domain socket).

use std::fmt;
use std::path::PathBuf;

/// The port when the address names none (gunicorn's and granian's).
const DEFAULT_PORT: u16 = 8000;

/// Where to listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bind {
    /// A host (a name or an IP) and a port, resolved when binding.
    Tcp(String, u16),
    /// A Unix domain socket at this path.
    Unix(PathBuf),
}

impl Bind {
    /// Parse an address; the error says what forms are understood.
    pub(crate) fn parse(spec: &str) -> Result<Bind, String> {
        let bad = |why: &str| {
            format!(
                "invalid bind address {spec:?}: {why} (expected HOST:PORT, [IPv6]:PORT, :PORT, \
                 HOST or unix:PATH)"
            )
        };
        if let Some(path) = spec.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(bad("no socket path after unix:"));
            }
            return Ok(Bind::Unix(PathBuf::from(path)));
        }
        let (host, port) = if let Some(rest) = spec.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(|| bad("no closing ]"))?;
            match after {
                "" => (host, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None => return Err(bad("expected :PORT after ]")),
                },
            }
        } else {
            match spec.rsplit_once(':') {
                Some((host, _)) if host.contains(':') => {
                    return Err(bad("an IPv6 address goes in brackets"));
                }
                Some((host, port)) => (host, Some(port)),
                None => (spec, None),
            }
        };
        let port = match port {
            None => DEFAULT_PORT,
            Some(port) => port
                .parse::<u16>()
                .map_err(|_| bad("the port is not a number from 0 to 65535"))?,
        };
        let host = match host {
            "" => "0.0.0.0",
            host if host.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                return Err(bad("the host holds a space or a control character"));
            }
            host => host,
        };
        Ok(Bind::Tcp(host.to_owned(), port))
    }
}

impl fmt::Display for Bind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bind::Tcp(host, port) if host.contains(':') => write!(f, "[{host}]:{port}"),
            Bind::Tcp(host, port) => write!(f, "{host}:{port}"),
            Bind::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}
