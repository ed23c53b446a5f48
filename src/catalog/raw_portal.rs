//! The raw stage of customer-portal configurations: `[portal]` and `[portals.<key>]`.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::diagnostic::{Diagnostic, Sink};
use super::portal::{
    ALLOWED_UPDATES, CANCEL_MODES, CANCEL_PRORATIONS, CANCEL_REASONS, CUSTOMER_UPDATES,
    UPDATE_PRORATIONS,
};
use super::raw::{RawMetadata, read_metadata};
use super::reader::{Sp, TableReader, expect_table};
use super::shape::{METADATA, Table, Ty, field};

/// `[portal]` (key `default`) or `[portals.<key>]`.
#[derive(Debug)]
pub(crate) struct RawPortal {
    pub key: Sp<String>,
    /// `"default"`: manage the account's default configuration.
    pub target: Option<Sp<String>>,
    pub name: Option<Sp<String>>,
    pub default_return_url: Option<Sp<String>>,
    pub headline: Option<Sp<String>>,
    pub privacy_policy_url: Option<Sp<String>>,
    pub terms_of_service_url: Option<Sp<String>>,
    pub login_page: Option<Sp<bool>>,
    pub invoice_history: Option<Sp<bool>>,
    pub payment_method_update: Option<Sp<bool>>,
    /// Allowed updates; `Some(empty)` disables it.
    pub customer_update: Option<Sp<Vec<Sp<String>>>>,
    pub subscription_cancel: Option<RawCancel>,
    pub subscription_update: Option<RawSubscriptionUpdate>,
    pub metadata: Option<RawMetadata>,
    pub incomplete: bool,
}

/// `features.subscription_cancel`.
#[derive(Debug)]
pub(crate) struct RawCancel {
    pub enabled: bool,
    pub mode: Option<Sp<String>>,
    pub proration_behavior: Option<Sp<String>>,
    pub reasons: Option<Sp<Vec<Sp<String>>>>,
}

/// `features.subscription_update`.
#[derive(Debug)]
pub(crate) struct RawSubscriptionUpdate {
    pub span: Range<usize>,
    pub enabled: bool,
    pub products: Vec<RawPortalProduct>,
    pub default_allowed_updates: Option<Sp<Vec<Sp<String>>>>,
    pub proration_behavior: Option<Sp<String>>,
}

/// A product customers may switch to: `"pro"` (all its recurring prices) or
/// `{ product = "pro", prices = ["monthly"] }`.
#[derive(Debug)]
pub(crate) struct RawPortalProduct {
    pub product: Sp<String>,
    pub prices: Option<Vec<Sp<String>>>,
}

/// `[portal]` and `[portals.<key>]`.
pub(super) static PORTAL: Table = Table::entry(&[
    field(
        "target",
        Ty::Word(&["default"]),
        "\"default\": manage the account's default configuration instead of creating one.",
    ),
    field("name", Ty::Text, "An internal name for the configuration."),
    field(
        "default_return_url",
        Ty::Text,
        "Where customers return to after the portal (https).",
    ),
    field(
        "business_profile",
        Ty::Table(&BUSINESS_PROFILE),
        "What the portal shows about the business.",
    ),
    field(
        "login_page",
        Ty::Either(&[Ty::Bool, Ty::Table(&ENABLED)]),
        "Whether the portal has a shareable login page.",
    ),
    field(
        "features",
        Ty::Table(&FEATURES),
        "What customers can do in the portal.",
    ),
    METADATA,
]);

static BUSINESS_PROFILE: Table = Table::of(&[
    field(
        "headline",
        Ty::Text,
        "The headline shown at the top of the portal.",
    ),
    field(
        "privacy_policy_url",
        Ty::Text,
        "A link to the privacy policy (https).",
    ),
    field(
        "terms_of_service_url",
        Ty::Text,
        "A link to the terms of service (https).",
    ),
]);

static FEATURES: Table = Table::of(&[
    field(
        "customer_update",
        Ty::Either(&[
            Ty::Words(CUSTOMER_UPDATES),
            Ty::Bool,
            Ty::Table(&CUSTOMER_UPDATE),
        ]),
        "What customers may update about themselves, such as [\"email\", \"address\"]; false turns it off.",
    ),
    field(
        "invoice_history",
        Ty::Either(&[Ty::Bool, Ty::Table(&ENABLED)]),
        "Whether customers see their invoices.",
    ),
    field(
        "payment_method_update",
        Ty::Either(&[Ty::Bool, Ty::Table(&ENABLED)]),
        "Whether customers can change their payment methods.",
    ),
    field(
        "subscription_cancel",
        Ty::Either(&[Ty::Bool, Ty::Table(&CANCEL)]),
        "Whether and how customers can cancel subscriptions.",
    ),
    field(
        "subscription_update",
        Ty::Either(&[Ty::Bool, Ty::Table(&UPDATE)]),
        "Whether and how customers can switch plans.",
    ),
]);

static ENABLED: Table = Table::of(&[field("enabled", Ty::Bool, "Whether the feature is on.")]);

static CUSTOMER_UPDATE: Table = Table::of(&[
    field(
        "enabled",
        Ty::Bool,
        "Whether customers can update their details.",
    ),
    field(
        "allowed_updates",
        Ty::Words(CUSTOMER_UPDATES),
        "What they can update.",
    ),
]);

static CANCEL: Table = Table::of(&[
    field(
        "enabled",
        Ty::Bool,
        "Whether customers can cancel (default true when the table is written).",
    ),
    field(
        "mode",
        Ty::Word(CANCEL_MODES),
        "Cancel at the end of the period or immediately.",
    ),
    field(
        "proration_behavior",
        Ty::Word(CANCEL_PRORATIONS),
        "Whether an immediate cancellation prorates.",
    ),
    field(
        "reasons",
        Ty::Words(CANCEL_REASONS),
        "The cancellation reasons customers pick from.",
    ),
]);

static UPDATE: Table = Table::of(&[
    field(
        "enabled",
        Ty::Bool,
        "Whether customers can switch (default true when the table is written).",
    ),
    field(
        "products",
        Ty::List(&Ty::Either(&[Ty::Text, Ty::Table(&PORTAL_PRODUCT)])),
        "The products they can switch between: keys, or { product = \"…\", prices = [...] }.",
    ),
    field(
        "default_allowed_updates",
        Ty::Words(ALLOWED_UPDATES),
        "What they can change.",
    ),
    field(
        "proration_behavior",
        Ty::Word(UPDATE_PRORATIONS),
        "How a switch prorates.",
    ),
]);

static PORTAL_PRODUCT: Table = Table::of(&[
    field("product", Ty::Text, "The product's key (required)."),
    field(
        "prices",
        Ty::Texts,
        "The keys of its prices customers can switch to (default: its recurring prices).",
    ),
]);

/// `key = true` or `key = { enabled = true }`.
fn switch(t: &TableReader<'_, '_>, key: &str) -> Option<Sp<bool>> {
    let value = t.value(key)?;
    match value.get_ref() {
        DeValue::Boolean(_) => t.boolean(key),
        DeValue::Table(_) => {
            let inner = t.table(key)?;
            let enabled = inner.boolean("enabled");
            inner.finish();
            enabled
        }
        _ => {
            t.sink().push(Diagnostic::new(
                value.span(),
                format!("`{key}` must be true, false or {{ enabled = … }}"),
            ));
            None
        }
    }
}

fn customer_update(t: &TableReader<'_, '_>) -> Option<Sp<Vec<Sp<String>>>> {
    let value = t.value("customer_update")?;
    match value.get_ref() {
        DeValue::Array(_) => t.strings("customer_update"),
        DeValue::Boolean(false) => Some(Sp::new(value.span(), Vec::new())),
        DeValue::Table(_) => {
            let inner = t.table("customer_update")?;
            let enabled = inner.boolean("enabled");
            let allowed = inner.strings("allowed_updates");
            inner.finish();
            match enabled.map(|e| *e.get_ref()) {
                Some(false) => Some(Sp::new(value.span(), Vec::new())),
                _ => Some(allowed.unwrap_or_else(|| Sp::new(value.span(), Vec::new()))),
            }
        }
        _ => {
            t.sink().push(
                Diagnostic::new(
                    value.span(),
                    "`customer_update` lists what customers may update: [\"email\", \"address\"]",
                )
                .hint("or `false` to turn it off"),
            );
            None
        }
    }
}

/// `key = true`, `key = false`, or `key = { … }`, a table read by `table`; `flag` makes the
/// value of a boolean (from its span).
fn flag_or_table<T>(
    t: &TableReader<'_, '_>,
    key: &str,
    flag: impl FnOnce(Range<usize>, bool) -> T,
    table: impl FnOnce(&TableReader<'_, '_>) -> T,
) -> Option<T> {
    let value = t.value(key)?;
    if let DeValue::Boolean(b) = value.get_ref() {
        return Some(flag(value.span(), *b));
    }
    let inner = t.table(key)?;
    let out = table(&inner);
    inner.finish();
    Some(out)
}

/// `enabled` of a feature written as a table: on unless it says `false`.
fn enabled(t: &TableReader<'_, '_>) -> bool {
    t.boolean("enabled").is_none_or(|e| *e.get_ref())
}

/// `features.subscription_cancel`.
fn cancel(t: &TableReader<'_, '_>) -> Option<RawCancel> {
    flag_or_table(
        t,
        "subscription_cancel",
        |_, enabled| RawCancel {
            enabled,
            mode: None,
            proration_behavior: None,
            reasons: None,
        },
        |inner| RawCancel {
            enabled: enabled(inner),
            mode: inner.string("mode"),
            proration_behavior: inner.string("proration_behavior"),
            reasons: inner.strings("reasons"),
        },
    )
}

/// `features.subscription_update`.
fn subscription_update(t: &TableReader<'_, '_>) -> Option<RawSubscriptionUpdate> {
    flag_or_table(
        t,
        "subscription_update",
        |span, enabled| RawSubscriptionUpdate {
            span,
            enabled,
            products: Vec::new(),
            default_allowed_updates: None,
            proration_behavior: None,
        },
        |inner| {
            let products = portal_products(inner);
            RawSubscriptionUpdate {
                span: inner.span(),
                enabled: enabled(inner),
                products,
                default_allowed_updates: inner.strings("default_allowed_updates"),
                proration_behavior: inner.string("proration_behavior"),
            }
        },
    )
}

/// `subscription_update.products`: product keys, or `{ product = …, prices = [...] }`.
fn portal_products(t: &TableReader<'_, '_>) -> Vec<RawPortalProduct> {
    let Some(list) = t.value("products") else {
        return Vec::new();
    };
    let DeValue::Array(items) = list.get_ref() else {
        t.sink().push(
            Diagnostic::new(list.span(), "`products` must be an array")
                .hint("write products = [\"pro\"]"),
        );
        return Vec::new();
    };
    let mut products = Vec::new();
    for item in items.iter() {
        let product = match item.get_ref() {
            DeValue::String(s) => Some(RawPortalProduct {
                product: Sp::new(item.span(), s.to_string()),
                prices: None,
            }),
            DeValue::Table(table) => portal_product(t.sink(), item.span(), table),
            _ => {
                t.sink().push(Diagnostic::new(
                    item.span(),
                    "each product is a product key or { product = …, prices = [...] }",
                ));
                None
            }
        };
        products.extend(product);
    }
    products
}

/// `{ product = …, prices = [...] }` in `subscription_update.products`.
fn portal_product(
    sink: &Sink,
    span: Range<usize>,
    table: &DeTable<'_>,
) -> Option<RawPortalProduct> {
    let name = "in a subscription_update product";
    let p = TableReader::new(sink, name, span.clone(), table, &PORTAL_PRODUCT);
    let product = match p.string("product") {
        Some(product) => Some(RawPortalProduct {
            product,
            prices: p.strings("prices").map(Sp::into_inner),
        }),
        None => {
            sink.push(Diagnostic::new(
                span,
                "a subscription_update product needs `product`",
            ));
            None
        }
    };
    p.finish();
    product
}

/// Reads one portal configuration table.
pub(crate) fn read_portal(
    sink: &Sink,
    key: Sp<String>,
    name: String,
    value: &Sp<DeValue<'_>>,
) -> Option<RawPortal> {
    let table = expect_table(sink, value, &name, None)?;
    let t = TableReader::new(sink, format!("in {name}"), value.span(), table, &PORTAL);
    let (headline, privacy_policy_url, terms_of_service_url) = match t.table("business_profile") {
        Some(bp) => {
            let out = (
                bp.string("headline"),
                bp.string("privacy_policy_url"),
                bp.string("terms_of_service_url"),
            );
            bp.finish();
            out
        }
        None => (None, None, None),
    };
    let features = t.table("features");
    let (
        invoice_history,
        payment_method_update,
        customer_update,
        subscription_cancel,
        subscription_update,
    ) = match &features {
        Some(f) => (
            switch(f, "invoice_history"),
            switch(f, "payment_method_update"),
            customer_update(f),
            cancel(f),
            subscription_update(f),
        ),
        None => (None, None, None, None, None),
    };
    if let Some(f) = features {
        f.finish();
    }
    let mut portal = RawPortal {
        target: t.string("target"),
        name: t.string("name"),
        default_return_url: t.string("default_return_url"),
        headline,
        privacy_policy_url,
        terms_of_service_url,
        login_page: switch(&t, "login_page"),
        invoice_history,
        payment_method_update,
        customer_update,
        subscription_cancel,
        subscription_update,
        metadata: read_metadata(&t),
        incomplete: false,
        key,
    };
    portal.incomplete = t.incomplete();
    t.finish();
    Some(portal)
}
