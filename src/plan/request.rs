//! What a step asks Stripe to do: a [`Write`] of one kind, which knows the object it changes,
//! the objects it refers to, how it orders against other writes, and the HTTP requests it
//! sends. Each kind defines its own writes, beside its planner.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use smol_str::SmolStr;

use super::wire::WireRequest;

/// Index of a step in [`super::Plan::steps`].
pub(crate) type StepId = usize;

/// A Stripe object: one that exists, or one a step of this plan creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ObjRef {
    /// An existing object's id (shared with the live object it was read from, not copied).
    Id(SmolStr),
    /// The object created by this step, known after apply.
    Created(StepId),
}

/// How writes that could run in either order are ordered (on one object, or when ready
/// together): creates before updates before archives and deletions, and around a product its
/// prices.
pub(super) mod rank {
    /// Creating an object others hang on (a product).
    pub(crate) const CREATE_PARENT: u8 = 0;
    /// Making such an object usable again (a product unarchived).
    pub(crate) const REVIVE_PARENT: u8 = 1;
    /// Creating an object.
    pub(crate) const CREATE: u8 = 2;
    /// Changing an object in place.
    pub(crate) const UPDATE: u8 = 3;
    /// Changes that wait for the objects they offer (promotion codes, a product's fields).
    pub(crate) const LATE_UPDATE: u8 = 4;
    /// Archiving or deactivating an object.
    pub(crate) const ARCHIVE: u8 = 5;
    /// Archiving an object others hang on, after them (a product after its prices).
    pub(crate) const ARCHIVE_PARENT: u8 = 6;
    /// Deleting an object.
    pub(crate) const DELETE: u8 = 7;
}

/// How a request names an object: by its id, or by the id of the step that creates it.
pub(super) type Resolve<'a> = &'a dyn Fn(&ObjRef) -> String;

/// One write a step makes, of any kind.
pub(crate) trait Write: fmt::Debug + Send + Sync + Any {
    /// The object it changes, when it already exists or an earlier step creates it.
    fn target(&self) -> Option<&ObjRef>;
    /// Every object it refers to: its target, and the objects its fields name.
    fn references(&self) -> Vec<&ObjRef> {
        self.target().into_iter().collect()
    }
    /// Where it stands among writes that could run in either order (see [`rank`]).
    fn rank(&self) -> u8;
    /// Whether it creates an object, whose id later steps may use.
    fn creates(&self) -> bool {
        false
    }
    /// The requests it sends (a currency-option reset takes two), with the objects it refers
    /// to named by `resolve`.
    fn wire(&self, resolve: Resolve<'_>) -> Vec<WireRequest>;
    /// The existing object it archives, when it archives one that others may offer (a
    /// product or price a portal configuration lists).
    fn archives(&self) -> Option<&str> {
        None
    }
}

/// How a kind whose writes are creating an object or changing one encodes them: implemented
/// by its spec, the object to create.
pub(crate) trait Encode: fmt::Debug + Clone + Send + Sync + 'static {
    /// The fields of an existing object to change.
    type Update: fmt::Debug + Clone + Send + Sync + 'static;

    /// The requests that create the object.
    fn create(&self, resolve: Resolve<'_>) -> Vec<WireRequest>;

    /// The requests that change the object `id`.
    fn update(id: String, update: &Self::Update, resolve: Resolve<'_>) -> Vec<WireRequest>;

    /// The objects the new object's fields name (a price's product).
    fn names(&self) -> Vec<&ObjRef> {
        Vec::new()
    }

    /// The objects the changed fields name (a product's new default price).
    fn update_names(_update: &Self::Update) -> Vec<&ObjRef> {
        Vec::new()
    }

    /// Where creating stands among writes (see [`rank`]).
    fn create_rank(&self) -> u8 {
        rank::CREATE
    }

    /// Where a change stands among writes (see [`rank`]): an archive after the writes that
    /// stop using the object.
    fn update_rank(update: &Self::Update) -> u8 {
        if Self::archives(update) {
            rank::ARCHIVE
        } else {
            rank::UPDATE
        }
    }

    /// Whether the change archives the object.
    fn archives(_update: &Self::Update) -> bool {
        false
    }
}

/// Creating an object of a kind, or changing one.
#[derive(Debug, Clone)]
pub(crate) enum Writes<S: Encode> {
    Create(S),
    Update { object: ObjRef, update: S::Update },
}

impl<S: Encode> Write for Writes<S> {
    fn target(&self) -> Option<&ObjRef> {
        match self {
            Self::Create(_) => None,
            Self::Update { object, .. } => Some(object),
        }
    }

    fn references(&self) -> Vec<&ObjRef> {
        match self {
            Self::Create(spec) => spec.names(),
            Self::Update { object, update } => {
                let mut refs = vec![object];
                refs.extend(S::update_names(update));
                refs
            }
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Self::Create(spec) => spec.create_rank(),
            Self::Update { update, .. } => S::update_rank(update),
        }
    }

    fn creates(&self) -> bool {
        matches!(self, Self::Create(_))
    }

    fn wire(&self, resolve: Resolve<'_>) -> Vec<WireRequest> {
        match self {
            Self::Create(spec) => spec.create(resolve),
            Self::Update { object, update } => S::update(resolve(object), update, resolve),
        }
    }

    fn archives(&self) -> Option<&str> {
        match self {
            Self::Update {
                object: ObjRef::Id(id),
                update,
            } if S::archives(update) => Some(id),
            _ => None,
        }
    }
}

/// A step's write.
#[derive(Clone)]
pub(crate) struct Request(Arc<dyn Write>);

impl Request {
    /// The write, of whatever kind.
    pub(crate) fn new(write: impl Write) -> Self {
        Self(Arc::new(write))
    }

    /// The write as its kind's own type, when it is one.
    #[cfg(test)]
    pub(crate) fn downcast<W: Write>(&self) -> Option<&W> {
        let any: &dyn Any = self.0.as_ref();
        any.downcast_ref()
    }

    /// See [`Write::target`].
    pub(crate) fn target(&self) -> Option<&ObjRef> {
        self.0.target()
    }

    /// See [`Write::references`].
    pub(crate) fn references(&self) -> Vec<&ObjRef> {
        self.0.references()
    }

    /// See [`Write::rank`].
    pub(crate) fn rank(&self) -> u8 {
        self.0.rank()
    }

    /// See [`Write::creates`].
    pub(crate) fn creates(&self) -> bool {
        self.0.creates()
    }

    /// See [`Write::wire`].
    pub(crate) fn wire(&self, resolve: Resolve<'_>) -> Vec<WireRequest> {
        self.0.wire(resolve)
    }

    /// See [`Write::archives`].
    pub(crate) fn archives(&self) -> Option<&str> {
        self.0.archives()
    }
}

impl<W: Write> From<W> for Request {
    fn from(write: W) -> Self {
        Self::new(write)
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How an object reads in a request seen on its own: its id, or `#N` for step N's object.
fn placeholder(r: &ObjRef) -> String {
    match r {
        ObjRef::Id(id) => id.to_string(),
        ObjRef::Created(step) => format!("#{step}"),
    }
}

impl PartialEq for Request {
    /// Two writes are the same when they send the same requests to the same objects.
    fn eq(&self, other: &Self) -> bool {
        self.wire(&placeholder) == other.wire(&placeholder)
    }
}

impl Eq for Request {}

impl Serialize for Request {
    /// As the requests it sends, objects created by steps written `#N`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.wire(&placeholder).serialize(s)
    }
}
