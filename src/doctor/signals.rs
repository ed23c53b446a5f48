//! The eight signals, each judged from the account's objects and billing.toml.

use std::collections::BTreeSet;

use super::{Inputs, KeyKind, Signal, Status};
use crate::catalog::{Environment, on_this_machine};
use crate::live::{LiveObject, LivePortal, LiveWebhook};
use crate::resource::{Address, KeyMode, Owner, owner};

/// Every signal, in order.
pub(super) fn all(inputs: &Inputs<'_>, presets: &[String], must_have: &[String]) -> Vec<Signal> {
    vec![
        webhook_events(inputs, presets, must_have),
        signatures(inputs),
        portal(inputs),
        tax(inputs),
        dunning(inputs),
        api_version(inputs),
        test_live_apart(inputs),
        lookup_keys(inputs),
    ]
}

impl Signal {
    fn new(number: u8, id: &'static str, title: &'static str) -> Self {
        Self {
            number,
            id,
            title,
            status: Status::Fail,
            summary: String::new(),
            evidence: Vec::new(),
            missing: Vec::new(),
            fix: Vec::new(),
        }
    }

    fn judged(mut self, status: Status, summary: impl Into<String>) -> Self {
        self.status = status;
        self.summary = summary.into();
        if status == Status::Pass {
            self.fix.clear();
        }
        self
    }
}

/// How many names a summary lists before it counts the rest.
const SHOWN: usize = 10;

/// `a, b, c`, or the first [`SHOWN`] and how many more: a summary stays one readable line.
fn listed(names: &[String]) -> String {
    match names.len() {
        n if n <= SHOWN => names.join(", "),
        n => format!("{} and {} more", names[..SHOWN].join(", "), n - SHOWN),
    }
}

/// The table of billing.toml that declares an object billing manages (`[webhooks.app]`), when
/// this catalog manages it.
fn declaration(inputs: &Inputs<'_>, object: &dyn LiveObject) -> Option<String> {
    match owner(object.metadata(), &inputs.catalog.namespace) {
        Owner::Ours(address) => address.parse::<Address>().ok().map(|a| a.declaration()),
        Owner::Foreign(_) | Owner::Unmanaged => None,
    }
}

/// Why an endpoint cannot deliver the events that matter, if it cannot.
fn unusable(w: &LiveWebhook, test_data: bool) -> Option<&'static str> {
    if w.disabled {
        Some("disabled")
    } else if on_this_machine(&w.url) {
        // Only a sandbox delivers there: for local development, never for live data.
        (!test_data).then_some("on this machine, which live events never reach")
    } else if w.url.starts_with("https://") {
        None
    } else if test_data {
        Some("not https (plain http only to this machine, for local development)")
    } else {
        Some("not https, which live mode needs")
    }
}

/// What the text says of an endpoint's events.
fn events_said(w: &LiveWebhook) -> String {
    if w.events.iter().any(|e| e == stripe_facts::ALL_EVENTS) {
        "every event (*)".to_owned()
    } else {
        format!("{} events", w.events.len())
    }
}

/// 1: an enabled https endpoint whose events cover what the catalog sells.
fn webhook_events(inputs: &Inputs<'_>, presets: &[String], must_have: &[String]) -> Signal {
    let mut s = Signal::new(
        1,
        "webhook_events",
        "A webhook endpoint receives the events that matter",
    );
    let mut covered: BTreeSet<&str> = BTreeSet::new();
    let mut usable = Vec::new();
    for w in &inputs.live.webhooks {
        match unusable(w, inputs.test_data) {
            Some(why) => s.evidence.push(format!("{} {}: {why}", w.id, w.url)),
            None => {
                s.evidence
                    .push(format!("{} {}: enabled, {}", w.id, w.url, events_said(w)));
                covered.extend(w.events.iter().map(String::as_str));
                usable.push(w);
            }
        }
    }
    if presets.is_empty() {
        s.evidence.push(
            "billing.toml declares no prices and no [doctor] sells: no event is a must".to_owned(),
        );
    } else {
        s.evidence.push(format!(
            "must-have events ({}): {}",
            presets.join(", "),
            must_have.join(", ")
        ));
    }
    if !covered.contains(stripe_facts::ALL_EVENTS) {
        s.missing = must_have
            .iter()
            .filter(|e| !covered.contains(e.as_str()))
            .cloned()
            .collect();
    }
    let declared = inputs.catalog.webhooks.keys().next();
    let table = usable
        .iter()
        .find_map(|w| declaration(inputs, *w))
        .or_else(|| declared.map(|k| format!("[webhooks.{k}]")))
        .unwrap_or_else(|| "[webhooks.app]".to_owned());
    let events_line = format!(
        "events = [{}]",
        presets
            .iter()
            .map(|p| format!("{p:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if usable.is_empty() {
        if declared.is_some() {
            s.fix.push(format!(
                "billing.toml declares {table}: `billing apply` creates it (enabled, https outside test mode)"
            ));
        }
        s.fix.push(format!(
            "declare an endpoint in billing.toml and run `billing apply`: {table} url = \"https://app.example.com/stripe/webhooks\" {events_line}"
        ));
        let how = if inputs.test_data {
            "no enabled endpoint with an https URL (or http to this machine)"
        } else {
            "no enabled endpoint with an https URL"
        };
        return s.judged(Status::Fail, how);
    }
    if s.missing.is_empty() {
        return s.judged(
            Status::Pass,
            "the enabled endpoints receive every must-have event",
        );
    }
    s.fix.push(format!(
        "in {table}: {events_line} (keeping the endpoint's other events), then `billing apply`; for an endpoint billing does not manage, add the events in the Dashboard (Developers > Webhooks)"
    ));
    let summary = format!("no enabled endpoint receives {}", listed(&s.missing));
    s.judged(Status::Fail, summary)
}

/// 2: the application verifies signatures and writes idempotently; `--probe-webhooks` tests
/// the signatures.
fn signatures(inputs: &Inputs<'_>) -> Signal {
    let mut s = Signal::new(
        2,
        "signatures_and_idempotency",
        "Webhook signatures are verified, writes are idempotent",
    );
    s.evidence.push(
        "billing's own writes each carry an Idempotency-Key; your application's writes are for you to check: the API does not show them"
            .to_owned(),
    );
    s.fix.push("verify every event with your Stripe library's webhook helper (constructEvent, construct_event) and the endpoint's signing secret, answering 400 when it fails".to_owned());
    s.fix.push(
        "send an Idempotency-Key with every POST your application makes to Stripe".to_owned(),
    );
    let Some(probes) = &inputs.probes else {
        return s.judged(
            Status::CheckByHand,
            "the API cannot show whether your application checks the Stripe-Signature header or sends idempotency keys; `billing doctor --probe-webhooks` tests the signatures",
        );
    };
    if probes.is_empty() {
        return s.judged(Status::Fail, "no enabled webhook endpoint to probe");
    }
    for p in probes {
        let (line, rejected) = match &p.outcome {
            Ok(status) if (400..500).contains(status) => (
                format!(
                    "answered {status} to a {} event with a wrong signature: rejected",
                    p.event
                ),
                true,
            ),
            Ok(status) => (
                format!(
                    "answered {status} to a {} event with a wrong signature: it was not rejected",
                    p.event
                ),
                false,
            ),
            Err(why) => (format!("no answer to the probe: {why}"), false),
        };
        s.evidence.push(format!("{} {}: {line}", p.endpoint, p.url));
        if !rejected {
            s.missing.push(p.endpoint.clone());
        }
    }
    if s.missing.is_empty() {
        s.judged(
            Status::Pass,
            "every enabled endpoint rejected an event with a wrong signature (your application's idempotency keys remain to check by hand)",
        )
    } else {
        let summary = format!(
            "{} did not reject an event with a wrong signature with a 4xx",
            listed(&s.missing)
        );
        s.judged(Status::Fail, summary)
    }
}

/// What a portal configuration lacks for self-service.
fn portal_gaps(p: &LivePortal) -> Vec<String> {
    let s = &p.settings;
    let mut gaps = Vec::new();
    if !s.payment_method_update {
        gaps.push("payment_method_update".to_owned());
    }
    if !s.invoice_history {
        gaps.push("invoice_history".to_owned());
    }
    if s.subscription_cancel
        .as_ref()
        .is_none_or(|c| c.mode != "at_period_end")
    {
        gaps.push("subscription_cancel at_period_end".to_owned());
    }
    gaps
}

/// A portal configuration's features, in a line.
fn portal_said(p: &LivePortal) -> String {
    let s = &p.settings;
    let on = |b: bool| if b { "on" } else { "off" };
    let cancel = s
        .subscription_cancel
        .as_ref()
        .map_or("off".to_owned(), |c| c.mode.clone());
    let update = if s.customer_update.is_empty() {
        "off".to_owned()
    } else {
        s.customer_update.join(", ")
    };
    let which = if p.is_default {
        "the account's default"
    } else {
        "not the account's default: sessions name it as `configuration`"
    };
    format!(
        "{} ({which}): payment_method_update {}, invoice_history {}, subscription_cancel {cancel}, customer_update {update}",
        p.id,
        on(s.payment_method_update),
        on(s.invoice_history),
    )
}

/// 3: an active portal configuration where customers update their payment method, see their
/// invoices and cancel at period end.
fn portal(inputs: &Inputs<'_>) -> Signal {
    let mut s = Signal::new(
        3,
        "customer_portal",
        "Customers help themselves in the customer portal",
    );
    let active: Vec<&LivePortal> = inputs.live.portals.iter().filter(|p| p.active).collect();
    s.evidence.extend(active.iter().map(|p| portal_said(p)));
    // The closest to complete, the account's default first among equals.
    let best = active
        .iter()
        .min_by_key(|p| (portal_gaps(p).len(), !p.is_default))
        .copied();
    let Some(best) = best else {
        s.missing = vec!["an active configuration".to_owned()];
        if !inputs.catalog.portals.is_empty() {
            s.fix.push(
                "billing.toml declares a portal configuration: `billing apply` creates it"
                    .to_owned(),
            );
        }
        s.fix.push("declare [portal] in billing.toml with [portal.features] payment_method_update = true, invoice_history = true, subscription_cancel = { mode = \"at_period_end\" }, then `billing apply`".to_owned());
        return s.judged(Status::Fail, "no active portal configuration");
    };
    s.missing = portal_gaps(best);
    if s.missing.is_empty() {
        return s.judged(
            Status::Pass,
            format!(
                "{} lets customers update their payment method, see their invoices and cancel at period end",
                best.id
            ),
        );
    }
    let table = declaration(inputs, best).map_or_else(
        || "[portal.features]".to_owned(),
        |d| format!("the features of {d}"),
    );
    if best.is_default && !inputs.catalog.portals.is_empty() {
        s.fix.push("billing.toml declares a portal configuration: `billing apply` creates it (sessions then name it as `configuration`)".to_owned());
    }
    let lines: Vec<&str> = s
        .missing
        .iter()
        .map(|gap| match gap.as_str() {
            "payment_method_update" => "payment_method_update = true",
            "invoice_history" => "invoice_history = true",
            _ => "subscription_cancel = { mode = \"at_period_end\" }",
        })
        .collect();
    s.fix.push(format!(
        "in {table}: {}, then `billing apply`; or in the Dashboard: Settings > Billing > Customer portal",
        lines.join(", ")
    ));
    let summary = format!("{} lacks {}", best.id, s.missing.join(", "));
    s.judged(Status::Fail, summary)
}

/// 4: Stripe Tax active with a registration, or manual tax rates.
fn tax(inputs: &Inputs<'_>) -> Signal {
    let mut s = Signal::new(4, "tax", "Tax is collected");
    let live = inputs.live;
    let status = &inputs.tax;
    if status.missing_fields.is_empty() {
        s.evidence.push(format!("Stripe Tax: {}", status.status));
    } else {
        s.evidence.push(format!(
            "Stripe Tax: {} (Stripe still needs {})",
            status.status,
            status.missing_fields.join(", ")
        ));
    }
    let registrations: Vec<String> = live
        .tax_registrations
        .iter()
        .map(|r| {
            let place = r
                .state
                .as_ref()
                .map_or(r.country.clone(), |st| format!("{} {st}", r.country));
            format!("{place} {} ({})", r.kind, r.status)
        })
        .collect();
    let active_registrations = live
        .tax_registrations
        .iter()
        .filter(|r| r.status == "active")
        .count();
    s.evidence.push(if registrations.is_empty() {
        "tax registrations: none".to_owned()
    } else {
        format!("tax registrations: {}", registrations.join(", "))
    });
    let rates: Vec<String> = live
        .tax_rates
        .iter()
        .filter(|r| r.active)
        .map(|r| format!("{} {}", r.id, r.title()))
        .collect();
    s.evidence.push(if rates.is_empty() {
        "active tax rates: none".to_owned()
    } else {
        format!("active tax rates: {}", rates.join(", "))
    });
    s.evidence.push("Stripe Tax computes tax only where the application sets automatic_tax[enabled] (Checkout Sessions, subscriptions, invoices): the API has no account-wide switch to read".to_owned());
    let stripe_tax = status.status == "active" && active_registrations > 0;
    if stripe_tax || !rates.is_empty() {
        let how = if stripe_tax {
            format!("Stripe Tax is active with {active_registrations} active registration(s)")
        } else {
            format!("{} active manual tax rate(s)", rates.len())
        };
        return s.judged(Status::Pass, how);
    }
    if inputs.catalog.tax.is_some() || !inputs.catalog.tax_rates.is_empty() {
        s.fix.push(
            "billing.toml declares tax settings or rates: `billing apply` sets them".to_owned(),
        );
    }
    if status.status != "active" {
        s.missing.push("Stripe Tax active".to_owned());
        s.fix.push("in billing.toml: [tax] head_office = { line1 = \"…\", city = \"…\", postal_code = \"…\", country = \"US\" } (Stripe Tax is active once it knows the head office)".to_owned());
    }
    if active_registrations == 0 {
        s.missing.push("an active tax registration".to_owned());
        s.fix.push("where you collect tax: [[tax.registrations]] country = \"US\", type = \"state_sales_tax\", state = \"CA\" (one section each), then `billing apply`".to_owned());
    }
    s.fix.push("or, without Stripe Tax: [tax_rates.<key>] display_name = \"VAT\", percentage = 19, inclusive = false, country = \"DE\"".to_owned());
    s.judged(
        Status::Fail,
        "neither Stripe Tax with an active registration nor an active tax rate",
    )
}

/// 5: failed-payment retries and dunning, which the API does not show.
fn dunning(inputs: &Inputs<'_>) -> Signal {
    let mut s = Signal::new(
        5,
        "dunning",
        "Failed payments are retried and customers told",
    );
    for event in ["invoice.payment_failed", "invoice.payment_action_required"] {
        let by: Vec<&str> = inputs
            .live
            .webhooks
            .iter()
            .filter(|w| unusable(w, inputs.test_data).is_none())
            .filter(|w| {
                w.events
                    .iter()
                    .any(|e| e == event || e == stripe_facts::ALL_EVENTS)
            })
            .map(|w| w.id.as_str())
            .collect();
        s.evidence.push(if by.is_empty() {
            format!("{event}: no enabled endpoint receives it")
        } else {
            format!("{event}: received by {}", by.join(", "))
        });
    }
    let card_update = inputs
        .live
        .portals
        .iter()
        .any(|p| p.active && p.settings.payment_method_update);
    s.evidence.push(format!(
        "customers can update their payment method in the portal: {}",
        if card_update { "yes" } else { "no" }
    ));
    s.fix.push("Dashboard: Billing > Revenue recovery > Retries: Smart Retries (or a schedule), and what happens to the subscription when the retries run out".to_owned());
    s.fix.push("Dashboard: Billing > Revenue recovery > Emails: tell customers of failed payments and expiring cards".to_owned());
    s.judged(
        Status::CheckByHand,
        "the API shows neither Smart Retries nor the dunning emails and the end-of-retries behaviour",
    )
}

/// 6: events are sent in a pinned API version.
fn api_version(inputs: &Inputs<'_>) -> Signal {
    let mut s = Signal::new(6, "api_version", "The API version is pinned");
    s.evidence.push(format!(
        "billing's own requests send Stripe-Version {}; your application's client is for you to check",
        crate::stripe::api_version()
    ));
    let enabled: Vec<&LiveWebhook> = inputs
        .live
        .webhooks
        .iter()
        .filter(|w| !w.disabled)
        .collect();
    for w in &enabled {
        match &w.api_version {
            Some(v) => s
                .evidence
                .push(format!("{} {}: events in {v}", w.id, w.url)),
            None => {
                s.evidence.push(format!(
                    "{} {}: events in the account's default version, which changes when someone upgrades it",
                    w.id, w.url
                ));
                s.missing.push(w.id.clone());
            }
        }
    }
    if enabled.is_empty() {
        s.missing.push("an enabled webhook endpoint".to_owned());
        s.fix.push("declare a webhook endpoint in billing.toml: billing creates it pinned to the version it speaks".to_owned());
        return s.judged(
            Status::Fail,
            "no enabled webhook endpoint shows the version events are sent in",
        );
    }
    if s.missing.is_empty() {
        return s.judged(
            Status::Pass,
            "every enabled endpoint receives its events in a pinned version",
        );
    }
    s.fix.push(format!(
        "leave `api_version` out of the endpoint's [webhooks.<key>] (billing pins the version it speaks) or write api_version = \"{}\", then `billing apply`; Stripe cannot change an endpoint's version in place, so an endpoint billing does not manage is replaced by a new one",
        stripe_facts::LATEST_API_VERSION
    ));
    let summary = format!(
        "{} follow(s) the account's default version",
        listed(&s.missing)
    );
    s.judged(Status::Fail, summary)
}

/// An environment in a line.
fn environment_said(e: &Environment) -> String {
    let mut line = if e.sandbox {
        format!("`{}`: the embedded sandbox", e.name)
    } else {
        format!("`{}`: {} mode, key in {}", e.name, e.mode, e.secret_key_env)
    };
    if let Some(account) = &e.account {
        line.push_str(&format!(", account {account}"));
    }
    line
}

/// What keeps test and live apart in billing.toml, and what does not.
fn apart_problems(envs: &[&Environment]) -> Vec<String> {
    let live: Vec<&&Environment> = envs
        .iter()
        .filter(|e| !e.sandbox && e.mode == KeyMode::Live)
        .collect();
    let test: Vec<&&Environment> = envs
        .iter()
        .filter(|e| e.sandbox || e.mode == KeyMode::Test)
        .collect();
    let mut problems = Vec::new();
    if envs.is_empty() {
        problems.push("billing.toml declares no environments".to_owned());
        return problems;
    }
    if live.is_empty() {
        problems.push("no live environment".to_owned());
    }
    if test.is_empty() {
        problems.push("no test-mode or sandbox environment".to_owned());
    }
    for l in &live {
        for t in test.iter().filter(|t| !t.sandbox) {
            if l.secret_key_env == t.secret_key_env {
                problems.push(format!(
                    "`{}` and `{}` read their keys from the same variable, {}",
                    l.name, t.name, l.secret_key_env
                ));
            }
        }
    }
    problems
}

/// 7: test and live kept apart: environments, keys and webhook endpoints.
fn test_live_apart(inputs: &Inputs<'_>) -> Signal {
    let mut s = Signal::new(7, "test_live_apart", "Test and live are kept apart");
    let envs: Vec<&Environment> = inputs.catalog.environments.values().collect();
    s.evidence.extend(envs.iter().map(|e| environment_said(e)));
    s.evidence.push(format!(
        "this run's environment, `{}` ({} mode), has {} webhook endpoint(s) of its own: Stripe keeps each mode's endpoints and signing secrets apart",
        inputs.environment,
        inputs.mode,
        inputs.live.webhooks.len()
    ));
    match inputs.key {
        KeyKind::Secret => s.evidence.push(
            "note: this environment's key is a secret key (sk_); a restricted key (rk_) allowed only what billing does is good practice".to_owned(),
        ),
        KeyKind::Restricted => s
            .evidence
            .push("this environment's key is a restricted key (rk_)".to_owned()),
        KeyKind::Embedded => {}
    }
    s.missing = apart_problems(&envs);
    if s.missing.is_empty() {
        return s.judged(
            Status::Pass,
            "billing.toml declares test and live environments with keys of their own",
        );
    }
    s.fix.push("in billing.toml: [environments.test] mode = \"test\", secret_key_env = \"STRIPE_TEST_SECRET_KEY\"; [environments.live] mode = \"live\", secret_key_env = \"STRIPE_LIVE_SECRET_KEY\" (each with its own variable, and `account = \"acct_…\"` to refuse any other account)".to_owned());
    let summary = s.missing.join("; ");
    s.judged(Status::Fail, summary)
}

/// 8: the application refers to prices by lookup key, not by id.
fn lookup_keys(inputs: &Inputs<'_>) -> Signal {
    let mut s = Signal::new(8, "lookup_keys", "No price ids are hard-coded");
    let active: Vec<_> = inputs.live.prices.iter().filter(|p| p.active).collect();
    let mut managed_without = false;
    for p in active.iter().filter(|p| p.lookup_key.is_none()) {
        let at = declaration(inputs, *p);
        managed_without |= at.is_some();
        let at = at.map_or(String::new(), |d| format!(", {d}"));
        s.evidence.push(format!(
            "{} ({} of product {}{at}): no lookup key",
            p.id,
            p.title(),
            p.product
        ));
        s.missing.push(p.id.to_string());
    }
    s.evidence.insert(
        0,
        format!(
            "{} active price(s), {} with a lookup key",
            active.len(),
            active.len() - s.missing.len()
        ),
    );
    let outputs: Vec<String> = inputs
        .catalog
        .environments
        .values()
        .filter_map(|e| {
            Some(format!(
                "`{}` writes its ids to {}",
                e.name,
                e.outputs.as_ref()?
            ))
        })
        .collect();
    s.evidence.push(if outputs.is_empty() {
        "no environment writes `outputs`: `billing output` prints the ids and lookup keys on demand"
            .to_owned()
    } else {
        format!("outputs: {}", outputs.join(", "))
    });
    if active.is_empty() {
        s.missing.push("an active price".to_owned());
        s.fix.push("declare the prices in billing.toml ([products.<key>.prices.<key>]) and run `billing apply`".to_owned());
        return s.judged(Status::Fail, "the account has no active price");
    }
    if s.missing.is_empty() {
        return s.judged(
            Status::Pass,
            "every active price has a lookup key the application can use instead of its id",
        );
    }
    if managed_without {
        s.fix.push("`billing apply` gives each price billing.toml declares its lookup key (`<product>_<price>`, or `lookup_key` in its table)".to_owned());
    }
    s.fix.push("for prices billing.toml does not declare: `billing import` takes them over with a lookup key each, or set one in the Dashboard".to_owned());
    s.fix.push("in the application, look prices up by lookup key (GET /v1/prices?lookup_keys[]=…) or read billing's outputs, never a price_… id".to_owned());
    let summary = format!(
        "{} active price(s) have no lookup key: {}",
        s.missing.len(),
        listed(&s.missing)
    );
    s.judged(Status::Fail, summary)
}
