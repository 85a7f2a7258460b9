//! ARCHITECTURE.md: the witness does not depend on the store: a commune runs
//! it without the log.

use std::path::Path;

#[test]
fn the_witness_depends_on_neither_the_store_nor_sqlite() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    dotpha_testkit::deps::assert_absent(
        "dotpha-witness",
        &manifest,
        &["dotpha-store", "rusqlite", "libsqlite3-sys"],
    );
}
