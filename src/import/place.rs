//! Where an imported object goes, the same way for every kind: its marker read into a key (or
//! the object left out), a key claimed for an object billing adopts, and the one object kept
//! where several managed ones share an address.

use std::collections::{BTreeMap, BTreeSet};

use super::keys::{self, KeySpace};
use super::report::Renamed;
use super::write::Table;
use super::{Ctx, Owner, held_keys, marker_key, owner, unknown_address};
use crate::live::{LiveKind, LiveObject};
use crate::resource::{Address, ResourceKind};

impl Ctx<'_> {
    /// Where an object goes by its marker: `Ok(Some(key))` when this namespace's marker names
    /// an address `key` reads a key from, `Ok(None)` when it has no marker (it is written so
    /// that billing adopts it), `Err(why)` when it is left out (and reported): another
    /// namespace's object, or one whose marker names an address billing.toml cannot declare.
    /// `why` is what the objects that refer to it say.
    pub(crate) fn place<'m, K>(
        &mut self,
        kind: ResourceKind,
        id: &str,
        metadata: &'m crate::live::Metadata,
        key: impl FnOnce(&'m str) -> Option<K>,
    ) -> Result<Option<K>, String> {
        match owner(metadata, &self.options.namespace) {
            Owner::Foreign(ns) => {
                self.report.foreign(ns, kind);
                Err(format!("managed by namespace {ns:?}"))
            }
            Owner::Ours(address) => match key(address) {
                Some(k) => Ok(Some(k)),
                None => {
                    self.report.skip(kind, id, unknown_address(address));
                    Err("skipped".to_owned())
                }
            },
            Owner::Unmanaged => Ok(None),
        }
    }

    /// [`Self::place`] for an object of a kind whose marker addresses are `<table>.<key>`
    /// (`products.pro`).
    pub(crate) fn place_keyed(&mut self, live: &impl LiveObject) -> Result<Option<String>, String> {
        let kind = live.kind();
        self.place(kind, live.id(), live.metadata(), |a| {
            marker_key(a, kind.prefix()).map(str::to_owned)
        })
    }

    /// [`Self::place_keyed`] for an object others refer to: `None` when it is left out, and
    /// why is recorded in `excluded` (by id) for the objects that refer to it.
    pub(crate) fn place_or_exclude<'o>(
        &mut self,
        live: &'o impl LiveObject,
        excluded: &mut BTreeMap<&'o str, String>,
    ) -> Option<Option<String>> {
        match self.place_keyed(live) {
            Ok(ours) => Some(ours),
            Err(why) => {
                excluded.insert(live.id(), why);
                None
            }
        }
    }

    /// The keys this namespace's markers hold on the objects of a kind whose marker addresses
    /// are `<table>.<key>` (see [`held_keys`]).
    pub(crate) fn held<T: LiveKind>(&self) -> BTreeSet<String> {
        held_keys(
            T::all(self.live).iter().map(LiveObject::metadata),
            &self.options.namespace,
            |a| marker_key(a, T::KIND.prefix()),
        )
    }

    /// The table of a kind whose objects stand alone: its entries but the duplicates
    /// ([`Self::duplicates`], `what` they are and what `billing plan` does to them), each under
    /// its key ([`Self::keyed`], from `base` or `fallback`).
    pub(crate) fn table_of<T: LiveKind>(
        &mut self,
        mut entries: Vec<(&T, Option<String>, Table)>,
        what: (&str, &str),
        base: impl Fn(&T) -> Option<String>,
        fallback: &str,
    ) -> Table {
        let duplicates = self.duplicates(
            entries.iter().map(|(live, ours, _)| (*live, ours.as_ref())),
            what,
        );
        entries.retain(|(live, _, _)| !duplicates.contains(live.id()));
        let mut table = Table::default();
        for (_, key, t) in self.keyed(entries, base, fallback) {
            table.table(&key, t);
            self.report.wrote(T::KIND);
        }
        table
    }

    /// The key each entry is written under: the one its marker holds, else one claimed for it
    /// from `base` (else from its id, else `fallback`) among the keys no marker holds.
    pub(crate) fn keyed<'t, T: LiveKind>(
        &mut self,
        entries: Vec<(&'t T, Option<String>, Table)>,
        base: impl Fn(&T) -> Option<String>,
        fallback: &str,
    ) -> Vec<(&'t T, String, Table)> {
        let mut space = KeySpace::default();
        let held = self.held::<T>();
        for k in entries
            .iter()
            .filter_map(|(_, ours, _)| ours.as_ref())
            .chain(&held)
        {
            space.reserve(k);
        }
        let mut out = Vec::new();
        for (live, ours, table) in entries {
            let key = match ours {
                Some(k) => k,
                None => {
                    let base = base(live)
                        .or_else(|| keys::slug(live.id()))
                        .unwrap_or_else(|| fallback.to_owned());
                    self.claim(&mut space, T::KIND, live.id(), &base, |_| true)
                }
            };
            out.push((live, key, table));
        }
        out
    }

    /// The key of an object billing adopts: `base`, else the first of `base_2`, `base_3`, …
    /// free in `space` that `allowed` accepts; a key that differs from `base` is reported.
    pub(crate) fn claim(
        &mut self,
        space: &mut KeySpace,
        kind: ResourceKind,
        id: &str,
        base: &str,
        allowed: impl Fn(&str) -> bool,
    ) -> String {
        let claimed = space.claim(base, allowed);
        if let Some(wanted) = claimed.wanted {
            self.report.renamed.push(Renamed {
                address: Address::new(kind, &claimed.key).to_string(),
                id: id.to_owned(),
                wanted,
                why: None,
            });
        }
        claimed.key
    }

    /// The managed objects left out because another one at the same address is written
    /// ([`kept`]; `entries`: each object and its key when billing manages it), each reported
    /// (`what`: the kind's noun and what `billing plan` does to them). Their ids.
    pub(crate) fn duplicates<'t, 'k, T: LiveKind>(
        &mut self,
        entries: impl IntoIterator<Item = (&'t T, Option<&'k String>)>,
        what: (&str, &str),
    ) -> BTreeSet<&'t str> {
        let entries: Vec<(&'t T, Option<&'k String>)> = entries.into_iter().collect();
        let current = kept(entries.iter().copied());
        let mut left_out = BTreeSet::new();
        for (live, ours) in entries {
            if let Some(k) = ours
                && current.get(k) != Some(&live.id())
            {
                self.skip_duplicate(T::KIND, live.id(), k, what);
                left_out.insert(live.id());
            }
        }
        left_out
    }

    /// Reports a managed object left out because another one billing manages at the same
    /// address is written: `noun` names the kind, `fate` is what `billing plan` does to it.
    fn skip_duplicate(
        &mut self,
        kind: ResourceKind,
        id: &str,
        key: &str,
        (noun, fate): (&str, &str),
    ) {
        self.report.skip(
            kind,
            id,
            format!(
                "another {noun} billing manages is {}: `billing plan` {fate} this duplicate",
                Address::new(kind, key)
            ),
        );
    }
}

/// The object written at each address that managed objects share: the one the plan keeps,
/// active before inactive, then the newest (`entries`: each object and its key when billing
/// manages it). Maps each key to the id of its object.
fn kept<'t, 'k, T: LiveObject + 't>(
    entries: impl IntoIterator<Item = (&'t T, Option<&'k String>)>,
) -> BTreeMap<String, &'t str> {
    let mut current: BTreeMap<String, &'t T> = BTreeMap::new();
    for (live, ours) in entries {
        let Some(k) = ours else { continue };
        if current.get(k).is_none_or(|held| rank(live) > rank(*held)) {
            current.insert(k.clone(), live);
        }
    }
    current.into_iter().map(|(k, o)| (k, o.id())).collect()
}

/// Where an object of `kind` is written, for the report: its address when billing manages
/// it (`ours`: its key), else its id.
pub(crate) fn written_at(kind: ResourceKind, ours: Option<&String>, id: &str) -> String {
    ours.map_or_else(|| id.to_owned(), |k| Address::new(kind, k).to_string())
}

/// How [`kept`] orders the objects at one address.
fn rank<T: LiveObject>(o: &T) -> (bool, i64, &str) {
    (o.active(), o.created(), o.id())
}

/// The objects of one kind, oldest first, then by id: the order keys are given in, so that
/// the same account always gives the same keys.
pub(crate) fn oldest_first<T: LiveObject>(all: &[T]) -> Vec<&T> {
    let mut out: Vec<&T> = all.iter().collect();
    out.sort_by(|a, b| (a.created(), a.id()).cmp(&(b.created(), b.id())));
    out
}

/// Whether `id` is one billing.toml takes as the `id` of an object adopted by id: `prefix`
/// (`price_`, `txr_`), then letters, digits and `_`, at most 255 characters.
pub(crate) fn adoptable_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    }) && id.len() <= 255
}
