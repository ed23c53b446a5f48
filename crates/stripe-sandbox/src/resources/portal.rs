//! Billing portal configurations (`/v1/billing_portal/configurations`): parameter tables, the
//! stored record, its JSON shape and the create / retrieve / update / list handlers
//! (docs/stripe-rules.md#portal-configurations).
//!
//! Every account starts with one **default** configuration (`is_default: true`, every feature
//! disabled), created with the account: the API can update it but never create another
//! default, and `is_default` is not a parameter anywhere (`parameter_unknown`). Configurations
//! cannot be deleted; they are deactivated with `active=false`.
//!
//! `features.subscription_update.products` is includable: omitted unless expanded
//! (`expand[]=features.subscription_update.products`, on lists
//! `data.features.subscription_update.products`). Arrays are replaced whole on update, and
//! the emptyable ones (docs/stripe-rules.md#empty-values) are emptied with `""`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use stripe_facts::{
    PORTAL_CANCEL_MODES, PORTAL_CANCEL_REASONS, PORTAL_CUSTOMER_UPDATES, PORTAL_MAX_PRODUCTS,
    PORTAL_SUBSCRIPTION_UPDATES,
};

use crate::error::ApiError;
use crate::expand::{Expand, NONE, Schema, Target};
use crate::handler::{self, Call, Ctx, Resource};
use crate::ids;
use crate::list::{ENDING_BEFORE, LIMIT, STARTING_AFTER};
use crate::metadata;
use crate::params::{EXPAND, Field, ParamsExt, Ty};
use crate::records::AccountRecord;
use crate::state::{State, find, unused_id};

// ---------------------------------------------------------------------------------------------
// The stored record, its id and its expansions

/// A stored configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PortalConfiguration {
    pub id: String,
    pub seq: u64,
    pub active: bool,
    pub business_profile: BusinessProfile,
    pub created: i64,
    pub default_return_url: Option<String>,
    pub features: Features,
    pub is_default: bool,
    pub login_page: LoginPage,
    /// `None` (shown as `null`) until set: the default configuration has no metadata yet.
    pub metadata: Option<BTreeMap<String, String>>,
    pub name: Option<String>,
    pub updated: i64,
}

/// The stored parts below are serialized with Stripe's field names: the object shows them as
/// they are (less the includable `products`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct BusinessProfile {
    pub headline: Option<String>,
    pub privacy_policy_url: Option<String>,
    pub terms_of_service_url: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct LoginPage {
    pub enabled: bool,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Features {
    pub customer_update: CustomerUpdate,
    pub invoice_history: Toggle,
    pub payment_method_update: PaymentMethodUpdate,
    pub subscription_cancel: SubscriptionCancel,
    pub subscription_update: SubscriptionUpdate,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct CustomerUpdate {
    pub allowed_updates: Vec<String>,
    pub enabled: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Toggle {
    pub enabled: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct PaymentMethodUpdate {
    pub enabled: bool,
    pub payment_method_configuration: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SubscriptionCancel {
    pub cancellation_reason: CancellationReason,
    pub enabled: bool,
    pub mode: String,
    pub proration_behavior: String,
}

impl Default for SubscriptionCancel {
    fn default() -> Self {
        SubscriptionCancel {
            cancellation_reason: CancellationReason::default(),
            enabled: false,
            mode: "at_period_end".into(),
            proration_behavior: "none".into(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct CancellationReason {
    pub enabled: bool,
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SubscriptionUpdate {
    /// `null` until set (Stripe's default behaviour is `unchanged`).
    pub billing_cycle_anchor: Option<String>,
    pub default_allowed_updates: Vec<String>,
    pub enabled: bool,
    pub products: Vec<PortalProduct>,
    pub proration_behavior: String,
    pub schedule_at_period_end: Schedule,
    pub trial_update_behavior: String,
}

impl Default for SubscriptionUpdate {
    fn default() -> Self {
        SubscriptionUpdate {
            billing_cycle_anchor: None,
            default_allowed_updates: Vec::new(),
            enabled: false,
            products: Vec::new(),
            proration_behavior: "none".into(),
            schedule_at_period_end: Schedule::default(),
            trial_update_behavior: "end_trial".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PortalProduct {
    pub adjustable_quantity: AdjustableQuantity,
    pub prices: Vec<String>,
    pub product: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct AdjustableQuantity {
    pub enabled: bool,
    pub maximum: Option<i64>,
    pub minimum: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Schedule {
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Condition {
    #[serde(rename = "type")]
    pub kind: String,
}

/// The account's default configuration, created with the account. Its id is derived from the
/// account id, so every process that opens a state file without one (an older file) derives
/// the same configuration.
pub(crate) fn default_configuration(account: &AccountRecord) -> PortalConfiguration {
    const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let digest = Sha256::digest(format!("billing-portal-default:{}", account.id).as_bytes());
    let suffix: String = digest
        .iter()
        .take(23)
        .map(|b| char::from(ALPHANUMERIC[usize::from(*b) % ALPHANUMERIC.len()]))
        .collect();
    PortalConfiguration {
        id: format!("bpc_1{suffix}"),
        seq: 0,
        active: true,
        business_profile: BusinessProfile::default(),
        created: account.created,
        default_return_url: None,
        features: Features::default(),
        is_default: true,
        login_page: LoginPage::default(),
        metadata: None,
        name: None,
        updated: account.created,
    }
}

/// A portal configuration id: `bpc_` + 24 alphanumerics.
fn new_id() -> String {
    ids::random("bpc_", 24)
}

/// A portal login page URL: `https://billing.stripe.com/p/login/test_` + 24 alphanumerics.
fn new_login_url() -> String {
    ids::random("https://billing.stripe.com/p/login/test_", 24)
}

/// `billing_portal.configuration`: `application` expands (it is always `null` in the
/// sandbox), and `features.subscription_update.products` is includable
/// (docs/stripe-rules.md#portal-configurations).
pub(crate) static SCHEMA: Schema = Schema {
    fields: &[
        ("application", Target::Object(&NONE)),
        ("features", Target::Nested(&FEATURES_SCHEMA)),
    ],
};

/// `billing_portal.configuration.features`.
static FEATURES_SCHEMA: Schema = Schema {
    fields: &[(
        "subscription_update",
        Target::Nested(&SUBSCRIPTION_UPDATE_SCHEMA),
    )],
};

/// `billing_portal.configuration.features.subscription_update`.
static SUBSCRIPTION_UPDATE_SCHEMA: Schema = Schema {
    fields: &[("products", Target::Included)],
};

// ---------------------------------------------------------------------------------------------
// Parameter tables

/// URLs; checked to be `https` by [`check_url`].
const URL: Ty = Ty::String { max: 5000 };

const HEADLINE: Ty = Ty::String { max: 60 };

/// `name`: Stripe documents no limit; the sandbox takes at most 256 characters (stricter
/// reading).
const NAME: Ty = Ty::String { max: 256 };

const ALLOWED_UPDATES: Ty = Ty::Array {
    item: &Ty::Enum(PORTAL_CUSTOMER_UPDATES),
    max: PORTAL_CUSTOMER_UPDATES.len(),
};

const REASONS: Ty = Ty::Array {
    item: &Ty::Enum(PORTAL_CANCEL_REASONS),
    max: PORTAL_CANCEL_REASONS.len(),
};

/// Ids of custom feedback options (`bfo_…`), which the sandbox does not model.
const FEEDBACK_OPTIONS: Ty = Ty::Array {
    item: &Ty::String { max: 5000 },
    max: 10,
};

const CANCEL_MODE: Ty = Ty::Enum(PORTAL_CANCEL_MODES);
const PRORATION_BEHAVIOR: Ty = Ty::Enum(&["always_invoice", "create_prorations", "none"]);

const DEFAULT_ALLOWED_UPDATES: Ty = Ty::Array {
    item: &Ty::Enum(PORTAL_SUBSCRIPTION_UPDATES),
    max: 3,
};

/// Quantities: Stripe documents no bounds for the portal; the sandbox takes Checkout's (a
/// maximum of at most 999999), and a non-negative minimum (stricter reading).
const ADJUSTABLE_QUANTITY: &[Field] = &[
    Field::new("enabled", Ty::Boolean).required(),
    Field::new(
        "maximum",
        Ty::Integer {
            min: 1,
            max: 999_999,
        },
    ),
    Field::new(
        "minimum",
        Ty::Integer {
            min: 0,
            max: 999_999,
        },
    ),
];

/// One product offered for subscription updates. Stripe documents no limit on its prices; the
/// sandbox takes at most 10 (stricter reading).
const PRODUCT: &[Field] = &[
    Field::new("adjustable_quantity", Ty::Object(ADJUSTABLE_QUANTITY)),
    Field::new(
        "prices",
        Ty::Array {
            item: &Ty::String { max: 5000 },
            max: 10,
        },
    )
    .required(),
    Field::new("product", Ty::String { max: 5000 }).required(),
];

const PRODUCTS: Ty = Ty::Array {
    item: &Ty::Object(PRODUCT),
    max: PORTAL_MAX_PRODUCTS,
};

const CONDITIONS: Ty = Ty::Array {
    item: &Ty::Object(&[Field::new(
        "type",
        Ty::Enum(&["decreasing_item_amount", "shortening_interval"]),
    )
    .required()]),
    max: 2,
};

const BILLING_CYCLE_ANCHOR: Ty = Ty::Enum(&["now", "unchanged"]);
const TRIAL_UPDATE_BEHAVIOR: Ty = Ty::Enum(&["continue_trial", "end_trial"]);

/// Create: every `enabled` flag is required with its hash, and so are `options` with
/// `cancellation_reason`; nothing is emptyable (`""` on create would unset nothing; stricter
/// reading).
const CREATE_FEATURES: &[Field] = &[
    Field::new(
        "customer_update",
        Ty::Object(&[
            Field::new("allowed_updates", ALLOWED_UPDATES),
            Field::new("enabled", Ty::Boolean).required(),
        ]),
    ),
    Field::new(
        "invoice_history",
        Ty::Object(&[Field::new("enabled", Ty::Boolean).required()]),
    ),
    Field::new(
        "payment_method_update",
        Ty::Object(&[
            Field::new("enabled", Ty::Boolean).required(),
            Field::new("payment_method_configuration", Ty::String { max: 5000 }),
        ]),
    ),
    Field::new(
        "subscription_cancel",
        Ty::Object(&[
            Field::new(
                "cancellation_reason",
                Ty::Object(&[
                    Field::new("enabled", Ty::Boolean).required(),
                    Field::new("feedback_options", FEEDBACK_OPTIONS),
                    Field::new("options", REASONS).required(),
                ]),
            ),
            Field::new("enabled", Ty::Boolean).required(),
            Field::new("mode", CANCEL_MODE),
            Field::new("proration_behavior", PRORATION_BEHAVIOR),
        ]),
    ),
    Field::new(
        "subscription_update",
        Ty::Object(&[
            Field::new("billing_cycle_anchor", BILLING_CYCLE_ANCHOR),
            Field::new("default_allowed_updates", DEFAULT_ALLOWED_UPDATES),
            Field::new("enabled", Ty::Boolean).required(),
            Field::new("products", PRODUCTS),
            Field::new("proration_behavior", PRORATION_BEHAVIOR),
            Field::new(
                "schedule_at_period_end",
                Ty::Object(&[Field::new("conditions", CONDITIONS)]),
            ),
            Field::new("trial_update_behavior", TRIAL_UPDATE_BEHAVIOR),
        ]),
    ),
];

/// Update: `customer_update.enabled`, `subscription_cancel.enabled`,
/// `subscription_update.enabled` and `cancellation_reason.options` become optional; the other
/// `enabled` flags stay required with their hash. Emptyable as listed in
/// docs/stripe-rules.md#empty-values.
const UPDATE_FEATURES: &[Field] = &[
    Field::new(
        "customer_update",
        Ty::Object(&[
            Field::new("allowed_updates", ALLOWED_UPDATES).emptyable(),
            Field::new("enabled", Ty::Boolean),
        ]),
    ),
    Field::new(
        "invoice_history",
        Ty::Object(&[Field::new("enabled", Ty::Boolean).required()]),
    ),
    Field::new(
        "payment_method_update",
        Ty::Object(&[
            Field::new("enabled", Ty::Boolean).required(),
            Field::new("payment_method_configuration", Ty::String { max: 5000 }).emptyable(),
        ]),
    ),
    Field::new(
        "subscription_cancel",
        Ty::Object(&[
            Field::new(
                "cancellation_reason",
                Ty::Object(&[
                    Field::new("enabled", Ty::Boolean).required(),
                    Field::new("feedback_options", FEEDBACK_OPTIONS),
                    Field::new("options", REASONS).emptyable(),
                ]),
            ),
            Field::new("enabled", Ty::Boolean),
            Field::new("mode", CANCEL_MODE),
            Field::new("proration_behavior", PRORATION_BEHAVIOR),
        ]),
    ),
    Field::new(
        "subscription_update",
        Ty::Object(&[
            Field::new("billing_cycle_anchor", BILLING_CYCLE_ANCHOR),
            Field::new("default_allowed_updates", DEFAULT_ALLOWED_UPDATES).emptyable(),
            Field::new("enabled", Ty::Boolean),
            Field::new("products", PRODUCTS).emptyable(),
            Field::new("proration_behavior", PRORATION_BEHAVIOR),
            Field::new(
                "schedule_at_period_end",
                Ty::Object(&[Field::new("conditions", CONDITIONS).emptyable()]),
            ),
            Field::new("trial_update_behavior", TRIAL_UPDATE_BEHAVIOR),
        ]),
    ),
];

const LOGIN_PAGE: &[Field] = &[Field::new("enabled", Ty::Boolean).required()];

/// `POST /v1/billing_portal/configurations`.
pub(crate) static CREATE: &[Field] = &[
    Field::new(
        "business_profile",
        Ty::Object(&[
            Field::new("headline", HEADLINE),
            Field::new("privacy_policy_url", URL),
            Field::new("terms_of_service_url", URL),
        ]),
    ),
    Field::new("default_return_url", URL),
    EXPAND,
    Field::new("features", Ty::Object(CREATE_FEATURES)).required(),
    Field::new("login_page", Ty::Object(LOGIN_PAGE)),
    Field::new("metadata", Ty::Metadata),
    Field::new("name", NAME),
];

/// `POST /v1/billing_portal/configurations/{id}`. `is_default` is read-only: unknown here as on
/// create.
pub(crate) static UPDATE: &[Field] = &[
    Field::new("active", Ty::Boolean),
    Field::new(
        "business_profile",
        Ty::Object(&[
            Field::new("headline", HEADLINE).emptyable(),
            Field::new("privacy_policy_url", URL).emptyable(),
            Field::new("terms_of_service_url", URL).emptyable(),
        ]),
    ),
    Field::new("default_return_url", URL).emptyable(),
    EXPAND,
    Field::new("features", Ty::Object(UPDATE_FEATURES)),
    Field::new("login_page", Ty::Object(LOGIN_PAGE)),
    Field::new("metadata", Ty::Metadata).emptyable(),
    Field::new("name", NAME).emptyable(),
];

pub(crate) static RETRIEVE: &[Field] = &[EXPAND];

/// `GET /v1/billing_portal/configurations`: without filters, every configuration.
pub(crate) static LIST: &[Field] = &[
    Field::new("active", Ty::Boolean),
    ENDING_BEFORE,
    EXPAND,
    Field::new("is_default", Ty::Boolean),
    LIMIT,
    STARTING_AFTER,
];

// ---------------------------------------------------------------------------------------------
// Rules

/// Portal URLs must be absolute `https` URLs. Stripe's exact rule is unverified (it refuses
/// invalid ones with `url_invalid`); customers follow these links from a Stripe-hosted `https`
/// page, so plain `http` is refused too (stricter reading).
fn check_url(s: &str, param: &str) -> Result<(), ApiError> {
    match s.strip_prefix("https://") {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(())
        }
        _ => Err(ApiError::invalid(format!(
            "Not a valid URL: {s}. Portal URLs must be absolute https URLs."
        ))
        .with_code("url_invalid")
        .with_param(param)),
    }
}

/// The strings of a validated array; a value listed twice is refused (whether Stripe keeps,
/// drops or refuses duplicates is unverified; stricter reading).
fn distinct(values: &[Value], param: &str) -> Result<Vec<String>, ApiError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let s = value.as_str().unwrap_or_default();
        if !seen.insert(s) {
            return Err(
                ApiError::invalid(format!("`{s}` is listed more than once in `{param}`."))
                    .with_param(format!("{param}[{i}]")),
            );
        }
        out.push(s.to_string());
    }
    Ok(out)
}

/// An emptyable array parameter: `Some(vec![])` when cleared with `""`, its distinct strings
/// when sent, `None` when absent.
fn strings(
    p: &Map<String, Value>,
    key: &str,
    param: &str,
) -> Result<Option<Vec<String>>, ApiError> {
    match p.get(key) {
        None => Ok(None),
        Some(Value::Array(values)) => distinct(values, param).map(Some),
        Some(_) => Ok(Some(Vec::new())),
    }
}

/// `products` of `features[subscription_update]`: each product must exist and be active, each
/// of its prices must exist, be active, be recurring and belong to it. A product listed twice
/// is refused, and so are two prices of one product with the same currency and billing period
/// (the portal could not tell them apart for a customer; Stripe's rule is unverified, stricter
/// reading).
fn products(state: &State, values: &[Value], prefix: &str) -> Result<Vec<PortalProduct>, ApiError> {
    let mut out: Vec<PortalProduct> = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let here = format!("{prefix}[{i}]");
        let entry = value.as_object().cloned().unwrap_or_default();
        let product_id = entry.str_of("product").unwrap_or_default();
        let product_param = format!("{here}[product]");
        let product = state
            .products
            .get(product_id)
            .ok_or_else(|| ApiError::no_such_in_param("product", product_id, &product_param))?;
        if !product.active {
            return Err(ApiError::invalid(format!(
                "The product `{product_id}` is archived; only active products can be offered \
                 in the portal."
            ))
            .with_param(product_param));
        }
        if out.iter().any(|p| p.product == product_id) {
            return Err(ApiError::invalid(format!(
                "The product `{product_id}` is listed more than once in `{prefix}`."
            ))
            .with_param(product_param));
        }
        let prices_param = format!("{here}[prices]");
        let price_ids = distinct(
            entry.arr_of("prices").map_or(&[][..], Vec::as_slice),
            &prices_param,
        )?;
        let mut periods = BTreeMap::new();
        for (j, price_id) in price_ids.iter().enumerate() {
            let param = format!("{prices_param}[{j}]");
            let price = state
                .prices
                .get(price_id)
                .ok_or_else(|| ApiError::no_such_in_param("price", price_id, &param))?;
            let refuse = |why: &str| {
                Err(ApiError::invalid(format!("The price `{price_id}` {why}.")).with_param(&param))
            };
            if price.product != product_id {
                return refuse(&format!(
                    "belongs to the product `{}`, not `{product_id}`",
                    price.product
                ));
            }
            if !price.active {
                return refuse("is archived; only active prices can be offered in the portal");
            }
            let Some(recurring) = &price.recurring else {
                return refuse("is a one-time price; the portal only offers recurring prices");
            };
            let period = (
                price.currency.clone(),
                recurring.interval.clone(),
                recurring.interval_count,
            );
            if let Some(other) = periods.insert(period, price_id.clone()) {
                return refuse(&format!(
                    "has the same currency and billing period as `{other}`; a product can \
                     offer one price per currency and billing period"
                ));
            }
        }
        let quantity = entry.obj_of("adjustable_quantity");
        let adjustable_quantity = match quantity {
            None => AdjustableQuantity::default(),
            Some(q) => {
                let param = format!("{here}[adjustable_quantity]");
                let enabled = q.bool_of("enabled").unwrap_or(false);
                let minimum = q.int_of("minimum");
                let maximum = q.int_of("maximum");
                // Bounds without adjustable quantities would mean nothing (stricter reading).
                if !enabled && (minimum.is_some() || maximum.is_some()) {
                    return Err(ApiError::invalid(format!(
                        "`{param}[minimum]` and `{param}[maximum]` can only be set when \
                         `{param}[enabled]` is true."
                    ))
                    .with_param(format!("{param}[enabled]")));
                }
                if let (Some(min), Some(max)) = (minimum, maximum)
                    && max < min
                {
                    return Err(ApiError::invalid(format!(
                        "`{param}[maximum]` ({max}) cannot be less than `{param}[minimum]` \
                         ({min})."
                    ))
                    .with_param(format!("{param}[maximum]")));
                }
                AdjustableQuantity {
                    enabled,
                    maximum,
                    minimum: minimum.unwrap_or(0),
                }
            }
        };
        out.push(PortalProduct {
            adjustable_quantity,
            prices: price_ids,
            product: product_id.to_string(),
        });
    }
    Ok(out)
}

/// Applies the validated `features` parameter to `features`.
fn apply_features(
    state: &State,
    features: &mut Features,
    p: &Map<String, Value>,
) -> Result<(), ApiError> {
    const PREFIX: &str = "features";
    if let Some(c) = p.obj_of("customer_update") {
        if let Some(enabled) = c.bool_of("enabled") {
            features.customer_update.enabled = enabled;
        }
        let param = format!("{PREFIX}[customer_update][allowed_updates]");
        if let Some(updates) = strings(c, "allowed_updates", &param)? {
            features.customer_update.allowed_updates = updates;
        }
    }
    if let Some(enabled) = p
        .obj_of("invoice_history")
        .and_then(|h| h.bool_of("enabled"))
    {
        features.invoice_history.enabled = enabled;
    }
    if let Some(m) = p.obj_of("payment_method_update") {
        if let Some(enabled) = m.bool_of("enabled") {
            features.payment_method_update.enabled = enabled;
        }
        if m.cleared("payment_method_configuration") {
            features.payment_method_update.payment_method_configuration = None;
        } else if let Some(id) = m.str_of("payment_method_configuration") {
            // The sandbox models no payment method configurations: every id is unknown.
            return Err(ApiError::no_such_in_param(
                "payment method configuration",
                id,
                &format!("{PREFIX}[payment_method_update][payment_method_configuration]"),
            ));
        }
    }
    if let Some(c) = p.obj_of("subscription_cancel") {
        apply_cancel(&mut features.subscription_cancel, c)?;
    }
    if let Some(u) = p.obj_of("subscription_update") {
        let prefix = format!("{PREFIX}[subscription_update]");
        let update = &mut features.subscription_update;
        if let Some(enabled) = u.bool_of("enabled") {
            update.enabled = enabled;
        }
        if let Some(anchor) = u.str_of("billing_cycle_anchor") {
            update.billing_cycle_anchor = Some(anchor.to_string());
        }
        let param = format!("{prefix}[default_allowed_updates]");
        if let Some(allowed) = strings(u, "default_allowed_updates", &param)? {
            update.default_allowed_updates = allowed;
        }
        match u.get("products") {
            None => {}
            Some(Value::Array(values)) => {
                update.products = products(state, values, &format!("{prefix}[products]"))?;
            }
            Some(_) => update.products.clear(),
        }
        if let Some(behavior) = u.str_of("proration_behavior") {
            update.proration_behavior = behavior.to_string();
        }
        if let Some(schedule) = u.obj_of("schedule_at_period_end") {
            let param = format!("{prefix}[schedule_at_period_end][conditions]");
            match schedule.get("conditions") {
                None => {}
                Some(Value::Array(values)) => {
                    let kinds: Vec<Value> = values
                        .iter()
                        .map(|c| c.get("type").cloned().unwrap_or(Value::Null))
                        .collect();
                    update.schedule_at_period_end.conditions = distinct(&kinds, &param)?
                        .into_iter()
                        .map(|kind| Condition { kind })
                        .collect();
                }
                Some(_) => update.schedule_at_period_end.conditions.clear(),
            }
        }
        if let Some(behavior) = u.str_of("trial_update_behavior") {
            update.trial_update_behavior = behavior.to_string();
        }
    }
    Ok(())
}

/// Applies `features[subscription_cancel]`. `proration_behavior` only applies to immediate
/// cancellations: it can only be sent when the resulting `mode` is `immediately`, never as
/// `always_invoice` (docs/stripe-rules.md#portal-configurations), and it falls back to `none` when
/// the mode becomes `at_period_end`.
fn apply_cancel(cancel: &mut SubscriptionCancel, c: &Map<String, Value>) -> Result<(), ApiError> {
    let prefix = "features[subscription_cancel]";
    if let Some(enabled) = c.bool_of("enabled") {
        cancel.enabled = enabled;
    }
    if let Some(mode) = c.str_of("mode") {
        cancel.mode = mode.to_string();
    }
    match c.str_of("proration_behavior") {
        Some("always_invoice") => {
            return Err(ApiError::invalid(format!(
                "`{prefix}[proration_behavior]` cannot be `always_invoice` when canceling \
                 subscriptions; use `create_prorations` or `none`."
            ))
            .with_param(format!("{prefix}[proration_behavior]")));
        }
        Some(behavior) => {
            if cancel.mode != "immediately" {
                return Err(ApiError::invalid(format!(
                    "`{prefix}[proration_behavior]` can only be set when `{prefix}[mode]` is \
                     `immediately`."
                ))
                .with_param(format!("{prefix}[proration_behavior]")));
            }
            cancel.proration_behavior = behavior.to_string();
        }
        None if cancel.mode != "immediately" => cancel.proration_behavior = "none".into(),
        None => {}
    }
    if let Some(reason) = c.obj_of("cancellation_reason") {
        let here = format!("{prefix}[cancellation_reason]");
        if let Some(enabled) = reason.bool_of("enabled") {
            cancel.cancellation_reason.enabled = enabled;
        }
        if let Some(id) = reason
            .arr_of("feedback_options")
            .and_then(|ids| ids.first())
            .and_then(Value::as_str)
        {
            // The sandbox models no custom feedback options: every id is unknown.
            return Err(ApiError::no_such_in_param(
                "billing feedback option",
                id,
                &format!("{here}[feedback_options][0]"),
            ));
        }
        if let Some(options) = strings(reason, "options", &format!("{here}[options]"))? {
            cancel.cancellation_reason.options = options;
        }
    }
    Ok(())
}

/// Rules on the configuration as a whole, after a create or update.
fn check(config: &PortalConfiguration) -> Result<(), ApiError> {
    let update = &config.features.subscription_update;
    // C8: with no `default_allowed_updates` customers cannot change anything, and with no
    // products there is nothing to change to; an enabled feature that does nothing is refused
    // (Stripe's rule is unverified; stricter reading).
    if update.enabled {
        let prefix = "features[subscription_update]";
        if update.products.is_empty() {
            return Err(ApiError::invalid(format!(
                "`{prefix}[products]` must list at least one product when `{prefix}[enabled]` \
                 is true."
            ))
            .with_param(format!("{prefix}[products]")));
        }
        if update.default_allowed_updates.is_empty() {
            return Err(ApiError::invalid(format!(
                "`{prefix}[default_allowed_updates]` must list at least one update (such as \
                 `price`) when `{prefix}[enabled]` is true."
            ))
            .with_param(format!("{prefix}[default_allowed_updates]")));
        }
    }
    // Collecting cancellation reasons with no reason to offer is refused likewise.
    let reason = &config.features.subscription_cancel.cancellation_reason;
    if reason.enabled && reason.options.is_empty() {
        let param = "features[subscription_cancel][cancellation_reason][options]";
        return Err(ApiError::invalid(format!(
            "`{param}` must list at least one reason when cancellation reasons are enabled."
        ))
        .with_param(param));
    }
    Ok(())
}

/// Applies the parameters shared by create and update to `config`.
fn apply(
    state: &State,
    config: &mut PortalConfiguration,
    p: &Map<String, Value>,
) -> Result<(), ApiError> {
    if let Some(profile) = p.obj_of("business_profile") {
        let b = &mut config.business_profile;
        profile.update_str("headline", &mut b.headline, |_| Ok(()))?;
        profile.update_str("privacy_policy_url", &mut b.privacy_policy_url, |url| {
            check_url(url, "business_profile[privacy_policy_url]")
        })?;
        profile.update_str("terms_of_service_url", &mut b.terms_of_service_url, |url| {
            check_url(url, "business_profile[terms_of_service_url]")
        })?;
    }
    p.update_str(
        "default_return_url",
        &mut config.default_return_url,
        |url| check_url(url, "default_return_url"),
    )?;
    if let Some(features) = p.obj_of("features") {
        apply_features(state, &mut config.features, features)?;
    }
    if let Some(enabled) = p.obj_of("login_page").and_then(|l| l.bool_of("enabled")) {
        config.login_page.enabled = enabled;
        config.login_page.url = if enabled {
            // An enabled page keeps its link; a new one gets a fresh link.
            config
                .login_page
                .url
                .take()
                .or_else(|| Some(new_login_url()))
        } else {
            None
        };
    }
    if p.contains_key("metadata") {
        let existing = config.metadata.take().unwrap_or_default();
        config.metadata = Some(metadata::merge(&existing, p.get("metadata"), "metadata")?);
    }
    p.update_str("name", &mut config.name, |_| Ok(()))?;
    check(config)
}

// ---------------------------------------------------------------------------------------------
// Rendering

impl Resource for PortalConfiguration {
    fn render(&self, _state: &State, expand: &Expand, _now: i64) -> Value {
        render(self, expand)
    }
}

/// The configuration's JSON, with `expand` applied: `application` is expandable (always
/// `null` here) and `features.subscription_update.products` includable.
pub(crate) fn render(config: &PortalConfiguration, expand: &Expand) -> Value {
    let mut features = serde_json::to_value(&config.features).unwrap_or(Value::Null);
    let include_products = expand
        .get("features")
        .and_then(|f| f.get("subscription_update"))
        .is_some_and(|u| u.has("products"));
    if !include_products
        && let Some(update) = features
            .get_mut("subscription_update")
            .and_then(Value::as_object_mut)
    {
        // `shift_remove` keeps the order of the other keys.
        update.shift_remove("products");
    }
    json!({
        "id": config.id,
        "object": "billing_portal.configuration",
        "active": config.active,
        "application": null,
        "business_profile": config.business_profile,
        "created": config.created,
        "default_return_url": config.default_return_url,
        "features": features,
        "is_default": config.is_default,
        "livemode": false,
        "login_page": config.login_page,
        "metadata": config.metadata.as_ref().map(metadata::render),
        "name": config.name,
        "updated": config.updated,
    })
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// `POST /v1/billing_portal/configurations`: never a default configuration.
pub(crate) fn create(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let state = ctx.tx.state();
    let mut config = PortalConfiguration {
        id: unused_id::<PortalConfiguration>(state, new_id),
        seq: 0,
        active: true,
        business_profile: BusinessProfile::default(),
        created: ctx.now,
        default_return_url: None,
        features: Features::default(),
        is_default: false,
        login_page: LoginPage::default(),
        metadata: Some(BTreeMap::new()),
        name: None,
        updated: ctx.now,
    };
    apply(state, &mut config, &call.params)?;
    ctx.create(config, &call.expand)
}

/// `POST /v1/billing_portal/configurations/{id}`. The default configuration cannot be
/// deactivated: portal sessions without a configuration use it, and whether Stripe allows it
/// is not documented (stricter reading).
pub(crate) fn update(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let state = ctx.tx.state();
    let mut config = find::<PortalConfiguration>(state, &call.id)?.clone();
    if let Some(active) = p.bool_of("active") {
        if !active && config.is_default {
            return Err(ApiError::invalid(
                "The default configuration cannot be deactivated: portal sessions created \
                 without a configuration use it.",
            )
            .with_param("active"));
        }
        config.active = active;
    }
    apply(state, &mut config, p)?;
    config.updated = ctx.now;
    ctx.save(config, &call.expand)
}

/// `GET /v1/billing_portal/configurations`.
pub(crate) fn list(ctx: &mut Ctx<'_, '_>, call: &Call) -> Result<Value, ApiError> {
    let p = &call.params;
    let keep = |c: &PortalConfiguration| {
        p.admits("active", c.active) && p.admits("is_default", c.is_default)
    };
    handler::page(ctx, call, "/v1/billing_portal/configurations", keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_configuration_is_derived_from_the_account() {
        let account = AccountRecord {
            id: "acct_1Example".into(),
            created: 1_700_000_000,
        };
        let a = default_configuration(&account);
        let b = default_configuration(&account);
        assert_eq!(a.id, b.id);
        assert!(a.id.starts_with("bpc_1") && a.id.len() == 28, "{}", a.id);
        assert!(a.is_default && a.active && !a.features.subscription_update.enabled);
        let other = AccountRecord {
            id: "acct_1Other".into(),
            created: 0,
        };
        assert_ne!(default_configuration(&other).id, a.id);
    }

    #[test]
    fn urls_must_be_https() {
        assert!(check_url("https://acme.example/account", "u").is_ok());
        for bad in [
            "http://acme.example",
            "https://",
            "https:///path",
            "acme.example",
            "https://a b",
        ] {
            let e = check_url(bad, "u").unwrap_err();
            assert_eq!(e.code, Some("url_invalid"), "{bad}");
        }
    }
}
