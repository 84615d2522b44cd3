//! What the store's code sees of a database, whichever backend it is: run a statement, read
//! rows, open a transaction.
//!
//! There is no rewriting of SQL. A statement both databases speak alike is written once, with
//! PostgreSQL's numbered `$N` parameters, which SQLite also understands (it binds them by
//! name, see [`super::sqlite`]). What differs between them — row locks, lists of ids,
//! notifications, planner hints — is written by each backend in its own dialect, in its
//! [`Dialect`] ([`super::sqlite::DIALECT`], [`super::postgres::DIALECT`]). Values cross as
//! [`Value`]s, which take the type each backend asks for, so that an `i64` fills a BIGINT, a
//! boolean test or a REAL alike, and a time fills a TEXT column in SQLite and a `timestamptz`
//! in PostgreSQL.

use super::dialect::Dialect;
use super::{postgres, sqlite, Result, StoreError};

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
impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
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

/// One value of a row, as read.
pub enum Cell<'a> {
    Null,
    Int(i64),
    Real(f64),
    /// Text as stored; a PostgreSQL time is written out as the store's RFC 3339 text.
    Text(std::borrow::Cow<'a, str>),
}

impl Cell<'_> {
    pub(super) fn kind(&self) -> &'static str {
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
            Cell::Text(t) => Ok(t.into_owned()),
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
    /// Column `i`, read as `T`.
    pub fn get<T: FromCell>(&self, i: usize) -> Result<T> {
        let bad = |reason: String| StoreError::Column { index: i, reason };
        let cell = match self {
            Row::Lite(r) => sqlite::cell(r, i).map_err(bad)?,
            Row::Pg(r) => postgres::cell(r, i).map_err(bad)?,
        };
        T::from_cell(cell).map_err(bad)
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

    /// The SQL that differs between the backends, in this one's dialect.
    fn dialect(&self) -> &'static Dialect;

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
            .ok_or_else(|| StoreError::NoRow(first_words(sql)))
    }
}

pub(super) fn first_words(sql: &str) -> String {
    sql.split_whitespace().take(8).collect::<Vec<_>>().join(" ")
}

/// A connection to either backend.
pub enum Conn {
    Lite(rusqlite::Connection),
    Pg(postgres::PgConn),
}

/// A transaction of either backend; rolled back when dropped without [`Tx::commit`].
pub enum Tx<'a> {
    Lite(rusqlite::Transaction<'a>),
    Pg(postgres::PgTx<'a>),
}

impl Conn {
    /// Begins a transaction (IMMEDIATE in SQLite: it takes the write lock up front).
    pub fn transaction(&mut self) -> Result<Tx<'_>> {
        Ok(match self {
            Conn::Lite(c) => Tx::Lite(c.transaction()?),
            Conn::Pg(c) => Tx::Pg(c.transaction()?),
        })
    }

    /// Runs statements without parameters, in one go.
    pub fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Lite(c) => Ok(c.execute_batch(sql)?),
            Conn::Pg(c) => c.batch(sql),
        }
    }
}

impl Tx<'_> {
    /// Runs every statement of `batch` (none returning rows), in order. PostgreSQL sends them
    /// all before reading the answers (pipelining): one round trip, not one per statement.
    pub fn execute_all(&self, batch: &[(&str, Vec<Value>)]) -> Result<()> {
        match self {
            Tx::Lite(_) => {
                for (sql, params) in batch {
                    self.execute(sql, params)?;
                }
                Ok(())
            }
            Tx::Pg(t) => t.execute_all(batch),
        }
    }

    /// Commits; dropped without this, the transaction rolls back.
    pub fn commit(self) -> Result<()> {
        match self {
            Tx::Lite(t) => Ok(t.commit()?),
            Tx::Pg(t) => t.commit(),
        }
    }
}

impl Exec for Conn {
    fn each_row(
        &self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        match self {
            Conn::Lite(c) => sqlite::each_row(c, sql, params, each),
            Conn::Pg(c) => c.each_row(sql, params, each),
        }
    }

    fn execute(&self, sql: &str, params: &[Value]) -> Result<usize> {
        match self {
            Conn::Lite(c) => sqlite::execute(c, sql, params),
            Conn::Pg(c) => c.execute(sql, params),
        }
    }

    fn dialect(&self) -> &'static Dialect {
        match self {
            Conn::Lite(_) => &sqlite::DIALECT,
            Conn::Pg(_) => &postgres::DIALECT,
        }
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
            Tx::Lite(t) => sqlite::each_row(t, sql, params, each),
            Tx::Pg(t) => t.each_row(sql, params, each),
        }
    }

    fn execute(&self, sql: &str, params: &[Value]) -> Result<usize> {
        match self {
            Tx::Lite(t) => sqlite::execute(t, sql, params),
            Tx::Pg(t) => t.execute(sql, params),
        }
    }

    fn dialect(&self) -> &'static Dialect {
        match self {
            Tx::Lite(_) => &sqlite::DIALECT,
            Tx::Pg(_) => &postgres::DIALECT,
        }
    }
}
