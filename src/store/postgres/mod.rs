//! PostgreSQL, in its own dialect, for several workers sharing one store: its schema in
//! `migrations/postgres/`, applied under an advisory lock so that workers starting at once
//! apply it once; row locks that skip what another worker is leasing; notifications between
//! workers.

use std::borrow::Cow;

use deadpool_postgres::GenericClient;
use tokio_postgres::types::{IsNull, ToSql, Type};

mod tls;
pub(crate) use tls::{target, TlsError};

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
    include_str!("../../../migrations/postgres/0008_claim_order.sql"),
    include_str!("../../../migrations/postgres/0009_listing_kinds.sql"),
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

/// Connects to PostgreSQL and brings its schema up to date; returns a worker's pool.
/// Workers starting at once take turns on an advisory lock, so the schema is applied once.
pub(super) fn open(url: &str) -> Result<Pool> {
    let fail = |reason: String| StoreError::Open {
        path: super::migrate::redact(url),
        reason,
    };
    let cannot = |e: String| {
        fail(format!(
            "cannot connect: {e}; check the server is running and the URL's user, host, database and sslmode"
        ))
    };
    let pool = Pool::new(url)?;
    let conn = Conn::Pg(pool.get().map_err(|e| cannot(e.to_string()))?);
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
    drop(conn);
    Ok(pool)
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

/// A worker's connections: a deadpool pool, whose connections run on a small runtime of the
/// store's own, so that a store call works alike from a blocking thread, a test's runtime or
/// none. A connection the server closed (a restart) is found closed when it is next taken
/// and replaced by a new one; a call that was under way fails, and what it was doing is done
/// again at its next turn (a version is one transaction; a poll's schedule is written after).
pub struct Pool {
    pool: deadpool_postgres::Pool,
    rt: Option<tokio::runtime::Runtime>,
}

/// How long a store call waits for a free connection, and for a new one to be made.
const WAIT: std::time::Duration = std::time::Duration::from_secs(30);
const CONNECT: std::time::Duration = std::time::Duration::from_secs(10);

impl Pool {
    fn new(url: &str) -> Result<Pool> {
        let path = || super::migrate::redact(url);
        let target = tls::target(url).map_err(|source| StoreError::Tls {
            path: path(),
            source: Box::new(source),
        })?;
        let failed = |reason: String| StoreError::Open {
            path: path(),
            reason,
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("figwatch-postgres")
            .enable_all()
            .build()
            .map_err(|e| failed(format!("cannot start the connections' thread: {e}")))?;
        let manager = deadpool_postgres::Manager::from_config(
            target.config,
            target.tls,
            deadpool_postgres::ManagerConfig {
                recycling_method: deadpool_postgres::RecyclingMethod::Fast,
            },
        );
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(POOL)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(WAIT))
            .create_timeout(Some(CONNECT))
            .build()
            .map_err(|e| failed(e.to_string()))?;
        Ok(Pool { pool, rt: Some(rt) })
    }

    /// A connection, made now if none is free and the pool has room.
    pub(super) fn get(&self) -> Result<PgConn> {
        let _runtime = self.rt.as_ref().map(|rt| rt.enter());
        let client = block_on(self.pool.get()).map_err(pool_error)?;
        Ok(PgConn { client })
    }

    /// Runs one statement on the pool's runtime without blocking the caller, and answers its
    /// rows when awaited. For the calls made before every request (a host's turn): many of
    /// them are under way at once, over the pool's connections, while the caller's other
    /// polls go on; a blocking call would hold them all up for a round trip each.
    pub(super) fn query_detached(
        &self,
        sql: &'static str,
        params: Vec<Value>,
    ) -> impl std::future::Future<Output = Result<Vec<tokio_postgres::Row>>> + Send + 'static {
        let pool = self.pool.clone();
        let task = self.rt.as_ref().map(|rt| {
            rt.spawn(async move {
                let client = pool.get().await.map_err(pool_error)?;
                let stmt = client.prepare_cached(sql).await?;
                let refs: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                Ok(client.query(&stmt, &refs).await?)
            })
        });
        async move {
            match task {
                Some(task) => task.await.unwrap_or_else(|e| {
                    Err(StoreError::Unavailable(format!(
                        "the call did not finish: {e}"
                    )))
                }),
                None => Err(StoreError::Unavailable("the store is closed".into())),
            }
        }
    }
}

impl Pool {
    /// Runs one statement on the pool's runtime and does not wait for it: for giving back
    /// what runs out by itself anyway (a host's request slot). `failed` hears of a failure.
    pub(super) fn execute_detached(
        &self,
        sql: &'static str,
        params: Vec<Value>,
        failed: impl FnOnce(StoreError) + Send + 'static,
    ) {
        let done = self.query_detached(sql, params);
        if let Some(rt) = &self.rt {
            rt.spawn(async move {
                if let Err(e) = done.await {
                    failed(e);
                }
            });
        }
    }
}

fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => StoreError::Postgres(e),
        e => StoreError::Unavailable(e.to_string()),
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Never waits: a store may be dropped inside another runtime's task.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Runs `sql` on a PostgreSQL connection or transaction, streaming its rows to `each`: an
/// export of every version never sits in memory at once. Statements are prepared once per
/// connection (deadpool's statement cache).
fn each_row(
    c: &impl deadpool_postgres::GenericClient,
    sql: &str,
    params: &[Value],
    each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
) -> Result<()> {
    use futures_util::StreamExt;
    let stmt = block_on(c.prepare_cached(sql))?;
    let rows = block_on(c.query_raw(&stmt, params.iter()))?;
    let mut rows = std::pin::pin!(rows);
    while let Some(row) = block_on(rows.next()) {
        each(&Row::Pg(&row?))?;
    }
    Ok(())
}

/// Sends every statement of `batch` before reading any answer: tokio-postgres pipelines the
/// requests of futures polled together on one connection.
fn execute_all(
    c: &impl deadpool_postgres::GenericClient,
    batch: &[(&str, Vec<Value>)],
) -> Result<()> {
    let mut prepared = Vec::with_capacity(batch.len());
    for (sql, _) in batch {
        prepared.push(block_on(c.prepare_cached(sql))?);
    }
    let runs = prepared
        .iter()
        .zip(batch)
        .map(|(stmt, (_, params))| c.execute_raw(stmt, params.iter()));
    block_on(futures_util::future::try_join_all(runs))?;
    Ok(())
}

fn execute(
    c: &impl deadpool_postgres::GenericClient,
    sql: &str,
    params: &[Value],
) -> Result<usize> {
    let stmt = block_on(c.prepare_cached(sql))?;
    Ok(block_on(c.execute_raw(&stmt, params.iter()))? as usize)
}

/// Waits for a PostgreSQL call on the calling thread. The connection itself is driven by the
/// pool's runtime, so this never waits on the caller's: it cannot deadlock with it. The call
/// is outside tokio's cooperative budget: a budget spent by the calling task would otherwise
/// make the pool's semaphore answer "not yet, try again" forever, and this loop spin.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures_executor::block_on(tokio::task::coop::unconstrained(f))
}

/// A PostgreSQL connection taken from the [`Pool`]; it goes back when dropped.
pub struct PgConn {
    client: deadpool_postgres::Object,
}

/// A transaction on a [`PgConn`]; rolled back when dropped without a commit.
pub struct PgTx<'a> {
    tx: deadpool_postgres::Transaction<'a>,
}

/// Listens on PostgreSQL `channels` over a connection of its own (on a thread of its own);
/// each notification's channel name arrives on the returned receiver, which closes if the
/// connection is lost (the daemon then listens again).
pub fn listen(
    url: &str,
    channels: &[&str],
) -> std::result::Result<tokio::sync::mpsc::UnboundedReceiver<String>, String> {
    let target = tls::target(url).map_err(|e| e.to_string())?;
    let sql: String = channels.iter().map(|c| format!("LISTEN {c};")).collect();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    on_own_thread("postgres-listen", move |ready| async move {
        let (client, mut connection) = match target.config.connect(target.tls).await {
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
        Ok(PgTx { tx })
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
        each_row(&self.client, sql, params, each)
    }

    pub(super) fn execute(&self, sql: &str, params: &[Value]) -> Result<usize> {
        execute(&self.client, sql, params)
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
        each_row(&self.tx, sql, params, each)
    }

    pub(super) fn execute(&self, sql: &str, params: &[Value]) -> Result<usize> {
        execute(&self.tx, sql, params)
    }

    pub(super) fn execute_all(&self, batch: &[(&str, Vec<Value>)]) -> Result<()> {
        execute_all(&self.tx, batch)
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
