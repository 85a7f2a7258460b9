//! What a refusal says to a person, in Vietnamese and English: one home for
//! every rejection code's sentence, every field's name, and the sentences
//! of the checks a form makes before it sends (the JSON Schema's keywords).
//!
//! A [`crate::Rejection`]'s own `message` is precise and in English, for
//! publishers' logs ("task ndp-2021-02 is evaluated: nothing but history may
//! follow"); a clerk reads [`explain`] instead: the code's sentence and the
//! field's name and rule, never a parser's words (`invalid type: string
//! "abc", expected f64`). Receipts carry it as `error.message_vi`
//! (`schemas/receipt.v1.json`); the page gets [`messages_json`] generated
//! into it by the server and says the same for the checks it makes before
//! sending.

use serde_json::{Value, json};

use crate::vocabulary::{Lang, RejectionCode};

/// The sentence for a rejection code, for a person.
pub const fn code_message(code: RejectionCode, lang: Lang) -> &'static str {
    use RejectionCode as C;
    let (vi, en) = match code {
        C::Malformed => (
            "Dữ liệu gửi lên không đúng mẫu: có ô bị thiếu, thừa hoặc sai kiểu (ví dụ chữ trong ô số, ngày không có thật).",
            "What was sent is not in the expected form: a box is missing, unknown or of the wrong kind (text in a number box, a day that does not exist).",
        ),
        C::UnsupportedSchema => (
            "Phiên bản mẫu gửi lên không được hỗ trợ.",
            "This version of the submission format is not supported.",
        ),
        C::UnknownType => (
            "Loại cập nhật này không có trong quy định.",
            "There is no such kind of update.",
        ),
        C::UnitMismatch => (
            "Đơn vị ghi trong bản gửi khác đơn vị gửi.",
            "The unit written in the submission is not the unit that sent it.",
        ),
        C::UnknownUnit => (
            "Đơn vị này chưa được đăng ký.",
            "This unit is not registered.",
        ),
        C::UnknownActor => (
            "Cán bộ này chưa được đăng ký.",
            "This cadre is not registered.",
        ),
        C::Forbidden => (
            "Cán bộ gắn với mã truy cập không có thẩm quyền làm việc này (hoặc không cho đơn vị này).",
            "The cadre of this access token may not do this (or not for this unit).",
        ),
        C::UnknownTask => (
            "Không có nhiệm vụ với mã này.",
            "There is no task with this id.",
        ),
        C::AlreadyExists => (
            "Đã có từ trước: không tạo lại được.",
            "This exists already and cannot be made again.",
        ),
        C::InvalidState => (
            "Trạng thái hiện tại không cho phép việc này (ví dụ kỳ đã đóng, nhiệm vụ đã đánh giá hoặc đã hủy, đơn vị đã sáp nhập).",
            "The current state does not allow this (a closed cycle, an evaluated or cancelled task, a merged unit).",
        ),
        C::VersionConflict => (
            "Nhiệm vụ vừa được người khác cập nhật: hãy tải lại rồi gửi lại.",
            "Someone else has just updated this: reload and send again.",
        ),
        C::InvalidValue => (
            "Giá trị nhập vào không đúng quy định.",
            "A value does not meet the rules.",
        ),
    };
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// A field's name and rule, keyed by its path without `data.` and without
/// list positions (`data.values[0].value` is `values.value`).
struct FieldWords {
    key: &'static str,
    vi: &'static str,
    en: &'static str,
    rule_vi: &'static str,
    rule_en: &'static str,
}

const fn f(
    key: &'static str,
    vi: &'static str,
    en: &'static str,
    rule_vi: &'static str,
    rule_en: &'static str,
) -> FieldWords {
    FieldWords {
        key,
        vi,
        en,
        rule_vi,
        rule_en,
    }
}

const DATE_VI: &str = "một ngày có thật, nằm trong kỳ (trên trang nhập dd/mm/yyyy, ví dụ 30/11/2026; trong JSON viết YYYY-MM-DD, ví dụ 2026-11-30)";
const DATE_EN: &str = "a day that exists, within the cycle (typed dd/mm/yyyy on the page, e.g. 30/11/2026; written YYYY-MM-DD in JSON, e.g. 2026-11-30)";
const ID_VI: &str = "chữ thường không dấu, số và dấu gạch ngang (ví dụ ndp-2026-02)";
const ID_EN: &str = "lowercase letters without accents, digits and '-' (e.g. ndp-2026-02)";

/// Every field a form or a publisher can get wrong.
const FIELDS: &[FieldWords] = &[
    f("task_id", "Mã nhiệm vụ", "Task id", ID_VI, ID_EN),
    f(
        "as_of",
        "Số liệu đến ngày",
        "As of",
        "một ngày có thật trong kỳ, không sau ngày gửi (trên trang nhập dd/mm/yyyy, ví dụ 30/11/2026; trong JSON viết YYYY-MM-DD)",
        "a day that exists, within the cycle and not after the day it is sent (dd/mm/yyyy on the page, YYYY-MM-DD in JSON)",
    ),
    f(
        "values.value",
        "Giá trị chỉ tiêu",
        "Target value",
        "một số trong khoảng của chỉ tiêu (trên trang viết như 1.234,5; trong JSON là một số như 1234.5)",
        "a number within the target's range",
    ),
    f(
        "values.metric",
        "Chỉ tiêu",
        "Metric",
        "một chỉ tiêu của nhiệm vụ",
        "one of the task's targets",
    ),
    f("values", "Giá trị chỉ tiêu", "Target values", "", ""),
    f(
        "percent_complete",
        "Tỷ lệ hoàn thành (%)",
        "Percent complete",
        "một số từ 0 đến 100",
        "a number from 0 to 100",
    ),
    f("confidence", "Mức độ tin tưởng", "Confidence", "", ""),
    f("note", "Ghi chú", "Note", "", ""),
    f(
        "solutions",
        "Giải pháp",
        "Solutions",
        "ít nhất một giải pháp",
        "at least one solution",
    ),
    f("milestones", "Mốc thực hiện", "Milestones", "", ""),
    f("milestones.title", "Tên mốc", "Milestone", "", ""),
    f(
        "milestones.due",
        "Hạn của mốc",
        "Milestone due",
        DATE_VI,
        DATE_EN,
    ),
    f("due", "Hạn", "Due", DATE_VI, DATE_EN),
    f(
        "delegation_id",
        "Mã phân công",
        "Delegation id",
        ID_VI,
        ID_EN,
    ),
    f(
        "to",
        "Giao cho",
        "To",
        "mã một đơn vị hoặc cán bộ trong đơn vị",
        "a unit or a cadre within the unit",
    ),
    f("description", "Nội dung", "Description", "", ""),
    f("comment", "Nhận xét", "Comment", "", ""),
    f("rating", "Xếp loại", "Rating", "", ""),
    f(
        "score",
        "Điểm",
        "Score",
        "một số từ 0 đến 100",
        "a number from 0 to 100",
    ),
    f("cycle", "Kỳ", "Cycle", "một kỳ đã mở", "an open cycle"),
    f("starts_on", "Ngày bắt đầu", "Starts on", DATE_VI, DATE_EN),
    f("ends_on", "Ngày kết thúc", "Ends on", DATE_VI, DATE_EN),
    f(
        "assignee",
        "Cán bộ được giao",
        "Assignee",
        "mã một cán bộ đã đăng ký",
        "a registered cadre's id",
    ),
    f("title", "Tên nhiệm vụ", "Title", "", ""),
    f("kind", "Loại", "Kind", "", ""),
    f("category", "Lĩnh vực", "Category", "", ""),
    f("origin", "Nguồn giao", "Origin", "", ""),
    f(
        "backlog_ref",
        "Tham chiếu việc tồn đọng",
        "Backlog reference",
        "",
        "",
    ),
    f("reason", "Lý do", "Reason", "", ""),
    f("targets", "Chỉ tiêu", "Targets", "", ""),
    f("targets.metric", "Mã chỉ tiêu", "Metric", ID_VI, ID_EN),
    f("targets.label", "Tên chỉ tiêu", "Label", "", ""),
    f(
        "targets.baseline",
        "Giá trị ban đầu",
        "Baseline",
        "một số",
        "a number",
    ),
    f(
        "targets.target",
        "Giá trị mục tiêu",
        "Target",
        "một số khác giá trị ban đầu",
        "a number other than the baseline",
    ),
    f("targets.unit", "Đơn vị tính", "Unit", "", ""),
    f(
        "targets.min",
        "Giá trị nhỏ nhất",
        "Minimum",
        "một số",
        "a number",
    ),
    f(
        "targets.max",
        "Giá trị lớn nhất",
        "Maximum",
        "một số",
        "a number",
    ),
    // Evaluation by period (CONTRACT.md part A).
    f(
        "period",
        "Kỳ đánh giá",
        "Period",
        "một kỳ đánh giá đã mở (ví dụ 2026-q4)",
        "an open evaluation period (e.g. 2026-q4)",
    ),
    f(
        "milestone",
        "Mốc thực hiện",
        "Milestone",
        "tên một mốc trong kế hoạch hiện hành, đúng như trong kế hoạch",
        "the title of a milestone of the current plan, exactly as written there",
    ),
    f(
        "completed_on",
        "Ngày hoàn thành",
        "Completed on",
        "một ngày có thật, không sau ngày gửi (trên trang nhập dd/mm/yyyy; trong JSON viết YYYY-MM-DD)",
        "a day that exists, not after the day it is sent (dd/mm/yyyy on the page, YYYY-MM-DD in JSON)",
    ),
    f(
        "major_errors",
        "Số lỗi lớn",
        "Major errors",
        "một số nguyên từ 0 trở lên",
        "a whole number, 0 or more",
    ),
    f(
        "general_points",
        "Điểm tiêu chí chung",
        "General criteria points",
        "một số từ 0 đến 30, tối đa hai chữ số thập phân",
        "a number from 0 to 30 with at most two decimals",
    ),
    f(
        "task_points",
        "Điểm kết quả nhiệm vụ",
        "Task result points",
        "một số từ 0 đến 70, tối đa hai chữ số thập phân; chỉ cho cán bộ không có sản phẩm trong kỳ",
        "a number from 0 to 70 with at most two decimals; only for a cadre with no product in the period",
    ),
    f(
        "cadre",
        "Cán bộ được đánh giá",
        "Assessed cadre",
        "mã một cán bộ đã đăng ký",
        "a registered cadre's id",
    ),
    f("peer_group", "Nhóm chức danh", "Peer group", ID_VI, ID_EN),
    f(
        "disqualified",
        "Trường hợp không được xếp loại cao",
        "Disqualification",
        "",
        "",
    ),
    f("actor", "Người gửi", "Sender", "", ""),
    f("unit", "Đơn vị gửi", "Sending unit", "", ""),
    f("type", "Loại cập nhật", "Kind of update", "", ""),
    f("submission_id", "Mã bản gửi", "Submission id", "", ""),
    f("expected_version", "Phiên bản", "Version", "", ""),
    f("occurred_at", "Thời điểm", "Time", "", ""),
];

/// A field path without `data.` and list positions: `data.values[0].value`
/// → `values.value`.
pub fn field_key(path: &str) -> String {
    let path = path.strip_prefix("data.").unwrap_or(path);
    let mut out = String::with_capacity(path.len());
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn field_words(path: &str) -> Option<&'static FieldWords> {
    let key = field_key(path);
    FIELDS.iter().find(|w| w.key == key).or_else(|| {
        // `data.values[0]` and the like: the list's own name.
        let first = key.split('.').next().unwrap_or("");
        FIELDS.iter().find(|w| w.key == first)
    })
}

/// A field's name for a person (`Số liệu đến ngày` for `data.as_of`).
pub fn field_label(path: &str, lang: Lang) -> Option<&'static str> {
    field_words(path).map(|w| match lang {
        Lang::Vi => w.vi,
        Lang::En => w.en,
    })
}

/// A rejection for a person: the code's sentence, then the field's name
/// and, where it has one, its rule.
///
/// ```
/// use dotpha_domain::{Lang, RejectionCode, messages::explain};
/// let vi = explain(RejectionCode::InvalidValue, Some("data.as_of"), Lang::Vi);
/// assert!(vi.contains("Số liệu đến ngày") && vi.contains("dd/mm/yyyy"));
/// ```
pub fn explain(code: RejectionCode, field: Option<&str>, lang: Lang) -> String {
    let sentence = code_message(code, lang);
    let Some(words) = field.and_then(field_words) else {
        return sentence.to_owned();
    };
    let (name, rule, word, needs) = match lang {
        Lang::Vi => (words.vi, words.rule_vi, "Ô", "cần là"),
        Lang::En => (words.en, words.rule_en, "Field", "must be"),
    };
    if rule.is_empty() {
        format!("{sentence} {word}: «{name}».")
    } else {
        format!("{sentence} {word}: «{name}» {needs} {rule}.")
    }
}

/// The sentences of the checks a form makes before sending, by JSON Schema
/// keyword (and `date`, `number`), `{label}` and `{n}` to fill in.
const CHECKS: &[(&str, &str, &str)] = &[
    ("required", "Cần điền «{label}».", "«{label}» is required."),
    (
        "number",
        "«{label}» phải là một số, viết như 1.234,5 hoặc 12,5.",
        "«{label}» must be a number, like 1,234.5.",
    ),
    (
        "integer",
        "«{label}» phải là một số nguyên.",
        "«{label}» must be a whole number.",
    ),
    (
        "date",
        "«{label}» phải là một ngày có thật, viết dd/mm/yyyy (ví dụ 30/11/2026).",
        "«{label}» must be a day that exists, written dd/mm/yyyy (e.g. 30/11/2026).",
    ),
    (
        "minimum",
        "«{label}» không được nhỏ hơn {n}.",
        "«{label}» may not be below {n}.",
    ),
    (
        "maximum",
        "«{label}» không được lớn hơn {n}.",
        "«{label}» may not be above {n}.",
    ),
    (
        "pattern",
        "«{label}» chỉ gồm chữ thường không dấu, số và dấu gạch ngang.",
        "«{label}» may hold only lowercase letters without accents, digits and '-'.",
    ),
    (
        "maxLength",
        "«{label}» quá dài (tối đa {n} ký tự).",
        "«{label}» is too long (at most {n} characters).",
    ),
    (
        "minItems",
        "Cần ít nhất {n} mục «{label}».",
        "«{label}» needs at least {n} items.",
    ),
    (
        "enum",
        "«{label}» phải là một trong các lựa chọn.",
        "«{label}» must be one of the choices.",
    ),
    (
        "refused",
        "Chưa gửi: hãy sửa các ô được đánh dấu.",
        "Not sent: correct the marked boxes.",
    ),
];

/// Everything above as JSON, for the page: `{"codes": {code: [vi, en]},
/// "fields": {key: [vi, en, rule_vi, rule_en]}, "checks": {keyword: [vi,
/// en]}}`.
pub fn messages_json() -> Value {
    let codes: serde_json::Map<String, Value> = RejectionCode::ALL
        .iter()
        .map(|c| {
            (
                c.as_str().to_owned(),
                json!([code_message(*c, Lang::Vi), code_message(*c, Lang::En)]),
            )
        })
        .collect();
    let fields: serde_json::Map<String, Value> = FIELDS
        .iter()
        .map(|w| (w.key.to_owned(), json!([w.vi, w.en, w.rule_vi, w.rule_en])))
        .collect();
    let checks: serde_json::Map<String, Value> = CHECKS
        .iter()
        .map(|(k, vi, en)| ((*k).to_owned(), json!([vi, en])))
        .collect();
    json!({"codes": codes, "fields": fields, "checks": checks})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_sentence_in_both_languages() {
        for c in RejectionCode::ALL {
            for lang in [Lang::Vi, Lang::En] {
                assert!(code_message(c, lang).len() > 10, "{c}");
            }
        }
    }

    #[test]
    fn field_paths_lose_data_and_positions() {
        assert_eq!(field_key("data.values[0].value"), "values.value");
        assert_eq!(field_key("data.milestones[12].due"), "milestones.due");
        assert_eq!(field_key("actor"), "actor");
        assert_eq!(
            field_label("data.values[3]", Lang::Vi),
            Some("Giá trị chỉ tiêu")
        );
    }

    #[test]
    fn a_clerk_reads_no_parser_words() {
        let vi = explain(
            RejectionCode::Malformed,
            Some("data.values[0].value"),
            Lang::Vi,
        );
        assert!(vi.contains("Giá trị chỉ tiêu"), "{vi}");
        assert!(!vi.contains("f64") && !vi.contains("invalid type"), "{vi}");
        let en = explain(RejectionCode::InvalidState, Some("data.task_id"), Lang::En);
        assert!(en.contains("Task id"), "{en}");
        assert_eq!(
            explain(RejectionCode::Forbidden, None, Lang::Vi),
            code_message(RejectionCode::Forbidden, Lang::Vi)
        );
    }

    /// Every field a rejection of `decide` or the parser names has words:
    /// the fields of every submission type's schema.
    #[cfg(feature = "schema")]
    #[test]
    fn every_field_of_every_submission_has_words() {
        fn walk(v: &Value, path: &str, defs: &Value, out: &mut Vec<String>, depth: usize) {
            if depth > 6 {
                return;
            }
            if let Some(r) = v.get("$ref").and_then(Value::as_str) {
                let name = r.trim_start_matches("#/$defs/");
                if let Some(d) = defs.get(name) {
                    walk(d, path, defs, out, depth + 1);
                }
                return;
            }
            if let Some(props) = v.get("properties").and_then(Value::as_object) {
                for (k, p) in props {
                    let sub = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    out.push(sub.clone());
                    walk(p, &sub, defs, out, depth + 1);
                }
            }
            if let Some(items) = v.get("items") {
                walk(items, path, defs, out, depth + 1);
            }
            for key in ["anyOf", "oneOf"] {
                for alt in v.get(key).and_then(Value::as_array).into_iter().flatten() {
                    walk(alt, path, defs, out, depth + 1);
                }
            }
        }
        let mut missing = Vec::new();
        for t in crate::EventType::ALL {
            let schema = crate::schema::submission_schema(t);
            let mut paths = Vec::new();
            walk(&schema, "", &schema["$defs"], &mut paths, 0);
            for p in paths {
                if p.starts_with("data.") && field_label(&p, Lang::Vi).is_none() {
                    missing.push(format!("{t}: {p}"));
                }
            }
        }
        // Types only the district's office sends name fields the form of a
        // clerk never shows; those are covered by the code's sentence.
        missing.retain(|m| {
            ![
                "unit.registered",
                "unit.merged",
                "cadre.registered",
                "cycle.closed",
            ]
            .iter()
            .any(|t| m.starts_with(t))
        });
        assert!(missing.is_empty(), "fields without words: {missing:#?}");
    }
}
