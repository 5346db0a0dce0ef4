//! Reading typed values out of the tree while collecting every problem with its path,
//! instead of stopping at the first one as serde would.
use super::tree::{Entry, Kind, Node};
use super::ImportError;
use crate::domain::text::{has_refused_control, Lines};

#[derive(Debug, Default)]
pub(super) struct Errors(pub Vec<ImportError>);

impl Errors {
    pub fn add(&mut self, path: &str, line: Option<u32>, message: impl Into<String>) {
        self.0.push(ImportError {
            path: path.to_string(),
            line,
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The problem has already been recorded; the caller only needs to skip the value.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reported;

pub(super) type Got<T> = Result<T, Reported>;

/// A value together with the line it came from, kept for checks made after extraction.
#[derive(Debug, Clone)]
pub(super) struct Sp<T> {
    pub value: T,
    pub line: Option<u32>,
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Paths count from 1, as a person reading the file does.
pub(super) fn index(path: &str, i: usize) -> String {
    format!("{path}[{}]", i + 1)
}

/// One table of the file, with its unknown keys already reported.
pub(super) struct Fields<'a> {
    pub path: String,
    pub line: Option<u32>,
    entries: &'a [Entry],
}

impl<'a> Fields<'a> {
    pub fn of(node: &'a Node, path: &str, allowed: &[&str], errs: &mut Errors) -> Got<Fields<'a>> {
        let Kind::Table(entries) = &node.kind else {
            errs.add(path, node.line, wrong_type("a table", &node.kind));
            return Err(Reported);
        };
        for e in entries
            .iter()
            .filter(|e| !allowed.contains(&e.key.as_str()))
        {
            let message = match suggestion(&e.key, allowed) {
                Some(s) => format!("unknown key (did you mean \"{s}\"?)"),
                None => "unknown key".to_string(),
            };
            errs.add(&join(path, &e.key), e.key_line, message);
        }
        Ok(Fields {
            path: path.to_string(),
            line: node.line,
            entries,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// JSON `null` reads as absent, so that exported files with empty optional fields
    /// import unchanged.
    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.value)
            .filter(|n| !matches!(n.kind, Kind::Null))
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub(crate) fn path_of(&self, key: &str) -> String {
        join(&self.path, key)
    }

    pub fn req<T>(
        &self,
        key: &str,
        errs: &mut Errors,
        read: impl FnOnce(&'a Node, &str, &mut Errors) -> Got<T>,
    ) -> Got<T> {
        let path = self.path_of(key);
        // Unlike `get`, a null here is reported as the wrong type rather than as missing.
        match self.entries.iter().find(|e| e.key == key).map(|e| &e.value) {
            Some(node) => read(node, &path, errs),
            None => {
                errs.add(&path, self.line, "missing");
                Err(Reported)
            }
        }
    }

    pub(crate) fn opt<T>(
        &self,
        key: &str,
        errs: &mut Errors,
        read: impl FnOnce(&'a Node, &str, &mut Errors) -> Got<T>,
    ) -> Got<Option<T>> {
        match self.get(key) {
            Some(node) => read(node, &self.path_of(key), errs).map(Some),
            None => Ok(None),
        }
    }
}

pub(super) fn wrong_type(expected: &str, found: &Kind) -> String {
    format!("expected {expected}, found {}", found.describe())
}

/// Strings are trimmed because stray spaces in a code would make "201 " a different unit.
pub(super) fn text(node: &Node, path: &str, errs: &mut Errors) -> Got<Sp<String>> {
    let Kind::Str(s) = &node.kind else {
        errs.add(path, node.line, wrong_type("a string", &node.kind));
        return Err(Reported);
    };
    let value = s.trim();
    if value.is_empty() {
        errs.add(path, node.line, "must not be blank");
        return Err(Reported);
    }
    // TOML and JSON can spell any character, U+0000 too, which no title can hold.
    if has_refused_control(value, Lines::Many) {
        errs.add(path, node.line, "must not contain control characters");
        return Err(Reported);
    }
    Ok(Sp {
        value: value.to_string(),
        line: node.line,
    })
}

pub(super) fn plain_text(node: &Node, path: &str, errs: &mut Errors) -> Got<String> {
    text(node, path, errs).map(|s| s.value)
}

pub(super) fn boolean(node: &Node, path: &str, errs: &mut Errors) -> Got<bool> {
    match node.kind {
        Kind::Bool(b) => Ok(b),
        ref other => {
            errs.add(path, node.line, wrong_type("true or false", other));
            Err(Reported)
        }
    }
}

/// Returns a reader for an integer that must lie in `lo..=hi`.
pub(super) fn int_in(lo: u32, hi: u32) -> impl Fn(&Node, &str, &mut Errors) -> Got<u32> {
    move |node, path, errs| {
        let Kind::Int(n) = node.kind else {
            errs.add(path, node.line, wrong_type("a whole number", &node.kind));
            return Err(Reported);
        };
        match u32::try_from(n) {
            Ok(v) if (lo..=hi).contains(&v) => Ok(v),
            _ => {
                errs.add(
                    path,
                    node.line,
                    format!("must be between {lo} and {hi}, found {n}"),
                );
                Err(Reported)
            }
        }
    }
}

pub(super) fn level(node: &Node, path: &str, errs: &mut Errors) -> Got<u8> {
    let n = int_in(1, 8)(node, path, errs)?;
    u8::try_from(n).map_err(|_| Reported)
}

pub(super) fn array<'a>(node: &'a Node, path: &str, errs: &mut Errors) -> Got<&'a [Node]> {
    match &node.kind {
        Kind::Array(items) => Ok(items),
        other => {
            errs.add(path, node.line, wrong_type("an array", other));
            Err(Reported)
        }
    }
}

/// Reads every element, keeping the good ones so later checks still see them.
pub(super) fn each<'a, T>(
    items: &'a [Node],
    path: &str,
    errs: &mut Errors,
    mut read: impl FnMut(&'a Node, &str, &mut Errors) -> Got<T>,
) -> Vec<T> {
    items
        .iter()
        .enumerate()
        .filter_map(|(i, n)| read(n, &index(path, i), errs).ok())
        .collect()
}

/// A near miss such as `outcomes` for `outcome` deserves a hint.
fn suggestion<'k>(key: &str, allowed: &[&'k str]) -> Option<&'k str> {
    let key = key.to_ascii_lowercase();
    allowed
        .iter()
        .map(|a| (edit_distance(&key, a), *a))
        .filter(|(d, a)| *d <= 2 && *d < a.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}
