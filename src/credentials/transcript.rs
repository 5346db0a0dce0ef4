//! Pages 2 onwards: the transcript of units achieved, as a table that flows over as many
//! pages as it needs, its header repeated on each, and the credit total at the end.
use krilla::surface::Surface;

use super::draw::{self, Align, ACCENT, BAND, INK, MUTED, RULE, WARN};
use super::fonts::{Fonts, Style};
use super::layout::{format_date, Certificate, Ctx, PdfError, PAGE_HEIGHT, PAGE_WIDTH};
use super::text::Line;

const LEFT: f32 = 56.0;
const RIGHT: f32 = PAGE_WIDTH - 56.0;
/// Cell padding left and right.
const PAD: f32 = 6.0;
const CODE_X: f32 = LEFT;
const CODE_W: f32 = 84.0;
const LEVEL_W: f32 = 52.0;
const CREDITS_W: f32 = 60.0;
const CREDITS_X: f32 = RIGHT - CREDITS_W;
const LEVEL_X: f32 = CREDITS_X - LEVEL_W;
const TITLE_X: f32 = CODE_X + CODE_W;
const TITLE_W: f32 = LEVEL_X - TITLE_X;

const BODY: f32 = 9.5;
const BODY_LEADING: f32 = 12.5;
const ROW_PAD: f32 = 5.5;
const HEAD: f32 = 8.5;
const HEAD_BAND: f32 = 20.0;
/// The table stops above the footer.
const TABLE_BOTTOM: f32 = PAGE_HEIGHT - 64.0;

/// A unit title may wrap, but a row must stay well within a page.
const MAX_TITLE_LINES: usize = 8;

struct Row {
    code: Vec<Line>,
    title: Vec<Line>,
    level: Line,
    credits: Line,
}

impl Row {
    fn height(&self) -> f32 {
        let lines = self.code.len().max(self.title.len()).max(1);
        lines as f32 * BODY_LEADING + 2.0 * ROW_PAD
    }
}

/// One header line: text, size, style colour.
struct HeaderLine {
    line: Line,
    size: f32,
    colour: (u8, u8, u8),
    gap_before: f32,
}

pub(crate) struct Transcript {
    header: Vec<HeaderLine>,
    columns: [Line; 4],
    rows: Vec<Row>,
    /// Rows per page, as ranges into `rows`.
    pages: Vec<std::ops::Range<usize>>,
    total_label: Line,
    total: Line,
    footer_left: Line,
    /// "Page 2 of 4", one per transcript page (the certificate is page 1).
    page_numbers: Vec<Line>,
}

impl Transcript {
    pub(crate) fn layout(ctx: &Ctx<'_>, cert: &Certificate) -> Result<Transcript, PdfError> {
        let header = header(ctx, cert)?;
        let header_height: f32 = header
            .iter()
            .map(|h| h.gap_before + h.size * 1.25)
            .sum::<f32>();
        let fixed = |text: &str, style| ctx.line("transcript wording", text, style);
        let columns = [
            fixed("UNIT", Style::SansBold)?,
            fixed("TITLE", Style::SansBold)?,
            fixed("LEVEL", Style::SansBold)?,
            fixed("CREDITS", Style::SansBold)?,
        ];
        let rows = cert
            .units
            .iter()
            .map(|unit| {
                let code_field = "unit code";
                let title_field = format!("title of unit {}", unit.code);
                Ok(Row {
                    code: ctx.wrap(
                        code_field,
                        &unit.code,
                        Style::Sans,
                        BODY,
                        CODE_W - 2.0 * PAD,
                        3,
                    )?,
                    title: ctx.wrap(
                        &title_field,
                        &unit.title,
                        Style::Sans,
                        BODY,
                        TITLE_W - 2.0 * PAD,
                        MAX_TITLE_LINES,
                    )?,
                    level: ctx.line("unit level", &unit.level.to_string(), Style::Sans)?,
                    credits: ctx.line("unit credits", &unit.credits.to_string(), Style::Sans)?,
                })
            })
            .collect::<Result<Vec<_>, PdfError>>()?;
        let total_credits: u64 = cert.units.iter().map(|u| u64::from(u.credits)).sum();
        let units_word = if cert.units.len() == 1 {
            "unit"
        } else {
            "units"
        };
        let total_label = fixed(
            &format!("Total credits ({} {units_word})", cert.units.len()),
            Style::SansBold,
        )?;
        let total = fixed(&total_credits.to_string(), Style::SansBold)?;
        let footer_left = ctx.line(
            "credential number",
            &format!("Credential {}", cert.number),
            Style::Sans,
        )?;

        let table_top = table_top(header_height);
        let pages = paginate(&rows, table_top);
        let page_numbers = (0..pages.len())
            .map(|i| {
                fixed(
                    &format!("Page {} of {}", i + 2, pages.len() + 1),
                    Style::Sans,
                )
            })
            .collect::<Result<Vec<_>, PdfError>>()?;
        Ok(Transcript {
            header,
            columns,
            rows,
            pages,
            total_label,
            total,
            footer_left,
            page_numbers,
        })
    }

    pub(crate) fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Draws transcript page `index` (0-based).
    pub(crate) fn draw_page(&self, s: &mut Surface<'_>, fonts: &Fonts, index: usize) {
        let Some(range) = self.pages.get(index) else {
            return;
        };
        let mut y = 48.0;
        for h in &self.header {
            y += h.gap_before + h.size * 1.25;
            draw::text(
                s,
                fonts,
                &h.line,
                h.size,
                h.colour,
                Align::Left,
                LEFT,
                RIGHT - LEFT,
                y,
            );
        }
        draw::rule(s, LEFT, RIGHT, y + 10.0, 0.8, ACCENT);
        let mut y = table_top_from(y);

        // Column heads on a light band.
        draw::rect(s, LEFT, y, RIGHT - LEFT, HEAD_BAND, BAND);
        let head_y = y + HEAD_BAND / 2.0 + HEAD * 0.36;
        let [code, title, level, credits] = &self.columns;
        let head = |s: &mut Surface<'_>, line, align, x, w| {
            draw::text(
                s,
                fonts,
                line,
                HEAD,
                ACCENT,
                align,
                x + PAD,
                w - 2.0 * PAD,
                head_y,
            )
        };
        head(s, code, Align::Left, CODE_X, CODE_W);
        head(s, title, Align::Left, TITLE_X, TITLE_W);
        head(s, level, Align::Centre, LEVEL_X, LEVEL_W);
        head(s, credits, Align::Right, CREDITS_X, CREDITS_W);
        y += HEAD_BAND;

        for row in &self.rows[range.clone()] {
            let first = y + ROW_PAD + BODY * 0.95;
            let cell = |s: &mut Surface<'_>, lines: &[Line], align, x, w| {
                for (i, line) in lines.iter().enumerate() {
                    let baseline = first + i as f32 * BODY_LEADING;
                    draw::text(
                        s,
                        fonts,
                        line,
                        BODY,
                        INK,
                        align,
                        x + PAD,
                        w - 2.0 * PAD,
                        baseline,
                    );
                }
            };
            cell(s, &row.code, Align::Left, CODE_X, CODE_W);
            cell(s, &row.title, Align::Left, TITLE_X, TITLE_W);
            cell(
                s,
                std::slice::from_ref(&row.level),
                Align::Centre,
                LEVEL_X,
                LEVEL_W,
            );
            cell(
                s,
                std::slice::from_ref(&row.credits),
                Align::Right,
                CREDITS_X,
                CREDITS_W,
            );
            y += row.height();
            draw::rule(s, LEFT, RIGHT, y, 0.5, RULE);
        }

        if index + 1 == self.pages.len() {
            draw::rule(s, LEFT, RIGHT, y + 0.5, 1.2, ACCENT);
            let baseline = y + ROW_PAD + 10.0 * 0.95 + 2.0;
            draw::text(
                s,
                fonts,
                &self.total_label,
                10.0,
                INK,
                Align::Right,
                TITLE_X,
                LEVEL_X + LEVEL_W - TITLE_X - PAD,
                baseline,
            );
            draw::text(
                s,
                fonts,
                &self.total,
                10.0,
                INK,
                Align::Right,
                CREDITS_X + PAD,
                CREDITS_W - 2.0 * PAD,
                baseline,
            );
        }

        // Footer: which credential and which page, so a loose page can be put back.
        let footer_y = PAGE_HEIGHT - 36.0;
        draw::rule(s, LEFT, RIGHT, footer_y - 14.0, 0.5, RULE);
        draw::text(
            s,
            fonts,
            &self.footer_left,
            8.0,
            MUTED,
            Align::Left,
            LEFT,
            RIGHT - LEFT,
            footer_y,
        );
        if let Some(page) = self.page_numbers.get(index) {
            draw::text(
                s,
                fonts,
                page,
                8.0,
                MUTED,
                Align::Right,
                LEFT,
                RIGHT - LEFT,
                footer_y,
            );
        }
    }
}

/// Learner, qualification, major, number and date, repeated on every transcript page.
fn header(ctx: &Ctx<'_>, cert: &Certificate) -> Result<Vec<HeaderLine>, PdfError> {
    let width = RIGHT - LEFT;
    let mut out = Vec::new();
    let mut push = |lines: Vec<Line>, size, colour, gap: f32| {
        for (i, line) in lines.into_iter().enumerate() {
            out.push(HeaderLine {
                line,
                size,
                colour,
                gap_before: if i == 0 { gap } else { 0.0 },
            });
        }
    };
    push(
        vec![ctx.line(
            "transcript wording",
            "Transcript of units achieved",
            Style::SerifBold,
        )?],
        18.0,
        ACCENT,
        0.0,
    );
    let (size, name) = ctx.fit(
        "learner name",
        &cert.learner_name,
        Style::SerifBold,
        13.0,
        9.5,
        width,
        3,
    )?;
    push(name, size, INK, 8.0);
    let qualification = format!(
        "{} {}  ·  Level {}",
        cert.qualification_code, cert.qualification_title, cert.qualification_level
    );
    push(
        ctx.wrap(
            "qualification title",
            &qualification,
            Style::Sans,
            9.5,
            width,
            4,
        )?,
        9.5,
        INK,
        3.0,
    );
    push(
        ctx.wrap(
            "major title",
            &format!("Major {} {}", cert.major_code, cert.major_title),
            Style::Sans,
            9.5,
            width,
            3,
        )?,
        9.5,
        INK,
        0.0,
    );
    let (issued, colour) = match cert.issued_on {
        Some(date) => (format!("issued {}", format_date(date)), MUTED),
        None => ("not yet issued".to_string(), WARN),
    };
    push(
        ctx.wrap(
            "credential number",
            &format!(
                "Credential {}  ·  {}  ·  {}",
                cert.number, issued, cert.centre_name
            ),
            Style::Sans,
            9.5,
            width,
            4,
        )?,
        9.5,
        colour,
        0.0,
    );
    Ok(out)
}

fn table_top_from(header_bottom: f32) -> f32 {
    header_bottom + 22.0
}

fn table_top(header_height: f32) -> f32 {
    table_top_from(48.0 + header_height)
}

/// Splits rows into pages; the total row (as tall as one line) must fit under the last.
fn paginate(rows: &[Row], table_top: f32) -> Vec<std::ops::Range<usize>> {
    let first_row_y = table_top + HEAD_BAND;
    let total_height = BODY_LEADING + 2.0 * ROW_PAD + 4.0;
    let mut pages = Vec::new();
    let mut start = 0;
    let mut y = first_row_y;
    for (i, row) in rows.iter().enumerate() {
        let h = row.height();
        if y + h > TABLE_BOTTOM && i > start {
            pages.push(start..i);
            start = i;
            y = first_row_y;
        }
        y += h;
    }
    if y + total_height > TABLE_BOTTOM && rows.len() > start {
        pages.push(start..rows.len());
        start = rows.len();
    }
    pages.push(start..rows.len());
    pages
}
