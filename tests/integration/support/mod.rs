//! Helpers shared by the integration tests: a scratch directory and the `billing` command,
//! every object of a list endpoint, and random Dashboard-like accounts ([`accounts`]).

pub(crate) mod accounts;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
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

/// Every object of a list endpoint of `sandbox`, all pages (`path` may carry a query).
pub(crate) fn list_all(sandbox: &Sandbox, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut target = format!("{path}{sep}limit=100");
        if let Some(a) = &after {
            target.push_str(&format!("&starting_after={a}"));
        }
        let res = Req::get(&target).send(sandbox);
        assert_eq!(res.status, 200, "{}", res.body);
        let body = res.json();
        let data = body["data"].as_array().cloned().unwrap_or_default();
        after = data
            .last()
            .and_then(|o| o["id"].as_str())
            .map(str::to_owned);
        out.extend(data);
        if !body["has_more"].as_bool().unwrap_or(false) {
            return out;
        }
    }
}
