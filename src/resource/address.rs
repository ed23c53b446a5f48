//! Catalog addresses: how billing names one entry of billing.toml, in plans, in the marker it
//! writes on Stripe objects, and on the command line (`prices.pro.monthly`).

use std::fmt;
use std::str::FromStr;

use super::ResourceKind;

/// One entry of billing.toml: its kind and its key within the kind. A price's key is its
/// product's key and its own, a registration's its country, type and state.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    kind: ResourceKind,
    key: String,
}

impl Address {
    /// The address of the entry `key` of `kind` (`kind` is not a price: see [`Self::price`]).
    pub fn new(kind: ResourceKind, key: impl Into<String>) -> Self {
        Self {
            kind,
            key: key.into(),
        }
    }

    /// `products.<key>`.
    pub fn product(key: &str) -> Self {
        Self::new(ResourceKind::Product, key)
    }

    /// `prices.<product>.<price>`.
    pub fn price(product: &str, price: &str) -> Self {
        Self::new(ResourceKind::Price, format!("{product}.{price}"))
    }

    /// `tax`: the account's Stripe Tax settings.
    pub fn tax_settings() -> Self {
        Self::new(ResourceKind::TaxSettings, "")
    }

    /// `tax.registrations.<country>.<type>[.<state>]`.
    pub fn registration(country: &str, kind: &str, state: Option<&str>) -> Self {
        let key = match state {
            Some(state) => format!("{country}.{kind}.{state}"),
            None => format!("{country}.{kind}"),
        };
        Self::new(ResourceKind::TaxRegistration, key)
    }

    /// What kind of entry it names.
    pub fn kind(&self) -> ResourceKind {
        self.kind
    }

    /// The key within its kind (`pro.monthly` for a price).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// A price's product key and price key.
    pub fn price_keys(&self) -> Option<(&str, &str)> {
        if self.kind == ResourceKind::Price {
            self.key.split_once('.')
        } else {
            None
        }
    }

    /// The path of the table billing.toml declares it in: `products.pro.prices.monthly`,
    /// `tax_rates.vat_de`, `tax`; for a registration, the array `tax.registrations`.
    pub fn table(&self) -> String {
        match (self.kind, self.price_keys()) {
            (ResourceKind::Price, Some((product, price))) => {
                format!("products.{product}.prices.{price}")
            }
            (ResourceKind::TaxRegistration | ResourceKind::TaxSettings, _) => {
                self.kind.prefix().to_owned()
            }
            (
                ResourceKind::Price
                | ResourceKind::Product
                | ResourceKind::Coupon
                | ResourceKind::PromotionCode
                | ResourceKind::TaxRate
                | ResourceKind::Portal
                | ResourceKind::WebhookEndpoint
                | ResourceKind::EntitlementFeature
                | ResourceKind::Meter,
                _,
            ) => self.to_string(),
        }
    }

    /// Where billing.toml declares it: `[products.pro.prices.monthly]`, `[tax_rates.vat_de]`,
    /// `[tax]`, `[[tax.registrations]]` (an array of tables).
    pub fn declaration(&self) -> String {
        if self.kind == ResourceKind::TaxRegistration {
            format!("[[{}]]", self.table())
        } else {
            format!("[{}]", self.table())
        }
    }

    /// The entry it belongs to: a price's product.
    pub fn parent(&self) -> Option<Self> {
        self.price_keys().map(|(product, _)| Self::product(product))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The settings are one object per account: their address is the bare prefix.
        if self.key.is_empty() {
            f.write_str(self.kind.prefix())
        } else {
            write!(f, "{}.{}", self.kind.prefix(), self.key)
        }
    }
}

/// Text that is not a catalog address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a catalog address")]
pub struct AddressError(pub String);

impl FromStr for Address {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || AddressError(text.to_owned());
        if text == ResourceKind::TaxSettings.prefix() {
            return Ok(Self::tax_settings());
        }
        let registrations = ResourceKind::TaxRegistration.prefix();
        if let Some(key) = text
            .strip_prefix(registrations)
            .and_then(|rest| rest.strip_prefix('.'))
        {
            let parts = key.split('.').count();
            return if (2..=3).contains(&parts) && key.split('.').all(|p| !p.is_empty()) {
                Ok(Self::new(ResourceKind::TaxRegistration, key))
            } else {
                Err(bad())
            };
        }
        let (prefix, key) = text.split_once('.').ok_or_else(bad)?;
        let kind = ResourceKind::from_prefix(prefix)
            .filter(|k| !matches!(k, ResourceKind::TaxSettings | ResourceKind::TaxRegistration))
            .ok_or_else(bad)?;
        let segments = if kind == ResourceKind::Price { 2 } else { 1 };
        if key.split('.').count() != segments || key.split('.').any(str::is_empty) {
            return Err(bad());
        }
        Ok(Self::new(kind, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_back_as_written() {
        for text in [
            "products.pro",
            "prices.pro.monthly",
            "coupons.launch",
            "promotion_codes.LAUNCH-20",
            "tax",
            "tax.registrations.DE.standard",
            "tax.registrations.US.state_sales_tax.CA",
            "tax_rates.vat_de",
            "portals.default",
        ] {
            let address: Address = text.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(address.to_string(), text);
        }
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for text in [
            "",
            "products",
            "products.",
            "products.a.b",
            "prices.pro",
            "prices.pro.",
            "widgets.sso",
            "tax.registrations.DE",
            "tax.x",
        ] {
            assert!(text.parse::<Address>().is_err(), "{text}");
        }
    }

    #[test]
    fn addresses_know_their_table() {
        assert_eq!(
            Address::price("pro", "monthly").declaration(),
            "[products.pro.prices.monthly]"
        );
        assert_eq!(Address::product("pro").declaration(), "[products.pro]");
        assert_eq!(
            Address::new(ResourceKind::TaxRate, "vat_de").declaration(),
            "[tax_rates.vat_de]"
        );
        assert_eq!(Address::tax_settings().declaration(), "[tax]");
        assert_eq!(
            Address::registration("DE", "standard", None).declaration(),
            "[[tax.registrations]]"
        );
        assert_eq!(
            Address::price("pro", "monthly").table(),
            "products.pro.prices.monthly"
        );
        assert_eq!(Address::tax_settings().table(), "tax");
    }

    #[test]
    fn a_price_knows_its_product() {
        let price = Address::price("pro", "monthly");
        assert_eq!(price.price_keys(), Some(("pro", "monthly")));
        assert_eq!(price.parent(), Some(Address::product("pro")));
        assert_eq!(Address::product("pro").parent(), None);
    }
}
