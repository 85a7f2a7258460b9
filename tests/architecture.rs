//! ARCHITECTURE.md stays true to the tree: every file or directory it names
//! exists, and every item its "Where each rule lives" table names is in the
//! file of its row.

use std::path::Path;

const ARCHITECTURE: &str = include_str!("../ARCHITECTURE.md");

/// The backticked spans of `text`.
fn spans(text: &str) -> impl Iterator<Item = &str> {
    text.split('`').skip(1).step_by(2)
}

/// Whether a backticked span names a path in the repository.
fn is_path(span: &str) -> bool {
    let first = span.split('/').next().unwrap_or("");
    [
        "crates", "src", "tests", "schemas", "deploy", "scripts", "examples", "docs",
    ]
    .contains(&first)
        && span.contains('/')
        && !span.contains(['<', '{', '*', ' '])
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_file_the_codemap_names_exists() {
    let mut missing = Vec::new();
    for span in spans(ARCHITECTURE).filter(|s| is_path(s)) {
        if !root().join(span).exists() {
            missing.push(span);
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names missing files: {missing:?}"
    );
}

#[test]
fn every_rule_of_the_table_lives_where_it_says() {
    let table = ARCHITECTURE
        .split("## Where each rule lives")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("ARCHITECTURE.md has the rules table");
    let mut rows = 0;
    let mut wrong = Vec::new();
    for row in table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| rule"))
    {
        let Some(home) = row.split('|').nth(2) else {
            continue;
        };
        let mut file: Option<String> = None;
        for span in spans(home) {
            if is_path(span) {
                file = Some(std::fs::read_to_string(root().join(span)).unwrap_or_default());
            } else if let Some(text) = &file {
                // `Type::item` is in the file as `item` (and `Type`).
                for name in span.split("::") {
                    let declared = ["fn ", "struct ", "enum ", "const ", "impl ", "type "]
                        .iter()
                        .any(|k| text.contains(&format!("{k}{name}")));
                    if !declared {
                        wrong.push(format!("{span} in {row}"));
                    }
                }
            }
        }
        rows += 1;
    }
    assert!(rows >= 15, "the table has its rows ({rows})");
    assert!(
        wrong.is_empty(),
        "items not where the table says: {wrong:#?}"
    );
}
