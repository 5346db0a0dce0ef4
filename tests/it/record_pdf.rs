//! A signed record prints (issue 13, point 5): its content flows over as many pages as
//! it needs, each signature with its fingerprint, and a QR code that scans to the
//! address where anyone can check the record is unchanged.
use attest::credentials::record::{render_record, RecordSignature, SignedRecord};
use attest::credentials::Fonts;

use crate::credential_pdf::{one_line, pages_text};

fn record(account: String) -> SignedRecord {
    SignedRecord {
        kind: "Witness testimony".into(),
        centre_name: "Acme Training".into(),
        learner_name: "Zoë Ōtaki-Ngata".into(),
        qualification: "ATT/CS2/1 Certificate in Care".into(),
        title: "Witness testimony: Wendy Witness".into(),
        version: 2,
        standing: "Signed by Wendy Witness (witness) on 3 Dec 2026, 10:00 UTC".into(),
        sections: vec![
            (
                "The witness".into(),
                "Wendy Witness, Ward sister — her supervisor".into(),
            ),
            (
                "The criteria the witness was shown".into(),
                "Unit 201 · 1.1 Move people safely\nUnit 201 · 1.2 Use a hoist".into(),
            ),
            ("What the witness saw".into(), account),
        ],
        signatures: vec![RecordSignature {
            typed_name: "Wendy Witness".into(),
            capacity: "witness".into(),
            at: "3 Dec 2026, 10:00 UTC".into(),
            statement: "I confirm that this is a true account of what I saw the learner do.".into(),
            digest: "ab".repeat(32),
            check_url: "https://attest.example/signatures/0193".into(),
        }],
        verify_url: "https://attest.example/signed/0193aa".into(),
    }
}

#[test]
fn a_long_testimony_flows_over_pages_with_its_signatures_and_where_to_check_it() {
    let fonts = Fonts::from_env().expect("fonts installed (scripts/test)");
    let paragraph = "She checked the sling, explained each step to Mr B and moved him from bed to chair without haste. ";
    let account = (0..40)
        .map(|n| format!("{n}. {}", paragraph.repeat(3)))
        .collect::<Vec<_>>()
        .join("\n");
    let r = record(account);
    let pdf = render_record(&r, &fonts).expect("rendered");
    let pages = pages_text(&pdf);
    assert!(
        pages.len() >= 3,
        "a long account takes pages: {}",
        pages.len()
    );
    let all = one_line(&pages.join("\n"));
    for wanted in [
        "Witness testimony",
        "Zoë Ōtaki-Ngata",
        "Unit 201 · 1.2 Use a hoist",
        "39. She checked the sling",
        "Wendy Witness (witness), 3 Dec 2026, 10:00 UTC",
        &"ab".repeat(32),
        "https://attest.example/signatures/0193",
        "https://attest.example/signed/0193aa",
    ] {
        assert!(all.contains(wanted), "{wanted:?} printed");
    }
    for (n, page) in pages.iter().enumerate() {
        assert!(
            one_line(page).contains(&format!("page {} of {}", n + 1, pages.len())),
            "page {} numbered",
            n + 1
        );
    }

    assert_eq!(crate::credential_pdf::scan_page_one(&pdf), r.verify_url);
}

#[test]
fn nothing_typed_breaks_the_printout() {
    let fonts = Fonts::from_env().expect("fonts installed (scripts/test)");
    let hostile = "\u{202e}evil\u{0}\u{7}<script>{{}}%PDF\r\n\n\n".repeat(50);
    let pdf = render_record(&record(hostile), &fonts).expect("rendered");
    assert!(pdf.starts_with(b"%PDF-"));
}
