//! Live objects indexed by the catalog address that manages them: one pass over every kind
//! that carries billing's marker, counting on the way the objects nobody here manages.

use std::collections::{BTreeMap, HashMap};

use super::{LiveKind, LiveObject, LiveState};
use crate::resource::{Owner, ResourceKind};

/// The managed objects of an account by kind and address, newest first, and counts of the
/// others.
pub(crate) struct Managed<'a> {
    live: &'a LiveState,
    /// Per kind, each managed object's address and position in the kind's list in
    /// [`LiveState`], sorted by address and, at one address, newest first. A sorted vector
    /// rather than a map of vectors: at 100,000 prices the map's nodes and one vector per
    /// address took 10 MB, this takes 2.6.
    at: HashMap<ResourceKind, Vec<(&'a str, u32)>>,
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
            let mut at = Vec::new();
            for (i, object) in objects.iter().enumerate() {
                match owner(object) {
                    Owner::Ours(address) => at.push((address, position(i))),
                    Owner::Foreign(_) => *index.foreign.entry(kind).or_default() += 1,
                    Owner::Unmanaged if object.is_built_in() => {}
                    Owner::Unmanaged => *index.unmanaged.entry(kind).or_default() += 1,
                }
            }
            // By address, then newest first. The sort is stable: objects created within the
            // same second keep the order Stripe listed them in, which is newest first.
            at.sort_by_key(|&(address, i)| {
                (
                    address,
                    std::cmp::Reverse(objects.get(i as usize).created()),
                )
            });
            at.shrink_to_fit();
            index.at.insert(kind, at);
        }
        index
    }

    /// The objects of `T`'s kind at `address`, newest first.
    pub(crate) fn at<T: LiveKind>(&self, address: &str) -> Vec<&'a T> {
        let all = T::all(self.live);
        self.positions(T::KIND, address)
            .iter()
            .map(|&(_, i)| &all[i as usize])
            .collect()
    }

    /// Every managed object of `T`'s kind with its address: by address, newest first at each.
    pub(crate) fn all_of<T: LiveKind>(&self) -> impl Iterator<Item = (&'a str, &'a T)> + '_ {
        let all = T::all(self.live);
        self.at
            .get(&T::KIND)
            .into_iter()
            .flatten()
            .map(move |&(address, i)| (address, &all[i as usize]))
    }

    /// The objects of `kind` at `address`, newest first.
    pub(crate) fn objects_at(&self, kind: ResourceKind, address: &str) -> Vec<&'a dyn LiveObject> {
        let all = self.live.objects(kind);
        self.positions(kind, address)
            .iter()
            .map(|&(_, i)| all.get(i as usize))
            .collect()
    }

    /// The addresses something of `kind` is managed at, in order.
    pub(crate) fn addresses(&self, kind: ResourceKind) -> impl Iterator<Item = &'a str> + '_ {
        let at = self.at.get(&kind).map_or(&[][..], Vec::as_slice);
        at.iter()
            .enumerate()
            .filter(move |&(j, (address, _))| j == 0 || at[j - 1].0 != *address)
            .map(|(_, &(address, _))| address)
    }

    /// Takes the objects at `address` out of the index (they are forgotten: no planner sees
    /// them), newest first.
    pub(crate) fn remove(&mut self, kind: ResourceKind, address: &str) -> Vec<&'a dyn LiveObject> {
        let all = self.live.objects(kind);
        let Some(at) = self.at.get_mut(&kind) else {
            return Vec::new();
        };
        let range = span(at, address);
        at.drain(range).map(|(_, i)| all.get(i as usize)).collect()
    }

    /// Objects without billing's marker, by kind.
    pub(crate) fn unmanaged(&self) -> &BTreeMap<ResourceKind, usize> {
        &self.unmanaged
    }

    /// Objects of other namespaces, by kind.
    pub(crate) fn foreign(&self) -> &BTreeMap<ResourceKind, usize> {
        &self.foreign
    }

    fn positions(&self, kind: ResourceKind, address: &str) -> &[(&'a str, u32)] {
        let at = self.at.get(&kind).map_or(&[][..], Vec::as_slice);
        &at[span(at, address)]
    }
}

/// Where the entries at `address` are in `at` (sorted by address).
fn span(at: &[(&str, u32)], address: &str) -> std::ops::Range<usize> {
    at.partition_point(|&(a, _)| a < address)..at.partition_point(|&(a, _)| a <= address)
}

/// A position in one kind's list: lists are far shorter than four billion objects.
fn position(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}
