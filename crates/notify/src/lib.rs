//! `dotpha notify`: a daily e-mail digest of reminders per unit.
//!
//! The projection worker publishes reminders (`dotpha.alert.v1`) to
//! `DOTPHA_ALERTS` once per task, kind and day. Once a day, at
//! [`Settings::digest_at`] in Vietnam, this reads the day's reminders back
//! from the stream, groups them by the unit they concern, and sends each
//! unit that has an address in the configuration one message over SMTP
//! (`lettre`), in Vietnamese. A marker file per day and unit
//! (`DIR/notify/<day>/<unit>.sent`) is written only after the SMTP server
//! accepted the message, so a restart neither loses nor repeats a digest.
//!
//! The configuration file's `[notify]` table:
//!
//! ```toml
//! [notify]
//! smtp = "smtp://127.0.0.1:25"      # smtps://user:pass@host or smtp://host?tls=required
//! from = "dotpha <dotpha@son-duong.example.vn>"
//! digest_at = "07:00"                # Vietnam time; the default
//! [notify.addresses]
//! hop-thanh = ["vanphong@hop-thanh.example.vn"]
//! ```

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use async_nats::jetstream::{self, consumer::DeliverPolicy};
use dotpha_bus::subjects::{ALERTS_STREAM, ALERTS_SUBJECTS};
use dotpha_domain::{
    Date, Timestamp,
    vocabulary::{AlertKind, Lang},
    wire::Alert,
};
use futures::StreamExt;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};
use serde::Deserialize;
use tokio::sync::watch;

/// When the digest goes out by default, Vietnam time: before offices open
/// (07:30), so the day's list is in the inbox when work starts.
pub const DEFAULT_DIGEST_AT: &str = "07:00";
/// How often the service checks whether a digest is due.
const TICK: Duration = Duration::from_secs(30);
/// How long reading the day's reminders back may wait for the server.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Reminders read back in one pull.
const READ_BATCH: usize = 1000;

/// The `[notify]` table of the configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The SMTP server, as a URL: `smtp://host:port` (plain, or
    /// `?tls=required` for STARTTLS), `smtps://host` (TLS), with
    /// `user:password@` when it needs a login.
    pub smtp: String,
    /// The sender, e.g. `dotpha <dotpha@son-duong.example.vn>`.
    pub from: String,
    /// `HH:MM`, Vietnam time [default: [`DEFAULT_DIGEST_AT`]].
    #[serde(default)]
    pub digest_at: Option<String>,
    /// Addresses per unit code.
    #[serde(default)]
    pub addresses: BTreeMap<String, Vec<String>>,
}

/// What the service needs.
#[derive(Clone, Debug)]
pub struct Config {
    /// NATS server URL(s).
    pub nats_url: String,
    /// Where the sent markers are kept (`DIR/notify`).
    pub data_dir: PathBuf,
    /// The `[notify]` settings.
    pub settings: Settings,
    /// What time it is: when the digest is due, and which day it is.
    pub clock: dotpha_host::SharedClock,
}

/// What stops a digest.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// A setting cannot be used.
    #[error("notify: {0}")]
    Settings(String),
    /// An address in the settings is not an e-mail address.
    #[error("notify: {what} {address:?} is not an e-mail address: {source}")]
    Address {
        /// Which setting.
        what: String,
        /// The text.
        address: String,
        /// Why.
        #[source]
        source: lettre::address::AddressError,
    },
    /// The SMTP server refused or could not be reached.
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    /// A message could not be built.
    #[error("building the message: {0}")]
    Message(#[from] lettre::error::Error),
    /// NATS.
    #[error(transparent)]
    Bus(#[from] dotpha_bus::BusError),
    /// The marker files.
    #[error("{path}: {source}")]
    Files {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// One unit's reminders of one day.
#[derive(Clone, Debug, PartialEq)]
pub struct Digest {
    /// The unit.
    pub unit: String,
    /// Its name.
    pub unit_name: String,
    /// The day (Vietnam).
    pub day: Date,
    /// Its reminders: overdue first, then due soon, milestones, no report;
    /// within a kind, by due date.
    pub alerts: Vec<Alert>,
}

fn kind_order(kind: AlertKind) -> usize {
    match kind {
        AlertKind::Overdue => 0,
        AlertKind::DueSoon => 1,
        AlertKind::MilestoneDue => 2,
        AlertKind::NoReport => 3,
    }
}

/// Groups `alerts` of `day` by unit (alerts of other days are left out).
pub fn digests(alerts: Vec<Alert>, day: Date) -> Vec<Digest> {
    let mut by_unit: BTreeMap<String, Digest> = BTreeMap::new();
    for alert in alerts.into_iter().filter(|a| a.day == day) {
        let digest = by_unit.entry(alert.unit.clone()).or_insert_with(|| Digest {
            unit: alert.unit.clone(),
            unit_name: alert.unit_name.clone(),
            day,
            alerts: Vec::new(),
        });
        if !digest.alerts.iter().any(|a| a.alert_id == alert.alert_id) {
            digest.alerts.push(alert);
        }
    }
    let mut out: Vec<Digest> = by_unit.into_values().collect();
    for d in &mut out {
        d.alerts.sort_by(|a, b| {
            (kind_order(a.kind), a.due, &a.task_id).cmp(&(kind_order(b.kind), b.due, &b.task_id))
        });
    }
    out
}

impl Digest {
    /// The message's subject.
    pub fn subject(&self) -> String {
        format!(
            "[dotpha] {}: {} việc cần chú ý ngày {}",
            self.unit_name,
            self.alerts.len(),
            self.day.vietnamese()
        )
    }

    /// The message's text.
    pub fn body(&self) -> String {
        let mut out = format!(
            "Kính gửi {},\n\nNgày {}, dotpha ghi nhận {} việc cần chú ý:\n",
            self.unit_name,
            self.day.vietnamese(),
            self.alerts.len()
        );
        let mut current: Option<AlertKind> = None;
        let mut n = 0;
        for alert in &self.alerts {
            if current != Some(alert.kind) {
                current = Some(alert.kind);
                let count = self.alerts.iter().filter(|a| a.kind == alert.kind).count();
                out.push_str(&format!("\n{} ({count})\n", alert.kind.label(Lang::Vi)));
                n = 0;
            }
            n += 1;
            out.push_str(&format!("{n:>3}. {}\n", alert.text));
        }
        out.push_str(
            "\nThư này do dotpha gửi tự động mỗi sáng có việc cần chú ý; \
             xem chi tiết trên trang theo dõi nhiệm vụ.\n",
        );
        out
    }
}

/// Reads back every reminder of `day` from `DOTPHA_ALERTS`.
pub async fn alerts_of_day(js: &jetstream::Context, day: Date) -> Result<Vec<Alert>, NotifyError> {
    // A day's reminders are published on that day in Vietnam (UTC+7).
    let start_ms = day.end_in_vietnam_millis() - 86_400_000;
    let start_time = time::OffsetDateTime::from_unix_timestamp(start_ms / 1000)
        .map_err(|e| NotifyError::Settings(format!("day {day}: {e}")))?;
    let name = format!("dotpha-notify-{}", nuid::next());
    let consumer = dotpha_bus::follower(
        js,
        ALERTS_STREAM,
        ALERTS_SUBJECTS,
        &name,
        DeliverPolicy::ByStartTime { start_time },
    )
    .await?;
    let outcome = async {
        let mut consumer = consumer;
        let mut pending = consumer
            .info()
            .await
            .map_err(|e| dotpha_bus::BusError::nats(ALERTS_STREAM, e))?
            .num_pending;
        let mut alerts = Vec::new();
        while pending > 0 {
            let mut batch = consumer
                .fetch()
                .max_messages(READ_BATCH.min(pending as usize))
                .expires(READ_TIMEOUT)
                .messages()
                .await
                .map_err(|e| dotpha_bus::BusError::nats(ALERTS_STREAM, e))?;
            let mut got = 0u64;
            while let Some(message) = batch.next().await {
                let message =
                    message.map_err(|e| dotpha_bus::BusError::nats(ALERTS_STREAM, e))?;
                got += 1;
                match serde_json::from_slice::<Alert>(&message.payload) {
                    Ok(alert) if alert.day == day => alerts.push(alert),
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, subject = %message.subject, "a message on DOTPHA_ALERTS is not a reminder; skipped")
                    }
                }
                let _ = message.ack().await;
            }
            if got == 0 {
                break;
            }
            pending = pending.saturating_sub(got);
        }
        Ok::<_, NotifyError>(alerts)
    }
    .await;
    if let Ok(stream) = js.get_stream(ALERTS_STREAM).await {
        let _ = stream.delete_consumer(&name).await;
    }
    outcome
}

/// Sends digests over SMTP to the addresses of their unit.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    addresses: BTreeMap<String, Vec<Mailbox>>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from)
            .field("units", &self.addresses.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Mailer {
    /// Checks every address and the SMTP URL.
    pub fn new(settings: &Settings) -> Result<Mailer, NotifyError> {
        let parse = |what: &str, address: &str| {
            address
                .parse::<Mailbox>()
                .map_err(|source| NotifyError::Address {
                    what: what.to_owned(),
                    address: address.to_owned(),
                    source,
                })
        };
        let from = parse("from", &settings.from)?;
        let mut addresses = BTreeMap::new();
        for (unit, list) in &settings.addresses {
            if dotpha_domain::Slug::parse(unit).is_none() {
                return Err(NotifyError::Settings(format!(
                    "addresses: {unit:?} is not a unit code"
                )));
            }
            let boxes = list
                .iter()
                .map(|a| parse(&format!("addresses.{unit}"), a))
                .collect::<Result<Vec<_>, _>>()?;
            addresses.insert(unit.clone(), boxes);
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.smtp)?.build();
        Ok(Mailer {
            transport,
            from,
            addresses,
        })
    }

    /// The units that have addresses.
    pub fn units(&self) -> impl Iterator<Item = &str> {
        self.addresses.keys().map(String::as_str)
    }

    /// Sends `digest` to its unit's addresses; `false` when the unit has
    /// none.
    pub async fn send(&self, digest: &Digest) -> Result<bool, NotifyError> {
        let Some(to) = self.addresses.get(&digest.unit).filter(|l| !l.is_empty()) else {
            return Ok(false);
        };
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(digest.subject());
        for mailbox in to {
            builder = builder.to(mailbox.clone());
        }
        let message = builder
            .header(ContentType::TEXT_PLAIN)
            .body(digest.body())?;
        self.transport.send(message).await?;
        Ok(true)
    }
}

/// What [`send_day`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    /// Units whose digest went out now.
    pub sent: Vec<String>,
    /// Units whose digest of that day had already gone out.
    pub already: Vec<String>,
    /// Units with addresses but nothing to report that day.
    pub nothing: Vec<String>,
}

fn marker(data_dir: &Path, day: Date, unit: &str) -> PathBuf {
    data_dir
        .join("notify")
        .join(day.to_string())
        .join(format!("{unit}.sent"))
}

/// Sends the digests of `day` to every unit with addresses that has
/// reminders that day and has not had its digest (unless `again`).
pub async fn send_day(
    js: &jetstream::Context,
    mailer: &Mailer,
    data_dir: &Path,
    day: Date,
    again: bool,
) -> Result<Sent, NotifyError> {
    let alerts = alerts_of_day(js, day).await?;
    let mut by_unit: BTreeMap<String, Digest> = digests(alerts, day)
        .into_iter()
        .map(|d| (d.unit.clone(), d))
        .collect();
    let mut outcome = Sent::default();
    for unit in mailer.units() {
        let path = marker(data_dir, day, unit);
        if !again && path.exists() {
            outcome.already.push(unit.to_owned());
            continue;
        }
        let Some(digest) = by_unit.remove(unit) else {
            outcome.nothing.push(unit.to_owned());
            continue;
        };
        mailer.send(&digest).await?;
        let files = |source| NotifyError::Files {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(files)?;
        }
        std::fs::write(&path, format!("{}\n", digest.subject())).map_err(files)?;
        tracing::info!(unit, reminders = digest.alerts.len(), %day, "digest sent");
        outcome.sent.push(unit.to_owned());
    }
    Ok(outcome)
}

/// Minutes after midnight of `HH:MM`.
fn minutes_of(text: &str) -> Option<i64> {
    let (h, m) = text.split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m) && text.len() == 5).then_some(h * 60 + m)
}

/// Checks the settings without sending anything.
pub fn check(settings: &Settings) -> Result<Mailer, NotifyError> {
    let at = settings.digest_at.as_deref().unwrap_or(DEFAULT_DIGEST_AT);
    if minutes_of(at).is_none() {
        return Err(NotifyError::Settings(format!(
            "digest_at = {at:?}: write the hour as HH:MM (e.g. \"07:00\")"
        )));
    }
    Mailer::new(settings)
}

/// Runs until `shutdown`: every day, once it is [`Settings::digest_at`] in
/// Vietnam, sends that day's digests ([`send_day`]); a failure is logged
/// and tried again at the next tick.
pub async fn run(config: Config, mut shutdown: watch::Receiver<bool>) -> Result<(), NotifyError> {
    let mailer = check(&config.settings)?;
    let at = minutes_of(
        config
            .settings
            .digest_at
            .as_deref()
            .unwrap_or(DEFAULT_DIGEST_AT),
    )
    .unwrap_or(7 * 60);
    let mut waiting = shutdown.clone();
    dotpha_bus::wait_for_nats(&config.nats_url, &mut waiting).await?;
    let connection = dotpha_bus::connect(&config.nats_url, "dotpha-notify", true).await?;
    let js = jetstream::new(connection.client.clone());
    let mut done: Option<Date> = None;
    loop {
        let now = Timestamp::from_unix_millis(config.clock.unix_millis());
        let today = now.date_in_vietnam();
        let vietnam_ms = now.unix_millis() + 7 * 3_600_000;
        let minute = vietnam_ms.rem_euclid(86_400_000) / 60_000;
        if minute >= at && done != Some(today) {
            match send_day(&js, &mailer, &config.data_dir, today, false).await {
                Ok(sent) => {
                    tracing::info!(?sent, %today, "the day's digests are out");
                    done = Some(today);
                }
                Err(error) => {
                    tracing::warn!(%error, "sending the day's digests failed; trying again")
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.wait_for(|s| *s) => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(task: &str, kind: AlertKind, unit: &str, due: &str) -> Alert {
        let day = Date::parse("2026-11-30").expect("date");
        Alert {
            schema: dotpha_domain::wire::ALERT_SCHEMA.to_owned(),
            alert_id: format!("{day}.{task}.{}", kind.as_str()),
            day,
            kind,
            unit: unit.to_owned(),
            unit_name: format!("Xã {unit}"),
            task_id: task.to_owned(),
            title: format!("Nhiệm vụ {task}"),
            assignee: "c1".to_owned(),
            assignee_name: "Nguyễn Văn A".to_owned(),
            milestone: None,
            due: Date::parse(due).expect("date"),
            days_left: 0,
            last_report_on: None,
            position: 1,
            text: format!("«{task}» {}", kind.as_str()),
        }
    }

    #[test]
    fn a_digest_groups_a_units_reminders_overdue_first() {
        let day = Date::parse("2026-11-30").expect("date");
        let mut other_day = alert("t9", AlertKind::Overdue, "a", "2026-01-01");
        other_day.day = Date::parse("2026-11-29").expect("date");
        let list = vec![
            alert("t1", AlertKind::DueSoon, "a", "2026-12-03"),
            alert("t2", AlertKind::Overdue, "a", "2026-11-01"),
            alert("t3", AlertKind::Overdue, "b", "2026-10-01"),
            alert("t2", AlertKind::Overdue, "a", "2026-11-01"),
            other_day,
        ];
        let d = digests(list, day);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].unit, "a");
        let ids: Vec<&str> = d[0].alerts.iter().map(|a| a.task_id.as_str()).collect();
        assert_eq!(
            ids,
            ["t2", "t1"],
            "overdue first, a repeat once, other days out"
        );
        let body = d[0].body();
        assert!(body.contains("Quá hạn (1)"), "{body}");
        assert!(body.contains("Sắp đến hạn (1)"), "{body}");
        assert_eq!(
            d[0].subject(),
            "[dotpha] Xã a: 2 việc cần chú ý ngày 30/11/2026"
        );
    }

    #[test]
    fn settings_are_checked_before_anything_is_sent() {
        let settings = |at: &str, to: &str| Settings {
            smtp: "smtp://127.0.0.1:2525".to_owned(),
            from: "dotpha <dotpha@example.vn>".to_owned(),
            digest_at: Some(at.to_owned()),
            addresses: [("hop-thanh".to_owned(), vec![to.to_owned()])].into(),
        };
        assert!(check(&settings("07:00", "vp@hop-thanh.example.vn")).is_ok());
        assert!(matches!(
            check(&settings("7h", "vp@hop-thanh.example.vn")),
            Err(NotifyError::Settings(_))
        ));
        assert!(matches!(
            check(&settings("07:00", "not an address")),
            Err(NotifyError::Address { .. })
        ));
    }
}
