//! What each step of a plan asks Stripe to do, as data: specs of the objects to create and
//! the fields to update, with references to objects that earlier steps create.

use std::collections::BTreeMap;

use serde::Serialize;

use super::portal::{PortalSettings, PortalUpdate};
use super::tax_rate::{TaxRateSpec, TaxRateUpdate};
use super::tax_registration::{RegistrationSpec, RegistrationUpdate};
use super::tax_settings::TaxSettingsUpdate;
use crate::resource::ResourceKind;

use crate::catalog::{
    Currency, CurrencyOption, MinorAmount, Percent, Price, Pricing, Recurring, TaxBehavior,
    TransformQuantity,
};

/// Index of a step in [`super::Plan::steps`].
pub type StepId = usize;

/// A Stripe object: one that exists, or one a step of this plan creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjRef {
    /// An existing object's id.
    Id(String),
    /// The object created by this step, known after apply.
    Created(StepId),
}

/// A product to create, with every declared field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductSpec {
    pub id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub active: bool,
    pub tax_code: Option<String>,
    pub unit_label: Option<String>,
    pub statement_descriptor: Option<String>,
    pub url: Option<String>,
    pub images: Vec<String>,
    pub features: Vec<String>,
    /// Declared metadata plus billing's ownership marker.
    pub metadata: BTreeMap<String, String>,
}

/// The fields of a product to change; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProductUpdate {
    pub name: Option<String>,
    /// `Some(None)` clears the field.
    pub description: Option<Option<String>>,
    pub tax_code: Option<Option<String>>,
    pub unit_label: Option<Option<String>>,
    /// Stripe cannot clear it once set.
    pub statement_descriptor: Option<String>,
    pub url: Option<Option<String>>,
    /// The whole new list (empty clears it).
    pub images: Option<Vec<String>>,
    pub features: Option<Vec<String>>,
    /// Keys to set (`Some`) or remove (`None`).
    pub metadata: BTreeMap<String, Option<String>>,
    pub active: Option<bool>,
    /// `Some(None)` clears the default price.
    pub default_price: Option<Option<ObjRef>>,
}

/// A price to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceSpec {
    pub currency: Currency,
    pub pricing: Pricing,
    pub recurring: Option<Recurring>,
    pub transform_quantity: Option<TransformQuantity>,
    pub lookup_key: String,
    /// Take the lookup key from the price holding it, atomically.
    pub transfer_lookup_key: bool,
    pub nickname: Option<String>,
    pub tax_behavior: Option<TaxBehavior>,
    /// Declared metadata plus billing's ownership marker.
    pub metadata: BTreeMap<String, String>,
    pub currency_options: BTreeMap<Currency, CurrencyOption>,
}

impl PriceSpec {
    /// The spec of a catalog price, carrying `metadata` (declared plus marker).
    pub fn from_catalog(
        price: &Price,
        metadata: BTreeMap<String, String>,
        transfer_lookup_key: bool,
    ) -> Self {
        Self {
            currency: price.currency,
            pricing: price.pricing.clone(),
            recurring: price.recurring,
            transform_quantity: price.transform_quantity,
            lookup_key: price.lookup_key.clone(),
            transfer_lookup_key,
            nickname: price.nickname.clone(),
            tax_behavior: price.tax_behavior,
            metadata,
            currency_options: price.currency_options.clone(),
        }
    }
}

/// How a price's currency options change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "mode", content = "options")]
pub enum CurrencyOptionsUpdate {
    /// Set these currencies; others stay (Stripe merges per currency).
    Merge(BTreeMap<Currency, CurrencyOption>),
    /// Clear all, then set these: a currency was removed.
    Replace(BTreeMap<Currency, CurrencyOption>),
}

/// The fields of a price to change; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PriceUpdate {
    pub active: Option<bool>,
    pub lookup_key: Option<String>,
    pub transfer_lookup_key: bool,
    pub nickname: Option<String>,
    pub tax_behavior: Option<TaxBehavior>,
    /// Keys to set (`Some`) or remove (`None`).
    pub metadata: BTreeMap<String, Option<String>>,
    pub currency_options: Option<CurrencyOptionsUpdate>,
}

/// A coupon to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CouponSpec {
    /// Always chosen by billing: the catalog key and a short digest, or the pinned id.
    pub id: String,
    pub name: Option<String>,
    pub percent_off: Option<Percent>,
    /// With `currency`.
    pub amount_off: Option<MinorAmount>,
    pub currency: Option<Currency>,
    pub currency_options: BTreeMap<Currency, MinorAmount>,
    /// `once`, `repeating`, `forever`.
    pub duration: String,
    pub duration_in_months: Option<u32>,
    pub max_redemptions: Option<u64>,
    pub redeem_by: Option<i64>,
    /// The products it applies to.
    pub applies_to: Vec<ObjRef>,
    /// Declared metadata plus billing's ownership marker.
    pub metadata: BTreeMap<String, String>,
}

/// The fields of a coupon to change (Stripe changes only these in place).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CouponUpdate {
    pub name: Option<String>,
    /// Keys to set (`Some`) or remove (`None`).
    pub metadata: BTreeMap<String, Option<String>>,
    /// Currencies whose `amount_off` to set.
    pub currency_options: BTreeMap<Currency, MinorAmount>,
}

/// A promotion code to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromotionCodeSpec {
    pub code: String,
    pub active: bool,
    pub customer: Option<String>,
    pub expires_at: Option<i64>,
    pub max_redemptions: Option<u64>,
    pub first_time_transaction: bool,
    pub minimum_amount: Option<(Currency, MinorAmount)>,
    pub minimum_amount_options: BTreeMap<Currency, MinorAmount>,
    /// Declared metadata plus billing's ownership marker.
    pub metadata: BTreeMap<String, String>,
}

/// The fields of a promotion code to change (Stripe changes only these in place).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PromotionCodeUpdate {
    pub active: Option<bool>,
    /// Keys to set (`Some`) or remove (`None`).
    pub metadata: BTreeMap<String, Option<String>>,
    /// Currencies whose minimum amount to set.
    pub minimum_amount_options: BTreeMap<Currency, MinorAmount>,
}

/// One request (or, for a currency-option reset, two) that a step sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "request")]
pub enum Request {
    CreateProduct {
        product: ProductSpec,
    },
    UpdateProduct {
        product: ObjRef,
        update: ProductUpdate,
    },
    CreatePrice {
        product: ObjRef,
        price: PriceSpec,
    },
    UpdatePrice {
        price: ObjRef,
        update: PriceUpdate,
    },
    CreateCoupon {
        coupon: CouponSpec,
    },
    UpdateCoupon {
        coupon: ObjRef,
        update: CouponUpdate,
    },
    DeleteCoupon {
        coupon: ObjRef,
    },
    CreatePromotionCode {
        coupon: ObjRef,
        code: PromotionCodeSpec,
    },
    UpdatePromotionCode {
        code: ObjRef,
        update: PromotionCodeUpdate,
    },
    UpdateTaxSettings {
        update: TaxSettingsUpdate,
    },
    CreateTaxRegistration {
        registration: RegistrationSpec,
    },
    UpdateTaxRegistration {
        registration: ObjRef,
        update: RegistrationUpdate,
    },
    CreateTaxRate {
        rate: TaxRateSpec,
    },
    UpdateTaxRate {
        rate: ObjRef,
        update: TaxRateUpdate,
    },
    CreatePortal {
        settings: PortalSettings,
        /// Declared metadata plus billing's ownership marker.
        metadata: BTreeMap<String, String>,
    },
    UpdatePortal {
        portal: ObjRef,
        update: PortalUpdate,
    },
    /// Only metadata changes, on an object of any kind that has it (forgetting removes the
    /// marker this way).
    UpdateMetadata {
        kind: ResourceKind,
        object: ObjRef,
        /// Keys to set (`Some`) or remove (`None`).
        metadata: BTreeMap<String, Option<String>>,
    },
}

/// The objects a portal configuration's products refer to.
fn portal_refs(settings: &PortalSettings) -> impl Iterator<Item = &ObjRef> {
    settings
        .subscription_update
        .iter()
        .flat_map(|u| u.products.iter())
        .flat_map(|(product, prices)| std::iter::once(product).chain(prices.iter()))
}

impl Request {
    /// The object this request changes, when it already exists or is created earlier.
    pub fn target(&self) -> Option<&ObjRef> {
        match self {
            Self::CreateProduct { .. }
            | Self::CreatePrice { .. }
            | Self::CreateCoupon { .. }
            | Self::CreatePromotionCode { .. }
            | Self::CreateTaxRegistration { .. }
            | Self::CreateTaxRate { .. }
            | Self::CreatePortal { .. }
            | Self::UpdateTaxSettings { .. } => None,
            Self::UpdateProduct { product, .. } => Some(product),
            Self::UpdatePrice { price, .. } => Some(price),
            Self::UpdateCoupon { coupon, .. } | Self::DeleteCoupon { coupon } => Some(coupon),
            Self::UpdatePromotionCode { code, .. } => Some(code),
            Self::UpdateTaxRegistration { registration, .. } => Some(registration),
            Self::UpdateTaxRate { rate, .. } => Some(rate),
            Self::UpdatePortal { portal, .. } => Some(portal),
            Self::UpdateMetadata { object, .. } => Some(object),
        }
    }

    /// The objects this request refers to (its target, a price's product, a default price, a
    /// coupon's products, a promotion code's coupon).
    pub fn references(&self) -> Vec<&ObjRef> {
        match self {
            Self::CreateProduct { .. } => vec![],
            Self::CreatePrice { product, .. } => vec![product],
            Self::UpdateProduct { product, update } => {
                let mut refs = vec![product];
                if let Some(Some(price)) = &update.default_price {
                    refs.push(price);
                }
                refs
            }
            Self::UpdatePrice { price, .. } => vec![price],
            Self::CreateCoupon { coupon } => coupon.applies_to.iter().collect(),
            Self::UpdateCoupon { coupon, .. } | Self::DeleteCoupon { coupon } => vec![coupon],
            Self::CreatePromotionCode { coupon, .. } => vec![coupon],
            Self::UpdatePromotionCode { code, .. } => vec![code],
            Self::UpdateTaxSettings { .. }
            | Self::CreateTaxRegistration { .. }
            | Self::CreateTaxRate { .. } => vec![],
            Self::UpdateTaxRegistration { registration, .. } => vec![registration],
            Self::UpdateTaxRate { rate, .. } => vec![rate],
            Self::CreatePortal { settings, .. } => portal_refs(settings).collect(),
            Self::UpdatePortal { portal, update } => {
                let mut refs = vec![portal];
                refs.extend(update.settings.iter().flat_map(portal_refs));
                refs
            }
            Self::UpdateMetadata { object, .. } => vec![object],
        }
    }

    /// Orders steps that could run in either order: creates before updates before archives
    /// and deletions.
    pub fn rank(&self) -> u8 {
        match self {
            Self::CreateProduct { .. } => 0,
            Self::UpdateProduct { update, .. } if update.active == Some(true) => 1,
            Self::CreatePrice { .. } | Self::CreateCoupon { .. } => 2,
            Self::UpdatePrice { update, .. } if update.active != Some(false) => 3,
            Self::UpdateCoupon { .. } => 3,
            Self::UpdatePromotionCode { update, .. } if update.active == Some(false) => 3,
            Self::CreatePromotionCode { .. } | Self::UpdatePromotionCode { .. } => 4,
            Self::UpdateProduct { update, .. } if update.active != Some(false) => 4,
            Self::UpdatePrice { .. } => 5,
            Self::UpdateProduct { .. } => 6,
            Self::DeleteCoupon { .. } => 7,
            Self::UpdateTaxSettings { .. }
            | Self::CreateTaxRegistration { .. }
            | Self::CreateTaxRate { .. }
            | Self::CreatePortal { .. } => 2,
            Self::UpdateTaxRegistration { .. } => 3,
            Self::UpdateTaxRate { update, .. } if update.active == Some(false) => 5,
            Self::UpdatePortal { update, .. } if update.active == Some(false) => 5,
            Self::UpdateTaxRate { .. }
            | Self::UpdatePortal { .. }
            | Self::UpdateMetadata { .. } => 3,
        }
    }

    /// Whether the request creates an object (whose id later steps may use).
    pub fn creates(&self) -> bool {
        matches!(
            self,
            Self::CreateProduct { .. }
                | Self::CreatePrice { .. }
                | Self::CreateCoupon { .. }
                | Self::CreatePromotionCode { .. }
                | Self::CreateTaxRegistration { .. }
                | Self::CreateTaxRate { .. }
                | Self::CreatePortal { .. }
        )
    }
}
