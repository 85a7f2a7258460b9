//! Communes on leaf nodes: a commune runs its own small nats-server, a leaf
//! node of the district hub, with JetStream in its own domain (named after
//! the unit). Its publisher talks only to that server; a local stream,
//! [`OUTBOX_STREAM`], holds its submissions, so the local PubAck means "the
//! commune's broker holds it" even while the link to the hub is down. The
//! hub's `DOTPHA_SUBMISSIONS` *sources* each commune's outbox through
//! `$JS.<unit>.API` (nats-server 2.9 stream sources across domains): the
//! hub pulls what the commune holds whenever the link is up, keeping each
//! message's subject and `Nats-Msg-Id`. Receipts and `receipt.get` cross
//! the link as plain core NATS. The subject is the leaf's word; which link
//! a message came over is the hub's ([`STREAM_SOURCE`], [`check_source`]).

use std::time::Duration;

use sha2::{Digest, Sha256};

use async_nats::jetstream::{
    self,
    stream::{Config, External, RetentionPolicy, Source, StorageType},
};

use crate::{
    BusError,
    connect::connect_with_inbox,
    setup::{DUPLICATE_WINDOW, SUBMISSIONS_MAX_AGE},
    subjects::{SUBMISSIONS_STREAM, submit},
};

/// The commune-side stream holding the commune's submissions until the hub
/// has sourced them.
pub const OUTBOX_STREAM: &str = "DOTPHA_OUTBOX";

/// How long a commune's outbox keeps a submission: as long as the hub's
/// stream would (a link down for longer loses it from the outbox; the
/// publisher, still without a receipt, publishes it again).
pub const OUTBOX_MAX_AGE: Duration = SUBMISSIONS_MAX_AGE;

/// The JetStream API prefix of a commune's leaf node, as seen from the hub.
pub fn leaf_api(unit: &str) -> String {
    format!("$JS.{unit}.API")
}

/// Where the hub has a commune's sourced submissions delivered: a prefix
/// under the unit's own name, so its NATS user may publish only there.
pub fn leaf_deliver_prefix(unit: &str) -> String {
    format!("dotpha.v1.leaf.{unit}")
}

/// The header nats-server sets on every message a stream sources, naming
/// the source; on DOTPHA_SUBMISSIONS: `DOTPHA_OUTBOX:bXybpKOu 42`, the
/// source's name, `:` and a hash of its external API prefix, then the
/// message's sequence in the commune's outbox. The hub sets it from its own
/// source configuration (a value the leaf sent is replaced, seen on 2.9.10),
/// so it says which commune's link a message came over, whatever subject
/// that commune's server gave it.
pub const STREAM_SOURCE: &str = "Nats-Stream-Source";

/// How the hub names the source of `unit`'s outbox in [`STREAM_SOURCE`]:
/// `DOTPHA_OUTBOX:<hash of "$JS.<unit>.API">` (nats-server's index name of
/// an external source, the same for every message of that source).
pub fn source_identity(unit: &str) -> String {
    format!("{OUTBOX_STREAM}:{}", nats_hash(&leaf_api(unit)))
}

/// nats-server's `getHash`: the first 8 bytes of the SHA-256 of `text`,
/// each taken modulo 62 as a digit of `0-9A-Za-z`.
fn nats_hash(text: &str) -> String {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let digest = Sha256::digest(text.as_bytes());
    digest
        .iter()
        .take(8)
        .map(|b| char::from(DIGITS[usize::from(b % 62)]))
        .collect()
}

/// A message on `unit`'s submission subject that came over another
/// source than `unit`'s own outbox: its subject is not the unit's word.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "foreign_source: a submission on {claimed}'s subject came from source {came_from:?}, not {claimed}'s outbox ({expected})"
)]
pub struct ForeignSource {
    /// The unit the subject names.
    pub claimed: String,
    /// The source the hub named (every `Nats-Stream-Source` value, `; `-joined).
    pub came_from: String,
    /// The source identity `claimed`'s outbox has.
    pub expected: String,
}

/// Whether a message on `claimed`'s subject may be decided as `claimed`'s,
/// given its `Nats-Stream-Source` values. No value: published directly to
/// the hub, where `claimed`'s NATS permissions pinned the subject; allowed.
/// Otherwise every value must name `claimed`'s outbox (the first token, the
/// source's index name; later tokens are the sequence and, on newer
/// servers, filters). A value naming any other source, or unreadable, is
/// refused.
pub fn check_source(claimed: &str, values: &[&str]) -> Result<(), ForeignSource> {
    if values.is_empty() {
        return Ok(());
    }
    let expected = source_identity(claimed);
    let matches = |value: &&str| value.split_whitespace().next() == Some(expected.as_str());
    if values.iter().all(matches) {
        return Ok(());
    }
    Err(ForeignSource {
        claimed: claimed.to_owned(),
        came_from: values.join("; "),
        expected,
    })
}

/// Which of `units` a `Nats-Stream-Source` value names, if any.
pub fn source_unit<'a>(value: &str, units: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name = value.split_whitespace().next()?;
    units.into_iter().find(|u| source_identity(u) == name)
}

/// The outbox stream of `unit`'s leaf node.
pub fn outbox_config(unit: &str) -> Config {
    Config {
        name: OUTBOX_STREAM.to_owned(),
        subjects: vec![submit(unit)],
        storage: StorageType::File,
        retention: RetentionPolicy::Limits,
        max_age: OUTBOX_MAX_AGE,
        duplicate_window: DUPLICATE_WINDOW,
        description: Some(format!(
            "dotpha: submissions of {unit}, held here until the hub has sourced them"
        )),
        ..Default::default()
    }
}

/// The source on the hub's submissions stream that pulls `unit`'s outbox.
pub fn leaf_source(unit: &str) -> Source {
    Source {
        name: OUTBOX_STREAM.to_owned(),
        filter_subject: Some(submit(unit)),
        external: Some(External {
            api_prefix: leaf_api(unit),
            delivery_prefix: Some(leaf_deliver_prefix(unit)),
        }),
        ..Default::default()
    }
}

/// Creates (or updates) the outbox of `unit` through `js`: a context on the
/// leaf node itself, or on the hub with the unit's domain
/// (`jetstream::with_domain(client, unit)`), and checks what the server kept.
pub async fn ensure_outbox(js: &jetstream::Context, unit: &str) -> Result<(), BusError> {
    let wanted = outbox_config(unit);
    let got = match js.get_stream(OUTBOX_STREAM).await {
        Ok(_) => js
            .update_stream(wanted.clone())
            .await
            .map_err(|e| BusError::nats(format!("updating the outbox of {unit}"), e))?,
        Err(_) => js
            .create_stream(wanted.clone())
            .await
            .map_err(|e| BusError::nats(format!("creating the outbox of {unit}"), e))?
            .info()
            .await
            .map_err(|e| BusError::nats(format!("reading the outbox of {unit}"), e))?
            .clone(),
    };
    if got.config.subjects != wanted.subjects
        || got.config.max_age != wanted.max_age
        || got.config.storage != wanted.storage
    {
        return Err(BusError::config(format!(
            "the outbox of {unit} was not configured as asked: {:?}",
            got.config
        )));
    }
    Ok(())
}

/// Makes the hub's submissions stream source exactly the outboxes of
/// `units` (adding and removing sources; the stream must exist, see
/// [`crate::ensure_streams`]), and checks that the server kept them.
pub async fn ensure_leaf_sources(
    js: &jetstream::Context,
    units: &[String],
) -> Result<(), BusError> {
    let nats = |e: crate::Source| BusError::nats(SUBMISSIONS_STREAM, e);
    let mut stream = js
        .get_stream(SUBMISSIONS_STREAM)
        .await
        .map_err(|e| nats(e.into()))?;
    let mut config = stream
        .info()
        .await
        .map_err(|e| nats(e.into()))?
        .config
        .clone();
    let mut wanted: Vec<Source> = units.iter().map(|u| leaf_source(u)).collect();
    wanted.sort_by_key(source_key);
    wanted.dedup_by(|a, b| source_key(a) == source_key(b));
    let mut current = config.sources.clone().unwrap_or_default();
    current.sort_by_key(source_key);
    if current
        .iter()
        .map(source_key)
        .eq(wanted.iter().map(source_key))
    {
        return Ok(());
    }
    config.sources = if wanted.is_empty() {
        None
    } else {
        Some(wanted.clone())
    };
    let got = js.update_stream(config).await.map_err(|e| nats(e.into()))?;
    let mut kept = got.config.sources.unwrap_or_default();
    kept.sort_by_key(source_key);
    if !kept
        .iter()
        .map(source_key)
        .eq(wanted.iter().map(source_key))
    {
        return Err(BusError::config(format!(
            "{SUBMISSIONS_STREAM} did not keep the leaf sources: {kept:?}"
        )));
    }
    Ok(())
}

/// The hub's side of `units` on leaf nodes, through `url` (the hub, as the
/// services' user): the streams exist, each commune's outbox exists
/// (created through its domain, so only a commune whose link is up can be
/// reached; the answers come back under the commune's delivery prefix, the
/// only place its user may publish to besides its own subjects), and
/// `DOTPHA_SUBMISSIONS` sources exactly these outboxes. Returns the
/// communes whose outbox could not be reached, with why. `replicas` is the
/// streams' replica count, as `dotpha ingest` is given it.
pub async fn ensure_leaf_communes(
    url: &str,
    units: &[String],
    replicas: usize,
) -> Result<Vec<(String, BusError)>, BusError> {
    for unit in units {
        if dotpha_domain::Slug::parse(unit).is_none() {
            return Err(BusError::config(format!("{unit:?} is not a unit code")));
        }
    }
    let connection = crate::connect(url, "dotpha-leaf-sources", false).await?;
    let js = jetstream::new(connection.client.clone());
    crate::ensure_streams(&js, replicas).await?;
    let mut unreached = Vec::new();
    for unit in units {
        let inbox = format!("{}.inbox", leaf_deliver_prefix(unit));
        let reached = match connect_with_inbox(url, "dotpha-leaf-sources", false, Some(inbox)).await
        {
            Ok(leaf) => {
                let domain = jetstream::with_domain(leaf.client.clone(), unit);
                let outcome = ensure_outbox(&domain, unit).await;
                let _ = leaf.client.drain().await;
                outcome
            }
            Err(e) => Err(e),
        };
        if let Err(e) = reached {
            unreached.push((unit.clone(), e));
        }
    }
    ensure_leaf_sources(&js, units).await?;
    Ok(unreached)
}

/// What identifies a source: stream, filter, API and delivery prefix.
fn source_key(source: &Source) -> (String, String, String, String) {
    let external = source.external.as_ref();
    (
        source.name.clone(),
        source.filter_subject.clone().unwrap_or_default(),
        external.map(|e| e.api_prefix.clone()).unwrap_or_default(),
        external
            .and_then(|e| e.delivery_prefix.clone())
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commune_is_sourced_through_its_own_domain_and_prefix() {
        let source = leaf_source("hop-thanh");
        assert_eq!(source.name, "DOTPHA_OUTBOX");
        assert_eq!(
            source.filter_subject.as_deref(),
            Some("dotpha.v1.submit.hop-thanh")
        );
        let external = source.external.expect("an external source");
        assert_eq!(external.api_prefix, "$JS.hop-thanh.API");
        assert_eq!(
            external.delivery_prefix.as_deref(),
            Some("dotpha.v1.leaf.hop-thanh")
        );
        assert_eq!(
            outbox_config("hop-thanh").subjects,
            vec!["dotpha.v1.submit.hop-thanh".to_owned()]
        );
    }

    #[test]
    fn a_sources_identity_is_the_one_nats_server_2_9_sets() {
        // Read from a hub's DOTPHA_SUBMISSIONS sourcing xa-0000's outbox
        // through $JS.xa-0000.API (nats-server 2.9.10).
        assert_eq!(source_identity("xa-0000"), "DOTPHA_OUTBOX:bXybpKOu");
        assert_ne!(source_identity("xa-0001"), source_identity("xa-0000"));
    }

    #[test]
    fn given_no_source_header_when_checked_then_the_subject_stands() {
        assert_eq!(check_source("xa-0001", &[]), Ok(()));
    }

    #[test]
    fn given_its_own_outbox_as_source_when_checked_then_it_is_the_units() {
        let value = format!("{} 5", source_identity("xa-0001"));
        assert_eq!(check_source("xa-0001", &[&value]), Ok(()));
        // A newer server's longer value: only the first token names the source.
        let longer = format!(
            "{} 5 dotpha.v1.submit.xa-0001 >",
            source_identity("xa-0001")
        );
        assert_eq!(check_source("xa-0001", &[&longer]), Ok(()));
    }

    #[test]
    fn given_another_communes_outbox_as_source_when_checked_then_it_is_refused() {
        let value = "DOTPHA_OUTBOX:bXybpKOu 5";
        let refused = check_source("xa-0001", &[value]).expect_err("foreign");
        assert_eq!(refused.claimed, "xa-0001");
        assert_eq!(refused.came_from, value);
        assert_eq!(
            source_unit(value, ["xa-0001", "xa-0000"]),
            Some("xa-0000"),
            "the actual commune can be named"
        );
        assert!(refused.to_string().starts_with("foreign_source: "));
    }

    #[test]
    fn given_two_values_when_one_is_foreign_then_it_is_refused() {
        let own = format!("{} 5", source_identity("xa-0001"));
        assert!(check_source("xa-0001", &[&own, "DOTPHA_OUTBOX:bXybpKOu 5"]).is_err());
        assert!(check_source("xa-0001", &["DOTPHA_OUTBOX:bXybpKOu 5", &own]).is_err());
        assert!(check_source("xa-0001", &[""]).is_err(), "an empty value");
    }
}
