//! Webhook endpoints as `[webhooks.<key>]` (with their `id`, so that billing adopts them).
//!
//! What is written plans no change: the events as Stripe holds them, the API version (left out
//! when it is the one billing speaks), and `connect` as Stripe shows it. Stripe never returns
//! an endpoint's signing secret, so none is written; adopting an endpoint keeps it and its
//! secret.

use super::keys;
use super::place::{adoptable_id, oldest_first, written_at};
use super::write::{Table, Value};
use super::{Ctx, Problems, Severity, checked, metadata_table, nest, strings, text_field};
use crate::live::{CONNECT_KEY, LiveWebhook};
use crate::resource::ResourceKind;

/// An endpoint in a catalog of its own, for the validator.
fn wrap(entry: &Table) -> Table {
    nest(&["webhooks", "w"], entry)
}

/// The endpoint's fields (not `id`).
fn endpoint_table(ctx: &Ctx<'_>, w: &LiveWebhook, ours: bool, problems: &mut Problems) -> Table {
    let mut t = Table::default();
    t.text("url", &w.url);
    t.set("events", strings(&w.events));
    match &w.api_version {
        None => t.text("api_version", "account_default"),
        Some(v) if v == crate::stripe::api_version() => {}
        Some(v) => t.text("api_version", v),
    }
    text_field(
        &mut t,
        "description",
        w.description.as_deref(),
        Severity::Change,
        problems,
    );
    if w.connect() {
        t.set("connect", Value::Bool(true));
    }
    if w.disabled {
        t.set("disabled", Value::Bool(true));
    }
    let mut live_metadata = w.metadata.clone();
    live_metadata.remove(CONNECT_KEY);
    let metadata = ctx.metadata(
        &live_metadata,
        ResourceKind::WebhookEndpoint,
        ours,
        problems,
    );
    t.table("metadata", metadata_table(&metadata));
    t
}

/// `[webhooks]`.
pub(crate) fn endpoints(ctx: &mut Ctx<'_>) -> Table {
    let entries = entries(ctx);
    // Several managed endpoints at one address (a two-step rotation under way): the newest is
    // written; the plan deletes the others.
    ctx.table_of(
        entries,
        ("webhook endpoint", "deletes"),
        endpoint_key,
        "webhook",
    )
}

/// The key an endpoint billing adopts is given: from its description, else its URL.
fn endpoint_key(w: &LiveWebhook) -> Option<String> {
    let words = w.description.as_deref().unwrap_or(&w.url);
    keys::slug(
        words
            .trim_start_matches("https://")
            .trim_start_matches("http://"),
    )
}

/// The endpoints that can be written, oldest first, each with its key from its marker and its
/// table (`id` first when billing adopts it).
fn entries<'a>(ctx: &mut Ctx<'a>) -> Vec<(&'a LiveWebhook, Option<String>, Table)> {
    let live = ctx.live;
    let mut out = Vec::new();
    for w in oldest_first(&live.webhooks) {
        let Ok(ours) = ctx.place_keyed(w) else {
            continue;
        };
        let mut problems = Problems::default();
        if ours.is_none() && !adoptable_id(&w.id, "we_") {
            let why = format!(
                "{:?} is not an endpoint id billing.toml can write as `id`",
                w.id
            );
            problems.fatal("id", why);
        }
        let table = endpoint_table(ctx, w, ours.is_some(), &mut problems);
        let optional = [("metadata", Severity::Change)];
        let table = checked(Some(table), wrap, &optional, &mut problems);
        let at = written_at(ResourceKind::WebhookEndpoint, ours.as_ref(), &w.id);
        let settled = ctx.settle(
            ResourceKind::WebhookEndpoint,
            &w.id,
            &at,
            ours.is_some(),
            &problems,
        );
        let Some(mut table) = table.filter(|_| settled) else {
            continue;
        };
        // http:// is accepted only where no live data flows (test mode, a sandbox): an
        // endpoint read from such an environment stays in it.
        if let Some(env) = &ctx.options.environment
            && w.url.starts_with("http://")
        {
            table.set("environments", strings(std::slice::from_ref(env)));
        }
        if ours.is_none() {
            table
                .values
                .insert(0, ("id".to_owned(), Value::Str(w.id.clone())));
        }
        out.push((w, ours, table));
    }
    out
}
