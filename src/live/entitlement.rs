//! Live entitlement features and the features attached to products, in billing's own terms.
//!
//! Features are one cursor chain each for active and archived ones (no `created` filter). A
//! product's attachments are one list per product, so they are read only where billing needs
//! them, and only when the account has any feature at all: the products whose entry declares
//! `entitlements` (found by billing's marker or pinned `id`), the products that carry the
//! features marker billing sets when it attaches a feature (so that removing the key still
//! detaches them), and on import every product. A feature attached in the Dashboard to a
//! product that has neither is not read.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;
use stripe_misc::entitlements_feature::ListEntitlementsFeature;
use stripe_product::product_feature::ListProductProductFeature;

use super::read::PAGE;
use super::{LiveProduct, ReadScope};
use crate::resource::{FEATURES_KEY, MARKER_KEY};
use crate::stripe::{StripeError, StripeHttp};

/// How many products' attachments are read at once.
const CONCURRENT_READS: usize = 8;

/// An entitlement feature. Stripe shows no creation time: `created` is 0, and objects keep
/// the order Stripe lists them in (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveFeature {
    pub id: String,
    pub created: i64,
    pub active: bool,
    pub lookup_key: String,
    pub name: String,
    pub metadata: super::Metadata,
}

impl From<stripe_shared::EntitlementsFeature> for LiveFeature {
    fn from(f: stripe_shared::EntitlementsFeature) -> Self {
        Self {
            id: f.id.to_string(),
            created: 0,
            active: f.active,
            lookup_key: f.lookup_key,
            name: f.name,
            metadata: f.metadata.into_iter().collect(),
        }
    }
}

super::object::live_kind!(LiveFeature, EntitlementFeature, entitlements {
    fn title(&self) -> String {
        format!("entitlement feature {}", self.lookup_key)
    }
    fn active(&self) -> bool {
        self.active
    }
});

/// A feature attached to a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveAttachment {
    /// The attachment's id (`prodft_…`): what detaching names.
    pub id: String,
    /// The feature's id.
    pub feature: String,
    pub lookup_key: String,
}

/// Every feature, active and archived.
pub(super) async fn features(client: &StripeHttp) -> Result<Vec<LiveFeature>, StripeError> {
    let list = |archived: bool| {
        ListEntitlementsFeature::new()
            .archived(archived)
            .limit(PAGE)
            .paginate()
            .stream(client)
            .map_ok(LiveFeature::from)
            .try_collect::<Vec<_>>()
    };
    let (mut active, archived) = tokio::try_join!(list(false), list(true))?;
    let mut seen: BTreeSet<String> = active.iter().map(|f| f.id.clone()).collect();
    active.extend(archived.into_iter().filter(|f| seen.insert(f.id.clone())));
    Ok(active)
}

/// The features attached to each product billing needs to know about (see the module's
/// comment), by product id; nothing when the account has no feature.
pub(super) async fn attachments(
    client: &StripeHttp,
    scope: &ReadScope,
    features: &[LiveFeature],
    products: &[LiveProduct],
) -> Result<BTreeMap<String, Vec<LiveAttachment>>, StripeError> {
    if features.is_empty() {
        return Ok(BTreeMap::new());
    }
    let wanted = products.iter().filter(|p| {
        scope.all_product_features
            || p.metadata.contains_key(FEATURES_KEY)
            || scope.entitled_products.contains(&p.id)
            || p.metadata
                .get(MARKER_KEY)
                .is_some_and(|address| scope.entitled_products.contains(address))
    });
    futures_util::stream::iter(wanted)
        .map(|p| async move {
            let attached: Vec<LiveAttachment> = ListProductProductFeature::new(p.id.as_str())
                .limit(PAGE)
                .paginate()
                .stream(client)
                .map_ok(|a| LiveAttachment {
                    id: a.id.to_string(),
                    feature: a.entitlement_feature.id.to_string(),
                    lookup_key: a.entitlement_feature.lookup_key,
                })
                .try_collect()
                .await?;
            Ok::<_, StripeError>((p.id.clone(), attached))
        })
        .buffer_unordered(CONCURRENT_READS)
        .try_collect()
        .await
}
