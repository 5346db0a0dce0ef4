//! Qualification import (SPEC §1 "Import format"): TOML, or JSON of the same shape, to a
//! validated `Qualification`. All-or-nothing, and every problem in the file is reported
//! with its path (and line, for TOML), so an admin can fix the file in one pass.
//! Pure: takes the file's text; reading files and storing versions belong to callers.
mod extract;
mod fields;
mod tree;
mod validate;

#[cfg(test)]
mod error_tests;
#[cfg(test)]
mod rule_tests;
#[cfg(test)]
mod tests;

use std::fmt;

use crate::domain::qualification::Qualification;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

impl Format {
    /// TOML unless the name ends in `.json`, since TOML is the documented format.
    pub(crate) fn from_path(path: &str) -> Format {
        if path.to_ascii_lowercase().ends_with(".json") {
            Format::Json
        } else {
            Format::Toml
        }
    }
}

/// One problem in an import file. `path` names the item in the file's own terms,
/// e.g. `unit[3].outcome[1].criterion[2].number`; it is empty for whole-file problems.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportError {
    pub path: String,
    /// 1-based; JSON values carry none.
    pub line: Option<u32>,
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ImportError {}

/// Every problem found, never empty; in file order for TOML.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportErrors(pub Vec<ImportError>);

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportErrors {}

pub fn parse(input: &str, format: Format) -> Result<Qualification, ImportErrors> {
    if input.trim().is_empty() {
        return Err(ImportErrors(vec![ImportError {
            path: String::new(),
            line: None,
            message: "the file is empty".to_string(),
        }]));
    }
    let root = match format {
        Format::Toml => tree::from_toml(input),
        Format::Json => tree::from_json(input),
    }
    .map_err(|e| ImportErrors(vec![e]))?;
    let mut errs = fields::Errors::default();
    let raw = extract::qualification(&root, &mut errs);
    let qualification = validate::build(raw, &mut errs);
    if errs.is_empty() {
        Ok(qualification)
    } else {
        let mut errors = errs.0;
        // Stable, so errors without a line (whole-file ones, or all of JSON's) keep
        // the order in which the file was walked.
        errors.sort_by_key(|e| e.line.unwrap_or(0));
        Err(ImportErrors(errors))
    }
}
