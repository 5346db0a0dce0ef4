//! Page 1, the certificate itself: who achieved what, where and when, and how to check it.
use krilla::geom::Transform;
use krilla::surface::Surface;

use super::draw::{self, Align, ACCENT, INK, MUTED, RULE, WARN};
use super::fonts::{Fonts, Style};
use super::layout::{format_date, Certificate, Ctx, PdfError, PAGE_HEIGHT, PAGE_WIDTH};
use super::qr::QrMatrix;
use super::text::Line;

/// Lines of one size, centred or in a column.
struct Block {
    size: f32,
    lines: Vec<Line>,
    colour: (u8, u8, u8),
}

impl Block {
    fn height(&self) -> f32 {
        self.lines.len() as f32 * self.size * LEADING
    }
}

const LEADING: f32 = 1.22;
/// The text column: inside the frame with a generous margin.
const MARGIN: f32 = 72.0;
const COLUMN: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// The QR code's square, quiet zone included.
const QR_SIDE: f32 = 112.0;
/// The verification column under the code.
const VERIFY_WIDTH: f32 = 180.0;
/// Where the bottom block (date, number, centre, code) starts at the earliest.
const BOTTOM: f32 = 600.0;

pub(crate) struct Front {
    centre: Block,
    heading: Block,
    certify: Block,
    name: Block,
    achieved: Block,
    qualification: Block,
    qualification_line: Block,
    with_major: Block,
    major: Block,
    major_line: Block,
    date_label: Block,
    date: Block,
    number_label: Block,
    number: Block,
    centre_label: Block,
    centre_small: Block,
    verify_label: Block,
    url: Block,
    footer: Block,
    /// The diagonal marking of a credential generated but not yet issued.
    not_issued: Option<Block>,
    qr: QrMatrix,
}

impl Front {
    pub(crate) fn layout(ctx: &Ctx<'_>, cert: &Certificate) -> Result<Front, PdfError> {
        let fixed = |text: &str, style, size, colour| -> Result<Block, PdfError> {
            Ok(Block {
                size,
                lines: vec![ctx.line("certificate wording", text, style)?],
                colour,
            })
        };
        let fitted = |field: &str, text: &str, style, max, min, width, lines, colour| {
            ctx.fit(field, text, style, max, min, width, lines)
                .map(|(size, lines)| Block {
                    size,
                    lines,
                    colour,
                })
        };
        let wrapped = |field: &str, text: &str, style, size, width, max_lines, colour| {
            ctx.wrap(field, text, style, size, width, max_lines)
                .map(|lines| Block {
                    size,
                    lines,
                    colour,
                })
        };
        let (date_text, date_colour) = match cert.issued_on {
            Some(date) => (format_date(date), INK),
            None => ("Not yet issued".to_string(), WARN),
        };
        let not_issued = match cert.issued_on {
            Some(_) => None,
            None => Some(fixed("NOT YET ISSUED", Style::SansBold, 66.0, WARN)?),
        };
        Ok(Front {
            centre: fitted(
                "centre name",
                &cert.centre_name,
                Style::SansBold,
                15.0,
                11.0,
                COLUMN,
                2,
                ACCENT,
            )?,
            heading: fixed("Certificate of Achievement", Style::Serif, 30.0, ACCENT)?,
            certify: fixed("This is to certify that", Style::Serif, 13.0, MUTED)?,
            name: fitted(
                "learner name",
                &cert.learner_name,
                Style::SerifBold,
                32.0,
                18.0,
                COLUMN,
                3,
                INK,
            )?,
            achieved: fixed("has achieved", Style::Serif, 13.0, MUTED)?,
            qualification: fitted(
                "qualification title",
                &cert.qualification_title,
                Style::SerifBold,
                21.0,
                14.0,
                COLUMN,
                3,
                INK,
            )?,
            qualification_line: wrapped(
                "qualification code",
                &format!(
                    "Qualification {}  ·  Level {}",
                    cert.qualification_code, cert.qualification_level
                ),
                Style::Sans,
                11.0,
                COLUMN,
                2,
                INK,
            )?,
            with_major: fixed("with the major", Style::Serif, 12.0, MUTED)?,
            major: fitted(
                "major title",
                &cert.major_title,
                Style::SerifBold,
                16.0,
                12.0,
                COLUMN,
                2,
                INK,
            )?,
            major_line: wrapped(
                "major code",
                &format!("Major {}", cert.major_code),
                Style::Sans,
                10.0,
                COLUMN,
                2,
                MUTED,
            )?,
            date_label: fixed("DATE OF ISSUE", Style::Sans, 8.0, MUTED)?,
            date: fixed(&date_text, Style::SansBold, 13.0, date_colour)?,
            number_label: fixed("CREDENTIAL NUMBER", Style::Sans, 8.0, MUTED)?,
            number: fitted(
                "credential number",
                &cert.number,
                Style::SansBold,
                13.0,
                8.0,
                COLUMN - VERIFY_WIDTH - 20.0,
                2,
                INK,
            )?,
            centre_label: fixed("ISSUED BY", Style::Sans, 8.0, MUTED)?,
            centre_small: wrapped(
                "centre name",
                &cert.centre_name,
                Style::Sans,
                11.0,
                COLUMN - VERIFY_WIDTH - 20.0,
                3,
                INK,
            )?,
            verify_label: fixed("Scan to verify, or visit", Style::Sans, 7.5, MUTED)?,
            url: fitted(
                "verification address",
                &super::text::clean(&cert.verify_url),
                Style::Sans,
                8.0,
                6.0,
                VERIFY_WIDTH,
                4,
                INK,
            )?,
            footer: fixed(
                "The units achieved are listed in the transcript that follows.",
                Style::Sans,
                8.5,
                MUTED,
            )?,
            not_issued,
            qr: QrMatrix::encode(&cert.verify_url)?,
        })
    }

    /// The middle of the page, heading to major: each block with the space above it,
    /// and whether a rule goes under it.
    fn body(&self) -> [(&Block, f32, bool); 9] {
        [
            (&self.heading, 0.0, false),
            (&self.certify, 34.0, false),
            (&self.name, 18.0, true),
            (&self.achieved, 30.0, false),
            (&self.qualification, 14.0, false),
            (&self.qualification_line, 4.0, false),
            (&self.with_major, 24.0, false),
            (&self.major, 8.0, false),
            (&self.major_line, 2.0, false),
        ]
    }

    pub(crate) fn draw(&self, s: &mut Surface<'_>, fonts: &Fonts) {
        // The frame: a strong outer rule and a fine inner one.
        draw::frame(
            s,
            24.0,
            24.0,
            PAGE_WIDTH - 48.0,
            PAGE_HEIGHT - 48.0,
            2.4,
            ACCENT,
        );
        draw::frame(
            s,
            31.0,
            31.0,
            PAGE_WIDTH - 62.0,
            PAGE_HEIGHT - 62.0,
            0.6,
            ACCENT,
        );

        if let Some(mark) = &self.not_issued {
            // Behind everything else, corner to corner.
            let (cx, cy) = (PAGE_WIDTH / 2.0, PAGE_HEIGHT / 2.0);
            s.push_transform(&Transform::from_rotate_at(-54.7, cx, cy));
            for line in &mark.lines {
                let x = cx - line.width * mark.size / 2.0;
                draw::faint_text(
                    s,
                    fonts,
                    line,
                    mark.size,
                    mark.colour,
                    x,
                    cy + mark.size * 0.35,
                );
            }
            s.pop();
        }

        let y = centred(s, fonts, &self.centre, 84.0);
        let rule_y = y + 16.0;
        draw::rule(
            s,
            PAGE_WIDTH / 2.0 - 24.0,
            PAGE_WIDTH / 2.0 + 24.0,
            rule_y,
            1.2,
            ACCENT,
        );

        // The body sits in the middle of the space between the top and the details.
        let height: f32 = self
            .body()
            .iter()
            .map(|(block, gap, _)| gap + block.height())
            .sum();
        let space = (BOTTOM - 24.0) - (rule_y + 24.0);
        let mut y = rule_y + 24.0 + ((space - height) / 2.0).max(0.0);
        for (block, gap, underline) in self.body() {
            y = centred(s, fonts, block, y + gap);
            if underline {
                let under = y + block.size * 0.42 + 4.0;
                draw::rule(
                    s,
                    PAGE_WIDTH / 2.0 - 150.0,
                    PAGE_WIDTH / 2.0 + 150.0,
                    under,
                    0.8,
                    RULE,
                );
            }
        }

        let top = BOTTOM.max(y + 36.0);
        self.draw_details(s, fonts, top);
        self.draw_verification(s, fonts, top);

        let footer_y = PAGE_HEIGHT - 52.0;
        centred(
            s,
            fonts,
            &self.footer,
            footer_y - self.footer.size * LEADING,
        );
    }

    /// Date, number and centre, in the left column.
    fn draw_details(&self, s: &mut Surface<'_>, fonts: &Fonts, top: f32) {
        let mut y = top;
        for (label, value) in [
            (&self.date_label, &self.date),
            (&self.number_label, &self.number),
            (&self.centre_label, &self.centre_small),
        ] {
            y = left(s, fonts, label, y);
            y = left(s, fonts, value, y + 3.0) + 14.0;
        }
    }

    /// The QR code with the address under it, in the right column.
    fn draw_verification(&self, s: &mut Surface<'_>, fonts: &Fonts, top: f32) {
        let column_x = PAGE_WIDTH - MARGIN - VERIFY_WIDTH;
        let qr_x = column_x + (VERIFY_WIDTH - QR_SIDE) / 2.0;
        // The quiet zone is white space: pull the square up so the code lines up with the
        // first label.
        let qr_top = top - 12.0;
        self.qr.draw(s, qr_x, qr_top, QR_SIDE);
        let mut y = qr_top + QR_SIDE;
        for block in [&self.verify_label, &self.url] {
            for line in &block.lines {
                y += block.size * LEADING;
                draw::text(
                    s,
                    fonts,
                    line,
                    block.size,
                    block.colour,
                    Align::Centre,
                    column_x,
                    VERIFY_WIDTH,
                    y,
                );
            }
            y += 2.0;
        }
    }
}

/// Draws the block centred on the page below `y`; returns the last baseline.
fn centred(s: &mut Surface<'_>, fonts: &Fonts, block: &Block, y: f32) -> f32 {
    draw_block(s, fonts, block, Align::Centre, MARGIN, COLUMN, y)
}

fn left(s: &mut Surface<'_>, fonts: &Fonts, block: &Block, y: f32) -> f32 {
    draw_block(s, fonts, block, Align::Left, MARGIN, COLUMN, y)
}

fn draw_block(
    s: &mut Surface<'_>,
    fonts: &Fonts,
    block: &Block,
    align: Align,
    x: f32,
    width: f32,
    y: f32,
) -> f32 {
    let mut baseline = y;
    for line in &block.lines {
        baseline += block.size * LEADING;
        draw::text(
            s,
            fonts,
            line,
            block.size,
            block.colour,
            align,
            x,
            width,
            baseline,
        );
    }
    baseline
}
