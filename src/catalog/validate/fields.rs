//! Checks shared by every kind of catalog entry: keys, text limits, URLs, enums, metadata, amounts.

use std::collections::BTreeMap;
use std::ops::Range;

use rust_decimal::Decimal;

use super::super::currency::Currency;
use super::super::diagnostic::{Diagnostic, Sink};
use super::super::model::{OnRemove, RESERVED_METADATA_PREFIX};
use super::super::money::{AmountError, MinorAmount, parse_decimal};
use super::super::raw::{RawAmounts, RawMetadata};
use super::super::reader::Sp;
use crate::resource::{Address, ResourceKind};

/// Stripe allows 50 metadata keys; billing reserves two for its ownership marker.
pub(crate) const MAX_USER_METADATA_KEYS: usize = 48;
const MAX_METADATA_KEY: usize = 40;
const MAX_METADATA_VALUE: usize = 500;

pub(crate) fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Catalog keys (`[products.<key>]`, prices, …) are `[a-z0-9_]+`.
pub(crate) fn check_key(sink: &Sink, key: &Sp<String>, what: &str) -> bool {
    let text = key.get_ref();
    let valid = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        let suggestion: String = text
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let mut d = Diagnostic::new(
            key.span(),
            format!("{what} key `{text}` may only contain lowercase letters, digits and `_`"),
        )
        .label("invalid key");
        if !suggestion.trim_matches('_').is_empty() && suggestion.is_ascii() {
            d = d.hint(if what == "product" {
                format!("rename it to `{suggestion}`; `name` holds the text customers see")
            } else {
                format!("rename it to `{suggestion}`")
            });
        }
        sink.push(d);
    }
    if chars(text) > 100 {
        sink.push(Diagnostic::new(
            key.span(),
            format!("{what} key `{text}` is longer than 100 characters"),
        ));
        return false;
    }
    valid
}

/// A field the entry must have: `value`, or `None` with the problem `missing` makes, unless
/// the entry had shape problems (`incomplete`: the field may just be mistyped, and that is
/// reported already).
pub(crate) fn required<T>(
    sink: &Sink,
    value: Option<T>,
    incomplete: bool,
    missing: impl FnOnce() -> Diagnostic,
) -> Option<T> {
    if value.is_none() && !incomplete {
        sink.push(missing());
    }
    value
}

/// A text customers see, which cannot be blank (`cannot_be_empty` adds to that problem),
/// with Stripe's maximum length.
pub(crate) fn nonblank(
    sink: &Sink,
    field: &str,
    value: Sp<String>,
    max: usize,
    cannot_be_empty: impl FnOnce(Diagnostic) -> Diagnostic,
) -> Option<String> {
    if value.get_ref().trim().is_empty() {
        sink.push(cannot_be_empty(Diagnostic::new(
            value.span(),
            format!("`{field}` cannot be empty"),
        )));
        return None;
    }
    text(sink, field, Some(value), max)
}

/// A percentage with at most `places` decimal places, from `min` to 100, normalized
/// (`too_precise` adds to the problem of one with more places).
pub(crate) fn percent(
    sink: &Sink,
    field: &str,
    value: &Sp<String>,
    (places, min): (u32, Decimal),
    too_precise: impl FnOnce(Diagnostic) -> Diagnostic,
) -> Option<Decimal> {
    let d = match parse_decimal(value.get_ref()) {
        Ok(d) => d,
        Err(e) => {
            sink.push(
                Diagnostic::new(value.span(), format!("`{field}`: {e}")).label("not a percentage"),
            );
            return None;
        }
    };
    if d.normalize().scale() > places {
        sink.push(too_precise(Diagnostic::new(
            value.span(),
            format!("`{field}` takes at most {places} decimal places"),
        )));
        return None;
    }
    if d < min || d > Decimal::ONE_HUNDRED {
        sink.push(
            Diagnostic::new(
                value.span(),
                format!("`{field}` must be between {min} and 100"),
            )
            .label("out of range"),
        );
        return None;
    }
    Some(d.normalize())
}

/// `id` pinning an entry to an existing Stripe object: 1 to `max` letters, digits, `_` or
/// `-` (`invalid` adds to the problem of another).
pub(crate) fn pinned_id(
    sink: &Sink,
    id: Option<&Sp<String>>,
    max: usize,
    invalid: impl FnOnce(Diagnostic) -> Diagnostic,
) {
    let Some(id) = id else { return };
    let text = id.get_ref();
    let valid = !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        sink.push(invalid(Diagnostic::new(
            id.span(),
            format!("`id` must be 1 to {max} letters, digits, `_` or `-`"),
        )));
    }
}

/// A text field with Stripe's maximum length; empty text counts as absent.
pub(crate) fn text(
    sink: &Sink,
    field: &str,
    value: Option<Sp<String>>,
    max: usize,
) -> Option<String> {
    let value = value?;
    let len = chars(value.get_ref());
    if len > max {
        sink.push(
            Diagnostic::new(
                value.span(),
                format!("`{field}` is {len} characters long; Stripe allows at most {max}"),
            )
            .label(format!("at most {max} characters")),
        );
    }
    Some(value.into_inner()).filter(|s| !s.is_empty())
}

/// An absolute http(s) URL.
pub(crate) fn url(sink: &Sink, field: &str, value: &Sp<String>) -> bool {
    let text = value.get_ref();
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    let ok = rest
        .is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace));
    if !ok {
        sink.push(
            Diagnostic::new(
                value.span(),
                format!("`{field}` must be an absolute http(s) URL"),
            )
            .label("not a URL")
            .hint("write it as https://example.com/…"),
        );
    }
    ok
}

/// One value of a closed set, with a did-you-mean on a typo.
pub(crate) fn one_of<T>(
    sink: &Sink,
    field: &str,
    value: &Sp<String>,
    all: &[&'static str],
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let text = value.get_ref();
    if let Some(v) = parse(text) {
        return Some(v);
    }
    let choices = all
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut d = Diagnostic::new(value.span(), format!("`{field}` must be one of {choices}"))
        .label(format!("\"{text}\" is not one of them"));
    if let Some(hint) = sink.did_you_mean(&text.to_lowercase(), all) {
        d = d.hint(hint);
    }
    sink.push(d);
    None
}

/// One word of the closed set `all`.
pub(crate) fn word(
    sink: &Sink,
    field: &str,
    value: &Sp<String>,
    all: &[&'static str],
) -> Option<String> {
    one_of(sink, field, value, all, |t| {
        all.iter().find(|x| **x == t).map(|x| (*x).to_owned())
    })
}

/// A currency code Stripe supports.
pub(crate) fn currency(sink: &Sink, value: &Sp<String>) -> Option<Currency> {
    let code = value.get_ref();
    if let Some(c) = Currency::parse(code) {
        return Some(c);
    }
    let mut d = Diagnostic::new(value.span(), format!("unknown currency `{code}`"))
        .label("not a currency Stripe supports");
    d = match Currency::suggest(code) {
        Some(best) => d.hint(format!("did you mean \"{best}\"?")),
        None => d.hint("use a three-letter ISO 4217 code such as \"usd\", \"eur\" or \"gbp\""),
    };
    sink.push(d);
    None
}

/// Metadata declared by the user, within Stripe's limits and clear of billing's reserved keys.
pub(crate) fn metadata(sink: &Sink, raw: Option<RawMetadata>) -> BTreeMap<String, String> {
    metadata_with_room(sink, raw, None)
}

/// `metadata`, for an entry that also takes `on_remove`: `keep` and `forget` are recorded in a
/// third reserved key (`billing_on_remove`), which leaves room for one key fewer.
pub(crate) fn metadata_with_room(
    sink: &Sink,
    raw: Option<RawMetadata>,
    on_remove: Option<&Sp<String>>,
) -> BTreeMap<String, String> {
    let Some(raw) = raw else {
        return BTreeMap::new();
    };
    let recorded = on_remove
        .map(|o| o.get_ref().as_str())
        .filter(|o| matches!(*o, "keep" | "forget"));
    if let Some(value) = recorded
        && raw.entries.len() == MAX_USER_METADATA_KEYS
    {
        sink.push(
            Diagnostic::new(
                raw.span.clone(),
                format!(
                    "{} metadata keys declared; with `on_remove = \"{value}\"` at most {} are allowed",
                    raw.entries.len(),
                    MAX_USER_METADATA_KEYS - 1
                ),
            )
            .hint("Stripe allows 50 keys per object; billing uses 2 for its ownership marker and 1 to record `on_remove`"),
        );
    }
    if raw.entries.len() > MAX_USER_METADATA_KEYS {
        sink.push(
            Diagnostic::new(
                raw.span.clone(),
                format!(
                    "{} metadata keys declared; at most {MAX_USER_METADATA_KEYS} are allowed",
                    raw.entries.len()
                ),
            )
            .hint("Stripe allows 50 keys per object and billing uses 2 for its ownership marker (billing_key, billing_ns)"),
        );
    }
    let mut out = BTreeMap::new();
    for (key, value) in raw.entries {
        let k = key.get_ref();
        if k.starts_with(RESERVED_METADATA_PREFIX) {
            sink.push(
                Diagnostic::new(key.span(), format!("metadata key `{k}` is reserved"))
                    .label("keys starting with `billing_` are billing's ownership marker")
                    .hint("rename the key"),
            );
        } else if k.is_empty() || chars(k) > MAX_METADATA_KEY {
            sink.push(
                Diagnostic::new(
                    key.span(),
                    format!("metadata key `{k}` must be 1 to {MAX_METADATA_KEY} characters long"),
                )
                .label(format!("{} characters", chars(k))),
            );
        } else if k.contains(['[', ']']) {
            sink.push(Diagnostic::new(
                key.span(),
                format!("metadata key `{k}` may not contain `[` or `]`"),
            ));
        }
        let v = value.get_ref();
        if chars(v) > MAX_METADATA_VALUE {
            sink.push(
                Diagnostic::new(
                    value.span(),
                    format!("metadata value of `{k}` is {} characters long; Stripe allows at most {MAX_METADATA_VALUE}", chars(v)),
                )
                .label(format!("at most {MAX_METADATA_VALUE} characters")),
            );
        } else if v.is_empty() {
            sink.push(
                Diagnostic::new(value.span(), format!("metadata value of `{k}` is empty")).hint(
                    "Stripe treats an empty value as removing the key: remove the entry instead",
                ),
            );
        }
        out.insert(key.into_inner(), value.into_inner());
    }
    out
}

/// The names of the three ways to write one amount.
pub(crate) struct AmountNames {
    pub major: &'static str,
    pub minor: &'static str,
    pub decimal: &'static str,
}

pub(crate) const UNIT_AMOUNT: AmountNames = AmountNames {
    major: "amount",
    minor: "unit_amount",
    decimal: "unit_amount_decimal",
};

pub(crate) const FLAT_AMOUNT: AmountNames = AmountNames {
    major: "flat_amount",
    minor: "flat_unit_amount",
    decimal: "flat_amount_decimal",
};

impl RawAmounts {
    pub(crate) fn is_empty(&self) -> bool {
        self.amount.is_none() && self.unit_amount.is_none() && self.unit_amount_decimal.is_none()
    }

    fn spans(&self) -> Vec<Range<usize>> {
        let mut spans = Vec::new();
        spans.extend(self.amount.as_ref().map(Sp::span));
        spans.extend(self.unit_amount.as_ref().map(Sp::span));
        spans.extend(self.unit_amount_decimal.as_ref().map(Sp::span));
        spans
    }
}

fn amount_problem(
    sink: &Sink,
    span: Range<usize>,
    (names, field): (&AmountNames, &str),
    error: &AmountError,
    currency: Option<Currency>,
) {
    let d = Diagnostic::new(span, format!("`{field}`: {error}"));
    let d = match (error, currency) {
        (AmountError::Inexact { places, .. }, Some(c)) => d
            .label(format!("{c} amounts have {places} decimal {}", if *places == 1 { "place" } else { "places" }))
            .hint(if names.decimal == names.minor {
                format!("round it to {places} decimal places")
            } else {
                format!(
                    "round it to {places} decimal places, or give `{}` in {c} minor units for amounts below the minor unit",
                    names.decimal
                )
            }),
        (AmountError::NotANumber(_), _) => d
            .label("not a plain decimal")
            .hint("write digits with an optional decimal point, e.g. \"79.00\""),
        (AmountError::Negative, _) => d.label("negative").hint("Stripe prices are 0 or more"),
        (AmountError::AboveMaximum(_), _) => d
            .label("too large for Stripe")
            .hint("Stripe amounts have at most eight digits in minor units (99,999,999 cents is $999,999.99)"),
        _ => d.label("invalid amount"),
    };
    sink.push(d);
}

/// Converts whichever of the three forms is given; reports none-or-several when `required`.
///
/// `currency` is `None` when it is itself invalid: then only the form is checked.
pub(crate) fn amount(
    sink: &Sink,
    raw: RawAmounts,
    names: &AmountNames,
    currency: Option<Currency>,
    owner: Range<usize>,
    required: bool,
) -> Option<MinorAmount> {
    let spans = raw.spans();
    if spans.len() > 1 {
        for span in &spans[1..] {
            sink.push(
                Diagnostic::new(
                    span.clone(),
                    format!(
                        "give only one of `{}`, `{}` and `{}`",
                        names.major, names.minor, names.decimal
                    ),
                )
                .label("second amount")
                .hint(format!(
                    "`{}` is in major units (\"79.00\"), `{}` in minor units (7900)",
                    names.major, names.minor
                )),
            );
        }
        return None;
    }
    if let Some(text) = raw.amount {
        let Some(c) = currency else {
            if let Err(e) = parse_decimal(text.get_ref()) {
                amount_problem(sink, text.span(), (names, names.major), &e, None);
            }
            return None;
        };
        return MinorAmount::from_major(text.get_ref(), c)
            .and_then(|a| a.within_stripe_limit(text.get_ref()))
            .map_err(|e| amount_problem(sink, text.span(), (names, names.major), &e, currency))
            .ok();
    }
    if let Some(units) = raw.unit_amount {
        return MinorAmount::from_minor(*units.get_ref())
            .and_then(|a| a.within_stripe_limit(&units.get_ref().to_string()))
            .map_err(|e| amount_problem(sink, units.span(), (names, names.minor), &e, currency))
            .ok();
    }
    if let Some(text) = raw.unit_amount_decimal {
        return MinorAmount::from_minor_decimal(text.get_ref())
            .and_then(|a| a.within_stripe_limit(text.get_ref()))
            .map_err(|e| amount_problem(sink, text.span(), (names, names.decimal), &e, currency))
            .ok();
    }
    if required {
        sink.push(
            Diagnostic::new(
                owner,
                format!(
                    "no amount: give `{}`, `{}` or `{}`",
                    names.major, names.minor, names.decimal
                ),
            )
            .label("missing amount")
            .hint(format!(
                "add `{} = \"79.00\"` (major units), or `{}` (integer minor units)",
                names.major, names.minor
            )),
        );
    }
    None
}

/// `moved_from`: the key an entry had before a rename, checked like a key.
pub(crate) fn moved_from(sink: &Sink, value: Option<Sp<String>>, what: &str) -> Option<String> {
    let value = value?;
    check_key(sink, &value, what).then(|| value.into_inner())
}

/// Renames among entries of one kind: `moved_from` must name a key that is no longer declared,
/// and at most one entry may move from it. `entries` are the declared keys and their
/// `moved_from`, `address` gives the address of the entry a key names
/// (`|key| Address::price("pro", key)`).
pub(crate) fn renames<'e>(
    sink: &Sink,
    address: impl Fn(&str) -> Address,
    entries: impl IntoIterator<Item = (&'e Sp<String>, Option<&'e Sp<String>>)>,
) {
    let entry = |key: &str| address(key).declaration();
    let entries: Vec<(&str, Option<&Sp<String>>)> = entries
        .into_iter()
        .map(|(key, from)| (key.get_ref().as_str(), from))
        .collect();
    let mut sources: BTreeMap<&str, &str> = BTreeMap::new();
    for (key, from) in &entries {
        let Some(from) = from else { continue };
        let old = from.get_ref().as_str();
        if old == *key {
            sink.push(
                Diagnostic::new(
                    from.span(),
                    format!("`moved_from` names {} itself", entry(key)),
                )
                .label("same key")
                .hint("`moved_from` is the key this entry had before a rename; remove it"),
            );
        } else if entries.iter().any(|(k, _)| *k == old) {
            let declared = entry(old);
            sink.push(
                Diagnostic::new(
                    from.span(),
                    format!("`moved_from = \"{old}\"` names {declared}, which is still declared"),
                )
                .label("still declared")
                .hint(format!(
                    "a rename moves the Stripe objects of {declared} here: remove {declared}, or drop `moved_from`"
                )),
            );
        } else if let Some(first) = sources.insert(old, key) {
            sink.push(
                Diagnostic::new(
                    from.span(),
                    format!(
                        "{} and {} both have `moved_from = \"{old}\"`",
                        entry(first),
                        entry(key)
                    ),
                )
                .label("moved twice")
                .hint("the objects of one key can move to one new key only"),
            );
        }
    }
}

/// Whether `name` is the key of a declared entry of `kind` (`known`): else a problem, which
/// says so when the entry is limited to other environments.
pub(crate) fn reference(
    sink: &Sink,
    kind: ResourceKind,
    name: &Sp<String>,
    known: &[&str],
) -> bool {
    if known.contains(&name.get_ref().as_str()) {
        return true;
    }
    let what = kind.noun();
    let address = Address::new(kind, name.get_ref());
    if sink.missing_reference(
        name.span(),
        &format!("{what} `{}`", name.get_ref()),
        &address,
    ) {
        return false;
    }
    let d = Diagnostic::new(
        name.span(),
        format!("no {what} `{}` in billing.toml", name.get_ref()),
    )
    .label(format!("unknown {what} key"));
    sink.push(match sink.suggest(name.get_ref(), known) {
        Some(best) => d.hint(format!("did you mean `{best}`?")),
        None => d.hint(format!("declare it as {}", address.declaration())),
    });
    false
}

/// A table's adoption ids and renames (`entries`: each entry's key, `id` and `moved_from`):
/// each id names one object ([`unique_ids`]), each rename one entry ([`renames`]).
pub(crate) fn ids_and_renames<'e>(
    sink: &Sink,
    address: impl Fn(&str) -> Address,
    entries: impl IntoIterator<
        Item = (
            &'e Sp<String>,
            Option<&'e Sp<String>>,
            Option<&'e Sp<String>>,
        ),
    >,
) {
    let entries: Vec<_> = entries.into_iter().collect();
    let ids: Vec<(Address, &Sp<String>)> = entries
        .iter()
        .filter_map(|(key, id, _)| Some((address(key.get_ref()), (*id)?)))
        .collect();
    unique_ids(sink, &ids);
    renames(
        sink,
        &address,
        entries.iter().map(|(key, _, from)| (*key, *from)),
    );
}

/// Adoption ids must name one object each: `entries` are each entry's address and `id`.
pub(crate) fn unique_ids(sink: &Sink, entries: &[(Address, &Sp<String>)]) {
    unique_values(
        sink,
        entries,
        |first, this, id| {
            format!(
                "{} and {} both have `id = \"{id}\"`",
                first.declaration(),
                this.declaration()
            )
        },
        (
            "duplicate id",
            "one Stripe object can be managed by one entry only",
        ),
    );
}

/// A value no two entries may share (`entries`: each entry's address and its value): a
/// problem at each value an earlier entry already holds, saying `message(first, this,
/// value)`, with `label` and `hint`.
pub(crate) fn unique_values(
    sink: &Sink,
    entries: &[(Address, &Sp<String>)],
    message: impl Fn(&Address, &Address, &str) -> String,
    (label, hint): (&str, &str),
) {
    let mut first: BTreeMap<&str, &Address> = BTreeMap::new();
    for (address, value) in entries {
        if let Some(other) = first.insert(value.get_ref(), address) {
            sink.push(
                Diagnostic::new(value.span(), message(other, address, value.get_ref()))
                    .label(label)
                    .hint(hint),
            );
        }
    }
}

/// An entry with both `id` and `moved_from`: `pinned` for kinds whose `id` also pins the
/// object (products, coupons), which is then found by its id after a rename.
pub(crate) fn id_or_moved_from(
    sink: &Sink,
    id: Option<&Sp<String>>,
    moved_from: Option<&Sp<String>>,
    pinned: bool,
) {
    if let (Some(_), Some(moved)) = (id, moved_from) {
        sink.push(
            Diagnostic::new(moved.span(), "`id` and `moved_from` cannot both be set")
                .label("remove one")
                .hint(if pinned {
                    "an entry pinned by `id` is found by its id after a rename: `moved_from` is not needed"
                } else {
                    "`id` adopts an object billing does not manage yet; `moved_from` renames one it manages: keep the one that applies"
                }),
        );
    }
}

/// `id`: an existing Stripe object to adopt, with the prefix its kind's ids have.
pub(crate) fn adopt_id(
    sink: &Sink,
    value: Option<Sp<String>>,
    prefix: &str,
    what: &str,
) -> Option<String> {
    let value = value?;
    let text = value.get_ref();
    let valid = text.len() > prefix.len()
        && text.len() <= 255
        && text.starts_with(prefix)
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        sink.push(
            Diagnostic::new(
                value.span(),
                format!("`id` must be a Stripe {what} id such as \"{prefix}1Abc…\""),
            )
            .label("not a valid id")
            .hint(format!(
                "set `id` only to adopt an existing {what} that billing does not manage yet"
            )),
        );
        return None;
    }
    Some(value.into_inner())
}

/// What becomes of an entry's objects when it leaves billing.toml: the values `on_remove`
/// takes, and the one it has when absent.
pub(crate) struct Removal {
    pub allowed: &'static [&'static str],
    pub default: OnRemove,
}

/// Products, prices and tax rates: archived, unless forgotten.
const ARCHIVED: Removal = Removal {
    allowed: super::super::shape::ARCHIVE_OR_FORGET,
    default: OnRemove::Archive,
};

/// [`metadata_and_removal`] of a product, price or tax rate ([`ARCHIVED`]).
pub(crate) fn archivable(
    sink: &Sink,
    metadata: Option<RawMetadata>,
    value: Option<&Sp<String>>,
) -> (BTreeMap<String, String>, Option<OnRemove>) {
    metadata_and_removal(sink, metadata, value, &ARCHIVED)
}

/// An entry's `metadata` (with room for the key `on_remove` is recorded in) and its
/// `on_remove`, one of `removal.allowed`.
pub(crate) fn metadata_and_removal(
    sink: &Sink,
    metadata: Option<RawMetadata>,
    value: Option<&Sp<String>>,
    removal: &Removal,
) -> (BTreeMap<String, String>, Option<OnRemove>) {
    let metadata = metadata_with_room(sink, metadata, value);
    let on_remove = on_remove(sink, value, removal.allowed, removal.default);
    (metadata, on_remove)
}

/// `on_remove`: one of `allowed`, else `default` when absent.
pub(crate) fn on_remove(
    sink: &Sink,
    value: Option<&Sp<String>>,
    allowed: &[&'static str],
    default: OnRemove,
) -> Option<OnRemove> {
    match value {
        None => Some(default),
        Some(v) => one_of(sink, "on_remove", v, allowed, |t| {
            OnRemove::parse(t).filter(|o| allowed.contains(&o.as_str()))
        }),
    }
}
