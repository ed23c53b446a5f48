//! Everything the sandbox knows, [`State`]: one Stripe account, with a map of stored records
//! for each kind of object (each kind's record is in its module in `resources/`), the list of
//! its tables ([`Table`]) and which map holds which kind ([`Record`]). Reading it is free;
//! changing it goes through a transaction (`tx.rs`), and keeping it, in memory or in a file, is
//! the store's business (`store.rs`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::ApiError;
use super::ids;
use super::list::{Listed, listed_by_creation};
use super::records::{AccountRecord, Event, IdempotencyRecord};
use super::resources::coupons::Coupon;
use super::resources::customers::Customer;
use super::resources::entitlement_features::{Feature, ProductFeature};
use super::resources::meters::Meter;
use super::resources::portal::{PortalConfiguration, default_configuration};
use super::resources::prices::Price;
use super::resources::products::Product;
use super::resources::promotion_codes::PromotionCode;
use super::resources::tax_rates::TaxRate;
use super::resources::tax_registrations::TaxRegistration;
use super::resources::tax_settings::TaxSettings;
use super::resources::webhook_endpoints::WebhookEndpoint;

/// The state file format this build reads and writes.
pub(crate) const FORMAT: u32 = 1;

/// Everything the sandbox knows: one Stripe account. Its maps are the tables listed in
/// `tables!` below. (`State::default()` is no state the sandbox serves, having no account and
/// format 0: [`State::fresh`] is a new account's.)
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct State {
    pub format: u32,
    /// Incremented on every write (informational).
    pub generation: u64,
    /// Identifies a state file's snapshot: the journal beside it names the snapshot it
    /// continues, so that it is never replayed onto another (see `store.rs`). 0 in memory.
    #[serde(default)]
    pub snapshot: u64,
    pub account: AccountRecord,
    /// Creation sequence: orders objects created within the same second.
    pub next_seq: u64,
    #[serde(default)]
    pub products: BTreeMap<String, Product>,
    /// Ids of deleted products: never reused (stricter reading, see `resources/products.rs`).
    #[serde(default)]
    pub deleted_products: BTreeSet<String>,
    #[serde(default)]
    pub prices: BTreeMap<String, Price>,
    #[serde(default)]
    pub coupons: BTreeMap<String, Coupon>,
    /// Deleted coupons, kept so that their ids are never reused (stricter reading, see
    /// `resources/coupons.rs`) and so that a promotion code can still show its coupon, invalid.
    #[serde(default)]
    pub deleted_coupons: BTreeMap<String, Coupon>,
    #[serde(default)]
    pub promotion_codes: BTreeMap<String, PromotionCode>,
    #[serde(default)]
    pub customers: BTreeMap<String, Customer>,
    /// The account's one tax settings object (nothing set in a fresh state).
    #[serde(default)]
    pub tax_settings: TaxSettings,
    #[serde(default)]
    pub tax_rates: BTreeMap<String, TaxRate>,
    #[serde(default)]
    pub tax_registrations: BTreeMap<String, TaxRegistration>,
    /// Portal configurations, always including the account's default one (see
    /// [`State::ensure_default_portal`]).
    #[serde(default)]
    pub portal_configurations: BTreeMap<String, PortalConfiguration>,
    /// Webhook endpoints (deleted ones are gone: Stripe deletes them for good).
    #[serde(default)]
    pub webhook_endpoints: BTreeMap<String, WebhookEndpoint>,
    /// Entitlement features (archived ones stay: Stripe never deletes them).
    #[serde(default)]
    pub entitlement_features: BTreeMap<String, Feature>,
    /// Features attached to products (a detached one is gone).
    #[serde(default)]
    pub product_features: BTreeMap<String, ProductFeature>,
    /// Billing meters (never deleted: Stripe only deactivates them).
    #[serde(default)]
    pub meters: BTreeMap<String, Meter>,
    #[serde(default)]
    pub idempotency: BTreeMap<String, IdempotencyRecord>,
    /// The newest events, oldest first.
    #[serde(default)]
    pub events: VecDeque<Event>,
    /// Seconds added to the system clock ([`State::now`]): moved forward by the test hook
    /// `Sandbox::advance_clock`, and kept with the state so that every process sharing a state
    /// file sees the same time.
    #[serde(default)]
    pub clock_offset: i64,
}

impl State {
    pub(crate) fn fresh() -> State {
        let mut state = State {
            format: FORMAT,
            account: AccountRecord::generate(),
            next_seq: 1,
            ..State::default()
        };
        state.ensure_default_portal();
        state
    }

    /// Adds the account's default portal configuration to a state that has none (a fresh
    /// state, or a state file written before portal configurations existed).
    pub(crate) fn ensure_default_portal(&mut self) {
        if !self.portal_configurations.values().any(|c| c.is_default) {
            let config = default_configuration(&self.account);
            self.portal_configurations.insert(config.id.clone(), config);
        }
    }

    /// The sandbox's time, in Unix seconds: the system clock plus [`State::clock_offset`].
    /// Every time-dependent rule and every `created` uses it.
    pub(crate) fn now(&self) -> i64 {
        ids::now().saturating_add(self.clock_offset)
    }
}

/// A stored object of one kind, kept by id in a map of [`State`].
pub(crate) trait Record: Listed + Clone + 'static {
    /// What Stripe's errors call it (`No such tax rate: …`).
    const NOUN: &'static str;
    /// The map of the state that holds this kind, by name.
    const TABLE: Table;
    /// The map of the state that holds this kind.
    fn table(state: &State) -> &BTreeMap<String, Self>;
    /// The same map, to change it (only [`Tx`](super::tx::Tx) does, journaling every change).
    fn table_mut(state: &mut State) -> &mut BTreeMap<String, Self>;
    /// Sets the creation sequence number.
    fn set_seq(&mut self, seq: u64);
}

/// The tables of [`State`], the parts of it a transaction changes by key: the [`Table`] enum
/// that names them (in the journal, by the `State` field's name), the access to each by name
/// (see `changes.rs`) and, for the kinds of stored objects (`: Type, "noun"`), their
/// [`Listed`] and [`Record`] impls (the type has `id`, `created` and `seq` fields).
macro_rules! tables {
    ($($table:ident $field:ident $(: $kind:ty, $noun:literal)?;)+) => {
        /// A table of [`State`], by name: each entry of one is a part of the state that a
        /// transaction can change (see `tx.rs` and `changes.rs`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub(crate) enum Table {
            $($table,)+
        }

        impl Table {
            fn entries(self, state: &State) -> &dyn Entries {
                match self {
                    $(Table::$table => &state.$field,)+
                }
            }

            fn entries_mut(self, state: &mut State) -> &mut dyn Entries {
                match self {
                    $(Table::$table => &mut state.$field,)+
                }
            }
        }

        $($(
            listed_by_creation!($kind);
            impl Record for $kind {
                const NOUN: &'static str = $noun;
                const TABLE: Table = Table::$table;
                fn table(state: &State) -> &BTreeMap<String, Self> {
                    &state.$field
                }
                fn table_mut(state: &mut State) -> &mut BTreeMap<String, Self> {
                    &mut state.$field
                }
                fn set_seq(&mut self, seq: u64) {
                    self.seq = seq;
                }
            }
        )?)+
    };
}

tables! {
    Products products: Product, "product";
    DeletedProducts deleted_products;
    Prices prices: Price, "price";
    Coupons coupons: Coupon, "coupon";
    DeletedCoupons deleted_coupons;
    PromotionCodes promotion_codes: PromotionCode, "promotion code";
    Customers customers: Customer, "customer";
    TaxRates tax_rates: TaxRate, "tax rate";
    TaxRegistrations tax_registrations: TaxRegistration, "tax registration";
    PortalConfigurations portal_configurations: PortalConfiguration, "configuration";
    WebhookEndpoints webhook_endpoints: WebhookEndpoint, "webhook endpoint";
    EntitlementFeatures entitlement_features: Feature, "feature";
    ProductFeatures product_features: ProductFeature, "product feature";
    Meters meters: Meter, "billing meter";
    Idempotency idempotency;
}

impl Table {
    /// The entry `key` of this table in `state`, as JSON.
    pub(crate) fn entry(
        self,
        state: &State,
        key: &str,
    ) -> Result<Option<Value>, serde_json::Error> {
        self.entries(state).entry(key)
    }

    /// Stores `value` (JSON) under `key` in this table of `state`.
    pub(crate) fn put(
        self,
        state: &mut State,
        key: String,
        value: Value,
    ) -> Result<(), serde_json::Error> {
        self.entries_mut(state).put(key, value)
    }

    /// Removes `key` from this table of `state`.
    pub(crate) fn delete(self, state: &mut State, key: &str) {
        self.entries_mut(state).delete(key);
    }
}

/// A table's entries as JSON, by key.
trait Entries {
    fn entry(&self, key: &str) -> Result<Option<Value>, serde_json::Error>;
    fn put(&mut self, key: String, value: Value) -> Result<(), serde_json::Error>;
    fn delete(&mut self, key: &str);
}

/// A map: an entry is its value.
impl<V: Serialize + DeserializeOwned> Entries for BTreeMap<String, V> {
    fn entry(&self, key: &str) -> Result<Option<Value>, serde_json::Error> {
        self.get(key).map(serde_json::to_value).transpose()
    }

    fn put(&mut self, key: String, value: Value) -> Result<(), serde_json::Error> {
        self.insert(key, serde_json::from_value(value)?);
        Ok(())
    }

    fn delete(&mut self, key: &str) {
        self.remove(key);
    }
}

/// A set of ids: an entry is `true`.
impl Entries for BTreeSet<String> {
    fn entry(&self, key: &str) -> Result<Option<Value>, serde_json::Error> {
        Ok(self.contains(key).then_some(Value::Bool(true)))
    }

    fn put(&mut self, key: String, _value: Value) -> Result<(), serde_json::Error> {
        self.insert(key);
        Ok(())
    }

    fn delete(&mut self, key: &str) {
        self.remove(key);
    }
}

/// The stored `T` with id `id` (a path parameter), or Stripe's 404 `resource_missing`.
pub(crate) fn find<'s, T: Record>(state: &'s State, id: &str) -> Result<&'s T, ApiError> {
    T::table(state)
        .get(id)
        .ok_or_else(|| ApiError::no_such_in_path(T::NOUN, id))
}

/// A new id from `make` that no stored `T` has.
pub(crate) fn unused_id<T: Record>(state: &State, make: fn() -> String) -> String {
    ids::unused(make, |id| T::table(state).contains_key(id))
}

/// The `T` a handler has just stored under `id`: missing, it is a bug of the sandbox (a 500).
pub(crate) fn written<'s, T: Record>(state: &'s State, id: &str) -> Result<&'s T, ApiError> {
    T::table(state).get(id).ok_or_else(|| {
        ApiError::internal(format!(
            "The billing sandbox lost the {} it just wrote.",
            T::NOUN
        ))
    })
}
