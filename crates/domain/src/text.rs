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

/// A search as a person types it (`q=` of the task list), folded: bare
/// words, and "quoted phrases" whose words must appear together, in order.
///
/// `Query::parse(r#"hop thanh "to hop tac""#)` has the words `hop`,
/// `thanh` and the phrase `to hop tac`. An unclosed quote runs to the end.
/// Words and phrases are matched in text folded by [`fold`] (so without
/// regard to case or diacritics), on word boundaries: a word matches where
/// a word of the text begins (`thanh` finds "Thành" and "thành phố", `an`
/// finds "An Lạc" but not "Thanh"), a phrase matches whole words only.
/// A word is a run of letters and digits; anything else separates words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Bare words, folded, in the order typed.
    pub words: Vec<String>,
    /// Quoted phrases, folded, each with its words separated by one space.
    pub phrases: Vec<String>,
    /// Every word and phrase in the order typed, as one phrase: what an
    /// exact match (the best rank) looks for.
    whole: String,
}

/// How well a task matches a [`Query`]: the lower, the earlier in a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// The whole query, as one phrase, is in the title or a name.
    Phrase = 0,
    /// Every word and phrase is in the title or the names.
    Name = 1,
    /// Every word and phrase is somewhere: some only in the description,
    /// the plan (solutions, milestone titles) or the delegations.
    Elsewhere = 2,
}

impl Query {
    /// Reads `q` as typed. `None` when it has no word at all (blank, or
    /// only quotes and separators): such a query filters nothing.
    pub fn parse(q: &str) -> Option<Query> {
        let mut query = Query::default();
        let mut terms = Vec::new();
        for (i, part) in q.split('"').enumerate() {
            let folded = words_of(&fold(part));
            if folded.is_empty() {
                continue;
            }
            if i % 2 == 1 {
                query.phrases.push(folded.join(" "));
            } else {
                query.words.extend(folded.iter().cloned());
            }
            terms.extend(folded);
        }
        if terms.is_empty() {
            return None;
        }
        query.whole = terms.join(" ");
        Some(query)
    }

    /// Every word, bare or in a phrase: each is a substring of the text of
    /// any task found, what an index or `LIKE` may check first (a
    /// necessary condition of [`Query::rank`]; a phrase may span
    /// punctuation, so it is no substring itself).
    pub fn needles(&self) -> impl Iterator<Item = &str> {
        self.words
            .iter()
            .map(String::as_str)
            .chain(self.phrases.iter().flat_map(|p| p.split(' ')))
    }

    /// The rule of search, in one place. `head` is the [`searchable`]
    /// text of a task's id, title, assignee's and unit's names; `all` is
    /// `head` followed by everything else searched (description, plan,
    /// delegations; [`join_searchable`]). `None`: some word or phrase is nowhere,
    /// the task is not found. Otherwise the best [`Rank`] it earns: the
    /// whole query as a phrase in `head`, then every term in `head`, then
    /// every term in `all`. Lists show better ranks first, then by due
    /// date.
    pub fn rank(&self, head: &str, all: &str) -> Option<Rank> {
        if self.all_in(head) {
            if has_phrase(head, &self.whole) {
                return Some(Rank::Phrase);
            }
            return Some(Rank::Name);
        }
        self.all_in(all).then_some(Rank::Elsewhere)
    }

    fn all_in(&self, text: &str) -> bool {
        self.words.iter().all(|w| has_word(text, w))
            && self.phrases.iter().all(|p| has_phrase(text, p))
    }
}

/// Ends one field of a [`searchable`] text: no phrase runs across it.
const FIELD_SEPARATOR: char = '\n';

/// The text a [`Query`] searches, from a thing's fields: each folded by
/// [`fold`], kept apart so that no phrase runs from one field into the
/// next (a title's last word and the assignee's first name are no phrase).
/// Two such texts joined with [`join_searchable`] are one.
pub fn searchable<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for field in fields {
        let folded = fold(field);
        if folded.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(FIELD_SEPARATOR);
        }
        out.push_str(&folded);
    }
    out
}

/// `head` followed by `rest`, two [`searchable`] texts, as one.
pub fn join_searchable(head: &str, rest: &str) -> String {
    match (head.is_empty(), rest.is_empty()) {
        (_, true) => head.to_owned(),
        (true, false) => rest.to_owned(),
        (false, false) => format!("{head}{FIELD_SEPARATOR}{rest}"),
    }
}

/// The words of folded text: runs of letters and digits.
fn words_of(folded: &str) -> Vec<String> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether `needle` (words separated by one space) occurs in `text` where
/// a word begins, and, when `whole`, ends where a word ends; the words of
/// `text` may be separated by anything that is not a letter or digit.
fn occurs(text: &str, needle: &str, whole: bool) -> bool {
    let words: Vec<&str> = needle.split(' ').collect();
    let starts = text
        .char_indices()
        .filter(|&(i, c)| c.is_alphanumeric() && !text[..i].ends_with(char::is_alphanumeric))
        .map(|(i, _)| i);
    'start: for start in starts {
        let mut rest = &text[start..];
        for (n, word) in words.iter().enumerate() {
            let Some(after) = rest.strip_prefix(word) else {
                continue 'start;
            };
            let last = n + 1 == words.len();
            if last {
                if !whole || !after.starts_with(char::is_alphanumeric) {
                    return true;
                }
                continue 'start;
            }
            if after.starts_with(char::is_alphanumeric) {
                continue 'start;
            }
            let next = after.trim_start_matches(|c: char| !c.is_alphanumeric());
            if after[..after.len() - next.len()].contains(FIELD_SEPARATOR) {
                continue 'start;
            }
            rest = next;
        }
    }
    false
}

fn has_word(text: &str, word: &str) -> bool {
    occurs(text, word, false)
}

fn has_phrase(text: &str, phrase: &str) -> bool {
    occurs(text, phrase, true)
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

    #[test]
    fn a_query_reads_words_and_quoted_phrases() {
        let q = Query::parse(r#"Hợp  "TỔ hợp tác" thành "unclosed"#).expect("a query");
        assert_eq!(q.words, ["hop", "thanh"]);
        assert_eq!(q.phrases, ["to hop tac", "unclosed"]);
        assert_eq!(Query::parse(r#"  "" , "#), None);
        assert_eq!(Query::parse("t-07").expect("a query").words, ["t", "07"]);
    }

    #[test]
    fn the_name_that_is_the_query_ranks_first() {
        let q = Query::parse("hop thanh").expect("a query");
        let commune = searchable([
            "ndp-2021-02",
            "Chuyển đổi số",
            "Hoàng Thế Mạnh",
            "Xã Hợp Thành",
        ]);
        let cooperative = searchable([
            "ndp-2021-09",
            "Thành lập tổ hợp tác, hợp tác xã…",
            "Lê Văn A",
            "Xã Ân Thịnh",
        ]);
        assert_eq!(q.rank(&commune, &commune), Some(Rank::Phrase));
        assert_eq!(q.rank(&cooperative, &cooperative), Some(Rank::Name));
        let other = searchable(["x", "Khác", "Ai", "Xã"]);
        let all = join_searchable(&other, &searchable(["Mốc: nghiệm thu ở Hợp Thành"]));
        assert_eq!(q.rank(&other, &all), Some(Rank::Elsewhere));
        // A phrase never runs from one field into the next.
        let split = searchable(["Đề án hợp", "Thành"]);
        assert_eq!(q.rank(&split, &split), Some(Rank::Name));
        assert_eq!(
            Query::parse("\"hop thanh\"")
                .expect("a query")
                .rank(&split, &split),
            None
        );
        assert_eq!(q.rank("khac", "khac"), None);
    }

    #[test]
    fn phrases_match_whole_words_in_order_and_words_match_word_starts() {
        let text = fold("Thành lập tổ hợp tác, hợp tác xã…");
        let phrase = |p: &str| Query::parse(&format!("\"{p}\"")).expect("a query");
        assert!(phrase("to hop tac").rank(&text, &text).is_some());
        assert!(
            phrase("hop tac xa").rank(&text, &text).is_some(),
            "across a comma"
        );
        assert!(
            phrase("hop to").rank(&text, &text).is_none(),
            "not in order"
        );
        assert!(
            phrase("to hop ta").rank(&text, &text).is_none(),
            "not a whole word"
        );
        assert!(phrase("hop thanh").rank(&text, &text).is_none());
        let word = |w: &str| Query::parse(w).expect("a query");
        assert!(word("lap").rank(&text, &text).is_some());
        assert!(word("ta").rank(&text, &text).is_some(), "the start of tác");
        assert!(word("ac").rank(&text, &text).is_none(), "not inside a word");
        assert!(word("TỔ").rank(&text, &text).is_some());
    }
}
