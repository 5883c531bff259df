//! Which requests an auth middleware guards: protected prefixes and exempt
//! paths, matched on the normalised path so that spelling tricks change
//! nothing.
//!
//! The path is `SCRIPT_NAME` + `PATH_INFO`, already percent-decoded by the
//! gateway, so a `%2F` arrives as `/` and **is** a separator here: the app
//! cannot tell the two apart either. Empty segments (`//`) and `.` are
//! dropped. A `..` segment is the one spelling that two readers of the same
//! path may resolve differently (an app that routes on the raw `PATH_INFO`
//! sees `/private/../health` under `/private/`, a file server sees
//! `/health`), so the middleware takes the safe reading each time:
//!
//! - a path is **protected by a prefix** if it is under it read either way,
//!   segment by segment and ignoring ASCII case (`/./private/x`,
//!   `//private/x`, `/PRIVATE/x`, `/private/../public` are; `/privateer` is
//!   not);
//! - a path is **exempt** only if it holds no `..` segment and its segments
//!   are exactly those of the exempt path (`/health`, `//health`,
//!   `/./health`, `/health/`, `/%2Fhealth` are; `/healthz`, `/Health` and
//!   `/x/../health` are not, and so need credentials).

use std::borrow::Cow;
use std::fmt;

use super::AuthError;

/// A configured path: its segments, as a request's are read.
#[derive(Clone)]
struct Pattern {
    segments: Vec<Box<[u8]>>,
}

impl Pattern {
    fn parse(path: &str) -> Result<Self, AuthError> {
        let invalid = || AuthError::InvalidPath {
            path: path.to_owned(),
        };
        if !path.starts_with('/') || path.chars().any(char::is_control) {
            return Err(invalid());
        }
        let segments: Vec<Box<[u8]>> = segments(path.as_bytes()).map(Box::from).collect();
        if segments.iter().any(|s| **s == *b"..") {
            return Err(invalid());
        }
        Ok(Pattern { segments })
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut path = String::new();
        for s in &self.segments {
            path.push('/');
            path.push_str(&String::from_utf8_lossy(s));
        }
        if path.is_empty() {
            path.push('/');
        }
        f.write_str(&path)
    }
}

/// The non-empty segments of a path, `.` dropped, `..` kept as it is.
fn segments(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&b| b == b'/')
        .filter(|s| !s.is_empty() && *s != b".")
}

/// A request's path, read both ways. Reading it allocates only when it
/// holds a `..` segment (to resolve it), which no ordinary request does.
struct RequestPath<'a> {
    /// The path as sent: read through [`segments`], as an app routing on the
    /// raw path sees it (`//` and `.` dropped, `..` kept).
    raw: &'a [u8],
    /// `..` resolved (never above the root); `None` when there was none.
    resolved: Option<Vec<&'a [u8]>>,
}

impl<'a> RequestPath<'a> {
    fn new(path: &'a [u8]) -> Self {
        let resolved = segments(path).any(|s| s == b"..").then(|| {
            let mut stack = Vec::new();
            for s in segments(path) {
                if s == b".." {
                    stack.pop();
                } else {
                    stack.push(s);
                }
            }
            stack
        });
        RequestPath {
            raw: path,
            resolved,
        }
    }

    /// A path with a `..` segment is never exactly a pattern: patterns hold none.
    fn is_exactly(&self, p: &Pattern) -> bool {
        segments(self.raw).eq(p.segments.iter().map(|s| &**s))
    }

    fn is_surely_under(&self, p: &Pattern) -> bool {
        self.resolved.is_none() && starts_with(segments(self.raw), p, |a, b| a == b)
    }

    fn may_be_under(&self, p: &Pattern) -> bool {
        let ci = |a: &[u8], b: &[u8]| a.eq_ignore_ascii_case(b);
        starts_with(segments(self.raw), p, ci)
            || self
                .resolved
                .as_ref()
                .is_some_and(|r| starts_with(r.iter().copied(), p, ci))
    }
}

/// `true` when the first segments of `path` are those of `p`.
fn starts_with<'a>(
    mut path: impl Iterator<Item = &'a [u8]>,
    p: &Pattern,
    eq: impl Fn(&[u8], &[u8]) -> bool,
) -> bool {
    p.segments
        .iter()
        .all(|b| path.next().is_some_and(|a| eq(a, b)))
}

/// Protected prefixes and exempt paths.
#[derive(Clone, Default)]
pub(crate) struct Paths {
    only_under: Vec<Pattern>,
    exempt: Vec<Pattern>,
    exempt_under: Vec<Pattern>,
}

impl Paths {
    pub(crate) fn only_under(&mut self, prefix: &str) -> Result<(), AuthError> {
        self.only_under.push(Pattern::parse(prefix)?);
        Ok(())
    }

    pub(crate) fn exempt(&mut self, path: &str) -> Result<(), AuthError> {
        self.exempt.push(Pattern::parse(path)?);
        Ok(())
    }

    pub(crate) fn exempt_under(&mut self, prefix: &str) -> Result<(), AuthError> {
        self.exempt_under.push(Pattern::parse(prefix)?);
        Ok(())
    }

    /// `true` when a request for `script_name` + `path_info` needs credentials.
    pub(crate) fn guards(&self, script_name: &[u8], path_info: &[u8]) -> bool {
        if self.only_under.is_empty() && self.exempt.is_empty() && self.exempt_under.is_empty() {
            return true;
        }
        let full = if script_name.is_empty() {
            Cow::Borrowed(path_info)
        } else {
            Cow::Owned([script_name, path_info].concat())
        };
        let path = RequestPath::new(&full);
        if !self.only_under.is_empty() && !self.only_under.iter().any(|p| path.may_be_under(p)) {
            return false;
        }
        let exempt = self.exempt.iter().any(|p| path.is_exactly(p))
            || self.exempt_under.iter().any(|p| path.is_surely_under(p));
        !exempt
    }
}

impl fmt::Debug for Paths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Paths")
            .field("only_under", &self.only_under)
            .field("exempt", &self.exempt)
            .field("exempt_under", &self.exempt_under)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(only_under: &[&str], exempt: &[&str], exempt_under: &[&str]) -> Paths {
        let mut p = Paths::default();
        only_under.iter().for_each(|s| p.only_under(s).unwrap());
        exempt.iter().for_each(|s| p.exempt(s).unwrap());
        exempt_under.iter().for_each(|s| p.exempt_under(s).unwrap());
        p
    }

    /// Each path of `table` is guarded by `p` or not, as it says.
    fn assert_table(p: &Paths, table: &[(&[u8], bool)]) {
        for (path, guarded) in table {
            assert_eq!(
                p.guards(b"", path),
                *guarded,
                "{}",
                String::from_utf8_lossy(path)
            );
        }
    }

    #[test]
    fn exempt_path_table() {
        let p = paths(&[], &["/health"], &[]);
        let table: &[(&[u8], bool)] = &[
            (b"/health", false),
            (b"//health", false),
            (b"/./health", false),
            (b"/health/", false),
            (b"/health/.", false),
            (b"///health//", false),
            (b"/x/../health", true),
            (b"/health/../health", true),
            (b"/private/../health", true),
            (b"/healthz", true),
            (b"/Health", true),
            (b"/health/x", true),
            (b"/", true),
            (b"", true),
            (b"/he\xffalth", true),
        ];
        assert_table(&p, table);
    }

    #[test]
    fn prefix_table() {
        let p = paths(&["/private/"], &[], &[]);
        let table: &[(&[u8], bool)] = &[
            (b"/private/", true),
            (b"/private", true),
            (b"/private/x", true),
            (b"/./private/x", true),
            (b"//private/x", true),
            (b"/PRIVATE/x", true),
            (b"/public/../private/x", true),
            (b"/private/../public", true),
            (b"/private/../../public", true),
            (b"/privateer", false),
            (b"/public", false),
            (b"/public/private/", false),
            (b"/", false),
            (b"/x/..", false),
        ];
        assert_table(&p, table);
    }

    #[test]
    fn script_name_is_part_of_the_path() {
        let p = paths(&["/app/private"], &["/app/health"], &[]);
        assert!(p.guards(b"/app", b"/private/x"));
        assert!(!p.guards(b"/app", b"/public"));
        assert!(!p.guards(b"/app", b"/health"));
        // The exemption is for /app/health, not /health under another mount.
        assert!(!p.guards(b"", b"/health"));
    }

    #[test]
    fn exempt_under_and_only_under_together() {
        let p = paths(&["/api"], &["/api/health"], &["/api/public/"]);
        assert!(p.guards(b"", b"/api/data"));
        assert!(!p.guards(b"", b"/api/health"));
        assert!(!p.guards(b"", b"/api/public/doc"));
        assert!(!p.guards(b"", b"/api/public"));
        assert!(p.guards(b"", b"/api/public/../data"));
        assert!(!p.guards(b"", b"/other"));
    }

    #[test]
    fn no_rules_guards_everything() {
        assert!(Paths::default().guards(b"", b"/anything/../at/all"));
    }

    #[test]
    fn configured_paths_are_checked() {
        let mut p = Paths::default();
        for bad in ["health", "", "/a/../b", "/a\nb", "/a\u{85}"] {
            assert!(
                matches!(p.exempt(bad), Err(AuthError::InvalidPath { .. })),
                "{bad:?}"
            );
            assert!(p.only_under(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            format!("{:?}", paths(&["//a/./b/"], &["/"], &[])),
            "Paths { only_under: [/a/b], exempt: [/], exempt_under: [] }"
        );
    }
}
