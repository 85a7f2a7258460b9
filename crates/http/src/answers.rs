//! Whole JSON answers of the routes that scan many tasks (the dashboard,
//! task lists, a unit's roll-up), kept while they cannot differ.
//!
//! An answer depends on the request (path, query string without
//! `min_position`, the token's unit when reads need one), on the read model
//! (its file and applied position) and on the instant flags are judged at.
//! The instant matters only through the flags overdue, due soon and stale,
//! which change at known instants ([`ReadModel::clock_window`]): an answer
//! computed at one instant is the answer at every instant of the same
//! window. So an answer is served again, byte for byte, while the read
//! model stays at its position and the clock stays in its window.
//!
//! One request per answer computes it; the others asking meanwhile do not
//! compute the same thing side by side. An answer computed after a request
//! arrived serves that request too: the read model reached that position
//! while the request was open.
//!
//! While reports arrive, the read model moves on several times a second and
//! each move would make the next request pay the whole computation. So a
//! request that finds another one computing its answer gets the answer kept
//! before, when that one is recent ([`MAX_STALE`]), of the same read-model
//! file and clock window, and at least at the request's `min_position`; it
//! carries its own `X-Dotpha-Position`, so a client sees how current it is,
//! and a client that must see its own write asks with `min_position`. A
//! request that finds nobody computing computes (and waits for) the answer
//! at the position it observed, so a client reading alone always gets the
//! current answer.
//!
//! [`ReadModel::clock_window`]: dotpha_views::ReadModel::clock_window

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::http::Uri;
use bytes::Bytes;
use dotpha_views::ReadModel;

use crate::error::ApiError;

/// At most this many answers are kept.
pub(crate) const MAX_ANSWERS: usize = 512;
/// At most this many bytes of answers are kept.
pub(crate) const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;
/// How old a kept answer may be and still serve a request that finds its
/// successor being computed: a person reloading a page cannot tell one
/// second, and it covers the computation of the largest answer (the
/// dashboard at 100 districts, BENCHMARKS.md) on a busy machine.
pub(crate) const MAX_STALE: Duration = Duration::from_secs(1);

/// One kept answer.
#[derive(Clone)]
pub(crate) struct Kept {
    file: PathBuf,
    /// The read model's position it reflects.
    pub(crate) position: u64,
    /// The instants `[from, until)` it holds for.
    from: i64,
    until: i64,
    /// The JSON.
    pub(crate) body: Bytes,
    /// When it was computed.
    computed: Instant,
}

impl Kept {
    /// Whether it answers a request that found the read model `file` at
    /// `position`, at instant `now`.
    pub(crate) fn serves(&self, file: &Path, position: u64, now: i64) -> bool {
        self.file == file && self.position >= position && self.from <= now && now < self.until
    }

    /// Whether it may answer, while its successor is being computed, a
    /// request at instant `now` that needs at least position `min`: same
    /// file and clock window, computed at most [`MAX_STALE`] ago.
    pub(crate) fn serves_meanwhile(&self, file: &Path, min: u64, now: i64) -> bool {
        self.serves(file, min, now) && self.computed.elapsed() <= MAX_STALE
    }
}

/// The slot of one answer: the answer kept, and a lock whoever computes
/// the next one holds.
#[derive(Default)]
pub(crate) struct SlotInner {
    pub(crate) computing: tokio::sync::Mutex<()>,
    kept: Mutex<Option<Kept>>,
}

impl SlotInner {
    /// The answer kept (its body shared, not copied).
    pub(crate) fn kept(&self) -> Option<Kept> {
        self.kept.lock().ok().and_then(|k| k.clone())
    }
}

/// A shared slot.
pub(crate) type Slot = Arc<SlotInner>;

struct Window {
    file: PathBuf,
    position: u64,
    from: i64,
    until: i64,
}

/// The kept answers.
#[derive(Default)]
pub(crate) struct Answers {
    slots: Mutex<Slots>,
    /// The clock window last computed: the same for every answer at one
    /// position, so one scan of the tasks serves them all.
    window: Mutex<Option<Window>>,
}

#[derive(Default)]
struct Slots {
    by_key: HashMap<String, Slot>,
    bytes: usize,
}

/// The key of a request: the token's unit (when reads need one), the path
/// and the query string without `min_position`, which only makes the
/// request wait.
pub(crate) fn key(uri: &Uri, unit: Option<&str>) -> String {
    let mut key = format!("{}|{}", unit.unwrap_or(""), uri.path());
    if let Some(query) = uri.query() {
        let mut first = true;
        for pair in query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("min_position="))
            .filter(|p| *p != "min_position")
        {
            key.push(if first { '?' } else { '&' });
            key.push_str(pair);
            first = false;
        }
    }
    key
}

impl Answers {
    /// The slot for `key`.
    pub(crate) fn slot(&self, key: String) -> Slot {
        let Ok(mut slots) = self.slots.lock() else {
            return Slot::default();
        };
        if !slots.by_key.contains_key(&key) && slots.by_key.len() >= MAX_ANSWERS {
            // Full: start over rather than track which to drop.
            *slots = Slots::default();
        }
        slots.by_key.entry(key).or_default().clone()
    }

    /// Keeps `kept` in `slot` (whose `computing` lock the caller holds).
    pub(crate) fn keep(&self, slot: &SlotInner, kept: Kept) {
        let new = kept.body.len();
        let old = match slot.kept.lock() {
            Ok(mut held) => held.replace(kept).map_or(0, |k| k.body.len()),
            Err(_) => 0,
        };
        if let Ok(mut slots) = self.slots.lock() {
            slots.bytes = (slots.bytes + new).saturating_sub(old);
            if slots.bytes > MAX_ANSWER_BYTES {
                *slots = Slots::default();
            }
        }
    }

    /// An answer to keep: `body` at the read model's `position` in `file`,
    /// holding for the clock window around `now`. Runs inside the read
    /// model's snapshot that computed `body`.
    pub(crate) fn kept(
        &self,
        rm: &ReadModel,
        file: &Path,
        position: u64,
        now: i64,
        body: Bytes,
    ) -> Result<Kept, ApiError> {
        let (from, until) = self.window(rm, file, position, now)?;
        Ok(Kept {
            file: file.to_owned(),
            position,
            from,
            until,
            body,
            computed: Instant::now(),
        })
    }

    fn window(
        &self,
        rm: &ReadModel,
        file: &Path,
        position: u64,
        now: i64,
    ) -> Result<(i64, i64), ApiError> {
        if let Ok(window) = self.window.lock()
            && let Some(w) = window.as_ref()
            && w.file == file
            && w.position == position
            && w.from <= now
            && now < w.until
        {
            return Ok((w.from, w.until));
        }
        let (from, until) = rm.clock_window(now)?;
        if let Ok(mut window) = self.window.lock() {
            *window = Some(Window {
                file: file.to_owned(),
                position,
                from,
                until,
            });
        }
        Ok((from, until))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_leaves_out_min_position_only() {
        let uri: Uri = "/api/v1/tasks?cycle=2021&min_position=7&q=hop"
            .parse()
            .unwrap();
        assert_eq!(key(&uri, None), "|/api/v1/tasks?cycle=2021&q=hop");
        let uri: Uri = "/api/v1/dashboard?min_position=7".parse().unwrap();
        assert_eq!(key(&uri, Some("hop-thanh")), "hop-thanh|/api/v1/dashboard");
        let uri: Uri = "/api/v1/tasks?min_positions=7".parse().unwrap();
        assert_eq!(key(&uri, None), "|/api/v1/tasks?min_positions=7");
    }

    #[test]
    fn a_kept_answer_serves_its_file_position_and_window_only() {
        let kept = Kept {
            file: PathBuf::from("read.1.sqlite"),
            position: 10,
            from: 100,
            until: 200,
            body: Bytes::from_static(b"{}"),
            computed: Instant::now(),
        };
        let file = Path::new("read.1.sqlite");
        assert!(kept.serves(file, 10, 100));
        assert!(kept.serves(file, 9, 199), "computed after the request came");
        assert!(!kept.serves(file, 11, 150), "the read model moved on");
        assert!(!kept.serves(file, 10, 200), "the clock left the window");
        assert!(!kept.serves(file, 10, 99));
        assert!(!kept.serves(Path::new("read.2.sqlite"), 10, 150));
    }

    #[test]
    fn a_kept_answer_serves_meanwhile_only_while_recent_and_new_enough() {
        let mut kept = Kept {
            file: PathBuf::from("read.1.sqlite"),
            position: 10,
            from: 100,
            until: 200,
            body: Bytes::from_static(b"{}"),
            computed: Instant::now(),
        };
        let file = Path::new("read.1.sqlite");
        assert!(kept.serves_meanwhile(file, 0, 150));
        assert!(kept.serves_meanwhile(file, 10, 150));
        assert!(!kept.serves_meanwhile(file, 11, 150), "below min_position");
        assert!(
            !kept.serves_meanwhile(file, 0, 200),
            "the clock left the window"
        );
        assert!(!kept.serves_meanwhile(Path::new("read.2.sqlite"), 0, 150));
        if let Some(old) = Instant::now().checked_sub(MAX_STALE + Duration::from_millis(1)) {
            kept.computed = old;
            assert!(!kept.serves_meanwhile(file, 0, 150), "too old");
        }
    }
}
