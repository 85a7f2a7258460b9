//! Civil dates and instants, parsed strictly and without reading any clock.
//!
//! The domain never asks what time it is: every instant arrives inside a
//! submission, so deciding the same submissions always gives the same events.

use std::fmt;

/// Seconds east of UTC of the domain's civil zone, Asia/Ho_Chi_Minh. It has
/// had a fixed +07:00 offset since 1975, so no zone database is needed.
pub const VIETNAM_OFFSET_SECONDS: i64 = 7 * 3600;

const MILLIS_PER_DAY: i64 = 86_400_000;

/// A calendar date, `YYYY-MM-DD`, years 0001 to 9999.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    /// Builds a date, or `None` when it does not exist (2021-02-29).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        (day <= days_in_month(year, month)).then_some(Date { year, month, day })
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year = digits(&b[0..4])? as i32;
        let month = digits(&b[5..7])? as u8;
        let day = digits(&b[8..10])? as u8;
        Date::new(year, month, day)
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, from 1.
    pub fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// The date as people in Vietnam write it: `30/06/2021`.
    pub fn vietnamese(self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }

    /// The instant this date ends in Vietnam (its last millisecond, plus one),
    /// in milliseconds since the Unix epoch: a task due on this date becomes
    /// overdue at that instant.
    pub fn end_in_vietnam_millis(self) -> i64 {
        (self.days_since_epoch() + 1) * MILLIS_PER_DAY - VIETNAM_OFFSET_SECONDS * 1000
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// An RFC 3339 instant with an explicit offset, as a publisher wrote it.
///
/// The text is kept as sent (events echo it back byte for byte); the parsed
/// value is used to compare and to render it in another zone.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Timestamp {
    text: String,
    unix_millis: i64,
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    pub fn parse(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        if b.len() < 20 || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let date = Date::parse(text.get(0..10)?)?;
        let hour = i64::from(digits(&b[11..13])?);
        let minute = i64::from(digits(&b[14..16])?);
        let second = i64::from(digits(&b[17..19])?);
        // 60 is allowed for a leap second and read as 59.999.
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut rest = &b[19..];
        let mut millis = 0i64;
        if let [b'.', tail @ ..] = rest {
            let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 || n > 9 {
                return None;
            }
            for (i, digit) in tail[..n].iter().enumerate().take(3) {
                millis += i64::from(digit - b'0') * [100, 10, 1][i];
            }
            rest = &tail[n..];
        }
        let offset_seconds = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let h = i64::from(digits(&[*h1, *h2])?);
                let m = i64::from(digits(&[*m1, *m2])?);
                if h > 23 || m > 59 {
                    return None;
                }
                let s = (h * 60 + m) * 60;
                if *sign == b'-' { -s } else { s }
            }
            _ => return None,
        };
        let (second, millis) = if second == 60 {
            (59, 999)
        } else {
            (second, millis)
        };
        let local = date.days_since_epoch() * MILLIS_PER_DAY
            + ((hour * 60 + minute) * 60 + second) * 1000
            + millis;
        Some(Timestamp {
            text: text.to_owned(),
            unix_millis: local - offset_seconds * 1000,
        })
    }

    /// Builds the instant `unix_millis` written as UTC with milliseconds,
    /// the form of `recorded_at` (`2021-03-02T01:30:00.123Z`).
    pub fn from_unix_millis(unix_millis: i64) -> Timestamp {
        Timestamp {
            text: format_millis(unix_millis, 0, "Z"),
            unix_millis,
        }
    }

    /// Builds the instant `unix_millis` written in Vietnam's civil time,
    /// the form a publisher fills in for `occurred_at`
    /// (`2021-03-02T08:30:00.123+07:00`).
    pub fn in_vietnam_from_unix_millis(unix_millis: i64) -> Timestamp {
        Timestamp {
            text: format_millis(unix_millis, VIETNAM_OFFSET_SECONDS, "+07:00"),
            unix_millis,
        }
    }

    /// The text as sent.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(&self) -> i64 {
        self.unix_millis
    }

    /// The civil date of this instant in Vietnam.
    pub fn date_in_vietnam(&self) -> Date {
        Date::from_days_since_epoch(
            (self.unix_millis + VIETNAM_OFFSET_SECONDS * 1000).div_euclid(MILLIS_PER_DAY),
        )
    }

    /// This instant in Vietnam's civil time, `YYYY-MM-DD HH:MM:SS`.
    pub fn in_vietnam(&self) -> String {
        let text = format_millis(self.unix_millis, VIETNAM_OFFSET_SECONDS, "");
        text.replace('T', " ")[..19].to_owned()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn format_millis(unix_millis: i64, offset_seconds: i64, suffix: &str) -> String {
    let local = unix_millis + offset_seconds * 1000;
    let date = Date::from_days_since_epoch(local.div_euclid(MILLIS_PER_DAY));
    let in_day = local.rem_euclid(MILLIS_PER_DAY);
    let (h, m, s, ms) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    format!("{date}T{h:02}:{m:02}:{s:02}.{ms:03}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(
            Date::parse("2021-06-30").map(|d| d.to_string()),
            Some("2021-06-30".into())
        );
        assert!(Date::parse("2021-02-29").is_none());
        assert!(Date::parse("2020-02-29").is_some());
        assert!(Date::parse("2021-6-30").is_none());
        assert!(Date::parse("2021-06-31").is_none());
        assert!(Date::parse("２０21-06-30").is_none());
    }

    #[test]
    fn day_numbers_round_trip() {
        for days in (-800_000..3_000_000).step_by(997) {
            assert_eq!(Date::from_days_since_epoch(days).days_since_epoch(), days);
        }
        assert_eq!(
            Date::parse("1970-01-01").map(Date::days_since_epoch),
            Some(0)
        );
    }

    #[test]
    fn instants_carry_their_offset() {
        let a = Timestamp::parse("2021-03-02T08:30:00+07:00").expect("valid");
        let b = Timestamp::parse("2021-03-02T01:30:00Z").expect("valid");
        assert_eq!(a.unix_millis(), b.unix_millis());
        assert_eq!(a.as_str(), "2021-03-02T08:30:00+07:00");
        assert_eq!(b.in_vietnam(), "2021-03-02 08:30:00");
        assert!(
            Timestamp::parse("2021-03-02T08:30:00").is_none(),
            "an offset is required"
        );
        assert!(Timestamp::parse("2021-03-02 08:30:00Z").is_none());
        assert!(Timestamp::parse("2021-03-02T24:00:00Z").is_none());
    }

    #[test]
    fn recorded_at_is_utc_with_milliseconds() {
        let t = Timestamp::parse("2021-03-02T08:30:00.1234+07:00").expect("valid");
        assert_eq!(
            Timestamp::from_unix_millis(t.unix_millis()).as_str(),
            "2021-03-02T01:30:00.123Z"
        );
    }

    #[test]
    fn a_due_date_ends_at_midnight_in_vietnam() {
        let due = Date::parse("2021-06-30").expect("valid");
        let last = Timestamp::parse("2021-06-30T16:59:59.999Z").expect("valid");
        let first_late = Timestamp::parse("2021-06-30T17:00:00Z").expect("valid");
        assert!(last.unix_millis() < due.end_in_vietnam_millis());
        assert_eq!(first_late.unix_millis(), due.end_in_vietnam_millis());
    }
}
