//! Where the configuration's relative paths lead, and where secrets are read from.
//!
//! A relative `database` used to be relative to the working directory, so `figwatch status`
//! run from another folder found (and created) another, empty store. Now state files (the
//! database, the alert log, log sinks) resolve against, in order: the `state_dir` key, systemd's
//! `$STATE_DIRECTORY`, the configuration file's folder; secrets and the token file against the
//! configuration file's folder. Never the working directory.
//!
//! A secret may also be a systemd credential (`"credential:NAME"`, from `LoadCredential=`):
//! with `DynamicUser=yes` the service cannot read a root-owned file in `/etc/figwatch`, but
//! systemd hands it a copy in `$CREDENTIALS_DIRECTORY`. A credential is read, and so checked,
//! when it is used: a command that needs no secret never asks for it.

use std::fmt;
use std::path::{Path, PathBuf};

/// The folders relative paths resolve against.
#[derive(Debug, Clone, PartialEq)]
pub struct Places {
    /// The configuration file's folder, absolute.
    pub config_dir: PathBuf,
    /// Where state files live.
    pub state_dir: PathBuf,
    /// Which rule chose `state_dir`, for messages.
    pub state_from: &'static str,
}

impl Places {
    /// The places of a configuration read from `config_path`, with its `state_dir` key, under
    /// this process's `$STATE_DIRECTORY`.
    pub fn new(config_path: &Path, state_dir: Option<&str>) -> Places {
        let systemd = std::env::var("STATE_DIRECTORY").ok();
        Places::under(config_path, state_dir, systemd.as_deref())
    }

    /// Like [`Places::new`], with systemd's `$STATE_DIRECTORY` given (a list separated by
    /// colons; the first is ours).
    fn under(config_path: &Path, state_dir: Option<&str>, systemd: Option<&str>) -> Places {
        // The configuration file's own path is the one thing taken relative to the working
        // directory: that is where it was found.
        let absolute = if config_path.is_absolute() {
            config_path.to_path_buf()
        } else {
            std::env::current_dir()
                .map(|d| d.join(config_path))
                .unwrap_or_else(|_| config_path.to_path_buf())
        };
        let config_dir = absolute
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        let systemd = systemd
            .and_then(|v| v.split(':').next())
            .filter(|v| !v.is_empty());
        let (state_dir, state_from) = match (state_dir.filter(|s| !s.trim().is_empty()), systemd) {
            (Some(key), _) => (config_dir.join(key.trim()), "state_dir"),
            (None, Some(dir)) => (config_dir.join(dir), "$STATE_DIRECTORY"),
            (None, None) => (config_dir.clone(), "the configuration file's folder"),
        };
        Places {
            config_dir,
            state_dir,
            state_from,
        }
    }

    /// A state file's path (`database`, `alert_log`, a log sink's `path`).
    pub fn state(&self, path: &str) -> PathBuf {
        self.state_dir.join(path)
    }

    /// A secret file's or the token file's path.
    pub fn beside_config(&self, path: &str) -> PathBuf {
        self.config_dir.join(path)
    }

    /// "relative to /var/lib/figwatch (state_dir)".
    pub fn describe_state(&self) -> String {
        format!(
            "relative paths of state are in {} ({})",
            self.state_dir.display(),
            self.state_from
        )
    }
}

/// Where a secret (a webhook's signing secret, an SMTP password, the dashboard's token) is
/// read from, at each use.
#[derive(Debug, Clone, PartialEq)]
pub enum SecretFile {
    /// A file (relative paths are taken from the configuration's folder).
    Path(PathBuf),
    /// `credential:NAME`: `$CREDENTIALS_DIRECTORY/NAME`, from systemd's `LoadCredential=`.
    Credential(String),
}

impl SecretFile {
    /// Reads a `*_file` value: a path (relative to the configuration file's folder, checked
    /// now so that a typo shows at start) or `credential:NAME` (checked when used).
    pub fn parse(text: &str, places: &Places) -> Result<SecretFile, String> {
        if let Some(name) = text.trim().strip_prefix("credential:") {
            let ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && name != "."
                && name != "..";
            if !ok {
                return Err(format!(
                    "{text:?}: a credential's name is letters, digits, '-', '_' and '.' (as in LoadCredential=NAME:/etc/figwatch/secret)"
                ));
            }
            return Ok(SecretFile::Credential(name.to_string()));
        }
        let path = places.beside_config(text);
        std::fs::metadata(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(SecretFile::Path(path))
    }

    /// Where it is now: the file, or the credential in `$CREDENTIALS_DIRECTORY`.
    pub fn location(&self) -> Result<PathBuf, String> {
        match self {
            SecretFile::Path(p) => Ok(p.clone()),
            SecretFile::Credential(name) => match std::env::var_os("CREDENTIALS_DIRECTORY") {
                Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir).join(name)),
                _ => Err(format!(
                    "credential:{name}: $CREDENTIALS_DIRECTORY is not set; figwatch reads credentials only when systemd passes them (LoadCredential={name}:/path/to/secret in the unit)"
                )),
            },
        }
    }
}

impl fmt::Display for SecretFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretFile::Path(p) => write!(f, "{}", p.display()),
            SecretFile::Credential(name) => write!(f, "credential:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_never_depend_on_the_working_directory() {
        let config = Path::new("/etc/figwatch/figwatch.toml");
        let places = Places::under(config, None, None);
        assert_eq!(
            places.state("figwatch.db"),
            Path::new("/etc/figwatch/figwatch.db")
        );
        assert_eq!(places.state_from, "the configuration file's folder");
        let systemd = Places::under(config, None, Some("/var/lib/figwatch:/var/lib/other"));
        assert_eq!(
            systemd.state("figwatch.db"),
            Path::new("/var/lib/figwatch/figwatch.db")
        );
        assert_eq!(systemd.state_from, "$STATE_DIRECTORY");
        let keyed = Places::under(config, Some("/srv/figwatch"), Some("/var/lib/figwatch"));
        assert_eq!(
            keyed.state("figwatch.db"),
            Path::new("/srv/figwatch/figwatch.db")
        );
        let keyed = Places::under(config, Some("/var/lib/figwatch"), None);
        assert_eq!(
            keyed.state("figwatch.db"),
            Path::new("/var/lib/figwatch/figwatch.db")
        );
        assert_eq!(
            keyed.state("/srv/x.db"),
            Path::new("/srv/x.db"),
            "absolute stays"
        );
        assert_eq!(
            keyed.beside_config("webhook.secret"),
            Path::new("/etc/figwatch/webhook.secret")
        );
    }

    #[test]
    fn a_credential_is_named_safely_and_read_only_when_used() {
        let places = Places::new(Path::new("/etc/figwatch/figwatch.toml"), None);
        assert!(SecretFile::parse("credential:../../etc/shadow", &places).is_err());
        assert!(SecretFile::parse("credential:", &places).is_err());
        let c = SecretFile::parse("credential:webhook-secret", &places).unwrap();
        assert_eq!(c, SecretFile::Credential("webhook-secret".into()));
        assert_eq!(c.to_string(), "credential:webhook-secret");
    }
}
