//! Vietnamese text: NFC normalization for storage, folding for search, and
//! the order of names ([`collate`]: Vietnamese collation, ICU4X).
//!
//! Vietnamese letters can be written precomposed ("ễ", one code point) or
//! decomposed ("e" + circumflex + tilde); a keyboard on one commune's computer
//! and a phone in another produce different bytes for the same name. Everything
//! the system stores is NFC, so equal names are equal bytes and hashes are stable.

use std::{cmp::Ordering, sync::OnceLock};

use icu_collator::{Collator, CollatorBorrowed, options::CollatorOptions};
use unicode_normalization::{UnicodeNormalization, char::is_combining_mark, is_nfc_quick};

/// The Vietnamese collator of ICU4X's compiled data (CLDR's `vi`
/// tailoring: a ă â b c d đ e ê … u ư v x y, tones after letters).
fn vietnamese() -> &'static CollatorBorrowed<'static> {
    static COLLATOR: OnceLock<CollatorBorrowed<'static>> = OnceLock::new();
    COLLATOR.get_or_init(|| {
        Collator::try_new(
            icu_locale_core::locale!("vi").into(),
            CollatorOptions::default(),
        )
        // Compiled into the binary, read by no I/O: only a broken build
        // lacks it, and the tests below fail then.
        .expect("ICU4X's compiled Vietnamese collation data")
    })
}

/// Compares two names in Vietnamese alphabetical order: "Xã Cấp Tiến"
/// before "Xã Chi Thiết", "Đội …" after "Dân …" and before "Ea …", "Ủy ban
/// …" before "Xã …". The one order of names everywhere: the API's lists,
/// the exports, and (registered as the SQLite collation `vi` by
/// `dotpha-views`) every `ORDER BY name`. Equal by collation, the bytes
/// decide, so the order is total.
pub fn collate(a: &str, b: &str) -> Ordering {
    vietnamese().compare(a, b).then_with(|| a.cmp(b))
}

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
    fn names_sort_in_vietnamese_order() {
        let mut names = vec![
            "Xã Chi Thiết",
            "Ủy ban Kiểm tra Huyện ủy",
            "Xã Cấp Tiến",
            "Đội Quản lý thị trường",
            "Ban Tuyên giáo",
            "Xã Ân Thịnh",
            "Xã An Lạc",
            "Dân vận",
        ];
        names.sort_by(|a, b| collate(a, b));
        assert_eq!(
            names,
            [
                "Ban Tuyên giáo",
                "Dân vận",
                "Đội Quản lý thị trường",
                "Ủy ban Kiểm tra Huyện ủy",
                "Xã An Lạc",
                "Xã Ân Thịnh",
                "Xã Cấp Tiến",
                "Xã Chi Thiết",
            ]
        );
        assert_eq!(collate("a", "a"), Ordering::Equal);
    }

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
