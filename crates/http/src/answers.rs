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
//! One request per answer computes it; the others asking meanwhile wait for
//! it instead of computing the same thing side by side. An answer computed
//! after a request arrived serves that request too: the read model reached
//! that position while the request was open.
//!
//! [`ReadModel::clock_window`]: dotpha_views::ReadModel::clock_window

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use axum::http::Uri;
use bytes::Bytes;
use dotpha_views::ReadModel;

use crate::error::ApiError;

/// At most this many answers are kept.
pub(crate) const MAX_ANSWERS: usize = 512;
/// At most this many bytes of answers are kept.
pub(crate) const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// One kept answer.
pub(crate) struct Kept {
    file: PathBuf,
    /// The read model's position it reflects.
    pub(crate) position: u64,
    /// The instants `[from, until)` it holds for.
    from: i64,
    until: i64,
    /// The JSON.
    pub(crate) body: Bytes,
}

impl Kept {
    /// Whether it answers a request that found the read model `file` at
    /// `position`, at instant `now`.
    pub(crate) fn serves(&self, file: &Path, position: u64, now: i64) -> bool {
        self.file == file && self.position >= position && self.from <= now && now < self.until
    }
}

/// The slot of one answer: whoever holds its lock computes it.
pub(crate) type Slot = Arc<tokio::sync::Mutex<Option<Kept>>>;

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

    /// Keeps `kept` in `slot` (whose lock the caller holds as `held`).
    pub(crate) fn keep(&self, held: &mut Option<Kept>, kept: Kept) {
        let (old, new) = (held.as_ref().map_or(0, |k| k.body.len()), kept.body.len());
        *held = Some(kept);
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
        };
        let file = Path::new("read.1.sqlite");
        assert!(kept.serves(file, 10, 100));
        assert!(kept.serves(file, 9, 199), "computed after the request came");
        assert!(!kept.serves(file, 11, 150), "the read model moved on");
        assert!(!kept.serves(file, 10, 200), "the clock left the window");
        assert!(!kept.serves(file, 10, 99));
        assert!(!kept.serves(Path::new("read.2.sqlite"), 10, 150));
    }
}
