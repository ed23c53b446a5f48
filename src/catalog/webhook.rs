//! `[webhooks.<key>]`: a webhook endpoint. How its table is read (with spans), the validated
//! entry, and its validation: the URL (https, or http to a loopback host where no live data
//! flows), the events (presets, event types and patterns expanded to the closed list Stripe
//! accepts), the API version, where apply puts the signing secret, and Stripe's limit of 16
//! endpoints per account.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;
use toml::de::DeValue;

use super::diagnostic::{Diagnostic, Sink};
use super::raw::{RawMetadata, read_metadata};
use super::reader::{Sp, TableReader};
use super::shape::{ID, METADATA, MOVED_FROM, Table, Ty, field};
use super::validate::fields;
use crate::resource::{Address, ResourceKind};

/// Stripe's limit of webhook endpoints per account.
pub(crate) const MAX_ENDPOINTS: usize = 16;

/// `api_version = "account_default"`: no version, events rendered in the account's default.
pub(crate) const ACCOUNT_DEFAULT: &str = "account_default";

/// `[webhooks.<key>]` as written.
#[derive(Debug)]
pub(crate) struct RawWebhook {
    pub key: Sp<String>,
    pub span: Range<usize>,
    pub id: Option<Sp<String>>,
    pub moved_from: Option<Sp<String>>,
    pub url: Option<Sp<String>>,
    pub events: Option<Sp<Vec<Sp<String>>>>,
    pub api_version: Option<Sp<String>>,
    pub description: Option<Sp<String>>,
    pub connect: Option<Sp<bool>>,
    pub disabled: Option<Sp<bool>>,
    pub metadata: Option<RawMetadata>,
    pub secret_file: Option<Sp<String>>,
    pub secret_command: Option<Sp<String>>,
    pub rotation: Option<Sp<String>>,
    pub incomplete: bool,
}

/// `[webhooks.<key>]`.
pub(super) static WEBHOOK: Table = Table::entry(&[
    field(
        "url",
        Ty::Text,
        "Where Stripe sends events: an https URL (http://localhost in test environments) (required).",
    ),
    field(
        "events",
        Ty::Events,
        "The events it receives: presets (\"subscriptions\"), event types (\"invoice.paid\") or patterns (\"customer.subscription.*\").",
    ),
    field(
        "api_version",
        Ty::Text,
        "The API version events are rendered in (default: the version billing speaks; \"account_default\" for the account's).",
    ),
    field("description", Ty::Text, "What the endpoint is for."),
    field(
        "connect",
        Ty::Bool,
        "Receive events from connected accounts (Connect).",
    ),
    field(
        "disabled",
        Ty::Bool,
        "Keep the endpoint but stop deliveries.",
    ),
    METADATA,
    field(
        "secret_file",
        Ty::Text,
        "Where apply writes the signing secret of a new endpoint, relative to billing.toml (git-ignored).",
    ),
    field(
        "secret_command",
        Ty::Text,
        "A command apply runs with the signing secret on its standard input.",
    ),
    field(
        "rotation",
        Ty::Word(ROTATIONS),
        "On replacement: delete the old endpoint at once, or keep it until the next apply (\"two_step\").",
    ),
    ID,
    MOVED_FROM,
]);

/// The values of `rotation`.
const ROTATIONS: &[&str] = &["immediate", "two_step"];

/// Keys written the way Stripe's API spells them.
const ALIASES: &[(&str, &str)] = &[
    (
        "enabled_events",
        "billing.toml calls it `events` (presets, event types or patterns)",
    ),
    (
        "secret",
        "billing never reads a secret from billing.toml: apply writes the signing secret to `secret_file`",
    ),
];

/// Reads `[webhooks.<key>]`.
pub(crate) fn read_webhook(
    sink: &Sink,
    key: Sp<String>,
    value: &Sp<DeValue<'_>>,
) -> Option<RawWebhook> {
    let t = TableReader::entry(
        sink,
        ResourceKind::WebhookEndpoint,
        key.get_ref(),
        value,
        &WEBHOOK,
    )?
    .with_aliases(ALIASES);
    let mut raw = RawWebhook {
        span: value.span(),
        id: t.string("id"),
        moved_from: t.string("moved_from"),
        url: t.string("url"),
        events: t.strings("events"),
        api_version: t.string("api_version"),
        description: t.string("description"),
        connect: t.boolean("connect"),
        disabled: t.boolean("disabled"),
        metadata: read_metadata(&t),
        secret_file: t.string("secret_file"),
        secret_command: t.string("secret_command"),
        rotation: t.string("rotation"),
        incomplete: false,
        key,
    };
    raw.incomplete = t.incomplete();
    t.finish();
    Some(raw)
}

/// What a replacement does with the endpoint it replaces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Rotation {
    /// Deleted in the same apply, once the new endpoint exists.
    #[default]
    Immediate,
    /// Kept, delivering every event beside the new one, until the next apply deletes it.
    TwoStep,
}

/// The API version events are rendered in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ApiVersion {
    /// The version billing speaks (not written: the default).
    Billing,
    /// None: the account's default version.
    AccountDefault,
    /// A version Stripe has published.
    Pinned(String),
}

impl ApiVersion {
    /// The version an endpoint is created with, `billing` being the one billing speaks;
    /// `None` is the account's default.
    pub(crate) fn resolve(&self, billing: &str) -> Option<String> {
        match self {
            Self::Billing => Some(billing.to_owned()),
            Self::AccountDefault => None,
            Self::Pinned(v) => Some(v.clone()),
        }
    }
}

/// `[webhooks.<key>]`: a webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Webhook {
    pub key: String,
    /// An existing endpoint to adopt (`id = "we_…"`) when billing manages none here.
    pub id: Option<String>,
    /// The key this endpoint had before a rename (`moved_from`).
    pub moved_from: Option<String>,
    pub url: String,
    /// The event types Stripe is sent (`enabled_events`): presets and patterns expanded,
    /// sorted, each once; `["*"]` alone for every event.
    pub events: Vec<String>,
    pub api_version: ApiVersion,
    pub description: Option<String>,
    pub connect: bool,
    pub disabled: bool,
    pub metadata: BTreeMap<String, String>,
    /// Where apply writes the signing secret, relative to billing.toml's directory.
    pub secret_file: String,
    /// Run through `sh -c` with the secret on stdin, after the file is written.
    pub secret_command: Option<String>,
    pub rotation: Rotation,
}

/// `.billing/<env>/webhooks/<key>.secret`: where the secret goes unless `secret_file` says.
pub(crate) fn default_secret_file(environment: &str, key: &str) -> String {
    format!(".billing/{environment}/webhooks/{key}.secret")
}

/// What validating webhook endpoints needs to know about where the catalog is and which
/// environment it is resolved for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Place {
    /// The directory of billing.toml, when it is a file on disk (`secret_file` is checked
    /// against git there).
    pub dir: Option<PathBuf>,
    /// The environment the catalog is resolved for (`None`: as written, or the embedded
    /// sandbox).
    pub environment: Option<String>,
    /// Whether no live data flows there (test mode, a sandbox): http to a loopback host is
    /// allowed where such a host is.
    pub test_data: bool,
    /// Whether the API is served on this machine or somewhere billing cannot vouch for (the
    /// embedded sandbox, a `sandbox = true` environment, an `api_base`): an endpoint on this
    /// machine is allowed. Stripe's own API refuses one, in test mode too.
    pub local_webhooks: bool,
}

/// Whether `host` (with its port) names this machine.
fn loopback(host: &str) -> bool {
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let name = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    stripe_facts::is_local_host(name)
}

/// Whether `url` (http or https) names this machine (`http://localhost:4242/…`): a handler
/// only a sandbox on the same machine can deliver to.
pub(crate) fn on_this_machine(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    loopback(rest.split(['/', '?', '#']).next().unwrap_or_default())
}

/// `url`: an absolute https URL; http only to a loopback host, and only where no live data
/// flows.
fn url(sink: &Sink, value: &Sp<String>, place: &Place) -> bool {
    if !fields::url(sink, "url", value) {
        return false;
    }
    let text = value.get_ref();
    let http = text.starts_with("http://");
    let local = on_this_machine(text);
    let (problem, label, hint) = if local && !place.local_webhooks {
        (
            "Stripe refuses a webhook endpoint on this machine (localhost, a loopback address), in test mode too: its URL must be publicly reachable",
            "not publicly reachable",
            "give the local URL to a sandbox environment alone, in [webhooks.<key>.overrides.<environment>]; to receive Stripe's test events on this machine, forward them with `stripe listen --forward-to <url>`",
        )
    } else if http && !local {
        (
            "a webhook endpoint's `url` must be https",
            "not https",
            "Stripe delivers events over https; http is accepted only to a handler on this machine, in a sandbox environment",
        )
    } else if http && !place.test_data {
        (
            "http://localhost is allowed only in test-mode and sandbox environments",
            "not https",
            "give the local URL to a sandbox environment alone, in [webhooks.<key>.overrides.<environment>]",
        )
    } else {
        return true;
    };
    sink.push(
        Diagnostic::new(value.span(), problem)
            .label(label)
            .hint(hint),
    );
    false
}

/// The names `events` accepts besides event types: the presets.
fn preset_names() -> Vec<&'static str> {
    stripe_facts::EVENT_PRESETS.iter().map(|p| p.name).collect()
}

/// One item of `events`: a preset, `*`, a pattern or an event type, as the event types it
/// stands for; a problem when it names nothing.
fn expand_item(sink: &Sink, item: &Sp<String>) -> Option<Vec<&'static str>> {
    let text = item.get_ref().as_str();
    if let Some(preset) = stripe_facts::event_preset(text) {
        return Some(
            preset
                .events
                .iter()
                .flat_map(|e| stripe_facts::expand_pattern(e))
                .collect(),
        );
    }
    let expanded = stripe_facts::expand_pattern(text);
    if !expanded.is_empty() {
        return Some(expanded);
    }
    let d = if text.contains('*') {
        Diagnostic::new(
            item.span(),
            format!("the pattern \"{text}\" matches no event type"),
        )
        .label("matches nothing")
        .hint("a pattern is a prefix of event types ending in `.*`, such as \"customer.subscription.*\", or \"*\" for every event")
    } else {
        let mut known = preset_names();
        known.extend_from_slice(stripe_facts::EVENT_TYPES);
        let d = Diagnostic::new(item.span(), format!("unknown event \"{text}\""))
            .label("not an event type or preset");
        d.hint(sink.did_you_mean(text, &known).unwrap_or_else(|| format!(
            "use a preset ({}), an event type such as \"invoice.paid\", a pattern such as \"customer.subscription.*\", or \"*\"",
            preset_names().join(", ")
        )))
    };
    sink.push(d);
    None
}

/// `events`: at least one item, each naming some event type; expanded and sorted (`*` alone
/// when it is there).
fn events(sink: &Sink, value: Sp<Vec<Sp<String>>>) -> Option<Vec<String>> {
    if value.get_ref().is_empty() {
        sink.push(
            Diagnostic::new(value.span(), "`events` cannot be empty")
                .label("no events")
                .hint(format!(
                    "name the events the endpoint receives: a preset ({}), event types, or \"*\"",
                    preset_names().join(", ")
                )),
        );
        return None;
    }
    let mut all: BTreeSet<&'static str> = BTreeSet::new();
    let mut ok = true;
    for item in value.get_ref() {
        match expand_item(sink, item) {
            Some(events) => all.extend(events),
            None => ok = false,
        }
    }
    if all.contains(stripe_facts::ALL_EVENTS) {
        all = BTreeSet::from([stripe_facts::ALL_EVENTS]);
    }
    ok.then(|| all.into_iter().map(str::to_owned).collect())
}

/// `api_version`: a version Stripe has published, or `account_default`.
fn api_version(sink: &Sink, value: Option<Sp<String>>) -> Option<ApiVersion> {
    let Some(value) = value else {
        return Some(ApiVersion::Billing);
    };
    let text = value.get_ref();
    if text == ACCOUNT_DEFAULT {
        return Some(ApiVersion::AccountDefault);
    }
    if stripe_facts::is_api_version(text) {
        return Some(ApiVersion::Pinned(value.into_inner()));
    }
    let mut d = Diagnostic::new(
        value.span(),
        format!("\"{text}\" is not a Stripe API version"),
    )
    .label("unknown API version");
    d = d.hint(sink.did_you_mean(text, stripe_facts::API_VERSIONS).unwrap_or_else(|| format!(
        "write a version such as \"{}\", or \"{ACCOUNT_DEFAULT}\" for the account's default; leave it out for the version billing speaks",
        stripe_facts::LATEST_API_VERSION
    )));
    sink.push(d);
    None
}

/// Whether git ignores `path` in the checkout holding `dir`: `None` outside a checkout, or
/// without git.
fn git_ignores(dir: &Path, path: &str) -> Option<bool> {
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["check-ignore", "-q", "--", path])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    match status.code() {
        Some(0) => Some(true),
        Some(1) => Some(false),
        _ => None,
    }
}

/// `secret_file`: inside billing.toml's directory and, in a git checkout, ignored by git.
fn secret_file(sink: &Sink, value: Sp<String>, place: &Place) -> Option<String> {
    let text = value.get_ref();
    let problem = if text.is_empty() || text.ends_with(['/', '\\']) {
        Some(("`secret_file` must name a file".to_owned(), None))
    } else if let Some(how) = super::environments::leaves_directory(text) {
        Some((
            format!("`secret_file` must stay inside billing.toml's directory: \"{text}\" ({how})"),
            None,
        ))
    } else if let Some(dir) = &place.dir
        && git_ignores(dir, text) == Some(false)
    {
        Some((
            format!("`secret_file` \"{text}\" is not ignored by git"),
            Some(format!(
                "a signing secret must never be committed: add `{text}` to .gitignore, or leave `secret_file` out to use .billing/<environment>/webhooks/<key>.secret"
            )),
        ))
    } else {
        None
    };
    match problem {
        None => Some(value.into_inner()),
        Some((message, hint)) => {
            let mut d = Diagnostic::new(value.span(), message).label("secret_file");
            d = d.hint(hint.unwrap_or_else(|| {
                "write a path relative to billing.toml, such as \"secrets/app.whsec\"".to_owned()
            }));
            sink.push(d);
            None
        }
    }
}

/// `rotation`: `immediate` or `two_step`.
fn rotation(sink: &Sink, value: Option<&Sp<String>>) -> Option<Rotation> {
    let Some(value) = value else {
        return Some(Rotation::default());
    };
    fields::one_of(sink, "rotation", value, ROTATIONS, |t| match t {
        "immediate" => Some(Rotation::Immediate),
        "two_step" => Some(Rotation::TwoStep),
        _ => None,
    })
}

/// Validates one `[webhooks.<key>]`.
fn webhook(sink: &Sink, raw: RawWebhook, place: &Place) -> Option<Webhook> {
    let key_ok = fields::check_key(sink, &raw.key, "webhook");
    let key = raw.key.get_ref().clone();
    let missing = |field: &str, hint: &str| {
        Diagnostic::new(
            raw.span.clone(),
            format!("webhook endpoint `{key}` has no `{field}`"),
        )
        .hint(hint.to_owned())
    };
    let url_value = fields::required(sink, raw.url, raw.incomplete, || {
        missing(
            "url",
            "add url = \"https://app.example.com/stripe/webhooks\"",
        )
    })
    .filter(|u| url(sink, u, place))
    .map(Sp::into_inner);
    let events = fields::required(sink, raw.events, raw.incomplete, || {
        missing(
            "events",
            "add events = [\"subscriptions\"] (a preset), event types, or \"*\"",
        )
    })
    .and_then(|e| events(sink, e));
    let api_version = api_version(sink, raw.api_version);
    let description = fields::text(sink, "description", raw.description, 5000);
    let environment = place.environment.as_deref().unwrap_or(super::EMBEDDED);
    let secret_file = match raw.secret_file {
        Some(v) => secret_file(sink, v, place),
        None => Some(default_secret_file(environment, &key)),
    };
    let secret_command = raw
        .secret_command
        .filter(|c| {
            let blank = c.get_ref().trim().is_empty();
            if blank {
                sink.push(Diagnostic::new(
                    c.span(),
                    "`secret_command` cannot be empty",
                ));
            }
            !blank
        })
        .map(Sp::into_inner);
    let rotation = rotation(sink, raw.rotation.as_ref());
    fields::id_or_moved_from(sink, raw.id.as_ref(), raw.moved_from.as_ref(), false);
    let metadata = fields::metadata(sink, raw.metadata);
    let entry = Webhook {
        id: fields::adopt_id(sink, raw.id, "we_", "webhook endpoint"),
        moved_from: fields::moved_from(sink, raw.moved_from, "webhook"),
        url: url_value?,
        events: events?,
        api_version: api_version?,
        description,
        connect: raw.connect.is_some_and(|c| *c.get_ref()),
        disabled: raw.disabled.is_some_and(|d| *d.get_ref()),
        metadata,
        secret_file: secret_file?,
        secret_command,
        rotation: rotation?,
        key,
    };
    key_ok.then_some(entry)
}

fn address(key: &str) -> Address {
    Address::new(ResourceKind::WebhookEndpoint, key)
}

/// Webhook endpoints by key: at most [`MAX_ENDPOINTS`], each `id` adopted once, renames
/// naming one entry each.
pub(crate) fn webhooks(
    sink: &Sink,
    raw: Vec<RawWebhook>,
    place: &Place,
) -> BTreeMap<String, Webhook> {
    let ids = raw
        .iter()
        .map(|w| (&w.key, w.id.as_ref(), w.moved_from.as_ref()));
    fields::ids_and_renames(sink, address, ids);
    if let Some(extra) = raw.get(MAX_ENDPOINTS) {
        sink.push(
            Diagnostic::new(
                extra.key.span(),
                format!(
                    "{} webhook endpoints declared; Stripe allows at most {MAX_ENDPOINTS} per account",
                    raw.len()
                ),
            )
            .label(format!("endpoint {}", MAX_ENDPOINTS + 1))
            .hint("one endpoint can receive many events: merge endpoints that share a URL, or limit some to other environments with `environments = [...]`"),
        );
    }
    raw.into_iter()
        .filter_map(|w| webhook(sink, w, place))
        .map(|w| (w.key.clone(), w))
        .collect()
}
