//! The fonts a credential is printed with: read once at start, then shared by every render.
//!
//! Four Latin faces (DejaVu Serif and Sans, regular and bold, which also cover Vietnamese
//! and Māori) and fallbacks tried character by character for what they lack: Amiri for
//! Arabic, Droid Sans Fallback for Chinese, Japanese and Korean. All come from Debian
//! packages (fonts-dejavu-core, fonts-hosny-amiri, fonts-droid-fallback).
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::PdfError;

/// Environment variable naming a folder to find the font files in (searched recursively by
/// file name) instead of the Debian locations.
pub const FONT_DIR_ENV: &str = "ATTEST_FONT_DIR";

/// Which of the four faces a piece of text is set in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Style {
    Serif,
    SerifBold,
    Sans,
    SansBold,
}

impl Style {
    fn index(self) -> usize {
        match self {
            Style::Serif => 0,
            Style::SerifBold => 1,
            Style::Sans => 2,
            Style::SansBold => 3,
        }
    }

    fn is_bold(self) -> bool {
        matches!(self, Style::SerifBold | Style::SansBold)
    }
}

/// A fallback font for characters the main faces lack, with its bold (the same file when
/// the family has no bold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    pub regular: PathBuf,
    pub bold: PathBuf,
}

/// Where each font file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FontFiles {
    pub serif: PathBuf,
    pub serif_bold: PathBuf,
    pub sans: PathBuf,
    pub sans_bold: PathBuf,
    /// Tried in this order for a character the face itself lacks.
    pub fallbacks: Vec<Fallback>,
}

const SERIF: &str = "DejaVuSerif.ttf";
const SERIF_BOLD: &str = "DejaVuSerif-Bold.ttf";
const SANS: &str = "DejaVuSans.ttf";
const SANS_BOLD: &str = "DejaVuSans-Bold.ttf";
const ARABIC: &str = "Amiri-Regular.ttf";
const ARABIC_BOLD: &str = "Amiri-Bold.ttf";
const CJK: &str = "DroidSansFallbackFull.ttf";

impl FontFiles {
    /// Where Debian's fonts-dejavu-core, fonts-hosny-amiri and fonts-droid-fallback put them.
    pub fn debian() -> FontFiles {
        let dejavu = Path::new("/usr/share/fonts/truetype/dejavu");
        let amiri = Path::new("/usr/share/fonts/opentype/fonts-hosny-amiri");
        let droid = Path::new("/usr/share/fonts/truetype/droid");
        FontFiles {
            serif: dejavu.join(SERIF),
            serif_bold: dejavu.join(SERIF_BOLD),
            sans: dejavu.join(SANS),
            sans_bold: dejavu.join(SANS_BOLD),
            fallbacks: vec![
                Fallback {
                    regular: amiri.join(ARABIC),
                    bold: amiri.join(ARABIC_BOLD),
                },
                Fallback {
                    regular: droid.join(CJK),
                    bold: droid.join(CJK),
                },
            ],
        }
    }

    /// The same files found by name anywhere under `dir` (e.g. a folder they were copied
    /// into, or another system's font tree). A file not found there is an error naming it.
    pub fn find_in(dir: &Path) -> Result<FontFiles, PdfError> {
        let mut found = HashMap::new();
        collect_files(dir, 0, &mut found);
        let get = |name: &str| {
            found
                .get(name)
                .cloned()
                .ok_or_else(|| PdfError::FontNotFound {
                    file: name.to_string(),
                    dir: dir.to_path_buf(),
                })
        };
        Ok(FontFiles {
            serif: get(SERIF)?,
            serif_bold: get(SERIF_BOLD)?,
            sans: get(SANS)?,
            sans_bold: get(SANS_BOLD)?,
            fallbacks: vec![
                Fallback {
                    regular: get(ARABIC)?,
                    bold: get(ARABIC_BOLD)?,
                },
                Fallback {
                    regular: get(CJK)?,
                    bold: get(CJK)?,
                },
            ],
        })
    }

    /// `ATTEST_FONT_DIR` when set, else the Debian locations.
    pub fn from_env() -> Result<FontFiles, PdfError> {
        match std::env::var_os(FONT_DIR_ENV) {
            Some(dir) if !dir.is_empty() => FontFiles::find_in(Path::new(&dir)),
            _ => Ok(FontFiles::debian()),
        }
    }
}

/// Font trees are shallow; the bound only guards against a symlink loop.
const MAX_DEPTH: usize = 8;

fn collect_files(dir: &Path, depth: usize, found: &mut HashMap<String, PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if depth < MAX_DEPTH {
                collect_files(&path, depth + 1, found);
            }
        } else if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            found.entry(name.to_string()).or_insert(path);
        }
    }
}

/// One font file, read and checked.
pub(crate) struct LoadedFont {
    pub(crate) data: Arc<Vec<u8>>,
    pub(crate) pdf: krilla::text::Font,
}

/// The loaded fonts. Cheap to share: render takes `&Fonts`.
pub struct Fonts {
    pub(crate) fonts: Vec<LoadedFont>,
    /// For each style, the fonts to try in order (indexes into `fonts`).
    chains: [Vec<usize>; 4],
}

impl Fonts {
    /// Reads and checks every file. A missing or unreadable file is an error naming it.
    pub fn load(files: &FontFiles) -> Result<Fonts, PdfError> {
        let mut fonts = Vec::new();
        let mut by_path: HashMap<PathBuf, usize> = HashMap::new();
        let mut index_of = |path: &Path| -> Result<usize, PdfError> {
            if let Some(&i) = by_path.get(path) {
                return Ok(i);
            }
            fonts.push(read_font(path)?);
            by_path.insert(path.to_path_buf(), fonts.len() - 1);
            Ok(fonts.len() - 1)
        };
        let mut chains: [Vec<usize>; 4] = Default::default();
        for (style, main) in [
            (Style::Serif, &files.serif),
            (Style::SerifBold, &files.serif_bold),
            (Style::Sans, &files.sans),
            (Style::SansBold, &files.sans_bold),
        ] {
            let mut chain = vec![index_of(main)?];
            for fallback in &files.fallbacks {
                let path = if style.is_bold() {
                    &fallback.bold
                } else {
                    &fallback.regular
                };
                chain.push(index_of(path)?);
            }
            chains[style.index()] = chain;
        }
        Ok(Fonts { fonts, chains })
    }

    /// Loads from `ATTEST_FONT_DIR` or the Debian locations.
    pub fn from_env() -> Result<Fonts, PdfError> {
        Fonts::load(&FontFiles::from_env()?)
    }

    pub(crate) fn chain(&self, style: Style) -> &[usize] {
        &self.chains[style.index()]
    }
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts")
            .field("count", &self.fonts.len())
            .finish()
    }
}

fn read_font(path: &Path) -> Result<LoadedFont, PdfError> {
    let bytes = std::fs::read(path).map_err(|e| PdfError::FontUnreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let not_a_font = || PdfError::FontUnreadable {
        path: path.to_path_buf(),
        reason: "not a TrueType or OpenType font".to_string(),
    };
    // Checked here so that shaping at render time cannot meet an unparsable face.
    rustybuzz::Face::from_slice(&bytes, 0).ok_or_else(not_a_font)?;
    let data = Arc::new(bytes);
    let pdf =
        krilla::text::Font::new(krilla::Data::from(data.clone()), 0).ok_or_else(not_a_font)?;
    Ok(LoadedFont { data, pdf })
}

// The server loads the fonts once and shares them between requests and jobs.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Fonts>();
};
