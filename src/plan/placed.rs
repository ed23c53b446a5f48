//! Where each declared product, price and coupon stands once planned: the Stripe object later
//! steps refer to (existing, or created by a step), the step after which it can be used, and
//! its change. The kinds whose objects refer to these read it.

use std::collections::BTreeMap;

use super::action::Action;
use super::request::{ObjRef, StepId};
use crate::catalog::Product;
use crate::live::LiveCoupon;
use crate::live::{LivePrice, LiveProduct};

/// Where a declared product stands once planned.
pub(crate) struct ProductState<'a> {
    /// The product as declared.
    pub declared: &'a Product,
    /// The Stripe object: existing, or created by a step.
    pub obj: ObjRef,
    /// The live product, when there is one.
    pub live: Option<&'a LiveProduct>,
    /// The step after which prices can be created on it (its creation or unarchiving).
    pub ready: Option<StepId>,
    /// Its change, when it has one.
    pub change: Option<usize>,
}

/// Planned products by catalog key.
pub(crate) struct Products<'a> {
    pub states: BTreeMap<&'a str, ProductState<'a>>,
    /// Declared `active = false` products to archive once their prices are archived: the live
    /// product's id and its change.
    pub archive_later: Vec<(String, usize)>,
}

/// Where a declared price stands once planned.
pub(crate) struct PriceState<'a> {
    /// The price that will be current: existing, or created by a step.
    pub obj: ObjRef,
    /// Its change, when it has one.
    pub change: Option<usize>,
    pub action: Option<Action>,
    /// The live price that stays active, if any (not when it is replaced).
    pub keep: Option<&'a LivePrice>,
    /// The live price being replaced, and the step creating its successor.
    pub replaced: Option<(&'a LivePrice, StepId)>,
    /// The step after which the price is usable (its creation or unarchiving), if any.
    pub ready: Option<StepId>,
}

/// Where each declared price stands once planned, by product key and price key. A sorted
/// vector rather than a map: an account of 100,000 prices has as many states, and a map's nodes
/// held them in 30 MB instead of 13.
pub(crate) struct PriceStates<'a>(Vec<((&'a str, &'a str), PriceState<'a>)>);

impl<'a> PriceStates<'a> {
    /// The states, given in key order (the catalog's products and their prices are).
    pub(crate) fn new(mut states: Vec<((&'a str, &'a str), PriceState<'a>)>) -> Self {
        debug_assert!(
            states.is_sorted_by(|a, b| a.0 < b.0),
            "states out of key order"
        );
        states.shrink_to_fit();
        Self(states)
    }

    /// The state of price `key` of product `product`: `(product, key)`.
    pub(crate) fn get(&self, key: &(&str, &str)) -> Option<&PriceState<'a>> {
        let at = self.0.binary_search_by(|(k, _)| k.cmp(key)).ok()?;
        Some(&self.0[at].1)
    }

    /// Every state with its keys, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&(&'a str, &'a str), &PriceState<'a>)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

/// Where a declared coupon stands once planned.
pub(crate) struct CouponState<'a> {
    /// The coupon its promotion codes belong to: existing, or created by a step.
    pub obj: ObjRef,
    /// The step creating it, if any.
    pub ready: Option<StepId>,
    /// The live coupon being replaced, and the change that replaces it.
    pub replaced: Option<(&'a LiveCoupon, usize)>,
}

/// Planned coupons by key, and the live coupons to delete with the change that deletes each.
pub(crate) struct Coupons<'a> {
    pub states: BTreeMap<&'a str, CouponState<'a>>,
    pub deletions: Vec<(String, usize)>,
}

impl Coupons<'_> {
    /// Whether the live coupon `id` is replaced or deleted by this plan.
    pub(super) fn retiring(&self, id: &str) -> bool {
        self.deletions.iter().any(|(d, _)| d == id)
    }
}
