//! The credential PDF (SPEC §6), read back as a person or an auditor would: the text with
//! poppler's `pdftotext`, the QR code rasterised with `pdftoppm` and scanned with zbar's
//! `zbarimg` (scripts/test installs both).
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use attest::credentials::{render, Certificate, FontFiles, Fonts, PdfError, FONT_DIR_ENV};
use attest::demo::certificate::sample_certificate;
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| Fonts::from_env().expect("credential fonts installed (scripts/test)"))
}

struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!("attest-pdf-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn write_pdf(&self, pdf: &[u8]) -> PathBuf {
        let path = self.0.join("credential.pdf");
        std::fs::write(&path, pdf).expect("write pdf");
        // Kept for a look when ATTEST_KEEP_PDF names a folder.
        if let Some(keep) = std::env::var_os("ATTEST_KEEP_PDF") {
            let name = format!("{}.pdf", Uuid::new_v4().simple());
            let _ = std::fs::copy(&path, Path::new(&keep).join(name));
        }
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The text of each page, as pdftotext reads it.
pub(crate) fn pages_text(pdf: &[u8]) -> Vec<String> {
    let scratch = Scratch::new();
    let path = scratch.write_pdf(pdf);
    let text = run(Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(&path)
        .arg("-"));
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    // pdftotext ends every page with a form feed, the last one too.
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// Text with every run of whitespace made one space: a wrapped field reads as one line.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Page `page` (1-based) in pdftotext's raw mode: in drawing order, which keeps the
/// letters of a rotated line together.
fn raw_page_text(pdf: &[u8], page: usize) -> String {
    let scratch = Scratch::new();
    let path = scratch.write_pdf(pdf);
    let page = page.to_string();
    run(Command::new("pdftotext")
        .args(["-raw", "-enc", "UTF-8", "-f", &page, "-l", &page])
        .arg(&path)
        .arg("-"))
}

fn render_ok(cert: &Certificate) -> Vec<u8> {
    let pdf = render(cert, fonts()).unwrap_or_else(|e| panic!("render: {e}"));
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    pdf
}

/// What every credential must show, on the certificate page and in the transcript.
fn assert_credential_text(cert: &Certificate, pages: &[String]) {
    let front = &pages[0];
    for wanted in [
        cert.learner_name.as_str(),
        &cert.number,
        &cert.qualification_code,
        &cert.qualification_title,
        &format!("Level {}", cert.qualification_level),
        &cert.major_title,
        &cert.major_code,
        &cert.centre_name,
        "24 Nov 2026",
        &cert.verify_url,
    ] {
        assert!(
            front.contains(wanted),
            "certificate page shows {wanted:?}:\n{front}"
        );
    }
    let transcript = pages[1..].join("\n");
    assert!(transcript.contains("Transcript of units achieved"));
    assert!(
        transcript.contains(&cert.learner_name),
        "transcript names the learner"
    );
    assert_rows_in_order(cert, &transcript);
    let total: u32 = cert.units.iter().map(|u| u.credits).sum();
    assert!(
        transcript.contains(&format!("Total credits ({} units)", cert.units.len())),
        "{transcript}"
    );
    assert!(
        transcript.lines().any(|l| l.trim() == total.to_string()),
        "total credits {total} printed:\n{transcript}"
    );
}

#[test]
fn macron_and_diaeresis_name_prints_with_every_field() {
    let cert = sample_certificate("Zoë Ōtaki-Ngata", 6);
    let pages = pages_text(&render_ok(&cert));
    assert_eq!(pages.len(), 2, "certificate and a one-page transcript");
    assert_credential_text(&cert, &pages);
    // Each unit's row: code, title, level and credits.
    let unit = &cert.units[2];
    assert!(pages[1].contains(&unit.title));
}

#[test]
fn vietnamese_name_prints_with_its_stacked_accents() {
    let cert = sample_certificate("Nguyễn Thị Minh Khai", 6);
    let pages = pages_text(&render_ok(&cert));
    assert_credential_text(&cert, &pages);
}

#[test]
fn decomposed_accents_print_as_the_composed_letters() {
    // "Zoë" typed as e + combining diaeresis comes out as the single letter ë.
    let cert = sample_certificate("Zoe\u{0308} Ōtaki-Ngata", 3);
    let pages = pages_text(&render_ok(&cert));
    assert!(pages[0].contains("Zoë Ōtaki-Ngata"), "{}", pages[0]);
}

/// pdftotext gives Arabic back in logical order wrapped in bidi embedding marks (U+202B …
/// U+202C); it reads the characters from the PDF's ToUnicode map, which holds the original
/// letters, so no presentation forms appear. NFKC is applied anyway so the comparison would
/// survive a reader that did emit them.
fn normalised(text: &str) -> String {
    text.nfkc()
        .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

/// Words on page 1 with their left edge, as drawn (pdftotext -bbox keeps drawing order, so
/// a right-to-left word comes out with its letters reversed).
fn words_with_x(pdf: &[u8]) -> Vec<(String, f32)> {
    let scratch = Scratch::new();
    let path = scratch.write_pdf(pdf);
    let html = run(Command::new("pdftotext")
        .args(["-f", "1", "-l", "1", "-bbox", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-"));
    html.lines()
        .filter_map(|l| {
            let l = l.trim();
            let x = l
                .strip_prefix("<word xMin=\"")?
                .split('"')
                .next()?
                .parse()
                .ok()?;
            let word = l.split('>').nth(1)?.strip_suffix("</word")?.to_string();
            Some((word, x))
        })
        .collect()
}

#[test]
fn arabic_name_is_shaped_and_runs_right_to_left() {
    let name = "فاطمة الزهراء";
    let cert = sample_certificate(name, 6);
    let pdf = render_ok(&cert);
    let pages: Vec<String> = pages_text(&pdf).iter().map(|p| normalised(p)).collect();
    assert!(pages[0].contains(name), "{}", pages[0]);
    assert!(pages[1].contains(name), "transcript names the learner");
    assert_credential_text(&cert, &pages);

    // Right to left: the first word of the name is drawn to the right of the second.
    let words = words_with_x(&pdf);
    let x_of = |word: &str| {
        let drawn: String = word.chars().rev().collect();
        words
            .iter()
            .find(|(w, _)| *w == drawn)
            .map(|(_, x)| *x)
            .unwrap_or_else(|| panic!("{word} drawn right to left in {words:?}"))
    };
    assert!(x_of("فاطمة") > x_of("الزهراء"));
}

#[test]
fn chinese_name_prints() {
    let cert = sample_certificate("王小明", 6);
    let pages = pages_text(&render_ok(&cert));
    assert_credential_text(&cert, &pages);
}

#[test]
fn mixed_scripts_in_one_name_print() {
    let name = "Zoë 王 فاطمة Nguyễn";
    let cert = sample_certificate(name, 2);
    let pages: Vec<String> = pages_text(&render_ok(&cert))
        .iter()
        .map(|p| normalised(p))
        .collect();
    for part in ["Zoë", "王", "فاطمة", "Nguyễn"] {
        assert!(pages[0].contains(part), "{part} in {}", pages[0]);
    }
}

#[test]
fn sixty_units_flow_over_transcript_pages_with_the_total_at_the_end() {
    let cert = sample_certificate("Zoë Ōtaki-Ngata", 60);
    let pages = pages_text(&render_ok(&cert));
    assert!(pages.len() >= 3, "the transcript needs more than one page");
    assert_credential_text(&cert, &pages);
    let last = pages.len();
    for (i, page) in pages.iter().enumerate().skip(1) {
        // Every transcript page says whose it is and where it belongs.
        assert!(page.contains("Transcript of units achieved"));
        assert!(page.contains(&cert.learner_name));
        assert!(page.contains(&format!("Credential {}", cert.number)));
        assert!(
            page.contains(&format!("Page {} of {last}", i + 1)),
            "{page}"
        );
        assert_eq!(
            page.contains("Total credits"),
            i + 1 == last,
            "total only at the end"
        );
    }
    assert_rows_in_order(&cert, &pages[1..].join("\n"));
}

/// Each unit's row in order: its code on a line of its own, then its title, level and
/// credits before the next unit's code.
fn assert_rows_in_order(cert: &Certificate, transcript: &str) {
    let starts: Vec<usize> = {
        let mut from = 0;
        cert.units
            .iter()
            .map(|unit| {
                let at = from
                    + transcript[from..]
                        .find(&format!("\n{}\n", unit.code))
                        .unwrap_or_else(|| panic!("unit {} after the one before", unit.code));
                from = at + unit.code.len() + 1;
                at
            })
            .collect()
    };
    for (i, unit) in cert.units.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(transcript.len());
        let row = one_line(&transcript[starts[i]..end]);
        assert!(
            row.contains(&one_line(&unit.title)),
            "title of {} in {row}",
            unit.code
        );
        let tokens: Vec<&str> = row.split(' ').collect();
        assert!(
            tokens.contains(&unit.level.to_string().as_str()),
            "level in {row}"
        );
        assert!(
            tokens.contains(&unit.credits.to_string().as_str()),
            "credits in {row}"
        );
    }
}

/// The QR code on page 1, scanned at 150 dpi (an office scanner's resolution, and well
/// below the print's).
pub(crate) fn scan_page_one(pdf: &[u8]) -> String {
    let scratch = Scratch::new();
    let path = scratch.write_pdf(pdf);
    let png = scratch.0.join("front");
    run(Command::new("pdftoppm")
        .args(["-r", "150", "-f", "1", "-l", "1", "-singlefile", "-png"])
        .arg(&path)
        .arg(&png));
    run(Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(png.with_extension("png")))
    .trim()
    .to_string()
}

#[test]
fn qr_code_scans_to_the_verification_address() {
    let cert = sample_certificate("Nguyễn Thị Minh Khai", 4);
    let pdf = render_ok(&cert);
    assert_eq!(scan_page_one(&pdf), cert.verify_url);
}

#[test]
fn not_yet_issued_is_marked_and_shows_no_date() {
    let mut cert = sample_certificate("Zoë Ōtaki-Ngata", 3);
    cert.issued_on = None;
    let pdf = render_ok(&cert);
    let pages = pages_text(&pdf);
    assert!(pages[0].contains("Not yet issued"), "{}", pages[0]);
    let raw: String = raw_page_text(&pdf, 1).split_whitespace().collect();
    assert!(
        raw.starts_with("NOTYETISSUED"),
        "the diagonal marking, drawn first: {raw}"
    );
    assert!(
        pages[1].contains("not yet issued"),
        "the transcript says so too"
    );
    assert!(
        !pages.concat().contains("2026"),
        "no date of issue anywhere"
    );
}

#[test]
fn dates_print_as_day_short_month_year() {
    let mut cert = sample_certificate("Zoë Ōtaki-Ngata", 1);
    cert.issued_on = Some(time::macros::date!(2027 - 03 - 05));
    let pages = pages_text(&render_ok(&cert));
    assert!(pages[0].contains("5 Mar 2027"), "{}", pages[0]);
    assert!(pages[1].contains("issued 5 Mar 2027"));
    assert!(pages[1].contains("Total credits (1 unit)"));
}

#[test]
fn a_missing_font_file_is_an_error_naming_it() {
    let mut files = FontFiles::debian();
    files.fallbacks[1].regular = PathBuf::from("/nonexistent/fonts/DroidSansFallbackFull.ttf");
    let err = Fonts::load(&files).expect_err("missing font");
    assert!(matches!(err, PdfError::FontUnreadable { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("/nonexistent/fonts/DroidSansFallbackFull.ttf"),
        "{err}"
    );
}

#[test]
fn a_file_that_is_not_a_font_is_an_error_naming_it() {
    let scratch = Scratch::new();
    let bogus = scratch.0.join("DejaVuSerif.ttf");
    std::fs::write(&bogus, b"<html>not a font</html>").expect("write");
    let mut files = FontFiles::debian();
    files.serif = bogus.clone();
    let err = Fonts::load(&files).expect_err("not a font");
    assert!(
        err.to_string().contains(&bogus.display().to_string()),
        "{err}"
    );
    assert!(
        err.to_string().contains("not a TrueType or OpenType font"),
        "{err}"
    );
}

#[test]
fn a_font_folder_without_the_files_names_the_first_missing() {
    let scratch = Scratch::new();
    let err = FontFiles::find_in(&scratch.0).expect_err("empty folder");
    assert!(
        matches!(&err, PdfError::FontNotFound { file, .. } if file == "DejaVuSerif.ttf"),
        "{err:?}"
    );
    assert!(err.to_string().contains(&scratch.0.display().to_string()));
}

#[test]
fn a_font_folder_is_searched_by_file_name() {
    // The system's font tree, found by name rather than by fixed path.
    let dir = std::env::var_os(FONT_DIR_ENV).unwrap_or_else(|| "/usr/share/fonts".into());
    let found = FontFiles::find_in(Path::new(&dir)).expect("fonts found by name");
    let fonts = Fonts::load(&found).expect("load");
    render(&sample_certificate("王小明", 2), &fonts).expect("render with found fonts");
}

#[test]
fn a_character_no_font_has_is_an_error_naming_it_and_the_field() {
    // Egyptian hieroglyph A001: in none of the credential fonts.
    let cert = sample_certificate("Ankh \u{13000} Smith", 2);
    let err = render(&cert, fonts()).expect_err("uncovered character");
    assert!(
        matches!(err, PdfError::NoFontFor { ch: '\u{13000}', ref field } if field == "learner name"),
        "{err:?}"
    );
    assert!(err.to_string().contains("U+13000"), "{err}");
    assert!(err.to_string().contains("learner name"), "{err}");
}

#[test]
fn markup_like_and_control_characters_print_literally() {
    let name = "<b>Robert'); DROP TABLE learners;--</b> & {{ name }} #[x] %PDF";
    let cert = sample_certificate(&format!("{name}\n\t"), 2);
    let pages = pages_text(&render_ok(&cert));
    assert!(one_line(&pages[0]).contains(name), "{}", pages[0]);
}

#[test]
fn a_long_real_name_wraps_and_prints_in_full() {
    let name = "Wolfeschlegelsteinhausenbergerdorff Maria-Magdalena Alejandra de los Ángeles \
                Fernández-Castellanos y Rodríguez-Villanueva";
    let cert = sample_certificate(name, 2);
    let pages = pages_text(&render_ok(&cert));
    assert!(
        one_line(&pages[0]).contains(&one_line(name)),
        "{}",
        pages[0]
    );
    assert!(
        one_line(&pages[1]).contains(&one_line(name)),
        "{}",
        pages[1]
    );
}

#[test]
fn a_hostile_name_is_refused_with_a_plain_message() {
    let cert = sample_certificate(&"A".repeat(20_000), 2);
    let err = render(&cert, fonts()).expect_err("too long");
    assert!(matches!(err, PdfError::TooLong { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "The learner name is too long to fit on the credential."
    );
    // Long enough to pass the length check but not to fit in three lines.
    let cert = sample_certificate(&"W".repeat(400), 2);
    let err = render(&cert, fonts()).expect_err("does not fit");
    assert!(matches!(err, PdfError::TooLong { .. }), "{err:?}");
}

#[test]
fn an_overlong_unit_title_names_the_unit() {
    let mut cert = sample_certificate("Zoë Ōtaki-Ngata", 3);
    cert.units[1].title = "Customer service ".repeat(34);
    let err = render(&cert, fonts()).expect_err("title too long");
    assert_eq!(
        err.to_string(),
        "The title of unit 202 is too long to fit on the credential."
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Whatever a name holds, rendering returns a PDF or an error; it never panics.
    #[test]
    fn any_name_renders_or_fails_cleanly(name in "\\PC{0,60}", extra in "[\\u{0}-\\u{7f}\\u{600}-\\u{6ff}\\u{300}-\\u{36f}\\u{200b}-\\u{202e}]{0,30}") {
        let cert = sample_certificate(&format!("{name}{extra}"), 1);
        match render(&cert, fonts()) {
            Ok(pdf) => proptest::prop_assert!(pdf.starts_with(b"%PDF-")),
            Err(e) => proptest::prop_assert!(!e.to_string().is_empty()),
        }
    }
}
