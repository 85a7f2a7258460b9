//! The year-end evaluation table: CSV for Excel, and XLSX.

mod common;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use common::{App, parse_csv};
use reqwest::StatusCode;

const HEADERS: [&str; 17] = [
    "STT",
    "Mã nhiệm vụ",
    "Tên nhiệm vụ",
    "Người được giao",
    "Chức vụ",
    "Đơn vị",
    "Loại nhiệm vụ",
    "Lĩnh vực",
    "Nguồn giao",
    "Trạng thái",
    "Chỉ tiêu (ban đầu → mục tiêu; mới nhất)",
    "Tỷ lệ hoàn thành (%)",
    "Hạn hoàn thành",
    "Quá hạn",
    "Xếp loại",
    "Điểm",
    "Nhận xét đánh giá",
];

/// The index of the column named `title`.
fn col(title: &str) -> usize {
    HEADERS
        .iter()
        .position(|h| *h == title)
        .unwrap_or_else(|| panic!("no column {title}"))
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_opens_in_excel_with_vietnamese_intact() {
    let (app, head) = App::with_district(false).await;
    let response = app.get("/api/v1/export/2021.csv", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(&response, "content-type").starts_with("text/csv"));
    assert_eq!(
        header(&response, "content-disposition"),
        "attachment; filename=\"danh-gia-2021.csv\""
    );
    assert!(
        header(&response, "x-dotpha-position")
            .parse::<u64>()
            .unwrap_or(0)
            >= head
    );
    let bytes = response.bytes().await.expect("a body");
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "the CSV starts with the UTF-8 BOM"
    );
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    assert!(text.contains("Hợp Thành"));
    assert!(text.contains("\r\n"), "CRLF line ends");
    let rows = parse_csv(text);
    assert_eq!(rows[0], HEADERS);
    assert_eq!(rows.len(), 6, "a header and one row per task");
    assert!(rows.iter().all(|r| r.len() == HEADERS.len()));
    let row = |id: &str| {
        rows.iter()
            .find(|r| r[col("Mã nhiệm vụ")] == id)
            .unwrap_or_else(|| panic!("no row for {id}"))
            .clone()
    };
    let numbers: Vec<&str> = rows[1..].iter().map(|r| r[col("STT")].as_str()).collect();
    assert_eq!(numbers, ["1", "2", "3", "4", "5"], "STT numbers the rows");
    let phuc = row("ndp-2021-01");
    assert_eq!(phuc[col("Người được giao")], "Đỗ Xuân Phúc");
    assert!(!phuc[col("Chức vụ")].is_empty(), "the assignee's position");
    assert_eq!(phuc[col("Đơn vị")], "Ban Tổ chức Huyện ủy");
    assert_eq!(phuc[col("Loại nhiệm vụ")], "Nhiệm vụ đột phá");
    assert_eq!(phuc[col("Nguồn giao")], "Ban Thường vụ giao");
    assert_eq!(phuc[col("Trạng thái")], "Đã đánh giá");
    assert_eq!(phuc[col("Tỷ lệ hoàn thành (%)")], "100");
    assert_eq!(phuc[col("Hạn hoàn thành")], "15/12/2021");
    assert_eq!(phuc[col("Xếp loại")], "Hoàn thành xuất sắc nhiệm vụ");
    assert_eq!(phuc[col("Điểm")], "95");
    let targets = &phuc[col("Chỉ tiêu (ban đầu → mục tiêu; mới nhất)")];
    assert!(
        targets.contains(" → ") && targets.contains("mới nhất"),
        "{targets}"
    );
    // The comment holds a comma-free text with a slash; quoting is checked
    // on the self-registered title below and in the unit tests.
    assert!(phuc[col("Nhận xét đánh giá")].contains("400/400"));
    let tu_thinh = row("ndp-2021-04");
    assert_eq!(tu_thinh[col("Nguồn giao")], "Việc tồn đọng");
    assert_eq!(tu_thinh[col("Xếp loại")], "Hoàn thành tốt nhiệm vụ");
    assert_eq!(
        tu_thinh[col("Nhận xét đánh giá")],
        "Giải quyết được 34/40 hồ sơ, còn 6 hồ sơ chuyển năm sau"
    );
    assert!(text.contains("\"Giải quyết được 34/40 hồ sơ, còn 6 hồ sơ chuyển năm sau\""));
    let manh = row(common::HOP_THANH_TASK);
    assert_eq!(manh[col("Trạng thái")], "Đang thực hiện");
    assert_eq!(manh[col("Xếp loại")], "", "not rated yet");
    assert_eq!(row("ndp-2021-03")[col("Nguồn giao")], "Tự đăng ký");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_xlsx_reads_back_with_its_headers_and_rows() {
    let (app, _) = App::with_district(false).await;
    let response = app.get("/api/v1/export/2021.xlsx", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "content-type"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        header(&response, "content-disposition"),
        "attachment; filename=\"danh-gia-2021.xlsx\""
    );
    let bytes = response.bytes().await.expect("a body").to_vec();
    assert!(bytes.starts_with(b"PK"), "an XLSX is a zip");
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("a workbook calamine reads");
    assert_eq!(
        workbook.sheet_names(),
        ["Đánh giá 2021", "Tổng hợp theo đơn vị"]
    );
    let range = workbook
        .worksheet_range("Đánh giá 2021")
        .expect("the sheet");
    let rows: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
    let titles: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    assert_eq!(titles, HEADERS);
    assert_eq!(rows.len(), 6);
    let phuc = rows
        .iter()
        .find(|r| r[col("Mã nhiệm vụ")] == Data::String("ndp-2021-01".into()))
        .expect("Đỗ Xuân Phúc's row");
    assert_eq!(
        phuc[col("Tỷ lệ hoàn thành (%)")],
        Data::Float(100.0),
        "percent is a number"
    );
    assert_eq!(
        phuc[col("Xếp loại")],
        Data::String("Hoàn thành xuất sắc nhiệm vụ".into())
    );
    assert_eq!(phuc[col("Điểm")], Data::Float(95.0), "score is a number");
    // The due date is a date cell (it sorts as a date), 15/12/2021.
    match &phuc[col("Hạn hoàn thành")] {
        // Excel counts days from 1899-12-30: 2021-12-15 is day 44545.
        Data::DateTime(when) => assert_eq!(when.as_f64(), 44_545.0),
        other => panic!("the due date is not a date cell: {other:?}"),
    }
    assert!(
        rows.iter()
            .any(|r| r[col("Đơn vị")] == Data::String("Xã Hợp Thành".into())),
        "Hợp Thành's row"
    );
    // The summary: a line per unit, with its number of tasks.
    let summary: Vec<Vec<Data>> = workbook
        .worksheet_range("Tổng hợp theo đơn vị")
        .expect("the summary sheet")
        .rows()
        .map(<[Data]>::to_vec)
        .collect();
    assert_eq!(summary[0][1], Data::String("Đơn vị".into()));
    let units: f64 = summary[1..]
        .iter()
        .map(|r| match r[2] {
            Data::Float(n) => n,
            _ => 0.0,
        })
        .sum();
    assert_eq!(units, 5.0, "every task is counted once, by unit");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_cycle_or_format_is_a_json_404() {
    let (app, _) = App::with_district(false).await;
    for path in [
        "/api/v1/export/2030.xlsx",
        "/api/v1/export/2030.csv",
        "/api/v1/export/2021.ods",
        "/api/v1/export/2021",
    ] {
        let (status, body) = app.get_json(path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(body["error"]["message"].is_string(), "{path}: {body}");
    }
    let (status, body) = app.get_json("/api/v1/export/Năm.csv", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    app.stop().await;
}

/// Units whose names sort wrongly by bytes: "Cấp" before "Chi" (â is a
/// letter after a, before c), "Đội" after every "D", "Ủy" before "Xã";
/// and wrongly without diacritics too: "Dương" before "Đông" (đ is a
/// letter after d).
const IN_ORDER: [(&str, &str, &str); 6] = [
    ("doi-qltt", "Đội Quản lý thị trường", "agency"),
    ("ubkt", "Ủy ban Kiểm tra Huyện ủy", "agency"),
    ("cap-tien", "Xã Cấp Tiến", "commune"),
    ("chi-thiet", "Xã Chi Thiết", "commune"),
    ("duong-thanh", "Xã Dương Thành", "commune"),
    ("dong-loi", "Xã Đông Lợi", "commune"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn units_come_in_vietnamese_order_in_answers_and_exports() {
    let (app, _) = App::with_district(false).await;
    // Registered in reverse, so no order of arrival hides a wrong sort.
    let mut head = 0;
    for (code, name, kind) in IN_ORDER.iter().rev() {
        app.act(
            common::SECRETARY,
            "unit.registered",
            serde_json::json!({"code": code, "name": name, "kind": kind, "parent": "son-duong"}),
        )
        .await;
        let cadre = format!("can-bo-{code}");
        app.act(
            common::SECRETARY,
            "cadre.registered",
            serde_json::json!({"id": cadre, "full_name": format!("Cán bộ {name}"), "unit": code,
                               "position": "Cán bộ", "party_member": true, "standing_committee": false}),
        )
        .await;
        head = app
            .act(
                common::SECRETARY,
                "task.assigned",
                serde_json::json!({"task_id": format!("a-{code}"), "cycle": "2021", "assignee": cadre,
                                   "title": "Nhiệm vụ", "kind": "new", "category": "Khác",
                                   "due": "2021-12-31", "origin": "committee",
                                   "targets": [{"metric": "m", "label": "Chỉ tiêu", "baseline": 0, "target": 1}]}),
            )
            .await;
    }
    app.wait_for(head, None).await;
    let ours: Vec<&str> = IN_ORDER.iter().map(|u| u.1).collect();
    let keep = |names: Vec<String>| -> Vec<String> {
        names
            .into_iter()
            .filter(|n| ours.contains(&n.as_str()))
            .collect()
    };
    let names = |list: &serde_json::Value, member: &str| -> Vec<String> {
        list.as_array()
            .expect("a list")
            .iter()
            .filter_map(|u| u[member].as_str().map(str::to_owned))
            .collect()
    };

    let (_, unit) = app.get_json("/api/v1/units/son-duong", None).await;
    assert_eq!(
        keep(names(&unit["children"], "name")),
        ours,
        "a unit's children"
    );
    let (_, dashboard) = app.get_json("/api/v1/dashboard?cycle=2021", None).await;
    let by_unit = names(&dashboard["by_unit"], "name");
    assert_eq!(keep(by_unit.clone()), ours, "the dashboard's units");
    // And among the district's own: "Ban…" first, "Xã Hợp Thành" before
    // "Xã Phúc Ứng" and "Xã Tú Thịnh".
    let mut sorted = by_unit.clone();
    sorted.sort_by(|a, b| dotpha_domain::text::collate(a, b));
    assert_eq!(by_unit, sorted);

    let text = app
        .get("/api/v1/export/2021.csv", None)
        .await
        .text()
        .await
        .expect("a body");
    let rows = parse_csv(text.trim_start_matches('\u{feff}'));
    let units: Vec<String> = rows[1..].iter().map(|r| r[col("Đơn vị")].clone()).collect();
    let mut seen: Vec<String> = Vec::new();
    for unit in units {
        if seen.last() != Some(&unit) {
            seen.push(unit);
        }
    }
    assert_eq!(keep(seen.clone()), ours, "the export's rows");
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| dotpha_domain::text::collate(a, b));
    assert_eq!(
        seen, sorted,
        "grouped by unit, in Vietnamese order: {seen:?}"
    );
    app.stop().await;
}
