//! A small given/when/then harness for the domain's rules, and a fixture
//! world built from the article: the Sơn Dương district, its Organisation
//! agency, the communes Hợp Thành and Phúc Ứng with their cadres, the village
//! Đồng Diễn, the 2021 cycle and tasks in every active status.
//!
//! Submissions are written as the JSON a publisher would send and go through
//! the real parser (`parse_submission`) and the real rules (`decide`); the
//! accepted events are folded with `State::apply`, exactly as the log writer
//! does. Only two people here are real (Đỗ Xuân Phúc and Hoàng Thế Mạnh, from
//! the article); every other name is invented.

// Each test binary uses a different part of the harness.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use dotpha_domain::{
    Event, RejectionCode, State, TaskStatus, decide, parse_submission, rejection::Rejection,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------- the world

/// The actor of the log's first submission (Organisation–Internal Affairs
/// staff setting the system up). Not a cadre.
pub const BOOTSTRAP: &str = "khoi-tao";

/// Units.
pub const SON_DUONG: &str = "son-duong";
pub const BAN_TO_CHUC: &str = "ban-to-chuc";
pub const HOP_THANH: &str = "hop-thanh";
pub const PHUC_UNG: &str = "phuc-ung";
pub const DONG_DIEN: &str = "dong-dien";
pub const THON_TAN_AN: &str = "thon-tan-an";

/// District Standing Committee member (fictional).
pub const DISTRICT_SC: &str = "tran-van-binh";
/// Head of the district's Organisation–Internal Affairs agency (the article).
pub const DO_XUAN_PHUC: &str = "do-xuan-phuc";
/// Chair of Hợp Thành's People's Committee (the article); not on a Standing Committee.
pub const HOANG_THE_MANH: &str = "hoang-the-manh";
/// Party secretary of Hợp Thành, Standing Committee member (fictional).
pub const HT_SECRETARY: &str = "nguyen-thi-lan";
/// An ordinary cadre of Hợp Thành (fictional).
pub const HT_CADRE: &str = "le-van-tuan";
/// Head of the village Đồng Diễn (fictional).
pub const DD_HEAD: &str = "ha-van-son";
/// Chair of Phúc Ứng's People's Committee (fictional).
pub const PU_CHAIR: &str = "pham-quoc-hung";
/// Party secretary of Phúc Ứng, Standing Committee member (fictional).
pub const PU_SECRETARY: &str = "vu-thi-hoa";
/// An ordinary cadre of Phúc Ứng (fictional).
pub const PU_CADRE: &str = "dang-minh-khoa";

pub const CYCLE: &str = "2021";

/// Self-registered by Lê Văn Tuấn, awaiting approval: `registered`.
pub const T_REGISTERED: &str = "ht-sinh-hoat-chi-bo";
/// Assigned by the district to Phạm Quốc Hưng from the backlog: `assigned`.
pub const T_ASSIGNED: &str = "pu-ton-dong-dat-dai";
/// Assigned to Đỗ Xuân Phúc, with a plan: `planned`. Targets: `dang-vien`
/// 388 -> 400.
pub const T_PLANNED: &str = "ndp-2021-01";
/// Registered by Hoàng Thế Mạnh, approved, planned, reported on:
/// `in_progress`. Targets: `cam-ket` 0 -> 35, `ho-phan-loai` 0 -> 180.
pub const T_IN_PROGRESS: &str = "ndp-2021-07";
/// Assigned to Đặng Minh Khoa and evaluated: `evaluated`.
pub const T_EVALUATED: &str = "pu-sinh-hoat-chi-bo";
/// Assigned to Vũ Thị Hoa and cancelled: `cancelled`.
pub const T_CANCELLED: &str = "pu-chuyen-doi-so";

/// The history that builds the fixture world, oldest first.
pub fn world_history() -> Vec<Value> {
    vec![
        // Bootstrap: the root, then the rest of the tree and the first
        // Standing Committee member, all by the bootstrap actor.
        unit(SON_DUONG, BOOTSTRAP, SON_DUONG, "Huyện Sơn Dương", "district", None),
        unit(SON_DUONG, BOOTSTRAP, BAN_TO_CHUC, "Ban Tổ chức Huyện ủy Sơn Dương", "agency", Some(SON_DUONG)),
        unit(SON_DUONG, BOOTSTRAP, HOP_THANH, "Xã Hợp Thành", "commune", Some(SON_DUONG)),
        unit(SON_DUONG, BOOTSTRAP, PHUC_UNG, "Xã Phúc Ứng", "commune", Some(SON_DUONG)),
        cadre(SON_DUONG, BOOTSTRAP, DISTRICT_SC, "Trần Văn Bình", SON_DUONG, "Phó Bí thư Thường trực Huyện ủy", true),
        // From here on the district Standing Committee keeps the roster.
        unit(SON_DUONG, DISTRICT_SC, DONG_DIEN, "Thôn Đồng Diễn", "village", Some(HOP_THANH)),
        unit(SON_DUONG, DISTRICT_SC, THON_TAN_AN, "Thôn Tân An", "village", Some(PHUC_UNG)),
        cadre(SON_DUONG, DISTRICT_SC, DO_XUAN_PHUC, "Đỗ Xuân Phúc", BAN_TO_CHUC, "Trưởng Ban Tổ chức Huyện ủy", false),
        cadre(SON_DUONG, DISTRICT_SC, HOANG_THE_MANH, "Hoàng Thế Mạnh", HOP_THANH, "Chủ tịch UBND xã", false),
        cadre(SON_DUONG, DISTRICT_SC, HT_SECRETARY, "Nguyễn Thị Lan", HOP_THANH, "Bí thư Đảng ủy xã", true),
        cadre(SON_DUONG, DISTRICT_SC, PU_SECRETARY, "Vũ Thị Hoa", PHUC_UNG, "Bí thư Đảng ủy xã", true),
        // Each commune's secretary registers the commune's other cadres.
        cadre(HOP_THANH, HT_SECRETARY, HT_CADRE, "Lê Văn Tuấn", HOP_THANH, "Công chức Văn hóa – Xã hội", false),
        cadre(HOP_THANH, HT_SECRETARY, DD_HEAD, "Hà Văn Sơn", DONG_DIEN, "Trưởng thôn Đồng Diễn", false),
        cadre(PHUC_UNG, PU_SECRETARY, PU_CHAIR, "Phạm Quốc Hưng", PHUC_UNG, "Chủ tịch UBND xã", false),
        cadre(PHUC_UNG, PU_SECRETARY, PU_CADRE, "Đặng Minh Khoa", PHUC_UNG, "Phó Chủ tịch UBND xã", false),
        cycle_opened(SON_DUONG, DISTRICT_SC, CYCLE, "2021-01-01", "2021-12-31"),
        // registered
        task_registered(HOP_THANH, HT_CADRE, T_REGISTERED, json!([])),
        // assigned (backlog)
        task_assigned(SON_DUONG, DISTRICT_SC, T_ASSIGNED, PU_CHAIR, json!([]))
            .with("data.origin", json!("backlog"))
            .with("data.backlog_ref", json!("Tồn đọng 2020: tranh chấp đất đai thôn Tân An")),
        // planned: the article's first example
        task_assigned(
            SON_DUONG,
            DISTRICT_SC,
            T_PLANNED,
            DO_XUAN_PHUC,
            json!([{"metric": "dang-vien", "label": "Trưởng thôn, tổ dân phố là đảng viên",
                    "baseline": 388, "target": 400}]),
        )
        .with("data.title", json!("100% trưởng thôn, tổ dân phố là đảng viên")),
        plan(SON_DUONG, DO_XUAN_PHUC, T_PLANNED).with(
            "data.solutions",
            json!([
                "Tổ chức cơ sở đảng lựa chọn đảng viên ưu tú để bầu làm trưởng thôn",
                "Bồi dưỡng, kết nạp trưởng thôn chưa là đảng viên",
                "Đảng ủy xã phân công công chức là đảng viên làm trưởng thôn"
            ]),
        ),
        // in_progress: the article's second example
        task_registered(
            HOP_THANH,
            HOANG_THE_MANH,
            T_IN_PROGRESS,
            json!([
                {"metric": "cam-ket", "label": "Cơ sở ký cam kết an toàn thực phẩm", "baseline": 0, "target": 35},
                {"metric": "ho-phan-loai", "label": "Hộ phân loại rác tại nguồn", "baseline": 0, "target": 180}
            ]),
        )
        .with("data.title", json!("Đạt tiêu chí số 17 – Môi trường và an toàn thực phẩm")),
        approve(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS),
        plan(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS),
        progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
            .with("data.values", json!([{"metric": "cam-ket", "value": 12}])),
        // evaluated
        task_assigned(SON_DUONG, DISTRICT_SC, T_EVALUATED, PU_CADRE, json!([])),
        evaluate(SON_DUONG, DISTRICT_SC, T_EVALUATED).with("data.rating", json!("good")),
        // cancelled
        task_assigned(SON_DUONG, DISTRICT_SC, T_CANCELLED, PU_SECRETARY, json!([])),
        cancel(SON_DUONG, DISTRICT_SC, T_CANCELLED),
    ]
}

// ------------------------------------------------------- submission builders

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh submission id, unique within the test process.
pub fn fresh_submission_id() -> String {
    format!("sub-{:012}", NEXT_ID.fetch_add(1, Ordering::Relaxed))
}

/// A submission envelope for `unit`, sent by `actor`.
pub fn submission(unit: &str, actor: &str, kind: &str, data: Value) -> Value {
    json!({
        "schema": "dotpha.submission.v1",
        "submission_id": fresh_submission_id(),
        "unit": unit,
        "actor": actor,
        "occurred_at": "2021-03-02T08:30:00+07:00",
        "type": kind,
        "data": data,
    })
}

pub fn unit(
    envelope: &str,
    actor: &str,
    code: &str,
    name: &str,
    kind: &str,
    parent: Option<&str>,
) -> Value {
    submission(
        envelope,
        actor,
        "unit.registered",
        json!({"code": code, "name": name, "kind": kind, "parent": parent}),
    )
}

pub fn merge(envelope: &str, actor: &str, into: &str, from: &[&str]) -> Value {
    submission(
        envelope,
        actor,
        "unit.merged",
        json!({"into": into, "from": from, "effective_on": "2025-07-01",
               "legal_basis": "Nghị quyết 1684/NQ-UBTVQH15"}),
    )
}

pub fn cadre(
    envelope: &str,
    actor: &str,
    id: &str,
    full_name: &str,
    unit: &str,
    position: &str,
    standing_committee: bool,
) -> Value {
    submission(
        envelope,
        actor,
        "cadre.registered",
        json!({"id": id, "full_name": full_name, "unit": unit, "position": position,
               "party_member": true, "standing_committee": standing_committee}),
    )
}

pub fn cycle_opened(envelope: &str, actor: &str, cycle: &str, starts: &str, ends: &str) -> Value {
    submission(
        envelope,
        actor,
        "cycle.opened",
        json!({"cycle": cycle, "starts_on": starts, "ends_on": ends}),
    )
}

pub fn cycle_closed(envelope: &str, actor: &str, cycle: &str) -> Value {
    submission(envelope, actor, "cycle.closed", json!({"cycle": cycle}))
}

pub fn task_registered(envelope: &str, actor: &str, task_id: &str, targets: Value) -> Value {
    submission(
        envelope,
        actor,
        "task.registered",
        json!({"task_id": task_id, "cycle": CYCLE, "title": "Nâng cao chất lượng sinh hoạt chi bộ",
               "kind": "breakthrough", "category": "Xây dựng Đảng", "due": "2021-12-15",
               "targets": targets}),
    )
}

pub fn task_assigned(
    envelope: &str,
    actor: &str,
    task_id: &str,
    assignee: &str,
    targets: Value,
) -> Value {
    submission(
        envelope,
        actor,
        "task.assigned",
        json!({"task_id": task_id, "cycle": CYCLE, "assignee": assignee,
               "title": "Giải quyết dứt điểm việc tồn đọng", "kind": "difficult",
               "category": "Nông thôn mới", "due": "2021-11-30", "targets": targets,
               "origin": "committee"}),
    )
}

pub fn approve(envelope: &str, actor: &str, task_id: &str) -> Value {
    submission(
        envelope,
        actor,
        "task.approved",
        json!({"task_id": task_id, "comment": "Đồng ý"}),
    )
}

pub fn plan(envelope: &str, actor: &str, task_id: &str) -> Value {
    submission(
        envelope,
        actor,
        "plan.submitted",
        json!({"task_id": task_id,
               "solutions": ["Ký cam kết an toàn thực phẩm với các cơ sở kinh doanh",
                             "Thí điểm thu gom rác hữu cơ, vô cơ tại thôn Đồng Diễn"],
               "milestones": [{"title": "Hoàn thành ký cam kết", "due": "2021-06-30"}]}),
    )
}

pub fn delegate(
    envelope: &str,
    actor: &str,
    task_id: &str,
    delegation_id: &str,
    to: &str,
) -> Value {
    submission(
        envelope,
        actor,
        "work.delegated",
        json!({"task_id": task_id, "delegation_id": delegation_id, "to": to,
               "description": "Hướng dẫn hộ gia đình phân loại rác tại nhà", "due": "2021-09-30"}),
    )
}

pub fn progress(envelope: &str, actor: &str, task_id: &str) -> Value {
    submission(
        envelope,
        actor,
        "progress.reported",
        json!({"task_id": task_id, "as_of": "2021-03-01", "values": [],
               "percent_complete": 40, "confidence": "medium"}),
    )
}

pub fn reassign(envelope: &str, actor: &str, task_id: &str, assignee: &str) -> Value {
    submission(
        envelope,
        actor,
        "task.reassigned",
        json!({"task_id": task_id, "assignee": assignee, "reason": "Điều động công tác"}),
    )
}

pub fn cancel(envelope: &str, actor: &str, task_id: &str) -> Value {
    submission(
        envelope,
        actor,
        "task.cancelled",
        json!({"task_id": task_id, "reason": "Nhiệm vụ không còn phù hợp"}),
    )
}

pub fn evaluate(envelope: &str, actor: &str, task_id: &str) -> Value {
    submission(
        envelope,
        actor,
        "task.evaluated",
        json!({"task_id": task_id, "comment": "Hoàn thành các chỉ tiêu đề ra"}),
    )
}

/// The day after the fixture's merges take effect (2025-07-01), at 08:30
/// in Vietnam.
pub const AFTER_MERGE: &str = "2025-07-02T08:30:00+07:00";

/// Small edits of a submission by dotted path (`data.values`), so a test
/// states only what differs from the ordinary case.
pub trait Edit: Sized {
    /// Sets the member at `path`, creating it when missing.
    fn with(self, path: &str, value: Value) -> Self;
    /// Removes the member at `path`.
    fn without(self, path: &str) -> Self;
    /// Sent at `instant` (its `occurred_at`): the rules judge dates, the
    /// unit tree and closed units at the day it was sent.
    fn sent_at(self, instant: &str) -> Self {
        self.with("occurred_at", Value::String(instant.to_owned()))
    }
}

impl Edit for Value {
    fn with(mut self, path: &str, value: Value) -> Value {
        let mut at = &mut self;
        for key in path.split('.') {
            at = &mut at[key];
        }
        *at = value;
        self
    }

    fn without(mut self, path: &str) -> Value {
        let (parent, last) = path.rsplit_once('.').unwrap_or(("", path));
        let mut at = &mut self;
        for key in parent.split('.').filter(|k| !k.is_empty()) {
            at = &mut at[key];
        }
        if let Some(object) = at.as_object_mut() {
            object.remove(last);
        }
        self
    }
}

// ---------------------------------------------------------------- scenarios

/// Reads `submission` as if published on `dotpha.v1.submit.<subject_unit>`
/// and decides it against `state`.
pub fn read_and_decide(
    state: &State,
    bytes: &[u8],
    subject_unit: Option<&str>,
) -> Result<Vec<Event>, Rejection> {
    let submission = parse_submission(bytes, subject_unit).map_err(|u| u.rejection)?;
    decide(state, &submission)
}

fn envelope_unit(submission: &Value) -> Option<String> {
    submission["unit"].as_str().map(str::to_owned)
}

/// A state built from a history, every submission of which must be accepted.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub state: State,
    pub events: Vec<Event>,
}

impl Scenario {
    /// An empty log.
    pub fn empty() -> Scenario {
        Scenario {
            state: State::new(),
            events: Vec::new(),
        }
    }

    /// The log after `history`; panics, naming the step, if any of it is
    /// rejected (a broken fixture, not a failing rule).
    pub fn given(history: &[Value]) -> Scenario {
        Scenario::empty().and(history)
    }

    /// The fixture world of this module.
    pub fn world() -> Scenario {
        Scenario::given(&world_history())
    }

    /// More history on top.
    pub fn and(mut self, history: &[Value]) -> Scenario {
        for (i, submission) in history.iter().enumerate() {
            let bytes = submission.to_string();
            let unit = envelope_unit(submission);
            match read_and_decide(&self.state, bytes.as_bytes(), unit.as_deref()) {
                Ok(events) => {
                    for event in events {
                        self.state.apply(&event);
                        self.events.push(event);
                    }
                }
                Err(rejection) => {
                    panic!("given-step {i} was rejected: {rejection:?}\nsubmission: {submission:#}")
                }
            }
        }
        self
    }

    /// The submission under test, published on its own unit's subject.
    pub fn when(self, submission: Value) -> Outcome {
        let subject = envelope_unit(&submission);
        self.when_on_subject(subject.as_deref(), submission)
    }

    /// The submission under test, published on `subject_unit`'s subject.
    pub fn when_on_subject(self, subject_unit: Option<&str>, submission: Value) -> Outcome {
        let bytes = submission.to_string();
        self.when_bytes(subject_unit, bytes.as_bytes(), submission)
    }

    /// Raw bytes under test (`described` is shown when the test fails).
    pub fn when_bytes(self, subject_unit: Option<&str>, bytes: &[u8], described: Value) -> Outcome {
        let result = read_and_decide(&self.state, bytes, subject_unit);
        let again = read_and_decide(&self.state, bytes, subject_unit);
        assert_eq!(result, again, "deciding the same submission twice differs");
        Outcome {
            before: self,
            submission: described,
            result,
        }
    }

    /// Status of a task in this state.
    pub fn status(&self, task_id: &str) -> TaskStatus {
        self.state
            .task(task_id)
            .unwrap_or_else(|| panic!("no task {task_id} in the scenario"))
            .status
    }
}

/// The decision on the submission under test.
#[derive(Debug)]
pub struct Outcome {
    pub before: Scenario,
    pub submission: Value,
    pub result: Result<Vec<Event>, Rejection>,
}

impl Outcome {
    /// Asserts acceptance; returns the scenario with the events applied.
    #[track_caller]
    pub fn then_accepts(self) -> Accepted {
        let events = match self.result {
            Ok(events) => events,
            Err(rejection) => panic!(
                "expected acceptance, got {rejection:?}\nsubmission: {:#}",
                self.submission
            ),
        };
        assert_eq!(events.len(), 1, "one submission makes one event");
        let mut after = self.before.clone();
        for event in &events {
            let expected_version = after.state.stream_version(&event.stream_id()) + 1;
            assert_eq!(event.stream, event.stream_id().to_string());
            assert_eq!(event.version, expected_version, "versions are consecutive");
            assert_eq!(
                Some(event.submission_id.as_str()),
                self.submission["submission_id"].as_str()
            );
            assert_eq!(Some(event.unit.as_str()), self.submission["unit"].as_str());
            assert_eq!(
                Some(event.actor.as_str()),
                self.submission["actor"].as_str()
            );
            assert_eq!(
                event.event_type().as_str(),
                self.submission["type"].as_str().unwrap_or_default()
            );
            after.state.apply(event);
            after.events.push(event.clone());
        }
        Accepted {
            before: self.before,
            after,
            events,
        }
    }

    /// Asserts a rejection with `code` naming `field`; returns it.
    #[track_caller]
    pub fn then_rejects(self, code: RejectionCode, field: Option<&str>) -> Rejection {
        match self.result {
            Ok(events) => panic!(
                "expected {code} at {field:?}, but it was accepted: {events:#?}\nsubmission: {:#}",
                self.submission
            ),
            Err(rejection) => {
                assert_eq!(
                    (rejection.code, rejection.field.as_deref()),
                    (code, field),
                    "wrong rejection: {}\nsubmission: {:#}",
                    rejection.message,
                    self.submission
                );
                assert!(!rejection.message.is_empty(), "a rejection says why");
                rejection
            }
        }
    }
}

/// An accepted submission: its event and the states around it.
#[derive(Debug)]
pub struct Accepted {
    pub before: Scenario,
    pub after: Scenario,
    pub events: Vec<Event>,
}

impl Accepted {
    /// The one event.
    pub fn event(&self) -> &Event {
        &self.events[0]
    }

    /// The event's `data` as it goes on the wire.
    pub fn data(&self) -> Value {
        self.event().payload.to_data()
    }

    /// Status of a task after the event.
    pub fn status(&self, task_id: &str) -> TaskStatus {
        self.after.status(task_id)
    }

    /// Continues the story after this event.
    pub fn and_then(self, submission: Value) -> Outcome {
        self.after.when(submission)
    }
}
