//! A signed record as a PDF (issue 13, point 5): a witness testimony or an observation
//! record with its content, its signatures, and the address (and QR code) where anyone
//! holding the printout can check it is unchanged. Laid out whole, as the credential is,
//! before anything is drawn; the text flows over as many pages as it needs.
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::surface::Surface;
use krilla::Document;

use super::draw::{self, Align, ACCENT, INK, MUTED, RULE};
use super::fonts::{Fonts, Style};
use super::layout::{PdfError, PAGE_HEIGHT, PAGE_WIDTH};
use super::qr::QrMatrix;
use super::text::{clean, Line, Shaper};

/// One signature as the printout shows it.
#[derive(Debug, Clone)]
pub struct RecordSignature {
    pub typed_name: String,
    pub capacity: String,
    pub at: String,
    pub statement: String,
    /// The SHA-256 of what was signed, in hex.
    pub digest: String,
    /// Where this signature can be checked.
    pub check_url: String,
}

/// What the printout says.
#[derive(Debug, Clone)]
pub struct SignedRecord {
    /// "Witness testimony", "Observation record".
    pub kind: String,
    pub centre_name: String,
    pub learner_name: String,
    pub qualification: String,
    pub title: String,
    pub version: u32,
    /// "Signed by …", or "Changed since it was signed: …".
    pub standing: String,
    /// (heading, text): text may hold several paragraphs.
    pub sections: Vec<(String, String)>,
    pub signatures: Vec<RecordSignature>,
    /// The QR code's address: where the whole record is checked.
    pub verify_url: String,
}

const LEFT: f32 = 56.0;
const RIGHT: f32 = PAGE_WIDTH - 56.0;
const WIDTH: f32 = RIGHT - LEFT;
const TOP: f32 = 56.0;
const BOTTOM: f32 = PAGE_HEIGHT - 64.0;
const QR_SIDE: f32 = 84.0;
/// Text on page 1 beside the QR code stays clear of it.
const HEADER_WIDTH: f32 = WIDTH - QR_SIDE - 16.0;
const BODY: f32 = 10.5;
const SMALL: f32 = 8.5;

/// A line to draw: its shape, size, style's colour, and the space above it.
struct Placed {
    line: Line,
    size: f32,
    colour: (u8, u8, u8),
    gap: f32,
    /// A rule under the line (a section heading's).
    rule: bool,
}

struct Laid {
    pages: Vec<Vec<(Placed, f32)>>,
    footers: Vec<Line>,
    qr: QrMatrix,
}

struct Flow<'s, 'f> {
    shaper: &'s Shaper<'f>,
    lines: Vec<Placed>,
}

impl Flow<'_, '_> {
    fn text(
        &mut self,
        text: &str,
        style: Style,
        size: f32,
        colour: (u8, u8, u8),
        width: f32,
        gap: f32,
    ) -> Result<(), PdfError> {
        let mut first = true;
        for paragraph in text.split('\n') {
            let paragraph = paragraph.trim();
            if paragraph.is_empty() {
                continue;
            }
            let lines = self
                .shaper
                .wrap(paragraph, style, width / size)
                .map_err(|u| PdfError::NoFontFor {
                    field: "signed record".into(),
                    ch: u.0,
                })?;
            for (n, line) in lines.into_iter().enumerate() {
                let gap = match (first, n) {
                    (true, 0) => gap,
                    (false, 0) => size * 0.6,
                    _ => 0.0,
                };
                self.lines.push(Placed {
                    line,
                    size,
                    colour,
                    gap,
                    rule: false,
                });
            }
            first = false;
        }
        Ok(())
    }

    fn heading(&mut self, text: &str) -> Result<(), PdfError> {
        self.text(text, Style::SansBold, 11.5, ACCENT, WIDTH, 16.0)?;
        if let Some(last) = self.lines.last_mut() {
            last.rule = true;
        }
        Ok(())
    }
}

fn layout(r: &SignedRecord, fonts: &Fonts) -> Result<Laid, PdfError> {
    let shaper = Shaper::new(fonts);
    let mut f = Flow {
        shaper: &shaper,
        lines: Vec::new(),
    };
    f.text(&r.centre_name, Style::Sans, 10.0, MUTED, HEADER_WIDTH, 0.0)?;
    f.text(&r.kind, Style::SerifBold, 20.0, INK, HEADER_WIDTH, 6.0)?;
    f.text(&r.title, Style::Serif, 13.0, INK, HEADER_WIDTH, 4.0)?;
    let about = format!(
        "{} · {} · version {}",
        r.learner_name, r.qualification, r.version
    );
    f.text(&about, Style::Sans, 9.5, MUTED, HEADER_WIDTH, 4.0)?;
    f.text(&r.standing, Style::SansBold, 10.0, INK, HEADER_WIDTH, 8.0)?;
    // Page 1's header must clear the QR code before the body runs full width.
    let header_height: f32 = f.lines.iter().map(|p| p.gap + p.size * 1.3).sum();
    let clear = (QR_SIDE + 24.0 - header_height).max(0.0);
    for (heading, text) in &r.sections {
        f.heading(heading)?;
        if let Some(first) = f
            .lines
            .last_mut()
            .filter(|_| clear > 0.0 && r.sections[0].0 == *heading)
        {
            first.gap += clear;
        }
        f.text(text, Style::Serif, BODY, INK, WIDTH, 6.0)?;
    }
    f.heading("Signatures")?;
    if r.signatures.is_empty() {
        f.text("Not signed.", Style::Serif, BODY, INK, WIDTH, 6.0)?;
    }
    for s in &r.signatures {
        let who = format!("{} ({}), {}", s.typed_name, s.capacity, s.at);
        f.text(&who, Style::SerifBold, BODY, INK, WIDTH, 8.0)?;
        f.text(
            &format!("“{}”", s.statement),
            Style::Serif,
            BODY,
            INK,
            WIDTH,
            2.0,
        )?;
        f.text(
            &format!("Fingerprint (SHA-256) of what was signed: {}", s.digest),
            Style::Sans,
            SMALL,
            MUTED,
            WIDTH,
            2.0,
        )?;
        f.text(
            &format!("Check this signature: {}", s.check_url),
            Style::Sans,
            SMALL,
            MUTED,
            WIDTH,
            1.0,
        )?;
    }
    f.heading("Check this record")?;
    f.text(
        &format!(
            "Anyone holding this document can check that the record is still exactly what was signed, at {}",
            r.verify_url
        ),
        Style::Sans,
        9.5,
        INK,
        WIDTH,
        6.0,
    )?;

    // Flow the lines onto pages; a heading is never left alone at a page's foot.
    let mut pages: Vec<Vec<(Placed, f32)>> = vec![Vec::new()];
    let mut y = TOP;
    let count = f.lines.len();
    let mut lines = f.lines.into_iter().peekable();
    let mut index = 0;
    while let Some(p) = lines.next() {
        let height = p.gap + p.size * 1.3;
        let next = lines.peek().map_or(0.0, |n| n.gap + n.size * 1.3);
        let needs = if p.rule { height + next } else { height };
        if y + needs > BOTTOM && index + 1 < count && !pages.last().is_some_and(Vec::is_empty) {
            pages.push(Vec::new());
            y = TOP;
        }
        let at_top = pages.last().is_some_and(Vec::is_empty);
        y += if at_top { p.size * 1.3 } else { height };
        if let Some(page) = pages.last_mut() {
            page.push((p, y));
        }
        index += 1;
    }
    let total = pages.len();
    let footers = (1..=total)
        .map(|n| {
            shaper
                .line(
                    &format!(
                        "{} · {} · version {} · page {n} of {total}",
                        r.kind, r.learner_name, r.version
                    ),
                    Style::Sans,
                )
                .map_err(|u| PdfError::NoFontFor {
                    field: "footer".into(),
                    ch: u.0,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Laid {
        pages,
        footers,
        qr: QrMatrix::encode(&r.verify_url)?,
    })
}

fn draw_page(s: &mut Surface<'_>, fonts: &Fonts, laid: &Laid, index: usize) {
    if index == 0 {
        laid.qr.draw(s, RIGHT - QR_SIDE, TOP - 8.0, QR_SIDE);
    }
    for (p, y) in &laid.pages[index] {
        draw::text(
            s,
            fonts,
            &p.line,
            p.size,
            p.colour,
            Align::Left,
            LEFT,
            WIDTH,
            *y,
        );
        if p.rule {
            draw::rule(s, LEFT, RIGHT, y + 4.0, 0.6, RULE);
        }
    }
    if let Some(footer) = laid.footers.get(index) {
        draw::text(
            s,
            fonts,
            footer,
            8.0,
            MUTED,
            Align::Left,
            LEFT,
            WIDTH,
            PAGE_HEIGHT - 36.0,
        );
    }
}

fn cleaned(r: &SignedRecord) -> SignedRecord {
    // Line breaks are kept: they separate paragraphs. Everything else is cleaned as on
    // the credential.
    let keep_lines = |t: &str| t.split('\n').map(clean).collect::<Vec<_>>().join("\n");
    SignedRecord {
        kind: clean(&r.kind),
        centre_name: clean(&r.centre_name),
        learner_name: clean(&r.learner_name),
        qualification: clean(&r.qualification),
        title: clean(&r.title),
        version: r.version,
        standing: clean(&r.standing),
        sections: r
            .sections
            .iter()
            .map(|(h, t)| (clean(h), keep_lines(t)))
            .collect(),
        signatures: r
            .signatures
            .iter()
            .map(|s| RecordSignature {
                typed_name: clean(&s.typed_name),
                capacity: clean(&s.capacity),
                at: clean(&s.at),
                statement: clean(&s.statement),
                digest: clean(&s.digest),
                check_url: s.check_url.clone(),
            })
            .collect(),
        verify_url: r.verify_url.clone(),
    }
}

/// Renders the record as a PDF.
pub fn render_record(record: &SignedRecord, fonts: &Fonts) -> Result<Vec<u8>, PdfError> {
    let record = cleaned(record);
    let laid = layout(&record, fonts)?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!("{} — {}", record.kind, record.learner_name))
            .creator("attest".to_string()),
    );
    for index in 0..laid.pages.len() {
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
            .ok_or(PdfError::Write("page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        draw_page(&mut surface, fonts, &laid, index);
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| PdfError::Write(e.to_string()))
}
