//! One connection to either backend, behind the few calls the store makes: run a statement,
//! read rows, open a transaction. Statements are written once, in SQLite's dialect with
//! numbered `?N` parameters; for PostgreSQL they are rewritten on first use (see
//! [`to_postgres`]) and prepared once per connection. Values cross as [`Value`]s, which take the
//! type each backend asks for, so that an `i64` fills a BIGINT, a boolean test or a REAL alike.

use std::cell::RefCell;
use std::collections::HashMap;

use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::GenericClient;

use super::{Result, StoreError};

/// A parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// What can be a parameter. Implemented for the types the store binds.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(*self as i64)
            }
        }
    )*};
}
int_value!(i64, i32, u32, u16, usize);

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(*self as i64)
    }
}
impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, T::to_value)
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

/// `params![a, b]`: the parameters of a statement, any mix of [`ToValue`] types.
macro_rules! params {
    ($($x:expr),* $(,)?) => {
        &[$($crate::store::db::ToValue::to_value(&$x)),*] as &[$crate::store::db::Value]
    };
}
pub(crate) use params;

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

type BoxError = Box<dyn std::error::Error + Sync + Send>;

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

/// One value of a row, as read.
pub enum Cell<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
}

impl Cell<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Cell::Null => "NULL",
            Cell::Int(_) => "an integer",
            Cell::Real(_) => "a real number",
            Cell::Text(_) => "text",
        }
    }
}

/// What a column can be read as.
pub trait FromCell: Sized {
    fn from_cell(cell: Cell<'_>) -> std::result::Result<Self, String>;
}

fn mismatch<T>(cell: &Cell<'_>, want: &str) -> std::result::Result<T, String> {
    Err(format!("{} where {want} was expected", cell.kind()))
}

impl FromCell for i64 {
    fn from_cell(cell: Cell<'_>) -> std::result::Result<Self, String> {
        match cell {
            Cell::Int(i) => Ok(i),
            c => mismatch(&c, "an integer"),
        }
    }
}
impl FromCell for f64 {
    fn from_cell(cell: Cell<'_>) -> std::result::Result<Self, String> {
        match cell {
            Cell::Real(f) => Ok(f),
            Cell::Int(i) => Ok(i as f64),
            c => mismatch(&c, "a number"),
        }
    }
}
impl FromCell for String {
    fn from_cell(cell: Cell<'_>) -> std::result::Result<Self, String> {
        match cell {
            Cell::Text(t) => Ok(t.to_string()),
            c => mismatch(&c, "text"),
        }
    }
}
impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(cell: Cell<'_>) -> std::result::Result<Self, String> {
        match cell {
            Cell::Null => Ok(None),
            c => T::from_cell(c).map(Some),
        }
    }
}

/// A row being read.
pub enum Row<'a> {
    Lite(&'a rusqlite::Row<'a>),
    Pg(&'a tokio_postgres::Row),
}

impl Row<'_> {
    pub fn get<T: FromCell>(&self, i: usize) -> Result<T> {
        let bad = |reason: String| StoreError::Column { index: i, reason };
        match self {
            Row::Lite(r) => {
                use rusqlite::types::ValueRef;
                let cell = match r.get_ref(i)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Int(v),
                    ValueRef::Real(v) => Cell::Real(v),
                    ValueRef::Text(t) | ValueRef::Blob(t) => Cell::Text(
                        std::str::from_utf8(t).map_err(|e| bad(format!("not UTF-8: {e}")))?,
                    ),
                };
                T::from_cell(cell).map_err(bad)
            }
            Row::Pg(r) => {
                let pg = |e: tokio_postgres::Error| bad(e.to_string());
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
                    _ => r.try_get::<_, Option<&str>>(i).map_err(pg)?.map(Cell::Text),
                };
                T::from_cell(cell.unwrap_or(Cell::Null)).map_err(bad)
            }
        }
    }
}

/// Runs statements: a connection or a transaction of either backend.
pub trait Exec {
    /// Runs `sql`, handing each row to `each`.
    fn each_row(
        &self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()>;

    /// Runs a statement that returns no rows; returns how many rows it changed.
    fn execute(&self, sql: &str, params: &[Value]) -> Result<usize>;

    fn is_postgres(&self) -> bool;

    fn query_map<T>(
        &self,
        sql: &str,
        params: &[Value],
        mut map: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>>
    where
        Self: Sized,
    {
        let mut out = Vec::new();
        self.each_row(sql, params, &mut |r| {
            out.push(map(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row, if there is one.
    fn query_opt<T>(
        &self,
        sql: &str,
        params: &[Value],
        mut map: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>>
    where
        Self: Sized,
    {
        let mut out = None;
        self.each_row(sql, params, &mut |r| {
            if out.is_none() {
                out = Some(map(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row; none is an error.
    fn query_row<T>(
        &self,
        sql: &str,
        params: &[Value],
        map: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<T>
    where
        Self: Sized,
    {
        self.query_opt(sql, params, map)?
            .ok_or_else(|| StoreError::NoRow(first_line(sql)))
    }
}

fn first_line(sql: &str) -> String {
    sql.split_whitespace().take(8).collect::<Vec<_>>().join(" ")
}

/// A connection to either backend.
pub enum Conn {
    Lite(rusqlite::Connection),
    Pg(PgConn),
}

/// A transaction of either backend; rolled back when dropped without [`Tx::commit`].
pub enum Tx<'a> {
    Lite(rusqlite::Transaction<'a>),
    Pg(PgTx<'a>),
}

impl Conn {
    pub fn transaction(&mut self) -> Result<Tx<'_>> {
        Ok(match self {
            Conn::Lite(c) => Tx::Lite(c.transaction()?),
            Conn::Pg(c) => {
                let tx = block_on(c.client.transaction())?;
                Tx::Pg(PgTx {
                    tx,
                    statements: &c.statements,
                })
            }
        })
    }

    /// Runs statements without parameters, in one go.
    pub fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Lite(c) => Ok(c.execute_batch(sql)?),
            Conn::Pg(c) => Ok(block_on(c.client.batch_execute(sql))?),
        }
    }
}

impl Tx<'_> {
    pub fn commit(self) -> Result<()> {
        match self {
            Tx::Lite(t) => Ok(t.commit()?),
            Tx::Pg(t) => Ok(block_on(t.tx.commit())?),
        }
    }
}

fn lite_each(
    c: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
    each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
) -> Result<()> {
    let mut stmt = c.prepare_cached(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    while let Some(row) = rows.next()? {
        each(&Row::Lite(row))?;
    }
    Ok(())
}

fn lite_execute(c: &rusqlite::Connection, sql: &str, params: &[Value]) -> Result<usize> {
    Ok(c.prepare_cached(sql)?
        .execute(rusqlite::params_from_iter(params))?)
}

impl Exec for Conn {
    fn each_row(
        &self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        match self {
            Conn::Lite(c) => lite_each(c, sql, params, each),
            Conn::Pg(c) => pg_each(&c.client, &c.statements, sql, params, each),
        }
    }

    fn execute(&self, sql: &str, params: &[Value]) -> Result<usize> {
        match self {
            Conn::Lite(c) => lite_execute(c, sql, params),
            Conn::Pg(c) => pg_execute(&c.client, &c.statements, sql, params),
        }
    }

    fn is_postgres(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }
}

impl Exec for Tx<'_> {
    fn each_row(
        &self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        match self {
            Tx::Lite(c) => lite_each(c, sql, params, each),
            Tx::Pg(t) => pg_each(&t.tx, t.statements, sql, params, each),
        }
    }

    fn execute(&self, sql: &str, params: &[Value]) -> Result<usize> {
        match self {
            Tx::Lite(c) => lite_execute(c, sql, params),
            Tx::Pg(t) => pg_execute(&t.tx, t.statements, sql, params),
        }
    }

    fn is_postgres(&self) -> bool {
        matches!(self, Tx::Pg(_))
    }
}

/// Runs `sql` on a PostgreSQL connection or transaction, streaming its rows to `each`: an
/// export of every version never sits in memory at once.
fn pg_each(
    c: &impl GenericClient,
    statements: &Statements,
    sql: &str,
    params: &[Value],
    each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
) -> Result<()> {
    use futures_util::StreamExt;
    let stmt = prepared(statements, sql, |pg| Ok(block_on(c.prepare(&pg))?))?;
    let rows = block_on(c.query_raw(&stmt, params.iter()))?;
    let mut rows = std::pin::pin!(rows);
    while let Some(row) = block_on(rows.next()) {
        each(&Row::Pg(&row?))?;
    }
    Ok(())
}

fn pg_execute(
    c: &impl GenericClient,
    statements: &Statements,
    sql: &str,
    params: &[Value],
) -> Result<usize> {
    let stmt = prepared(statements, sql, |pg| Ok(block_on(c.prepare(&pg))?))?;
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
    /// Prepared statements by their SQLite text.
    statements: Statements,
}

pub struct PgTx<'a> {
    tx: tokio_postgres::Transaction<'a>,
    statements: &'a Statements,
}

type Statements = RefCell<HashMap<String, tokio_postgres::Statement>>;

/// The statement prepared for `sql` on this connection, prepared now if it is new.
fn prepared(
    statements: &Statements,
    sql: &str,
    prepare: impl FnOnce(String) -> Result<tokio_postgres::Statement>,
) -> Result<tokio_postgres::Statement> {
    if let Some(s) = statements.borrow().get(sql) {
        return Ok(s.clone());
    }
    let stmt = prepare(to_postgres(sql))?;
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

/// Rewrites a statement of the store for PostgreSQL: `?N` becomes `$N`; `INSERT OR IGNORE`
/// becomes `ON CONFLICT DO NOTHING`; `INDEXED BY` hints go; `instr` is `strpos`; and text in
/// `/*pg: … */` comments, which SQLite skips, is kept (row locks such as `FOR UPDATE`).
pub fn to_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 32);
    let mut chars = sql.char_indices().peekable();
    let mut in_string = false;
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            in_string = !in_string;
        }
        if !in_string && c == '?' {
            out.push('$');
            continue;
        }
        if !in_string && sql[i..].starts_with("/*pg:") {
            let end = sql[i..].find("*/").map_or(sql.len(), |e| i + e);
            out.push_str(&sql[i + 5..end]);
            while chars.peek().is_some_and(|(j, _)| *j < end + 2) {
                chars.next();
            }
            continue;
        }
        out.push(c);
    }
    let mut sql = out;
    if let Some(at) = sql.find("INSERT OR IGNORE INTO") {
        sql.replace_range(at..at + "INSERT OR IGNORE INTO".len(), "INSERT INTO");
        match sql.find("RETURNING") {
            Some(r) => sql.insert_str(r, "ON CONFLICT DO NOTHING "),
            None => sql.push_str(" ON CONFLICT DO NOTHING"),
        }
    }
    while let Some(at) = sql.find("INDEXED BY ") {
        let rest = &sql[at + "INDEXED BY ".len()..];
        let name_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        sql.replace_range(at..at + "INDEXED BY ".len() + name_len, "");
    }
    sql.replace("instr(", "strpos(")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_rewritten_for_postgres() {
        assert_eq!(
            to_postgres("SELECT a FROM t WHERE x = ?1 AND y = '?' AND z = ?12"),
            "SELECT a FROM t WHERE x = $1 AND y = '?' AND z = $12"
        );
        assert_eq!(
            to_postgres("INSERT OR IGNORE INTO t (a) VALUES (?1)"),
            "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING"
        );
        assert_eq!(
            to_postgres("INSERT OR IGNORE INTO t (a) VALUES (?1) RETURNING id"),
            "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id"
        );
        assert_eq!(
            to_postgres("SELECT id FROM ledger INDEXED BY ledger_value WHERE instr(url, ?1) > 0"),
            "SELECT id FROM ledger  WHERE strpos(url, $1) > 0"
        );
        assert_eq!(
            to_postgres("SELECT id FROM t LIMIT 5 /*pg:FOR UPDATE SKIP LOCKED*/)"),
            "SELECT id FROM t LIMIT 5 FOR UPDATE SKIP LOCKED)"
        );
    }

    #[test]
    fn sqlite_rows_read_as_the_store_expects() {
        let c = Conn::Lite(rusqlite::Connection::open_in_memory().unwrap());
        c.execute("CREATE TABLE t (a INTEGER, b TEXT, c REAL)", params![])
            .unwrap();
        c.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3)",
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
}
