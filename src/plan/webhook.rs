//! Webhook endpoints: created (then disabled, when declared so: Stripe takes `disabled` only
//! on update), updated in place (url, events as a set, description, metadata, disabled),
//! replaced when their API version or `connect` changes (Stripe cannot change either) or
//! `--replace` asks, deleted when removed. A replacement gives the endpoint a new signing
//! secret; with `rotation = "two_step"` the old endpoint is kept until the next apply. Their
//! whole life is the shared one ([`super::lifecycle`]).

use std::collections::BTreeMap;

use serde::Serialize;
use stripe_client_core::StripeRequest;

use super::action::Action;
use super::builder::Builder;
use super::lifecycle::{Lifecycle, Planned, Surplus, retire, update_by_id};
use super::request::{Encode, ObjRef, Request, Resolve, Write, Writes, rank};
use super::value::{FieldChange, FieldValue};
use super::wire::{WireRequest, metadata_set, metadata_update, parse};
use crate::catalog::{Catalog, Rotation, Webhook};
use crate::live::{CONNECT_KEY, LiveWebhook};
use crate::resource::{MARKER_KEY, owned_metadata};

/// An endpoint to create: the declared entry, its API version resolved, and the metadata it is
/// created with (declared, billing's marker, and [`CONNECT_KEY`] for a Connect endpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WebhookSpec {
    pub entry: Webhook,
    pub api_version: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

/// The fields of an endpoint to change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(super) struct WebhookUpdate {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    pub disabled: Option<bool>,
    /// Keys to set (`Some`) or remove (`None`).
    pub metadata: BTreeMap<String, Option<String>>,
}

/// The webhook-endpoint kind on the shared lifecycle.
pub(crate) struct Webhooks;

/// The API version an entry asks for: `None` is the account's default.
fn api_version(w: &Webhook) -> Option<String> {
    w.api_version.resolve(crate::stripe::api_version())
}

fn version_value(version: Option<&str>) -> FieldValue {
    FieldValue::Word(version.unwrap_or("account default").to_owned())
}

/// The metadata an endpoint carries: declared, billing's marker, and `connect` recorded.
fn desired_metadata(b: &Builder<'_>, address: &str, w: &Webhook) -> BTreeMap<String, String> {
    let mut metadata = owned_metadata(&w.metadata, address, b.namespace, None);
    if w.connect {
        metadata.insert(CONNECT_KEY.to_owned(), "true".to_owned());
    }
    metadata
}

/// Where apply writes the signing secret of the entry's new endpoint, as a plan says it.
fn secret_note(w: &Webhook) -> String {
    let command = w.secret_command.as_ref().map_or(String::new(), |_| {
        ", then piped to `secret_command`".to_owned()
    });
    format!(
        "apply writes the new endpoint's signing secret to {} (mode 0600){command}; Stripe shows it only once",
        w.secret_file
    )
}

impl Webhooks {
    /// The fields a new endpoint shows: every declared one.
    fn creation_fields(w: &Webhook) -> Vec<FieldChange> {
        let Webhook {
            key: _,
            id: _,
            moved_from: _,
            url,
            events,
            api_version: _,
            description,
            connect,
            disabled,
            metadata: _,
            secret_file,
            secret_command: _,
            rotation: _,
        } = w;
        let mut fields = vec![
            FieldChange::new("url", FieldValue::None, FieldValue::Text(url.clone())),
            FieldChange::new("events", FieldValue::None, FieldValue::List(events.clone())),
            FieldChange::new(
                "api_version",
                FieldValue::None,
                version_value(api_version(w).as_deref()),
            ),
        ];
        if description.is_some() {
            fields.push(FieldChange::new(
                "description",
                FieldValue::None,
                FieldValue::text(description.as_deref()),
            ));
        }
        for (field, on) in [("connect", *connect), ("disabled", *disabled)] {
            if on {
                fields.push(FieldChange::new(
                    field,
                    FieldValue::None,
                    FieldValue::Bool(true),
                ));
            }
        }
        fields.push(FieldChange::new(
            "secret_file",
            FieldValue::None,
            FieldValue::Text(secret_file.clone()),
        ));
        fields
    }
}

impl<'a> Lifecycle<'a> for Webhooks {
    type Entry = Webhook;
    type Live = LiveWebhook;

    fn entries(&self, catalog: &'a Catalog) -> &'a BTreeMap<String, Webhook> {
        &catalog.webhooks
    }

    fn title(&self, w: &Webhook) -> String {
        format!("webhook endpoint {}", w.url)
    }

    fn create(&self, b: &Builder<'a>, address: &str, w: &'a Webhook) -> Planned {
        let spec = WebhookSpec {
            entry: w.clone(),
            api_version: api_version(w),
            metadata: desired_metadata(b, address, w),
        };
        Planned::new(
            Self::creation_fields(w),
            vec![secret_note(w)],
            Writes::Create(spec),
        )
    }

    fn created(&self, b: &mut Builder<'a>, change: usize, w: &'a Webhook, step: usize) {
        if w.disabled {
            let update = WebhookUpdate {
                disabled: Some(true),
                ..WebhookUpdate::default()
            };
            let object = ObjRef::Created(step);
            b.add_step(
                change,
                "disable the new webhook endpoint",
                Writes::<WebhookSpec>::Update { object, update },
                vec![step],
            );
        }
    }

    /// The API version and `connect`. An endpoint billing does not manage yet is never
    /// replaced over `connect`: Stripe does not report it (see [`Self::update`]).
    fn shape_diff(&self, w: &Webhook, live: &LiveWebhook) -> Vec<FieldChange> {
        let mut out = Vec::new();
        let want = api_version(w);
        if want != live.api_version {
            out.push(FieldChange::replacing(
                "api_version",
                version_value(live.api_version.as_deref()),
                version_value(want.as_deref()),
            ));
        }
        let adopting = !live.metadata.contains_key(MARKER_KEY);
        if !adopting && w.connect != live.connect() {
            out.push(FieldChange::replacing(
                "connect",
                FieldValue::Bool(live.connect()),
                FieldValue::Bool(w.connect),
            ));
        }
        out
    }

    fn replaced_note(&self, live: &LiveWebhook) -> Option<String> {
        Some(format!(
            "the signing secret changes: deploy the new secret before the old endpoint {} is deleted",
            live.id
        ))
    }

    fn keeps_replaced(&self, w: &Webhook) -> bool {
        w.rotation == Rotation::TwoStep
    }

    fn update(
        &self,
        b: &Builder<'a>,
        address: &str,
        w: &'a Webhook,
        live: &'a LiveWebhook,
    ) -> Option<Planned> {
        let mut fields = Vec::new();
        let mut notes = Vec::new();
        let mut changed = |field: &str, before: FieldValue, after: FieldValue| {
            let differs = before != after;
            if differs {
                fields.push(FieldChange::new(field, before, after));
            }
            differs
        };
        let mut update = WebhookUpdate {
            url: changed(
                "url",
                FieldValue::Text(live.url.clone()),
                FieldValue::Text(w.url.clone()),
            )
            .then(|| w.url.clone()),
            events: changed(
                "events",
                FieldValue::List(live.events.clone()),
                FieldValue::List(w.events.clone()),
            )
            .then(|| w.events.clone()),
            description: changed(
                "description",
                FieldValue::text(live.description.as_deref()),
                FieldValue::text(w.description.as_deref()),
            )
            .then(|| w.description.clone()),
            disabled: changed(
                "disabled",
                FieldValue::Bool(live.disabled),
                FieldValue::Bool(w.disabled),
            )
            .then_some(w.disabled),
            metadata: BTreeMap::new(),
        };
        if !live.metadata.contains_key(MARKER_KEY) && w.connect != live.connect() {
            notes.push(format!(
                "Stripe does not report whether an endpoint receives Connect events: billing reads {} as `connect = {}` (its `application` is {}), and records `connect = {}` without replacing it",
                live.id,
                live.connect(),
                live.application.as_deref().unwrap_or("null"),
                w.connect
            ));
        }
        let desired = desired_metadata(b, address, w);
        update.metadata = b.metadata_update(&desired, &live.metadata, &mut fields);
        Planned::changes(fields, notes, update_by_id::<WebhookSpec>(&live.id, update))
    }

    fn retire(&self, live: &LiveWebhook) -> (Action, Request) {
        let object = ObjRef::Id(live.id.as_str().into());
        (Action::Delete, WebhookDelete { object }.into())
    }

    fn retired_note(&self, live: &LiveWebhook) -> String {
        format!(
            "Stripe stops sending events to {}, and its signing secret stops working",
            live.url
        )
    }

    /// A managed endpoint that is not current: deleted. One left by a two-step rotation is
    /// superseded, not removed: deleting it is not a destroy.
    fn surplus(
        &self,
        b: &mut Builder<'a>,
        address: &str,
        declared: Option<&'a Webhook>,
        live: &'a LiveWebhook,
    ) {
        let why = match declared {
            Some(w) if w.rotation == Rotation::TwoStep => {
                "superseded by the newer endpoint at this address (`rotation = \"two_step\"`): the application now verifies the new secret".to_owned()
            }
            Some(_) => Surplus::Duplicate.reason().to_owned(),
            None => Surplus::Removed.reason().to_owned(),
        };
        retire(b, self, address, live, &why, declared.is_none());
    }
}

/// `POST /v1/webhook_endpoints`.
fn create_request(spec: &WebhookSpec) -> WireRequest {
    use stripe_misc::webhook_endpoint::{
        CreateWebhookEndpoint, CreateWebhookEndpointEnabledEvents,
    };
    let w = &spec.entry;
    let events: Vec<CreateWebhookEndpointEnabledEvents> =
        w.events.iter().map(|e| parse(e)).collect();
    let mut r = CreateWebhookEndpoint::new(events, w.url.clone());
    if let Some(v) = &spec.api_version {
        r = r.api_version(parse::<stripe_shared::ApiVersion>(v));
    }
    if w.connect {
        r = r.connect(true);
    }
    if let Some(d) = &w.description {
        r = r.description(d.clone());
    }
    r = r.metadata(metadata_set(&spec.metadata));
    WireRequest::from_builder(r.build(), vec![])
}

/// `POST /v1/webhook_endpoints/{id}`.
fn update_request(id: String, u: &WebhookUpdate) -> WireRequest {
    use stripe_misc::webhook_endpoint::{
        UpdateWebhookEndpoint, UpdateWebhookEndpointEnabledEvents,
    };
    let WebhookUpdate {
        url,
        events,
        description,
        disabled,
        metadata,
    } = u;
    let mut r = UpdateWebhookEndpoint::new(id);
    let mut extra = Vec::new();
    if let Some(url) = url {
        r = r.url(url.clone());
    }
    if let Some(events) = events {
        let events: Vec<UpdateWebhookEndpointEnabledEvents> =
            events.iter().map(|e| parse(e)).collect();
        r = r.enabled_events(events);
    }
    match description {
        Some(Some(d)) => r = r.description(d.clone()),
        Some(None) => extra.push(("description".to_owned(), String::new())),
        None => {}
    }
    if let Some(disabled) = disabled {
        r = r.disabled(*disabled);
    }
    if !metadata.is_empty() {
        r = r.metadata(metadata_update(metadata));
    }
    WireRequest::from_builder(r.build(), extra)
}

/// A write to a webhook endpoint that creates or changes it.
impl Encode for WebhookSpec {
    type Update = WebhookUpdate;

    fn create(&self, _resolve: Resolve<'_>) -> Vec<WireRequest> {
        vec![create_request(self)]
    }

    fn update(id: String, update: &WebhookUpdate, _resolve: Resolve<'_>) -> Vec<WireRequest> {
        vec![update_request(id, update)]
    }
}

/// `DELETE /v1/webhook_endpoints/{id}`: Stripe deletes endpoints, it does not archive them.
#[derive(Debug, Clone)]
pub(super) struct WebhookDelete {
    object: ObjRef,
}

impl Write for WebhookDelete {
    fn target(&self) -> Option<&ObjRef> {
        Some(&self.object)
    }

    fn rank(&self) -> u8 {
        rank::DELETE
    }

    fn wire(&self, resolve: Resolve<'_>) -> Vec<WireRequest> {
        let request =
            stripe_misc::webhook_endpoint::DeleteWebhookEndpoint::new(resolve(&self.object));
        vec![WireRequest::from_builder(request.build(), vec![])]
    }
}

/// Stripe's limit of endpoints per account, counted at its peak: every endpoint the account
/// has (unmanaged and other catalogs' included) and every one this plan creates, since new
/// endpoints are created before old ones are deleted.
pub(super) fn check_limit(b: &mut Builder<'_>) {
    let created: Vec<String> = b
        .steps
        .iter()
        .filter(|s| s.request.creates())
        .map(|s| &b.changes[s.change])
        .filter(|c| c.kind == crate::resource::ResourceKind::WebhookEndpoint)
        .map(|c| c.address.clone())
        .collect();
    let existing = b.live.webhooks.len();
    let peak = existing + created.len();
    if peak <= crate::catalog::MAX_ENDPOINTS {
        return;
    }
    let first_over = created
        .get(crate::catalog::MAX_ENDPOINTS.saturating_sub(existing))
        .or(created.last())
        .cloned()
        .unwrap_or_default();
    b.conflicts.push(super::error::Conflict {
        address: first_over,
        message: format!(
            "the account has {existing} webhook endpoints and this plan creates {} more: Stripe allows at most {}, and new endpoints are created before old ones are deleted",
            created.len(),
            crate::catalog::MAX_ENDPOINTS
        ),
        hint: "delete endpoints billing does not manage in Stripe's Dashboard, declare fewer, or remove some first and apply that before adding new ones".to_owned(),
    });
}
