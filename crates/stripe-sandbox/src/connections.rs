//! The open connections, bounded: at most a fixed number are served at once. A connection
//! beyond the limit is still accepted, and makes room by closing the idlest open one: one
//! between requests (or still sending a request's headers) that has been so the longest, and
//! only when every connection is handling a request, the one whose request started first (it
//! finishes that request, then closes). So a client that holds connections open without using
//! them can neither exhaust the sandbox's file descriptors nor lock a new client out.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::Notify;

/// One open connection, as the limit sees it.
#[derive(Debug)]
pub(crate) struct Connection {
    /// Requests being handled on it: 0 when idle between requests (or reading headers).
    busy: AtomicUsize,
    /// When a request last started or ended on it (or it opened), in microseconds since the
    /// table was made.
    active_at: AtomicU64,
    /// Told to close to make room.
    evicted: Notify,
}

impl Connection {
    /// Resolves when the connection must close to make room for a new one.
    pub(crate) async fn evicted(&self) {
        self.evicted.notified().await;
    }

    /// Whether a request is being handled on it.
    pub(crate) fn is_busy(&self) -> bool {
        self.busy.load(Ordering::SeqCst) > 0
    }
}

/// Marks a connection busy for as long as it is held (one request).
pub(crate) struct Busy<'a> {
    table: &'a Connections,
    connection: Arc<Connection>,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.connection.busy.fetch_sub(1, Ordering::SeqCst);
        self.table.touch(&self.connection);
    }
}

/// The table of open connections.
#[derive(Debug)]
pub(crate) struct Connections {
    max: usize,
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<BTreeMap<u64, Arc<Connection>>>,
}

impl Connections {
    /// A table that serves at most `max` connections at once (at least one).
    pub(crate) fn new(max: usize) -> Connections {
        Connections {
            max: max.max(1),
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::new(BTreeMap::new()),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn touch(&self, connection: &Connection) {
        connection.active_at.store(self.now(), Ordering::SeqCst);
    }

    /// Registers a new connection, closing the idlest open one first if the table is full.
    /// Returns its id (for [`Connections::close`]) and its handle.
    pub(crate) fn open(&self) -> (u64, Arc<Connection>) {
        let connection = Arc::new(Connection {
            busy: AtomicUsize::new(0),
            active_at: AtomicU64::new(self.now()),
            evicted: Notify::new(),
        });
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        while open.len() >= self.max {
            let idlest = open
                .iter()
                .min_by_key(|(_, c)| (c.is_busy(), c.active_at.load(Ordering::SeqCst)))
                .map(|(id, _)| *id);
            let Some(victim) = idlest.and_then(|id| open.remove(&id)) else {
                break;
            };
            // Stored as a permit if the connection is not waiting yet.
            victim.evicted.notify_one();
        }
        open.insert(id, Arc::clone(&connection));
        (id, connection)
    }

    /// Forgets a connection that has closed.
    pub(crate) fn close(&self, id: u64) {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    /// Marks `connection` busy with one more request until the guard is dropped.
    pub(crate) fn busy<'a>(&'a self, connection: &Arc<Connection>) -> Busy<'a> {
        connection.busy.fetch_add(1, Ordering::SeqCst);
        self.touch(connection);
        Busy {
            table: self,
            connection: Arc::clone(connection),
        }
    }

    /// How many connections are open.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_closes_the_idlest_connection_first() {
        let table = Connections::new(3);
        let (a, first) = table.open();
        let (_, second) = table.open();
        let (_, third) = table.open();
        let _working = table.busy(&first);
        // `second` has been idle longest among the idle ones: it goes, not the busy `first`.
        std::thread::sleep(std::time::Duration::from_millis(2));
        drop(table.busy(&third));
        let (_, _fourth) = table.open();
        assert_eq!(table.len(), 3);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(1), second.evicted())
                .await
                .expect("the idlest connection is told to close");
        });
        table.close(a);
        assert_eq!(table.len(), 2);
    }
}
