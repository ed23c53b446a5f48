//! `[meters.<key>]`: a billing meter. How its table is read (with spans), the validated entry,
//! and its validation: a display name, an event name unique in billing.toml, the aggregation,
//! the payload keys and the event time window. Prices name a meter with `meter = "<key>"`
//! (checked by [`price_meters`]).

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Serialize;
use toml::de::DeValue;

use super::diagnostic::{Diagnostic, Sink};
use super::raw::RawProduct;
use super::reader::{Sp, TableReader};
use super::shape::{Table, Ty, field};
use super::validate::fields;
use crate::resource::{Address, ResourceKind};

/// `[meters.<key>]` as written.
#[derive(Debug)]
pub(crate) struct RawMeter {
    pub key: Sp<String>,
    pub span: Range<usize>,
    pub display_name: Option<Sp<String>>,
    pub event_name: Option<Sp<String>>,
    pub aggregation: Option<Sp<String>>,
    pub customer_mapping_key: Option<Sp<String>>,
    pub value_key: Option<Sp<String>>,
    pub event_time_window: Option<Sp<String>>,
    pub active: Option<Sp<bool>>,
    pub incomplete: bool,
}

/// `[meters.<key>]`.
pub(super) static METER: Table = Table::entry(&[
    field(
        "display_name",
        Ty::Text,
        "The meter's name in the Dashboard (required).",
    ),
    field(
        "event_name",
        Ty::Text,
        "The event name the application reports usage as; billing knows the meter by it (required).",
    ),
    field(
        "aggregation",
        Ty::Word(AGGREGATIONS),
        "How usage adds up over a period (default \"sum\").",
    ),
    field(
        "customer_mapping_key",
        Ty::Text,
        "The payload key holding the customer id (default \"stripe_customer_id\").",
    ),
    field(
        "value_key",
        Ty::Text,
        "The payload key holding the value (default \"value\").",
    ),
    field(
        "event_time_window",
        Ty::Word(TIME_WINDOWS),
        "Pre-aggregate events by \"day\" or \"hour\".",
    ),
    field(
        "active",
        Ty::Bool,
        "Whether it accepts events (default true).",
    ),
]);

/// The values of `aggregation`.
const AGGREGATIONS: &[&str] = &["count", "sum", "last"];
/// The values of `event_time_window`.
const TIME_WINDOWS: &[&str] = &["day", "hour"];

/// Keys written the way Stripe's API spells them.
const ALIASES: &[(&str, &str)] = &[
    (
        "default_aggregation",
        "billing.toml calls it `aggregation` (\"count\", \"sum\" or \"last\")",
    ),
    (
        "customer_mapping",
        "write `customer_mapping_key` (the event payload key that holds the customer id)",
    ),
    (
        "value_settings",
        "write `value_key` (the event payload key that holds the value)",
    ),
    (
        "metadata",
        "Stripe's meters carry no metadata: billing knows a meter by its `event_name`",
    ),
];

/// Reads `[meters.<key>]`.
pub(crate) fn read_meter(
    sink: &Sink,
    key: Sp<String>,
    value: &Sp<DeValue<'_>>,
) -> Option<RawMeter> {
    let t = TableReader::entry(sink, ResourceKind::Meter, key.get_ref(), value, &METER)?
        .with_aliases(ALIASES);
    let mut raw = RawMeter {
        span: value.span(),
        display_name: t.string("display_name"),
        event_name: t.string("event_name"),
        aggregation: t.string("aggregation"),
        customer_mapping_key: t.string("customer_mapping_key"),
        value_key: t.string("value_key"),
        event_time_window: t.string("event_time_window"),
        active: t.boolean("active"),
        incomplete: false,
        key,
    };
    raw.incomplete = t.incomplete();
    t.finish();
    Some(raw)
}

/// `[meters.<key>]`: a billing meter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Meter {
    pub key: String,
    pub display_name: String,
    /// What the application sends meter events as; billing's identity for the meter.
    pub event_name: String,
    /// `count`, `sum` or `last`.
    pub aggregation: String,
    pub customer_mapping_key: String,
    pub value_key: String,
    /// `day` or `hour`.
    pub event_time_window: Option<String>,
    pub active: bool,
}

/// The default `customer_mapping_key`, Stripe's.
pub(crate) const DEFAULT_CUSTOMER_KEY: &str = "stripe_customer_id";
/// The default `value_key`, Stripe's.
pub(crate) const DEFAULT_VALUE_KEY: &str = "value";

/// A payload key: 1 to 100 characters.
fn payload_key(sink: &Sink, field: &str, value: Option<Sp<String>>, default: &str) -> String {
    let Some(value) = value else {
        return default.to_owned();
    };
    if value.get_ref().trim().is_empty() {
        sink.push(
            Diagnostic::new(value.span(), format!("`{field}` cannot be empty"))
                .hint(format!("leave it out for Stripe's default, \"{default}\"")),
        );
    }
    fields::text(sink, field, Some(value), 100).unwrap_or_default()
}

/// Validates one `[meters.<key>]`.
fn meter(sink: &Sink, raw: RawMeter) -> Option<Meter> {
    let key_ok = fields::check_key(sink, &raw.key, "meter");
    let key = raw.key.get_ref().clone();
    let missing = |field: &str, hint: &str| {
        Diagnostic::new(raw.span.clone(), format!("meter `{key}` has no `{field}`"))
            .hint(hint.to_owned())
    };
    let display_name = fields::required(sink, raw.display_name, raw.incomplete, || {
        missing("display_name", "add display_name = \"API calls\"")
    })
    .and_then(|v| fields::nonblank(sink, "display_name", v, 250, |d| d));
    let event_name = fields::required(sink, raw.event_name, raw.incomplete, || {
        missing(
            "event_name",
            "add event_name = \"api_call\": the name the application sends meter events under",
        )
    })
    .and_then(|v| fields::nonblank(sink, "event_name", v, 100, |d| d));
    let aggregation = match &raw.aggregation {
        Some(v) => fields::word(sink, "aggregation", v, AGGREGATIONS),
        None => {
            if !raw.incomplete {
                sink.push(missing(
                    "aggregation",
                    "add aggregation = \"sum\" (or \"count\", \"last\")",
                ));
            }
            None
        }
    };
    let window = raw
        .event_time_window
        .as_ref()
        .map(|v| fields::word(sink, "event_time_window", v, TIME_WINDOWS));
    let entry = Meter {
        display_name: display_name?,
        event_name: event_name?,
        aggregation: aggregation?,
        customer_mapping_key: payload_key(
            sink,
            "customer_mapping_key",
            raw.customer_mapping_key,
            DEFAULT_CUSTOMER_KEY,
        ),
        value_key: payload_key(sink, "value_key", raw.value_key, DEFAULT_VALUE_KEY),
        event_time_window: match window {
            Some(w) => Some(w?),
            None => None,
        },
        active: raw.active.is_none_or(|a| *a.get_ref()),
        key,
    };
    key_ok.then_some(entry)
}

/// Meters by key, each event name declared once.
pub(crate) fn meters(sink: &Sink, raw: Vec<RawMeter>) -> BTreeMap<String, Meter> {
    fields::unique_values(
        sink,
        &raw.iter()
            .filter_map(|m| {
                let address = Address::new(ResourceKind::Meter, m.key.get_ref());
                Some((address, m.event_name.as_ref()?))
            })
            .collect::<Vec<_>>(),
        |first, this, name| {
            format!(
                "meters `{}` and `{}` both declare event_name \"{name}\"",
                first.key(),
                this.key()
            )
        },
        (
            "event name taken",
            "Stripe binds an event name to one meter: give each meter its own",
        ),
    );
    raw.into_iter()
        .filter_map(|m| meter(sink, m))
        .map(|m| (m.key.clone(), m))
        .collect()
}

/// `meter = "<key>"` on each price: a declared meter (`meters`, as written), on a recurring
/// price.
pub(crate) fn price_meters(sink: &Sink, products: &[RawProduct], meters: &[RawMeter]) {
    let known: Vec<&str> = meters.iter().map(|m| m.key.get_ref().as_str()).collect();
    let inactive = |key: &str| {
        meters
            .iter()
            .any(|m| m.key.get_ref() == key && m.active.as_ref().is_some_and(|a| !*a.get_ref()))
    };
    for price in products.iter().flat_map(|p| &p.prices) {
        let Some(meter) = &price.more().meter else {
            continue;
        };
        if price.interval.is_none() {
            sink.push(
                Diagnostic::new(meter.span(), "`meter` on a one-time price")
                    .label("metered prices are recurring")
                    .hint("add `interval = \"month\"`: Stripe bills metered usage each period"),
            );
        }
        if inactive(meter.get_ref()) {
            sink.push(
                Diagnostic::new(meter.span(), format!("meter `{}` is declared `active = false`", meter.get_ref()))
                    .label("an inactive meter")
                    .hint("Stripe attaches no price to a deactivated meter: point the price at an active meter, or remove the price before deactivating the meter"),
            );
        }
        if !known.contains(&meter.get_ref().as_str()) {
            let mut d = Diagnostic::new(
                meter.span(),
                format!("no meter `{}` is declared", meter.get_ref()),
            )
            .label("unknown meter");
            d = d.hint(sink.did_you_mean(meter.get_ref(), &known).unwrap_or_else(|| {
                format!(
                    "declare it as [meters.{}] with display_name, event_name and aggregation",
                    meter.get_ref()
                )
            }));
            sink.push(d);
        }
    }
}
