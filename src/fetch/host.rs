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

/// The right to send one request to a host; dropping it frees the slot (and, with workers
/// sharing a store, the shared slot).
#[must_use]
pub struct HostPermit {
    _slot: OwnedSemaphorePermit,
    shared: Option<(Arc<dyn SharedHosts>, String, i64)>,
}

impl Drop for HostPermit {
    fn drop(&mut self) {
        if let Some((shared, host, slot)) = self.shared.take() {
            shared.release(&host, slot);
        }
    }
}

/// What a host's shared state answers a worker that wants to send it a request.
#[derive(Debug, Clone, PartialEq)]
pub enum HostTurn {
    /// Slot `slot` is yours; start at `start_at`.
    /// Slot `slot` is yours; start at `start_at`.
    Go {
        /// The slot taken.
        slot: i64,
        /// When the request may start.
        start_at: DateTime<Utc>,
    },
    /// Every slot is held by some worker: ask again shortly.
    Busy,
    /// The host asked us to wait until then.
    Paused(DateTime<Utc>),
}

/// Per-host politeness kept where several workers see it (the store they share), so that the
/// limits hold for all of them together.
pub trait SharedHosts: Send + Sync {
    /// Asks for one of `slots` request slots of `host` and a start time `delay` after the
    /// last start. The answer is awaited: other requests go on while the store is asked.
    fn reserve(&self, host: &str, slots: usize, delay: Duration) -> Reserving;
    /// Gives a slot back, without waiting for the store.
    fn release(&self, host: &str, slot: i64);
}

/// A [`SharedHosts::reserve`] under way.
pub type Reserving = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<HostTurn, SharedError>> + Send + 'static>,
>;

/// Why the shared state could not be read (the store's own error, kept as it is).
pub type SharedError = Box<dyn std::error::Error + Send + Sync>;

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
    /// Set when workers share the store: the limits then hold across them.
    shared: std::sync::OnceLock<Arc<dyn SharedHosts>>,
}

impl HostLimiter {
    /// At most `per_host_concurrency` requests to one host at once, started `per_host_delay` apart.
    pub fn new(per_host_concurrency: usize, per_host_delay: Duration) -> HostLimiter {
        HostLimiter {
            per_host: per_host_concurrency.max(1),
            delay: per_host_delay,
            hosts: Mutex::new(HashMap::new()),
            shared: std::sync::OnceLock::new(),
        }
    }

    /// Keeps the limits in `shared` too, from now on (once; later calls change nothing).
    pub fn share(&self, shared: Arc<dyn SharedHosts>) {
        let _ = self.shared.set(shared);
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
        if let Some(shared) = self.shared.get() {
            match self.acquire_shared(shared.as_ref(), host).await {
                Ok(Some(shared_slot)) => {
                    return Ok(HostPermit {
                        _slot: slot,
                        shared: Some((Arc::clone(shared), host.to_string(), shared_slot)),
                    })
                }
                Err(until) => {
                    self.pause(host, until);
                    return Err(until);
                }
                // The store failed (and said so): this worker's own limits still hold.
                Ok(None) => {}
            }
        }
        if !self.delay.is_zero() {
            let mut next = h.next_start.lock().await;
            tokio::time::sleep_until(*next).await;
            *next = Instant::now() + self.delay;
        }
        Ok(HostPermit {
            _slot: slot,
            shared: None,
        })
    }

    /// Waits for a slot and a start time from the shared state; `Ok(None)` when it cannot be
    /// read, `Err` with the end of the host's pause.
    async fn acquire_shared(
        &self,
        shared: &dyn SharedHosts,
        host: &str,
    ) -> Result<Option<i64>, DateTime<Utc>> {
        let mut wait = Duration::from_millis(20);
        loop {
            match shared.reserve(host, self.per_host, self.delay).await {
                Ok(HostTurn::Go { slot, start_at }) => {
                    if let Ok(d) = (start_at - Utc::now()).to_std() {
                        tokio::time::sleep(d).await;
                    }
                    return Ok(Some(slot));
                }
                Ok(HostTurn::Busy) => {
                    // Slots are freed by other processes, which cannot wake this one: ask
                    // again, backing off, with jitter so that waiting workers do not all ask
                    // at once.
                    let jitter = fastrand::u64(0..=wait.as_millis() as u64 / 2);
                    tokio::time::sleep(wait + Duration::from_millis(jitter)).await;
                    wait = (wait * 2).min(Duration::from_millis(500));
                }
                Ok(HostTurn::Paused(until)) => return Err(until),
                Err(e) => {
                    tracing::error!(
                        host,
                        "cannot share this host's politeness with the other workers: {e}; this worker keeps its own limits"
                    );
                    return Ok(None);
                }
            }
        }
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
