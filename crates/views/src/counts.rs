//! Counts of tasks by the words of one closed list (status, rating, kind,
//! origin), held as a few integers instead of a map of strings.
//!
//! A dashboard holds one roll-up per unit with tasks, each with four such
//! counts: as `BTreeMap<String, u64>` every one was a B-tree node and a
//! string per word, 11 MB of the dashboard's 20 MB at 4,600 units
//! (BENCHMARKS.md, "Resident memory"). Written out, a [`Counts`] is the
//! JSON object such a map was: the words counted at least once, in the
//! byte order of the words, each with its count.

use std::{collections::BTreeMap, fmt, marker::PhantomData};

use dotpha_domain::vocabulary::Term;
use serde::{Serialize, Serializer, ser::SerializeMap};

/// At most this many words of a list are counted in place: the longest list
/// counted (task statuses) has 6; a word past it, or a word not in the list
/// (a read model of a newer version), is counted by its text instead.
const IN_PLACE: usize = 6;

/// How many tasks carry each word of the list `T`.
#[derive(Clone, PartialEq, Eq)]
pub struct Counts<T: Term> {
    /// By the word's index in `T::all()`.
    in_place: [u64; IN_PLACE],
    /// Words outside the list, or past [`IN_PLACE`], by their text.
    other: BTreeMap<String, u64>,
    list: PhantomData<T>,
}

impl<T: Term> Default for Counts<T> {
    fn default() -> Self {
        Counts {
            in_place: [0; IN_PLACE],
            other: BTreeMap::new(),
            list: PhantomData,
        }
    }
}

impl<T: Term> Counts<T> {
    /// No word counted.
    pub fn new() -> Self {
        Self::default()
    }

    fn index(word: &str) -> Option<usize> {
        T::all()
            .iter()
            .take(IN_PLACE)
            .position(|t| t.as_str() == word)
    }

    /// Adds `n` to `word`'s count.
    pub fn add_n(&mut self, word: &str, n: u64) {
        match Self::index(word) {
            Some(i) => self.in_place[i] += n,
            None => match self.other.get_mut(word) {
                Some(count) => *count += n,
                None => {
                    self.other.insert(word.to_owned(), n);
                }
            },
        }
    }

    /// Adds one to `word`'s count.
    pub fn add(&mut self, word: &str) {
        self.add_n(word, 1);
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Counts<T>) {
        for (mine, theirs) in self.in_place.iter_mut().zip(other.in_place) {
            *mine += theirs;
        }
        for (word, n) in &other.other {
            *self.other.entry(word.clone()).or_default() += n;
        }
    }

    /// `word`'s count, `None` when it was never counted (as a map answers).
    pub fn get(&self, word: &str) -> Option<u64> {
        match Self::index(word) {
            Some(i) => Some(self.in_place[i]).filter(|n| *n > 0),
            None => self.other.get(word).copied(),
        }
    }

    /// The words counted at least once with their counts, in the byte order
    /// of the words.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> + '_ {
        let mut words: Vec<(&str, u64)> = T::all()
            .iter()
            .zip(self.in_place)
            .filter(|(_, n)| *n > 0)
            .map(|(t, n)| (t.as_str(), n))
            .chain(self.other.iter().map(|(w, n)| (w.as_str(), *n)))
            .collect();
        words.sort_unstable_by(|a, b| a.0.cmp(b.0));
        words.into_iter()
    }

    /// Whether no word was counted.
    pub fn is_empty(&self) -> bool {
        self.in_place.iter().all(|n| *n == 0) && self.other.is_empty()
    }

    /// The counts as a map of words, as the JSON shows them.
    pub fn to_map(&self) -> BTreeMap<String, u64> {
        self.iter().map(|(w, n)| (w.to_owned(), n)).collect()
    }
}

impl<T: Term> fmt::Debug for Counts<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<T: Term> Serialize for Counts<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let words: Vec<(&str, u64)> = self.iter().collect();
        let mut map = serializer.serialize_map(Some(words.len()))?;
        for (word, n) in words {
            map.serialize_entry(word, &n)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use dotpha_domain::{Rating, TaskStatus};
    use proptest::prelude::*;

    use super::*;

    fn words<T: Term>() -> Vec<String> {
        let mut words: Vec<String> = T::all().iter().map(|t| t.as_str().to_owned()).collect();
        // Words outside the list are counted too.
        words.extend(["zzz".to_owned(), "a".to_owned(), String::new()]);
        words
    }

    proptest! {
        /// Whatever words are counted, in whatever order and however
        /// merged, the counts and their JSON are those of a map of strings.
        #[test]
        fn counts_are_what_a_map_of_words_gives(
            picks in prop::collection::vec((0usize..9, 1u64..4, any::<bool>()), 0..40),
            rating_picks in prop::collection::vec(0usize..7, 0..20),
        ) {
            let statuses = words::<TaskStatus>();
            let (mut a, mut b) = (Counts::<TaskStatus>::new(), Counts::<TaskStatus>::new());
            let mut map: BTreeMap<String, u64> = BTreeMap::new();
            for (i, n, into_a) in picks {
                let word = &statuses[i % statuses.len()];
                if into_a { a.add_n(word, n) } else { b.add_n(word, n) }
                *map.entry(word.clone()).or_default() += n;
            }
            a.merge(&b);
            prop_assert_eq!(a.to_map(), map.clone());
            prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&map).unwrap());
            for word in &statuses {
                prop_assert_eq!(a.get(word), map.get(word).copied());
            }
            prop_assert_eq!(a.is_empty(), map.is_empty());

            let ratings = words::<Rating>();
            let mut r = Counts::<Rating>::new();
            let mut map: BTreeMap<String, u64> = BTreeMap::new();
            for i in rating_picks {
                r.add(&ratings[i % ratings.len()]);
                *map.entry(ratings[i % ratings.len()].clone()).or_default() += 1;
            }
            prop_assert_eq!(serde_json::to_string(&r).unwrap(), serde_json::to_string(&map).unwrap());
        }
    }
}
