//! Validation of `[portal]` and `[portals.<key>]`: Stripe's rules, https URLs, and references to
//! the catalog's recurring prices.

use std::collections::BTreeMap;

use super::super::diagnostic::{Diagnostic, Sink};
use super::super::model::Product;
use super::super::portal::{
    ALLOWED_UPDATES, CANCEL_MODES, CANCEL_PRORATIONS, CANCEL_REASONS, CUSTOMER_UPDATES,
    MAX_PORTAL_PRODUCTS, Portal, SubscriptionCancel, SubscriptionUpdate, UPDATE_PRORATIONS,
};
use super::super::raw_portal::{RawCancel, RawPortal, RawPortalProduct, RawSubscriptionUpdate};
use super::super::reader::Sp;
use super::fields::{self, word};
use crate::catalog::PortalSettings;
use crate::resource::{Address, ResourceKind};

fn words(
    sink: &Sink,
    field: &str,
    values: Option<Sp<Vec<Sp<String>>>>,
    all: &'static [&'static str],
) -> Vec<String> {
    let mut out = Vec::new();
    for v in values.map(Sp::into_inner).unwrap_or_default() {
        if let Some(w) = word(sink, field, &v, all)
            && !out.contains(&w)
        {
            out.push(w);
        }
    }
    out
}

/// Customers are sent to these pages: Stripe requires https.
fn https(sink: &Sink, field: &str, value: Option<Sp<String>>) -> Option<String> {
    let value = value?;
    let ok = value
        .get_ref()
        .strip_prefix("https://")
        .is_some_and(|rest| {
            !rest.is_empty() && !rest.starts_with('/') && !rest.contains(char::is_whitespace)
        });
    if !ok {
        sink.push(
            Diagnostic::new(value.span(), format!("`{field}` must be an https URL"))
                .label("not an https URL")
                .hint("customers are sent to this page from the portal: write it as https://…"),
        );
    }
    Some(value.into_inner())
}

/// Validates one portal configuration against the catalog's products.
pub(crate) fn portal(
    sink: &Sink,
    raw: RawPortal,
    products: &BTreeMap<String, Product>,
    declared_products: &[&str],
) -> Option<Portal> {
    let account_default = match &raw.target {
        None => false,
        Some(t) if t.get_ref() == "default" => true,
        Some(t) => {
            sink.push(
                Diagnostic::new(t.span(), "`target` can only be \"default\"")
                    .hint("\"default\" manages the account's default configuration; omit `target` to create a configuration of its own"),
            );
            false
        }
    };
    let headline = fields::text(sink, "headline", raw.headline, 60);
    let name = fields::text(sink, "name", raw.name, 256);
    let subscription_cancel = raw
        .subscription_cancel
        .and_then(|c| subscription_cancel(sink, c));
    let offered = Offered {
        products,
        declared: declared_products,
    };
    let subscription_update = raw
        .subscription_update
        .and_then(|u| subscription_update(sink, u, &offered));
    let customer_update = words(
        sink,
        "customer_update",
        raw.customer_update,
        CUSTOMER_UPDATES,
    );
    let metadata = fields::metadata(sink, raw.metadata);
    let settings = PortalSettings {
        name,
        default_return_url: https(sink, "default_return_url", raw.default_return_url),
        headline,
        privacy_policy_url: https(sink, "privacy_policy_url", raw.privacy_policy_url),
        terms_of_service_url: https(sink, "terms_of_service_url", raw.terms_of_service_url),
        login_page: raw.login_page.is_some_and(|l| *l.get_ref()),
        invoice_history: raw.invoice_history.is_some_and(|i| *i.get_ref()),
        payment_method_update: raw.payment_method_update.is_some_and(|p| *p.get_ref()),
        customer_update,
        subscription_cancel,
        subscription_update,
    };
    Some(Portal {
        key: raw.key.into_inner(),
        account_default,
        settings,
        metadata,
    })
}

/// `features.subscription_cancel`, when enabled: how and why subscriptions are cancelled.
fn subscription_cancel(sink: &Sink, c: RawCancel) -> Option<SubscriptionCancel> {
    if !c.enabled {
        return None;
    }
    let mode = c
        .mode
        .as_ref()
        .map_or(Some("at_period_end".to_owned()), |m| {
            word(sink, "mode", m, CANCEL_MODES)
        });
    let proration_behavior = c.proration_behavior.as_ref().and_then(|p| {
        let value = word(sink, "proration_behavior", p, CANCEL_PRORATIONS);
        if mode.as_deref() != Some("immediately") {
            sink.push(
                Diagnostic::new(
                    p.span(),
                    "`proration_behavior` only applies when `mode = \"immediately\"`",
                )
                .hint("at the period's end there is nothing to prorate"),
            );
        }
        value
    });
    Some(SubscriptionCancel {
        mode: mode?,
        proration_behavior,
        reasons: words(sink, "reasons", c.reasons, CANCEL_REASONS),
    })
}

/// What a configuration may offer: the catalog's valid products, and every declared key.
struct Offered<'c> {
    products: &'c BTreeMap<String, Product>,
    declared: &'c [&'c str],
}

/// `features.subscription_update`, when enabled: the products (and their recurring prices)
/// customers may switch between.
fn subscription_update(
    sink: &Sink,
    u: RawSubscriptionUpdate,
    offered: &Offered<'_>,
) -> Option<SubscriptionUpdate> {
    if !u.enabled {
        return None;
    }
    if u.products.len() > MAX_PORTAL_PRODUCTS {
        sink.push(Diagnostic::new(
            u.span.clone(),
            format!(
                "{} products; Stripe allows at most {MAX_PORTAL_PRODUCTS}",
                u.products.len()
            ),
        ));
    }
    let mut resolved: Vec<(String, Vec<String>)> = Vec::new();
    for p in &u.products {
        let key = p.product.get_ref();
        let Some(product) = offered_product(sink, p, offered) else {
            continue;
        };
        let Some(prices) = offered_prices(sink, p, product) else {
            continue;
        };
        if resolved.iter().any(|(k, _)| k == key) {
            sink.push(Diagnostic::new(
                p.product.span(),
                format!("product `{key}` is listed twice"),
            ));
            continue;
        }
        price_choices(sink, p, product, &prices);
        resolved.push((key.clone(), prices));
    }
    if u.products.is_empty() {
        sink.push(
            Diagnostic::new(
                u.span.clone(),
                "`subscription_update` needs at least one product",
            )
            .hint(
                "list the products customers may switch between: products = [\"starter\", \"pro\"]",
            ),
        );
        return None;
    }
    let default_allowed_updates = match u.default_allowed_updates {
        Some(list) if list.get_ref().is_empty() => {
            sink.push(
                Diagnostic::new(
                    list.span(),
                    "`default_allowed_updates` is empty: customers could change nothing",
                )
                .hint("use [\"price\"], or set `subscription_update = false`"),
            );
            return None;
        }
        Some(list) => words(sink, "default_allowed_updates", Some(list), ALLOWED_UPDATES),
        None => vec!["price".to_owned()],
    };
    let proration_behavior = u
        .proration_behavior
        .as_ref()
        .and_then(|p| word(sink, "proration_behavior", p, UPDATE_PRORATIONS));
    Some(SubscriptionUpdate {
        products: resolved,
        default_allowed_updates,
        proration_behavior,
    })
}

/// The product a configuration offers: a valid, active product of the catalog.
fn offered_product<'c>(
    sink: &Sink,
    p: &RawPortalProduct,
    offered: &Offered<'c>,
) -> Option<&'c Product> {
    let key = p.product.get_ref();
    let Some(product) = offered.products.get(key) else {
        fields::reference(sink, ResourceKind::Product, &p.product, offered.declared);
        return None;
    };
    if !product.active {
        sink.push(
            Diagnostic::new(
                p.product.span(),
                format!("product `{key}` is declared `active = false`"),
            )
            .label("archived product")
            .hint("the portal cannot offer an archived product: remove it from `products`"),
        );
        return None;
    }
    Some(product)
}

/// The prices of `product` a configuration offers: those listed (each a recurring price of
/// the product), else all its recurring prices; `None` when there are none.
fn offered_prices(sink: &Sink, p: &RawPortalProduct, product: &Product) -> Option<Vec<String>> {
    let key = p.product.get_ref();
    let Some(keys) = &p.prices else {
        let recurring: Vec<String> = product
            .prices
            .values()
            .filter(|pr| pr.is_recurring())
            .map(|pr| pr.key.clone())
            .collect();
        if recurring.is_empty() {
            sink.push(
                Diagnostic::new(
                    p.product.span(),
                    format!("product `{key}` has no recurring price to switch to"),
                )
                .hint("the portal switches subscriptions between recurring prices"),
            );
            return None;
        }
        return Some(recurring);
    };
    let mut out = Vec::new();
    for k in keys {
        match product.prices.get(k.get_ref()) {
            Some(price) if price.is_recurring() => out.push(k.get_ref().clone()),
            Some(_) => sink.push(
                Diagnostic::new(
                    k.span(),
                    format!("price `{}` of `{key}` is one-time", k.get_ref()),
                )
                .label("not recurring")
                .hint("subscriptions switch between recurring prices only"),
            ),
            None => {
                if !sink.missing_reference(
                    k.span(),
                    &format!("price `{}` of `{key}`", k.get_ref()),
                    &Address::price(key, k.get_ref()),
                ) {
                    sink.push(
                        Diagnostic::new(
                            k.span(),
                            format!("product `{key}` has no price `{}`", k.get_ref()),
                        )
                        .label("unknown price key"),
                    );
                }
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Stripe lets customers pick among a product's prices by currency and period: at most one
/// price for each, and at most 10 prices.
fn price_choices(sink: &Sink, p: &RawPortalProduct, product: &Product, prices: &[String]) {
    let key = p.product.get_ref();
    let mut seen: Vec<(String, String)> = Vec::new();
    for k in prices {
        let price = &product.prices[k];
        let period = price
            .recurring
            .map(|r| format!("{} × {}", r.interval_count, r.interval.as_str()))
            .unwrap_or_default();
        let slot = (price.currency.code().to_owned(), period);
        if let Some(i) = seen.iter().position(|s| *s == slot) {
            sink.push(
                Diagnostic::new(
                    p.product.span(),
                    format!("the portal would offer two `{key}` prices in {} billed every {}: `{}` and `{k}`", slot.0, slot.1.replace("1 × ", ""), prices[i]),
                )
                .hint("a product offers at most one price per currency and billing period: list the prices to offer, e.g. { product = \"pro\", prices = [\"monthly\", \"annual\"] }"),
            );
            break;
        }
        seen.push(slot);
    }
    if prices.len() > 10 {
        sink.push(Diagnostic::new(
            p.product.span(),
            format!(
                "the portal would offer {} prices of `{key}`; Stripe allows at most 10",
                prices.len()
            ),
        ));
    }
}
