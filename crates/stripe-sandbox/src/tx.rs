//! A request's transaction on the [`State`]: reads are free, and every change goes through
//! [`Tx`]'s methods, which keep an undo journal. A transaction that panics is undone entirely,
//! and [`Tx::rollback_to`] undoes the changes made since a savepoint (the pipeline uses it to
//! drop the changes of a handler that returned an error). A write costs its own changes, never
//! a copy of the state.

use std::collections::BTreeMap;

use super::records::{Coupon, Event, IdempotencyRecord, MAX_EVENTS, Product, TaxSettings};
use super::state::{Record, State};

/// One change, as the journal records it: what undoes it.
type Undo = Box<dyn FnOnce(&mut State)>;

/// A map of [`State`], by key.
type Map<V> = fn(&mut State) -> &mut BTreeMap<String, V>;

/// A point in a transaction to roll back to (see [`Tx::rollback_to`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Savepoint(usize);

/// One request's access to the state: read freely, change through the methods below (each
/// change is journaled so that it can be undone).
pub(crate) struct Tx<'a> {
    state: &'a mut State,
    journal: Vec<Undo>,
}

impl<'a> Tx<'a> {
    pub(crate) fn new(state: &'a mut State) -> Tx<'a> {
        Tx {
            state,
            journal: Vec::new(),
        }
    }

    pub(crate) fn state(&self) -> &State {
        self.state
    }

    /// Whether the transaction changed anything (that was not rolled back).
    pub(crate) fn dirty(&self) -> bool {
        !self.journal.is_empty()
    }

    fn journal(&mut self, undo: impl FnOnce(&mut State) + 'static) {
        self.journal.push(Box::new(undo));
    }

    /// Replaces one value of the state.
    fn set<V: 'static>(&mut self, field: fn(&mut State) -> &mut V, value: V) {
        let old = std::mem::replace(field(self.state), value);
        self.journal(move |state| *field(state) = old);
    }

    /// Stores `value` under `key` in `map` (new, or replacing what it held).
    fn insert<V: 'static>(&mut self, map: Map<V>, key: String, value: V) {
        let old = map(self.state).insert(key.clone(), value);
        self.journal(move |state| match old {
            Some(old) => {
                map(state).insert(key, old);
            }
            None => {
                map(state).remove(&key);
            }
        });
    }

    /// Removes `key` from `map`, returning what it held.
    fn remove<V: Clone + 'static>(&mut self, map: Map<V>, key: &str) -> Option<V> {
        let old = map(self.state).remove(key)?;
        let (key, kept) = (key.to_string(), old.clone());
        self.journal(move |state| {
            map(state).insert(key, kept);
        });
        Some(old)
    }

    /// The next creation sequence number.
    pub(crate) fn take_seq(&mut self) -> u64 {
        let seq = self.state.next_seq;
        self.set(|state| &mut state.next_seq, seq + 1);
        seq
    }

    /// Stores `record` (new, or replacing the one with its id) and returns its id.
    pub(crate) fn put<T: Record>(&mut self, record: T) -> String {
        let id = record.id().to_string();
        self.insert(T::table_mut, id.clone(), record);
        id
    }

    /// Stores a new `record` with the next creation sequence number and returns its id.
    pub(crate) fn put_new<T: Record>(&mut self, mut record: T) -> String {
        record.set_seq(self.take_seq());
        self.put(record)
    }

    /// Deletes product `id` and remembers its id as used.
    pub(crate) fn delete_product(&mut self, id: &str) {
        self.remove(Product::table_mut, id);
        if self.state.deleted_products.insert(id.to_string()) {
            let id = id.to_string();
            self.journal(move |state| {
                state.deleted_products.remove(&id);
            });
        }
    }

    /// Deletes coupon `id`: it moves to the deleted coupons (its id stays used).
    pub(crate) fn delete_coupon(&mut self, id: &str) {
        if let Some(coupon) = self.remove(Coupon::table_mut, id) {
            self.insert(|state| &mut state.deleted_coupons, id.to_string(), coupon);
        }
    }

    /// Replaces the tax settings.
    pub(crate) fn put_tax_settings(&mut self, settings: TaxSettings) {
        self.set(|state| &mut state.tax_settings, settings);
    }

    /// Moves the sandbox's clock forward by `seconds` (see [`State::now`]).
    pub(crate) fn advance_clock(&mut self, seconds: i64) {
        let offset = self.state.clock_offset.saturating_add(seconds);
        self.set(|state| &mut state.clock_offset, offset);
    }

    /// Appends an event, dropping the oldest beyond [`MAX_EVENTS`].
    pub(crate) fn push_event(&mut self, event: Event) {
        self.state.events.push_back(event);
        let evicted = if self.state.events.len() > MAX_EVENTS {
            self.state.events.pop_front()
        } else {
            None
        };
        self.journal(move |state| {
            state.events.pop_back();
            if let Some(event) = evicted {
                state.events.push_front(event);
            }
        });
    }

    pub(crate) fn put_idempotency(&mut self, key: String, record: IdempotencyRecord) {
        self.insert(|state| &mut state.idempotency, key, record);
    }

    pub(crate) fn remove_idempotency(&mut self, key: &str) {
        self.remove(|state| &mut state.idempotency, key);
    }

    /// The current point of the transaction.
    pub(crate) fn savepoint(&self) -> Savepoint {
        Savepoint(self.journal.len())
    }

    /// Undoes every change of the transaction.
    pub(crate) fn rollback_all(&mut self) {
        self.rollback_to(Savepoint(0));
    }

    /// Undoes every change made since `savepoint`, newest first.
    pub(crate) fn rollback_to(&mut self, savepoint: Savepoint) {
        while self.journal.len() > savepoint.0 {
            let Some(undo) = self.journal.pop() else {
                break;
            };
            undo(self.state);
        }
    }
}
