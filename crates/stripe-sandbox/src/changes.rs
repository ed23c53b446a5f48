//! A transaction's changes as data: what the store appends to a state file's journal for each
//! write, and how a process replays the writes of another (or its own, after a restart).
//!
//! A change holds the value a part of the state has after the transaction (see
//! [`Part`]): the entry of a map as it now is (or its deletion), a field's new value, an
//! event appended. Replaying the changes of every transaction in order rebuilds the state.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::records::{Event, MAX_EVENTS};
use super::resources::tax_settings::TaxSettings;
use super::state::{State, Table};
use super::tx::Part;

/// One part of the state as a transaction left it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Change {
    /// An entry stored (new or replaced) in a table.
    Put {
        table: Table,
        key: String,
        value: Value,
    },
    /// An entry removed from a table.
    Delete {
        table: Table,
        key: String,
    },
    NextSeq(u64),
    ClockOffset(i64),
    TaxSettings(TaxSettings),
    /// An event appended (the oldest dropped beyond [`MAX_EVENTS`]).
    Event(Event),
}

/// One committed transaction: the state's generation after it, and its changes.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Commit {
    pub generation: u64,
    pub changes: Vec<Change>,
}

/// The changes that bring a state to `state`, given the parts a transaction `touched` (see
/// [`Tx::touched`](super::tx::Tx::touched)).
pub(crate) fn of(state: &State, touched: &[Part]) -> Result<Vec<Change>, serde_json::Error> {
    let appended = touched.iter().filter(|p| **p == Part::Event).count();
    let mut events = state
        .events
        .iter()
        .skip(state.events.len().saturating_sub(appended));
    let mut changes = Vec::with_capacity(touched.len());
    for part in touched {
        changes.push(match part {
            Part::Entry(table, key) => match table.entry(state, key)? {
                Some(value) => Change::Put {
                    table: *table,
                    key: key.clone(),
                    value,
                },
                None => Change::Delete {
                    table: *table,
                    key: key.clone(),
                },
            },
            Part::NextSeq => Change::NextSeq(state.next_seq),
            Part::ClockOffset => Change::ClockOffset(state.clock_offset),
            Part::TaxSettings => Change::TaxSettings(state.tax_settings.clone()),
            Part::Event => match events.next() {
                Some(event) => Change::Event(event.clone()),
                // More events appended than kept: the dropped ones are dropped on replay too.
                None => continue,
            },
        });
    }
    Ok(changes)
}

/// Applies one committed transaction to `state`.
pub(crate) fn apply(state: &mut State, commit: Commit) -> Result<(), serde_json::Error> {
    state.generation = commit.generation;
    for change in commit.changes {
        match change {
            Change::Put { table, key, value } => table.put(state, key, value)?,
            Change::Delete { table, key } => table.delete(state, &key),
            Change::NextSeq(seq) => state.next_seq = seq,
            Change::ClockOffset(offset) => state.clock_offset = offset,
            Change::TaxSettings(settings) => state.tax_settings = settings,
            Change::Event(event) => {
                state.events.push_back(event);
                while state.events.len() > MAX_EVENTS {
                    state.events.pop_front();
                }
            }
        }
    }
    Ok(())
}
