//! Vietnamese text: NFC normalization for storage, folding for search.
//!
//! Vietnamese letters can be written precomposed ("ễ", one code point) or
//! decomposed ("e" + circumflex + tilde); a keyboard on one commune's computer
//! and a phone in another produce different bytes for the same name. Everything
//! the system stores is NFC, so equal names are equal bytes and hashes are stable.

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark, is_nfc_quick};

/// Returns `text` in Unicode Normalization Form C.
pub fn nfc(text: &str) -> String {
    match is_nfc_quick(text.chars()) {
        unicode_normalization::IsNormalized::Yes => text.to_owned(),
        _ => text.nfc().collect(),
    }
}

/// Folds `text` for search: lowercase, without diacritics (đ becomes d), with
/// runs of whitespace collapsed to one space and no leading or trailing space.
///
/// `fold("Đồng Diễn") == "dong dien"`, so `q=dong dien` finds the village
/// however its name was typed.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match c {
            'đ' | 'Đ' => out.push('d'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_case_and_diacritics() {
        assert_eq!(fold("Đồng Diễn"), "dong dien");
        assert_eq!(fold("  Sơn   Dương "), "son duong");
        assert_eq!(fold("Đỗ Xuân Phúc"), "do xuan phuc");
        assert_eq!(fold("HỢP THÀNH"), "hop thanh");
    }

    #[test]
    fn decomposed_and_precomposed_input_normalize_to_the_same_bytes() {
        let decomposed = "Die\u{0302}\u{0303}n";
        assert_eq!(nfc(decomposed), "Diễn");
        assert_eq!(nfc("Diễn"), "Diễn");
        assert_eq!(fold(decomposed), "dien");
    }
}
