//! The centre's log (issue 12): the activity entries that are about no one enrolment
//! (people, sign-in, settings, signing keys, imports, bulk audits), filtered by kind of
//! change as an enrolment's log is (`log_filter`), and each read as a sentence, not as
//! the JSON it was written with.
use serde_json::Value;

use super::log_filter::{Actions, LogKind};
use super::people::Role;

/// A kind of change to the centre, as an admin filters its log by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CentreKind {
    People,
    Emails,
    SignIn,
    Settings,
    Keys,
    Imports,
    BulkAudits,
    /// Any action no other kind names: a new kind of entry is never lost to the filter.
    Other,
}

/// Every action a centre-level entry is written with (the writers are in `src/db` and
/// `src/jobs`), by kind. Each appears once.
const PEOPLE: &[&str] = &[
    "person added",
    "password link resent",
    "person changed",
    "person deactivated",
    "person reactivated",
    "sessions ended",
    "password set",
    "password reset",
    "password reset requested",
    "password changed",
    "caseload reassigned",
    "employer added",
    "employer changed",
];
const EMAILS: &[&str] = &["password link emailed", "password link email failed"];
const SIGN_IN: &[&str] = &["sign-in unlocked"];
const SETTINGS: &[&str] = &["centre settings changed"];
const KEYS: &[&str] = &["signing key rotated"];
const IMPORTS: &[&str] = &["qualification imported", "people imported"];
const BULK_AUDITS: &[&str] = &[
    "bulk audit started",
    "bulk audit finished",
    "bulk audit stopped",
];
/// Every action the kinds above name, which `Other` leaves out.
const NAMED: &[&str] = &[
    "person added",
    "password link resent",
    "person changed",
    "person deactivated",
    "person reactivated",
    "sessions ended",
    "password set",
    "password reset",
    "password reset requested",
    "password changed",
    "caseload reassigned",
    "employer added",
    "employer changed",
    "password link emailed",
    "password link email failed",
    "sign-in unlocked",
    "centre settings changed",
    "signing key rotated",
    "qualification imported",
    "people imported",
    "bulk audit started",
    "bulk audit finished",
    "bulk audit stopped",
];

impl CentreKind {
    pub(crate) const ALL: [CentreKind; 8] = [
        CentreKind::People,
        CentreKind::Emails,
        CentreKind::SignIn,
        CentreKind::Settings,
        CentreKind::Keys,
        CentreKind::Imports,
        CentreKind::BulkAudits,
        CentreKind::Other,
    ];
}

impl LogKind for CentreKind {
    fn all() -> &'static [CentreKind] {
        &CentreKind::ALL
    }

    fn key(self) -> &'static str {
        match self {
            CentreKind::People => "people",
            CentreKind::Emails => "emails",
            CentreKind::SignIn => "sign-in",
            CentreKind::Settings => "settings",
            CentreKind::Keys => "keys",
            CentreKind::Imports => "imports",
            CentreKind::BulkAudits => "bulk-audits",
            CentreKind::Other => "other",
        }
    }

    fn label(self) -> &'static str {
        match self {
            CentreKind::People => "People and accounts",
            CentreKind::Emails => "Set-password emails",
            CentreKind::SignIn => "Sign-in locks cleared",
            CentreKind::Settings => "Centre settings",
            CentreKind::Keys => "Signing keys",
            CentreKind::Imports => "Qualification imports",
            CentreKind::BulkAudits => "Bulk audits",
            CentreKind::Other => "Anything else",
        }
    }

    fn actions(self) -> Actions {
        match self {
            CentreKind::People => Actions::AnyOf(PEOPLE),
            CentreKind::Emails => Actions::AnyOf(EMAILS),
            CentreKind::SignIn => Actions::AnyOf(SIGN_IN),
            CentreKind::Settings => Actions::AnyOf(SETTINGS),
            CentreKind::Keys => Actions::AnyOf(KEYS),
            CentreKind::Imports => Actions::AnyOf(IMPORTS),
            CentreKind::BulkAudits => Actions::AnyOf(BULK_AUDITS),
            CentreKind::Other => Actions::NoneOf(NAMED),
        }
    }
}

/// A text field of the entry's detail, if it has one.
fn text<'a>(detail: &'a Value, key: &str) -> Option<&'a str> {
    detail
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A field of the detail as words: text as it is, numbers and yes/no written out.
fn words(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("yes".into()),
        Value::Bool(false) => Some("no".into()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(words).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        Value::Object(_) => Some(value.to_string()),
    }
}

/// "Ann Lee (ann@example.com)", "Ann Lee" or "ann@example.com": the person an entry is
/// about as the log can name them.
fn person(name: Option<&str>, email: Option<&str>) -> String {
    match (name, email) {
        (Some(n), Some(e)) => format!("{n} ({e})"),
        (Some(n), None) => n.to_string(),
        (None, Some(e)) => e.to_string(),
        (None, None) => "someone no longer listed".to_string(),
    }
}

/// What an entry records, as a sentence whose subject is its actor (shown beside it):
/// "Added Ann Lee (ann@example.com) as Assessor, IQA". `subject` is the current name of
/// the person the entry is about (its detail's `user`), when they are of the centre.
/// An action this does not know still reads as words: its name, whom it is about, and
/// its detail's fields.
pub(crate) fn describe(action: &str, detail: &Value, subject: Option<&str>) -> String {
    let email = text(detail, "email").or_else(|| text(detail, "to"));
    let whom = person(subject, email);
    let named = subject.unwrap_or("someone no longer listed");
    let count = |key: &str| detail.get(key).and_then(Value::as_i64).unwrap_or(0);
    match action {
        "person added" => {
            let roles: Vec<String> = detail
                .get("roles")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(|k| Role::from_key(k).map_or(k, |r| r.label()).to_string())
                        .collect()
                })
                .unwrap_or_default();
            if roles.is_empty() {
                format!("Added {whom}")
            } else {
                format!("Added {whom} as {}", roles.join(", "))
            }
        }
        "password link resent" => format!("Sent {whom} a new set-password link"),
        "password link emailed" => format!("Emailed {whom} their set-password link"),
        "password link email failed" => match text(detail, "error") {
            Some(error) => {
                format!("Could not email {whom} their set-password link: {error}")
            }
            None => format!("Could not email {whom} their set-password link"),
        },
        "sign-in unlocked" => format!("Cleared the failed sign-ins counted against {whom}"),
        "person deactivated" => format!("Deactivated {whom}: signed out everywhere"),
        "person reactivated" => format!("Reactivated {whom}"),
        "sessions ended" => format!("Ended every session of {whom}"),
        "password set" => format!("{} set their password from their link", capitalised(&whom)),
        "password reset" => format!(
            "{} chose a new password from a reset link",
            capitalised(&whom)
        ),
        "password reset requested" => format!("A password reset link was asked for {whom}"),
        "password changed" => format!("{} changed their password", capitalised(&whom)),
        "centre settings changed" => match detail.get("auto_audit").and_then(Value::as_bool) {
            Some(true) => "Turned automatic audits on".to_string(),
            Some(false) => "Turned automatic audits off".to_string(),
            None => "Changed the centre's settings".to_string(),
        },
        "signing key rotated" => {
            let new = text(detail, "new_key").unwrap_or("a new key");
            match text(detail, "retired_key") {
                Some(old) => format!(
                    "Rotated the centre's signing key: {new} signs from now on, {old} is retired"
                ),
                None => format!("Made the centre's first signing key, {new}"),
            }
        }
        "qualification imported" => {
            let code = text(detail, "code").unwrap_or("a qualification");
            match detail.get("version").and_then(Value::as_i64) {
                Some(v) => format!("Imported qualification {code}, version {v}"),
                None => format!("Imported qualification {code}"),
            }
        }
        "employer added" => format!(
            "Added the employer {}",
            text(detail, "name").unwrap_or("(no name)")
        ),
        "employer changed" => match (text(detail, "was"), text(detail, "name")) {
            (Some(was), Some(name)) if was != name => {
                format!("Changed the employer {was}, now named {name}")
            }
            (_, Some(name)) => format!("Changed the employer {name}'s details"),
            _ => "Changed an employer's details".to_string(),
        },
        "people imported" => {
            let file = text(detail, "file").unwrap_or("a file");
            let c = |key: &str| {
                detail
                    .get("counts")
                    .and_then(|c| c.get(key))
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
            };
            format!(
                "Imported {file}: {} new people, {} updated; {} new enrolments, {} updated",
                c("new_people"),
                c("updated_people"),
                c("new_enrolments"),
                c("updated_enrolments")
            )
        }
        "bulk audit started" => {
            let total = count("total");
            let of = if total == 1 {
                "enrolment"
            } else {
                "enrolments"
            };
            match text(detail, "qualification") {
                Some(q) => format!("Started a bulk audit of the {total} {of} on {q}"),
                None => format!("Started a bulk audit of {total} chosen {of}"),
            }
        }
        "bulk audit finished" => {
            let done = count("audited");
            let of = if done == 1 { "enrolment" } else { "enrolments" };
            format!("Finished a bulk audit: {done} {of} audited")
        }
        "bulk audit stopped" => {
            let (done, total) = (count("done"), count("total"));
            match text(detail, "error") {
                Some(error) => {
                    format!("A bulk audit stopped after {done} of {total} enrolments: {error}")
                }
                None => format!("A bulk audit stopped after {done} of {total} enrolments"),
            }
        }
        other => {
            let mut sentence = capitalised(other);
            let about = detail.get("user").is_some().then_some(named);
            let fields: Vec<String> = match detail {
                Value::Object(map) => map
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "user" | "message"))
                    .filter_map(|(k, v)| words(v).map(|w| format!("{}: {w}", k.replace('_', " "))))
                    .collect(),
                _ => Vec::new(),
            };
            if let Some(about) = about {
                sentence.push_str(&format!(": {about}"));
            }
            if !fields.is_empty() {
                sentence.push_str(&format!(" ({})", fields.join("; ")));
            }
            sentence
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_kind_names_its_actions_once_and_other_takes_the_rest() {
        let mut all: Vec<&str> = Vec::new();
        for kind in CentreKind::ALL {
            assert_eq!(CentreKind::from_key(kind.key()), Some(kind));
            match kind.actions() {
                Actions::AnyOf(a) => all.extend(a),
                Actions::NoneOf(a) => assert_eq!(kind, CentreKind::Other, "{a:?}"),
            }
        }
        let mut sorted = all.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len(), "no action in two kinds");
        let mut named = NAMED.to_vec();
        named.sort_unstable();
        assert_eq!(named, sorted, "Other leaves out exactly the named actions");
    }

    #[test]
    fn account_entries_read_as_sentences_and_file_under_people() {
        let ann = json!({ "user": "0190", "email": "ann@example.com" });
        assert_eq!(
            describe("person deactivated", &ann, Some("Ann Lee")),
            "Deactivated Ann Lee (ann@example.com): signed out everywhere"
        );
        assert_eq!(
            describe("password changed", &ann, Some("Ann Lee")),
            "Ann Lee (ann@example.com) changed their password"
        );
        for action in [
            "person changed",
            "caseload reassigned",
            "password reset requested",
        ] {
            assert!(PEOPLE.contains(&action), "{action}");
        }
    }

    #[test]
    fn known_entries_read_as_sentences() {
        let added = json!({ "user": "0190", "email": "ann@example.com", "roles": ["assessor", "iqa"], "message": "x" });
        assert_eq!(
            describe("person added", &added, Some("Ann Lee")),
            "Added Ann Lee (ann@example.com) as Assessor, IQA"
        );
        assert_eq!(
            describe(
                "sign-in unlocked",
                &json!({ "user": "1", "email": "zoe@x.nz" }),
                None
            ),
            "Cleared the failed sign-ins counted against zoe@x.nz"
        );
        assert_eq!(
            describe(
                "password link email failed",
                &json!({ "user": "1", "to": "zoe@x.nz", "error": "mailbox full" }),
                Some("Zoë")
            ),
            "Could not email Zoë (zoe@x.nz) their set-password link: mailbox full"
        );
        assert_eq!(
            describe(
                "centre settings changed",
                &json!({ "auto_audit": false }),
                None
            ),
            "Turned automatic audits off"
        );
        assert_eq!(
            describe(
                "signing key rotated",
                &json!({ "new_key": "key-2", "retired_key": "key-1" }),
                None
            ),
            "Rotated the centre's signing key: key-2 signs from now on, key-1 is retired"
        );
        assert_eq!(
            describe(
                "qualification imported",
                &json!({ "code": "601/1", "version": 2 }),
                None
            ),
            "Imported qualification 601/1, version 2"
        );
        assert_eq!(
            describe(
                "bulk audit started",
                &json!({ "total": 1, "qualification": "601/1" }),
                None
            ),
            "Started a bulk audit of the 1 enrolment on 601/1"
        );
    }

    #[test]
    fn an_import_of_people_reads_as_what_it_did_and_files_under_imports() {
        let detail = json!({ "import": "0190", "file": "mis.csv",
            "counts": { "new_people": 1000, "updated_people": 2, "new_enrolments": 999, "updated_enrolments": 0 } });
        assert_eq!(
            describe("people imported", &detail, None),
            "Imported mis.csv: 1000 new people, 2 updated; 999 new enrolments, 0 updated"
        );
        assert!(IMPORTS.contains(&"people imported"));
    }

    #[test]
    fn employer_entries_read_as_sentences_and_file_under_people() {
        let added = json!({ "employer": "0190", "name": "Northwind Care" });
        assert_eq!(
            describe("employer added", &added, None),
            "Added the employer Northwind Care"
        );
        let renamed = json!({ "employer": "0190", "name": "Northwind", "was": "Northwind Care" });
        assert_eq!(
            describe("employer changed", &renamed, None),
            "Changed the employer Northwind Care, now named Northwind"
        );
        let same = json!({ "employer": "0190", "name": "Northwind", "was": "Northwind" });
        assert_eq!(
            describe("employer changed", &same, None),
            "Changed the employer Northwind's details"
        );
        assert!(PEOPLE.contains(&"employer added") && PEOPLE.contains(&"employer changed"));
    }

    #[test]
    fn an_unknown_action_still_reads_as_words() {
        assert_eq!(
            describe(
                "person archived",
                &json!({ "user": "1", "reason": "left", "sessions_ended": true }),
                Some("Tom")
            ),
            "Person archived: Tom (reason: left; sessions ended: yes)"
        );
        assert_eq!(describe("something new", &json!({}), None), "Something new");
        assert_eq!(describe("x", &Value::Null, None), "X");
    }
}
