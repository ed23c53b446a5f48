//! The validated catalog: what the user declared, normalised, with every Stripe rule already checked.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::currency::Currency;
use super::money::MinorAmount;
use crate::resource::ON_REMOVE_KEY;

/// The namespace used when the catalog declares none.
pub(crate) use crate::resource::DEFAULT_NAMESPACE;

/// Metadata keys starting with this are reserved for billing's ownership marker.
pub(crate) const RESERVED_METADATA_PREFIX: &str = "billing_";

/// A coupon: a discount that customers redeem, usually through a promotion code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coupon {
    /// The catalog key (`launch20`).
    pub key: String,
    /// An explicit Stripe id to pin the coupon to.
    pub id: Option<String>,
    /// Shown to customers (up to 40 characters).
    pub name: Option<String>,
    pub discount: Discount,
    pub duration: CouponDuration,
    pub max_redemptions: Option<u64>,
    /// Unix seconds after which it can no longer be redeemed.
    pub redeem_by: Option<i64>,
    /// Keys of the products it applies to (empty: all).
    pub applies_to: Vec<String>,
    pub metadata: BTreeMap<String, String>,
    /// What happens in Stripe when the coupon leaves the catalog.
    pub on_remove: OnRemove,
    /// The key this coupon had before a rename (`moved_from`).
    pub moved_from: Option<String>,
}

/// How much a coupon takes off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Discount {
    /// A percentage, above 0 and at most 100.
    PercentOff(Percent),
    /// A fixed amount in a currency, with amounts in other currencies.
    AmountOff {
        currency: Currency,
        amount: MinorAmount,
        currency_options: BTreeMap<Currency, MinorAmount>,
    },
}

impl Discount {
    /// `20% off`, `$10.00 off`.
    pub fn summary(&self) -> String {
        match self {
            Self::PercentOff(p) => format!("{p} off"),
            Self::AmountOff {
                currency, amount, ..
            } => format!("{} off", amount.format(*currency)),
        }
    }
}

/// An exact percentage (`25.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Percent(pub rust_decimal::Decimal);

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0.normalize())
    }
}

impl Serialize for Percent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.normalize().to_string())
    }
}

/// How long a coupon's discount lasts once applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponDuration {
    /// The first invoice only.
    Once,
    /// This many months.
    Repeating { months: u32 },
    /// Every invoice.
    Forever,
}

impl fmt::Display for CouponDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Once => f.write_str("once"),
            Self::Repeating { months: 1 } => f.write_str("for 1 month"),
            Self::Repeating { months } => write!(f, "for {months} months"),
            Self::Forever => f.write_str("forever"),
        }
    }
}

/// A promotion code: the code customers type, for a coupon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromotionCode {
    /// The catalog key (the code itself unless `code` is set).
    pub key: String,
    /// The customer-facing code.
    pub code: String,
    /// The key of its coupon.
    pub coupon: String,
    pub active: bool,
    pub max_redemptions: Option<u64>,
    /// Unix seconds after which it expires.
    pub expires_at: Option<i64>,
    pub first_time_transaction: bool,
    /// The smallest order it applies to, and in which currency.
    pub minimum_amount: Option<(Currency, MinorAmount)>,
    /// Minimum amounts in other currencies.
    pub minimum_amount_options: BTreeMap<Currency, MinorAmount>,
    /// A Stripe customer id it is restricted to.
    pub customer: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

/// A product and its prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    /// The catalog key (`pro`).
    pub key: String,
    /// An explicit Stripe id to pin the product to.
    pub id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
    pub tax_code: Option<String>,
    pub unit_label: Option<String>,
    pub statement_descriptor: Option<String>,
    pub url: Option<String>,
    pub images: Vec<String>,
    /// Marketing features, shown on pricing tables and Checkout.
    pub features: Vec<String>,
    /// Entitlement features attached to it, by `[entitlements.<key>]` key, sorted.
    pub entitlements: Vec<String>,
    pub metadata: BTreeMap<String, String>,
    /// The key of the price that is the product's default price.
    pub default_price: Option<String>,
    /// Prices by key.
    pub prices: BTreeMap<String, Price>,
    /// The key this product had before a rename (`moved_from`): its objects, and its prices'
    /// objects, move to the new addresses.
    pub moved_from: Option<String>,
    /// What happens in Stripe when the product leaves the catalog: archived, or forgotten.
    pub on_remove: OnRemove,
}

/// A price of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Price {
    /// The catalog key (`monthly`).
    pub key: String,
    /// An existing Stripe price to adopt (`id = "price_…"`) when billing manages none here.
    pub id: Option<String>,
    /// The key this price had (under its product's current or former key) before a rename.
    pub moved_from: Option<String>,
    /// What happens in Stripe when the price leaves the catalog: archived, or forgotten.
    pub on_remove: OnRemove,
    pub currency: Currency,
    /// How the amount is computed.
    pub pricing: Pricing,
    /// `None` for a one-time price.
    pub recurring: Option<Recurring>,
    /// The key of the meter a metered price bills (`meter = "<key>"`); `None`: licensed.
    pub meter: Option<String>,
    pub nickname: Option<String>,
    /// The lookup key (declared, or `<product>_<price>`).
    pub lookup_key: String,
    /// Whether billing.toml writes `lookup_key` (an unmarked price holding it is adopted)
    /// rather than defaulting it.
    pub lookup_key_declared: bool,
    /// `None` when the catalog does not manage it.
    pub tax_behavior: Option<TaxBehavior>,
    pub metadata: BTreeMap<String, String>,
    pub transform_quantity: Option<TransformQuantity>,
    /// Amounts in other currencies.
    pub currency_options: BTreeMap<Currency, CurrencyOption>,
}

/// How a price's amount is computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "scheme")]
pub enum Pricing {
    /// The same amount for every unit.
    PerUnit {
        /// Minor units per unit.
        unit_amount: MinorAmount,
    },
    /// Amounts by quantity tiers.
    Tiered {
        /// Graduated or volume.
        mode: TiersMode,
        /// Ascending tiers, the last one unbounded.
        tiers: Vec<Tier>,
    },
}

/// One tier of a tiered price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tier {
    /// Upper bound of the tier; `None` is infinity.
    pub up_to: Option<u64>,
    /// Minor units per unit in this tier.
    pub unit_amount: Option<MinorAmount>,
    /// Flat minor units for this tier.
    pub flat_amount: Option<MinorAmount>,
}

/// An amount in another currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyOption {
    /// Per-unit or tiered, like the price itself.
    pub pricing: CurrencyOptionPricing,
    pub tax_behavior: Option<TaxBehavior>,
}

/// The amount of a currency option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CurrencyOptionPricing {
    /// Minor units per unit.
    PerUnit(MinorAmount),
    /// Tiers in that currency.
    Tiered(Vec<Tier>),
}

/// A recurring price's billing period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Recurring {
    pub interval: Interval,
    pub interval_count: u32,
}

/// Defines a closed set of string values read from the catalog and sent to Stripe.
macro_rules! string_enum {
    ($(#[$meta:meta])* $vis:vis $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "snake_case")]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value as written in billing.toml and sent to Stripe.
            $vis const ALL: &'static [&'static str] = &[$($text),+];

            /// The value for its text.
            $vis fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }

            /// The text billing.toml and Stripe use.
            $vis fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// A recurring interval.
    pub Interval { Day = "day", Week = "week", Month = "month", Year = "year" }
);

string_enum!(
    /// Whether prices include tax.
    pub TaxBehavior { Inclusive = "inclusive", Exclusive = "exclusive", Unspecified = "unspecified" }
);

string_enum!(
    /// How tiers apply.
    pub TiersMode {
        /// Each unit is priced by the tier it falls in.
        Graduated = "graduated",
        /// All units are priced by the tier the total falls in.
        Volume = "volume",
    }
);

string_enum!(
    /// A price's billing scheme.
    pub(crate) BillingScheme { PerUnit = "per_unit", Tiered = "tiered" }
);

string_enum!(
    /// What happens in Stripe to an object whose entry leaves the catalog.
    pub OnRemove {
        /// Archived (products, prices, tax rates: the default).
        Archive = "archive",
        /// Deleted: no new redemptions, existing discounts stay (coupons: the default).
        Delete = "delete",
        /// Left in Stripe as it is, still marked as billing's (coupons).
        Keep = "keep",
        /// Left in Stripe as it is, and billing's marker removed: no longer managed.
        Forget = "forget",
    }
);

string_enum!(
    /// A coupon's duration, as written.
    pub(crate) DurationKind { Once = "once", Repeating = "repeating", Forever = "forever" }
);

string_enum!(
    /// Rounding after dividing a quantity.
    pub Round { Up = "up", Down = "down" }
);

/// Bills `ceil` or `floor` of quantity / `divide_by` (e.g. per 1,000 calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TransformQuantity {
    pub divide_by: u64,
    pub round: Round,
}

/// A metadata key pattern from `ignore_metadata`: literal text with `*` matching any run of characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MetadataPattern(String);

impl MetadataPattern {
    /// A pattern from its text.
    pub fn new(pattern: impl Into<String>) -> Self {
        Self(pattern.into())
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `key` matches the pattern.
    pub fn matches(&self, key: &str) -> bool {
        let mut parts = self.0.split('*');
        let first = parts.next().unwrap_or_default();
        let Some(mut rest) = key.strip_prefix(first) else {
            return false;
        };
        let parts: Vec<&str> = parts.collect();
        let Some((last, middle)) = parts.split_last() else {
            return rest.is_empty();
        };
        for part in middle {
            match rest.find(part) {
                Some(i) => rest = &rest[i + part.len()..],
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last)
    }
}

impl OnRemove {
    /// What an object records of it in its metadata (`billing_on_remove`): nothing for the
    /// kind's default, archived or deleted.
    pub(crate) fn recorded(self) -> Option<&'static str> {
        matches!(self, Self::Keep | Self::Forget).then(|| self.as_str())
    }

    /// What a managed object recorded, if anything billing reads.
    pub(crate) fn of(metadata: &crate::live::Metadata) -> Option<Self> {
        Self::parse(metadata.get(ON_REMOVE_KEY)?)
    }
}

impl Price {
    /// Whether the price is billed on an interval.
    pub fn is_recurring(&self) -> bool {
        self.recurring.is_some()
    }

    /// The amount as a reviewer reads it: `$79.00 / month`, `€10.00 one-time`, `tiered (graduated, 3 tiers) / month`.
    pub fn amount_summary(&self) -> String {
        let amount = match &self.pricing {
            Pricing::PerUnit { unit_amount } => unit_amount.format(self.currency),
            Pricing::Tiered { mode, tiers } => format!(
                "tiered in {} ({mode}, {} {})",
                self.currency,
                tiers.len(),
                if tiers.len() == 1 { "tier" } else { "tiers" }
            ),
        };
        match self.recurring {
            Some(recurring) => format!("{amount} / {recurring}"),
            None => format!("{amount} one-time"),
        }
    }
}

impl fmt::Display for Recurring {
    /// `month`, or `3 months`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.interval_count == 1 {
            write!(f, "{}", self.interval)
        } else {
            write!(f, "{} {}s", self.interval_count, self.interval)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_patterns_match_with_stars() {
        let m = |p: &str, k: &str| MetadataPattern::new(p).matches(k);
        assert!(m("crm_*", "crm_id"));
        assert!(m("crm_*", "crm_"));
        assert!(!m("crm_*", "xcrm_id"));
        assert!(m("*_id", "salesforce_id"));
        assert!(m("a*b*c", "a-x-b-y-c"));
        assert!(!m("a*b*c", "a-x-c"));
        assert!(m("exact", "exact"));
        assert!(!m("exact", "exactly"));
        assert!(m("*", "anything"));
        assert!(!m("ab*ba", "aba"));
    }

    #[test]
    fn string_enums_round_trip() {
        for text in Interval::ALL {
            assert_eq!(Interval::parse(text).unwrap().as_str(), *text);
        }
        assert_eq!(
            TaxBehavior::parse("exclusive"),
            Some(TaxBehavior::Exclusive)
        );
        assert_eq!(TiersMode::parse("Volume"), None);
    }
}
