//! The admission step: every write-time limit, checked once, at decide time,
//! on exactly what the log will store.
//!
//! Reading a value (a submission's or the log's) only checks its grammar
//! and normalizes it (NFC), rules that never change. Limits that are about
//! *admitting* something new live here alone, and run on the stored form:
//!
//! - every string of an event's `data`, as the log will store it (NFC), is
//!   at most [`MAX_TEXT_BYTES`], else `invalid_value` at its path
//!   (`data.plan.milestones[2].title`);
//! - an event's `data` in canonical form (RFC 8785, what the log stores and
//!   the relay publishes) is at most [`MAX_EVENT_DATA_BYTES`], else
//!   `invalid_value` at `data`;
//! - an instant with a 60th second names a leap second that happened
//!   ([`LEAP_SECOND_DATES`]), else `invalid_value` at its field.
//!
//! The walk is over the serialized typed payload, so every payload type,
//! including ones added later, is covered without code of its own.
//!
//! The log's readers (the writer's fold, projection, rebuild, audit,
//! export, history, verify) never run this step: what the log holds, every
//! reader accepts (CONTRACT.md part C).

use serde_json::Value;

use crate::{
    rejection::{Rejection, RejectionCode},
    submission::{Event, Submission},
    time::Timestamp,
    values::MAX_TEXT_BYTES,
};

/// Largest `data` of one event, in bytes of its canonical JSON (RFC 8785),
/// the form the log stores, hashes and the relay publishes.
///
/// A committed event must always fit one NATS message when relayed to
/// `DOTPHA_EVENTS`: nats-server's default `max_payload` is 1 MiB
/// (1,048,576 bytes; `dotpha nats-config` keeps the default). Half of it
/// leaves the event object's other members (under 1 KiB: slugs of at most
/// 64 bytes, two hashes, two instants) and the message headers far inside
/// the limit. A submission is at most
/// [`MAX_SUBMISSION_BYTES`](crate::submission::MAX_SUBMISSION_BYTES)
/// (256 KiB) as sent, but NFC can triple a text's bytes (U+1D160, 4 bytes,
/// is stored as U+1D158 U+1D165 U+1D16E, 12), so the stored form needs its
/// own limit.
pub const MAX_EVENT_DATA_BYTES: usize = 512 * 1024;

/// The UTC dates at whose end (23:59:60 UTC) a positive leap second was
/// inserted, from the IERS table of leap seconds (IERS Bulletin C, the
/// `leap-seconds.list` file published by the IERS and NIST). No negative leap
/// second has ever been inserted. Bulletin C 70 (July 2025) announced none for
/// the end of December 2025; add a date here when a bulletin announces one.
pub const LEAP_SECOND_DATES: [&str; 27] = [
    "1972-06-30",
    "1972-12-31",
    "1973-12-31",
    "1974-12-31",
    "1975-12-31",
    "1976-12-31",
    "1977-12-31",
    "1978-12-31",
    "1979-12-31",
    "1981-06-30",
    "1982-06-30",
    "1983-06-30",
    "1985-06-30",
    "1987-12-31",
    "1989-12-31",
    "1990-12-31",
    "1992-06-30",
    "1993-06-30",
    "1994-06-30",
    "1995-12-31",
    "1997-06-30",
    "1998-12-31",
    "2005-12-31",
    "2008-12-31",
    "2012-06-30",
    "2015-06-30",
    "2016-12-31",
];

/// Checks what `decide` is about to accept: `submission`'s envelope and the
/// `events` it makes, as they will be stored.
///
/// # Errors
/// `invalid_value`, naming the field, for the first limit broken.
pub fn admit(submission: &Submission, events: &[Event]) -> Result<(), Rejection> {
    admit_instant(&submission.occurred_at, "occurred_at")?;
    for event in events {
        admit_data(&event.payload.to_data())?;
    }
    Ok(())
}

/// Checks one instant a submission carries: a `:60` second must be a leap
/// second that happened, at 23:59:60 UTC of a [`LEAP_SECOND_DATES`] date once
/// the offset is applied.
///
/// # Errors
/// `invalid_value` at `field`.
pub fn admit_instant(instant: &Timestamp, field: &str) -> Result<(), Rejection> {
    /// The last minute of a UTC day.
    const LAST_MINUTE: i64 = 23 * 60 + 59;
    match instant.second_60_at_utc() {
        Some((date, minute))
            if minute != LAST_MINUTE || !LEAP_SECOND_DATES.contains(&date.to_string().as_str()) =>
        {
            Err(Rejection::at(
                RejectionCode::InvalidValue,
                field,
                format!(
                    "{instant} names second 60, but no leap second was inserted at that instant (leap seconds fall at 23:59:60 UTC on the dates of the IERS table)"
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// Checks an event's `data` as it will be stored: every string and the
/// canonical size of the whole.
///
/// # Errors
/// `invalid_value` at the string's path, or at `data` when the whole is too
/// large.
pub fn admit_data(data: &Value) -> Result<(), Rejection> {
    let mut path = String::from("data");
    check_strings(data, &mut path)?;
    let size = crate::canonical::to_string(data)
        .map(|text| text.len())
        .map_err(|e| {
            Rejection::at(
                RejectionCode::InvalidValue,
                "data",
                format!("data cannot be written in canonical form: {e}"),
            )
        })?;
    if size > MAX_EVENT_DATA_BYTES {
        return Err(Rejection::at(
            RejectionCode::InvalidValue,
            "data",
            format!(
                "data would be stored as {size} bytes; the limit is {MAX_EVENT_DATA_BYTES} bytes"
            ),
        ));
    }
    Ok(())
}

fn check_strings(value: &Value, path: &mut String) -> Result<(), Rejection> {
    let at = path.len();
    match value {
        Value::String(text) if text.len() > MAX_TEXT_BYTES => {
            return Err(Rejection::at(
                RejectionCode::InvalidValue,
                path.as_str(),
                format!(
                    "text is {} bytes as stored (Unicode NFC); the limit is {MAX_TEXT_BYTES}",
                    text.len()
                ),
            ));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push_str(&format!("[{i}]"));
                check_strings(item, path)?;
                path.truncate(at);
            }
        }
        Value::Object(members) => {
            for (name, member) in members {
                path.push('.');
                path.push_str(name);
                check_strings(member, path)?;
                path.truncate(at);
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_long_string_is_named_by_its_path() {
        let long = "a".repeat(MAX_TEXT_BYTES + 1);
        let data = json!({"task_id": "t", "milestones": [
            {"title": "ok", "due": "2021-06-30"},
            {"title": "ok", "due": "2021-06-30"},
            {"title": long, "due": "2021-06-30"}]});
        let e = admit_data(&data).expect_err("too long");
        assert_eq!(e.code, RejectionCode::InvalidValue);
        assert_eq!(e.field.as_deref(), Some("data.milestones[2].title"));
        assert!(admit_data(&json!({"t": "a".repeat(MAX_TEXT_BYTES)})).is_ok());
    }

    #[test]
    fn the_whole_data_is_limited_in_canonical_form() {
        let items: Vec<Value> = (0..40).map(|_| json!("x".repeat(MAX_TEXT_BYTES))).collect();
        let e = admit_data(&json!({ "solutions": items })).expect_err("too big");
        assert_eq!(e.field.as_deref(), Some("data"));
    }

    #[test]
    fn second_60_exists_only_at_a_leap_second() {
        let at = |text: &str| admit_instant(&Timestamp::parse(text).expect("grammar"), "t");
        assert!(at("2016-12-31T23:59:60Z").is_ok());
        assert!(
            at("2017-01-01T06:59:60+07:00").is_ok(),
            "the same, in Vietnam"
        );
        assert!(at("2015-06-30T23:59:60.5Z").is_ok());
        assert!(at("2021-03-02T08:30:60+07:00").is_err());
        assert!(at("2016-12-31T23:59:60+07:00").is_err(), "16:59:60 UTC");
        assert!(at("2016-12-30T23:59:60Z").is_err());
        assert!(at("2021-03-02T08:30:59+07:00").is_ok());
    }
}
