//! A period's evaluation sheet, for a personnel office (CONTRACT part A):
//! `GET /api/v1/periods/{period}/export.xlsx` and `.../export.csv`.
//!
//! One row per cadre with a product or an assessment in the period (within
//! the token's unit subtree when reads need a token), in the layout the
//! office files: STT, họ và tên, chức vụ, đơn vị, nhóm, tự chấm, điểm tiêu
//! chí chung, điểm kết quả nhiệm vụ, tổng điểm, xếp loại, ghi chú. The note
//! says why the rating's ceiling is below the band the total earns, a
//! disqualification, a group over the excellent quota, an undecided cadre
//! and the committee's remarks. Every figure is the read model's (the
//! writer's, from the `assessment.decided` event); nothing is computed
//! here. The XLSX adds a sheet per evaluating body's groups with the quota
//! line ("2 xuất sắc / 7 tốt, giới hạn 1") and a sheet of every product
//! with its due and done dates as date cells. The CSV is the first sheet,
//! UTF-8 with a byte order mark, formulas defused, as the cycle's export.

use axum::{Router, response::Response, routing::get};
use dotpha_domain::{
    Date,
    vocabulary::{CeilingReason, Disqualification, ProductStatus, Rating},
};
use dotpha_views::{
    evaluation::{AssessmentFilter, AssessmentLine, PeriodView, QuotaGroup},
    query::Tree,
};
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, XlsxError};

use crate::{
    AppState,
    error::ApiError,
    export::{Cell, ColumnOf, Output, csv_table, download, label, print_friendly},
    routes::{Reading, Segment, within},
};

/// A column of the sheet: header, width (characters), the cell of a row.
type Column = ColumnOf<Row>;

/// The columns, in the order a personnel office files the sheet.
const COLUMNS: [Column; 11] = [
    ("STT", 5.0, |r| Cell::Number(Some(r.number as f64))),
    ("Họ và tên", 26.0, |r| Cell::text(&r.line.full_name)),
    ("Chức vụ", 24.0, |r| Cell::text(&r.line.position)),
    ("Đơn vị", 22.0, |r| Cell::text(&r.line.unit_name)),
    ("Nhóm", 16.0, |r| {
        Cell::text(r.line.peer_group.clone().unwrap_or_default())
    }),
    ("Tự chấm (tiêu chí chung)", 11.0, |r| {
        points(r.line.self_points)
    }),
    ("Điểm tiêu chí chung", 11.0, |r| {
        points(r.line.general_points)
    }),
    ("Điểm kết quả nhiệm vụ", 11.0, |r| {
        points(r.line.task_points)
    }),
    ("Tổng điểm", 9.0, |r| points(r.line.total)),
    ("Xếp loại", 26.0, |r| {
        Cell::text(
            r.line
                .rating
                .map(|x| label::<Rating>(x.as_str()))
                .unwrap_or_default(),
        )
    }),
    ("Ghi chú", 48.0, |r| Cell::text(note(&r.line))),
];

/// Columns holding points (two decimals in the spreadsheet).
const POINT_COLUMNS: std::ops::RangeInclusive<usize> = 5..=8;

/// One cadre's row.
struct Row {
    /// STT, from 1.
    number: usize,
    line: AssessmentLine,
}

fn points(p: Option<dotpha_domain::evaluation::Points>) -> Cell {
    Cell::Number(p.map(|p| p.as_f64()))
}

/// The note: why the ceiling is below the band, a disqualification, a
/// group over the quota, not yet decided, the committee's remarks.
fn note(line: &AssessmentLine) -> String {
    let mut parts = Vec::new();
    if line.rating.is_none() {
        parts.push("Chưa có quyết định đánh giá".to_owned());
    }
    if let Some(d) = &line.disqualified {
        parts.push(label::<Disqualification>(d).to_owned());
    }
    if let (Some(ceiling), Some(reason)) = (line.ceiling, &line.ceiling_reason) {
        parts.push(format!(
            "Mức cao nhất được xếp: {} ({})",
            label::<Rating>(ceiling.as_str()),
            label::<CeilingReason>(reason).to_lowercase()
        ));
    }
    if line.quota_exceeded && line.rating == Some(Rating::Excellent) {
        parts.push("Nhóm vượt tỷ lệ hoàn thành xuất sắc (20% số hoàn thành tốt)".to_owned());
    }
    if let Some(c) = line.comment.as_deref().filter(|c| !c.is_empty()) {
        parts.push(c.to_owned());
    }
    parts.join("; ")
}

/// The quota line: "2 xuất sắc / 7 tốt, giới hạn 1".
fn quota_line(g: &QuotaGroup) -> String {
    format!(
        "{} xuất sắc / {} tốt, giới hạn {}",
        g.excellent, g.good, g.limit
    )
}

/// The routes (merged into [`crate::router`]).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/periods/{period}/export.xlsx", get(xlsx))
        .route("/api/v1/periods/{period}/export.csv", get(csv))
}

async fn xlsx(segment: Segment, read: Reading) -> Result<Response, ApiError> {
    export(segment, read, Output::Xlsx).await
}

async fn csv(segment: Segment, read: Reading) -> Result<Response, ApiError> {
    export(segment, read, Output::Csv).await
}

async fn export(
    Segment(period): Segment,
    read: Reading,
    format: Output,
) -> Result<Response, ApiError> {
    if dotpha_domain::Slug::parse(&period).is_none() {
        return Err(ApiError::bad_request(format!(
            "{period:?} is not a period id (lowercase letters, digits, '-')"
        )));
    }
    let (state, grant, now) = (read.state, read.grant, read.now);
    let wanted = period.clone();
    let (position, view, rows, groups) = state
        .read(move |rm| {
            let position = rm.refresh()?.position;
            let no_period = || ApiError::not_found(format!("no evaluation period {wanted:?}"));
            let view = rm.period(&wanted)?.ok_or_else(no_period)?;
            let filter = AssessmentFilter {
                unit: grant.as_ref().map(|g| g.unit.clone()),
                tree: Tree::Today,
                ..AssessmentFilter::default()
            };
            let lines = rm
                .assessments(&wanted, &filter, now)?
                .ok_or_else(no_period)?;
            let mut groups = Vec::new();
            for g in rm.quota(&wanted)?.ok_or_else(no_period)? {
                if within(rm, grant.as_ref(), &g.evaluating_unit, now)? {
                    groups.push(g);
                }
            }
            let rows = lines
                .into_iter()
                .enumerate()
                .map(|(i, line)| Row {
                    number: i + 1,
                    line,
                })
                .collect::<Vec<_>>();
            Ok((position, view, rows, groups))
        })
        .await?;
    let body = match format {
        Output::Csv => csv_table(&COLUMNS, &rows).into_bytes(),
        Output::Xlsx => to_xlsx(&view, &rows, &groups).map_err(ApiError::internal)?,
    };
    Ok(download(
        body,
        format,
        &format!("danh-gia-ky-{period}"),
        position,
    ))
}

/// The formats of the workbook.
struct Formats {
    header: Format,
    text: Format,
    integer: Format,
    points: Format,
    factor: Format,
    date: Format,
    bold: Format,
}

impl Formats {
    fn new() -> Formats {
        let text = Format::new()
            .set_text_wrap()
            .set_align(FormatAlign::Top)
            .set_border(FormatBorder::Thin);
        Formats {
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color("#DDEBF7")
                .set_border(FormatBorder::Thin),
            integer: text.clone().set_num_format("0"),
            points: text.clone().set_num_format("0.00"),
            factor: text.clone().set_num_format("0.00"),
            date: text.clone().set_num_format("dd/mm/yyyy"),
            bold: Format::new().set_bold(),
            text,
        }
    }
}

fn excel_date(date: Date) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(date.year() as u16, date.month(), date.day())
}

/// Writes a header row at `row` with the columns' titles and widths.
fn header_row(
    sheet: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    columns: &[(&str, f64)],
    f: &Formats,
) -> Result<(), XlsxError> {
    for (col, (title, width)) in columns.iter().enumerate() {
        sheet.write_string_with_format(row, col as u16, *title, &f.header)?;
        sheet.set_column_width(col as u16, *width)?;
    }
    sheet.set_row_height(row, 32)?;
    Ok(())
}

fn to_xlsx(view: &PeriodView, rows: &[Row], groups: &[QuotaGroup]) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    // Excel allows 31 characters in a sheet name; period ids may be longer.
    let name: String = format!("Đánh giá {}", view.period)
        .chars()
        .take(31)
        .collect();
    sheet.set_name(name)?;
    print_friendly(sheet)?;
    let columns: Vec<(&str, f64)> = COLUMNS.iter().map(|(t, w, _)| (*t, *w)).collect();
    header_row(sheet, 0, &columns, &f)?;
    sheet.set_freeze_panes(1, 0)?;
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        for (col, (_, _, cell)) in COLUMNS.iter().enumerate() {
            let c = col as u16;
            match cell(row) {
                Cell::Text(value) => sheet.write_string_with_format(r, c, value, &f.text)?,
                Cell::Number(Some(value)) if POINT_COLUMNS.contains(&col) => {
                    sheet.write_number_with_format(r, c, value, &f.points)?
                }
                Cell::Number(Some(value)) => {
                    sheet.write_number_with_format(r, c, value, &f.integer)?
                }
                Cell::Date(Some(value)) => {
                    sheet.write_datetime_with_format(r, c, excel_date(value)?, &f.date)?
                }
                Cell::Number(None) | Cell::Date(None) => sheet.write_blank(r, c, &f.text)?,
            };
        }
    }
    if !rows.is_empty() {
        sheet.autofilter(0, 0, rows.len() as u32, COLUMNS.len() as u16 - 1)?;
    }
    quota_sheet(&mut workbook, view, rows, groups, &f)?;
    products_sheet(&mut workbook, rows, &f)?;
    workbook.save_to_buffer()
}

/// The summary: the period, then one line per evaluating body and peer
/// group with its ratings, the quota's limit and line, and whether it is
/// exceeded (the read model's figures, from the domain's quota rule).
fn quota_sheet(
    workbook: &mut Workbook,
    view: &PeriodView,
    rows: &[Row],
    groups: &[QuotaGroup],
    f: &Formats,
) -> Result<(), XlsxError> {
    const TITLES: [(&str, f64); 10] = [
        ("STT", 5.0),
        ("Cơ quan đánh giá", 28.0),
        ("Nhóm", 16.0),
        ("Hoàn thành xuất sắc", 11.0),
        ("Hoàn thành tốt", 11.0),
        ("Hoàn thành", 11.0),
        ("Không hoàn thành", 11.0),
        ("Giới hạn xuất sắc", 10.0),
        ("Tỷ lệ xuất sắc", 30.0),
        ("Vượt giới hạn", 10.0),
    ];
    let sheet = workbook.add_worksheet();
    sheet.set_name("Tổng hợp theo cơ quan")?;
    print_friendly(sheet)?;
    sheet.write_string_with_format(0, 0, "Kỳ đánh giá", &f.bold)?;
    sheet.write_string(0, 1, &view.period)?;
    sheet.write_string_with_format(1, 0, "Từ ngày", &f.bold)?;
    sheet.write_string_with_format(2, 0, "Đến ngày", &f.bold)?;
    for (r, day) in [(1, &view.starts_on), (2, &view.ends_on)] {
        if let Some(d) = Date::parse(day) {
            sheet.write_datetime_with_format(r, 1, excel_date(d)?, &f.date)?;
        }
    }
    sheet.write_string_with_format(3, 0, "Trạng thái", &f.bold)?;
    sheet.write_string(
        3,
        1,
        if view.closed {
            "Đã khóa"
        } else {
            "Đang mở"
        },
    )?;
    const TOP: u32 = 5;
    header_row(sheet, TOP, &TITLES, f)?;
    sheet.set_repeat_rows(TOP, TOP)?;
    for (i, g) in groups.iter().enumerate() {
        let r = TOP + 1 + i as u32;
        let rated = |rating: Rating| {
            rows.iter()
                .filter(|row| {
                    row.line.evaluating_unit.as_deref() == Some(g.evaluating_unit.as_str())
                        && row.line.peer_group.as_deref() == Some(g.peer_group.as_str())
                        && row.line.rating == Some(rating)
                })
                .count() as f64
        };
        sheet.write_number_with_format(r, 0, (i + 1) as f64, &f.integer)?;
        sheet.write_string_with_format(r, 1, &g.evaluating_unit_name, &f.text)?;
        sheet.write_string_with_format(r, 2, &g.peer_group, &f.text)?;
        sheet.write_number_with_format(r, 3, g.excellent as f64, &f.integer)?;
        sheet.write_number_with_format(r, 4, g.good as f64, &f.integer)?;
        sheet.write_number_with_format(r, 5, rated(Rating::Completed), &f.integer)?;
        sheet.write_number_with_format(r, 6, rated(Rating::NotCompleted), &f.integer)?;
        sheet.write_number_with_format(r, 7, g.limit as f64, &f.integer)?;
        sheet.write_string_with_format(r, 8, quota_line(g), &f.text)?;
        sheet.write_string_with_format(r, 9, if g.exceeded { "Vượt" } else { "" }, &f.text)?;
    }
    Ok(())
}

/// Every product of every row: its task, milestone, due and done dates
/// (date cells), factors and status, so the office sees why the task points
/// are what they are.
fn products_sheet(workbook: &mut Workbook, rows: &[Row], f: &Formats) -> Result<(), XlsxError> {
    const TITLES: [(&str, f64); 11] = [
        ("STT", 5.0),
        ("Họ và tên", 26.0),
        ("Nhiệm vụ", 40.0),
        ("Mốc (sản phẩm)", 28.0),
        ("Hạn", 12.0),
        ("Ngày hoàn thành", 12.0),
        ("Số lượng (q)", 9.0),
        ("Chất lượng (l)", 9.0),
        ("Tiến độ (p)", 9.0),
        ("Tình trạng", 16.0),
        ("Mã nhiệm vụ", 18.0),
    ];
    let sheet = workbook.add_worksheet();
    sheet.set_name("Sản phẩm")?;
    print_friendly(sheet)?;
    header_row(sheet, 0, &TITLES, f)?;
    sheet.set_freeze_panes(1, 0)?;
    let mut r = 0u32;
    for row in rows {
        for p in &row.line.products {
            r += 1;
            let product = &p.product;
            sheet.write_number_with_format(r, 0, f64::from(r), &f.integer)?;
            sheet.write_string_with_format(r, 1, &row.line.full_name, &f.text)?;
            sheet.write_string_with_format(r, 2, &p.title, &f.text)?;
            let milestone = product.milestone.as_ref().map(|m| m.as_str()).unwrap_or("");
            sheet.write_string_with_format(r, 3, milestone, &f.text)?;
            sheet.write_datetime_with_format(r, 4, excel_date(product.due)?, &f.date)?;
            match product.done_on {
                Some(d) => sheet.write_datetime_with_format(r, 5, excel_date(d)?, &f.date)?,
                None => sheet.write_blank(r, 5, &f.text)?,
            };
            for (col, factor) in [(6, product.q), (7, product.l), (8, product.p)] {
                sheet.write_number_with_format(r, col, factor.as_f64(), &f.factor)?;
            }
            sheet.write_string_with_format(
                r,
                9,
                label::<ProductStatus>(p.status.as_str()),
                &f.text,
            )?;
            sheet.write_string_with_format(r, 10, product.task_id.as_str(), &f.text)?;
        }
    }
    if r > 0 {
        sheet.autofilter(0, 0, r, TITLES.len() as u16 - 1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quota_line_reads_as_an_office_writes_it() {
        let g = QuotaGroup {
            evaluating_unit: "son-duong".into(),
            evaluating_unit_name: "Huyện Sơn Dương".into(),
            peer_group: "chu-tich-xa".into(),
            excellent: 2,
            good: 7,
            limit: 1,
            exceeded: true,
        };
        assert_eq!(quota_line(&g), "2 xuất sắc / 7 tốt, giới hạn 1");
    }
}
