//! The rules of `decide`, as executable specifications.
//!
//! Each test reads: given a log (usually the fixture world of `support`),
//! when a submission arrives, then it is accepted (and what follows) or
//! rejected with the contract's code, naming the offending field.

mod support;

use dotpha_domain::{
    Date, Rejection, RejectionCode as Code, TaskStatus,
    payload::{Payload, Rating},
    state::TaskOrigin,
};
use serde_json::{Value, json};
use support::*;
use unicode_normalization::UnicodeNormalization;

/// A task id nobody has used.
const NEW_TASK: &str = "ht-chuyen-doi-so";

// ============================================================ the envelope

mod reading {
    use super::*;

    #[test]
    fn a_message_that_is_not_json_is_malformed() {
        Scenario::world()
            .when_bytes(Some(HOP_THANH), b"tien do: 50%", json!("tien do: 50%"))
            .then_rejects(Code::Malformed, None);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_malformed() {
        Scenario::world()
            .when_bytes(
                Some(HOP_THANH),
                b"{\"schema\": \"\xff\"}",
                json!("not utf-8"),
            )
            .then_rejects(Code::Malformed, None);
    }

    #[test]
    fn json_that_is_not_an_object_is_malformed() {
        Scenario::world()
            .when_bytes(Some(HOP_THANH), b"[1, 2, 3]", json!([1, 2, 3]))
            .then_rejects(Code::Malformed, None);
    }

    #[test]
    fn a_submission_without_a_schema_is_malformed() {
        Scenario::world()
            .when(progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS).without("schema"))
            .then_rejects(Code::Malformed, Some("schema"));
    }

    #[test]
    fn another_schema_version_is_unsupported() {
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("schema", json!("dotpha.submission.v2")),
            )
            .then_rejects(Code::UnsupportedSchema, Some("schema"));
    }

    #[test]
    fn a_type_outside_the_contract_is_unknown() {
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("type", json!("progress.reportd")),
            )
            .then_rejects(Code::UnknownType, Some("type"));
    }

    #[test]
    fn a_type_that_is_not_a_string_is_malformed() {
        Scenario::world()
            .when(progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS).with("type", json!(7)))
            .then_rejects(Code::Malformed, Some("type"));
    }

    #[test]
    fn the_envelope_unit_must_be_the_subjects_unit() {
        Scenario::world()
            .when_on_subject(
                Some(PHUC_UNG),
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS),
            )
            .then_rejects(Code::UnitMismatch, Some("unit"));
    }

    #[test]
    fn a_submission_that_did_not_come_over_nats_has_no_subject_to_match() {
        Scenario::world()
            .when_on_subject(None, progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS))
            .then_accepts();
    }

    #[test]
    fn a_misspelled_envelope_field_is_malformed_and_named() {
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("expected_verison", json!(4)),
            )
            .then_rejects(Code::Malformed, Some("expected_verison"));
    }

    #[test]
    fn a_misspelled_data_field_is_malformed_and_named() {
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("data.confidance", json!("high")),
            )
            .then_rejects(Code::Malformed, Some("data.confidance"));
    }

    #[test]
    fn a_missing_field_is_malformed_and_named() {
        Scenario::world()
            .when(progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS).without("data.as_of"))
            .then_rejects(Code::Malformed, Some("data.as_of"));
        Scenario::world()
            .when(progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS).without("data"))
            .then_rejects(Code::Malformed, Some("data"));
    }

    #[test]
    fn a_mistyped_value_is_malformed_at_its_path() {
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("data.values", json!([{"metric": "cam-ket", "value": "12"}])),
            )
            .then_rejects(Code::Malformed, Some("data.values[0].value"));
    }

    #[test]
    fn a_word_outside_an_enumeration_is_malformed() {
        Scenario::world()
            .when(
                task_registered(HOP_THANH, HOANG_THE_MANH, NEW_TASK, json!([]))
                    .with("data.kind", json!("urgent")),
            )
            .then_rejects(Code::Malformed, Some("data.kind"));
    }

    #[test]
    fn an_invalid_submission_id_is_malformed() {
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("submission_id", json!("short")),
            )
            .then_rejects(Code::Malformed, Some("submission_id"));
    }

    #[test]
    fn an_instant_without_an_offset_is_an_invalid_value() {
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("occurred_at", json!("2021-03-02T08:30:00")),
            )
            .then_rejects(Code::InvalidValue, Some("occurred_at"));
    }

    #[test]
    fn a_day_that_does_not_exist_is_an_invalid_value() {
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("data.as_of", json!("2021-02-29")),
            )
            .then_rejects(Code::InvalidValue, Some("data.as_of"));
    }

    #[test]
    fn an_identifier_that_is_not_a_slug_is_an_invalid_value() {
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("data.task_id", json!("NDP_2021_07")),
            )
            .then_rejects(Code::InvalidValue, Some("data.task_id"));
        Scenario::world()
            .when_on_subject(
                None,
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS).with("unit", json!("Hợp Thành")),
            )
            .then_rejects(Code::InvalidValue, Some("unit"));
    }

    #[test]
    fn a_negative_expected_version_is_an_invalid_value() {
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("expected_version", json!(-1)),
            )
            .then_rejects(Code::InvalidValue, Some("expected_version"));
    }

    #[test]
    fn blank_required_text_is_an_invalid_value() {
        Scenario::world()
            .when(
                task_registered(HOP_THANH, HOANG_THE_MANH, NEW_TASK, json!([]))
                    .with("data.title", json!("  \t ")),
            )
            .then_rejects(Code::InvalidValue, Some("data.title"));
    }

    #[test]
    fn the_root_units_parent_must_be_written_even_when_null() {
        Scenario::empty()
            .when(
                unit(
                    SON_DUONG,
                    BOOTSTRAP,
                    SON_DUONG,
                    "Huyện Sơn Dương",
                    "district",
                    None,
                )
                .without("data.parent"),
            )
            .then_rejects(Code::Malformed, Some("data.parent"));
    }
}

// ============================================================ bootstrap

mod bootstrap {
    use super::*;

    fn root() -> Value {
        unit(
            SON_DUONG,
            BOOTSTRAP,
            SON_DUONG,
            "Huyện Sơn Dương",
            "district",
            None,
        )
    }

    fn district_sc() -> Value {
        cadre(
            SON_DUONG,
            BOOTSTRAP,
            DISTRICT_SC,
            "Trần Văn Bình",
            SON_DUONG,
            "Phó Bí thư Thường trực Huyện ủy",
            true,
        )
    }

    #[test]
    fn an_empty_log_begins_with_its_root_unit() {
        let accepted = Scenario::empty().when(root()).then_accepts();
        assert_eq!(accepted.event().stream, "unit-son-duong");
        assert_eq!(accepted.event().version, 1);
        let state = &accepted.after.state;
        assert_eq!(state.root().map(|r| r.as_str()), Some(SON_DUONG));
        assert_eq!(state.bootstrap_actor().map(|a| a.as_str()), Some(BOOTSTRAP));
        let root = state.unit(SON_DUONG).expect("the root is registered");
        assert_eq!(root.parent, None);
        assert_eq!(root.name.as_str(), "Huyện Sơn Dương");
    }

    #[test]
    fn the_first_submission_of_an_empty_log_must_register_a_unit() {
        Scenario::empty()
            .when(district_sc())
            .then_rejects(Code::InvalidState, Some("type"));
    }

    #[test]
    fn the_first_unit_is_the_root_so_its_parent_is_null() {
        Scenario::empty()
            .when(unit(
                SON_DUONG,
                BOOTSTRAP,
                SON_DUONG,
                "Huyện Sơn Dương",
                "district",
                Some("tuyen-quang"),
            ))
            .then_rejects(Code::InvalidValue, Some("data.parent"));
    }

    #[test]
    fn the_root_is_registered_by_a_submission_for_itself() {
        Scenario::empty()
            .when(unit(
                HOP_THANH,
                BOOTSTRAP,
                SON_DUONG,
                "Huyện Sơn Dương",
                "district",
                None,
            ))
            .then_rejects(Code::Forbidden, Some("unit"));
    }

    #[test]
    fn the_root_stream_starts_at_version_zero() {
        Scenario::empty()
            .when(root().with("expected_version", json!(0)))
            .then_accepts();
        Scenario::empty()
            .when(root().with("expected_version", json!(1)))
            .then_rejects(Code::VersionConflict, Some("expected_version"));
    }

    #[test]
    fn a_log_has_exactly_one_root() {
        Scenario::world()
            .when(unit(
                SON_DUONG,
                DISTRICT_SC,
                "tuyen-quang",
                "Tỉnh Tuyên Quang",
                "province",
                None,
            ))
            .then_rejects(Code::InvalidValue, Some("data.parent"));
    }

    #[test]
    fn the_bootstrap_actor_registers_units_and_cadres_until_a_standing_committee_member_exists() {
        let given = Scenario::given(&[root()]);
        let accepted = given
            .clone()
            .when(unit(
                SON_DUONG,
                BOOTSTRAP,
                HOP_THANH,
                "Xã Hợp Thành",
                "commune",
                Some(SON_DUONG),
            ))
            .then_accepts();
        let accepted = accepted
            .and_then(cadre(
                SON_DUONG,
                BOOTSTRAP,
                HOANG_THE_MANH,
                "Hoàng Thế Mạnh",
                HOP_THANH,
                "Chủ tịch UBND xã",
                false,
            ))
            .then_accepts();
        assert_eq!(
            accepted.after.state.bootstrap_actor().map(|a| a.as_str()),
            Some(BOOTSTRAP),
            "a cadre off the Standing Committee does not end the bootstrap"
        );
        let accepted = accepted.and_then(district_sc()).then_accepts();
        assert_eq!(accepted.after.state.bootstrap_actor(), None);
    }

    #[test]
    fn the_bootstrap_actor_may_register_themself_as_a_cadre() {
        Scenario::given(&[root()])
            .when(cadre(
                SON_DUONG,
                BOOTSTRAP,
                BOOTSTRAP,
                "Lý Thị Thu",
                SON_DUONG,
                "Chuyên viên Ban Tổ chức",
                false,
            ))
            .then_accepts();
    }

    #[test]
    fn the_first_standing_committee_member_ends_the_bootstrap() {
        Scenario::given(&[root(), district_sc()])
            .when(unit(
                SON_DUONG,
                BOOTSTRAP,
                HOP_THANH,
                "Xã Hợp Thành",
                "commune",
                Some(SON_DUONG),
            ))
            .then_rejects(Code::UnknownActor, Some("actor"));
        Scenario::given(&[root(), district_sc()])
            .when(cadre(
                SON_DUONG,
                BOOTSTRAP,
                "ly-thi-thu",
                "Lý Thị Thu",
                SON_DUONG,
                "Chuyên viên",
                false,
            ))
            .then_rejects(Code::UnknownActor, Some("actor"));
    }

    #[test]
    fn after_the_bootstrap_its_actor_has_only_the_powers_of_the_cadre_they_registered_as() {
        let given = Scenario::given(&[
            root(),
            cadre(
                SON_DUONG,
                BOOTSTRAP,
                BOOTSTRAP,
                "Lý Thị Thu",
                SON_DUONG,
                "Chuyên viên Ban Tổ chức",
                false,
            ),
            district_sc(),
        ]);
        given
            .when(unit(
                SON_DUONG,
                BOOTSTRAP,
                HOP_THANH,
                "Xã Hợp Thành",
                "commune",
                Some(SON_DUONG),
            ))
            .then_rejects(Code::Forbidden, Some("data.parent"));
    }

    #[test]
    fn a_standing_committee_member_of_any_unit_ends_the_bootstrap() {
        // The contract: "until the first cadre with standing_committee: true
        // exists", wherever that cadre sits.
        let given = Scenario::given(&[
            root(),
            unit(
                SON_DUONG,
                BOOTSTRAP,
                HOP_THANH,
                "Xã Hợp Thành",
                "commune",
                Some(SON_DUONG),
            ),
            cadre(
                SON_DUONG,
                BOOTSTRAP,
                HT_SECRETARY,
                "Nguyễn Thị Lan",
                HOP_THANH,
                "Bí thư Đảng ủy xã",
                true,
            ),
        ]);
        given
            .when(unit(
                SON_DUONG,
                BOOTSTRAP,
                PHUC_UNG,
                "Xã Phúc Ứng",
                "commune",
                Some(SON_DUONG),
            ))
            .then_rejects(Code::UnknownActor, Some("actor"));
    }

    #[test]
    fn nobody_but_the_bootstrap_actor_acts_during_the_bootstrap() {
        Scenario::given(&[root()])
            .when(unit(
                SON_DUONG,
                "nguoi-la",
                HOP_THANH,
                "Xã Hợp Thành",
                "commune",
                Some(SON_DUONG),
            ))
            .then_rejects(Code::UnknownActor, Some("actor"));
    }

    #[test]
    fn the_bootstrap_actor_cannot_open_a_cycle() {
        Scenario::given(&[root()])
            .when(cycle_opened(
                SON_DUONG,
                BOOTSTRAP,
                CYCLE,
                "2021-01-01",
                "2021-12-31",
            ))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    #[test]
    fn the_bootstrap_actor_cannot_register_a_task() {
        Scenario::given(&[root()])
            .when(task_registered(SON_DUONG, BOOTSTRAP, NEW_TASK, json!([])))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    #[test]
    fn the_bootstrap_actor_registers_only_within_the_envelope_unit() {
        let given = Scenario::given(&[
            root(),
            unit(
                SON_DUONG,
                BOOTSTRAP,
                HOP_THANH,
                "Xã Hợp Thành",
                "commune",
                Some(SON_DUONG),
            ),
            unit(
                SON_DUONG,
                BOOTSTRAP,
                PHUC_UNG,
                "Xã Phúc Ứng",
                "commune",
                Some(SON_DUONG),
            ),
        ]);
        given
            .clone()
            .when(unit(
                HOP_THANH,
                BOOTSTRAP,
                DONG_DIEN,
                "Thôn Đồng Diễn",
                "village",
                Some(HOP_THANH),
            ))
            .then_accepts();
        given
            .clone()
            .when(unit(
                HOP_THANH,
                BOOTSTRAP,
                THON_TAN_AN,
                "Thôn Tân An",
                "village",
                Some(PHUC_UNG),
            ))
            .then_rejects(Code::Forbidden, Some("data.parent"));
        given
            .when(cadre(
                HOP_THANH,
                BOOTSTRAP,
                PU_CHAIR,
                "Phạm Quốc Hưng",
                PHUC_UNG,
                "Chủ tịch UBND xã",
                false,
            ))
            .then_rejects(Code::Forbidden, Some("data.unit"));
    }
}

// ============================================================ scope

mod scope {
    use super::*;

    #[test]
    fn the_envelope_unit_must_be_registered() {
        Scenario::world()
            .when_on_subject(None, progress("tu-thinh", HOANG_THE_MANH, T_IN_PROGRESS))
            .then_rejects(Code::UnknownUnit, Some("unit"));
    }

    #[test]
    fn the_actor_must_be_a_registered_cadre() {
        Scenario::world()
            .when(progress(HOP_THANH, "nguoi-la", T_IN_PROGRESS))
            .then_rejects(Code::UnknownActor, Some("actor"));
    }

    #[test]
    fn a_commune_cannot_act_for_its_neighbour() {
        Scenario::world()
            .when(progress(PHUC_UNG, HOANG_THE_MANH, T_IN_PROGRESS))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    #[test]
    fn a_commune_publisher_cannot_act_for_the_district_above_it() {
        Scenario::world()
            .when(approve(HOP_THANH, DISTRICT_SC, T_REGISTERED))
            .then_rejects(Code::Forbidden, Some("actor"));
        Scenario::world()
            .when(unit(
                HOP_THANH,
                HT_SECRETARY,
                "tu-thinh",
                "Xã Tú Thịnh",
                "commune",
                Some(SON_DUONG),
            ))
            .then_rejects(Code::Forbidden, Some("data.parent"));
    }

    #[test]
    fn a_village_publisher_cannot_act_for_its_commune() {
        Scenario::world()
            .when(progress(DONG_DIEN, HOANG_THE_MANH, T_IN_PROGRESS))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    #[test]
    fn the_district_publisher_may_send_for_a_commune_cadre() {
        Scenario::world()
            .when(progress(SON_DUONG, HOANG_THE_MANH, T_IN_PROGRESS))
            .then_accepts();
    }

    #[test]
    fn a_village_cadre_may_send_through_the_village_or_the_commune() {
        Scenario::world()
            .when(task_registered(DONG_DIEN, DD_HEAD, NEW_TASK, json!([])))
            .then_accepts();
        Scenario::world()
            .when(task_registered(HOP_THANH, DD_HEAD, NEW_TASK, json!([])))
            .then_accepts();
    }

    #[test]
    fn work_is_delegated_only_within_the_envelope_unit() {
        Scenario::world()
            .when(delegate(
                HOP_THANH,
                HOANG_THE_MANH,
                T_IN_PROGRESS,
                "thu-gom-rac",
                DONG_DIEN,
            ))
            .then_accepts();
        Scenario::world()
            .when(delegate(
                HOP_THANH,
                HOANG_THE_MANH,
                T_IN_PROGRESS,
                "ky-cam-ket",
                HT_CADRE,
            ))
            .then_accepts();
        Scenario::world()
            .when(delegate(
                HOP_THANH,
                HOANG_THE_MANH,
                T_IN_PROGRESS,
                "thu-gom-rac",
                PHUC_UNG,
            ))
            .then_rejects(Code::Forbidden, Some("data.to"));
        Scenario::world()
            .when(delegate(
                HOP_THANH,
                HOANG_THE_MANH,
                T_IN_PROGRESS,
                "thu-gom-rac",
                PU_CADRE,
            ))
            .then_rejects(Code::Forbidden, Some("data.to"));
        Scenario::world()
            .when(delegate(
                HOP_THANH,
                HOANG_THE_MANH,
                T_IN_PROGRESS,
                "thu-gom-rac",
                SON_DUONG,
            ))
            .then_rejects(Code::Forbidden, Some("data.to"));
    }

    #[test]
    fn the_committee_of_the_successor_absorbs_a_neighbour_only_through_a_common_publisher() {
        Scenario::world()
            .when(merge(HOP_THANH, HT_SECRETARY, HOP_THANH, &[PHUC_UNG]))
            .then_rejects(Code::Forbidden, Some("data.from[0]"));
        Scenario::world()
            .when(merge(SON_DUONG, HT_SECRETARY, HOP_THANH, &[PHUC_UNG]))
            .then_accepts();
    }
}

// ============================================================ who may send what

mod authority {
    use super::*;

    // ---- unit.registered

    #[test]
    fn a_commune_standing_committee_member_registers_villages_of_the_commune() {
        let accepted = Scenario::world()
            .when(unit(
                HOP_THANH,
                HT_SECRETARY,
                "dong-cau",
                "Thôn Đồng Cầu",
                "village",
                Some(HOP_THANH),
            ))
            .then_accepts();
        let village = accepted.after.state.unit("dong-cau").expect("registered");
        assert_eq!(village.parent.as_deref(), Some(HOP_THANH));
        assert!(!village.is_closed());
    }

    #[test]
    fn the_district_standing_committee_registers_units_anywhere_below() {
        Scenario::world()
            .when(unit(
                SON_DUONG,
                DISTRICT_SC,
                "dong-cau",
                "Thôn Đồng Cầu",
                "village",
                Some(HOP_THANH),
            ))
            .then_accepts();
    }

    #[test]
    fn a_cadre_off_the_standing_committee_cannot_register_units() {
        Scenario::world()
            .when(unit(
                HOP_THANH,
                HOANG_THE_MANH,
                "dong-cau",
                "Thôn Đồng Cầu",
                "village",
                Some(HOP_THANH),
            ))
            .then_rejects(Code::Forbidden, Some("data.parent"));
    }

    #[test]
    fn a_standing_committee_member_cannot_register_units_in_a_neighbour_commune() {
        Scenario::world()
            .when(unit(
                SON_DUONG,
                PU_SECRETARY,
                "dong-cau",
                "Thôn Đồng Cầu",
                "village",
                Some(HOP_THANH),
            ))
            .then_rejects(Code::Forbidden, Some("data.parent"));
    }

    #[test]
    fn a_new_unit_needs_a_registered_parent() {
        Scenario::world()
            .when(unit(
                SON_DUONG,
                DISTRICT_SC,
                "dong-cau",
                "Thôn Đồng Cầu",
                "village",
                Some("tu-thinh"),
            ))
            .then_rejects(Code::UnknownUnit, Some("data.parent"));
    }

    // ---- cadre.registered

    #[test]
    fn the_district_standing_committee_registers_cadres_anywhere_below() {
        let accepted = Scenario::world()
            .when(cadre(
                SON_DUONG,
                DISTRICT_SC,
                "trieu-van-long",
                "Triệu Văn Long",
                DONG_DIEN,
                "Bí thư Chi bộ",
                false,
            ))
            .then_accepts();
        let c = accepted
            .after
            .state
            .cadre("trieu-van-long")
            .expect("registered");
        assert_eq!(c.unit.as_str(), DONG_DIEN);
        assert_eq!(accepted.event().stream, "cadre-trieu-van-long");
    }

    #[test]
    fn a_commune_standing_committee_member_registers_cadres_of_the_commune_and_below() {
        Scenario::world()
            .when(cadre(
                HOP_THANH,
                HT_SECRETARY,
                "trieu-van-long",
                "Triệu Văn Long",
                DONG_DIEN,
                "Bí thư Chi bộ",
                false,
            ))
            .then_accepts();
    }

    #[test]
    fn a_commune_chair_off_the_standing_committee_cannot_register_cadres() {
        Scenario::world()
            .when(cadre(
                HOP_THANH,
                HOANG_THE_MANH,
                "trieu-van-long",
                "Triệu Văn Long",
                HOP_THANH,
                "Công chức Địa chính",
                false,
            ))
            .then_rejects(Code::Forbidden, Some("data.unit"));
    }

    #[test]
    fn a_commune_secretary_cannot_register_cadres_of_the_district() {
        Scenario::world()
            .when(cadre(
                SON_DUONG,
                HT_SECRETARY,
                "trieu-van-long",
                "Triệu Văn Long",
                BAN_TO_CHUC,
                "Chuyên viên",
                false,
            ))
            .then_rejects(Code::Forbidden, Some("data.unit"));
    }

    #[test]
    fn a_cadre_belongs_to_a_registered_unit() {
        Scenario::world()
            .when(cadre(
                SON_DUONG,
                DISTRICT_SC,
                "trieu-van-long",
                "Triệu Văn Long",
                "tu-thinh",
                "Chủ tịch UBND xã",
                false,
            ))
            .then_rejects(Code::UnknownUnit, Some("data.unit"));
    }

    // ---- cycle.opened, cycle.closed

    #[test]
    fn the_root_standing_committee_opens_and_closes_cycles() {
        let accepted = Scenario::world()
            .when(cycle_opened(
                SON_DUONG,
                DISTRICT_SC,
                "2022",
                "2022-01-01",
                "2022-12-31",
            ))
            .then_accepts();
        assert_eq!(accepted.event().stream, "cycle-2022");
        let accepted = accepted
            .and_then(cycle_closed(SON_DUONG, DISTRICT_SC, "2022"))
            .then_accepts();
        assert!(accepted.after.state.cycle("2022").expect("opened").closed);
    }

    #[test]
    fn a_commune_standing_committee_member_cannot_open_or_close_a_cycle() {
        Scenario::world()
            .when(cycle_opened(
                HOP_THANH,
                HT_SECRETARY,
                "2022",
                "2022-01-01",
                "2022-12-31",
            ))
            .then_rejects(Code::Forbidden, Some("actor"));
        Scenario::world()
            .when(cycle_closed(HOP_THANH, HT_SECRETARY, CYCLE))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    #[test]
    fn a_district_cadre_off_the_standing_committee_cannot_open_a_cycle() {
        Scenario::world()
            .when(cycle_opened(
                SON_DUONG,
                DO_XUAN_PHUC,
                "2022",
                "2022-01-01",
                "2022-12-31",
            ))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    // ---- task.registered

    #[test]
    fn a_cadre_registers_a_task_for_themself() {
        let accepted = Scenario::world()
            .when(task_registered(HOP_THANH, HT_CADRE, NEW_TASK, json!([])))
            .then_accepts();
        let task = accepted.after.state.task(NEW_TASK).expect("registered");
        assert_eq!(
            task.assignee.as_str(),
            HT_CADRE,
            "the actor is the assignee"
        );
        assert_eq!(task.status, TaskStatus::Registered);
        assert_eq!(task.origin, TaskOrigin::SelfRegistered);
        assert_eq!(accepted.event().stream, format!("task-{NEW_TASK}"));
    }

    // ---- task.approved

    #[test]
    fn the_standing_committee_above_the_assignee_approves_a_registered_task() {
        Scenario::world()
            .when(approve(SON_DUONG, DISTRICT_SC, T_REGISTERED))
            .then_accepts();
        Scenario::world()
            .when(approve(HOP_THANH, HT_SECRETARY, T_REGISTERED))
            .then_accepts();
    }

    #[test]
    fn a_cadre_off_the_standing_committee_cannot_approve() {
        Scenario::world()
            .when(approve(HOP_THANH, HOANG_THE_MANH, T_REGISTERED))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    #[test]
    fn a_standing_committee_member_cannot_approve_a_neighbour_communes_task() {
        Scenario::world()
            .when(approve(SON_DUONG, PU_SECRETARY, T_REGISTERED))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    // ---- task.assigned

    #[test]
    fn the_standing_committee_assigns_a_task_to_a_cadre_below_it() {
        let accepted = Scenario::world()
            .when(task_assigned(
                HOP_THANH,
                HT_SECRETARY,
                NEW_TASK,
                HOANG_THE_MANH,
                json!([]),
            ))
            .then_accepts();
        let task = accepted.after.state.task(NEW_TASK).expect("assigned");
        assert_eq!(task.assignee.as_str(), HOANG_THE_MANH);
        assert_eq!(task.status, TaskStatus::Assigned);
        assert_eq!(task.origin, TaskOrigin::Committee);
    }

    #[test]
    fn a_task_from_the_backlog_keeps_its_origin() {
        let accepted = Scenario::world()
            .when(
                task_assigned(SON_DUONG, DISTRICT_SC, NEW_TASK, HOANG_THE_MANH, json!([]))
                    .with("data.origin", json!("backlog"))
                    .with("data.backlog_ref", json!("Tồn đọng 2020: hồ sơ đất đai")),
            )
            .then_accepts();
        assert_eq!(
            accepted
                .after
                .state
                .task(NEW_TASK)
                .expect("assigned")
                .origin,
            TaskOrigin::Backlog
        );
    }

    #[test]
    fn a_commune_secretary_cannot_assign_tasks_to_district_cadres() {
        Scenario::world()
            .when(task_assigned(
                SON_DUONG,
                HT_SECRETARY,
                NEW_TASK,
                DO_XUAN_PHUC,
                json!([]),
            ))
            .then_rejects(Code::Forbidden, Some("data.assignee"));
    }

    #[test]
    fn a_cadre_off_the_standing_committee_cannot_assign_tasks() {
        Scenario::world()
            .when(task_assigned(
                HOP_THANH,
                HOANG_THE_MANH,
                NEW_TASK,
                HT_CADRE,
                json!([]),
            ))
            .then_rejects(Code::Forbidden, Some("data.assignee"));
    }

    #[test]
    fn a_task_is_assigned_to_a_registered_cadre() {
        Scenario::world()
            .when(task_assigned(
                SON_DUONG,
                DISTRICT_SC,
                NEW_TASK,
                "nguoi-la",
                json!([]),
            ))
            .then_rejects(Code::UnknownActor, Some("data.assignee"));
    }

    // ---- plan.submitted

    #[test]
    fn only_the_assignee_submits_the_plan() {
        Scenario::world()
            .when(plan(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS))
            .then_accepts();
        Scenario::world()
            .when(plan(HOP_THANH, HT_CADRE, T_IN_PROGRESS))
            .then_rejects(Code::Forbidden, Some("actor"));
        Scenario::world()
            .when(plan(HOP_THANH, HT_SECRETARY, T_IN_PROGRESS))
            .then_rejects(Code::Forbidden, Some("actor"));
        Scenario::world()
            .when(plan(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    // ---- work.delegated, progress.reported

    #[test]
    fn the_assignee_or_a_cadre_of_the_assignees_unit_reports_progress() {
        Scenario::world()
            .when(progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS))
            .then_accepts();
        Scenario::world()
            .when(progress(HOP_THANH, HT_CADRE, T_IN_PROGRESS))
            .then_accepts();
        Scenario::world()
            .when(progress(HOP_THANH, HT_SECRETARY, T_IN_PROGRESS))
            .then_accepts();
    }

    #[test]
    fn nobody_outside_the_assignees_unit_reports_progress() {
        Scenario::world()
            .when(progress(HOP_THANH, DD_HEAD, T_IN_PROGRESS))
            .then_rejects(Code::Forbidden, Some("actor"));
        Scenario::world()
            .when(progress(SON_DUONG, PU_CADRE, T_IN_PROGRESS))
            .then_rejects(Code::Forbidden, Some("actor"));
        Scenario::world()
            .when(progress(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    #[test]
    fn the_assignee_or_a_cadre_of_the_assignees_unit_delegates() {
        Scenario::world()
            .when(delegate(
                HOP_THANH,
                HOANG_THE_MANH,
                T_IN_PROGRESS,
                "thu-gom-rac",
                DONG_DIEN,
            ))
            .then_accepts();
        Scenario::world()
            .when(delegate(
                HOP_THANH,
                HT_CADRE,
                T_IN_PROGRESS,
                "thu-gom-rac",
                DONG_DIEN,
            ))
            .then_accepts();
        Scenario::world()
            .when(delegate(
                HOP_THANH,
                DD_HEAD,
                T_IN_PROGRESS,
                "thu-gom-rac",
                DONG_DIEN,
            ))
            .then_rejects(Code::Forbidden, Some("actor"));
        Scenario::world()
            .when(delegate(
                SON_DUONG,
                DO_XUAN_PHUC,
                T_IN_PROGRESS,
                "thu-gom-rac",
                DONG_DIEN,
            ))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    // ---- task.reassigned

    #[test]
    fn the_standing_committee_reassigns_a_task_and_the_new_assignee_carries_it() {
        let accepted = Scenario::world()
            .when(reassign(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS, HT_CADRE))
            .then_accepts();
        let task = accepted.after.state.task(T_IN_PROGRESS).expect("exists");
        assert_eq!(task.assignee.as_str(), HT_CADRE);
        assert_eq!(
            task.status,
            TaskStatus::InProgress,
            "reassigning keeps the status"
        );
        accepted
            .after
            .clone()
            .when(plan(HOP_THANH, HT_CADRE, T_IN_PROGRESS))
            .then_accepts();
        accepted
            .after
            .when(plan(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    #[test]
    fn a_task_is_reassigned_to_a_registered_cadre() {
        Scenario::world()
            .when(reassign(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS, "nguoi-la"))
            .then_rejects(Code::UnknownActor, Some("data.assignee"));
    }

    #[test]
    fn a_task_is_reassigned_only_within_the_committees_reach() {
        // Hợp Thành's own task (part C: the district's would be refused
        // earlier, at `actor`).
        a_communes_own_task()
            .when(reassign(SON_DUONG, HT_SECRETARY, NEW_TASK, DO_XUAN_PHUC))
            .then_rejects(Code::Forbidden, Some("data.assignee"));
    }

    #[test]
    fn a_task_is_not_reassigned_to_its_own_assignee() {
        Scenario::world()
            .when(reassign(
                SON_DUONG,
                DISTRICT_SC,
                T_IN_PROGRESS,
                HOANG_THE_MANH,
            ))
            .then_rejects(Code::InvalidValue, Some("data.assignee"));
    }

    #[test]
    fn a_cadre_off_the_standing_committee_cannot_reassign() {
        Scenario::world()
            .when(reassign(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, HT_CADRE))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    // ---- task.cancelled, task.evaluated

    /// The world where Hợp Thành's committee gave `NEW_TASK` to Lê Văn
    /// Tuấn (part C: the giving body judges; see `judging_body`).
    fn a_communes_own_task() -> Scenario {
        Scenario::world().and(&[task_assigned(
            HOP_THANH,
            HT_SECRETARY,
            NEW_TASK,
            HT_CADRE,
            json!([]),
        )])
    }

    #[test]
    fn only_the_standing_committee_cancels() {
        a_communes_own_task()
            .when(cancel(HOP_THANH, HT_SECRETARY, NEW_TASK))
            .then_accepts();
        Scenario::world()
            .when(cancel(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS))
            .then_accepts();
        a_communes_own_task()
            .when(cancel(HOP_THANH, HOANG_THE_MANH, NEW_TASK))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    #[test]
    fn only_the_standing_committee_evaluates() {
        a_communes_own_task()
            .when(evaluate(HOP_THANH, HT_SECRETARY, NEW_TASK).with("data.rating", json!("good")))
            .then_accepts();
        Scenario::world()
            .when(
                evaluate(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("data.rating", json!("excellent")),
            )
            .then_rejects(Code::Forbidden, Some("actor"));
        Scenario::world()
            .when(
                evaluate(SON_DUONG, PU_SECRETARY, T_IN_PROGRESS).with("data.rating", json!("good")),
            )
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    // ---- every task-level type

    #[test]
    fn every_task_submission_names_a_registered_task() {
        let missing = "khong-co";
        for submission in [
            approve(SON_DUONG, DISTRICT_SC, missing),
            plan(HOP_THANH, HOANG_THE_MANH, missing),
            delegate(HOP_THANH, HOANG_THE_MANH, missing, "thu-gom-rac", DONG_DIEN),
            progress(HOP_THANH, HOANG_THE_MANH, missing),
            reassign(SON_DUONG, DISTRICT_SC, missing, HT_CADRE),
            cancel(SON_DUONG, DISTRICT_SC, missing),
            evaluate(SON_DUONG, DISTRICT_SC, missing).with("data.rating", json!("good")),
        ] {
            Scenario::world()
                .when(submission)
                .then_rejects(Code::UnknownTask, Some("data.task_id"));
        }
    }
}

// ============================================================ part C: judging

/// CONTRACT part C: nobody judges their own work. The actor of
/// `task.approved`, `task.reassigned`, `task.cancelled` and `task.evaluated`
/// is never the task's assignee, and nobody gives a task to themself.
mod own_work {
    use super::*;

    /// A second member of the district's Standing Committee (fictional).
    const DISTRICT_SC2: &str = "hoang-van-duc";

    /// The world where the second district committee member gave
    /// `NEW_TASK` to the first.
    fn a_task_of_the_district_secretary() -> Scenario {
        Scenario::world().and(&[
            cadre(
                SON_DUONG,
                DISTRICT_SC,
                DISTRICT_SC2,
                "Hoàng Văn Đức",
                SON_DUONG,
                "Phó Chủ tịch UBND huyện",
                true,
            ),
            task_assigned(SON_DUONG, DISTRICT_SC2, NEW_TASK, DISTRICT_SC, json!([])),
        ])
    }

    #[test]
    fn a_committee_member_does_not_evaluate_his_own_task() {
        let rejection = a_task_of_the_district_secretary()
            .when(evaluate(SON_DUONG, DISTRICT_SC, NEW_TASK).with("data.score", json!(95)))
            .then_rejects(Code::Forbidden, Some("actor"));
        assert!(
            rejection.message.contains("own work"),
            "{}",
            rejection.message
        );
        a_task_of_the_district_secretary()
            .when(evaluate(SON_DUONG, DISTRICT_SC2, NEW_TASK).with("data.score", json!(95)))
            .then_accepts();
    }

    #[test]
    fn a_committee_member_does_not_cancel_or_reassign_his_own_task() {
        a_task_of_the_district_secretary()
            .when(cancel(SON_DUONG, DISTRICT_SC, NEW_TASK))
            .then_rejects(Code::Forbidden, Some("actor"));
        a_task_of_the_district_secretary()
            .when(reassign(SON_DUONG, DISTRICT_SC, NEW_TASK, DO_XUAN_PHUC))
            .then_rejects(Code::Forbidden, Some("actor"));
        a_task_of_the_district_secretary()
            .when(reassign(SON_DUONG, DISTRICT_SC2, NEW_TASK, DO_XUAN_PHUC))
            .then_accepts();
        a_task_of_the_district_secretary()
            .when(cancel(SON_DUONG, DISTRICT_SC2, NEW_TASK))
            .then_accepts();
    }

    #[test]
    fn a_committee_member_does_not_approve_the_task_he_registered() {
        let registered = || {
            Scenario::world().and(&[task_registered(
                HOP_THANH,
                HT_SECRETARY,
                NEW_TASK,
                json!([]),
            )])
        };
        registered()
            .when(approve(HOP_THANH, HT_SECRETARY, NEW_TASK))
            .then_rejects(Code::Forbidden, Some("actor"));
        registered()
            .when(approve(SON_DUONG, DISTRICT_SC, NEW_TASK))
            .then_accepts();
    }

    #[test]
    fn a_committee_member_does_not_assign_a_task_to_himself() {
        Scenario::world()
            .when(task_assigned(
                HOP_THANH,
                HT_SECRETARY,
                NEW_TASK,
                HT_SECRETARY,
                json!([]),
            ))
            .then_rejects(Code::Forbidden, Some("data.assignee"));
        Scenario::world()
            .when(task_assigned(
                SON_DUONG,
                DISTRICT_SC,
                NEW_TASK,
                DISTRICT_SC,
                json!([]),
            ))
            .then_rejects(Code::Forbidden, Some("data.assignee"));
    }

    #[test]
    fn a_committee_member_does_not_reassign_a_task_to_himself() {
        Scenario::world()
            .when(reassign(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS, DISTRICT_SC))
            .then_rejects(Code::Forbidden, Some("data.assignee"));
    }

    /// The finding of issue 11, in the domain: the chair of Hợp Thành, a
    /// member of his own commune's Standing Committee (as in the demo data
    /// set), registered a task and approved it himself, assigned a task to
    /// himself and evaluated his own task at 95.
    #[test]
    fn a_commune_chair_on_his_communes_committee_cannot_grade_himself() {
        const CHAIR: &str = "chu-tich-hop-thanh";
        let world = || {
            Scenario::world().and(&[
                cadre(
                    SON_DUONG,
                    DISTRICT_SC,
                    CHAIR,
                    "Đào Văn Chính",
                    HOP_THANH,
                    "Chủ tịch UBND xã",
                    true,
                ),
                task_assigned(SON_DUONG, DISTRICT_SC, "t-huyen-giao", CHAIR, json!([])),
                task_assigned(HOP_THANH, HT_SECRETARY, "t-xa-giao", CHAIR, json!([])),
            ])
        };
        world()
            .and(&[task_registered(HOP_THANH, CHAIR, NEW_TASK, json!([]))])
            .when(approve(HOP_THANH, CHAIR, NEW_TASK))
            .then_rejects(Code::Forbidden, Some("actor"));
        world()
            .when(task_assigned(HOP_THANH, CHAIR, NEW_TASK, CHAIR, json!([])))
            .then_rejects(Code::Forbidden, Some("data.assignee"));
        for task in ["t-huyen-giao", "t-xa-giao"] {
            world()
                .when(evaluate(HOP_THANH, CHAIR, task).with("data.score", json!(95)))
                .then_rejects(Code::Forbidden, Some("actor"));
        }
        world()
            .when(evaluate(HOP_THANH, HT_SECRETARY, "t-xa-giao").with("data.score", json!(95)))
            .then_accepts();
    }
}

/// CONTRACT part C: the body that gives a task judges it. Reassigning,
/// cancelling and evaluating need a Standing Committee member of the unit
/// that assigned or approved the task (the envelope `unit` of that
/// submission) or of a unit above it.
mod judging_body {
    use super::*;

    fn judgements(envelope: &str, actor: &str, task: &str) -> Vec<Value> {
        vec![
            evaluate(envelope, actor, task).with("data.rating", json!("good")),
            cancel(envelope, actor, task),
            reassign(envelope, actor, task, HT_CADRE),
        ]
    }

    #[test]
    fn a_communes_committee_cannot_judge_a_task_the_district_gave() {
        // T_IN_PROGRESS was registered in Hợp Thành and approved by the district.
        for submission in judgements(HOP_THANH, HT_SECRETARY, T_IN_PROGRESS) {
            Scenario::world()
                .when(submission)
                .then_rejects(Code::Forbidden, Some("actor"));
        }
    }

    #[test]
    fn the_district_judges_the_tasks_it_gave() {
        for submission in judgements(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS) {
            Scenario::world().when(submission).then_accepts();
        }
    }

    #[test]
    fn a_communes_committee_judges_the_tasks_it_gave_and_so_does_the_district_above() {
        let given = || {
            Scenario::world().and(&[task_assigned(
                HOP_THANH,
                HT_SECRETARY,
                NEW_TASK,
                HOANG_THE_MANH,
                json!([]),
            )])
        };
        assert_eq!(
            given()
                .state
                .task(NEW_TASK)
                .and_then(|t| t.given_by.clone())
                .as_deref(),
            Some(HOP_THANH)
        );
        for submission in judgements(HOP_THANH, HT_SECRETARY, NEW_TASK) {
            given().when(submission).then_accepts();
        }
        for submission in judgements(SON_DUONG, DISTRICT_SC, NEW_TASK) {
            given().when(submission).then_accepts();
        }
        for submission in judgements(SON_DUONG, PU_SECRETARY, NEW_TASK) {
            given()
                .when(submission)
                .then_rejects(Code::Forbidden, Some("actor"));
        }
    }

    #[test]
    fn the_body_that_approved_a_self_registered_task_judges_it() {
        let approved_by =
            |envelope, actor| Scenario::world().and(&[approve(envelope, actor, T_REGISTERED)]);
        approved_by(HOP_THANH, HT_SECRETARY)
            .when(
                evaluate(HOP_THANH, HT_SECRETARY, T_REGISTERED).with("data.rating", json!("good")),
            )
            .then_accepts();
        approved_by(SON_DUONG, DISTRICT_SC)
            .when(
                evaluate(HOP_THANH, HT_SECRETARY, T_REGISTERED).with("data.rating", json!("good")),
            )
            .then_rejects(Code::Forbidden, Some("actor"));
        assert_eq!(
            Scenario::world()
                .state
                .task(T_REGISTERED)
                .map(|t| t.given_by.clone()),
            Some(None),
            "a task awaiting approval has not been given yet"
        );
    }

    #[test]
    fn the_giving_body_is_the_envelope_unit_not_the_actors() {
        // A commune secretary assigning through the district's publisher
        // gives the task as the district.
        let given = || {
            Scenario::world().and(&[task_assigned(
                SON_DUONG,
                HT_SECRETARY,
                NEW_TASK,
                HOANG_THE_MANH,
                json!([]),
            )])
        };
        given()
            .when(evaluate(HOP_THANH, HT_SECRETARY, NEW_TASK).with("data.rating", json!("good")))
            .then_rejects(Code::Forbidden, Some("actor"));
        given()
            .when(evaluate(SON_DUONG, DISTRICT_SC, NEW_TASK).with("data.rating", json!("good")))
            .then_accepts();
    }

    #[test]
    fn a_reassigned_task_is_still_judged_by_the_body_that_gave_it() {
        let accepted = Scenario::world()
            .and(&[
                task_assigned(HOP_THANH, HT_SECRETARY, NEW_TASK, HOANG_THE_MANH, json!([])),
                reassign(HOP_THANH, HT_SECRETARY, NEW_TASK, HT_CADRE),
            ])
            .when(evaluate(HOP_THANH, HT_SECRETARY, NEW_TASK).with("data.rating", json!("good")))
            .then_accepts();
        let task = accepted.after.state.task(NEW_TASK).expect("exists");
        assert_eq!(task.given_by.as_deref(), Some(HOP_THANH));
        assert_eq!(task.assignee.as_str(), HT_CADRE);
    }
}

/// CONTRACT part C: closed units take nothing new. After a unit's
/// `valid_to` (its merge's `effective_on`, judged at the day a submission
/// was sent, in Vietnam), no cadre is registered in it, no task is assigned
/// or registered to a cadre of it, and it receives no delegation:
/// `invalid_state`, naming the successor.
mod closed_units {
    use super::*;

    /// Phúc Ứng merged into Hợp Thành from 2025-07-01 (recorded ahead).
    fn merged_world() -> Scenario {
        Scenario::world().and(&[merge(SON_DUONG, DISTRICT_SC, HOP_THANH, &[PHUC_UNG])])
    }

    #[track_caller]
    fn names_the_successor(rejection: Rejection) {
        assert!(
            rejection.message.contains(HOP_THANH),
            "the rejection names the successor: {}",
            rejection.message
        );
    }

    fn newcomer_in_phuc_ung() -> Value {
        cadre(
            SON_DUONG,
            DISTRICT_SC,
            "trieu-van-long",
            "Triệu Văn Long",
            PHUC_UNG,
            "Công chức",
            false,
        )
    }

    #[test]
    fn no_cadre_is_registered_in_a_closed_unit() {
        names_the_successor(
            merged_world()
                .when(newcomer_in_phuc_ung().sent_at(AFTER_MERGE))
                .then_rejects(Code::InvalidState, Some("data.unit")),
        );
    }

    #[test]
    fn no_task_is_registered_by_a_cadre_of_a_closed_unit() {
        names_the_successor(
            merged_world()
                .when(
                    task_registered(HOP_THANH, PU_CHAIR, NEW_TASK, json!([])).sent_at(AFTER_MERGE),
                )
                .then_rejects(Code::InvalidState, Some("actor")),
        );
    }

    #[test]
    fn no_task_is_assigned_or_reassigned_to_a_cadre_of_a_closed_unit() {
        names_the_successor(
            merged_world()
                .when(
                    task_assigned(HOP_THANH, HT_SECRETARY, NEW_TASK, PU_CHAIR, json!([]))
                        .sent_at(AFTER_MERGE),
                )
                .then_rejects(Code::InvalidState, Some("data.assignee")),
        );
        names_the_successor(
            merged_world()
                .when(
                    reassign(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS, PU_CADRE).sent_at(AFTER_MERGE),
                )
                .then_rejects(Code::InvalidState, Some("data.assignee")),
        );
    }

    #[test]
    fn a_task_awaiting_approval_is_not_given_to_a_cadre_of_a_closed_unit() {
        let world = Scenario::world().and(&[
            task_registered(PHUC_UNG, PU_CADRE, NEW_TASK, json!([])),
            merge(SON_DUONG, DISTRICT_SC, HOP_THANH, &[PHUC_UNG]),
        ]);
        names_the_successor(
            world
                .when(approve(SON_DUONG, DISTRICT_SC, NEW_TASK).sent_at(AFTER_MERGE))
                .then_rejects(Code::InvalidState, Some("data.task_id")),
        );
    }

    #[test]
    fn a_closed_unit_receives_no_delegation() {
        let delegation = |to| {
            delegate(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, "ho-tro", to).sent_at(AFTER_MERGE)
        };
        names_the_successor(
            merged_world()
                .when(delegation(PHUC_UNG))
                .then_rejects(Code::InvalidState, Some("data.to")),
        );
        names_the_successor(
            merged_world()
                .when(delegation(PU_CADRE))
                .then_rejects(Code::InvalidState, Some("data.to")),
        );
        // A village of the merged commune is open, and now lies in the successor.
        merged_world().when(delegation(THON_TAN_AN)).then_accepts();
    }

    #[test]
    fn before_its_effective_date_a_merge_closes_nothing() {
        let eve = "2025-06-30T16:00:00+07:00";
        merged_world()
            .when(newcomer_in_phuc_ung().sent_at(eve))
            .then_accepts();
        // Nor does the merged unit lie in its successor yet.
        merged_world()
            .when(
                task_assigned(HOP_THANH, HT_SECRETARY, NEW_TASK, PU_CHAIR, json!([])).sent_at(eve),
            )
            .then_rejects(Code::Forbidden, Some("data.assignee"));
    }

    #[test]
    fn the_day_of_the_merge_is_read_in_vietnam() {
        merged_world()
            .when(newcomer_in_phuc_ung().sent_at("2025-06-30T16:59:59Z"))
            .then_accepts();
        merged_world()
            .when(newcomer_in_phuc_ung().sent_at("2025-06-30T17:00:00Z"))
            .then_rejects(Code::InvalidState, Some("data.unit"));
    }

    #[test]
    fn history_already_recorded_stays_and_its_work_goes_on() {
        merged_world()
            .when(progress(HOP_THANH, PU_CHAIR, T_ASSIGNED).sent_at(AFTER_MERGE))
            .then_accepts();
        merged_world()
            .when(plan(PHUC_UNG, PU_CHAIR, T_ASSIGNED).sent_at(AFTER_MERGE))
            .then_accepts();
        merged_world()
            .when(
                evaluate(SON_DUONG, DISTRICT_SC, T_ASSIGNED)
                    .with("data.rating", json!("good"))
                    .sent_at(AFTER_MERGE),
            )
            .then_accepts();
    }
}

/// CONTRACT part C: reports are not from the future. A `progress.reported`
/// whose `as_of` is later than the day of its `occurred_at` in UTC+7 is
/// `invalid_value`.
mod future_reports {
    use super::*;

    fn report(as_of: &str, sent: &str) -> Value {
        progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
            .with("data.as_of", json!(as_of))
            .sent_at(sent)
    }

    #[test]
    fn a_report_may_describe_the_day_it_is_sent() {
        Scenario::world()
            .when(report("2021-03-02", "2021-03-02T08:30:00+07:00"))
            .then_accepts();
    }

    #[test]
    fn a_report_may_not_describe_a_later_day() {
        Scenario::world()
            .when(report("2021-03-03", "2021-03-02T08:30:00+07:00"))
            .then_rejects(Code::InvalidValue, Some("data.as_of"));
        Scenario::world()
            .when(report("2021-12-31", "2021-03-02T08:30:00+07:00"))
            .then_rejects(Code::InvalidValue, Some("data.as_of"));
    }

    #[test]
    fn the_day_of_sending_is_read_in_vietnam() {
        // Midnight in Vietnam is 17:00 UTC the day before.
        Scenario::world()
            .when(report("2021-03-02", "2021-03-01T17:00:00Z"))
            .then_accepts();
        Scenario::world()
            .when(report("2021-03-02", "2021-03-01T16:59:59Z"))
            .then_rejects(Code::InvalidValue, Some("data.as_of"));
        Scenario::world()
            .when(report("2021-03-02", "2021-03-01T20:00:00-05:00"))
            .then_accepts();
    }
}

/// CONTRACT part C: targets may state their unit and range. A reported
/// value outside `min`/`max` is `invalid_value` at `data.values[i].value`;
/// a target's own `baseline` and `target` lie within its range, and `min`
/// is not above `max`.
mod target_ranges {
    use super::*;

    fn ranged() -> Value {
        json!([
            {"metric": "ty-le", "label": "Tỷ lệ hộ phân loại rác", "baseline": 20, "target": 80,
             "unit": "%", "min": 0, "max": 100},
            {"metric": "ho", "label": "Hộ ký cam kết", "baseline": 0, "target": 180,
             "unit": "hộ", "min": 0}
        ])
    }

    fn with_targets(targets: Value) -> Value {
        task_registered(HOP_THANH, HOANG_THE_MANH, NEW_TASK, targets)
    }

    fn a_ranged_task() -> Scenario {
        Scenario::world().and(&[
            with_targets(ranged()),
            approve(SON_DUONG, DISTRICT_SC, NEW_TASK),
        ])
    }

    fn values(values: Value) -> Value {
        progress(HOP_THANH, HOANG_THE_MANH, NEW_TASK)
            .with("data.values", values)
            .without("data.percent_complete")
    }

    #[test]
    fn a_target_may_state_its_unit_and_range_and_they_are_kept() {
        let accepted = Scenario::world()
            .when(with_targets(ranged()))
            .then_accepts();
        let targets = &accepted.data()["targets"];
        assert_eq!(targets[0]["unit"], json!("%"));
        assert_eq!(
            (targets[0]["min"].as_f64(), targets[0]["max"].as_f64()),
            (Some(0.0), Some(100.0))
        );
        assert_eq!(targets[1]["unit"], json!("hộ"));
        assert!(
            targets[1].get("max").is_none(),
            "an absent bound stays absent"
        );
    }

    #[test]
    fn a_reported_value_outside_the_range_is_an_invalid_value_at_its_place() {
        a_ranged_task()
            .when(values(
                json!([{"metric": "ty-le", "value": 50}, {"metric": "ho", "value": -1}]),
            ))
            .then_rejects(Code::InvalidValue, Some("data.values[1].value"));
        a_ranged_task()
            .when(values(json!([{"metric": "ty-le", "value": 100.5}])))
            .then_rejects(Code::InvalidValue, Some("data.values[0].value"));
        a_ranged_task()
            .when(values(
                json!([{"metric": "ty-le", "value": 100}, {"metric": "ho", "value": 0}]),
            ))
            .then_accepts();
        a_ranged_task()
            .when(values(json!([{"metric": "ho", "value": 5000}])))
            .then_accepts();
    }

    #[test]
    fn the_minimum_is_not_above_the_maximum() {
        Scenario::world()
            .when(with_targets(
                json!([{"metric": "m", "label": "Chỉ tiêu", "baseline": 6,
                                        "target": 8, "min": 10, "max": 5}]),
            ))
            .then_rejects(Code::InvalidValue, Some("data.targets[0].max"));
    }

    #[test]
    fn the_baseline_and_the_target_lie_within_the_range() {
        let target = |baseline: f64, target: f64| {
            with_targets(
                json!([{"metric": "m", "label": "Tỷ lệ", "baseline": baseline,
                                 "target": target, "min": 0, "max": 100}]),
            )
        };
        Scenario::world()
            .when(target(120.0, 100.0))
            .then_rejects(Code::InvalidValue, Some("data.targets[0].baseline"));
        Scenario::world()
            .when(target(-5.0, 100.0))
            .then_rejects(Code::InvalidValue, Some("data.targets[0].baseline"));
        Scenario::world()
            .when(target(20.0, 120.0))
            .then_rejects(Code::InvalidValue, Some("data.targets[0].target"));
        Scenario::world().when(target(0.0, 100.0)).then_accepts();
    }

    #[test]
    fn a_blank_unit_is_an_invalid_value_and_a_misspelled_bound_is_malformed() {
        Scenario::world()
            .when(with_targets(
                json!([{"metric": "m", "label": "Hộ", "baseline": 0,
                                        "target": 8, "unit": "  "}]),
            ))
            .then_rejects(Code::InvalidValue, Some("data.targets[0].unit"));
        Scenario::world()
            .when(with_targets(
                json!([{"metric": "m", "label": "Hộ", "baseline": 0,
                                        "target": 8, "maximum": 10}]),
            ))
            .then_rejects(Code::Malformed, Some("data.targets[0].maximum"));
    }
}

// ============================================================ task statuses

mod statuses {
    use super::*;

    #[test]
    fn the_fixture_world_has_a_task_in_every_status() {
        let world = Scenario::world();
        assert_eq!(world.status(T_REGISTERED), TaskStatus::Registered);
        assert_eq!(world.status(T_ASSIGNED), TaskStatus::Assigned);
        assert_eq!(world.status(T_PLANNED), TaskStatus::Planned);
        assert_eq!(world.status(T_IN_PROGRESS), TaskStatus::InProgress);
        assert_eq!(world.status(T_EVALUATED), TaskStatus::Evaluated);
        assert_eq!(world.status(T_CANCELLED), TaskStatus::Cancelled);
    }

    #[test]
    fn approval_moves_a_registered_task_to_assigned() {
        let accepted = Scenario::world()
            .when(approve(SON_DUONG, DISTRICT_SC, T_REGISTERED))
            .then_accepts();
        assert_eq!(accepted.status(T_REGISTERED), TaskStatus::Assigned);
        assert_eq!(
            accepted
                .after
                .state
                .task(T_REGISTERED)
                .expect("exists")
                .origin,
            TaskOrigin::SelfRegistered,
            "an approved task stays self-registered"
        );
    }

    #[test]
    fn only_a_registered_task_awaits_approval() {
        for task in [
            T_ASSIGNED,
            T_PLANNED,
            T_IN_PROGRESS,
            T_EVALUATED,
            T_CANCELLED,
        ] {
            Scenario::world()
                .when(approve(SON_DUONG, DISTRICT_SC, task))
                .then_rejects(Code::InvalidState, Some("data.task_id"));
        }
    }

    #[test]
    fn the_first_plan_moves_an_assigned_task_to_planned() {
        let accepted = Scenario::world()
            .when(plan(PHUC_UNG, PU_CHAIR, T_ASSIGNED))
            .then_accepts();
        assert_eq!(accepted.status(T_ASSIGNED), TaskStatus::Planned);
        assert_eq!(
            accepted
                .after
                .state
                .task(T_ASSIGNED)
                .expect("exists")
                .plan_revisions,
            1
        );
    }

    #[test]
    fn a_plan_revision_keeps_the_status_and_is_counted() {
        let accepted = Scenario::world()
            .when(plan(SON_DUONG, DO_XUAN_PHUC, T_PLANNED))
            .then_accepts();
        let task = accepted.after.state.task(T_PLANNED).expect("exists");
        assert_eq!(task.status, TaskStatus::Planned);
        assert_eq!(task.plan_revisions, 2);
        let accepted = accepted
            .and_then(plan(SON_DUONG, DO_XUAN_PHUC, T_PLANNED))
            .then_accepts();
        assert_eq!(
            accepted
                .after
                .state
                .task(T_PLANNED)
                .expect("exists")
                .plan_revisions,
            3
        );
    }

    #[test]
    fn a_plan_for_a_task_in_progress_is_a_revision_and_keeps_it_in_progress() {
        // The contract's "assigned/planned/in_progress -> planned on first
        // plan" is read as: a plan may come in any of the three; it moves an
        // assigned task to planned; a task already in progress stays there.
        let accepted = Scenario::world()
            .when(plan(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS))
            .then_accepts();
        let task = accepted.after.state.task(T_IN_PROGRESS).expect("exists");
        assert_eq!(task.status, TaskStatus::InProgress);
        assert_eq!(task.plan_revisions, 2);
    }

    #[test]
    fn a_task_reported_on_before_any_plan_keeps_in_progress_when_the_plan_comes() {
        let accepted = Scenario::world()
            .when(progress(PHUC_UNG, PU_CHAIR, T_ASSIGNED))
            .then_accepts();
        assert_eq!(accepted.status(T_ASSIGNED), TaskStatus::InProgress);
        let accepted = accepted
            .and_then(plan(PHUC_UNG, PU_CHAIR, T_ASSIGNED))
            .then_accepts();
        let task = accepted.after.state.task(T_ASSIGNED).expect("exists");
        assert_eq!(task.status, TaskStatus::InProgress);
        assert_eq!(task.plan_revisions, 1);
    }

    #[test]
    fn a_progress_report_puts_a_planned_task_in_progress() {
        let accepted = Scenario::world()
            .when(progress(SON_DUONG, DO_XUAN_PHUC, T_PLANNED).with(
                "data.values",
                json!([{"metric": "dang-vien", "value": 394}]),
            ))
            .then_accepts();
        assert_eq!(accepted.status(T_PLANNED), TaskStatus::InProgress);
    }

    #[test]
    fn delegating_does_not_change_the_status() {
        let accepted = Scenario::world()
            .when(delegate(
                SON_DUONG,
                DO_XUAN_PHUC,
                T_PLANNED,
                "hop-thanh-bau-truong-thon",
                HOP_THANH,
            ))
            .then_accepts();
        let task = accepted.after.state.task(T_PLANNED).expect("exists");
        assert_eq!(task.status, TaskStatus::Planned);
        assert!(
            task.delegations
                .iter()
                .any(|d| d.as_str() == "hop-thanh-bau-truong-thon")
        );
    }

    #[test]
    fn a_registered_task_awaits_approval_before_any_work() {
        for submission in [
            plan(HOP_THANH, HT_CADRE, T_REGISTERED),
            delegate(
                HOP_THANH,
                HT_CADRE,
                T_REGISTERED,
                "chi-bo-dong-dien",
                DONG_DIEN,
            ),
            progress(HOP_THANH, HT_CADRE, T_REGISTERED),
            evaluate(SON_DUONG, DISTRICT_SC, T_REGISTERED).with("data.rating", json!("good")),
        ] {
            Scenario::world()
                .when(submission)
                .then_rejects(Code::InvalidState, Some("data.task_id"));
        }
    }

    #[test]
    fn a_registered_task_may_be_cancelled_or_reassigned() {
        let accepted = Scenario::world()
            .when(cancel(SON_DUONG, DISTRICT_SC, T_REGISTERED))
            .then_accepts();
        assert_eq!(accepted.status(T_REGISTERED), TaskStatus::Cancelled);
        let accepted = Scenario::world()
            .when(reassign(
                SON_DUONG,
                DISTRICT_SC,
                T_REGISTERED,
                HOANG_THE_MANH,
            ))
            .then_accepts();
        assert_eq!(accepted.status(T_REGISTERED), TaskStatus::Registered);
    }

    #[test]
    fn every_active_task_may_be_evaluated_or_cancelled() {
        for task in [T_ASSIGNED, T_PLANNED, T_IN_PROGRESS] {
            let accepted = Scenario::world()
                .when(evaluate(SON_DUONG, DISTRICT_SC, task).with("data.score", json!(75)))
                .then_accepts();
            assert_eq!(accepted.status(task), TaskStatus::Evaluated);
            assert_eq!(
                accepted.after.state.task(task).expect("exists").rating,
                Some(Rating::Good)
            );
            let accepted = Scenario::world()
                .when(cancel(SON_DUONG, DISTRICT_SC, task))
                .then_accepts();
            assert_eq!(accepted.status(task), TaskStatus::Cancelled);
        }
    }

    fn everything_for(task: &str, assignee_unit: &str, assignee: &str) -> Vec<Value> {
        vec![
            approve(SON_DUONG, DISTRICT_SC, task),
            plan(assignee_unit, assignee, task),
            delegate(
                assignee_unit,
                assignee,
                task,
                "phan-viec-moi",
                assignee_unit,
            ),
            progress(assignee_unit, assignee, task),
            reassign(SON_DUONG, DISTRICT_SC, task, PU_CHAIR),
            cancel(SON_DUONG, DISTRICT_SC, task),
            evaluate(SON_DUONG, DISTRICT_SC, task).with("data.rating", json!("excellent")),
        ]
    }

    #[test]
    fn an_evaluation_is_final() {
        for submission in everything_for(T_EVALUATED, PHUC_UNG, PU_CADRE) {
            Scenario::world()
                .when(submission)
                .then_rejects(Code::InvalidState, Some("data.task_id"));
        }
    }

    #[test]
    fn a_cancellation_is_final() {
        for submission in everything_for(T_CANCELLED, PHUC_UNG, PU_SECRETARY) {
            Scenario::world()
                .when(submission)
                .then_rejects(Code::InvalidState, Some("data.task_id"));
        }
    }

    #[test]
    fn a_task_lives_registered_assigned_planned_in_progress_evaluated() {
        let steps = [
            task_registered(HOP_THANH, HOANG_THE_MANH, NEW_TASK, json!([])),
            approve(SON_DUONG, DISTRICT_SC, NEW_TASK),
            plan(HOP_THANH, HOANG_THE_MANH, NEW_TASK),
            plan(HOP_THANH, HOANG_THE_MANH, NEW_TASK),
            delegate(
                HOP_THANH,
                HOANG_THE_MANH,
                NEW_TASK,
                "ung-dung-so",
                DONG_DIEN,
            ),
            progress(HOP_THANH, HOANG_THE_MANH, NEW_TASK),
            progress(HOP_THANH, HT_CADRE, NEW_TASK).with("data.percent_complete", json!(90)),
            evaluate(SON_DUONG, DISTRICT_SC, NEW_TASK).with("data.score", json!(91.5)),
        ];
        let expected = [
            TaskStatus::Registered,
            TaskStatus::Assigned,
            TaskStatus::Planned,
            TaskStatus::Planned,
            TaskStatus::Planned,
            TaskStatus::InProgress,
            TaskStatus::InProgress,
            TaskStatus::Evaluated,
        ];
        let mut scenario = Scenario::world();
        let mut previous: Option<TaskStatus> = None;
        for (step, (submission, status)) in steps.into_iter().zip(expected).enumerate() {
            let accepted = scenario.when(submission).then_accepts();
            assert_eq!(accepted.event().version, step as u64 + 1);
            assert_eq!(accepted.status(NEW_TASK), status, "after step {step}");
            if let Some(previous) = previous {
                assert!(previous.may_become(status), "{previous:?} -> {status:?}");
            }
            previous = Some(status);
            scenario = accepted.after;
        }
    }
}

// ============================================================ expected_version

mod versions {
    use super::*;

    #[test]
    fn a_matching_expected_version_is_accepted_and_the_event_follows_it() {
        // registered 1, approved 2, planned 3, reported 4
        let accepted = Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("expected_version", json!(4)),
            )
            .then_accepts();
        assert_eq!(accepted.event().stream, "task-ndp-2021-07");
        assert_eq!(accepted.event().version, 5);
    }

    #[test]
    fn a_stale_expected_version_is_a_conflict() {
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("expected_version", json!(3)),
            )
            .then_rejects(Code::VersionConflict, Some("expected_version"));
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("expected_version", json!(5)),
            )
            .then_rejects(Code::VersionConflict, Some("expected_version"));
    }

    #[test]
    fn a_stream_that_does_not_exist_is_at_version_zero() {
        let accepted = Scenario::world()
            .when(
                task_registered(HOP_THANH, HOANG_THE_MANH, NEW_TASK, json!([]))
                    .with("expected_version", json!(0)),
            )
            .then_accepts();
        assert_eq!(accepted.event().version, 1);
        Scenario::world()
            .when(
                task_registered(HOP_THANH, HOANG_THE_MANH, NEW_TASK, json!([]))
                    .with("expected_version", json!(1)),
            )
            .then_rejects(Code::VersionConflict, Some("expected_version"));
        Scenario::world()
            .when(
                cadre(
                    SON_DUONG,
                    DISTRICT_SC,
                    "trieu-van-long",
                    "Triệu Văn Long",
                    HOP_THANH,
                    "Công chức",
                    false,
                )
                .with("expected_version", json!(0)),
            )
            .then_accepts();
        Scenario::world()
            .when(
                unit(
                    SON_DUONG,
                    DISTRICT_SC,
                    "dong-cau",
                    "Thôn Đồng Cầu",
                    "village",
                    Some(HOP_THANH),
                )
                .with("expected_version", json!(0)),
            )
            .then_accepts();
        Scenario::world()
            .when(
                cycle_opened(SON_DUONG, DISTRICT_SC, "2022", "2022-01-01", "2022-12-31")
                    .with("expected_version", json!(0)),
            )
            .then_accepts();
    }

    #[test]
    fn creating_a_stream_that_exists_with_expected_version_zero_is_a_conflict() {
        Scenario::world()
            .when(
                task_registered(HOP_THANH, HOANG_THE_MANH, T_REGISTERED, json!([]))
                    .with("expected_version", json!(0)),
            )
            .then_rejects(Code::VersionConflict, Some("expected_version"));
    }

    #[test]
    fn without_expected_version_there_is_no_version_check() {
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("expected_version", Value::Null),
            )
            .then_accepts();
    }

    #[test]
    fn a_merge_is_versioned_on_the_successors_stream() {
        // hop-thanh's stream: registered (1).
        let accepted = Scenario::world()
            .when(
                merge(SON_DUONG, DISTRICT_SC, HOP_THANH, &[PHUC_UNG])
                    .with("expected_version", json!(1)),
            )
            .then_accepts();
        assert_eq!(accepted.event().stream, "unit-hop-thanh");
        assert_eq!(accepted.event().version, 2);
        assert_eq!(
            accepted
                .after
                .state
                .unit(HOP_THANH)
                .expect("exists")
                .version,
            2
        );
        Scenario::world()
            .when(
                merge(SON_DUONG, DISTRICT_SC, HOP_THANH, &[PHUC_UNG])
                    .with("expected_version", json!(0)),
            )
            .then_rejects(Code::VersionConflict, Some("expected_version"));
    }

    #[test]
    fn closing_a_cycle_is_versioned_on_the_cycles_stream() {
        let accepted = Scenario::world()
            .when(cycle_closed(SON_DUONG, DISTRICT_SC, CYCLE).with("expected_version", json!(1)))
            .then_accepts();
        assert_eq!(accepted.event().stream, "cycle-2021");
        assert_eq!(accepted.event().version, 2);
        Scenario::world()
            .when(cycle_closed(SON_DUONG, DISTRICT_SC, CYCLE).with("expected_version", json!(2)))
            .then_rejects(Code::VersionConflict, Some("expected_version"));
    }

    #[test]
    fn authority_is_checked_before_the_version() {
        Scenario::world()
            .when(progress(HOP_THANH, DD_HEAD, T_IN_PROGRESS).with("expected_version", json!(99)))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    #[test]
    fn the_version_is_checked_before_the_tasks_state() {
        Scenario::world()
            .when(approve(SON_DUONG, DISTRICT_SC, T_EVALUATED).with("expected_version", json!(1)))
            .then_rejects(Code::VersionConflict, Some("expected_version"));
    }
}

// ============================================================ values

mod values {
    use super::*;

    #[test]
    fn percent_complete_runs_from_0_to_100() {
        for ok in [0.0, 37.5, 100.0] {
            Scenario::world()
                .when(
                    progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                        .with("data.percent_complete", json!(ok)),
                )
                .then_accepts();
        }
        for bad in [-1.0, -0.001, 100.5, 1000.0] {
            Scenario::world()
                .when(
                    progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                        .with("data.percent_complete", json!(bad)),
                )
                .then_rejects(Code::InvalidValue, Some("data.percent_complete"));
        }
    }

    #[test]
    fn a_score_alone_earns_its_rating_by_the_bands_of_the_100_point_frameworks() {
        let bands = [
            (100.0, Rating::Excellent, "excellent"),
            (90.0, Rating::Excellent, "excellent"),
            (89.99, Rating::Good, "good"),
            (70.0, Rating::Good, "good"),
            (69.5, Rating::Completed, "completed"),
            (50.0, Rating::Completed, "completed"),
            (49.99, Rating::NotCompleted, "not_completed"),
            (0.0, Rating::NotCompleted, "not_completed"),
        ];
        for (score, rating, wire) in bands {
            let accepted = Scenario::world()
                .when(
                    evaluate(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS)
                        .with("data.score", json!(score)),
                )
                .then_accepts();
            assert_eq!(accepted.data()["rating"], json!(wire), "score {score}");
            assert_eq!(accepted.data()["score"], json!(score));
            let Payload::TaskEvaluated(e) = &accepted.event().payload else {
                panic!("an evaluation makes an evaluation event")
            };
            assert_eq!(
                e.rating,
                Some(rating),
                "the event carries the derived rating"
            );
            assert_eq!(
                accepted
                    .after
                    .state
                    .task(T_IN_PROGRESS)
                    .expect("exists")
                    .rating,
                Some(rating)
            );
        }
    }

    #[test]
    fn a_rating_alone_is_kept_without_a_score() {
        let accepted = Scenario::world()
            .when(
                evaluate(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS)
                    .with("data.rating", json!("completed")),
            )
            .then_accepts();
        assert_eq!(accepted.data()["rating"], json!("completed"));
        assert_eq!(accepted.data().get("score"), None);
    }

    #[test]
    fn a_score_and_a_rating_that_agree_are_accepted() {
        let accepted = Scenario::world()
            .when(
                evaluate(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS)
                    .with("data.score", json!(92))
                    .with("data.rating", json!("excellent")),
            )
            .then_accepts();
        assert_eq!(accepted.data()["rating"], json!("excellent"));
    }

    #[test]
    fn a_score_and_a_rating_that_disagree_are_rejected() {
        Scenario::world()
            .when(
                evaluate(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS)
                    .with("data.score", json!(85))
                    .with("data.rating", json!("excellent")),
            )
            .then_rejects(Code::InvalidValue, Some("data.rating"));
        Scenario::world()
            .when(
                evaluate(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS)
                    .with("data.score", json!(49.9))
                    .with("data.rating", json!("completed")),
            )
            .then_rejects(Code::InvalidValue, Some("data.rating"));
    }

    #[test]
    fn an_evaluation_gives_a_rating_or_a_score() {
        Scenario::world()
            .when(evaluate(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS))
            .then_rejects(Code::InvalidValue, Some("data.rating"));
    }

    #[test]
    fn a_score_runs_from_0_to_100() {
        for bad in [-0.5, 100.01, 250.0] {
            Scenario::world()
                .when(
                    evaluate(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS).with("data.score", json!(bad)),
                )
                .then_rejects(Code::InvalidValue, Some("data.score"));
        }
    }

    #[test]
    fn a_rating_outside_the_four_levels_is_malformed() {
        Scenario::world()
            .when(
                evaluate(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS)
                    .with("data.rating", json!("outstanding")),
            )
            .then_rejects(Code::Malformed, Some("data.rating"));
    }

    #[test]
    fn a_due_date_falls_inside_the_cycle_both_ends_included() {
        for ok in ["2021-01-01", "2021-12-31"] {
            Scenario::world()
                .when(
                    task_registered(HOP_THANH, HOANG_THE_MANH, NEW_TASK, json!([]))
                        .with("data.due", json!(ok)),
                )
                .then_accepts();
        }
        for bad in ["2020-12-31", "2022-01-01"] {
            Scenario::world()
                .when(
                    task_registered(HOP_THANH, HOANG_THE_MANH, NEW_TASK, json!([]))
                        .with("data.due", json!(bad)),
                )
                .then_rejects(Code::InvalidValue, Some("data.due"));
            Scenario::world()
                .when(
                    task_assigned(SON_DUONG, DISTRICT_SC, NEW_TASK, HOANG_THE_MANH, json!([]))
                        .with("data.due", json!(bad)),
                )
                .then_rejects(Code::InvalidValue, Some("data.due"));
        }
    }

    #[test]
    fn milestones_fall_inside_the_cycle() {
        Scenario::world()
            .when(plan(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS).with(
                "data.milestones",
                json!([{"title": "Ký cam kết", "due": "2021-06-30"},
                       {"title": "Tổng kết", "due": "2022-01-15"}]),
            ))
            .then_rejects(Code::InvalidValue, Some("data.milestones[1].due"));
    }

    #[test]
    fn a_delegation_falls_due_inside_the_cycle() {
        Scenario::world()
            .when(
                delegate(
                    HOP_THANH,
                    HOANG_THE_MANH,
                    T_IN_PROGRESS,
                    "thu-gom-rac",
                    DONG_DIEN,
                )
                .with("data.due", json!("2022-03-01")),
            )
            .then_rejects(Code::InvalidValue, Some("data.due"));
    }

    #[test]
    fn a_report_is_as_of_a_day_inside_the_cycle() {
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("data.as_of", json!("2020-12-31")),
            )
            .then_rejects(Code::InvalidValue, Some("data.as_of"));
    }

    #[test]
    fn a_plan_has_at_least_one_solution_and_none_blank() {
        Scenario::world()
            .when(plan(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS).with("data.solutions", json!([])))
            .then_rejects(Code::InvalidValue, Some("data.solutions"));
        Scenario::world()
            .when(
                plan(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("data.solutions", json!(["Tuyên truyền", " "])),
            )
            .then_rejects(Code::InvalidValue, Some("data.solutions[1]"));
    }

    #[test]
    fn a_plan_may_have_no_milestones() {
        Scenario::world()
            .when(plan(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS).with("data.milestones", json!([])))
            .then_accepts();
    }

    #[test]
    fn a_report_names_only_the_tasks_metrics() {
        Scenario::world()
            .when(progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS).with(
                "data.values",
                json!([{"metric": "cam-ket", "value": 20},
                                                {"metric": "xa-dat-chuan", "value": 1}]),
            ))
            .then_rejects(Code::InvalidValue, Some("data.values[1].metric"));
        Scenario::world()
            .when(
                progress(PHUC_UNG, PU_CHAIR, T_ASSIGNED)
                    .with("data.values", json!([{"metric": "cam-ket", "value": 20}])),
            )
            .then_rejects(Code::InvalidValue, Some("data.values[0].metric"));
    }

    #[test]
    fn a_report_names_each_metric_once() {
        Scenario::world()
            .when(progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS).with(
                "data.values",
                json!([{"metric": "cam-ket", "value": 20},
                                                {"metric": "ho-phan-loai", "value": 60},
                                                {"metric": "cam-ket", "value": 21}]),
            ))
            .then_rejects(Code::InvalidValue, Some("data.values[2].metric"));
    }

    #[test]
    fn a_report_may_carry_every_metric_of_the_task() {
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with(
                        "data.values",
                        json!([{"metric": "cam-ket", "value": 35},
                                                {"metric": "ho-phan-loai", "value": 200}]),
                    )
                    .with("data.confidence", json!("high"))
                    .with("data.note", json!("Vượt chỉ tiêu phân loại rác")),
            )
            .then_accepts();
    }

    #[test]
    fn a_task_names_each_target_metric_once() {
        Scenario::world()
            .when(task_registered(
                HOP_THANH,
                HOANG_THE_MANH,
                NEW_TASK,
                json!([{"metric": "ho-dung-app", "label": "Hộ dùng ứng dụng", "baseline": 0, "target": 100},
                       {"metric": "ho-dung-app", "label": "Hộ dùng ứng dụng", "baseline": 0, "target": 200}]),
            ))
            .then_rejects(Code::InvalidValue, Some("data.targets[1].metric"));
    }

    #[test]
    fn a_target_differs_from_its_baseline() {
        Scenario::world()
            .when(task_assigned(
                SON_DUONG,
                DISTRICT_SC,
                NEW_TASK,
                HOANG_THE_MANH,
                json!([{"metric": "ho-ngheo", "label": "Hộ nghèo", "baseline": 12, "target": 12}]),
            ))
            .then_rejects(Code::InvalidValue, Some("data.targets[0].target"));
    }

    #[test]
    fn a_target_may_lie_below_its_baseline_for_a_decrease() {
        Scenario::world()
            .when(task_assigned(
                SON_DUONG,
                DISTRICT_SC,
                NEW_TASK,
                HOANG_THE_MANH,
                json!([{"metric": "ho-ngheo", "label": "Hộ nghèo", "baseline": 12, "target": 0}]),
            ))
            .then_accepts();
    }

    #[test]
    fn a_backlog_reference_needs_origin_backlog() {
        Scenario::world()
            .when(
                task_assigned(SON_DUONG, DISTRICT_SC, NEW_TASK, HOANG_THE_MANH, json!([]))
                    .with("data.backlog_ref", json!("Tồn đọng 2020")),
            )
            .then_rejects(Code::InvalidValue, Some("data.backlog_ref"));
    }

    #[test]
    fn a_task_belongs_to_an_opened_cycle() {
        // The contract has no `unknown_cycle`; a cycle nobody opened is an
        // invalid value of the field that names it.
        Scenario::world()
            .when(
                task_registered(HOP_THANH, HOANG_THE_MANH, NEW_TASK, json!([]))
                    .with("data.cycle", json!("2022")),
            )
            .then_rejects(Code::InvalidValue, Some("data.cycle"));
        Scenario::world()
            .when(cycle_closed(SON_DUONG, DISTRICT_SC, "2022"))
            .then_rejects(Code::InvalidValue, Some("data.cycle"));
    }

    #[test]
    fn a_cycle_ends_on_or_after_its_first_day() {
        Scenario::world()
            .when(cycle_opened(
                SON_DUONG,
                DISTRICT_SC,
                "2022",
                "2022-12-31",
                "2022-01-01",
            ))
            .then_rejects(Code::InvalidValue, Some("data.ends_on"));
        Scenario::world()
            .when(cycle_opened(
                SON_DUONG,
                DISTRICT_SC,
                "hoi-nghi",
                "2022-03-08",
                "2022-03-08",
            ))
            .then_accepts();
    }

    #[test]
    fn work_is_delegated_to_a_registered_unit_or_cadre() {
        Scenario::world()
            .when(delegate(
                HOP_THANH,
                HOANG_THE_MANH,
                T_IN_PROGRESS,
                "thu-gom-rac",
                "khong-ai",
            ))
            .then_rejects(Code::InvalidValue, Some("data.to"));
    }

    #[test]
    fn a_delegation_id_is_used_once_per_task() {
        let accepted = Scenario::world()
            .when(delegate(
                HOP_THANH,
                HOANG_THE_MANH,
                T_IN_PROGRESS,
                "thu-gom-rac",
                DONG_DIEN,
            ))
            .then_accepts();
        accepted
            .after
            .clone()
            .when(delegate(
                HOP_THANH,
                HT_CADRE,
                T_IN_PROGRESS,
                "thu-gom-rac",
                HT_CADRE,
            ))
            .then_rejects(Code::AlreadyExists, Some("data.delegation_id"));
        accepted
            .after
            .when(delegate(
                SON_DUONG,
                DO_XUAN_PHUC,
                T_PLANNED,
                "thu-gom-rac",
                HOP_THANH,
            ))
            .then_accepts();
    }
}

// ============================================================ cycles

mod cycles {
    use super::*;

    fn closed_world() -> Scenario {
        Scenario::world().and(&[cycle_closed(SON_DUONG, DISTRICT_SC, CYCLE)])
    }

    #[test]
    fn a_closed_cycle_takes_no_plans_progress_or_delegations() {
        for submission in [
            plan(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS),
            progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS),
            delegate(
                HOP_THANH,
                HOANG_THE_MANH,
                T_IN_PROGRESS,
                "thu-gom-rac",
                DONG_DIEN,
            ),
            plan(PHUC_UNG, PU_CHAIR, T_ASSIGNED),
        ] {
            closed_world()
                .when(submission)
                .then_rejects(Code::InvalidState, Some("data.task_id"));
        }
    }

    #[test]
    fn a_closed_cycle_takes_no_new_tasks() {
        closed_world()
            .when(task_registered(
                HOP_THANH,
                HOANG_THE_MANH,
                NEW_TASK,
                json!([]),
            ))
            .then_rejects(Code::InvalidState, Some("data.cycle"));
        closed_world()
            .when(task_assigned(
                SON_DUONG,
                DISTRICT_SC,
                NEW_TASK,
                HOANG_THE_MANH,
                json!([]),
            ))
            .then_rejects(Code::InvalidState, Some("data.cycle"));
    }

    #[test]
    fn a_closed_cycle_takes_no_approvals_or_reassignments() {
        closed_world()
            .when(approve(SON_DUONG, DISTRICT_SC, T_REGISTERED))
            .then_rejects(Code::InvalidState, Some("data.task_id"));
        closed_world()
            .when(reassign(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS, HT_CADRE))
            .then_rejects(Code::InvalidState, Some("data.task_id"));
    }

    #[test]
    fn a_closed_cycle_still_takes_evaluations() {
        let accepted = closed_world()
            .when(evaluate(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS).with("data.score", json!(93)))
            .then_accepts();
        assert_eq!(accepted.status(T_IN_PROGRESS), TaskStatus::Evaluated);
    }

    #[test]
    fn a_closed_cycle_still_takes_cancellations() {
        // The contract closes a cycle to progress and plans only; cancelling
        // an unfinished task at year end stays possible.
        closed_world()
            .when(cancel(SON_DUONG, DISTRICT_SC, T_ASSIGNED))
            .then_accepts();
    }

    #[test]
    fn a_cycle_is_closed_once() {
        closed_world()
            .when(cycle_closed(SON_DUONG, DISTRICT_SC, CYCLE))
            .then_rejects(Code::InvalidState, Some("data.cycle"));
    }

    #[test]
    fn a_cycle_is_opened_once() {
        Scenario::world()
            .when(cycle_opened(
                SON_DUONG,
                DISTRICT_SC,
                CYCLE,
                "2021-01-01",
                "2021-12-31",
            ))
            .then_rejects(Code::AlreadyExists, Some("data.cycle"));
        closed_world()
            .when(cycle_opened(
                SON_DUONG,
                DISTRICT_SC,
                CYCLE,
                "2021-01-01",
                "2021-12-31",
            ))
            .then_rejects(Code::AlreadyExists, Some("data.cycle"));
    }

    #[test]
    fn closing_one_cycle_leaves_the_next_open() {
        let world = closed_world().and(&[cycle_opened(
            SON_DUONG,
            DISTRICT_SC,
            "2022",
            "2022-01-01",
            "2022-12-31",
        )]);
        world
            .when(
                task_registered(HOP_THANH, HOANG_THE_MANH, NEW_TASK, json!([]))
                    .with("data.cycle", json!("2022"))
                    .with("data.due", json!("2022-06-30")),
            )
            .then_accepts();
    }
}

// ============================================================ identities

mod identities {
    use super::*;

    #[test]
    fn task_ids_are_unique() {
        Scenario::world()
            .when(task_registered(
                HOP_THANH,
                HOANG_THE_MANH,
                T_PLANNED,
                json!([]),
            ))
            .then_rejects(Code::AlreadyExists, Some("data.task_id"));
        Scenario::world()
            .when(task_assigned(
                SON_DUONG,
                DISTRICT_SC,
                T_REGISTERED,
                HOANG_THE_MANH,
                json!([]),
            ))
            .then_rejects(Code::AlreadyExists, Some("data.task_id"));
    }

    #[test]
    fn task_ids_are_unique_across_cycles() {
        Scenario::world()
            .and(&[cycle_opened(
                SON_DUONG,
                DISTRICT_SC,
                "2022",
                "2022-01-01",
                "2022-12-31",
            )])
            .when(
                task_registered(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS, json!([]))
                    .with("data.cycle", json!("2022"))
                    .with("data.due", json!("2022-06-30")),
            )
            .then_rejects(Code::AlreadyExists, Some("data.task_id"));
    }

    #[test]
    fn unit_codes_are_unique() {
        Scenario::world()
            .when(unit(
                SON_DUONG,
                DISTRICT_SC,
                DONG_DIEN,
                "Thôn Đồng Diễn",
                "village",
                Some(PHUC_UNG),
            ))
            .then_rejects(Code::AlreadyExists, Some("data.code"));
    }

    #[test]
    fn cadre_ids_are_unique() {
        Scenario::world()
            .when(cadre(
                SON_DUONG,
                DISTRICT_SC,
                HOANG_THE_MANH,
                "Hoàng Thế Mạnh",
                PHUC_UNG,
                "Chủ tịch UBND xã",
                false,
            ))
            .then_rejects(Code::AlreadyExists, Some("data.id"));
    }

    #[test]
    fn units_and_cadres_share_one_namespace() {
        // `work.delegated` names either in its `to` field.
        Scenario::world()
            .when(unit(
                SON_DUONG,
                DISTRICT_SC,
                HOANG_THE_MANH,
                "Thôn Mạnh",
                "village",
                Some(HOP_THANH),
            ))
            .then_rejects(Code::AlreadyExists, Some("data.code"));
        Scenario::world()
            .when(cadre(
                SON_DUONG,
                DISTRICT_SC,
                DONG_DIEN,
                "Đồng Văn Diễn",
                HOP_THANH,
                "Công chức",
                false,
            ))
            .then_rejects(Code::AlreadyExists, Some("data.id"));
    }
}

// ============================================================ merges

mod merges {
    use super::*;

    /// Phúc Ứng merged into Hợp Thành (as in 2025, when both joined the new
    /// commune Sơn Dương; here simplified to one successor).
    fn merged_world() -> Scenario {
        Scenario::world().and(&[merge(SON_DUONG, DISTRICT_SC, HOP_THANH, &[PHUC_UNG])])
    }

    #[test]
    fn a_merge_closes_the_merged_units_and_names_their_successor() {
        let accepted = Scenario::world()
            .when(merge(SON_DUONG, DISTRICT_SC, HOP_THANH, &[PHUC_UNG]))
            .then_accepts();
        let state = &accepted.after.state;
        let merged = state.unit(PHUC_UNG).expect("a merged unit is kept");
        assert!(merged.is_closed());
        assert_eq!(
            merged.valid_to.map(|d| d.to_string()).as_deref(),
            Some("2025-07-01")
        );
        assert_eq!(merged.successor.as_deref(), Some(HOP_THANH));
        assert_eq!(
            merged.parent.as_deref(),
            Some(SON_DUONG),
            "its place in the tree stays"
        );
        assert!(!state.unit(HOP_THANH).expect("exists").is_closed());
        assert_eq!(
            state
                .task(T_ASSIGNED)
                .expect("history stays")
                .assignee
                .as_str(),
            PU_CHAIR
        );
        let (eve, day) = (
            Date::parse("2025-06-30").expect("a date"),
            Date::parse("2025-07-01").expect("a date"),
        );
        let tree = state.tree();
        assert!(
            tree.is_within(THON_TAN_AN, HOP_THANH, day),
            "from the merge on, the village lies in the successor"
        );
        assert!(tree.is_within(PHUC_UNG, HOP_THANH, day));
        assert!(
            tree.is_within(PHUC_UNG, SON_DUONG, day),
            "and in its old parent"
        );
        assert!(!tree.is_within(HOP_THANH, PHUC_UNG, day));
        assert!(!tree.is_within(PHUC_UNG, HOP_THANH, eve), "not before it");
        assert_eq!(tree.closed_on(PHUC_UNG, day), Some(HOP_THANH));
        assert_eq!(tree.closed_on(PHUC_UNG, eve), None);
    }

    #[test]
    fn several_units_merge_at_once() {
        let accepted = Scenario::world()
            .when(merge(
                SON_DUONG,
                DISTRICT_SC,
                BAN_TO_CHUC,
                &[HOP_THANH, PHUC_UNG],
            ))
            .then_accepts();
        for code in [HOP_THANH, PHUC_UNG] {
            let u = accepted.after.state.unit(code).expect("kept");
            assert_eq!(u.successor.as_deref(), Some(BAN_TO_CHUC));
        }
    }

    #[test]
    fn a_cadre_of_the_successor_may_act_for_a_village_of_a_merged_commune() {
        let newcomer = || {
            cadre(
                HOP_THANH,
                HT_SECRETARY,
                "trieu-van-long",
                "Triệu Văn Long",
                THON_TAN_AN,
                "Trưởng thôn Tân An",
                false,
            )
        };
        Scenario::world()
            .when(newcomer().sent_at(AFTER_MERGE))
            .then_rejects(Code::Forbidden, Some("data.unit"));
        merged_world()
            .when(newcomer())
            .then_rejects(Code::Forbidden, Some("data.unit"));
        merged_world()
            .when(newcomer().sent_at(AFTER_MERGE))
            .then_accepts();
        merged_world()
            .when(
                unit(
                    HOP_THANH,
                    HT_SECRETARY,
                    "xom-moi",
                    "Xóm Mới",
                    "residential_group",
                    Some(THON_TAN_AN),
                )
                .sent_at(AFTER_MERGE),
            )
            .then_accepts();
    }

    /// Changed by CONTRACT part C: the successor's committee reaches the
    /// merged commune's cadres, but a closed unit's cadres take no new task
    /// (before part C this was accepted).
    #[test]
    fn the_successors_committee_reaches_the_merged_communes_cadres_but_gives_them_nothing_new() {
        let assignment = || {
            task_assigned(HOP_THANH, HT_SECRETARY, NEW_TASK, PU_CHAIR, json!([]))
                .sent_at(AFTER_MERGE)
        };
        Scenario::world()
            .when(assignment())
            .then_rejects(Code::Forbidden, Some("data.assignee"));
        merged_world()
            .when(assignment())
            .then_rejects(Code::InvalidState, Some("data.assignee"));
    }

    #[test]
    fn cadres_of_a_merged_commune_send_through_the_successors_publisher() {
        Scenario::world()
            .when(progress(HOP_THANH, PU_CHAIR, T_ASSIGNED).sent_at(AFTER_MERGE))
            .then_rejects(Code::Forbidden, Some("actor"));
        merged_world()
            .when(progress(HOP_THANH, PU_CHAIR, T_ASSIGNED))
            .then_rejects(Code::Forbidden, Some("actor"));
        merged_world()
            .when(progress(HOP_THANH, PU_CHAIR, T_ASSIGNED).sent_at(AFTER_MERGE))
            .then_accepts();
        merged_world()
            .when(progress(PHUC_UNG, PU_CHAIR, T_ASSIGNED).sent_at(AFTER_MERGE))
            .then_accepts();
    }

    #[test]
    fn a_merged_unit_takes_no_new_units() {
        merged_world()
            .when(
                unit(
                    SON_DUONG,
                    DISTRICT_SC,
                    "thon-moi",
                    "Thôn Mới",
                    "village",
                    Some(PHUC_UNG),
                )
                .sent_at(AFTER_MERGE),
            )
            .then_rejects(Code::InvalidState, Some("data.parent"));
    }

    #[test]
    fn a_merged_unit_takes_no_new_cadres() {
        merged_world()
            .when(
                cadre(
                    SON_DUONG,
                    DISTRICT_SC,
                    "trieu-van-long",
                    "Triệu Văn Long",
                    PHUC_UNG,
                    "Công chức",
                    false,
                )
                .sent_at(AFTER_MERGE),
            )
            .then_rejects(Code::InvalidState, Some("data.unit"));
    }

    #[test]
    fn a_merged_unit_neither_merges_again_nor_absorbs() {
        merged_world()
            .when(merge(SON_DUONG, DISTRICT_SC, BAN_TO_CHUC, &[PHUC_UNG]))
            .then_rejects(Code::InvalidState, Some("data.from[0]"));
        merged_world()
            .when(merge(SON_DUONG, DISTRICT_SC, PHUC_UNG, &[BAN_TO_CHUC]))
            .then_rejects(Code::InvalidState, Some("data.into"));
    }

    #[test]
    fn a_unit_cannot_merge_into_its_own_descendant() {
        Scenario::world()
            .when(merge(SON_DUONG, DISTRICT_SC, DONG_DIEN, &[HOP_THANH]))
            .then_rejects(Code::InvalidValue, Some("data.from[0]"));
        Scenario::world()
            .when(merge(
                SON_DUONG,
                DISTRICT_SC,
                DONG_DIEN,
                &[PHUC_UNG, SON_DUONG],
            ))
            .then_rejects(Code::InvalidValue, Some("data.from[1]"));
    }

    #[test]
    fn a_unit_cannot_merge_into_a_descendant_it_gained_by_an_earlier_merge() {
        merged_world()
            .when(merge(SON_DUONG, DISTRICT_SC, THON_TAN_AN, &[HOP_THANH]))
            .then_rejects(Code::InvalidValue, Some("data.from[0]"));
    }

    #[test]
    fn a_unit_cannot_merge_into_itself() {
        Scenario::world()
            .when(merge(SON_DUONG, DISTRICT_SC, HOP_THANH, &[HOP_THANH]))
            .then_rejects(Code::InvalidValue, Some("data.from[0]"));
    }

    #[test]
    fn a_merge_names_each_unit_once() {
        Scenario::world()
            .when(merge(
                SON_DUONG,
                DISTRICT_SC,
                HOP_THANH,
                &[PHUC_UNG, PHUC_UNG],
            ))
            .then_rejects(Code::InvalidValue, Some("data.from[1]"));
    }

    #[test]
    fn a_merge_names_at_least_one_unit() {
        Scenario::world()
            .when(merge(SON_DUONG, DISTRICT_SC, HOP_THANH, &[]))
            .then_rejects(Code::InvalidValue, Some("data.from"));
    }

    #[test]
    fn a_merge_names_registered_units() {
        Scenario::world()
            .when(merge(SON_DUONG, DISTRICT_SC, "xa-son-duong", &[HOP_THANH]))
            .then_rejects(Code::UnknownUnit, Some("data.into"));
        Scenario::world()
            .when(merge(
                SON_DUONG,
                DISTRICT_SC,
                HOP_THANH,
                &[PHUC_UNG, "tu-thinh"],
            ))
            .then_rejects(Code::UnknownUnit, Some("data.from[1]"));
    }

    #[test]
    fn a_merge_takes_effect_after_the_merged_unit_began() {
        Scenario::world()
            .and(&[unit(
                SON_DUONG,
                DISTRICT_SC,
                "tu-thinh",
                "Xã Tú Thịnh",
                "commune",
                Some(SON_DUONG),
            )
            .with("data.valid_from", json!("2026-01-01"))])
            .when(merge(SON_DUONG, DISTRICT_SC, HOP_THANH, &["tu-thinh"]))
            .then_rejects(Code::InvalidValue, Some("data.effective_on"));
    }

    #[test]
    fn the_standing_committee_of_the_successor_may_absorb_units() {
        Scenario::world()
            .when(merge(SON_DUONG, HT_SECRETARY, HOP_THANH, &[PHUC_UNG]))
            .then_accepts();
    }

    #[test]
    fn the_standing_committee_of_a_merged_unit_cannot_merge_it_into_a_neighbour() {
        Scenario::world()
            .when(merge(SON_DUONG, PU_SECRETARY, HOP_THANH, &[PHUC_UNG]))
            .then_rejects(Code::Forbidden, Some("data.into"));
    }

    #[test]
    fn a_cadre_off_the_standing_committee_cannot_merge_units() {
        Scenario::world()
            .when(merge(SON_DUONG, HOANG_THE_MANH, HOP_THANH, &[PHUC_UNG]))
            .then_rejects(Code::Forbidden, Some("data.into"));
    }

    #[test]
    fn a_commune_committee_merges_its_own_villages() {
        Scenario::world()
            .and(&[unit(
                HOP_THANH,
                HT_SECRETARY,
                "dong-cau",
                "Thôn Đồng Cầu",
                "village",
                Some(HOP_THANH),
            )])
            .when(merge(HOP_THANH, HT_SECRETARY, DONG_DIEN, &["dong-cau"]))
            .then_accepts();
    }
}

// ============================================================ NFC

mod normalization {
    use super::*;

    /// `text` with every precomposed letter taken apart (NFD), as some
    /// keyboards send Vietnamese.
    fn decomposed(text: &str) -> String {
        let d: String = text.nfd().collect();
        assert_ne!(d, text, "the test text must have something to decompose");
        d
    }

    #[test]
    fn names_are_stored_nfc() {
        let accepted = Scenario::world()
            .when(unit(
                SON_DUONG,
                DISTRICT_SC,
                "tu-thinh",
                &decomposed("Xã Tú Thịnh"),
                "commune",
                Some(SON_DUONG),
            ))
            .then_accepts();
        assert_eq!(accepted.data()["name"], json!("Xã Tú Thịnh"));
        assert_eq!(
            accepted
                .after
                .state
                .unit("tu-thinh")
                .expect("registered")
                .name
                .as_str(),
            "Xã Tú Thịnh"
        );
        let accepted = accepted
            .and_then(cadre(
                SON_DUONG,
                DISTRICT_SC,
                "luu-thi-hang",
                &decomposed("Lưu Thị Hằng"),
                "tu-thinh",
                &decomposed("Phó Chủ tịch UBND xã"),
                false,
            ))
            .then_accepts();
        assert_eq!(accepted.data()["full_name"], json!("Lưu Thị Hằng"));
        assert_eq!(accepted.data()["position"], json!("Phó Chủ tịch UBND xã"));
    }

    #[test]
    fn task_texts_are_stored_nfc() {
        let accepted = Scenario::world()
            .when(
                task_registered(HOP_THANH, HOANG_THE_MANH, NEW_TASK, json!([
                    {"metric": "ho-dung-app", "label": decomposed("Hộ dùng ứng dụng số"), "baseline": 0, "target": 300}
                ]))
                .with("data.title", json!(decomposed("Chuyển đổi số ở Đồng Diễn")))
                .with("data.category", json!(decomposed("Nông thôn mới")))
                .with("data.description", json!(decomposed("Thí điểm ứng dụng"))),
            )
            .then_accepts();
        let data = accepted.data();
        assert_eq!(data["title"], json!("Chuyển đổi số ở Đồng Diễn"));
        assert_eq!(data["category"], json!("Nông thôn mới"));
        assert_eq!(data["description"], json!("Thí điểm ứng dụng"));
        assert_eq!(data["targets"][0]["label"], json!("Hộ dùng ứng dụng số"));
    }

    #[test]
    fn plans_reports_and_evaluations_are_stored_nfc() {
        let accepted = Scenario::world()
            .when(
                plan(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with(
                        "data.solutions",
                        json!([decomposed("Hộ gia đình phân loại rác")]),
                    )
                    .with(
                        "data.milestones",
                        json!([{"title": decomposed("Tổng kết thí điểm"), "due": "2021-10-01"}]),
                    ),
            )
            .then_accepts();
        assert_eq!(
            accepted.data()["solutions"][0],
            json!("Hộ gia đình phân loại rác")
        );
        assert_eq!(
            accepted.data()["milestones"][0]["title"],
            json!("Tổng kết thí điểm")
        );
        let accepted = accepted
            .and_then(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("data.note", json!(decomposed("Đúng tiến độ"))),
            )
            .then_accepts();
        assert_eq!(accepted.data()["note"], json!("Đúng tiến độ"));
        let accepted = accepted
            .and_then(
                evaluate(SON_DUONG, DISTRICT_SC, T_IN_PROGRESS)
                    .with("data.rating", json!("good"))
                    .with("data.comment", json!(decomposed("Hoàn thành tốt nhiệm vụ"))),
            )
            .then_accepts();
        assert_eq!(accepted.data()["comment"], json!("Hoàn thành tốt nhiệm vụ"));
    }

    #[test]
    fn a_merges_legal_basis_is_stored_nfc() {
        let accepted = Scenario::world()
            .when(merge(SON_DUONG, DISTRICT_SC, HOP_THANH, &[PHUC_UNG]).with(
                "data.legal_basis",
                json!(decomposed("Nghị quyết 1684/NQ-UBTVQH15")),
            ))
            .then_accepts();
        assert_eq!(
            accepted.data()["legal_basis"],
            json!("Nghị quyết 1684/NQ-UBTVQH15")
        );
    }
}

// ============================================================ admission

/// Write-time limits hold for what is stored (CONTRACT.md part C): the NFC
/// form, checked at decide time by the admission step.
mod admission {
    use super::*;
    use dotpha_domain::{admit::MAX_EVENT_DATA_BYTES, values::MAX_TEXT_BYTES};

    /// U+0958 DEVANAGARI LETTER QA is a composition exclusion: NFC turns its
    /// 3 bytes into U+0915 U+093C, 6 bytes.
    const QA: char = '\u{0958}';

    #[test]
    fn a_name_that_nfc_lengthens_past_the_limit_is_rejected_at_its_path() {
        // Issue 10's input: 16,383 bytes as sent, 32,766 as stored.
        let name: String = std::iter::repeat_n(QA, 5461).collect();
        assert!(name.len() <= MAX_TEXT_BYTES);
        Scenario::empty()
            .when(unit(
                SON_DUONG, BOOTSTRAP, SON_DUONG, &name, "district", None,
            ))
            .then_rejects(Code::InvalidValue, Some("data.name"));
    }

    #[test]
    fn a_text_that_nfc_shortens_under_the_limit_is_accepted() {
        // Vietnamese typed decomposed: 5 bytes as sent ("e" + two marks),
        // 3 stored ("ễ").
        let sent: String = "e\u{0302}\u{0303}".repeat(MAX_TEXT_BYTES / 3);
        assert!(sent.len() > MAX_TEXT_BYTES);
        let accepted = Scenario::world()
            .when(progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS).with("data.note", json!(sent)))
            .then_accepts();
        let stored = accepted.data()["note"].as_str().map(str::len);
        assert_eq!(stored, Some(MAX_TEXT_BYTES / 3 * 3));
    }

    #[test]
    fn a_deep_text_is_named_by_its_path() {
        let long: String = std::iter::repeat_n(QA, MAX_TEXT_BYTES / 6 + 1).collect();
        Scenario::world()
            .when(plan(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS).with(
                "data.milestones",
                json!([
                    {"title": "Khảo sát", "due": "2021-05-01"},
                    {"title": "Thí điểm", "due": "2021-07-01"},
                    {"title": long, "due": "2021-10-01"}
                ]),
            ))
            .then_rejects(Code::InvalidValue, Some("data.milestones[2].title"));
    }

    #[test]
    fn an_event_too_large_to_relay_is_rejected() {
        // Each solution is within the text limit, the whole is not within
        // the event's, though the submission is within its own limit as
        // sent: U+1D160 MUSICAL SYMBOL EIGHTH NOTE is 4 bytes as sent and
        // 12 as stored (U+1D158 U+1D165 U+1D16E).
        let solution: String = std::iter::repeat_n('\u{1D160}', MAX_TEXT_BYTES / 12).collect();
        let count = MAX_EVENT_DATA_BYTES / (3 * solution.len()) + 1;
        Scenario::world()
            .when(
                plan(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("data.solutions", json!(vec![solution; count])),
            )
            .then_rejects(Code::InvalidValue, Some("data"));
    }

    #[test]
    fn second_60_is_accepted_only_at_a_leap_second() {
        Scenario::world()
            .when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("occurred_at", json!("2021-03-02T08:30:60+07:00")),
            )
            .then_rejects(Code::InvalidValue, Some("occurred_at"));
    }
}

// ============================================================ the codes

/// One specification per rejection code of the contract, in its order; the
/// modules above hold the rest.
#[test]
fn every_rejection_code_of_the_contract_is_specified() {
    let cases: Vec<(Code, Option<&str>, Outcome)> = vec![
        (
            Code::Malformed,
            Some("data.confidance"),
            Scenario::world().when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("data.confidance", json!("high")),
            ),
        ),
        (
            Code::UnsupportedSchema,
            Some("schema"),
            Scenario::world().when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("schema", json!("dotpha.submission.v0")),
            ),
        ),
        (
            Code::UnknownType,
            Some("type"),
            Scenario::world().when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("type", json!("task.deleted")),
            ),
        ),
        (
            Code::UnitMismatch,
            Some("unit"),
            Scenario::world().when_on_subject(
                Some(SON_DUONG),
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS),
            ),
        ),
        (
            Code::UnknownUnit,
            Some("unit"),
            Scenario::world().when(progress("tan-trao", HOANG_THE_MANH, T_IN_PROGRESS)),
        ),
        (
            Code::UnknownActor,
            Some("actor"),
            Scenario::world().when(progress(HOP_THANH, "nguoi-la", T_IN_PROGRESS)),
        ),
        (
            Code::Forbidden,
            Some("actor"),
            Scenario::world().when(progress(PHUC_UNG, HOANG_THE_MANH, T_IN_PROGRESS)),
        ),
        (
            Code::UnknownTask,
            Some("data.task_id"),
            Scenario::world().when(progress(HOP_THANH, HOANG_THE_MANH, "khong-co")),
        ),
        (
            Code::AlreadyExists,
            Some("data.task_id"),
            Scenario::world().when(task_registered(
                HOP_THANH,
                HOANG_THE_MANH,
                T_IN_PROGRESS,
                json!([]),
            )),
        ),
        (
            Code::InvalidState,
            Some("data.task_id"),
            Scenario::world().when(progress(PHUC_UNG, PU_CADRE, T_EVALUATED)),
        ),
        (
            Code::VersionConflict,
            Some("expected_version"),
            Scenario::world().when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("expected_version", json!(1)),
            ),
        ),
        (
            Code::InvalidValue,
            Some("data.percent_complete"),
            Scenario::world().when(
                progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS)
                    .with("data.percent_complete", json!(101)),
            ),
        ),
    ];
    let covered: Vec<Code> = cases.iter().map(|(code, _, _)| *code).collect();
    assert_eq!(
        covered,
        Code::ALL.to_vec(),
        "one case per code, in the contract's order"
    );
    for (code, field, outcome) in cases {
        let rejection = outcome.then_rejects(code, field);
        assert_eq!(Code::parse(rejection.code.as_str()), Some(code));
    }
}

// ============================================================ the harness

/// The harness itself fails when a specification does not hold, so a
/// passing suite means something.
mod harness {
    use super::*;

    #[test]
    #[should_panic(expected = "wrong rejection")]
    fn it_notices_a_wrong_field() {
        Scenario::world()
            .when(progress(PHUC_UNG, HOANG_THE_MANH, T_IN_PROGRESS))
            .then_rejects(Code::Forbidden, Some("unit"));
    }

    #[test]
    #[should_panic(expected = "wrong rejection")]
    fn it_notices_a_wrong_code() {
        Scenario::world()
            .when(progress(PHUC_UNG, HOANG_THE_MANH, T_IN_PROGRESS))
            .then_rejects(Code::InvalidState, Some("actor"));
    }

    #[test]
    #[should_panic(expected = "but it was accepted")]
    fn it_notices_an_unexpected_acceptance() {
        Scenario::world()
            .when(progress(HOP_THANH, HOANG_THE_MANH, T_IN_PROGRESS))
            .then_rejects(Code::Forbidden, Some("actor"));
    }

    #[test]
    #[should_panic(expected = "expected acceptance")]
    fn it_notices_an_unexpected_rejection() {
        Scenario::world()
            .when(progress(PHUC_UNG, HOANG_THE_MANH, T_IN_PROGRESS))
            .then_accepts();
    }

    #[test]
    #[should_panic(expected = "given-step 1 was rejected")]
    fn it_refuses_a_broken_history() {
        Scenario::given(&[
            unit(
                SON_DUONG,
                BOOTSTRAP,
                SON_DUONG,
                "Huyện Sơn Dương",
                "district",
                None,
            ),
            cycle_opened(SON_DUONG, BOOTSTRAP, CYCLE, "2021-01-01", "2021-12-31"),
        ]);
    }
}
