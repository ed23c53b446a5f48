//! Webhook endpoints through the sandbox: created with presets expanded, changed in place
//! without touching the secret, per-environment URLs, replacements that rotate the secret
//! (immediately or in two steps), `--replace`, the destroy guard, unmanaged endpoints left
//! alone, adoption and import, and the secret kept out of everything but its file.

use serde_json::Value;
use stripe_sandbox::test_support::{Req, start_local as start, start_with};
use stripe_sandbox::{Sandbox, SandboxConfig};

use super::{KEY, Run, billing_with_keys};
use crate::support::{Workdir, list_all};

/// The endpoint of most tests: two presets' worth of events and a concrete one. Every URL is
/// on this machine: the sandbox delivers events to the endpoints it holds.
const APP: &str = r#"
[webhooks.app]
url = "https://localhost:9/stripe/webhooks"
events = ["subscriptions", "checkout.session.completed"]
description = "Main app"
"#;

const SECRET: &str = ".billing/test/webhooks/app.secret";

/// A catalog with one environment, `test`, on `sandbox` in `mode`, and `entries`.
fn catalog(sandbox: &Sandbox, mode: &str, entries: &str) -> String {
    format!(
        "[environments.test]\nmode = \"{mode}\"\napi_base = \"{}\"\nsecret_key_env = \"WEBHOOK_KEY\"\n{entries}",
        sandbox.base_url()
    )
}

fn billing(dir: &Workdir, args: &[&str]) -> Run {
    billing_with_keys(dir, args, &[("WEBHOOK_KEY", KEY)])
}

fn live_key() -> String {
    // Built at run time: no live-looking key literal in the repository.
    format!("sk_live_{}", "webhookTests0123456789abcd")
}

#[track_caller]
fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

fn endpoints(sandbox: &Sandbox) -> Vec<Value> {
    list_all(sandbox, "/v1/webhook_endpoints")
}

fn ids(sandbox: &Sandbox) -> Vec<String> {
    let mut ids: Vec<String> = endpoints(sandbox)
        .iter()
        .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    ids.sort();
    ids
}

fn no_changes(dir: &Workdir) {
    let plan = billing(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn an_endpoint_is_created_with_its_presets_expanded_and_its_secret_in_a_private_file() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, "test", APP));
    let plan = billing(&dir, &["plan"]);
    ok(&plan);
    assert!(
        plan.stdout.contains(&format!(
            "apply writes the new endpoint's signing secret to {SECRET} (mode 0600)"
        )),
        "{}",
        plan.stdout
    );
    ok(&billing(&dir, &["apply", "--yes"]));
    let all = endpoints(&sandbox);
    assert_eq!(all.len(), 1);
    let mut events: Vec<&str> = all[0]["enabled_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    events.sort_unstable();
    assert_eq!(
        events,
        [
            "checkout.session.completed",
            "customer.subscription.created",
            "customer.subscription.deleted",
            "customer.subscription.paused",
            "customer.subscription.pending_update_applied",
            "customer.subscription.pending_update_expired",
            "customer.subscription.resumed",
            "customer.subscription.trial_will_end",
            "customer.subscription.updated",
            "invoice.payment_failed",
            "invoice.payment_succeeded",
            "invoice.upcoming",
        ]
    );
    assert_eq!(all[0]["metadata"]["billing_key"], "webhooks.app");
    assert_eq!(all[0]["api_version"], billing::api_version());
    let secret = dir.read(SECRET);
    assert!(secret.starts_with("whsec_"), "{secret}");
    #[cfg(unix)]
    assert_eq!(mode(&dir.path().join(SECRET)), 0o600);
    // billing's own directory keeps it out of git.
    assert_eq!(dir.read(".billing/.gitignore"), "*\n");
    no_changes(&dir);
}

#[test]
fn events_change_in_place_and_the_secret_file_is_untouched() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, "test", APP));
    ok(&billing(&dir, &["apply", "--yes"]));
    let (before, secret) = (ids(&sandbox), dir.read(SECRET));
    dir.write(
        "billing.toml",
        catalog(
            &sandbox,
            "test",
            &APP.replace("\"subscriptions\", ", "\"invoicing\", "),
        ),
    );
    let plan = billing(&dir, &["plan"]);
    assert!(
        plan.stdout.contains("~ webhook endpoint"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("signing secret changes"),
        "{}",
        plan.stdout
    );
    ok(&billing(&dir, &["apply", "--yes"]));
    assert_eq!(ids(&sandbox), before);
    assert_eq!(dir.read(SECRET), secret);
    let events = endpoints(&sandbox)[0]["enabled_events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(events, 5);
    no_changes(&dir);
}

#[test]
fn each_environment_gets_its_own_url() {
    let (one, two) = (start(), start());
    let text = format!(
        "[environments.test]\nmode = \"test\"\napi_base = \"{}\"\nsecret_key_env = \"WEBHOOK_KEY\"\n[environments.staging]\nmode = \"test\"\napi_base = \"{}\"\nsecret_key_env = \"WEBHOOK_KEY\"\n{APP}[webhooks.app.overrides.test]\nurl = \"http://localhost:4242/hooks\"\n",
        one.base_url(),
        two.base_url()
    );
    let dir = Workdir::with_catalog(&text);
    ok(&billing(&dir, &["-e", "test", "apply", "--yes"]));
    ok(&billing(&dir, &["-e", "staging", "apply", "--yes"]));
    assert_eq!(endpoints(&one)[0]["url"], "http://localhost:4242/hooks");
    assert_eq!(
        endpoints(&two)[0]["url"],
        "https://localhost:9/stripe/webhooks"
    );
    assert!(
        dir.read(".billing/staging/webhooks/app.secret")
            .starts_with("whsec_")
    );
    let output = billing(&dir, &["-e", "test", "output", "--format", "env"]);
    ok(&output);
    assert!(
        output
            .stdout
            .contains("BILLING_WEBHOOK_APP__URL=http://localhost:4242/hooks"),
        "{}",
        output.stdout
    );
}

#[test]
fn a_new_api_version_replaces_the_endpoint_and_the_old_one_goes_only_after() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, "test", APP));
    ok(&billing(&dir, &["apply", "--yes"]));
    let (old, old_secret) = (ids(&sandbox), dir.read(SECRET));
    let pinned = APP.replace("description", "api_version = \"2024-06-20\"\ndescription");
    dir.write("billing.toml", catalog(&sandbox, "test", &pinned));
    let plan = billing(&dir, &["plan"]);
    assert!(
        plan.stdout.contains("-/+ webhook endpoint"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("the signing secret changes: deploy the new secret before the old endpoint"),
        "{}",
        plan.stdout
    );
    sandbox.clear_requests();
    ok(&billing(&dir, &["apply", "--yes"]));
    let now = ids(&sandbox);
    assert_eq!(now.len(), 1);
    assert_ne!(now, old);
    assert_eq!(endpoints(&sandbox)[0]["api_version"], "2024-06-20");
    let secret = dir.read(SECRET);
    assert!(secret.starts_with("whsec_") && secret != old_secret);
    let writes: Vec<String> = super::requests(&sandbox)
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        writes,
        [
            "POST /v1/webhook_endpoints".to_owned(),
            format!("DELETE /v1/webhook_endpoints/{}", old[0])
        ]
    );
    no_changes(&dir);
}

#[test]
fn replace_rotates_the_secret_and_two_step_keeps_the_old_endpoint_until_the_next_apply() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, "test", APP));
    ok(&billing(&dir, &["apply", "--yes"]));
    let first = dir.read(SECRET);
    ok(&billing(
        &dir,
        &["apply", "--yes", "--replace", "webhooks.app"],
    ));
    assert_eq!(ids(&sandbox).len(), 1);
    let second = dir.read(SECRET);
    assert_ne!(first, second);

    let two_step = APP.replace("description", "rotation = \"two_step\"\ndescription");
    dir.write("billing.toml", catalog(&sandbox, "test", &two_step));
    let old = ids(&sandbox);
    let plan = billing(&dir, &["plan", "--replace", "webhooks.app"]);
    ok(&plan);
    let kept = format!(
        "the replaced webhook endpoint {} is kept for now: the next apply deletes it",
        old[0]
    );
    assert!(plan.stdout.contains(&kept), "{}", plan.stdout);
    ok(&billing(
        &dir,
        &["apply", "--yes", "--replace", "webhooks.app"],
    ));
    let both = ids(&sandbox);
    assert_eq!(both.len(), 2, "the old endpoint stays for now");
    assert_ne!(dir.read(SECRET), second);
    let next = billing(&dir, &["plan"]);
    assert!(
        next.stdout.contains("superseded by the newer endpoint"),
        "{}",
        next.stdout
    );
    ok(&billing(&dir, &["apply", "--yes"]));
    let left = ids(&sandbox);
    assert_eq!(left.len(), 1);
    assert!(
        !left.contains(&old[0]),
        "the old endpoint is the one deleted"
    );
    no_changes(&dir);

    // Kinds without a replacement say so, naming the address.
    let refused = billing(&dir, &["plan", "--replace", "tax"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("`--replace tax`: a tax settings cannot be replaced"),
        "{}",
        refused.stderr
    );
}

#[test]
fn removing_an_endpoint_in_live_needs_allow_destroy_and_unmanaged_ones_are_untouched() {
    let sandbox = start_with(SandboxConfig {
        live: true,
        local_webhooks: true,
        ..SandboxConfig::default()
    });
    let key = live_key();
    let run = |dir: &Workdir, args: &[&str]| {
        let args: Vec<&str> = ["-e", "test"].iter().chain(args).copied().collect();
        billing_with_keys(dir, &args, &[("WEBHOOK_KEY", &key)])
    };
    let theirs = Req::post(
        "/v1/webhook_endpoints",
        "url=https://localhost:7/theirs&enabled_events[]=charge.failed",
    )
    .header("Authorization", Some(&format!("Bearer {key}")))
    .send(&sandbox);
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    let theirs = theirs.json();
    let dir = Workdir::with_catalog(&catalog(&sandbox, "live", APP));
    ok(&run(&dir, &["apply", "--yes"]));
    dir.write("billing.toml", catalog(&sandbox, "live", ""));
    let refused = run(&dir, &["apply", "--yes"]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("--allow-destroy"),
        "{}",
        refused.stderr
    );
    assert_eq!(list_all_live(&sandbox, &key).len(), 2);
    ok(&run(&dir, &["apply", "--yes", "--allow-destroy"]));
    let left = list_all_live(&sandbox, &key);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], theirs["id"]);
    assert_eq!(left[0]["url"], "https://localhost:7/theirs");
    assert_eq!(left[0]["metadata"], serde_json::json!({}));
}

fn list_all_live(sandbox: &Sandbox, key: &str) -> Vec<Value> {
    let res = Req::get("/v1/webhook_endpoints?limit=100")
        .header("Authorization", Some(&format!("Bearer {key}")))
        .send(sandbox);
    res.json()["data"].as_array().cloned().unwrap_or_default()
}

#[test]
fn an_imported_endpoint_is_adopted_with_no_replacement_and_then_plans_nothing() {
    let sandbox = start();
    let made = Req::post(
        "/v1/webhook_endpoints",
        "url=https://localhost:8/hooks&enabled_events[]=invoice.paid&enabled_events[]=invoice.payment_failed&connect=true&description=Dashboard",
    )
    .send(&sandbox);
    assert_eq!(made.status, 200, "{}", made.body);
    let id = made.json()["id"].as_str().unwrap().to_owned();
    let dir = Workdir::with_catalog(&catalog(&sandbox, "test", ""));
    let imported = billing(&dir, &["import", "--out", "imported.toml"]);
    ok(&imported);
    let text = dir.read("imported.toml");
    assert!(
        // The id of the account it was read from, under that environment's overrides.
        text.contains(&format!(
            "[webhooks.dashboard.overrides.test]\nid = \"{id}\""
        )),
        "{text}"
    );
    dir.write("billing.toml", &text);
    let plan = billing(&dir, &["plan"]);
    ok(&plan);
    assert!(
        plan.stdout.contains("< webhook endpoint"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("-/+"), "{}", plan.stdout);
    ok(&billing(&dir, &["apply", "--yes"]));
    assert_eq!(ids(&sandbox), [id]);
    assert!(
        !dir.path().join(SECRET).exists(),
        "adoption never rotates the secret"
    );
    no_changes(&dir);
}

#[test]
fn the_secret_appears_nowhere_but_its_file() {
    let sandbox = start();
    let with_command = APP.replace(
        "description",
        "secret_command = \"cat > piped.secret; echo \\\"$BILLING_WEBHOOK $BILLING_ENVIRONMENT\\\" > piped.env\"\ndescription",
    );
    let dir = Workdir::with_catalog(&catalog(&sandbox, "test", &with_command));
    let mut runs = vec![
        billing(&dir, &["-v", "plan", "--out", "plan.json"]),
        billing(&dir, &["-v", "apply", "--yes", "--format", "json"]),
    ];
    runs.push(billing(
        &dir,
        &["-v", "apply", "--yes", "--replace", "webhooks.app"],
    ));
    for format in ["json", "env", "toml", "ts"] {
        runs.push(billing(&dir, &["output", "--format", format]));
    }
    runs.push(billing(&dir, &["plan", "--format", "json"]));
    runs.iter().for_each(ok);
    let secret = dir.read(SECRET);
    assert!(secret.starts_with("whsec_"));
    assert_eq!(dir.read("piped.secret"), secret);
    assert_eq!(dir.read("piped.env").trim(), "app test");
    for run in &runs {
        assert!(!run.stdout.contains(&secret) && !run.stderr.contains(&secret));
        assert!(!run.stdout.contains("whsec_") && !run.stderr.contains("whsec_"));
    }
    // Each format lists the endpoint's url beside its id.
    for output in &runs[3..7] {
        let url = "https://localhost:9/stripe/webhooks";
        assert!(output.stdout.contains(url), "{}", output.stdout);
    }
    // Every file billing wrote, but the sinks, is free of it.
    let mut stack = vec![dir.path().to_owned()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if !path.ends_with(SECRET) && !path.ends_with("piped.secret") {
                let bytes = std::fs::read(&path).unwrap();
                let text = String::from_utf8_lossy(&bytes);
                assert!(
                    !text.contains(&secret),
                    "{} holds the secret",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn a_failing_secret_command_fails_the_apply_and_says_where_the_secret_is() {
    let sandbox = start();
    let failing = APP.replace("description", "secret_command = \"exit 3\"\ndescription");
    let dir = Workdir::with_catalog(&catalog(&sandbox, "test", &failing));
    let run = billing(&dir, &["apply", "--yes"]);
    assert_eq!(run.code, 1);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains("`secret_command` of webhooks.app failed"),
        "{all}"
    );
    assert!(
        all.contains(&format!("the new signing secret is in {SECRET}")),
        "{all}"
    );
    assert!(dir.read(SECRET).starts_with("whsec_"));
}

#[test]
fn a_stripe_error_on_create_leaves_no_secret_file() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, "test", APP));
    ok(&billing(&dir, &["plan", "--out", "plan.json"]));
    // Meanwhile the account fills up with endpoints billing does not manage: Stripe refuses
    // the 17th.
    for i in 0..16 {
        let body = format!("url=https://localhost:7/{i}&enabled_events[]=charge.failed");
        let res = Req::post("/v1/webhook_endpoints", &body).send(&sandbox);
        assert_eq!(res.status, 200, "{}", res.body);
    }
    let run = billing(&dir, &["apply", "plan.json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(!dir.path().join(SECRET).exists());
    assert!(
        !dir.path().join(".billing/test/webhooks").exists()
            || std::fs::read_dir(dir.path().join(".billing/test/webhooks"))
                .unwrap()
                .next()
                .is_none()
    );
    assert_eq!(ids(&sandbox).len(), 16);
    // Planned afresh, the limit is a problem before anything is sent.
    let plan = billing(&dir, &["plan"]);
    assert_eq!(plan.code, 1);
    assert!(
        plan.stderr
            .contains("the account has 16 webhook endpoints and this plan creates 1 more"),
        "{}",
        plan.stderr
    );
}

#[test]
fn a_secret_that_cannot_be_written_fails_the_apply_and_says_to_rotate() {
    let sandbox = start();
    let elsewhere = APP.replace(
        "description",
        "secret_file = \"secrets/app.whsec\"\ndescription",
    );
    let dir = Workdir::with_catalog(&catalog(&sandbox, "test", &elsewhere));
    // A file where the directory should be.
    dir.write("secrets", "not a directory");
    let run = billing(&dir, &["apply", "--yes"]);
    assert_eq!(run.code, 1);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("the signing secret of the new endpoint at webhooks.app was not saved: cannot write secrets/app.whsec"), "{all}");
    // What stands in the way, not the system's bare `File exists`.
    assert!(all.contains("secrets is not a directory"), "{all}");
    assert!(!all.contains("os error"), "{all}");
    assert!(
        all.contains("rotate it: `billing apply --replace webhooks.app`"),
        "{all}"
    );
    assert!(!all.contains("whsec_"), "{all}");
}

#[test]
fn an_endpoint_deleted_and_declared_again_is_created_anew_not_replayed() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, "test", APP));
    ok(&billing(&dir, &["apply", "--yes"]));
    let (first, first_secret) = (ids(&sandbox), dir.read(SECRET));
    dir.write("billing.toml", catalog(&sandbox, "test", ""));
    ok(&billing(&dir, &["apply", "--yes"]));
    assert!(ids(&sandbox).is_empty());
    // The account is as it was before the first apply; the plan's clock has moved on.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    dir.write("billing.toml", catalog(&sandbox, "test", APP));
    ok(&billing(&dir, &["apply", "--yes"]));
    let again = ids(&sandbox);
    assert_eq!(again.len(), 1);
    assert_ne!(again, first);
    assert_ne!(dir.read(SECRET), first_secret);
    no_changes(&dir);
}

#[test]
fn a_saved_plan_made_with_replace_applies_as_it_was_reviewed() {
    let sandbox = start();
    let dir = Workdir::with_catalog(&catalog(&sandbox, "test", APP));
    ok(&billing(&dir, &["apply", "--yes"]));
    let (old, secret) = (ids(&sandbox), dir.read(SECRET));
    ok(&billing(
        &dir,
        &["plan", "--replace", "webhooks.app", "--out", "plan.json"],
    ));
    assert!(
        dir.read("plan.json")
            .contains("\"replace\": [\n    \"webhooks.app\"\n  ]")
    );
    let refused = billing(&dir, &["apply", "plan.json", "--replace", "webhooks.app"]);
    assert_eq!(refused.code, 1, "a saved plan says what it replaces");
    ok(&billing(&dir, &["apply", "plan.json"]));
    assert_ne!(ids(&sandbox), old);
    assert_ne!(dir.read(SECRET), secret);
}
