//! The current cycle, 2026: open, so the tokens `dotpha up --demo` prints
//! have something to act on.
//!
//! After the 2025 merge a chair is elected for the new commune Sơn Dương
//! ([`CURRENT_CHAIR`], the clerk's token); on 5 January 2026 the district's
//! Standing Committee opens [`CURRENT_CYCLE`] and assigns
//! [`CURRENT_TASKS`] tasks: to Đỗ Xuân Phúc's agency, to the new commune's
//! chair, to other district-level leaders and to party secretaries of
//! communes the merge left alone. Targets carry their unit and range
//! (CONTRACT part C). Through the year: plans with milestones (one revised),
//! a delegation to Đồng Diễn, monthly check-ins, two tasks done early and
//! evaluated in July; the rest is what a secretary meets in November: some
//! on track, some behind (low confidence), some silent since the summer,
//! some past their due date, and one task still without a plan. Nothing
//! happens after [`LAST_DAY`].
//!
//! Kept in its own module: the evaluation by period (CONTRACT part A) adds
//! its own 2026 data beside it.

use serde_json::{Value, json};

use crate::{
    DEMO_MARKER, DONG_DIEN, Generator, MERGED_COMMUNE, MERGED_FROM, PHUC, ROOT,
    clock::{At, Day, Desk},
    names::{People, Person},
    rng::Rng,
};

/// The chair of the new commune Sơn Dương, elected after the 2025 merge
/// (fictional): the commune clerk's token acts as him.
pub const CURRENT_CHAIR: &str = "luc-trong-phong";
/// The open cycle of the demo.
pub const CURRENT_CYCLE: &str = "2026";
/// The tasks of [`CURRENT_CYCLE`].
pub const CURRENT_TASKS: usize = 16;
/// Phúc's task of 2026 (illustrative, as the whole year is).
pub const PHUC_CURRENT_TASK: &str = "ndp-2026-01";
/// The task of the new commune's chair.
pub const CHAIR_CURRENT_TASK: &str = "ndp-2026-02";
/// The metric of [`CHAIR_CURRENT_TASK`] counted in percent (0 to 100).
pub const CHAIR_PERCENT_METRIC: &str = "ho-phan-loai-rac";
/// The day of the last submission of the current cycle.
pub const LAST_DAY: &str = "2026-11-20";

/// The first milestone of every plan of 2026, due 31 March.
pub(crate) const SURVEY_MILESTONE: &str = "Hoàn thành khảo sát, rà soát thực trạng";
/// The mid-year milestone, due 30 June, of every plan but the tasks done
/// early.
pub(crate) const MIDYEAR_MILESTONE: &str = "Sơ kết 6 tháng, điều chỉnh giải pháp";
/// The last milestone of every plan, due with the task.
pub(crate) const FINISH_MILESTONE: &str = "Hoàn thành nhiệm vụ";

/// A target of 2026, with its unit and range.
struct Goal {
    metric: &'static str,
    label: &'static str,
    unit: &'static str,
    min: f64,
    max: Option<f64>,
    baseline: f64,
    target: f64,
}

/// How a task's year goes, as of [`LAST_DAY`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Course {
    /// Reports every month; reaches `f` of the way by November.
    OnTrack(f64),
    /// Reports, but falls behind and says so (low confidence).
    Behind(f64),
    /// Stops reporting after August.
    Silent(f64),
    /// Due on 30 September, not reached, not evaluated.
    Late(f64),
    /// Done by June and evaluated in July.
    DoneEarly,
    /// Assigned, no plan yet.
    Unplanned,
}

struct Plan2026 {
    title: String,
    category: &'static str,
    goals: Vec<Goal>,
    course: Course,
    due: &'static str,
}

const fn goal(
    metric: &'static str,
    label: &'static str,
    unit: &'static str,
    max: Option<f64>,
    baseline: f64,
    target: f64,
) -> Goal {
    Goal {
        metric,
        label,
        unit,
        min: 0.0,
        max,
        baseline,
        target,
    }
}

const PERCENT: Option<f64> = Some(100.0);

/// The district-level leaders' tasks of 2026 after Phúc's, in roster order
/// (the first district-level cadres other than the deputy secretary and
/// Phúc).
fn district_plans() -> Vec<Plan2026> {
    vec![
        Plan2026 {
            title: "Số hóa 100% hồ sơ thủ tục hành chính cấp xã sau sắp xếp".into(),
            category: "Chuyển đổi số",
            goals: vec![goal(
                "ho-so-so-hoa",
                "Hồ sơ được số hóa",
                "%",
                PERCENT,
                42.0,
                100.0,
            )],
            course: Course::OnTrack(0.85),
            due: "2026-12-15",
        },
        Plan2026 {
            title: "Giải ngân vốn đầu tư công năm 2026 đạt trên 95%".into(),
            category: "Kinh tế",
            goals: vec![goal(
                "giai-ngan",
                "Tỷ lệ giải ngân",
                "%",
                PERCENT,
                0.0,
                95.0,
            )],
            course: Course::Behind(0.55),
            due: "2026-12-31",
        },
        Plan2026 {
            title: "Hoàn thành cấp giấy chứng nhận quyền sử dụng đất tồn đọng".into(),
            category: "Đất đai",
            goals: vec![goal(
                "giay-chung-nhan",
                "Giấy chứng nhận đã cấp",
                "giấy",
                None,
                0.0,
                640.0,
            )],
            course: Course::Late(0.7),
            due: "2026-09-30",
        },
        Plan2026 {
            title: "Xây dựng 12 mô hình dân vận khéo gắn với chuyển đổi số".into(),
            category: "Dân vận",
            goals: vec![goal(
                "mo-hinh",
                "Mô hình được công nhận",
                "mô hình",
                None,
                0.0,
                12.0,
            )],
            course: Course::DoneEarly,
            due: "2026-06-30",
        },
        Plan2026 {
            title: "Giảm 30% số vụ việc khiếu nại kéo dài".into(),
            category: "Tiếp công dân",
            goals: vec![goal(
                "vu-viec",
                "Vụ việc khiếu nại kéo dài",
                "vụ",
                None,
                40.0,
                28.0,
            )],
            course: Course::Silent(0.4),
            due: "2026-12-15",
        },
        Plan2026 {
            title: "Phủ sóng bảo hiểm y tế 95% dân số".into(),
            category: "Y tế",
            goals: vec![goal(
                "bhyt",
                "Dân số có bảo hiểm y tế",
                "%",
                PERCENT,
                91.2,
                95.0,
            )],
            course: Course::OnTrack(0.9),
            due: "2026-12-04",
        },
        Plan2026 {
            title: "Xóa 150 nhà tạm, nhà dột nát cho hộ nghèo".into(),
            category: "An sinh xã hội",
            goals: vec![goal("nha-tam", "Nhà tạm được xóa", "nhà", None, 0.0, 150.0)],
            course: Course::DoneEarly,
            due: "2026-06-30",
        },
        Plan2026 {
            title: "Trồng mới 500 ha rừng sản xuất gỗ lớn".into(),
            category: "Nông nghiệp",
            goals: vec![goal(
                "rung-trong",
                "Diện tích trồng mới",
                "ha",
                None,
                0.0,
                500.0,
            )],
            course: Course::Late(0.5),
            due: "2026-09-30",
        },
        Plan2026 {
            title: "Hoàn thiện quy hoạch chung xã Sơn Dương sau sáp nhập".into(),
            category: "Quy hoạch",
            goals: vec![],
            course: Course::Unplanned,
            due: "2026-12-31",
        },
    ]
}

/// One task of [`CURRENT_CYCLE`] as the evaluation by period
/// (`periods.rs`) builds on it.
#[derive(Clone, Debug)]
pub(crate) struct Given {
    /// `ndp-2026-NN`.
    pub(crate) id: String,
    /// The assignee, as an index into the roster.
    pub(crate) cadre: usize,
    /// How its year goes.
    pub(crate) course: Course,
    /// Its first plan's solutions and milestones (`{title, due}`); empty
    /// when it has no plan.
    pub(crate) solutions: Vec<String>,
    pub(crate) milestones: Vec<Value>,
}

impl Generator {
    /// Appends the current cycle (see the module's documentation) and
    /// returns its tasks in order.
    pub(crate) fn current(&mut self) -> Vec<Given> {
        let mut rng = Rng::new(26);
        let secretary = self.secretary_id();

        // The new commune's chair, elected after the merge.
        let Person { id, full_name } =
            People::new(Rng::new(25)).person(Some(false), &mut self.taken);
        assert_eq!(id, CURRENT_CHAIR, "the chair's id is fixed by the seed");
        let chair = crate::Cadre {
            id,
            full_name,
            unit: MERGED_COMMUNE.to_owned(),
            position: "Chủ tịch UBND xã Sơn Dương".to_owned(),
            standing: false,
        };
        self.cadres.push(chair.clone());
        self.register_cadre(
            At::hm(Day::ymd(2025, 7, 2), 9, 0),
            self.cadres.len() - 1,
            &secretary,
        );

        self.push(
            At::hm(Day::ymd(2026, 1, 5), 8, 0),
            ROOT,
            &secretary,
            "cycle.opened",
            json!({"cycle": CURRENT_CYCLE, "starts_on": "2026-01-01", "ends_on": "2026-12-31"}),
        );

        // Who carries a task: Phúc, the chair, district-level leaders, and
        // party secretaries of communes the merge left alone.
        let phuc = self.cadre_index(PHUC);
        let district: Vec<usize> = (1..self.cadres.len())
            .filter(|&i| {
                let c = &self.cadres[i];
                i != phuc
                    && i != self.deputy
                    && c.unit != MERGED_COMMUNE
                    && !self.is_commune(&c.unit)
            })
            .take(district_plans().len())
            .collect();
        let communes: Vec<usize> = (1..self.cadres.len())
            .filter(|&i| {
                let c = &self.cadres[i];
                self.is_commune(&c.unit)
                    && !MERGED_FROM.contains(&c.unit.as_str())
                    && c.position.starts_with("Bí thư")
            })
            .take(CURRENT_TASKS - 2 - district_plans().len())
            .collect();

        let mut plans: Vec<(usize, Plan2026)> = vec![
            (
                phuc,
                Plan2026 {
                    title: format!(
                        "Kiện toàn đội ngũ trưởng thôn, tổ dân phố sau sắp xếp đơn vị hành chính {DEMO_MARKER}"
                    ),
                    category: "Tổ chức - Nội vụ",
                    goals: vec![
                        goal("truong-thon-dang-vien", "Trưởng thôn, tổ dân phố là đảng viên", "người", None, 362.0, 380.0),
                        goal("thon-sap-xep", "Thôn, tổ dân phố đã sắp xếp xong", "%", PERCENT, 20.0, 100.0),
                    ],
                    course: Course::OnTrack(0.8),
                    due: "2026-12-15",
                },
            ),
            (
                self.cadres.len() - 1,
                Plan2026 {
                    title: "Xã Sơn Dương (mới) giữ chuẩn nông thôn mới: thu gom, phân loại rác tại nguồn".into(),
                    category: "Nông thôn mới",
                    goals: vec![
                        goal(CHAIR_PERCENT_METRIC, "Hộ phân loại rác tại nguồn", "%", PERCENT, 61.0, 100.0),
                        goal("thon-thu-gom", "Thôn có điểm thu gom rác", "thôn", Some(48.0), 12.0, 48.0),
                    ],
                    course: Course::OnTrack(0.7),
                    due: "2026-12-20",
                },
            ),
        ];
        plans.extend(district.into_iter().zip(district_plans()));
        let commune_goals = [
            ("Đường giao thông nông thôn được cứng hóa", "km", 4.0, 12.0),
            ("Hộ dùng nước sạch", "%", 78.0, 95.0),
            ("Hộ thoát nghèo", "hộ", 0.0, 60.0),
            ("Thôn có nhà văn hóa đạt chuẩn", "thôn", 9.0, 14.0),
            ("Hợp tác xã hoạt động hiệu quả", "hợp tác xã", 2.0, 6.0),
        ];
        let courses = [
            Course::OnTrack(0.75),
            Course::Behind(0.35),
            Course::Silent(0.3),
            Course::OnTrack(0.95),
            Course::Behind(0.5),
        ];
        for (k, &i) in communes.iter().enumerate() {
            let name = self.commune_name(&self.cadres[i].unit);
            let (label, unit, baseline, target) = commune_goals[k % commune_goals.len()];
            plans.push((
                i,
                Plan2026 {
                    title: format!("{name}: {} đạt {} {unit}", label.to_lowercase(), target),
                    category: "Nông thôn mới",
                    goals: vec![Goal {
                        metric: "chi-tieu-chinh",
                        label,
                        unit,
                        min: 0.0,
                        max: (unit == "%").then_some(100.0),
                        baseline,
                        target,
                    }],
                    course: courses[k % courses.len()],
                    due: "2026-12-15",
                },
            ));
        }
        assert_eq!(plans.len(), CURRENT_TASKS, "the current cycle's tasks");

        let mut assign = Desk::starting(At::hm(Day::ymd(2026, 1, 20), 14, 0));
        let mut ids = Vec::new();
        for (n, (cadre, plan)) in plans.iter().enumerate() {
            let id = format!("ndp-{CURRENT_CYCLE}-{:02}", n + 1);
            let targets: Vec<Value> = plan
                .goals
                .iter()
                .map(|g| {
                    let mut t = json!({"metric": g.metric, "label": g.label, "unit": g.unit,
                                       "baseline": crate::num(g.baseline), "target": crate::num(g.target),
                                       "min": crate::num(g.min)});
                    if let Some(max) = g.max {
                        t["max"] = crate::num(max);
                    }
                    t
                })
                .collect();
            let mut data = json!({"task_id": id, "cycle": CURRENT_CYCLE,
                "assignee": self.cadres[*cadre].id, "title": plan.title, "kind": "breakthrough",
                "category": plan.category, "due": plan.due, "origin": "committee", "targets": targets});
            if plan.goals.is_empty() {
                data["kind"] = json!("difficult");
                data["description"] =
                    json!("Nhiệm vụ không có chỉ tiêu định lượng; báo cáo theo tỷ lệ hoàn thành.");
            }
            let at = assign.next(&mut rng, 30, 90);
            self.push(at, ROOT, &secretary, "task.assigned", data);
            ids.push(id);
        }

        for ((cadre, plan), id) in plans.iter().zip(&ids) {
            let c = self.cadres[*cadre].clone();
            if plan.course == Course::Unplanned {
                continue;
            }
            let due = parse_day(plan.due);
            let milestones = milestones(plan, due);
            let plan_day =
                Day::random_workday(&mut rng, Day::ymd(2026, 2, 2), Day::ymd(2026, 2, 27));
            self.push(
                At::office(&mut rng, plan_day),
                &c.unit,
                &c.id,
                "plan.submitted",
                json!({"task_id": id, "solutions": solutions(plan), "milestones": milestones}),
            );
            if *id == ids[1] {
                // The chair delegates the pilot to Đồng Diễn, then revises
                // the plan in May (the history shows what changed).
                self.push(
                    At::hm(Day::ymd(2026, 3, 3), 9, 30),
                    &c.unit,
                    &c.id,
                    "work.delegated",
                    json!({"task_id": id, "delegation_id": "dong-dien-thi-diem", "to": DONG_DIEN,
                           "description": "Thôn Đồng Diễn làm điểm thu gom, phân loại rác cho cả xã",
                           "due": "2026-08-31"}),
                );
                let mut revised = milestones.clone();
                revised.push(json!({"title": "Nhân rộng mô hình Đồng Diễn ra các thôn còn lại", "due": "2026-12-10"}));
                let mut more = solutions(plan);
                more.push("Hỗ trợ thùng phân loại rác cho hộ nghèo, hộ cận nghèo".to_owned());
                self.push(
                    At::hm(Day::ymd(2026, 5, 12), 14, 15),
                    &c.unit,
                    &c.id,
                    "plan.submitted",
                    json!({"task_id": id, "solutions": more, "milestones": revised}),
                );
            }
            self.reports_2026(&mut rng, id, &c, plan);
        }

        // Two tasks done early, evaluated in July by the body that gave them.
        let mut desk = Desk::starting(At::hm(Day::ymd(2026, 7, 14), 8, 30));
        for ((_, plan), id) in plans.iter().zip(&ids) {
            if plan.course == Course::DoneEarly {
                let at = desk.next(&mut rng, 60, 180);
                self.push(
                    at,
                    ROOT,
                    &secretary,
                    "task.evaluated",
                    json!({"task_id": id, "rating": "good", "score": 86,
                           "comment": "Hoàn thành tốt nhiệm vụ trước hạn; các chỉ tiêu đạt kế hoạch"}),
                );
            }
        }
        plans
            .iter()
            .zip(ids)
            .map(|((cadre, plan), id)| {
                let planned = plan.course != Course::Unplanned;
                Given {
                    id,
                    cadre: *cadre,
                    course: plan.course,
                    solutions: if planned { solutions(plan) } else { vec![] },
                    milestones: if planned {
                        milestones(plan, parse_day(plan.due))
                    } else {
                        vec![]
                    },
                }
            })
            .collect()
    }

    /// Monthly check-ins of one task of 2026, on a working day near each
    /// month's end, describing that day.
    fn reports_2026(&mut self, rng: &mut Rng, id: &str, c: &crate::Cadre, plan: &Plan2026) {
        let (last_month, reached) = match plan.course {
            Course::OnTrack(f) | Course::Behind(f) => (10, f),
            Course::Silent(f) => (8, f),
            Course::Late(f) => (10, f),
            Course::DoneEarly => (6, 1.0),
            Course::Unplanned => return,
        };
        for month in 3..=last_month {
            let f = reached * f64::from(month - 2) / f64::from(last_month - 2);
            let day =
                Day::random_workday(rng, Day::ymd(2026, month, 20), Day::ymd(2026, month, 28));
            let values: Vec<Value> = plan
                .goals
                .iter()
                .map(|g| json!({"metric": g.metric, "value": crate::num(value_at(g, f))}))
                .collect();
            let confidence = match plan.course {
                Course::Behind(_) | Course::Late(_) if month >= 6 => "low",
                Course::Behind(_) | Course::Silent(_) | Course::Late(_) => "medium",
                _ if f > 0.5 => "high",
                _ => "medium",
            };
            let mut data = json!({"task_id": id, "as_of": day.to_string(), "values": values,
                                  "confidence": confidence});
            if plan.goals.is_empty() {
                data["percent_complete"] = crate::num((f * 100.0).round());
            }
            if confidence == "low" {
                data["note"] = json!("Chậm so với kế hoạch; đề nghị Thường trực hỗ trợ tháo gỡ");
            }
            self.push(
                At::office(rng, day),
                &c.unit,
                &c.id,
                "progress.reported",
                data,
            );
        }
    }

    fn cadre_index(&self, id: &str) -> usize {
        self.cadres
            .iter()
            .position(|c| c.id == id)
            .unwrap_or_else(|| panic!("no cadre {id} in the roster"))
    }

    fn is_commune(&self, unit: &str) -> bool {
        self.communes.iter().any(|c| c.code == unit)
    }

    fn commune_name(&self, unit: &str) -> String {
        self.communes
            .iter()
            .find(|c| c.code == unit)
            .map_or_else(|| unit.to_owned(), |c| c.name.clone())
    }
}

fn parse_day(text: &str) -> Day {
    let mut parts = text
        .split('-')
        .map(|p| p.parse::<u32>().expect("a date of this module"));
    let (y, m, d) = (
        parts.next().expect("year"),
        parts.next().expect("month"),
        parts.next().expect("day"),
    );
    Day::ymd(y as i32, m, d)
}

fn solutions(plan: &Plan2026) -> Vec<String> {
    vec![
        format!(
            "Xây dựng kế hoạch chi tiết, phân công rõ người, rõ việc: {}",
            plan.title.to_lowercase()
        ),
        "Kiểm tra, đôn đốc hằng tháng; báo cáo Thường trực trước ngày 25".to_owned(),
    ]
}

fn milestones(plan: &Plan2026, due: Day) -> Vec<Value> {
    let mut out = vec![json!({"title": SURVEY_MILESTONE, "due": "2026-03-31"})];
    if plan.course != Course::DoneEarly {
        out.push(json!({"title": MIDYEAR_MILESTONE, "due": "2026-06-30"}));
    }
    out.push(json!({"title": FINISH_MILESTONE, "due": due.to_string()}));
    out
}

/// A goal's value once a fraction `f` of the way from baseline to target,
/// within its range, in whole numbers unless the ends have tenths.
fn value_at(g: &Goal, f: f64) -> f64 {
    let raw = g.baseline + (g.target - g.baseline) * f;
    let v = if g.baseline.fract() == 0.0 && g.target.fract() == 0.0 {
        raw.round()
    } else {
        (raw * 10.0).round() / 10.0
    };
    v.max(g.min).min(g.max.unwrap_or(f64::INFINITY))
}
