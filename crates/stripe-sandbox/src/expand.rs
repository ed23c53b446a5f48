//! `expand[]`: which fields of an object can be expanded or included (its kind's [`Schema`],
//! the `SCHEMA` of its module in `resources/`), and the parsed request (a tree of paths) that
//! renderers consult.
//!
//! Expandable fields replace an id by the full object; includable fields (`price.tiers`,
//! `price.currency_options`, `tiers` inside each currency option, `coupon.applies_to`,
//! `coupon.currency_options`, `promotion_code.restrictions.currency_options`,
//! `billing_portal.configuration.features.subscription_update.products`) are omitted from responses
//! unless expanded. Some fields are always-present hashes that hold expandable or includable fields
//! (`promotion_code.promotion.coupon`, `features.subscription_update`). On lists every path must
//! start with `data.`. Paths are at most four levels deep (docs/stripe-rules.md#expansion).

use std::collections::BTreeMap;

use super::currency;
use super::error::ApiError;

const MAX_DEPTH: usize = 4;

/// What an object type allows to expand.
#[derive(Debug)]
pub(crate) struct Schema {
    pub fields: &'static [(&'static str, Target)],
}

#[derive(Debug)]
pub(crate) enum Target {
    /// An id that expands to an object of this schema.
    Object(&'static Schema),
    /// A field only present when expanded; it cannot be expanded further.
    Included,
    /// A field only present when expanded, holding a hash keyed by currency code whose values
    /// have this schema's includable fields (`currency_options.eur.tiers`). Naming a field
    /// below a currency includes the hash too; the currency itself is not expandable.
    IncludedCurrencyMap(&'static Schema),
    /// A hash that is always present and cannot be expanded itself, holding fields of this
    /// schema that can (`promotion` in `promotion.coupon`).
    Nested(&'static Schema),
}

/// Objects with nothing to expand (accounts, deleted objects, tax codes, tax rates, tax
/// settings, tax registrations).
pub(crate) static NONE: Schema = Schema { fields: &[] };

/// The requested expansions below one object.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Expand {
    children: BTreeMap<String, Expand>,
}

impl Expand {
    /// The expansions requested below `field`, if `field` itself is expanded.
    pub(crate) fn get(&self, field: &str) -> Option<&Expand> {
        self.children.get(field)
    }

    pub(crate) fn has(&self, field: &str) -> bool {
        self.children.contains_key(field)
    }

    /// Parses and checks `expand[]` for a response that is one object of `schema`, or a list of
    /// them (`list`: paths must start with `data.`; the result is relative to each item).
    pub(crate) fn parse(paths: &[String], schema: &Schema, list: bool) -> Result<Expand, ApiError> {
        let mut root = Expand::default();
        for path in paths {
            let segments: Vec<&str> = path.split('.').collect();
            if segments.len() > MAX_DEPTH {
                return Err(ApiError::invalid(format!(
                    "You cannot expand more than {MAX_DEPTH} levels of a property ({path})."
                ))
                .with_param("expand"));
            }
            let relative = if list {
                match segments.split_first() {
                    Some((&"data", rest)) if !rest.is_empty() => rest,
                    _ => return Err(cannot_expand(path)),
                }
            } else {
                &segments[..]
            };
            let mut node = &mut root;
            let mut current = schema;
            let mut rest = relative;
            while let Some((segment, after)) = rest.split_first() {
                let target = current
                    .fields
                    .iter()
                    .find(|(name, _)| name == segment)
                    .map(|(_, target)| target)
                    .ok_or_else(|| cannot_expand(path))?;
                node = node.children.entry((*segment).to_string()).or_default();
                rest = after;
                match target {
                    Target::Object(next) => current = next,
                    Target::Nested(_) if rest.is_empty() => return Err(cannot_expand(path)),
                    Target::Nested(next) => current = next,
                    Target::Included if rest.is_empty() => {}
                    Target::Included => return Err(cannot_expand(path)),
                    Target::IncludedCurrencyMap(_) if rest.is_empty() => {}
                    Target::IncludedCurrencyMap(entry) => {
                        // `<field>.<currency>.<includable>`: the currency alone is not a
                        // property that can be expanded.
                        let Some((code, after)) = rest.split_first() else {
                            return Err(cannot_expand(path));
                        };
                        if !currency::is_supported(code) || after.is_empty() {
                            return Err(cannot_expand(path));
                        }
                        node = node.children.entry((*code).to_string()).or_default();
                        rest = after;
                        current = entry;
                    }
                }
            }
        }
        Ok(root)
    }
}

fn cannot_expand(path: &str) -> ApiError {
    ApiError::invalid(format!("This property cannot be expanded ({path}).")).with_param("expand")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::prices::SCHEMA as PRICE;
    use crate::resources::products::SCHEMA as PRODUCT;
    use crate::resources::promotion_codes::SCHEMA as PROMOTION_CODE;

    fn paths(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    /// Asserts that each of `bad`, alone, is refused on an object of `schema`.
    fn refused(schema: &Schema, bad: &[&str]) {
        for bad in bad {
            assert!(
                Expand::parse(&paths(&[bad]), schema, false).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn parses_and_refuses() {
        let e = Expand::parse(&paths(&["product.default_price", "tiers"]), &PRICE, false).unwrap();
        assert!(e.get("product").unwrap().has("default_price"));
        assert!(e.has("tiers"));
        assert!(Expand::parse(&paths(&["foo"]), &PRICE, false).is_err());
        assert!(Expand::parse(&paths(&["tiers"]), &PRICE, true).is_err());
        assert!(
            Expand::parse(&paths(&["data.tiers"]), &PRICE, true)
                .unwrap()
                .has("tiers")
        );
        assert!(Expand::parse(&paths(&["tiers.x"]), &PRICE, false).is_err());
        let deep = paths(&["product.default_price.product.default_price.product"]);
        assert!(Expand::parse(&deep, &PRICE, false).is_err());
        let four = paths(&["product.default_price.product.default_price"]);
        assert!(Expand::parse(&four, &PRICE, false).is_ok());
    }

    #[test]
    fn nested_hashes_hold_expandable_fields() {
        let e = Expand::parse(
            &paths(&[
                "promotion.coupon.applies_to",
                "restrictions.currency_options",
                "customer",
            ]),
            &PROMOTION_CODE,
            false,
        )
        .unwrap();
        let coupon = e.get("promotion").and_then(|p| p.get("coupon")).unwrap();
        assert!(coupon.has("applies_to"));
        assert!(e.get("restrictions").unwrap().has("currency_options"));
        assert!(e.has("customer"));
        refused(
            &PROMOTION_CODE,
            &[
                "promotion",
                "restrictions",
                "promotion.type",
                "restrictions.minimum_amount",
                "restrictions.currency_options.eur",
                "coupon",
            ],
        );
        let listed = paths(&["data.promotion.coupon.currency_options"]);
        assert!(Expand::parse(&listed, &PROMOTION_CODE, true).is_ok());
    }

    #[test]
    fn tiers_inside_currency_options() {
        let e = Expand::parse(&paths(&["currency_options.eur.tiers"]), &PRICE, false).unwrap();
        let options = e.get("currency_options").unwrap();
        assert!(options.get("eur").unwrap().has("tiers"));
        assert!(!options.has("usd"));
        let listed = paths(&["data.currency_options.eur.tiers"]);
        assert!(Expand::parse(&listed, &PRICE, true).is_ok());
        let via_product = paths(&["default_price.currency_options.usd.tiers"]);
        assert!(Expand::parse(&via_product, &PRODUCT, false).is_ok());
        refused(
            &PRICE,
            &[
                "currency_options.eur",
                "currency_options.xyz.tiers",
                "currency_options.eur.tiers.up_to",
                "currency_options.eur.unit_amount",
            ],
        );
    }
}
