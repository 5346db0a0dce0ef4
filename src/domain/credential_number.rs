//! Credential numbers (SPEC §6): "typeable and not guessable: at least 50 random bits,
//! Crockford base32 with a check character; a mistyped number is told apart from an
//! unknown one."
//!
//! A number is 60 random bits written as twelve Crockford base32 symbols in groups of
//! four, then Crockford's mod-37 check symbol: `7Q3M-0KXD-R9TB-*`. The check symbol
//! catches every single mistyped symbol and every swap of two neighbours, so
//! [`CredentialNumber::parse`] can say "mistyped" without a look-up; a number that
//! parses but is not in the register is "unknown" (the caller's look-up says so).
//!
//! The five check-only symbols `*~$=U` are all legal in a URL path (`*$=` are RFC 3986
//! sub-delims, `~` unreserved), but link finders in mail and chat drop a trailing `*`
//! or `~` as punctuation, so [`CredentialNumber::url_segment`] percent-encodes them
//! (`%2A`): a printed or e-mailed address then ends in a letter or digit. `parse`
//! takes either form, so a person who types `*` or copies `%2A` is understood.
use std::fmt;

/// Crockford's 32 symbols, by value.
const SYMBOLS: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// The check symbols for values 32..=36; they never appear among the data symbols.
const CHECK_ONLY: &[u8; 5] = b"*~$=U";
/// Data symbols in a number (5 bits each).
pub(crate) const DATA_SYMBOLS: usize = 12;
/// Random bits in a number.
pub(crate) const RANDOM_BITS: u32 = 5 * DATA_SYMBOLS as u32;
/// Symbols a person types: the data symbols and the check symbol.
pub(crate) const TYPED_SYMBOLS: usize = DATA_SYMBOLS + 1;
const GROUP: usize = 4;

/// A well-formed credential number whose check symbol matches. Displays in its one
/// canonical form (`XXXX-XXXX-XXXX-C`), which is what the register stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CredentialNumber(u64);

/// Why typed text is not a credential number. Each is a typing mistake: the number
/// cannot be in the register, so no look-up is needed to say so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error(
        "A credential number has 13 characters (ignoring dashes and spaces); this has {found}."
    )]
    WrongLength { found: usize },
    #[error("\"{found}\" cannot appear at character {position} of a credential number.")]
    InvalidCharacter { found: char, position: usize },
    #[error("This number has been mistyped: its last character does not match the others. Check each character and try again.")]
    CheckMismatch,
}

impl CredentialNumber {
    /// Random bytes a new number needs.
    pub(crate) const RANDOM_BYTES: usize = 8;

    /// A new number from the caller's random bytes (the top 60 bits are used), so the
    /// domain stays free of IO; the caller draws them from the operating system.
    pub fn from_random(bytes: [u8; Self::RANDOM_BYTES]) -> Self {
        CredentialNumber(u64::from_be_bytes(bytes) >> (64 - RANDOM_BITS))
    }

    /// The number with this value, if it fits in 60 bits.
    pub fn from_value(value: u64) -> Option<Self> {
        (value >> RANDOM_BITS == 0).then_some(CredentialNumber(value))
    }

    pub fn value(self) -> u64 {
        self.0
    }

    /// Crockford's check symbol: the value modulo 37, with 32..=36 written `*~$=U`.
    pub(crate) fn check_symbol(self) -> char {
        symbol((self.0 % 37) as u8)
    }

    /// The form for a URL path: the canonical form with a check-only symbol
    /// percent-encoded (`U` needs nothing), see the module comment.
    pub fn url_segment(self) -> String {
        let text = self.to_string();
        match self.check_symbol() {
            c @ ('*' | '~' | '$' | '=') => {
                format!("{}%{:02X}", &text[..text.len() - 1], c as u32)
            }
            _ => text,
        }
    }

    /// Reads a typed number the way Crockford says to: case does not matter, `I` and
    /// `L` are read as `1` and `O` as `0`, and dashes and spaces are ignored. A
    /// percent-encoded check symbol (copied from an address) is understood too.
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        let symbols = symbols_of(text)?;
        if symbols.len() != TYPED_SYMBOLS {
            return Err(NumberError::WrongLength {
                found: symbols.len(),
            });
        }
        let mut value = 0u64;
        for &(position, found, v) in &symbols[..DATA_SYMBOLS] {
            if v >= 32 {
                return Err(NumberError::InvalidCharacter { found, position });
            }
            value = value << 5 | u64::from(v);
        }
        let (_, _, check) = symbols[DATA_SYMBOLS];
        if u64::from(check) != value % 37 {
            return Err(NumberError::CheckMismatch);
        }
        Ok(CredentialNumber(value))
    }
}

/// The symbols of `text` as (1-based character position, character, value 0..=36),
/// skipping separators; the first character that is no symbol at all is an error.
fn symbols_of(text: &str) -> Result<Vec<(usize, char, u8)>, NumberError> {
    let text = decode_percent_check(text.trim());
    let mut out = Vec::with_capacity(TYPED_SYMBOLS);
    for (i, found) in text.chars().enumerate() {
        if is_separator(found) {
            continue;
        }
        match value_of(found) {
            Some(v) => out.push((i + 1, found, v)),
            None => {
                return Err(NumberError::InvalidCharacter {
                    found,
                    position: i + 1,
                })
            }
        }
    }
    Ok(out)
}

/// Dashes (including the typographic ones a PDF viewer copies) and white space.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

/// `%2A`, `%7E`, `%24` and `%3D` (any case) back to `*~$=`.
fn decode_percent_check(text: &str) -> String {
    let mut out = text.to_string();
    for (encoded, plain) in [("%2A", "*"), ("%7E", "~"), ("%24", "$"), ("%3D", "=")] {
        out = out
            .replace(encoded, plain)
            .replace(&encoded.to_ascii_lowercase(), plain);
    }
    out
}

fn value_of(c: char) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        'I' | 'L' => '1',
        'O' => '0',
        c => c,
    };
    let b = u8::try_from(c).ok()?;
    SYMBOLS
        .iter()
        .chain(CHECK_ONLY)
        .position(|&s| s == b)
        .map(|p| p as u8)
}

fn symbol(value: u8) -> char {
    let v = usize::from(value);
    char::from(if v < 32 {
        SYMBOLS[v]
    } else {
        CHECK_ONLY[v - 32]
    })
}

impl fmt::Display for CredentialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in 0..DATA_SYMBOLS {
            if i > 0 && i % GROUP == 0 {
                f.write_str("-")?;
            }
            let shift = 5 * (DATA_SYMBOLS - 1 - i);
            write!(f, "{}", symbol(((self.0 >> shift) & 31) as u8))?;
        }
        write!(f, "-{}", self.check_symbol())
    }
}

impl std::str::FromStr for CredentialNumber {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
#[path = "credential_number_tests.rs"]
mod tests;
