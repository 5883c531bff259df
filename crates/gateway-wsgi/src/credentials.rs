//! The credentials files of `BasicAuth(file=...)` / `--basic-auth FILE` and
//! `BearerAuth(file=...)` / `--bearer-auth FILE`.
//!
//! One entry a line, UTF-8; blank lines and lines starting with `#` are
//! skipped; the line ending (`\n` or `\r\n`) is not part of the entry, every
//! other character is (a password may start or end with a space):
//!
//! - Basic: `user:password`, split at the first `:` (RFC 7617: a user-id
//!   holds no `:`, a password may);
//! - Bearer: `identity:token`, split at the last `:` (a token holds no `:`);
//!   the identity becomes `REMOTE_USER`.
//!
//! The secrets are kept only as salted digests (`gateway_middleware::auth`).
//! No error message quotes a line, only its number, so no secret reaches a
//! terminal or a log.

use std::path::Path;

/// Which file: which side of the `:` is the secret.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// `user:password`.
    Basic,
    /// `identity:token`.
    Bearer,
}

/// The `(name, secret)` pairs of a credentials file, in file order.
pub(crate) fn read(path: &Path, kind: Kind) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the credentials file {}: {e}", path.display()))?;
    let mut pairs = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let split = match kind {
            Kind::Basic => line.split_once(':'),
            Kind::Bearer => line.rsplit_once(':'),
        };
        let expected = match kind {
            Kind::Basic => "user:password",
            Kind::Bearer => "identity:token",
        };
        match split {
            Some((name, secret)) if !name.is_empty() && !secret.is_empty() => {
                pairs.push((name.to_owned(), secret.to_owned()));
            }
            _ => {
                return Err(format!(
                    "{}, line {}: expected {expected} (the line is not shown: it may hold a \
                     secret)",
                    path.display(),
                    n + 1
                ));
            }
        }
    }
    if pairs.is_empty() {
        return Err(format!(
            "the credentials file {} holds no entry: nobody could get in",
            path.display()
        ));
    }
    Ok(pairs)
}
