//! Search (`q=` of a task list, `dotpha_domain::text::Query`): the commune
//! whose name is the query comes before a title that merely holds its
//! words, quoted phrases match as phrases, and plans, descriptions and
//! delegations are searched too.

mod common;

use common::{Scenario, ms};
use dotpha_views::query::TaskFilter;
use serde_json::json;

const PROVINCE: &str = "tuyen-quang";
const GOVERNOR: &str = "bi-thu-tinh";
const NOW: &str = "2025-02-01T00:00:00Z";

/// Two communes, Hợp Thành and Ân Thịnh; a cooperative task in Ân Thịnh
/// due first, Hợp Thành's own task due later, a third task whose plan,
/// description and delegation hold words no title or name has.
fn district() -> Scenario {
    let mut s = Scenario::new();
    s.at("2025-01-06T08:00:00+07:00");
    s.root("to-chuc-noi-vu", PROVINCE, "Tỉnh Tuyên Quang", "province");
    s.cadre(
        "to-chuc-noi-vu",
        GOVERNOR,
        "Lê Thị Kim Dung",
        PROVINCE,
        true,
    );
    s.unit(GOVERNOR, "hop-thanh", "Xã Hợp Thành", "commune", PROVINCE);
    s.unit(GOVERNOR, "an-thinh", "Xã Ân Thịnh", "commune", PROVINCE);
    s.unit(
        GOVERNOR,
        "dong-dien",
        "Thôn Đồng Diễn",
        "village",
        "an-thinh",
    );
    s.cadre(GOVERNOR, "manh", "Hoàng Thế Mạnh", "hop-thanh", false);
    s.cadre(GOVERNOR, "lan", "Trần Thị Lan", "an-thinh", false);
    s.submit(
        PROVINCE,
        GOVERNOR,
        "cycle.opened",
        json!({"cycle": "2025", "starts_on": "2025-01-01", "ends_on": "2025-12-31"}),
    );
    s.assign(
        PROVINCE,
        GOVERNOR,
        "hop-tac",
        "2025",
        "lan",
        "Thành lập tổ hợp tác, hợp tác xã do hội viên nông dân làm nòng cốt",
        "2025-03-31",
        (0.0, 3.0),
    );
    s.assign(
        PROVINCE,
        GOVERNOR,
        "chuyen-doi-so",
        "2025",
        "manh",
        "Chuyển đổi số trong thủ tục hành chính",
        "2025-11-30",
        (0.0, 100.0),
    );
    s.submit(
        PROVINCE,
        GOVERNOR,
        "task.assigned",
        json!({"task_id": "moi-truong", "cycle": "2025", "assignee": "lan",
               "title": "Xây dựng nông thôn mới nâng cao", "kind": "breakthrough",
               "category": "Nông thôn mới", "due": "2025-06-30", "origin": "committee",
               "description": "Tiêu chí môi trường: thu gom rác thải sinh hoạt",
               "targets": [{"metric": "m", "label": "Chỉ tiêu", "baseline": 0, "target": 1}]}),
    );
    s.submit(
        "an-thinh",
        "lan",
        "plan.submitted",
        json!({"task_id": "moi-truong", "solutions": ["Vận động nhân dân hiến đất"],
               "milestones": [{"title": "Nghiệm thu cầu treo Khuôn Thần", "due": "2025-05-31"}]}),
    );
    s.submit(
        "an-thinh",
        "lan",
        "work.delegated",
        json!({"task_id": "moi-truong", "delegation_id": "thi-diem", "to": "dong-dien",
               "description": "Thí điểm ủ phân hữu cơ", "due": "2025-05-15"}),
    );
    s
}

/// The ids `q` lists, in order.
fn found(s: &Scenario, q: &str) -> Vec<String> {
    let read = s.read_model("read");
    let (tasks, total) = read
        .tasks(
            &TaskFilter {
                q: Some(q.to_owned()),
                ..TaskFilter::default()
            },
            ms(NOW),
        )
        .expect("a list");
    assert_eq!(
        total as usize,
        tasks.len(),
        "{q}: the total counts the list"
    );
    tasks.into_iter().map(|t| t.task_id).collect()
}

#[test]
fn the_commune_named_by_the_query_comes_first() {
    let s = district();
    // Both hold "hop" and "thanh" in their title or names; only Hợp
    // Thành's task holds them as one phrase (its unit's name), so it comes
    // first though the cooperative task is due sooner.
    assert_eq!(found(&s, "hop thanh"), ["chuyen-doi-so", "hop-tac"]);
    assert_eq!(found(&s, "HỢP THÀNH"), ["chuyen-doi-so", "hop-tac"]);
    // Without a query, due date alone decides.
    let read = s.read_model("plain");
    let (all, _) = read.tasks(&TaskFilter::default(), ms(NOW)).expect("a list");
    let ids: Vec<&str> = all.iter().map(|t| t.task_id.as_str()).collect();
    assert_eq!(ids, ["hop-tac", "moi-truong", "chuyen-doi-so"]);
}

#[test]
fn quoted_phrases_match_as_phrases() {
    let s = district();
    assert_eq!(found(&s, "\"to hop tac\""), ["hop-tac"]);
    assert_eq!(found(&s, "\"tổ hợp tác\" nong dan"), ["hop-tac"]);
    assert_eq!(found(&s, "\"hop tac xa\""), ["hop-tac"], "across a comma");
    assert!(found(&s, "\"tac to hop\"").is_empty(), "words out of order");
    assert!(found(&s, "\"hop thanh\" nong dan").is_empty());
    // A bare word matches where a word begins, not inside one.
    assert!(
        found(&s, "anh").is_empty(),
        "not inside Thành, hành or Mạnh"
    );
    assert_eq!(found(&s, "hanh chinh"), ["chuyen-doi-so"]);
}

#[test]
fn plans_descriptions_and_delegations_are_searched_after_titles_and_names() {
    let s = district();
    assert_eq!(found(&s, "khuon than"), ["moi-truong"], "a milestone");
    assert_eq!(found(&s, "hien dat"), ["moi-truong"], "a solution");
    assert_eq!(found(&s, "rac thai"), ["moi-truong"], "the description");
    assert_eq!(found(&s, "u phan huu co"), ["moi-truong"], "a delegation");
    assert_eq!(
        found(&s, "dong dien"),
        ["moi-truong"],
        "whom it is delegated to"
    );
    // "nông thôn" is in one title and another task's plan-free text: the
    // title comes first though it is due later.
    assert_eq!(found(&s, "nong"), ["hop-tac", "moi-truong"]);
    assert_eq!(found(&s, "Khuôn \"nghiem thu\" cau"), ["moi-truong"]);
}

#[test]
fn a_reassigned_task_and_a_revised_plan_are_searched_as_they_are_now() {
    let mut s = district();
    s.submit(
        PROVINCE,
        GOVERNOR,
        "task.reassigned",
        json!({"task_id": "hop-tac", "assignee": "manh", "reason": "Luân chuyển cán bộ"}),
    );
    s.submit(
        "an-thinh",
        "lan",
        "plan.submitted",
        json!({"task_id": "moi-truong", "solutions": ["Xã hội hóa"],
               "milestones": [{"title": "Sơ kết", "due": "2025-05-31"}]}),
    );
    assert_eq!(found(&s, "hoang the manh"), ["hop-tac", "chuyen-doi-so"]);
    assert!(found(&s, "tran thi lan hop tac").is_empty());
    assert!(found(&s, "khuon than").is_empty(), "the old plan is gone");
    assert_eq!(found(&s, "so ket"), ["moi-truong"]);
}
