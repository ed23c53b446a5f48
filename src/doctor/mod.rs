//! `billing doctor`: an environment scored against the eight signals of a production Stripe
//! integration, from what the account shows through list endpoints (read with GET only) and
//! what billing.toml declares. A signal is passed only on evidence; what the API cannot show
//! is "check by hand", and never counts. The JSON form is documented in docs/doctor-json.md.

mod signals;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::catalog::Catalog;
use crate::live::LiveState;
use crate::resource::KeyMode;

/// The version of the JSON report's shape (docs/doctor-json.md).
pub(crate) const FORMAT_VERSION: u32 = 1;

/// How many signals there are: the score is out of this.
pub(crate) const SIGNALS: usize = 8;

/// A signal's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// The evidence shows it: counts towards the score.
    Pass,
    /// The evidence shows it is missing.
    Fail,
    /// The API cannot show it: someone has to look. Never counts.
    CheckByHand,
}

impl Status {
    /// How the text and Markdown reports write it.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::CheckByHand => "check by hand",
        }
    }
}

/// One signal, judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Signal {
    /// 1 to 8.
    pub number: u8,
    /// A stable name (`webhook_events`).
    pub id: &'static str,
    /// What a production integration has.
    pub title: &'static str,
    pub status: Status,
    /// Why it has this status, in one sentence.
    pub summary: String,
    /// What was read, one fact a line.
    pub evidence: Vec<String>,
    /// What is missing, by name (events, portal features, price ids); empty on a pass.
    pub missing: Vec<String>,
    /// What to do: billing.toml lines, or where to look in the Dashboard.
    pub fix: Vec<String>,
}

/// What one `--probe-webhooks` request found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Probe {
    /// The endpoint's id.
    pub endpoint: String,
    pub url: String,
    /// The event type sent.
    pub event: String,
    /// The HTTP status it answered, or why there was no answer.
    pub outcome: Result<u16, String>,
}

/// What kind of key a run uses (never the key itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// The embedded sandbox's own key.
    Embedded,
    /// `sk_…`.
    Secret,
    /// `rk_…`.
    Restricted,
}

/// Stripe Tax's status, as `GET /v1/tax/settings` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaxStatus {
    /// `active` or `pending`.
    pub status: String,
    /// What Stripe still needs while pending (`head_office`).
    pub missing_fields: Vec<String>,
}

/// Everything the signals are judged on.
pub(crate) struct Inputs<'a> {
    pub catalog: &'a Catalog,
    pub live: &'a LiveState,
    /// The environment's name.
    pub environment: &'a str,
    pub mode: KeyMode,
    /// Whether no live data flows there (test mode, or the embedded sandbox).
    pub test_data: bool,
    /// What kind of key the run uses.
    pub key: KeyKind,
    pub tax: TaxStatus,
    /// `None` without `--probe-webhooks`.
    pub probes: Option<Vec<Probe>>,
}

/// The report: every signal, and the score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Report {
    pub format_version: u32,
    pub tool_version: &'static str,
    pub environment: String,
    pub account: String,
    pub mode: KeyMode,
    /// How many signals pass.
    pub score: usize,
    pub out_of: usize,
    pub min_score: usize,
    /// Whether `score` reaches `min_score` (the exit code is 0 then).
    pub passed: bool,
    /// The event presets the catalog needs: from its prices, and `[doctor] sells`.
    pub presets: Vec<String>,
    /// The event types those presets stand for, sorted.
    pub must_have_events: Vec<String>,
    pub signals: Vec<Signal>,
}

/// The presets what the catalog sells needs: `subscriptions` for recurring prices,
/// `one_time_payments` for one-time prices, and those `[doctor] sells` names; sorted.
pub(crate) fn presets(catalog: &Catalog) -> Vec<String> {
    let prices = catalog.products.values().flat_map(|p| p.prices.values());
    let mut out: BTreeSet<String> = catalog.doctor.sells.iter().cloned().collect();
    for price in prices {
        out.insert(
            if price.recurring.is_some() {
                "subscriptions"
            } else {
                "one_time_payments"
            }
            .to_owned(),
        );
    }
    out.into_iter().collect()
}

/// The event types `presets` stand for, sorted, each once.
fn expand(presets: &[String]) -> Vec<String> {
    let events: BTreeSet<&str> = presets
        .iter()
        .filter_map(|name| stripe_facts::event_preset(name))
        .flat_map(|p| p.events.iter())
        .flat_map(|e| stripe_facts::expand_pattern(e))
        .collect();
    events.into_iter().map(str::to_owned).collect()
}

/// Judges every signal.
pub(crate) fn examine(inputs: &Inputs<'_>, min_score: usize) -> Report {
    let presets = presets(inputs.catalog);
    let must_have = expand(&presets);
    let signals = signals::all(inputs, &presets, &must_have);
    let score = signals.iter().filter(|s| s.status == Status::Pass).count();
    Report {
        format_version: FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION"),
        environment: inputs.environment.to_owned(),
        account: inputs.live.account.id.clone(),
        mode: inputs.mode,
        score,
        out_of: SIGNALS,
        min_score,
        passed: score >= min_score,
        presets,
        must_have_events: must_have,
        signals,
    }
}

impl Report {
    /// The report as pretty JSON, with a final newline.
    pub(crate) fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}
