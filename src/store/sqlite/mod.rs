//! SQLite, in its own dialect: one file, opened in WAL mode, with its schema in
//! `migrations/` applied by rusqlite_migration.

use std::borrow::Cow;
use std::path::Path;

use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

use super::db::{Cell, Row, Value};
use super::dialect::Dialect;
use super::{Result, StoreError};

/// The schema, in order; each file is applied once and recorded in `PRAGMA user_version`.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/0001_initial.sql"),
    include_str!("../../../migrations/0002_version_flags.sql"),
    include_str!("../../../migrations/0003_ledger.sql"),
    include_str!("../../../migrations/0004_schedule.sql"),
    include_str!("../../../migrations/0005_outbox.sql"),
    include_str!("../../../migrations/0006_leases.sql"),
    include_str!("../../../migrations/0007_workers.sql"),
    include_str!("../../../migrations/0008_article_ages.sql"),
    include_str!("../../../migrations/0009_figure_scope.sql"),
    include_str!("../../../migrations/0010_pages.sql"),
    include_str!("../../../migrations/0011_listing_kinds.sql"),
];

/// What SQLite says its own way.
pub static DIALECT: Dialect = Dialect {
    json_ids: |n| format!("SELECT value FROM json_each(${n})"),
    skip_locked: "",
    for_update: "",
    lock_article: None,
    lock_alerts: None,
    notify: None,
    reserve_host: None,
    urls_containing: "SELECT url FROM articles WHERE instr(url, $1) > 0 ORDER BY id DESC LIMIT $2",
    ledger_value_index: "INDEXED BY ledger_value",
    ledger_newest_index: "INDEXED BY ledger_newest",
    shared: false,
};

/// Opens (creating if needed) the database and brings its schema up to date.
pub(super) fn open(path: &Path) -> Result<Connection> {
    let fail = |reason: String| StoreError::Open {
        path: path.display().to_string(),
        reason,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(fail(format!(
                "the folder {} does not exist; create it or change `database` in the configuration",
                parent.display()
            )));
        }
    }
    let mut conn = Connection::open(path).map_err(|e| fail(e.to_string()))?;
    prepare(&mut conn).map_err(fail)?;
    Ok(conn)
}

/// Opens the database for reading only (the dashboard): no schema change, no write.
///
/// A WAL database needs its `-shm` file, which SQLite cannot create on a read-only file
/// system (a read-only mount of the daemon's state): there, the file is opened as
/// immutable, read as it is, and what is written to it later is seen after a restart.
pub(super) fn open_read_only(path: &Path) -> Result<Connection> {
    let fail = |reason: String| StoreError::Open {
        path: path.display().to_string(),
        reason,
    };
    let flags =
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let open = |target: &str, flags| -> rusqlite::Result<(Connection, i64)> {
        let conn = Connection::open_with_flags(target, flags)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        Ok((conn, version))
    };
    if !path.exists() {
        return Err(fail(
            "no such file; run `figwatch --poll` once to create it".to_string(),
        ));
    }
    let (conn, version) = match open(&path.to_string_lossy(), flags) {
        Ok(opened) => opened,
        Err(e) if read_only_file_system(path) => {
            let uri = url::Url::from_file_path(path)
                .map(|u| format!("{u}?immutable=1"))
                .map_err(|()| fail(format!("not a usable SQLite database: {e}")))?;
            let opened = open(&uri, flags | rusqlite::OpenFlags::SQLITE_OPEN_URI)
                .map_err(|e| fail(format!("not a usable SQLite database: {e}")))?;
            tracing::warn!(
                path = %path.display(),
                "the database is on a read-only file system: read as it is now; what is written to it later is shown after a restart"
            );
            opened
        }
        Err(e) => return Err(fail(format!("not a usable SQLite database: {e}"))),
    };
    if version < MIGRATIONS.len() as i64 {
        return Err(fail(format!(
            "its schema is older than this figwatch (version {version} of {}); run `figwatch --poll` once to bring it up to date",
            MIGRATIONS.len()
        )));
    }
    Ok(conn)
}

/// True when `path` is on a file system mounted read-only.
fn read_only_file_system(path: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: statvfs only writes the struct it is given.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    unsafe { libc::statvfs(c.as_ptr(), &mut stat) == 0 && stat.f_flag & libc::ST_RDONLY != 0 }
}

fn prepare(conn: &mut Connection) -> std::result::Result<(), String> {
    // WAL lets `figwatch alerts` read while the daemon writes; the busy timeout makes a
    // second process wait for a lock instead of failing at once.
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    // Switching a new file to WAL needs an exclusive lock, and SQLite answers "locked"
    // at once (without waiting) while another process is creating the same file: a first
    // start beside another is tried again for a few seconds.
    let mut attempt = 0;
    let mode: String = loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
            Ok(mode) => break mode,
            Err(e)
                if attempt < 20
                    && matches!(
                        e.sqlite_error_code(),
                        Some(
                            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                        )
                    ) =>
            {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => return Err(format!("not a usable SQLite database: {e}")),
        }
    };
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "SQLite did not switch to WAL mode");
    }
    // Every statement of a poll is prepared once and reused; more than the default 16 of
    // them are in use.
    conn.set_prepared_statement_cache_capacity(128);
    // Every transaction here writes. Begun IMMEDIATE, it waits for the write lock (the
    // busy timeout) up front; begun DEFERRED, a read that later wants to write while
    // another process committed fails at once with "database is locked".
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    // Foreign keys are enforced from the first statement after the migrations: a migration
    // that rebuilds a table (SQLite changes a CHECK no other way) drops it while rows still
    // refer to it, and each migration checks every reference before it commits instead.
    conn.execute_batch("PRAGMA foreign_keys = OFF; PRAGMA synchronous = NORMAL;")
        .map_err(|e| e.to_string())?;
    let migrations = Migrations::new(
        MIGRATIONS
            .iter()
            .map(|sql| M::up(sql).foreign_key_check())
            .collect(),
    );
    // Two processes starting on a new database at once both see it unmigrated; the second
    // one's migration then fails on the tables the first just made (and rolls back). It
    // is tried again, and finds the schema up to date.
    let mut attempt = 0;
    loop {
        match migrations.to_latest(conn) {
            Ok(()) => {
                return conn
                    .execute_batch("PRAGMA foreign_keys = ON;")
                    .map_err(|e| e.to_string())
            }
            Err(_) if attempt < 8 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(50 * attempt));
            }
            Err(e) => return Err(format!("cannot apply the schema: {e}")),
        }
    }
}

/// Parameter names as statements write them: SQLite binds `$N` by name, so a statement may
/// use its parameters in any order, and more than once.
fn parameter_name(i: usize) -> Cow<'static, str> {
    const NAMES: [&str; 16] = [
        "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14",
        "$15", "$16",
    ];
    match NAMES.get(i) {
        Some(n) => Cow::Borrowed(n),
        None => Cow::Owned(format!("${}", i + 1)),
    }
}

/// Prepares `sql` (once per connection: the statement cache) and binds `params` to `$1`,
/// `$2`…
fn bound<'c>(
    c: &'c Connection,
    sql: &str,
    params: &[Value],
) -> Result<rusqlite::CachedStatement<'c>> {
    let mut stmt = c.prepare_cached(sql)?;
    let named = stmt.parameter_count();
    if named != params.len() {
        return Err(StoreError::Parameters {
            statement: super::db::first_words(sql),
            reason: format!(
                "it uses {named} parameter(s) and {} were given",
                params.len()
            ),
        });
    }
    for (i, value) in params.iter().enumerate() {
        let name = parameter_name(i);
        let Some(index) = stmt.parameter_index(&name)? else {
            return Err(StoreError::Parameters {
                statement: super::db::first_words(sql),
                reason: format!("it does not use {name}"),
            });
        };
        stmt.raw_bind_parameter(index, value)?;
    }
    Ok(stmt)
}

/// Runs `sql`, handing each row to `each`.
pub(super) fn each_row(
    c: &Connection,
    sql: &str,
    params: &[Value],
    each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
) -> Result<()> {
    let mut stmt = bound(c, sql, params)?;
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        each(&Row::Lite(row))?;
    }
    Ok(())
}

/// Runs a statement that returns no rows; returns how many rows it changed.
pub(super) fn execute(c: &Connection, sql: &str, params: &[Value]) -> Result<usize> {
    Ok(bound(c, sql, params)?.raw_execute()?)
}

/// Column `i` of a row.
pub(super) fn cell<'a>(
    r: &'a rusqlite::Row<'a>,
    i: usize,
) -> std::result::Result<Cell<'a>, String> {
    use rusqlite::types::ValueRef;
    Ok(match r.get_ref(i).map_err(|e| e.to_string())? {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(v) => Cell::Int(v),
        ValueRef::Real(v) => Cell::Real(v),
        ValueRef::Text(t) | ValueRef::Blob(t) => Cell::Text(Cow::Borrowed(
            std::str::from_utf8(t).map_err(|e| format!("not UTF-8: {e}"))?,
        )),
    })
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
        }))
    }
}

/// SQLite's message, with what to do about the failures a user can fix.
pub(super) fn sql_message(e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => format!(
            "{e}: the disk (or the file size allowed to figwatch) is full; nothing was half-written, and what failed is tried again at its next check — free some space or run `figwatch prune`"
        ),
        Some(ErrorCode::SystemIoFailure) => format!(
            "{e}: writing the database failed (a full disk, a file size limit or a failing disk); the transaction was rolled back, nothing was half-written, and what failed is tried again at its next check"
        ),
        Some(ErrorCode::ReadOnly) => format!(
            "{e}: the database file or its folder is read-only for this user"
        ),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "{e}: another process held the database for too long"
        ),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::db::{params, Conn, Exec};

    #[test]
    fn sqlite_rows_read_as_the_store_expects() {
        let c = Conn::Lite(rusqlite::Connection::open_in_memory().unwrap());
        c.execute("CREATE TABLE t (a INTEGER, b TEXT, c REAL)", params![])
            .unwrap();
        c.execute(
            "INSERT INTO t VALUES ($1, $2, $3)",
            params![7i64, "x", Option::<f64>::None],
        )
        .unwrap();
        let (a, b, c2): (i64, String, Option<f64>) = c
            .query_row("SELECT a, b, c FROM t", params![], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!((a, b.as_str(), c2), (7, "x", None));
        let err = c
            .query_row("SELECT b FROM t", params![], |r| r.get::<i64>(0))
            .unwrap_err();
        assert!(err.to_string().contains("text where an integer"), "{err}");
        assert!(c
            .query_opt("SELECT a FROM t WHERE a = 8", params![], |r| r
                .get::<i64>(0))
            .unwrap()
            .is_none());
    }

    #[test]
    fn parameters_are_bound_by_their_number_wherever_they_first_appear() {
        let c = Conn::Lite(rusqlite::Connection::open_in_memory().unwrap());
        let got: (String, i64, String) = c
            .query_row(
                "SELECT $3, $1 + $1, $2 || $3",
                params![20i64, "b", "c"],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(got, ("c".to_string(), 40, "bc".to_string()));
        // A parameter the statement does not name is an error, not a silent shift.
        let err = c
            .query_row("SELECT $2", params![1i64, 2i64], |r| r.get::<i64>(0))
            .unwrap_err();
        assert!(
            err.to_string().contains("1 parameter(s) and 2 were given"),
            "{err}"
        );
    }
}
