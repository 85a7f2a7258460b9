//! The generator reads no clock and no randomness from the OS, and iterates
//! no hash map (whose order is random per process): the data set is a
//! function of the source alone.

use std::{fs, path::Path};

const FORBIDDEN: &[&str] = &[
    "SystemTime",
    "Instant",
    "std::time",
    "HashMap",
    "HashSet",
    "RandomState",
    "getrandom",
    "thread_rng",
    "std::env",
    "std::fs",
];

#[test]
fn the_source_reads_no_clock_and_no_os_randomness() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = 0;
    for entry in fs::read_dir(&src).expect("src") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            files += 1;
            let text = fs::read_to_string(&path).expect("readable");
            for word in FORBIDDEN {
                assert!(!text.contains(word), "{} mentions {word}", path.display());
            }
        }
    }
    assert!(files >= 5);
}
