//! The plan as data: what happens to each catalog address ([`Change`], what a reviewer
//! reads), the single Stripe writes that carry it out ([`Step`]), in a deterministic order, and
//! what the plan counted but leaves alone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::action::{Action, Summary};
use super::request::{Request, StepId};
use super::value::FieldChange;
use crate::digest::fingerprint;
use crate::live::LiveKind;
use crate::resource::ResourceKind;

/// What happens to one catalog address, as a reviewer reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Change {
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
    /// An object without billing's marker that this change takes over, and how billing.toml
    /// names it (`lookup key "pro_monthly"`, `id prod_…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopts: Option<Adoption>,
    /// The address the object had before a rename (`moved_from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_address: Option<String>,
    /// The steps that carry it out (in a plan document: its operations).
    #[serde(rename = "operations")]
    pub steps: Vec<StepId>,
}

/// An object a change adopts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Adoption {
    /// Its Stripe id.
    pub id: String,
    /// How billing.toml names it: `id prod_…`, `lookup key "pro_monthly"`, `code "SPRING"`.
    pub by: String,
}

/// One Stripe write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Step {
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

/// How many live objects the plan counted but will not touch, by kind (kinds with none left
/// out). As JSON, an object with a count for every kind that carries billing's marker, named
/// as its addresses start (`{"products": 3, "prices": 0, …}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Untouched(BTreeMap<ResourceKind, usize>);

impl Untouched {
    /// Whether nothing was counted.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.values().all(|n| *n == 0)
    }

    /// The count of each kind that carries the marker, in kind order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (ResourceKind, usize)> + '_ {
        ResourceKind::MARKED
            .into_iter()
            .map(|kind| (kind, self.0.get(&kind).copied().unwrap_or(0)))
    }
}

impl From<BTreeMap<ResourceKind, usize>> for Untouched {
    fn from(mut counts: BTreeMap<ResourceKind, usize>) -> Self {
        counts.retain(|_, n| *n > 0);
        Self(counts)
    }
}

impl Serialize for Untouched {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter().map(|(kind, n)| (kind.prefix(), n)))
    }
}

impl<'de> Deserialize<'de> for Untouched {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, usize>::deserialize(d)?;
        let mut counts = BTreeMap::new();
        for kind in ResourceKind::MARKED {
            let n = map
                .get(kind.prefix())
                .ok_or_else(|| serde::de::Error::missing_field(kind.prefix()))?;
            counts.insert(kind, *n);
        }
        Ok(counts.into())
    }
}

/// Everything `billing apply` would do, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Plan {
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
    /// What may break something outside billing.toml unless the reviewer acts: a lookup key a
    /// rename changes, a catalog that would remove everything of a kind. Shown first.
    pub warnings: Vec<String>,
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
            adopts: None,
            previous_address: None,
            steps: Vec::new(),
        }
    }

    /// A change to the existing object `live`, which the plan shows by its live title.
    pub(crate) fn of_live<L: LiveKind>(address: &str, action: Action, live: &L) -> Self {
        Self::new(
            L::KIND,
            address,
            action,
            Some(live.id().to_owned()),
            live.title(),
            fingerprint(&[live]),
        )
    }
}

impl Plan {
    /// Whether applying would change nothing.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The change at `address`.
    #[cfg(test)]
    pub(crate) fn change_at(&self, address: &str) -> &Change {
        self.changes
            .iter()
            .find(|c| c.address == address)
            .unwrap_or_else(|| panic!("no change at {address}: {:#?}", self.changes))
    }

    /// What each step of `change` does, in the order the change lists them.
    #[cfg(test)]
    pub(crate) fn step_descriptions(&self, change: &Change) -> Vec<&str> {
        change
            .steps
            .iter()
            .map(|&s| self.steps[s].description.as_str())
            .collect()
    }

    /// Counts for the summary line (an unarchive counts as an update).
    pub(crate) fn summary(&self) -> Summary {
        self.changes.iter().map(|c| c.action).collect()
    }
}
