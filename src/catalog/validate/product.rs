//! Validation of one product: its fields within Stripe's limits, its prices, its default price.

use std::collections::BTreeMap;

use super::super::diagnostic::{Diagnostic, Sink};
use super::super::model::{Price, Product};
use super::super::raw::{RawPrice, RawProduct};
use super::super::reader::Sp;
use super::fields;
use super::price::{self, LookupKeyOrigin};
use crate::resource::Address;

const MAX_FEATURES: usize = 15;
const MAX_FEATURE_NAME: usize = 80;
const MAX_IMAGES: usize = 8;

/// A validated product, and each price's key, lookup key and where that was written (for collision messages).
pub(crate) struct Checked {
    pub product: Product,
    pub lookup_keys: Vec<(String, String, LookupKeyOrigin)>,
}

/// Validates one product and its prices.
pub(crate) fn validate(sink: &Sink, raw: RawProduct) -> Option<Checked> {
    let key_ok = fields::check_key(sink, &raw.key, "product");
    let key = raw.key.get_ref().clone();
    let name = fields::required(sink, raw.name, raw.incomplete, || {
        Diagnostic::new(raw.span.clone(), format!("product `{key}` has no `name`"))
            .label("missing `name`")
            .hint("add `name = \"…\"`: the name customers see on invoices and Checkout")
    })
    .and_then(|name| {
        fields::nonblank(sink, "name", name, 5000, |d| {
            d.label("customers see this name")
        })
    });
    fields::pinned_id(sink, raw.id.as_ref(), 255, |d| {
        d.label("not a valid Stripe id")
            .hint("set `id` only to pin the product to an existing Stripe product, e.g. \"prod_NffrFeUfNV2Hib\"")
    });
    if let Some(code) = &raw.tax_code {
        super::tax::tax_code(sink, "tax_code", code);
    }
    if let Some(sd) = &raw.statement_descriptor {
        statement_descriptor(sink, sd);
    }
    if let Some(url) = &raw.url {
        fields::url(sink, "url", url);
    }
    let images = raw.images.map(|images| self::images(sink, images));
    let features = raw.features.map(|features| self::features(sink, features));
    // Checked against the declared entries in `validate`: here, sorted and each once.
    let mut entitlements: Vec<String> = raw
        .entitlements
        .map(|e| e.into_inner().into_iter().map(Sp::into_inner).collect())
        .unwrap_or_default();
    entitlements.sort();
    entitlements.dedup();

    // References are checked against every declared price, valid or not, so that one problem
    // in a price does not surface as a second one in `default_price`.
    let declared: Vec<String> = raw.prices.iter().map(|p| p.key.get_ref().clone()).collect();
    let (prices, lookup_keys) = prices(sink, &key, raw.prices);
    if let Some(default) = &raw.default_price {
        default_price(sink, &key, default, &declared);
    }

    // Every field is checked before giving up on a product whose name is missing.
    let description = fields::text(sink, "description", raw.description, 40_000);
    let unit_label = fields::text(sink, "unit_label", raw.unit_label, 12);
    fields::id_or_moved_from(sink, raw.id.as_ref(), raw.moved_from.as_ref(), true);
    let (metadata, on_remove) = fields::archivable(sink, raw.metadata, raw.on_remove.as_ref());
    let product = Product {
        moved_from: fields::moved_from(sink, raw.moved_from, "product"),
        on_remove: on_remove?,
        id: raw.id.map(|i| i.into_inner()),
        name: name?,
        description,
        active: raw.active.is_none_or(|a| *a.get_ref()),
        tax_code: raw.tax_code.map(|c| c.into_inner()),
        unit_label,
        statement_descriptor: raw.statement_descriptor.map(|s| s.into_inner()),
        url: raw.url.map(|u| u.into_inner()),
        images: images.unwrap_or_default(),
        features: features.unwrap_or_default(),
        entitlements,
        metadata,
        default_price: raw.default_price.map(|d| d.into_inner()),
        prices,
        key,
    };
    key_ok.then_some(Checked {
        product,
        lookup_keys,
    })
}

/// `statement_descriptor`: what card statements show, within Stripe's rules.
fn statement_descriptor(sink: &Sink, sd: &Sp<String>) {
    let text = sd.get_ref();
    let problem = if fields::chars(text) > 22 {
        "is longer than 22 characters"
    } else if text.contains(['<', '>', '\\', '"', '\'']) {
        "may not contain < > \\ \" or '"
    } else if !text.chars().any(char::is_alphabetic) {
        "must contain at least one letter"
    } else {
        return;
    };
    sink.push(
        Diagnostic::new(sd.span(), format!("`statement_descriptor` {problem}"))
            .label("Stripe refuses this descriptor")
            .hint("up to 22 characters with at least one letter, shown in capitals on card statements"),
    );
}

/// `images`: at most [`MAX_IMAGES`] URLs.
fn images(sink: &Sink, images: Sp<Vec<Sp<String>>>) -> Vec<String> {
    if images.get_ref().len() > MAX_IMAGES {
        sink.push(Diagnostic::new(
            images.span(),
            format!(
                "{} images; Stripe allows at most {MAX_IMAGES}",
                images.get_ref().len()
            ),
        ));
    }
    for image in images.get_ref() {
        fields::url(sink, "images", image);
    }
    images
        .into_inner()
        .into_iter()
        .map(Sp::into_inner)
        .collect()
}

/// `features`: at most [`MAX_FEATURES`] marketing features, each 1 to
/// [`MAX_FEATURE_NAME`] characters long.
fn features(sink: &Sink, features: Sp<Vec<Sp<String>>>) -> Vec<String> {
    if features.get_ref().len() > MAX_FEATURES {
        sink.push(
            Diagnostic::new(
                features.span(),
                format!(
                    "{} marketing features; Stripe allows at most {MAX_FEATURES}",
                    features.get_ref().len()
                ),
            )
            .label(format!("at most {MAX_FEATURES}")),
        );
    }
    for feature in features.get_ref() {
        let len = fields::chars(feature.get_ref());
        if len == 0 || len > MAX_FEATURE_NAME {
            sink.push(
                Diagnostic::new(
                    feature.span(),
                    format!("a marketing feature must be 1 to {MAX_FEATURE_NAME} characters long"),
                )
                .label(format!("{len} characters")),
            );
        }
    }
    features
        .into_inner()
        .into_iter()
        .map(Sp::into_inner)
        .collect()
}

/// The product's prices by key, and each one's key, lookup key and where that was written.
type Prices = (
    BTreeMap<String, Price>,
    Vec<(String, String, LookupKeyOrigin)>,
);

/// Validates the prices of product `key`, and their renames.
fn prices(sink: &Sink, key: &str, raw: Vec<RawPrice>) -> Prices {
    let moves = raw.iter().map(|p| (&p.key, p.more().moved_from.as_ref()));
    fields::renames(sink, |k| Address::price(key, k), moves);
    let mut prices = BTreeMap::new();
    let mut lookup_keys = Vec::new();
    for raw_price in raw {
        if let Some((price, origin)) = price::validate(sink, key, raw_price) {
            lookup_keys.push((price.key.clone(), price.lookup_key.clone(), origin));
            prices.insert(price.key.clone(), price);
        }
    }
    (prices, lookup_keys)
}

/// `default_price` names one of the product's `declared` prices.
fn default_price(sink: &Sink, key: &str, default: &Sp<String>, declared: &[String]) {
    let address = Address::price(key, default.get_ref());
    if declared.contains(default.get_ref())
        || sink.missing_reference(
            default.span(),
            &format!("price `{}`", default.get_ref()),
            &address,
        )
    {
        return;
    }
    let known: Vec<&str> = declared.iter().map(String::as_str).collect();
    let d = Diagnostic::new(
        default.span(),
        format!(
            "`default_price` names no price of product `{key}`: \"{}\"",
            default.get_ref()
        ),
    )
    .label("unknown price key");
    let hint = sink
        .did_you_mean(default.get_ref(), &known)
        .unwrap_or_else(|| {
            if known.is_empty() {
                format!("declare it as {}", address.declaration())
            } else {
                format!("the product's prices are: {}", known.join(", "))
            }
        });
    sink.push(d.hint(hint));
}
