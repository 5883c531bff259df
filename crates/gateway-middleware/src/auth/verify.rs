//! Verifiers: who decides whether credentials are good.
//!
//! A verifier is a trait ([`BasicVerifier`], [`BearerVerifier`]) that any
//! closure of the right shape implements, so a lookup in your own user store
//! is one line. The ready ones, [`Credentials`] and [`StaticTokens`], keep
//! only salted SHA-256 digests of the secrets (for Basic, one digest of
//! `user-id ":" password`) and compare the digest of what the client sent
//! with **every** entry in constant time
//! ([`subtle::ConstantTimeEq`]): neither the position of the first wrong
//! byte, nor the length of the secret, nor which entry matched shows in the
//! time taken. Their `Debug` output shows how many entries there are, never
//! a name, a secret or a digest.
//!
//! ```
//! use gateway_middleware::auth::{BasicVerifier, BearerVerifier, Credentials, StaticTokens};
//!
//! let users = Credentials::new([("alice", "correct horse"), ("bob", "battery staple")])?;
//! assert!(users.verify("alice", "correct horse"));
//! assert!(!users.verify("alice", "battery staple"));
//!
//! let tokens = StaticTokens::new([("mF_9.B5f-4.1JqM", "robot")])?;
//! assert_eq!(tokens.verify("mF_9.B5f-4.1JqM").as_deref(), Some("robot"));
//! assert_eq!(tokens.verify("guess"), None);
//!
//! let closure = |user: &str, password: &str| user == "admin" && password == "admin";
//! assert!(BasicVerifier::verify(&closure, "admin", "admin"));
//! # Ok::<(), gateway_middleware::auth::AuthError>(())
//! ```

use std::fmt;
use std::hash::BuildHasher;

use sha2::{Digest as _, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use super::{AuthError, is_b64token};

/// Decides whether a Basic user-id and password are good.
pub trait BasicVerifier: Send + Sync + 'static {
    /// `true` when `password` is right for `user_id`.
    fn verify(&self, user_id: &str, password: &str) -> bool;
}

impl<F> BasicVerifier for F
where
    F: Fn(&str, &str) -> bool + Send + Sync + 'static,
{
    fn verify(&self, user_id: &str, password: &str) -> bool {
        self(user_id, password)
    }
}

/// Decides whether a Bearer token is good, and whose it is.
pub trait BearerVerifier: Send + Sync + 'static {
    /// The identity the token stands for (it becomes `REMOTE_USER`), or
    /// `None` when the token is not valid.
    fn verify(&self, token: &str) -> Option<String>;
}

impl<F> BearerVerifier for F
where
    F: Fn(&str) -> Option<String> + Send + Sync + 'static,
{
    fn verify(&self, token: &str) -> Option<String> {
        self(token)
    }
}

/// A salted SHA-256 digest of a secret.
type Digest = [u8; 32];

/// The per-verifier salt: digests of the same secret differ between
/// verifiers and processes, so no precomputed table applies to them.
#[derive(Clone)]
struct Salt([u8; 16]);

impl Salt {
    fn new() -> Self {
        // std's RandomState is seeded from the OS's random source.
        let state = std::collections::hash_map::RandomState::new();
        let mut salt = [0; 16];
        salt[..8].copy_from_slice(&state.hash_one(0u8).to_le_bytes());
        salt[8..].copy_from_slice(&state.hash_one(1u8).to_le_bytes());
        Salt(salt)
    }

    fn digest(&self, secret: &str) -> Digest {
        self.digest_parts(&[secret])
    }

    /// The digest of `parts` one after the other, without joining them first.
    fn digest_parts(&self, parts: &[&str]) -> Digest {
        let mut hash = Sha256::new().chain_update(self.0);
        for part in parts {
            hash.update(part.as_bytes());
        }
        hash.finalize().into()
    }

    /// One digest for a Basic pair: `user-id ":" password`, unambiguous
    /// because a user-id holds no `:`.
    fn digest_pair(&self, user_id: &str, password: &str) -> Digest {
        self.digest_parts(&[user_id, ":", password])
    }
}

/// The one comparison of secrets: fixed-size digests, in constant time.
fn ct_eq(a: &Digest, b: &Digest) -> Choice {
    #[cfg(test)]
    tests::COMPARISONS.with(|c| c.set(c.get() + 1));
    a.ct_eq(b)
}

/// `true` when `s` holds a control character (RFC 7617 forbids them in
/// user-ids and passwords; none belongs in `REMOTE_USER`).
pub(crate) fn has_control(s: &str) -> bool {
    s.bytes().any(|b| b < 0x20 || b == 0x7f)
}

/// A fixed set of Basic user-ids and passwords.
#[derive(Clone)]
pub struct Credentials {
    salt: Salt,
    /// One digest per pair, of `user-id ":" password`.
    entries: Vec<Digest>,
}

impl Credentials {
    /// The set of `(user_id, password)` pairs. Refuses an empty set, an
    /// empty user-id, a `:` in a user-id (RFC 7617: it could never be sent)
    /// and control characters in either.
    pub fn new<I, U, P>(pairs: I) -> Result<Self, AuthError>
    where
        I: IntoIterator<Item = (U, P)>,
        U: AsRef<str>,
        P: AsRef<str>,
    {
        let salt = Salt::new();
        let mut entries = Vec::new();
        for (user, password) in pairs {
            let (user, password) = (user.as_ref(), password.as_ref());
            if user.is_empty() {
                return Err(AuthError::EmptyUser);
            }
            if user.contains(':') {
                return Err(AuthError::ColonInUser);
            }
            if has_control(user) || has_control(password) {
                return Err(AuthError::ControlCharacter);
            }
            entries.push(salt.digest_pair(user, password));
        }
        if entries.is_empty() {
            return Err(AuthError::NoCredentials);
        }
        Ok(Credentials { salt, entries })
    }
}

impl BasicVerifier for Credentials {
    fn verify(&self, user_id: &str, password: &str) -> bool {
        let digest = self.salt.digest_pair(user_id, password);
        let mut found = Choice::from(0);
        for entry in &self.entries {
            found |= ct_eq(&digest, entry);
        }
        // A user-id with `:` (never one from a request, which is split at
        // the first `:`) could otherwise pass as another split of a pair.
        bool::from(found) && !user_id.contains(':')
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("users", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// A fixed set of Bearer tokens, each standing for an identity.
#[derive(Clone)]
pub struct StaticTokens {
    salt: Salt,
    entries: Vec<(Digest, String)>,
}

impl StaticTokens {
    /// The set of `(token, identity)` pairs. Refuses an empty set, an empty
    /// token, a token that is not RFC 6750 `b64token` syntax (a client could
    /// never send it), the same token twice, and an empty identity or one
    /// with control characters.
    pub fn new<I, T, N>(pairs: I) -> Result<Self, AuthError>
    where
        I: IntoIterator<Item = (T, N)>,
        T: AsRef<str>,
        N: Into<String>,
    {
        let salt = Salt::new();
        let mut entries: Vec<(Digest, String)> = Vec::new();
        for (token, identity) in pairs {
            let (token, identity) = (token.as_ref(), identity.into());
            if token.is_empty() {
                return Err(AuthError::EmptyToken);
            }
            if !is_b64token(token.as_bytes()) {
                return Err(AuthError::InvalidToken);
            }
            if identity.is_empty() {
                return Err(AuthError::EmptyUser);
            }
            if has_control(&identity) {
                return Err(AuthError::ControlCharacter);
            }
            let digest = salt.digest(token);
            if entries.iter().any(|(d, _)| *d == digest) {
                return Err(AuthError::DuplicateToken);
            }
            entries.push((digest, identity));
        }
        if entries.is_empty() {
            return Err(AuthError::NoCredentials);
        }
        Ok(StaticTokens { salt, entries })
    }
}

impl BearerVerifier for StaticTokens {
    fn verify(&self, token: &str) -> Option<String> {
        let digest = self.salt.digest(token);
        let mut found = Choice::from(0);
        let mut at = 0u64;
        for (i, (d, _)) in self.entries.iter().enumerate() {
            let hit = ct_eq(&digest, d);
            at.conditional_assign(&(i as u64), hit);
            found |= hit;
        }
        if !bool::from(found) {
            return None;
        }
        let at = usize::try_from(at).ok()?;
        self.entries.get(at).map(|(_, identity)| identity.clone())
    }
}

impl fmt::Debug for StaticTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticTokens")
            .field("tokens", &self.entries.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;

    use super::*;

    thread_local! {
        /// How many times this thread called `ct_eq`.
        pub(crate) static COMPARISONS: Cell<usize> = const { Cell::new(0) };
    }

    /// Run `f` and count its constant-time comparisons.
    fn counted<T>(f: impl FnOnce() -> T) -> (T, usize) {
        let before = COMPARISONS.with(Cell::get);
        let out = f();
        (out, COMPARISONS.with(Cell::get) - before)
    }

    #[test]
    fn credentials_compare_every_entry_in_constant_time() {
        let c = Credentials::new([("alice", "a"), ("bob", "b"), ("carol", "c")]).unwrap();
        // One comparison per entry, whichever matched, including none: no
        // early exit.
        assert_eq!(counted(|| c.verify("alice", "a")), (true, 3));
        assert_eq!(counted(|| c.verify("carol", "c")), (true, 3));
        assert_eq!(counted(|| c.verify("alice", "b")), (false, 3));
        assert_eq!(counted(|| c.verify("mallory", "")), (false, 3));
        assert_eq!(counted(|| c.verify("bob", "b:extra")), (false, 3));
    }

    #[test]
    fn a_pair_is_not_confused_with_another_split() {
        let c = Credentials::new([("a", "b:c"), ("ab", "c")]).unwrap();
        assert!(c.verify("a", "b:c"));
        assert!(c.verify("ab", "c"));
        assert!(!c.verify("a:b", "c"));
        assert!(!c.verify("a", "bc"));
        assert!(!c.verify("", "ab:c"));
    }

    #[test]
    fn static_tokens_compare_every_entry_in_constant_time() {
        let t = StaticTokens::new([("t1", "one"), ("t2", "two"), ("t3", "three")]).unwrap();
        assert_eq!(counted(|| t.verify("t1")), (Some("one".to_owned()), 3));
        assert_eq!(counted(|| t.verify("t3")), (Some("three".to_owned()), 3));
        assert_eq!(counted(|| t.verify("t4")), (None, 3));
        assert_eq!(counted(|| t.verify("")), (None, 3));
    }

    #[test]
    fn lengths_do_not_matter_to_the_comparison() {
        // A prefix, an extension and an empty secret are all just different digests.
        let c = Credentials::new([("u", "secret")]).unwrap();
        for p in ["secre", "secrets", "", "secret\0"] {
            assert!(!c.verify("u", p), "{p:?}");
        }
        assert!(c.verify("u", "secret"));
    }

    #[test]
    fn salts_differ_between_verifiers() {
        let (a, b) = (Salt::new(), Salt::new());
        assert_ne!(a.digest("x"), b.digest("x"));
    }

    #[test]
    fn debug_shows_no_secret() {
        let c = Credentials::new([("alice", "hunter2")]).unwrap();
        let t = StaticTokens::new([("tok3n", "robot")]).unwrap();
        let out = format!("{c:?} {c:#?} {t:?} {t:#?}");
        for secret in ["alice", "hunter2", "tok3n", "robot"] {
            assert!(!out.contains(secret), "{out}");
        }
        assert_eq!(format!("{c:?}"), "Credentials { users: 1, .. }");
        assert_eq!(format!("{t:?}"), "StaticTokens { tokens: 1, .. }");
    }

    #[test]
    fn constructor_errors() {
        let no: [(&str, &str); 0] = [];
        assert!(matches!(
            Credentials::new(no),
            Err(AuthError::NoCredentials)
        ));
        assert!(matches!(
            Credentials::new([("", "p")]),
            Err(AuthError::EmptyUser)
        ));
        assert!(matches!(
            Credentials::new([("a:b", "p")]),
            Err(AuthError::ColonInUser)
        ));
        assert!(matches!(
            Credentials::new([("a\n", "p")]),
            Err(AuthError::ControlCharacter)
        ));
        assert!(matches!(
            Credentials::new([("a", "p\x7f")]),
            Err(AuthError::ControlCharacter)
        ));
        // A password may hold ':' and may be empty (RFC 7617).
        assert!(Credentials::new([("a", "p:q"), ("b", "")]).is_ok());

        assert!(matches!(
            StaticTokens::new(no),
            Err(AuthError::NoCredentials)
        ));
        assert!(matches!(
            StaticTokens::new([("", "x")]),
            Err(AuthError::EmptyToken)
        ));
        for bad in ["a b", "a=b", "=", "tök", "a,b"] {
            assert!(
                matches!(
                    StaticTokens::new([(bad, "x")]),
                    Err(AuthError::InvalidToken)
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            StaticTokens::new([("t", "")]),
            Err(AuthError::EmptyUser)
        ));
        assert!(matches!(
            StaticTokens::new([("t", "a\rb")]),
            Err(AuthError::ControlCharacter)
        ));
        assert!(matches!(
            StaticTokens::new([("t", "a"), ("t", "b")]),
            Err(AuthError::DuplicateToken)
        ));
        assert!(StaticTokens::new([("a-b.c_d~e+f/g==", "x")]).is_ok());
    }
}
