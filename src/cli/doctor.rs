//! `billing doctor`: the production-readiness check of an environment, scored out of 8.
//!
//! Reads the account as `plan` does (GET requests only, list endpoints, the same client and
//! rate limits), plus Stripe Tax's status; with `--probe-webhooks`, also sends each enabled
//! webhook endpoint one event whose signature is deliberately wrong (never a correctly signed
//! one). Exits 0 when the score reaches `--min-score`, 1 below it or on error.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::{EXIT_ERROR, EXIT_OK, GlobalArgs, Result, Style, session};
use crate::doctor::{self, Inputs, KeyKind, Probe, TaxStatus};
use crate::live::{self, LiveWebhook};
use crate::resource::KeyMode;

/// How long a probed endpoint has to answer: generous, since a handler may be slow to start.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Event types that only notify, preferred for the probe in this order: an application that
/// does not verify signatures acts on the probe, and these do the least harm.
const PROBE_EVENTS: &[&str] = &[
    "invoice.upcoming",
    "customer.subscription.trial_will_end",
    "checkout.session.expired",
    "billing_portal.configuration.updated",
];

/// How the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum ReportFormat {
    /// For people.
    Text,
    /// For a pull-request comment.
    Markdown,
    /// For programs (docs/doctor-json.md).
    Json,
}

/// Options of `billing doctor`.
#[derive(Debug, Args)]
pub(super) struct DoctorArgs {
    /// How to print the report: text for people, markdown for a pull-request comment, json for
    /// programs.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Exit 1 when fewer than N of the 8 signals pass.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u8).range(0..=8))]
    min_score: u8,
    /// Send each enabled webhook endpoint one event with a deliberately wrong signature:
    /// "signatures verified" passes only when every endpoint rejects it with a 4xx (without
    /// this flag, that signal is a check by hand).
    #[arg(long)]
    probe_webhooks: bool,
}

/// The event the probe sends an endpoint: one it subscribes to, the least harmful first.
fn probe_event(w: &LiveWebhook) -> String {
    let every = w.events.iter().any(|e| e == stripe_facts::ALL_EVENTS);
    PROBE_EVENTS
        .iter()
        .find(|e| every || w.events.iter().any(|x| x == *e))
        .map(|e| (*e).to_owned())
        .or_else(|| w.events.first().cloned())
        .unwrap_or_else(|| PROBE_EVENTS[0].to_owned())
}

/// Sends each enabled endpoint one event signed with a secret made up for the occasion, so
/// that its signature is wrong whatever the endpoint's secret is; concurrently.
async fn probe(webhooks: &[LiveWebhook]) -> Vec<Probe> {
    let secret = super::sandbox::wrong_secret();
    let sends = webhooks.iter().filter(|w| !w.disabled).map(|w| {
        let secret = secret.clone();
        async move {
            let event = probe_event(w);
            let outcome = match stripe_sandbox::webhooks::sample_event(&event) {
                Some(payload) => stripe_sandbox::webhooks::send_event_within(
                    &w.url,
                    &secret,
                    &payload,
                    PROBE_TIMEOUT,
                )
                .await
                .map_err(|e| e.to_string()),
                None => Err(format!("no sample of {event} to send")),
            };
            Probe {
                endpoint: w.id.clone(),
                url: w.url.clone(),
                event,
                outcome,
            }
        }
    });
    futures_util::future::join_all(sends).await
}

pub(crate) async fn run(global: &GlobalArgs, args: &DoctorArgs, style: Style) -> Result<u8> {
    let opened = session::open(global).await?;
    // Stripe Tax is read whether or not billing.toml declares [tax].
    let mut scope = live::ReadScope::for_catalog(&opened.catalog);
    scope.tax = true;
    let session = opened.read_with(&scope).await?;
    let connection = &session.connection;
    let (status, missing_fields) = live::tax_status(&connection.client)
        .await
        .context("cannot read Stripe Tax's settings")?;
    let probes = if args.probe_webhooks {
        let enabled = session.live.webhooks.iter().filter(|w| !w.disabled).count();
        let _ = writeln!(
            super::style::chatter(),
            "Probing {enabled} webhook endpoint(s) with an event whose signature is wrong."
        );
        Some(probe(&session.live.webhooks).await)
    } else {
        None
    };
    let key = if connection.embedded() {
        KeyKind::Embedded
    } else if connection.client.key_restricted() {
        KeyKind::Restricted
    } else {
        KeyKind::Secret
    };
    let inputs = Inputs {
        catalog: &session.catalog,
        live: &session.live,
        environment: &connection.environment,
        mode: connection.mode,
        test_data: connection.mode == KeyMode::Test,
        key,
        tax: TaxStatus {
            status,
            missing_fields,
        },
        probes,
    };
    let report = doctor::examine(&inputs, usize::from(args.min_score));
    let mut out = std::io::stdout().lock();
    match args.format {
        ReportFormat::Text => {
            crate::render::render_doctor_text(&report, style.stdout_color(), &mut out)?;
        }
        ReportFormat::Markdown => crate::render::render_doctor_markdown(&report, &mut out)?,
        ReportFormat::Json => out.write_all(report.to_json().as_bytes())?,
    }
    out.flush()?;
    drop(out);
    if report.passed {
        Ok(EXIT_OK)
    } else {
        style.error(&format!(
            "the score is {}/{}, below --min-score {}",
            report.score, report.out_of, report.min_score
        ));
        Ok(EXIT_ERROR)
    }
}
