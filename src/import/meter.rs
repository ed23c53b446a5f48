//! Billing meters as `[meters.<key>]`, keyed by their event name. Meters carry no metadata:
//! billing knows them by event name, so what is written plans no change. Inactive meters are
//! written (`active = false`) only with `--include-archived`. Metered prices name the key
//! written here (see [`Keys`]).

use std::collections::BTreeMap;

use super::Ctx;
use super::keys::{self, KeySpace};
use super::write::{Table, Value};
use crate::catalog::{DEFAULT_CUSTOMER_KEY, DEFAULT_VALUE_KEY};
use crate::live::LiveMeter;

/// The key written for each meter, by meter id.
pub(crate) type Keys = BTreeMap<String, String>;

fn meter_table(m: &LiveMeter) -> Table {
    let mut t = Table::default();
    t.text("display_name", &m.display_name);
    t.text("event_name", &m.event_name);
    t.text("aggregation", &m.aggregation);
    if m.customer_mapping_key != DEFAULT_CUSTOMER_KEY {
        t.text("customer_mapping_key", &m.customer_mapping_key);
    }
    if m.value_key != DEFAULT_VALUE_KEY {
        t.text("value_key", &m.value_key);
    }
    if let Some(w) = &m.event_time_window {
        t.text("event_time_window", w);
    }
    if !m.active {
        t.set("active", Value::Bool(false));
    }
    t
}

/// `[meters]`, oldest meter first, and the key each written meter has.
pub(crate) fn meters(ctx: &Ctx<'_>) -> (Table, Keys) {
    let mut all: Vec<&LiveMeter> = ctx
        .live
        .meters
        .iter()
        .filter(|m| m.active || ctx.options.include_archived)
        .collect();
    all.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    let mut space = KeySpace::default();
    let mut table = Table::default();
    let mut written = Keys::new();
    for m in all {
        let base = keys::slug(&m.event_name).unwrap_or_else(|| "meter".to_owned());
        let key = space.claim(&base, keys::is_key).key;
        table.table(&key, meter_table(m));
        written.insert(m.id.clone(), key);
    }
    (table, written)
}
