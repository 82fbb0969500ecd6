//! The library's layers point one way. Every `crate::MODULE` path in `src/` is an arrow from
//! the top-level module of the file it is in to `MODULE`; the arrows must form no cycle, and
//! none may point from a lower layer to a higher one (the output and persistence layers know
//! nothing of the dashboard or the engine; the front ends never see clap types).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level module → the top-level modules its files name, with one file per arrow.
type Arrows = BTreeMap<String, BTreeMap<String, PathBuf>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a line without its comment (`//`, `///`, `//!`), roughly: a `//` inside a
/// string literal cuts the line early, which can only hide an arrow, never invent one.
fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or("")
}

fn arrows() -> Arrows {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut arrows = Arrows::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let from = first.trim_end_matches(".rs").to_string();
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            let mut rest = code(line);
            while let Some(i) = rest.find("crate::") {
                rest = &rest[i + "crate::".len()..];
                let to: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !to.is_empty() && to != from {
                    arrows
                        .entry(from.clone())
                        .or_default()
                        .entry(to)
                        .or_insert_with(|| rel.to_path_buf());
                }
            }
        }
    }
    arrows
}

/// A cycle through `start`, if any (depth-first).
fn cycle_from(arrows: &Arrows, start: &str) -> Option<Vec<String>> {
    fn walk(
        arrows: &Arrows,
        at: &str,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for to in arrows.get(at).into_iter().flat_map(|m| m.keys()) {
            if to == start {
                path.push(to.clone());
                return true;
            }
            if seen.insert(to.clone()) {
                path.push(to.clone());
                if walk(arrows, to, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    let mut seen = BTreeSet::new();
    walk(arrows, start, start, &mut path, &mut seen).then_some(path)
}

#[test]
fn no_import_cycle_among_top_level_modules() {
    let arrows = arrows();
    assert!(arrows.contains_key("web") && arrows.contains_key("engine"));
    for from in arrows.keys() {
        if let Some(cycle) = cycle_from(&arrows, from) {
            let why: Vec<String> = cycle
                .windows(2)
                .map(|w| format!("{} → {} ({})", w[0], w[1], arrows[&w[0]][&w[1]].display()))
                .collect();
            panic!("import cycle: {}", why.join(", "));
        }
    }
}

#[test]
fn no_arrow_points_the_wrong_way() {
    let arrows = arrows();
    // (from, to): lower layers never import higher ones.
    let front_ends = ["cli", "app", "headless", "web", "runs_cmd", "check_cmd"];
    let below_lifecycle = [
        "engine",
        "stats",
        "scrape",
        "client",
        "plan",
        "report",
        "store",
        "compare",
        "thresholds",
        "config",
        "demo",
        "targets",
        "base_url",
        "duration",
    ];
    let mut forbidden: Vec<(&str, &str)> = vec![
        ("report", "engine"),
        ("store", "engine"),
        ("store", "report"),
        ("headless", "runs_cmd"),
        ("web", "runs_cmd"),
        ("web", "headless"),
        ("headless", "web"),
        ("lifecycle", "web"),
        ("lifecycle", "headless"),
    ];
    for low in below_lifecycle {
        forbidden.push((low, "lifecycle"));
        for front in front_ends {
            forbidden.push((low, front));
        }
    }
    // clap types stay in `cli`: nothing but `app` reads them.
    for m in arrows.keys() {
        if m != "app" {
            forbidden.push((m.as_str(), "cli"));
        }
    }
    let wrong: Vec<String> = forbidden
        .iter()
        .filter_map(|(from, to)| {
            let file = arrows.get(*from)?.get(*to)?;
            Some(format!("{from} → {to} ({})", file.display()))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "arrows that point the wrong way: {wrong:#?}"
    );
}
