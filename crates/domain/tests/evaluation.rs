//! The rules of CONTRACT.md part A (evaluating cadres by period), as
//! executable specifications in the style of `rules.rs`: given the fixture
//! world of `support` and an evaluation period, when a submission arrives,
//! then it is accepted (and the event says what the writer computed) or
//! rejected with the contract's code, naming the offending field.

mod support;

use dotpha_domain::{
    RejectionCode as Code,
    payload::{Payload, Rating},
};
use serde_json::{Value, json};
use support::*;
use unicode_normalization::UnicodeNormalization;

/// The second quarter of 2021: April to June.
const Q2: &str = "2021-q2";
/// Hoàng Thế Mạnh's peer group.
const CHAIRS: &str = "chu-tich-xa";

const M1: &str = "Ký cam kết với cơ sở kinh doanh";
const M2: &str = "Thí điểm thu gom rác tại thôn Đồng Diễn";

fn period_opened(period: &str, kind: &str, starts_on: &str, ends_on: &str) -> Value {
    submission(
        SON_DUONG,
        DISTRICT_SC,
        "period.opened",
        json!({"period": period, "kind": kind, "starts_on": starts_on, "ends_on": ends_on}),
    )
}

fn period_closed(period: &str) -> Value {
    submission(
        SON_DUONG,
        DISTRICT_SC,
        "period.closed",
        json!({"period": period}),
    )
}

/// A milestone completed on `on`, sent that evening.
fn milestone_done(envelope: &str, actor: &str, task: &str, title: &str, on: &str) -> Value {
    submission(
        envelope,
        actor,
        "milestone.completed",
        json!({"task_id": task, "milestone": title, "completed_on": on}),
    )
    .sent_at(&format!("{on}T17:00:00+07:00"))
}

fn review(envelope: &str, actor: &str, task: &str, milestone: Option<&str>, errors: i64) -> Value {
    let mut data = json!({"task_id": task, "major_errors": errors, "comment": "Đã kiểm tra"});
    if let Some(m) = milestone {
        data["milestone"] = json!(m);
    }
    submission(envelope, actor, "product.reviewed", data).sent_at("2021-07-01T09:00:00+07:00")
}

fn self_assessed(envelope: &str, actor: &str, period: &str, points: Value) -> Value {
    submission(
        envelope,
        actor,
        "assessment.self_submitted",
        json!({"period": period, "general_points": points, "note": "Tự nhận xét"}),
    )
    .sent_at("2021-07-02T09:00:00+07:00")
}

fn decided(envelope: &str, actor: &str, cadre: &str, period: &str, general: Value) -> Value {
    submission(
        envelope,
        actor,
        "assessment.decided",
        json!({"cadre": cadre, "period": period, "peer_group": CHAIRS,
               "general_points": general, "comment": "Ban Thường vụ quyết định"}),
    )
    .sent_at("2021-07-05T09:00:00+07:00")
}

/// Hoàng Thế Mạnh's plan revised with `milestones` (title, due).
fn plan_with(milestones: &[(&str, &str)]) -> Value {
    plan(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS).with(
        "data.milestones",
        Value::Array(
            milestones
                .iter()
                .map(|(title, due)| json!({"title": title, "due": due}))
                .collect(),
        ),
    )
}

/// The world with Q2 open and Hoàng Thế Mạnh's task (approved by the
/// district) planned with two milestones in Q2: M1 due 15 May, M2 due 15
/// June.
fn q2() -> Scenario {
    Scenario::world().and(&[
        period_opened(Q2, "quarter", "2021-04-01", "2021-06-30"),
        plan_with(&[(M1, "2021-05-15"), (M2, "2021-06-15")]),
    ])
}

/// The products of the decision event, as (milestone, done_on, q, l, p).
fn products(data: &Value) -> Vec<(Value, Value, f64, f64, f64)> {
    data["products"]
        .as_array()
        .expect("products in the event")
        .iter()
        .map(|p| {
            (
                p["milestone"].clone(),
                p["done_on"].clone(),
                p["q"].as_f64().expect("q"),
                p["l"].as_f64().expect("l"),
                p["p"].as_f64().expect("p"),
            )
        })
        .collect()
}

// ================================================================ periods

mod periods {
    use super::*;

    #[test]
    fn the_root_standing_committee_opens_and_closes_periods_that_may_overlap() {
        let opened = Scenario::world()
            .when(period_opened("2021", "year", "2021-01-01", "2021-12-31"))
            .then_accepts();
        assert_eq!(opened.event().stream, "period-2021");
        opened
            .and_then(period_opened(Q2, "quarter", "2021-04-01", "2021-06-30"))
            .then_accepts()
            .and_then(period_closed(Q2))
            .then_accepts();
    }

    #[test]
    fn nobody_else_opens_or_closes_a_period() {
        Scenario::world()
            .when(
                period_opened(Q2, "quarter", "2021-04-01", "2021-06-30")
                    .with("unit", json!(HOP_THANH))
                    .with("actor", json!(HT_SECRETARY)),
            )
            .then_rejects(Code::Forbidden, Some("actor"));
        q2().when(
            period_closed(Q2)
                .with("unit", json!(HOP_THANH))
                .with("actor", json!(HOANG_THE_MANH)),
        )
        .then_rejects(Code::Forbidden, Some("actor"));
    }

    #[test]
    fn a_period_is_opened_once_and_ends_after_it_starts() {
        q2().when(period_opened(Q2, "quarter", "2021-04-01", "2021-06-30"))
            .then_rejects(Code::AlreadyExists, Some("data.period"));
        Scenario::world()
            .when(period_opened(Q2, "quarter", "2021-06-30", "2021-04-01"))
            .then_rejects(Code::InvalidValue, Some("data.ends_on"));
        Scenario::world()
            .when(period_opened(Q2, "season", "2021-04-01", "2021-06-30"))
            .then_rejects(Code::Malformed, Some("data.kind"));
    }

    #[test]
    fn a_period_is_closed_once_and_only_when_it_exists() {
        Scenario::world()
            .when(period_closed(Q2))
            .then_rejects(Code::InvalidValue, Some("data.period"));
        q2().and(&[period_closed(Q2)])
            .when(period_closed(Q2))
            .then_rejects(Code::InvalidState, Some("data.period"));
    }
}

// ============================================================= milestones

mod milestones {
    use super::*;

    #[test]
    fn the_assignee_or_a_cadre_of_the_assignees_unit_completes_a_milestone() {
        let done = q2()
            .when(milestone_done(
                HOP_THANH,
                HOANG_THE_MANH,
                T_IN_PROGRESS,
                M1,
                "2021-05-10",
            ))
            .then_accepts();
        assert_eq!(done.event().stream, format!("task-{T_IN_PROGRESS}"));
        q2().when(milestone_done(
            HOP_THANH,
            HT_CADRE,
            T_IN_PROGRESS,
            M1,
            "2021-05-10",
        ))
        .then_accepts();
        q2().when(milestone_done(
            PHUC_UNG,
            PU_CADRE,
            T_IN_PROGRESS,
            M1,
            "2021-05-10",
        ))
        .then_rejects(Code::Forbidden, Some("actor"));
    }

    #[test]
    fn the_milestone_must_be_in_the_current_plan_after_nfc() {
        q2().when(milestone_done(
            HOP_THANH,
            HOANG_THE_MANH,
            T_IN_PROGRESS,
            "Hoàn thành ký cam kết",
            "2021-05-10",
        ))
        .then_rejects(Code::InvalidValue, Some("data.milestone"));
        let decomposed: String = M1.nfd().collect();
        assert_ne!(decomposed, M1);
        q2().when(milestone_done(
            HOP_THANH,
            HOANG_THE_MANH,
            T_IN_PROGRESS,
            &decomposed,
            "2021-05-10",
        ))
        .then_accepts();
    }

    #[test]
    fn a_milestone_is_completed_once() {
        q2().and(&[milestone_done(
            HOP_THANH,
            HOANG_THE_MANH,
            T_IN_PROGRESS,
            M1,
            "2021-05-10",
        )])
        .when(milestone_done(
            HOP_THANH,
            HT_CADRE,
            T_IN_PROGRESS,
            M1,
            "2021-05-12",
        ))
        .then_rejects(Code::AlreadyExists, Some("data.milestone"));
    }

    #[test]
    fn a_milestone_is_not_completed_in_the_future() {
        q2().when(
            milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M1, "2021-05-10")
                .sent_at("2021-05-09T23:59:00+07:00"),
        )
        .then_rejects(Code::InvalidValue, Some("data.completed_on"));
        // The day is Vietnam's: 17:30 UTC on 9 May is 00:30 on 10 May in UTC+7.
        q2().when(
            milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M1, "2021-05-10")
                .sent_at("2021-05-09T17:30:00Z"),
        )
        .then_accepts();
    }

    #[test]
    fn an_evaluated_task_still_records_what_was_done() {
        let evaluated = q2().and(&[evaluate(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS)
            .with("data.rating", json!("good"))
            .sent_at("2021-07-01T08:00:00+07:00")]);
        evaluated
            .clone()
            .when(milestone_done(
                HOP_THANH,
                HOANG_THE_MANH,
                T_IN_PROGRESS,
                M1,
                "2021-05-10",
            ))
            .then_accepts();
        evaluated
            .when(review(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS, Some(M1), 1))
            .then_accepts();
    }

    #[test]
    fn a_task_awaiting_approval_has_no_products_yet() {
        Scenario::world()
            .when(review(HOP_THANH, HT_SECRETARY, T_REGISTERED, None, 0))
            .then_rejects(Code::InvalidState, Some("data.task_id"));
    }

    #[test]
    fn a_cancelled_task_completes_no_milestone() {
        q2().and(&[cancel(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS)])
            .when(milestone_done(
                HOP_THANH,
                HOANG_THE_MANH,
                T_IN_PROGRESS,
                M1,
                "2021-05-10",
            ))
            .then_rejects(Code::InvalidState, Some("data.task_id"));
    }
}

// ================================================================ reviews

mod reviews {
    use super::*;

    #[test]
    fn the_body_that_gave_the_task_reviews_its_products() {
        // Hoàng Thế Mạnh's task was approved by the district.
        q2().when(review(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS, Some(M1), 1))
            .then_accepts();
        q2().when(review(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS, None, 0))
            .then_accepts();
        q2().when(review(HOP_THANH, HT_SECRETARY, T_IN_PROGRESS, Some(M1), 1))
            .then_rejects(Code::Forbidden, Some("actor"));
        q2().when(review(
            HOP_THANH,
            HOANG_THE_MANH,
            T_IN_PROGRESS,
            Some(M1),
            0,
        ))
        .then_rejects(Code::Forbidden, Some("actor"));
    }

    #[test]
    fn nobody_reviews_their_own_product() {
        const SC2: &str = "hoang-van-duc";
        let world = Scenario::world().and(&[
            cadre(
                SON_DUONG,
                DISTRICT_SC,
                SC2,
                "Hoàng Văn Đức",
                SON_DUONG,
                "Phó Chủ tịch UBND huyện",
                true,
            ),
            task_assigned(SON_DUONG, SC2, "t-cua-uy-vien", DISTRICT_SC, json!([])),
        ]);
        let rejection = world
            .clone()
            .when(review(SON_DUONG, DISTRICT_SC, "t-cua-uy-vien", None, 0))
            .then_rejects(Code::Forbidden, Some("actor"));
        assert!(
            rejection.message.contains("own work"),
            "{}",
            rejection.message
        );
        world
            .when(review(SON_DUONG, SC2, "t-cua-uy-vien", None, 0))
            .then_accepts();
    }

    #[test]
    fn a_review_names_a_milestone_of_the_current_plan_and_counts_errors_from_zero() {
        q2().when(review(
            SON_DUONG,
            DISTRICT_SC,
            T_IN_PROGRESS,
            Some("Khác"),
            0,
        ))
        .then_rejects(Code::InvalidValue, Some("data.milestone"));
        q2().when(review(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS, Some(M1), -1))
            .then_rejects(Code::InvalidValue, Some("data.major_errors"));
        q2().when(
            review(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS, Some(M1), 0)
                .with("data.major_errors", json!(1.5)),
        )
        .then_rejects(Code::Malformed, Some("data.major_errors"));
    }
}

// ======================================================== self-assessment

mod self_assessment {
    use super::*;

    #[test]
    fn a_cadre_assesses_themself_in_their_own_stream() {
        let accepted = q2()
            .when(self_assessed(HOP_THANH, HOANG_THE_MANH, Q2, json!(27.5)))
            .then_accepts();
        assert_eq!(
            accepted.event().stream,
            format!("assessment-{Q2}-{HOANG_THE_MANH}")
        );
        let record = accepted
            .after
            .state
            .assessment(Q2, HOANG_THE_MANH)
            .expect("recorded");
        assert_eq!(record.self_points.map(|p| p.hundredths()), Some(2750));
    }

    #[test]
    fn self_points_lie_within_0_and_30_with_at_most_two_decimals() {
        for (points, code) in [
            (json!(30.01), Code::InvalidValue),
            (json!(-1), Code::InvalidValue),
            (json!(25.555), Code::InvalidValue),
            (json!("25"), Code::Malformed),
        ] {
            q2().when(self_assessed(HOP_THANH, HOANG_THE_MANH, Q2, points))
                .then_rejects(code, Some("data.general_points"));
        }
        q2().when(self_assessed(HOP_THANH, HOANG_THE_MANH, Q2, json!(30)))
            .then_accepts();
    }

    #[test]
    fn a_self_assessment_needs_an_open_period() {
        q2().when(self_assessed(
            HOP_THANH,
            HOANG_THE_MANH,
            "2021-q3",
            json!(25),
        ))
        .then_rejects(Code::InvalidValue, Some("data.period"));
        q2().and(&[period_closed(Q2)])
            .when(self_assessed(HOP_THANH, HOANG_THE_MANH, Q2, json!(25)))
            .then_rejects(Code::InvalidState, Some("data.period"));
    }
}

// ============================================================== decisions

mod decisions {
    use super::*;

    fn decide_manh(general: Value) -> Value {
        decided(SON_DUONG, DISTRICT_SC, HOANG_THE_MANH, Q2, general)
    }

    #[test]
    fn the_event_carries_what_the_writer_computed() {
        let accepted = q2()
            .and(&[
                milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M1, "2021-05-10"),
                milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M2, "2021-06-15"),
            ])
            .when(decide_manh(json!(25)))
            .then_accepts();
        let data = accepted.data();
        assert_eq!(
            accepted.event().stream,
            format!("assessment-{Q2}-{HOANG_THE_MANH}")
        );
        assert_eq!(data["scheme"], json!("nd335-2025"));
        assert_eq!(
            data["products"],
            json!([
                {"task_id": T_IN_PROGRESS, "milestone": M1, "due": "2021-05-15",
                 "done_on": "2021-05-10", "q": 1, "l": 1, "p": 1},
                {"task_id": T_IN_PROGRESS, "milestone": M2, "due": "2021-06-15",
                 "done_on": "2021-06-15", "q": 1, "l": 1, "p": 1},
            ])
        );
        assert_eq!(data["task_points"], json!(70));
        assert_eq!(data["total"], json!(95));
        assert_eq!(data["ceiling"], json!("excellent"));
        assert_eq!(data["rating"], json!("excellent"));
        assert_eq!(data["peer_group"], json!(CHAIRS));
        let record = accepted
            .after
            .state
            .assessment(Q2, HOANG_THE_MANH)
            .expect("recorded");
        let decided = record.decided.as_ref().expect("decided");
        assert_eq!(decided.evaluating_unit.as_str(), SON_DUONG);
        assert_eq!(decided.rating, Rating::Excellent);
    }

    #[test]
    fn a_product_done_late_gets_three_quarters_progress_and_70_times_11_twelfths_is_64_17() {
        let data = q2()
            .and(&[
                plan_with(&[(M1, "2021-05-15")]),
                milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M1, "2021-05-20"),
            ])
            .when(decide_manh(json!(20)))
            .then_accepts()
            .data();
        assert_eq!(
            products(&data),
            [(json!(M1), json!("2021-05-20"), 1.0, 1.0, 0.75)]
        );
        assert_eq!(data["task_points"], json!(64.17));
        assert_eq!(data["total"], json!(84.17));
        assert_eq!(data["ceiling"], json!("good"));
    }

    #[test]
    fn a_product_not_done_by_the_periods_end_scores_nothing() {
        let data = q2()
            .and(&[
                milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M1, "2021-05-10"),
                // M2 is done, but in July: after the period's end.
                milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M2, "2021-07-02"),
            ])
            .when(decide_manh(json!(25)))
            .then_accepts()
            .data();
        assert_eq!(
            products(&data)[1],
            (json!(M2), json!("2021-07-02"), 0.0, 0.0, 0.0)
        );
        // 70 × (3 + 0) / 6 = 35
        assert_eq!(data["task_points"], json!(35));
        let data = q2().when(decide_manh(json!(25))).then_accepts().data();
        assert_eq!(
            products(&data),
            [
                (json!(M1), Value::Null, 0.0, 0.0, 0.0),
                (json!(M2), Value::Null, 0.0, 0.0, 0.0)
            ]
        );
        assert_eq!(data["task_points"], json!(0));
        assert_eq!(data["ceiling"], json!("not_completed"));
    }

    #[test]
    fn two_major_errors_halve_quality_and_the_latest_review_counts() {
        let reviewed = q2().and(&[
            milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M1, "2021-05-10"),
            milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M2, "2021-06-10"),
            review(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS, Some(M1), 4),
            review(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS, Some(M1), 2),
        ]);
        let data = reviewed.when(decide_manh(json!(25))).then_accepts().data();
        assert_eq!(
            products(&data)[0],
            (json!(M1), json!("2021-05-10"), 1.0, 0.5, 1.0)
        );
        // 70 × (2.5 + 3) / 6 = 64.1666… → 64.17
        assert_eq!(data["task_points"], json!(64.17));
    }

    #[test]
    fn a_total_of_92_with_one_late_product_has_ceiling_good() {
        let late = q2().and(&[
            milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M1, "2021-05-20"),
            milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M2, "2021-06-10"),
        ]);
        // T = 70 × (2.75 + 3) / 6 = 67.08; 24.92 + 67.08 = 92.
        let data = late
            .clone()
            .when(decide_manh(json!(24.92)))
            .then_accepts()
            .data();
        assert_eq!(data["task_points"], json!(67.08));
        assert_eq!(data["total"], json!(92));
        assert_eq!(data["ceiling"], json!("good"));
        assert_eq!(data["rating"], json!("good"));
        let rejection = late
            .when(decide_manh(json!(24.92)).with("data.rating", json!("excellent")))
            .then_rejects(Code::InvalidValue, Some("data.rating"));
        assert!(rejection.message.contains("good"), "{}", rejection.message);
    }

    #[test]
    fn a_total_of_75_with_an_undone_product_has_ceiling_completed_when_80_percent_are_done() {
        let five = [
            ("Mốc 1", "2021-04-15"),
            ("Mốc 2", "2021-04-30"),
            ("Mốc 3", "2021-05-15"),
            ("Mốc 4", "2021-05-31"),
            ("Mốc 5", "2021-06-15"),
        ];
        let mut history = vec![plan_with(&five)];
        for (title, due) in &five[..4] {
            history.push(milestone_done(
                HOP_THANH,
                HOANG_THE_MANH,
                T_IN_PROGRESS,
                title,
                due,
            ));
        }
        // T = 70 × 48 / 60 = 56; 19 + 56 = 75.
        let data = q2()
            .and(&history)
            .when(decide_manh(json!(19)))
            .then_accepts()
            .data();
        assert_eq!(
            (&data["task_points"], &data["total"]),
            (&json!(56), &json!(75))
        );
        assert_eq!(data["ceiling"], json!("completed"));
        // Three of five done (60%): not completed, whatever the score.
        let data = q2()
            .and(&history[..4])
            .when(decide_manh(json!(30)))
            .then_accepts()
            .data();
        assert_eq!(data["ceiling"], json!("not_completed"));
    }

    #[test]
    fn disqualified_caps_at_not_completed() {
        let done = q2().and(&[
            milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M1, "2021-05-10"),
            milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M2, "2021-06-10"),
        ]);
        for reason in ["degradation", "discipline", "corruption_in_unit"] {
            let data = done
                .clone()
                .when(decide_manh(json!(30)).with("data.disqualified", json!(reason)))
                .then_accepts()
                .data();
            assert_eq!(data["total"], json!(100));
            assert_eq!(data["ceiling"], json!("not_completed"));
            assert_eq!(data["rating"], json!("not_completed"));
            assert_eq!(data["disqualified"], json!(reason));
        }
        done.clone()
            .when(
                decide_manh(json!(30))
                    .with("data.disqualified", json!("discipline"))
                    .with("data.rating", json!("completed")),
            )
            .then_rejects(Code::InvalidValue, Some("data.rating"));
        done.when(decide_manh(json!(30)).with("data.disqualified", json!("lazy")))
            .then_rejects(Code::Malformed, Some("data.disqualified"));
    }

    #[test]
    fn a_rating_at_or_below_the_ceiling_is_the_committees_to_give() {
        let data = q2()
            .and(&[
                milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M1, "2021-05-10"),
                milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M2, "2021-06-10"),
            ])
            .when(decide_manh(json!(25)).with("data.rating", json!("good")))
            .then_accepts()
            .data();
        assert_eq!(
            (&data["ceiling"], &data["rating"]),
            (&json!("excellent"), &json!("good"))
        );
    }

    #[test]
    fn no_products_requires_task_points_and_products_forbid_them() {
        // Lê Văn Tuấn's only task awaits approval and is due in December.
        let without = || decided(HOP_THANH, HT_SECRETARY, HT_CADRE, Q2, json!(22));
        q2().when(without())
            .then_rejects(Code::InvalidValue, Some("data.task_points"));
        let data = q2()
            .when(without().with("data.task_points", json!(55.5)))
            .then_accepts()
            .data();
        assert_eq!(data["products"], json!([]));
        assert_eq!(
            (&data["task_points"], &data["total"]),
            (&json!(55.5), &json!(77.5))
        );
        assert_eq!(data["ceiling"], json!("good"), "bands only");
        q2().when(decide_manh(json!(25)).with("data.task_points", json!(60)))
            .then_rejects(Code::InvalidValue, Some("data.task_points"));
    }

    #[test]
    fn points_lie_within_their_ranges_with_at_most_two_decimals() {
        let without = || decided(HOP_THANH, HT_SECRETARY, HT_CADRE, Q2, json!(22));
        for (field, value) in [
            ("data.general_points", json!(30.5)),
            ("data.general_points", json!(-0.01)),
            ("data.general_points", json!(12.345)),
            ("data.task_points", json!(70.01)),
            ("data.task_points", json!(0.001)),
        ] {
            q2().when(
                without()
                    .with("data.task_points", json!(50))
                    .with(field, value.clone()),
            )
            .then_rejects(Code::InvalidValue, Some(field));
        }
    }

    #[test]
    fn the_writers_members_are_not_for_publishers_to_send() {
        for (member, value) in [
            ("scheme", json!("nd335-2025")),
            ("products", json!([])),
            ("total", json!(90)),
            ("ceiling", json!("excellent")),
        ] {
            q2().when(decide_manh(json!(25)).with(&format!("data.{member}"), value))
                .then_rejects(Code::Malformed, Some(&format!("data.{member}")));
        }
    }

    #[test]
    fn a_later_decision_replaces_the_earlier_one_while_the_period_is_open() {
        let first = q2()
            .and(&[self_assessed(HOP_THANH, HOANG_THE_MANH, Q2, json!(28))])
            .when(decide_manh(json!(25)))
            .then_accepts();
        assert_eq!(first.event().version, 2, "after the self-assessment");
        let second = first
            .and_then(
                decide_manh(json!(20))
                    .with("data.rating", json!("not_completed"))
                    .with("expected_version", json!(2)),
            )
            .then_accepts();
        assert_eq!(second.event().version, 3);
        let record = second
            .after
            .state
            .assessment(Q2, HOANG_THE_MANH)
            .expect("recorded");
        assert_eq!(
            record.decided.as_ref().map(|d| d.rating),
            Some(Rating::NotCompleted)
        );
        assert_eq!(record.self_points.map(|p| p.hundredths()), Some(2800));
        second
            .after
            .clone()
            .when(decide_manh(json!(20)).with("expected_version", json!(2)))
            .then_rejects(Code::VersionConflict, Some("expected_version"));
        second
            .after
            .and(&[period_closed(Q2)])
            .when(decide_manh(json!(25)))
            .then_rejects(Code::InvalidState, Some("data.period"));
    }

    #[test]
    fn a_decision_needs_a_known_open_period_and_a_registered_cadre() {
        q2().when(decided(
            SON_DUONG,
            DISTRICT_SC,
            HOANG_THE_MANH,
            "2021-q3",
            json!(25),
        ))
        .then_rejects(Code::InvalidValue, Some("data.period"));
        q2().when(decided(SON_DUONG, DISTRICT_SC, "khong-co", Q2, json!(25)))
            .then_rejects(Code::UnknownActor, Some("data.cadre"));
    }

    #[test]
    fn a_self_assessment_is_only_the_cadres_own() {
        // The actor is the cadre: the stream is the actor's own, so no one
        // can self-assess for someone else, not even a committee member.
        let accepted = q2()
            .when(self_assessed(HOP_THANH, HT_SECRETARY, Q2, json!(29)))
            .then_accepts();
        assert_eq!(
            accepted.event().stream,
            format!("assessment-{Q2}-{HT_SECRETARY}")
        );
        assert!(
            accepted
                .after
                .state
                .assessment(Q2, HOANG_THE_MANH)
                .is_none(),
            "nobody else's assessment changes"
        );
        q2().when(
            self_assessed(HOP_THANH, HOANG_THE_MANH, Q2, json!(29))
                .with("data.cadre", json!(HT_CADRE)),
        )
        .then_rejects(Code::Malformed, Some("data.cadre"));
    }

    #[test]
    fn decisions_are_never_by_the_cadre_and_only_by_a_committee_above_them() {
        // Nguyễn Thị Lan sits on Hợp Thành's committee: she decides on her
        // commune's chair, never on herself.
        q2().when(
            decided(HOP_THANH, HT_SECRETARY, HT_SECRETARY, Q2, json!(25))
                .with("data.task_points", json!(60)),
        )
        .then_rejects(Code::Forbidden, Some("actor"));
        q2().when(decided(
            HOP_THANH,
            HT_SECRETARY,
            HOANG_THE_MANH,
            Q2,
            json!(25),
        ))
        .then_accepts();
        // Off the committee, or on another commune's.
        q2().when(decided(HOP_THANH, HT_CADRE, HOANG_THE_MANH, Q2, json!(25)))
            .then_rejects(Code::Forbidden, Some("actor"));
        q2().when(decided(
            PHUC_UNG,
            PU_SECRETARY,
            HOANG_THE_MANH,
            Q2,
            json!(25),
        ))
        .then_rejects(Code::Forbidden, Some("actor"));
        q2().when(decided(
            SON_DUONG,
            PU_SECRETARY,
            HOANG_THE_MANH,
            Q2,
            json!(25),
        ))
        .then_rejects(Code::Forbidden, Some("actor"));
    }

    #[test]
    fn products_follow_reassignment_and_ignore_cancelled_tasks() {
        let done = q2().and(&[milestone_done(
            HOP_THANH,
            HOANG_THE_MANH,
            T_IN_PROGRESS,
            M1,
            "2021-05-10",
        )]);
        let moved = done
            .clone()
            .and(&[reassign(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS, HT_CADRE)]);
        moved
            .clone()
            .when(decide_manh(json!(25)))
            .then_rejects(Code::InvalidValue, Some("data.task_points"));
        let data = moved
            .when(decided(SON_DUONG, DISTRICT_SC, HT_CADRE, Q2, json!(25)))
            .then_accepts()
            .data();
        assert_eq!(products(&data).len(), 2, "the new assignee's: {data}");
        assert_eq!(products(&data)[0].1, json!("2021-05-10"), "done stays done");
        let cancelled = done.and(&[cancel(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS)]);
        let data = cancelled
            .when(decide_manh(json!(25)).with("data.task_points", json!(40)))
            .then_accepts()
            .data();
        assert_eq!(data["products"], json!([]));
    }

    #[test]
    fn a_task_due_in_the_period_is_a_product_done_by_its_first_complete_report() {
        // The whole year: the task (due 15 December) and its milestone.
        let report = |as_of: &str, cam_ket: i64, ho: i64| {
            progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                .with("data.as_of", json!(as_of))
                .with(
                    "data.values",
                    json!([{"metric": "cam-ket", "value": cam_ket},
                           {"metric": "ho-phan-loai", "value": ho}]),
                )
                .sent_at("2021-12-20T09:00:00+07:00")
        };
        let data = Scenario::world()
            .and(&[
                period_opened("2021", "year", "2021-01-01", "2021-12-31"),
                report("2021-11-30", 35, 180),
                report("2021-12-10", 30, 180),
                report("2021-10-31", 35, 170),
            ])
            .when(
                decided(SON_DUONG, DISTRICT_SC, HOANG_THE_MANH, "2021", json!(25))
                    .sent_at("2021-12-28T09:00:00+07:00"),
            )
            .then_accepts()
            .data();
        let ps = products(&data);
        assert_eq!(ps[0].0, Value::Null, "the task itself: {data}");
        assert_eq!(ps[0].1, json!("2021-11-30"));
        assert_eq!((ps[0].2, ps[0].3, ps[0].4), (1.0, 1.0, 1.0));
        // The fixture plan's milestone (due 30 June) was never completed.
        assert_eq!(ps[1].1, Value::Null);
    }

    #[test]
    fn the_event_reads_back_as_it_was_written() {
        let accepted = q2()
            .and(&[milestone_done(
                HOP_THANH,
                HOANG_THE_MANH,
                T_IN_PROGRESS,
                M1,
                "2021-05-20",
            )])
            .when(decide_manh(json!(25.5)))
            .then_accepts();
        let event = accepted.event();
        let data = accepted.data();
        let back = dotpha_domain::submission::read_event_data(event.event_type(), &data)
            .expect("an event reads back");
        assert_eq!(back, event.payload);
        let Payload::AssessmentDecided(d) = &event.payload else {
            panic!("wrong type")
        };
        // M1 late (2.75 of 3), M2 not done: 70 × 2.75 / 6 = 32.083… → 32.08.
        assert_eq!(d.task_points.map(|t| t.hundredths()), Some(3208));
        assert_eq!(d.total.map(|t| t.hundredths()), Some(2550 + 3208));
    }
}

// ================================================================= quota

mod quota {
    use super::*;
    use dotpha_domain::evaluation::quota_groups;

    #[test]
    fn the_quota_is_counted_per_evaluating_body_and_peer_group() {
        let groups = quota_groups([
            ("son-duong", "chu-tich-xa", Rating::Excellent),
            ("son-duong", "chu-tich-xa", Rating::Good),
            ("son-duong", "chu-tich-xa", Rating::Good),
            ("son-duong", "bi-thu-xa", Rating::Good),
            ("son-duong", "bi-thu-xa", Rating::Good),
            ("son-duong", "bi-thu-xa", Rating::Good),
            ("son-duong", "bi-thu-xa", Rating::Good),
            ("son-duong", "bi-thu-xa", Rating::Good),
            ("son-duong", "bi-thu-xa", Rating::Excellent),
            ("hop-thanh", "chu-tich-xa", Rating::Completed),
        ]);
        let of = |unit: &str, group: &str| groups[&(unit.to_owned(), group.to_owned())];
        assert!(of("son-duong", "chu-tich-xa").exceeded(), "1 of 2 good");
        assert!(!of("son-duong", "bi-thu-xa").exceeded(), "1 of 5 good");
        assert_eq!(of("son-duong", "bi-thu-xa").limit(), 1);
        assert!(!of("hop-thanh", "chu-tich-xa").exceeded());
        assert_eq!(groups.len(), 3);
    }

    #[test]
    fn the_writer_does_not_refuse_a_decision_over_the_quota() {
        let done = q2().and(&[
            milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M1, "2021-05-10"),
            milestone_done(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, M2, "2021-06-10"),
        ]);
        // Alone in his group, excellent with no one good: over the quota,
        // and still accepted (the competent authority may grant it).
        let data = done
            .when(decided(
                SON_DUONG,
                DISTRICT_SC,
                HOANG_THE_MANH,
                Q2,
                json!(28),
            ))
            .then_accepts()
            .data();
        assert_eq!(data["rating"], json!("excellent"));
    }
}
