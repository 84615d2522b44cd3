//! The library's modules form a layered graph: none imports a module that imports it back,
//! directly or through others (ARCHITECTURE.md draws the layers). A cycle is how a codebase
//! stops being one that can be changed a piece at a time, so it fails here, with its path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The library's top-level module of a file under `src/`, or `None` for the binaries'.
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    match name {
        "lib" | "main" | "bin" | "cli" => None,
        _ => Some(name.to_string()),
    }
}

/// The crate modules a file names: `crate::store::…` and `use crate::{store, alerts}`.
fn imports(text: &str) -> BTreeSet<String> {
    let path = regex::Regex::new(r"crate::(\w+)").unwrap();
    let group = regex::Regex::new(r"crate::\{([^}]*)\}").unwrap();
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out: BTreeSet<String> = path
        .captures_iter(&code)
        .map(|c| c[1].to_string())
        .collect();
    for g in group.captures_iter(&code) {
        for item in g[1].split(',') {
            if let Some(name) = item.trim().split("::").next().filter(|n| !n.is_empty()) {
                out.insert(name.to_string());
            }
        }
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src.clone()];
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut sources = Vec::new();
    while let Some(dir) = files.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                sources.push(path);
            }
        }
    }
    let modules: BTreeSet<String> = sources
        .iter()
        .filter_map(|p| module_of(p.strip_prefix(&src).unwrap()))
        .collect();
    for path in &sources {
        let Some(from) = module_of(path.strip_prefix(&src).unwrap()) else {
            continue;
        };
        let text = std::fs::read_to_string(path).unwrap();
        let to = edges.entry(from.clone()).or_default();
        for m in imports(&text) {
            if m != from && modules.contains(&m) {
                to.insert(m);
            }
        }
    }
    edges
}

/// A cycle through `start`, if there is one: the modules along it.
fn cycle_from(
    edges: &BTreeMap<String, BTreeSet<String>>,
    start: &str,
    at: &str,
    path: &mut Vec<String>,
    seen: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    for next in edges.get(at).into_iter().flatten() {
        if next == start {
            let mut found = path.clone();
            found.push(start.to_string());
            return Some(found);
        }
        if seen.insert(next.clone()) {
            path.push(next.clone());
            if let Some(c) = cycle_from(edges, start, next, path, seen) {
                return Some(c);
            }
            path.pop();
        }
    }
    None
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let edges = graph();
    assert!(
        edges.len() >= 15,
        "the library's modules were not found: {edges:?}"
    );
    let cycles: Vec<String> = edges
        .keys()
        .filter_map(|m| {
            let mut path = vec![m.clone()];
            cycle_from(&edges, m, m, &mut path, &mut BTreeSet::new())
        })
        .map(|c| c.join(" → "))
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_checker_sees_a_cycle_when_there_is_one() {
    let mut edges = graph();
    // The pipeline imports the store; were the store to import the pipeline back:
    assert!(edges["pipeline"].contains("store"));
    edges.get_mut("store").unwrap().insert("pipeline".into());
    let mut path = vec!["store".to_string()];
    let found = cycle_from(&edges, "store", "store", &mut path, &mut BTreeSet::new());
    let found = found.expect("the cycle is found").join(" → ");
    assert!(
        found.starts_with("store → pipeline") && found.ends_with("→ store"),
        "{found}"
    );
}

#[test]
fn a_grouped_import_is_read_as_each_module() {
    let found = imports("use crate::{config::Config, store};\n// use crate::web;\n");
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        vec!["config".to_string(), "store".to_string()]
    );
}
