//! Turning a string into positioned glyphs: font fallback per character, right-to-left
//! runs (Unicode bidi), shaping (rustybuzz, so Arabic joins), measuring and wrapping.
//!
//! Widths here are in em (multiply by the font size for points).
use std::cell::RefCell;
use std::collections::HashMap;

use krilla::text::{GlyphId, KrillaGlyph};
use rustybuzz::{Direction, Script, ShapePlan, UnicodeBuffer};
use unicode_bidi::BidiInfo;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use super::fonts::{Fonts, Style};

/// A character no font can draw: the caller names the field it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Uncovered(pub(crate) char);

/// Glyphs of one font, in visual order, with the text they stand for.
pub(crate) struct Run {
    pub(crate) font: usize,
    pub(crate) text: String,
    pub(crate) glyphs: Vec<KrillaGlyph>,
    pub(crate) width: f32,
}

/// One line of text ready to draw: runs left to right.
pub(crate) struct Line {
    pub(crate) runs: Vec<Run>,
    pub(crate) width: f32,
}

/// Shaping faces for one render, borrowed from the loaded fonts.
pub(crate) struct Shaper<'f> {
    fonts: &'f Fonts,
    /// Indexed like `fonts.fonts`; `None` never happens for fonts that passed `Fonts::load`.
    faces: Vec<Option<rustybuzz::Face<'f>>>,
    /// Building a shaping plan costs more than shaping a short line: one per font,
    /// direction and script, reused for every line of the render.
    plans: RefCell<HashMap<(usize, bool, Script), ShapePlan>>,
    /// Word widths for wrapping: unit titles share most of their words.
    widths: RefCell<HashMap<(Style, String), f32>>,
}

/// What a printed field may hold: NFC (so "e" + combining diaeresis finds the precomposed
/// glyph) and no control characters (a newline or tab in a name prints as a space).
pub(crate) fn clean(text: &str) -> String {
    let normal: String = text
        .nfc()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect();
    normal.trim().to_string()
}

/// Characters that draw nothing (joiners, direction marks, variation selectors): they go
/// with the font around them and need no glyph of their own.
fn is_ignorable(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}' | '\u{E0100}'..='\u{E01EF}')
}

fn is_mark(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::NonspacingMark
            | GeneralCategory::SpacingMark
            | GeneralCategory::EnclosingMark
    )
}

impl<'f> Shaper<'f> {
    pub(crate) fn new(fonts: &'f Fonts) -> Shaper<'f> {
        let faces = fonts
            .fonts
            .iter()
            .map(|f| rustybuzz::Face::from_slice(&f.data, 0))
            .collect();
        Shaper {
            fonts,
            faces,
            plans: RefCell::new(HashMap::new()),
            widths: RefCell::new(HashMap::new()),
        }
    }

    fn covers(&self, font: usize, c: char) -> bool {
        self.faces
            .get(font)
            .and_then(Option::as_ref)
            .is_some_and(|face| face.glyph_index(c).is_some())
    }

    /// The font for `c`: a mark, joiner or space stays with the font before it so a
    /// cluster is never split; otherwise the first font of the style's chain that has it.
    fn pick(&self, chain: &[usize], c: char, prev: Option<usize>) -> Result<usize, Uncovered> {
        if let Some(p) = prev {
            if is_ignorable(c) || ((is_mark(c) || c.is_whitespace()) && self.covers(p, c)) {
                return Ok(p);
            }
        }
        if let Some(&f) = chain.iter().find(|&&f| self.covers(f, c)) {
            return Ok(f);
        }
        if is_ignorable(c) {
            return Ok(prev.unwrap_or(chain[0]));
        }
        Err(Uncovered(c))
    }

    /// Shapes one line (no wrapping). `text` should have been through [`clean`].
    pub(crate) fn line(&self, text: &str, style: Style) -> Result<Line, Uncovered> {
        let mut runs = Vec::new();
        if text.is_empty() {
            return Ok(Line { runs, width: 0.0 });
        }
        let chain = self.fonts.chain(style);
        let bidi = BidiInfo::new(text, None);
        for para in &bidi.paragraphs {
            let (levels, level_runs) = bidi.visual_runs(para, para.range.clone());
            for range in level_runs {
                let rtl = levels[range.start].is_rtl();
                let mut pieces = self.split_by_font(&text[range.clone()], chain)?;
                // Within a right-to-left run the first logical piece is drawn rightmost.
                if rtl {
                    pieces.reverse();
                }
                for (font, piece) in pieces {
                    runs.push(self.shape(font, piece, rtl));
                }
            }
        }
        let width = runs.iter().map(|r| r.width).sum();
        Ok(Line { runs, width })
    }

    fn split_by_font<'t>(
        &self,
        text: &'t str,
        chain: &[usize],
    ) -> Result<Vec<(usize, &'t str)>, Uncovered> {
        let mut pieces: Vec<(usize, &'t str)> = Vec::new();
        let mut start = 0;
        let mut current: Option<usize> = None;
        for (i, c) in text.char_indices() {
            let font = self.pick(chain, c, current)?;
            match current {
                Some(f) if f != font => {
                    pieces.push((f, &text[start..i]));
                    start = i;
                }
                _ => {}
            }
            current = Some(font);
        }
        if let Some(f) = current {
            pieces.push((f, &text[start..]));
        }
        Ok(pieces)
    }

    fn shape(&self, font: usize, text: &str, rtl: bool) -> Run {
        let Some(face) = self.faces.get(font).and_then(Option::as_ref) else {
            return Run {
                font,
                text: text.to_string(),
                glyphs: Vec::new(),
                width: 0.0,
            };
        };
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        let script = buffer.script();
        buffer.set_script(script);
        let direction = if rtl {
            Direction::RightToLeft
        } else {
            Direction::LeftToRight
        };
        buffer.set_direction(direction);
        let mut plans = self.plans.borrow_mut();
        let plan = plans
            .entry((font, rtl, script))
            .or_insert_with(|| ShapePlan::new(face, direction, Some(script), None, &[]));
        let output = rustybuzz::shape_with_plan(face, plan, buffer);
        let upem = (face.units_per_em() as f32).max(1.0);
        // A glyph stands for the text from its cluster to the next cluster in logical
        // order, whichever way the glyphs run.
        let mut starts: Vec<usize> = output
            .glyph_infos()
            .iter()
            .map(|i| i.cluster as usize)
            .collect();
        starts.sort_unstable();
        starts.dedup();
        let mut width = 0.0;
        let glyphs = output
            .glyph_infos()
            .iter()
            .zip(output.glyph_positions())
            .map(|(info, pos)| {
                let start = info.cluster as usize;
                let end = starts
                    .iter()
                    .copied()
                    .find(|&s| s > start)
                    .unwrap_or(text.len());
                let advance = pos.x_advance as f32 / upem;
                width += advance;
                KrillaGlyph::new(
                    GlyphId::new(info.glyph_id),
                    advance,
                    pos.x_offset as f32 / upem,
                    pos.y_offset as f32 / upem,
                    pos.y_advance as f32 / upem,
                    start..end,
                    None,
                )
            })
            .collect();
        Run {
            font,
            text: text.to_string(),
            glyphs,
            width,
        }
    }

    fn width(&self, word: &str, style: Style) -> Result<f32, Uncovered> {
        if let Some(&w) = self.widths.borrow().get(&(style, word.to_string())) {
            return Ok(w);
        }
        let w = self.line(word, style)?.width;
        self.widths
            .borrow_mut()
            .insert((style, word.to_string()), w);
        Ok(w)
    }

    /// Breaks `text` into lines no wider than `max_width` em, at spaces, and inside a word
    /// only when the word alone is too wide. Each word is measured once and each line
    /// shaped once (word widths add up: shaping does not reach across a space).
    pub(crate) fn wrap(
        &self,
        text: &str,
        style: Style,
        max_width: f32,
    ) -> Result<Vec<Line>, Uncovered> {
        let space = self.width(" ", style)?;
        let mut lines = Vec::new();
        let mut current = String::new();
        let mut current_width = 0.0;
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let width = self.width(word, style)?;
            if !current.is_empty() {
                if current_width + space + width <= max_width {
                    current.push(' ');
                    current.push_str(word);
                    current_width += space + width;
                    continue;
                }
                lines.push(self.line(&current, style)?);
            }
            if width <= max_width {
                current = word.to_string();
                current_width = width;
            } else {
                let (done, rest, rest_width) = self.break_word(word, style, max_width)?;
                lines.extend(done);
                current = rest;
                current_width = rest_width;
            }
        }
        if !current.is_empty() || lines.is_empty() {
            lines.push(self.line(&current, style)?);
        }
        Ok(lines)
    }

    /// A word wider than the line, cut between characters: the full lines, and the rest
    /// with its width.
    fn break_word(
        &self,
        word: &str,
        style: Style,
        max_width: f32,
    ) -> Result<(Vec<Line>, String, f32), Uncovered> {
        let mut lines = Vec::new();
        let mut piece = String::new();
        let mut piece_width = 0.0;
        let mut buf = [0u8; 4];
        for c in word.chars() {
            let width = self.width(c.encode_utf8(&mut buf), style)?;
            if !piece.is_empty() && piece_width + width > max_width {
                lines.push(self.line(&piece, style)?);
                piece.clear();
                piece_width = 0.0;
            }
            piece.push(c);
            piece_width += width;
        }
        Ok((lines, piece, piece_width))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> Fonts {
        Fonts::from_env().expect("credential fonts installed (scripts/test)")
    }

    #[test]
    fn arabic_letters_take_their_joined_forms() {
        let fonts = fonts();
        let shaper = Shaper::new(&fonts);
        let word = "فاطمة";
        let joined: Vec<u32> = shaper.line(word, Style::SerifBold).expect("line").runs[0]
            .glyphs
            .iter()
            .map(|g| g.glyph_id.to_u32())
            .collect();
        let isolated: Vec<u32> = word
            .chars()
            .rev()
            .map(|c| {
                let line = shaper.line(&c.to_string(), Style::SerifBold).expect("line");
                line.runs[0].glyphs[0].glyph_id.to_u32()
            })
            .collect();
        assert_ne!(joined, isolated, "shaping chose initial/medial/final forms");
    }

    #[test]
    fn right_to_left_runs_are_drawn_last_letter_first() {
        let fonts = fonts();
        let shaper = Shaper::new(&fonts);
        let line = shaper.line("فاطمة", Style::Serif).expect("line");
        let glyphs = &line.runs[0].glyphs;
        let first = glyphs.first().expect("glyphs").text_range.start;
        let last = glyphs.last().expect("glyphs").text_range.start;
        assert!(first > last, "leftmost glyph is the word's last letter");
    }

    #[test]
    fn a_latin_run_before_an_arabic_one_stays_on_the_left() {
        let fonts = fonts();
        let shaper = Shaper::new(&fonts);
        let line = shaper.line("Dr فاطمة", Style::Serif).expect("line");
        assert_eq!(line.runs.first().map(|r| r.text.as_str()), Some("Dr "));
        assert_eq!(line.runs.last().map(|r| r.text.as_str()), Some("فاطمة"));
        assert_ne!(
            line.runs[0].font, line.runs[1].font,
            "Arabic from its own font"
        );
    }

    #[test]
    fn each_character_falls_back_to_the_first_font_that_has_it() {
        let fonts = fonts();
        let shaper = Shaper::new(&fonts);
        let line = shaper.line("Minh 王小明", Style::Sans).expect("line");
        let texts: Vec<&str> = line.runs.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["Minh ", "王小明"]);
        assert_eq!(
            shaper.line("\u{13000}", Style::Sans).err(),
            Some(Uncovered('\u{13000}'))
        );
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_inside_a_word_only_when_it_must() {
        let fonts = fonts();
        let shaper = Shaper::new(&fonts);
        let lines = shaper
            .wrap("one two three four", Style::Sans, 5.5)
            .expect("wrap");
        let texts: Vec<String> = lines
            .iter()
            .map(|l| l.runs.iter().map(|r| r.text.as_str()).collect())
            .collect();
        assert_eq!(texts, ["one two", "three four"]);
        assert!(lines.iter().all(|l| l.width <= 5.5));
        let long = shaper
            .wrap(&"x".repeat(40), Style::Sans, 5.0)
            .expect("wrap");
        assert!(long.len() > 1 && long.iter().all(|l| l.width <= 5.0));
    }

    #[test]
    fn cleaning_composes_accents_and_blanks_control_characters() {
        assert_eq!(clean(" Zoe\u{0308}\n\tŌtaki "), "Zoë  Ōtaki");
    }
}
