//! The crate's shape, read from its source (issue 11, point 11): the pure parts stay
//! pure and the credential's modules import each other without a cycle, so each can be
//! read and changed on its own.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/{dir}`, as (its path from there without `.rs`, its text).
fn sources(dir: &str) -> Vec<(String, String)> {
    fn walk(root: &Path, at: &Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(at).unwrap_or_else(|e| panic!("{}: {e}", at.display())) {
            let p: PathBuf = entry.expect("entry").path();
            if p.is_dir() {
                walk(root, &p, found);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let module = p
                    .strip_prefix(root)
                    .expect("under the root")
                    .with_extension("")
                    .to_string_lossy()
                    .into_owned();
                found.push((module, std::fs::read_to_string(&p).expect("read")));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut found = Vec::new();
    walk(&root, &root, &mut found);
    found.sort();
    assert!(found.len() > 3, "read {}", root.display());
    found
}

/// The sibling modules `text` imports with `super::…` (a test module's `super::*` is
/// its own parent, not a sibling).
fn siblings(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("use super::"))
    {
        let rest = &line["use super::".len()..];
        let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            group
                .trim_end_matches(';')
                .trim_end_matches('}')
                .split(',')
                .map(|n| n.trim().split("::").next().unwrap_or_default())
                .collect()
        } else {
            vec![rest
                .split("::")
                .next()
                .unwrap_or_default()
                .trim_end_matches(';')]
        };
        out.extend(
            names
                .into_iter()
                .filter(|n| modules.contains(*n))
                .map(str::to_string),
        );
    }
    out
}

fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        at: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == at) {
            let mut found = path[start..].to_vec();
            found.push(at.to_string());
            return Some(found);
        }
        if done.contains(at) {
            return None;
        }
        path.push(at.to_string());
        for next in graph.get(at).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(at.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_credentials_modules_import_each_other_without_a_cycle() {
    let files = sources("credentials");
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let graph: BTreeMap<String, BTreeSet<String>> = files
        .iter()
        .filter(|(m, _)| m != "mod")
        .map(|(m, text)| (m.clone(), siblings(text, &modules)))
        .collect();
    assert!(
        graph.get("front").is_some_and(|s| s.contains("layout")),
        "the reading of imports works: {graph:?}"
    );
    assert_eq!(cycle(&graph), None, "{graph:?}");
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(m, to)| (m.to_string(), to.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

/// Credentials are made from plain values; the database and the job queue call them,
/// never the other way round.
#[test]
fn the_credentials_depend_on_neither_the_database_nor_the_jobs_nor_the_web() {
    for (module, text) in sources("credentials") {
        for layer in ["crate::db", "crate::jobs", "crate::web", "sqlx"] {
            assert!(!text.contains(layer), "credentials::{module} uses {layer}");
        }
    }
}

/// The business rules are pure: no database, web, runtime, file or clock.
#[test]
fn the_domain_does_no_io() {
    for (module, text) in sources("domain") {
        for io in [
            "sqlx", "axum", "tokio", "std::fs", "now_utc", "std::net", "reqwest",
        ] {
            assert!(!text.contains(io), "domain::{module} uses {io}");
        }
    }
}
