//! Evaluation by period (CONTRACT part A) through HTTP: periods,
//! milestones, reviews, self-assessments and decisions acted through
//! `POST /api/v1/submissions`, then read back from the part A routes with
//! their figures, filters, errors and access rules.

mod common;

use common::{App, MANH, PHUC, Q2, SECRETARY, SIX_MONTHS, evaluated};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn line<'v>(answer: &'v Value, cadre: &str) -> &'v Value {
    answer["assessments"]
        .as_array()
        .and_then(|a| a.iter().find(|l| l["cadre"] == cadre))
        .unwrap_or_else(|| panic!("no line for {cadre}: {answer:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_period_routes_answer_with_the_writers_figures() {
    let app = App::start(false).await;
    let head = evaluated(&app).await;
    app.wait_for(head, None).await;

    let (status, periods) = app.get_json("/api/v1/periods", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        periods["periods"],
        json!([
            {"period": "2021", "kind": "year", "starts_on": "2021-01-01", "ends_on": "2021-12-31", "closed": false},
            {"period": Q2, "kind": "quarter", "starts_on": "2021-04-01", "ends_on": "2021-06-30", "closed": false},
        ])
    );

    let response = app
        .get(
            &format!("/api/v1/periods/{Q2}/assessments?min_position={head}"),
            None,
        )
        .await;
    assert!(response.headers().contains_key("x-dotpha-position"));
    let sheet: Value = response.json().await.expect("JSON");
    let cadres: Vec<&str> = sheet["assessments"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|l| l["cadre"].as_str())
        .collect();
    assert_eq!(cadres.len(), 4, "every cadre with a product: {cadres:?}");

    // Hợp Thành's chair: done on time, quality halved by two errors:
    // 70 × (1 + 0.5 + 1) / 3 = 58.33; 26 + 58.33 = 84.33, good.
    let manh = line(&sheet, "hoang-the-manh");
    assert_eq!(manh["self_points"], json!(27.5));
    assert_eq!(manh["general_points"], json!(26));
    assert_eq!(manh["task_points"], json!(58.33));
    assert_eq!(manh["total"], json!(84.33));
    assert_eq!(manh["ceiling"], json!("good"));
    assert_eq!(manh["rating"], json!("good"));
    assert_eq!(manh["evaluating_unit"], json!("son-duong"));
    assert_eq!(manh["peer_group"], json!("chu-tich-xa"));
    assert_eq!(manh["quota_exceeded"], json!(true));
    assert_eq!(
        (&manh["products_done"], &manh["products_on_time"]),
        (&json!(1), &json!(1))
    );
    let product = &manh["products"][0];
    assert_eq!(product["milestone"], json!(SIX_MONTHS));
    assert_eq!(product["done_on"], json!("2021-06-25"));
    assert_eq!(
        (&product["q"], &product["l"], &product["p"]),
        (&json!(1), &json!(0.5), &json!(1))
    );
    assert_eq!(product["status"], json!("on_time"));

    let phuc_ung = line(&sheet, "chu-tich-phuc-ung");
    assert_eq!(phuc_ung["rating"], json!("excellent"));
    assert_eq!(phuc_ung["total"], json!(95));

    // Not decided: the figures are null, the products the log's now.
    let tu_thinh = line(&sheet, "chu-tich-tu-thinh");
    assert_eq!(tu_thinh["general_points"], Value::Null);
    assert_eq!(tu_thinh["rating"], Value::Null);
    assert_eq!(tu_thinh["products"][0]["status"], json!("not_done"));
    assert_eq!(tu_thinh["products"][0]["done_on"], json!("2021-07-05"));
    assert_eq!(tu_thinh["products_done"], json!(0));

    // Filters.
    let (_, by_group) = app
        .get_json(
            &format!("/api/v1/periods/{Q2}/assessments?peer_group=chu-tich-xa"),
            None,
        )
        .await;
    assert_eq!(by_group["assessments"].as_array().map(Vec::len), Some(2));
    let (_, by_name) = app
        .get_json(
            &format!("/api/v1/periods/{Q2}/assessments?q=hoang%20the%20MANH"),
            None,
        )
        .await;
    assert_eq!(by_name["assessments"].as_array().map(Vec::len), Some(1));
    assert_eq!(by_name["assessments"][0]["cadre"], json!("hoang-the-manh"));
    let (_, by_unit) = app
        .get_json(
            &format!("/api/v1/periods/{Q2}/assessments?unit=phuc-ung"),
            None,
        )
        .await;
    assert_eq!(by_unit["assessments"].as_array().map(Vec::len), Some(1));

    // The quota per evaluating body and peer group: 1 excellent beside 1
    // good is over 20%.
    let (status, quota) = app
        .get_json(&format!("/api/v1/periods/{Q2}/quota"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let groups = quota["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 1, "{quota:#}");
    assert_eq!(groups[0]["evaluating_unit"], json!("son-duong"));
    assert_eq!(groups[0]["peer_group"], json!("chu-tich-xa"));
    assert_eq!(
        (
            &groups[0]["excellent"],
            &groups[0]["good"],
            &groups[0]["limit"],
            &groups[0]["exceeded"]
        ),
        (&json!(1), &json!(1), &json!(0), &json!(true))
    );

    // The year: Đỗ Xuân Phúc's task reached 400 of 400 on 30 September.
    let (_, year) = app.get_json("/api/v1/periods/2021/assessments", None).await;
    let phuc = line(&year, "do-xuan-phuc");
    let task = phuc["products"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["milestone"].is_null()))
        .expect("the task itself is a product of the year");
    assert_eq!(task["done_on"], json!("2021-09-30"));
    assert_eq!(task["status"], json!("on_time"));

    // One cadre over every period, newest first.
    let (status, own) = app
        .get_json("/api/v1/cadres/hoang-the-manh/assessments", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let periods: Vec<&str> = own["assessments"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|l| l["period"].as_str())
        .collect();
    assert_eq!(periods, ["2021", Q2]);

    // Errors are JSON with a fitting status.
    for path in [
        "/api/v1/periods/2021-q9/assessments",
        "/api/v1/periods/2021-q9/quota",
        "/api/v1/cadres/khong-co/assessments",
    ] {
        let (status, body) = app.get_json(path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["error"]["code"], json!("not_found"), "{path}");
    }
    let (status, body) = app
        .get_json(&format!("/api/v1/periods/{Q2}/assessments?unit=Hop"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"].is_string());

    // A rating above the ceiling is refused, through HTTP as anywhere.
    let (_, receipt) = app
        .act_with(
            Some(SECRETARY),
            "assessment.decided",
            json!({"cadre": "chu-tich-tu-thinh", "period": Q2, "peer_group": "chu-tich-xa",
                   "general_points": 30, "rating": "completed"}),
            json!({}),
        )
        .await;
    assert_eq!(receipt["status"], json!("rejected"), "{receipt:#}");
    assert_eq!(receipt["error"]["field"], json!("data.rating"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_access_a_token_reads_assessments_within_its_unit() {
    let app = App::start(true).await;
    let head = evaluated(&app).await;
    app.wait_for(head, Some(SECRETARY)).await;

    let (status, _) = app.get_json("/api/v1/periods", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, sheet) = app
        .get_json(&format!("/api/v1/periods/{Q2}/assessments"), Some(MANH))
        .await;
    assert_eq!(status, StatusCode::OK);
    let cadres: Vec<&str> = sheet["assessments"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|l| l["cadre"].as_str())
        .collect();
    assert_eq!(cadres, ["hoang-the-manh"]);
    let (status, _) = app
        .get_json(
            &format!("/api/v1/periods/{Q2}/assessments?unit=phuc-ung"),
            Some(MANH),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .get_json("/api/v1/cadres/chu-tich-phuc-ung/assessments", Some(MANH))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, own) = app
        .get_json("/api/v1/cadres/hoang-the-manh/assessments", Some(MANH))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!own["assessments"].as_array().expect("a list").is_empty());

    // The district's committee is the evaluating body: a commune's token
    // sees no group, the district's sees it.
    let (_, quota) = app
        .get_json(&format!("/api/v1/periods/{Q2}/quota"), Some(MANH))
        .await;
    assert_eq!(quota["groups"], json!([]));
    let (_, quota) = app
        .get_json(&format!("/api/v1/periods/{Q2}/quota"), Some(SECRETARY))
        .await;
    assert_eq!(quota["groups"].as_array().map(Vec::len), Some(1));
    let (status, _) = app
        .get_json(&format!("/api/v1/periods/{Q2}/assessments"), Some(PHUC))
        .await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

const SHEET: [&str; 11] = [
    "STT",
    "Họ và tên",
    "Chức vụ",
    "Đơn vị",
    "Nhóm",
    "Tự chấm (tiêu chí chung)",
    "Điểm tiêu chí chung",
    "Điểm kết quả nhiệm vụ",
    "Tổng điểm",
    "Xếp loại",
    "Ghi chú",
];

fn sheet_col(title: &str) -> usize {
    SHEET
        .iter()
        .position(|h| *h == title)
        .unwrap_or_else(|| panic!("no column {title}"))
}

/// A point figure of the API as the CSV writes it ("" for null).
fn csv_points(value: &Value) -> String {
    match value.as_f64() {
        Some(v) if v.fract() == 0.0 => format!("{}", v as i64),
        Some(v) => format!("{v}"),
        None => String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_period_sheet_exports_as_a_personnel_office_files_it() {
    use calamine::{Data, Reader, Xlsx};

    let app = App::start(false).await;
    evaluated(&app).await;
    // Đỗ Xuân Phúc, disqualified in the year: 30 + 23.33 = 53.33 would be
    // completed; the ceiling is not completed, and the note says why.
    let head = app
        .act(
            SECRETARY,
            "assessment.decided",
            json!({"cadre": "do-xuan-phuc", "period": "2021", "peer_group": "truong-ban",
                   "general_points": 30, "disqualified": "discipline",
                   "comment": "=Kỷ luật khiển trách"}),
        )
        .await;
    app.wait_for(head, None).await;

    // CSV: the API's figures, line by line.
    let response = app
        .get(&format!("/api/v1/periods/{Q2}/export.csv"), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().expect("ASCII");
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"danh-gia-ky-2021-q2.csv\""
    );
    assert!(response.headers().contains_key("x-dotpha-position"));
    let bytes = response.bytes().await.expect("a body");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM");
    let rows = common::parse_csv(std::str::from_utf8(&bytes[3..]).expect("UTF-8"));
    assert_eq!(rows[0], SHEET);
    let (_, api) = app
        .get_json(&format!("/api/v1/periods/{Q2}/assessments"), None)
        .await;
    let lines = api["assessments"].as_array().expect("lines");
    assert_eq!(rows.len(), lines.len() + 1, "a header and a row per cadre");
    for (i, (row, line)) in rows[1..].iter().zip(lines).enumerate() {
        assert_eq!(row[sheet_col("STT")], (i + 1).to_string());
        assert_eq!(
            row[sheet_col("Họ và tên")],
            line["full_name"].as_str().unwrap_or("")
        );
        assert_eq!(
            row[sheet_col("Chức vụ")],
            line["position"].as_str().unwrap_or("")
        );
        assert_eq!(
            row[sheet_col("Đơn vị")],
            line["unit_name"].as_str().unwrap_or("")
        );
        assert_eq!(
            row[sheet_col("Nhóm")],
            line["peer_group"].as_str().unwrap_or("")
        );
        for (title, member) in [
            ("Tự chấm (tiêu chí chung)", "self_points"),
            ("Điểm tiêu chí chung", "general_points"),
            ("Điểm kết quả nhiệm vụ", "task_points"),
            ("Tổng điểm", "total"),
        ] {
            assert_eq!(row[sheet_col(title)], csv_points(&line[member]), "{title}");
        }
    }
    let row = |name: &str| {
        rows.iter()
            .find(|r| r[sheet_col("Họ và tên")] == name)
            .unwrap_or_else(|| panic!("no row for {name}"))
    };
    let manh = row("Hoàng Thế Mạnh");
    assert_eq!(
        (
            manh[sheet_col("Tự chấm (tiêu chí chung)")].as_str(),
            manh[sheet_col("Điểm tiêu chí chung")].as_str(),
            manh[sheet_col("Điểm kết quả nhiệm vụ")].as_str(),
            manh[sheet_col("Tổng điểm")].as_str(),
            manh[sheet_col("Xếp loại")].as_str(),
        ),
        ("27.5", "26", "58.33", "84.33", "Hoàn thành tốt nhiệm vụ")
    );
    assert_eq!(
        row("Lê Thị Mẫu (dữ liệu mẫu)")[sheet_col("Ghi chú")],
        "Chưa có quyết định đánh giá"
    );
    assert!(
        row("Phạm Văn Mẫu (dữ liệu mẫu)")[sheet_col("Ghi chú")].contains("vượt tỷ lệ"),
        "the excellent one of a group over the quota"
    );

    // The year's CSV: the ceiling's reason, and a formula defused.
    let text = app
        .get("/api/v1/periods/2021/export.csv", None)
        .await
        .text()
        .await
        .expect("a body");
    let rows = common::parse_csv(text.trim_start_matches('\u{feff}'));
    let phuc = rows
        .iter()
        .find(|r| r[sheet_col("Họ và tên")] == "Đỗ Xuân Phúc")
        .expect("Đỗ Xuân Phúc's row");
    assert_eq!(phuc[sheet_col("Tổng điểm")], "53.33");
    assert_eq!(phuc[sheet_col("Xếp loại")], "Không hoàn thành nhiệm vụ");
    let note = &phuc[sheet_col("Ghi chú")];
    assert!(note.contains("Bị kỷ luật trong kỳ đánh giá"), "{note}");
    assert!(
        note.contains("Mức cao nhất được xếp: Không hoàn thành nhiệm vụ"),
        "{note}"
    );
    assert!(note.contains("; =Kỷ luật"), "{note}");
    assert!(!note.starts_with('='), "{note}");

    // XLSX: typed cells, the quota sheet, the products with date cells.
    let response = app
        .get(&format!("/api/v1/periods/{Q2}/export.xlsx"), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = response.bytes().await.expect("a body").to_vec();
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
        .expect("a workbook calamine reads");
    assert_eq!(
        workbook.sheet_names(),
        ["Đánh giá 2021-q2", "Tổng hợp theo cơ quan", "Sản phẩm"]
    );
    let sheet: Vec<Vec<Data>> = workbook
        .worksheet_range("Đánh giá 2021-q2")
        .expect("the sheet")
        .rows()
        .map(<[Data]>::to_vec)
        .collect();
    let titles: Vec<String> = sheet[0].iter().map(ToString::to_string).collect();
    assert_eq!(titles, SHEET);
    let manh = sheet
        .iter()
        .find(|r| r[sheet_col("Họ và tên")] == Data::String("Hoàng Thế Mạnh".into()))
        .expect("Hoàng Thế Mạnh's row");
    assert_eq!(manh[sheet_col("Điểm kết quả nhiệm vụ")], Data::Float(58.33));
    assert_eq!(manh[sheet_col("Tổng điểm")], Data::Float(84.33));
    assert_eq!(
        manh[sheet_col("Tự chấm (tiêu chí chung)")],
        Data::Float(27.5)
    );
    let undecided = sheet
        .iter()
        .find(|r| r[sheet_col("Họ và tên")] == Data::String("Lê Thị Mẫu (dữ liệu mẫu)".into()))
        .expect("Tú Thịnh's chair");
    assert_eq!(undecided[sheet_col("Tổng điểm")], Data::Empty);

    let quota: Vec<Vec<Data>> = workbook
        .worksheet_range("Tổng hợp theo cơ quan")
        .expect("the quota sheet")
        .rows()
        .map(<[Data]>::to_vec)
        .collect();
    let group = quota
        .iter()
        .find(|r| r.get(2) == Some(&Data::String("chu-tich-xa".into())))
        .expect("the chairs' group");
    assert_eq!(group[1], Data::String("Huyện Sơn Dương".into()));
    assert_eq!(
        (&group[3], &group[4], &group[7]),
        (&Data::Float(1.0), &Data::Float(1.0), &Data::Float(0.0))
    );
    assert_eq!(
        group[8],
        Data::String("1 xuất sắc / 1 tốt, giới hạn 0".into())
    );
    assert_eq!(group[9], Data::String("Vượt".into()));

    let products: Vec<Vec<Data>> = workbook
        .worksheet_range("Sản phẩm")
        .expect("the products sheet")
        .rows()
        .map(<[Data]>::to_vec)
        .collect();
    let six_months = products
        .iter()
        .find(|r| r[1] == Data::String("Hoàng Thế Mạnh".into()))
        .expect("Hợp Thành's milestone");
    assert_eq!(six_months[3], Data::String(SIX_MONTHS.into()));
    // Excel counts days from 1899-12-30: 30/06/2021 is 44377.
    match (&six_months[4], &six_months[5]) {
        (Data::DateTime(due), Data::DateTime(done)) => {
            assert_eq!((due.as_f64(), done.as_f64()), (44_377.0, 44_372.0));
        }
        other => panic!("due and done are not date cells: {other:?}"),
    }
    assert_eq!(
        (&six_months[6], &six_months[7], &six_months[8]),
        (&Data::Float(1.0), &Data::Float(0.5), &Data::Float(1.0))
    );
    assert_eq!(six_months[9], Data::String("Đúng hạn".into()));

    // Unknown periods and bad ids are JSON errors.
    let (status, body) = app
        .get_json("/api/v1/periods/2021-q9/export.xlsx", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = app.get_json("/api/v1/periods/Quý/export.csv", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    app.stop().await;
}
