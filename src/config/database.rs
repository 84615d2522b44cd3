//! `database`: an SQLite file or a PostgreSQL URL (with its TLS settings read, and its password
//! never shown).

use super::*;

/// Where the store lives: an SQLite file (the default), or a PostgreSQL database that several
/// workers share. `$FIGWATCH_DATABASE`, when set, replaces the configured one (so that a
/// password need not sit in the configuration file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL (its password, if any, is never shown).
    Postgres(String),
}

/// A connection string without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// libpq's `sslmode` values, which figwatch honours (see `store::postgres::tls`).
pub(super) const SSL_MODES: &[&str] = &[
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// A PostgreSQL URL read as far as it can be without connecting: `sslmode` and `sslrootcert`
/// (which figwatch reads itself, see `store::postgres::tls`), and the rest as the driver
/// reads it.
pub struct PostgresUrl {
    /// The connection settings, without `sslmode` and `sslrootcert`.
    pub config: tokio_postgres::Config,
    /// libpq's `sslmode`, when given.
    pub sslmode: Option<String>,
    /// The file of the certificates a server's chain must lead to, or `system`.
    pub sslrootcert: Option<String>,
}

/// Reads a `postgres://` URL; the error says what is wrong with it (never its password).
pub fn postgres_url(text: &str) -> Result<PostgresUrl, String> {
    let mut url = url::Url::parse(text).map_err(|e| e.to_string())?;
    let (mut sslmode, mut sslrootcert, mut rest) = (None, None, Vec::new());
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "sslmode" if !SSL_MODES.contains(&value.as_ref()) => {
                return Err(format!(
                    "sslmode={value} is not one of {}",
                    SSL_MODES.join(", ")
                ))
            }
            "sslmode" => sslmode = Some(value.into_owned()),
            "sslrootcert" => sslrootcert = Some(value.into_owned()),
            _ => rest.push((key.into_owned(), value.into_owned())),
        }
    }
    url.set_query(None);
    if !rest.is_empty() {
        url.query_pairs_mut().extend_pairs(rest);
    }
    let config = url.as_str().parse().map_err(|e| format!("{e}"))?;
    Ok(PostgresUrl {
        config,
        sslmode,
        sslrootcert,
    })
}

impl Database {
    /// Reads `database`: a path, or a `postgres://` URL.
    pub fn parse(text: &str) -> Result<Database, String> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            postgres_url(text)
                .map_err(|e| format!("{} is not a PostgreSQL connection URL: {e}", redact(text)))?;
            Ok(Database::Postgres(text.to_string()))
        } else if text.contains("://") {
            Err(format!(
                "{text:?}: only SQLite file paths and postgres:// URLs are supported"
            ))
        } else {
            Ok(Database::Sqlite(PathBuf::from(text)))
        }
    }

    /// The SQLite file, if that is the backend.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(p) => Some(p),
            Database::Postgres(_) => None,
        }
    }
}

impl fmt::Display for Database {
    /// The file, or the URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(p) => write!(f, "{}", p.display()),
            Database::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}
