//! Settings: every one has three spellings, a flag (`--data`), an
//! environment variable (`DOTPHA_DATA`) and a key in the configuration file
//! (`data = "..."`), and they win in that order over the built-in default.
//!
//! The file is TOML and read strictly, like a submission: a misspelled key
//! is an error naming the line, never a setting silently left at its
//! default. One file serves every part (`ingest`, `project`, `serve`, `up`);
//! each reads the keys it uses.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use serde::Deserialize;

/// The configuration file named by `--config` or `DOTPHA_CONFIG`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileSettings {
    /// The data directory.
    data: Option<PathBuf>,
    /// NATS server URL(s), comma-separated.
    nats: Option<String>,
    /// The HTTP listen address.
    http: Option<String>,
    /// The projection worker's name (and the read model `serve` reads).
    name: Option<String>,
    /// Replicas of the JetStream streams (3 on a 3-node cluster).
    replicas: Option<u8>,
    /// Tokens that may act through HTTP.
    tokens: Option<PathBuf>,
    /// Tokens, with reads closed to token holders.
    access: Option<PathBuf>,
    /// The log filter (`info`, `dotpha_ingest=debug,info`, ...).
    log: Option<String>,
    /// The origin line of the log's checkpoints: the deployment's name.
    origin: Option<String>,
    /// Verifier keys of the witnesses whose cosignatures the log keeps.
    witnesses: Option<Vec<String>>,
    /// The daily e-mail digest of reminders (`dotpha notify`).
    notify: Option<dotpha_notify::Settings>,
}

/// The keys the file may hold, for error messages.
const KEYS: [&str; 11] = [
    "data",
    "nats",
    "http",
    "name",
    "replicas",
    "tokens",
    "access",
    "log",
    "origin",
    "witnesses",
    "notify",
];

/// Environment variables dotpha reads besides the settings' own.
const OTHER_VARIABLES: [&str; 3] = ["DOTPHA_CONFIG", "DOTPHA_FAULT", "DOTPHA_BLESS"];

/// Built-in defaults.
pub(crate) const DEFAULT_DATA: &str = "./data";
pub(crate) const DEFAULT_NATS: &str = "nats://127.0.0.1:4222";
pub(crate) const DEFAULT_HTTP: &str = "127.0.0.1:8080";
pub(crate) const DEFAULT_NAME: &str = "main";

impl FileSettings {
    /// Reads the file, or nothing when no file is named.
    pub(crate) fn load(path: Option<&Path>) -> Result<FileSettings> {
        let Some(path) = path else {
            return Ok(FileSettings::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("cannot read the configuration file {}: {e}", path.display()))?;
        let mut settings = parse(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        // Paths in the file are relative to the file, so a file in
        // /etc/dotpha can say `tokens = "tokens.json"`.
        let base = path.parent().unwrap_or(Path::new("."));
        for slot in [
            &mut settings.data,
            &mut settings.tokens,
            &mut settings.access,
        ] {
            if let Some(relative) = slot.as_ref().filter(|p| p.is_relative()) {
                *slot = Some(base.join(relative));
            }
        }
        Ok(settings)
    }

    /// The `[notify]` table, which `dotpha notify` cannot run without.
    pub(crate) fn notify(&self) -> Result<dotpha_notify::Settings> {
        self.notify.clone().ok_or_else(|| {
            anyhow!(
                "dotpha notify needs a [notify] table in the configuration file (--config): smtp, from and the addresses per unit; see deploy/dotpha.toml"
            )
        })
    }

    pub(crate) fn data(&self, given: Option<PathBuf>) -> PathBuf {
        given
            .or_else(|| self.data.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA))
    }

    pub(crate) fn nats(&self, given: Option<String>) -> String {
        given
            .or_else(|| self.nats.clone())
            .unwrap_or_else(|| DEFAULT_NATS.to_owned())
    }

    pub(crate) fn http(&self, given: Option<String>) -> String {
        given
            .or_else(|| self.http.clone())
            .unwrap_or_else(|| DEFAULT_HTTP.to_owned())
    }

    pub(crate) fn name(&self, given: Option<String>) -> String {
        given
            .or_else(|| self.name.clone())
            .unwrap_or_else(|| DEFAULT_NAME.to_owned())
    }

    /// How many servers keep each stream: 1 to 5 (JetStream's limit), 1
    /// by default.
    pub(crate) fn replicas(&self, given: Option<u8>) -> Result<usize> {
        let replicas = usize::from(given.or(self.replicas).unwrap_or(1));
        if !(1..=dotpha_bus::MAX_REPLICAS).contains(&replicas) {
            return Err(anyhow!(
                "replicas = {replicas}: JetStream keeps 1 to {} copies of a stream (3 on a 3-node cluster)",
                dotpha_bus::MAX_REPLICAS
            ));
        }
        Ok(replicas)
    }

    /// `tokens` and `access` name the same kind of file; at most one may be
    /// set, wherever it comes from.
    pub(crate) fn token_files(
        &self,
        tokens: Option<PathBuf>,
        access: Option<PathBuf>,
    ) -> Result<(Option<PathBuf>, Option<PathBuf>)> {
        let (tokens, access) = if tokens.is_some() || access.is_some() {
            (tokens, access)
        } else {
            (self.tokens.clone(), self.access.clone())
        };
        if tokens.is_some() && access.is_some() {
            return Err(anyhow!(
                "set either tokens (acting needs a token, reads are open) or access (every /api route needs a token), not both"
            ));
        }
        Ok((tokens, access))
    }

    /// The log's origin and the witnesses it keeps cosignatures of: flags
    /// (`--origin`, `--witness` repeated) or `DOTPHA_ORIGIN` and
    /// `DOTPHA_WITNESSES` (comma-separated), then the file's `origin` and
    /// `witnesses` (a list).
    pub(crate) fn transparency(
        &self,
        origin: Option<String>,
        witnesses: Vec<String>,
    ) -> dotpha_ingest::Transparency {
        dotpha_ingest::Transparency {
            origin: origin.or_else(|| self.origin.clone()),
            witnesses: if witnesses.is_empty() {
                self.witnesses.clone().unwrap_or_default()
            } else {
                witnesses
            },
        }
    }

    /// The settings of a service over `--data` and `--nats` (flags or
    /// variables, when given), everything else from the file or its
    /// default; a subcommand then sets what its own flags say.
    pub(crate) fn settings(&self, given: crate::ServiceArgs) -> Result<dotpha_app::Settings> {
        Ok(dotpha_app::Settings {
            data: dotpha_app::DataDir::new(self.data(given.data.data)),
            nats: self.nats(given.nats.nats),
            name: self.name(None),
            replicas: self.replicas(None)?,
            transparency: self.transparency(None, Vec::new()),
            access: self.access(None, None)?,
        })
    }

    /// Who may act through HTTP: `--tokens` or `--access` (or the file's
    /// `tokens` or `access`), at most one of them.
    pub(crate) fn access(
        &self,
        tokens: Option<PathBuf>,
        access: Option<PathBuf>,
    ) -> Result<dotpha_app::Access> {
        Ok(match self.token_files(tokens, access)? {
            (Some(tokens), _) => dotpha_app::Access::Tokens(tokens),
            (_, Some(access)) => dotpha_app::Access::Closed(access),
            (None, None) => dotpha_app::Access::Open,
        })
    }

    /// The log filter: `DOTPHA_LOG`, then the file's `log`, then `RUST_LOG`.
    pub(crate) fn log(&self, default: &str) -> String {
        std::env::var("DOTPHA_LOG")
            .ok()
            .or_else(|| self.log.clone())
            .or_else(|| std::env::var("RUST_LOG").ok())
            .unwrap_or_else(|| default.to_owned())
    }
}

/// Parses the file's text; errors are one line naming the line number.
fn parse(text: &str) -> Result<FileSettings, String> {
    toml::from_str(text).map_err(|error| {
        let line = error
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        let message = error.message().trim().replace('\n', " ");
        let mut out = match line {
            Some(line) => format!("line {line}: {message}"),
            None => message.clone(),
        };
        if let Some(unknown) = unknown_key(&message) {
            out = format!(
                "{}: unknown setting `{unknown}`{}; the settings are {}",
                out.split(':').next().unwrap_or("?"),
                closest_key(unknown)
                    .map(|k| format!(" (did you mean `{k}`?)"))
                    .unwrap_or_default(),
                KEYS.join(", ")
            );
        }
        out
    })
}

/// The key serde names in "unknown field `x`, expected ...".
fn unknown_key(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

/// The known key nearest to a misspelling, when it is near enough.
fn closest_key(unknown: &str) -> Option<&'static str> {
    KEYS.into_iter()
        .map(|key| (edit_distance(key, unknown), key))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, key)| key)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Warns about `DOTPHA_*` variables dotpha does not read: a misspelled
/// override would otherwise be ignored without a word.
pub(crate) fn warn_unknown_variables() {
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let Some(key) = name.strip_prefix("DOTPHA_") else {
            continue;
        };
        let known =
            KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) || OTHER_VARIABLES.contains(&name);
        if !known {
            let hint = closest_key(&key.to_ascii_lowercase())
                .map(|k| format!(" (did you mean DOTPHA_{}?)", k.to_ascii_uppercase()))
                .unwrap_or_default();
            eprintln!("dotpha: warning: {name} is not a dotpha setting and is ignored{hint}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_sets_every_setting() {
        let settings = parse(
            "data = \"/var/lib/dotpha\"\nnats = \"nats://10.0.0.5:4222\"\nhttp = \"0.0.0.0:80\"\n\
             name = \"web\"\ntokens = \"/etc/dotpha/tokens.json\"\nlog = \"debug\"\n",
        )
        .expect("valid");
        assert_eq!(settings.data(None), PathBuf::from("/var/lib/dotpha"));
        assert_eq!(settings.nats(None), "nats://10.0.0.5:4222");
        assert_eq!(settings.http(None), "0.0.0.0:80");
        assert_eq!(settings.name(None), "web");
        assert_eq!(
            settings.token_files(None, None).expect("one of them").0,
            Some(PathBuf::from("/etc/dotpha/tokens.json"))
        );
    }

    #[test]
    fn a_flag_or_variable_wins_over_the_file_and_the_file_over_the_default() {
        let settings = parse("http = \"0.0.0.0:80\"\n").expect("valid");
        assert_eq!(settings.http(Some("127.0.0.1:9".into())), "127.0.0.1:9");
        assert_eq!(settings.http(None), "0.0.0.0:80");
        assert_eq!(settings.nats(None), DEFAULT_NATS);
        assert_eq!(settings.data(None), PathBuf::from(DEFAULT_DATA));
    }

    #[test]
    fn a_misspelled_key_names_its_line_and_the_key_meant() {
        let error = parse("data = \"/d\"\n\nhtp = \"0.0.0.0:80\"\n").expect_err("an error");
        assert!(
            error.starts_with("line 3: unknown setting `htp`"),
            "{error}"
        );
        assert!(error.contains("did you mean `http`?"), "{error}");
        assert!(!error.contains('\n'), "one line: {error}");
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_an_error_naming_its_line() {
        let error = parse("http = 8080\n").expect_err("an error");
        assert!(error.starts_with("line 1:"), "{error}");
        assert!(!error.contains('\n'), "one line: {error}");
        let error = parse("data = \n").expect_err("an error");
        assert!(error.starts_with("line 1:"), "{error}");
    }

    #[test]
    fn origin_and_witnesses_come_from_the_flags_or_the_file() {
        let settings =
            parse("origin = \"son-duong.example/dotpha\"\nwitnesses = [\"w1+0a0b0c0d+AAAA\"]\n")
                .expect("valid");
        let from_file = settings.transparency(None, Vec::new());
        assert_eq!(
            from_file.origin.as_deref(),
            Some("son-duong.example/dotpha")
        );
        assert_eq!(from_file.witnesses, vec!["w1+0a0b0c0d+AAAA".to_owned()]);
        let from_flags = settings.transparency(Some("x/y".into()), vec!["w2".into()]);
        assert_eq!(from_flags.origin.as_deref(), Some("x/y"));
        assert_eq!(from_flags.witnesses, vec!["w2".to_owned()]);
    }

    #[test]
    fn replicas_outside_what_jetstream_keeps_are_refused() {
        let settings = parse("replicas = 3\n").expect("valid");
        assert_eq!(settings.replicas(None).expect("in range"), 3);
        assert_eq!(settings.replicas(Some(1)).expect("in range"), 1);
        assert!(settings.replicas(Some(0)).is_err());
        assert!(settings.replicas(Some(7)).is_err());
    }

    #[test]
    fn tokens_and_access_together_are_refused() {
        let settings = parse("tokens = \"a.json\"\naccess = \"b.json\"\n").expect("valid TOML");
        assert!(settings.token_files(None, None).is_err());
        // A flag replaces both file keys.
        assert_eq!(
            settings
                .token_files(None, Some(PathBuf::from("c.json")))
                .expect("one")
                .1,
            Some(PathBuf::from("c.json"))
        );
    }

    #[test]
    fn paths_in_the_file_are_relative_to_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("dotpha.toml");
        std::fs::write(&path, "data = \"state\"\ntokens = \"/abs/tokens.json\"\n").expect("write");
        let settings = FileSettings::load(Some(&path)).expect("loads");
        assert_eq!(settings.data(None), dir.path().join("state"));
        assert_eq!(
            settings.token_files(None, None).expect("one").0,
            Some(PathBuf::from("/abs/tokens.json"))
        );
    }

    #[test]
    fn a_missing_file_is_one_line_naming_it() {
        let error = FileSettings::load(Some(Path::new("/nonexistent/dotpha.toml")))
            .expect_err("an error")
            .to_string();
        assert!(error.contains("/nonexistent/dotpha.toml"), "{error}");
        assert!(!error.contains('\n'), "{error}");
    }
}
