//! Reminders as a projection: what the read model says needs attention
//! today (due soon, overdue, no report for a month, a milestone due;
//! [`dotpha_domain::figures::reminders`]) published to `DOTPHA_ALERTS` on
//! `dotpha.v1.alert.<unit>`, once per task, kind (and milestone) and day:
//! the alert's id names its day and is its `Nats-Msg-Id`, and the stream's
//! duplicate window spans a day, so several workers and restarts publish
//! each alert once.

use std::{collections::HashSet, time::Duration};

use async_nats::{HeaderMap, jetstream};
use dotpha_bus::subjects::{self, MSG_ID};
use dotpha_domain::{
    Date, Timestamp,
    vocabulary::AlertKind,
    wire::{ALERT_SCHEMA, Alert},
};
use dotpha_views::reminders::PendingReminder;
use tokio::sync::watch;

use crate::{Config, Health, ProjectError};

/// How often the read model is scanned for reminders. A day's reminders
/// change only as events arrive or as the clock crosses a day or a due
/// date's end; a minute is prompt for a person and cheap for the worker.
pub const SCAN_INTERVAL: Duration = Duration::from_secs(60);
/// The least time between two scans while events keep arriving: a scan
/// reads every open task, so a busy day does not turn it into a loop.
pub const MIN_SCAN_GAP: Duration = Duration::from_secs(5);
/// How often the scanner looks at the worker's progress.
const TICK: Duration = Duration::from_secs(1);

/// The alerts the read model's reminders make at `now_ms`, judged at the
/// read model's `position`.
pub fn alerts(reminders: Vec<PendingReminder>, now_ms: i64, position: u64) -> Vec<Alert> {
    let day = Timestamp::from_unix_millis(now_ms).date_in_vietnam();
    reminders
        .into_iter()
        .map(|r| {
            let mut alert_id = format!("{day}.{}.{}", r.task_id, r.kind.as_str());
            if let Some((n, _)) = &r.milestone {
                alert_id.push_str(&format!(".{n}"));
            }
            Alert {
                schema: ALERT_SCHEMA.to_owned(),
                alert_id,
                day,
                kind: r.kind,
                text: sentence(&r),
                unit: r.unit,
                unit_name: r.unit_name,
                task_id: r.task_id,
                title: r.title,
                assignee: r.assignee,
                assignee_name: r.assignee_name,
                milestone: r.milestone.map(|(_, title)| title),
                due: r.due,
                days_left: r.days_left,
                last_report_on: r.last_report_on,
                position,
            }
        })
        .collect()
}

/// One sentence in Vietnamese saying what needs attention.
fn sentence(r: &PendingReminder) -> String {
    let who = format!("{} ({})", r.assignee_name, r.unit_name);
    let due = r.due.vietnamese();
    match r.kind {
        AlertKind::Overdue => format!(
            "Nhiệm vụ «{}» của {who} đã quá hạn {} ngày (hạn {due}).",
            r.title, -r.days_left
        ),
        AlertKind::DueSoon => format!(
            "Nhiệm vụ «{}» của {who} {} (hạn {due}).",
            r.title,
            days_left(r.days_left)
        ),
        AlertKind::NoReport => format!(
            "Nhiệm vụ «{}» của {who} chưa có báo cáo tiến độ từ {}.",
            r.title,
            r.last_report_on
                .map_or_else(|| "khi được giao".to_owned(), Date::vietnamese)
        ),
        AlertKind::MilestoneDue => format!(
            "Mốc «{}» của nhiệm vụ «{}» ({who}) {} (hạn {due}).",
            r.milestone.as_ref().map_or("", |(_, t)| t.as_str()),
            r.title,
            days_left(r.days_left)
        ),
    }
}

fn days_left(days: i64) -> String {
    match days {
        0 => "đến hạn hôm nay".to_owned(),
        1 => "đến hạn ngày mai".to_owned(),
        n => format!("còn {n} ngày đến hạn"),
    }
}

/// Scans the read model for reminders while the worker is caught up: soon
/// after it applied new events (at most every [`MIN_SCAN_GAP`]) and at
/// least every [`SCAN_INTERVAL`]; publishes each alert not yet published
/// today. Stops with `shutdown`; a NATS failure is logged and tried again
/// at the next scan.
pub(crate) async fn run(
    js: jetstream::Context,
    config: Config,
    health: Health,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut day: Option<Date> = None;
    let mut published: HashSet<String> = HashSet::new();
    // What the last scan saw, and when it ran.
    let mut scanned: Option<(u64, std::time::Instant)> = None;
    loop {
        let report = health.report();
        let caught_up = report.error.is_none()
            && report.head_position > 0
            && report.applied_position >= report.head_position;
        let now_ms = config.clock.unix_millis();
        let today = Timestamp::from_unix_millis(now_ms).date_in_vietnam();
        let due = match scanned {
            None => true,
            Some((position, at)) => {
                day != Some(today)
                    || at.elapsed() >= SCAN_INTERVAL
                    || (position != report.applied_position && at.elapsed() >= MIN_SCAN_GAP)
            }
        };
        if caught_up && due {
            if day != Some(today) {
                published.clear();
                day = Some(today);
            }
            scanned = Some((report.applied_position, std::time::Instant::now()));
            match scan(&config, now_ms).await {
                Ok(found) => publish(&js, found, &mut published).await,
                Err(error) => tracing::warn!(%error, "reading reminders failed; trying again"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

async fn scan(config: &Config, now_ms: i64) -> Result<Vec<Alert>, ProjectError> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || {
        let mut read = crate::open_for_reading(&config.data_dir, &config.name)?;
        read.snapshot(|read| {
            let position = read.refresh()?.position;
            Ok::<_, ProjectError>(alerts(read.reminders(now_ms)?, now_ms, position))
        })
    })
    .await
    .map_err(|e| ProjectError::Task(e.to_string()))?
}

async fn publish(js: &jetstream::Context, found: Vec<Alert>, published: &mut HashSet<String>) {
    let mut sent = 0usize;
    for alert in found {
        if published.contains(&alert.alert_id) {
            continue;
        }
        let Ok(body) = serde_json::to_vec(&alert) else {
            continue;
        };
        let mut headers = HeaderMap::new();
        headers.insert(MSG_ID, alert.alert_id.as_str());
        let acked = match js
            .publish_with_headers(subjects::alert(&alert.unit), headers, body.into())
            .await
        {
            Ok(ack) => ack.await.map(|_| ()).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match acked {
            Ok(()) => {
                published.insert(alert.alert_id);
                sent += 1;
            }
            Err(error) => {
                tracing::warn!(%error, alert = %alert.alert_id, "publishing a reminder failed; trying again at the next scan");
                return;
            }
        }
    }
    if sent > 0 {
        tracing::info!(sent, "reminders published");
    }
}
