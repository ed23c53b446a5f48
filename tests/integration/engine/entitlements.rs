//! Entitlement features through the sandbox: created with the products they are attached to
//! (the attachment naming the new feature), renamed in place, replaced on a new lookup key,
//! archived when removed, attachments added and removed, adoption by lookup key and by id, and
//! an import that plans nothing, and which products' attachments a plan reads (those that
//! declare `entitlements` or carry the features marker).

use serde_json::Value;
use stripe_sandbox::Sandbox;
use stripe_sandbox::test_support::{Req, start};

use super::{KEY, Run, billing_with_keys};
use crate::support::{Workdir, list_all};

const CATALOG: &str = r#"
[entitlements.sso]
name = "Single sign-on"

[entitlements.audit]
name = "Audit log"
lookup_key = "audit_log"

[products.starter]
name = "Starter"
entitlements = ["sso"]

[products.pro]
name = "Pro"
entitlements = ["sso", "audit"]
"#;

/// What a plan says when it changes the features of an existing product.
const NEXT_PERIOD: &str =
    "existing subscriptions see a change of the product's features at their next billing period";

fn catalog(sandbox: &Sandbox, entries: &str) -> String {
    format!(
        "[environments.test]\nmode = \"test\"\napi_base = \"{}\"\nsecret_key_env = \"ENTS_KEY\"\n{entries}",
        sandbox.base_url()
    )
}

fn billing(dir: &Workdir, args: &[&str]) -> Run {
    billing_with_keys(dir, args, &[("ENTS_KEY", KEY)])
}

#[track_caller]
fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

fn no_changes(dir: &Workdir) {
    let plan = billing(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
}

/// Every feature, active and archived, as `(lookup_key, name, active)`, sorted.
fn features(sandbox: &Sandbox) -> Vec<(String, String, bool)> {
    let mut all: Vec<Value> = list_all(sandbox, "/v1/entitlements/features");
    all.extend(list_all(sandbox, "/v1/entitlements/features?archived=true"));
    let mut out: Vec<(String, String, bool)> = all
        .iter()
        .map(|f| {
            (
                f["lookup_key"].as_str().unwrap_or_default().to_owned(),
                f["name"].as_str().unwrap_or_default().to_owned(),
                f["active"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The id of the product billing manages at `products.<key>`.
fn product_id(sandbox: &Sandbox, key: &str) -> String {
    list_all(sandbox, "/v1/products")
        .iter()
        .find(|p| p["metadata"]["billing_key"] == format!("products.{key}").as_str())
        .and_then(|p| p["id"].as_str())
        .unwrap_or_else(|| panic!("no product at products.{key}"))
        .to_owned()
}

/// The lookup keys of the features attached to `products.<key>`, sorted.
fn attached(sandbox: &Sandbox, key: &str) -> Vec<String> {
    let id = product_id(sandbox, key);
    let mut keys: Vec<String> = list_all(sandbox, &format!("/v1/products/{id}/features"))
        .iter()
        .map(|a| {
            a["entitlement_feature"]["lookup_key"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    keys.sort();
    keys
}

fn feature(lookup_key: &str, name: &str, active: bool) -> (String, String, bool) {
    (lookup_key.to_owned(), name.to_owned(), active)
}

#[test]
fn features_are_created_and_attached_in_one_apply_then_plan_nothing() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, CATALOG));
    let plan = billing(&dir, &["plan"]);
    ok(&plan);
    assert!(plan.stdout.contains("entitlements"), "{}", plan.stdout);
    // New products have no subscriptions to tell about.
    assert!(!plan.stdout.contains(NEXT_PERIOD), "{}", plan.stdout);
    ok(&billing(&dir, &["apply", "--yes"]));
    assert_eq!(
        features(&sandbox),
        [
            feature("audit_log", "Audit log", true),
            feature("sso", "Single sign-on", true)
        ]
    );
    assert_eq!(attached(&sandbox, "starter"), ["sso"]);
    assert_eq!(attached(&sandbox, "pro"), ["audit_log", "sso"]);
    no_changes(&dir);

    let out = billing(&dir, &["output", "--format", "env"]);
    ok(&out);
    assert!(
        out.stdout.contains("BILLING_ENTITLEMENT_SSO=feat_"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("BILLING_ENTITLEMENT_AUDIT__LOOKUP_KEY=audit_log"),
        "{}",
        out.stdout
    );
    let json = billing(&dir, &["output", "--format", "json"]);
    ok(&json);
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["entitlements"]["sso"]["lookup_key"], "sso");
    assert!(
        json["entitlements"]["sso"]["id"]
            .as_str()
            .unwrap()
            .starts_with("feat_")
    );
}

#[test]
fn a_rename_is_in_place_a_new_lookup_key_replaces_and_removal_archives() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, CATALOG));
    ok(&billing(&dir, &["apply", "--yes"]));
    let renamed = CATALOG.replace("Single sign-on", "SSO (SAML)");
    dir.write("billing.toml", catalog(&sandbox, &renamed));
    ok(&billing(&dir, &["apply", "--yes"]));
    assert_eq!(
        features(&sandbox),
        [
            feature("audit_log", "Audit log", true),
            feature("sso", "SSO (SAML)", true)
        ]
    );
    no_changes(&dir);

    // A new lookup key: a new feature, attached where the old one was, which is archived.
    let rekeyed = renamed.replace("lookup_key = \"audit_log\"", "lookup_key = \"audit_trail\"");
    dir.write("billing.toml", catalog(&sandbox, &rekeyed));
    let plan = billing(&dir, &["plan"]);
    ok(&plan);
    assert!(plan.stdout.contains("lookup_key"), "{}", plan.stdout);
    ok(&billing(&dir, &["apply", "--yes"]));
    assert_eq!(
        features(&sandbox),
        [
            feature("audit_log", "Audit log", false),
            feature("audit_trail", "Audit log", true),
            feature("sso", "SSO (SAML)", true)
        ]
    );
    assert_eq!(attached(&sandbox, "pro"), ["audit_trail", "sso"]);
    no_changes(&dir);

    // Removed from billing.toml (and from the product): detached and archived.
    let removed = rekeyed
        .replace(
            "[entitlements.audit]\nname = \"Audit log\"\nlookup_key = \"audit_trail\"\n",
            "",
        )
        .replace("[\"sso\", \"audit\"]", "[\"sso\"]");
    dir.write("billing.toml", catalog(&sandbox, &removed));
    ok(&billing(&dir, &["apply", "--yes"]));
    assert_eq!(
        features(&sandbox),
        [
            feature("audit_log", "Audit log", false),
            feature("audit_trail", "Audit log", false),
            feature("sso", "SSO (SAML)", true)
        ]
    );
    assert_eq!(attached(&sandbox, "pro"), ["sso"]);
    no_changes(&dir);
}

#[test]
fn attachments_are_added_and_removed_with_the_list() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, CATALOG));
    ok(&billing(&dir, &["apply", "--yes"]));
    let swapped = CATALOG
        .replace("entitlements = [\"sso\"]\n", "entitlements = [\"audit\"]\n")
        .replace("[\"sso\", \"audit\"]", "[]");
    dir.write("billing.toml", catalog(&sandbox, &swapped));
    let plan = billing(&dir, &["plan"]);
    ok(&plan);
    assert!(plan.stdout.contains("entitlements"), "{}", plan.stdout);
    assert!(plan.stdout.contains(NEXT_PERIOD), "{}", plan.stdout);
    ok(&billing(&dir, &["apply", "--yes"]));
    assert_eq!(attached(&sandbox, "starter"), ["audit_log"]);
    assert!(attached(&sandbox, "pro").is_empty());
    // Features no product lists stay: only leaving billing.toml archives them.
    assert_eq!(features(&sandbox).len(), 2);
    no_changes(&dir);
    // And back again: attached anew, no replay of the first attachments.
    dir.write("billing.toml", catalog(&sandbox, CATALOG));
    ok(&billing(&dir, &["apply", "--yes"]));
    assert_eq!(attached(&sandbox, "starter"), ["sso"]);
    assert_eq!(attached(&sandbox, "pro"), ["audit_log", "sso"]);
    no_changes(&dir);
}

#[test]
fn features_are_adopted_by_a_written_lookup_key_or_by_id_and_a_bare_key_conflicts() {
    let sandbox = start();
    let make = |body: &str| {
        let res = Req::post("/v1/entitlements/features", body).send(&sandbox);
        assert_eq!(res.status, 200, "{}", res.body);
        res.json()["id"].as_str().unwrap().to_owned()
    };
    let sso = make("lookup_key=sso&name=SSO");
    let audit = make("lookup_key=audit_log&name=Audit");
    // The key alone does not adopt: the plan refuses instead of failing at apply.
    let dir = Workdir::with_catalog(&catalog(&sandbox, CATALOG));
    let plan = billing(&dir, &["plan"]);
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr.contains("lookup_key = \"sso\""),
        "{}",
        plan.stderr
    );

    let adopting = CATALOG.replace(
        "[entitlements.sso]\n",
        &format!("[entitlements.sso]\nid = \"{sso}\"\n"),
    );
    dir.write("billing.toml", catalog(&sandbox, &adopting));
    ok(&billing(&dir, &["apply", "--yes"]));
    let all = list_all(&sandbox, "/v1/entitlements/features");
    let mut ids: Vec<&str> = all.iter().map(|f| f["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    let mut expected = [sso.as_str(), audit.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected, "both adopted, none created");
    assert_eq!(
        features(&sandbox)[1],
        feature("sso", "Single sign-on", true)
    );
    assert_eq!(attached(&sandbox, "pro"), ["audit_log", "sso"]);
    no_changes(&dir);
}

#[test]
fn an_import_writes_features_and_attachments_and_plans_nothing() {
    let sandbox = start();
    let make = |path: &str, body: &str| {
        let res = Req::post(path, body).send(&sandbox);
        assert_eq!(res.status, 200, "{}", res.body);
        res.json()["id"].as_str().unwrap().to_owned()
    };
    let sso = make("/v1/entitlements/features", "lookup_key=sso&name=SSO");
    make(
        "/v1/entitlements/features",
        "lookup_key=audit_log&name=Audit",
    );
    let pro = make("/v1/products", "name=Pro");
    make(
        &format!("/v1/products/{pro}/features"),
        &format!("entitlement_feature={sso}"),
    );
    let dir = Workdir::with_catalog(&catalog(&sandbox, ""));
    let imported = billing(&dir, &["import", "--out", "imported.toml"]);
    ok(&imported);
    let text = dir.read("imported.toml");
    assert!(text.contains("[entitlements.sso]"), "{text}");
    assert!(text.contains("lookup_key = \"audit_log\""), "{text}");
    assert!(text.contains("entitlements = [\"sso\"]"), "{text}");
    dir.write("billing.toml", &text);
    ok(&billing(&dir, &["apply", "--yes"]));
    assert_eq!(
        features(&sandbox),
        [
            feature("audit_log", "Audit", true),
            feature("sso", "SSO", true)
        ]
    );
    assert_eq!(attached(&sandbox, "pro"), ["sso"]);
    no_changes(&dir);
}

#[test]
fn a_saved_plan_is_stale_once_a_products_features_change_in_the_dashboard() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, CATALOG));
    ok(&billing(&dir, &["apply", "--yes"]));
    // A plan that renames a feature, saved for review.
    dir.write(
        "billing.toml",
        catalog(&sandbox, &CATALOG.replace("Audit log", "Audit trail")),
    );
    let planned = billing(&dir, &["plan", "--out", "plan.json"]);
    assert!(planned.code == 0 || planned.code == 2, "{}", planned.stderr);
    // Meanwhile, someone detaches a feature from Pro in the Dashboard.
    let pro = product_id(&sandbox, "pro");
    let attachment = list_all(&sandbox, &format!("/v1/products/{pro}/features"))[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = Req::delete(&format!("/v1/products/{pro}/features/{attachment}")).send(&sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    // The saved plan no longer describes the account: refused, naming what changed.
    let refused = billing(&dir, &["apply", "plan.json"]);
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused
            .stderr
            .contains(&format!("products.pro (product {attachment}) disappeared")),
        "{}",
        refused.stderr
    );
}

/// The products whose attachments a request of the log read (`GET /v1/products/{id}/features`).
fn attachment_reads(sandbox: &Sandbox) -> Vec<String> {
    let mut read: Vec<String> = sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/features"))
        .filter_map(|r| r.path.strip_prefix("/v1/products/"))
        .map(|p| p.trim_end_matches("/features").to_owned())
        .collect();
    read.sort();
    read
}

#[test]
fn a_plan_reads_the_attachments_of_only_the_products_that_declare_entitlements() {
    let sandbox = start();
    // Twelve managed products; three of them declare features.
    let mut entries = String::from("[entitlements.sso]\nname = \"Single sign-on\"\n");
    for i in 0..12 {
        entries.push_str(&format!("\n[products.p{i}]\nname = \"Product {i}\"\n"));
        if i % 4 == 0 {
            entries.push_str("entitlements = [\"sso\"]\n");
        }
    }
    let dir = Workdir::with_catalog(&catalog(&sandbox, &entries));
    ok(&billing(&dir, &["apply", "--yes"]));
    // A feature attached in the Dashboard to a product that declares none: not read.
    let p1 = product_id(&sandbox, "p1");
    let sso = list_all(&sandbox, "/v1/entitlements/features")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = Req::post(
        &format!("/v1/products/{p1}/features"),
        &format!("entitlement_feature={sso}"),
    )
    .send(&sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    sandbox.clear_requests();
    no_changes(&dir);
    let mut expected: Vec<String> = ["p0", "p4", "p8"]
        .iter()
        .map(|k| product_id(&sandbox, k))
        .collect();
    expected.sort();
    assert_eq!(attachment_reads(&sandbox), expected);
}

#[test]
fn the_features_marker_comes_with_the_first_attachment_and_goes_with_the_last() {
    let sandbox = start();
    let marker = |key: &str| {
        let id = product_id(&sandbox, key);
        list_all(&sandbox, "/v1/products")
            .into_iter()
            .find(|p| p["id"] == id.as_str())
            .map(|p| p["metadata"]["billing_features"].clone())
            .unwrap()
    };
    let bare = "[entitlements.sso]\nname = \"Single sign-on\"\n\n[products.pro]\nname = \"Pro\"\n";
    let dir = Workdir::with_catalog(&catalog(&sandbox, bare));
    ok(&billing(&dir, &["apply", "--yes"]));
    assert_eq!(marker("pro"), Value::Null);
    // Attached: the marker is set by the product's own update.
    let with = bare.replace(
        "name = \"Pro\"\n",
        "name = \"Pro\"\nentitlements = [\"sso\"]\n",
    );
    dir.write("billing.toml", catalog(&sandbox, &with));
    ok(&billing(&dir, &["apply", "--yes"]));
    assert_eq!(attached(&sandbox, "pro"), ["sso"]);
    assert_eq!(marker("pro"), "attached");
    no_changes(&dir);
    // The `entitlements` key removed: the marker says to read the product, so its feature is
    // detached, and then the marker goes.
    dir.write("billing.toml", catalog(&sandbox, bare));
    let plan = billing(&dir, &["plan"]);
    ok(&plan);
    assert!(plan.stdout.contains("billing_features"), "{}", plan.stdout);
    ok(&billing(&dir, &["apply", "--yes"]));
    assert!(attached(&sandbox, "pro").is_empty());
    assert_eq!(marker("pro"), Value::Null);
    sandbox.clear_requests();
    no_changes(&dir);
    assert!(attachment_reads(&sandbox).is_empty());
}
