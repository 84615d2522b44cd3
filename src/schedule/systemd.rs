//! The systemd notification protocol (`Type=notify`): READY when the daemon polls, RELOADING
//! around a SIGHUP, STOPPING on shutdown, and a watchdog ping at half of `WatchdogSec` so that
//! systemd restarts a daemon whose loop has hung. Outside systemd (no `$NOTIFY_SOCKET`) every
//! call does nothing.

use std::time::Duration;

use sd_notify::NotifyState;

fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::debug!("cannot notify systemd: {e}");
    }
}

pub fn ready(status: &str) {
    notify(&[NotifyState::Ready, NotifyState::Status(status)]);
}

pub fn reloading() {
    let mut states = vec![NotifyState::Reloading];
    if let Ok(now) = NotifyState::monotonic_usec_now() {
        states.push(now);
    }
    notify(&states);
}

pub fn stopping() {
    notify(&[
        NotifyState::Stopping,
        NotifyState::Status("finishing the polls in progress"),
    ]);
}

/// Pings the watchdog when systemd asked for one (`WatchdogSec=`); otherwise never fires.
pub struct Watchdog {
    interval: Option<tokio::time::Interval>,
}

impl Watchdog {
    pub fn new() -> Watchdog {
        let mut usec = 0;
        let interval = sd_notify::watchdog_enabled(false, &mut usec).then(|| {
            let mut i = tokio::time::interval(
                Duration::from_micros(usec / 2).max(Duration::from_millis(100)),
            );
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            i
        });
        Watchdog { interval }
    }

    /// Waits for the next ping, sends it.
    pub async fn tick(&mut self) {
        match &mut self.interval {
            Some(i) => {
                i.tick().await;
                notify(&[NotifyState::Watchdog]);
            }
            None => std::future::pending().await,
        }
    }
}
