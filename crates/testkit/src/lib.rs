//! Test and benchmark support: deterministic workloads of valid submissions,
//! shaped like a district's year, as the JSON bytes a publisher sends.
//!
//! Nothing here is random: a workload is a function of its sizes, so a
//! failing test or a benchmark replays exactly.

#![deny(unreachable_pub)]
#![warn(missing_docs)]

pub mod cluster;
pub mod deps;
pub mod nats;
pub mod sqlite;

use serde_json::{Value, json};

/// One submission as a publisher sends it: the unit of its subject
/// (`dotpha.v1.submit.<unit>`) and the JSON body.
#[derive(Clone, Debug)]
pub struct Message {
    /// The subject's last token.
    pub unit: String,
    /// The submission id (also the `Nats-Msg-Id`).
    pub submission_id: String,
    /// The JSON body.
    pub body: Vec<u8>,
}

impl Message {
    /// A submission as a commune's publisher builds it, sent on 2 March
    /// 2021 at 08:30 (UTC+7).
    pub fn submission(id: &str, unit: &str, actor: &str, kind: &str, data: Value) -> Message {
        let body = json!({
            "schema": "dotpha.submission.v1",
            "submission_id": id,
            "unit": unit,
            "actor": actor,
            "occurred_at": "2021-03-02T08:30:00+07:00",
            "type": kind,
            "data": data,
        });
        Message {
            unit: unit.to_owned(),
            submission_id: id.to_owned(),
            body: body.to_string().into_bytes(),
        }
    }
}

/// The root unit of every workload.
pub const ROOT: &str = "son-duong";
/// The root's Standing Committee member, who assigns every task.
pub const SECRETARY: &str = "bi-thu-huyen";
/// The bootstrap actor.
pub const BOOTSTRAP: &str = "to-chuc-noi-vu";

/// A synthetic district: `communes` communes under the root, one chair per
/// commune, `tasks_per_commune` tasks per chair, then progress reports
/// cycling over the tasks for as long as asked.
#[derive(Clone, Debug)]
pub struct Workload {
    communes: usize,
    tasks_per_commune: usize,
    /// A prefix for submission ids, so two workloads never collide.
    prefix: String,
    sent: u64,
    reports: u64,
}

impl Workload {
    /// A workload of the given size; `prefix` starts every submission id.
    pub fn new(prefix: &str, communes: usize, tasks_per_commune: usize) -> Workload {
        Workload {
            communes: communes.max(1),
            tasks_per_commune: tasks_per_commune.max(1),
            prefix: prefix.to_owned(),
            sent: 0,
            reports: 0,
        }
    }

    /// How many tasks the workload assigns.
    pub fn tasks(&self) -> usize {
        self.communes * self.tasks_per_commune
    }

    fn message(&mut self, unit: &str, actor: &str, kind: &str, data: Value) -> Message {
        self.sent += 1;
        let submission_id = format!("{}-{:012}", self.prefix, self.sent);
        Message::submission(&submission_id, unit, actor, kind, data)
    }

    /// Commune `i`'s code.
    pub fn commune(i: usize) -> String {
        format!("xa-{i:04}")
    }

    /// Task `t` of commune `i`.
    pub fn task(i: usize, t: usize) -> String {
        format!("ndp-2021-{i:04}-{t:03}")
    }

    /// The submissions that build the district: the root, its secretary,
    /// the communes and their chairs, the 2021 cycle, every task assigned
    /// and planned. All are accepted, in order.
    pub fn setup(&mut self) -> Vec<Message> {
        let mut out = vec![
            self.message(
                ROOT,
                BOOTSTRAP,
                "unit.registered",
                json!({
                "code": ROOT, "name": "Huyện Sơn Dương", "kind": "district", "parent": null}),
            ),
            self.message(
                ROOT,
                BOOTSTRAP,
                "cadre.registered",
                json!({
                "id": SECRETARY, "full_name": "Nguyễn Văn Mẫu (dữ liệu mẫu)", "unit": ROOT,
                "position": "Bí thư Huyện ủy", "party_member": true, "standing_committee": true}),
            ),
            self.message(
                ROOT,
                SECRETARY,
                "cycle.opened",
                json!({
                "cycle": "2021", "starts_on": "2021-01-01", "ends_on": "2021-12-31"}),
            ),
        ];
        for i in 0..self.communes {
            let code = Workload::commune(i);
            out.push(self.message(
                ROOT,
                SECRETARY,
                "unit.registered",
                json!({
                "code": code, "name": format!("Xã Mẫu {i}"), "kind": "commune", "parent": ROOT}),
            ));
            out.push(self.message(ROOT, SECRETARY, "cadre.registered", json!({
                "id": format!("chu-tich-{code}"), "full_name": format!("Trần Thị Mẫu {i} (dữ liệu mẫu)"),
                "unit": code, "position": "Chủ tịch UBND xã", "party_member": true,
                "standing_committee": false})));
        }
        for i in 0..self.communes {
            for t in 0..self.tasks_per_commune {
                let code = Workload::commune(i);
                out.push(self.message(ROOT, SECRETARY, "task.assigned", json!({
                    "task_id": Workload::task(i, t), "cycle": "2021", "assignee": format!("chu-tich-{code}"),
                    "title": format!("Thôn {t} đạt tiêu chí môi trường và an toàn thực phẩm"),
                    "kind": "breakthrough", "category": "Nông thôn mới", "due": "2021-11-30",
                    "targets": [{"metric": "households", "label": "Hộ phân loại rác tại nguồn",
                                 "baseline": 120, "target": 400}],
                    "origin": "committee"})));
                out.push(self.message(
                    &code,
                    &format!("chu-tich-{code}"),
                    "plan.submitted",
                    json!({
                    "task_id": Workload::task(i, t),
                    "solutions": ["Ký cam kết an toàn thực phẩm", "Thí điểm thu gom rác hữu cơ"],
                    "milestones": [{"title": "Hoàn thành thí điểm", "due": "2021-06-30"}]}),
                ));
            }
        }
        out
    }

    /// The next progress report, cycling over the tasks; every one is
    /// accepted once [`Workload::setup`] has been.
    pub fn next_report(&mut self) -> Message {
        let n = self.reports;
        self.reports += 1;
        let task = (n % self.tasks() as u64) as usize;
        let (i, t) = (task / self.tasks_per_commune, task % self.tasks_per_commune);
        let code = Workload::commune(i);
        let value = 120 + (n / self.tasks() as u64 % 280) as i64;
        self.message(
            &code,
            &format!("chu-tich-{code}"),
            "progress.reported",
            json!({
            "task_id": Workload::task(i, t), "as_of": "2021-03-01",
            "values": [{"metric": "households", "value": value}],
            "confidence": "medium", "note": "Đã họp thôn, người dân đồng thuận"}),
        )
    }
}
