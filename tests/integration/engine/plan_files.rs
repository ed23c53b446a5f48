//! Plans as artifacts through the binary: `plan --out`, `apply PLAN` and its stale-plan
//! refusals, `show`, the three formats, and `apply --format json`.

use serde_json::{Value, json};
use stripe_sandbox::test_support::{Req, start};

use super::{Env, KEY, PRO, Run, assert_apply_unverified, assert_shown_unverified};
use crate::support::forge;

fn plan_out(env: &Env) -> Run {
    let run = env.billing(&["plan", "--out", "plan.json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    run
}

/// `billing apply plan.json`, which must succeed.
fn apply_saved(env: &Env) -> Run {
    let run = env.billing(&["apply", "plan.json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    run
}

fn doc(env: &Env) -> Value {
    serde_json::from_str(&env.dir.read("plan.json")).expect("the plan file is JSON")
}

/// `(method, path, idempotency key)` of every write the sandbox answered.
fn writes(env: &Env) -> Vec<(String, String, String)> {
    env.requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| (r.method, r.path, r.idempotency_key.unwrap_or_default()))
        .collect()
}

fn refused(run: &Run, why: &str) {
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("refusing to apply plan.json: it is stale"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(why),
        "expected {why:?} in:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("nothing was sent to Stripe"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_saved_plan_applies_exactly_its_operations_and_only_once() {
    let env = Env::new(PRO);
    let run = plan_out(&env);
    assert!(run.has("Plan: 3 to create"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("`billing apply plan.json` applies exactly this plan"),
        "{}",
        run.stderr
    );
    let saved = doc(&env);
    assert!(
        !env.dir.read("plan.json").contains(KEY),
        "no secret in the file"
    );

    env.sandbox.clear_requests();
    let apply = env.billing(&["apply", "plan.json"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.has("Apply complete: 3 created, 0 updated, 0 replaced, 0 archived."),
        "{}",
        apply.stdout
    );

    // Exactly the document's requests, each with the key it recorded.
    let mut expected: Vec<(String, String, String)> = Vec::new();
    for op in saved["operations"].as_array().unwrap() {
        let key = op["idempotency_key"].as_str().unwrap();
        for (i, request) in op["requests"].as_array().unwrap().iter().enumerate() {
            let key = if i == 0 {
                key.to_owned()
            } else {
                format!("{key}-{i}")
            };
            let path = request["path"].as_str().unwrap();
            // Resolved references: compare up to the created id.
            let path = path.split("${").next().unwrap().to_owned();
            expected.push((request["method"].as_str().unwrap().to_owned(), path, key));
        }
    }
    let mut actual: Vec<(String, String, String)> = writes(&env)
        .into_iter()
        .map(|(m, p, k)| {
            let p = p.strip_prefix("/v1").unwrap_or(&p).to_owned();
            let p = expected
                .iter()
                .find(|(_, e, key)| *key == k && p.starts_with(e.as_str()))
                .map_or(p, |(_, e, _)| e.clone());
            (m, p, k)
        })
        .collect();
    expected.sort();
    actual.sort();
    assert_eq!(actual, expected);
    let plan = env.plan();
    assert_eq!(plan.code, 0, "converged:\n{}", plan.stdout);

    // The same file again: the account is no longer the empty one it was planned against.
    env.sandbox.clear_requests();
    let again = env.billing(&["apply", "plan.json"]);
    refused(&again, "products.pro (product prod_");
    assert!(again.stderr.contains(") appeared"), "{}", again.stderr);
    assert!(
        writes(&env).is_empty(),
        "nothing is sent: {:?}",
        writes(&env)
    );
}

#[test]
fn a_plan_is_refused_when_a_managed_object_changed_or_disappeared() {
    let env = Env::new(&format!(
        "{PRO}\n[coupons.launch]\npercent_off = 20\nduration = \"once\"\n"
    ));
    env.converge();
    env.set_catalog(&format!(
        "{}\n[coupons.launch]\npercent_off = 20\nduration = \"once\"\n",
        PRO.replace("name = \"Pro\"", "name = \"Pro plan\"")
    ));
    plan_out(&env);

    // Someone edits the product in the Dashboard.
    let product = env.id("products.pro");
    let res = Req::post(&format!("/v1/products/{product}"), "description=Edited")
        .idempotency_key("dashboard-1")
        .send(&env.sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    env.sandbox.clear_requests();
    refused(
        &env.billing(&["apply", "plan.json"]),
        &format!("products.pro (product {product}) changed"),
    );
    assert!(writes(&env).is_empty());

    // A fresh plan sees the edit; then the coupon is deleted behind its back.
    plan_out(&env);
    let coupon = env.id("coupons.launch");
    let res = Req::delete(&format!("/v1/coupons/{coupon}")).send(&env.sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    refused(
        &env.billing(&["apply", "plan.json"]),
        &format!("coupons.launch (coupon {coupon}) disappeared"),
    );
}

#[test]
fn a_plan_is_refused_when_billing_toml_changed() {
    let env = Env::new(PRO);
    plan_out(&env);
    // A comment is not a change...
    env.set_catalog(&format!("# reviewed\n{PRO}"));
    // ...but an amount is.
    env.set_catalog(&PRO.replace("79.00", "89.00"));
    env.sandbox.clear_requests();
    refused(
        &env.billing(&["apply", "plan.json"]),
        "billing.toml changed since the plan was made",
    );
    assert!(writes(&env).is_empty());
    env.set_catalog(&format!("# reviewed\n{PRO}"));
    let run = env.billing(&["apply", "plan.json"]);
    assert_eq!(run.code, 0, "formatting does not count:\n{}", run.stderr);
}

#[test]
fn a_plan_made_on_another_account_is_refused() {
    let env = Env::new(PRO);
    plan_out(&env);
    let other = start();
    let run = env
        .dir
        .billing()
        .args(["apply", "plan.json", "--api-base"])
        .arg(other.base_url())
        .env("STRIPE_SECRET_KEY", KEY)
        .output()
        .unwrap();
    let run: Run = run.into();
    // Without environments, the account --api-base names is the environment: the plan names
    // its own, and how to apply it there.
    let (made, here) = (env.sandbox.base_url(), other.base_url());
    let (made, here) = (made.trim_end_matches('/'), here.trim_end_matches('/'));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "refusing to apply plan.json: it was made for --api-base {made}, and this run is for --api-base {here}"
        )) && run.stderr.contains(&format!(
            "nothing was sent to Stripe; apply it in its own environment: `billing apply plan.json --api-base {made}`"
        )),
        "{}",
        run.stderr
    );
    assert!(
        other.requests().is_empty(),
        "not even a read of the other account"
    );
}

#[test]
fn show_prints_a_saved_plan_in_every_format_the_same_every_time() {
    let env = Env::new(PRO);
    let text = plan_out(&env);
    // `show` needs no network: the sandbox is not involved.
    let show = |format: &str| -> Run {
        env.dir
            .billing()
            .args(["show", "plan.json", "--format", format])
            .env_remove("STRIPE_SECRET_KEY")
            .output()
            .unwrap()
            .into()
    };
    let shown = show("text");
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert_eq!(shown.stdout, text.stdout, "show prints what plan printed");
    // Without the environment's key, it cannot be checked, and says so.
    assert!(
        shown.stderr.contains(
            "warning: plan.json is unverified: it was made for --api-base http://127.0.0.1:"
        ) && shown
            .stderr
            .contains("and billing.toml and the flags select environment `sandbox`"),
        "{}",
        shown.stderr
    );
    // With it, it verifies.
    let verified = env.billing(&["show", "plan.json"]);
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    assert_eq!(verified.stdout, text.stdout);
    assert!(
        verified
            .stderr
            .starts_with("note: plan.json verifies with the key of --api-base http://127.0.0.1:",)
            && !verified.stderr.contains("unverified"),
        "{}",
        verified.stderr
    );
    let md = show("markdown");
    assert!(
        md.stdout.starts_with("<!-- billing-plan -->\n"),
        "{}",
        md.stdout
    );
    assert_eq!(show("markdown").stdout, md.stdout);
    let json = show("json");
    assert_eq!(json.stdout, env.dir.read("plan.json"));
    // A fresh plan of the same state is byte-identical.
    let again = env.billing(&["plan", "--format", "json"]);
    assert_eq!(again.stdout, json.stdout);

    // Not a plan file.
    env.dir.write("plan.json", "{\"format_version\": 99}");
    let bad = show("text");
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains(
            "plan.json is a plan file of format version 99; this billing reads version 2"
        ),
        "{}",
        bad.stderr
    );
}

#[test]
fn apply_json_streams_one_event_per_line() {
    let env = Env::new(PRO);
    let run = env.billing(&["apply", "--yes", "--format", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let events: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"plan"));
    assert_eq!(kinds[kinds.len() - 2..], ["summary", "outputs"]);
    assert_eq!(kinds.iter().filter(|k| **k == "started").count(), 4);
    assert_eq!(kinds.iter().filter(|k| **k == "completed").count(), 4);
    let summary = &events[events.len() - 2];
    assert_eq!(summary["succeeded"], true);
    assert_eq!(summary["done"], 4);
    let outputs = &events[events.len() - 1]["objects"];
    assert_eq!(
        outputs["prices.pro.monthly"],
        env.current("prices.pro.monthly")["id"]
    );
    assert_eq!(outputs["products.pro"], env.current("products.pro")["id"]);
}

/// The JSON format, mirrored field by field: a field added or renamed without updating
/// docs/plan-json.md (and this mirror) fails here.
mod contract {
    #![allow(dead_code)]

    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::Value;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Document {
        pub format_version: u32,
        pub tool_version: String,
        pub environment: String,
        pub account: String,
        pub mode: String,
        pub namespace: String,
        pub catalog_hash: String,
        pub allow_destroy: bool,
        pub refusals: Vec<Refusal>,
        pub generation: Option<String>,
        pub summary: Summary,
        pub resource_changes: Vec<ResourceChange>,
        pub operations: Vec<Operation>,
        pub order: Vec<usize>,
        pub notices: Vec<String>,
        pub warnings: Vec<String>,
        pub unmanaged: Counts,
        pub foreign: Counts,
        pub read: Vec<ReadObject>,
        pub mac: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, tag = "reason", rename_all = "snake_case")]
    pub(super) enum Refusal {
        Live { addresses: Vec<String> },
        Unmanaged { items: Vec<String> },
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Summary {
        pub adopt: usize,
        #[serde(rename = "move")]
        pub moved: usize,
        pub forget: usize,
        pub create: usize,
        pub update: usize,
        pub replace: usize,
        pub archive: usize,
        pub delete: usize,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Counts {
        pub products: usize,
        pub prices: usize,
        pub coupons: usize,
        pub promotion_codes: usize,
        pub tax_rates: usize,
        pub portals: usize,
        pub webhooks: usize,
        pub entitlements: usize,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct ResourceChange {
        pub address: String,
        pub kind: String,
        pub action: String,
        pub actions: Vec<String>,
        pub id: Option<String>,
        pub title: String,
        pub before: BTreeMap<String, Value>,
        pub after: BTreeMap<String, Value>,
        pub replace_paths: Vec<String>,
        pub fields: Vec<Field>,
        pub reason: Option<String>,
        pub notes: Vec<String>,
        pub destroy: bool,
        pub blockers: Vec<String>,
        pub fingerprint: String,
        pub operations: Vec<usize>,
        #[serde(default)]
        pub adopts: Option<Adoption>,
        #[serde(default)]
        pub previous_address: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Adoption {
        pub id: String,
        pub by: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Field {
        pub field: String,
        pub before: TypedValue,
        pub after: TypedValue,
        pub forces_replacement: bool,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct TypedValue {
        #[serde(rename = "type")]
        pub kind: String,
        pub value: Option<Value>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Operation {
        pub id: usize,
        pub change: usize,
        pub address: String,
        pub description: String,
        pub depends_on: Vec<usize>,
        pub creates: bool,
        pub idempotency_key: String,
        pub requests: Vec<Request>,
        pub references: Vec<Reference>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Request {
        pub method: String,
        pub path: String,
        pub body: Vec<(String, String)>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Reference {
        pub request: usize,
        pub field: Option<usize>,
        pub operation: usize,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct ReadObject {
        pub kind: String,
        pub id: String,
        pub address: Option<String>,
        pub digest: String,
    }
}

#[test]
fn adoptions_and_moves_are_documented_in_the_json_format() {
    let env = Env::new("[coupons.launch]\npercent_off = 20\nduration = \"once\"\n");
    env.converge();
    Req::post("/v1/products", "name=Legacy&id=prod_legacy")
        .send(&env.sandbox)
        .json();
    env.set_catalog(
        "[coupons.launch_2026]\nmoved_from = \"launch\"\npercent_off = 20\nduration = \"once\"\n\n[products.legacy]\nid = \"prod_legacy\"\nname = \"Legacy\"\n",
    );
    let run = env.billing(&["plan", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: contract::Document = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("the JSON does not match docs/plan-json.md: {e}"));
    assert_eq!((doc.summary.adopt, doc.summary.moved), (1, 1));
    let adopted = &doc.resource_changes[0];
    assert_eq!(
        (adopted.address.as_str(), adopted.action.as_str()),
        ("products.legacy", "adopt")
    );
    assert_eq!(adopted.actions, ["update"]);
    let adoption = adopted.adopts.as_ref().expect("what it adopts");
    assert_eq!(
        (adoption.id.as_str(), adoption.by.as_str()),
        ("prod_legacy", "id prod_legacy")
    );
    let moved = &doc.resource_changes[1];
    assert_eq!(
        (moved.address.as_str(), moved.action.as_str()),
        ("coupons.launch_2026", "move")
    );
    assert_eq!(moved.previous_address.as_deref(), Some("coupons.launch"));
    assert!(
        doc.read
            .iter()
            .any(|o| o.id == "prod_legacy" && o.address.as_deref() == Some("products.legacy"))
    );
}

#[test]
fn the_json_format_matches_its_documented_contract() {
    let env = Env::new(&format!(
        "{PRO}\n[coupons.launch]\npercent_off = 20\nduration = \"once\"\n[promotion_codes.LAUNCH]\ncoupon = \"launch\"\n"
    ));
    env.converge();
    // A replacement, an update, an archive and a deletion in one plan.
    env.set_catalog(
        &PRO.replace("79.00", "89.00")
            .replace("name = \"Pro\"", "name = \"Pro plan\"")
            .replace(
                "[products.pro.prices.annual]\namount = \"790.00\"\ncurrency = \"usd\"\ninterval = \"year\"\n",
                "",
            ),
    );
    let run = env.billing(&["plan", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: contract::Document = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("the JSON does not match docs/plan-json.md: {e}"));
    assert_eq!(doc.format_version, 2);
    assert_eq!(doc.mode, "test");
    assert!(
        doc.mac.starts_with("hmac-sha256:") && doc.mac.len() == "hmac-sha256:".len() + 64,
        "{}",
        doc.mac
    );
    assert!(doc.catalog_hash.starts_with("sha256:"));
    let by_address = |a: &str| {
        doc.resource_changes
            .iter()
            .find(|c| c.address == a)
            .unwrap_or_else(|| panic!("no change at {a}"))
    };
    let replaced = by_address("prices.pro.monthly");
    assert_eq!(replaced.actions, ["create", "delete"]);
    assert_eq!(replaced.replace_paths, ["unit_amount"]);
    assert_eq!(replaced.before["unit_amount"], "$79.00");
    assert_eq!(replaced.after["unit_amount"], "$89.00");
    assert_eq!(by_address("prices.pro.annual").actions, ["delete"]);
    assert!(by_address("prices.pro.annual").destroy);
    assert_eq!(by_address("coupons.launch").action, "delete");
    assert_eq!(by_address("products.pro").actions, ["update"]);
    // Every operation is ordered, and its dependencies come first.
    let position = |id: usize| doc.order.iter().position(|&o| o == id).unwrap();
    for op in &doc.operations {
        assert_eq!(doc.resource_changes[op.change].address, op.address);
        for &d in &op.depends_on {
            assert!(position(d) < position(op.id));
        }
        for r in &op.references {
            assert!(op.depends_on.contains(&r.operation));
        }
    }
    // The new price's id reaches the product's default_price through a reference.
    let default = doc
        .operations
        .iter()
        .find(|o| o.description.contains("default_price"))
        .expect("a default_price move");
    assert!(
        default.requests[0]
            .body
            .iter()
            .any(|(k, v)| k == "default_price" && v.starts_with("${operations."))
    );
    assert!(
        doc.read
            .iter()
            .any(|o| o.kind == "price" && o.id.starts_with("price_"))
    );
}

#[test]
fn each_format_snapshot() {
    let env = Env::new(PRO);
    env.converge();
    env.set_catalog(&PRO.replace("79.00", "89.00"));
    let filters = vec![
        (r"price_[A-Za-z0-9]{8,}", "[PRICE_ID]"),
        (r"prod_[A-Za-z0-9]{8,}", "[PRODUCT_ID]"),
        (r"acct_[A-Za-z0-9]+", "[ACCOUNT]"),
        (r"evt_[A-Za-z0-9]+", "[EVENT]"),
        (r"http://127\.0\.0\.1:\d+", "[SANDBOX]"),
        (r"billing-[0-9a-f]{32}", "[IDEMPOTENCY_KEY]"),
        (
            r#""(digest|fingerprint)": "[0-9a-f]+""#,
            r#""$1": "[DIGEST]""#,
        ),
        (r"hmac-sha256:[0-9a-f]{64}", "hmac-sha256:[MAC]"),
        (r"sha256:[0-9a-f]{64}", "sha256:[HASH]"),
        (
            r#""tool_version": "[^"]+""#,
            r#""tool_version": "[VERSION]""#,
        ),
    ];
    for format in ["text", "markdown", "json"] {
        let run = env.billing(&["plan", "--format", format]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        insta::with_settings!({
            filters => filters.clone(),
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!(format!("plan_format_{format}"), run.stdout);
        });
    }
}

#[test]
fn a_plan_is_refused_when_an_unmanaged_object_gets_in_its_way() {
    let env = Env::new(PRO);
    env.converge();
    // A new price whose lookup key someone takes by hand after the plan was made.
    env.set_catalog(&format!(
        "{PRO}\n[products.pro.prices.biz]\namount = \"99.00\"\ncurrency = \"usd\"\ninterval = \"month\"\nlookup_key = \"pro_biz\"\n"
    ));
    plan_out(&env);
    let product = env.id("products.pro");
    let res = Req::post(
        "/v1/prices",
        &format!("product={product}&unit_amount=100&currency=usd&lookup_key=pro_biz"),
    )
    .idempotency_key("by-hand")
    .send(&env.sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    env.sandbox.clear_requests();
    let run = env.billing(&["apply", "plan.json"]);
    // A plan made now adopts that price instead of creating one.
    refused(&run, "prices.pro.biz (price ");
    assert!(run.stderr.contains(") appeared"), "{}", run.stderr);
    assert!(writes(&env).is_empty());
}

#[test]
fn a_plan_is_refused_when_its_deletion_would_now_break_an_unmanaged_code() {
    let coupon = "\n[coupons.old]\npercent_off = 10\nduration = \"once\"\n";
    let env = Env::new(&format!("{PRO}{coupon}"));
    env.converge();
    env.set_catalog(PRO);
    plan_out(&env);
    // A code made in the Dashboard on the coupon the plan deletes.
    let id = env.id("coupons.old");
    let res = Req::post(
        "/v1/promotion_codes",
        &format!("promotion[type]=coupon&promotion[coupon]={id}&code=PARTNER"),
    )
    .idempotency_key("partner")
    .send(&env.sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    env.sandbox.clear_requests();
    refused(
        &env.billing(&["apply", "plan.json"]),
        "a plan made now would differ at coupons.old",
    );
    assert!(writes(&env).is_empty());
}

#[test]
fn metadata_keys_billing_ignores_do_not_make_a_plan_stale() {
    let catalog = format!("ignore_metadata = [\"crm_*\"]\n{PRO}");
    let env = Env::new(&catalog);
    env.converge();
    env.set_catalog(&catalog.replace("For growing teams", "For teams of any size"));
    plan_out(&env);
    let product = env.id("products.pro");
    let res = Req::post(&format!("/v1/products/{product}"), "metadata[crm_id]=123")
        .idempotency_key("crm")
        .send(&env.sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    apply_saved(&env);
}

#[test]
fn an_edited_plan_file_is_refused() {
    let env = Env::new(PRO);
    plan_out(&env);
    let text = env.dir.read("plan.json");
    assert!(text.contains("\"7900\""));
    env.dir
        .write("plan.json", text.replacen("\"7900\"", "\"1\"", 1));
    assert_apply_unverified(&env.sandbox, "plan.json", || {
        env.billing(&["apply", "plan.json"])
    });
    // Its idempotency keys no longer match either, which `show` (no MAC without the key)
    // still catches.
    let shown = env
        .dir
        .billing()
        .args(["show", "plan.json"])
        .output()
        .unwrap();
    let shown: Run = shown.into();
    assert_eq!(shown.code, 1, "{}", shown.stderr);
    assert!(
        shown.stderr.contains("was edited after the plan was made"),
        "{}",
        shown.stderr
    );
}

/// Swaps two operations next to each other in `order` that do not depend on each other: an
/// order that passes every check of the file.
fn swap_independent(doc: &mut Value) {
    let ops = doc["operations"].clone();
    let order = doc["order"].as_array_mut().expect("an order");
    let depends = |a: &Value, b: &Value| {
        ops[a.as_u64().unwrap() as usize]["depends_on"]
            .as_array()
            .unwrap()
            .contains(b)
    };
    let at = (1..order.len())
        .find(|&i| !depends(&order[i], &order[i - 1]))
        .unwrap_or_else(|| panic!("no two independent operations next to each other: {order:?}"));
    order.swap(at - 1, at);
}

/// An edit of a plan file's JSON.
type Edit = fn(&mut Value);

#[test]
fn a_forged_plan_file_is_refused_whatever_it_edits() {
    let env = Env::new(PRO);
    env.converge();
    // A replacement (with the archive of the replaced price) and the archive of a price that
    // left billing.toml.
    env.set_catalog(&PRO.replace("79.00", "89.00").replace(
        "[products.pro.prices.annual]\namount = \"790.00\"\ncurrency = \"usd\"\ninterval = \"year\"\n",
        "",
    ));
    plan_out(&env);
    let text = env.dir.read("plan.json");
    let saved = doc(&env);
    assert!(saved["summary"]["archive"].as_u64() > Some(0), "{text}");
    let edits: [(&str, Edit); 6] = [
        // Stripe would answer with the replay of another plan's writes.
        ("generation", |d| d["generation"] = json!("evt_forged")),
        // "0 to archive" while archiving.
        ("summary", |d| d["summary"]["archive"] = json!(0)),
        ("order", swap_independent),
        ("notices", |d| {
            d["notices"] = json!(["Reviewed and approved by finance."]);
        }),
        ("namespace", |d| d["namespace"] = json!("other")),
        ("allow_destroy", |d| d["allow_destroy"] = json!(true)),
    ];
    let before = (env.products(), env.prices());
    for (field, edit) in edits {
        let forged = forge(&text, edit);
        assert_ne!(forged, text, "{field}: nothing was edited");
        env.dir.write("forged.json", &forged);
        // Which forgery, in the output of a failure.
        println!("forged {field}");
        // The forgery passes every check but the MAC: `show` reads it, and says it does not
        // verify.
        assert_shown_unverified(&env.billing(&["show", "forged.json"]), "forged.json");
        assert_apply_unverified(&env.sandbox, "forged.json", || {
            env.billing(&["apply", "forged.json"])
        });
    }
    assert_eq!((env.products(), env.prices()), before, "nothing changed");
    // The file as billing wrote it applies.
    apply_saved(&env);
}

#[test]
fn a_plan_made_with_one_key_is_refused_with_another() {
    let env = Env::new(PRO);
    plan_out(&env);
    // Another test key the sandbox accepts for the same account.
    let other = "sk_test_anotherKeyOfTheSameAccount0123456789";
    assert_apply_unverified(&env.sandbox, "plan.json", || {
        let run = env
            .dir
            .billing()
            .args(["apply", "plan.json", "--api-base"])
            .arg(env.sandbox.base_url())
            .env("STRIPE_SECRET_KEY", other)
            .output()
            .unwrap();
        let run = Run::from(run);
        assert!(!run.stdout.contains(other) && !run.stderr.contains(other));
        run
    });
    // Neither key is in the file, and with the key it was made with, it applies.
    let text = env.dir.read("plan.json");
    assert!(!text.contains(KEY) && !text.contains(other));
    apply_saved(&env);
}
