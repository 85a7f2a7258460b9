//! `dotpha nats-config`: the NATS users and permissions, generated from the
//! unit roster in the log, so adding a commune is not hand-editing.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{Context, Result};
use dotpha_bus::nats_config::{LeafConfig, NatsConfig, SERVICE_USER};
use dotpha_domain::payload::UnitKind;
use dotpha_store::Log;
use serde::{Deserialize, Serialize};

/// The kinds of units that run no publisher of their own (their commune's
/// publisher acts for them), so they get no NATS user.
const WITHOUT_PUBLISHER: [UnitKind; 3] = [
    UnitKind::Village,
    UnitKind::ResidentialGroup,
    UnitKind::PartyCell,
];

#[derive(Default, Serialize, Deserialize)]
struct Passwords {
    service: String,
    units: BTreeMap<String, String>,
}

/// A new password: an independent random secret (`dotpha_host::secret`).
fn password() -> Result<String> {
    Ok(dotpha_host::secret::secret()?)
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

pub(crate) fn run(
    data: &Path,
    listen: &str,
    store: Option<PathBuf>,
    out: Option<PathBuf>,
    leafnodes: Option<String>,
) -> Result<ExitCode> {
    let (passwords, units) = roster_passwords(data)?;
    let config = NatsConfig {
        listen: listen.to_owned(),
        store_dir: store
            .unwrap_or_else(|| data.join("nats"))
            .display()
            .to_string(),
        service_password: passwords.service.clone(),
        units: units
            .iter()
            .map(|u| (u.clone(), passwords.units[u].clone()))
            .collect(),
        leafnodes: leafnodes.clone(),
    };
    let out = out.unwrap_or_else(|| data.join("nats-server.conf"));
    write_private(&out, &config.render())?;
    println!(
        "wrote {} ({} publishing units); passwords in {}",
        out.display(),
        units.len(),
        data.join("nats-users.json").display()
    );
    println!("services connect as nats://{SERVICE_USER}:<password>@{listen}");
    println!("a unit's publisher connects as nats://<unit>:<password>@{listen}");
    if let Some(leafnodes) = leafnodes {
        println!("communes' leaf nodes connect to {leafnodes} as their unit's user");
    }
    Ok(ExitCode::SUCCESS)
}

/// `dotpha nats-config --leaf UNIT --hub HOST:PORT`: the commune's leaf-node
/// configuration, from the committed template and the unit's password.
pub(crate) fn leaf(
    data: &Path,
    unit: &str,
    hub: &str,
    listen: &str,
    store: Option<PathBuf>,
    out: Option<PathBuf>,
) -> Result<ExitCode> {
    let (passwords, units) = roster_passwords(data)?;
    if !units.iter().any(|u| u == unit) {
        anyhow::bail!("{unit} is not an open publishing unit of the log's roster");
    }
    let config = LeafConfig {
        unit: unit.to_owned(),
        listen: listen.to_owned(),
        store_dir: store
            .unwrap_or_else(|| data.join("nats"))
            .display()
            .to_string(),
        password: passwords.units[unit].clone(),
        hub: hub.to_owned(),
    };
    let out = out.unwrap_or_else(|| data.join(format!("leaf-{unit}.conf")));
    write_private(&out, &config.render()?)?;
    println!(
        "wrote {}: the leaf node of {unit}, linked to {hub}",
        out.display()
    );
    println!("the commune's publisher connects as nats://{unit}:<password>@{listen}");
    println!("on the hub, run `dotpha leaf-sources` with every leaf commune, {unit} among them");
    Ok(ExitCode::SUCCESS)
}

/// `dotpha leaf-sources`: the hub's submissions stream sources exactly these
/// communes' outboxes; each outbox is created through its leaf's domain.
pub(crate) fn leaf_sources(nats: &str, units: &[String], replicas: usize) -> Result<ExitCode> {
    crate::services::runtime()?.block_on(async move {
        let unreached = dotpha_bus::leaf::ensure_leaf_communes(nats, units, replicas).await?;
        for (unit, why) in &unreached {
            eprintln!("{unit}: its outbox was not reached (is its leaf node linked?): {why}");
        }
        println!(
            "{} sources the outboxes of {} leaf communes; {} reached",
            dotpha_bus::subjects::SUBMISSIONS_STREAM,
            units.len(),
            units.len() - unreached.len()
        );
        Ok(if unreached.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}

/// The open publishing units of the log's roster and their passwords (kept
/// in DIR/nats-users.json; new ones are made and saved).
fn roster_passwords(data: &Path) -> Result<(Passwords, Vec<String>)> {
    let log = Log::open_read_only(data.join("log.sqlite"))?;
    let state = log.load_state_forgetful()?;
    let passwords_path = data.join("nats-users.json");
    let mut passwords: Passwords = match std::fs::read_to_string(&passwords_path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not a passwords file", passwords_path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Passwords::default(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", passwords_path.display())),
    };
    // Passwords made before 2026-11-30 came from NUID, a sequential id
    // generator: one of them gives away the others. Anything that is not
    // a secret of today's form is made anew, and the operator told.
    let weak = |p: &str| {
        p.len() != 2 * dotpha_host::secret::SECRET_BYTES
            || !p.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let mut replaced = 0usize;
    if weak(&passwords.service) {
        replaced += usize::from(!passwords.service.is_empty());
        passwords.service = password()?;
    }
    for value in passwords.units.values_mut() {
        if weak(value) {
            *value = password()?;
            replaced += 1;
        }
    }
    if replaced > 0 {
        eprintln!(
            "dotpha: replaced {replaced} password(s) in {} made by an earlier version, which could be guessed from one another; give each commune its new password and restart nats-server with the new configuration",
            passwords_path.display()
        );
    }
    let mut units: Vec<&str> = state
        .units()
        .filter(|u| !u.is_closed() && !WITHOUT_PUBLISHER.contains(&u.kind))
        .map(|u| u.code.as_str())
        .collect();
    units.sort_unstable();
    for unit in &units {
        if !passwords.units.contains_key(*unit) {
            passwords.units.insert((*unit).to_owned(), password()?);
        }
    }
    write_private(&passwords_path, &serde_json::to_string_pretty(&passwords)?)?;
    Ok((passwords, units.into_iter().map(str::to_owned).collect()))
}
