//! Reading a saved plan file: its format version, its MAC (when the environment's key is at
//! hand), the billing version it was made with, then its shape down to the idempotency keys.

use std::path::Path;

use super::seal::{self, MacError, PlanKey};
use super::{FORMAT_VERSION, PlanDocument, build::idempotency_key, placeholder};
use crate::files::{ReadError, read_capped};

/// Plan files larger than this are refused after reading that much: a plan that replaces
/// every price of a large catalog is a fraction of it.
pub(crate) const MAX_PLAN_FILE_BYTES: u64 = 128 << 20;

impl PlanDocument {
    /// The text of a plan file.
    pub(crate) fn read(path: &Path) -> Result<String, LoadError> {
        let failed = |error: String| LoadError::Read {
            path: path.display().to_string(),
            error,
        };
        let bytes = match read_capped(path, MAX_PLAN_FILE_BYTES) {
            Ok(bytes) => bytes,
            Err(ReadError::Io(e)) => return Err(failed(e.to_string())),
            Err(ReadError::TooLarge) => {
                return Err(failed(format!(
                    "a plan file may be at most {} MiB",
                    MAX_PLAN_FILE_BYTES >> 20
                )));
            }
        };
        String::from_utf8(bytes).map_err(|_| failed("it is not UTF-8 text".to_owned()))
    }

    /// Reads the text of a plan file, checking that this version of billing can read it, but
    /// not its MAC: for showing, never for applying. Errors name the file `path`.
    pub(crate) fn parse(path: &Path, text: &str) -> Result<Self, LoadError> {
        Self::from_json(path, json(path, text)?)
    }

    /// Reads the text of a plan file made for `environment` whose MAC must verify with that
    /// environment's `key`: what `billing apply` applies. A plan made for another environment
    /// is refused as that, whether or not the two share a key, so that the error names both.
    pub(crate) fn parse_for(
        path: &Path,
        text: &str,
        environment: &str,
        key: &PlanKey,
    ) -> Result<Self, LoadError> {
        // Read before the MAC is checked, only to say why the plan is refused: it would not
        // verify, or (with a shared key) would be refused as stale.
        let value = json(path, text)?;
        if let Some(made) = value.get("environment").and_then(serde_json::Value::as_str)
            && made != environment
        {
            return Err(LoadError::Elsewhere {
                path: path.display().to_string(),
                made: made.to_owned(),
                here: environment.to_owned(),
            });
        }
        Self::verified(path, value, key)
    }

    /// Reads the text of a plan file whose MAC must verify with `key` before anything else in
    /// it is looked at.
    pub(crate) fn parse_verified(
        path: &Path,
        text: &str,
        key: &PlanKey,
    ) -> Result<Self, LoadError> {
        Self::verified(path, json(path, text)?, key)
    }

    /// The document of a plan file's JSON whose MAC verifies with `key`.
    fn verified(path: &Path, value: serde_json::Value, key: &PlanKey) -> Result<Self, LoadError> {
        seal::verify(&value, key).map_err(|reason| LoadError::Unverified {
            path: path.display().to_string(),
            reason,
        })?;
        Self::from_json(path, value)
    }

    /// The document a plan file's JSON holds, when this billing made it and its parts fit.
    fn from_json(path: &Path, value: serde_json::Value) -> Result<Self, LoadError> {
        let doc: Self = serde_json::from_value(value).map_err(|e| LoadError::Invalid {
            path: path.display().to_string(),
            error: e.to_string(),
        })?;
        if doc.tool_version != env!("CARGO_PKG_VERSION") {
            return Err(LoadError::Tool {
                path: path.display().to_string(),
                found: doc.tool_version,
            });
        }
        doc.check_shape().map_err(|error| LoadError::Invalid {
            path: path.display().to_string(),
            error,
        })?;
        Ok(doc)
    }

    /// Internal consistency: every index points somewhere, every operation is ordered once and
    /// listed by its own change (only), every dependency comes earlier in the order.
    pub(super) fn check_shape(&self) -> Result<(), String> {
        let n = self.operations.len();
        let mut position = vec![usize::MAX; n];
        for (i, &op) in self.order.iter().enumerate() {
            if op >= n || position[op] != usize::MAX {
                return Err(format!(
                    "`order` names operation {op} twice or out of range"
                ));
            }
            position[op] = i;
        }
        if self.order.len() != n {
            return Err("`order` does not list every operation".to_owned());
        }
        for (i, change) in self.resource_changes.iter().enumerate() {
            if let Some(&step) = change
                .steps
                .iter()
                .find(|&&step| self.operations.get(step).is_none_or(|op| op.change != i))
            {
                return Err(format!(
                    "the change to {} lists operation {step}, which is not one of its own",
                    change.address
                ));
            }
        }
        for (i, op) in self.operations.iter().enumerate() {
            if op.id != i || op.change >= self.resource_changes.len() {
                return Err(format!("operation {i} is out of place"));
            }
            if !self.resource_changes[op.change].steps.contains(&i) {
                return Err(format!("operation {i} is not listed by its change"));
            }
            for &d in &op.depends_on {
                if d >= n || position[d] >= position[i] {
                    return Err(format!(
                        "operation {i} depends on operation {d}, which does not run before it"
                    ));
                }
            }
            for r in &op.references {
                let place = match r.field {
                    None => op.requests.get(r.request).map(|q| q.path.as_str()),
                    Some(f) => op
                        .requests
                        .get(r.request)
                        .and_then(|q| q.body.get(f))
                        .map(|(_, v)| v.as_str()),
                };
                let ok = place.is_some_and(|p| p.contains(&placeholder(r.operation)))
                    && r.operation < n
                    && self.operations[r.operation].creates
                    && op.depends_on.contains(&r.operation);
                if !ok {
                    return Err(format!(
                        "operation {i} refers to operation {} wrongly",
                        r.operation
                    ));
                }
            }
            // Every placeholder is a listed reference.
            for (index, q) in op.requests.iter().enumerate() {
                let places = std::iter::once((None, q.path.as_str())).chain(
                    q.body
                        .iter()
                        .enumerate()
                        .map(|(f, (_, v))| (Some(f), v.as_str())),
                );
                for (field, text) in places {
                    if text.contains("${operations.")
                        && !op
                            .references
                            .iter()
                            .any(|r| r.request == index && r.field == field)
                    {
                        return Err(format!("operation {i} has a reference that is not listed"));
                    }
                }
            }
            let change = &self.resource_changes[op.change];
            if op.idempotency_key
                != idempotency_key(
                    &self.namespace,
                    self.generation.as_deref(),
                    change,
                    op,
                    self.allow_destroy,
                )
            {
                return Err(format!(
                    "operation {i} ({} of {}) was edited after the plan was made",
                    op.description, op.address
                ));
            }
        }
        Ok(())
    }
}

/// A plan file's JSON, when it is JSON of the format version this billing reads.
fn json(path: &Path, text: &str) -> Result<serde_json::Value, LoadError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| LoadError::Invalid {
        path: path.display().to_string(),
        error: e.to_string(),
    })?;
    let version = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(FORMAT_VERSION)) {
        return Err(LoadError::Version {
            path: path.display().to_string(),
            found: version.map_or("none".to_owned(), |v| v.to_string()),
        });
    }
    Ok(value)
}

/// Why a plan file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LoadError {
    #[error("cannot read the plan file {path}: {error}")]
    Read { path: String, error: String },
    #[error("{path} is not a usable billing plan file: {error}")]
    Invalid { path: String, error: String },
    #[error(
        "{path} is a plan file of format version {found}; this billing reads version {FORMAT_VERSION}"
    )]
    Version { path: String, found: String },
    #[error("{path} was made by billing {found}; this is billing {}: make the plan again with this version", env!("CARGO_PKG_VERSION"))]
    Tool { path: String, found: String },
    #[error("{path} does not verify: {reason}")]
    Unverified { path: String, reason: MacError },
    #[error(
        "{path} was made for {}, not for {}",
        crate::catalog::called(made),
        crate::catalog::called(here)
    )]
    Elsewhere {
        path: String,
        /// The environment the plan records.
        made: String,
        /// The environment billing.toml and the flags select.
        here: String,
    },
}
