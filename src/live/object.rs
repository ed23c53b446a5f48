//! What billing reads of every live object that can carry its marker, whatever its kind: an
//! id, a creation time, metadata and whether it is active. Ownership, renames, adoption,
//! forgetting, outputs and read digests work on this alone.

use serde::Serialize;

use super::LiveState;
use crate::digest::Hashable;
use crate::resource::ResourceKind;

/// A live object of a kind that carries billing's marker.
pub trait LiveObject: Hashable + Send + Sync {
    fn kind(&self) -> ResourceKind;
    fn id(&self) -> &str;
    /// The id as a shared string: no copy where the object holds it shared (prices, which a
    /// plan's read set lists by the hundred thousand).
    fn shared_id(&self) -> smol_str::SmolStr;
    /// Unix seconds.
    fn created(&self) -> i64;
    fn metadata(&self) -> &super::Metadata;
    /// How a reviewer recognises it in a plan: `price $79.00 / month`.
    fn title(&self) -> String;
    /// Whether it can be used for new purchases: archived prices, inactive promotion codes and
    /// deactivated portal configurations are not; a coupon is until it is deleted.
    fn active(&self) -> bool;
    /// An object every account has, whether or not anybody manages it (the default portal
    /// configuration): not counted among the unmanaged ones.
    fn is_built_in(&self) -> bool {
        false
    }
    /// Fields that move on their own (redemption counts): not part of what a plan depends on.
    fn counters(&self) -> &'static [&'static str] {
        &[]
    }
    /// The object it belongs to and goes with: a price's product, a promotion code's coupon.
    fn parent_id(&self) -> Option<&str> {
        None
    }
}

/// The live objects of one kind, as [`LiveState`] holds them.
pub(crate) trait LiveKind: LiveObject + Serialize + Sized + 'static {
    const KIND: ResourceKind;
    /// Every object of the kind that was read.
    fn all(live: &LiveState) -> &[Self];
}

/// The objects of one kind, whatever their type.
pub trait Objects {
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The `i`th object; `i` is below [`Objects::len`].
    fn get(&self, i: usize) -> &dyn LiveObject;
}

impl<T: LiveObject> Objects for Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn get(&self, i: usize) -> &dyn LiveObject {
        &self[i]
    }
}

impl<'a> dyn Objects + 'a {
    /// Every object, in the order Stripe listed them (newest first).
    pub fn iter(&self) -> impl Iterator<Item = &dyn LiveObject> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// Implements [`LiveObject`] and [`LiveKind`] for a live type with `id`, `created` and
/// `metadata` fields, held in `LiveState::$field`; the body gives `active` and any other
/// method that differs from the default.
macro_rules! live_kind {
    ($ty:ty, $kind:ident, $field:ident { $($body:tt)* }) => {
        impl $crate::live::LiveObject for $ty {
            fn kind(&self) -> $crate::resource::ResourceKind {
                $crate::resource::ResourceKind::$kind
            }
            fn id(&self) -> &str {
                &self.id
            }
            fn shared_id(&self) -> smol_str::SmolStr {
                self.id.clone().into()
            }
            fn created(&self) -> i64 {
                self.created
            }
            fn metadata(&self) -> &$crate::live::Metadata {
                &self.metadata
            }
            $($body)*
        }

        impl $crate::live::LiveKind for $ty {
            const KIND: $crate::resource::ResourceKind = $crate::resource::ResourceKind::$kind;
            fn all(live: &$crate::live::LiveState) -> &[Self] {
                &live.$field
            }
        }
    };
}
pub(crate) use live_kind;
