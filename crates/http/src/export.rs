//! The year-end evaluation table of a cycle, for spreadsheets:
//! `GET /api/v1/export/{cycle}.csv` and `GET /api/v1/export/{cycle}.xlsx`.
//!
//! One row per task of the cycle (within the token's unit subtree when reads
//! need a token), Vietnamese headers and labels, because the table goes to a
//! committee's office as it is: STT, the assignee's position, the field, the
//! targets with their baseline, target and latest value, overdue. In the
//! XLSX numbers are numbers and due dates are date cells (`dd/mm/yyyy`, so
//! they sort), the pages print landscape on A4, one page wide, the header on
//! each, and a second sheet sums up each unit. The CSV starts with a UTF-8 byte order mark:
//! without it Excel reads the file as the local code page and the
//! diacritics come out garbled.

use axum::{
    Router,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use std::collections::BTreeMap;

use dotpha_domain::{
    Date, Lang, Term, figures,
    text::collate,
    vocabulary::{Rating, TaskKind, TaskOrigin, TaskStatus},
};
use dotpha_views::query::{MAX_LIMIT, TargetView, TaskFilter, TaskSummary, Tree};
use rust_xlsxwriter::{
    ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

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

/// One cell of the table, typed so the spreadsheet holds numbers as
/// numbers and dates as dates (sortable, with the `dd/mm/yyyy` format),
/// and the CSV writes each the Vietnamese way.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell {
    Text(String),
    Number(Option<f64>),
    Date(Option<Date>),
}

impl Cell {
    pub(crate) fn text(text: impl Into<String>) -> Cell {
        Cell::Text(text.into())
    }

    /// The cell as CSV writes it (before quoting).
    pub(crate) fn as_csv(&self) -> String {
        match self {
            Cell::Text(text) => defuse(text),
            Cell::Number(value) => value.map(number).unwrap_or_default(),
            Cell::Date(date) => date.map(Date::vietnamese).unwrap_or_default(),
        }
    }
}

/// A column of a table of `R`: its header, its width in the spreadsheet
/// (characters), and its cell of a row.
pub(crate) type ColumnOf<R> = (&'static str, f64, fn(&R) -> Cell);

/// A column of the cycle's table.
type Column = ColumnOf<Row>;

/// The columns, in the order a personnel office files the table.
const COLUMNS: [Column; 17] = [
    ("STT", 5.0, |r| Cell::Number(Some(r.number as f64))),
    ("Mã nhiệm vụ", 16.0, |r| Cell::text(&r.summary.task_id)),
    ("Tên nhiệm vụ", 44.0, |r| Cell::text(&r.summary.title)),
    ("Người được giao", 22.0, |r| {
        Cell::text(&r.summary.assignee_name)
    }),
    ("Chức vụ", 22.0, |r| {
        Cell::text(r.position.clone().unwrap_or_default())
    }),
    ("Đơn vị", 22.0, |r| Cell::text(&r.summary.unit_name)),
    ("Loại nhiệm vụ", 16.0, |r| {
        Cell::text(label::<TaskKind>(&r.summary.kind))
    }),
    ("Lĩnh vực", 18.0, |r| Cell::text(&r.summary.category)),
    ("Nguồn giao", 18.0, |r| {
        Cell::text(label::<TaskOrigin>(&r.summary.origin))
    }),
    ("Trạng thái", 15.0, |r| {
        Cell::text(label::<TaskStatus>(&r.summary.status))
    }),
    (
        "Chỉ tiêu (ban đầu → mục tiêu; mới nhất)",
        40.0,
        |r| Cell::text(r.targets.join("\n")),
    ),
    ("Tỷ lệ hoàn thành (%)", 11.0, |r| {
        Cell::Number(
            r.summary
                .percent_complete
                .map(|p| (p * 10.0).round() / 10.0),
        )
    }),
    ("Hạn hoàn thành", 12.0, |r| {
        Cell::Date(Date::parse(&r.summary.due))
    }),
    ("Quá hạn", 8.0, |r| {
        Cell::text(if r.summary.overdue { "Quá hạn" } else { "" })
    }),
    ("Xếp loại", 26.0, |r| {
        Cell::text(
            r.summary
                .rating
                .as_deref()
                .map(label::<Rating>)
                .unwrap_or_default(),
        )
    }),
    ("Điểm", 7.0, |r| Cell::Number(r.summary.score)),
    ("Nhận xét đánh giá", 40.0, |r| {
        Cell::text(r.comment.clone().unwrap_or_default())
    }),
];

/// The byte order mark that tells Excel the CSV is UTF-8.
pub(crate) const BOM: &str = "\u{feff}";

/// One task's line of the table.
struct Row {
    /// Its number in the table (STT), from 1.
    number: usize,
    summary: TaskSummary,
    /// The assignee's position (chức vụ).
    position: Option<String>,
    /// Each target as a line: label, baseline → target unit; latest.
    targets: Vec<String>,
    comment: Option<String>,
}

/// What a download is written as.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// CSV, UTF-8 with a byte order mark.
    Csv,
    /// An Excel workbook.
    Xlsx,
}

impl Output {
    fn content_type(self) -> &'static str {
        match self {
            Output::Csv => "text/csv; charset=utf-8",
            Output::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Output::Csv => "csv",
            Output::Xlsx => "xlsx",
        }
    }
}

/// A file to download: `body` as `output`, named `<stem>.<extension>`, with
/// the log position it reflects.
pub(crate) fn download(body: Vec<u8>, output: Output, stem: &str, position: u64) -> Response {
    let disposition = format!("attachment; filename=\"{stem}.{}\"", output.extension());
    let mut response = (
        [
            (header::CONTENT_TYPE, output.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response();
    response
        .headers_mut()
        .insert(POSITION_HEADER, HeaderValue::from(position));
    response
}

/// A table as CSV: the byte order mark, the headers, a line per row, each
/// cell written by [`Cell::as_csv`] and quoted by [`csv_field`], CRLF line
/// ends.
pub(crate) fn csv_table<R>(columns: &[ColumnOf<R>], rows: &[R]) -> String {
    let mut out = String::from(BOM);
    let header: Vec<String> = columns.iter().map(|(h, ..)| csv_field(h)).collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for row in rows {
        let line: Vec<String> = columns
            .iter()
            .map(|(_, _, cell)| csv_field(&cell(row).as_csv()))
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
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
            let mut positions: BTreeMap<String, Option<String>> = BTreeMap::new();
            let mut rows = Vec::with_capacity(tasks.len());
            for summary in tasks {
                let detail = rm.task(&summary.task_id, now)?;
                let position = match positions.get(&summary.assignee) {
                    Some(p) => p.clone(),
                    None => {
                        let p = rm.cadre(&summary.assignee, now)?.map(|c| c.position);
                        positions.insert(summary.assignee.clone(), p.clone());
                        p
                    }
                };
                let targets = detail
                    .as_ref()
                    .map(|t| t.targets.iter().map(target_line).collect())
                    .unwrap_or_default();
                let comment = detail.and_then(|t| t.evaluation_comment);
                rows.push(Row {
                    number: 0,
                    summary,
                    position,
                    targets,
                    comment,
                });
            }
            // Grouped by unit, as a committee reads the table: units in
            // Vietnamese order of their names, as every list.
            rows.sort_by(|a, b| {
                collate(&a.summary.unit_name, &b.summary.unit_name)
                    .then_with(|| a.summary.unit.cmp(&b.summary.unit))
                    .then_with(|| a.summary.task_id.cmp(&b.summary.task_id))
            });
            for (i, row) in rows.iter_mut().enumerate() {
                row.number = i + 1;
            }
            Ok((position, rows))
        })
        .await?;
    let body = match format {
        Output::Csv => csv_table(&COLUMNS, &rows).into_bytes(),
        Output::Xlsx => xlsx(&rows, &cycle).map_err(ApiError::internal)?,
    };
    Ok(download(
        body,
        format,
        &format!("danh-gia-{cycle}"),
        position,
    ))
}

/// A target as one line: `label: baseline → target unit; mới nhất latest
/// (dd/mm/yyyy)`.
fn target_line(t: &TargetView) -> String {
    let unit = t
        .unit
        .as_deref()
        .map(|u| format!(" {u}"))
        .unwrap_or_default();
    let mut line = format!(
        "{}: {} → {}{unit}",
        t.label,
        number(t.baseline),
        number(t.target)
    );
    if let Some(latest) = t.latest {
        line.push_str(&format!("; mới nhất {}{unit}", number(latest)));
        if let Some(on) = t.latest_as_of.as_deref().and_then(Date::parse) {
            line.push_str(&format!(" ({})", on.vietnamese()));
        }
    }
    line
}

/// RFC 4180 quoting: a field with a comma, quote or line break is quoted,
/// its quotes doubled.
pub(crate) fn csv_field(text: &str) -> String {
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
pub(crate) fn defuse(text: &str) -> String {
    if text.starts_with(FORMULA_STARTS) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A4 in the spreadsheet's paper sizes.
const PAPER_A4: u8 = 9;

fn xlsx(rows: &[Row], cycle: &str) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color("#DDEBF7")
        .set_border(FormatBorder::Thin);
    let text = Format::new()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_border(FormatBorder::Thin);
    let number = text.clone().set_num_format("0.0");
    let integer = text.clone().set_num_format("0");
    let date = text.clone().set_num_format("dd/mm/yyyy");

    let sheet = workbook.add_worksheet();
    // Excel allows 31 characters in a sheet name; cycle ids may be longer.
    let name: String = format!("Đánh giá {cycle}").chars().take(31).collect();
    sheet.set_name(name)?;
    print_friendly(sheet)?;
    for (col, (title, width, _)) in COLUMNS.iter().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, *title, &header)?;
        sheet.set_column_width(col, *width)?;
    }
    sheet.set_row_height(0, 32)?;
    sheet.set_freeze_panes(1, 0)?;
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (col, (title, _, cell)) in COLUMNS.iter().enumerate() {
            let col = col as u16;
            match cell(row) {
                Cell::Text(value) => sheet.write_string_with_format(r, col, value, &text)?,
                Cell::Number(Some(value)) if *title == "STT" => {
                    sheet.write_number_with_format(r, col, value, &integer)?
                }
                Cell::Number(Some(value)) => {
                    sheet.write_number_with_format(r, col, value, &number)?
                }
                Cell::Date(Some(value)) => sheet.write_datetime_with_format(
                    r,
                    col,
                    ExcelDateTime::from_ymd(value.year() as u16, value.month(), value.day())?,
                    &date,
                )?,
                Cell::Number(None) | Cell::Date(None) => sheet.write_blank(r, col, &text)?,
            };
        }
    }
    if !rows.is_empty() {
        sheet.autofilter(0, 0, rows.len() as u32, COLUMNS.len() as u16 - 1)?;
    }
    summary_sheet(&mut workbook, rows, &header, &text, &integer, &number)?;
    workbook.save_to_buffer()
}

/// Landscape A4, one page wide, the header row on every page.
pub(crate) fn print_friendly(sheet: &mut Worksheet) -> Result<(), XlsxError> {
    sheet.set_landscape();
    sheet.set_paper_size(PAPER_A4);
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, 0)?;
    Ok(())
}

/// The second sheet: one line per unit (tasks, evaluated, overdue, mean
/// completion by the domain's [`figures::mean_completion`], ratings).
fn summary_sheet(
    workbook: &mut Workbook,
    rows: &[Row],
    header: &Format,
    text: &Format,
    integer: &Format,
    number: &Format,
) -> Result<(), XlsxError> {
    const SUMMARY: [(&str, f64); 10] = [
        ("STT", 5.0),
        ("Đơn vị", 30.0),
        ("Số nhiệm vụ", 10.0),
        ("Đã đánh giá", 10.0),
        ("Quá hạn", 9.0),
        ("Tỷ lệ hoàn thành bình quân (%)", 14.0),
        ("Hoàn thành xuất sắc", 11.0),
        ("Hoàn thành tốt", 11.0),
        ("Hoàn thành", 11.0),
        ("Không hoàn thành", 11.0),
    ];
    let sheet = workbook.add_worksheet();
    sheet.set_name("Tổng hợp theo đơn vị")?;
    print_friendly(sheet)?;
    for (col, (title, width)) in SUMMARY.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, header)?;
        sheet.set_column_width(col as u16, *width)?;
    }
    sheet.set_row_height(0, 32)?;
    sheet.set_freeze_panes(1, 0)?;
    // Rows are grouped by unit already.
    let mut units: Vec<(&str, Vec<&Row>)> = Vec::new();
    for row in rows {
        match units.last_mut() {
            Some((name, list)) if *name == row.summary.unit_name => list.push(row),
            _ => units.push((&row.summary.unit_name, vec![row])),
        }
    }
    for (i, (name, list)) in units.iter().enumerate() {
        let r = i as u32 + 1;
        let status = |t: &&Row| TaskStatus::parse(&t.summary.status);
        let rated = |rating: Rating| {
            list.iter()
                .filter(|t| t.summary.rating.as_deref() == Some(rating.as_str()))
                .count() as f64
        };
        let mean = figures::mean_completion(
            list.iter()
                .filter_map(|t| status(t).map(|s| (s, t.summary.percent_complete))),
        );
        sheet.write_number_with_format(r, 0, (i + 1) as f64, integer)?;
        sheet.write_string_with_format(r, 1, *name, text)?;
        sheet.write_number_with_format(r, 2, list.len() as f64, integer)?;
        let evaluated = list
            .iter()
            .filter(|t| status(t) == Some(TaskStatus::Evaluated))
            .count();
        sheet.write_number_with_format(r, 3, evaluated as f64, integer)?;
        let overdue = list.iter().filter(|t| t.summary.overdue).count();
        sheet.write_number_with_format(r, 4, overdue as f64, integer)?;
        match mean {
            Some(mean) => {
                sheet.write_number_with_format(r, 5, (mean * 10.0).round() / 10.0, number)?
            }
            None => sheet.write_blank(r, 5, text)?,
        };
        for (col, rating) in [
            Rating::Excellent,
            Rating::Good,
            Rating::Completed,
            Rating::NotCompleted,
        ]
        .into_iter()
        .enumerate()
        {
            sheet.write_number_with_format(r, 6 + col as u16, rated(rating), integer)?;
        }
    }
    Ok(())
}

/// A number without a needless `.0`.
pub(crate) fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// A word's Vietnamese label from the domain's vocabulary (the page shows
/// the same); a word the vocabulary does not know stays as it is.
pub(crate) fn label<T: Term>(word: &str) -> &str {
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
        let date = Date::parse("2021-06-30");
        assert_eq!(Cell::Date(date).as_csv(), "30/06/2021");
        assert_eq!(Cell::Number(Some(33.3)).as_csv(), "33.3");
        assert_eq!(Cell::Number(Some(100.0)).as_csv(), "100");
        assert_eq!(Cell::Number(None).as_csv(), "");
        assert_eq!(Cell::text("=1+1").as_csv(), "'=1+1");
        assert_eq!(number(92.5), "92.5");
        assert_eq!(label::<Rating>("good"), "Hoàn thành tốt nhiệm vụ");
        assert_eq!(label::<TaskKind>("breakthrough"), "Nhiệm vụ đột phá");
        assert_eq!(label::<TaskStatus>("archived"), "archived");
    }
}
