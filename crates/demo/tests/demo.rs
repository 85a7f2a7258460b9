//! The demo data set against the domain's rules: every submission accepted
//! in order, the article's figures, the counts DOMAIN.md promises.

use std::collections::{BTreeMap, BTreeSet};

use dotpha_demo::{
    CADRES_WITH_TASKS, CANCELLED_TASK, CHAIR_CURRENT_TASK, CHAIR_PERCENT_METRIC,
    COMMUNE_LEVEL_CADRES, COMMUNE_LEVEL_UNITS, CURRENT_CHAIR, CURRENT_CYCLE, CURRENT_TASKS, CYCLE,
    DEMO_MARKER, DISTRICT_LEVEL_CADRES, DONG_DIEN, DemoSubmission, EXCELLENT_QUOTA_EXCEEDED,
    HOP_THANH, LAST_DAY, MANH, MANH_TASK, MERGE_LEGAL_BASIS, MERGED_COMMUNE, MERGED_FROM,
    ORGANISATION_AGENCY, OVERDUE_TASKS, PHUC, PHUC_CURRENT_TASK, PHUC_TASK, QUARTERS,
    QUOTA_EXCEEDED_2026, REAL_PEOPLE, REASSIGNED_TASK, ROOT, SECRETARY, THIRD_QUARTER_MILESTONE,
    TOKEN_HOLDERS, TOWN, VILLAGES, YEAR_PERIOD, demo,
};
use dotpha_domain::{
    Event, Payload, Rating, State, TaskStatus, decide,
    evaluation::{Factor, quota_groups},
    figures::QuotaTally,
    parse_submission,
    payload::{AssignedOrigin, UnitKind},
};

struct Loaded {
    submissions: Vec<DemoSubmission>,
    events: Vec<Event>,
    state: State,
}

fn load() -> Loaded {
    let submissions = demo();
    let mut state = State::new();
    let mut events = Vec::with_capacity(submissions.len());
    for (i, s) in submissions.iter().enumerate() {
        let text = String::from_utf8_lossy(&s.body);
        let submission = parse_submission(&s.body, Some(&s.unit))
            .unwrap_or_else(|e| panic!("submission {i} unreadable: {:?}\n{text}", e.rejection));
        let decided = decide(&state, &submission)
            .unwrap_or_else(|e| panic!("submission {i} rejected: {e:?}\n{text}"));
        assert_eq!(decided.len(), 1, "one event per submission");
        for event in decided {
            state.apply(&event);
            events.push(event);
        }
    }
    Loaded {
        submissions,
        events,
        state,
    }
}

fn district_level(state: &State, unit: &str) -> bool {
    let kind = state.unit(unit).expect("unit").kind;
    !matches!(
        kind,
        UnitKind::Commune | UnitKind::Town | UnitKind::Village | UnitKind::ResidentialGroup
    )
}

#[test]
fn every_submission_is_accepted_in_order() {
    let loaded = load();
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &loaded.events {
        *by_type.entry(e.event_type().as_str()).or_default() += 1;
    }
    println!(
        "demo: {} submissions, all accepted",
        loaded.submissions.len()
    );
    for (kind, n) in &by_type {
        println!("  {kind:<18} {n}");
    }
    assert_eq!(loaded.events.len(), loaded.submissions.len());
    let secretary = loaded.state.cadre(SECRETARY).expect("the Party Secretary");
    assert!(secretary.standing_committee);
    assert_eq!(secretary.unit.as_str(), ROOT);
    for (unit, cadre) in TOKEN_HOLDERS {
        let c = loaded.state.cadre(cadre).expect("token holder");
        assert_eq!(c.unit.as_str(), unit, "{cadre} acts for their own unit");
    }
    assert_eq!(loaded.state.root().map(|r| r.as_str()), Some(ROOT));
}

#[test]
fn ids_are_fixed_unique_and_envelopes_well_formed() {
    let submissions = demo();
    let mut seen = BTreeSet::new();
    let mut last_millis = i64::MIN;
    for (i, s) in submissions.iter().enumerate() {
        assert_eq!(s.submission_id, format!("demo-{:06}", i + 1));
        assert!(seen.insert(s.submission_id.clone()));
        let v: serde_json::Value = serde_json::from_slice(&s.body).expect("json");
        assert_eq!(v["schema"], "dotpha.submission.v1");
        assert_eq!(v["submission_id"], s.submission_id.as_str());
        assert_eq!(v["unit"], s.unit.as_str());
        let submission = parse_submission(&s.body, Some(&s.unit)).expect("readable");
        assert!(submission.occurred_at.as_str().ends_with("+07:00"));
        let millis = submission.occurred_at.unix_millis();
        assert!(millis >= last_millis, "occurred_at goes back at {i}");
        last_millis = millis;
    }
}

#[test]
fn two_calls_give_identical_bytes() {
    assert_eq!(demo(), demo());
}

#[test]
fn the_counts_of_the_article_and_the_units() {
    let Loaded { state, .. } = load();
    let assignees: BTreeSet<&str> = state
        .tasks()
        .filter(|t| t.cycle.as_str() == CYCLE)
        .map(|t| t.assignee.as_str())
        .collect();
    assert_eq!(assignees.len(), CADRES_WITH_TASKS);
    assert_eq!(
        state.tasks().filter(|t| t.cycle.as_str() == CYCLE).count(),
        CADRES_WITH_TASKS,
        "one task each"
    );
    let district = assignees
        .iter()
        .filter(|a| district_level(&state, &state.cadre(a).expect("cadre").unit))
        .count();
    assert_eq!(district, DISTRICT_LEVEL_CADRES);
    assert_eq!(CADRES_WITH_TASKS - district, COMMUNE_LEVEL_CADRES);

    let villages = state
        .units()
        .filter(|u| matches!(u.kind, UnitKind::Village | UnitKind::ResidentialGroup))
        .count();
    assert_eq!(villages, VILLAGES);
    let communes_2021: Vec<&str> = state
        .units()
        .filter(|u| matches!(u.kind, UnitKind::Commune | UnitKind::Town))
        .filter(|u| u.valid_from.is_none())
        .map(|u| u.code.as_str())
        .collect();
    assert_eq!(communes_2021.len(), COMMUNE_LEVEL_UNITS);
    for code in [
        "dong-loi", "dong-quy", "dong-tho", "van-phu", "van-son", HOP_THANH, TOWN,
    ] {
        assert!(communes_2021.contains(&code), "{code}");
    }
    assert_eq!(
        state.unit("dong-quy").expect("Đồng Quý").name.as_str(),
        "Xã Đồng Quý"
    );
    assert_eq!(
        state.unit("dong-loi").expect("Đông Lợi").name.as_str(),
        "Xã Đông Lợi"
    );
    let dong_dien = state.unit(DONG_DIEN).expect("Đồng Diễn");
    assert_eq!(dong_dien.name.as_str(), "Thôn Đồng Diễn");
    assert_eq!(dong_dien.parent.as_deref(), Some(HOP_THANH));
    assert_eq!(dong_dien.kind, UnitKind::Village);
    // Every village sits in a commune, every residential group in the town.
    for u in state.units() {
        let parent = u
            .parent
            .as_deref()
            .map(|p| state.unit(p).expect("parent").kind);
        match u.kind {
            UnitKind::Village => assert_eq!(parent, Some(UnitKind::Commune)),
            UnitKind::ResidentialGroup => assert_eq!(parent, Some(UnitKind::Town)),
            _ => {}
        }
    }
    assert_eq!(
        state
            .unit(ORGANISATION_AGENCY)
            .expect("agency")
            .name
            .as_str(),
        "Cơ quan Tổ chức - Nội vụ huyện"
    );
}

#[test]
fn both_article_examples_with_their_figures() {
    let Loaded { events, state, .. } = load();
    let of = |task: &str| -> Vec<&Event> {
        events
            .iter()
            .filter(|e| e.payload.task_id().map(|t| t.as_str()) == Some(task))
            .collect()
    };

    // Đỗ Xuân Phúc: from 388 to 400 heads who are party members.
    let phuc = state.cadre(PHUC).expect("Đỗ Xuân Phúc");
    assert_eq!(phuc.full_name.as_str(), "Đỗ Xuân Phúc");
    assert_eq!(phuc.unit.as_str(), ORGANISATION_AGENCY);
    assert!(
        phuc.position
            .contains("Thủ trưởng Cơ quan Tổ chức - Nội vụ")
    );
    let history = of(PHUC_TASK);
    let Payload::TaskAssigned(assigned) = &history[0].payload else {
        panic!("Phúc's task is assigned by the committee");
    };
    assert_eq!(assigned.assignee.as_str(), PHUC);
    assert_eq!(assigned.origin, AssignedOrigin::Committee);
    assert_eq!(
        assigned.title.as_str(),
        "100% trưởng thôn, tổ dân phố là đảng viên"
    );
    assert_eq!(assigned.targets.len(), 1);
    assert_eq!(assigned.targets[0].baseline, 388.0);
    assert_eq!(assigned.targets[0].target, 400.0);
    let description = assigned.description.as_ref().expect("description");
    assert!(description.contains("400 thôn, tổ dân phố"));
    assert!(description.contains("12 người chưa là đảng viên"));
    let plan = history
        .iter()
        .find_map(|e| match &e.payload {
            Payload::PlanSubmitted(p) => Some(p),
            _ => None,
        })
        .expect("a plan");
    assert_eq!(plan.solutions.len(), 3);
    assert!(plan.solutions[0].contains("đảng viên tiêu biểu"));
    assert!(plan.solutions[1].contains("kết nạp"));
    assert!(plan.solutions[2].contains("công chức xã là đảng viên"));
    let last = history
        .iter()
        .rev()
        .find_map(|e| match &e.payload {
            Payload::ProgressReported(p) => Some(p),
            _ => None,
        })
        .expect("check-ins");
    assert_eq!(last.values[0].value, 400.0);
    let delegated_heads: u32 = history
        .iter()
        .filter_map(|e| match &e.payload {
            Payload::WorkDelegated(d) => d.description.split(':').nth(1).and_then(|s| {
                s.split_whitespace()
                    .next()
                    .and_then(|n| n.parse::<u32>().ok())
            }),
            _ => None,
        })
        .sum();
    assert_eq!(delegated_heads, 12, "the twelve heads, commune by commune");

    // Hoàng Thế Mạnh: criterion 17, the pilot in Đồng Diễn.
    let manh = state.cadre(MANH).expect("Hoàng Thế Mạnh");
    assert_eq!(manh.full_name.as_str(), "Hoàng Thế Mạnh");
    assert_eq!(manh.unit.as_str(), HOP_THANH);
    assert_eq!(manh.position.as_str(), "Chủ tịch UBND xã Hợp Thành");
    let history = of(MANH_TASK);
    let Payload::TaskRegistered(registered) = &history[0].payload else {
        panic!("Mạnh registers his own task");
    };
    assert_eq!(history[0].actor.as_str(), MANH);
    assert!(registered.title.contains("tiêu chí số 17"));
    assert!(registered.title.contains("Môi trường và an toàn thực phẩm"));
    let plan = history
        .iter()
        .find_map(|e| match &e.payload {
            Payload::PlanSubmitted(p) => Some(p),
            _ => None,
        })
        .expect("a plan");
    assert_eq!(plan.solutions.len(), 3);
    assert!(plan.solutions[0].contains("ký cam kết"));
    assert!(plan.solutions[1].contains("thôn Đồng Diễn"));
    assert!(plan.solutions[2].contains("phân loại rác"));
    assert!(history.iter().any(|e| matches!(&e.payload,
        Payload::WorkDelegated(d) if d.to.as_str() == DONG_DIEN)));
    let task = state.task(MANH_TASK).expect("task");
    assert_eq!(task.assignee.as_str(), MANH);
    assert_eq!(task.status, TaskStatus::Evaluated);
}

#[test]
fn every_fictional_person_is_marked() {
    let Loaded { events, .. } = load();
    let mut real = BTreeSet::new();
    let mut fictional = 0;
    for e in &events {
        if let Payload::CadreRegistered(c) = &e.payload {
            if REAL_PEOPLE.contains(&c.id.as_str()) {
                assert!(!c.full_name.contains(DEMO_MARKER));
                real.insert(c.id.to_string());
            } else {
                assert!(
                    c.full_name.ends_with(&format!(" {DEMO_MARKER}")),
                    "{} is not marked as demo data",
                    c.full_name
                );
                fictional += 1;
            }
        }
    }
    assert_eq!(real.len(), 2);
    // 90 task holders, the district's Party Secretary, the July chair, and
    // the chair of the new commune (2025).
    assert_eq!(fictional, 93);
}

#[test]
fn the_year_has_its_turns_and_ends_evaluated() {
    let Loaded { events, state, .. } = load();
    let cycle = state.cycle(CYCLE).expect("cycle");
    assert!(cycle.closed);

    assert_eq!(
        state.task(CANCELLED_TASK).expect("task").status,
        TaskStatus::Cancelled
    );
    let reassigned = events
        .iter()
        .find_map(|e| match &e.payload {
            Payload::TaskReassigned(r) => Some(r),
            _ => None,
        })
        .expect("a reassignment");
    assert_eq!(reassigned.task_id.as_str(), REASSIGNED_TASK);
    assert_eq!(
        state.task(REASSIGNED_TASK).expect("task").assignee,
        reassigned.assignee
    );
    for id in OVERDUE_TASKS {
        let t = state.task(id).expect("task");
        assert_eq!(t.status, TaskStatus::InProgress, "{id} is left behind");
    }
    let plans: BTreeMap<&str, u32> = state
        .tasks()
        .filter(|t| t.cycle.as_str() == CYCLE)
        .map(|t| (t.id.as_str(), t.plan_revisions))
        .collect();
    assert!(plans.values().all(|&n| n >= 1), "every task has a plan");
    assert!(
        plans.values().filter(|&&n| n >= 2).count() >= 5,
        "some revised"
    );
    let origins: BTreeSet<String> = state.tasks().map(|t| format!("{:?}", t.origin)).collect();
    assert_eq!(origins.len(), 3, "self-registered, committee and backlog");
    let delegations: usize = state.tasks().map(|t| t.delegations.len()).sum();
    assert!(delegations >= 40, "{delegations} delegations");

    // Ratings: every band, excellent within 20% of good overall, exceeded
    // in exactly the evaluating bodies named (CONTRACT part A: the envelope
    // `unit` of `task.evaluated`).
    let mut overall: BTreeMap<Rating, usize> = BTreeMap::new();
    for t in state.tasks().filter(|t| t.cycle.as_str() == CYCLE) {
        match t.status {
            TaskStatus::Evaluated => *overall.entry(t.rating.expect("rating")).or_default() += 1,
            TaskStatus::Cancelled => assert_eq!(t.id.as_str(), CANCELLED_TASK),
            _ => assert!(OVERDUE_TASKS.contains(&t.id.as_str()), "{} open", t.id),
        }
    }
    println!("ratings: {overall:?}");
    assert_eq!(overall.len(), 4, "all four bands");
    let excellent = overall[&Rating::Excellent] as f64;
    let good = overall[&Rating::Good] as f64;
    assert!(excellent <= 0.2 * good);
    let mut per_body: BTreeMap<&str, QuotaTally> = BTreeMap::new();
    for e in &events {
        if let Payload::TaskEvaluated(p) = &e.payload
            && state
                .task(&p.task_id)
                .is_some_and(|t| t.cycle.as_str() == CYCLE)
        {
            let rating = p.given_rating().expect("a rating");
            per_body.entry(e.unit.as_str()).or_default().add(rating);
        }
    }
    let exceeded: Vec<&str> = per_body
        .iter()
        .filter(|(_, tally)| tally.exceeded())
        .map(|(body, _)| *body)
        .collect();
    assert_eq!(exceeded, EXCELLENT_QUOTA_EXCEEDED);
    assert!(
        !per_body[ROOT].exceeded(),
        "the district keeps within the quota"
    );

    // Evaluations before 15 December 2021, as the rules ask.
    for e in &events {
        if let Payload::TaskEvaluated(p) = &e.payload
            && state
                .task(&p.task_id)
                .is_some_and(|t| t.cycle.as_str() == CYCLE)
        {
            let day = e.occurred_at.date_in_vietnam().to_string();
            assert!(
                ("2021-12-01".."2021-12-15").contains(&day.as_str()),
                "{day}"
            );
        }
    }
}

#[test]
fn the_2025_merge_closes_four_units_into_the_new_commune() {
    let Loaded { events, state, .. } = load();
    let new = state.unit(MERGED_COMMUNE).expect("Xã Sơn Dương");
    assert_eq!(new.name.as_str(), "Xã Sơn Dương");
    assert_eq!(
        new.valid_from.map(|d| d.to_string()).as_deref(),
        Some("2025-07-01")
    );
    for code in MERGED_FROM {
        let u = state.unit(code).expect("merged unit");
        assert_eq!(u.successor.as_deref(), Some(MERGED_COMMUNE));
        assert_eq!(
            u.valid_to.map(|d| d.to_string()).as_deref(),
            Some("2025-07-01")
        );
    }
    let merged_on = dotpha_domain::Date::parse("2025-07-01").expect("a date");
    assert!(state.tree().is_within(DONG_DIEN, MERGED_COMMUNE, merged_on));
    let Some(merged) = events.iter().rev().find_map(|e| match &e.payload {
        Payload::UnitMerged(m) => Some(m),
        _ => None,
    }) else {
        panic!("the merge is recorded");
    };
    assert_eq!(
        merged.legal_basis.as_ref().map(|t| t.as_str()),
        Some(MERGE_LEGAL_BASIS)
    );
}

#[test]
fn the_current_cycle_is_open_and_the_token_holders_have_work_in_it() {
    let Loaded {
        state, submissions, ..
    } = load();
    let cycle = state.cycle(CURRENT_CYCLE).expect("the current cycle");
    assert!(!cycle.closed, "open, so the printed tokens can act");
    let tasks: Vec<_> = state
        .tasks()
        .filter(|t| t.cycle.as_str() == CURRENT_CYCLE)
        .collect();
    assert_eq!(tasks.len(), CURRENT_TASKS);
    for (unit, cadre) in TOKEN_HOLDERS {
        if cadre == SECRETARY || unit == HOP_THANH {
            // The secretary gives and judges; Hợp Thành merged in 2025.
            continue;
        }
        let open = tasks
            .iter()
            .filter(|t| t.assignee.as_str() == cadre && !t.status.is_final())
            .count();
        assert!(open >= 1, "{cadre} has an open task of {CURRENT_CYCLE}");
    }
    let chair = state.task(CHAIR_CURRENT_TASK).expect("the chair's task");
    assert_eq!(chair.assignee.as_str(), CURRENT_CHAIR);
    assert_eq!(chair.status, TaskStatus::InProgress);
    assert_eq!(chair.plan_revisions, 2, "a revised plan");
    assert_eq!(chair.delegations.len(), 1);
    let percent = chair
        .targets
        .iter()
        .find(|t| t.metric.as_str() == CHAIR_PERCENT_METRIC)
        .expect("the percent target");
    assert_eq!(percent.unit.as_ref().map(|u| u.as_str()), Some("%"));
    assert_eq!((percent.min, percent.max), (Some(0.0), Some(100.0)));
    assert_eq!(
        state
            .task(PHUC_CURRENT_TASK)
            .expect("Phúc's task")
            .assignee
            .as_str(),
        PHUC
    );
    let statuses: BTreeSet<TaskStatus> = tasks.iter().map(|t| t.status).collect();
    for s in [
        TaskStatus::Assigned,
        TaskStatus::InProgress,
        TaskStatus::Evaluated,
    ] {
        assert!(statuses.contains(&s), "a task {s:?} in {CURRENT_CYCLE}");
    }
    let last: serde_json::Value =
        serde_json::from_slice(&submissions.last().expect("submissions").body).expect("json");
    assert!(
        last["occurred_at"].as_str().expect("occurred_at") < format!("{LAST_DAY}T24").as_str(),
        "nothing after {LAST_DAY}"
    );
}

#[test]
fn the_evaluation_of_2026_shows_every_rule_of_part_a() {
    let Loaded { state, events, .. } = load();
    for (period, closed) in [
        (QUARTERS[0], true),
        (QUARTERS[1], true),
        (QUARTERS[2], false),
        (QUARTERS[3], false),
        (YEAR_PERIOD, false),
    ] {
        let p = state.period(period).expect("the period is open");
        assert_eq!(p.closed, closed, "{period} closed");
    }

    // The latest decision per (period, cadre), and every decision made.
    let mut latest: BTreeMap<(&str, &str), (&str, &dotpha_domain::payload::AssessmentDecided)> =
        BTreeMap::new();
    let mut replaced = 0;
    for e in &events {
        if let Payload::AssessmentDecided(d) = &e.payload {
            assert_ne!(e.actor.as_str(), d.cadre.as_str(), "nobody judges themself");
            let rating = d.rating.expect("the writer's rating");
            let ceiling = d.ceiling.expect("the writer's ceiling");
            assert!(!rating.is_above(ceiling), "{} in {}", d.cadre, d.period);
            if latest
                .insert((d.period.as_str(), d.cadre.as_str()), (e.unit.as_str(), d))
                .is_some()
            {
                replaced += 1;
            }
        }
    }
    assert_eq!(replaced, 1, "one decision taken again while open");
    for (q, decided) in QUARTERS
        .iter()
        .zip([CURRENT_TASKS, CURRENT_TASKS, CURRENT_TASKS, 0])
    {
        let n = latest.keys().filter(|(p, _)| p == q).count();
        assert_eq!(n, decided, "cadres decided in {q}");
    }
    assert!(
        !latest.keys().any(|(p, _)| *p == YEAR_PERIOD),
        "the year is open"
    );

    let ratings: BTreeSet<Rating> = latest
        .values()
        .map(|(_, d)| d.rating.expect("rating"))
        .collect();
    assert_eq!(ratings.len(), 4, "every rating: {ratings:?}");
    assert!(
        latest.values().any(|(_, d)| d.rating != d.ceiling),
        "a rating below its ceiling"
    );
    assert!(
        latest
            .values()
            .any(|(_, d)| d.disqualified.is_some() && d.rating == Some(Rating::NotCompleted)),
        "a disqualification caps the rating"
    );
    assert!(
        latest
            .values()
            .any(|(_, d)| d.products.as_ref().is_some_and(Vec::is_empty)),
        "task points given where there is no product"
    );
    let products: Vec<_> = latest
        .values()
        .flat_map(|(_, d)| d.products.iter().flatten())
        .collect();
    assert!(
        products
            .iter()
            .any(|p| p.q == Factor::ONE && p.p == Factor::LATE),
        "done late"
    );
    assert!(
        products
            .iter()
            .any(|p| p.q == Factor::ZERO && p.done_on.is_some()),
        "done after the period"
    );
    assert!(products.iter().any(|p| p.done_on.is_none()), "not done");
    assert!(
        products
            .iter()
            .any(|p| p.q == Factor::ONE && p.l < Factor::ONE),
        "major errors"
    );
    assert!(
        products.iter().any(|p| p
            .milestone
            .as_ref()
            .is_some_and(|m| m.as_str() == THIRD_QUARTER_MILESTONE)),
        "the milestone a revised plan added"
    );

    // The quota: exactly one group over it, with the numbers the box shows.
    let mut over = Vec::new();
    for q in QUARTERS {
        let groups = quota_groups(
            latest
                .iter()
                .filter(|((p, _), _)| *p == q)
                .map(|(_, (unit, d))| (*unit, d.peer_group.as_str(), d.rating.expect("rating"))),
        );
        for ((unit, group), tally) in groups {
            assert_eq!(unit, ROOT, "the district's committee evaluates");
            if tally.exceeded() {
                over.push((q, unit, group, tally));
            }
        }
    }
    let (period, unit, group) = QUOTA_EXCEEDED_2026;
    assert_eq!(
        over,
        vec![(
            period,
            unit.to_owned(),
            group.to_owned(),
            QuotaTally {
                excellent: 2,
                good: 7
            }
        )]
    );
    assert_eq!(over[0].3.limit(), 1);
}
