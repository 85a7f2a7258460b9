//! The 2025 merge: Hợp Thành, Phúc Ứng, Tú Thịnh and the town of Sơn Dương
//! become one commune. Their tasks (and those of a village below Hợp
//! Thành) roll up into the new commune in today's tree and stay under the
//! old district in the tree as it was.

mod common;

use std::collections::HashSet;

use common::{Scenario, ms};
use dotpha_views::query::{TaskFilter, Tree};
use serde_json::json;

const PROVINCE: &str = "tuyen-quang";
const GOVERNOR: &str = "bi-thu-tinh";
const DISTRICT: &str = "son-duong";
const NEW: &str = "son-duong-moi";
const MERGED: [&str; 4] = ["hop-thanh", "phuc-ung", "tu-thinh", "tt-son-duong"];
const NOW: &str = "2025-09-01T00:00:00Z";

/// The province, the district with five communes (one a town) and a
/// village, a cadre and a 2025 task in each; then the merge.
fn merged() -> Scenario {
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
    s.unit(GOVERNOR, DISTRICT, "Huyện Sơn Dương", "district", PROVINCE);
    let communes = [
        ("hop-thanh", "Xã Hợp Thành", "commune", DISTRICT),
        ("phuc-ung", "Xã Phúc Ứng", "commune", DISTRICT),
        ("tu-thinh", "Xã Tú Thịnh", "commune", DISTRICT),
        ("tt-son-duong", "Thị trấn Sơn Dương", "town", DISTRICT),
        ("dong-tho", "Xã Đông Thọ", "commune", DISTRICT),
        ("thon-dong-dien", "Thôn Đồng Diễn", "village", "hop-thanh"),
    ];
    for (code, name, kind, parent) in communes {
        s.unit(GOVERNOR, code, name, kind, parent);
    }
    s.submit(
        PROVINCE,
        GOVERNOR,
        "cycle.opened",
        json!({"cycle": "2025", "starts_on": "2025-01-01", "ends_on": "2025-12-31"}),
    );
    for (code, name, _, _) in communes {
        let cadre = format!("chu-tich-{code}");
        s.cadre(GOVERNOR, &cadre, &format!("Chủ tịch {name}"), code, false);
        s.assign(
            PROVINCE,
            GOVERNOR,
            &format!("task-{code}"),
            "2025",
            &cadre,
            &format!("Nhiệm vụ đột phá của {name}"),
            "2025-11-30",
            (0.0, 100.0),
        );
    }
    s.at("2025-06-20T08:00:00+07:00");
    s.submit(
        PROVINCE,
        GOVERNOR,
        "unit.registered",
        json!({"code": NEW, "name": "Xã Sơn Dương", "kind": "commune", "parent": PROVINCE,
               "valid_from": "2025-07-01"}),
    );
    s.submit(
        PROVINCE,
        GOVERNOR,
        "unit.merged",
        json!({"into": NEW, "from": MERGED, "effective_on": "2025-07-01",
               "legal_basis": "Nghị quyết 1684/NQ-UBTVQH15"}),
    );
    s.at("2025-07-15T08:00:00+07:00");
    s.cadre(
        GOVERNOR,
        "chu-tich-moi",
        "Chủ tịch Xã Sơn Dương",
        NEW,
        false,
    );
    s.assign(
        PROVINCE,
        GOVERNOR,
        "task-moi",
        "2025",
        "chu-tich-moi",
        "Sắp xếp bộ máy xã mới",
        "2025-12-31",
        (0.0, 100.0),
    );
    // The new commune's publisher reports on a merged commune's task.
    s.submit(
        NEW,
        "chu-tich-hop-thanh",
        "progress.reported",
        json!({"task_id": "task-hop-thanh", "as_of": "2025-07-15",
               "values": [{"metric": "m", "value": 40}]}),
    );
    s
}

fn merged_tasks() -> HashSet<String> {
    MERGED
        .iter()
        .chain(&["thon-dong-dien"])
        .map(|c| format!("task-{c}"))
        .collect()
}

fn set(items: &[&str]) -> HashSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn listed(read: &dotpha_views::ReadModel, unit: &str, tree: Tree) -> HashSet<String> {
    let (tasks, total) = read
        .tasks(
            &TaskFilter {
                unit: Some(unit.to_owned()),
                tree,
                ..TaskFilter::default()
            },
            ms(NOW),
        )
        .expect("lists");
    assert_eq!(tasks.len() as u64, total);
    tasks.into_iter().map(|t| t.task_id).collect()
}

#[test]
fn merged_communes_roll_up_into_the_new_commune_today_and_stay_in_the_district_as_it_was() {
    let s = merged();
    let read = s.read_model("read");
    let now = ms(NOW);

    // The new commune's subtree.
    let mut today = merged_tasks();
    today.insert("task-moi".to_owned());
    assert_eq!(listed(&read, NEW, Tree::Today), today);
    assert_eq!(listed(&read, NEW, Tree::AsItWas), set(&["task-moi"]));
    let new_today = read.unit(NEW, Tree::Today, None, now).unwrap().unwrap();
    assert_eq!(new_today.rollup.tasks, 6);
    assert_eq!(new_today.rollup.cadres, 6);
    assert_eq!(new_today.rollup.by_status.get("in_progress"), Some(1));
    assert_eq!(new_today.rollup.by_status.get("assigned"), Some(5));
    let children: HashSet<String> = new_today.children.iter().map(|c| c.code.clone()).collect();
    assert_eq!(
        children,
        set(&MERGED),
        "the merged units are its children today"
    );
    assert!(new_today.children.iter().all(|c| c.closed));
    let new_then = read.unit(NEW, Tree::AsItWas, None, now).unwrap().unwrap();
    assert_eq!(new_then.rollup.tasks, 1, "as it was, only its own task");
    assert!(new_then.children.is_empty());
    assert_eq!(new_then.valid_from.as_deref(), Some("2025-07-01"));
    assert_eq!(new_then.parent.as_deref(), Some(PROVINCE));

    // The old district, as it was: all six communes' tasks and the village's.
    let mut district = merged_tasks();
    district.insert("task-dong-tho".to_owned());
    assert_eq!(listed(&read, DISTRICT, Tree::AsItWas), district);
    let then = read
        .unit(DISTRICT, Tree::AsItWas, Some("2025"), now)
        .unwrap()
        .unwrap();
    assert_eq!(then.rollup.tasks, 6);
    assert_eq!(then.children.len(), 5);
    assert!(
        read.subtree(DISTRICT, Tree::AsItWas, now)
            .unwrap()
            .is_superset(&set(&MERGED))
    );
    assert!(
        !read
            .subtree(DISTRICT, Tree::AsItWas, now)
            .unwrap()
            .contains(NEW)
    );

    // Today the merged communes belong to the new commune alone: the old
    // district keeps only what was not merged, so nothing is counted twice.
    assert_eq!(
        listed(&read, DISTRICT, Tree::Today),
        set(&["task-dong-tho"])
    );
    let province_today = read
        .unit(PROVINCE, Tree::Today, None, now)
        .unwrap()
        .unwrap();
    let district_today = read
        .unit(DISTRICT, Tree::Today, None, now)
        .unwrap()
        .unwrap();
    assert_eq!(
        province_today.rollup.tasks,
        new_today.rollup.tasks + district_today.rollup.tasks,
        "the province's tasks are the new commune's plus the district's, each once"
    );

    // Hợp Thành keeps its history and names its successor; its village
    // rolls up with it.
    let hop_thanh = read
        .unit("hop-thanh", Tree::AsItWas, None, now)
        .unwrap()
        .unwrap();
    assert_eq!(hop_thanh.valid_to.as_deref(), Some("2025-07-01"));
    assert_eq!(hop_thanh.successor.as_deref(), Some(NEW));
    assert_eq!(hop_thanh.parent.as_deref(), Some(DISTRICT));
    assert_eq!(hop_thanh.rollup.tasks, 2);
    let subtree_today = read.subtree(NEW, Tree::Today, now).unwrap();
    assert!(subtree_today.contains("thon-dong-dien"));
    assert!(!subtree_today.contains("dong-tho"));
    assert!(!subtree_today.contains(DISTRICT));

    // The task itself still belongs to its commune.
    let task = read.task("task-hop-thanh", now).unwrap().unwrap();
    assert_eq!(task.summary.unit, "hop-thanh");
    assert_eq!(task.summary.unit_name, "Xã Hợp Thành");
    assert_eq!(task.summary.percent_complete, Some(40.0));

    // The province counts every task once in either tree.
    for tree in [Tree::Today, Tree::AsItWas] {
        let province = read.unit(PROVINCE, tree, None, now).unwrap().unwrap();
        assert_eq!(province.rollup.tasks, 7, "{tree:?}");
        assert_eq!(listed(&read, PROVINCE, tree).len(), 7, "{tree:?}");
    }
    // The dashboard counts each task once.
    let dashboard = read.dashboard(Some("2025"), now).unwrap();
    assert_eq!(dashboard.tasks, 7);
}

#[test]
fn a_closed_unit_takes_no_new_units_or_cadres_but_its_successor_does() {
    let mut s = merged();
    let refused = s.try_submit(
        PROVINCE,
        GOVERNOR,
        "cadre.registered",
        json!({"id": "can-bo-moi", "full_name": "Cán bộ mới", "unit": "hop-thanh",
               "position": "Công chức", "party_member": false, "standing_committee": false}),
    );
    assert_eq!(
        refused.error.map(|e| e.code).as_deref(),
        Some("invalid_state")
    );
    s.unit(GOVERNOR, "thon-moi", "Thôn Mới", "village", NEW);
    let read = s.read_model("read");
    let today = read.unit(NEW, Tree::Today, None, ms(NOW)).unwrap().unwrap();
    assert!(
        today
            .children
            .iter()
            .any(|c| c.code == "thon-moi" && !c.closed)
    );
    assert_eq!(
        today.children.first().map(|c| c.code.as_str()),
        Some("thon-moi"),
        "open children first"
    );
}

/// The read model holds the domain's own unit tree, rebuilt from its
/// tables, so reads, access checks and the rules answer "is X within Y?"
/// alike on every day (issue 11: the read model had its own walk, without
/// parents and without dates).
#[test]
fn the_read_model_and_the_rules_share_one_unit_tree() {
    let s = merged();
    let read = s.read_model("read");
    let state = s.ledger.state();
    assert_eq!(&read.unit_tree().unwrap(), state.tree());
    let codes: Vec<String> = state.units().map(|u| u.code.to_string()).collect();
    for instant in [
        "2025-06-30T16:59:59Z",
        "2025-06-30T17:00:00Z",
        "2026-03-01T00:00:00Z",
    ] {
        let day = dotpha_views::query::day_in_vietnam(ms(instant));
        for unit in &codes {
            for ancestor in &codes {
                assert_eq!(
                    read.is_within(unit, ancestor, ms(instant)).unwrap(),
                    state.tree().is_within(unit, ancestor, day),
                    "{unit} within {ancestor} at {instant}"
                );
            }
        }
    }
    // The day before the merge took effect, today's tree was the old one.
    let eve = ms("2025-06-30T16:59:59Z");
    assert!(
        !read
            .subtree(NEW, Tree::Today, eve)
            .unwrap()
            .contains("hop-thanh")
    );
    assert!(
        read.subtree(DISTRICT, Tree::Today, eve)
            .unwrap()
            .contains("hop-thanh")
    );
    // From then on a merged commune lies within both, and rolls up into one.
    let after = ms(NOW);
    assert!(read.is_within("thon-dong-dien", NEW, after).unwrap());
    assert!(read.is_within("thon-dong-dien", DISTRICT, after).unwrap());
    assert!(
        !read
            .subtree(DISTRICT, Tree::Today, after)
            .unwrap()
            .contains("hop-thanh")
    );
}
