//! The raw stage of coupons and promotion codes: `[coupons.<key>]` and `[promotion_codes.<CODE>]`.

use std::ops::Range;

use toml::de::DeValue;

use super::diagnostic::Sink;
use super::model::DurationKind;
use super::raw::{RawMetadata, read_metadata, read_options};
use super::reader::{Sp, TableReader, expect_table};
use super::shape::{ID, METADATA, MOVED_FROM, Table, Ty, field};
use crate::resource::{Address, ResourceKind};

/// `[coupons.<key>]`.
#[derive(Debug)]
pub(crate) struct RawCoupon {
    pub key: Sp<String>,
    pub span: Range<usize>,
    pub id: Option<Sp<String>>,
    pub name: Option<Sp<String>>,
    /// Decimal text.
    pub percent_off: Option<Sp<String>>,
    /// Major units, decimal text.
    pub amount_off: Option<Sp<String>>,
    /// Minor units.
    pub unit_amount_off: Option<Sp<i64>>,
    pub currency: Option<Sp<String>>,
    /// Per-currency `amount_off` in major units (decimal text), or minor units with `unit_amount_off`.
    pub currency_options: Vec<RawCouponOption>,
    pub duration: Option<Sp<String>>,
    pub duration_in_months: Option<Sp<i64>>,
    pub max_redemptions: Option<Sp<i64>>,
    /// Unix seconds.
    pub redeem_by: Option<Sp<i64>>,
    pub applies_to: Option<Sp<Vec<Sp<String>>>>,
    pub metadata: Option<RawMetadata>,
    pub on_remove: Option<Sp<String>>,
    pub moved_from: Option<Sp<String>>,
    /// The table had shape problems (already reported).
    pub incomplete: bool,
}

/// One entry of a coupon's `currency_options`: `eur = "9.00"` or `eur = { unit_amount_off = 900 }`.
#[derive(Debug)]
pub(crate) struct RawCouponOption {
    pub currency: Sp<String>,
    pub span: Range<usize>,
    pub amount_off: Option<Sp<String>>,
    pub unit_amount_off: Option<Sp<i64>>,
}

/// `[promotion_codes.<CODE>]`.
#[derive(Debug)]
pub(crate) struct RawPromotionCode {
    /// The table's key: the code, unless `code` is set.
    pub key: Sp<String>,
    pub span: Range<usize>,
    pub code: Option<Sp<String>>,
    pub coupon: Option<Sp<String>>,
    pub active: Option<Sp<bool>>,
    pub max_redemptions: Option<Sp<i64>>,
    /// Unix seconds.
    pub expires_at: Option<Sp<i64>>,
    pub first_time_transaction: Option<Sp<bool>>,
    /// Major units, decimal text.
    pub minimum_amount: Option<Sp<String>>,
    pub minimum_amount_currency: Option<Sp<String>>,
    /// Per-currency minimum amounts, major units.
    pub currency_options: Vec<(Sp<String>, Sp<String>)>,
    pub customer: Option<Sp<String>>,
    pub metadata: Option<RawMetadata>,
    pub incomplete: bool,
}

/// `[coupons.<key>]`.
pub(super) static COUPON: Table = Table::entry(&[
    ID,
    field(
        "name",
        Ty::Text,
        "The name customers see on invoices and receipts.",
    ),
    field(
        "percent_off",
        Ty::Amount,
        "The discount as a percentage (give this or an amount off).",
    ),
    field(
        "amount_off",
        Ty::Amount,
        "The discount as an amount in major units, with `currency`.",
    ),
    field(
        "unit_amount_off",
        Ty::Integer,
        "The discount as an amount in minor units, with `currency`.",
    ),
    field("currency", Ty::Currency, "The currency of `amount_off`."),
    field(
        "currency_options",
        Ty::CurrencyOptions(&COUPON_OPTION),
        "The amount off in other currencies: `eur = \"9.00\"` or a table.",
    ),
    field(
        "duration",
        Ty::Word(DurationKind::ALL),
        "How long the discount applies to a subscription.",
    ),
    field(
        "duration_in_months",
        Ty::Integer,
        "The number of months of a \"repeating\" coupon.",
    ),
    field(
        "max_redemptions",
        Ty::Integer,
        "How many times the coupon can be redeemed in all.",
    ),
    field(
        "redeem_by",
        Ty::Datetime,
        "The last moment it can be redeemed, such as 2027-01-31T23:59:59Z.",
    ),
    field(
        "applies_to",
        Ty::Texts,
        "Keys of the products it is limited to.",
    ),
    METADATA,
    field(
        "on_remove",
        Ty::Word(REMOVALS),
        "What happens to the coupon when the entry leaves billing.toml: deleted (the default), kept or forgotten.",
    ),
    MOVED_FROM,
]);

/// The values of a coupon's `on_remove`.
pub(super) const REMOVALS: &[&str] = &["delete", "keep", "forget"];

static COUPON_OPTION: Table = Table::of(&[
    field(
        "amount_off",
        Ty::Amount,
        "The amount off in this currency, in major units.",
    ),
    field(
        "unit_amount_off",
        Ty::Integer,
        "The amount off in this currency, in minor units.",
    ),
]);

const COUPON_ALIASES: &[(&str, &str)] = &[
    ("percentage", "billing calls this `percent_off`"),
    ("products", "write `applies_to = [\"<product key>\"]`"),
];

/// `[promotion_codes.<CODE>]`.
pub(super) static PROMOTION_CODE: Table = Table::entry(&[
    field(
        "code",
        Ty::Text,
        "The code customers type, when it differs from the table's key.",
    ),
    field(
        "coupon",
        Ty::Text,
        "The key of the [coupons.<key>] it redeems (required).",
    ),
    field(
        "active",
        Ty::Bool,
        "Whether it can be redeemed (default true).",
    ),
    field(
        "max_redemptions",
        Ty::Integer,
        "How many times it can be redeemed in all.",
    ),
    field(
        "expires_at",
        Ty::Datetime,
        "When it stops being redeemable, such as 2027-01-31T23:59:59Z.",
    ),
    field(
        "first_time_transaction",
        Ty::Bool,
        "Only for a customer's first purchase.",
    ),
    field(
        "minimum_amount",
        Ty::Amount,
        "The order minimum, in major units of `minimum_amount_currency`.",
    ),
    field(
        "minimum_amount_currency",
        Ty::Currency,
        "The currency of `minimum_amount`.",
    ),
    field(
        "currency_options",
        Ty::CurrencyOptions(&CODE_OPTION),
        "The order minimum in other currencies: `eur = \"45.00\"` or a table.",
    ),
    field(
        "customer",
        Ty::Text,
        "The id of the one customer who may redeem it (`cus_…`).",
    ),
    METADATA,
]);

static CODE_OPTION: Table = Table::of(&[field(
    "minimum_amount",
    Ty::Amount,
    "The order minimum in this currency, in major units.",
)]);

const PROMOTION_CODE_ALIASES: &[(&str, &str)] = &[
    (
        "restrictions",
        "write `first_time_transaction`, `minimum_amount` and `currency_options` directly on the promotion code",
    ),
    ("promotion", "write `coupon = \"<coupon key>\"`"),
];

/// Reads `[coupons.<key>]`.
pub(crate) fn read_coupon(
    sink: &Sink,
    key: Sp<String>,
    value: &Sp<DeValue<'_>>,
) -> Option<RawCoupon> {
    let t = TableReader::new(
        sink,
        format!(
            "in {}",
            Address::new(ResourceKind::Coupon, key.get_ref()).declaration()
        ),
        value.span(),
        expect_table(sink, value, &format!("coupon `{}`", key.get_ref()), None)?,
        &COUPON,
    )
    .with_aliases(COUPON_ALIASES);
    let mut coupon = RawCoupon {
        span: value.span(),
        id: t.string("id"),
        name: t.string("name"),
        percent_off: t.amount("percent_off"),
        amount_off: t.amount("amount_off"),
        unit_amount_off: t.integer("unit_amount_off"),
        currency: t.string("currency"),
        currency_options: read_coupon_options(&t),
        duration: t.string("duration"),
        duration_in_months: t.integer("duration_in_months"),
        max_redemptions: t.integer("max_redemptions"),
        redeem_by: t.timestamp("redeem_by"),
        applies_to: t.strings("applies_to"),
        metadata: read_metadata(&t),
        on_remove: t.string("on_remove"),
        moved_from: t.string("moved_from"),
        incomplete: false,
        key,
    };
    coupon.incomplete = t.incomplete();
    t.finish();
    Some(coupon)
}

/// A coupon's `currency_options`: `eur = "9.00"` or `eur = { unit_amount_off = 900 }`.
fn read_coupon_options(t: &TableReader<'_, '_>) -> Vec<RawCouponOption> {
    read_options(
        t,
        (
            "an amount or a table",
            "write `eur = \"9.00\"` or `eur = { unit_amount_off = 900 }`",
        ),
        |currency, tr| {
            Some(RawCouponOption {
                span: tr.span(),
                amount_off: tr.amount("amount_off"),
                unit_amount_off: tr.integer("unit_amount_off"),
                currency,
            })
        },
        |currency, amount| RawCouponOption {
            span: amount.span(),
            amount_off: Some(amount),
            unit_amount_off: None,
            currency,
        },
    )
}

/// Reads `[promotion_codes.<CODE>]`.
pub(crate) fn read_promotion_code(
    sink: &Sink,
    key: Sp<String>,
    value: &Sp<DeValue<'_>>,
) -> Option<RawPromotionCode> {
    let what = format!("promotion code `{}`", key.get_ref());
    let t = TableReader::new(
        sink,
        format!(
            "in {}",
            Address::new(ResourceKind::PromotionCode, key.get_ref()).declaration()
        ),
        value.span(),
        expect_table(sink, value, &what, None)?,
        &PROMOTION_CODE,
    )
    .with_aliases(PROMOTION_CODE_ALIASES);
    let currency_options = read_options(
        &t,
        (
            "a minimum amount",
            "write `eur = \"45.00\"` or `eur = { minimum_amount = \"45.00\" }`",
        ),
        |currency, tr| tr.amount("minimum_amount").map(|a| (currency, a)),
        |currency, amount| (currency, amount),
    );
    let mut code = RawPromotionCode {
        span: value.span(),
        code: t.string("code"),
        coupon: t.string("coupon"),
        active: t.boolean("active"),
        max_redemptions: t.integer("max_redemptions"),
        expires_at: t.timestamp("expires_at"),
        first_time_transaction: t.boolean("first_time_transaction"),
        minimum_amount: t.amount("minimum_amount"),
        minimum_amount_currency: t.string("minimum_amount_currency"),
        currency_options,
        customer: t.string("customer"),
        metadata: read_metadata(&t),
        incomplete: false,
        key,
    };
    code.incomplete = t.incomplete();
    t.finish();
    Some(code)
}
