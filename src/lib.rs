#![warn(missing_docs)]
//! figwatch: watches news feeds and pages, keeps every version of every article, and alerts
//! when a tracked topic shows a new figure.
//!
//! The modules follow the data's path: [`config`] → [`fetch`] → [`feed`] / page →
//! [`extract`] → [`store`] → [`diff`] → [`figures`] → [`alerts`] → [`delivery`], tied together
//! per source by [`pipeline`] (which asks [`cadence`] when to look again), driven by
//! [`schedule`] (the daemon) or by the binary's one-shot commands (`src/cli.rs`, which belongs
//! to the `figwatch` binary, not to this library). No module imports one above it: the
//! dependency graph between them has no cycle.

pub mod alerts;
pub mod cadence;
pub mod calendar;
pub mod config;
pub mod controls;
pub mod delivery;
pub mod demo;
pub mod diff;
pub mod extract;
pub mod feed;
pub mod fetch;
pub mod figures;
pub mod metrics;
pub mod pipeline;
pub mod render;
pub mod schedule;
pub mod store;
pub mod web;
