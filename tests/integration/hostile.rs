//! Hostile input through the binary: every file of the corpus in tests/hostile, and catalogs
//! too big to commit, built here. Each gets its own clear outcome: accepted, or exit 1 with
//! problems naming the file, line and column, and nothing sent to Stripe. Never a panic or a
//! hang: every run has a generous timeout, so a hang fails instead of blocking.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

use crate::engine::{Env, KEY, Run, assert_apply_unverified};
use crate::support::Workdir;

/// Long enough for a slow, busy machine; a hang still fails.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What `billing validate -c FILE` must do with a corpus file: its exit code, and what it
/// says (on stdout when it accepts the file, on stderr when it refuses it).
struct Expected {
    file: &'static str,
    code: i32,
    says: &'static [&'static str],
}

const fn accepted(file: &'static str, says: &'static [&'static str]) -> Expected {
    Expected {
        file,
        code: 0,
        says,
    }
}

const fn refused(file: &'static str, says: &'static [&'static str]) -> Expected {
    Expected {
        file,
        code: 1,
        says,
    }
}

/// One entry per file in tests/hostile: a new file without one fails the test.
const CORPUS: &[Expected] = &[
    accepted("bom.toml", &["bom.toml is valid: 1 product, 1 price"]),
    refused(
        "bom_invalid.toml",
        &[
            "bom_invalid.toml:2:1: error: unknown key `nam` in [products.pro]",
            "did you mean `name`?",
        ],
    ),
    accepted("crlf.toml", &["crlf.toml is valid: 1 product, 1 price"]),
    refused(
        "crlf_invalid.toml",
        &["crlf_invalid.toml:5:10: error: `amount`: 12.001 is not exact in USD"],
    ),
    refused(
        "duplicate_keys.toml",
        &["duplicate_keys.toml:3:1: error: invalid TOML: duplicate key"],
    ),
    accepted("empty.toml", &["empty.toml is valid: 0 products, 0 prices"]),
    refused(
        "invalid_utf8.toml",
        &[
            "invalid_utf8.toml:2:13: error: the file is not valid UTF-8 text",
            "byte 0xFF cannot start or continue a character here",
            "hint: save the file as UTF-8",
        ],
    ),
    refused(
        "invalid_utf8_overlong.toml",
        &[
            "invalid_utf8_overlong.toml:3:22: error: the file is not valid UTF-8 text",
            "byte 0xC0",
        ],
    ),
    refused(
        "invalid_utf8_truncated_at_end.toml",
        &[
            "invalid_utf8_truncated_at_end.toml:3:28: error: the file is not valid UTF-8 text",
            "byte 0xE2",
        ],
    ),
    refused(
        "latin1.toml",
        &[
            "latin1.toml:2:12: error: the file is not valid UTF-8 text",
            "byte 0xE9",
        ],
    ),
    refused(
        "lookup_key_201.toml",
        &[
            "lookup_key_201.toml:12:14: error: `lookup_key` is 201 characters long; Stripe allows at most 200",
            // The key of exactly 200 characters, on line 7, is fine.
            "1 problem found",
        ],
    ),
    accepted(
        "metadata_at_limits.toml",
        &["metadata_at_limits.toml is valid: 1 product, 0 prices"],
    ),
    refused(
        "metadata_over_limits.toml",
        &[
            "metadata_over_limits.toml:3:1: error: 51 metadata keys declared; at most 48 are allowed",
            "Stripe allows 50 keys per object and billing uses 2",
            "metadata_over_limits.toml:58:14: error: metadata key `kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk` must be 1 to 40 characters long",
            "metadata_over_limits.toml:62:21: error: metadata value of `note` is 501 characters long; Stripe allows at most 500",
            "3 problems found",
        ],
    ),
    refused(
        "nul_bytes.toml",
        &[
            "nul_bytes.toml:3:24: error: invalid TOML: invalid comment character",
            // The NUL is shown, not written to the terminal.
            "3 | # a comment with a NUL \u{2400} in it",
        ],
    ),
    refused(
        "nul_in_key.toml",
        &[
            "nul_in_key.toml:2:3: error: invalid TOML: invalid unquoted key",
            "2 | na\u{2400}me = \"Pro\"",
        ],
    ),
    accepted(
        "only_comments.toml",
        &["only_comments.toml is valid: 0 products, 0 prices"],
    ),
    refused(
        "terminal_escapes.toml",
        &[
            "terminal_escapes.toml:2:11: error: product key `\u{241b}[2J\u{241b}]0;owned\u{2407}` may only contain",
            "terminal_escapes.toml:5:11: error: product key `abc<U+202E>dcba` may only contain",
        ],
    ),
    refused(
        "unicode_keys.toml",
        &[
            "unicode_keys.toml:1:11: error: product key `🚀` may only contain lowercase letters, digits and `_`",
            // The zero-width space is what makes this key invalid: it is shown.
            "unicode_keys.toml:4:11: error: product key `pro<U+200B>` may only contain",
            "rename it to `pro_`",
            "unicode_keys.toml:7:11: error: product key `cafe\u{301}` may only contain",
            "5 problems found",
        ],
    ),
    accepted(
        "unicode_names.toml",
        &["unicode_names.toml is valid: 5 products, 1 price"],
    ),
    refused(
        "utf16.toml",
        &[
            "utf16.toml:1:1: error: the file is not valid UTF-8 text",
            "hint: the file is UTF-16 text: save it as UTF-8",
        ],
    ),
    refused(
        "wrong_types.toml",
        &[
            "wrong_types.toml:1:12: error: `products` at the top level must be a table, not a string",
            "wrong_types.toml:2:13: error: `namespace` at the top level must be a string, not an integer",
            "wrong_types.toml:4:5: error: coupon `x` must be a table",
            "3 problems found",
        ],
    ),
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile")
}

/// The files in `dir`, but for hidden ones (`.gitattributes`).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| !path.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    files
}

/// Runs `cmd` with the timeout.
fn run(cmd: &mut Command) -> Run {
    cmd.timeout(TIMEOUT).output().expect("billing runs").into()
}

/// `billing validate -c NAME` in `dir`.
fn validate(dir: &Workdir, name: &str) -> Run {
    run(dir.billing().args(["--no-color", "validate", "-c", name]))
}

/// `billing plan -c NAME` in `env`'s directory, against its sandbox.
fn plan(env: &Env, name: &str) -> Run {
    run(env
        .dir
        .billing()
        .args(["--no-color", "plan", "-c", name, "--api-base"])
        .arg(env.sandbox.base_url())
        .env("STRIPE_SECRET_KEY", KEY))
}

/// A refusal as the project's rules want it: exit 1, nothing on stdout, no panic, no control
/// character for the terminal, and the closing line saying nothing was sent.
fn assert_refused(run: &Run, name: &str) {
    assert_eq!(run.code, 1, "{name}:\n{}{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty(), "{name}: {}", run.stdout);
    assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
    assert!(
        !run.stderr.chars().any(|c| c.is_control() && c != '\n'),
        "{name}: control characters in {:?}",
        run.stderr
    );
    assert!(
        run.stderr
            .trim_end()
            .ends_with("nothing was sent to Stripe.")
            || run.stderr.starts_with(&format!("error: {name} is ")),
        "{name}: {}",
        run.stderr
    );
}

#[test]
fn every_corpus_file_has_its_expected_outcome() {
    let on_disk: BTreeSet<String> = files_in(&corpus_dir())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let expected: BTreeSet<String> = CORPUS.iter().map(|e| e.file.to_owned()).collect();
    assert_eq!(
        on_disk, expected,
        "every file in tests/hostile needs an entry in CORPUS, and every entry a file"
    );
    let dir = Workdir::new();
    for expected in CORPUS {
        let bytes = std::fs::read(corpus_dir().join(expected.file)).unwrap();
        dir.write(expected.file, bytes);
        let run = validate(&dir, expected.file);
        let said = if expected.code == 0 {
            assert_eq!(run.code, 0, "{}:\n{}", expected.file, run.stderr);
            assert_eq!(run.stderr, "", "{}", expected.file);
            &run.stdout
        } else {
            assert_refused(&run, expected.file);
            &run.stderr
        };
        for text in expected.says {
            assert!(
                said.contains(text),
                "{}: expected {text:?} in:\n{said}",
                expected.file
            );
        }
    }
}

#[test]
fn plan_refuses_an_invalid_catalog_without_a_single_request() {
    let env = Env::new("");
    // A valid file first: it does reach the sandbox, so the count below means something.
    let valid = std::fs::read(corpus_dir().join("unicode_names.toml")).unwrap();
    env.dir.write("unicode_names.toml", valid);
    let accepted = plan(&env, "unicode_names.toml");
    assert_eq!(accepted.code, 0, "{}", accepted.stderr);
    assert!(accepted.has("Plan: 6 to create"), "{}", accepted.stdout);
    assert!(!env.sandbox.requests().is_empty());
    for name in [
        "invalid_utf8.toml",
        "nul_bytes.toml",
        "lookup_key_201.toml",
        "metadata_over_limits.toml",
        "utf16.toml",
    ] {
        env.sandbox.clear_requests();
        env.dir
            .write(name, std::fs::read(corpus_dir().join(name)).unwrap());
        let run = plan(&env, name);
        assert_refused(&run, name);
        assert!(
            run.stderr.starts_with(&format!("{name}:")),
            "{}",
            run.stderr
        );
        assert_eq!(env.sandbox.requests().len(), 0, "{name} reached Stripe");
    }
}

/// The seeds of a fuzz target: the committed `seed-*` files, not what a local run added.
fn seeds(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let seeds: Vec<PathBuf> = files_in(&dir)
        .into_iter()
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("seed-")
        })
        .collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// The fuzz targets' bodies (fuzz/fuzz_targets/*.rs call these) over the corpus and the
/// seeds, so that they run on stable in every test run.
#[test]
fn the_fuzz_entry_points_hold_on_the_corpus_and_the_seeds() {
    for path in files_in(&corpus_dir()).into_iter().chain(seeds("catalog")) {
        billing::fuzzing::catalog(&std::fs::read(&path).unwrap());
    }
    for path in seeds("plan_file") {
        billing::fuzzing::plan_file(&std::fs::read(&path).unwrap());
    }
}

#[test]
fn a_huge_catalog_is_read_and_one_past_the_limit_is_refused_unread() {
    let dir = Workdir::new();
    let line = format!("# {}\n", "x".repeat(98));
    let limit = usize::try_from(billing::MAX_CATALOG_BYTES).unwrap();
    let under = line.repeat(limit / line.len());
    dir.write("huge.toml", &under);
    let run = validate(&dir, "huge.toml");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("huge.toml is valid: 0 products"));

    dir.write("over.toml", format!("{under}{line}{line}"));
    let run = validate(&dir, "over.toml");
    assert_refused(&run, "over.toml");
    assert!(
        run.stderr
            .contains("a catalog may be at most 16777216 bytes"),
        "{}",
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn an_endless_device_or_pipe_as_the_catalog_is_refused_at_the_limit() {
    let dir = Workdir::new();
    let run = validate(&dir, "/dev/zero");
    assert_refused(&run, "/dev/zero");
    assert!(
        run.stderr
            .contains("/dev/zero is too large: a catalog may be at most 16777216 bytes"),
        "{}",
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn an_endless_device_as_a_plan_file_is_refused_at_the_limit() {
    let dir = Workdir::with_catalog("");
    let run = run(dir.billing().args(["--no-color", "show", "/dev/zero"]));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cannot read the plan file /dev/zero: a plan file may be at most 128 MiB"),
        "{}",
        run.stderr
    );
}

/// A catalog as large as allowed, every line of it a reference to a name nobody declared:
/// each problem is found and counted (the did-you-mean search has a budget, so this does not
/// take minutes; `time billing validate` on such a file shows it).
#[test]
fn a_catalog_at_the_size_limit_full_of_unknown_names_is_refused_with_every_problem_counted() {
    let dir = Workdir::new();
    let limit = usize::try_from(billing::MAX_CATALOG_BYTES).unwrap();
    let mut text = String::from("[products.pro]\nname = \"Pro\"\n\n");
    let mut i = 0;
    while text.len() < limit - 4096 {
        let name = format!("{i:06}{}", "q".repeat(60));
        text.push_str(&format!(
            "[coupons.c{i}]\npercent_off = 10\nduration = \"once\"\napplies_to = [\"{name}\", \"{name}x\"]\n\n"
        ));
        i += 1;
    }
    dir.write("adversarial.toml", &text);
    let run = validate(&dir, "adversarial.toml");
    assert_refused(&run, "adversarial.toml");
    assert!(
        run.stderr
            .contains(&format!("{} more problems are not shown", 2 * i - 100)),
        "every problem counted: {}",
        &run.stderr[run.stderr.len().saturating_sub(400)..]
    );
}

#[test]
fn a_megabyte_long_line_is_shown_cut_around_the_problem() {
    let dir = Workdir::with_catalog(&format!(
        "[products.pro]\nname = \"Pro\"\ndescription = \"{}\" # the end\n",
        "d".repeat(1 << 20)
    ));
    let run = validate(&dir, "billing.toml");
    assert_refused(&run, "billing.toml");
    assert!(
        run.stderr.contains(
            "billing.toml:3:15: error: `description` is 1048576 characters long; Stripe allows at most 40000"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("3 | description = \"ddd"),
        "{}",
        run.stderr
    );
    // Not the whole line and a million carets: a window of it.
    assert!(run.stderr.len() < 4_000, "{} bytes", run.stderr.len());
    assert!(run.stderr.contains("d…\n"), "{}", run.stderr);
}

#[test]
fn deep_nesting_is_refused_with_its_place_not_a_stack_overflow() {
    let dir = Workdir::new();
    let depth = 10_000;
    let cases = [
        (
            "arrays.toml",
            format!("a = {}{}\n", "[".repeat(depth), "]".repeat(depth)),
            "arrays.toml:1:",
        ),
        (
            "inline_tables.toml",
            format!(
                "[products.pro]\nname = \"Pro\"\nmetadata = {}1{}\n",
                "{ a = ".repeat(depth),
                " }".repeat(depth)
            ),
            "inline_tables.toml:3:",
        ),
        (
            "dotted.toml",
            format!("[products.{}]\n", vec!["a"; depth].join(".")),
            "dotted.toml:1:",
        ),
    ];
    for (name, text, place) in cases {
        dir.write(name, text);
        let run = validate(&dir, name);
        assert_refused(&run, name);
        assert!(run.stderr.starts_with(place), "{}", run.stderr);
        assert!(run.stderr.contains("error: invalid TOML"), "{}", run.stderr);
    }
}

#[test]
fn ten_thousand_products_validate_and_plan() {
    let mut catalog = String::new();
    for i in 0..10_000 {
        catalog.push_str(&format!(
            "[products.p{i:05}]\nname = \"Product {i}\"\ndefault_price = \"monthly\"\n\
             [products.p{i:05}.prices.monthly]\namount = \"{}.00\"\ncurrency = \"usd\"\ninterval = \"month\"\n\n",
            i % 100 + 1
        ));
    }
    let env = Env::new(&catalog);
    let run = validate(&env.dir, "billing.toml");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("billing.toml is valid: 10000 products, 10000 prices"),
        "{}",
        run.stdout
    );
    let run = plan(&env, "billing.toml");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.has("Plan: 20000 to create, 0 to update, 0 to replace, 0 to archive."),
        "{}",
        &run.stdout[run.stdout.len().saturating_sub(500)..]
    );
}

#[test]
fn a_hundred_thousand_problems_are_counted_and_the_first_hundred_shown() {
    let text: String = (0..100_000).map(|i| format!("x{i} = 1\n")).collect();
    let dir = Workdir::with_catalog(&text);
    let run = validate(&dir, "billing.toml");
    assert_refused(&run, "billing.toml");
    assert_eq!(run.stderr.matches(": error: unknown key").count(), 100);
    assert!(
        run.stderr
            .contains("billing.toml:100:1: error: unknown key `x99` at the top level"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.ends_with(
            "note: 99900 more problems are not shown: fix the first 100 and validate again.\n\
             error: billing.toml is not valid: 100000 problems found; nothing was sent to Stripe.\n"
        ),
        "{}",
        &run.stderr[run.stderr.len().saturating_sub(500)..]
    );
}

#[test]
fn a_saved_plan_whose_changes_list_other_operations_is_refused_not_a_crash() {
    let env = Env::new(crate::engine::PRO);
    let out = env.billing(&["plan", "--out", "plan.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut doc: serde_json::Value = serde_json::from_str(&env.dir.read("plan.json")).unwrap();
    doc["resource_changes"][0]["operations"] = serde_json::json!([18_446_744_073_709_551_615_u64]);
    env.dir.write("plan.json", doc.to_string());
    // Applying it: its MAC does not verify, so nothing else in it is looked at.
    assert_apply_unverified(&env.sandbox, "plan.json", || {
        run(env
            .dir
            .billing()
            .args(["apply", "plan.json", "--api-base"])
            .arg(env.sandbox.base_url())
            .env("STRIPE_SECRET_KEY", KEY))
    });
    // Showing it, which reads a file it cannot verify: refused, naming the problem.
    let shown = self::run(env.dir.billing().args(["show", "plan.json"]));
    assert_eq!(shown.code, 1, "{}{}", shown.stdout, shown.stderr);
    assert!(
        shown.stderr.contains("plan.json is not a usable billing plan file: the change to products.pro lists operation 18446744073709551615, which is not one of its own"),
        "{}",
        shown.stderr
    );
}

/// Text that would clear the screen, set the window title, write the clipboard (OSC 52), ring
/// the bell and move the cursor back over a line, as a TOML basic string.
const TERMINAL_ATTACK: &str = r"\u001b[2J\u001b]0;owned\u0007\u001b]52;c;aGk=\u0007\rOK\u009b31m";

/// Whether `text` holds a control character other than the line break.
fn has_controls(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n')
}

#[test]
fn text_from_a_catalog_reaches_the_terminal_shown_not_obeyed() {
    let env = Env::new(crate::engine::PRO);
    env.converge();
    // A name on one line, a description over several: a multi-line diff.
    env.set_catalog(
        &crate::engine::PRO
            .replace(
                "name = \"Pro\"",
                &format!("name = \"Pro{TERMINAL_ATTACK}\""),
            )
            .replace(
                "description = \"For growing teams\"",
                &format!("description = \"For growing teams\\n{TERMINAL_ATTACK}\\nand more\""),
            ),
    );
    for format in ["text", "markdown"] {
        let run = run(env
            .dir
            .billing()
            .args(["plan", "--format", format, "--api-base"])
            .arg(env.sandbox.base_url())
            .env("STRIPE_SECRET_KEY", KEY));
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        assert!(!has_controls(&run.stdout), "{format}: {:?}", run.stdout);
        assert!(!has_controls(&run.stderr), "{format}: {:?}", run.stderr);
        // Shown where it was, in the multi-line diff of the description.
        assert!(
            run.stdout.contains("␛[2J␛]0;owned␇␛]52;c;aGk=␇␍"),
            "{format}: {}",
            run.stdout
        );
    }
    // The text diff keeps its lines (a carriage return ends one for the diff, as before).
    let text = plan(&env, "billing.toml");
    assert!(
        text.stdout.contains(
            "\n        - For growing teams\n        + For growing teams\n        + ␛[2J␛]0;owned␇␛]52;c;aGk=␇␍\n        + OK<U+009B>31m\n        + and more\n"
        ),
        "{}",
        text.stdout
    );
}

#[test]
fn an_untrusted_plan_file_is_shown_with_its_control_characters_visible() {
    let env = Env::new(crate::engine::PRO);
    let out = env.billing(&["plan", "--out", "plan.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let attack: String = serde_json::from_str(&format!("\"{TERMINAL_ATTACK}\"")).unwrap();
    assert!(has_controls(&attack));
    let mut doc: serde_json::Value = serde_json::from_str(&env.dir.read("plan.json")).unwrap();
    let change = &mut doc["resource_changes"][0];
    change["title"] = format!("product {attack}").into();
    change["fields"][0]["after"]["value"] = format!("Pro\n{attack}").into();
    doc["notices"] = serde_json::json!([attack]);
    doc["environment"] = format!("live{attack}").into();
    env.dir.write("plan.json", doc.to_string());
    for format in ["text", "markdown"] {
        let shown = run(env
            .dir
            .billing()
            .args(["show", "plan.json", "--format", format]));
        assert_eq!(shown.code, 0, "{format}: {}", shown.stderr);
        assert!(!has_controls(&shown.stdout), "{format}: {:?}", shown.stdout);
        assert!(!has_controls(&shown.stderr), "{format}: {:?}", shown.stderr);
        assert!(
            format == "markdown" || shown.stdout.contains("Note: ␛[2J␛]0;owned␇␛]52;c;aGk=␇␍OK"),
            "{format}: {}",
            shown.stdout
        );
        assert!(
            shown.stderr.contains("warning: plan.json is unverified"),
            "{format}: {}",
            shown.stderr
        );
    }
}
