//! Text people type (SPEC §9: nothing a user types can break a page, a query or a PDF).
//! Every text field a form takes is one of the fields below, with its limit and its
//! messages, and every form's validation checks it here: the forms refuse the same
//! things in the same words, and the limits are read in one place.
//!
//! A field refuses control characters (PostgreSQL cannot store U+0000 in text, and the
//! others have no business in a name or a reason); a multi-line field allows tab, CR and
//! LF. A single-line field (names, emails, titles) refuses line breaks with a message
//! of their own. Lengths are counted in characters, as people count them, not bytes.
use super::form::FieldError;

/// Whether a field holds one line or several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// One text field of a form: its name on the page, its limit and its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextField {
    /// The form field's name, which is also its id on the page.
    pub field: &'static str,
    pub lines: Lines,
    /// The most characters (not bytes) it may hold.
    pub max_chars: usize,
    pub too_long: &'static str,
    pub control: &'static str,
    pub line_break: &'static str,
}

/// A field whose messages say its name and its limit (the messages are static, so they
/// are put together here from the words rather than formatted at each refusal).
macro_rules! text_field {
    ($(#[$doc:meta])* $name:ident: $field:literal, $the:literal, $lines:ident, $max:literal, $max_words:literal) => {
        $(#[$doc])*
        pub const $name: TextField = TextField {
            field: $field,
            lines: Lines::$lines,
            max_chars: $max,
            too_long: concat!($the, " must be ", $max_words, " characters or fewer"),
            control: concat!($the, " cannot contain control characters"),
            line_break: concat!($the, " cannot contain line breaks"),
        };
    };
}

text_field!(
    /// A person's full name, as an admin adds them (it appears on their credential).
    PERSON_NAME: "display_name", "The name", One, 200, "200"
);
text_field!(
    /// An email address, on any form (the longest an address can be).
    EMAIL: "email", "The email address", One, 254, "254"
);
text_field!(
    /// A new password (never stored as text, but typed like any other field).
    NEW_PASSWORD: "password", "Your password", One, 1_024, "1,024"
);
text_field!(
    /// An evidence item's title.
    EVIDENCE_TITLE: "title", "The title", One, 200, "200"
);
text_field!(
    /// An evidence item's description.
    EVIDENCE_DESCRIPTION: "description", "The description", Many, 10_000, "10,000"
);
text_field!(
    /// An IQA's feedback on a sampling decision.
    IQA_FEEDBACK: "feedback", "Feedback", Many, 5_000, "5,000"
);
text_field!(
    /// Why a credential is cancelled (kept in the register and the history).
    CANCEL_REASON: "reason", "The reason", Many, 5_000, "5,000"
);

text_field!(
    /// An employer organisation's name.
    EMPLOYER_NAME: "name", "The employer's name", One, 200, "200"
);
text_field!(
    /// The name of the person to contact at an employer.
    CONTACT_NAME: "contact_name", "The contact's name", One, 200, "200"
);
text_field!(
    /// A contact's telephone number, as people write them.
    CONTACT_PHONE: "contact_phone", "The phone number", One, 40, "40"
);

text_field!(
    /// A witness's name, as the person asking for their testimony gives it.
    WITNESS_NAME: "witness_name", "The witness's name", One, 200, "200"
);
text_field!(
    /// What the occasion was, as the person asking for a testimony describes it.
    OCCASION: "occasion", "The occasion", Many, 2_000, "2,000"
);
text_field!(
    /// A witness's account of what they saw.
    TESTIMONY: "account", "Your account", Many, 10_000, "10,000"
);
text_field!(
    /// The witness's job role.
    WITNESS_ROLE: "role", "Your role", One, 200, "200"
);
text_field!(
    /// How the witness knows the learner.
    RELATIONSHIP: "relationship", "Your relationship to the learner", One, 200, "200"
);
text_field!(
    /// The full name typed to sign.
    SIGNED_NAME: "signed_name", "The name", One, 200, "200"
);

text_field!(
    /// One of a centre's off-the-job activity types.
    ACTIVITY_TYPE: "activity_types", "Each activity type", One, 100, "100"
);
text_field!(
    /// Why an apprenticeship's planned OTJ hours differ from the centre's default.
    PLAN_REASON: "reason", "The reason", Many, 2_000, "2,000"
);
text_field!(
    /// Why learning is paused.
    BREAK_REASON: "reason", "The reason", Many, 2_000, "2,000"
);
text_field!(
    /// What an off-the-job activity was and what was learned.
    OTJ_WHAT: "what", "What was done", Many, 5_000, "5,000"
);
text_field!(
    /// Why an assessor rejects an OTJ entry.
    OTJ_REJECT_REASON: "reason", "The reason", Many, 2_000, "2,000"
);

text_field!(
    /// Who attended a progress review.
    REVIEW_ATTENDED: "attended", "Who attended", Many, 1_000, "1,000"
);
text_field!(
    /// The learner's reflection in a progress review.
    LEARNER_REFLECTION: "learner_reflection", "The learner's reflection", Many, 10_000, "10,000"
);
text_field!(
    /// The employer's comments in a progress review.
    EMPLOYER_COMMENTS: "employer_comments", "The employer's comments", Many, 10_000, "10,000"
);
text_field!(
    /// The assessor's summary of a progress review.
    ASSESSOR_SUMMARY: "assessor_summary", "The assessor's summary", Many, 10_000, "10,000"
);
text_field!(
    /// The targets a progress review sets for the next period.
    REVIEW_TARGETS: "targets", "The targets", Many, 10_000, "10,000"
);

/// Every text field the forms take.
pub const ALL: [TextField; 26] = [
    PERSON_NAME,
    EMAIL,
    NEW_PASSWORD,
    EVIDENCE_TITLE,
    EVIDENCE_DESCRIPTION,
    IQA_FEEDBACK,
    CANCEL_REASON,
    EMPLOYER_NAME,
    CONTACT_NAME,
    CONTACT_PHONE,
    WITNESS_NAME,
    OCCASION,
    TESTIMONY,
    WITNESS_ROLE,
    RELATIONSHIP,
    SIGNED_NAME,
    ACTIVITY_TYPE,
    PLAN_REASON,
    BREAK_REASON,
    OTJ_WHAT,
    OTJ_REJECT_REASON,
    REVIEW_ATTENDED,
    LEARNER_REFLECTION,
    EMPLOYER_COMMENTS,
    ASSESSOR_SUMMARY,
    REVIEW_TARGETS,
];

/// A character that starts a new line: LF, CR, vertical tab, form feed, next line, and
/// the line and paragraph separators.
pub(crate) fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

impl TextField {
    /// What is wrong with `value` in this field, if anything: a line break in a
    /// single-line field, a control character, or too many characters. The value is
    /// checked as given (callers trim it first where they keep it trimmed); whether it
    /// may be blank is for each form to say.
    pub fn check(&self, value: &str) -> Result<(), FieldError> {
        let refuse = |message| Err(FieldError::new(self.field, message));
        if self.lines == Lines::One && value.chars().any(is_line_break) {
            return refuse(self.line_break);
        }
        if has_refused_control(value, self.lines) {
            return refuse(self.control);
        }
        if value.chars().count() > self.max_chars {
            return refuse(self.too_long);
        }
        Ok(())
    }
}

/// Whether `value` holds a control character text of these `lines` may not: any, in
/// one line (line breaks included); any but tab, CR and LF, in several.
pub(crate) fn has_refused_control(value: &str, lines: Lines) -> bool {
    value
        .chars()
        .any(|c| c.is_control() && !(lines == Lines::Many && matches!(c, '\t' | '\n' | '\r')))
}

/// A character that changes the direction text is shown in: the bidirectional marks,
/// embeddings, overrides and isolates. In a file name they make `report{U+202E}fdp.exe`
/// look like `reportexe.pdf`.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// The longest file name kept, in characters.
pub(crate) const FILE_NAME_MAX_CHARS: usize = 200;

/// A file name fit to show and to offer back on download: no folders, no control or
/// bidirectional characters, no quotes, at most 200 characters, never blank. Used when a
/// file is kept and again when one is shown or served, for names kept before.
pub(crate) fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|&c| !c.is_control() && !is_bidi_control(c) && c != '"')
        .collect();
    let cleaned: String = cleaned.trim().chars().take(FILE_NAME_MAX_CHARS).collect();
    match cleaned.trim() {
        "" => "file".to_string(),
        kept => kept.to_string(),
    }
}

/// "10,000": counts as people write them.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn message(field: &TextField, value: &str) -> Option<&'static str> {
        field.check(value).err().map(|e| e.message)
    }

    #[test]
    fn a_nul_is_refused_in_every_field_with_the_fields_message() {
        for field in ALL {
            let e = field.check("a\0b").expect_err("refused");
            assert_eq!(e.field, field.field);
            assert_eq!(e.message, field.control);
            assert!(e.message.ends_with("cannot contain control characters"));
        }
        assert_eq!(
            message(&EVIDENCE_TITLE, "a\u{7}b"),
            Some("The title cannot contain control characters")
        );
    }

    #[test]
    fn single_line_fields_refuse_line_breaks_and_tabs() {
        for value in [
            "Ann\nSmith",
            "Ann\r\nSmith",
            "Ann\u{2028}Smith",
            "Ann\u{85}",
        ] {
            assert_eq!(
                message(&PERSON_NAME, value),
                Some("The name cannot contain line breaks"),
                "{value:?}"
            );
        }
        assert_eq!(
            message(&EMAIL, "a@b.test\nBcc: c@d.test"),
            Some("The email address cannot contain line breaks")
        );
        assert_eq!(
            message(&EVIDENCE_TITLE, "a\tb"),
            Some(EVIDENCE_TITLE.control)
        );
        assert_eq!(PERSON_NAME.check("Zoë Ōtaki-Ngata"), Ok(()));
    }

    #[test]
    fn multi_line_fields_allow_tabs_and_line_ends_only() {
        assert_eq!(
            CANCEL_REASON.check("Wrong learner.\r\n\tSee the file."),
            Ok(())
        );
        assert_eq!(
            message(&CANCEL_REASON, "a\u{0B}b"),
            Some("The reason cannot contain control characters")
        );
        assert_eq!(
            message(&IQA_FEEDBACK, "a\u{1B}[31m"),
            Some(IQA_FEEDBACK.control)
        );
    }

    #[test]
    fn lengths_are_counted_in_characters_and_the_limit_is_named() {
        assert_eq!(CANCEL_REASON.check(&"ō".repeat(5_000)), Ok(()));
        assert_eq!(
            message(&CANCEL_REASON, &"o".repeat(5_001)),
            Some("The reason must be 5,000 characters or fewer")
        );
        for field in ALL {
            assert_eq!(field.check(&"é".repeat(field.max_chars)), Ok(()));
            let e = field
                .check(&"e".repeat(field.max_chars + 1))
                .expect_err("too long");
            assert_eq!(e.message, field.too_long);
            assert!(
                field.too_long.contains(&thousands(field.max_chars as i64)),
                "{} names its limit",
                field.too_long
            );
        }
    }

    #[test]
    fn file_names_lose_folders_control_and_direction_characters() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\Users\\zoë\\log.pdf"), "log.pdf");
        assert_eq!(clean_file_name("a\"b\n.txt"), "ab.txt");
        assert_eq!(clean_file_name("report\u{202E}fdp.exe"), "reportfdp.exe");
        assert_eq!(
            clean_file_name("\u{2066}a\u{200F}b\u{061C}\u{202A}.pdf\u{2069}"),
            "ab.pdf"
        );
        assert_eq!(clean_file_name("  "), "file");
        assert_eq!(clean_file_name("\u{202E}\0"), "file");
        assert_eq!(
            clean_file_name(&"x".repeat(300)).chars().count(),
            FILE_NAME_MAX_CHARS
        );
    }

    fn field() -> impl Strategy<Value = TextField> {
        proptest::sample::select(ALL.to_vec())
    }

    proptest! {
        #[test]
        fn any_value_with_a_refused_control_character_is_refused(
            field in field(),
            before in "\\PC{0,40}",
            after in "\\PC{0,40}",
            c in proptest::char::any().prop_filter("a control character", |c| c.is_control()),
        ) {
            let value = format!("{before}{c}{after}");
            let allowed = field.lines == Lines::Many && matches!(c, '\t' | '\n' | '\r');
            prop_assert_eq!(field.check(&value).is_err(), !allowed);
        }

        #[test]
        fn any_value_within_the_limit_without_control_characters_is_accepted(
            field in field(),
            value in "\\PC{0,300}",
        ) {
            prop_assume!(value.chars().count() <= field.max_chars);
            prop_assume!(field.lines == Lines::Many || !value.chars().any(is_line_break));
            prop_assert_eq!(field.check(&value), Ok(()));
        }

        #[test]
        fn any_value_over_the_limit_is_refused(field in field(), extra in 1usize..50) {
            let value = "a".repeat(field.max_chars + extra);
            prop_assert_eq!(field.check(&value).map_err(|e| e.message), Err(field.too_long));
        }

        #[test]
        fn a_cleaned_file_name_has_no_control_or_direction_characters(name in any::<String>()) {
            let cleaned = clean_file_name(&name);
            prop_assert!(!cleaned.is_empty());
            prop_assert!(cleaned.chars().count() <= FILE_NAME_MAX_CHARS);
            prop_assert!(!cleaned.chars().any(|c| c.is_control() || is_bidi_control(c) || "\"/\\".contains(c)));
            prop_assert_eq!(clean_file_name(&cleaned), cleaned.clone());
        }
    }
}
