//! The SQL that differs between SQLite and PostgreSQL, as each backend writes it in its own
//! dialect ([`super::sqlite::DIALECT`], [`super::postgres::DIALECT`]). Everything else the
//! store says is said alike by both and written once, with `$N` parameters.

/// One backend's way of saying what the two databases say differently.
pub struct Dialect {
    /// A subquery yielding the ids of the JSON array (text) given as parameter `$n`.
    pub json_ids: fn(n: usize) -> String,
    /// Ends a subquery choosing rows to lease: PostgreSQL locks them and skips rows another
    /// worker is leasing at that moment; SQLite's write transaction already excludes others.
    pub skip_locked: &'static str,
    /// Ends a query of one row that the same transaction then updates.
    pub for_update: &'static str,
    /// Locks article `$1`'s row before a version is stored (SQLite: the write lock is held).
    pub lock_article: Option<&'static str>,
    /// Taken before a sink's cursor moves: waits for the transactions inserting alerts, so
    /// that the cursor never passes an alert not yet committed (workers commit out of id order).
    pub lock_alerts: Option<&'static str>,
    /// Tells the other workers listening on channel `$1` that something was committed.
    pub notify: Option<&'static str>,
    /// Reserves a turn on a host in one round trip (a server-side function); without it, the
    /// store does the same in a transaction.
    pub reserve_host: Option<&'static str>,
    /// Article URLs containing `$1`, newest first, at most `$2`.
    pub urls_containing: &'static str,
    /// Tells the planner which index finds a remembered value (empty: the planner knows).
    pub ledger_value_index: &'static str,
    /// Tells the planner which index lists a measure's newest values.
    pub ledger_newest_index: &'static str,
    /// True when several workers share the store: what one worker would batch, the others
    /// must see at once.
    pub shared: bool,
}
