//! PostgreSQL, in its own dialect, for several workers sharing one store: its schema in
//! `migrations/postgres/`, applied under an advisory lock so that workers starting at once
//! apply it once; row locks that skip what another worker is leasing; notifications between
//! workers.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::GenericClient;

use super::db::{params, Cell, Conn, Exec, Row, Value};
use super::dialect::Dialect;
use super::{Result, StoreError};

/// The PostgreSQL schema, in order; the version applied is kept in `figwatch_schema`.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/postgres/0001_initial.sql"),
    include_str!("../../../migrations/postgres/0002_workers.sql"),
    include_str!("../../../migrations/postgres/0003_reserve_host.sql"),
    include_str!("../../../migrations/postgres/0004_article_ages.sql"),
    include_str!("../../../migrations/postgres/0005_figure_scope.sql"),
    include_str!("../../../migrations/postgres/0006_pages.sql"),
    include_str!("../../../migrations/postgres/0007_timestamptz.sql"),
];

/// Connections each worker keeps to PostgreSQL.
pub(super) const POOL: usize = 4;

/// What PostgreSQL says its own way.
pub static DIALECT: Dialect = Dialect {
    json_ids: |n| format!("SELECT CAST(jsonb_array_elements_text(CAST(${n} AS jsonb)) AS BIGINT)"),
    skip_locked: "FOR UPDATE SKIP LOCKED",
    for_update: "FOR UPDATE",
    lock_article: Some("SELECT id FROM articles WHERE id = $1 FOR UPDATE"),
    lock_alerts: Some("LOCK TABLE alerts IN SHARE MODE"),
    notify: Some("SELECT pg_notify($1, '')"),
    reserve_host: Some(
        "SELECT turn, turn_slot, turn_at FROM figwatch_reserve_host($1, $2, $3, $4, $5, $6)",
    ),
    urls_containing: "SELECT url FROM articles WHERE strpos(url, $1) > 0 ORDER BY id DESC LIMIT $2",
    ledger_value_index: "",
    ledger_newest_index: "",
    shared: true,
};

/// Connects to PostgreSQL and brings its schema up to date; returns a worker's connections.
/// Workers starting at once take turns on an advisory lock, so the schema is applied once.
pub(super) fn open(url: &str) -> Result<Vec<Conn>> {
    let fail = |reason: String| StoreError::Open {
        path: super::migrate::redact(url),
        reason,
    };
    let conn = Conn::Pg(PgConn::connect(url).map_err(|e| {
        fail(format!(
            "cannot connect: {e}; check the server is running and the URL's user, host and database"
        ))
    })?);
    conn.batch("SELECT pg_advisory_lock(7242011)")?;
    let applied = (|| -> Result<()> {
        let present = conn.query_row(
            "SELECT CAST(to_regclass('figwatch_schema') IS NOT NULL AS INTEGER)",
            params![],
            |r| r.get::<i64>(0),
        )? == 1;
        let version = if present {
            conn.query_row("SELECT max(version) FROM figwatch_schema", params![], |r| {
                r.get::<Option<i64>>(0)
            })?
            .unwrap_or(0)
        } else {
            0
        };
        if version > MIGRATIONS.len() as i64 {
            return Err(fail(format!(
                "its schema (version {version}) is newer than this figwatch knows ({}); upgrade figwatch",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            conn.batch(&format!(
                "BEGIN; {sql}; UPDATE figwatch_schema SET version = {}; COMMIT;",
                i + 1
            ))?;
        }
        Ok(())
    })();
    conn.batch("SELECT pg_advisory_unlock(7242011)")?;
    applied?;
    let mut conns = vec![conn];
    for _ in 1..POOL {
        conns.push(Conn::Pg(
            PgConn::connect(url).map_err(|e| fail(format!("cannot connect: {e}")))?,
        ));
    }
    Ok(conns)
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// A time as the store writes it (RFC 3339), for a `timestamptz` parameter.
pub(super) fn time(text: &str) -> std::result::Result<chrono::DateTime<chrono::Utc>, BoxError> {
    super::parse_timestamp(text)
        .ok_or_else(|| format!("{text:?} is not a time (RFC 3339 was expected)").into())
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => i.to_string().as_str().to_sql(ty, out),
                _ => Err(format!("an integer cannot be given where {ty} is expected").into()),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => Err(format!("a number cannot be given where {ty} is expected").into()),
            },
            Value::Text(t) if *ty == Type::TIMESTAMPTZ => time(t)?.to_sql(ty, out),
            Value::Text(t) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    t.as_str().to_sql(ty, out)
                }
                Type::JSONB => {
                    out.extend_from_slice(&[1]);
                    out.extend_from_slice(t.as_bytes());
                    Ok(IsNull::No)
                }
                Type::JSON => {
                    out.extend_from_slice(t.as_bytes());
                    Ok(IsNull::No)
                }
                _ => Err(format!("text cannot be given where {ty} is expected").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// Runs `sql` on a PostgreSQL connection or transaction, streaming its rows to `each`: an
/// export of every version never sits in memory at once.
fn each_row(
    c: &impl GenericClient,
    statements: &Statements,
    sql: &str,
    params: &[Value],
    each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
) -> Result<()> {
    use futures_util::StreamExt;
    let stmt = prepared(statements, sql, |sql| Ok(block_on(c.prepare(sql))?))?;
    let rows = block_on(c.query_raw(&stmt, params.iter()))?;
    let mut rows = std::pin::pin!(rows);
    while let Some(row) = block_on(rows.next()) {
        each(&Row::Pg(&row?))?;
    }
    Ok(())
}

fn execute(
    c: &impl GenericClient,
    statements: &Statements,
    sql: &str,
    params: &[Value],
) -> Result<usize> {
    let stmt = prepared(statements, sql, |sql| Ok(block_on(c.prepare(sql))?))?;
    Ok(block_on(c.execute(&stmt, &pg_params(params)))? as usize)
}

fn pg_params(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// Waits for a PostgreSQL call on the calling thread. The connection itself is driven by its
/// own thread (see [`PgConn::connect`]), so this never waits on the caller's runtime: a store
/// call from inside a tokio task blocks that task the way an SQLite call does, and cannot
/// deadlock with it.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures_executor::block_on(f)
}

/// A PostgreSQL connection, with its statements prepared once.
pub struct PgConn {
    client: tokio_postgres::Client,
    /// Prepared statements by their text.
    statements: Statements,
}

/// A transaction on a [`PgConn`]; rolled back when dropped without a commit.
pub struct PgTx<'a> {
    tx: tokio_postgres::Transaction<'a>,
    statements: &'a Statements,
}

type Statements = RefCell<HashMap<String, tokio_postgres::Statement>>;

/// The statement prepared for `sql` on this connection, prepared now if it is new.
fn prepared(
    statements: &Statements,
    sql: &str,
    prepare: impl FnOnce(&str) -> Result<tokio_postgres::Statement>,
) -> Result<tokio_postgres::Statement> {
    if let Some(s) = statements.borrow().get(sql) {
        return Ok(s.clone());
    }
    let stmt = prepare(sql)?;
    statements
        .borrow_mut()
        .insert(sql.to_string(), stmt.clone());
    Ok(stmt)
}

impl PgConn {
    /// Connects to `url`. The connection runs on a thread of its own, which ends when the
    /// connection is dropped.
    pub fn connect(url: &str) -> std::result::Result<PgConn, String> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
        let client = on_own_thread("postgres", move |ready| async move {
            match config.connect(tokio_postgres::NoTls).await {
                Ok((client, connection)) => {
                    let _ = ready.send(Ok(client));
                    if let Err(e) = connection.await {
                        tracing::error!("PostgreSQL connection: {e}");
                    }
                }
                Err(e) => {
                    let _ = ready.send(Err(pg_message(&e)));
                }
            }
        })?;
        Ok(PgConn {
            client,
            statements: RefCell::new(HashMap::new()),
        })
    }
}

/// Listens on PostgreSQL `channels` over a connection of its own (on a thread of its own);
/// each notification's channel name arrives on the returned receiver, which closes if the
/// connection is lost.
pub fn listen(
    url: &str,
    channels: &[&str],
) -> std::result::Result<tokio::sync::mpsc::UnboundedReceiver<String>, String> {
    let config: tokio_postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
    let sql: String = channels.iter().map(|c| format!("LISTEN {c};")).collect();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    on_own_thread("postgres-listen", move |ready| async move {
        let (client, mut connection) = match config.connect(tokio_postgres::NoTls).await {
            Ok(c) => c,
            Err(e) => {
                let _ = ready.send(Err(pg_message(&e)));
                return;
            }
        };
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        use futures_util::StreamExt;
        let forward = async {
            while let Some(message) = messages.next().await {
                match message {
                    Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                        if tx.send(n.channel().to_string()).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!("PostgreSQL notifications: {}", pg_message(&e));
                        return;
                    }
                }
            }
        };
        let subscribe = async {
            let subscribed = client.batch_execute(&sql).await.map_err(|e| pg_message(&e));
            let _ = ready.send(subscribed);
            // Kept open (the client must live) until the connection ends.
            std::future::pending::<()>().await
        };
        tokio::select! {
            _ = forward => {}
            _ = subscribe => {}
        }
    })?;
    Ok(rx)
}

/// Runs `task` on a thread of its own, under a single-threaded runtime. `task` sends its first
/// result (a connection, or why there is none) on the channel it is given, then may go on
/// (driving that connection) until it ends. Returns the first result.
fn on_own_thread<T, F, Fut>(name: &str, task: F) -> std::result::Result<T, String>
where
    T: Send + 'static,
    F: FnOnce(std::sync::mpsc::SyncSender<std::result::Result<T, String>>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (ready, first) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(task(ready)),
                Err(e) => {
                    let _ = ready.send(Err(e.to_string()));
                }
            }
        })
        .map_err(|e| e.to_string())?;
    first
        .recv()
        .map_err(|_| format!("the {name} thread ended"))?
}

/// PostgreSQL's message with its detail: the bare `Display` of a server error is "db error".
pub fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut m = format!("{}: {}", db.severity(), db.message());
            if let Some(d) = db.detail() {
                m.push_str(&format!(" ({d})"));
            }
            m
        }
        None => match std::error::Error::source(e) {
            Some(s) => format!("{e}: {s}"),
            None => e.to_string(),
        },
    }
}

impl PgConn {
    pub(super) fn transaction(&mut self) -> Result<PgTx<'_>> {
        let tx = block_on(self.client.transaction())?;
        Ok(PgTx {
            tx,
            statements: &self.statements,
        })
    }

    pub(super) fn batch(&self, sql: &str) -> Result<()> {
        Ok(block_on(self.client.batch_execute(sql))?)
    }

    pub(super) fn each_row(
        &self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        each_row(&self.client, &self.statements, sql, params, each)
    }

    pub(super) fn execute(&self, sql: &str, params: &[Value]) -> Result<usize> {
        execute(&self.client, &self.statements, sql, params)
    }
}

impl PgTx<'_> {
    pub(super) fn commit(self) -> Result<()> {
        Ok(block_on(self.tx.commit())?)
    }

    pub(super) fn each_row(
        &self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        each_row(&self.tx, self.statements, sql, params, each)
    }

    pub(super) fn execute(&self, sql: &str, params: &[Value]) -> Result<usize> {
        execute(&self.tx, self.statements, sql, params)
    }
}

/// Column `i` of a row.
pub(super) fn cell(r: &tokio_postgres::Row, i: usize) -> std::result::Result<Cell<'_>, String> {
    let pg = |e: tokio_postgres::Error| e.to_string();
    let cell = match *r.columns()[i].type_() {
        Type::INT8 => r.try_get::<_, Option<i64>>(i).map_err(pg)?.map(Cell::Int),
        Type::INT4 => r
            .try_get::<_, Option<i32>>(i)
            .map_err(pg)?
            .map(|v| Cell::Int(v.into())),
        Type::INT2 => r
            .try_get::<_, Option<i16>>(i)
            .map_err(pg)?
            .map(|v| Cell::Int(v.into())),
        Type::BOOL => r
            .try_get::<_, Option<bool>>(i)
            .map_err(pg)?
            .map(|v| Cell::Int(v.into())),
        Type::FLOAT8 => r.try_get::<_, Option<f64>>(i).map_err(pg)?.map(Cell::Real),
        Type::FLOAT4 => r
            .try_get::<_, Option<f32>>(i)
            .map_err(pg)?
            .map(|v| Cell::Real(v.into())),
        Type::TIMESTAMPTZ => r
            .try_get::<_, Option<chrono::DateTime<chrono::Utc>>>(i)
            .map_err(pg)?
            .map(|t| Cell::Text(Cow::Owned(super::timestamp(t)))),
        _ => r
            .try_get::<_, Option<&str>>(i)
            .map_err(pg)?
            .map(|t| Cell::Text(Cow::Borrowed(t))),
    };
    Ok(cell.unwrap_or(Cell::Null))
}
