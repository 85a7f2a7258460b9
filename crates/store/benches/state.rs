//! What a folded state holds on the heap: a writer's, whose trackers forget
//! their progress reports (`Log::load_state_forgetful`), beside one keeping
//! every report (`Log::load_state`), over the same log, counted by a
//! counting allocator (resident memory would also count what the allocator
//! keeps from earlier work).
//!
//! `cargo bench -p dotpha-store --bench state` (`DOTPHA_BENCH_EVENTS`,
//! default 1,000,000: 10,000 tasks, then progress reports).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use dotpha_domain::{Timestamp, decide, parse_submission};
use dotpha_store::{Arrival, Decision, Ledger, Log, Outcome};
use dotpha_testkit::Workload;

/// The system allocator, counting the bytes live.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged; only a
// counter is updated beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live_mb() -> f64 {
    LIVE.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0)
}

fn main() {
    let events: u64 = std::env::var("DOTPHA_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.sqlite");
    let at = Timestamp::from_unix_millis(1_614_648_600_123);
    let mut workload = Workload::new("state", 100, 100);
    {
        let mut ledger = Ledger::open(&path).expect("open");
        let setup = workload
            .setup()
            .iter()
            .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.submission_id)).expect("id"))
            .collect();
        ledger.submit_batch(setup, &at).expect("setup");
    }
    let mut log = Log::open(&path).expect("open");
    let mut state = log.load_state().expect("fold");
    while log.head().position < events {
        let n = (events - log.head().position).min(4096);
        let decided: Vec<Decision> = (0..n)
            .map(|_| {
                let m = workload.next_report();
                let submission = parse_submission(&m.body, Some(&m.unit)).expect("valid");
                let events = decide(&state, &submission).expect("accepted");
                for e in &events {
                    state.apply(e);
                }
                Decision {
                    submission_id: m.submission_id,
                    unit: Some(m.unit),
                    outcome: Outcome::Accepted(events),
                    submission: None,
                }
            })
            .collect();
        log.append_batch(&decided, &at).expect("append");
    }
    drop(state);
    let total = log.head().position;
    let tasks = workload.tasks();
    drop(log);
    let log = Log::open_read_only(&path).expect("open");

    println!("## the heap a folded state holds ({total} events, {tasks} tasks)\n");
    println!("| state | seconds to fold | heap held, MB | bytes per event |");
    println!("|---|---:|---:|---:|");
    for (label, forgetful) in [
        (
            "a writer's: reports forgotten, their positions kept (load_state_forgetful)",
            true,
        ),
        ("every report kept (load_state)", false),
    ] {
        let before = live_mb();
        let started = Instant::now();
        let state = if forgetful {
            log.load_state_forgetful()
        } else {
            log.load_state()
        }
        .expect("fold");
        let took = started.elapsed();
        let held = live_mb() - before;
        assert_eq!(state.events_applied(), total);
        println!(
            "| {label} | {:.2} | {held:.1} | {:.0} |",
            took.as_secs_f64(),
            held * 1024.0 * 1024.0 / total as f64
        );
        drop(state);
    }
}
