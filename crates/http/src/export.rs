//! The year-end evaluation table of a cycle, for spreadsheets:
//! `GET /api/v1/export/{cycle}.csv` and `GET /api/v1/export/{cycle}.xlsx`.
//!
//! One row per task of the cycle (within the token's unit subtree when reads
//! need a token), Vietnamese headers and labels, because the table goes to a
//! committee's office as it is. The CSV starts with a UTF-8 byte order mark:
//! without it Excel reads the file as the local code page and the
//! diacritics come out garbled.

use axum::{
    Router,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use dotpha_domain::{
    Lang, Term,
    text::fold,
    vocabulary::{Rating, TaskKind, TaskOrigin, TaskStatus},
};
use dotpha_views::query::{MAX_LIMIT, TaskFilter, TaskSummary, Tree};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

use crate::{
    AppState, POSITION_HEADER,
    error::ApiError,
    routes::{Reading, Segment},
};

/// The export routes (merged into [`crate::router`]). Routes match whole
/// path segments, so one parameter takes `2021.csv` and the handler splits
/// off the format.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/export/{file}", get(export))
}

/// The columns: header and width (in characters) in the spreadsheet.
const COLUMNS: [(&str, f64); 12] = [
    ("Mã nhiệm vụ", 18.0),
    ("Tên nhiệm vụ", 48.0),
    ("Người được giao", 26.0),
    ("Đơn vị", 24.0),
    ("Loại nhiệm vụ", 18.0),
    ("Nguồn giao", 20.0),
    ("Trạng thái", 16.0),
    ("Tỷ lệ hoàn thành (%)", 12.0),
    ("Hạn hoàn thành", 14.0),
    ("Xếp loại", 30.0),
    ("Điểm", 8.0),
    ("Nhận xét đánh giá", 48.0),
];

/// The byte order mark that tells Excel the CSV is UTF-8.
const BOM: &str = "\u{feff}";

/// One task's line of the table.
struct Row {
    summary: TaskSummary,
    comment: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    Csv,
    Xlsx,
}

async fn export(Segment(file): Segment, read: Reading) -> Result<Response, ApiError> {
    let (state, grant, now) = (read.state, read.grant, read.now);
    let (cycle, format) = match file.rsplit_once('.') {
        Some((cycle, "csv")) => (cycle.to_owned(), Output::Csv),
        Some((cycle, "xlsx")) => (cycle.to_owned(), Output::Xlsx),
        _ => {
            return Err(ApiError::not_found(format!(
                "no export {file:?}: ask for {{cycle}}.csv or {{cycle}}.xlsx"
            )));
        }
    };
    if dotpha_domain::Slug::parse(&cycle).is_none() {
        return Err(ApiError::bad_request(format!(
            "{cycle:?} is not a cycle id (lowercase letters, digits, '-')"
        )));
    }
    let wanted = cycle.clone();
    let (position, rows) = state
        .read(move |rm| {
            let position = rm.refresh()?.position;
            if !rm.cycles()?.iter().any(|(id, ..)| *id == wanted) {
                return Err(ApiError::not_found(format!("no cycle {wanted:?}")));
            }
            let filter = TaskFilter {
                cycle: Some(wanted),
                unit: grant.map(|g| g.unit),
                tree: Tree::Today,
                limit: Some(MAX_LIMIT),
                ..TaskFilter::default()
            };
            let (tasks, _) = rm.tasks(&filter, now)?;
            let mut rows = Vec::with_capacity(tasks.len());
            for summary in tasks {
                let comment = rm
                    .task(&summary.task_id, now)?
                    .and_then(|t| t.evaluation_comment);
                rows.push(Row { summary, comment });
            }
            // Grouped by unit, as a committee reads the table.
            rows.sort_by_cached_key(|r| (fold(&r.summary.unit_name), r.summary.task_id.clone()));
            Ok((position, rows))
        })
        .await?;
    let (body, content_type, extension) = match format {
        Output::Csv => (csv(&rows).into_bytes(), "text/csv; charset=utf-8", "csv"),
        Output::Xlsx => (
            xlsx(&rows, &cycle).map_err(ApiError::internal)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    let disposition = format!("attachment; filename=\"danh-gia-{cycle}.{extension}\"");
    let mut response = (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response();
    response
        .headers_mut()
        .insert(POSITION_HEADER, HeaderValue::from(position));
    Ok(response)
}

/// A row's cells as text, in [`COLUMNS`] order.
fn cells(row: &Row) -> [String; 12] {
    let s = &row.summary;
    [
        s.task_id.clone(),
        s.title.clone(),
        s.assignee_name.clone(),
        s.unit_name.clone(),
        label::<TaskKind>(&s.kind).to_owned(),
        label::<TaskOrigin>(&s.origin).to_owned(),
        label::<TaskStatus>(&s.status).to_owned(),
        s.percent_complete.map(percent).unwrap_or_default(),
        date_vn(&s.due),
        s.rating
            .as_deref()
            .map(label::<Rating>)
            .unwrap_or_default()
            .to_owned(),
        s.score.map(number).unwrap_or_default(),
        row.comment.clone().unwrap_or_default(),
    ]
}

/// Columns holding numbers (written as numbers in the spreadsheet).
const PERCENT_COLUMN: usize = 7;
const SCORE_COLUMN: usize = 10;

fn csv(rows: &[Row]) -> String {
    let mut out = String::from(BOM);
    let header: Vec<String> = COLUMNS.iter().map(|(h, _)| csv_field(h)).collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for row in rows {
        let line: Vec<String> = cells(row)
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if i == PERCENT_COLUMN || i == SCORE_COLUMN {
                    cell.clone()
                } else {
                    csv_field(&defuse(cell))
                }
            })
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// RFC 4180 quoting: a field with a comma, quote or line break is quoted,
/// its quotes doubled.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// First characters that make a spreadsheet read a cell as a formula, or
/// that hide one behind an invisible start (OWASP's CSV injection list, plus
/// line feed and NUL, which some importers strip before looking).
pub(crate) const FORMULA_STARTS: [char; 8] = ['=', '+', '-', '@', '\t', '\r', '\n', '\0'];

/// Text a spreadsheet would run as a formula ([`FORMULA_STARTS`] first)
/// gets a leading apostrophe: titles and comments come from publishers, and
/// a table opened in an office must not execute what someone typed. The one
/// place cells of the export are neutralized (CSV and XLSX alike).
fn defuse(text: &str) -> String {
    if text.starts_with(FORMULA_STARTS) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn xlsx(rows: &[Row], cycle: &str) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    // Excel allows 31 characters in a sheet name; cycle ids may be longer.
    let name: String = format!("Đánh giá {cycle}").chars().take(31).collect();
    sheet.set_name(name)?;
    let bold = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color("#DDEBF7");
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let number = Format::new()
        .set_num_format("0.0")
        .set_align(FormatAlign::Top);
    for (col, (title, width)) in COLUMNS.iter().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, *title, &bold)?;
        sheet.set_column_width(col, *width)?;
    }
    sheet.set_row_height(0, 32)?;
    sheet.set_freeze_panes(1, 0)?;
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        let s = &row.summary;
        for (col, cell) in cells(row).iter().enumerate() {
            let value = match col {
                PERCENT_COLUMN => s.percent_complete,
                SCORE_COLUMN => s.score,
                _ => {
                    sheet.write_string_with_format(r, col as u16, cell, &wrap)?;
                    continue;
                }
            };
            if let Some(value) = value {
                sheet.write_number_with_format(r, col as u16, value, &number)?;
            }
        }
    }
    if !rows.is_empty() {
        sheet.autofilter(0, 0, rows.len() as u32, COLUMNS.len() as u16 - 1)?;
    }
    workbook.save_to_buffer()
}

/// `2021-06-30` as `30/06/2021`, the way dates are written in Vietnam.
fn date_vn(date: &str) -> String {
    let parts: Vec<&str> = date.split('-').collect();
    match parts.as_slice() {
        [y, m, d] => format!("{d}/{m}/{y}"),
        _ => date.to_owned(),
    }
}

/// A percentage with one decimal at most.
fn percent(value: f64) -> String {
    number((value * 10.0).round() / 10.0)
}

/// A number without a needless `.0`.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// A word's Vietnamese label from the domain's vocabulary (the page shows
/// the same); a word the vocabulary does not know stays as it is.
fn label<T: Term>(word: &str) -> &str {
    T::parse(word).map_or(word, |t| t.label(Lang::Vi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("Hợp Thành"), "Hợp Thành");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(defuse("=1+1"), "'=1+1");
        assert_eq!(defuse("-5 hộ"), "'-5 hộ");
        assert_eq!(defuse("Thôn Đồng Diễn"), "Thôn Đồng Diễn");
    }

    proptest::proptest! {
        #[test]
        fn every_dangerous_first_character_is_neutralized(
            first in proptest::sample::select(FORMULA_STARTS.to_vec()),
            rest in "\\PC{0,12}",
        ) {
            let cell = format!("{first}{rest}");
            let defused = defuse(&cell);
            proptest::prop_assert_eq!(defused.strip_prefix('\''), Some(cell.as_str()));
        }

        #[test]
        fn other_text_is_left_alone(text in "[^=+\\-@\t\r\n\x00][^\x00]{0,12}") {
            proptest::prop_assert_eq!(defuse(&text), text);
        }
    }

    #[test]
    fn a_line_feed_or_nul_first_is_defused() {
        assert_eq!(defuse("\n=1+1"), "'\n=1+1");
        assert_eq!(defuse("\0=1+1"), "'\0=1+1");
    }

    #[test]
    fn a_long_cycle_id_still_names_a_sheet() {
        let cycle = "a".repeat(64);
        assert!(xlsx(&[], &cycle).is_ok_and(|bytes| bytes.starts_with(b"PK")));
    }

    #[test]
    fn dates_and_numbers_read_the_vietnamese_way() {
        assert_eq!(date_vn("2021-06-30"), "30/06/2021");
        assert_eq!(percent(33.333), "33.3");
        assert_eq!(percent(100.0), "100");
        assert_eq!(number(92.5), "92.5");
        assert_eq!(label::<Rating>("good"), "Hoàn thành tốt nhiệm vụ");
        assert_eq!(label::<TaskKind>("breakthrough"), "Nhiệm vụ đột phá");
        assert_eq!(label::<TaskStatus>("archived"), "archived");
    }
}
