//! Runs a plan document's operations: independent operations concurrently within a bound,
//! each request with the idempotency key the plan recorded; a failed operation stops its
//! dependents.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use stripe_client_core::{IdempotencyKey, RequestStrategy};
use tokio::task::JoinSet;

use super::secret::{Secret, Secrets};
use crate::document::{Operation, PlanDocument};
use crate::plan::{Change, StepId};
use crate::stripe::{StripeError, StripeHttp};

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub(crate) enum Outcome {
    /// Stripe accepted every request of the step.
    Done {
        /// The id of the object the step created, if it created one.
        created: Option<String>,
        /// How long it took.
        #[serde(skip)]
        elapsed: Duration,
    },
    /// Stripe refused, or could not be reached after retries.
    Failed {
        /// What went wrong.
        error: String,
        /// Stripe refused it for good (a 4xx other than 409 and 429): sending it again
        /// unchanged fails the same way, so billing.toml or the account must change first.
        permanent: bool,
    },
    /// Not sent, because a step it depends on did not succeed.
    NotAttempted {
        /// The step that failed.
        blocked_by: StepId,
    },
    /// Not sent, because the apply was interrupted (SIGINT, SIGTERM) before it started.
    NotStarted,
}

/// Receives progress as operations start and end.
pub(crate) trait Progress: Send + Sync {
    /// An operation is about to send its requests.
    fn started(&self, op: &Operation, change: &Change);
    /// An operation ended.
    fn finished(&self, op: &Operation, change: &Change, outcome: &Outcome);
    /// The apply was interrupted: no operation starts any more, and the `in_flight` ones are
    /// waited for.
    fn interrupted(&self, in_flight: usize);
}

/// What an apply did, step by step, in plan order.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct ApplyReport {
    /// Each step of the plan with its outcome.
    pub outcomes: Vec<(StepId, Outcome)>,
    /// A signal stopped it before every step was started.
    pub interrupted: bool,
}

/// How many operations, or changes, ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Counts {
    pub done: usize,
    pub failed: usize,
    pub not_attempted: usize,
    pub not_started: usize,
}

impl Counts {
    fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Done { .. } => self.done += 1,
            Outcome::Failed { .. } => self.failed += 1,
            Outcome::NotAttempted { .. } => self.not_attempted += 1,
            Outcome::NotStarted => self.not_started += 1,
        }
    }
}

/// How one change of the plan ended: its worst operation (a failure, then an interruption,
/// then a blocked operation), or done when all its operations are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeOutcome {
    Done,
    Failed,
    NotStarted,
    NotAttempted,
}

impl ApplyReport {
    /// Operations done, failed, not attempted and not started.
    pub(crate) fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for (_, outcome) in &self.outcomes {
            counts.add(outcome);
        }
        counts
    }

    /// Whether every step succeeded.
    pub(crate) fn succeeded(&self) -> bool {
        let counts = self.counts();
        counts.done == self.outcomes.len()
    }

    /// How each change of `plan` ended, in the plan's order (the units of the plan's summary
    /// line: what was created, updated, replaced, archived).
    pub(crate) fn changes<'p>(&self, plan: &'p PlanDocument) -> Vec<(&'p Change, ChangeOutcome)> {
        let mut worst: Vec<ChangeOutcome> = vec![ChangeOutcome::Done; plan.resource_changes.len()];
        for (id, outcome) in &self.outcomes {
            let Some(op) = plan.operations.get(*id) else {
                continue;
            };
            let Some(slot) = worst.get_mut(op.change) else {
                continue;
            };
            let this = match outcome {
                Outcome::Done { .. } => ChangeOutcome::Done,
                Outcome::Failed { .. } => ChangeOutcome::Failed,
                Outcome::NotStarted => ChangeOutcome::NotStarted,
                Outcome::NotAttempted { .. } => ChangeOutcome::NotAttempted,
            };
            let rank = |o: ChangeOutcome| match o {
                ChangeOutcome::Done => 0,
                ChangeOutcome::NotAttempted => 1,
                ChangeOutcome::NotStarted => 2,
                ChangeOutcome::Failed => 3,
            };
            if rank(this) > rank(*slot) {
                *slot = this;
            }
        }
        plan.resource_changes.iter().zip(worst).collect()
    }

    /// The failures Stripe refused for good, with their operations.
    pub(crate) fn permanent_failures(&self) -> impl Iterator<Item = (StepId, &str)> {
        self.outcomes.iter().filter_map(|(id, o)| match o {
            Outcome::Failed {
                error,
                permanent: true,
            } => Some((*id, error.as_str())),
            _ => None,
        })
    }
}

/// What billing reads from a write's answer: the object's id (the tax settings singleton has
/// none), and the signing secret of a new webhook endpoint.
#[derive(miniserde::Deserialize)]
struct Created {
    id: Option<String>,
    secret: Option<String>,
}

/// What a finished operation created: an object's id, and its secret when Stripe returned one.
type Made = (Option<String>, Option<Secret>);

/// The requests of `op` with the ids of created objects in place of their placeholders.
fn resolved(op: &Operation, created: &HashMap<StepId, String>) -> Vec<crate::plan::WireRequest> {
    let mut requests = op.requests.clone();
    for r in &op.references {
        let id = created.get(&r.operation).cloned().unwrap_or_default();
        let Some(request) = requests.get_mut(r.request) else {
            continue;
        };
        match r.field {
            None => {
                request.path = request
                    .path
                    .replace(&crate::document::placeholder(r.operation), &id);
            }
            Some(field) => {
                if let Some((_, value)) = request.body.get_mut(field) {
                    *value = id;
                }
            }
        }
    }
    requests
}

async fn run_operation(
    doc: Arc<PlanDocument>,
    client: StripeHttp,
    id: StepId,
    created: HashMap<StepId, String>,
) -> Result<Made, (String, bool)> {
    let op = &doc.operations[id];
    let mut first_id = None;
    let mut secret = None;
    for (index, wire) in resolved(op, &created).iter().enumerate() {
        let key = if index == 0 {
            op.idempotency_key.clone()
        } else {
            format!("{}-{index}", op.idempotency_key)
        };
        let key = IdempotencyKey::new(&key).map_err(|e| (e.to_string(), false))?;
        let response: Result<Created, StripeError> = wire
            .builder()
            .customize::<Created>()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(&client)
            .await;
        match response {
            Ok(c) => {
                if first_id.is_none() {
                    first_id = c.id;
                    secret = c.secret.map(Secret::new);
                }
            }
            // Stripe ignores idempotency keys on DELETE (docs/stripe-rules.md#idempotency): when
            // the answer to a delete was lost and the retry finds nothing, the object is gone, as
            // asked.
            Err(e)
                if wire.method == "DELETE"
                    && e.status() == Some(404)
                    && e.code() == Some("resource_missing") => {}
            Err(e) => {
                if e.code() == Some("resource_already_exists") && wire.path == "/coupons" {
                    let coupon = wire
                        .body
                        .iter()
                        .find(|(k, _)| k == "id")
                        .map_or("", |(_, v)| v.as_str());
                    return Err((
                        format!(
                            "{e}; coupon id {coupon} is taken, or was used by a coupon deleted before (Stripe never reuses a coupon id): pin the coupon to another `id`"
                        ),
                        true,
                    ));
                }
                return Err((e.to_string(), e.is_permanent()));
            }
        }
    }
    Ok(if op.creates {
        (first_id, secret)
    } else {
        (None, None)
    })
}

/// What a finished operation task returns: its step, the created id or the error (and whether
/// it is permanent), and how long it took.
type Finished = (StepId, Result<Made, (String, bool)>, Duration);

/// Runs every operation of `doc` whose dependencies succeeded, at most `concurrency` at a
/// time, until `stop` turns true: then no operation starts any more, the ones in flight are
/// waited for, and the others are reported not started. What an operation creates is handed
/// to `secrets` before it counts as done.
pub(crate) async fn apply(
    doc: &PlanDocument,
    client: &StripeHttp,
    concurrency: usize,
    progress: &dyn Progress,
    stop: &tokio::sync::watch::Receiver<bool>,
    secrets: &dyn Secrets,
) -> ApplyReport {
    let plan = Arc::new(doc.clone());
    let n = plan.operations.len();
    let mut outcomes: Vec<Option<Outcome>> = vec![None; n];
    let mut running = vec![false; n];
    let mut created: HashMap<StepId, String> = HashMap::new();
    let mut tasks: JoinSet<Finished> = JoinSet::new();
    let concurrency = concurrency.max(1);
    let mut stop = stop.clone();
    let mut interrupted = *stop.borrow();
    // Whoever could say stop is gone: nobody will.
    let mut unstoppable = false;
    loop {
        // Start ready steps in plan order.
        for &id in &plan.order {
            if interrupted || tasks.len() >= concurrency {
                break;
            }
            if running[id] || outcomes[id].is_some() {
                continue;
            }
            let step = &plan.operations[id];
            let deps_done = step
                .depends_on
                .iter()
                .all(|d| matches!(outcomes[*d], Some(Outcome::Done { .. })));
            if !deps_done {
                continue;
            }
            running[id] = true;
            progress.started(step, &plan.resource_changes[step.change]);
            let (plan, client, created) = (Arc::clone(&plan), client.clone(), created.clone());
            tasks.spawn(async move {
                let started = Instant::now();
                let result = run_operation(plan, client, id, created).await;
                (id, result, started.elapsed())
            });
        }
        if tasks.is_empty() {
            break;
        }
        let joined = tokio::select! {
            joined = tasks.join_next() => joined,
            changed = stop.changed(), if !interrupted && !unstoppable => {
                match changed {
                    Ok(()) if *stop.borrow() => {
                        interrupted = true;
                        progress.interrupted(tasks.len());
                    }
                    Ok(()) => {}
                    Err(_) => unstoppable = true,
                }
                continue;
            }
        };
        let Some(joined) = joined else {
            break;
        };
        let (id, result, elapsed) = match joined {
            Ok(done) => done,
            Err(e) => {
                // A panicked task: record it against the first running step without an outcome.
                let id = (0..n)
                    .find(|&i| running[i] && outcomes[i].is_none())
                    .unwrap_or(0);
                (
                    id,
                    Err((format!("internal error: {e}"), false)),
                    Duration::ZERO,
                )
            }
        };
        running[id] = false;
        let step = &plan.operations[id];
        let change = &plan.resource_changes[step.change];
        let result = result.and_then(|(id_created, secret)| {
            if step.creates {
                // Not Stripe's refusal: the write succeeded, and what it returned was not kept.
                secrets
                    .created(step, change, secret)
                    .map_err(|why| (why, false))?;
            }
            Ok(id_created)
        });
        let outcome = match result {
            Ok(id_created) => {
                if let Some(new_id) = &id_created {
                    created.insert(id, new_id.clone());
                }
                Outcome::Done {
                    created: id_created,
                    elapsed,
                }
            }
            Err((error, permanent)) => Outcome::Failed { error, permanent },
        };
        progress.finished(step, change, &outcome);
        let failed = matches!(outcome, Outcome::Failed { .. });
        outcomes[id] = Some(outcome);
        if failed {
            block_dependents(&plan, id, &mut outcomes);
        }
    }
    let outcomes: Vec<(StepId, Outcome)> = plan
        .order
        .iter()
        .map(|&id| {
            // Without an interruption every step ends or is blocked: this is only for safety.
            let outcome = outcomes[id].clone().unwrap_or(if interrupted {
                Outcome::NotStarted
            } else {
                Outcome::NotAttempted { blocked_by: id }
            });
            (id, outcome)
        })
        .collect();
    // A signal during the last writes stopped nothing.
    let interrupted = interrupted
        && outcomes
            .iter()
            .any(|(_, outcome)| *outcome == Outcome::NotStarted);
    ApplyReport {
        outcomes,
        interrupted,
    }
}

/// Marks every operation that (transitively) depends on `failed` as not attempted.
fn block_dependents(plan: &PlanDocument, failed: StepId, outcomes: &mut [Option<Outcome>]) {
    let mut stack = vec![failed];
    while let Some(done) = stack.pop() {
        for step in &plan.operations {
            if step.depends_on.contains(&done) && outcomes[step.id].is_none() {
                outcomes[step.id] = Some(Outcome::NotAttempted { blocked_by: failed });
                stack.push(step.id);
            }
        }
    }
}
