//! The demo data set: one illustrative cycle, 2021, of Sơn Dương district's
//! breakthrough tasks (nhiệm vụ đột phá), built from the article
//! "Sơn Dương đổi mới giao việc đột phá", and the open cycle of 2026
//! (`current.rs`, [`CURRENT_CYCLE`]), as the submissions a publisher would
//! send.
//!
//! [`demo`] returns them in order. Fed one by one to the domain
//! (`parse_submission`, `decide`, `State::apply`) every one is accepted, and
//! loading them twice appends nothing the second time: submission ids are
//! fixed (`demo-000001`, ...) and the log deduplicates by id.
//!
//! What it holds:
//! - the district (the root unit), 45 agencies, units and departments, the
//!   town and the 30 communes of 2021, 400 villages and residential groups
//!   (Đồng Diễn in Hợp Thành among them, the others generated);
//! - the district's Party Secretary, who runs the Standing Committee's side,
//!   and 92 cadres with one task each in cycle 2021: 51 district-level, 41
//!   commune-level (party secretaries, deputy secretaries, People's
//!   Committee chairs), plus a commune chair elected mid-year who takes a
//!   task over;
//! - the article's two examples with its figures: Đỗ Xuân Phúc's "100%
//!   trưởng thôn, tổ dân phố là đảng viên" (from 388 to 400) and Hoàng Thế
//!   Mạnh's new-rural criterion 17 with the pilot in Đồng Diễn;
//! - the year: self-registrations and approvals, assignments (from the
//!   committee and from units' backlogs), plans and revisions, delegations,
//!   monthly check-ins, one task reassigned, one cancelled, two left behind
//!   (never evaluated, so overdue), year-end evaluations in December (by
//!   the district's Standing Committee, but for one task Tân Trào's own
//!   committee gave and judges, where the excellent quota is exceeded),
//!   and the cycle closed;
//! - the 2025 merge of Hợp Thành, Phúc Ứng, Tú Thịnh and the town into the
//!   new commune Sơn Dương;
//! - 2026, open: the new commune's chair and [`CURRENT_TASKS`] tasks in
//!   every state, for the printed tokens to act on;
//! - the evaluation by period of 2026 (`periods.rs`, CONTRACT part A): the
//!   year and its [`QUARTERS`], the first three decided (the first two
//!   closed), one peer group over the excellent quota
//!   ([`QUOTA_EXCEEDED_2026`]).
//!
//! Only Đỗ Xuân Phúc and Hoàng Thế Mạnh are real people, named by the
//! article; their year's progress and ratings here are illustrative and
//! say so. Everyone else is generated and carries [`DEMO_MARKER`] in
//! their name.
//!
//! Pure and deterministic: no clock, no OS randomness; a fixed-seed
//! xorshift64* draws the generated parts.

#![deny(unreachable_pub)]
#![warn(missing_docs)]

mod clock;
mod current;
mod names;
mod periods;
mod places;
mod rng;
mod tasks;

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use clock::{At, Day, Desk};
use names::{People, Person};
use places::Commune;
use rng::Rng;
use tasks::Tpl;

pub use current::{
    CHAIR_CURRENT_TASK, CHAIR_PERCENT_METRIC, CURRENT_CHAIR, CURRENT_CYCLE, CURRENT_TASKS,
    LAST_DAY, PHUC_CURRENT_TASK,
};
pub use periods::{
    CHAIR_PEER_GROUP, DISTRICT_PEER_GROUP, QUARTERS, QUOTA_EXCEEDED_2026, SECRETARY_PEER_GROUP,
    THIRD_QUARTER_MILESTONE, YEAR_PERIOD,
};

/// The suffix every fictional person's `full_name` carries.
pub const DEMO_MARKER: &str = "(dữ liệu mẫu)";
/// The root unit: Huyện Sơn Dương.
pub const ROOT: &str = "son-duong";
/// The actor of the first submission, who registers the root unit and the
/// district's Party Secretary, after which the Standing Committee acts.
pub const BOOTSTRAP_ACTOR: &str = "quan-tri-he-thong";
/// The cycle of the demo.
pub const CYCLE: &str = "2021";
/// The district's Party Secretary (Bí thư Huyện ủy), fictional, on the
/// Standing Committee at the root: registers the roster, opens and closes
/// the cycle, assigns, reassigns, cancels and evaluates.
pub const SECRETARY: &str = "dinh-ngoc-chien";
/// The secretary's name, marked as demo data.
const SECRETARY_NAME: &str = "Đinh Ngọc Chiến (dữ liệu mẫu)";
/// Đỗ Xuân Phúc, head of the district's Organisation–Internal Affairs agency.
pub const PHUC: &str = "do-xuan-phuc";
/// His task: 100% of village and residential-group heads are party members.
pub const PHUC_TASK: &str = "ndp-2021-07";
/// Hoàng Thế Mạnh, chair of Hợp Thành commune's People's Committee.
pub const MANH: &str = "hoang-the-manh";
/// His task: Hợp Thành meets new-rural criterion 17.
pub const MANH_TASK: &str = "ndp-2021-67";
/// The Organisation–Internal Affairs agency (Cơ quan Tổ chức - Nội vụ).
pub const ORGANISATION_AGENCY: &str = "co-quan-to-chuc-noi-vu";
/// Xã Hợp Thành.
pub const HOP_THANH: &str = "hop-thanh";
/// Thôn Đồng Diễn in Hợp Thành, where the waste-sorting pilot runs.
pub const DONG_DIEN: &str = "hop-thanh-dong-dien";
/// Thị trấn Sơn Dương, the district town.
pub const TOWN: &str = "thi-tran-son-duong";
/// The new commune Sơn Dương (from 1 July 2025).
pub const MERGED_COMMUNE: &str = "son-duong-xa";
/// The units merged into [`MERGED_COMMUNE`] on 2025-07-01.
pub const MERGED_FROM: [&str; 4] = [HOP_THANH, "phuc-ung", "tu-thinh", TOWN];
/// The act behind the 2025 merge.
pub const MERGE_LEGAL_BASIS: &str = "Nghị quyết 1684/NQ-UBTVQH15";
/// The real people in the data set (everyone else carries [`DEMO_MARKER`]).
pub const REAL_PEOPLE: [&str; 2] = [PHUC, MANH];
/// Who the demo hands access tokens to, as (unit, cadre): the Party
/// Secretary at the district, the article's two officials in their own
/// units (Hợp Thành merged in 2025, so Mạnh's token reads and acts on
/// nothing new), and the new commune's chair, who carries a task of the
/// open [`CURRENT_CYCLE`].
pub const TOKEN_HOLDERS: [(&str, &str); 4] = [
    (ROOT, SECRETARY),
    (ORGANISATION_AGENCY, PHUC),
    (HOP_THANH, MANH),
    (MERGED_COMMUNE, CURRENT_CHAIR),
];
/// Cadres carrying a task of cycle 2021 at the end of the year.
pub const CADRES_WITH_TASKS: usize = 92;
/// Of those, district-level leaders.
pub const DISTRICT_LEVEL_CADRES: usize = 51;
/// Of those, leaders of the communes and the town.
pub const COMMUNE_LEVEL_CADRES: usize = 41;
/// Villages and residential groups.
pub const VILLAGES: usize = 400;
/// The 30 communes and the town of 2021.
pub const COMMUNE_LEVEL_UNITS: usize = 31;
/// The task reassigned mid-year (a commune chair moved to other work).
pub const REASSIGNED_TASK: &str = "ndp-2021-69";
/// The task cancelled (a festival called off for COVID-19).
pub const CANCELLED_TASK: &str = "ndp-2021-34";
/// The tasks left behind: never evaluated, so overdue for good.
pub const OVERDUE_TASKS: [&str; 2] = ["ndp-2021-36", "ndp-2021-79"];
/// The evaluating bodies (the envelope `unit` of `task.evaluated`, CONTRACT
/// part A) whose excellent ratings exceed 20% of their good ones, in code
/// order: Tân Trào's committee, which gave its chair a task and rated it
/// excellent, beside no good one. The district's committee, which judges
/// every other task, keeps within the quota.
pub const EXCELLENT_QUOTA_EXCEEDED: [&str; 1] = ["tan-trao"];

/// One submission as a publisher sends it on `dotpha.v1.submit.<unit>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoSubmission {
    /// The subject's last token (the envelope's `unit`).
    pub unit: String,
    /// The submission id, also the `Nats-Msg-Id`: `demo-000001`, ...
    pub submission_id: String,
    /// The JSON body in the contract's envelope (`dotpha.submission.v1`).
    pub body: Vec<u8>,
}

/// The demo data set, in the order to submit it.
///
/// ```
/// let demo = dotpha_demo::demo();
/// assert_eq!(demo[0].submission_id, "demo-000001");
/// assert_eq!(demo[0].unit, dotpha_demo::ROOT);
/// let first: serde_json::Value = serde_json::from_slice(&demo[0].body).unwrap();
/// assert_eq!(first["type"], "unit.registered");
/// ```
pub fn demo() -> Vec<DemoSubmission> {
    Generator::new().run()
}

/// The district-level tasks rated excellent: one at the district itself
/// (within the quota there: five good beside it) and the Education
/// department's, alone in its unit.
const EXCELLENT_DISTRICT: [usize; 2] = [5, 24];
/// District-level tasks rated good whatever the draw: the rest of the
/// district's own, so its quota holds.
const GOOD_DISTRICT: [usize; 5] = [1, 2, 3, 4, 6];
const CANCELLED_NUMBER: usize = 34;
const STALLED_DISTRICT: usize = 36;

/// Communes with a second leader holding a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Extra {
    Chair(usize),
    Deputy(usize),
    Manh,
}

const EXTRAS: [(&str, Extra); 10] = [
    (TOWN, Extra::Chair(1)),
    ("binh-yen", Extra::Deputy(0)),
    ("dong-tho", Extra::Chair(3)),
    (HOP_THANH, Extra::Manh),
    ("khang-nhat", Extra::Chair(2)),
    ("minh-thanh", Extra::Deputy(1)),
    ("phu-luong", Extra::Deputy(0)),
    ("son-nam", Extra::Chair(0)),
    ("tan-trao", Extra::Chair(0)),
    ("truong-sinh", Extra::Deputy(1)),
];
/// Communes whose secretary is given a backlog item.
const BACKLOG_SECRETARIES: [&str; 3] = ["cap-tien", "hong-lac", "van-son"];
/// Where the chair moves away in July and a new one takes the task over.
const REASSIGNED_COMMUNE: &str = "khang-nhat";
/// Where the chair's task is left behind.
const STALLED_COMMUNE: &str = "son-nam";
/// Where the commune's committee gives its chair a task and rates it
/// excellent (the secretary, rated by the district, is good).
const QUOTA_COMMUNE: &str = "tan-trao";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Band {
    Excellent,
    Good,
    Completed,
    NotCompleted,
}

impl Band {
    fn rating(self) -> &'static str {
        match self {
            Band::Excellent => "excellent",
            Band::Good => "good",
            Band::Completed => "completed",
            Band::NotCompleted => "not_completed",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    Evaluated(Band),
    /// Falls behind, never evaluated: overdue.
    Stalled,
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Origin {
    SelfRegistered,
    Committee,
    Backlog(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Article {
    Phuc,
    Manh,
}

#[derive(Clone, Debug)]
struct Target {
    metric: String,
    label: String,
    baseline: f64,
    target: f64,
}

#[derive(Clone, Debug)]
struct Cadre {
    id: String,
    full_name: String,
    unit: String,
    position: String,
    standing: bool,
}

#[derive(Clone, Debug)]
struct Task {
    id: String,
    number: usize,
    cadre: usize,
    /// Another leader of the same commune, who may send check-ins too.
    colleague: Option<usize>,
    title: String,
    kind: &'static str,
    category: &'static str,
    description: Option<String>,
    targets: Vec<Target>,
    solutions: Vec<String>,
    delegation: String,
    /// Units the task may be delegated to, and the envelope unit to send
    /// delegations for (one that holds both the assignee and them).
    delegate_to: Vec<String>,
    delegate_envelope: String,
    origin: Origin,
    due: Day,
    fate: Fate,
    /// The fraction of the targets reached by the end.
    perf: f64,
    commune_level: bool,
    /// The commune's second leader (chair or deputy secretary), not its
    /// party secretary.
    second: bool,
    /// Taken over by a new chair in July.
    reassigned: bool,
    /// The commune's party secretary, when the commune's own Standing
    /// Committee gives the task and so judges it (CONTRACT part C); the
    /// district's otherwise.
    given_by_commune: Option<usize>,
    article: Option<Article>,
}

/// An accepted-to-be submission before it has its place and id.
struct Draft {
    at: At,
    seq: usize,
    unit: String,
    actor: String,
    kind: &'static str,
    data: Value,
}

struct Generator {
    drafts: Vec<Draft>,
    taken: BTreeSet<String>,
    communes: Vec<Commune>,
    cadres: Vec<Cadre>,
    tasks: Vec<Task>,
    secretary: usize,
    /// The district's standing deputy secretary, who approves the communes'
    /// self-registered tasks.
    deputy: usize,
}

fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 1e12 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

fn fill(text: &str, commune: Option<&Commune>, n: Option<f64>) -> String {
    let mut out = text.to_owned();
    if let Some(c) = commune {
        out = out.replace("{xa}", &c.phrase).replace("{Xa}", &c.name);
    }
    if let Some(n) = n {
        out = out.replace("{n}", &format!("{}", n as i64));
    }
    out
}

/// Draws a figure from a range: whole numbers when both ends are, tenths
/// otherwise.
fn draw(rng: &mut Rng, (lo, hi): (f64, f64)) -> f64 {
    if lo == hi {
        lo
    } else if lo.fract() == 0.0 && hi.fract() == 0.0 {
        rng.range(lo as i64, hi as i64) as f64
    } else {
        rng.range((lo * 10.0).round() as i64, (hi * 10.0).round() as i64) as f64 / 10.0
    }
}

impl Generator {
    fn new() -> Generator {
        Generator {
            drafts: Vec::new(),
            taken: BTreeSet::new(),
            communes: Vec::new(),
            cadres: Vec::new(),
            tasks: Vec::new(),
            secretary: 0,
            deputy: 0,
        }
    }

    fn push(&mut self, at: At, unit: &str, actor: &str, kind: &'static str, data: Value) {
        let seq = self.drafts.len();
        self.drafts.push(Draft {
            at,
            seq,
            unit: unit.to_owned(),
            actor: actor.to_owned(),
            kind,
            data,
        });
    }

    fn run(mut self) -> Vec<DemoSubmission> {
        self.roster();
        self.define_tasks();
        self.create_tasks();
        self.work();
        self.evaluate();
        self.merge();
        let given = self.current();
        self.periods(&given);
        self.finish()
    }

    fn secretary_id(&self) -> String {
        self.cadres[self.secretary].id.clone()
    }

    /// The units and the cadres, registered in the first week of January.
    fn roster(&mut self) {
        let mut rng = Rng::new(1);
        for code in [ROOT, BOOTSTRAP_ACTOR, SECRETARY, PHUC, MANH, MERGED_COMMUNE] {
            self.taken.insert(code.to_owned());
        }
        for role in &tasks::DISTRICT {
            if let Some((code, _, _)) = role.unit {
                assert!(self.taken.insert(code.to_owned()), "duplicate unit {code}");
            }
        }
        self.communes = places::communes(&mut Rng::new(2), &mut self.taken);
        let mut people = People::new(Rng::new(3));

        // The bootstrap actor registers the root and the Party Secretary.
        let mut desk = Desk::starting(At::hm(Day::ymd(2021, 1, 4), 7, 45));
        self.push(
            desk.now(),
            ROOT,
            BOOTSTRAP_ACTOR,
            "unit.registered",
            json!({"code": ROOT, "name": "Huyện Sơn Dương", "kind": "district", "parent": null}),
        );
        self.cadres.push(Cadre {
            id: SECRETARY.to_owned(),
            full_name: SECRETARY_NAME.to_owned(),
            unit: ROOT.to_owned(),
            position: "Bí thư Huyện ủy".to_owned(),
            standing: true,
        });
        self.secretary = 0;
        let at = desk.next(&mut rng, 240, 420);
        self.register_cadre(at, 0, BOOTSTRAP_ACTOR);
        let secretary = self.secretary_id();

        // Units, by the Party Secretary.
        for role in &tasks::DISTRICT {
            if let Some((code, name, kind)) = role.unit {
                let at = desk.next(&mut rng, 20, 150);
                self.push(
                    at,
                    ROOT,
                    &secretary,
                    "unit.registered",
                    json!({"code": code, "name": name, "kind": kind, "parent": ROOT}),
                );
            }
        }
        let communes = self.communes.clone();
        for c in &communes {
            let at = desk.next(&mut rng, 20, 150);
            self.push(
                at,
                ROOT,
                &secretary,
                "unit.registered",
                json!({"code": c.code, "name": c.name, "kind": c.kind(), "parent": ROOT}),
            );
        }
        for c in &communes {
            for v in &c.villages {
                let at = desk.next(&mut rng, 20, 150);
                self.push(
                    at,
                    ROOT,
                    &secretary,
                    "unit.registered",
                    json!({"code": v.code, "name": v.name, "kind": c.village_kind(), "parent": c.code}),
                );
            }
        }

        // District-level cadres.
        for (i, role) in tasks::DISTRICT.iter().enumerate() {
            let Person { id, full_name } = match role.real {
                Some((id, name)) => Person {
                    id: id.to_owned(),
                    full_name: name.to_owned(),
                },
                None => people.person(role.female, &mut self.taken),
            };
            self.cadres.push(Cadre {
                id,
                full_name,
                unit: role.unit.map_or(ROOT, |u| u.0).to_owned(),
                position: role.position.to_owned(),
                standing: role.standing,
            });
            if i == 0 {
                self.deputy = self.cadres.len() - 1;
            }
        }
        // Commune-level cadres: the party secretary of each, and a second
        // leader in ten of them.
        for c in &communes {
            let Person { id, full_name } = people.person(None, &mut self.taken);
            self.cadres.push(Cadre {
                id,
                full_name,
                unit: c.code.clone(),
                position: format!("Bí thư Đảng ủy {}", c.phrase),
                standing: true,
            });
            if let Some((_, extra)) = EXTRAS.iter().find(|(code, _)| *code == c.code) {
                let (person, position) = match extra {
                    Extra::Manh => (
                        Person {
                            id: MANH.to_owned(),
                            full_name: "Hoàng Thế Mạnh".to_owned(),
                        },
                        format!("Chủ tịch UBND {}", c.phrase),
                    ),
                    Extra::Chair(_) => (
                        people.person(None, &mut self.taken),
                        format!("Chủ tịch UBND {}", c.phrase),
                    ),
                    Extra::Deputy(_) => (
                        people.person(None, &mut self.taken),
                        format!("Phó Bí thư Thường trực Đảng ủy {}", c.phrase),
                    ),
                };
                self.cadres.push(Cadre {
                    id: person.id,
                    full_name: person.full_name,
                    unit: c.code.clone(),
                    position,
                    standing: true,
                });
            }
        }
        // The chair who takes over in July.
        let Person { id, full_name } = people.person(None, &mut self.taken);
        self.cadres.push(Cadre {
            id,
            full_name,
            unit: REASSIGNED_COMMUNE.to_owned(),
            position: "Chủ tịch UBND xã Kháng Nhật".to_owned(),
            standing: true,
        });
        for i in 1..self.cadres.len() - 1 {
            let at = desk.next(&mut rng, 180, 600);
            self.register_cadre(at, i, &secretary);
        }

        // The Standing Committee opens the year.
        self.push(
            At::hm(Day::y2021(1, 11), 8, 0),
            ROOT,
            &secretary,
            "cycle.opened",
            json!({"cycle": CYCLE, "starts_on": "2021-01-01", "ends_on": "2021-12-31"}),
        );
    }

    fn register_cadre(&mut self, at: At, i: usize, actor: &str) {
        let c = self.cadres[i].clone();
        self.push(
            at,
            ROOT,
            actor,
            "cadre.registered",
            json!({"id": c.id, "full_name": c.full_name, "unit": c.unit, "position": c.position,
                   "party_member": true, "standing_committee": c.standing}),
        );
    }

    /// Builds the 92 tasks from the tables.
    fn define_tasks(&mut self) {
        let mut rng = Rng::new(4);
        let all_communes: Vec<String> = self.communes.iter().map(|c| c.code.clone()).collect();
        let mut number = 0;
        for (i, role) in tasks::DISTRICT.iter().enumerate() {
            number += 1;
            let cadre = i + 1;
            let article = (role.real.is_some()).then_some(Article::Phuc);
            let task = self.task_from(
                &mut rng,
                number,
                cadre,
                &role.tpl,
                None,
                article,
                all_communes.clone(),
                ROOT.to_owned(),
            );
            self.tasks.push(task);
        }
        let communes = self.communes.clone();
        for c in &communes {
            let leaders: Vec<usize> = (0..self.cadres.len() - 1)
                .filter(|&i| self.cadres[i].unit == c.code)
                .collect();
            let villages: Vec<String> = c.villages.iter().map(|v| v.code.clone()).collect();
            for (k, &cadre) in leaders.iter().enumerate() {
                number += 1;
                let (tpl, article) = if k == 0 {
                    let tpl = if BACKLOG_SECRETARIES.contains(&c.code.as_str()) {
                        tasks::SECRETARY[3]
                    } else {
                        tasks::SECRETARY[number % 3]
                    };
                    (tpl, None)
                } else {
                    let extra = EXTRAS
                        .iter()
                        .find(|(code, _)| *code == c.code)
                        .map(|(_, e)| *e);
                    match extra {
                        Some(Extra::Chair(t)) => (tasks::CHAIR[t], None),
                        Some(Extra::Deputy(t)) => (tasks::DEPUTY[t], None),
                        Some(Extra::Manh) => (tasks::MANH, Some(Article::Manh)),
                        None => unreachable!("a second leader is always an extra"),
                    }
                };
                let mut task = self.task_from(
                    &mut rng,
                    number,
                    cadre,
                    &tpl,
                    Some(c),
                    article,
                    villages.clone(),
                    c.code.clone(),
                );
                task.commune_level = true;
                task.second = k > 0;
                task.reassigned = k > 0 && c.code == REASSIGNED_COMMUNE;
                task.colleague = leaders.iter().copied().find(|&o| o != cadre);
                if k > 0 && c.code == QUOTA_COMMUNE {
                    task.given_by_commune = leaders.first().copied();
                }
                self.tasks.push(task);
            }
        }
        assert_eq!(self.tasks.len(), CADRES_WITH_TASKS);

        // How each task ends.
        let mut rng = Rng::new(5);
        for t in &mut self.tasks {
            let unit = self.cadres[t.cadre].unit.as_str();
            t.fate = if t.number == CANCELLED_NUMBER {
                Fate::Cancelled
            } else if t.number == STALLED_DISTRICT || (t.second && unit == STALLED_COMMUNE) {
                Fate::Stalled
            } else if EXCELLENT_DISTRICT.contains(&t.number) || (t.second && unit == QUOTA_COMMUNE)
            {
                Fate::Evaluated(Band::Excellent)
            } else if GOOD_DISTRICT.contains(&t.number)
                || t.article.is_some()
                || (t.commune_level && !t.second && unit == QUOTA_COMMUNE)
            {
                Fate::Evaluated(Band::Good)
            } else {
                let u = rng.unit();
                Fate::Evaluated(if u < 0.66 {
                    Band::Good
                } else if u < 0.91 {
                    Band::Completed
                } else {
                    Band::NotCompleted
                })
            };
            t.perf = match t.fate {
                Fate::Evaluated(Band::Excellent) => rng.between(1.0, 1.08),
                Fate::Evaluated(Band::Good) => rng.between(0.92, 1.03),
                Fate::Evaluated(Band::Completed) => rng.between(0.62, 0.9),
                Fate::Evaluated(Band::NotCompleted) => rng.between(0.25, 0.58),
                Fate::Stalled => rng.between(0.3, 0.5),
                Fate::Cancelled => rng.between(0.25, 0.4),
            };
            if t.article.is_some() {
                t.perf = 1.0;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn task_from(
        &self,
        rng: &mut Rng,
        number: usize,
        cadre: usize,
        tpl: &Tpl,
        commune: Option<&Commune>,
        article: Option<Article>,
        delegate_to: Vec<String>,
        delegate_envelope: String,
    ) -> Task {
        let targets: Vec<Target> = tpl
            .targets
            .iter()
            .map(|t| {
                let baseline = draw(rng, t.baseline);
                let mut target = draw(rng, t.target);
                if target == baseline {
                    target += 1.0;
                }
                Target {
                    metric: t.metric.to_owned(),
                    label: t.label.to_owned(),
                    baseline,
                    target,
                }
            })
            .collect();
        let n = targets.first().map(|t| t.baseline);
        let origin = match (tpl.backlog, article) {
            (Some(b), _) => Origin::Backlog(fill(b, commune, n)),
            (None, Some(Article::Phuc)) => Origin::Committee,
            (None, Some(Article::Manh)) => Origin::SelfRegistered,
            (None, None) => {
                if rng.chance(0.55) {
                    Origin::SelfRegistered
                } else {
                    Origin::Committee
                }
            }
        };
        let description = match article {
            Some(Article::Phuc) => Some(format!(
                "Toàn huyện có 400 thôn, tổ dân phố; 388 trưởng thôn, tổ dân phố là đảng viên, 12 người chưa là đảng viên. \
                 Mục tiêu năm 2021: 100% trưởng thôn, tổ dân phố là đảng viên. \
                 Tiến độ và kết quả đánh giá trong năm ở đây là {DEMO_MARKER}."
            )),
            Some(Article::Manh) => Some(format!(
                "Hoàn thành tiêu chí số 17 (Môi trường và an toàn thực phẩm) của Bộ tiêu chí quốc gia về xã nông thôn mới \
                 trên địa bàn xã Hợp Thành. Tiến độ và kết quả đánh giá trong năm ở đây là {DEMO_MARKER}."
            )),
            None => None,
        };
        Task {
            id: format!("ndp-{CYCLE}-{number:02}"),
            number,
            cadre,
            colleague: None,
            title: fill(tpl.title, commune, n),
            kind: tpl.kind,
            category: tpl.category,
            description,
            targets,
            solutions: tpl.solutions.iter().map(|s| fill(s, commune, n)).collect(),
            delegation: fill(tpl.delegation, commune, n),
            delegate_to,
            delegate_envelope,
            origin,
            due: Day::y2021(tpl.due.0, tpl.due.1),
            fate: Fate::Evaluated(Band::Good),
            perf: 1.0,
            commune_level: false,
            second: false,
            reassigned: false,
            given_by_commune: None,
            article,
        }
    }

    fn targets_json(t: &Task) -> Value {
        Value::Array(
            t.targets
                .iter()
                .map(|x| {
                    json!({"metric": x.metric, "label": x.label,
                           "baseline": num(x.baseline), "target": num(x.target)})
                })
                .collect(),
        )
    }

    /// Self-registrations in January; at the conference of 3 February the
    /// Standing Committee assigns the rest, and approves the registered ones
    /// the next day.
    fn create_tasks(&mut self) {
        let mut rng = Rng::new(6);
        let secretary = self.secretary_id();
        let deputy = self.cadres[self.deputy].id.clone();
        let mut assign_desk = Desk::starting(At::hm(Day::y2021(2, 3), 14, 0));
        let mut approve_desk = Desk::starting(At::hm(Day::y2021(2, 4), 8, 0));
        const COMMENTS: [Option<&str>; 4] = [
            Some("Đồng ý; đề nghị cụ thể hóa bằng kế hoạch chi tiết"),
            Some("Đồng ý với nhiệm vụ đăng ký"),
            Some("Đồng ý; chú ý lượng hóa kết quả để đánh giá cuối năm"),
            None,
        ];
        for t in self.tasks.clone() {
            let cadre = self.cadres[t.cadre].clone();
            let mut data = Map::new();
            data.insert("task_id".into(), json!(t.id));
            data.insert("cycle".into(), json!(CYCLE));
            if t.origin != Origin::SelfRegistered {
                data.insert("assignee".into(), json!(cadre.id));
            }
            data.insert("title".into(), json!(t.title));
            data.insert("kind".into(), json!(t.kind));
            data.insert("category".into(), json!(t.category));
            data.insert("due".into(), json!(t.due.to_string()));
            data.insert("targets".into(), Generator::targets_json(&t));
            if let Some(d) = &t.description {
                data.insert("description".into(), json!(d));
            }
            match &t.origin {
                Origin::SelfRegistered => {
                    let at = At::office_between(&mut rng, Day::y2021(1, 12), Day::y2021(1, 29));
                    self.push(
                        at,
                        &cadre.unit,
                        &cadre.id,
                        "task.registered",
                        Value::Object(data),
                    );
                    let (body, approver) = match t.given_by_commune {
                        Some(judge) => (cadre.unit.clone(), self.cadres[judge].id.clone()),
                        None if t.commune_level && t.cadre != self.deputy => {
                            (ROOT.to_owned(), deputy.clone())
                        }
                        None => (ROOT.to_owned(), secretary.clone()),
                    };
                    let mut approval = json!({"task_id": t.id});
                    if let Some(c) = rng.pick(&COMMENTS) {
                        approval["comment"] = json!(c);
                    }
                    let at = approve_desk.next(&mut rng, 60, 240);
                    self.push(at, &body, &approver, "task.approved", approval);
                }
                Origin::Committee | Origin::Backlog(_) => {
                    data.insert(
                        "origin".into(),
                        json!(if let Origin::Backlog(_) = t.origin {
                            "backlog"
                        } else {
                            "committee"
                        }),
                    );
                    if let Origin::Backlog(b) = &t.origin {
                        data.insert("backlog_ref".into(), json!(b));
                    }
                    let (body, assigner) = match t.given_by_commune {
                        Some(judge) => (cadre.unit.clone(), self.cadres[judge].id.clone()),
                        None => (ROOT.to_owned(), secretary.clone()),
                    };
                    let at = assign_desk.next(&mut rng, 60, 240);
                    self.push(at, &body, &assigner, "task.assigned", Value::Object(data));
                }
            }
        }
    }

    /// Plans, delegations, check-ins, revisions, the reassignment and the
    /// cancellation, March to early December.
    fn work(&mut self) {
        let mut rng = Rng::new(7);
        let secretary = self.secretary_id();
        let replacement = self.cadres.len() - 1;
        let reassign_at = At::hm(Day::y2021(7, 7), 9, 0);
        for t in self.tasks.clone() {
            let cadre = self.cadres[t.cadre].clone();
            let reassigned = t.reassigned;

            // The plan.
            // The article's cadres plan early: their first milestones fall
            // in March.
            let latest = if t.article.is_some() {
                Day::y2021(3, 5)
            } else {
                Day::y2021(3, 19)
            };
            let plan_day = Day::random_workday(&mut rng, Day::y2021(2, 22), latest);
            let plan_at = At::office(&mut rng, plan_day);
            let milestones = self.milestones(&t, plan_day, &mut rng);
            self.push(
                plan_at,
                &cadre.unit,
                &cadre.id,
                "plan.submitted",
                json!({"task_id": t.id, "solutions": t.solutions, "milestones": milestones}),
            );

            // Delegations.
            self.delegate(&t, plan_day, &mut rng);

            // Check-ins.
            self.check_ins(
                &t,
                reassigned.then_some((replacement, reassign_at)),
                &mut rng,
            );

            // A revised plan after the half-year review.
            let revise = match t.fate {
                Fate::Evaluated(_) => {
                    t.article.is_none() && !reassigned && t.due.month() >= 9 && rng.chance(0.16)
                }
                _ => false,
            };
            if revise || reassigned {
                const ADDED: [&str; 4] = [
                    "Tổ chức họp trực tuyến, lùi các hoạt động tập trung đông người do dịch COVID-19",
                    "Tăng cường kiểm tra, đôn đốc hằng tuần đối với các đơn vị chậm tiến độ",
                    "Huy động thêm nguồn lực xã hội hóa để bù phần kinh phí còn thiếu",
                    "Phân công lại cán bộ theo dõi, gắn trách nhiệm người đứng đầu",
                ];
                let (day, who, added) = if reassigned {
                    (
                        Day::random_workday(&mut rng, Day::y2021(7, 19), Day::y2021(7, 23)),
                        replacement,
                        ADDED[3],
                    )
                } else {
                    (
                        Day::random_workday(&mut rng, Day::y2021(6, 14), Day::y2021(7, 30)),
                        t.cadre,
                        *rng.pick(&ADDED[..3]),
                    )
                };
                let mut solutions = t.solutions.clone();
                solutions.push(added.to_owned());
                let mut milestones = milestones.as_array().cloned().unwrap_or_default();
                let review = json!({"title": "Rà soát, điều chỉnh giải pháp sau sơ kết 6 tháng",
                                    "due": day.plus(20).to_string()});
                let last = milestones.len().saturating_sub(1);
                milestones.insert(last, review);
                let who = self.cadres[who].clone();
                let at = At::office(&mut rng, day);
                self.push(
                    at,
                    &who.unit,
                    &who.id,
                    "plan.submitted",
                    json!({"task_id": t.id, "solutions": solutions, "milestones": milestones}),
                );
            }

            if reassigned {
                let new = self.cadres[replacement].clone();
                self.register_cadre(At::hm(Day::y2021(7, 5), 8, 30), replacement, &secretary);
                self.push(
                    reassign_at,
                    ROOT,
                    &secretary,
                    "task.reassigned",
                    json!({"task_id": t.id, "assignee": new.id,
                           "reason": "Chủ tịch UBND xã Kháng Nhật được điều động nhận công tác khác từ tháng 7/2021; \
                                      giao Chủ tịch UBND xã mới được bầu tiếp tục thực hiện nhiệm vụ"}),
                );
            }
            if t.fate == Fate::Cancelled {
                self.push(
                    At::hm(Day::y2021(8, 16), 9, 30),
                    ROOT,
                    &secretary,
                    "task.cancelled",
                    json!({"task_id": t.id,
                           "reason": "Dừng tổ chức Ngày hội do diễn biến phức tạp của dịch COVID-19, \
                                      theo chỉ đạo phòng, chống dịch của tỉnh"}),
                );
            }
        }
    }

    fn milestones(&self, t: &Task, plan_day: Day, rng: &mut Rng) -> Value {
        match t.article {
            Some(Article::Phuc) => json!([
                {"title": "Rà soát 12 thôn, tổ dân phố có trưởng thôn chưa là đảng viên", "due": "2021-03-31"},
                {"title": "Bồi dưỡng nhận thức về Đảng cho trưởng thôn, tổ dân phố chưa là đảng viên", "due": "2021-06-30"},
                {"title": "100% trưởng thôn, tổ dân phố là đảng viên", "due": "2021-11-30"}
            ]),
            Some(Article::Manh) => json!([
                {"title": "Hoàn thành ký cam kết với các cơ sở sản xuất, kinh doanh thực phẩm", "due": "2021-04-30"},
                {"title": "Vận hành thí điểm thu gom rác hữu cơ, vô cơ tại thôn Đồng Diễn", "due": "2021-06-30"},
                {"title": "Nhân rộng phân loại rác tại hộ gia đình trên toàn xã", "due": "2021-10-31"},
                {"title": "Hoàn thiện hồ sơ đánh giá tiêu chí số 17", "due": "2021-11-30"}
            ]),
            None => {
                let mut out = vec![json!({
                    "title": "Ban hành kế hoạch chi tiết, phân công thực hiện",
                    "due": plan_day.plus(rng.range(10, 20)).to_string()
                })];
                if t.due > Day::y2021(7, 31) {
                    out.push(
                        json!({"title": "Sơ kết 6 tháng, đánh giá tiến độ", "due": "2021-06-30"}),
                    );
                }
                out.push(json!({"title": "Hoàn thành các chỉ tiêu của nhiệm vụ", "due": t.due.to_string()}));
                Value::Array(out)
            }
        }
    }

    fn delegate(&mut self, t: &Task, plan_day: Day, rng: &mut Rng) {
        let cadre = self.cadres[t.cadre].clone();
        let mut list: Vec<(String, String, Day)> = Vec::new();
        match t.article {
            Some(Article::Phuc) => {
                // Where the twelve heads who are not party members are.
                let counts = [3, 2, 2, 2, 1, 1, 1];
                let mut pool: Vec<usize> = (1..self.communes.len()).collect();
                for n in counts {
                    let i = pool.remove(rng.below(pool.len() as u64) as usize);
                    let c = &self.communes[i];
                    list.push((
                        c.code.clone(),
                        format!(
                            "Đảng ủy {}: {n} thôn có trưởng thôn chưa là đảng viên; bồi dưỡng, xem xét kết nạp \
                             hoặc giới thiệu đảng viên đảm nhiệm chức danh trưởng thôn",
                            c.phrase
                        ),
                        Day::y2021(10, 31),
                    ));
                }
            }
            Some(Article::Manh) => {
                list.push((
                    DONG_DIEN.to_owned(),
                    t.delegation.clone(),
                    Day::y2021(6, 30),
                ));
                if let Some(colleague) = t.colleague {
                    list.push((
                        self.cadres[colleague].id.clone(),
                        "Chỉ đạo các chi bộ thôn đưa nội dung phân loại rác thải tại nhà vào sinh hoạt chi bộ"
                            .to_owned(),
                        Day::y2021(9, 30),
                    ));
                }
            }
            None => {
                if !rng.chance(0.55) || t.delegate_to.is_empty() {
                    return;
                }
                let k = rng.range(1, 3) as usize;
                let mut pool = t.delegate_to.clone();
                for _ in 0..k.min(pool.len()) {
                    let to = pool.remove(rng.below(pool.len() as u64) as usize);
                    let due = plan_day.plus(rng.range(60, 150)).min(t.due);
                    list.push((to, t.delegation.clone(), due));
                }
            }
        }
        let mut day = plan_day;
        for (k, (to, description, due)) in list.into_iter().enumerate() {
            day = Day::random_workday(rng, day.plus(1), day.plus(6));
            let at = At::office(rng, day);
            self.push(
                at,
                &t.delegate_envelope,
                &cadre.id,
                "work.delegated",
                json!({"task_id": t.id, "delegation_id": format!("pc-{:02}", k + 1), "to": to,
                       "description": description, "due": due.max(day).to_string()}),
            );
        }
    }

    /// Monthly check-ins, as of each month's end, sent a few working days
    /// later. `handover`: who carries the task after a reassignment, from when.
    fn check_ins(&mut self, t: &Task, handover: Option<(usize, At)>, rng: &mut Rng) {
        let first = 3u32;
        let last = match t.fate {
            Fate::Stalled => 11,
            Fate::Cancelled => 7,
            Fate::Evaluated(_) => t.due.month().min(11),
        };
        let series = article_series(t.article);
        let mut prev = 0.0f64;
        for month in first..=last {
            let is_last = month == last;
            if series.is_none() && !is_last && rng.chance(0.12) {
                continue; // a missed check-in
            }
            let x = f64::from(month - first + 1) / f64::from(last - first + 1);
            let f = match t.fate {
                Fate::Stalled => t.perf * x * (2.0 - x),
                _ if is_last => t.perf,
                _ => t.perf * x * (0.35 + 0.65 * x),
            };
            let f = (f + rng.between(-0.03, 0.03) * t.perf).max(prev).max(0.0);
            let f = if is_last && t.fate != Fate::Stalled {
                t.perf.max(prev)
            } else {
                f
            };
            prev = f;

            let as_of = Day::end_of_month_2021(month);
            // November's check-in goes in by 3 December, before the
            // evaluations start.
            let lag = if month == 11 { 3 } else { 5 };
            let day = as_of.workdays_after(rng.range(1, lag) as u32);
            let at = At::office(rng, day);
            let mut reporter = t.cadre;
            if let Some((new, from)) = handover
                && at >= from
            {
                reporter = new;
            } else if let Some(colleague) = t.colleague
                && rng.chance(0.2)
            {
                reporter = colleague;
            }
            let reporter = self.cadres[reporter].clone();

            let mut data = json!({"task_id": t.id, "as_of": as_of.to_string()});
            let (values, confidence, note) = match (&series, t.article) {
                (Some(s), _) => {
                    let k = (month - first) as usize;
                    let values: Vec<Value> = t
                        .targets
                        .iter()
                        .zip(s.values)
                        .map(|(target, v)| json!({"metric": target.metric, "value": num(v[k])}))
                        .collect();
                    (values, s.confidence[k], s.notes[k].map(str::to_owned))
                }
                _ => {
                    let values = t
                        .targets
                        .iter()
                        .map(|target| json!({"metric": target.metric, "value": num(value_at(target, f))}))
                        .collect();
                    let confidence = confidence(t, x);
                    let note = rng
                        .chance(0.7)
                        .then(|| (*rng.pick(note_pool(confidence))).to_owned());
                    (values, confidence, note)
                }
            };
            data["values"] = Value::Array(values);
            if t.targets.is_empty() {
                data["percent_complete"] = num((f * 100.0).round().min(100.0));
            }
            data["confidence"] = json!(confidence);
            if let Some(note) = note {
                data["note"] = json!(note);
            }
            self.push(at, &reporter.unit, &reporter.id, "progress.reported", data);
        }
    }

    /// Year-end evaluations, 6 to 10 December, before the 15 December
    /// deadline; then the cycle closes.
    fn evaluate(&mut self) {
        let mut rng = Rng::new(8);
        let secretary = self.secretary_id();
        let mut desk = Desk::starting(At::hm(Day::y2021(12, 6), 8, 0));
        for t in self.tasks.clone() {
            let Fate::Evaluated(band) = t.fate else {
                continue;
            };
            let score = match band {
                Band::Excellent => rng.range(90, 95),
                Band::Good => {
                    (70 + ((t.perf - 0.92) / 0.11 * 15.0).round() as i64 + rng.range(0, 4))
                        .clamp(70, 89)
                }
                Band::Completed => rng.range(50, 69),
                Band::NotCompleted => rng.range(32, 49),
            };
            let score = match t.article {
                Some(Article::Phuc) => 88,
                Some(Article::Manh) => 85,
                None => score,
            };
            let comment = match t.article {
                Some(Article::Phuc) => format!(
                    "Hoàn thành tốt nhiệm vụ đột phá: theo báo cáo của cơ quan, 400/400 trưởng thôn, \
                     tổ dân phố là đảng viên {DEMO_MARKER}"
                ),
                Some(Article::Manh) => format!(
                    "Hoàn thành tốt nhiệm vụ: tiêu chí số 17 đạt theo báo cáo của xã; mô hình thu gom, \
                     phân loại rác tại thôn Đồng Diễn cần nhân rộng {DEMO_MARKER}"
                ),
                None => (*rng.pick(match band {
                    Band::Excellent => &[
                        "Hoàn thành xuất sắc nhiệm vụ; kết quả vượt chỉ tiêu đề ra, cách làm sáng tạo",
                        "Hoàn thành xuất sắc nhiệm vụ; là điển hình để nhân rộng",
                    ][..],
                    Band::Good => &[
                        "Hoàn thành tốt nhiệm vụ; các chỉ tiêu đạt kế hoạch",
                        "Hoàn thành tốt nhiệm vụ; chủ động, sâu sát cơ sở",
                        "Hoàn thành tốt nhiệm vụ; cần duy trì kết quả trong năm 2022",
                    ][..],
                    Band::Completed => &[
                        "Hoàn thành nhiệm vụ; một số chỉ tiêu chưa đạt, cần khắc phục",
                        "Hoàn thành nhiệm vụ; tiến độ có thời điểm chậm",
                    ][..],
                    Band::NotCompleted => &[
                        "Không hoàn thành nhiệm vụ; cần kiểm điểm, rút kinh nghiệm",
                        "Không hoàn thành nhiệm vụ; giải pháp chưa sát thực tế, thiếu đôn đốc",
                    ][..],
                }))
                .to_owned(),
            };
            let mut data = json!({"task_id": t.id, "comment": comment});
            let u = rng.unit();
            if u < 0.7 || t.article.is_some() {
                data["rating"] = json!(band.rating());
                data["score"] = json!(score);
            } else if u < 0.9 {
                data["score"] = json!(score);
            } else {
                data["rating"] = json!(band.rating());
            }
            let at = desk.next(&mut rng, 600, 1500);
            // The body that gave the task judges it (CONTRACT part C).
            let (body, judge) = match t.given_by_commune {
                Some(judge) => (
                    self.cadres[t.cadre].unit.clone(),
                    self.cadres[judge].id.clone(),
                ),
                None => (ROOT.to_owned(), secretary.clone()),
            };
            self.push(at, &body, &judge, "task.evaluated", data);
        }
        self.push(
            At::hm(Day::y2021(12, 31), 9, 0),
            ROOT,
            &secretary,
            "cycle.closed",
            json!({"cycle": CYCLE}),
        );
    }

    /// 2025: the district level is abolished; the new commune Sơn Dương
    /// absorbs the town, Hợp Thành, Phúc Ứng and Tú Thịnh.
    fn merge(&mut self) {
        let secretary = self.secretary_id();
        self.push(
            At::hm(Day::ymd(2025, 6, 23), 8, 30),
            ROOT,
            &secretary,
            "unit.registered",
            json!({"code": MERGED_COMMUNE, "name": "Xã Sơn Dương", "kind": "commune",
                   "parent": ROOT, "valid_from": "2025-07-01"}),
        );
        self.push(
            At::hm(Day::ymd(2025, 7, 1), 7, 30),
            ROOT,
            &secretary,
            "unit.merged",
            json!({"into": MERGED_COMMUNE, "from": MERGED_FROM, "effective_on": "2025-07-01",
                   "legal_basis": MERGE_LEGAL_BASIS}),
        );
    }

    fn finish(mut self) -> Vec<DemoSubmission> {
        self.drafts.sort_by_key(|d| (d.at, d.seq));
        self.drafts
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                let submission_id = format!("demo-{:06}", i + 1);
                let body = json!({
                    "schema": "dotpha.submission.v1",
                    "submission_id": submission_id,
                    "unit": d.unit,
                    "actor": d.actor,
                    "occurred_at": d.at.rfc3339(),
                    "type": d.kind,
                    "data": d.data,
                });
                DemoSubmission {
                    unit: d.unit,
                    submission_id,
                    body: body.to_string().into_bytes(),
                }
            })
            .collect()
    }
}

/// A metric's value once a fraction `f` of the way from baseline to target:
/// whole numbers for counts, tenths or hundredths otherwise; never below
/// zero, never above 100 for a percentage.
fn value_at(t: &Target, f: f64) -> f64 {
    let raw = t.baseline + (t.target - t.baseline) * f;
    let whole = t.baseline.fract() == 0.0 && t.target.fract() == 0.0;
    let mut v = if whole {
        raw.round()
    } else if (t.target - t.baseline).abs() < 1.0 {
        (raw * 100.0).round() / 100.0
    } else {
        (raw * 10.0).round() / 10.0
    };
    if t.label.ends_with("(%)") {
        v = v.min(100.0);
    }
    if v <= 0.0 { 0.0 } else { v }
}

fn confidence(t: &Task, x: f64) -> &'static str {
    match t.fate {
        Fate::Stalled | Fate::Cancelled if x < 0.5 => "medium",
        Fate::Stalled | Fate::Cancelled => "low",
        _ if x < 0.3 => "medium",
        _ if t.perf >= 0.92 => "high",
        _ if t.perf >= 0.6 => "medium",
        _ => "low",
    }
}

fn note_pool(confidence: &str) -> &'static [&'static str] {
    match confidence {
        "high" => &[
            "Tiến độ đạt yêu cầu, bám sát kế hoạch",
            "Các chỉ tiêu cơ bản đạt kế hoạch đề ra",
            "Đã kiểm tra thực tế tại cơ sở, kết quả bảo đảm",
            "Cơ sở triển khai tích cực, nhân dân đồng thuận",
        ],
        "medium" => &[
            "Đang triển khai theo kế hoạch, một số đơn vị còn chậm",
            "Đã họp rà soát, đôn đốc các đơn vị chậm tiến độ",
            "Một số hoạt động phải lùi do dịch COVID-19",
        ],
        _ => &[
            "Tiến độ chậm so với kế hoạch, cần tập trung chỉ đạo",
            "Gặp khó khăn về kinh phí, đề nghị huyện hỗ trợ",
            "Ảnh hưởng của dịch COVID-19, nhiều hoạt động phải tạm dừng",
        ],
    }
}

/// The check-ins of the article's tasks, March to November: one value per
/// target and month.
struct Series {
    values: &'static [[f64; 9]],
    confidence: [&'static str; 9],
    notes: [Option<&'static str>; 9],
}

fn article_series(article: Option<Article>) -> Option<Series> {
    match article? {
        Article::Phuc => Some(Series {
            values: &[[
                389.0, 390.0, 392.0, 394.0, 395.0, 396.0, 398.0, 399.0, 400.0,
            ]],
            confidence: [
                "medium", "medium", "medium", "high", "high", "high", "high", "high", "high",
            ],
            notes: [
                Some("Đã rà soát 12 thôn, tổ dân phố; một trưởng thôn được kết nạp vào Đảng"),
                None,
                Some("Các đảng ủy xã giới thiệu đảng viên ứng cử trưởng thôn tại hai thôn"),
                Some("Bồi dưỡng nhận thức về Đảng cho trưởng thôn chưa là đảng viên"),
                None,
                Some("Một xã bố trí công chức là đảng viên làm trưởng thôn"),
                Some("Kết nạp thêm hai trưởng thôn vào Đảng"),
                None,
                Some("400/400 trưởng thôn, tổ dân phố là đảng viên"),
            ],
        }),
        Article::Manh => Some(Series {
            values: &[
                [20.0, 55.0, 85.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0],
                [15.0, 18.0, 24.0, 32.0, 38.0, 45.0, 51.0, 56.0, 61.0],
            ],
            confidence: [
                "medium", "medium", "medium", "high", "high", "high", "high", "high", "high",
            ],
            notes: [
                Some("Họp các cơ sở kinh doanh thực phẩm, phổ biến nội dung cam kết"),
                Some("Các cơ sở sản xuất, kinh doanh thực phẩm đang ký cam kết"),
                Some("Chuẩn bị thí điểm thu gom rác hữu cơ, vô cơ tại thôn Đồng Diễn"),
                Some("100% cơ sở đã ký cam kết; thí điểm tại thôn Đồng Diễn bắt đầu vận hành"),
                None,
                Some("Hướng dẫn các hộ phân loại rác tại nhà qua sinh hoạt chi bộ, chi hội"),
                None,
                Some("Nhân rộng phân loại rác tại nhà ra các thôn lân cận Đồng Diễn"),
                Some("Hoàn thiện hồ sơ đề nghị công nhận tiêu chí số 17"),
            ],
        }),
    }
}
