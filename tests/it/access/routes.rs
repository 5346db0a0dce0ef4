//! The routes `src/web` declares, read from its source: every `.route("path", …)` with
//! the methods its method router chains (`get(…)`, `.post(…)`, `axum::routing::post(…)`).
use std::path::{Path, PathBuf};

use axum::http::Method;

const METHODS: [(&str, Method); 5] = [
    ("get", Method::GET),
    ("post", Method::POST),
    ("put", Method::PUT),
    ("patch", Method::PATCH),
    ("delete", Method::DELETE),
];

pub fn declared() -> Vec<(Method, String)> {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut found = Vec::new();
    for file in rust_files(&web) {
        let text = std::fs::read_to_string(&file).expect("reading src/web");
        assert!(
            !text.contains(".nest(") && !text.contains(".route_service("),
            "{}: nested routers are not read by this scan; teach tests/it/access/routes.rs",
            file.display()
        );
        found.extend(routes_in(&text));
    }
    found
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("listing src/web").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// Each `.route(` call: its path literal, then the methods named at the top level of
/// its second argument (handlers and layers inside parentheses are skipped).
fn routes_in(text: &str) -> Vec<(Method, String)> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices(".route(") {
        let rest = &text[at + ".route(".len()..];
        let rest = rest.trim_start();
        let path = rest
            .strip_prefix('"')
            .and_then(|r| r.split_once('"'))
            .map(|(p, _)| p)
            .unwrap_or_else(|| {
                panic!(
                    "a .route( without a path literal: {}",
                    &rest[..40.min(rest.len())]
                )
            });
        let after = &rest[path.len() + 2..];
        let mut depth = 0usize;
        let mut word_start = None;
        for (i, c) in after.char_indices() {
            match c {
                '(' if depth == 0 => {
                    let word = word_start.map_or("", |s| &after[s..i]);
                    if let Some((_, m)) = METHODS.iter().find(|(name, _)| *name == word) {
                        out.push((m.clone(), path.to_string()));
                    }
                    depth += 1;
                }
                '(' => depth += 1,
                ')' if depth == 0 => break,
                ')' => depth -= 1,
                _ => {}
            }
            if c.is_ascii_alphanumeric() || c == '_' {
                word_start.get_or_insert(i);
            } else {
                word_start = None;
            }
        }
    }
    out
}

#[test]
fn chained_and_qualified_methods_are_read() {
    let src = r#"
        .route("/a", get(x::page).post(x::submit))
        .route(
            "/b/{id}",
            post(y::create).layer(axum::extract::DefaultBodyLimit::max(limit)),
        )
        .route("/c", axum::routing::post(z::go))
    "#;
    let got: Vec<String> = routes_in(src)
        .into_iter()
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert_eq!(got, ["GET /a", "POST /a", "POST /b/{id}", "POST /c"]);
}
