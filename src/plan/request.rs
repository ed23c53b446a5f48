//! What each step of a plan asks Stripe to do, as data: specs of the objects to create and
//! the fields to update, with references to objects that earlier steps create.

use std::collections::BTreeMap;

use serde::Serialize;

use super::coupon::{CouponSpec, CouponUpdate};
use super::portal::{PortalSettings, PortalUpdate};
use super::price::{PriceSpec, PriceUpdate};
use super::product::{ProductSpec, ProductUpdate};
use super::promotion_code::{PromotionCodeSpec, PromotionCodeUpdate};
use super::tax_rate::{TaxRateSpec, TaxRateUpdate};
use super::tax_registration::{RegistrationSpec, RegistrationUpdate};
use super::tax_settings::TaxSettingsUpdate;
use crate::resource::ResourceKind;

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
