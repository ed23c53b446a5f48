//! Webhook signing secrets: Stripe returns one once, in the answer that creates an endpoint.
//! Apply hands it here at once; it is written to the entry's `secret_file` (mode 0600,
//! atomically) and piped to its `secret_command`, and is never printed, logged, or kept
//! anywhere else.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::catalog::Catalog;
use crate::document::Operation;
use crate::plan::Change;
use crate::resource::{Address, ResourceKind};

/// A signing secret, as Stripe returned it. Its `Debug` never shows it.
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(text: String) -> Self {
        Self(text)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Where apply puts the secrets of the endpoints it creates.
pub(crate) trait Secrets: Sync {
    /// `op` of `change` succeeded and created an object, whose answer carried `secret`. An
    /// error fails the operation (and what depends on it); its message never holds the secret.
    fn created(
        &self,
        op: &Operation,
        change: &Change,
        secret: Option<Secret>,
    ) -> Result<(), String>;
}

/// Writes each new endpoint's secret where its entry says, beside billing.toml.
pub(crate) struct SecretFiles<'a> {
    /// The directory of billing.toml.
    pub dir: PathBuf,
    pub catalog: &'a Catalog,
    /// The environment applied to.
    pub environment: &'a str,
}

/// The message of a secret that is lost: Stripe will not show it again.
fn lost(address: &str, why: &str) -> String {
    format!(
        "the signing secret of the new endpoint at {address} was not saved: {why}; Stripe shows a secret only once, so rotate it: `billing apply --replace {address}`"
    )
}

impl Secrets for SecretFiles<'_> {
    fn created(
        &self,
        op: &Operation,
        change: &Change,
        secret: Option<Secret>,
    ) -> Result<(), String> {
        if change.kind != ResourceKind::WebhookEndpoint {
            return Ok(());
        }
        let address = op.address.as_str();
        let entry = address
            .parse::<Address>()
            .ok()
            .and_then(|a| self.catalog.webhooks.get(a.key()))
            .ok_or_else(|| lost(address, "billing.toml no longer declares it"))?;
        let Some(Secret(secret)) = secret else {
            return Err(lost(address, "Stripe's answer held no secret"));
        };
        let path = self.dir.join(&entry.secret_file);
        // As the user knows it: relative to where billing runs when billing.toml is there.
        let shown = path.strip_prefix(".").unwrap_or(&path).display();
        write(&self.dir, &path, &secret)
            .map_err(|e| lost(address, &format!("cannot write {shown}: {e:#}")))?;
        if let Some(command) = &entry.secret_command {
            pipe(command, &secret, &self.dir, (&entry.key, self.environment)).map_err(|why| {
                format!(
                    "`secret_command` of {address} failed ({why}); the new signing secret is in {shown}"
                )
            })?;
        }
        Ok(())
    }
}

/// Writes `secret` to `path` (its directories made), 0600; under billing's own `.billing/`,
/// that directory is kept out of git first.
fn write(dir: &Path, path: &Path, secret: &str) -> anyhow::Result<()> {
    let billing = dir.join(".billing");
    if path.starts_with(&billing) {
        crate::files::create_dirs(&billing)?;
        crate::files::ignore_in_git(&billing);
    }
    crate::files::write_private(path, secret.as_bytes())
}

/// Runs `command` through `sh -c` in `dir`, the secret on its stdin, `BILLING_WEBHOOK` and
/// `BILLING_ENVIRONMENT` set; what it prints goes to stderr (stdout carries billing's data).
fn pipe(
    command: &str,
    secret: &str,
    dir: &Path,
    (key, environment): (&str, &str),
) -> Result<(), String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("BILLING_WEBHOOK", key)
        .env("BILLING_ENVIRONMENT", environment)
        .stdin(Stdio::piped())
        .stdout(Stdio::from(std::io::stderr()))
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run sh: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is its own business: its status says.
        let _ = stdin.write_all(secret.as_bytes());
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(status.to_string())
    }
}
