//! figwatch: watches news feeds and pages, keeps every version of every article, and alerts
//! when a tracked topic shows a new figure.
//!
//! The modules follow the data's path: [`config`] → [`fetch`] → [`feed`] / page →
//! [`extract`] → [`store`] → [`diff`] → [`figures`] → [`alerts`], tied together per source by
//! [`pipeline`], driven by [`schedule`] (the daemon) or [`cli`] (one-shot commands).

pub mod alerts;
pub mod calendar;
pub mod cli;
pub mod config;
pub mod controls;
pub mod demo;
pub mod diff;
pub mod extract;
pub mod feed;
pub mod fetch;
pub mod figures;
pub mod localhttp;
pub mod metrics;
pub mod pipeline;
pub mod schedule;
pub mod store;
pub mod web;
