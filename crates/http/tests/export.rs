//! The year-end evaluation table: CSV for Excel, and XLSX.

mod common;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use common::App;
use reqwest::StatusCode;

const HEADERS: [&str; 12] = [
    "Mã nhiệm vụ",
    "Tên nhiệm vụ",
    "Người được giao",
    "Đơn vị",
    "Loại nhiệm vụ",
    "Nguồn giao",
    "Trạng thái",
    "Tỷ lệ hoàn thành (%)",
    "Hạn hoàn thành",
    "Xếp loại",
    "Điểm",
    "Nhận xét đánh giá",
];

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Splits RFC 4180 CSV (quoted fields may hold commas, quotes, newlines).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
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
            .find(|r| r[0] == id)
            .unwrap_or_else(|| panic!("no row for {id}"))
            .clone()
    };
    let phuc = row("ndp-2021-01");
    assert_eq!(phuc[2], "Đỗ Xuân Phúc");
    assert_eq!(phuc[3], "Ban Tổ chức Huyện ủy");
    assert_eq!(phuc[4], "Nhiệm vụ đột phá");
    assert_eq!(phuc[5], "Ban Thường vụ giao");
    assert_eq!(phuc[6], "Đã đánh giá");
    assert_eq!(phuc[7], "100");
    assert_eq!(phuc[8], "15/12/2021");
    assert_eq!(phuc[9], "Hoàn thành xuất sắc nhiệm vụ");
    assert_eq!(phuc[10], "95");
    // The comment holds a comma-free text with a slash; quoting is checked
    // on the self-registered title below and in the unit tests.
    assert!(phuc[11].contains("400/400"));
    let tu_thinh = row("ndp-2021-04");
    assert_eq!(tu_thinh[5], "Việc tồn đọng");
    assert_eq!(tu_thinh[9], "Hoàn thành tốt nhiệm vụ");
    assert_eq!(
        tu_thinh[11],
        "Giải quyết được 34/40 hồ sơ, còn 6 hồ sơ chuyển năm sau"
    );
    assert!(text.contains("\"Giải quyết được 34/40 hồ sơ, còn 6 hồ sơ chuyển năm sau\""));
    let manh = row(common::HOP_THANH_TASK);
    assert_eq!(manh[6], "Đang thực hiện");
    assert_eq!(manh[9], "", "not rated yet");
    assert_eq!(row("ndp-2021-03")[5], "Tự đăng ký");
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
    assert_eq!(workbook.sheet_names(), ["Đánh giá 2021"]);
    let range = workbook
        .worksheet_range("Đánh giá 2021")
        .expect("the sheet");
    let rows: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
    let titles: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    assert_eq!(titles, HEADERS);
    assert_eq!(rows.len(), 6);
    let phuc = rows
        .iter()
        .find(|r| r[0] == Data::String("ndp-2021-01".into()))
        .expect("Đỗ Xuân Phúc's row");
    assert_eq!(phuc[7], Data::Float(100.0), "percent is a number");
    assert_eq!(phuc[9], Data::String("Hoàn thành xuất sắc nhiệm vụ".into()));
    assert_eq!(phuc[10], Data::Float(95.0), "score is a number");
    assert!(
        rows.iter()
            .any(|r| r[3] == Data::String("Xã Hợp Thành".into())),
        "Hợp Thành's row"
    );
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
