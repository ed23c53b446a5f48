//! Assembles a plan: indexes live state by ownership, lets the per-kind planners add changes
//! and steps, then adds the edges every plan needs and orders the steps.

use std::collections::BTreeMap;

use super::change::{Change, Plan, Step};
use super::claims::Claims;
use super::error::{Conflict, PlanError};
use super::graph;
use super::request::{ObjRef, Request, StepId};
use crate::catalog::Catalog;
use crate::live::{
    Index, LiveCoupon, LivePrice, LiveProduct, LivePromotionCode, LiveState, Managed,
};
use crate::plan::FieldChange;
use crate::resource::Owner;

/// Live state indexed for planning, and the plan being built.
pub(crate) struct Builder<'a> {
    pub catalog: &'a Catalog,
    /// Renamed and adopted objects, at their new addresses.
    pub claims: &'a Claims,
    pub namespace: &'a str,
    /// Managed objects of every kind by address, newest first (renames and adoptions
    /// included, forgotten objects taken out).
    pub managed: Managed<'a>,
    pub product_by_id: Index<'a, LiveProduct>,
    pub price_by_id: Index<'a, LivePrice>,
    /// Every live price holding a lookup key, managed or not.
    pub lookup_key_holder: Index<'a, LivePrice>,
    pub coupon_by_id: Index<'a, LiveCoupon>,
    /// Every live promotion code, managed or not.
    pub all_codes: &'a [LivePromotionCode],
    /// Everything read, for the kinds planned from it directly.
    pub live: &'a LiveState,
    /// Stripe's clock when the state was read.
    pub now: i64,
    /// The account's newest catalog event (see [`super::Plan::generation`]).
    pub generation: Option<String>,
    pub notices: Vec<String>,
    /// See [`Plan::warnings`].
    pub warnings: Vec<String>,
    pub changes: Vec<Change>,
    pub steps: Vec<Step>,
    pub conflicts: Vec<Conflict>,
    /// Addresses whose objects `--replace` asks to replace.
    pub replace: std::collections::BTreeSet<String>,
    /// What each declared meter key stands for (see `meter::plan`, which runs first).
    pub meters: super::meter::MeterRefs,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(catalog: &'a Catalog, live: &'a LiveState, claims: &'a Claims) -> Self {
        let namespace = catalog.namespace.as_str();
        let managed = Managed::new(live, |o| claims.owner(o.id(), o.metadata(), namespace));
        Self {
            catalog,
            claims,
            namespace,
            managed,
            product_by_id: Index::new(&live.products, |p| Some(&p.id)),
            price_by_id: Index::new(&live.prices, |p| Some(&p.id)),
            lookup_key_holder: Index::new(&live.prices, |p| p.lookup_key.as_deref()),
            coupon_by_id: Index::new(&live.coupons, |c| Some(&c.id)),
            all_codes: &live.promotion_codes,
            live,
            now: live.now,
            generation: live.generation.clone(),
            notices: Vec::new(),
            warnings: Vec::new(),
            changes: Vec::new(),
            steps: Vec::new(),
            conflicts: claims.conflicts.clone(),
            replace: std::collections::BTreeSet::new(),
            meters: super::meter::MeterRefs::new(),
        }
    }

    /// Who manages a live object, renames and adoptions included.
    pub(super) fn owner(&self, id: &str, metadata: &'a crate::live::Metadata) -> Owner<'a> {
        self.claims.owner(id, metadata, self.namespace)
    }

    /// Adds a change and returns its index.
    pub(super) fn add_change(&mut self, change: Change) -> usize {
        self.changes.push(change);
        self.changes.len() - 1
    }

    /// Adds a step to a change and returns its id.
    pub(super) fn add_step(
        &mut self,
        change: usize,
        description: impl Into<String>,
        request: impl Into<Request>,
        depends_on: Vec<StepId>,
    ) -> StepId {
        let id = self.steps.len();
        self.steps.push(Step {
            id,
            change,
            description: description.into(),
            request: request.into(),
            depends_on,
        });
        self.changes[change].steps.push(id);
        id
    }

    /// The metadata changes that make `live` hold `desired`, leaving alone the keys other
    /// systems write (`ignore_metadata`); each change is also described in `fields`.
    pub(crate) fn metadata_update(
        &self,
        desired: &BTreeMap<String, String>,
        live: &crate::live::Metadata,
        fields: &mut Vec<FieldChange>,
    ) -> BTreeMap<String, Option<String>> {
        super::metadata::diff(
            desired,
            live,
            |k| self.catalog.ignores_metadata_key(k),
            fields,
        )
    }

    /// Adds the edges every plan needs, sorts changes (products first, then by address) and
    /// orders the steps.
    pub(crate) fn finish(mut self) -> Result<Plan, PlanError> {
        if !self.conflicts.is_empty() {
            self.conflicts.sort_by(|a, b| a.address.cmp(&b.address));
            return Err(PlanError::Conflicts(self.conflicts));
        }
        // A step that uses an object created by another step runs after it.
        for step in &mut self.steps {
            for r in step.request.references() {
                if let ObjRef::Created(dep) = r
                    && !step.depends_on.contains(dep)
                {
                    step.depends_on.push(*dep);
                }
            }
        }
        // Writes to one object run one at a time, in rank order: Stripe locks an object per
        // write, and concurrent writes to it fail with `lock_timeout`.
        let mut by_target: BTreeMap<String, Vec<StepId>> = BTreeMap::new();
        for step in &self.steps {
            if let Some(target) = step.request.target() {
                let key = match target {
                    ObjRef::Id(id) => id.to_string(),
                    ObjRef::Created(s) => format!("#{s}"),
                };
                by_target.entry(key).or_default().push(step.id);
            }
        }
        for ids in by_target.values_mut() {
            ids.sort_by_key(|&id| (self.steps[id].request.rank(), id));
            for pair in ids.windows(2) {
                let (before, after) = (pair[0], pair[1]);
                if !self.steps[after].depends_on.contains(&before)
                    && !depends(&self.steps, before, after)
                {
                    self.steps[after].depends_on.push(before);
                }
            }
        }
        for step in &mut self.steps {
            step.depends_on.sort_unstable();
        }

        let mut indices: Vec<usize> = (0..self.changes.len()).collect();
        indices.sort_by(|&a, &b| {
            let (a, b) = (&self.changes[a], &self.changes[b]);
            (a.kind, &a.address, a.action).cmp(&(b.kind, &b.address, b.action))
        });
        let mut position = vec![0; indices.len()];
        for (new, &old) in indices.iter().enumerate() {
            position[old] = new;
        }
        let mut changes: Vec<Option<Change>> = self.changes.into_iter().map(Some).collect();
        let changes: Vec<Change> = indices.iter().filter_map(|&i| changes[i].take()).collect();
        for step in &mut self.steps {
            step.change = position[step.change];
        }
        let order = graph::order(&self.steps, &changes)?;
        Ok(Plan {
            namespace: self.namespace.to_owned(),
            generation: self.generation,
            notices: self.notices,
            warnings: self.warnings,
            changes,
            steps: self.steps,
            order,
            unmanaged: self.managed.unmanaged().clone().into(),
            foreign: self.managed.foreign().clone().into(),
        })
    }
}

/// Whether `step` already (transitively) depends on `on`; used to avoid adding a reverse edge.
fn depends(steps: &[Step], step: StepId, on: StepId) -> bool {
    let mut stack = vec![step];
    let mut seen = vec![false; steps.len()];
    while let Some(s) = stack.pop() {
        for &d in &steps[s].depends_on {
            if d == on {
                return true;
            }
            if !seen[d] {
                seen[d] = true;
                stack.push(d);
            }
        }
    }
    false
}
