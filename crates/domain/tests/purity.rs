//! The domain stays pure: no I/O, no clock, no randomness. This test fails
//! the build the day a dependency that could bring any of those in reaches
//! `dotpha-domain`'s normal dependency graph, directly or transitively.

use std::{
    collections::{HashMap, VecDeque},
    path::Path,
    process::Command,
};

use serde_json::Value;

/// Crates that do I/O, keep time or make randomness; none belongs in the
/// domain, at any depth.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "async-nats",
    "rusqlite",
    "libsqlite3-sys",
    "axum",
    "hyper",
    "mio",
    "rand",
    "getrandom",
    "chrono",
    "time",
    "jiff",
    "reqwest",
    "socket2",
];

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}

/// The names of the packages `dotpha-domain` depends on as normal
/// dependencies, transitively, each with the path it is reached by.
fn normal_dependencies(metadata: &Value) -> HashMap<String, Vec<String>> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let packages = metadata["packages"]
        .as_array()
        .expect("metadata lists packages");
    let name_of: HashMap<&str, &str> = packages
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
        .collect();
    let domain = packages
        .iter()
        .find(|p| {
            p["name"] == "dotpha-domain"
                && p["manifest_path"]
                    .as_str()
                    .is_some_and(|m| Path::new(m) == manifest)
        })
        .and_then(|p| p["id"].as_str())
        .expect("dotpha-domain is a package of this workspace");
    let nodes: HashMap<&str, &Value> = metadata["resolve"]["nodes"]
        .as_array()
        .expect("metadata has a resolved graph")
        .iter()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();

    // Breadth-first over normal edges only (a `dep_kinds` entry whose
    // `kind` is null; "dev" and "build" edges do not end up in the
    // domain's code).
    let mut reached: HashMap<String, Vec<String>> = HashMap::new();
    let mut queue = VecDeque::from([(domain, vec!["dotpha-domain".to_owned()])]);
    let mut seen = std::collections::HashSet::from([domain]);
    while let Some((id, path)) = queue.pop_front() {
        let node = nodes.get(id).expect("every package id has a node");
        for dep in node["deps"].as_array().into_iter().flatten() {
            let normal = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null());
            let Some(pkg) = dep["pkg"].as_str() else {
                continue;
            };
            if !normal || !seen.insert(pkg) {
                continue;
            }
            let name = name_of.get(pkg).copied().unwrap_or(pkg).to_owned();
            let mut to = path.clone();
            to.push(name.clone());
            reached.insert(name, to.clone());
            queue.push_back((pkg, to));
        }
    }
    reached
}

#[test]
fn the_domain_depends_on_nothing_that_does_io_keeps_time_or_makes_randomness() {
    let reached = normal_dependencies(&metadata());

    // The walk itself works: it finds what the domain does use and skips
    // what only its tests use.
    for used in ["serde", "serde_json", "unicode-normalization", "thiserror"] {
        assert!(
            reached.contains_key(used),
            "expected {used} among {:?}",
            reached.keys()
        );
    }
    assert!(
        !reached.contains_key("proptest"),
        "dev-dependencies are not the domain's"
    );

    let mut offending: Vec<String> = FORBIDDEN
        .iter()
        .filter_map(|name| reached.get(*name))
        .map(|path| path.join(" -> "))
        .collect();
    offending.sort();
    assert!(
        offending.is_empty(),
        "the pure domain must not depend on these:\n  {}",
        offending.join("\n  ")
    );
}
