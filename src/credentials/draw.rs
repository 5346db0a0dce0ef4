//! Small drawing helpers over a krilla surface: shaped lines, rules and boxes.
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;

use super::fonts::Fonts;
use super::text::Line;

/// The palette: dark ink for reading, one deep blue for structure (prints well in colour
/// and in greyscale), a muted grey for labels and a red for "not yet issued".
pub(crate) const INK: (u8, u8, u8) = (0x1a, 0x1a, 0x1a);
pub(crate) const ACCENT: (u8, u8, u8) = (0x1f, 0x3b, 0x5c);
pub(crate) const MUTED: (u8, u8, u8) = (0x5b, 0x63, 0x6e);
pub(crate) const RULE: (u8, u8, u8) = (0xc4, 0xcb, 0xd3);
pub(crate) const BAND: (u8, u8, u8) = (0xe8, 0xed, 0xf3);
pub(crate) const WARN: (u8, u8, u8) = (0xb4, 0x23, 0x18);

fn colour((r, g, b): (u8, u8, u8)) -> rgb::Color {
    rgb::Color::new(r, g, b)
}

pub(crate) fn fill(c: (u8, u8, u8)) -> Fill {
    Fill {
        paint: colour(c).into(),
        ..Fill::default()
    }
}

fn fill_with_opacity(c: (u8, u8, u8), opacity: f32) -> Fill {
    Fill {
        paint: colour(c).into(),
        opacity: NormalizedF32::new(opacity).unwrap_or(NormalizedF32::ONE),
        ..Fill::default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Centre,
    Right,
}

/// Draws a shaped line with its baseline at `y`, placed in the box from `x` of `width`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn text(
    surface: &mut Surface<'_>,
    fonts: &Fonts,
    line: &Line,
    size: f32,
    c: (u8, u8, u8),
    align: Align,
    x: f32,
    width: f32,
    y: f32,
) {
    let start = match align {
        Align::Left => x,
        Align::Centre => x + (width - line.width * size) / 2.0,
        Align::Right => x + width - line.width * size,
    };
    glyphs(surface, fonts, line, size, fill(c), start, y);
}

/// Like [`text`] but faint: for a background marking.
pub(crate) fn faint_text(
    surface: &mut Surface<'_>,
    fonts: &Fonts,
    line: &Line,
    size: f32,
    c: (u8, u8, u8),
    x: f32,
    y: f32,
) {
    glyphs(surface, fonts, line, size, fill_with_opacity(c, 0.16), x, y);
}

fn glyphs(
    surface: &mut Surface<'_>,
    fonts: &Fonts,
    line: &Line,
    size: f32,
    paint: Fill,
    x: f32,
    y: f32,
) {
    surface.set_fill(Some(paint));
    surface.set_stroke(None);
    let mut pen = x;
    for run in &line.runs {
        if let Some(font) = fonts.fonts.get(run.font) {
            surface.draw_glyphs(
                Point::from_xy(pen, y),
                &run.glyphs,
                font.pdf.clone(),
                &run.text,
                size,
                false,
            );
        }
        pen += run.width * size;
    }
}

pub(crate) fn rect(surface: &mut Surface<'_>, x: f32, y: f32, w: f32, h: f32, c: (u8, u8, u8)) {
    let Some(r) = Rect::from_xywh(x, y, w, h) else {
        return;
    };
    let mut pb = PathBuilder::new();
    pb.push_rect(r);
    if let Some(path) = pb.finish() {
        surface.set_stroke(None);
        surface.set_fill(Some(fill(c)));
        surface.draw_path(&path);
    }
}

/// An outlined rectangle (the certificate's frame).
pub(crate) fn frame(
    surface: &mut Surface<'_>,
    x: f32,
    y: f32,
    w: f32,
    h: f32,
    line_width: f32,
    c: (u8, u8, u8),
) {
    let Some(r) = Rect::from_xywh(x, y, w, h) else {
        return;
    };
    let mut pb = PathBuilder::new();
    pb.push_rect(r);
    if let Some(path) = pb.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: colour(c).into(),
            width: line_width,
            ..Stroke::default()
        }));
        surface.draw_path(&path);
        surface.set_stroke(None);
    }
}

/// A horizontal rule from `x1` to `x2`, `thickness` points thick, centred on `y`.
pub(crate) fn rule(
    surface: &mut Surface<'_>,
    x1: f32,
    x2: f32,
    y: f32,
    thickness: f32,
    c: (u8, u8, u8),
) {
    rect(surface, x1, y - thickness / 2.0, x2 - x1, thickness, c);
}
