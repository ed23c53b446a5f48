//! Reading from Stripe, the parts every kind shares: the account, the newest catalog event,
//! and whole lists read 100 per page, big lists split by `created` into concurrent chains (see
//! [`super::partition`]). Each kind lists its own objects beside its type.
//!
//! No Search API (it lags writes) and no per-object GET, except for the customers promotion
//! codes name: billing never lists customers (an account may have millions), so each one a
//! code is restricted to is looked up once.

use serde::Serialize;
use stripe_client_core::{RequestBuilder, StripeMethod};

use super::partition::Page;
use crate::resource::ResourceKind;
use crate::stripe::{StripeError, StripeHttp};

/// Stripe's largest page.
pub(crate) const PAGE: i64 = 100;

/// The oldest `created` assumed when the account does not say when it was created: Stripe's
/// public launch (2011-01-01). It only sizes the splits of big lists (see
/// [`super::partition::list_all`]); no object is missed if it is wrong.
const STRIPE_EPOCH: i64 = 1_293_840_000;

#[derive(miniserde::Deserialize)]
struct AccountWire {
    id: String,
    created: Option<i64>,
    settings: Option<SettingsWire>,
}

#[derive(miniserde::Deserialize)]
struct SettingsWire {
    dashboard: Option<DashboardWire>,
}

#[derive(miniserde::Deserialize)]
struct DashboardWire {
    display_name: Option<String>,
}

/// Event types that record a change to an object a catalog manages:
/// `product.created`, `tax.settings.updated`, …
pub(crate) fn catalog_event_types() -> impl Iterator<Item = String> {
    ResourceKind::ALL.into_iter().flat_map(|kind| {
        kind.events()
            .iter()
            .map(move |event| format!("{}.{event}", kind.stripe_object()))
    })
}

#[derive(miniserde::Deserialize)]
struct EventPage {
    data: Vec<EventId>,
}

#[derive(miniserde::Deserialize)]
struct EventId {
    id: String,
}

/// The id of the newest catalog event (`None` in an account without any): it changes with
/// every write to a product or price, so idempotency keys derived from it never repeat across
/// writes, even when the objects themselves return to an earlier state.
pub(crate) async fn generation(client: &StripeHttp) -> Result<Option<String>, StripeError> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("limit", "1");
    for (i, kind) in catalog_event_types().enumerate() {
        query.append_pair(&format!("types[{i}]"), &kind);
    }
    let mut request = RequestBuilder::new(StripeMethod::Get, "/events");
    request.query = Some(query.finish());
    let page: EventPage = request.customize::<EventPage>().send(client).await?;
    Ok(page.data.into_iter().next().map(|e| e.id))
}

#[derive(miniserde::Deserialize)]
struct CustomerWire {
    /// `true` for a customer that was deleted (Stripe still answers for it).
    deleted: Option<bool>,
}

/// The customers of `ids` the account does not have, or has deleted: GET /v1/customers/ID
/// for each, concurrently.
pub(crate) async fn missing_customers(
    client: &StripeHttp,
    ids: &std::collections::BTreeSet<String>,
) -> Result<std::collections::BTreeSet<String>, StripeError> {
    let lookups = ids.iter().map(|id| async move {
        let request = RequestBuilder::new(StripeMethod::Get, format!("/customers/{id}"));
        match request.customize::<CustomerWire>().send(client).await {
            Ok(customer) => Ok((customer.deleted == Some(true)).then(|| id.clone())),
            Err(e) if e.status() == Some(404) => Ok(Some(id.clone())),
            Err(e) => Err(e),
        }
    });
    let found = futures_util::future::try_join_all(lookups).await?;
    Ok(found.into_iter().flatten().collect())
}

/// GET /v1/account: which account the key belongs to.
pub(crate) async fn account(client: &StripeHttp) -> Result<Account, StripeError> {
    Ok(account_and_origin(client).await?.0)
}

/// The account, and when it was created (the oldest `created` its objects can have).
pub(crate) async fn account_and_origin(client: &StripeHttp) -> Result<(Account, i64), StripeError> {
    let wire: AccountWire = RequestBuilder::new(StripeMethod::Get, "/account")
        .customize::<AccountWire>()
        .send(client)
        .await?;
    let account = Account {
        id: wire.id,
        name: wire
            .settings
            .and_then(|s| s.dashboard)
            .and_then(|d| d.display_name),
    };
    Ok((account, wire.created.unwrap_or(STRIPE_EPOCH)))
}

/// One page of a list request type, converted.
pub(crate) async fn page<T, O>(
    list: impl std::future::Future<Output = Result<stripe_types::List<O>, StripeError>>,
) -> Result<Page<T>, StripeError>
where
    T: From<O>,
{
    let list = list.await?;
    Ok(Page {
        data: list.data.into_iter().map(T::from).collect(),
        has_more: list.has_more,
    })
}

/// Reads a whole list with [`super::partition::list_all`], one async-stripe list request per page:
/// the request types all spell the `created` range and the cursor the same way.
macro_rules! list_all {
    ($client:expr, $origin:expr, $request:expr) => {
        $crate::live::partition::list_all($origin, |window: $crate::live::partition::Window| {
            let mut request = $request;
            if let Some(created) = window.created() {
                request = request.created(created);
            }
            if let Some(after) = window.starting_after {
                request = request.starting_after(after);
            }
            async move { $crate::live::read::page(request.send($client)).await }
        })
        .await
    };
}
pub(crate) use list_all;

/// The account the key belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Account {
    /// `acct_…`.
    pub id: String,
    /// The account's display name, when it has one.
    pub name: Option<String>,
}
