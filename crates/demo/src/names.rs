//! Fictional people and ASCII slugs.
//!
//! Every generated person is made of common Vietnamese family, middle and
//! given names and carries the [`DEMO_MARKER`](crate::DEMO_MARKER) suffix, so
//! nobody can mistake the demo for a real roster.

use std::collections::BTreeSet;

use dotpha_domain::text::fold;

use crate::{DEMO_MARKER, rng::Rng};

/// Family names common in Vietnam and in Tuyên Quang (Tày, Dao and Kinh).
const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Ngô", "Dương", "Lý", "Hà", "Ma",
    "Nông", "Triệu", "Đinh", "Phùng", "Quan", "Chu", "Lục",
];
const MIDDLE_MALE: &[&str] = &[
    "Văn", "Đức", "Minh", "Quang", "Xuân", "Hữu", "Ngọc", "Thanh", "Trọng", "Công", "Mạnh", "Tiến",
];
const MIDDLE_FEMALE: &[&str] = &["Thị", "Thu", "Thanh", "Ngọc", "Minh", "Hồng", "Kim"];
const GIVEN_MALE: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Kiên", "Long", "Nam", "Phong", "Quân",
    "Sơn", "Thắng", "Toàn", "Trung", "Tuấn", "Việt", "Hưng", "Khánh", "Lâm", "Thành", "Tiến",
    "Vinh", "Hiếu", "Huy", "Chiến", "Quyết",
];
const GIVEN_FEMALE: &[&str] = &[
    "Anh", "Hà", "Hằng", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga", "Ngân", "Nhung", "Phương",
    "Quyên", "Thảo", "Thủy", "Trang", "Vân", "Yến", "Huyền", "Dung",
];

/// The ASCII slug of Vietnamese text: "Đồng Diễn" becomes "dong-dien".
pub(crate) fn slug(text: &str) -> String {
    let folded = fold(text);
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            _ if !out.is_empty() && !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// A fictional person: `full_name` carries the demo marker, `id` is the
/// slug of the name without it.
#[derive(Clone, Debug)]
pub(crate) struct Person {
    pub(crate) id: String,
    pub(crate) full_name: String,
}

/// Hands out fictional people whose ids are unused slugs.
#[derive(Debug)]
pub(crate) struct People {
    rng: Rng,
}

impl People {
    pub(crate) fn new(rng: Rng) -> People {
        People { rng }
    }

    /// A new person; `female` fixes the gender when the position asks for
    /// it, otherwise about one in four is a woman. `taken` holds every slug
    /// in use (units and cadres share one namespace) and gains the new id.
    pub(crate) fn person(&mut self, female: Option<bool>, taken: &mut BTreeSet<String>) -> Person {
        let female = female.unwrap_or_else(|| self.rng.chance(0.25));
        loop {
            let family = self.rng.pick(FAMILY);
            let (middle, given) = if female {
                (self.rng.pick(MIDDLE_FEMALE), self.rng.pick(GIVEN_FEMALE))
            } else {
                (self.rng.pick(MIDDLE_MALE), self.rng.pick(GIVEN_MALE))
            };
            // "Thanh Thành" reads as a stutter.
            if fold(middle) == fold(given) {
                continue;
            }
            let name = format!("{family} {middle} {given}");
            let id = slug(&name);
            if taken.insert(id.clone()) {
                return Person {
                    id,
                    full_name: format!("{name} {DEMO_MARKER}"),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ascii_and_distinct_where_the_names_are() {
        assert_eq!(slug("Đồng Diễn"), "dong-dien");
        assert_eq!(slug("Đông Lợi"), "dong-loi");
        assert_eq!(slug("Đồng Quý"), "dong-quy");
        assert_eq!(slug("Thị trấn Sơn Dương"), "thi-tran-son-duong");
        assert_eq!(slug("Thôn 1"), "thon-1");
        assert_eq!(slug("Dân vận \"khéo\""), "dan-van-kheo");
    }

    #[test]
    fn people_are_marked_and_unique() {
        let mut people = People::new(Rng::new(1));
        let mut taken = BTreeSet::new();
        for _ in 0..500 {
            let p = people.person(None, &mut taken);
            assert!(p.full_name.ends_with(DEMO_MARKER));
            assert!(dotpha_domain::Slug::parse(&p.id).is_some(), "{}", p.id);
        }
        assert_eq!(taken.len(), 500);
    }
}
