//! The lifecycle most kinds share, written once: find the current object at each declared
//! address, then create it, replace it (the new object first, the old one retired after),
//! update what changed in place, unarchive or archive it; and retire the managed objects that
//! are not current (duplicates, and what left billing.toml).
//!
//! A kind plugs in with [`Lifecycle`]: its entries, its field diffs and its requests. Kinds
//! whose objects depend on each other in ways of their own (products and their default prices,
//! coupons and their promotion codes) use the helpers here inside their own choreography.

use std::collections::{BTreeMap, HashSet};

use super::action::Action;
use super::builder::Builder;
use super::change::Change;
use super::request::{Encode, ObjRef, Request, StepId, Writes};
use super::value::{FieldChange, FieldValue};
use crate::catalog::Catalog;
use crate::digest::fingerprint;
use crate::live::{LiveKind, LiveObject};
use crate::resource::Address;

/// A write a kind asks for, with what a reviewer reads about it.
pub(crate) struct Planned {
    /// Field by field, before and after.
    pub fields: Vec<FieldChange>,
    /// What it means for existing customers and code.
    pub notes: Vec<String>,
    pub request: Request,
    /// Steps that must succeed first.
    pub depends_on: Vec<StepId>,
}

impl Planned {
    /// A write that waits for no other step: `request`, described by `fields` and `notes`.
    pub(crate) fn new(
        fields: Vec<FieldChange>,
        notes: Vec<String>,
        request: impl Into<Request>,
    ) -> Self {
        Self {
            fields,
            notes,
            request: request.into(),
            depends_on: Vec::new(),
        }
    }

    /// The update in place that `fields` describe, if any field differs.
    pub(crate) fn changes(
        fields: Vec<FieldChange>,
        notes: Vec<String>,
        request: impl Into<Request>,
    ) -> Option<Self> {
        (!fields.is_empty()).then(|| Self::new(fields, notes, request))
    }
}

/// The write that changes the live object `id` of a kind whose creations are `S`.
pub(crate) fn update_by_id<S: Encode>(id: &str, update: S::Update) -> Writes<S> {
    Writes::Update {
        object: ObjRef::Id(id.into()),
        update,
    }
}

/// A conflict stands in the way of an entry (the kind reported it to the builder): nothing is
/// planned for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Blocked;

/// Why a managed object that is not current is retired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Surplus {
    /// Its entry left billing.toml: a destroy.
    Removed,
    /// Another object is current at its address.
    Duplicate,
}

impl Surplus {
    /// The reason a plan gives.
    pub(super) fn reason(self) -> &'static str {
        match self {
            Self::Removed => "removed from billing.toml",
            Self::Duplicate => "a duplicate at this address",
        }
    }
}

/// A kind with the usual lifecycle.
pub(crate) trait Lifecycle<'a> {
    /// Its catalog entry.
    type Entry: 'a;
    /// Its live object.
    type Live: LiveKind;

    /// Every declared entry, by key: the catalog's table of the kind.
    fn entries(&self, catalog: &'a Catalog) -> &'a BTreeMap<String, Self::Entry>;

    /// How a reviewer recognises the declared object.
    fn title(&self, entry: &Self::Entry) -> String;

    /// Whether the entry declares its object active (`active = false` archives it in place).
    fn active(&self, _entry: &Self::Entry) -> bool {
        true
    }

    /// The current object among the objects at the entry's address (newest first): the newest
    /// active one, else the newest archived one that only needs unarchiving. `None` creates
    /// one. A kind that finds its object elsewhere reports what stands in the way to `b`
    /// and answers [`Blocked`].
    fn current(
        &self,
        _b: &mut Builder<'a>,
        _address: &str,
        entry: &'a Self::Entry,
        at: &[&'a Self::Live],
    ) -> Result<Option<&'a Self::Live>, Blocked> {
        Ok(at
            .iter()
            .find(|l| l.active())
            .or_else(|| at.iter().find(|l| self.shape_diff(entry, l).is_empty()))
            .copied())
    }

    /// A new object.
    fn create(&self, b: &Builder<'a>, address: &str, entry: &'a Self::Entry) -> Planned;

    /// The fields only a new object can change: any of them forces a replacement.
    fn shape_diff(&self, _entry: &Self::Entry, _live: &Self::Live) -> Vec<FieldChange> {
        Vec::new()
    }

    /// What a replacement means for the users of `live`.
    fn replaced_note(&self, _live: &Self::Live) -> Option<String> {
        None
    }

    /// Whether a replacement keeps the replaced object for now (a webhook endpoint rotated in
    /// two steps): then the next plan retires it, as a duplicate at its address.
    fn keeps_replaced(&self, _entry: &Self::Entry) -> bool {
        false
    }

    /// Called with the step that creates the entry's object, new or replacing another: a kind
    /// whose objects take some fields only once they exist adds the step that sets them.
    fn created(
        &self,
        _b: &mut Builder<'a>,
        _change: usize,
        _entry: &'a Self::Entry,
        _step: StepId,
    ) {
    }

    /// The fields that change in place, and the write; `None` when nothing differs.
    fn update(
        &self,
        b: &Builder<'a>,
        address: &str,
        entry: &'a Self::Entry,
        live: &'a Self::Live,
    ) -> Option<Planned>;

    /// The request that retires `live` (archives or deactivates it), and the action it is.
    fn retire(&self, live: &Self::Live) -> (Action, Request);

    /// What retiring `live` means for its users.
    fn retired_note(&self, live: &Self::Live) -> String;

    /// A managed object at `address` that is not current, with the entry declared there (if
    /// any): retired when active. A kind that lets go of some objects otherwise overrides it.
    fn surplus(
        &self,
        b: &mut Builder<'a>,
        address: &str,
        _declared: Option<&'a Self::Entry>,
        live: &'a Self::Live,
    ) {
        if !live.active() {
            return;
        }
        let why = if b.catalog.declares(address) {
            Surplus::Duplicate
        } else {
            Surplus::Removed
        };
        retire(
            b,
            self,
            address,
            live,
            why.reason(),
            why == Surplus::Removed,
        );
    }

    /// Called with each step that updates or retires `live`.
    fn after(&self, _b: &mut Builder<'a>, _live: &Self::Live, _step: StepId) {}
}

/// Plans a kind: every declared entry, then the managed objects that are not current.
pub(crate) fn plan<'a, K: Lifecycle<'a>>(b: &mut Builder<'a>, kind: &K) {
    let catalog = b.catalog;
    let mut declared: BTreeMap<String, &'a K::Entry> = BTreeMap::new();
    let mut current: HashSet<&'a str> = HashSet::new();
    for (key, entry) in kind.entries(catalog) {
        let address = Address::new(K::Live::KIND, key).to_string();
        let at: Vec<&'a K::Live> = b.managed.at::<K::Live>(&address);
        match kind.current(b, &address, entry, &at) {
            Err(Blocked) => {}
            Ok(None) => create(b, kind, &address, entry, &at),
            Ok(Some(live)) => {
                current.insert(live.id());
                let shape = kind.shape_diff(entry, live);
                if shape.is_empty() && !replace_requested(b, &address) {
                    update(b, kind, &address, entry, live);
                } else {
                    replace(b, kind, &address, entry, live, shape);
                }
            }
        }
        declared.insert(address, entry);
    }
    let others: Vec<(&'a str, &'a K::Live)> = b
        .managed
        .all_of::<K::Live>()
        .filter(|(_, live)| !current.contains(live.id()))
        .collect();
    for (address, live) in others {
        kind.surplus(b, address, declared.get(address).copied(), live);
    }
}

/// The change and step that create the entry's object.
fn create<'a, K: Lifecycle<'a>>(
    b: &mut Builder<'a>,
    kind: &K,
    address: &str,
    entry: &'a K::Entry,
    at: &[&'a K::Live],
) {
    let planned = kind.create(b, address, entry);
    let mut change = new_change(b, kind, address, entry, Action::Create, None, at);
    change.fields = planned.fields;
    change.notes = planned.notes;
    add_creation(b, kind, change, entry, planned.request, planned.depends_on);
}

/// The change at `address` that `action` makes for `entry`, planned against `at` (the live
/// objects there); `live` is the object it changes, if any.
fn new_change<'a, K: Lifecycle<'a>>(
    b: &Builder<'a>,
    kind: &K,
    address: &str,
    entry: &K::Entry,
    action: Action,
    live: Option<&K::Live>,
    at: &[&K::Live],
) -> Change {
    Change::new(
        K::Live::KIND,
        address,
        action,
        live.map(|l| l.id().to_owned()),
        kind.title(entry),
        fingerprint_of(b, at),
    )
}

/// Adds `change` with the step that creates the entry's object (`request`, once `depends_on`
/// succeeded), and lets the kind follow that step up: the change's index and the step.
fn add_creation<'a, K: Lifecycle<'a>>(
    b: &mut Builder<'a>,
    kind: &K,
    change: Change,
    entry: &'a K::Entry,
    request: Request,
    depends_on: Vec<StepId>,
) -> (usize, StepId) {
    let idx = b.add_change(change);
    let step = b.add_step(
        idx,
        format!("create {}", K::Live::KIND.noun()),
        request,
        depends_on,
    );
    kind.created(b, idx, entry, step);
    (idx, step)
}

/// The change that updates `live` in place (or unarchives, or archives it as declared).
fn update<'a, K: Lifecycle<'a>>(
    b: &mut Builder<'a>,
    kind: &K,
    address: &str,
    entry: &'a K::Entry,
    live: &'a K::Live,
) {
    let Some(planned) = kind.update(b, address, entry, live) else {
        return;
    };
    let action = match (live.active(), kind.active(entry)) {
        (false, true) => Action::Unarchive,
        (true, false) => Action::Archive,
        _ => Action::Update,
    };
    let mut change = new_change(b, kind, address, entry, action, Some(live), &[live]);
    if action == Action::Archive {
        change.reason = Some("billing.toml declares `active = false`".to_owned());
    }
    change.fields = planned.fields;
    change.notes = planned.notes;
    let idx = b.add_change(change);
    let step = b.add_step(
        idx,
        format!("update {}", K::Live::KIND.noun()),
        planned.request,
        planned.depends_on,
    );
    kind.after(b, live, step);
}

/// The change that replaces `live`: a new object, then the old one retired.
fn replace<'a, K: Lifecycle<'a>>(
    b: &mut Builder<'a>,
    kind: &K,
    address: &str,
    entry: &'a K::Entry,
    live: &'a K::Live,
    shape: Vec<FieldChange>,
) {
    let noun = K::Live::KIND.noun();
    let mut change = new_change(
        b,
        kind,
        address,
        entry,
        Action::Replace,
        Some(live),
        &[live],
    );
    change.reason = Some(replacement(address, noun, &shape));
    change.fields = shape;
    // What else changes with it, but for metadata: the new object gets its own.
    if let Some(more) = kind.update(b, address, entry, live) {
        change.fields.extend(
            more.fields
                .into_iter()
                .filter(|f| !f.field.starts_with("metadata.")),
        );
    }
    change.notes.extend(kind.replaced_note(live));
    let keeps = live.active() && kind.keeps_replaced(entry);
    if keeps {
        let verb = kind.retire(live).0.verb(K::Live::KIND);
        change.notes.push(format!(
            "the replaced {noun} {} is kept for now: the next apply {verb}s it",
            live.id()
        ));
    }
    let planned = kind.create(b, address, entry);
    change.notes.extend(planned.notes);
    let (idx, create) = add_creation(b, kind, change, entry, planned.request, planned.depends_on);
    if live.active() && !keeps {
        let (action, request) = kind.retire(live);
        let step = b.add_step(
            idx,
            format!("{} the replaced {noun}", action.verb(K::Live::KIND)),
            request,
            vec![create],
        );
        kind.after(b, live, step);
    }
}

/// Why the object at `address` is replaced: the fields Stripe cannot change (`shape`), or
/// `--replace` asked for it.
pub(crate) fn replacement(address: &str, noun: &str, shape: &[FieldChange]) -> String {
    if shape.is_empty() {
        format!("`--replace {address}` asks for a new {noun}")
    } else {
        replacement_reason(noun, shape)
    }
}

/// Whether `--replace` asks for a new object at `address` even though nothing forces one.
pub(crate) fn replace_requested(b: &Builder<'_>, address: &str) -> bool {
    b.replace.contains(address)
}

/// What a change's idempotency keys cover of the live objects it was planned against: their
/// digest and, for a kind whose writes record no event (webhook endpoints), the plan's clock.
/// The account's generation does not move with such writes, so without it a write undone
/// since (an endpoint deleted, a field put back in the Dashboard) and planned again within
/// Stripe's 24 hours of idempotency would be answered with the replay of the first.
fn fingerprint_of<L: LiveKind>(b: &Builder<'_>, objects: &[&L]) -> String {
    if L::KIND.events().is_empty() {
        fingerprint(&[&(b.now, objects)])
    } else {
        fingerprint(objects)
    }
}

/// `Stripe cannot change a tax rate's percentage or clear a tax rate's country in place`.
pub(crate) fn replacement_reason(noun: &str, shape: &[FieldChange]) -> String {
    let named = |cleared: bool| -> Vec<&str> {
        shape
            .iter()
            .filter(|f| (f.after == FieldValue::None) == cleared)
            .map(|f| f.field.as_str())
            .collect()
    };
    let (changed, cleared) = (named(false), named(true));
    let mut why = Vec::new();
    if !changed.is_empty() {
        why.push(format!("change a {noun}'s {}", changed.join(", ")));
    }
    if !cleared.is_empty() {
        why.push(format!("clear a {noun}'s {}", cleared.join(", ")));
    }
    format!("Stripe cannot {} in place", why.join(" or "))
}

/// The change and step that retire `live` (archive or deactivate it), for `reason`; a destroy
/// when its entry left billing.toml.
pub(crate) fn retire<'a, K: Lifecycle<'a> + ?Sized>(
    b: &mut Builder<'a>,
    kind: &K,
    address: &str,
    live: &'a K::Live,
    reason: &str,
    destroy: bool,
) -> usize {
    let (action, request) = kind.retire(live);
    let mut change = Change::of_live(address, action, live);
    // A deleted object is gone, not inactive.
    if action != Action::Delete {
        change.fields.push(FieldChange::active(true, false));
    }
    change.reason = Some(reason.to_owned());
    change.destroy = destroy;
    change.notes.push(kind.retired_note(live));
    let idx = b.add_change(change);
    let step = b.add_step(
        idx,
        format!("{} {}", action.verb(K::Live::KIND), K::Live::KIND.noun()),
        request,
        vec![],
    );
    kind.after(b, live, step);
    idx
}
