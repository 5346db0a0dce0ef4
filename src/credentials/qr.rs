//! The verification address as a QR code, drawn as vector squares so it stays sharp at any
//! print resolution.
use krilla::geom::{PathBuilder, Rect};
use krilla::surface::Surface;
use qrcode::{Color, EcLevel, QrCode};

use super::draw::{fill, INK};
use super::PdfError;

/// The modules of an encoded address: rows of dark (true) and light.
pub(crate) struct QrMatrix {
    width: usize,
    dark: Vec<bool>,
}

/// White modules around the code, as scanners expect.
const QUIET_ZONE: usize = 4;

impl QrMatrix {
    pub(crate) fn encode(url: &str) -> Result<QrMatrix, PdfError> {
        // Level M survives a fold or a smudge on paper and keeps the code small.
        let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
            .map_err(|e| PdfError::Qr(e.to_string()))?;
        Ok(QrMatrix {
            width: code.width(),
            dark: code.to_colors().iter().map(|c| *c == Color::Dark).collect(),
        })
    }

    /// Draws the code in the square at (`x`, `y`) of side `side` points, quiet zone included.
    pub(crate) fn draw(&self, surface: &mut Surface<'_>, x: f32, y: f32, side: f32) {
        let width = self.width;
        let module = side / (width + 2 * QUIET_ZONE) as f32;
        let origin_x = x + QUIET_ZONE as f32 * module;
        let origin_y = y + QUIET_ZONE as f32 * module;
        let is_dark = |row: usize, col: usize| self.dark.get(row * width + col) == Some(&true);

        // One path, one rectangle per horizontal stretch of dark modules: short, and
        // filled as a whole so no hairline seams show between neighbours.
        let mut pb = PathBuilder::new();
        for row in 0..width {
            let mut col = 0;
            while col < width {
                if !is_dark(row, col) {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < width && is_dark(row, col) {
                    col += 1;
                }
                if let Some(r) = Rect::from_xywh(
                    origin_x + start as f32 * module,
                    origin_y + row as f32 * module,
                    (col - start) as f32 * module,
                    module,
                ) {
                    pb.push_rect(r);
                }
            }
        }
        if let Some(path) = pb.finish() {
            surface.set_stroke(None);
            surface.set_fill(Some(fill(INK)));
            surface.draw_path(&path);
        }
    }
}
