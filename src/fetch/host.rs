//! Politeness per host: how many requests one server has from us at once, how far apart they
//! start, and whether it asked us to wait. Every request of the process — feeds, pages and
//! the articles they link — goes through here, so the limits hold across all sources of a
//! host, however many are configured.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The right to send one request to a host; dropping it frees the slot.
#[must_use]
pub struct HostPermit {
    _slot: OwnedSemaphorePermit,
}

/// One server's state.
struct Host {
    slots: Arc<Semaphore>,
    /// When the next request may start (`per_host_delay` after the last one started).
    next_start: tokio::sync::Mutex<Instant>,
    /// Set by a 429 or 503 with `Retry-After`: no request before then.
    paused_until: Mutex<Option<DateTime<Utc>>>,
}

/// The limits, shared by every request of the process.
pub struct HostLimiter {
    per_host: usize,
    delay: Duration,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

impl HostLimiter {
    pub fn new(per_host_concurrency: usize, per_host_delay: Duration) -> HostLimiter {
        HostLimiter {
            per_host: per_host_concurrency.max(1),
            delay: per_host_delay,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    fn host(&self, name: &str) -> Arc<Host> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        // URLs give their host in lower case already; only a name from elsewhere is folded.
        if let Some(h) = hosts.get(name) {
            return Arc::clone(h);
        }
        Arc::clone(hosts.entry(name.to_ascii_lowercase()).or_insert_with(|| {
            Arc::new(Host {
                slots: Arc::new(Semaphore::new(self.per_host)),
                next_start: tokio::sync::Mutex::new(Instant::now()),
                paused_until: Mutex::new(None),
            })
        }))
    }

    /// Waits for a free slot and for the delay since the last request to `host`. Fails at
    /// once, with the time it ends, while the host has asked us to wait.
    pub async fn acquire(&self, host: &str) -> Result<HostPermit, DateTime<Utc>> {
        let h = self.host(host);
        check_pause(&h)?;
        let slot = Arc::clone(&h.slots)
            .acquire_owned()
            .await
            .expect("host semaphores are never closed");
        // A pause may have come in (from another request's answer) while we waited.
        check_pause(&h)?;
        if !self.delay.is_zero() {
            let mut next = h.next_start.lock().await;
            tokio::time::sleep_until(*next).await;
            *next = Instant::now() + self.delay;
        }
        Ok(HostPermit { _slot: slot })
    }

    /// No request to `host` before `until`. A later pause never shortens an earlier one.
    pub fn pause(&self, host: &str, until: DateTime<Utc>) {
        let h = self.host(host);
        let mut p = h.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if p.is_none_or(|old| old < until) {
            *p = Some(until);
        }
    }

    /// When the pause of `host` ends, if it is paused now.
    pub fn paused_until(&self, host: &str) -> Option<DateTime<Utc>> {
        check_pause(&self.host(host)).err()
    }
}

fn check_pause(h: &Host) -> Result<(), DateTime<Utc>> {
    let mut p = h.paused_until.lock().unwrap_or_else(|p| p.into_inner());
    match *p {
        Some(until) if until > Utc::now() => Err(until),
        Some(_) => {
            *p = None;
            Ok(())
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_to_one_host_start_a_delay_apart_and_others_do_not_wait() {
        let limiter = HostLimiter::new(4, Duration::from_secs(2));
        let t0 = Instant::now();
        let _a = limiter.acquire("a.example").await.unwrap();
        let _b = limiter.acquire("A.example").await.unwrap();
        assert_eq!(
            t0.elapsed(),
            Duration::from_secs(2),
            "same host, case aside"
        );
        let t1 = Instant::now();
        let _c = limiter.acquire("b.example").await.unwrap();
        assert_eq!(t1.elapsed(), Duration::ZERO, "another host is not held up");
    }

    #[tokio::test(start_paused = true)]
    async fn one_request_in_flight_per_host_by_default() {
        let limiter = Arc::new(HostLimiter::new(1, Duration::ZERO));
        let first = limiter.acquire("a.example").await.unwrap();
        let l = Arc::clone(&limiter);
        let second = tokio::spawn(async move { l.acquire("a.example").await.is_ok() });
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(
            !second.is_finished(),
            "the second waits while the first is in flight"
        );
        drop(first);
        assert!(second.await.unwrap());
    }

    #[test]
    fn a_paused_host_refuses_until_the_pause_ends() {
        let limiter = HostLimiter::new(1, Duration::ZERO);
        let until = Utc::now() + chrono::Duration::seconds(60);
        limiter.pause("a.example", until);
        limiter.pause("a.example", Utc::now() + chrono::Duration::seconds(5));
        assert_eq!(
            limiter.paused_until("a.example"),
            Some(until),
            "not shortened"
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(limiter.acquire("a.example")).err(), Some(until));
        assert!(rt.block_on(limiter.acquire("b.example")).is_ok());
        limiter.pause("c.example", Utc::now() - chrono::Duration::seconds(1));
        assert_eq!(
            limiter.paused_until("c.example"),
            None,
            "a past pause is over"
        );
    }
}
