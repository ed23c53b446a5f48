//! Where billing writes files, against a hostile working tree: a link planted at the target
//! or at the temporary name billing used to take, a FIFO, a device. Each writer (plan --out,
//! output --out, import --out, the outputs file after apply, the apply lock) refuses or writes
//! beside them, never through them; `outputs` stays inside billing.toml's directory; and
//! `.env` outputs are inert when sourced.

use std::path::{Path, PathBuf};
use std::time::Duration;

#[cfg(unix)]
use safe_fs::mkfifo;

use crate::engine::{Env, KEY, PRO, Run};

/// Long enough for any run; a run blocked on a FIFO fails the test instead of hanging it.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What a planted link points to; it must still say this at the end.
const PRECIOUS: &str = "precious: never to be overwritten\n";

/// `billing ARGS --api-base SANDBOX` with the test key, killed after [`TIMEOUT`].
fn billing(env: &Env, args: &[&str]) -> Run {
    let run: Run = env
        .dir
        .billing()
        .args(args)
        .arg("--api-base")
        .arg(env.sandbox.base_url())
        .env("STRIPE_SECRET_KEY", KEY)
        .timeout(TIMEOUT)
        .output()
        .expect("billing runs")
        .into();
    assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

/// A run that failed with exit code 1 and said `says`.
fn assert_refused(run: &Run, says: &str) {
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains(says), "{}", run.stderr);
}

/// A file outside the catalog's directory, for links to point at.
struct Victim {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Victim {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("victim");
        std::fs::write(&path, PRECIOUS).unwrap();
        Self { _dir: dir, path }
    }

    fn assert_untouched(&self) {
        assert_eq!(std::fs::read_to_string(&self.path).unwrap(), PRECIOUS);
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[cfg(unix)]
fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .file_type()
        .is_fifo()
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink())
}

/// Links to `victim` at the names billing used to write `name` through (`.NAME.tmpPID`), for
/// the next thousand process ids: the next billing run very likely gets one of them.
#[cfg(unix)]
fn plant_old_temporaries(dir: &Path, name: &str, victim: &Victim) -> Vec<PathBuf> {
    let mut next = std::process::Command::new("true").spawn().unwrap();
    let pid = next.id();
    let _ = next.wait();
    (pid..pid + 1000)
        .map(|pid| {
            let link = dir.join(format!(".{name}.tmp{pid}"));
            symlink(&victim.path, &link);
            link
        })
        .collect()
}

/// The refusals every writer owes for `name` in the catalog's directory, `write` running it:
/// a link there is refused and left alone, as is a FIFO (without blocking); with links at the
/// old temporary names, the file is written beside them.
#[cfg(unix)]
fn refuses_links_and_fifos(env: &Env, name: &str, mut write: impl FnMut() -> Run) {
    let target = env.dir.path().join(name);
    let victim = Victim::new();
    symlink(&victim.path, &target);
    assert_refused(
        &write(),
        &format!(
            "{name}: it is a symbolic link, which is never written through or replaced; it was left alone"
        ),
    );
    assert!(is_link(&target), "the link itself is left alone");
    victim.assert_untouched();

    std::fs::remove_file(&target).unwrap();
    mkfifo(&target);
    assert_refused(&write(), &format!("{name}: it is a FIFO"));
    assert!(is_fifo(&target));

    std::fs::remove_file(&target).unwrap();
    let planted = plant_old_temporaries(env.dir.path(), name, &victim);
    let run = write();
    assert_eq!(
        run.code, 0,
        "{name} beside old temporaries:\n{}",
        run.stderr
    );
    assert!(std::fs::symlink_metadata(&target).unwrap().is_file());
    assert!(planted.iter().all(|link| is_link(link)));
    victim.assert_untouched();
}

/// `ARGS --out /dev/null` is refused and the device left as it is.
#[cfg(unix)]
fn refuses_a_device(env: &Env, args: &[&str]) {
    use std::os::unix::fs::FileTypeExt;
    let mut args = args.to_vec();
    args.extend(["--out", "/dev/null"]);
    assert_refused(
        &billing(env, &args),
        "cannot write /dev/null: it is a device, which is never written through or replaced; it was left alone",
    );
    let null = std::fs::symlink_metadata("/dev/null").unwrap();
    assert!(null.file_type().is_char_device());
}

#[cfg(unix)]
#[test]
fn plan_out_and_output_out_never_write_through_a_link_a_fifo_or_a_device() {
    let env = Env::new(PRO);
    env.apply();
    for (command, name, holds) in [
        ("plan", "plan.json", "resource_changes"),
        ("output", "ids.json", "products"),
    ] {
        refuses_links_and_fifos(&env, name, || billing(&env, &[command, "--out", name]));
        let written: serde_json::Value = serde_json::from_str(&env.dir.read(name)).unwrap();
        assert!(written.get(holds).is_some(), "{command}: {written}");
        refuses_a_device(&env, &[command]);
    }
}

#[cfg(unix)]
#[test]
fn import_out_never_writes_through_a_link_a_fifo_or_a_device_and_reads_nothing_first() {
    let env = Env::new(PRO);
    env.apply();
    // Without --force, anything there is refused as existing, a dangling link too.
    let nowhere = Victim::new().path.with_file_name("nowhere");
    symlink(&nowhere, &env.dir.path().join("dangling.toml"));
    assert_refused(
        &billing(&env, &["import", "--out", "dangling.toml"]),
        "dangling.toml already exists",
    );
    assert!(!nowhere.exists());

    // With --force, a link, a FIFO or a device is refused before Stripe is read.
    env.sandbox.clear_requests();
    refuses_links_and_fifos(&env, "imported.toml", || {
        let run = billing(&env, &["import", "--force", "--out", "imported.toml"]);
        if run.code == 1 {
            assert!(env.sandbox.requests().is_empty(), "read before refusing");
        }
        run
    });
    assert!(env.dir.read("imported.toml").contains("[products.pro]"));
    env.sandbox.clear_requests();
    refuses_a_device(&env, &["import", "--force"]);
    assert!(env.sandbox.requests().is_empty());
}

/// A catalog whose environment `test` writes its ids to `outputs` after each apply.
fn with_outputs(outputs: &str, lookup_key: Option<&str>) -> String {
    let lookup_key = lookup_key
        .map(|k| format!("lookup_key = {}\n", serde_json::to_string(k).unwrap()))
        .unwrap_or_default();
    format!(
        "[environments.test]\nmode = \"test\"\noutputs = {outputs:?}\n\n[products.pro]\nname = \"Pro\"\n\n[products.pro.prices.monthly]\namount = \"9.00\"\ncurrency = \"usd\"\ninterval = \"month\"\n{lookup_key}"
    )
}

#[cfg(unix)]
#[test]
fn the_outputs_file_after_apply_is_never_written_through_a_link_or_a_fifo() {
    let env = Env::new(&with_outputs("ids.json", None));
    let mut applies = 0;
    refuses_links_and_fifos(&env, "ids.json", || {
        // Something to apply each time, so that the ids are written after the apply's writes.
        applies += 1;
        let name = format!("\"Pro {applies}\"");
        env.set_catalog(&with_outputs("ids.json", None).replace("\"Pro\"", &name));
        billing(&env, &["apply", "--yes"])
    });
    let ids: serde_json::Value = serde_json::from_str(&env.dir.read("ids.json")).unwrap();
    assert_eq!(ids["products"]["pro"], env.id("products.pro"));
    assert_eq!(env.current("products.pro")["name"], "Pro 3");
}

#[cfg(unix)]
#[test]
fn a_refused_outputs_file_says_the_apply_itself_completed() {
    let env = Env::new(&with_outputs("ids.json", None));
    let victim = Victim::new();
    symlink(&victim.path, &env.dir.path().join("ids.json"));
    assert_refused(
        &billing(&env, &["apply", "--yes"]),
        "the apply completed and Stripe was changed, but the ids of test could not be written: cannot write ./ids.json: it is a symbolic link",
    );
    assert_eq!(env.current_or_none("products.pro"), 1);
    victim.assert_untouched();
}

#[cfg(unix)]
#[test]
fn the_apply_lock_is_never_opened_through_a_link_a_hard_link_or_a_fifo() {
    let env = Env::new(PRO);
    // A first apply makes the lock and .billing/.gitignore: the places to plant.
    env.apply();
    let mut made = std::fs::read_dir(env.dir.path().join(".billing/locks")).unwrap();
    let lock = made.next().unwrap().unwrap().path();
    assert!(made.next().is_none());
    std::fs::remove_file(&lock).unwrap();
    let victim = Victim::new();
    // A dangling .billing/.gitignore link instead of the file billing made.
    let outside = victim.path.with_file_name("gitignore-outside");
    let ignore = env.dir.path().join(".billing/.gitignore");
    assert_eq!(std::fs::read_to_string(&ignore).unwrap(), "*\n");
    std::fs::remove_file(&ignore).unwrap();
    symlink(&outside, &ignore);

    env.set_catalog(&PRO.replace("\"Pro\"", "\"Pro 2\""));
    env.sandbox.clear_requests();
    let refused = |says: &str| {
        assert_refused(&billing(&env, &["apply", "--yes"]), says);
        assert_eq!(env.writes(), 0, "{says}: sent to Stripe");
        victim.assert_untouched();
    };
    symlink(&victim.path, &lock);
    refused("cannot open the apply lock");
    refused("it is a symbolic link");
    assert!(is_link(&lock));
    std::fs::remove_file(&lock).unwrap();

    // A hard link to a file in the same directory (as a hard link to one elsewhere would be).
    let linked = lock.with_file_name("victim");
    std::fs::copy(&victim.path, &linked).unwrap();
    std::fs::hard_link(&linked, &lock).unwrap();
    refused("it is a file with other hard links");
    assert_eq!(std::fs::read_to_string(&linked).unwrap(), PRECIOUS);
    std::fs::remove_file(&lock).unwrap();

    mkfifo(&lock);
    refused("it is a FIFO");
    std::fs::remove_file(&lock).unwrap();

    // The rename applies now; nothing was created where the dangling .gitignore link points.
    env.apply();
    assert_eq!(env.current("products.pro")["name"], "Pro 2");
    assert!(!outside.exists());
    assert!(is_link(&ignore));
    assert!(std::fs::read_to_string(&lock).unwrap().starts_with("pid "));
}

#[test]
fn an_outputs_path_outside_the_catalogs_directory_is_a_validation_error() {
    for outputs in ["../ids.json", "/tmp/ids.json", "generated/../../ids.env"] {
        let env = Env::new(&with_outputs(outputs, None));
        assert_refused(
            &billing(&env, &["apply", "--yes"]),
            &format!(
                "billing.toml:3:11: error: `outputs` {outputs:?} must stay inside the directory of billing.toml"
            ),
        );
        assert!(env.sandbox.requests().is_empty());
    }
}

#[cfg(unix)]
#[test]
fn an_outputs_directory_linked_outside_the_catalogs_directory_is_refused_before_any_request() {
    let env = Env::new(&with_outputs("generated/ids.json", None));
    let outside = tempfile::tempdir().unwrap();
    symlink(outside.path(), &env.dir.path().join("generated"));
    assert_refused(
        &billing(&env, &["apply", "--yes"]),
        "environment `test` writes its ids to ./generated/ids.json, but ./generated leads outside the directory of billing.toml: refusing to use it",
    );
    assert!(env.sandbox.requests().is_empty());
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}

/// A lookup key full of what a shell would run or expand.
const HOSTILE: &str = "a`touch PWNED1`$(touch PWNED2);touch PWNED3 | touch PWNED4 & 'single' \"double\" \\back $HOME ${HOME} !! * ~ #not a comment\nline two\ttab\r\n'";

/// The shells to source an env file with: sh always, bash when installed.
fn shells() -> Vec<&'static str> {
    let bash = std::process::Command::new("which")
        .arg("bash")
        .output()
        .is_ok_and(|o| o.status.success());
    if bash { vec!["sh", "bash"] } else { vec!["sh"] }
}

#[cfg(unix)]
#[test]
fn a_hostile_lookup_key_round_trips_through_env_outputs_without_running_anything() {
    let env = Env::new(&with_outputs("ids.env", Some(HOSTILE)));
    env.apply();
    let run = billing(&env, &["output", "--format", "env", "--out", "out.env"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(env.dir.read("out.env"), env.dir.read("ids.env"));
    let text = env.dir.read("ids.env");
    // Plain values stay bare.
    assert!(text.contains("\nBILLING_ENVIRONMENT=test\n"), "{text}");
    for shell in shells() {
        for file in ["ids.env", "out.env"] {
            let sourced = std::process::Command::new(shell)
                .arg("-c")
                .arg(format!(
                    ". ./{file} && printf '%s' \"$BILLING_PRICE_PRO__MONTHLY__LOOKUP_KEY\""
                ))
                .current_dir(env.dir.path())
                .output()
                .unwrap();
            assert!(
                sourced.status.success(),
                "{shell} {file}: {}",
                String::from_utf8_lossy(&sourced.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&sourced.stdout),
                HOSTILE,
                "{shell} {file}"
            );
        }
    }
    let pwned: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("PWNED"))
        .collect();
    assert!(pwned.is_empty(), "sourcing ran commands: {pwned:?}");
}
