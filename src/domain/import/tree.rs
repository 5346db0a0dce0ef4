//! One small value tree for both input formats, so that extraction and its error
//! messages are written once. TOML values carry the line they start on; JSON has no
//! positions to offer, so its lines are `None`.
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::ImportError;

#[derive(Debug, Clone)]
pub(super) struct Node {
    pub line: Option<u32>,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub(super) enum Kind {
    Table(Vec<Entry>),
    Array(Vec<Node>),
    Str(String),
    /// Wide enough for every TOML integer and every JSON integer.
    Int(i128),
    Float,
    Bool(bool),
    Datetime,
    Null,
}

#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub key: String,
    pub key_line: Option<u32>,
    pub value: Node,
}

impl Kind {
    /// How an error message names the type the file actually has.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Kind::Table(_) => "a table",
            Kind::Array(_) => "an array",
            Kind::Str(_) => "a string",
            Kind::Int(_) => "an integer",
            Kind::Float => "a decimal number",
            Kind::Bool(_) => "a boolean",
            Kind::Datetime => "a date-time",
            Kind::Null => "null",
        }
    }
}

/// Maps byte offsets to 1-based line numbers.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(input: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(input.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }

    fn line(&self, offset: usize) -> Option<u32> {
        let ix = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        u32::try_from(ix + 1).ok()
    }
}

pub(super) fn from_toml(input: &str) -> Result<Node, ImportError> {
    let lines = Lines::new(input);
    match DeTable::parse(input) {
        Ok(root) => {
            let entries = table_entries(root.get_ref(), &lines);
            // The root's span is empty, and "line 1" would point at whatever is there.
            Ok(Node {
                line: None,
                kind: Kind::Table(entries),
            })
        }
        Err(e) => Err(ImportError {
            path: String::new(),
            line: e.span().and_then(|s| lines.line(s.start)),
            message: format!("invalid TOML: {}", e.message().trim_end()),
        }),
    }
}

fn table_entries(table: &DeTable<'_>, lines: &Lines) -> Vec<Entry> {
    table
        .iter()
        .map(|(k, v)| Entry {
            key: k.get_ref().to_string(),
            key_line: lines.line(k.span().start),
            value: toml_node(v, lines),
        })
        .collect()
}

fn toml_node(value: &Spanned<DeValue<'_>>, lines: &Lines) -> Node {
    let kind = match value.get_ref() {
        DeValue::String(s) => Kind::Str(s.to_string()),
        DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Kind::Int(n),
            // The parser has already accepted it, so this is only a defensive fallback.
            Err(_) => Kind::Float,
        },
        DeValue::Float(_) => Kind::Float,
        DeValue::Boolean(b) => Kind::Bool(*b),
        DeValue::Datetime(_) => Kind::Datetime,
        DeValue::Array(a) => Kind::Array(a.iter().map(|v| toml_node(v, lines)).collect()),
        DeValue::Table(t) => Kind::Table(table_entries(t, lines)),
    };
    Node {
        line: lines.line(value.span().start),
        kind,
    }
}

pub(super) fn from_json(input: &str) -> Result<Node, ImportError> {
    match serde_json::from_str::<serde_json::Value>(input) {
        Ok(v) => Ok(json_node(v)),
        Err(e) => Err(ImportError {
            path: String::new(),
            line: u32::try_from(e.line()).ok().filter(|l| *l > 0),
            message: format!("invalid JSON: {}", json_message(&e)),
        }),
    }
}

fn json_node(value: serde_json::Value) -> Node {
    use serde_json::Value;
    let kind = match value {
        Value::Null => Kind::Null,
        Value::Bool(b) => Kind::Bool(b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Kind::Int(i128::from(i)),
            (None, Some(u)) => Kind::Int(i128::from(u)),
            _ => Kind::Float,
        },
        Value::String(s) => Kind::Str(s),
        Value::Array(a) => Kind::Array(a.into_iter().map(json_node).collect()),
        Value::Object(o) => Kind::Table(
            o.into_iter()
                .map(|(key, v)| Entry {
                    key,
                    key_line: None,
                    value: json_node(v),
                })
                .collect(),
        ),
    };
    Node { line: None, kind }
}

/// serde_json appends "at line L column C"; the line already has its own field.
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&suffix) {
        Some(head) if e.line() > 0 => format!("{head} (column {})", e.column()),
        _ => text,
    }
}
