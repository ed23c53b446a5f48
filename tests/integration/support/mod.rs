//! Helpers shared by the integration tests: a scratch directory and the `billing` command,
//! every object of a list endpoint, and random Dashboard-like accounts ([`accounts`]).

pub(crate) mod accounts;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use sha2::{Digest, Sha256};
use stripe_sandbox::Sandbox;
use stripe_sandbox::test_support::Req;

/// A temporary directory holding a catalog, deleted when dropped.
pub(crate) struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    /// An empty scratch directory.
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    /// A scratch directory with `billing.toml` holding `catalog`.
    pub(crate) fn with_catalog(catalog: &str) -> Self {
        let dir = Self::new();
        dir.write("billing.toml", catalog);
        dir
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write a test file");
        path
    }

    /// The contents of a file in the directory.
    pub(crate) fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).expect("read a test file")
    }

    /// `billing` run in this directory, with no colour and no Stripe key from the outside.
    pub(crate) fn billing(&self) -> Command {
        let mut cmd = Command::cargo_bin("billing").expect("the billing binary is built");
        cmd.current_dir(self.path())
            .env_remove("STRIPE_SECRET_KEY")
            .env_remove("NO_COLOR");
        cmd
    }
}

/// The repository's own billing.toml.
pub(crate) fn repository_catalog() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/billing.toml"))
        .expect("the repository has a billing.toml")
}

/// A live-mode key for a sandbox standing in for a live account (built at run time: no
/// live-looking key literal in the repository).
pub(crate) fn live_key() -> String {
    format!("sk_live_{}", "supportTests0123456789")
}

/// The lists that hold every object of each kind that carries billing's marker: products,
/// prices (active and archived), coupons, promotion codes, tax rates, portal configurations,
/// webhook endpoints and (active) entitlement features.
pub(crate) const MARKED_LISTS: [&str; 9] = [
    "/v1/products",
    "/v1/prices?active=true",
    "/v1/prices?active=false",
    "/v1/coupons",
    "/v1/promotion_codes",
    "/v1/tax_rates",
    "/v1/billing_portal/configurations",
    "/v1/webhook_endpoints",
    "/v1/entitlements/features",
];

/// Every object of a list endpoint of `sandbox`, all pages (`path` may carry a query).
pub(crate) fn list_all(sandbox: &Sandbox, path: &str) -> Vec<Value> {
    list_all_as(sandbox, path, None)
}

/// [`list_all`] of a sandbox standing in for a live account.
pub(crate) fn list_all_live(sandbox: &Sandbox, path: &str) -> Vec<Value> {
    list_all_as(sandbox, path, Some(&live_key()))
}

/// Whether `object` is the product of an apply lease (`billing_lease_<namespace>`).
pub(crate) fn is_lease(object: &Value) -> bool {
    object["object"] == "product" && object["metadata"]["billing_lease"].is_string()
}

/// [`list_all`] with `key` instead of the sandbox tests' test key.
fn list_all_as(sandbox: &Sandbox, path: &str, key: Option<&str>) -> Vec<Value> {
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut target = format!("{path}{sep}limit=100");
        if let Some(a) = &after {
            target.push_str(&format!("&starting_after={a}"));
        }
        let mut req = Req::get(&target);
        if let Some(auth) = &auth {
            req = req.header("Authorization", Some(auth));
        }
        let res = req.send(sandbox);
        assert_eq!(res.status, 200, "{}", res.body);
        let body = res.json();
        let data = body["data"].as_array().cloned().unwrap_or_default();
        after = data
            .last()
            .and_then(|o| o["id"].as_str())
            .map(str::to_owned);
        // The apply lease is billing's bookkeeping, not an object of any catalog.
        out.extend(data.into_iter().filter(|o| !is_lease(o)));
        if !body["has_more"].as_bool().unwrap_or(false) {
            return out;
        }
    }
}

/// A plan file forged the way whoever can edit it could forge one before plan files carried a
/// MAC: `edit` applied to its JSON, then every operation's idempotency key recomputed as
/// billing computes it (everything a key covers is in the file), so that the forgery passes
/// every check of the file but the MAC.
pub(crate) fn forge(plan_file: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut doc: Value = serde_json::from_str(plan_file).expect("a plan file is JSON");
    edit(&mut doc);
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let (namespace, generation) = (text(&doc["namespace"]), text(&doc["generation"]));
    let allow_destroy = doc["allow_destroy"] == true;
    let changes = doc["resource_changes"].clone();
    for op in doc["operations"].as_array_mut().into_iter().flatten() {
        let change = &changes[op["change"].as_u64().expect("an operation's change") as usize];
        let mut hasher = Sha256::new();
        if change["destroy"] == true && allow_destroy {
            hasher.update(b"allow-destroy\0");
        }
        for part in [
            namespace.clone(),
            generation.clone(),
            text(&change["address"]),
            text(&op["description"]),
            text(&change["fingerprint"]),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        let id = usize::try_from(op["id"].as_u64().expect("an operation's id")).unwrap();
        hasher.update(id.to_le_bytes());
        for request in op["requests"].as_array().into_iter().flatten() {
            for part in [text(&request["method"]), text(&request["path"])] {
                hasher.update(part.as_bytes());
                hasher.update([0]);
            }
            let mut body = form_urlencoded::Serializer::new(String::new());
            for pair in request["body"].as_array().into_iter().flatten() {
                body.append_pair(&text(&pair[0]), &text(&pair[1]));
            }
            hasher.update(body.finish().as_bytes());
            hasher.update([0]);
        }
        let hex: String = hasher.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        op["idempotency_key"] = Value::String(format!("billing-{hex}"));
    }
    let mut forged = serde_json::to_string_pretty(&doc).expect("JSON");
    forged.push('\n');
    forged
}
