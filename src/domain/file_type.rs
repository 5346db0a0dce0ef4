//! What an evidence file really is, read from its content and never from its name or
//! the type the browser claimed (issue 15): the allow-list of what evidence may hold,
//! and which of those a page may show in place (photos, video and audio, which run no
//! code) rather than offer as a download.

/// The kinds of file evidence holds, each with its own formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Photo,
    Video,
    Audio,
    Document,
}

impl Family {
    /// Shown in the page (an image, a player) rather than only downloaded.
    pub fn plays_in_page(self) -> bool {
        match self {
            Family::Photo | Family::Video | Family::Audio => true,
            Family::Document => false,
        }
    }
}

/// A file's format as its content shows, on the allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileType {
    pub mime: &'static str,
    pub family: Family,
}

/// Formats evidence may hold, by the MIME type the content's signature gives
/// (`infer`'s names). Everything else is refused: programs, archives, scripts.
const ALLOWED: &[(&str, Family)] = &[
    ("image/jpeg", Family::Photo),
    ("image/png", Family::Photo),
    ("image/gif", Family::Photo),
    ("image/webp", Family::Photo),
    ("image/heif", Family::Photo),
    ("image/avif", Family::Photo),
    ("image/tiff", Family::Photo),
    ("image/bmp", Family::Photo),
    ("video/mp4", Family::Video),
    ("video/x-m4v", Family::Video),
    ("video/quicktime", Family::Video),
    ("video/webm", Family::Video),
    ("video/x-matroska", Family::Video),
    ("video/mpeg", Family::Video),
    ("video/x-msvideo", Family::Video),
    ("audio/mpeg", Family::Audio),
    ("audio/m4a", Family::Audio),
    ("audio/aac", Family::Audio),
    ("audio/ogg", Family::Audio),
    ("audio/opus", Family::Audio),
    ("audio/x-wav", Family::Audio),
    ("audio/x-flac", Family::Audio),
    ("audio/amr", Family::Audio),
    ("application/pdf", Family::Document),
    ("application/rtf", Family::Document),
    ("application/msword", Family::Document),
    ("application/vnd.ms-excel", Family::Document),
    ("application/vnd.ms-powerpoint", Family::Document),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Family::Document,
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Family::Document,
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        Family::Document,
    ),
    ("application/vnd.oasis.opendocument.text", Family::Document),
    (
        "application/vnd.oasis.opendocument.spreadsheet",
        Family::Document,
    ),
    (
        "application/vnd.oasis.opendocument.presentation",
        Family::Document,
    ),
];

/// Plain text (a witness statement typed up, notes, a CSV): no signature, so it is text
/// when its start is UTF-8 with no control characters but layout ones. A start cut in
/// the middle of a character still counts.
pub const TEXT: FileType = FileType {
    mime: "text/plain",
    family: Family::Document,
};

fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // At most three bytes of a character cut off by the end of the start.
        Err(e) if e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => {
            match std::str::from_utf8(&head[..e.valid_up_to()]) {
                Ok(t) => t,
                Err(_) => return false,
            }
        }
        Err(_) => return false,
    };
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
}

/// Why a file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAllowed {
    #[error("is empty")]
    Empty,
    #[error("is not a photo, video, audio recording or document evidence can hold")]
    Format,
}

/// Judges a file from the signature found in its first bytes (`signature`, the MIME
/// type a content sniffer read there, if any) and those bytes themselves.
pub fn judge(signature: Option<&str>, head: &[u8]) -> Result<FileType, NotAllowed> {
    if head.is_empty() {
        return Err(NotAllowed::Empty);
    }
    match signature {
        Some(mime) => ALLOWED
            .iter()
            .find(|(m, _)| *m == mime)
            .map(|&(mime, family)| FileType { mime, family })
            .ok_or(NotAllowed::Format),
        None if looks_like_text(head) => Ok(TEXT),
        None => Err(NotAllowed::Format),
    }
}

/// What the evidence page shows a file as, from the type kept with it: a photo, a
/// player, or a link only.
pub fn family_of(kept_mime: &str) -> Option<Family> {
    if kept_mime == TEXT.mime {
        return Some(Family::Document);
    }
    ALLOWED
        .iter()
        .find(|(m, _)| *m == kept_mime)
        .map(|&(_, family)| family)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn signatures_on_the_list_are_kept_with_their_family() {
        assert_eq!(
            judge(Some("video/mp4"), b"....ftypisom"),
            Ok(FileType {
                mime: "video/mp4",
                family: Family::Video
            })
        );
        assert_eq!(
            judge(Some("application/pdf"), b"%PDF-1.7").map(|t| t.family),
            Ok(Family::Document)
        );
        assert!(Family::Video.plays_in_page());
        assert!(!Family::Document.plays_in_page());
    }

    #[test]
    fn programs_archives_and_binary_without_a_signature_are_refused() {
        for mime in [
            "application/vnd.microsoft.portable-executable",
            "application/x-executable",
            "application/zip",
            "application/wasm",
            "text/xml",
        ] {
            assert_eq!(
                judge(Some(mime), b"MZ\x90\0"),
                Err(NotAllowed::Format),
                "{mime}"
            );
        }
        assert_eq!(judge(None, b"\x00\x01\x02binary"), Err(NotAllowed::Format));
        assert_eq!(judge(None, b""), Err(NotAllowed::Empty));
    }

    #[test]
    fn text_is_text_even_cut_in_the_middle_of_a_character() {
        assert_eq!(judge(None, "Ms Ōtaki signed — ok\n".as_bytes()), Ok(TEXT));
        let cut = &"Ō".as_bytes()[..1];
        let mut head = b"Signed by ".to_vec();
        head.extend_from_slice(cut);
        assert_eq!(judge(None, &head), Ok(TEXT));
        assert_eq!(judge(None, b"bell\x07"), Err(NotAllowed::Format));
    }

    #[test]
    fn the_page_shows_kept_types_it_knows_and_nothing_else() {
        assert_eq!(family_of("image/png"), Some(Family::Photo));
        assert_eq!(family_of("text/plain"), Some(Family::Document));
        assert_eq!(family_of("text/html"), None);
        assert_eq!(family_of("image/svg+xml"), None);
    }

    proptest! {
        /// Whatever the bytes, a file judged allowed has a type on the list (or is
        /// text), and nothing judged to play in the page is a document.
        #[test]
        fn a_judged_type_is_always_one_of_the_list(
            head in proptest::collection::vec(any::<u8>(), 0..64),
            sig in proptest::option::of("[a-z]{1,12}/[a-z.+-]{1,20}"),
        ) {
            if let Ok(t) = judge(sig.as_deref(), &head) {
                prop_assert!(t == TEXT || ALLOWED.iter().any(|(m, f)| *m == t.mime && *f == t.family));
                prop_assert_eq!(family_of(t.mime), Some(t.family));
            }
        }
    }
}
