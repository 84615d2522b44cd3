//! The dashboard's connections, bounded so that no client can take the daemon down.
//!
//! A connection that never finishes its request headers used to stay open for good, and about
//! a thousand of them took every file descriptor of the process: the dashboard stopped
//! answering and polls failed. So, per connection: [`HEADER_TIMEOUT`] to send a request's
//! headers (the first, and each next one on a kept-alive connection, so it is the idle
//! timeout too) and [`LIFETIME`] in all (a client that reads its answer a byte a minute).
//! In number: at most [`MAX_CONNECTIONS`], and [`MAX_PER_PEER`] from one address. When a new
//! connection would pass a limit, the connection idle for longest (waiting for headers, or
//! kept alive between requests) is closed to make room, so a flood of slow clients cannot
//! keep out a browser or a health check, which send their request at once; only when every
//! connection is busy answering is the new one refused. The daemon's polling therefore always
//! has the rest of the process's descriptors.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Time a client has to send a request's headers, and to send the next request on a
/// connection kept alive.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a connection is served in all.
pub const LIFETIME: Duration = Duration::from_secs(60);
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 256;
/// Connections served at once from one address.
pub const MAX_PER_PEER: usize = 32;

/// Raises the process's soft limit on open files to its hard limit, as Go's runtime does: the
/// soft default (1,024) dates from `select()`, which figwatch does not use. The dashboard's
/// share stays bounded whatever the limit; this leaves polling more room beside it.
pub fn raise_descriptor_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                tracing::debug!("could not raise the limit on open files");
            }
        }
    }
}

/// Accepts connections until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let table = Table::default();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was accepted: wait
                    // a little instead of spinning on the same error.
                    tracing::warn!("dashboard: cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        let Some((slot, evicted)) = table.admit(peer.ip()) else {
            tracing::debug!(%peer, "dashboard: every connection is busy; refused");
            continue;
        };
        let service = Tracked {
            inner: TowerToHyperService::new(router.clone()),
            slot: slot.clone(),
        };
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = tokio::time::timeout(LIFETIME, connection) => {}
                _ = evicted => {}
            }
            slot.close();
        });
    }
}

/// The open connections: who, and since when idle (None while a request is being answered).
#[derive(Default, Clone)]
struct Table(Arc<Mutex<TableInner>>);

#[derive(Default)]
struct TableInner {
    next: u64,
    open: HashMap<u64, Entry>,
}

struct Entry {
    peer: IpAddr,
    idle_since: Option<Instant>,
    evict: Option<oneshot::Sender<()>>,
}

impl Table {
    /// Room for a connection from `peer`, made by closing the longest-idle connection if a
    /// limit is reached; None when every connection in the way is busy.
    fn admit(&self, peer: IpAddr) -> Option<(Slot, oneshot::Receiver<()>)> {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let from_peer = t.open.values().filter(|e| e.peer == peer).count();
        let crowded = if from_peer >= MAX_PER_PEER {
            Some(Some(peer))
        } else if t.open.len() >= MAX_CONNECTIONS {
            Some(None)
        } else {
            None
        };
        if let Some(among) = crowded {
            let oldest = t
                .open
                .iter()
                .filter(|(_, e)| among.is_none_or(|p| e.peer == p))
                .filter_map(|(id, e)| e.idle_since.map(|since| (since, *id)))
                .min()?;
            if let Some(mut entry) = t.open.remove(&oldest.1) {
                if let Some(evict) = entry.evict.take() {
                    let _ = evict.send(());
                }
            }
        }
        let id = t.next;
        t.next += 1;
        let (evict, evicted) = oneshot::channel();
        t.open.insert(
            id,
            Entry {
                peer,
                idle_since: Some(Instant::now()),
                evict: Some(evict),
            },
        );
        Some((
            Slot {
                table: self.clone(),
                id,
            },
            evicted,
        ))
    }
}

/// One connection's place in the table.
#[derive(Clone)]
struct Slot {
    table: Table,
    id: u64,
}

impl Slot {
    fn set_idle(&self, idle: bool) {
        let mut t = self.table.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = t.open.get_mut(&self.id) {
            e.idle_since = idle.then(Instant::now);
        }
    }

    fn close(&self) {
        let mut t = self.table.0.lock().unwrap_or_else(|e| e.into_inner());
        t.open.remove(&self.id);
    }
}

/// The router, marking its connection busy while it answers a request.
struct Tracked {
    inner: TowerToHyperService<Router>,
    slot: Slot,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Tracked {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        self.slot.set_idle(false);
        let answer = self.inner.call(request);
        let slot = self.slot.clone();
        Box::pin(async move {
            let response = answer.await;
            slot.set_idle(true);
            response
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_makes_room_by_closing_the_longest_idle_connection() {
        let table = Table::default();
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let mut from_a: Vec<_> = (0..MAX_PER_PEER).map(|_| table.admit(a).unwrap()).collect();
        // The first one is answering a request: it is never closed to make room.
        from_a[0].0.set_idle(false);
        let (_, mut second_evicted) = from_a.remove(1);
        let _next = table.admit(a).expect("room made");
        assert!(second_evicted.try_recv().is_ok(), "the longest idle went");
        assert!(from_a[0].1.try_recv().is_err(), "the busy one stayed");
        // Another address is not limited by the first one's share.
        assert!(table.admit(b).is_some());
        // Every connection of the address busy: a new one is refused.
        for (slot, _) in &from_a {
            slot.set_idle(false);
        }
        _next.0.set_idle(false);
        assert!(table.admit(a).is_none());
    }
}
