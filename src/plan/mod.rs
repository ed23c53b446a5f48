//! The plan: the difference between the catalog and live Stripe state, as data.
//!
//! A plan is a list of [`Change`]s (one per catalog address, what a reviewer reads) executed as
//! [`Step`]s (single Stripe writes) in a dependency graph with a deterministic order.

mod builder;
mod coupon;
mod error;
mod graph;
mod identity;
mod metadata;
mod portal;
mod price;
mod product;
mod promotion_code;
mod request;
mod tax;
#[cfg(test)]
mod tests;
mod value;

use serde::{Deserialize, Serialize};

pub use coupon::ON_REMOVE_KEY;
pub use coupon::format_timestamp;
pub use error::{Conflict, PlanError};
pub use identity::{
    MARKER_KEY, MARKER_NAMESPACE, Owner, fingerprint, hex, json_sha256, owner, price_address,
    product_address,
};
pub use request::{
    CouponSpec, CouponUpdate, CurrencyOptionsUpdate, ObjRef, PortalSettings,
    PortalSubscriptionUpdate, PortalUpdate, PriceSpec, PriceUpdate, ProductSpec, ProductUpdate,
    PromotionCodeSpec, PromotionCodeUpdate, RegistrationSpec, RegistrationUpdate, Request, StepId,
    TaxRateSpec, TaxRateUpdate, TaxSettingsUpdate,
};
pub use value::{FieldChange, FieldValue};

use crate::catalog::Catalog;
use crate::live::LiveState;

/// The kind of Stripe object a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Product,
    Price,
    Coupon,
    PromotionCode,
    TaxSettings,
    TaxRegistration,
    TaxRate,
    Portal,
}

/// What happens to an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A new object.
    Create,
    /// Fields changed in place.
    Update,
    /// An archived object made active again (with any other field changes).
    Unarchive,
    /// A new object replaces the current one, which is archived.
    Replace,
    /// The object is archived.
    Archive,
    /// A promotion code is deactivated.
    Deactivate,
    /// A coupon is deleted.
    Delete,
}

/// What happens to one catalog address, as a reviewer reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// `products.pro`, `prices.pro.monthly`.
    pub address: String,
    pub kind: ResourceKind,
    pub action: Action,
    /// The existing object's id, when there is one.
    pub id: Option<String>,
    /// A short description: `product "Pro"`, `price $79.00 / month`.
    pub title: String,
    /// Field by field, before and after.
    pub fields: Vec<FieldChange>,
    /// Why, when it is not obvious (a replacement, an archive).
    pub reason: Option<String>,
    /// What it means for existing customers and code.
    pub notes: Vec<String>,
    /// Archives an object because it left the catalog (needs `--allow-destroy` in live mode).
    pub destroy: bool,
    /// Objects billing does not manage that this change would break (unmanaged promotion codes
    /// on a coupon to replace): apply refuses without `--allow-destroy`, in every mode.
    pub blockers: Vec<String>,
    /// Digest of the live objects at this address that the change was planned against.
    pub fingerprint: String,
    /// The steps that carry it out (in a plan document: its operations).
    #[serde(rename = "operations")]
    pub steps: Vec<StepId>,
}

/// One Stripe write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Its index in [`Plan::steps`].
    pub id: StepId,
    /// The index of the change it belongs to in [`Plan::changes`].
    pub change: usize,
    /// What it does, in a few words (`create price`, `move default_price to the new price`).
    pub description: String,
    /// The request it sends.
    pub request: Request,
    /// Steps that must succeed first.
    pub depends_on: Vec<StepId>,
}

/// How many live objects the plan counted but will not touch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Untouched {
    pub products: usize,
    pub prices: usize,
    pub coupons: usize,
    pub promotion_codes: usize,
    pub tax_rates: usize,
    pub portals: usize,
}

impl Untouched {
    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.products
            + self.prices
            + self.coupons
            + self.promotion_codes
            + self.tax_rates
            + self.portals
            == 0
    }
}

/// Everything `billing apply` would do, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The catalog's namespace.
    pub namespace: String,
    /// The account's newest catalog event when the plan was made; part of every idempotency
    /// key, so that a write repeated after the state went back and forth is not a replay.
    pub generation: Option<String>,
    /// Changes in address order.
    pub changes: Vec<Change>,
    /// Every step; [`Plan::order`] says in which order they run.
    pub steps: Vec<Step>,
    /// Step ids in a deterministic topological order.
    pub order: Vec<StepId>,
    /// Objects without billing's marker, left alone.
    pub unmanaged: Untouched,
    /// Objects managed by a catalog with another namespace, left alone.
    pub foreign: Untouched,
    /// What a reviewer should know that is not a change (a promotion code Stripe deactivated
    /// itself, a coupon kept by `on_remove = "keep"`).
    pub notices: Vec<String>,
}

/// Counts of changes by what a summary line reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    /// Archived products and prices, deactivated promotion codes.
    pub archive: usize,
    /// Deleted coupons.
    pub delete: usize,
}

impl Change {
    /// A change with no fields, notes or steps yet.
    pub(crate) fn new(
        kind: ResourceKind,
        address: &str,
        action: Action,
        id: Option<String>,
        title: String,
        fingerprint: String,
    ) -> Self {
        Self {
            address: address.to_owned(),
            kind,
            action,
            id,
            title,
            fields: Vec::new(),
            reason: None,
            notes: Vec::new(),
            destroy: false,
            blockers: Vec::new(),
            fingerprint,
            steps: Vec::new(),
        }
    }
}

impl Plan {
    /// Whether applying would change nothing.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Counts for the summary line (an unarchive counts as an update).
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for change in &self.changes {
            match change.action {
                Action::Create => s.create += 1,
                Action::Update | Action::Unarchive => s.update += 1,
                Action::Replace => s.replace += 1,
                Action::Archive | Action::Deactivate => s.archive += 1,
                Action::Delete => s.delete += 1,
            }
        }
        s
    }

    /// The changes that archive objects because they left the catalog.
    pub fn destroys(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.destroy)
    }

    /// The unmanaged objects some change would break.
    pub fn blockers(&self) -> impl Iterator<Item = (&Change, &String)> {
        self.changes
            .iter()
            .flat_map(|c| c.blockers.iter().map(move |b| (c, b)))
    }
}

/// Computes the plan that makes `live` match `catalog`.
pub fn plan(catalog: &Catalog, live: &LiveState) -> Result<Plan, PlanError> {
    builder::build(catalog, live)
}
