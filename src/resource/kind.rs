//! The kinds of Stripe object billing manages, and everything that is said the same way about a
//! kind wherever it appears: its name, nouns, address prefix, output name and Stripe object.

use serde::{Deserialize, Serialize};

/// The kind of Stripe object a change, an address or a live object is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Product,
    Price,
    Coupon,
    PromotionCode,
    TaxSettings,
    TaxRegistration,
    TaxRate,
    Portal,
    WebhookEndpoint,
    EntitlementFeature,
    Meter,
}

impl ResourceKind {
    /// Every kind, in the order plans list them.
    pub const ALL: [Self; 11] = [
        Self::Product,
        Self::Price,
        Self::Coupon,
        Self::PromotionCode,
        Self::TaxSettings,
        Self::TaxRegistration,
        Self::TaxRate,
        Self::Portal,
        Self::WebhookEndpoint,
        Self::EntitlementFeature,
        Self::Meter,
    ];

    /// The kinds whose objects carry billing's ownership marker in their metadata (tax
    /// settings and registrations have no metadata: they are identified by what they are).
    pub const MARKED: [Self; 8] = [
        Self::Product,
        Self::Price,
        Self::Coupon,
        Self::PromotionCode,
        Self::TaxRate,
        Self::Portal,
        Self::WebhookEndpoint,
        Self::EntitlementFeature,
    ];

    /// Its name in plan documents and JSON: `tax_rate`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Product => "product",
            Self::Price => "price",
            Self::Coupon => "coupon",
            Self::PromotionCode => "promotion_code",
            Self::TaxSettings => "tax_settings",
            Self::TaxRegistration => "tax_registration",
            Self::TaxRate => "tax_rate",
            Self::Portal => "portal",
            Self::WebhookEndpoint => "webhook_endpoint",
            Self::EntitlementFeature => "entitlement_feature",
            Self::Meter => "meter",
        }
    }

    /// One object, in prose: `tax rate`.
    pub const fn noun(self) -> &'static str {
        match self {
            Self::Product => "product",
            Self::Price => "price",
            Self::Coupon => "coupon",
            Self::PromotionCode => "promotion code",
            Self::TaxSettings => "tax settings",
            Self::TaxRegistration => "tax registration",
            Self::TaxRate => "tax rate",
            Self::Portal => "portal configuration",
            Self::WebhookEndpoint => "webhook endpoint",
            Self::EntitlementFeature => "entitlement feature",
            Self::Meter => "billing meter",
        }
    }

    /// Several objects, in prose: `tax rates`.
    pub const fn plural(self) -> &'static str {
        match self {
            Self::Product => "products",
            Self::Price => "prices",
            Self::Coupon => "coupons",
            Self::PromotionCode => "promotion codes",
            Self::TaxSettings => "tax settings",
            Self::TaxRegistration => "tax registrations",
            Self::TaxRate => "tax rates",
            Self::Portal => "portal configurations",
            Self::WebhookEndpoint => "webhook endpoints",
            Self::EntitlementFeature => "entitlement features",
            Self::Meter => "billing meters",
        }
    }

    /// `1 tax rate`, `3 tax rates`.
    pub fn count(self, n: usize) -> String {
        format!("{n} {}", if n == 1 { self.noun() } else { self.plural() })
    }

    /// The first part of its addresses, and its name where objects are listed by kind
    /// (outputs, unmanaged counts): `tax_rates` in `tax_rates.vat_de`.
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Product => "products",
            Self::Price => "prices",
            Self::Coupon => "coupons",
            Self::PromotionCode => "promotion_codes",
            Self::TaxSettings => "tax",
            Self::TaxRegistration => "tax.registrations",
            Self::TaxRate => "tax_rates",
            Self::Portal => "portals",
            Self::WebhookEndpoint => "webhooks",
            Self::EntitlementFeature => "entitlements",
            Self::Meter => "meters",
        }
    }

    /// A key of its kind, for examples in messages (`pro.monthly` for a price).
    pub const fn example_key(self) -> &'static str {
        match self {
            Self::Product => "pro",
            Self::Price => "pro.monthly",
            Self::Coupon => "launch",
            Self::PromotionCode => "LAUNCH20",
            Self::TaxSettings => "",
            Self::TaxRegistration => "DE.standard",
            Self::TaxRate => "vat_de",
            Self::Portal => "default",
            Self::WebhookEndpoint => "app",
            Self::EntitlementFeature => "sso",
            Self::Meter => "api_calls",
        }
    }

    /// The kind whose addresses start with `prefix`.
    pub fn from_prefix(prefix: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.prefix() == prefix)
    }

    /// The top-level table of billing.toml whose entries, `[<table>.<key>]`, declare its
    /// objects; `None` for a kind declared inside another's entries (prices) or in `[tax]`.
    pub const fn keyed_table(self) -> Option<&'static str> {
        match self {
            Self::Product => Some("products"),
            Self::Coupon => Some("coupons"),
            Self::PromotionCode => Some("promotion_codes"),
            Self::TaxRate => Some("tax_rates"),
            Self::Portal => Some("portals"),
            Self::WebhookEndpoint => Some("webhooks"),
            Self::EntitlementFeature => Some("entitlements"),
            Self::Meter => Some("meters"),
            Self::Price | Self::TaxSettings | Self::TaxRegistration => None,
        }
    }

    /// The word `billing output --format env` starts its names with (`BILLING_TAX_RATE_…`),
    /// for the kinds it lists.
    pub const fn env_prefix(self) -> Option<&'static str> {
        match self {
            Self::Product => Some("PRODUCT"),
            Self::Price => Some("PRICE"),
            Self::Coupon => Some("COUPON"),
            Self::PromotionCode => Some("PROMOTION_CODE"),
            Self::TaxRate => Some("TAX_RATE"),
            Self::Portal => Some("PORTAL"),
            Self::WebhookEndpoint => Some("WEBHOOK"),
            Self::EntitlementFeature => Some("ENTITLEMENT"),
            Self::Meter => Some("METER"),
            Self::TaxSettings | Self::TaxRegistration => None,
        }
    }

    /// Stripe's name for the object (its `object` field and the first part of its events'
    /// types).
    pub const fn stripe_object(self) -> &'static str {
        match self {
            Self::Product => "product",
            Self::Price => "price",
            Self::Coupon => "coupon",
            Self::PromotionCode => "promotion_code",
            Self::TaxSettings => "tax.settings",
            Self::TaxRegistration => "tax.registration",
            Self::TaxRate => "tax_rate",
            Self::Portal => "billing_portal.configuration",
            Self::WebhookEndpoint => "webhook_endpoint",
            Self::EntitlementFeature => "entitlements.feature",
            Self::Meter => "billing.meter",
        }
    }

    /// The API path its objects are listed and created at, after `/v1/`.
    pub const fn api_path(self) -> &'static str {
        match self {
            Self::Product => "products",
            Self::Price => "prices",
            Self::Coupon => "coupons",
            Self::PromotionCode => "promotion_codes",
            Self::TaxSettings => "tax/settings",
            Self::TaxRegistration => "tax/registrations",
            Self::TaxRate => "tax_rates",
            Self::Portal => "billing_portal/configurations",
            Self::WebhookEndpoint => "webhook_endpoints",
            Self::EntitlementFeature => "entitlements/features",
            Self::Meter => "billing/meters",
        }
    }

    /// The events Stripe records when one of its objects changes (`created`, `updated`,
    /// `deleted`), which move an account's catalog generation. Registrations record none that
    /// billing can rely on, and webhook endpoints and entitlement features none at all (their
    /// reads are in the plan's digest).
    pub const fn events(self) -> &'static [&'static str] {
        match self {
            Self::Product | Self::Price | Self::Coupon => &["created", "updated", "deleted"],
            Self::PromotionCode | Self::TaxRate | Self::Portal => &["created", "updated"],
            Self::TaxSettings => &["updated"],
            Self::Meter => &["created", "updated", "deactivated", "reactivated"],
            Self::TaxRegistration | Self::WebhookEndpoint | Self::EntitlementFeature => &[],
        }
    }

    /// The kind of the object one of its objects belongs to and goes with: a price's product,
    /// a promotion code's coupon.
    pub const fn parent(self) -> Option<Self> {
        match self {
            Self::Price => Some(Self::Product),
            Self::PromotionCode => Some(Self::Coupon),
            Self::Product
            | Self::Coupon
            | Self::TaxSettings
            | Self::TaxRegistration
            | Self::TaxRate
            | Self::Portal
            | Self::WebhookEndpoint
            | Self::EntitlementFeature => None,
            Self::Meter => None,
        }
    }

    /// Whether its objects are deactivated and reactivated, rather than archived and
    /// unarchived (Stripe's own words for promotion codes and portal configurations).
    pub const fn deactivates(self) -> bool {
        matches!(self, Self::PromotionCode | Self::Portal | Self::Meter)
    }

    /// Whether `--replace` can put a new object in the place of one of its objects: a webhook
    /// endpoint (with a new signing secret), a price (its lookup key moved to the new one), a
    /// tax rate. Other kinds are changed in place, or their new object would take nothing over
    /// (an entitlement feature's lookup key stays with the old feature until it is archived).
    pub const fn replaceable(self) -> bool {
        matches!(self, Self::Price | Self::TaxRate | Self::WebhookEndpoint)
    }

    /// Whether its objects carry billing's marker (see [`Self::MARKED`]).
    pub fn is_marked(self) -> bool {
        Self::MARKED.contains(&self)
    }

    /// How `id = "…"` in an entry pins it to an existing object; `None` for kinds without
    /// `id` (and for prices, whose pins and lookup keys are claimed together).
    pub(crate) const fn id_pin(self) -> Option<IdPin> {
        match self {
            Self::Product => Some(IdPin {
                created_when_missing: true,
                planner_reports: true,
                only_unmanaged_addresses: false,
            }),
            Self::Coupon => Some(IdPin {
                created_when_missing: true,
                planner_reports: false,
                only_unmanaged_addresses: false,
            }),
            Self::TaxRate | Self::WebhookEndpoint | Self::EntitlementFeature => Some(IdPin {
                created_when_missing: false,
                planner_reports: false,
                only_unmanaged_addresses: true,
            }),
            Self::Price
            | Self::PromotionCode
            | Self::TaxSettings
            | Self::TaxRegistration
            | Self::Portal
            | Self::Meter => None,
        }
    }
}

/// How a kind treats an entry that names an object by an explicit `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IdPin {
    /// An id that names no object is created with that id (Stripe lets the caller choose a
    /// product's or coupon's id); otherwise it is a conflict.
    pub created_when_missing: bool,
    /// Only a pin on an object another entry takes is reported by the claims; the kind's
    /// planner reports the others itself (products).
    pub planner_reports: bool,
    /// Nothing is adopted at an address a marked object already holds; such an address is
    /// a candidate for adoption only through its pin.
    pub only_unmanaged_addresses: bool,
}

impl std::fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.noun())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_json_spelling() {
        for kind in ResourceKind::ALL {
            let json = serde_json::to_value(kind).unwrap_or_default();
            assert_eq!(json.as_str(), Some(kind.name()));
        }
    }

    #[test]
    fn prefixes_are_distinct_and_found_again() {
        for kind in ResourceKind::ALL {
            assert_eq!(ResourceKind::from_prefix(kind.prefix()), Some(kind));
        }
        assert_eq!(ResourceKind::from_prefix("entitlement"), None);
    }

    #[test]
    fn counts_read_as_prose() {
        assert_eq!(ResourceKind::TaxRate.count(1), "1 tax rate");
        assert_eq!(ResourceKind::Portal.count(2), "2 portal configurations");
    }
}
