//! The vocabulary every stage shares: the kinds of Stripe object billing manages, the catalog
//! addresses that name them, and the marker that says which objects a catalog owns.

mod address;
mod kind;
mod marker;
mod mode;

pub(crate) use address::Address;
pub(crate) use kind::IdPin;
pub use kind::ResourceKind;
pub(crate) use marker::{
    DEFAULT_NAMESPACE, FEATURES_KEY, FEATURES_VALUE, MARKER_KEY, MARKER_NAMESPACE, ON_REMOVE_KEY,
    Owner, owned_metadata, owner, unmark, with_marker,
};
pub(crate) use mode::KeyMode;
