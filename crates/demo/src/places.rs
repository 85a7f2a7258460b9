//! Sơn Dương's communes in 2021 (public administrative data) and generated
//! villages and residential groups.

use std::collections::BTreeSet;

use crate::{names::slug, rng::Rng};

/// The town and the 30 communes, town first, then as DOMAIN.md lists them.
/// The bool marks the town.
pub(crate) const COMMUNES: [(&str, bool); 31] = [
    ("Sơn Dương", true),
    ("Bình Yên", false),
    ("Cấp Tiến", false),
    ("Chi Thiết", false),
    ("Đại Phú", false),
    ("Đông Lợi", false),
    ("Đồng Quý", false),
    ("Đông Thọ", false),
    ("Hào Phú", false),
    ("Hồng Lạc", false),
    ("Hợp Hòa", false),
    ("Hợp Thành", false),
    ("Kháng Nhật", false),
    ("Lương Thiện", false),
    ("Minh Thanh", false),
    ("Ninh Lai", false),
    ("Phú Lương", false),
    ("Phúc Ứng", false),
    ("Quyết Thắng", false),
    ("Sơn Nam", false),
    ("Tam Đa", false),
    ("Tân Thanh", false),
    ("Tân Trào", false),
    ("Thiện Kế", false),
    ("Thượng Ấm", false),
    ("Trung Yên", false),
    ("Trường Sinh", false),
    ("Tú Thịnh", false),
    ("Văn Phú", false),
    ("Vân Sơn", false),
    ("Vĩnh Lợi", false),
];

/// A commune or the town.
#[derive(Clone, Debug)]
pub(crate) struct Commune {
    pub(crate) code: String,
    /// "Xã Hợp Thành", "Thị trấn Sơn Dương".
    pub(crate) name: String,
    /// "xã Hợp Thành", "thị trấn Sơn Dương", for running text.
    pub(crate) phrase: String,
    pub(crate) town: bool,
    pub(crate) villages: Vec<Village>,
}

/// A village (thôn) or residential group (tổ dân phố).
#[derive(Clone, Debug)]
pub(crate) struct Village {
    pub(crate) code: String,
    pub(crate) name: String,
}

impl Commune {
    /// `unit.registered`'s kind.
    pub(crate) fn kind(&self) -> &'static str {
        if self.town { "town" } else { "commune" }
    }

    /// The kind of its villages.
    pub(crate) fn village_kind(&self) -> &'static str {
        if self.town {
            "residential_group"
        } else {
            "village"
        }
    }
}

/// How many villages and residential groups the district has.
pub(crate) const TOTAL_VILLAGES: usize = 400;
/// Residential groups of the town.
const TOWN_GROUPS: usize = 20;

const VILLAGE_NAMES: &[&str] = &[
    "Tân Lập",
    "Làng Mới",
    "Cầu Đá",
    "Đồng Tâm",
    "Tân Thành",
    "Khuôn Thống",
    "Đồng Bèn",
    "Hòa Bình",
    "Tân Tiến",
    "Đồng Xay",
    "Cây Thông",
    "Làng Hào",
    "Núi Độc",
    "Trung Thu",
    "Đèo Tum",
    "Cao Đá",
    "Đá Bàn",
    "Đồng Giàng",
    "Vĩnh Tân",
    "Khuôn Lăn",
    "Phú Thọ",
    "Gia Cát",
    "Tân Phú",
    "Tân Bình",
    "Đồng Chùa",
    "An Thịnh",
    "Hưng Thịnh",
    "Thái Bình",
    "Làng Cả",
    "Làng Chùa",
    "Cây Xy",
    "Đồng Hoan",
    "Tiền Phong",
    "Quyết Tiến",
    "Đoàn Kết",
    "Thống Nhất",
    "Cầu Trắng",
    "Đồng Vàng",
    "Khe Thuyền",
    "Làng Lê",
    "Đồng Mới",
    "Yên Thượng",
    "Yên Hạ",
    "Phúc Lợi",
    "Kim Xuyên",
    "Đồng Trò",
    "Khuôn Phầy",
    "Nà Lũng",
    "Bản Pài",
    "Lập Binh",
    "Mỏ Ché",
    "Ao Xanh",
    "Cầu Quất",
    "Đồng Cướm",
    "Gia Quán",
    "Khuôn Ráng",
    "Làng Bát",
    "Làng Ngòi",
    "Mãn Hóa",
    "Nhân Mục",
    "Đồng Đài",
    "Thọ Khang",
    "Vĩnh Bảo",
    "Xuân Hoa",
    "Đồng Rôm",
    "Khuôn Điển",
    "Cầu Xi",
    "Đồng Cầu",
    "Ngòi Lèn",
    "Đồng Phai",
    "Làng Vàng",
    "Cây Đa",
    "Tân Hòa",
    "Hòa Hợp",
    "Tân Sơn",
    "Đồng Khuôn",
    "Thác Cái",
    "Làng Nẻ",
    "Bãi Nai",
    "Đồng Đình",
    "Cây Quýt",
    "Đồng Ván",
    "Khuôn Nhòa",
    "Làng Trà",
    "Cầu Cát",
    "Hội Kế",
    "Đồng Gianh",
    "Phú Thịnh",
    "Đồng Mòng",
    "An Mỹ",
    "Trung Mỹ",
    "Quang Thắng",
    "Tân Thượng",
    "Đồng Bừa",
    "Núi Hồng",
    "Yên Mỹ",
    "Đồng Măng",
    "Cầu Bậc",
    "Đá Trơn",
    "Làng Cọ",
    "Soi Hà",
    "Tân Thái",
    "Hợp Thịnh",
    "Đồng Quan",
];

const GROUP_NAMES: &[&str] = &[
    "Tân Kỳ",
    "Bắc Trung",
    "Kỳ Lâm",
    "Đăng Châu",
    "Quyết Thắng",
    "Xây Dựng",
    "Tân Bắc",
    "Hưng Thành",
    "Tân Phúc",
    "Đồng Tiến",
    "Trung Tâm",
    "Thắng Lợi",
    "Phố Mới",
    "Tân Thịnh",
    "An Kỳ",
    "Hoàng Lâu",
    "Cầu Trắng",
    "Bắc Hoàng",
    "Kỳ Nam",
    "Tân An",
    "Đông Bắc",
    "Văn Giang",
];

/// Đồng Diễn, Hợp Thành's village of the article's waste-sorting pilot.
pub(crate) const DONG_DIEN_NAME: &str = "Đồng Diễn";

/// The 31 units with their 400 villages and residential groups. Every code
/// is added to `taken`.
pub(crate) fn communes(rng: &mut Rng, taken: &mut BTreeSet<String>) -> Vec<Commune> {
    // How many villages each commune has: nine at least, the rest spread
    // at random, the town's residential groups fixed.
    let mut counts = [9usize; 31];
    counts[0] = TOWN_GROUPS;
    let mut left = TOTAL_VILLAGES - counts.iter().sum::<usize>();
    while left > 0 {
        let i = 1 + rng.below(30) as usize;
        if counts[i] < 19 {
            counts[i] += 1;
            left -= 1;
        }
    }

    let mut out = Vec::with_capacity(COMMUNES.len());
    for (i, (name, town)) in COMMUNES.iter().enumerate() {
        let (code, full, phrase) = if *town {
            (
                format!("thi-tran-{}", slug(name)),
                format!("Thị trấn {name}"),
                format!("thị trấn {name}"),
            )
        } else {
            (slug(name), format!("Xã {name}"), format!("xã {name}"))
        };
        assert!(taken.insert(code.clone()), "duplicate unit code {code}");
        let hop_thanh = *name == "Hợp Thành";
        let numbered = !*town && !hop_thanh && rng.chance(0.15);
        let mut villages = Vec::with_capacity(counts[i]);
        let mut add = |label: String, short: &str, taken: &mut BTreeSet<String>| -> bool {
            let village_code = format!("{code}-{}", slug(short));
            if taken.contains(&village_code) {
                return false;
            }
            taken.insert(village_code.clone());
            villages.push(Village {
                code: village_code,
                name: label,
            });
            true
        };
        if hop_thanh {
            add(format!("Thôn {DONG_DIEN_NAME}"), DONG_DIEN_NAME, taken);
        }
        let mut n = 0;
        while n < counts[i] - usize::from(hop_thanh) {
            let added = if *town {
                let short = rng.pick(GROUP_NAMES);
                add(format!("Tổ dân phố {short}"), short, taken)
            } else if numbered {
                let short = format!("Thôn {}", n + 1);
                add(short.clone(), &short, taken)
            } else {
                let short = rng.pick(VILLAGE_NAMES);
                add(format!("Thôn {short}"), short, taken)
            };
            n += usize::from(added);
        }
        out.push(Commune {
            code,
            name: full,
            phrase,
            town: *town,
            villages,
        });
    }
    out
}
