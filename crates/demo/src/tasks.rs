//! What the 92 cadres are asked to do: the district's roles with their tasks,
//! and the commune leaders' task templates.
//!
//! The two tasks of the article (Đỗ Xuân Phúc's and Hoàng Thế Mạnh's) carry
//! its words and figures; every other task is an illustration in the same
//! spirit, with plausible but invented figures.

/// A key result; `baseline` and `target` are ranges to draw from (equal
/// ends for a fixed figure).
#[derive(Clone, Copy, Debug)]
pub(crate) struct T {
    pub(crate) metric: &'static str,
    pub(crate) label: &'static str,
    pub(crate) baseline: (f64, f64),
    pub(crate) target: (f64, f64),
}

/// A fixed key result.
const fn t(metric: &'static str, label: &'static str, baseline: f64, target: f64) -> T {
    T {
        metric,
        label,
        baseline: (baseline, baseline),
        target: (target, target),
    }
}

/// A key result whose figures are drawn per commune.
const fn tr(
    metric: &'static str,
    label: &'static str,
    baseline: (f64, f64),
    target: (f64, f64),
) -> T {
    T {
        metric,
        label,
        baseline,
        target,
    }
}

/// A task. Texts may hold `{xa}` ("xã Hợp Thành"), `{Xa}` ("Xã Hợp Thành")
/// and, in `backlog`, `{n}` (the first target's baseline).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tpl {
    pub(crate) title: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) category: &'static str,
    pub(crate) targets: &'static [T],
    pub(crate) solutions: [&'static str; 3],
    /// What is handed down to a unit below.
    pub(crate) delegation: &'static str,
    /// The backlog item the committee takes it from, when it is one.
    pub(crate) backlog: Option<&'static str>,
    /// Due (month, day) in 2021.
    pub(crate) due: (u32, u32),
}

/// A district-level position and its task.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Role {
    /// The unit (code, name, kind) below the district; `None`: the district.
    pub(crate) unit: Option<(&'static str, &'static str, &'static str)>,
    pub(crate) position: &'static str,
    /// Registered with `standing_committee: true` (only at the district).
    pub(crate) standing: bool,
    pub(crate) female: Option<bool>,
    /// A real person (id, name) instead of a generated one.
    pub(crate) real: Option<(&'static str, &'static str)>,
    pub(crate) tpl: Tpl,
}

/// Đỗ Xuân Phúc's three solutions, as the article gives them.
pub(crate) const PHUC_SOLUTIONS: [&str; 3] = [
    "Các tổ chức cơ sở đảng lựa chọn đảng viên tiêu biểu, có uy tín để giới thiệu bầu làm trưởng thôn, tổ dân phố",
    "Bồi dưỡng, xem xét kết nạp vào Đảng những trưởng thôn, tổ dân phố chưa là đảng viên có uy tín, hoàn thành tốt nhiệm vụ",
    "Đảng ủy các xã, thị trấn bố trí cán bộ, công chức xã là đảng viên đảm nhiệm chức danh trưởng thôn, tổ dân phố",
];

/// Hoàng Thế Mạnh's three solutions, as the article gives them.
pub(crate) const MANH_SOLUTIONS: [&str; 3] = [
    "Vận động các cơ sở sản xuất, kinh doanh thực phẩm trên địa bàn ký cam kết bảo đảm an toàn thực phẩm và vệ sinh môi trường",
    "Thí điểm mô hình thu gom rác thải hữu cơ, vô cơ tại thôn Đồng Diễn",
    "Hướng dẫn các hộ gia đình phân loại rác thải ngay tại nhà",
];

const fn role(
    unit: Option<(&'static str, &'static str, &'static str)>,
    position: &'static str,
    standing: bool,
    tpl: Tpl,
) -> Role {
    Role {
        unit,
        position,
        standing,
        female: None,
        real: None,
        tpl,
    }
}

const AGENCY: &str = "agency";
const DEPARTMENT: &str = "department";

/// The 51 district-level cadres with tasks, in task-number order
/// (`ndp-2021-01` to `ndp-2021-51`): six at the district itself, then the
/// heads of agencies, units and departments. Đỗ Xuân Phúc is number 7.
pub(crate) const DISTRICT: [Role; 51] = [
    role(
        None,
        "Phó Bí thư Thường trực Huyện ủy",
        true,
        Tpl {
            title: "Nâng cao chất lượng sinh hoạt chi bộ trong toàn Đảng bộ huyện",
            kind: "breakthrough",
            category: "Xây dựng Đảng",
            targets: &[t(
                "chi-bo-sinh-hoat-tot",
                "Chi bộ sinh hoạt định kỳ đạt chất lượng tốt (%)",
                64.0,
                80.0,
            )],
            solutions: [
                "Ban hành hướng dẫn nội dung sinh hoạt chuyên đề phù hợp từng loại hình chi bộ",
                "Phân công cấp ủy viên huyện dự sinh hoạt tại chi bộ thôn, tổ dân phố ít nhất một lần mỗi quý",
                "Đánh giá chất lượng sinh hoạt chi bộ hằng quý và công khai kết quả",
            ],
            delegation: "Chỉ đạo các chi bộ trực thuộc xây dựng nội dung sinh hoạt chuyên đề, báo cáo kết quả hằng quý",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        None,
        "Phó Bí thư Huyện ủy, Chủ tịch UBND huyện",
        true,
        Tpl {
            title: "Thu ngân sách nhà nước trên địa bàn đạt và vượt dự toán tỉnh giao",
            kind: "difficult",
            category: "Kinh tế - ngân sách",
            targets: &[t(
                "thu-ngan-sach",
                "Thu ngân sách nhà nước trên địa bàn (tỷ đồng)",
                0.0,
                230.0,
            )],
            solutions: [
                "Rà soát, khai thác triệt để nguồn thu từ đất đai và khoáng sản",
                "Đôn đốc thu hồi nợ đọng thuế, công khai danh sách đơn vị nợ thuế kéo dài",
                "Giao chỉ tiêu thu ngân sách cụ thể cho từng xã, thị trấn",
            ],
            delegation: "Phối hợp đôn đốc thu nộp ngân sách trên địa bàn, báo cáo tiến độ hằng tháng",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        None,
        "Ủy viên Ban Thường vụ Huyện ủy, Chủ tịch HĐND huyện",
        true,
        Tpl {
            title: "Nâng cao hiệu quả giám sát việc giải quyết kiến nghị của cử tri",
            kind: "new",
            category: "Xây dựng chính quyền",
            targets: &[t(
                "kien-nghi-duoc-giai-quyet",
                "Kiến nghị của cử tri được giải quyết dứt điểm (%)",
                72.0,
                95.0,
            )],
            solutions: [
                "Lựa chọn chuyên đề giám sát sát với kiến nghị của cử tri sau bầu cử",
                "Theo dõi, tái giám sát việc thực hiện kết luận giám sát",
                "Công khai kết quả giải quyết kiến nghị tại các kỳ họp HĐND",
            ],
            delegation: "Thường trực HĐND xã theo dõi, tổng hợp kết quả giải quyết kiến nghị của cử tri trên địa bàn",
            backlog: None,
            due: (12, 10),
        },
    ),
    role(
        None,
        "Ủy viên Ban Thường vụ Huyện ủy, Phó Chủ tịch Thường trực UBND huyện",
        true,
        Tpl {
            title: "Hoàn thành giải phóng mặt bằng các dự án trọng điểm của huyện",
            kind: "difficult",
            category: "Kinh tế - hạ tầng",
            targets: &[t(
                "dien-tich-gpmb",
                "Diện tích đã giải phóng mặt bằng (ha)",
                0.0,
                48.0,
            )],
            solutions: [
                "Thành lập tổ công tác giải phóng mặt bằng cho từng dự án",
                "Đối thoại trực tiếp với các hộ còn vướng mắc, giải quyết kịp thời kiến nghị",
                "Bố trí đủ vốn chi trả bồi thường, hỗ trợ tái định cư",
            ],
            delegation: "Phối hợp kiểm đếm, vận động các hộ dân bàn giao mặt bằng đúng tiến độ",
            backlog: None,
            due: (11, 30),
        },
    ),
    role(
        None,
        "Phó Chủ tịch UBND huyện",
        false,
        Tpl {
            title: "Thêm hai xã đạt chuẩn nông thôn mới và một xã đạt chuẩn nông thôn mới nâng cao",
            kind: "breakthrough",
            category: "Nông thôn mới",
            targets: &[
                t("xa-dat-chuan-ntm", "Xã đạt chuẩn nông thôn mới", 13.0, 15.0),
                t(
                    "xa-ntm-nang-cao",
                    "Xã đạt chuẩn nông thôn mới nâng cao",
                    0.0,
                    1.0,
                ),
            ],
            solutions: [
                "Rà soát các tiêu chí còn thiếu của từng xã đăng ký đạt chuẩn",
                "Lồng ghép các nguồn vốn, ưu tiên cho các tiêu chí khó",
                "Phân công thành viên Ban Chỉ đạo huyện phụ trách từng xã",
            ],
            delegation: "Ban Quản lý xây dựng nông thôn mới xã hoàn thiện các tiêu chí còn thiếu và hồ sơ đề nghị công nhận",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        None,
        "Phó Chủ tịch HĐND huyện",
        false,
        Tpl {
            title: "Tổ chức tiếp xúc cử tri sau bầu cử đại biểu HĐND các cấp nhiệm kỳ 2021 - 2026",
            kind: "new",
            category: "Xây dựng chính quyền",
            targets: &[t(
                "cuoc-tiep-xuc",
                "Cuộc tiếp xúc cử tri đã tổ chức",
                0.0,
                62.0,
            )],
            solutions: [
                "Xây dựng lịch tiếp xúc cử tri cho từng tổ đại biểu",
                "Tổng hợp, phân loại kiến nghị của cử tri gửi cơ quan có thẩm quyền",
                "Thông báo kết quả giải quyết kiến nghị đến cử tri",
            ],
            delegation: "Bố trí địa điểm, thông báo cho cử tri dự các buổi tiếp xúc",
            backlog: None,
            due: (11, 30),
        },
    ),
    Role {
        unit: Some((
            "co-quan-to-chuc-noi-vu",
            "Cơ quan Tổ chức - Nội vụ huyện",
            AGENCY,
        )),
        position: "Ủy viên Ban Thường vụ Huyện ủy, Thủ trưởng Cơ quan Tổ chức - Nội vụ huyện",
        standing: false,
        female: Some(false),
        real: Some(("do-xuan-phuc", "Đỗ Xuân Phúc")),
        tpl: Tpl {
            title: "100% trưởng thôn, tổ dân phố là đảng viên",
            kind: "breakthrough",
            category: "Xây dựng Đảng",
            targets: &[t(
                "heads",
                "Trưởng thôn, tổ dân phố là đảng viên",
                388.0,
                400.0,
            )],
            solutions: PHUC_SOLUTIONS,
            delegation: "",
            backlog: None,
            due: (11, 30),
        },
    },
    role(
        Some((
            "uy-ban-kiem-tra-huyen-uy",
            "Ủy ban Kiểm tra Huyện ủy",
            AGENCY,
        )),
        "Ủy viên Ban Thường vụ Huyện ủy, Chủ nhiệm Ủy ban Kiểm tra Huyện ủy",
        false,
        Tpl {
            title: "Giải quyết dứt điểm đơn thư tố cáo đối với đảng viên còn tồn đọng",
            kind: "difficult",
            category: "Xây dựng Đảng",
            targets: &[t(
                "don-thu-ton-dong",
                "Đơn thư tố cáo đảng viên chưa giải quyết xong",
                9.0,
                0.0,
            )],
            solutions: [
                "Phân công ủy viên Ủy ban Kiểm tra phụ trách từng vụ việc",
                "Phối hợp Thanh tra huyện xác minh các nội dung liên quan",
                "Kết luận và công khai kết quả giải quyết theo quy định",
            ],
            delegation: "Phối hợp xác minh nội dung đơn thư liên quan đến đảng viên của đảng bộ",
            backlog: Some(
                "Việc tồn đọng năm 2020 của Ủy ban Kiểm tra Huyện ủy: {n} đơn thư tố cáo đảng viên chưa giải quyết xong",
            ),
            due: (9, 30),
        },
    ),
    role(
        Some(("ban-tuyen-giao-huyen-uy", "Ban Tuyên giáo Huyện ủy", AGENCY)),
        "Ủy viên Ban Thường vụ Huyện ủy, Trưởng Ban Tuyên giáo Huyện ủy",
        false,
        Tpl {
            title: "Học tập, quán triệt Nghị quyết Đại hội XIII của Đảng đến 100% chi bộ",
            kind: "breakthrough",
            category: "Xây dựng Đảng",
            targets: &[
                t(
                    "dang-vien-hoc-tap",
                    "Đảng viên được học tập, quán triệt Nghị quyết (%)",
                    0.0,
                    98.0,
                ),
                t(
                    "chi-bo-co-chuong-trinh",
                    "Chi bộ xây dựng chương trình hành động (%)",
                    0.0,
                    100.0,
                ),
            ],
            solutions: [
                "Tổ chức hội nghị trực tuyến đến điểm cầu các xã, thị trấn",
                "Biên soạn tài liệu hỏi - đáp ngắn gọn cho chi bộ thôn, tổ dân phố",
                "Kiểm tra việc xây dựng chương trình hành động tại các chi bộ",
            ],
            delegation: "Tổ chức học tập bổ sung cho đảng viên chưa dự hội nghị tập trung",
            backlog: None,
            due: (6, 30),
        },
    ),
    role(
        Some(("ban-dan-van-huyen-uy", "Ban Dân vận Huyện ủy", AGENCY)),
        "Ủy viên Ban Thường vụ Huyện ủy, Trưởng Ban Dân vận Huyện ủy",
        false,
        Tpl {
            title: "Nhân rộng mô hình \"Dân vận khéo\" gắn với xây dựng nông thôn mới",
            kind: "new",
            category: "Công tác dân vận",
            targets: &[t(
                "mo-hinh-dan-van-kheo",
                "Mô hình \"Dân vận khéo\" được công nhận",
                24.0,
                36.0,
            )],
            solutions: [
                "Hướng dẫn các xã đăng ký mô hình gắn với tiêu chí nông thôn mới còn yếu",
                "Tổ chức hội nghị biểu dương, nhân rộng mô hình tiêu biểu",
                "Đưa kết quả thực hiện mô hình vào đánh giá tổ chức cơ sở đảng",
            ],
            delegation: "Xây dựng và đăng ký ít nhất một mô hình \"Dân vận khéo\" trong năm",
            backlog: None,
            due: (11, 30),
        },
    ),
    role(
        Some((
            "mat-tran-to-quoc-huyen",
            "Ủy ban Mặt trận Tổ quốc Việt Nam huyện",
            AGENCY,
        )),
        "Ủy viên Ban Thường vụ Huyện ủy, Chủ tịch Ủy ban MTTQ Việt Nam huyện",
        false,
        Tpl {
            title: "Vận động xây dựng nhà Đại đoàn kết cho hộ nghèo",
            kind: "breakthrough",
            category: "An sinh xã hội",
            targets: &[t(
                "nha-dai-doan-ket",
                "Nhà Đại đoàn kết hoàn thành, bàn giao",
                0.0,
                60.0,
            )],
            solutions: [
                "Vận động doanh nghiệp, nhà hảo tâm ủng hộ Quỹ Vì người nghèo",
                "Huy động ngày công của đoàn viên, hội viên giúp hộ nghèo làm nhà",
                "Công khai danh sách hộ được hỗ trợ tại nhà văn hóa thôn",
            ],
            delegation: "Ban Công tác Mặt trận thôn bình xét hộ nghèo được hỗ trợ, huy động ngày công làm nhà",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some(("cong-an-huyen", "Công an huyện", AGENCY)),
        "Ủy viên Ban Thường vụ Huyện ủy, Trưởng Công an huyện",
        false,
        Tpl {
            title: "Hoàn thành thu nhận hồ sơ cấp căn cước công dân gắn chíp",
            kind: "new",
            category: "Chuyển đổi số",
            targets: &[t(
                "cccd-thu-nhan",
                "Công dân đủ tuổi đã được thu nhận hồ sơ căn cước công dân (%)",
                38.0,
                100.0,
            )],
            solutions: [
                "Tổ chức các tổ lưu động thu nhận hồ sơ tại xã, thôn, cả ngày nghỉ",
                "Làm sạch dữ liệu dân cư trước khi thu nhận",
                "Ưu tiên thu nhận tại nhà cho người cao tuổi, người khuyết tật",
            ],
            delegation: "Công an xã thông báo lịch, tập trung công dân đến điểm thu nhận hồ sơ",
            backlog: None,
            due: (6, 30),
        },
    ),
    role(
        Some(("ban-chi-huy-quan-su", "Ban Chỉ huy Quân sự huyện", AGENCY)),
        "Ủy viên Ban Thường vụ Huyện ủy, Chỉ huy trưởng Ban Chỉ huy Quân sự huyện",
        false,
        Tpl {
            title: "Xây dựng lực lượng dân quân vững mạnh, rộng khắp",
            kind: "difficult",
            category: "Quốc phòng - an ninh",
            targets: &[t(
                "dan-quan-dat-yeu-cau",
                "Dân quân được huấn luyện đạt yêu cầu (%)",
                85.0,
                100.0,
            )],
            solutions: [
                "Kiện toàn tổ chức dân quân ở các thôn, tổ dân phố",
                "Huấn luyện theo kế hoạch, kiểm tra bắn đạn thật cuối đợt",
                "Bảo đảm chế độ, chính sách cho lực lượng dân quân",
            ],
            delegation: "Ban Chỉ huy Quân sự xã tổ chức huấn luyện dân quân theo kế hoạch",
            backlog: None,
            due: (11, 30),
        },
    ),
    role(
        Some(("van-phong-huyen-uy", "Văn phòng Huyện ủy", AGENCY)),
        "Chánh Văn phòng Huyện ủy",
        false,
        Tpl {
            title: "Xử lý văn bản, hồ sơ công việc trên môi trường mạng trong các cơ quan Đảng",
            kind: "new",
            category: "Chuyển đổi số",
            targets: &[t(
                "van-ban-dien-tu",
                "Văn bản đi, đến được xử lý trên môi trường mạng (%)",
                45.0,
                90.0,
            )],
            solutions: [
                "Cấp chữ ký số cho lãnh đạo các cơ quan Đảng",
                "Tập huấn sử dụng phần mềm quản lý văn bản cho văn thư các đảng bộ",
                "Theo dõi, thông báo tỷ lệ văn bản điện tử hằng tháng",
            ],
            delegation: "Văn thư Đảng ủy gửi, nhận văn bản qua phần mềm, hạn chế văn bản giấy",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some(("trung-tam-chinh-tri", "Trung tâm Chính trị huyện", AGENCY)),
        "Giám đốc Trung tâm Chính trị huyện",
        false,
        Tpl {
            title: "Đổi mới phương pháp bồi dưỡng lý luận chính trị cho đảng viên và quần chúng",
            kind: "new",
            category: "Xây dựng Đảng",
            targets: &[t("hoc-vien", "Học viên được bồi dưỡng", 0.0, 650.0)],
            solutions: [
                "Mở lớp tại cụm xã, giảm thời gian đi lại của học viên",
                "Tăng thời lượng thảo luận, liên hệ thực tiễn địa phương",
                "Mời báo cáo viên cấp tỉnh giảng các chuyên đề mới",
            ],
            delegation: "Lập danh sách, cử học viên dự lớp đúng đối tượng",
            backlog: None,
            due: (11, 30),
        },
    ),
    role(
        Some(("huyen-doan", "Huyện đoàn Sơn Dương", AGENCY)),
        "Bí thư Huyện đoàn",
        false,
        Tpl {
            title: "Hỗ trợ thanh niên lập nghiệp, phát triển mô hình kinh tế thanh niên",
            kind: "new",
            category: "Phát triển kinh tế",
            targets: &[t(
                "mo-hinh-kinh-te-thanh-nien",
                "Mô hình kinh tế do thanh niên làm chủ",
                14.0,
                22.0,
            )],
            solutions: [
                "Phối hợp Ngân hàng Chính sách xã hội cho đoàn viên vay vốn",
                "Tổ chức tập huấn khởi nghiệp, kỹ năng bán hàng trực tuyến",
                "Tôn vinh mô hình thanh niên làm kinh tế giỏi",
            ],
            delegation: "Đoàn xã giới thiệu đoàn viên có dự án khởi nghiệp, theo dõi hiệu quả vốn vay",
            backlog: None,
            due: (11, 30),
        },
    ),
    Role {
        unit: Some(("hoi-lien-hiep-phu-nu", "Hội Liên hiệp Phụ nữ huyện", AGENCY)),
        position: "Chủ tịch Hội Liên hiệp Phụ nữ huyện",
        standing: false,
        female: Some(true),
        real: None,
        tpl: Tpl {
            title: "Hỗ trợ hộ hội viên phụ nữ nghèo thoát nghèo",
            kind: "difficult",
            category: "Giảm nghèo",
            targets: &[t(
                "ho-thoat-ngheo",
                "Hộ hội viên phụ nữ thoát nghèo",
                0.0,
                140.0,
            )],
            solutions: [
                "Phân công cán bộ hội giúp đỡ từng hộ hội viên nghèo",
                "Hỗ trợ vốn, giống cây, con từ các nguồn quỹ của hội",
                "Dạy nghề, giới thiệu việc làm cho hội viên",
            ],
            delegation: "Chi hội phụ nữ thôn lập danh sách hộ hội viên nghèo, phân công giúp đỡ",
            backlog: None,
            due: (12, 15),
        },
    },
    role(
        Some(("hoi-nong-dan", "Hội Nông dân huyện", AGENCY)),
        "Chủ tịch Hội Nông dân huyện",
        false,
        Tpl {
            title: "Thành lập tổ hợp tác, hợp tác xã do hội viên nông dân làm nòng cốt",
            kind: "new",
            category: "Phát triển kinh tế",
            targets: &[t(
                "to-hop-tac-moi",
                "Tổ hợp tác, hợp tác xã mới thành lập",
                0.0,
                12.0,
            )],
            solutions: [
                "Tuyên truyền lợi ích của kinh tế tập thể đến hội viên",
                "Hướng dẫn thủ tục thành lập, điều lệ hoạt động",
                "Kết nối đầu ra cho sản phẩm của tổ hợp tác",
            ],
            delegation: "Hội Nông dân xã vận động hội viên tham gia tổ hợp tác",
            backlog: None,
            due: (11, 30),
        },
    ),
    role(
        Some(("hoi-cuu-chien-binh", "Hội Cựu chiến binh huyện", AGENCY)),
        "Chủ tịch Hội Cựu chiến binh huyện",
        false,
        Tpl {
            title: "Xây dựng mô hình cựu chiến binh giúp nhau phát triển kinh tế",
            kind: "new",
            category: "Phát triển kinh tế",
            targets: &[t(
                "ho-duoc-giup-do",
                "Hộ hội viên được giúp đỡ vốn, giống, ngày công",
                0.0,
                120.0,
            )],
            solutions: [
                "Mỗi chi hội nhận giúp đỡ ít nhất một hộ hội viên khó khăn",
                "Quản lý tốt nguồn vốn ủy thác, không để nợ quá hạn",
                "Tổ chức tham quan các mô hình kinh tế hiệu quả",
            ],
            delegation: "Chi hội cựu chiến binh thôn nhận giúp đỡ hộ hội viên khó khăn",
            backlog: None,
            due: (11, 30),
        },
    ),
    role(
        Some(("lien-doan-lao-dong", "Liên đoàn Lao động huyện", AGENCY)),
        "Chủ tịch Liên đoàn Lao động huyện",
        false,
        Tpl {
            title: "Thành lập công đoàn cơ sở trong doanh nghiệp ngoài nhà nước",
            kind: "difficult",
            category: "Xây dựng tổ chức",
            targets: &[
                t(
                    "cong-doan-co-so-moi",
                    "Công đoàn cơ sở mới thành lập",
                    0.0,
                    6.0,
                ),
                t(
                    "doan-vien-moi",
                    "Đoàn viên công đoàn mới kết nạp",
                    0.0,
                    320.0,
                ),
            ],
            solutions: [
                "Khảo sát doanh nghiệp có từ 25 lao động trở lên chưa có công đoàn",
                "Gặp gỡ chủ doanh nghiệp, tuyên truyền quyền lợi của người lao động",
                "Hỗ trợ ban chấp hành công đoàn mới thành lập trong năm đầu",
            ],
            delegation: "Phối hợp vận động người lao động tại doanh nghiệp trên địa bàn gia nhập công đoàn",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some((
            "van-phong-hdnd-ubnd",
            "Văn phòng HĐND và UBND huyện",
            DEPARTMENT,
        )),
        "Chánh Văn phòng HĐND và UBND huyện",
        false,
        Tpl {
            title: "Nâng tỷ lệ hồ sơ thủ tục hành chính nộp trực tuyến",
            kind: "new",
            category: "Chuyển đổi số",
            targets: &[t(
                "ho-so-truc-tuyen",
                "Hồ sơ thủ tục hành chính nộp trực tuyến (%)",
                12.0,
                40.0,
            )],
            solutions: [
                "Bố trí công chức hướng dẫn người dân nộp hồ sơ trực tuyến tại Bộ phận Một cửa",
                "Tuyên truyền dịch vụ công trực tuyến trên đài truyền thanh xã",
                "Công khai tỷ lệ hồ sơ trực tuyến của từng cơ quan hằng tháng",
            ],
            delegation: "Bộ phận Một cửa xã hướng dẫn người dân nộp hồ sơ trực tuyến",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some((
            "phong-nong-nghiep",
            "Phòng Nông nghiệp và Phát triển nông thôn",
            DEPARTMENT,
        )),
        "Trưởng phòng Nông nghiệp và Phát triển nông thôn",
        false,
        Tpl {
            title: "Phát triển sản phẩm OCOP đạt 3 sao trở lên",
            kind: "breakthrough",
            category: "Nông thôn mới",
            targets: &[t(
                "san-pham-ocop",
                "Sản phẩm OCOP đạt 3 sao trở lên",
                12.0,
                20.0,
            )],
            solutions: [
                "Lựa chọn sản phẩm chủ lực của từng xã để hoàn thiện hồ sơ đánh giá",
                "Hỗ trợ bao bì, nhãn mác, truy xuất nguồn gốc",
                "Giới thiệu sản phẩm tại hội chợ và sàn thương mại điện tử",
            ],
            delegation: "Hướng dẫn chủ thể sản phẩm hoàn thiện hồ sơ đánh giá, phân hạng OCOP",
            backlog: None,
            due: (11, 30),
        },
    ),
    role(
        Some((
            "phong-tai-nguyen-moi-truong",
            "Phòng Tài nguyên và Môi trường",
            DEPARTMENT,
        )),
        "Trưởng phòng Tài nguyên và Môi trường",
        false,
        Tpl {
            title: "Giải quyết dứt điểm hồ sơ cấp giấy chứng nhận quyền sử dụng đất tồn đọng",
            kind: "difficult",
            category: "Quản lý đất đai",
            targets: &[t(
                "ho-so-ton-dong",
                "Hồ sơ cấp giấy chứng nhận còn tồn đọng",
                146.0,
                0.0,
            )],
            solutions: [
                "Phân loại hồ sơ theo nguyên nhân tồn đọng, xử lý theo từng nhóm",
                "Phối hợp UBND xã xác minh nguồn gốc, thời điểm sử dụng đất",
                "Trả kết quả và thông báo công khai danh sách hồ sơ đã giải quyết",
            ],
            delegation: "Xác minh nguồn gốc đất, niêm yết công khai hồ sơ tồn đọng trên địa bàn",
            backlog: Some(
                "Việc tồn đọng năm 2020 của UBND huyện: {n} hồ sơ cấp giấy chứng nhận quyền sử dụng đất lần đầu chưa giải quyết",
            ),
            due: (11, 30),
        },
    ),
    role(
        Some((
            "phong-giao-duc-dao-tao",
            "Phòng Giáo dục và Đào tạo",
            DEPARTMENT,
        )),
        "Trưởng phòng Giáo dục và Đào tạo",
        false,
        Tpl {
            title: "Thêm năm trường đạt chuẩn quốc gia",
            kind: "breakthrough",
            category: "Giáo dục",
            targets: &[t(
                "truong-dat-chuan",
                "Trường đạt chuẩn quốc gia",
                61.0,
                66.0,
            )],
            solutions: [
                "Rà soát tiêu chuẩn còn thiếu của từng trường đăng ký",
                "Ưu tiên vốn sửa chữa, xây phòng học cho các trường đăng ký",
                "Bồi dưỡng đội ngũ cán bộ quản lý, giáo viên đạt chuẩn",
            ],
            delegation: "Bố trí quỹ đất, huy động xã hội hóa xây dựng cơ sở vật chất trường học",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some((
            "phong-tai-chinh-ke-hoach",
            "Phòng Tài chính - Kế hoạch",
            DEPARTMENT,
        )),
        "Trưởng phòng Tài chính - Kế hoạch",
        false,
        Tpl {
            title: "Giải ngân 100% kế hoạch vốn đầu tư công năm 2021",
            kind: "difficult",
            category: "Kinh tế - ngân sách",
            targets: &[t(
                "giai-ngan",
                "Vốn đầu tư công đã giải ngân (%)",
                0.0,
                100.0,
            )],
            solutions: [
                "Theo dõi tiến độ giải ngân từng dự án hằng tuần",
                "Điều chuyển vốn từ dự án chậm sang dự án có khối lượng",
                "Xử lý nghiêm chủ đầu tư, nhà thầu chậm tiến độ",
            ],
            delegation: "Hoàn thiện hồ sơ thanh toán khối lượng hoàn thành của các công trình do xã làm chủ đầu tư",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some((
            "phong-kinh-te-ha-tang",
            "Phòng Kinh tế và Hạ tầng",
            DEPARTMENT,
        )),
        "Trưởng phòng Kinh tế và Hạ tầng",
        false,
        Tpl {
            title: "Bê tông hóa đường giao thông nông thôn",
            kind: "breakthrough",
            category: "Nông thôn mới",
            targets: &[t(
                "duong-be-tong",
                "Đường giao thông nông thôn được bê tông hóa (km)",
                0.0,
                65.0,
            )],
            solutions: [
                "Hỗ trợ xi măng theo cơ chế của tỉnh, nhân dân góp công, hiến đất",
                "Hướng dẫn kỹ thuật, giám sát chất lượng thi công",
                "Nghiệm thu, thanh quyết toán kịp thời",
            ],
            delegation: "Vận động nhân dân hiến đất, tổ chức thi công đường bê tông theo kế hoạch",
            backlog: None,
            due: (11, 30),
        },
    ),
    role(
        Some((
            "phong-van-hoa-thong-tin",
            "Phòng Văn hóa và Thông tin",
            DEPARTMENT,
        )),
        "Trưởng phòng Văn hóa và Thông tin",
        false,
        Tpl {
            title: "Nâng tỷ lệ thôn, tổ dân phố đạt danh hiệu văn hóa",
            kind: "new",
            category: "Văn hóa - xã hội",
            targets: &[t(
                "thon-van-hoa",
                "Thôn, tổ dân phố đạt danh hiệu văn hóa (%)",
                80.0,
                86.0,
            )],
            solutions: [
                "Hướng dẫn tiêu chí bình xét danh hiệu văn hóa năm 2021",
                "Hỗ trợ thiết chế văn hóa cho các thôn còn thiếu",
                "Kiểm tra, bình xét đúng thực chất, không chạy theo thành tích",
            ],
            delegation: "Hướng dẫn các thôn đăng ký, bình xét danh hiệu văn hóa",
            backlog: None,
            due: (12, 10),
        },
    ),
    role(
        Some((
            "phong-lao-dong-tbxh",
            "Phòng Lao động - Thương binh và Xã hội",
            DEPARTMENT,
        )),
        "Trưởng phòng Lao động - Thương binh và Xã hội",
        false,
        Tpl {
            title: "Giảm tỷ lệ hộ nghèo toàn huyện",
            kind: "difficult",
            category: "Giảm nghèo",
            targets: &[t("ty-le-ho-ngheo", "Tỷ lệ hộ nghèo (%)", 7.8, 5.6)],
            solutions: [
                "Rà soát, phân loại nguyên nhân nghèo của từng hộ",
                "Lồng ghép chính sách tín dụng, đào tạo nghề, hỗ trợ sản xuất",
                "Phân công tổ chức, cá nhân giúp đỡ hộ nghèo",
            ],
            delegation: "Rà soát hộ nghèo, hộ cận nghèo, lập kế hoạch thoát nghèo cho từng hộ",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some(("phong-tu-phap", "Phòng Tư pháp", DEPARTMENT)),
        "Trưởng phòng Tư pháp",
        false,
        Tpl {
            title: "Số hóa sổ hộ tịch, cập nhật cơ sở dữ liệu hộ tịch điện tử",
            kind: "new",
            category: "Chuyển đổi số",
            targets: &[t(
                "so-ho-tich",
                "Sổ hộ tịch đã được số hóa (%)",
                20.0,
                100.0,
            )],
            solutions: [
                "Thống kê toàn bộ sổ hộ tịch lưu trữ tại huyện và xã",
                "Thuê đơn vị nhập liệu, công chức tư pháp kiểm tra đối chiếu",
                "Cập nhật dữ liệu lên hệ thống hộ tịch điện tử dùng chung",
            ],
            delegation: "Công chức tư pháp - hộ tịch xã bàn giao sổ, đối chiếu dữ liệu sau nhập",
            backlog: None,
            due: (11, 30),
        },
    ),
    role(
        Some(("phong-y-te", "Phòng Y tế", DEPARTMENT)),
        "Trưởng phòng Y tế",
        false,
        Tpl {
            title: "Triển khai tiêm vắc xin phòng COVID-19 cho người từ 18 tuổi trở lên",
            kind: "new",
            category: "Y tế",
            targets: &[t(
                "tiem-du-2-mui",
                "Người từ 18 tuổi trở lên được tiêm đủ 2 mũi (%)",
                0.0,
                95.0,
            )],
            solutions: [
                "Lập danh sách đối tượng tiêm theo thôn, tổ dân phố",
                "Tổ chức điểm tiêm lưu động tại trạm y tế xã",
                "Tuyên truyền để người dân tự nguyện tiêm đủ mũi",
            ],
            delegation: "Lập danh sách, thông báo và đưa người dân đến điểm tiêm",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some(("thanh-tra-huyen", "Thanh tra huyện", DEPARTMENT)),
        "Chánh Thanh tra huyện",
        false,
        Tpl {
            title: "Thu hồi tiền sai phạm theo kết luận thanh tra còn tồn đọng",
            kind: "difficult",
            category: "Phòng, chống tham nhũng",
            targets: &[t(
                "tien-thu-hoi",
                "Tiền sai phạm đã thu hồi (triệu đồng)",
                0.0,
                860.0,
            )],
            solutions: [
                "Lập danh sách tổ chức, cá nhân chưa nộp lại tiền sai phạm",
                "Ban hành văn bản đôn đốc, làm việc trực tiếp với từng đơn vị",
                "Chuyển cơ quan có thẩm quyền xử lý trường hợp cố tình không nộp",
            ],
            delegation: "Đôn đốc tổ chức, cá nhân trên địa bàn nộp lại tiền sai phạm",
            backlog: Some(
                "Việc tồn đọng năm 2020 của Thanh tra huyện: 860 triệu đồng sai phạm theo bốn kết luận thanh tra chưa thu hồi",
            ),
            due: (11, 30),
        },
    ),
    role(
        Some(("phong-dan-toc", "Phòng Dân tộc", DEPARTMENT)),
        "Trưởng phòng Dân tộc",
        false,
        Tpl {
            title: "Hỗ trợ sinh kế cho hộ đồng bào dân tộc thiểu số khó khăn",
            kind: "new",
            category: "Công tác dân tộc",
            targets: &[t(
                "ho-duoc-ho-tro",
                "Hộ đồng bào dân tộc thiểu số được hỗ trợ sinh kế",
                0.0,
                180.0,
            )],
            solutions: [
                "Rà soát hộ đồng bào dân tộc thiểu số thiếu đất, thiếu vốn sản xuất",
                "Hỗ trợ giống, vật tư theo các chương trình, dự án",
                "Phát huy vai trò người có uy tín trong đồng bào",
            ],
            delegation: "Bình xét, lập danh sách hộ được hỗ trợ sinh kế",
            backlog: None,
            due: (11, 30),
        },
    ),
    role(
        Some(("trung-tam-y-te", "Trung tâm Y tế huyện", AGENCY)),
        "Giám đốc Trung tâm Y tế huyện",
        false,
        Tpl {
            title: "Nâng số xã, thị trấn đạt Bộ tiêu chí quốc gia về y tế xã",
            kind: "new",
            category: "Y tế",
            targets: &[t(
                "xa-dat-tieu-chi-y-te",
                "Xã, thị trấn đạt Bộ tiêu chí quốc gia về y tế",
                26.0,
                31.0,
            )],
            solutions: [
                "Hỗ trợ chuyên môn cho trạm y tế các xã chưa đạt",
                "Bổ sung trang thiết bị thiết yếu cho trạm y tế",
                "Đẩy mạnh lập hồ sơ quản lý sức khỏe người dân",
            ],
            delegation: "Trạm y tế xã hoàn thiện các tiêu chí còn thiếu",
            backlog: None,
            due: (12, 10),
        },
    ),
    role(
        Some((
            "trung-tam-van-hoa-truyen-thong",
            "Trung tâm Văn hóa - Truyền thông và Thể thao huyện",
            AGENCY,
        )),
        "Giám đốc Trung tâm Văn hóa - Truyền thông và Thể thao huyện",
        false,
        Tpl {
            title: "Tổ chức Ngày hội Văn hóa - Thể thao các dân tộc huyện năm 2021",
            kind: "new",
            category: "Văn hóa - xã hội",
            targets: &[t(
                "van-dong-vien",
                "Vận động viên, diễn viên đăng ký tham gia",
                0.0,
                800.0,
            )],
            solutions: [
                "Xây dựng kịch bản ngày hội gắn với bản sắc các dân tộc Tày, Dao, Sán Dìu",
                "Vận động doanh nghiệp tài trợ",
                "Tập luyện, tổng duyệt các tiết mục từ tháng 8",
            ],
            delegation: "Thành lập đội văn nghệ, thể thao tham gia ngày hội",
            backlog: None,
            due: (9, 30),
        },
    ),
    role(
        Some((
            "trung-tam-dich-vu-nong-nghiep",
            "Trung tâm Dịch vụ nông nghiệp huyện",
            AGENCY,
        )),
        "Giám đốc Trung tâm Dịch vụ nông nghiệp huyện",
        false,
        Tpl {
            title: "Mở rộng diện tích chè sản xuất theo tiêu chuẩn VietGAP",
            kind: "new",
            category: "Phát triển kinh tế",
            targets: &[t(
                "che-vietgap",
                "Diện tích chè đạt tiêu chuẩn VietGAP (ha)",
                120.0,
                200.0,
            )],
            solutions: [
                "Tập huấn quy trình sản xuất chè an toàn cho các hộ",
                "Hỗ trợ chi phí chứng nhận VietGAP lần đầu",
                "Liên kết với doanh nghiệp chế biến bao tiêu sản phẩm",
            ],
            delegation: "Vận động hộ trồng chè đăng ký sản xuất theo tiêu chuẩn VietGAP",
            backlog: None,
            due: (11, 30),
        },
    ),
    role(
        Some((
            "ban-quan-ly-du-an",
            "Ban Quản lý dự án đầu tư xây dựng huyện",
            AGENCY,
        )),
        "Giám đốc Ban Quản lý dự án đầu tư xây dựng huyện",
        false,
        Tpl {
            title: "Hoàn thành, bàn giao các công trình xây dựng cơ bản đúng tiến độ",
            kind: "difficult",
            category: "Kinh tế - hạ tầng",
            targets: &[t(
                "cong-trinh-ban-giao",
                "Công trình hoàn thành, bàn giao đưa vào sử dụng",
                0.0,
                14.0,
            )],
            solutions: [
                "Lập tiến độ chi tiết từng công trình, giao trách nhiệm cán bộ theo dõi",
                "Kiểm tra hiện trường hằng tuần, xử lý vướng mắc tại chỗ",
                "Nghiệm thu, bàn giao ngay khi hoàn thành",
            ],
            delegation: "Phối hợp bàn giao mặt bằng, giám sát cộng đồng các công trình trên địa bàn",
            backlog: None,
            due: (10, 31),
        },
    ),
    role(
        Some((
            "trung-tam-phat-trien-quy-dat",
            "Trung tâm Phát triển quỹ đất huyện",
            AGENCY,
        )),
        "Giám đốc Trung tâm Phát triển quỹ đất huyện",
        false,
        Tpl {
            title: "Tạo quỹ đất sạch để đấu giá quyền sử dụng đất",
            kind: "difficult",
            category: "Quản lý đất đai",
            targets: &[t(
                "dien-tich-dau-gia",
                "Diện tích đất sạch đưa ra đấu giá (ha)",
                0.0,
                12.0,
            )],
            solutions: [
                "Rà soát quỹ đất công, đất do Nhà nước thu hồi",
                "Đầu tư hạ tầng khu đất trước khi đấu giá",
                "Công khai kế hoạch đấu giá trên cổng thông tin điện tử",
            ],
            delegation: "Quản lý chặt quỹ đất công, ngăn chặn lấn chiếm",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some((
            "trung-tam-gdnn-gdtx",
            "Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên huyện",
            AGENCY,
        )),
        "Giám đốc Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên huyện",
        false,
        Tpl {
            title: "Đào tạo nghề cho lao động nông thôn",
            kind: "new",
            category: "Giáo dục",
            targets: &[t(
                "lao-dong-hoc-nghe",
                "Lao động nông thôn được đào tạo nghề",
                0.0,
                900.0,
            )],
            solutions: [
                "Khảo sát nhu cầu học nghề tại các xã",
                "Mở lớp tại thôn theo mùa vụ, gắn với sản xuất thực tế",
                "Liên kết doanh nghiệp tuyển dụng học viên sau đào tạo",
            ],
            delegation: "Tuyển sinh, bố trí địa điểm mở lớp dạy nghề tại thôn",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some(("hat-kiem-lam", "Hạt Kiểm lâm huyện", AGENCY)),
        "Hạt trưởng Hạt Kiểm lâm huyện",
        false,
        Tpl {
            title: "Trồng rừng tập trung và bảo vệ diện tích rừng hiện có",
            kind: "new",
            category: "Phát triển kinh tế",
            targets: &[t(
                "rung-trong-moi",
                "Diện tích rừng trồng mới (ha)",
                0.0,
                1800.0,
            )],
            solutions: [
                "Cung ứng đủ giống keo mô chất lượng cao",
                "Hướng dẫn kỹ thuật trồng, chăm sóc rừng",
                "Tuần tra, ngăn chặn phá rừng, cháy rừng",
            ],
            delegation: "Kiểm lâm địa bàn phối hợp xã vận động nhân dân trồng rừng đúng thời vụ",
            backlog: None,
            due: (10, 31),
        },
    ),
    role(
        Some(("chi-cuc-thue", "Chi cục Thuế huyện", AGENCY)),
        "Chi cục trưởng Chi cục Thuế huyện",
        false,
        Tpl {
            title: "Giảm nợ thuế khó thu",
            kind: "difficult",
            category: "Kinh tế - ngân sách",
            targets: &[t("no-thue", "Nợ thuế khó thu (triệu đồng)", 5200.0, 3000.0)],
            solutions: [
                "Phân loại nợ, áp dụng biện pháp cưỡng chế theo quy định",
                "Phối hợp ngân hàng trích tiền từ tài khoản của người nợ thuế",
                "Công khai danh sách doanh nghiệp nợ thuế kéo dài",
            ],
            delegation: "Phối hợp đôn đốc hộ kinh doanh nợ thuế trên địa bàn",
            backlog: Some("Việc tồn đọng năm 2020: nợ thuế khó thu {n} triệu đồng chưa xử lý được"),
            due: (12, 15),
        },
    ),
    role(
        Some(("kho-bac-nha-nuoc", "Kho bạc Nhà nước huyện", AGENCY)),
        "Giám đốc Kho bạc Nhà nước huyện",
        false,
        Tpl {
            title: "Kiểm soát chi ngân sách qua dịch vụ công trực tuyến",
            kind: "new",
            category: "Chuyển đổi số",
            targets: &[t(
                "chi-truc-tuyen",
                "Hồ sơ kiểm soát chi qua dịch vụ công trực tuyến (%)",
                60.0,
                100.0,
            )],
            solutions: [
                "Hướng dẫn đơn vị sử dụng ngân sách đăng ký chữ ký số",
                "Hỗ trợ trực tiếp kế toán các xã khi gửi hồ sơ trực tuyến",
                "Rút ngắn thời gian kiểm soát chi đối với hồ sơ trực tuyến",
            ],
            delegation: "Kế toán ngân sách xã gửi hồ sơ kiểm soát chi qua dịch vụ công trực tuyến",
            backlog: None,
            due: (11, 30),
        },
    ),
    role(
        Some((
            "ngan-hang-chinh-sach-xa-hoi",
            "Phòng giao dịch Ngân hàng Chính sách xã hội huyện",
            AGENCY,
        )),
        "Giám đốc Phòng giao dịch Ngân hàng Chính sách xã hội huyện",
        false,
        Tpl {
            title: "Giảm tỷ lệ nợ quá hạn tín dụng chính sách",
            kind: "difficult",
            category: "Giảm nghèo",
            targets: &[t("no-qua-han", "Tỷ lệ nợ quá hạn (%)", 0.42, 0.2)],
            solutions: [
                "Kiện toàn tổ tiết kiệm và vay vốn ở các thôn",
                "Đối chiếu nợ đến từng hộ vay, đôn đốc trả nợ đến hạn",
                "Phối hợp hội, đoàn thể nhận ủy thác xử lý nợ quá hạn",
            ],
            delegation: "Tổ tiết kiệm và vay vốn thôn đôn đốc hộ vay trả nợ đúng hạn",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some(("bao-hiem-xa-hoi", "Bảo hiểm xã hội huyện", AGENCY)),
        "Giám đốc Bảo hiểm xã hội huyện",
        false,
        Tpl {
            title: "Phát triển người tham gia bảo hiểm xã hội tự nguyện",
            kind: "difficult",
            category: "An sinh xã hội",
            targets: &[t(
                "bhxh-tu-nguyen",
                "Người tham gia bảo hiểm xã hội tự nguyện",
                1450.0,
                2300.0,
            )],
            solutions: [
                "Tổ chức hội nghị tư vấn, đối thoại tại các thôn",
                "Phát triển mạng lưới đại lý thu tại xã",
                "Giao chỉ tiêu phát triển người tham gia cho từng xã",
            ],
            delegation: "Tuyên truyền, vận động người dân tham gia bảo hiểm xã hội tự nguyện",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some((
            "van-phong-dang-ky-dat-dai",
            "Chi nhánh Văn phòng Đăng ký đất đai huyện",
            AGENCY,
        )),
        "Giám đốc Chi nhánh Văn phòng Đăng ký đất đai huyện",
        false,
        Tpl {
            title: "Số hóa hồ sơ địa chính",
            kind: "new",
            category: "Chuyển đổi số",
            targets: &[t(
                "ho-so-dia-chinh",
                "Hồ sơ địa chính được số hóa (%)",
                30.0,
                80.0,
            )],
            solutions: [
                "Quét, lập chỉ mục hồ sơ địa chính theo từng xã",
                "Kiểm tra, đối chiếu dữ liệu số với hồ sơ gốc",
                "Khai thác dữ liệu số trong giải quyết thủ tục",
            ],
            delegation: "Bàn giao hồ sơ địa chính lưu tại xã để số hóa",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some((
            "doi-quan-ly-thi-truong",
            "Đội Quản lý thị trường huyện",
            AGENCY,
        )),
        "Đội trưởng Đội Quản lý thị trường huyện",
        false,
        Tpl {
            title: "Kiểm tra an toàn thực phẩm, chống hàng giả, hàng kém chất lượng",
            kind: "new",
            category: "An toàn thực phẩm",
            targets: &[t(
                "co-so-kiem-tra",
                "Cơ sở sản xuất, kinh doanh được kiểm tra",
                0.0,
                120.0,
            )],
            solutions: [
                "Kiểm tra theo kế hoạch và đột xuất vào dịp lễ, Tết",
                "Phối hợp Ban Chỉ đạo an toàn thực phẩm xã",
                "Công khai cơ sở vi phạm trên đài truyền thanh",
            ],
            delegation: "Cung cấp danh sách cơ sở kinh doanh thực phẩm trên địa bàn",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some(("vien-kiem-sat", "Viện Kiểm sát nhân dân huyện", AGENCY)),
        "Viện trưởng Viện Kiểm sát nhân dân huyện",
        false,
        Tpl {
            title: "Nâng cao chất lượng thực hành quyền công tố, không để xảy ra oan sai",
            kind: "new",
            category: "Tư pháp",
            targets: &[],
            solutions: [
                "Kiểm sát chặt chẽ từ khi thụ lý tin báo, tố giác tội phạm",
                "Tổ chức phiên tòa rút kinh nghiệm",
                "Tăng cường trách nhiệm công tố trong hoạt động điều tra",
            ],
            delegation: "Phối hợp cung cấp thông tin phục vụ giải quyết tin báo tội phạm",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some(("toa-an", "Tòa án nhân dân huyện", AGENCY)),
        "Chánh án Tòa án nhân dân huyện",
        false,
        Tpl {
            title: "Giải quyết các loại án đúng thời hạn luật định",
            kind: "new",
            category: "Tư pháp",
            targets: &[t(
                "an-giai-quyet",
                "Án đã thụ lý được giải quyết (%)",
                0.0,
                90.0,
            )],
            solutions: [
                "Phân công thẩm phán hợp lý, theo dõi thời hạn từng vụ",
                "Đẩy mạnh hòa giải, đối thoại tại tòa án",
                "Tổ chức phiên tòa trực tuyến khi có điều kiện",
            ],
            delegation: "Tống đạt văn bản tố tụng kịp thời cho đương sự trên địa bàn",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some((
            "chi-cuc-thi-hanh-an",
            "Chi cục Thi hành án dân sự huyện",
            AGENCY,
        )),
        "Chi cục trưởng Chi cục Thi hành án dân sự huyện",
        false,
        Tpl {
            title: "Thi hành xong các việc có điều kiện thi hành",
            kind: "difficult",
            category: "Tư pháp",
            targets: &[t(
                "viec-thi-hanh-xong",
                "Việc có điều kiện đã thi hành xong (%)",
                0.0,
                82.0,
            )],
            solutions: [
                "Xác minh điều kiện thi hành án của từng việc",
                "Vận động người phải thi hành án tự nguyện thi hành",
                "Tổ chức cưỡng chế dứt điểm các việc kéo dài",
            ],
            delegation: "Phối hợp xác minh tài sản, vận động người phải thi hành án",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some(("chi-cuc-thong-ke", "Chi cục Thống kê huyện", AGENCY)),
        "Chi cục trưởng Chi cục Thống kê huyện",
        false,
        Tpl {
            title: "Tổ chức Tổng điều tra kinh tế năm 2021 trên địa bàn huyện",
            kind: "new",
            category: "Kinh tế - ngân sách",
            targets: &[],
            solutions: [
                "Lập bảng kê cơ sở kinh tế đầy đủ, không bỏ sót",
                "Tập huấn điều tra viên sử dụng phiếu điện tử",
                "Kiểm tra, nghiệm thu phiếu điều tra hằng tuần",
            ],
            delegation: "Cử điều tra viên, hỗ trợ lập bảng kê cơ sở kinh tế",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some(("hoi-chu-thap-do", "Hội Chữ thập đỏ huyện", AGENCY)),
        "Chủ tịch Hội Chữ thập đỏ huyện",
        false,
        Tpl {
            title: "Vận động nguồn lực nhân đạo giúp người khó khăn và phòng, chống dịch",
            kind: "new",
            category: "An sinh xã hội",
            targets: &[t(
                "gia-tri-van-dong",
                "Giá trị tiền, hàng vận động được (triệu đồng)",
                0.0,
                1500.0,
            )],
            solutions: [
                "Phát động phong trào \"Mỗi tổ chức, mỗi cá nhân gắn với một địa chỉ nhân đạo\"",
                "Vận động doanh nghiệp, nhà hảo tâm ủng hộ",
                "Trao hỗ trợ đúng đối tượng, công khai minh bạch",
            ],
            delegation: "Chi hội Chữ thập đỏ thôn lập danh sách người khó khăn cần hỗ trợ",
            backlog: None,
            due: (12, 15),
        },
    ),
    role(
        Some(("ban-tiep-cong-dan", "Ban Tiếp công dân huyện", AGENCY)),
        "Trưởng Ban Tiếp công dân huyện",
        false,
        Tpl {
            title: "Giải quyết dứt điểm đơn khiếu nại kéo dài, vượt cấp",
            kind: "difficult",
            category: "Tiếp công dân",
            targets: &[t(
                "don-keo-dai",
                "Đơn khiếu nại kéo dài chưa giải quyết",
                27.0,
                0.0,
            )],
            solutions: [
                "Rà soát, phân loại từng vụ việc, xác định thẩm quyền giải quyết",
                "Chủ tịch UBND huyện tiếp công dân định kỳ đối với vụ việc phức tạp",
                "Đối thoại, giải thích pháp luật cho người khiếu nại",
            ],
            delegation: "Tổ chức đối thoại với người khiếu nại trên địa bàn",
            backlog: Some(
                "Việc tồn đọng năm 2020: {n} đơn khiếu nại kéo dài, vượt cấp chưa giải quyết dứt điểm",
            ),
            due: (11, 30),
        },
    ),
];

/// Hoàng Thế Mạnh's task.
pub(crate) const MANH: Tpl = Tpl {
    title: "Xã Hợp Thành đạt tiêu chí số 17 \"Môi trường và an toàn thực phẩm\" trong xây dựng nông thôn mới",
    kind: "breakthrough",
    category: "Nông thôn mới",
    targets: &[
        t(
            "co-so-ky-cam-ket",
            "Cơ sở sản xuất, kinh doanh thực phẩm đã ký cam kết (%)",
            0.0,
            100.0,
        ),
        t(
            "ho-phan-loai-rac",
            "Hộ gia đình phân loại rác thải tại nhà (%)",
            15.0,
            60.0,
        ),
    ],
    solutions: MANH_SOLUTIONS,
    delegation: "Thí điểm mô hình thu gom rác thải hữu cơ, vô cơ tại thôn Đồng Diễn; hướng dẫn các hộ phân loại rác tại nhà",
    backlog: None,
    due: (11, 30),
};

/// Party secretaries' tasks: party-cell meetings, congress resolutions,
/// admitting members, and (from the backlog) old land disputes.
pub(crate) const SECRETARY: [Tpl; 4] = [
    Tpl {
        title: "Nâng cao chất lượng sinh hoạt chi bộ trong Đảng bộ {xa}",
        kind: "breakthrough",
        category: "Xây dựng Đảng",
        targets: &[tr(
            "chi-bo-sinh-hoat-tot",
            "Chi bộ sinh hoạt đạt chất lượng tốt (%)",
            (45.0, 65.0),
            (80.0, 90.0),
        )],
        solutions: [
            "Xây dựng nội dung sinh hoạt chuyên đề hằng quý phù hợp từng chi bộ",
            "Phân công đảng ủy viên dự, hướng dẫn sinh hoạt tại các chi bộ thôn",
            "Đánh giá chất lượng sinh hoạt chi bộ hằng tháng, nhắc nhở kịp thời chi bộ yếu",
        ],
        delegation: "Chi bộ chuẩn bị nội dung sinh hoạt chuyên đề, gửi Đảng ủy trước kỳ sinh hoạt",
        backlog: None,
        due: (12, 10),
    },
    Tpl {
        title: "Học tập, quán triệt Nghị quyết Đại hội XIII của Đảng và Nghị quyết Đại hội Đảng bộ {xa}, xây dựng chương trình hành động",
        kind: "new",
        category: "Xây dựng Đảng",
        targets: &[
            tr(
                "dang-vien-hoc-tap",
                "Đảng viên được học tập, quán triệt (%)",
                (0.0, 0.0),
                (95.0, 100.0),
            ),
            tr(
                "chi-bo-co-chuong-trinh",
                "Chi bộ có chương trình hành động (%)",
                (0.0, 0.0),
                (100.0, 100.0),
            ),
        ],
        solutions: [
            "Tổ chức học tập tập trung, mở lớp bổ sung cho đảng viên vắng mặt",
            "Hướng dẫn chi bộ cụ thể hóa nghị quyết thành chương trình hành động sát thực tế thôn",
            "Kiểm tra, giám sát việc thực hiện chương trình hành động của các chi bộ",
        ],
        delegation: "Chi bộ xây dựng chương trình hành động thực hiện nghị quyết, gửi Đảng ủy",
        backlog: None,
        due: (9, 30),
    },
    Tpl {
        title: "Nâng cao chất lượng công tác phát triển đảng viên tại {xa}",
        kind: "difficult",
        category: "Xây dựng Đảng",
        targets: &[tr(
            "dang-vien-moi",
            "Đảng viên mới được kết nạp",
            (0.0, 0.0),
            (6.0, 14.0),
        )],
        solutions: [
            "Rà soát, lập danh sách quần chúng ưu tú ở từng thôn",
            "Giao chỉ tiêu tạo nguồn phát triển đảng viên cho từng chi bộ",
            "Phối hợp Trung tâm Chính trị huyện mở lớp bồi dưỡng nhận thức về Đảng",
        ],
        delegation: "Chi bộ giới thiệu quần chúng ưu tú, hoàn thiện hồ sơ đề nghị kết nạp",
        backlog: None,
        due: (12, 10),
    },
    Tpl {
        title: "Giải quyết dứt điểm tranh chấp, khiếu nại về đất đai tồn đọng tại {xa}",
        kind: "difficult",
        category: "Quản lý đất đai",
        targets: &[tr(
            "vu-viec-ton-dong",
            "Vụ việc tranh chấp đất đai còn tồn đọng",
            (4.0, 9.0),
            (0.0, 0.0),
        )],
        solutions: [
            "Rà soát, phân loại từng vụ việc; phân công đảng ủy viên phụ trách",
            "Tổ chức hòa giải ở cơ sở với sự tham gia của Mặt trận và các đoàn thể",
            "Đề nghị cơ quan chuyên môn của huyện hỗ trợ đo đạc, xác minh",
        ],
        delegation: "Tổ hòa giải thôn phối hợp hòa giải các vụ việc trên địa bàn",
        backlog: Some(
            "Việc tồn đọng năm 2020 của {xa}: {n} vụ tranh chấp đất đai chưa hòa giải xong",
        ),
        due: (11, 30),
    },
];

/// Commune chairs' tasks: new-rural criteria and digital transformation.
pub(crate) const CHAIR: [Tpl; 4] = [
    Tpl {
        title: "{Xa} đạt tiêu chí số 2 \"Giao thông\" trong xây dựng nông thôn mới",
        kind: "breakthrough",
        category: "Nông thôn mới",
        targets: &[tr(
            "duong-be-tong",
            "Đường trục thôn, ngõ xóm được cứng hóa (km)",
            (0.0, 0.0),
            (4.0, 9.0),
        )],
        solutions: [
            "Vận động nhân dân hiến đất, góp ngày công làm đường",
            "Lồng ghép xi măng hỗ trợ của tỉnh với vốn đối ứng của xã",
            "Giao các thôn tổ chức thi công, thực hiện giám sát cộng đồng",
        ],
        delegation: "Vận động nhân dân hiến đất, tổ chức thi công đường bê tông trong thôn",
        backlog: None,
        due: (11, 30),
    },
    Tpl {
        title: "Đẩy mạnh chuyển đổi số, nâng tỷ lệ hồ sơ thủ tục hành chính nộp trực tuyến tại {xa}",
        kind: "new",
        category: "Chuyển đổi số",
        targets: &[tr(
            "ho-so-truc-tuyen",
            "Hồ sơ thủ tục hành chính nộp trực tuyến (%)",
            (3.0, 10.0),
            (30.0, 40.0),
        )],
        solutions: [
            "Thành lập tổ công nghệ số cộng đồng ở các thôn, tổ dân phố",
            "Công chức Bộ phận Một cửa hướng dẫn người dân nộp hồ sơ trực tuyến",
            "Niêm yết mã QR tra cứu thủ tục hành chính tại nhà văn hóa",
        ],
        delegation: "Tổ công nghệ số cộng đồng hướng dẫn người dân cài đặt, sử dụng dịch vụ công trực tuyến",
        backlog: None,
        due: (12, 10),
    },
    Tpl {
        title: "{Xa} đạt tiêu chí số 13 \"Tổ chức sản xuất\" trong xây dựng nông thôn mới",
        kind: "difficult",
        category: "Nông thôn mới",
        targets: &[tr(
            "hop-tac-xa",
            "Hợp tác xã hoạt động hiệu quả",
            (0.0, 1.0),
            (2.0, 3.0),
        )],
        solutions: [
            "Củng cố hợp tác xã hiện có, hỗ trợ xây dựng phương án sản xuất",
            "Vận động thành lập hợp tác xã gắn với sản phẩm chủ lực của xã",
            "Liên kết doanh nghiệp bao tiêu sản phẩm cho hợp tác xã",
        ],
        delegation: "Vận động hộ sản xuất tham gia hợp tác xã, tổ hợp tác",
        backlog: None,
        due: (11, 30),
    },
    Tpl {
        title: "{Xa} đạt tiêu chí số 11 \"Hộ nghèo\" trong xây dựng nông thôn mới",
        kind: "difficult",
        category: "Nông thôn mới",
        targets: &[tr(
            "ty-le-ho-ngheo",
            "Tỷ lệ hộ nghèo (%)",
            (9.0, 14.0),
            (4.5, 5.5),
        )],
        solutions: [
            "Rà soát nguyên nhân nghèo, lập kế hoạch thoát nghèo cho từng hộ",
            "Ưu tiên vốn vay, giống cây, con cho hộ có lao động",
            "Phân công đảng viên, cán bộ giúp đỡ từng hộ nghèo",
        ],
        delegation: "Lập danh sách hộ nghèo, phân công người giúp đỡ từng hộ",
        backlog: None,
        due: (12, 10),
    },
];

/// Deputy secretaries' tasks.
pub(crate) const DEPUTY: [Tpl; 2] = [
    Tpl {
        title: "Nhân rộng mô hình \"Dân vận khéo\" tại {xa}",
        kind: "new",
        category: "Công tác dân vận",
        targets: &[tr(
            "mo-hinh-dan-van-kheo",
            "Mô hình \"Dân vận khéo\" được công nhận",
            (0.0, 1.0),
            (3.0, 4.0),
        )],
        solutions: [
            "Lựa chọn mô hình gắn với tiêu chí nông thôn mới còn yếu của xã",
            "Phân công Mặt trận và các đoàn thể chủ trì từng mô hình",
            "Sơ kết, biểu dương mô hình tiêu biểu",
        ],
        delegation: "Ban Công tác Mặt trận thôn xây dựng mô hình \"Dân vận khéo\"",
        backlog: None,
        due: (11, 30),
    },
    Tpl {
        title: "Tuyên truyền, vận động nhân dân {xa} tiêm vắc xin phòng COVID-19",
        kind: "new",
        category: "Y tế",
        targets: &[],
        solutions: [
            "Tuyên truyền trên loa truyền thanh thôn và nhóm Zalo của các chi bộ",
            "Đảng viên, cán bộ gương mẫu tiêm trước, vận động gia đình cùng tiêm",
            "Phối hợp trạm y tế đưa người cao tuổi, người đi lại khó khăn đến điểm tiêm",
        ],
        delegation: "Chi bộ thôn vận động, lập danh sách người dân đăng ký tiêm",
        backlog: None,
        due: (12, 10),
    },
];
