//! Which entries of an enrolment's logs a page shows (SPEC §8): the activity log by kind
//! of change, by who and by date, and where in each log the page starts. Read from a
//! URL's query string and written back to one, so that a link or a reload shows the same
//! view; a value that cannot be read is reported beside its field and left out, never a
//! failure.
//!
//! Pages start at an entry, not at a row number: a page of old entries costs what the
//! newest page costs, however long the log (keyset paging), and entries added while
//! someone reads never shift what "older" means.
use time::{Date, Month, OffsetDateTime};
use uuid::Uuid;

use super::form::FieldError;

/// Entries on a page of the activity log.
pub(crate) const PAGE_SIZE: usize = 100;
/// Audits on a page of the audit page's history.
pub(crate) const AUDITS_PER_PAGE: usize = 20;
/// Status changes on a page of the audit page's status history.
pub(crate) const STATUS_CHANGES_PER_PAGE: usize = 50;

/// A kind of change, as people filter the log by it: each names the `action` values
/// written for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Tick,
    Untick,
    AcceptAll,
    Evidence,
    Audit,
    Status,
    Email,
    Iqa,
    Enrolment,
    /// Any action no other kind names: a new kind of entry is never lost to the filter.
    Other,
}

/// Every action an enrolment's entry is written with (the writers are in `src/web` and
/// `src/db`), by kind. Each appears once.
const TICK: &[&str] = &["tick"];
const UNTICK: &[&str] = &["untick"];
const ACCEPT_ALL: &[&str] = &["accept all"];
const EVIDENCE: &[&str] = &["evidence added"];
const AUDIT: &[&str] = &["audit"];
const STATUS: &[&str] = &[
    "credential requested",
    "credential retried",
    "credential issued",
    "credential cancelled",
    "major switched",
];
const EMAIL: &[&str] = &["credential emailed", "credential email failed"];
const IQA: &[&str] = &["IQA decision", "IQA action addressed", "IQA action closed"];
const ENROLMENT: &[&str] = &["enrolled", "assignments changed"];
/// Every action the kinds above name, which `Other` leaves out.
const NAMED: &[&str] = &[
    "tick",
    "untick",
    "accept all",
    "evidence added",
    "audit",
    "credential requested",
    "credential retried",
    "credential issued",
    "credential cancelled",
    "major switched",
    "credential emailed",
    "credential email failed",
    "IQA decision",
    "IQA action addressed",
    "IQA action closed",
    "enrolled",
    "assignments changed",
];

/// The actions a kind matches: these, or every action but these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Actions {
    AnyOf(&'static [&'static str]),
    NoneOf(&'static [&'static str]),
}

/// The kinds of change a log is filtered by: an enrolment's (`Kind`), the centre's
/// (`centre_log::CentreKind`).
pub(crate) trait LogKind: Copy + PartialEq + std::fmt::Debug + 'static {
    /// Every kind, in the order the filter lists them.
    fn all() -> &'static [Self];
    fn key(self) -> &'static str;
    fn label(self) -> &'static str;
    fn actions(self) -> Actions;
    fn from_key(key: &str) -> Option<Self> {
        Self::all().iter().copied().find(|k| k.key() == key)
    }
}

impl LogKind for Kind {
    fn all() -> &'static [Kind] {
        &Kind::ALL
    }
    fn key(self) -> &'static str {
        Kind::key(self)
    }
    fn label(self) -> &'static str {
        Kind::label(self)
    }
    fn actions(self) -> Actions {
        Kind::actions(self)
    }
}

impl Kind {
    pub(crate) const ALL: [Kind; 10] = [
        Kind::Tick,
        Kind::Untick,
        Kind::AcceptAll,
        Kind::Evidence,
        Kind::Audit,
        Kind::Status,
        Kind::Email,
        Kind::Iqa,
        Kind::Enrolment,
        Kind::Other,
    ];

    pub(crate) fn key(self) -> &'static str {
        match self {
            Kind::Tick => "tick",
            Kind::Untick => "untick",
            Kind::AcceptAll => "accept-all",
            Kind::Evidence => "evidence",
            Kind::Audit => "audit",
            Kind::Status => "status",
            Kind::Email => "email",
            Kind::Iqa => "iqa",
            Kind::Enrolment => "enrolment",
            Kind::Other => "other",
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Tick => "Ticks",
            Kind::Untick => "Unticks",
            Kind::AcceptAll => "Accept all",
            Kind::Evidence => "Evidence added",
            Kind::Audit => "Audits",
            Kind::Status => "Status changes (credential, major)",
            Kind::Email => "Credential emailed",
            Kind::Iqa => "IQA decisions and actions",
            Kind::Enrolment => "Enrolment and assignments",
            Kind::Other => "Anything else",
        }
    }

    pub(crate) fn actions(self) -> Actions {
        match self {
            Kind::Tick => Actions::AnyOf(TICK),
            Kind::Untick => Actions::AnyOf(UNTICK),
            Kind::AcceptAll => Actions::AnyOf(ACCEPT_ALL),
            Kind::Evidence => Actions::AnyOf(EVIDENCE),
            Kind::Audit => Actions::AnyOf(AUDIT),
            Kind::Status => Actions::AnyOf(STATUS),
            Kind::Email => Actions::AnyOf(EMAIL),
            Kind::Iqa => Actions::AnyOf(IQA),
            Kind::Enrolment => Actions::AnyOf(ENROLMENT),
            Kind::Other => Actions::NoneOf(NAMED),
        }
    }
}

/// Who made a change: a person, or attest itself (an automatic audit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    System,
    Person(Uuid),
}

/// The query-string value for attest's own entries.
pub(crate) const SYSTEM_KEY: &str = "attest";

impl Who {
    pub(crate) fn key(self) -> String {
        match self {
            Who::System => SYSTEM_KEY.to_string(),
            Who::Person(id) => id.to_string(),
        }
    }
}

/// Where a page of the activity log starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Page {
    #[default]
    Newest,
    /// The entries just older than this entry id.
    Before(i64),
    /// The entries just newer than this entry id.
    After(i64),
}

/// One view of an activity log (an enrolment's, or the centre's with `CentreKind`):
/// its filters and its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LogView<K = Kind> {
    pub kind: Option<K>,
    pub who: Option<Who>,
    /// The first UTC day shown, inclusive.
    pub from: Option<Date>,
    /// The last UTC day shown, inclusive.
    pub to: Option<Date>,
    pub page: Page,
}

impl<K> Default for LogView<K> {
    fn default() -> Self {
        LogView {
            kind: None,
            who: None,
            from: None,
            to: None,
            page: Page::Newest,
        }
    }
}

/// What was typed into each date, to show back beside its message (the other filters
/// are chosen from lists, which can only show what they offer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Typed {
    pub from: String,
    pub to: String,
}

/// The longest value shown back: an address can carry anything.
const TYPED_MAX_CHARS: usize = 40;

/// The message beside a page position that cannot be used (the field is the paging
/// links' region, where the summary's link leads).
pub(crate) const PAGE_FIELD: &str = "page";

impl<K: LogKind> LogView<K> {
    /// Reads a query string's pairs. Unknown names are ignored (a link may carry
    /// others); a known name with a value that cannot be used is left out and reported.
    /// A name given twice takes its last value, as a form's last field would.
    pub(crate) fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> (LogView<K>, Typed, Vec<FieldError>) {
        let mut typed = Typed::default();
        let (mut kind, mut who) = (String::new(), String::new());
        let (mut before, mut after) = (None, None);
        for (name, value) in pairs {
            let value = value.trim();
            let kept = || value.chars().take(TYPED_MAX_CHARS).collect::<String>();
            match name {
                "kind" => kind = kept(),
                "who" => who = kept(),
                "from" => typed.from = kept(),
                "to" => typed.to = kept(),
                "before" => before = Some(value),
                "after" => after = Some(value),
                _ => {}
            }
        }
        let mut view = LogView::default();
        let mut errors = Vec::new();
        if !kind.is_empty() {
            view.kind = K::from_key(&kind);
            if view.kind.is_none() {
                errors.push(FieldError::new(
                    "kind",
                    "Choose a kind of change from the list",
                ));
            }
        }
        if !who.is_empty() {
            view.who = if who == SYSTEM_KEY {
                Some(Who::System)
            } else {
                Uuid::parse_str(&who).ok().map(Who::Person)
            };
            if view.who.is_none() {
                errors.push(FieldError::new("who", "Choose a person from the list"));
            }
        }
        if !typed.from.is_empty() {
            view.from = parse_date(&typed.from);
            if view.from.is_none() {
                errors.push(FieldError::new(
                    "from",
                    "Enter the from date as a real date, like 2026-11-24",
                ));
            }
        }
        if !typed.to.is_empty() {
            view.to = parse_date(&typed.to);
            match (view.from, view.to) {
                (_, None) => errors.push(FieldError::new(
                    "to",
                    "Enter the to date as a real date, like 2026-11-24",
                )),
                (Some(from), Some(to)) if to < from => {
                    view.to = None;
                    errors.push(FieldError::new(
                        "to",
                        "The to date must be the same as or after the from date",
                    ));
                }
                _ => {}
            }
        }
        let cursor = |text: &str| text.parse::<i64>().ok().filter(|id| *id > 0);
        view.page = match (
            before.filter(|b| !b.is_empty()),
            after.filter(|a| !a.is_empty()),
        ) {
            (None, None) => Page::Newest,
            (Some(b), None) => cursor(b).map_or(Page::Newest, Page::Before),
            (None, Some(a)) => cursor(a).map_or(Page::Newest, Page::After),
            (Some(_), Some(_)) => Page::Newest,
        };
        let asked_for_a_page =
            before.is_some_and(|b| !b.is_empty()) || after.is_some_and(|a| !a.is_empty());
        if asked_for_a_page && view.page == Page::Newest {
            errors.push(FieldError::new(
                PAGE_FIELD,
                "That page of the log could not be found: showing the newest entries",
            ));
        }
        (view, typed, errors)
    }

    /// The query string that shows this view (without a leading `?`): only what is set,
    /// in a fixed order, so that equal views have equal addresses.
    pub(crate) fn to_query_string(self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        if let Some(k) = self.kind {
            out.append_pair("kind", k.key());
        }
        if let Some(w) = self.who {
            out.append_pair("who", &w.key());
        }
        if let Some(d) = self.from {
            out.append_pair("from", &date_key(d));
        }
        if let Some(d) = self.to {
            out.append_pair("to", &date_key(d));
        }
        match self.page {
            Page::Newest => {}
            Page::Before(id) => {
                out.append_pair("before", &id.to_string());
            }
            Page::After(id) => {
                out.append_pair("after", &id.to_string());
            }
        }
        out.finish()
    }

    /// The same filters at another page.
    pub(crate) fn at(&self, page: Page) -> LogView<K> {
        LogView { page, ..*self }
    }

    pub(crate) fn is_filtered(&self) -> bool {
        self.kind.is_some() || self.who.is_some() || self.from.is_some() || self.to.is_some()
    }

    /// Leaves out a person who is not among the choices offered (the list of people is
    /// the page's, so this is checked once it is known).
    pub(crate) fn keep_person_among(&mut self, people: &[Uuid]) -> Option<FieldError> {
        match self.who {
            Some(Who::Person(id)) if !people.contains(&id) => {
                self.who = None;
                Some(FieldError::new("who", "Choose a person from the list"))
            }
            _ => None,
        }
    }

    /// The first moment shown: the start of the from day, in UTC.
    pub(crate) fn since(&self) -> Option<OffsetDateTime> {
        self.from.map(|d| d.midnight().assume_utc())
    }

    /// The first moment no longer shown: the start of the day after the to day, in UTC
    /// (none after the last day the calendar holds).
    pub(crate) fn until(&self) -> Option<OffsetDateTime> {
        self.to
            .and_then(Date::next_day)
            .map(|d| d.midnight().assume_utc())
    }
}

/// "2026-11-24", as a date field sends it; also "24/11/2026", as people write it.
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let (year, month, day) = if let Some((y, rest)) = text.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        (y, m, d)
    } else {
        let (d, rest) = text.split_once('/')?;
        let (m, y) = rest.split_once('/')?;
        (y, m, d)
    };
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
    };
    if year.len() != 4 || !digits(year, 4) || !digits(month, 2) || !digits(day, 2) {
        return None;
    }
    let year: i32 = year.parse().ok()?;
    let month = Month::try_from(month.parse::<u8>().ok()?).ok()?;
    let day: u8 = day.parse().ok()?;
    if !(1900..=9999).contains(&year) {
        return None;
    }
    Date::from_calendar_date(year, month, day).ok()
}

pub(crate) fn date_key(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Where the audit page's two histories start: each pages on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct HistoryPages {
    /// The audits just older than this audit.
    pub audits_before: Option<Uuid>,
    /// The status changes just older than this one.
    pub changes_before: Option<i64>,
}

impl HistoryPages {
    pub(crate) fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> (HistoryPages, Vec<FieldError>) {
        let mut pages = HistoryPages::default();
        let mut errors = Vec::new();
        for (name, value) in pairs {
            let value = value.trim();
            match name {
                "audits" if !value.is_empty() => {
                    pages.audits_before = Uuid::parse_str(value).ok();
                    if pages.audits_before.is_none() {
                        errors.push(FieldError::new(
                            "audits",
                            "That page of audits could not be found: showing the newest",
                        ));
                    }
                }
                "changes" if !value.is_empty() => {
                    pages.changes_before = value.parse::<i64>().ok().filter(|id| *id > 0);
                    if pages.changes_before.is_none() {
                        errors.push(FieldError::new(
                            "changes",
                            "That page of status changes could not be found: showing the newest",
                        ));
                    }
                }
                _ => {}
            }
        }
        (pages, errors)
    }

    pub(crate) fn to_query_string(self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        if let Some(id) = self.audits_before {
            out.append_pair("audits", &id.to_string());
        }
        if let Some(id) = self.changes_before {
            out.append_pair("changes", &id.to_string());
        }
        out.finish()
    }
}

#[cfg(test)]
#[path = "log_filter_tests.rs"]
mod tests;
