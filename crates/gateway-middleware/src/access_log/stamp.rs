//! Time: the log's [`Clock`] (the system clock or a replacement, at a
//! fixed offset from UTC), and timestamps, formatted by the `time` crate at
//! most once a second per thread: a CLF time has one-second resolution, and
//! the JSON time only changes its microseconds within a second.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::thread::LocalKey;

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// Where the log reads the time: the system clock unless replaced, shown
/// at `offset` from UTC.
#[derive(Clone)]
pub(super) struct Clock {
    pub(super) custom: Option<Arc<dyn Fn() -> OffsetDateTime + Send + Sync>>,
    pub(super) offset: UtcOffset,
}

impl Clock {
    /// The system clock, in UTC.
    pub(super) fn utc() -> Self {
        Clock {
            custom: None,
            offset: UtcOffset::UTC,
        }
    }

    /// Now, at the clock's offset.
    pub(super) fn now(&self) -> OffsetDateTime {
        let now = self
            .custom
            .as_ref()
            .map_or_else(OffsetDateTime::now_utc, |clock| clock());
        now.checked_to_offset(self.offset).unwrap_or(now)
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock")
            .field("custom", &self.custom.is_some())
            .field("offset", &self.offset)
            .finish()
    }
}

/// `10/Oct/2000:13:55:36 +0000`, as Apache's `%t` (inside its brackets).
const CLF: &[BorrowedFormatItem<'static>] = format_description!(
    "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
);

/// RFC 3339 with microseconds: `2000-10-10T13:55:36.000000+00:00`.
const RFC3339: &[BorrowedFormatItem<'static>] = format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6][offset_hour sign:mandatory]:[offset_minute]"
);

/// The last stamp a thread wrote, for the second (and offset) it was in.
#[derive(Clone, Copy)]
struct Cached {
    second: (i64, i32),
    len: usize,
    bytes: [u8; 48],
}

thread_local! {
    static LAST_CLF: Cell<Option<Cached>> = const { Cell::new(None) };
    static LAST_RFC3339: Cell<Option<Cached>> = const { Cell::new(None) };
}

/// Write `t` as Apache's `%t` does, without the brackets.
pub(super) fn clf(t: OffsetDateTime, buf: &mut Vec<u8>) -> bool {
    stamp(&LAST_CLF, t, CLF, buf).is_some()
}

/// Write `t` in RFC 3339, to the microsecond.
pub(super) fn rfc3339(t: OffsetDateTime, buf: &mut Vec<u8>) -> bool {
    let Some(start) = stamp(&LAST_RFC3339, t, RFC3339, buf) else {
        return false;
    };
    let Some(dot) = buf[start..].iter().position(|&b| b == b'.') else {
        return false;
    };
    let Some(digits) = buf.get_mut(start + dot + 1..start + dot + 7) else {
        return false;
    };
    let mut micros = t.microsecond();
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    true
}

/// Write `t` in `format`, from this thread's last stamp if it is of the
/// same second; where it starts in `buf`, or `None` (`buf` cut back) if
/// `t` cannot be written in `format`.
fn stamp(
    last: &'static LocalKey<Cell<Option<Cached>>>,
    t: OffsetDateTime,
    format: &[BorrowedFormatItem<'_>],
    buf: &mut Vec<u8>,
) -> Option<usize> {
    let second = (t.unix_timestamp(), t.offset().whole_seconds());
    let start = buf.len();
    if let Some(hit) = last
        .try_with(Cell::get)
        .ok()
        .flatten()
        .filter(|c| c.second == second)
    {
        buf.extend_from_slice(&hit.bytes[..hit.len]);
        return Some(start);
    }
    if t.format_into(buf, format).is_err() {
        buf.truncate(start);
        return None;
    }
    let written = &buf[start..];
    if written.len() <= 48 {
        let mut bytes = [0; 48];
        bytes[..written.len()].copy_from_slice(written);
        let cached = Cached {
            second,
            len: written.len(),
            bytes,
        };
        let _ = last.try_with(|cell| cell.set(Some(cached)));
    }
    Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::{datetime, offset};

    fn both(t: OffsetDateTime) -> (String, String) {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        assert!(clf(t, &mut a) && rfc3339(t, &mut b));
        (String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap())
    }

    #[test]
    fn stamps_follow_the_time_within_and_across_seconds() {
        let t = datetime!(2000-10-10 13:55:36.25 UTC);
        assert_eq!(
            both(t),
            (
                "10/Oct/2000:13:55:36 +0000".into(),
                "2000-10-10T13:55:36.250000+00:00".into()
            )
        );
        let later = t + Duration::microseconds(7);
        assert_eq!(both(later).1, "2000-10-10T13:55:36.250007+00:00");
        let next = t + Duration::seconds(1);
        assert_eq!(both(next).0, "10/Oct/2000:13:55:37 +0000");
        let west = next.to_offset(offset!(-7));
        assert_eq!(
            both(west),
            (
                "10/Oct/2000:06:55:37 -0700".into(),
                "2000-10-10T06:55:37.250000-07:00".into()
            )
        );
    }
}
