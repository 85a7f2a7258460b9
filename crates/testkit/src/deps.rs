//! A crate's normal dependency graph, from `cargo metadata`, for tests that
//! turn a crate's stated absences ("depends on no database") into failures.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    path::Path,
    process::Command,
};

use serde_json::Value;

/// The packages `package` (whose manifest is `manifest`) depends on as
/// normal dependencies, transitively, each with the path it is reached by.
/// Dev and build dependencies are not followed.
pub fn normal_dependencies(package: &str, manifest: &Path) -> HashMap<String, Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(manifest.parent().expect("a manifest has a directory"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let name_of: HashMap<&str, &str> = packages
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
        .collect();
    let root = packages
        .iter()
        .find(|p| {
            p["name"] == package
                && p["manifest_path"]
                    .as_str()
                    .is_some_and(|m| Path::new(m) == manifest)
        })
        .and_then(|p| p["id"].as_str())
        .expect("the package is in this workspace");
    let nodes: HashMap<&str, &Value> = metadata["resolve"]["nodes"]
        .as_array()
        .expect("a resolved graph")
        .iter()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();
    let mut reached = HashMap::new();
    let mut queue = VecDeque::from([(root, vec![package.to_owned()])]);
    let mut seen = HashSet::from([root]);
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

/// Panics naming each of `forbidden` that `package` reaches, and how.
pub fn assert_absent(package: &str, manifest: &Path, forbidden: &[&str]) {
    let reached = normal_dependencies(package, manifest);
    let mut offending: Vec<String> = forbidden
        .iter()
        .filter_map(|name| reached.get(*name))
        .map(|path| path.join(" -> "))
        .collect();
    offending.sort();
    assert!(
        offending.is_empty(),
        "{package} must not depend on these:\n  {}",
        offending.join("\n  ")
    );
}
