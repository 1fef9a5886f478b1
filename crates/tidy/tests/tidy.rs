//! The workspace's layering and conventions (see the crate docs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every crate directory under `crates/`.
fn crates() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn manifest(name: &str) -> toml::Table {
    let text = std::fs::read_to_string(root().join("crates").join(name).join("Cargo.toml")).unwrap();
    text.parse().unwrap()
}

/// The internal crates `name` depends on (normal dependencies only: tests may
/// build fixtures from any layer).
fn internal_deps(name: &str, all: &[String]) -> Vec<String> {
    let m = manifest(name);
    let Some(deps) = m.get("dependencies").and_then(|d| d.as_table()) else { return Vec::new() };
    deps.keys().filter(|k| all.contains(k)).cloned().collect()
}

/// The layers, top first, as the diagram in ARCHITECTURE.md ("## Layers")
/// draws them: each line is a layer name, then the crates of that layer,
/// then a description.
fn layers(all: &[String]) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let section = text.split("## Layers").nth(1).expect("ARCHITECTURE.md has a '## Layers' section");
    let diagram = section.split("```").nth(1).expect("the layers section holds a diagram in a code block");
    diagram
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut words = line.split_whitespace();
            let layer = words.next().unwrap_or_default().to_owned();
            let members = words.take_while(|w| all.iter().any(|c| c == w)).map(str::to_owned).collect();
            (layer, members)
        })
        .collect()
}

/// Infrastructure crates that an adapter may only reach through the domain.
const BEHIND_THE_DOMAIN: &[&str] = &["store", "blob", "search", "config"];

#[test]
fn the_layer_diagram_lists_every_crate_once() {
    let all = crates();
    let layers = layers(&all);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (_, members) in &layers {
        for m in members {
            *seen.entry(m.clone()).or_default() += 1;
        }
    }
    let missing: Vec<&String> = all.iter().filter(|c| !seen.contains_key(*c)).collect();
    let twice: Vec<&String> = seen.iter().filter(|(_, n)| **n > 1).map(|(c, _)| c).collect();
    assert!(missing.is_empty(), "crates missing from ARCHITECTURE.md's layer diagram: {missing:?}");
    assert!(twice.is_empty(), "crates drawn in two layers: {twice:?}");
}

#[test]
fn dependencies_point_down_the_diagram() {
    let all = crates();
    let layers = layers(&all);
    let level = |c: &str| layers.iter().position(|(_, m)| m.iter().any(|x| x == c));
    let layer_name = |c: &str| level(c).map(|i| layers[i].0.clone()).unwrap_or_default();
    let mut wrong = Vec::new();
    for c in &all {
        let Some(from) = level(c) else { continue };
        for d in internal_deps(c, &all) {
            let Some(to) = level(&d) else { continue };
            // Within a layer only the domain crates build on each other.
            let same_layer_ok = to == from && layer_name(c) == "domain";
            if to < from || (to == from && !same_layer_ok) {
                wrong.push(format!("{c} ({}) -> {d} ({})", layer_name(c), layer_name(&d)));
            }
            if layer_name(c) == "adapters" && BEHIND_THE_DOMAIN.contains(&d.as_str()) {
                wrong.push(format!("{c} is an adapter and names the infrastructure crate {d}"));
            }
        }
    }
    assert!(wrong.is_empty(), "dependencies against the layering of ARCHITECTURE.md:\n{}", wrong.join("\n"));
}

#[test]
fn internal_crates_are_unpublished_zero_versions_with_workspace_lints() {
    let mut wrong = Vec::new();
    for c in crates() {
        let m = manifest(&c);
        let package = m.get("package").and_then(|p| p.as_table()).unwrap();
        if package.get("version").and_then(|v| v.as_str()) != Some("0.0.0") {
            wrong.push(format!("{c}: version is not 0.0.0"));
        }
        if package.get("name").and_then(|v| v.as_str()) != Some(c.as_str()) {
            wrong.push(format!("{c}: the package name differs from the directory"));
        }
        let lints = m.get("lints").and_then(|l| l.as_table()).and_then(|l| l.get("workspace"));
        if lints.and_then(|w| w.as_bool()) != Some(true) {
            wrong.push(format!("{c}: [lints] workspace = true is missing"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_crate_says_why_it_exists() {
    let mut wrong = Vec::new();
    for c in crates() {
        let src = root().join("crates").join(&c).join("src");
        let entry = ["lib.rs", "main.rs"].iter().map(|f| src.join(f)).find(|p| p.exists());
        let Some(entry) = entry else {
            wrong.push(format!("{c}: no lib.rs or main.rs"));
            continue;
        };
        let text = std::fs::read_to_string(&entry).unwrap();
        if !text.trim_start().starts_with("//!") {
            wrong.push(format!("{c}: {} does not start with //! docs", entry.display()));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
