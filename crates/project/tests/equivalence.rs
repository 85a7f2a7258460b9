//! Incremental application and a rebuild give the same answers.
//!
//! Random but valid histories of a district (units, cadres, two cycles,
//! tasks registered, approved, assigned, planned, delegated, reported on,
//! reassigned, cancelled, evaluated; a merge of communes; a cycle closed)
//! go through the writer's core (`Ledger::submit_batch`, in batches of
//! varying size) into a log. One read model takes the events in chunks of
//! random size, some overlapping what it already has, as the worker does;
//! `rebuild` writes another from the log; `catch_up` fills a third. Every
//! query answers the same on all three, at several instants, and agrees
//! with the writer's own state on every task.

use std::{collections::BTreeMap, path::Path};

use dotpha_domain::{
    Date, Rating, State, Timestamp, decide, parse_submission,
    payload::{StreamId, TaskKind},
};
use dotpha_store::{Arrival, Ledger, Log, ReceiptStatus, RecordedEvent};
use dotpha_views::{
    ReadModel,
    query::{StatusFilter, TaskFilter, Tree},
};
use proptest::prelude::*;
use serde_json::{Value, json};

const ROOT: &str = "son-duong";
const BOOTSTRAP: &str = "to-chuc-noi-vu";
const SECRETARY: &str = "do-xuan-phuc";
const COMMUNE_SECRETARY: &str = "bi-thu-hop-thanh";
const NEW_COMMUNE: &str = "son-duong-moi";
/// The communes a merge may take.
const MERGEABLE: [&str; 4] = ["hop-thanh", "phuc-ung", "tu-thinh", "tt-son-duong"];
/// Every unit below the root: (code, name, kind, parent).
const UNITS: [(&str, &str, &str, &str); 7] = [
    ("hop-thanh", "Xã Hợp Thành", "commune", ROOT),
    ("phuc-ung", "Xã Phúc Ứng", "commune", ROOT),
    ("tu-thinh", "Xã Tú Thịnh", "commune", ROOT),
    ("tt-son-duong", "Thị trấn Sơn Dương", "town", ROOT),
    ("thon-dong-dien", "Thôn Đồng Diễn", "village", "hop-thanh"),
    ("thon-lien-thanh", "Thôn Đồng Diễn", "village", "hop-thanh"),
    (NEW_COMMUNE, "Xã Sơn Dương", "commune", ROOT),
];
/// The first cadres: (id, name, unit, standing committee).
const CADRES: [(&str, &str, &str, bool); 8] = [
    ("hoang-the-manh", "Hoàng Thế Mạnh", "hop-thanh", false),
    ("ha-thi-lan", "Hà Thị Lan", "hop-thanh", false),
    (COMMUNE_SECRETARY, "Đặng Văn Thắng", "hop-thanh", true),
    ("nguyen-van-binh", "Nguyễn Văn Bình", "phuc-ung", false),
    ("tran-thi-hoa", "Trần Thị Hoa", "tu-thinh", false),
    ("le-van-nam", "Lê Văn Nam", "tt-son-duong", false),
    ("pham-thi-thu", "Phạm Thị Thu", "thon-dong-dien", false),
    ("vu-duc-anh", "Vũ Đức Anh", NEW_COMMUNE, false),
];
const TITLES: [&str; 6] = [
    "Xây dựng nông thôn mới nâng cao",
    "Thu gom rác thải sinh hoạt tại Sơn Dương",
    "Chuyển đổi số trong cải cách hành chính",
    "Kiên cố hóa kênh mương nội đồng",
    "Phát triển sản phẩm OCOP chè Tân Trào",
    "Giảm tỷ lệ hộ nghèo",
];
const NAMES: [&str; 4] = [
    "Đỗ Xuân Phúc",
    "Nguyễn Thị Mai",
    "Hoàng Văn Sơn",
    "Nguyễn Thị Mai",
];
const KINDS: [&str; 3] = ["breakthrough", "new", "difficult"];
const CYCLES: [(&str, &str, &str); 2] = [
    ("2021", "2021-01-01", "2021-12-31"),
    ("2022", "2022-01-01", "2022-12-31"),
];

/// One step of a history, in indices the interpreter resolves against what
/// exists at that point.
#[derive(Clone, Debug)]
enum Op {
    Register {
        cadre: usize,
        title: usize,
        targets: usize,
        due: u16,
        next_cycle: bool,
    },
    Assign {
        cadre: usize,
        title: usize,
        targets: usize,
        due: u16,
        next_cycle: bool,
        backlog: bool,
    },
    Approve {
        task: usize,
        by_commune: bool,
    },
    Plan {
        task: usize,
        milestones: usize,
    },
    Delegate {
        task: usize,
        to: usize,
        due: u16,
    },
    Report {
        task: usize,
        values: Vec<i32>,
        percent: Option<u8>,
        confidence: Option<u8>,
        colleague: bool,
        /// Days before today it describes (a late report when > 0).
        back: u8,
    },
    Reassign {
        task: usize,
        to: usize,
        by_commune: bool,
    },
    Cancel {
        task: usize,
    },
    Evaluate {
        task: usize,
        score: u8,
        rating: u8,
        mode: u8,
        by_commune: bool,
    },
    Merge {
        mask: u8,
    },
    CloseCycle {
        next: bool,
    },
    NewCadre {
        unit: usize,
        name: usize,
        standing: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let idx = || 0usize..64;
    prop_oneof![
        3 => (idx(), idx(), 0usize..4, any::<u16>(), prop::bool::weighted(0.25)).prop_map(
            |(cadre, title, targets, due, next_cycle)| Op::Register { cadre, title, targets, due, next_cycle }
        ),
        4 => (idx(), idx(), 0usize..4, any::<u16>(), prop::bool::weighted(0.25), any::<bool>()).prop_map(
            |(cadre, title, targets, due, next_cycle, backlog)| Op::Assign { cadre, title, targets, due, next_cycle, backlog }
        ),
        2 => (idx(), any::<bool>()).prop_map(|(task, by_commune)| Op::Approve { task, by_commune }),
        3 => (idx(), 0usize..3).prop_map(|(task, milestones)| Op::Plan { task, milestones }),
        2 => (idx(), idx(), any::<u16>()).prop_map(|(task, to, due)| Op::Delegate { task, to, due }),
        8 => (
            idx(),
            prop::collection::vec(-50i32..500, 0..4),
            prop::option::of(0u8..=100),
            prop::option::of(0u8..3),
            any::<bool>(),
            prop_oneof![3 => Just(0u8), 1 => 1u8..40],
        ).prop_map(|(task, values, percent, confidence, colleague, back)| Op::Report {
            task, values, percent, confidence, colleague, back
        }),
        1 => (idx(), idx(), any::<bool>()).prop_map(|(task, to, by_commune)| Op::Reassign { task, to, by_commune }),
        1 => idx().prop_map(|task| Op::Cancel { task }),
        3 => (idx(), 0u8..=100, 0u8..4, 0u8..4, any::<bool>()).prop_map(|(task, score, rating, mode, by_commune)| {
            Op::Evaluate { task, score, rating, mode, by_commune }
        }),
        1 => (1u8..16).prop_map(|mask| Op::Merge { mask }),
        1 => (idx(), idx(), prop::bool::weighted(0.2)).prop_map(|(unit, name, standing)| Op::NewCadre { unit, name, standing }),
    ]
}

/// A submission as bytes, with the unit of its subject.
struct Sent {
    unit: String,
    id: String,
    body: Vec<u8>,
}

/// Builds the history: turns ops into submissions, keeping only those the
/// domain accepts (decided against a state of its own, as the writer would).
struct History {
    state: State,
    accepted: Vec<Sent>,
    cadres: Vec<(String, String)>,
    tasks: Vec<(String, usize)>,
    step: u64,
}

impl History {
    fn new() -> History {
        History {
            state: State::new(),
            accepted: Vec::new(),
            cadres: Vec::new(),
            tasks: Vec::new(),
            step: 0,
        }
    }

    /// The day of the current step: every step is four days after the last,
    /// from 2021-01-04.
    fn today(&self) -> Date {
        Date::from_days_since_epoch(
            Date::parse("2021-01-04")
                .expect("a date")
                .days_since_epoch()
                + 4 * self.step as i64,
        )
    }

    /// Decides one submission; returns whether it was accepted.
    fn send(&mut self, unit: &str, actor: &str, kind: &str, data: Value) -> bool {
        self.step += 1;
        let id = format!("sub-{:06}", self.step);
        let body = json!({
            "schema": "dotpha.submission.v1",
            "submission_id": id,
            "unit": unit,
            "actor": actor,
            "occurred_at": format!("{}T08:00:00+07:00", self.today()),
            "type": kind,
            "data": data,
        })
        .to_string()
        .into_bytes();
        let Ok(submission) = parse_submission(&body, Some(unit)) else {
            return false;
        };
        match decide(&self.state, &submission) {
            Ok(events) => {
                for event in &events {
                    self.state.apply(event);
                }
                self.accepted.push(Sent {
                    unit: unit.to_owned(),
                    id,
                    body,
                });
                true
            }
            Err(e) => {
                if std::env::var_os("DEBUG_EQ").is_some() {
                    eprintln!("refused {kind}: {e:?}");
                }
                false
            }
        }
    }

    fn must(&mut self, unit: &str, actor: &str, kind: &str, data: Value) {
        assert!(
            self.send(unit, actor, kind, data.clone()),
            "{kind} {data} is accepted"
        );
    }

    /// The root, its committee, the units, the first cadres, two cycles.
    fn preamble(&mut self) {
        self.must(
            ROOT,
            BOOTSTRAP,
            "unit.registered",
            json!({"code": ROOT, "name": "Huyện Sơn Dương", "kind": "district", "parent": null}),
        );
        self.must(
            ROOT,
            BOOTSTRAP,
            "cadre.registered",
            json!({"id": SECRETARY, "full_name": "Đỗ Xuân Phúc", "unit": ROOT,
                   "position": "Bí thư Huyện ủy", "party_member": true, "standing_committee": true}),
        );
        self.cadres.push((SECRETARY.to_owned(), ROOT.to_owned()));
        for (code, name, kind, parent) in UNITS {
            self.must(
                ROOT,
                SECRETARY,
                "unit.registered",
                json!({"code": code, "name": name, "kind": kind, "parent": parent}),
            );
        }
        for (id, name, unit, standing) in CADRES {
            self.must(
                ROOT,
                SECRETARY,
                "cadre.registered",
                json!({"id": id, "full_name": name, "unit": unit, "position": "Cán bộ",
                       "party_member": true, "standing_committee": standing}),
            );
            self.cadres.push((id.to_owned(), unit.to_owned()));
        }
        for (cycle, starts_on, ends_on) in CYCLES {
            self.must(
                ROOT,
                SECRETARY,
                "cycle.opened",
                json!({"cycle": cycle, "starts_on": starts_on, "ends_on": ends_on}),
            );
        }
    }

    fn cadre(&self, i: usize) -> (String, String) {
        self.cadres[i % self.cadres.len()].clone()
    }

    fn home(&self, cadre: &str) -> String {
        self.state
            .cadre(cadre)
            .map_or_else(|| ROOT.to_owned(), |c| c.unit.to_string())
    }

    /// Task `i` (modulo those that exist): id, assignee, metrics, cycle.
    fn task(&self, i: usize) -> Option<(String, String, usize, &'static str)> {
        if self.tasks.is_empty() {
            return None;
        }
        let (id, metrics) = &self.tasks[i % self.tasks.len()];
        let task = self.state.task(id)?;
        let cycle = if task.cycle.as_str() == "2022" {
            "2022"
        } else {
            "2021"
        };
        Some((id.clone(), task.assignee.to_string(), *metrics, cycle))
    }

    fn in_cycle(cycle: &str, offset: u16) -> String {
        let start = Date::parse(&format!("{cycle}-01-01"))
            .expect("a date")
            .days_since_epoch();
        Date::from_days_since_epoch(start + i64::from(offset % 365)).to_string()
    }

    /// `back` days before today, within the cycle: a report that arrives
    /// after later ones describes an earlier day.
    fn days_back(&self, cycle: &str, back: u8) -> String {
        let day = Date::from_days_since_epoch(self.today().days_since_epoch() - i64::from(back));
        let (start, end) = (format!("{cycle}-01-01"), format!("{cycle}-12-31"));
        day.to_string().clamp(start, end)
    }

    fn targets(n: usize, seed: usize) -> Vec<Value> {
        (0..n)
            .map(|k| {
                let baseline = ((seed + k) % 5 * 10) as f64;
                let span = ((seed + 2 * k) % 4 + 1) as f64 * 25.0;
                let target = if (seed + k).is_multiple_of(3) {
                    baseline - span
                } else {
                    baseline + span
                };
                json!({"metric": format!("m{k}"), "label": format!("Chỉ tiêu {k}"),
                       "baseline": baseline, "target": target})
            })
            .collect()
    }

    /// The committee member who acts: the district's, or Hợp Thành's.
    fn committee(&self, by_commune: bool) -> (&'static str, &'static str) {
        if by_commune {
            (COMMUNE_SECRETARY, "hop-thanh")
        } else {
            (SECRETARY, ROOT)
        }
    }

    fn run(&mut self, op: &Op) {
        match op.clone() {
            Op::Register {
                cadre,
                title,
                targets,
                due,
                next_cycle,
            } => {
                let (actor, unit) = self.cadre(cadre);
                let cycle = if next_cycle { "2022" } else { "2021" };
                let task_id = format!("t-{:03}", self.tasks.len());
                if self.send(
                    &unit,
                    &actor,
                    "task.registered",
                    json!({"task_id": task_id, "cycle": cycle, "title": TITLES[title % TITLES.len()],
                           "kind": KINDS[title % 3],
                           "category": "Nông thôn mới", "due": History::in_cycle(cycle, due),
                           "targets": History::targets(targets, title + cadre),
                           "description": "Đăng ký thực hiện"}),
                ) {
                    self.tasks.push((task_id, targets));
                }
            }
            Op::Assign {
                cadre,
                title,
                targets,
                due,
                next_cycle,
                backlog,
            } => {
                let (assignee, _) = self.cadre(cadre);
                let cycle = if next_cycle { "2022" } else { "2021" };
                let task_id = format!("t-{:03}", self.tasks.len());
                let mut data = json!({"task_id": task_id, "cycle": cycle, "assignee": assignee,
                    "title": TITLES[(title + 1) % TITLES.len()],
                    "kind": KINDS[title % 3],
                    "category": "Chuyển đổi số", "due": History::in_cycle(cycle, due),
                    "targets": History::targets(targets, title),
                    "origin": if backlog { "backlog" } else { "committee" }});
                if backlog {
                    data["backlog_ref"] = json!(format!("Tồn đọng số {title}"));
                }
                if self.send(ROOT, SECRETARY, "task.assigned", data) {
                    self.tasks.push((task_id, targets));
                }
            }
            Op::Approve { task, by_commune } => {
                let Some((id, ..)) = self.task(task) else {
                    return;
                };
                let (actor, unit) = self.committee(by_commune);
                self.send(
                    unit,
                    actor,
                    "task.approved",
                    json!({"task_id": id, "comment": "Đồng ý"}),
                );
            }
            Op::Plan { task, milestones } => {
                let Some((id, assignee, _, cycle)) = self.task(task) else {
                    return;
                };
                let unit = self.home(&assignee);
                let milestones: Vec<Value> = (0..milestones)
                    .map(|k| json!({"title": format!("Mốc {k}"), "due": History::in_cycle(cycle, 100 * k as u16 + 30)}))
                    .collect();
                self.send(
                    &unit,
                    &assignee,
                    "plan.submitted",
                    json!({"task_id": id, "solutions": ["Tuyên truyền vận động", "Huy động nguồn lực"],
                           "milestones": milestones}),
                );
            }
            Op::Delegate { task, to, due } => {
                let Some((id, assignee, _, cycle)) = self.task(task) else {
                    return;
                };
                let unit = self.home(&assignee);
                let targets: Vec<String> = UNITS
                    .iter()
                    .map(|u| u.0.to_owned())
                    .chain(self.cadres.iter().map(|c| c.0.clone()))
                    .collect();
                let delegation = format!("d-{}", self.step);
                self.send(
                    &unit,
                    &assignee,
                    "work.delegated",
                    json!({"task_id": id, "delegation_id": delegation, "to": targets[to % targets.len()],
                           "description": "Phối hợp thực hiện", "due": History::in_cycle(cycle, due)}),
                );
            }
            Op::Report {
                task,
                values,
                percent,
                confidence,
                colleague,
                back,
            } => {
                let Some((id, assignee, metrics, cycle)) = self.task(task) else {
                    return;
                };
                let unit = self.home(&assignee);
                let actor = if colleague {
                    self.cadres
                        .iter()
                        .find(|(c, u)| *u == unit && *c != assignee)
                        .map_or(assignee.clone(), |(c, _)| c.clone())
                } else {
                    assignee
                };
                let values: Vec<Value> = values
                    .iter()
                    .take(metrics)
                    .enumerate()
                    .map(|(k, v)| json!({"metric": format!("m{k}"), "value": v}))
                    .collect();
                let mut data = json!({"task_id": id, "as_of": self.days_back(cycle, back), "values": values,
                                      "note": "Báo cáo định kỳ"});
                if let Some(p) = percent {
                    data["percent_complete"] = json!(p);
                }
                if let Some(c) = confidence {
                    data["confidence"] = json!(["low", "medium", "high"][c as usize]);
                }
                self.send(&unit, &actor, "progress.reported", data);
            }
            Op::Reassign {
                task,
                to,
                by_commune,
            } => {
                let Some((id, ..)) = self.task(task) else {
                    return;
                };
                let (new, _) = self.cadre(to);
                let (actor, unit) = self.committee(by_commune);
                self.send(
                    unit,
                    actor,
                    "task.reassigned",
                    json!({"task_id": id, "assignee": new, "reason": "Điều động công tác"}),
                );
            }
            Op::Cancel { task } => {
                let Some((id, ..)) = self.task(task) else {
                    return;
                };
                self.send(
                    ROOT,
                    SECRETARY,
                    "task.cancelled",
                    json!({"task_id": id, "reason": "Không còn phù hợp"}),
                );
            }
            Op::Evaluate {
                task,
                score,
                rating,
                mode,
                by_commune,
            } => {
                let Some((id, ..)) = self.task(task) else {
                    return;
                };
                let ratings = ["excellent", "good", "completed", "not_completed"];
                let mut data = json!({"task_id": id, "comment": "Đánh giá cuối kỳ"});
                match mode {
                    0 => data["score"] = json!(score),
                    1 => data["rating"] = json!(ratings[rating as usize]),
                    2 => {
                        data["score"] = json!(score);
                        data["rating"] = json!(Rating::for_score(f64::from(score)).as_str());
                    }
                    _ => {
                        data["score"] = json!(score);
                        data["rating"] = json!(ratings[rating as usize]);
                    }
                }
                let (actor, unit) = self.committee(by_commune);
                self.send(unit, actor, "task.evaluated", data);
            }
            Op::Merge { mask } => {
                let from: Vec<&str> = MERGEABLE
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, c)| *c)
                    .collect();
                self.send(
                    ROOT,
                    SECRETARY,
                    "unit.merged",
                    json!({"into": NEW_COMMUNE, "from": from, "effective_on": "2021-07-01",
                           "legal_basis": "Nghị quyết 1684/NQ-UBTVQH15"}),
                );
            }
            Op::CloseCycle { next } => {
                self.send(
                    ROOT,
                    SECRETARY,
                    "cycle.closed",
                    json!({"cycle": if next { "2022" } else { "2021" }}),
                );
            }
            Op::NewCadre {
                unit,
                name,
                standing,
            } => {
                let units: Vec<&str> = std::iter::once(ROOT)
                    .chain(UNITS.iter().map(|u| u.0))
                    .collect();
                let unit = units[unit % units.len()];
                let id = format!("can-bo-{}", self.step);
                if self.send(
                    ROOT,
                    SECRETARY,
                    "cadre.registered",
                    json!({"id": id, "full_name": NAMES[name % NAMES.len()], "unit": unit,
                           "position": "Công chức", "party_member": name % 2 == 0,
                           "standing_committee": standing}),
                ) {
                    self.cadres.push((id, unit.to_owned()));
                }
            }
        }
    }
}

/// The instants the answers are compared at.
const INSTANTS: [&str; 3] = [
    "2021-06-30T17:00:00Z",
    "2021-10-15T05:30:00Z",
    "2022-12-31T16:59:59Z",
];

/// Every answer the read model gives, labelled.
fn answers(read: &ReadModel, history: &History, log: &Path) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut put = |label: String, value: Value| {
        assert!(out.insert(label.clone(), value).is_none(), "{label} twice");
    };
    let applied = read.applied();
    put(
        "applied".into(),
        json!([applied.position, applied.hash, applied.genesis]),
    );
    put("cycles".into(), json!(read.cycles().expect("cycles")));
    put(
        "latest_cycle".into(),
        json!(read.latest_cycle().expect("latest")),
    );
    let units: Vec<&str> = std::iter::once(ROOT)
        .chain(UNITS.iter().map(|u| u.0))
        .collect();
    for instant in INSTANTS {
        let now = Timestamp::parse(instant).expect("instant").unix_millis();
        for tree in [Tree::Today, Tree::AsItWas] {
            for unit in &units {
                let mut subtree: Vec<String> = read
                    .subtree(unit, tree, now)
                    .expect("subtree")
                    .into_iter()
                    .collect();
                subtree.sort();
                put(format!("{instant} subtree {unit} {tree:?}"), json!(subtree));
            }
        }
    }
    for instant in INSTANTS {
        let now = Timestamp::parse(instant).expect("instant").unix_millis();
        let mut filters: Vec<(String, TaskFilter)> = vec![
            ("all".into(), TaskFilter::default()),
            (
                "page".into(),
                TaskFilter {
                    limit: Some(3),
                    offset: Some(2),
                    ..TaskFilter::default()
                },
            ),
        ];
        for cycle in ["2021", "2022"] {
            filters.push((
                format!("cycle {cycle}"),
                TaskFilter {
                    cycle: Some(cycle.into()),
                    ..TaskFilter::default()
                },
            ));
        }
        for status in [
            "registered",
            "assigned",
            "planned",
            "in_progress",
            "evaluated",
            "cancelled",
            "overdue",
            "due_soon",
            "stale",
        ] {
            filters.push((
                format!("status {status}"),
                TaskFilter {
                    status: StatusFilter::parse(status),
                    ..TaskFilter::default()
                },
            ));
        }
        for tree in [Tree::Today, Tree::AsItWas] {
            for unit in [ROOT, "hop-thanh", NEW_COMMUNE, "phuc-ung"] {
                filters.push((
                    format!("unit {unit} {tree:?}"),
                    TaskFilter {
                        unit: Some(unit.into()),
                        tree,
                        cycle: Some("2021".into()),
                        ..TaskFilter::default()
                    },
                ));
            }
        }
        for q in [
            "son duong",
            "Đồng Diễn",
            "do xuan phuc",
            "nguyen thi mai",
            "t-00",
            "chuyen doi so",
            "HOP THANH",
        ] {
            filters.push((
                format!("q {q}"),
                TaskFilter {
                    q: Some(q.into()),
                    ..TaskFilter::default()
                },
            ));
        }
        for (cadre, _) in history.cadres.iter().take(5) {
            filters.push((
                format!("assignee {cadre}"),
                TaskFilter {
                    assignee: Some(cadre.clone()),
                    kind: None,
                    ..TaskFilter::default()
                },
            ));
        }
        filters.push((
            "kind new, overdue, in son-duong-moi".into(),
            TaskFilter {
                kind: TaskKind::parse("new"),
                status: StatusFilter::parse("overdue"),
                unit: Some(NEW_COMMUNE.into()),
                ..TaskFilter::default()
            },
        ));
        for (label, filter) in filters {
            let (tasks, total) = read.tasks(&filter, now).expect("tasks");
            put(format!("{instant} tasks {label}"), json!([tasks, total]));
        }
        for (id, _) in &history.tasks {
            put(
                format!("{instant} task {id}"),
                json!(read.task(id, now).expect("task")),
            );
        }
        for cycle in [None, Some("2021"), Some("2022"), Some("2030")] {
            put(
                format!("{instant} dashboard {cycle:?}"),
                json!(read.dashboard(cycle, now).expect("dashboard")),
            );
        }
        for tree in [Tree::Today, Tree::AsItWas] {
            for unit in units.iter().chain(&["nowhere"]) {
                for cycle in [None, Some("2021")] {
                    put(
                        format!("{instant} unit {unit} {tree:?} {cycle:?}"),
                        json!(read.unit(unit, tree, cycle, now).expect("unit")),
                    );
                }
            }
        }
        for (cadre, _) in &history.cadres {
            put(
                format!("{instant} cadre {cadre}"),
                json!(read.cadre(cadre, now).expect("cadre")),
            );
        }
    }
    // As the history route answers: the read model's copies, and the
    // events it applied from the log read there.
    for (id, _) in history.tasks.iter().chain(&[("t-999".to_owned(), 0)]) {
        let events: Option<Vec<String>> = dotpha_project::history(read, Some(log), id)
            .expect("history")
            .map(|events| events.iter().map(|e| e.get().to_owned()).collect());
        put(format!("history {id}"), json!(events));
    }
    out
}

fn assert_same(label: &str, expected: &BTreeMap<String, Value>, got: &BTreeMap<String, Value>) {
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    for (key, value) in expected {
        assert_eq!(&got[key], value, "{label}: {key}");
    }
}

/// Checks the read model against the writer's state, task by task.
fn agrees_with_state(read: &ReadModel, state: &State, log: &Log) {
    let log_path = Path::new(log.path()).to_path_buf();
    let now = Timestamp::parse("2021-06-01T00:00:00Z")
        .expect("instant")
        .unix_millis();
    let (_, total) = read.tasks(&TaskFilter::default(), now).expect("tasks");
    assert_eq!(total as usize, state.tasks().count());
    for task in state.tasks() {
        let detail = read
            .task(task.id.as_str(), now)
            .expect("task")
            .unwrap_or_else(|| panic!("{} is in the read model", task.id));
        let s = &detail.summary;
        assert_eq!(s.status, task.status.as_str(), "{}", task.id);
        assert_eq!(s.assignee, task.assignee.as_str(), "{}", task.id);
        assert_eq!(
            s.unit,
            state.cadre(&task.assignee).expect("cadre").unit.as_str()
        );
        assert_eq!(s.cycle, task.cycle.as_str());
        assert_eq!(s.due, task.due.to_string());
        assert_eq!(s.rating.as_deref(), task.rating.map(Rating::as_str));
        assert_eq!(detail.version, task.version, "{}", task.id);
        assert_eq!(
            detail.plan.as_ref().map(|p| p["revision"].as_u64()),
            (task.plan_revisions > 0).then_some(Some(u64::from(task.plan_revisions)))
        );
        assert_eq!(detail.delegations.len(), task.delegations.len());
        let stream = log
            .stream(&StreamId::Task(task.id.clone()).to_string())
            .expect("stream");
        let history = dotpha_project::history(read, Some(&log_path), task.id.as_str())
            .expect("history")
            .expect("some");
        assert_eq!(history.len(), stream.len(), "{}: every event once", task.id);
        for (event, recorded) in history.iter().zip(&stream) {
            let event: RecordedEvent = serde_json::from_str(event.get()).expect("an event");
            assert_eq!(event.hash, recorded.hash);
        }
    }
    for unit in state.units() {
        let view = read
            .unit(unit.code.as_str(), Tree::Today, None, now)
            .expect("unit")
            .expect("exists");
        assert_eq!(view.valid_to, unit.valid_to.map(|d| d.to_string()));
        assert_eq!(
            view.successor.as_deref(),
            unit.successor.as_ref().map(|s| s.as_str())
        );
    }
}

#[derive(Debug)]
struct Plan {
    /// The history's steps; a cycle may close four fifths of the way.
    ops: Vec<Op>,
    batches: Vec<usize>,
    chunks: Vec<(usize, usize)>,
    /// Events read ahead at a time in a second thread by a catch-up
    /// (`dotpha_project::catch_up_in`), how many of those parts make one
    /// transaction, and how many parts the reader may have waiting.
    read_ahead: usize,
    parts: usize,
    ahead: usize,
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        prop::collection::vec(op(), 0..70),
        prop::option::of(any::<bool>()),
        prop::collection::vec(1usize..12, 1..8),
        prop::collection::vec((1usize..20, 0usize..4), 1..8),
        1usize..40,
        (1usize..5, 0usize..4),
    )
        .prop_map(
            |(mut ops, close, batches, chunks, read_ahead, (parts, ahead))| {
                if let Some(next) = close {
                    ops.insert(ops.len() - ops.len() / 5, Op::CloseCycle { next });
                }
                Plan {
                    ops,
                    batches,
                    chunks,
                    read_ahead,
                    parts,
                    ahead,
                }
            },
        )
}

fn check(plan: &Plan) {
    let mut history = History::new();
    history.preamble();
    for op in &plan.ops {
        history.run(op);
    }

    // The accepted submissions go through the writer's core.
    let data = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::open(data.path().join("log.sqlite")).expect("the log opens");
    let mut from = 0;
    for (i, size) in plan.batches.iter().cycle().enumerate() {
        if from >= history.accepted.len() {
            break;
        }
        let to = (from + size).min(history.accepted.len());
        let arrivals = history.accepted[from..to]
            .iter()
            .map(|m| Arrival::read(&m.body, Some(&m.unit), Some(&m.id)).expect("an id"))
            .collect();
        let receipts = ledger
            .submit_batch(
                arrivals,
                &Timestamp::from_unix_millis(1_610_000_000_000 + i as i64 * 1000),
            )
            .expect("committed");
        for receipt in receipts {
            assert_eq!(
                receipt.status,
                ReceiptStatus::Accepted,
                "{}: {:?}",
                receipt.submission_id,
                receipt.error
            );
        }
        from = to;
    }
    // A writer's trackers forget their reports (`State::forget_reports`).
    let mut expected = history.state.clone();
    expected.forget_reports();
    assert_eq!(
        ledger.state(),
        &expected,
        "the writer's state is the history's"
    );
    drop(ledger);
    let log = Log::open_read_only(data.path().join("log.sqlite")).expect("opens");
    let events = log.events_from(1, usize::MAX >> 1).expect("events");

    // (a) Incrementally, in chunks of random size that may overlap what was
    // already applied (a redelivery), with the stream sequence some carry.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let mut incremental = ReadModel::open(elsewhere.path().join("read.sqlite")).expect("opens");
    let mut next = 0;
    for (size, overlap) in plan.chunks.iter().cycle() {
        if next >= events.len() {
            break;
        }
        let start = next.saturating_sub(*overlap);
        let end = (next + size).min(events.len());
        let sequence = (size % 2 == 0).then_some(end as u64 + 7);
        let applied = incremental
            .apply(&events[start..end], sequence)
            .expect("applies");
        assert_eq!(applied, end - next);
        next = end;
    }
    assert_eq!(incremental.applied().position, events.len() as u64);

    // (b) A rebuild from the log, twice (the second is a new generation).
    for _ in 0..2 {
        let rebuilt = dotpha_project::rebuild(data.path(), "main", |_, _| {}).expect("rebuilds");
        assert_eq!(rebuilt.events, events.len() as u64);
    }
    let rebuilt = dotpha_project::open_for_reading(data.path(), "main").expect("opens");

    // (c) catch_up into a fresh read model.
    let mut caught = ReadModel::open(elsewhere.path().join("caught.sqlite")).expect("opens");
    dotpha_project::catch_up(&mut caught, &log, |_, _| {}).expect("catches up");

    // (c') The same in small batches, each read and decoded in a second
    // thread while the one before is applied, a few of them in each
    // transaction: every batch's and every part's end falls somewhere in
    // the history (a report and its task in different batches, a task's
    // reports across several, a shown report in a part before the one
    // that ends its transaction).
    let mut batched = ReadModel::open(elsewhere.path().join("batched.sqlite")).expect("opens");
    let mut ends = Vec::new();
    dotpha_project::catch_up_in(
        &mut batched,
        &log,
        dotpha_project::Batching {
            part: plan.read_ahead,
            parts: plan.parts,
            ahead: plan.ahead,
        },
        |applied, _| ends.push(applied),
    )
    .expect("catches up in batches");
    assert_eq!(
        ends.len(),
        events.len().div_ceil(plan.read_ahead * plan.parts),
        "one transaction per batch of parts"
    );

    // (d) One event at a time, the handle opened again every few events,
    // so what applying keeps in memory is read back from the tables: the
    // path every batched write (rows written at a batch's end, trackers
    // and task inputs kept in memory) must agree with.
    let single_path = elsewhere.path().join("single.sqlite");
    let mut single = ReadModel::open(&single_path).expect("opens");
    for (i, event) in events.iter().enumerate() {
        if i % REOPEN_EVERY == REOPEN_EVERY - 1 {
            drop(single);
            single = ReadModel::open(&single_path).expect("opens again");
        }
        assert_eq!(
            single
                .apply(std::slice::from_ref(event), None)
                .expect("applies"),
            1
        );
    }

    // (e) A read model an earlier build left half way (schema version 7,
    // and 6 before it), opened by this build: upgraded in place, a version
    // at a time, it applies the rest.
    let half = events.len() / 2;
    let early_path = elsewhere.path().join("early.sqlite");
    let mut early = ReadModel::open(&early_path).expect("opens");
    early.apply(&events[..half], None).expect("applies");
    drop(early);
    // With the planner's statistics, as a rebuilt file has them.
    rusqlite::Connection::open(&early_path)
        .and_then(|c| c.execute_batch("ANALYZE"))
        .expect("analyzed");
    let version_7 = elsewhere.path().join("version-7.sqlite");
    as_version_7(&early_path, &version_7);
    let version_6 = elsewhere.path().join("version-6.sqlite");
    as_version_6(&version_7, &version_6);
    let mut upgraded = Vec::new();
    for old_path in [&version_7, &version_6] {
        assert!(
            ReadModel::open_read_only(old_path).is_err(),
            "a reader waits for the upgrade"
        );
        let mut model = ReadModel::open(old_path).expect("upgrades");
        // No statistics of the old `reports` (keyed by text) describe the
        // new one.
        assert_eq!(
            count(
                model.path(),
                "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'reports'"
            ),
            0
        );
        model
            .apply(&events[half..], None)
            .expect("applies the rest");
        upgraded.push(model);
    }

    let log_path = data.path().join("log.sqlite");
    let expected = answers(&incremental, &history, &log_path);
    assert_same(
        "rebuild",
        &expected,
        &answers(&rebuilt, &history, &log_path),
    );
    assert_same(
        "catch_up",
        &expected,
        &answers(&caught, &history, &log_path),
    );
    assert_same(
        "catch_up in batches",
        &expected,
        &answers(&batched, &history, &log_path),
    );
    assert_same(
        "one at a time",
        &expected,
        &answers(&single, &history, &log_path),
    );
    for model in &upgraded {
        assert_same(
            model.path(),
            &expected,
            &answers(model, &history, &log_path),
        );
    }
    // A rebuild and a catch-up keep no copy of the events they read from
    // the log; the others keep every one.
    let every = objects_kept(single.path()).1;
    assert_eq!(objects_kept(rebuilt.path()), (0, every));
    assert_eq!(objects_kept(caught.path()), (0, every));
    assert_eq!(objects_kept(batched.path()), (0, every));
    // Of those it reads from the log, a report keeps only its row of
    // `reports`; the others keep their row of `task_events`.
    for path in [rebuilt.path(), caught.path(), batched.path()] {
        assert_eq!(
            count(path, "SELECT count(*) FROM task_events")
                + count(path, "SELECT count(*) FROM reports"),
            every,
            "{path}"
        );
    }
    assert_eq!(objects_kept(single.path()), (every, every));
    assert_eq!(objects_kept(incremental.path()), (every, every));
    let tables = rows(single.path(), &log);
    for other in [
        incremental.path(),
        rebuilt.path(),
        caught.path(),
        batched.path(),
    ]
    .into_iter()
    .chain(upgraded.iter().map(ReadModel::path))
    {
        assert_same(other, &tables, &rows(other, &log));
    }
    for model in &upgraded {
        assert_eq!(layout(single.path()), layout(model.path()));
    }
    agrees_with_state(&incremental, &history.state, &log);
    done_as_in_state(single.path(), &history.state);
}

/// How many events the one-at-a-time read model applies per handle.
const REOPEN_EVERY: usize = 7;

/// Every row of every table a read model fills, by table (rows in the
/// order of all their columns; `meta` without the stream sequence, which
/// only the incremental model was given).
fn rows(path: &str, log: &Log) -> BTreeMap<String, Value> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("opens");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("tables");
    let mut out = BTreeMap::new();
    for table in tables {
        if table == "task_events" {
            out.insert(table, json!(task_events(&conn, log)));
            continue;
        }
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table}"))
            .expect("select");
        let columns = stmt.column_count();
        let mut all: Vec<String> = stmt
            .query_map([], |r| {
                (0..columns)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => "NULL".to_owned(),
                            rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                            rusqlite::types::ValueRef::Real(x) => format!("{x:?}"),
                            rusqlite::types::ValueRef::Text(t) => {
                                format!("{:?}", String::from_utf8_lossy(t))
                            }
                            rusqlite::types::ValueRef::Blob(b) => format!("{b:?}"),
                        })
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map(|cells| cells.join("|"))
            })
            .and_then(|rows| rows.collect())
            .expect("rows");
        if table == "meta" {
            // Only the incremental model was given stream sequences, and
            // only a rebuild and a catch-up read events from the log.
            all.retain(|row| {
                ![
                    "\"stream_sequence\"",
                    "\"logged_position\"",
                    "\"logged_hash\"",
                ]
                .iter()
                .any(|key| row.starts_with(key))
            });
        }
        all.sort();
        out.insert(table, json!(all));
    }
    out
}

/// The tables of schema version 6 that version 7 lays out otherwise, as
/// version 6 made them (its `CREATE TABLE` statements, verbatim).
/// Version 6 also kept reports in two tables ([`VERSION_6_REPORTS`]).
const VERSION_6_TABLES: [(&str, &str); 6] = [
    (
        "task_events",
        "CREATE TABLE task_events (
    task_id  TEXT NOT NULL,
    position INTEGER NOT NULL,
    event    TEXT NOT NULL,
    PRIMARY KEY (task_id, position)
)",
    ),
    (
        "meta",
        "CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
)",
    ),
    (
        "targets",
        "CREATE TABLE targets (
    task_id  TEXT NOT NULL,
    ord      INTEGER NOT NULL,
    metric   TEXT NOT NULL,
    label    TEXT NOT NULL,
    baseline REAL NOT NULL,
    target   REAL NOT NULL,
    unit     TEXT,
    min      REAL,
    max      REAL,
    latest   REAL,
    latest_as_of TEXT,
    latest_pos   INTEGER,
    PRIMARY KEY (task_id, metric)
)",
    ),
    (
        "delegations",
        "CREATE TABLE delegations (
    task_id       TEXT NOT NULL,
    delegation_id TEXT NOT NULL,
    to_ref        TEXT NOT NULL,
    description   TEXT NOT NULL,
    due           TEXT NOT NULL,
    PRIMARY KEY (task_id, delegation_id)
)",
    ),
    (
        "milestone_completions",
        "CREATE TABLE milestone_completions (
    task_id      TEXT NOT NULL,
    title        TEXT NOT NULL,
    completed_on TEXT NOT NULL,
    PRIMARY KEY (task_id, title)
)",
    ),
    (
        "reviews",
        "CREATE TABLE reviews (
    task_id      TEXT NOT NULL,
    milestone    TEXT NOT NULL,
    major_errors INTEGER NOT NULL,
    PRIMARY KEY (task_id, milestone)
)",
    ),
];

/// Version 6's two tables of reports (its statements, verbatim), filled
/// from version 7's one.
const VERSION_6_REPORTS: &str = "
CREATE TABLE reported_values (
    task_id  TEXT NOT NULL,
    metric   TEXT NOT NULL,
    position INTEGER NOT NULL,
    as_of    TEXT NOT NULL,
    value    REAL NOT NULL,
    PRIMARY KEY (task_id, metric, position)
);
CREATE TABLE progress (
    task_id  TEXT NOT NULL,
    position INTEGER NOT NULL,
    as_of    TEXT NOT NULL,
    percent  REAL,
    PRIMARY KEY (task_id, as_of, position)
);
INSERT INTO progress SELECT task_id, position, as_of, percent FROM reports;
INSERT INTO reported_values
    SELECT r.task_id, j.value ->> 0, r.position, r.as_of, j.value ->> 1
    FROM reports r, json_each(r.vals) j;
DROP TABLE reports;
";

/// Version 7's `tasks` (its statement, verbatim): its tasks had no number
/// of their own.
const VERSION_7_TASKS: &str = "CREATE TABLE tasks (
    task_id            TEXT PRIMARY KEY,
    cycle              TEXT NOT NULL,
    title              TEXT NOT NULL,
    kind               TEXT NOT NULL,
    category           TEXT NOT NULL,
    origin             TEXT NOT NULL,
    backlog_ref        TEXT,
    description        TEXT,
    assignee           TEXT NOT NULL,
    unit               TEXT NOT NULL,
    status             TEXT NOT NULL,
    open               INTEGER NOT NULL,
    active             INTEGER NOT NULL,
    given_by           TEXT,
    evaluated_by       TEXT,
    due                TEXT NOT NULL,
    due_end_ms         INTEGER NOT NULL,
    percent_complete   REAL,
    reported_percent   REAL,
    reported_as_of     TEXT,
    reported_pos       INTEGER,
    plan               TEXT,
    plan_revisions     INTEGER NOT NULL DEFAULT 0,
    last_report        TEXT,
    last_report_as_of  TEXT,
    last_report_pos    INTEGER,
    last_report_ms     INTEGER,
    last_confidence    TEXT,
    rating             TEXT,
    score              REAL,
    evaluation_comment TEXT,
    created_ms         INTEGER NOT NULL,
    search_head        TEXT NOT NULL DEFAULT '',
    search             TEXT NOT NULL DEFAULT '',
    done_on            TEXT
)";

/// Version 7's indexes of `tasks`, those its files had from the start and
/// those added within it.
const VERSION_7_TASK_INDEXES: &str = "
CREATE INDEX tasks_by_cycle ON tasks (cycle, status, due, task_id);
CREATE INDEX tasks_by_cycle_due ON tasks (cycle, due, task_id);
CREATE INDEX tasks_by_cycle_open ON tasks (cycle, open, due_end_ms);
CREATE INDEX tasks_by_unit ON tasks (unit);
CREATE INDEX tasks_by_assignee ON tasks (assignee);
CREATE INDEX tasks_by_due_end ON tasks (due_end_ms);
CREATE INDEX tasks_by_check_in ON tasks (coalesce(last_report_ms, created_ms));
";

/// Version 7's `reports`, keyed by the task's text id (its statement,
/// verbatim).
const VERSION_7_REPORTS: &str = "CREATE TABLE reports (
    task_id  TEXT NOT NULL,
    as_of    TEXT NOT NULL,
    position INTEGER NOT NULL,
    percent  REAL,
    vals     TEXT NOT NULL,
    PRIMARY KEY (task_id, as_of, position)
) WITHOUT ROWID";

/// A copy at `to` of the read model at `from`, laid out as schema version 7
/// laid it out (the read model an earlier build left behind).
fn as_version_7(from: &std::path::Path, to: &std::path::Path) {
    let source =
        rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("opens");
    source
        .execute("VACUUM INTO ?1", [to.display().to_string()])
        .expect("copied");
    let old = rusqlite::Connection::open(to).expect("opens the copy");
    let columns: Vec<String> = old
        .prepare("SELECT name FROM pragma_table_info('tasks') WHERE name != 'task_no' ORDER BY cid")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("columns");
    let columns = columns.join(", ");
    old.execute_batch(&format!(
        "ALTER TABLE tasks RENAME TO v8_tasks;
         ALTER TABLE reports RENAME TO v8_reports;
         {VERSION_7_TASKS};
         INSERT INTO tasks ({columns}) SELECT {columns} FROM v8_tasks ORDER BY task_no;
         {VERSION_7_REPORTS};
         INSERT INTO reports
             SELECT t.task_id, r.as_of, r.position, r.percent, r.vals
             FROM v8_reports r JOIN v8_tasks t ON t.task_no = r.task_no;
         DROP TABLE v8_reports;
         DROP TABLE v8_tasks;
         {VERSION_7_TASK_INDEXES}"
    ))
    .expect("laid out as version 7");
    old.pragma_update(None, "user_version", 7)
        .expect("version 7");
}

/// A copy at `to` of the read model at `from` (of version 7), laid out as
/// schema version 6 laid it out (the read model an earlier build left
/// behind).
fn as_version_6(from: &std::path::Path, to: &std::path::Path) {
    let source =
        rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("opens");
    source
        .execute("VACUUM INTO ?1", [to.display().to_string()])
        .expect("copied");
    let old = rusqlite::Connection::open(to).expect("opens the copy");
    for (table, create) in VERSION_6_TABLES {
        old.execute_batch(&format!(
            "ALTER TABLE {table} RENAME TO v7_{table};
             {create};
             INSERT INTO {table} SELECT * FROM v7_{table};
             DROP TABLE v7_{table};"
        ))
        .expect("laid out as version 6");
    }
    old.execute_batch(VERSION_6_REPORTS)
        .expect("reports laid out as version 6");
    old.pragma_update(None, "user_version", 6)
        .expect("version 6");
}

/// Every task event (task, position, object or NULL) a read model holds:
/// a row of `task_events`, or for a report applied from the log beside,
/// its row of `reports` (which the history reads the same way).
const EVERY_TASK_EVENT: &str = "SELECT task_id, position, event FROM task_events
    UNION ALL
    SELECT t.task_id, r.position, NULL FROM reports r JOIN tasks t ON t.task_no = r.task_no
    WHERE NOT EXISTS
        (SELECT 1 FROM task_events e WHERE e.task_id = t.task_id AND e.position = r.position)";

/// Each task event, its object read from the log where the read model
/// kept none (it applied the event from there).
fn task_events(conn: &rusqlite::Connection, log: &Log) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("{EVERY_TASK_EVENT} ORDER BY 1, 2"))
        .expect("select");
    stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, u64>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })
    .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
    .expect("rows")
    .into_iter()
    .map(|(task, position, event)| {
        let event = event.unwrap_or_else(|| {
            let recorded = log.events_from(position, 1).expect("the log");
            assert_eq!(recorded[0].position, position);
            serde_json::to_string(&recorded[0]).expect("serializes")
        });
        format!("{task}|{position}|{event}")
    })
    .collect()
}

/// How many task events a read model keeps the object of, of how many.
fn objects_kept(path: &str) -> (u64, u64) {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("opens");
    conn.query_row(
        &format!("SELECT count(event), count(*) FROM ({EVERY_TASK_EVENT})"),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .expect("counted")
}

/// What `sql`, a count, gives on the read model at `path`.
fn count(path: &str, sql: &str) -> u64 {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("opens");
    conn.query_row(sql, [], |r| r.get(0)).expect("counted")
}

/// The statements that made a read model's tables and indexes, by name.
fn layout(path: &str) -> Vec<(String, String)> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("opens");
    conn.prepare(
        "SELECT name, sql FROM sqlite_master
         WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL ORDER BY name",
    )
    .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
    .expect("layout")
}

/// The day each task was done, as the read model keeps it, is the one the
/// writer's own state finds (the domain's `DoneTracker` over every report).
fn done_as_in_state(path: &str, state: &State) {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("opens");
    for task in state.tasks() {
        let stored: Option<String> = conn
            .query_row(
                "SELECT done_on FROM tasks WHERE task_id = ?1",
                [task.id.as_str()],
                |r| r.get(0),
            )
            .expect("the task's row");
        assert_eq!(
            stored,
            task.done.done_on().map(|d| d.to_string()),
            "{}",
            task.id
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        ..ProptestConfig::default()
    })]

    #[test]
    fn incremental_application_and_rebuild_answer_alike(plan in plan()) {
        check(&plan);
    }
}

/// A long fixed history, so the equivalence also holds for one with every
/// kind of step, whatever the random cases drew.
#[test]
fn a_long_history_answers_alike() {
    let mut ops = Vec::new();
    for i in 0..40usize {
        ops.push(Op::Assign {
            cadre: i,
            title: i,
            targets: i % 4,
            due: (i * 37) as u16,
            next_cycle: i % 5 == 0,
            backlog: i % 3 == 0,
        });
        ops.push(Op::Register {
            cadre: i + 3,
            title: i + 1,
            targets: (i + 1) % 4,
            due: (i * 53) as u16,
            next_cycle: false,
        });
    }
    for i in 0..80usize {
        ops.push(Op::Approve {
            task: i,
            by_commune: i % 2 == 0,
        });
        ops.push(Op::Plan {
            task: i,
            milestones: i % 3,
        });
        ops.push(Op::Report {
            task: i,
            values: vec![i as i32 * 7, 40, -3],
            percent: (i % 4 == 0).then_some((i % 101) as u8),
            confidence: Some((i % 3) as u8),
            colleague: i % 2 == 1,
            back: (i % 5 * 6) as u8,
        });
        if i % 7 == 0 {
            ops.push(Op::Delegate {
                task: i,
                to: i,
                due: 200,
            });
        }
        if i == 30 {
            ops.push(Op::Merge { mask: 0b0101 });
            ops.push(Op::NewCadre {
                unit: 7,
                name: 0,
                standing: false,
            });
        }
    }
    for i in 0..80usize {
        match i % 6 {
            0 => ops.push(Op::Cancel { task: i }),
            1 => ops.push(Op::Reassign {
                task: i,
                to: i + 2,
                by_commune: false,
            }),
            _ => ops.push(Op::Evaluate {
                task: i,
                score: (i * 13 % 101) as u8,
                rating: (i % 4) as u8,
                mode: (i % 3) as u8,
                by_commune: i % 4 == 0,
            }),
        }
    }
    ops.push(Op::CloseCycle { next: false });
    ops.push(Op::Report {
        task: 3,
        values: vec![1],
        percent: None,
        confidence: None,
        colleague: false,
        back: 0,
    });
    check(&Plan {
        ops,
        batches: vec![1, 7, 64, 3],
        chunks: vec![(1, 0), (17, 3), (64, 1), (5, 2)],
        read_ahead: 13,
        parts: 3,
        ahead: 1,
    });
}

/// Late reports that describe earlier days move the day a task was done
/// (the read model builds the task's tracker again from its stored
/// reports), in every way of applying.
#[test]
fn late_reports_move_the_done_day_alike() {
    let assign = |cadre| Op::Assign {
        cadre,
        title: 0,
        targets: 0,
        due: 300,
        next_cycle: false,
        backlog: false,
    };
    let report = |percent, back| Op::Report {
        task: 0,
        values: vec![],
        percent: Some(percent),
        confidence: None,
        colleague: false,
        back,
    };
    let ops = vec![
        assign(1),
        Op::Plan {
            task: 0,
            milestones: 1,
        },
        report(40, 0),
        report(100, 0),
        report(100, 9),
        report(60, 30),
        report(100, 20),
        report(100, 0),
    ];
    check(&Plan {
        ops,
        batches: vec![1],
        chunks: vec![(1, 0), (2, 1)],
        read_ahead: 1,
        parts: 2,
        ahead: 2,
    });
}
