//! The raw stage of tax: `[tax]` (settings and `[[tax.registrations]]`) and `[tax_rates.<key>]`.

use std::ops::Range;

use toml::de::DeValue;

use super::diagnostic::{Diagnostic, Sink};
use super::raw::{RawMetadata, read_metadata};
use super::reader::{Sp, TableReader, expect_table, number_text};
use super::shape::{ID, METADATA, MOVED_FROM, ON_REMOVE_ARCHIVE, Table, Ty, field};
use super::tax::DEFAULT_TAX_BEHAVIORS;
use crate::resource::{Address, ResourceKind};
use stripe_facts::{COUNTRIES, TAX_TYPES};

/// `[tax]`.
#[derive(Debug, Default)]
pub(crate) struct RawTax {
    pub default_tax_behavior: Option<Sp<String>>,
    pub default_tax_code: Option<Sp<String>>,
    pub head_office: Option<RawAddress>,
    pub registrations: Vec<RawRegistration>,
}

/// An address (`head_office`).
#[derive(Debug)]
pub(crate) struct RawAddress {
    pub span: Range<usize>,
    pub line1: Option<Sp<String>>,
    pub line2: Option<Sp<String>>,
    pub city: Option<Sp<String>>,
    pub state: Option<Sp<String>>,
    pub postal_code: Option<Sp<String>>,
    pub country: Option<Sp<String>>,
}

/// One `[[tax.registrations]]` entry.
#[derive(Debug)]
pub(crate) struct RawRegistration {
    pub span: Range<usize>,
    pub country: Option<Sp<String>>,
    /// Stripe's `country_options[<cc>][type]`.
    pub kind: Option<Sp<String>>,
    /// A US state, or a Canadian province.
    pub state: Option<Sp<String>>,
    /// `"now"` or a datetime.
    pub active_from: Option<Sp<When>>,
    pub ends_at: Option<Sp<When>>,
}

/// A moment Stripe takes as `now` or a timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// The moment of the request.
    Now,
    /// Unix seconds.
    At(i64),
}

/// `[tax_rates.<key>]`.
#[derive(Debug)]
pub(crate) struct RawTaxRate {
    pub key: Sp<String>,
    pub span: Range<usize>,
    pub id: Option<Sp<String>>,
    pub moved_from: Option<Sp<String>>,
    pub on_remove: Option<Sp<String>>,
    pub display_name: Option<Sp<String>>,
    /// Decimal text.
    pub percentage: Option<Sp<String>>,
    pub inclusive: Option<Sp<bool>>,
    pub active: Option<Sp<bool>>,
    pub country: Option<Sp<String>>,
    pub state: Option<Sp<String>>,
    pub jurisdiction: Option<Sp<String>>,
    pub tax_type: Option<Sp<String>>,
    pub description: Option<Sp<String>>,
    pub metadata: Option<RawMetadata>,
    pub incomplete: bool,
}

/// `[tax]`.
pub(super) static TAX: Table = Table::of(&[
    field(
        "default_tax_behavior",
        Ty::Word(DEFAULT_TAX_BEHAVIORS),
        "Whether prices without a tax_behavior include tax.",
    ),
    field(
        "default_tax_code",
        Ty::Text,
        "The tax code of products without one, such as \"txcd_10103001\".",
    ),
    field(
        "head_office",
        Ty::Table(&ADDRESS),
        "The business's head office address.",
    ),
    field(
        "registrations",
        Ty::Tables(&REGISTRATION),
        "Where the business collects tax, as [[tax.registrations]].",
    ),
]);

static ADDRESS: Table = Table::of(&[
    field("line1", Ty::Text, "Street address."),
    field("line2", Ty::Text, "Apartment, suite or building."),
    field("city", Ty::Text, "City or town."),
    field("state", Ty::Text, "State, county or province."),
    field("postal_code", Ty::Text, "ZIP or postal code."),
    field(
        "country",
        Ty::Word(COUNTRIES),
        "Two-letter country code in capitals (required).",
    ),
]);

static REGISTRATION: Table = Table::entry(&[
    field(
        "country",
        Ty::Word(COUNTRIES),
        "Two-letter country code in capitals (required).",
    ),
    field(
        "type",
        Ty::Text,
        "The registration type, such as \"standard\", \"ioss\" or \"state_sales_tax\" (it depends on the country).",
    ),
    field("state", Ty::Text, "The US state, for a US registration."),
    field(
        "province",
        Ty::Text,
        "The Canadian province, for a provincial registration.",
    ),
    field(
        "active_from",
        Ty::Either(&[Ty::Exactly("now"), Ty::Datetime]),
        "When it takes effect: \"now\" or a date and time.",
    ),
    field(
        "ends_at",
        Ty::Either(&[Ty::Exactly("now"), Ty::Datetime]),
        "When it ends: \"now\" or a date and time.",
    ),
]);

/// `[tax_rates.<key>]`.
pub(super) static TAX_RATE: Table = Table::entry(&[
    field(
        "display_name",
        Ty::Text,
        "The name on invoices, such as \"VAT\" (required).",
    ),
    field(
        "percentage",
        Ty::Amount,
        "The rate in percent, such as 19 or 8.875 (required).",
    ),
    field(
        "inclusive",
        Ty::Bool,
        "Whether prices include it (required).",
    ),
    field(
        "active",
        Ty::Bool,
        "Whether it can be applied (default true).",
    ),
    field(
        "country",
        Ty::Word(COUNTRIES),
        "Two-letter country code in capitals.",
    ),
    field("state", Ty::Text, "The state or province code."),
    field(
        "jurisdiction",
        Ty::Text,
        "The jurisdiction shown on invoices.",
    ),
    field("tax_type", Ty::Word(TAX_TYPES), "The kind of tax."),
    field("description", Ty::Text, "An internal description."),
    METADATA,
    ID,
    MOVED_FROM,
    ON_REMOVE_ARCHIVE,
]);

fn when(t: &TableReader<'_, '_>, key: &str) -> Option<Sp<When>> {
    let value = t.value(key)?;
    match value.get_ref() {
        DeValue::String(s) if s == "now" => Some(Sp::new(value.span(), When::Now)),
        DeValue::Datetime(_) => t
            .timestamp(key)
            .map(|ts| Sp::new(ts.span(), When::At(*ts.get_ref()))),
        _ => {
            t.sink().push(
                Diagnostic::new(
                    value.span(),
                    format!(
                        "`{key}` must be \"now\" or a date and time such as 2027-01-01T00:00:00Z"
                    ),
                )
                .label("expected \"now\" or a datetime"),
            );
            None
        }
    }
}

/// Reads `[tax]`.
pub(crate) fn read_tax(sink: &Sink, t: &TableReader<'_, '_>) -> Option<RawTax> {
    let tax = t.table("tax")?;
    let head_office = tax.table("head_office").map(|a| {
        let address = RawAddress {
            span: a.span(),
            line1: a.string("line1"),
            line2: a.string("line2"),
            city: a.string("city"),
            state: a.string("state"),
            postal_code: a.string("postal_code"),
            country: a.string("country"),
        };
        a.finish();
        address
    });
    let registrations = tax.array_of_tables(
        "registrations",
        |span| {
            Diagnostic::new(span, "`registrations` must be an array of tables")
                .hint("write each registration as a [[tax.registrations]] section")
        },
        |span| {
            Diagnostic::new(span, "each tax registration must be a table")
                .hint("write them as [[tax.registrations]] sections")
        },
    );
    let registrations = registrations
        .map(Sp::into_inner)
        .unwrap_or_default()
        .into_iter()
        .map(|(i, span, table)| {
            let name = format!("in tax registration {}", i + 1);
            read_registration(TableReader::new(sink, name, span, table, &REGISTRATION))
        })
        .collect();
    let raw = RawTax {
        default_tax_behavior: tax.string("default_tax_behavior"),
        default_tax_code: tax.string("default_tax_code"),
        head_office,
        registrations,
    };
    tax.finish();
    Some(raw)
}

/// Reads one `[[tax.registrations]]` entry.
fn read_registration(r: TableReader<'_, '_>) -> RawRegistration {
    let state = match (r.string("state"), r.string("province")) {
        (Some(s), None) | (None, Some(s)) => Some(s),
        (Some(s), Some(p)) => {
            r.sink().push(Diagnostic::new(
                p.span(),
                "give `state` (US) or `province` (Canada), not both",
            ));
            Some(s)
        }
        (None, None) => None,
    };
    let raw = RawRegistration {
        span: r.span(),
        country: r.string("country"),
        kind: r.string("type"),
        state,
        active_from: when(&r, "active_from"),
        ends_at: when(&r, "ends_at"),
    };
    r.finish();
    raw
}

/// Reads `[tax_rates.<key>]`.
pub(crate) fn read_tax_rate(
    sink: &Sink,
    key: Sp<String>,
    value: &Sp<DeValue<'_>>,
) -> Option<RawTaxRate> {
    let table = expect_table(sink, value, &format!("tax rate `{}`", key.get_ref()), None)?;
    let t = TableReader::new(
        sink,
        format!(
            "in {}",
            Address::new(ResourceKind::TaxRate, key.get_ref()).declaration()
        ),
        value.span(),
        table,
        &TAX_RATE,
    );
    let percentage = t
        .value("percentage")
        .and_then(|v| number_text(v.get_ref()).map(|text| Sp::new(v.span(), text)));
    if let Some(v) = t.value("percentage")
        && percentage.is_none()
    {
        sink.push(
            Diagnostic::new(
                v.span(),
                "`percentage` must be a number such as 19 or 8.875",
            )
            .label("expected a number"),
        );
    }
    let mut rate = RawTaxRate {
        span: value.span(),
        id: t.string("id"),
        moved_from: t.string("moved_from"),
        on_remove: t.string("on_remove"),
        display_name: t.string("display_name"),
        percentage,
        inclusive: t.boolean("inclusive"),
        active: t.boolean("active"),
        country: t.string("country"),
        state: t.string("state"),
        jurisdiction: t.string("jurisdiction"),
        tax_type: t.string("tax_type"),
        description: t.string("description"),
        metadata: read_metadata(&t),
        incomplete: false,
        key,
    };
    rate.incomplete = t.incomplete();
    t.finish();
    Some(rate)
}
