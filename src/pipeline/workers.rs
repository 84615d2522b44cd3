//! What workers sharing one store coordinate through it: leases on the sources each polls
//! (claimed in batches, renewed, given back, taken over from a process that died), and the
//! per-host request limits kept in the store so that they hold for all workers together.

use super::*;

/// The host limits kept in the store, for workers sharing it.
pub(super) struct StoreHosts {
    pub(super) store: Arc<Store>,
    pub(super) holder: String,
    /// How long a slot is held at most: a worker that dies gives it back after this.
    pub(super) hold: Duration,
}

impl crate::fetch::SharedHosts for StoreHosts {
    fn reserve(&self, host: &str, slots: usize, delay: Duration) -> crate::fetch::Reserving {
        let detached =
            self.store
                .reserve_host_detached(host, &self.holder, slots, delay, self.hold);
        match detached {
            // The pass's other polls go on while the database answers.
            Some(turn) => Box::pin(async move { Ok(turn.await?) }),
            None => {
                let turn = crate::store::off_runtime(|| {
                    self.store
                        .reserve_host(host, &self.holder, slots, delay, self.hold)
                });
                Box::pin(std::future::ready(turn.map_err(Into::into)))
            }
        }
    }

    fn release(&self, host: &str, slot: i64) {
        // Not waited for: the slot runs out by itself if this is lost.
        self.store.release_host_detached(host, slot, &self.holder);
    }
}

impl Pipeline {
    /// How long a lease on a source holds: long enough for a feed and its articles, short
    /// enough that the sources of a process that died are taken up again soon.
    pub(super) fn lease_length(&self) -> chrono::Duration {
        let d = self
            .config
            .schedule
            .lease
            .unwrap_or_else(|| (self.config.fetch.timeout * 10).max(Duration::from_secs(300)));
        chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::minutes(5))
    }

    /// Leases sources to this process for a poll; returns those it got. The others are
    /// being polled by another figwatch process right now or, with `due_by`, are no longer due
    /// by then (another worker sharing the store polled them since this one looked). The
    /// sources got have their state refreshed from the store, which another worker may have
    /// moved. An error: the store cannot record leases (a full disk), and so no poll either —
    /// never to be mistaken for sources another process holds.
    pub fn claim(
        &self,
        indices: &[usize],
        due_by: Option<DateTime<Utc>>,
    ) -> store::Result<Vec<usize>> {
        let now = Utc::now();
        let ids: Vec<i64> = indices.iter().map(|&i| self.source_ids[i]).collect();
        let (now_text, until) = (
            store::timestamp(now),
            store::timestamp(now + self.lease_length()),
        );
        let due_by = due_by.map(store::timestamp);
        // Polling without a lease risks a source polled twice at once; not polling risks
        // nothing but time: an error here polls nothing.
        let claimed = self
            .store
            .claim_sources(
                &ids,
                &self.lease_owner,
                &now_text,
                &until,
                due_by.as_deref(),
            )
            .and_then(|mut claimed| {
                // A lease held by a process of this machine that no longer runs (killed, or
                // crashed) is taken over now rather than when it runs out.
                let missing: Vec<i64> = ids
                    .iter()
                    .copied()
                    .filter(|id| !claimed.contains_key(id))
                    .collect();
                for id in &missing {
                    if let Some((holder, _)) =
                        crate::store::off_runtime(|| self.store.lease_of(*id, &now_text))?
                    {
                        if lease::is_dead_local(&holder)
                            && crate::store::off_runtime(|| {
                                self.store
                                    .take_over_source(*id, &holder, &self.lease_owner, &until)
                            })?
                        {
                            tracing::info!(
                                source = id,
                                "took over the lease of {holder}, which no longer runs"
                            );
                            if let Some(state) =
                                crate::store::off_runtime(|| self.store.source_state(*id))?
                            {
                                claimed.insert(*id, state);
                            }
                        }
                    }
                }
                Ok(claimed)
            })?;
        let (mine, busy): (Vec<usize>, Vec<usize>) = indices
            .iter()
            .partition(|&&i| claimed.contains_key(&self.source_ids[i]));
        for &i in &busy {
            match self
                .store
                .lease_of(self.source_ids[i], &store::timestamp(now))
                .ok()
                .flatten()
            {
                // Workers sharing a store meet like this all the time; a `--poll` beside
                // the daemon is worth a line.
                Some((holder, until)) if self.store.is_postgres() => tracing::debug!(
                    source = %self.config.sources[i].url,
                    "skipped: {holder} is polling it (lease until {until})"
                ),
                Some((holder, until)) => tracing::info!(
                    source = %self.config.sources[i].url,
                    "skipped: {holder} is polling it (lease until {until})"
                ),
                None => tracing::debug!(
                    source = %self.config.sources[i].url,
                    "skipped: another worker polled it since this one looked"
                ),
            }
        }
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        states.extend(claimed);
        Ok(mine)
    }

    /// Leases up to `limit` of the configured sources that are due and that no other worker
    /// holds (workers sharing a store take their work this way); returns them, soonest due
    /// first, with their state refreshed from the store.
    pub fn claim_due(&self, limit: usize) -> Vec<usize> {
        use std::sync::atomic::Ordering;
        let now = Utc::now();
        let claimed = match crate::store::off_runtime(|| {
            self.store.claim_due_sources(
                self.claimed_ids(),
                &self.lease_owner,
                &store::timestamp(now),
                &store::timestamp(now + self.lease_length()),
                limit,
            )
        }) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("cannot lease sources for polling: {e}");
                return Vec::new();
            }
        };
        let mut mine = Vec::with_capacity(claimed.len());
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        for (id, state) in claimed {
            match self.source_index.get(&id) {
                Some(&i) => {
                    states.insert(id, state);
                    mine.push(i);
                }
                None => {
                    // Another process added a source this worker does not poll: give it
                    // back, and name this worker's sources in its claims from now on.
                    self.claims_name_sources.store(true, Ordering::Relaxed);
                    if let Err(e) = crate::store::off_runtime(|| {
                        self.store.release_source(id, &self.lease_owner)
                    }) {
                        tracing::warn!("cannot give back a source: {e}");
                    }
                }
            }
        }
        mine
    }

    pub(super) fn claimed_ids(&self) -> Option<&str> {
        self.claims_name_sources
            .load(std::sync::atomic::Ordering::Relaxed)
            .then_some(self.source_ids_json.as_str())
    }

    /// Frees the leases and request slots of processes of this machine that have ended
    /// (killed, or crashed), so that their sources are polled now rather than when the
    /// leases run out.
    pub fn free_dead_leases(&self) {
        let holders = match crate::store::off_runtime(|| self.store.lease_holders(&store::now())) {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!("cannot read the leases: {e}");
                return;
            }
        };
        for holder in holders.iter().filter(|h| lease::is_dead_local(h)) {
            match crate::store::off_runtime(|| self.store.free_leases_of(holder)) {
                Ok(n) => {
                    tracing::info!("took over {n} source(s) from {holder}, which no longer runs")
                }
                Err(e) => tracing::warn!("cannot free the leases of {holder}: {e}"),
            }
        }
    }

    /// When the next configured source can be claimed (due, and no live lease on it).
    pub fn next_claimable(&self) -> Option<DateTime<Utc>> {
        match crate::store::off_runtime(|| {
            self.store.next_claimable(self.claimed_ids(), &store::now())
        }) {
            // Never polled (stored as no time): now.
            Ok(at) => Some(
                at.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                    .map_or_else(Utc::now, |t| t.with_timezone(&Utc)),
            ),
            Err(e) => {
                tracing::error!("cannot read the schedule: {e}");
                None
            }
        }
    }

    /// How long until the lease on source `index` runs out (`None`: no live lease).
    pub fn lease_left(&self, index: usize) -> Option<Duration> {
        let now = Utc::now();
        let (_, until) = self
            .store
            .lease_of(self.source_ids[index], &store::timestamp(now))
            .ok()??;
        let until = DateTime::parse_from_rfc3339(&until).ok()?;
        (until.with_timezone(&Utc) - now).to_std().ok()
    }

    /// Reads a source's state from the store again (after a claim that failed: another worker
    /// polled it, and its next check moved). Returns the stored next check.
    pub fn refresh_state(&self, index: usize) -> Option<DateTime<Utc>> {
        let id = self.source_ids[index];
        match crate::store::off_runtime(|| self.store.source_state(id)) {
            Ok(Some(state)) => {
                let next = state.next_check_at;
                self.states
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(id, state);
                next
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!("cannot read a source's schedule: {e}");
                None
            }
        }
    }

    /// Gives back the leases this process holds.
    pub fn release(&self) {
        if let Err(e) = crate::store::off_runtime(|| self.store.release_sources(&self.lease_owner))
        {
            tracing::error!("cannot give back the sources' leases: {e}");
        }
    }
}
