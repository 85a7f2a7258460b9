//! Civil days and office hours in Vietnam (UTC+07:00), computed, never read
//! from a clock.

use std::fmt;

use crate::rng::Rng;

/// A civil day, counted from 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Day(i64);

impl Day {
    /// The day `year-month-day`; panics on a date that does not exist,
    /// which would be a typo in this crate's tables.
    pub(crate) fn ymd(year: i32, month: u32, day: u32) -> Day {
        assert!(
            (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month),
            "no such date {year}-{month}-{day}"
        );
        // Howard Hinnant's days_from_civil.
        let y = i64::from(year) - i64::from(month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Day(era * 146_097 + doe - 719_468)
    }

    /// The date in 2021 (the demo's cycle).
    pub(crate) fn y2021(month: u32, day: u32) -> Day {
        Day::ymd(2021, month, day)
    }

    /// The last day of `month` in 2021.
    pub(crate) fn end_of_month_2021(month: u32) -> Day {
        Day::ymd(2021, month, days_in_month(2021, month))
    }

    /// (year, month, day).
    pub(crate) fn civil(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        (year, month, day)
    }

    pub(crate) fn month(self) -> u32 {
        self.civil().1
    }

    pub(crate) fn plus(self, days: i64) -> Day {
        Day(self.0 + days)
    }

    /// Monday is 0, Sunday 6 (1970-01-01 was a Thursday).
    fn weekday(self) -> i64 {
        (self.0 + 3).rem_euclid(7)
    }

    /// Whether offices work that day: not a weekend, not a public holiday of
    /// 2021 or 2025 (Tết, Hùng Kings, 30 April and 1 May, National Day).
    pub(crate) fn is_workday(self) -> bool {
        if self.weekday() >= 5 {
            return false;
        }
        let (y, m, d) = self.civil();
        let holiday = match y {
            2021 => matches!(
                (m, d),
                (1, 1) | (2, 10..=16) | (4, 21) | (4, 30) | (5, 3) | (9, 2) | (9, 3)
            ),
            2025 => matches!((m, d), (1, 1) | (1, 27..=31) | (4, 7) | (4, 30) | (5, 1)),
            _ => false,
        };
        !holiday
    }

    /// This day if offices work, else the next day they do.
    pub(crate) fn workday_on_or_after(self) -> Day {
        let mut d = self;
        while !d.is_workday() {
            d = d.plus(1);
        }
        d
    }

    /// The `n`th working day after this one (`n >= 1`).
    pub(crate) fn workdays_after(self, n: u32) -> Day {
        let mut d = self;
        for _ in 0..n {
            d = d.plus(1).workday_on_or_after();
        }
        d
    }

    /// A working day picked in `from..=to` (both inclusive; falls back to
    /// the first working day on or after `from`).
    pub(crate) fn random_workday(rng: &mut Rng, from: Day, to: Day) -> Day {
        let days: Vec<Day> = (from.0..=to.0)
            .map(Day)
            .filter(|d| d.is_workday())
            .collect();
        if days.is_empty() {
            from.workday_on_or_after()
        } else {
            *rng.pick(&days)
        }
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Office hours: 07:30 to 11:30 and 13:30 to 17:00, in seconds of the day.
const MORNING: (u32, u32) = (7 * 3600 + 30 * 60, 11 * 3600 + 30 * 60);
const AFTERNOON: (u32, u32) = (13 * 3600 + 30 * 60, 17 * 3600);

/// An instant in Vietnam's civil time, to the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct At {
    pub(crate) day: Day,
    pub(crate) second: u32,
}

impl At {
    /// `hh:mm` on `day`.
    pub(crate) fn hm(day: Day, hour: u32, minute: u32) -> At {
        At {
            day,
            second: (hour * 60 + minute) * 60,
        }
    }

    /// A random moment within office hours of `day`.
    pub(crate) fn office(rng: &mut Rng, day: Day) -> At {
        let morning = MORNING.1 - MORNING.0;
        let afternoon = AFTERNOON.1 - AFTERNOON.0;
        let x = rng.below(u64::from(morning + afternoon)) as u32;
        let second = if x < morning {
            MORNING.0 + x
        } else {
            AFTERNOON.0 + x - morning
        };
        At { day, second }
    }

    /// A random moment within office hours of a working day in `from..=to`.
    pub(crate) fn office_between(rng: &mut Rng, from: Day, to: Day) -> At {
        let day = Day::random_workday(rng, from, to);
        At::office(rng, day)
    }

    /// RFC 3339 with the +07:00 offset.
    pub(crate) fn rfc3339(self) -> String {
        let (h, m, s) = (self.second / 3600, self.second / 60 % 60, self.second % 60);
        format!("{}T{h:02}:{m:02}:{s:02}+07:00", self.day)
    }
}

/// A clerk working through a pile of paperwork: each call returns the next
/// moment, a little later, always within office hours on working days.
#[derive(Clone, Debug)]
pub(crate) struct Desk {
    at: At,
}

impl Desk {
    pub(crate) fn starting(at: At) -> Desk {
        Desk { at }
    }

    /// Moves on by `min..=max` seconds, jumping over lunch, evenings,
    /// weekends and holidays.
    pub(crate) fn next(&mut self, rng: &mut Rng, min: u32, max: u32) -> At {
        let step = rng.range(i64::from(min), i64::from(max)) as u32;
        let mut at = self.at;
        at.second += step;
        if at.second >= MORNING.1 && at.second < AFTERNOON.0 {
            at.second = AFTERNOON.0 + (at.second - MORNING.1);
        }
        if at.second >= AFTERNOON.1 || !at.day.is_workday() {
            at.day = at.day.plus(1).workday_on_or_after();
            at.second = MORNING.0 + (step % 900);
        }
        if at.second < MORNING.0 {
            at.second = MORNING.0;
        }
        self.at = at;
        at
    }

    pub(crate) fn now(&self) -> At {
        self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_and_know_the_week() {
        let d = Day::ymd(2021, 3, 2);
        assert_eq!(d.to_string(), "2021-03-02");
        assert_eq!(d.civil(), (2021, 3, 2));
        assert_eq!(d.weekday(), 1, "2 March 2021 was a Tuesday");
        assert!(!Day::ymd(2021, 2, 13).is_workday(), "Tết");
        assert!(!Day::ymd(2021, 1, 2).is_workday(), "Saturday");
        assert_eq!(Day::end_of_month_2021(2).to_string(), "2021-02-28");
        assert_eq!(
            Day::ymd(2021, 1, 1).workday_on_or_after().to_string(),
            "2021-01-04"
        );
    }

    #[test]
    fn the_desk_keeps_office_hours() {
        let mut rng = Rng::new(3);
        let mut desk = Desk::starting(At::hm(Day::ymd(2021, 1, 4), 7, 45));
        let mut last = desk.now();
        for _ in 0..2000 {
            let at = desk.next(&mut rng, 20, 400);
            assert!(at > last);
            assert!(at.day.is_workday());
            assert!(
                (MORNING.0..MORNING.1).contains(&at.second)
                    || (AFTERNOON.0..AFTERNOON.1).contains(&at.second),
                "{}",
                at.rfc3339()
            );
            last = at;
        }
    }
}
