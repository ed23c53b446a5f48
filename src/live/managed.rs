//! Live objects indexed by the catalog address that manages them: one pass over every kind
//! that carries billing's marker, counting on the way the objects nobody here manages.

use std::collections::{BTreeMap, HashMap};

use super::{LiveKind, LiveObject, LiveState};
use crate::resource::{Owner, ResourceKind};

/// The managed objects of an account by kind and address, newest first, and counts of the
/// others.
pub(crate) struct Managed<'a> {
    live: &'a LiveState,
    /// Positions in the kind's list in [`LiveState`], by address.
    at: HashMap<ResourceKind, BTreeMap<&'a str, Vec<usize>>>,
    /// Objects without billing's marker, by kind (built-in ones left out).
    unmanaged: BTreeMap<ResourceKind, usize>,
    /// Objects managed by a catalog with another namespace, by kind.
    foreign: BTreeMap<ResourceKind, usize>,
}

impl<'a> Managed<'a> {
    /// Indexes every object of `live` at the address `owner` gives it.
    pub(crate) fn new(
        live: &'a LiveState,
        owner: impl Fn(&'a dyn LiveObject) -> Owner<'a>,
    ) -> Self {
        let mut index = Self {
            live,
            at: HashMap::new(),
            unmanaged: BTreeMap::new(),
            foreign: BTreeMap::new(),
        };
        for kind in ResourceKind::MARKED {
            let objects = live.objects(kind);
            let at = index.at.entry(kind).or_default();
            for (i, object) in objects.iter().enumerate() {
                match owner(object) {
                    Owner::Ours(address) => at.entry(address).or_default().push(i),
                    Owner::Foreign(_) => *index.foreign.entry(kind).or_default() += 1,
                    Owner::Unmanaged if object.is_built_in() => {}
                    Owner::Unmanaged => *index.unmanaged.entry(kind).or_default() += 1,
                }
            }
            // Newest first. The sort is stable: objects created within the same second keep
            // the order Stripe listed them in, which is newest first.
            for positions in at.values_mut() {
                positions.sort_by_key(|&i| std::cmp::Reverse(objects.get(i).created()));
            }
        }
        index
    }

    /// The objects of `T`'s kind at `address`, newest first.
    pub(crate) fn at<T: LiveKind>(&self, address: &str) -> Vec<&'a T> {
        let all = T::all(self.live);
        self.positions(T::KIND, address)
            .iter()
            .map(|&i| &all[i])
            .collect()
    }

    /// Every managed object of `T`'s kind with its address: by address, newest first at each.
    pub(crate) fn all_of<T: LiveKind>(&self) -> impl Iterator<Item = (&'a str, &'a T)> + '_ {
        let all = T::all(self.live);
        self.at
            .get(&T::KIND)
            .into_iter()
            .flatten()
            .flat_map(move |(address, positions)| {
                positions.iter().map(move |&i| (*address, &all[i]))
            })
    }

    /// The objects of `kind` at `address`, newest first.
    pub(crate) fn objects_at(&self, kind: ResourceKind, address: &str) -> Vec<&'a dyn LiveObject> {
        let all = self.live.objects(kind);
        self.positions(kind, address)
            .iter()
            .map(|&i| all.get(i))
            .collect()
    }

    /// The addresses something of `kind` is managed at, in order.
    pub(crate) fn addresses(&self, kind: ResourceKind) -> impl Iterator<Item = &'a str> + '_ {
        self.at
            .get(&kind)
            .into_iter()
            .flat_map(|at| at.keys().copied())
    }

    /// Takes the objects at `address` out of the index (they are forgotten: no planner sees
    /// them), newest first.
    pub(crate) fn remove(&mut self, kind: ResourceKind, address: &str) -> Vec<&'a dyn LiveObject> {
        let all = self.live.objects(kind);
        self.at
            .get_mut(&kind)
            .and_then(|at| at.remove(address))
            .unwrap_or_default()
            .into_iter()
            .map(|i| all.get(i))
            .collect()
    }

    /// Objects without billing's marker, by kind.
    pub(crate) fn unmanaged(&self) -> &BTreeMap<ResourceKind, usize> {
        &self.unmanaged
    }

    /// Objects of other namespaces, by kind.
    pub(crate) fn foreign(&self) -> &BTreeMap<ResourceKind, usize> {
        &self.foreign
    }

    fn positions(&self, kind: ResourceKind, address: &str) -> &[usize] {
        self.at
            .get(&kind)
            .and_then(|at| at.get(address))
            .map_or(&[], Vec::as_slice)
    }
}
