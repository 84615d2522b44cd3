//! `figwatch migrate --from figwatch.db --to postgres://…`: copies an SQLite store into an
//! empty PostgreSQL database (creating the schema of `migrations/postgres/`), then verifies
//! it: per table, the row count and a hash of every row in primary-key order must be the same
//! on both sides, or the command fails and says which table differs.

use std::path::Path;

use futures_util::SinkExt;
use sha2::{Digest, Sha256};
use tokio_postgres::types::Type;

/// Tables in an order that satisfies their foreign keys.
const TABLES: &[&str] = &[
    "sources",
    "articles",
    "article_aliases",
    "versions",
    "figures",
    "alerts",
    "ledger",
    "ledger_sources",
    "listings",
    "hosts",
    "host_slots",
    "workers",
    "sinks",
    "deliveries",
    "pages",
    "site_paragraphs",
];

/// Rows sent to PostgreSQL per COPY buffer.
const COPY_CHUNK: usize = 1000;

/// One table's outcome.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableCheck {
    /// The table.
    pub table: String,
    /// Rows in the source store.
    pub rows: i64,
    /// Rows copied.
    pub copied: i64,
    /// Whether the target's content equals the source's, row by row.
    pub same: bool,
}

/// A value as both databases hold it, for hashing.
#[derive(Debug, PartialEq)]
enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Value {
    fn hash_into(&self, h: &mut Sha256) {
        match self {
            Value::Null => h.update([0u8]),
            Value::Int(i) => {
                h.update([1u8]);
                h.update(i.to_le_bytes());
            }
            Value::Real(f) => {
                h.update([2u8]);
                h.update(f.to_bits().to_le_bytes());
            }
            Value::Text(t) => {
                h.update([3u8]);
                h.update((t.len() as u64).to_le_bytes());
                h.update(t.as_bytes());
            }
        }
    }

    /// The value in PostgreSQL's CSV COPY format: empty unquoted for NULL.
    fn csv(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => {}
            Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Value::Real(f) => out.extend_from_slice(format!("{f:?}").as_bytes()),
            Value::Text(t) => {
                out.push(b'"');
                out.extend_from_slice(t.replace('"', "\"\"").as_bytes());
                out.push(b'"');
            }
        }
    }
}

fn sqlite_value(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Text(crate::feed::hex(b)),
    }
}

fn pg_value(row: &tokio_postgres::Row, i: usize) -> anyhow::Result<Value> {
    let ty = row.columns()[i].type_();
    Ok(if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?
            .map_or(Value::Null, Value::Int)
    } else if *ty == Type::TIMESTAMPTZ {
        row.try_get::<_, Option<chrono::DateTime<chrono::Utc>>>(i)?
            .map_or(Value::Null, |t| Value::Text(super::timestamp(t)))
    } else if *ty == Type::FLOAT8 {
        row.try_get::<_, Option<f64>>(i)?
            .map_or(Value::Null, Value::Real)
    } else {
        row.try_get::<_, Option<String>>(i)?
            .map_or(Value::Null, Value::Text)
    })
}

/// A time column's SQLite value as PostgreSQL will hold it: the empty text (a host never
/// paused) is no time; any other text must be a time, written out the store's way.
fn as_time(v: Value) -> std::result::Result<Value, String> {
    match v {
        Value::Text(t) if t.is_empty() => Ok(Value::Null),
        Value::Text(t) => match super::parse_timestamp(&t) {
            Some(at) => Ok(Value::Text(super::timestamp(at))),
            None => Err(t),
        },
        Value::Null => Ok(Value::Null),
        other => Err(format!("{other:?}")),
    }
}

/// A table's columns and primary key, as SQLite declares them.
fn columns(db: &rusqlite::Connection, table: &str) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let mut stmt = db.prepare(&format!("PRAGMA table_info({table})"))?;
    let mut cols = Vec::new();
    let mut pk: Vec<(i64, String)> = Vec::new();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, i64>(5)?)))?;
    for row in rows {
        let (name, key) = row?;
        if key > 0 {
            pk.push((key, name.clone()));
        }
        cols.push(name);
    }
    pk.sort();
    Ok((cols, pk.into_iter().map(|(_, n)| n).collect()))
}

/// Copies `from` into the empty database at `to` and verifies every table.
pub async fn sqlite_to_postgres(from: &Path, to: &str) -> anyhow::Result<Vec<TableCheck>> {
    // Brought up to date first, so that both sides have one schema.
    drop(super::Store::open(from)?);
    let db =
        rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let target = super::postgres::target(to).map_err(|e| anyhow::anyhow!("{}: {e}", redact(to)))?;
    let (mut client, connection) = target.config.connect(target.tls).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot connect to {}: {}",
            redact(to),
            super::postgres::pg_message(&e)
        )
    })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::error!("PostgreSQL connection: {e}");
        }
    });
    let has_schema: bool = client
        .query_one("SELECT to_regclass('figwatch_schema') IS NOT NULL", &[])
        .await?
        .get(0);
    let tx = client.transaction().await?;
    if has_schema {
        for table in TABLES {
            let n: i64 = tx
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await?
                .get(0);
            if n > 0 {
                anyhow::bail!(
                    "{}: the table {table} already holds {n} rows; migrate into an empty database",
                    redact(to)
                );
            }
        }
    } else {
        for sql in super::postgres::MIGRATIONS {
            tx.batch_execute(sql).await?;
        }
        tx.batch_execute(&format!(
            "UPDATE figwatch_schema SET version = {}",
            super::postgres::MIGRATIONS.len()
        ))
        .await?;
    }
    let mut checks = Vec::new();
    for table in TABLES {
        let (cols, pk) = columns(&db, table)?;
        // PostgreSQL keeps times as `timestamptz`, SQLite as text: both sides are compared as
        // the instant they name, written the store's way.
        let times: Vec<bool> = {
            let typed: Vec<String> = tx
                .query(
                    "SELECT column_name::TEXT FROM information_schema.columns
                     WHERE table_schema = current_schema() AND table_name = $1
                       AND data_type = 'timestamp with time zone'",
                    &[table],
                )
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            cols.iter().map(|c| typed.contains(c)).collect()
        };
        let list = cols.join(", ");
        let sink = tx
            .copy_in(&format!(
                "COPY {table} ({list}) FROM STDIN WITH (FORMAT csv)"
            ))
            .await?;
        futures_util::pin_mut!(sink);
        let mut stmt = db.prepare(&format!(
            "SELECT {list} FROM {table} ORDER BY {}",
            pk.join(", ")
        ))?;
        let mut rows = stmt.query([])?;
        let mut hash = Sha256::new();
        let (mut count, mut buf) = (0i64, Vec::new());
        while let Some(row) = rows.next()? {
            for i in 0..cols.len() {
                let mut v = sqlite_value(row.get_ref(i)?);
                if times[i] {
                    v = as_time(v).map_err(|text| {
                        anyhow::anyhow!(
                            "{}: table {table}, column {}, row {count}: {text:?} is not a time; nothing was committed",
                            from.display(),
                            cols[i]
                        )
                    })?;
                }
                v.hash_into(&mut hash);
                if i > 0 {
                    buf.push(b',');
                }
                v.csv(&mut buf);
            }
            buf.push(b'\n');
            count += 1;
            if (count as usize).is_multiple_of(COPY_CHUNK) {
                sink.send(bytes::Bytes::from(std::mem::take(&mut buf)))
                    .await?;
            }
        }
        if !buf.is_empty() {
            sink.send(bytes::Bytes::from(buf)).await?;
        }
        let copied = sink.finish().await? as i64;
        // Identity columns go on after the copied ids.
        if cols.iter().any(|c| c == "id") && pk == ["id"] {
            tx.execute(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
                ),
                &[],
            )
            .await?;
        }
        // Read back and hash the same way.
        let mut back = Sha256::new();
        let mut read = 0i64;
        for row in tx
            .query(
                &format!("SELECT {list} FROM {table} ORDER BY {}", pk.join(", ")),
                &[],
            )
            .await?
        {
            for i in 0..cols.len() {
                pg_value(&row, i)?.hash_into(&mut back);
            }
            read += 1;
        }
        let same = read == count && copied == count && hash.finalize() == back.finalize();
        checks.push(TableCheck {
            table: table.to_string(),
            rows: count,
            copied: read,
            same,
        });
    }
    if let Some(bad) = checks.iter().find(|c| !c.same) {
        anyhow::bail!(
            "table {} differs after the copy ({} rows in SQLite, {} in PostgreSQL); nothing was committed",
            bad.table,
            bad.rows,
            bad.copied
        );
    }
    tx.commit().await?;
    Ok(checks)
}

pub use crate::config::redact;
