//! The first stage: billing.toml read into plain structures, every value with its source span.
//!
//! Reading checks only shapes (types, known keys). Meaning (amounts, references, Stripe's
//! limits) is checked by validation, which turns a [`RawCatalog`] into a [`super::Catalog`].

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::diagnostic::{Diagnostic, Sink};
use super::model::{BillingScheme, Interval, Round, TaxBehavior, TiersMode};
use super::reader::{Sp, TableReader, expect_table, number_text};
use super::shape::{ID, Key, METADATA, MOVED_FROM, ON_REMOVE_ARCHIVE, Table, Ty, field};
use crate::resource::Address;

/// `[products.<key>]`.
#[derive(Debug, Clone)]
pub(crate) struct RawProduct {
    /// The product's key.
    pub key: Sp<String>,
    /// The table's header.
    pub span: Range<usize>,
    pub id: Option<Sp<String>>,
    pub name: Option<Sp<String>>,
    pub description: Option<Sp<String>>,
    pub active: Option<Sp<bool>>,
    pub tax_code: Option<Sp<String>>,
    pub unit_label: Option<Sp<String>>,
    pub statement_descriptor: Option<Sp<String>>,
    pub url: Option<Sp<String>>,
    pub images: Option<Sp<Vec<Sp<String>>>>,
    pub features: Option<Sp<Vec<Sp<String>>>>,
    /// `entitlements`: keys of `[entitlements.<key>]` attached to the product.
    pub entitlements: Option<Sp<Vec<Sp<String>>>>,
    pub metadata: Option<RawMetadata>,
    pub default_price: Option<Sp<String>>,
    pub moved_from: Option<Sp<String>>,
    pub on_remove: Option<Sp<String>>,
    /// `[products.<key>.prices.<key>]` in source order.
    pub prices: Vec<RawPrice>,
    /// The table's own fields had shape problems (already reported): a missing field may just be mistyped.
    pub incomplete: bool,
}

/// A `metadata` table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawMetadata {
    /// The table.
    pub span: Range<usize>,
    /// Keys and string values.
    pub entries: Vec<(Sp<String>, Sp<String>)>,
}

/// `[products.<key>.prices.<key>]`.
#[derive(Debug, Clone)]
pub(crate) struct RawPrice {
    /// The price's key.
    pub key: Sp<String>,
    /// The table's header.
    pub span: Range<usize>,
    pub currency: Option<Sp<String>>,
    pub amounts: RawAmounts,
    pub interval: Option<Sp<String>>,
    pub interval_count: Option<Sp<i64>>,
    pub lookup_key: Option<Sp<String>>,
    /// The fields most prices do without, boxed only when one is written: a catalog of
    /// 100,000 prices is read whole before it is validated, and these fields made up two
    /// thirds of each price as written.
    pub more: Option<Box<RawPriceMore>>,
    /// The table had shape problems (already reported): a missing field may just be mistyped.
    pub incomplete: bool,
}

/// The fields of a [`RawPrice`] most prices do without.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RawPriceMore {
    pub id: Option<Sp<String>>,
    pub moved_from: Option<Sp<String>>,
    pub on_remove: Option<Sp<String>>,
    /// `meter = "<key>"`: a metered price.
    pub meter: Option<Sp<String>>,
    pub nickname: Option<Sp<String>>,
    pub tax_behavior: Option<Sp<String>>,
    pub metadata: Option<RawMetadata>,
    pub billing_scheme: Option<Sp<String>>,
    pub tiers_mode: Option<Sp<String>>,
    pub tiers: Option<Sp<Vec<RawTier>>>,
    pub transform_quantity: Option<RawTransformQuantity>,
    pub currency_options: Vec<RawCurrencyOption>,
}

impl RawPrice {
    /// The fields most prices do without (all empty when none is written).
    pub(crate) fn more(&self) -> &RawPriceMore {
        static NONE: std::sync::LazyLock<RawPriceMore> =
            std::sync::LazyLock::new(RawPriceMore::default);
        self.more.as_deref().unwrap_or(&NONE)
    }
}

/// The three ways to write a unit amount; exactly one may be given.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct RawAmounts {
    /// `amount`: exact decimal in major units.
    pub amount: Option<Sp<String>>,
    /// `unit_amount`: integer minor units.
    pub unit_amount: Option<Sp<i64>>,
    /// `unit_amount_decimal`: minor units, up to 12 decimals.
    pub unit_amount_decimal: Option<Sp<String>>,
}

/// One entry of `tiers`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawTier {
    /// The tier's table.
    pub span: Range<usize>,
    pub up_to: Option<Sp<RawUpTo>>,
    /// Per-unit amount.
    pub unit: RawAmounts,
    /// Flat amount: `flat_amount` (major), `flat_unit_amount` (minor), `flat_amount_decimal` (minor).
    pub flat: RawAmounts,
}

/// A tier's upper bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawUpTo {
    /// Up to this quantity.
    Count(i64),
    /// `"inf"`: the last tier.
    Inf,
}

/// `transform_quantity`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawTransformQuantity {
    pub span: Range<usize>,
    pub divide_by: Option<Sp<i64>>,
    pub round: Option<Sp<String>>,
}

/// One entry of `currency_options`: `eur = "72.00"` or `eur = { amount = "72.00", tax_behavior = ... }`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawCurrencyOption {
    /// The currency code as written.
    pub currency: Sp<String>,
    pub span: Range<usize>,
    pub amounts: RawAmounts,
    pub tax_behavior: Option<Sp<String>>,
    pub tiers: Option<Sp<Vec<RawTier>>>,
}

/// `[products.<key>]`.
pub(super) static PRODUCT: Table = Table::entry(&[
    ID,
    field(
        "name",
        Ty::Text,
        "The product's name, as customers see it (required).",
    ),
    field(
        "description",
        Ty::Text,
        "What customers read under the name (Checkout, the portal, invoices).",
    ),
    field(
        "active",
        Ty::Bool,
        "Whether the product can be bought (default true).",
    ),
    field(
        "tax_code",
        Ty::Text,
        "A Stripe tax code such as `txcd_10103001` (software as a service).",
    ),
    field(
        "unit_label",
        Ty::Text,
        "What one unit is called on receipts and invoices (`seat`).",
    ),
    field(
        "statement_descriptor",
        Ty::Text,
        "The text on card statements (5 to 22 characters).",
    ),
    field("url", Ty::Text, "A public page about the product."),
    field("images", Ty::Texts, "URLs of up to 8 images."),
    field(
        "features",
        Ty::Texts,
        "Marketing features shown on pricing tables (up to 15).",
    ),
    field(
        "entitlements",
        Ty::Texts,
        "Keys of [entitlements.<key>] features the product grants.",
    ),
    METADATA,
    field(
        "default_price",
        Ty::Text,
        "The key of one of its prices: the one Checkout and pricing tables use by default.",
    ),
    field(
        "prices",
        Ty::Entries(Key::Catalog, &PRICE),
        "Its prices, as [products.<key>.prices.<key>].",
    ),
    MOVED_FROM,
    ON_REMOVE_ARCHIVE,
]);

const PRODUCT_ALIASES: &[(&str, &str)] = &[
    (
        "marketing_features",
        "billing calls this `features`: a list of strings",
    ),
    (
        "default_price_data",
        "declare prices under [products.<key>.prices.<key>] and name one in `default_price`",
    ),
];

/// `[products.<product>.prices.<key>]`.
static PRICE: Table = Table::entry(&[
    field(
        "currency",
        Ty::Currency,
        "The price's currency, a three-letter code such as \"usd\" (required).",
    ),
    field(
        "amount",
        Ty::Amount,
        "The unit amount in major units: \"79.00\".",
    ),
    field(
        "unit_amount",
        Ty::Integer,
        "The unit amount in minor units (cents): 7900.",
    ),
    field(
        "unit_amount_decimal",
        Ty::Text,
        "The unit amount in minor units with decimals: \"0.5\".",
    ),
    field(
        "interval",
        Ty::Word(Interval::ALL),
        "How often a recurring price bills; without it the price is one-time.",
    ),
    field(
        "interval_count",
        Ty::Integer,
        "The number of intervals between bills (default 1).",
    ),
    field(
        "meter",
        Ty::Text,
        "The key of the [meters.<key>] whose usage this recurring price bills.",
    ),
    field(
        "nickname",
        Ty::Text,
        "An internal label, not shown to customers.",
    ),
    field(
        "lookup_key",
        Ty::Text,
        "A key the application finds the price by; moves to the new price when it is replaced.",
    ),
    field(
        "tax_behavior",
        Ty::Word(TaxBehavior::ALL),
        "Whether the amount includes tax.",
    ),
    METADATA,
    field(
        "billing_scheme",
        Ty::Word(BillingScheme::ALL),
        "\"per_unit\" (the default) or \"tiered\".",
    ),
    field(
        "tiers_mode",
        Ty::Word(TiersMode::ALL),
        "How tiers apply to a tiered price.",
    ),
    field(
        "tiers",
        Ty::Tables(&TIER),
        "The tiers of a tiered price, the last with up_to = \"inf\".",
    ),
    field(
        "transform_quantity",
        Ty::Table(&TRANSFORM),
        "Bill for packages of units: the quantity divided, then rounded.",
    ),
    field(
        "currency_options",
        Ty::CurrencyOptions(&CURRENCY_OPTION),
        "The amount in other currencies: `eur = \"72.00\"` or a table.",
    ),
    ID,
    MOVED_FROM,
    ON_REMOVE_ARCHIVE,
]);

const PRICE_ALIASES: &[(&str, &str)] = &[
    (
        "aggregate_usage",
        "Stripe removed `aggregate_usage` (API version 2025-03-31.basil): the meter's `aggregation` decides how usage adds up",
    ),
    (
        "usage_type",
        "write `meter = \"<key>\"`: a price with a meter is metered, one without is licensed",
    ),
    (
        "recurring",
        "write `interval` (and `interval_count`) directly on the price",
    ),
    (
        "type",
        "a price with `interval` is recurring, one without is one-time",
    ),
    (
        "product",
        "a price belongs to the product whose table it is in",
    ),
    (
        "name",
        "prices have no name (customers see the product's); use `nickname` for an internal label",
    ),
    (
        "active",
        "a price is archived by removing it from the catalog",
    ),
];

static TIER: Table = Table::of(&[
    field(
        "up_to",
        Ty::Either(&[Ty::Integer, Ty::Exactly("inf")]),
        "The tier's last quantity, or \"inf\" for the last tier.",
    ),
    field(
        "amount",
        Ty::Amount,
        "The price per unit in this tier, in major units.",
    ),
    field(
        "unit_amount",
        Ty::Integer,
        "The price per unit in this tier, in minor units.",
    ),
    field(
        "unit_amount_decimal",
        Ty::Text,
        "The price per unit in this tier, in minor units with decimals.",
    ),
    field(
        "flat_amount",
        Ty::Amount,
        "A flat fee for the tier, in major units.",
    ),
    field(
        "flat_unit_amount",
        Ty::Integer,
        "A flat fee for the tier, in minor units.",
    ),
    field(
        "flat_amount_decimal",
        Ty::Text,
        "A flat fee for the tier, in minor units with decimals.",
    ),
]);

static CURRENCY_OPTION: Table = Table::of(&[
    field(
        "amount",
        Ty::Amount,
        "The unit amount in this currency, in major units.",
    ),
    field(
        "unit_amount",
        Ty::Integer,
        "The unit amount in this currency, in minor units.",
    ),
    field(
        "unit_amount_decimal",
        Ty::Text,
        "The unit amount in this currency, in minor units with decimals.",
    ),
    field(
        "tax_behavior",
        Ty::Word(TaxBehavior::ALL),
        "Whether the amount includes tax.",
    ),
    field("tiers", Ty::Tables(&TIER), "The tiers in this currency."),
]);

static TRANSFORM: Table = Table::of(&[
    field(
        "divide_by",
        Ty::Integer,
        "The number of units in a package.",
    ),
    field(
        "round",
        Ty::Word(Round::ALL),
        "Round the divided quantity up or down.",
    ),
]);

/// Parses TOML text into its tables; a syntax error goes to `sink` (nothing can be read
/// reliably after one: only the first is reported).
pub(crate) fn parse_toml<'i>(text: &'i str, sink: &Sink) -> Option<Sp<DeTable<'i>>> {
    parse_toml_taking(text, sink, None).map(|(root, _)| root)
}

/// [`parse_toml`], offering the entries of one top-level table to `taker` as the text is
/// parsed (see [`super::pieces`]); the flag tells whether what it took stands.
pub(crate) fn parse_toml_taking<'i>(
    text: &'i str,
    sink: &Sink,
    taker: Option<&mut super::pieces::Taker<'_, 'i>>,
) -> Option<(Sp<DeTable<'i>>, bool)> {
    match super::pieces::parse(text, taker) {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            let span = error.span().unwrap_or(0..0);
            sink.push(
                Diagnostic::new(
                    span,
                    format!("invalid TOML: {}", error.message().trim_end()),
                )
                .label("here"),
            );
            None
        }
    }
}

/// The key of the configuration written as `[portal]`.
pub(super) const DEFAULT_PORTAL: &str = "default";

/// `value` as the table of a `what` (`product`) at `key`; else a problem, and `None`.
fn entry_table<'a, 'i>(
    sink: &Sink,
    what: &str,
    key: &Sp<String>,
    value: &'a Sp<DeValue<'i>>,
) -> Option<&'a DeTable<'i>> {
    let key = key.get_ref();
    let hint = format!("write it as a [{what}s.{key}] section");
    expect_table(sink, value, &format!("{what} `{key}`"), Some(hint))
}

/// Reads `[products.<key>]` and its prices.
pub(super) fn read_product(
    sink: &Sink,
    key: Sp<String>,
    value: &Sp<DeValue<'_>>,
) -> Option<RawProduct> {
    let table = entry_table(sink, "product", &key, value)?;
    let t = TableReader::new(
        sink,
        format!("in {}", Address::product(key.get_ref()).declaration()),
        value.span(),
        table,
        &PRODUCT,
    )
    .with_aliases(PRODUCT_ALIASES);
    let mut product = RawProduct {
        span: value.span(),
        id: t.string("id"),
        name: t.string("name"),
        description: t.string("description"),
        active: t.boolean("active"),
        tax_code: t.string("tax_code"),
        unit_label: t.string("unit_label"),
        statement_descriptor: t.string("statement_descriptor"),
        url: t.string("url"),
        images: t.strings("images"),
        features: t.strings("features"),
        entitlements: t.strings("entitlements"),
        metadata: read_metadata(&t),
        default_price: t.string("default_price"),
        moved_from: t.string("moved_from"),
        on_remove: t.string("on_remove"),
        prices: Vec::new(),
        incomplete: false,
        key,
    };
    product.incomplete = t.incomplete();
    if let Some((_, prices)) = t.map("prices") {
        product.prices.reserve_exact(prices.len());
        for (price_key, value) in prices {
            if let Some(price) = read_price(sink, product.key.get_ref(), price_key, value) {
                product.prices.push(price);
            }
        }
    }
    t.finish();
    Some(product)
}

/// Reads `metadata`: a table of string values.
pub(crate) fn read_metadata(t: &TableReader<'_, '_>) -> Option<RawMetadata> {
    let (span, entries) = t.map("metadata")?;
    let mut out = Vec::new();
    for (key, value) in entries {
        match value.get_ref() {
            DeValue::String(s) => out.push((key, Sp::new(value.span(), s.to_string()))),
            _ => t.sink().push(
                Diagnostic::new(
                    value.span(),
                    format!("metadata value `{}` must be a string", key.get_ref()),
                )
                .label("expected a string")
                .hint("Stripe stores metadata as strings: put the value in double quotes"),
            ),
        }
    }
    Some(RawMetadata { span, entries: out })
}

fn read_amounts(t: &TableReader<'_, '_>, amount: &str, unit: &str, decimal: &str) -> RawAmounts {
    RawAmounts {
        amount: t.amount(amount),
        unit_amount: t.integer(unit),
        unit_amount_decimal: t.string(decimal),
    }
}

/// Reads `[products.<product>.prices.<key>]`.
fn read_price(
    sink: &Sink,
    product: &str,
    key: Sp<String>,
    value: &Sp<DeValue<'_>>,
) -> Option<RawPrice> {
    let table = entry_table(sink, "price", &key, value)?;
    let name = format!(
        "in {}",
        Address::price(product, key.get_ref()).declaration()
    );
    let t = TableReader::new(sink, name, value.span(), table, &PRICE).with_aliases(PRICE_ALIASES);
    let more = RawPriceMore {
        id: t.string("id"),
        moved_from: t.string("moved_from"),
        on_remove: t.string("on_remove"),
        meter: t.string("meter"),
        nickname: t.string("nickname"),
        tax_behavior: t.string("tax_behavior"),
        metadata: read_metadata(&t),
        billing_scheme: t.string("billing_scheme"),
        tiers_mode: t.string("tiers_mode"),
        tiers: read_tiers(&t),
        transform_quantity: read_transform(&t),
        currency_options: read_currency_options(&t),
    };
    let mut price = RawPrice {
        span: value.span(),
        currency: t.string("currency"),
        amounts: read_amounts(&t, "amount", "unit_amount", "unit_amount_decimal"),
        interval: t.string("interval"),
        interval_count: t.integer("interval_count"),
        lookup_key: t.string("lookup_key"),
        more: (more != RawPriceMore::default()).then(|| Box::new(more)),
        incomplete: false,
        key,
    };
    price.incomplete = t.incomplete();
    t.finish();
    Some(price)
}

/// Reads `tiers`: an array of tables.
fn read_tiers(t: &TableReader<'_, '_>) -> Option<Sp<Vec<RawTier>>> {
    let tables = t.array_of_tables(
        "tiers",
        |span| {
            Diagnostic::new(span, "`tiers` must be an array of tables").hint(
                "write each tier as a [[...tiers]] section or { up_to = 10, amount = \"5.00\" }",
            )
        },
        |span| Diagnostic::new(span, "each tier must be a table").label("expected a table"),
    )?;
    let span = tables.span();
    let mut tiers = Vec::new();
    for (i, item, table) in tables.into_inner() {
        let name = t.nested_name(&format!("tier {}", i + 1));
        let tr = TableReader::new(t.sink(), name, item.clone(), table, &TIER);
        tiers.push(RawTier {
            span: item,
            up_to: read_up_to(&tr),
            unit: read_amounts(&tr, "amount", "unit_amount", "unit_amount_decimal"),
            flat: read_amounts(
                &tr,
                "flat_amount",
                "flat_unit_amount",
                "flat_amount_decimal",
            ),
        });
        tr.finish();
    }
    Some(Sp::new(span, tiers))
}

/// A tier's `up_to`: a quantity, or `"inf"`.
fn read_up_to(tr: &TableReader<'_, '_>) -> Option<Sp<RawUpTo>> {
    let v = tr.value("up_to")?;
    match v.get_ref() {
        DeValue::Integer(_) => tr
            .integer("up_to")
            .map(|n| Sp::new(n.span(), RawUpTo::Count(*n.get_ref()))),
        DeValue::String(s) if s == "inf" => Some(Sp::new(v.span(), RawUpTo::Inf)),
        _ => {
            tr.sink().push(
                Diagnostic::new(v.span(), "`up_to` must be a positive integer or \"inf\"")
                    .label("expected an integer or \"inf\""),
            );
            None
        }
    }
}

fn read_transform(t: &TableReader<'_, '_>) -> Option<RawTransformQuantity> {
    let tr = t.table("transform_quantity")?;
    let out = RawTransformQuantity {
        span: tr.span(),
        divide_by: tr.integer("divide_by"),
        round: tr.string("round"),
    };
    tr.finish();
    Some(out)
}

/// A price's `currency_options`.
fn read_currency_options(t: &TableReader<'_, '_>) -> Vec<RawCurrencyOption> {
    read_options(
        t,
        (
            "an amount or a table",
            "write `eur = \"72.00\"` or `eur = { amount = \"72.00\", tax_behavior = \"exclusive\" }`",
        ),
        |currency, tr| {
            Some(RawCurrencyOption {
                span: tr.span(),
                amounts: read_amounts(tr, "amount", "unit_amount", "unit_amount_decimal"),
                tax_behavior: tr.string("tax_behavior"),
                tiers: read_tiers(tr),
                currency,
            })
        },
        |currency, amount| RawCurrencyOption {
            span: amount.span(),
            amounts: RawAmounts {
                amount: Some(amount),
                ..RawAmounts::default()
            },
            tax_behavior: None,
            tiers: None,
            currency,
        },
    )
}

/// Reads a `currency_options` map (of a price, a coupon, a promotion code): each entry an
/// amount (`eur = "72.00"`, made an option by `amount`) or a table of the fields its shape
/// declares (read by `table`). Anything else is a problem: the entry must be `expected`, written as `hint`
/// says.
pub(crate) fn read_options<T>(
    t: &TableReader<'_, '_>,
    (expected, hint): (&str, &str),
    table: impl Fn(Sp<String>, &TableReader<'_, '_>) -> Option<T>,
    amount: impl Fn(Sp<String>, Sp<String>) -> T,
) -> Vec<T> {
    let Some((_, entries)) = t.map("currency_options") else {
        return Vec::new();
    };
    let known = t.nested_shape("currency_options");
    let mut out = Vec::new();
    for (currency, value) in entries {
        match value.get_ref() {
            DeValue::Table(fields) => {
                let name = t.nested_name(&format!("currency option `{}`", currency.get_ref()));
                let tr = TableReader::new(t.sink(), name, value.span(), fields, known);
                out.extend(table(currency, &tr));
                tr.finish();
            }
            other => match number_text(other) {
                Some(text) => out.push(amount(currency, Sp::new(value.span(), text))),
                None => t.sink().push(
                    Diagnostic::new(
                        value.span(),
                        format!(
                            "currency option `{}` must be {expected}",
                            currency.get_ref()
                        ),
                    )
                    .hint(hint),
                ),
            },
        }
    }
    out
}
