//! The clock, injected: services ask a [`Clock`] for the time instead of
//! the system, so a test can fix it ([`FixedClock`]) or move it
//! ([`ManualClock`]) and production reads the system's ([`SystemClock`]).
//! The domain never reads a clock at all; what a service stamps
//! (`recorded_at`, a checkpoint's time, the instant a read is judged at)
//! comes from here.

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use dotpha_domain::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the Unix epoch (UTC).
    fn unix_millis(&self) -> i64;

    /// Now, as an RFC 3339 instant in UTC (`…Z`).
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.unix_millis())
    }

    /// Now, as an RFC 3339 instant at UTC+7, the domain's civil zone.
    fn now_in_vietnam(&self) -> Timestamp {
        Timestamp::in_vietnam_from_unix_millis(self.unix_millis())
    }

    /// Seconds since the Unix epoch (a checkpoint's or a cosignature's
    /// time).
    fn unix_seconds(&self) -> u64 {
        u64::try_from(self.unix_millis() / 1000).unwrap_or(0)
    }
}

/// A clock shared by the parts of a process.
pub type SharedClock = Arc<dyn Clock>;

/// The system's clock: what production runs on.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl SystemClock {
    /// The system clock, shared.
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock)
    }
}

impl Clock for SystemClock {
    fn unix_millis(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that always says the same instant.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn unix_millis(&self) -> i64 {
        self.0
    }
}

/// A clock a test sets and moves by hand; clones share the time.
#[derive(Clone, Debug, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock at `unix_millis`.
    pub fn at(unix_millis: i64) -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(unix_millis)))
    }

    /// Sets the time.
    pub fn set(&self, unix_millis: i64) {
        self.0.store(unix_millis, Ordering::SeqCst);
    }

    /// Moves the time on by `millis`.
    pub fn advance(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn unix_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_clones_share_it() {
        let clock = ManualClock::at(1_614_650_000_000);
        let shared: SharedClock = Arc::new(clock.clone());
        assert_eq!(shared.now().as_str(), "2021-03-02T01:53:20.000Z");
        clock.advance(1_000);
        assert_eq!(shared.unix_millis(), 1_614_650_001_000);
        assert_eq!(shared.unix_seconds(), 1_614_650_001);
        assert_eq!(
            FixedClock(1_614_650_000_000).now_in_vietnam().as_str(),
            "2021-03-02T08:53:20.000+07:00"
        );
    }

    #[test]
    fn the_system_clock_is_after_the_project_began() {
        assert!(SystemClock.unix_millis() > 1_700_000_000_000);
    }
}
