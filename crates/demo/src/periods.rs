//! The evaluation by period of 2026 (CONTRACT part A, Decree 335/2025/NĐ-CP)
//! on the tasks of the open cycle (`current.rs`).
//!
//! The district's Standing Committee opens the year [`YEAR_PERIOD`] and its
//! quarters [`QUARTERS`], each on its first working day. Through the year
//! the assignees mark their plans' milestones completed (on time, after the
//! quarter, or not at all), the committee reviews some products (with
//! major errors on three of them), two plans are revised in July with a
//! milestone due in the third quarter (one done late: p = 0.75), and after
//! each quarter the cadres assess themselves and the committee decides:
//! the first quarter by the Party Secretary, the second by the standing
//! deputy secretary (one decision replaced once a review came in), the
//! third by the Party Secretary again. Every cadre with a task of 2026 is
//! decided in each of those quarters, with every rating within its
//! ceiling: excellent, good (also where the ceiling allows excellent),
//! completed and not_completed, one disqualified. The first two quarters
//! are closed; the third is decided and still open; the fourth and the
//! year are open. In the first quarter the district-level leaders' peer
//! group is over the excellent quota ([`QUOTA_EXCEEDED_2026`]); every other
//! group keeps within it. Nothing happens after [`crate::LAST_DAY`].

use serde_json::{Value, json};

use crate::{
    Generator, ROOT,
    clock::{At, Day, Desk},
    current::{Course, FINISH_MILESTONE, Given, MIDYEAR_MILESTONE, SURVEY_MILESTONE},
    rng::Rng,
};

/// The year 2026 as an evaluation period (open).
pub const YEAR_PERIOD: &str = "2026";
/// The quarters of 2026: the first two closed, the third decided and open,
/// the fourth open.
pub const QUARTERS: [&str; 4] = ["2026-q1", "2026-q2", "2026-q3", "2026-q4"];
/// The peer group of the district-level leaders (heads of agencies and
/// departments, Đỗ Xuân Phúc among them).
pub const DISTRICT_PEER_GROUP: &str = "lanh-dao-cap-huyen";
/// The peer group of the communes' party secretaries.
pub const SECRETARY_PEER_GROUP: &str = "bi-thu-xa";
/// The peer group of the communes' People's Committee chairs.
pub const CHAIR_PEER_GROUP: &str = "chu-tich-xa";
/// The one group over the excellent quota in 2026, as (period, evaluating
/// body, peer group): two excellent beside seven good, where the limit is
/// one.
pub const QUOTA_EXCEEDED_2026: (&str, &str, &str) = ("2026-q1", ROOT, DISTRICT_PEER_GROUP);
/// The milestone two plans add in July, due in the third quarter.
pub const THIRD_QUARTER_MILESTONE: &str = "Báo cáo Thường trực kết quả thực hiện quý III";

/// The committee's decision on one cadre for one quarter: `n` is the
/// task's number in `current.rs` (1-based), whose assignee is assessed.
#[derive(Clone, Copy)]
struct Verdict {
    n: usize,
    general: u32,
    task_points: Option<u32>,
    rating: Option<&'static str>,
    disqualified: Option<&'static str>,
    comment: Option<&'static str>,
}

const fn v(n: usize, general: u32) -> Verdict {
    Verdict {
        n,
        general,
        task_points: None,
        rating: None,
        disqualified: None,
        comment: None,
    }
}

impl Verdict {
    /// Task points the committee gives a cadre without products.
    const fn tp(mut self, points: u32) -> Verdict {
        self.task_points = Some(points);
        self
    }

    /// A rating below the ceiling, with the reason.
    const fn good(mut self, comment: &'static str) -> Verdict {
        self.rating = Some("good");
        self.comment = Some(comment);
        self
    }

    const fn note(mut self, comment: &'static str) -> Verdict {
        self.comment = Some(comment);
        self
    }

    const fn disqualified(mut self, reason: &'static str, comment: &'static str) -> Verdict {
        self.disqualified = Some(reason);
        self.comment = Some(comment);
        self
    }
}

const QUOTA_NOTE: &str =
    "Điểm đủ xuất sắc; Thường trực đề nghị xếp loại tốt để bảo đảm tỷ lệ xuất sắc";

/// The first quarter: one product each (the survey milestone, due 31
/// March). The district-level group gets two excellent and seven good.
const Q1: [Verdict; 16] = [
    v(1, 26).note("Hoàn thành rà soát đúng hạn, chất lượng tốt"),
    v(2, 18),
    v(3, 21).good(QUOTA_NOTE),
    v(4, 22),
    v(5, 18),
    v(6, 25).note("Hoàn thành rà soát sớm, đề xuất giải pháp sát thực tế"),
    v(7, 18).note("Chưa hoàn thành rà soát trong quý"),
    v(8, 19),
    v(9, 20).good(QUOTA_NOTE),
    v(10, 17),
    v(11, 20)
        .tp(52)
        .note("Chưa có kế hoạch thực hiện; chấm kết quả theo công việc được giao khác"),
    v(12, 24).good(QUOTA_NOTE),
    v(13, 21),
    v(14, 20).note("Báo cáo rà soát nộp sau khi hết quý"),
    v(15, 22).good(QUOTA_NOTE),
    v(16, 15).note("Báo cáo rà soát còn nhiều sai sót"),
];

/// The second quarter: the mid-year milestone, or for the tasks done
/// early the task and its last milestone. Decision 8 is first taken
/// before its review ([`REDECIDED`]).
const Q2: [Verdict; 16] = [
    v(1, 20).good(QUOTA_NOTE),
    v(2, 19),
    v(3, 21).good(QUOTA_NOTE),
    v(4, 20).note("Sơ kết 6 tháng nộp sau khi hết quý"),
    v(5, 19),
    v(6, 26).note("Hoàn thành nhiệm vụ trước hạn, không có sai sót"),
    v(7, 20).good(QUOTA_NOTE),
    v(8, 21),
    v(9, 24),
    v(10, 18),
    v(11, 20).tp(45),
    v(12, 22).good(QUOTA_NOTE),
    v(13, 21).note("Sơ kết 6 tháng nộp sau khi hết quý"),
    v(14, 19).note("Chưa sơ kết 6 tháng"),
    v(15, 23).good(QUOTA_NOTE),
    v(16, 24).disqualified(
        "discipline",
        "Bị kỷ luật khiển trách trong quý (minh họa): xếp loại không hoàn thành nhiệm vụ",
    ),
];

/// The task whose second-quarter decision is replaced after its review.
const REDECIDED: usize = 8;

/// The third quarter: the two tasks due 30 September (not done) and the
/// milestone added in July; everyone else has no product, so the
/// committee gives task points.
const Q3: [Verdict; 16] = [
    v(1, 24).tp(60),
    v(2, 22).tp(58),
    v(3, 22).note("Báo cáo quý III đúng hạn"),
    v(4, 18).tp(40),
    v(5, 20).note("Không hoàn thành nhiệm vụ đến hạn 30/9"),
    v(6, 24).tp(62),
    v(7, 17).tp(45),
    v(8, 22).tp(60),
    v(9, 23).tp(63),
    v(10, 21).note("Không hoàn thành nhiệm vụ đến hạn 30/9"),
    v(11, 20).tp(50),
    v(12, 22).note("Báo cáo quý III chậm so với hạn"),
    v(13, 18).tp(42),
    v(14, 15).tp(30),
    v(15, 24).tp(62),
    v(16, 20).tp(48),
];

/// Cadres (by task number) who do not assess themselves in each quarter.
const NO_SELF: [&[usize]; 3] = [&[7, 14], &[14], &[14]];

/// Tasks whose plans add [`THIRD_QUARTER_MILESTONE`] in July, with the day
/// it is done: task 3 on time, task 12 after its due (31 August).
const THIRD_QUARTER: [(usize, (u32, u32)); 2] = [(3, (8, 27)), (12, (9, 11))];

impl Generator {
    /// Appends the evaluation by period of 2026 (see the module's
    /// documentation) on the tasks `given` of the current cycle.
    pub(crate) fn periods(&mut self, given: &[Given]) {
        assert_eq!(given.len(), 16, "the script follows current.rs's tasks");
        for (n, course) in [
            (5, Course::Late(0.0)),
            (6, Course::DoneEarly),
            (7, Course::Silent(0.0)),
            (9, Course::DoneEarly),
            (10, Course::Late(0.0)),
            (11, Course::Unplanned),
            (14, Course::Silent(0.0)),
        ] {
            assert_eq!(
                std::mem::discriminant(&given[n - 1].course),
                std::mem::discriminant(&course),
                "task {n} of current.rs changed its course"
            );
        }
        let mut rng = Rng::new(2026);
        let secretary = self.secretary_id();
        let deputy = self.cadres[self.deputy].id.clone();

        // The periods, each opened on its first working day.
        let year = At::hm(Day::ymd(2026, 1, 5), 8, 10);
        self.open_period(year, YEAR_PERIOD, "year", (1, 1), (12, 31), &secretary);
        let quarters = [
            (At::hm(Day::ymd(2026, 1, 5), 8, 15), (1, 1), (3, 31)),
            (At::hm(Day::ymd(2026, 4, 1), 8, 0), (4, 1), (6, 30)),
            (At::hm(Day::ymd(2026, 7, 1), 8, 0), (7, 1), (9, 30)),
            (At::hm(Day::ymd(2026, 10, 1), 8, 0), (10, 1), (12, 31)),
        ];
        for (slug, (at, from, to)) in QUARTERS.iter().zip(quarters) {
            self.open_period(at, slug, "quarter", from, to, &secretary);
        }

        // First quarter: the survey, done in March by all but two.
        for g in given.iter().filter(|g| !g.milestones.is_empty()) {
            let n = number(given, g);
            let on = match n {
                7 => continue,
                14 => Day::ymd(2026, 4, 9),
                _ => Day::random_workday(&mut rng, Day::ymd(2026, 3, 9), Day::ymd(2026, 3, 27)),
            };
            self.complete(&mut rng, g, SURVEY_MILESTONE, on);
        }
        self.self_assess(&mut rng, given, 0, (4, 1), (4, 7));
        let mut desk = Desk::starting(At::hm(Day::ymd(2026, 4, 8), 14, 0));
        for (n, errors, comment) in [
            (1, 0, "Báo cáo rà soát đầy đủ, số liệu khớp"),
            (4, 1, "Thiếu số liệu của hai đơn vị"),
            (13, 2, "Số liệu hộ nghèo sai, thiếu biểu tổng hợp"),
            (
                16,
                3,
                "Số liệu không khớp với báo cáo của thôn; thiếu danh sách; sai biểu mẫu",
            ),
        ] {
            let at = desk.next(&mut rng, 600, 1800);
            self.review(
                at,
                &given[n - 1],
                Some(SURVEY_MILESTONE),
                errors,
                comment,
                &secretary,
            );
        }
        let mut desk = Desk::starting(At::hm(Day::ymd(2026, 4, 14), 8, 0));
        for verdict in Q1 {
            let at = desk.next(&mut rng, 600, 2400);
            self.decide(at, given, QUARTERS[0], &verdict, &secretary);
        }
        self.close_period(
            At::hm(Day::ymd(2026, 4, 30), 16, 0),
            QUARTERS[0],
            &secretary,
        );

        // Second quarter: the mid-year review, or the finished task.
        for g in given.iter().filter(|g| !g.milestones.is_empty()) {
            let n = number(given, g);
            let (title, on) = match (n, g.course) {
                (_, Course::DoneEarly) => (FINISH_MILESTONE, Day::ymd(2026, 6, 29)),
                (14, _) => continue,
                (4, _) => (MIDYEAR_MILESTONE, Day::ymd(2026, 7, 8)),
                (13, _) => (MIDYEAR_MILESTONE, Day::ymd(2026, 7, 15)),
                (7, _) => (MIDYEAR_MILESTONE, Day::ymd(2026, 6, 26)),
                _ => (
                    MIDYEAR_MILESTONE,
                    Day::random_workday(&mut rng, Day::ymd(2026, 6, 15), Day::ymd(2026, 6, 26)),
                ),
            };
            self.complete(&mut rng, g, title, on);
        }
        self.self_assess(&mut rng, given, 1, (7, 1), (7, 7));
        let mut desk = Desk::starting(At::hm(Day::ymd(2026, 7, 8), 14, 0));
        for (n, milestone, errors, comment) in [
            (
                6,
                None,
                0,
                "Sản phẩm đạt yêu cầu, các chỉ tiêu được xác nhận",
            ),
            (
                9,
                Some(FINISH_MILESTONE),
                2,
                "Hồ sơ nghiệm thu thiếu biên bản của hai xã; danh sách hộ chưa khớp",
            ),
        ] {
            let at = desk.next(&mut rng, 600, 1800);
            self.review(at, &given[n - 1], milestone, errors, comment, &secretary);
        }
        let mut desk = Desk::starting(At::hm(Day::ymd(2026, 7, 13), 8, 0));
        for verdict in Q2 {
            let at = desk.next(&mut rng, 600, 2400);
            self.decide(at, given, QUARTERS[1], &verdict, &deputy);
        }
        // A review of task 8's mid-year report comes in; the decision is
        // taken again while the quarter is open.
        self.review(
            At::hm(Day::ymd(2026, 7, 20), 15, 10),
            &given[REDECIDED - 1],
            Some(MIDYEAR_MILESTONE),
            1,
            "Báo cáo sơ kết thiếu đánh giá nguyên nhân chậm",
            &secretary,
        );
        self.decide(
            At::hm(Day::ymd(2026, 7, 22), 9, 0),
            given,
            QUARTERS[1],
            &v(REDECIDED, 21).note("Quyết định lại sau kết quả thẩm định sản phẩm"),
            &deputy,
        );
        self.close_period(
            At::hm(Day::ymd(2026, 7, 31), 16, 0),
            QUARTERS[1],
            &secretary,
        );

        // Third quarter: two plans add a report due 31 August.
        for (k, (n, (month, day))) in THIRD_QUARTER.into_iter().enumerate() {
            let g = &given[n - 1];
            let c = self.cadres[g.cadre].clone();
            let mut milestones = g.milestones.clone();
            milestones.insert(
                milestones.len() - 1,
                json!({"title": THIRD_QUARTER_MILESTONE, "due": "2026-08-31"}),
            );
            let mut solutions = g.solutions.clone();
            solutions.push("Báo cáo Thường trực kết quả quý III trước ngày 31/8".to_owned());
            self.push(
                At::hm(Day::ymd(2026, 7, 6 + k as u32), 10, 30),
                &c.unit,
                &c.id,
                "plan.submitted",
                json!({"task_id": g.id, "solutions": solutions, "milestones": milestones}),
            );
            self.complete(
                &mut rng,
                g,
                THIRD_QUARTER_MILESTONE,
                Day::ymd(2026, month, day),
            );
        }
        self.review(
            At::hm(Day::ymd(2026, 9, 15), 9, 40),
            &given[THIRD_QUARTER[0].0 - 1],
            Some(THIRD_QUARTER_MILESTONE),
            0,
            "Báo cáo đầy đủ, đúng hạn",
            &secretary,
        );
        self.self_assess(&mut rng, given, 2, (10, 1), (10, 7));
        let mut desk = Desk::starting(At::hm(Day::ymd(2026, 10, 12), 8, 0));
        for verdict in Q3 {
            let at = desk.next(&mut rng, 600, 2400);
            self.decide(at, given, QUARTERS[2], &verdict, &secretary);
        }
    }

    fn open_period(
        &mut self,
        at: At,
        slug: &str,
        kind: &str,
        (m0, d0): (u32, u32),
        (m1, d1): (u32, u32),
        secretary: &str,
    ) {
        self.push(
            at,
            ROOT,
            secretary,
            "period.opened",
            json!({"period": slug, "kind": kind,
                   "starts_on": Day::ymd(2026, m0, d0).to_string(),
                   "ends_on": Day::ymd(2026, m1, d1).to_string()}),
        );
    }

    fn close_period(&mut self, at: At, slug: &str, secretary: &str) {
        self.push(
            at,
            ROOT,
            secretary,
            "period.closed",
            json!({"period": slug}),
        );
    }

    /// The assignee marks a milestone completed on `on`, sending it that
    /// day (never before: a completion is not from the future).
    fn complete(&mut self, rng: &mut Rng, g: &Given, milestone: &str, on: Day) {
        let c = self.cadres[g.cadre].clone();
        self.push(
            At::office(rng, on),
            &c.unit,
            &c.id,
            "milestone.completed",
            json!({"task_id": g.id, "milestone": milestone, "completed_on": on.to_string()}),
        );
    }

    /// The body that gave the task (the district's) reviews a product.
    fn review(
        &mut self,
        at: At,
        g: &Given,
        milestone: Option<&str>,
        errors: u32,
        comment: &str,
        judge: &str,
    ) {
        let mut data = json!({"task_id": g.id, "major_errors": errors, "comment": comment});
        if let Some(title) = milestone {
            data["milestone"] = json!(title);
        }
        self.push(at, ROOT, judge, "product.reviewed", data);
    }

    /// The cadres assess themselves in the first week after quarter `q`
    /// (0-based), a little above what the committee will give.
    fn self_assess(
        &mut self,
        rng: &mut Rng,
        given: &[Given],
        q: usize,
        from: (u32, u32),
        to: (u32, u32),
    ) {
        let verdicts = [&Q1, &Q2, &Q3][q];
        for verdict in verdicts.iter() {
            if NO_SELF[q].contains(&verdict.n) {
                continue;
            }
            let c = self.cadres[given[verdict.n - 1].cadre].clone();
            let points = (verdict.general + rng.range(0, 3) as u32).min(30);
            let at = At::office_between(
                rng,
                Day::ymd(2026, from.0, from.1),
                Day::ymd(2026, to.0, to.1),
            );
            self.push(
                at,
                &c.unit,
                &c.id,
                "assessment.self_submitted",
                json!({"period": QUARTERS[q], "general_points": points,
                       "note": "Hoàn thành các nội dung theo kế hoạch của quý"}),
            );
        }
    }

    /// The district's Standing Committee (the evaluating body) decides.
    fn decide(&mut self, at: At, given: &[Given], period: &str, verdict: &Verdict, judge: &str) {
        let c = self.cadres[given[verdict.n - 1].cadre].clone();
        let mut data = json!({"cadre": c.id, "period": period,
                              "peer_group": peer_group(verdict.n),
                              "general_points": verdict.general});
        let fields: [(&str, Option<Value>); 4] = [
            ("task_points", verdict.task_points.map(|p| json!(p))),
            ("rating", verdict.rating.map(|r| json!(r))),
            ("disqualified", verdict.disqualified.map(|r| json!(r))),
            ("comment", verdict.comment.map(|r| json!(r))),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                data[name] = value;
            }
        }
        self.push(at, ROOT, judge, "assessment.decided", data);
    }
}

/// The number (1-based) of a task of `given`.
fn number(given: &[Given], g: &Given) -> usize {
    given.iter().position(|x| x.id == g.id).map_or(0, |i| i + 1)
}

/// The peer group of the assignee of task `n`: Phúc and the district-level
/// leaders, the new commune's chair, the communes' party secretaries.
fn peer_group(n: usize) -> &'static str {
    match n {
        2 => CHAIR_PEER_GROUP,
        12.. => SECRETARY_PEER_GROUP,
        _ => DISTRICT_PEER_GROUP,
    }
}
