//! Validation of one product: its fields within Stripe's limits, its prices, its default price.

use std::collections::BTreeMap;

use super::super::diagnostic::{Diagnostic, Sink};
use super::super::model::{OnRemove, Product};
use super::super::raw::RawProduct;
use super::fields;
use super::price::{self, LookupKeyOrigin};

const MAX_FEATURES: usize = 15;
const MAX_FEATURE_NAME: usize = 80;
const MAX_IMAGES: usize = 8;

/// A validated product, and each price's key, lookup key and where that was written (for collision messages).
pub(crate) struct Checked {
    pub product: Product,
    pub lookup_keys: Vec<(String, String, LookupKeyOrigin)>,
}

pub(crate) fn validate(sink: &Sink, raw: RawProduct) -> Option<Checked> {
    let key_ok = fields::check_key(sink, &raw.key, "product");
    let key = raw.key.get_ref().clone();

    let name = match raw.name {
        Some(name) if !name.get_ref().trim().is_empty() => {
            fields::text(sink, "name", Some(name), 5000)
        }
        Some(name) => {
            sink.push(
                Diagnostic::new(name.span(), "`name` cannot be empty")
                    .label("customers see this name"),
            );
            None
        }
        None if raw.incomplete => None,
        None => {
            sink.push(
                Diagnostic::new(raw.span.clone(), format!("product `{key}` has no `name`"))
                    .label("missing `name`")
                    .hint("add `name = \"…\"`: the name customers see on invoices and Checkout"),
            );
            None
        }
    };

    if let Some(id) = &raw.id {
        let text = id.get_ref();
        let valid = !text.is_empty()
            && text.len() <= 255
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            sink.push(
                Diagnostic::new(id.span(), "`id` must be 1 to 255 letters, digits, `_` or `-`")
                    .label("not a valid Stripe id")
                    .hint("set `id` only to pin the product to an existing Stripe product, e.g. \"prod_NffrFeUfNV2Hib\""),
            );
        }
    }

    if let Some(code) = &raw.tax_code {
        super::tax::tax_code(sink, "tax_code", code);
    }

    if let Some(sd) = &raw.statement_descriptor {
        let text = sd.get_ref();
        let problem = if fields::chars(text) > 22 {
            Some("is longer than 22 characters")
        } else if text.contains(['<', '>', '\\', '"', '\'']) {
            Some("may not contain < > \\ \" or '")
        } else if !text.chars().any(char::is_alphabetic) {
            Some("must contain at least one letter")
        } else {
            None
        };
        if let Some(problem) = problem {
            sink.push(
                Diagnostic::new(sd.span(), format!("`statement_descriptor` {problem}"))
                    .label("Stripe refuses this descriptor")
                    .hint("up to 22 characters with at least one letter, shown in capitals on card statements"),
            );
        }
    }

    if let Some(url) = &raw.url {
        fields::url(sink, "url", url);
    }
    let images = raw.images.map(|images| {
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
            .map(|i| i.into_inner())
            .collect()
    });

    let features = raw.features.map(|features| {
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
                        format!(
                            "a marketing feature must be 1 to {MAX_FEATURE_NAME} characters long"
                        ),
                    )
                    .label(format!("{len} characters")),
                );
            }
        }
        features
            .into_inner()
            .into_iter()
            .map(|f| f.into_inner())
            .collect()
    });

    // References are checked against every declared price, valid or not, so that one problem
    // in a price does not surface as a second one in `default_price`.
    let declared: Vec<String> = raw.prices.iter().map(|p| p.key.get_ref().clone()).collect();
    fields::renames(
        sink,
        &format!("products.{key}.prices"),
        &raw.prices
            .iter()
            .map(|p| (p.key.get_ref().as_str(), p.moved_from.as_ref()))
            .collect::<Vec<_>>(),
    );
    let mut prices = BTreeMap::new();
    let mut lookup_keys = Vec::new();
    for raw_price in raw.prices {
        if let Some((price, origin)) = price::validate(sink, &key, raw_price) {
            lookup_keys.push((price.key.clone(), price.lookup_key.clone(), origin));
            prices.insert(price.key.clone(), price);
        }
    }

    if let Some(default) = &raw.default_price
        && !declared.contains(default.get_ref())
        && !sink.missing_reference(
            default.span(),
            &format!("price `{}`", default.get_ref()),
            &format!("products.{key}.prices.{}", default.get_ref()),
        )
    {
        let known: Vec<&str> = declared.iter().map(String::as_str).collect();
        let d = Diagnostic::new(
            default.span(),
            format!(
                "`default_price` names no price of product `{key}`: \"{}\"",
                default.get_ref()
            ),
        )
        .label("unknown price key");
        sink.push(
            match super::super::reader::suggest(default.get_ref(), &known) {
                Some(best) => d.hint(format!("did you mean \"{best}\"?")),
                None if known.is_empty() => d.hint(format!(
                    "declare it as [products.{key}.prices.{}]",
                    default.get_ref()
                )),
                None => d.hint(format!("the product's prices are: {}", known.join(", "))),
            },
        );
    }

    // Every field is checked before giving up on a product whose name is missing.
    let description = fields::text(sink, "description", raw.description, 40_000);
    let unit_label = fields::text(sink, "unit_label", raw.unit_label, 12);
    fields::id_or_moved_from(sink, raw.id.as_ref(), raw.moved_from.as_ref(), true);
    let metadata = fields::metadata_with_room(sink, raw.metadata, raw.on_remove.as_ref());
    let on_remove = fields::on_remove(
        sink,
        raw.on_remove.as_ref(),
        &["archive", "forget"],
        OnRemove::Archive,
    );
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
