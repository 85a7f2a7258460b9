//! The committed `schemas/` directory is exactly what the code generates: a
//! change to a wire type or a subject that is not reflected in the files a
//! publisher reads fails here.
//!
//! Regenerate with:
//!
//! ```text
//! DOTPHA_BLESS=1 cargo test -p dotpha-interop --test committed
//! ```

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

const REGENERATE: &str = "DOTPHA_BLESS=1 cargo test -p dotpha-interop --test committed";

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

/// Every `.json` file under `dir`, by path relative to it.
fn committed_json(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() {
            committed_json(&path, &format!("{prefix}{name}/"), out);
        } else if name.ends_with(".json") {
            out.insert(format!("{prefix}{name}"));
        }
    }
}

#[test]
fn the_committed_schemas_are_what_the_code_generates() {
    let dir = schemas_dir();
    let bless = std::env::var_os("DOTPHA_BLESS").is_some();
    let documents = dotpha_interop::documents();
    let generated: BTreeSet<String> = documents.iter().map(|d| d.path.clone()).collect();
    let mut problems = Vec::new();

    for document in &documents {
        let path = dir.join(&document.path);
        let text = document.render();
        if bless {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).expect("create the schemas directory");
            }
            fs::write(&path, &text).expect("write a schema");
            continue;
        }
        match fs::read_to_string(&path) {
            Ok(committed) if committed == text => {}
            Ok(_) => problems.push(format!("{} differs from the code", document.path)),
            Err(_) => problems.push(format!("{} is missing", document.path)),
        }
    }

    let mut committed = BTreeSet::new();
    committed_json(&dir, "", &mut committed);
    for stale in committed.difference(&generated) {
        if bless {
            fs::remove_file(dir.join(stale)).expect("remove a stale schema");
        } else {
            problems.push(format!("{stale} is no longer generated"));
        }
    }

    assert!(
        problems.is_empty(),
        "schemas/ is out of date:\n  {}\nregenerate it with:\n  {REGENERATE}\nand commit the result",
        problems.join("\n  ")
    );
}
