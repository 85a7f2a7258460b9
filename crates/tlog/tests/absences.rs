//! ARCHITECTURE.md: dotpha-tlog depends on no async runtime, socket,
//! database or HTTP stack (a verifier, a witness or a bench may take it
//! alone).

use std::path::Path;

#[test]
fn the_tlog_crate_depends_on_no_runtime_socket_database_or_http() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let reached = dotpha_testkit::deps::normal_dependencies("dotpha-tlog", &manifest);
    assert!(reached.contains_key("tlog_tiles") && reached.contains_key("signed_note"));
    dotpha_testkit::deps::assert_absent(
        "dotpha-tlog",
        &manifest,
        &[
            "tokio",
            "async-nats",
            "rusqlite",
            "libsqlite3-sys",
            "axum",
            "hyper",
            "mio",
            "reqwest",
        ],
    );
}
