//! The vocabulary of the contract: every word the wire spells from a closed
//! list (statuses, kinds, origins, unit kinds, ratings, confidence, event
//! types, rejection codes, ...), each with its Vietnamese and English label,
//! in one table per enum and in this one file.
//!
//! Every other layer reads these: the read models store [`Term::as_str`],
//! HTTP validates query parameters with [`Term::parse`], the export and the
//! page take their labels from [`tables`] (the page gets them generated
//! into it by the server, see `crates/http`), so a word or a label is
//! spelled once.
//!
//! Adding a word list is one [`vocabulary!`] block here and one line in
//! [`tables`]; a test checks that the serde spelling of every enum that has
//! one equals [`Term::as_str`].

use std::fmt;

use serde::Serialize;

/// A language the labels are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Tiếng Việt, the default for people.
    Vi,
    /// English.
    En,
}

/// A word of a closed list of the contract.
pub trait Term: Copy + Eq + fmt::Debug + 'static {
    /// The list's name, as the page and the label table call it
    /// (`task_status`).
    const GROUP: &'static str;
    /// Every word, in the contract's order.
    fn all() -> &'static [Self];
    /// The word as written on the wire and in read models.
    fn as_str(self) -> &'static str;
    /// Its label for a person.
    fn label(self, lang: Lang) -> &'static str;
    /// Reads a word as written on the wire.
    fn parse(text: &str) -> Option<Self> {
        Self::all().iter().copied().find(|t| t.as_str() == text)
    }
}

/// Declares a closed word list: the enum (`Clone, Copy, Debug, PartialEq,
/// Eq, Hash`, and whatever attributes are given), its `ALL`, `as_str`,
/// `parse`, labels, `Display`, and its [`Term`] impl, from one table of
/// `Variant = "wire", "nhãn tiếng Việt", "English label";`. Written
/// `enum Name: "group" in json`, the enum also reads and writes itself as
/// its word in JSON (serde, and a JSON Schema with the `schema` feature).
#[macro_export]
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $group:literal in json { $($body:tt)* }
    ) => {
        $crate::vocabulary! {
            $(#[$meta])*
            #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
            #[derive(serde::Serialize, serde::Deserialize)]
            #[serde(rename_all = "snake_case")]
            $vis enum $name : $group { $($body)* }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $group:literal {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $wire:literal, $vi:literal, $en:literal;
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )+
        }

        impl $name {
            /// Every word, in the contract's order.
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];

            /// The word as written on the wire and in read models.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }

            /// Reads a word as written on the wire.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Its label for a person, in `lang`.
            pub const fn label(self, lang: $crate::vocabulary::Lang) -> &'static str {
                match (self, lang) {
                    $(
                        ($name::$variant, $crate::vocabulary::Lang::Vi) => $vi,
                        ($name::$variant, $crate::vocabulary::Lang::En) => $en,
                    )+
                }
            }
        }

        impl $crate::vocabulary::Term for $name {
            const GROUP: &'static str = $group;
            fn all() -> &'static [$name] {
                &$name::ALL
            }
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
            fn label(self, lang: $crate::vocabulary::Lang) -> &'static str {
                $name::label(self, lang)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// The submission and event types of the contract.
    #[derive(PartialOrd, Ord)]
    pub enum EventType: "event_type" {
        /// `unit.registered`
        UnitRegistered = "unit.registered", "Đăng ký đơn vị", "Unit registered";
        /// `unit.merged`
        UnitMerged = "unit.merged", "Sáp nhập đơn vị", "Units merged";
        /// `cadre.registered`
        CadreRegistered = "cadre.registered", "Đăng ký cán bộ", "Cadre registered";
        /// `cycle.opened`
        CycleOpened = "cycle.opened", "Mở kỳ", "Cycle opened";
        /// `task.registered`
        TaskRegistered = "task.registered", "Tự đăng ký nhiệm vụ", "Task self-registered";
        /// `task.approved`
        TaskApproved = "task.approved", "Phê duyệt nhiệm vụ", "Task approved";
        /// `task.assigned`
        TaskAssigned = "task.assigned", "Giao nhiệm vụ", "Task assigned";
        /// `plan.submitted`
        PlanSubmitted = "plan.submitted", "Nộp kế hoạch", "Plan submitted";
        /// `work.delegated`
        WorkDelegated = "work.delegated", "Phân công thực hiện", "Work delegated";
        /// `progress.reported`
        ProgressReported = "progress.reported", "Báo cáo tiến độ", "Progress reported";
        /// `task.reassigned`
        TaskReassigned = "task.reassigned", "Giao lại nhiệm vụ", "Task reassigned";
        /// `task.cancelled`
        TaskCancelled = "task.cancelled", "Hủy nhiệm vụ", "Task cancelled";
        /// `task.evaluated`
        TaskEvaluated = "task.evaluated", "Đánh giá nhiệm vụ", "Task evaluated";
        /// `cycle.closed`
        CycleClosed = "cycle.closed", "Đóng kỳ", "Cycle closed";
        /// `period.opened`
        PeriodOpened = "period.opened", "Mở kỳ đánh giá", "Evaluation period opened";
        /// `period.closed`
        PeriodClosed = "period.closed", "Đóng kỳ đánh giá", "Evaluation period closed";
        /// `milestone.completed`
        MilestoneCompleted = "milestone.completed", "Hoàn thành mốc", "Milestone completed";
        /// `product.reviewed`
        ProductReviewed = "product.reviewed", "Nhận xét sản phẩm", "Product reviewed";
        /// `assessment.self_submitted`
        AssessmentSelfSubmitted = "assessment.self_submitted", "Tự đánh giá", "Self-assessment submitted";
        /// `assessment.decided`
        AssessmentDecided = "assessment.decided", "Quyết định xếp loại", "Assessment decided";
    }
}

vocabulary! {
    /// The contract's rejection codes. Publishers branch on these, so the
    /// set and the spelling are part of the wire contract.
    pub enum RejectionCode: "rejection_code" {
        /// Not a JSON object of the right shape: a missing, unknown or mistyped field.
        Malformed = "malformed", "Sai cấu trúc", "Malformed";
        /// `schema` is not `dotpha.submission.v1`.
        UnsupportedSchema = "unsupported_schema", "Phiên bản không hỗ trợ", "Unsupported schema";
        /// `type` is not one of the contract's submission types.
        UnknownType = "unknown_type", "Loại cập nhật không có", "Unknown type";
        /// The envelope's `unit` differs from the subject it was published on.
        UnitMismatch = "unit_mismatch", "Sai đơn vị gửi", "Unit mismatch";
        /// A unit code that is not registered.
        UnknownUnit = "unknown_unit", "Đơn vị chưa đăng ký", "Unknown unit";
        /// An actor or cadre id that is not registered.
        UnknownActor = "unknown_actor", "Cán bộ chưa đăng ký", "Unknown cadre";
        /// The actor may not do this, or not for this unit.
        Forbidden = "forbidden", "Không có thẩm quyền", "Forbidden";
        /// A `task_id` that is not registered.
        UnknownTask = "unknown_task", "Nhiệm vụ chưa đăng ký", "Unknown task";
        /// The thing to create exists already.
        AlreadyExists = "already_exists", "Đã có", "Already exists";
        /// The target is in a state that does not allow this.
        InvalidState = "invalid_state", "Trạng thái không cho phép", "Invalid state";
        /// `expected_version` differs from the target stream's version.
        VersionConflict = "version_conflict", "Xung đột phiên bản", "Version conflict";
        /// A well-formed field holds a value the rules do not allow.
        InvalidValue = "invalid_value", "Giá trị không hợp lệ", "Invalid value";
    }
}

vocabulary! {
    /// Kinds of units in the tree.
    pub enum UnitKind: "unit_kind" in json {
        /// tỉnh
        Province = "province", "Tỉnh", "Province";
        /// huyện
        District = "district", "Huyện", "District";
        /// xã
        Commune = "commune", "Xã", "Commune";
        /// phường
        Ward = "ward", "Phường", "Ward";
        /// thị trấn
        Town = "town", "Thị trấn", "Town";
        /// an agency (cơ quan)
        Agency = "agency", "Cơ quan", "Agency";
        /// a specialised department (phòng, ban)
        Department = "department", "Phòng, ban", "Department";
        /// thôn
        Village = "village", "Thôn", "Village";
        /// tổ dân phố
        ResidentialGroup = "residential_group", "Tổ dân phố", "Residential group";
        /// chi bộ
        PartyCell = "party_cell", "Chi bộ", "Party cell";
        /// anything else
        Other = "other", "Khác", "Other";
    }
}

vocabulary! {
    /// Breakthrough, new or difficult task.
    pub enum TaskKind: "task_kind" in json {
        /// nhiệm vụ đột phá
        Breakthrough = "breakthrough", "Nhiệm vụ đột phá", "Breakthrough";
        /// việc mới
        New = "new", "Việc mới", "New";
        /// việc khó
        Difficult = "difficult", "Việc khó", "Difficult";
    }
}

vocabulary! {
    /// Where an assigned task came from (the `origin` of `task.assigned`).
    pub enum AssignedOrigin: "assigned_origin" in json {
        /// Chosen by the Standing Committee.
        Committee = "committee", "Ban Thường vụ giao", "Assigned by the committee";
        /// Taken from the unit's backlog of unresolved matters (việc tồn đọng).
        Backlog = "backlog", "Việc tồn đọng", "Backlog";
    }
}

vocabulary! {
    /// Where a task came from, as read models and answers say it.
    pub enum TaskOrigin: "task_origin" {
        /// Registered by the cadre (tự đăng ký) and approved.
        SelfRegistered = "self_registered", "Tự đăng ký", "Self-registered";
        /// Assigned by the committee.
        Committee = "committee", "Ban Thường vụ giao", "Assigned by the committee";
        /// Assigned from the unit's backlog.
        Backlog = "backlog", "Việc tồn đọng", "Backlog";
    }
}

impl From<AssignedOrigin> for TaskOrigin {
    fn from(o: AssignedOrigin) -> TaskOrigin {
        match o {
            AssignedOrigin::Committee => TaskOrigin::Committee,
            AssignedOrigin::Backlog => TaskOrigin::Backlog,
        }
    }
}

vocabulary! {
    /// A cadre's stated confidence in a check-in.
    pub enum Confidence: "confidence" in json {
        /// thấp
        Low = "low", "Thấp", "Low";
        /// trung bình
        Medium = "medium", "Trung bình", "Medium";
        /// cao
        High = "high", "Cao", "High";
    }
}

vocabulary! {
    /// What a reminder warns of (`dotpha.alert/v1`, `schemas/alert.json`).
    pub enum AlertKind: "alert_kind" in json {
        /// The task's due date is within [`crate::figures::REMINDER_DAYS`].
        DueSoon = "due_soon", "Sắp đến hạn", "Due soon";
        /// The task's due date has passed and it is not evaluated.
        Overdue = "overdue", "Quá hạn", "Overdue";
        /// No progress report for [`crate::figures::STALE_DAYS`] days.
        NoReport = "no_report", "Lâu chưa báo cáo", "No recent report";
        /// A milestone of the current plan is due within
        /// [`crate::figures::REMINDER_DAYS`].
        MilestoneDue = "milestone_due", "Mốc kế hoạch sắp đến hạn", "Milestone due";
    }
}

vocabulary! {
    /// The four levels of the rating.
    #[derive(PartialOrd, Ord)]
    pub enum Rating: "rating" in json {
        /// hoàn thành xuất sắc nhiệm vụ
        Excellent = "excellent", "Hoàn thành xuất sắc nhiệm vụ", "Excellent";
        /// hoàn thành tốt nhiệm vụ
        Good = "good", "Hoàn thành tốt nhiệm vụ", "Good";
        /// hoàn thành nhiệm vụ
        Completed = "completed", "Hoàn thành nhiệm vụ", "Completed";
        /// không hoàn thành nhiệm vụ
        NotCompleted = "not_completed", "Không hoàn thành nhiệm vụ", "Not completed";
    }
}

vocabulary! {
    /// How long an evaluation period is (CONTRACT part A, `period.opened`).
    pub enum PeriodKind: "period_kind" in json {
        /// tháng
        Month = "month", "Tháng", "Month";
        /// quý
        Quarter = "quarter", "Quý", "Quarter";
        /// năm
        Year = "year", "Năm", "Year";
    }
}

vocabulary! {
    /// Why a cadre is not completed whatever the score (`disqualified` of
    /// `assessment.decided`; Decree 335/2025/NĐ-CP, Regulation 366-QĐ/TW).
    pub enum Disqualification: "disqualification" in json {
        /// suy thoái về tư tưởng chính trị, đạo đức, lối sống
        Degradation = "degradation", "Suy thoái về tư tưởng chính trị, đạo đức, lối sống", "Degraded in ideology or ethics";
        /// bị kỷ luật trong kỳ đánh giá
        Discipline = "discipline", "Bị kỷ luật trong kỳ đánh giá", "Disciplined during the period";
        /// đơn vị để xảy ra tham nhũng, lãng phí
        CorruptionInUnit = "corruption_in_unit", "Đơn vị để xảy ra tham nhũng, lãng phí", "Corruption or waste in the unit led";
    }
}

vocabulary! {
    /// Why a rating's ceiling is lower than the band its total earns (the
    /// conditions of CONTRACT part A, rules 1 to 4).
    pub enum CeilingReason: "ceiling_reason" in json {
        /// `disqualified` is set (rule 1).
        Disqualified = "disqualified", "Thuộc trường hợp không hoàn thành nhiệm vụ", "Disqualified";
        /// A product was done after its own due date (rule 2).
        LateProduct = "late_product", "Có sản phẩm hoàn thành chậm", "A product was late";
        /// A product was not done by the period's end (rule 3).
        UndoneProduct = "undone_product", "Có sản phẩm chưa hoàn thành", "A product was not done";
        /// Fewer than 80% of the products were done (rule 4).
        TooFewDone = "too_few_done", "Dưới 80% sản phẩm hoàn thành", "Under 80% of products done";
    }
}

vocabulary! {
    /// How a work product stands at the end of a period (from its factors:
    /// `q` = 0 not done, `p` < 1 late, else on time).
    pub enum ProductStatus: "product_status" in json {
        /// Done by its own due date (`p` = 1).
        OnTime = "on_time", "Đúng hạn", "On time";
        /// Done by the period's end, after its own due date (`p` = 0.75).
        Late = "late", "Chậm", "Late";
        /// Not done by the period's end (`q` = 0).
        NotDone = "not_done", "Chưa hoàn thành", "Not done";
    }
}

vocabulary! {
    /// The statuses a task moves through.
    #[derive(PartialOrd, Ord)]
    pub enum TaskStatus: "task_status" {
        /// Self-registered, awaiting the committee's approval.
        Registered = "registered", "Đã đăng ký", "Registered";
        /// Approved or assigned; no plan yet.
        Assigned = "assigned", "Đã giao", "Assigned";
        /// Has a plan.
        Planned = "planned", "Đã có kế hoạch", "Planned";
        /// Progress has been reported.
        InProgress = "in_progress", "Đang thực hiện", "In progress";
        /// Evaluated at the end: final.
        Evaluated = "evaluated", "Đã đánh giá", "Evaluated";
        /// Cancelled: final.
        Cancelled = "cancelled", "Đã hủy", "Cancelled";
    }
}

vocabulary! {
    /// The flags derived from a task's dates and the clock, which task lists
    /// also filter on (`status=overdue`).
    pub enum TaskFlag: "task_flag" {
        /// Due date passed, not evaluated or cancelled (the contract's).
        Overdue = "overdue", "Quá hạn", "Overdue";
        /// Due within [`crate::figures::DUE_SOON_DAYS`] and not overdue.
        DueSoon = "due_soon", "Sắp đến hạn", "Due soon";
        /// Active with no check-in for [`crate::figures::STALE_DAYS`].
        Stale = "stale", "Lâu chưa cập nhật", "No recent check-in";
    }
}

vocabulary! {
    /// The bands a dashboard counts tasks' completion in.
    #[derive(PartialOrd, Ord)]
    pub enum CompletionBand: "completion_band" {
        /// From 0 to under 25%.
        Quarter1 = "0-25", "0–25%", "0–25%";
        /// From 25 to under 50%.
        Quarter2 = "25-50", "25–50%", "25–50%";
        /// From 50 to under 75%.
        Quarter3 = "50-75", "50–75%", "50–75%";
        /// From 75 to under 100%.
        Quarter4 = "75-100", "75–<100%", "75–<100%";
        /// Complete.
        Complete = "100", "100%", "100%";
    }
}

impl CompletionBand {
    /// The band of a completion percentage (0 to 100).
    pub fn of(percent: f64) -> CompletionBand {
        match percent {
            p if p >= 100.0 => CompletionBand::Complete,
            p if p >= 75.0 => CompletionBand::Quarter4,
            p if p >= 50.0 => CompletionBand::Quarter3,
            p if p >= 25.0 => CompletionBand::Quarter2,
            _ => CompletionBand::Quarter1,
        }
    }
}

/// One word of a list with its labels, as [`tables`] lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The word as written on the wire.
    pub code: &'static str,
    /// Its Vietnamese label.
    pub vi: &'static str,
    /// Its English label.
    pub en: &'static str,
}

/// One list, named by its [`Term::GROUP`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Table {
    /// The list's name.
    pub group: &'static str,
    /// Its words in the contract's order.
    pub terms: Vec<Entry>,
}

fn table<T: Term>() -> Table {
    Table {
        group: T::GROUP,
        terms: T::all()
            .iter()
            .map(|t| Entry {
                code: t.as_str(),
                vi: t.label(Lang::Vi),
                en: t.label(Lang::En),
            })
            .collect(),
    }
}

/// Every list of the vocabulary with its labels: the one source the page's
/// and the export's labels are generated from.
pub fn tables() -> Vec<Table> {
    vec![
        table::<EventType>(),
        table::<RejectionCode>(),
        table::<UnitKind>(),
        table::<TaskKind>(),
        table::<AssignedOrigin>(),
        table::<TaskOrigin>(),
        table::<Confidence>(),
        table::<Rating>(),
        table::<TaskStatus>(),
        table::<TaskFlag>(),
        table::<CompletionBand>(),
        table::<AlertKind>(),
        table::<PeriodKind>(),
        table::<Disqualification>(),
        table::<CeilingReason>(),
        table::<ProductStatus>(),
    ]
}

/// [`tables`] as JSON: `{"task_status": [["registered", "Đã đăng ký",
/// "Registered"], ...], ...}` (arrays keep the contract's order).
pub fn tables_json() -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for t in tables() {
        let terms = t
            .terms
            .iter()
            .map(|e| serde_json::json!([e.code, e.vi, e.en]))
            .collect();
        out.insert(t.group.to_owned(), serde_json::Value::Array(terms));
    }
    serde_json::Value::Object(out)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    fn serde_agrees<T: Term + Serialize + for<'de> Deserialize<'de>>() {
        for t in T::all() {
            let wire = serde_json::to_value(t).expect("serializes");
            assert_eq!(wire, serde_json::json!(t.as_str()), "{}", T::GROUP);
            let back: T = serde_json::from_value(wire).expect("reads back");
            assert_eq!(back, *t);
        }
    }

    #[test]
    fn the_serde_spelling_is_the_vocabularys() {
        serde_agrees::<UnitKind>();
        serde_agrees::<TaskKind>();
        serde_agrees::<AssignedOrigin>();
        serde_agrees::<Confidence>();
        serde_agrees::<Rating>();
        serde_agrees::<PeriodKind>();
        serde_agrees::<Disqualification>();
        serde_agrees::<CeilingReason>();
        serde_agrees::<ProductStatus>();
    }

    #[test]
    fn every_word_parses_back_and_has_two_labels() {
        let mut groups = std::collections::HashSet::new();
        for t in tables() {
            assert!(groups.insert(t.group), "group {} twice", t.group);
            let mut codes = std::collections::HashSet::new();
            for e in &t.terms {
                assert!(codes.insert(e.code), "{}: {} twice", t.group, e.code);
                assert!(!e.vi.trim().is_empty() && !e.en.trim().is_empty());
            }
        }
        for s in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(s.as_str()), Some(s));
            assert_eq!(<TaskStatus as Term>::parse(s.as_str()), Some(s));
        }
        assert_eq!(TaskKind::parse("urgent"), None);
        assert_eq!(Rating::Good.label(Lang::Vi), "Hoàn thành tốt nhiệm vụ");
    }

    #[test]
    fn completion_bands_cover_zero_to_a_hundred() {
        assert_eq!(CompletionBand::of(0.0), CompletionBand::Quarter1);
        assert_eq!(CompletionBand::of(24.99), CompletionBand::Quarter1);
        assert_eq!(CompletionBand::of(25.0), CompletionBand::Quarter2);
        assert_eq!(CompletionBand::of(74.9), CompletionBand::Quarter3);
        assert_eq!(CompletionBand::of(99.9), CompletionBand::Quarter4);
        assert_eq!(CompletionBand::of(100.0), CompletionBand::Complete);
    }
}
