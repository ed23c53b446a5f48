//! A request's transaction on the [`State`]: reads are free, and every change goes through
//! [`Tx`]'s methods, which keep an undo journal. A transaction that panics is undone entirely,
//! and [`Tx::rollback_to`] undoes the changes made since a savepoint (the pipeline uses it to
//! drop the changes of a handler that returned an error). A write costs its own changes, never
//! a copy of the state.

use std::collections::{BTreeMap, HashSet};

use super::records::{Event, IdempotencyRecord, MAX_EVENTS};
use super::resources::coupons::Coupon;
use super::resources::products::Product;
use super::resources::tax_settings::TaxSettings;
use super::state::{Record, State, Table};

/// A part of the state that a change touched: what the store writes to its journal for the
/// transaction (the part's value after it, see `changes.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Part {
    /// One entry of one of the state's maps (or sets), by key.
    Entry(Table, String),
    NextSeq,
    ClockOffset,
    TaxSettings,
    /// One more event at the end of the events.
    Event,
}

/// One change, as the journal records it: the part it touched, and what undoes it.
struct Change {
    part: Part,
    undo: Box<dyn FnOnce(&mut State)>,
}

/// A map of [`State`], by key.
type Map<V> = fn(&mut State) -> &mut BTreeMap<String, V>;

/// A point in a transaction to roll back to (see [`Tx::rollback_to`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Savepoint(usize);

/// One request's access to the state: read freely, change through the methods below (each
/// change is journaled so that it can be undone, and so that the store knows what changed).
pub(crate) struct Tx<'a> {
    state: &'a mut State,
    journal: Vec<Change>,
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

    /// The parts the transaction changed (and did not roll back), in the order of their first
    /// change; [`Part::Event`] once per event appended.
    pub(crate) fn touched(&self) -> Vec<Part> {
        let mut seen = HashSet::new();
        self.journal
            .iter()
            .map(|change| &change.part)
            .filter(|part| **part == Part::Event || seen.insert(*part))
            .cloned()
            .collect()
    }

    fn journal(&mut self, part: Part, undo: impl FnOnce(&mut State) + 'static) {
        self.journal.push(Change {
            part,
            undo: Box::new(undo),
        });
    }

    /// Replaces one value of the state.
    fn set<V: 'static>(&mut self, part: Part, field: fn(&mut State) -> &mut V, value: V) {
        let old = std::mem::replace(field(self.state), value);
        self.journal(part, move |state| *field(state) = old);
    }

    /// Stores `value` under `key` in `map`, the state's `table` (new, or replacing what it
    /// held).
    fn insert<V: 'static>(&mut self, table: Table, map: Map<V>, key: String, value: V) {
        let old = map(self.state).insert(key.clone(), value);
        let part = Part::Entry(table, key.clone());
        self.journal(part, move |state| match old {
            Some(old) => {
                map(state).insert(key, old);
            }
            None => {
                map(state).remove(&key);
            }
        });
    }

    /// Removes `key` from `map`, the state's `table`, returning what it held.
    fn remove<V: Clone + 'static>(&mut self, table: Table, map: Map<V>, key: &str) -> Option<V> {
        let old = map(self.state).remove(key)?;
        let (key, kept) = (key.to_string(), old.clone());
        let part = Part::Entry(table, key.clone());
        self.journal(part, move |state| {
            map(state).insert(key, kept);
        });
        Some(old)
    }

    /// The next creation sequence number.
    pub(crate) fn take_seq(&mut self) -> u64 {
        let seq = self.state.next_seq;
        self.set(Part::NextSeq, |state| &mut state.next_seq, seq + 1);
        seq
    }

    /// Stores `record` (new, or replacing the one with its id) and returns its id.
    pub(crate) fn put<T: Record>(&mut self, record: T) -> String {
        let id = record.id().to_string();
        self.insert(T::TABLE, T::table_mut, id.clone(), record);
        id
    }

    /// Stores a new `record` with the next creation sequence number and returns its id.
    pub(crate) fn put_new<T: Record>(&mut self, mut record: T) -> String {
        record.set_seq(self.take_seq());
        self.put(record)
    }

    /// Deletes the `T` with id `id` for good (nothing remembers it).
    pub(crate) fn delete<T: Record>(&mut self, id: &str) {
        self.remove(T::TABLE, T::table_mut, id);
    }

    /// Deletes product `id` and remembers its id as used.
    pub(crate) fn delete_product(&mut self, id: &str) {
        self.remove(Product::TABLE, Product::table_mut, id);
        if self.state.deleted_products.insert(id.to_string()) {
            let id = id.to_string();
            let part = Part::Entry(Table::DeletedProducts, id.clone());
            self.journal(part, move |state| {
                state.deleted_products.remove(&id);
            });
        }
    }

    /// Deletes coupon `id`: it moves to the deleted coupons (its id stays used).
    pub(crate) fn delete_coupon(&mut self, id: &str) {
        if let Some(coupon) = self.remove(Coupon::TABLE, Coupon::table_mut, id) {
            let deleted: Map<Coupon> = |state| &mut state.deleted_coupons;
            self.insert(Table::DeletedCoupons, deleted, id.to_string(), coupon);
        }
    }

    /// Replaces the tax settings.
    pub(crate) fn put_tax_settings(&mut self, settings: TaxSettings) {
        self.set(Part::TaxSettings, |state| &mut state.tax_settings, settings);
    }

    /// Moves the sandbox's clock forward by `seconds` (see [`State::now`]).
    pub(crate) fn advance_clock(&mut self, seconds: i64) {
        let offset = self.state.clock_offset.saturating_add(seconds);
        self.set(Part::ClockOffset, |state| &mut state.clock_offset, offset);
    }

    /// Appends an event, dropping the oldest beyond [`MAX_EVENTS`].
    pub(crate) fn push_event(&mut self, event: Event) {
        self.state.events.push_back(event);
        let evicted = if self.state.events.len() > MAX_EVENTS {
            self.state.events.pop_front()
        } else {
            None
        };
        self.journal(Part::Event, move |state| {
            state.events.pop_back();
            if let Some(event) = evicted {
                state.events.push_front(event);
            }
        });
    }

    pub(crate) fn put_idempotency(&mut self, key: String, record: IdempotencyRecord) {
        let map: Map<IdempotencyRecord> = |state| &mut state.idempotency;
        self.insert(Table::Idempotency, map, key, record);
    }

    pub(crate) fn remove_idempotency(&mut self, key: &str) {
        let map: Map<IdempotencyRecord> = |state| &mut state.idempotency;
        self.remove(Table::Idempotency, map, key);
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
            let Some(change) = self.journal.pop() else {
                break;
            };
            (change.undo)(self.state);
        }
    }
}
