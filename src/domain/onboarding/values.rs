//! Reading one cell: roles, an account kind, a date, an id.
use time::{Date, Month};
use uuid::Uuid;

use crate::domain::people::{Role, UserKind};

pub(super) const ROLE_WORDS: &str = "learner, assessor, trainee assessor, IQA or admin";

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

fn role(word: &str) -> Option<Role> {
    match squash(word).as_str() {
        "learner" => Some(Role::Learner),
        "traineeassessor" | "trainee" => Some(Role::TraineeAssessor),
        "assessor" => Some(Role::Assessor),
        "iqa" | "internalqualityassurer" => Some(Role::Iqa),
        "admin" | "administrator" => Some(Role::Admin),
        _ => None,
    }
}

/// Roles as the people report writes them ("Assessor, IQA" or "assessor iqa") or as a
/// person types them; sorted, each once. Err(the word that is not a role).
pub(super) fn roles(cell: &str) -> Result<Vec<Role>, String> {
    let mut out = Vec::new();
    for part in cell.split([',', ';', '|', '/', '+']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if let Some(r) = role(part) {
            out.push(r);
            continue;
        }
        for word in part.split_whitespace() {
            out.push(role(word).ok_or_else(|| word.to_string())?);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

pub(super) fn kind(cell: &str) -> Option<UserKind> {
    match squash(cell).as_str() {
        "learner" => Some(UserKind::Learner),
        "staff" => Some(UserKind::Staff),
        _ => None,
    }
}

/// A date as ISO (2026-09-01) or as British spreadsheets write it (01/09/2026).
pub(super) fn date(cell: &str) -> Option<Date> {
    let (y, m, d) = if let Some((y, rest)) = cell.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        (y, m, d)
    } else {
        let (d, rest) = cell.split_once('/')?;
        let (m, y) = rest.split_once('/')?;
        (y, m, d)
    };
    let number = |s: &str| -> Option<u16> {
        (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (y, m, d) = (number(y)?, number(m)?, number(d)?);
    if y < 1900 {
        return None;
    }
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    Date::from_calendar_date(i32::from(y), month, u8::try_from(d).ok()?).ok()
}

pub(super) fn id(cell: &str) -> Option<Uuid> {
    Uuid::parse_str(cell).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_as_the_people_report_writes_them_and_as_typed() {
        assert_eq!(roles("Assessor, IQA"), Ok(vec![Role::Assessor, Role::Iqa]));
        assert_eq!(
            roles("trainee_assessor iqa"),
            Ok(vec![Role::TraineeAssessor, Role::Iqa])
        );
        assert_eq!(roles("Trainee assessor"), Ok(vec![Role::TraineeAssessor]));
        assert_eq!(roles(" learner ;LEARNER"), Ok(vec![Role::Learner]));
        assert_eq!(roles(""), Ok(vec![]));
        assert_eq!(roles("assessor, teacher"), Err("teacher".to_string()));
    }

    #[test]
    fn dates_read_as_iso_and_as_british_spreadsheets_write_them() {
        let d = Date::from_calendar_date(2026, Month::September, 1).ok();
        assert_eq!(date("2026-09-01"), d);
        assert_eq!(date("01/09/2026"), d);
        assert_eq!(date("1/9/2026"), d);
        assert_eq!(date("2026-02-30"), None);
        assert_eq!(date("09/01/26"), None);
        assert_eq!(date("next week"), None);
    }
}
