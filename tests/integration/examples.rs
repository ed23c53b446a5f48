//! The example GitHub Actions workflows in examples/github-actions: each is YAML with `on` and
//! `jobs`, every `billing` command in a `run:` script is accepted by the real binary, and the
//! workflows' commands, run in order with this repository's billing.toml against sandboxes
//! standing in for the test and live accounts, do what the workflows promise.
//!
//! Each command is checked by running it, as its step would, against a sandbox standing in for
//! the account its `-e` names (after the commands before it that write the file it reads):
//! a command missing an argument, with an unknown flag or an invalid value fails there. The
//! workflows install billing from a pinned release archive, checked against a pinned SHA-256;
//! the repository's release workflow (.github/workflows/release.yml) builds those archives.
//! Scripts are read the way a shell would, closely enough for workflows:
//! quotes, `\` continuations, comments, `|`, `||`, `&&`, `;`, `( )`, `$( )`, redirects, leading
//! `NAME=value` assignments and keywords such as `if`/`then`. A `${{ … }}` expression becomes the
//! placeholder `EXPR`, which is accepted where any string is (a path, a URL) and rejected where
//! clap wants one of a few values (`--format`).

use std::path::PathBuf;

use stripe_sandbox::test_support::{start, start_with};
use stripe_sandbox::{Sandbox, SandboxConfig};
use yaml_rust2::{Yaml, YamlLoader};

use crate::support::{Workdir, list_all, list_all_live, live_key, repository_catalog};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/github-actions");

/// The placeholder for a `${{ … }}` expression.
const EXPR: &str = "EXPR";

struct Workflow {
    /// The file name, e.g. `deploy.yml`.
    name: String,
    text: String,
    yaml: Yaml,
}

/// A `billing` command in a workflow's `run:` script.
#[derive(Debug)]
struct Invocation {
    job: String,
    step: String,
    /// The step's `env:` mapping, as written (`${{ … }}` values as they are).
    env: Vec<(String, String)>,
    /// The arguments after `billing`.
    args: Vec<String>,
}

impl Invocation {
    fn subcommand(&self) -> Option<&str> {
        self.args.first().map(String::as_str)
    }

    /// The value of `flag`, written `--flag value` or `--flag=value`.
    fn value_of(&self, flag: &str) -> Option<&str> {
        let prefix = format!("{flag}=");
        self.args.iter().enumerate().find_map(|(i, arg)| {
            if arg == flag {
                self.args.get(i + 1).map(String::as_str)
            } else {
                arg.strip_prefix(&prefix)
            }
        })
    }

    fn has(&self, arg: &str) -> bool {
        self.args.iter().any(|a| a == arg)
    }

    fn command_line(&self) -> String {
        format!("billing {}", self.args.join(" "))
    }
}

/// Every `.yml` file in examples/github-actions, parsed; panics (naming the file) on bad YAML.
fn workflows() -> Vec<Workflow> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(DIR)
        .unwrap_or_else(|e| panic!("cannot read {DIR}: {e}"))
        .map(|entry| entry.expect("read a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no .yml workflows in {DIR}");
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let mut docs = YamlLoader::load_from_str(&text)
                .unwrap_or_else(|e| panic!("{name} is not valid YAML: {e}"));
            assert_eq!(
                docs.len(),
                1,
                "{name} should hold exactly one YAML document"
            );
            Workflow {
                name,
                text,
                yaml: docs.remove(0),
            }
        })
        .collect()
}

fn workflow(name: &str) -> Workflow {
    workflows()
        .into_iter()
        .find(|w| w.name == name)
        .unwrap_or_else(|| panic!("{DIR}/{name} is missing"))
}

/// Every `billing` command in the workflow's `run:` scripts, in order.
fn invocations(workflow: &Workflow) -> Vec<Invocation> {
    let mut found = Vec::new();
    let Some(jobs) = workflow.yaml["jobs"].as_hash() else {
        return found;
    };
    for (job_id, job) in jobs {
        let job_id = job_id.as_str().unwrap_or("?").to_owned();
        for (i, step) in job["steps"].as_vec().into_iter().flatten().enumerate() {
            let Some(script) = step["run"].as_str() else {
                continue;
            };
            let step_name = step["name"]
                .as_str()
                .map_or_else(|| format!("step {}", i + 1), str::to_owned);
            let env: Vec<(String, String)> = step["env"]
                .as_hash()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    let value = v
                        .as_str()
                        .map(str::to_owned)
                        .or_else(|| v.as_bool().map(|b| b.to_string()))
                        .unwrap_or_default();
                    (k.as_str().unwrap_or("?").to_owned(), value)
                })
                .collect();
            for args in billing_commands(script) {
                found.push(Invocation {
                    job: job_id.clone(),
                    step: step_name.clone(),
                    env: env.clone(),
                    args,
                });
            }
        }
    }
    found
}

/// A piece of a shell command line: a word (quotes removed) or a control operator.
#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Op,
}

/// The arguments of every command in `script` whose command word is `billing` (or a path ending
/// in `/billing`).
fn billing_commands(script: &str) -> Vec<Vec<String>> {
    let script = replace_expressions(&script.replace("\\\r\n", "").replace("\\\n", ""));
    let mut commands = Vec::new();
    for line in script.lines() {
        let tokens = tokenize(line);
        for segment in tokens.split(|t| *t == Token::Op) {
            let mut words = segment.iter().map(|t| match t {
                Token::Word(w) => w.as_str(),
                Token::Op => unreachable!("split on operators"),
            });
            let command = words.find(|w| !is_assignment(w) && !is_keyword(w));
            if command.is_some_and(|c| c == "billing" || c.ends_with("/billing")) {
                commands.push(words.map(str::to_owned).collect());
            }
        }
    }
    commands
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "if" | "then" | "else" | "elif" | "do" | "while" | "until" | "!" | "{" | "time" | "exec"
    )
}

/// Replaces each `${{ … }}` with [`EXPR`].
fn replace_expressions(script: &str) -> String {
    let mut out = String::new();
    let mut rest = script;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(len) => {
                out.push_str(EXPR);
                rest = &rest[start + len + 2..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Splits one line into words and control operators, dropping comments and redirects.
fn tokenize(line: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    // Whether `word` has started (so that `""` is an empty word).
    let mut in_word = false;
    // The next word is a redirect's target: drop it.
    let mut skip_next = false;
    let mut chars = line.chars().peekable();

    fn end_word(tokens: &mut Vec<Token>, word: &mut String, in_word: &mut bool, skip: &mut bool) {
        if *in_word {
            if !std::mem::take(skip) {
                tokens.push(Token::Word(std::mem::take(word)));
            }
            word.clear();
            *in_word = false;
        }
    }

    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => end_word(&mut tokens, &mut word, &mut in_word, &mut skip_next),
            '#' if !in_word => break,
            '\'' => {
                in_word = true;
                word.extend(chars.by_ref().take_while(|&c| c != '\''));
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' if matches!(chars.peek(), Some('"' | '\\' | '$' | '`')) => {
                            word.push(chars.next().unwrap());
                        }
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            '$' if chars.peek() == Some(&'(') => {
                chars.next();
                end_word(&mut tokens, &mut word, &mut in_word, &mut skip_next);
                tokens.push(Token::Op);
            }
            '|' | ';' | '(' | ')' => {
                end_word(&mut tokens, &mut word, &mut in_word, &mut skip_next);
                if matches!(chars.peek(), Some('|' | ';')) {
                    chars.next();
                }
                tokens.push(Token::Op);
            }
            '&' if chars.peek() == Some(&'>') => {
                // `&>file`: both streams to a file.
                end_word(&mut tokens, &mut word, &mut in_word, &mut skip_next);
                chars.next();
                redirect_target(&mut chars, &mut skip_next);
            }
            '&' => {
                end_word(&mut tokens, &mut word, &mut in_word, &mut skip_next);
                if chars.peek() == Some(&'&') {
                    chars.next();
                }
                tokens.push(Token::Op);
            }
            '>' | '<' => {
                // A file descriptor number right before the redirect belongs to it: `2>`.
                if in_word && !word.is_empty() && word.chars().all(|c| c.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                } else {
                    end_word(&mut tokens, &mut word, &mut in_word, &mut skip_next);
                }
                if matches!(chars.peek(), Some('>' | '<')) {
                    chars.next();
                }
                redirect_target(&mut chars, &mut skip_next);
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut tokens, &mut word, &mut in_word, &mut skip_next);
    tokens
}

/// After a redirect operator: `&1` or `&-` is consumed here; otherwise the next word is the file.
fn redirect_target(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, skip_next: &mut bool) {
    if chars.peek() == Some(&'&') {
        chars.next();
        while chars
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || *c == '-')
        {
            chars.next();
        }
    } else {
        *skip_next = true;
    }
}

#[test]
fn the_script_reader_finds_billing_commands_as_a_shell_would() {
    let script = "\
# billing plan in a comment is not a command
echo '### billing plan failed' >> \"$GITHUB_STEP_SUMMARY\"
cargo install --locked --git https://github.com/OWNER/billing billing
status=0
billing plan --api-base ${{ vars.API_BASE }} --format markdown \\
  --out plan.json > plan.md 2>&1 || status=$?
if [ \"$A\" = true ]; then FOO=1 ./target/release/billing apply \"plan.json\" | tee log; fi
x=$(billing show plan.json --format json) # trailing comment
";
    assert_eq!(
        billing_commands(script),
        vec![
            vec![
                "plan",
                "--api-base",
                EXPR,
                "--format",
                "markdown",
                "--out",
                "plan.json"
            ],
            vec!["apply", "plan.json"],
            vec!["show", "plan.json", "--format", "json"],
        ]
    );
}

#[test]
fn every_example_workflow_is_yaml_with_on_and_jobs() {
    for workflow in workflows() {
        let name = &workflow.name;
        let yaml = &workflow.yaml;
        assert!(!yaml["on"].is_badvalue(), "{name} has no `on:` trigger");
        let jobs = yaml["jobs"]
            .as_hash()
            .unwrap_or_else(|| panic!("{name} has no `jobs:` mapping"));
        assert!(!jobs.is_empty(), "{name} has no jobs");
        for (job_id, job) in jobs {
            let job_id = job_id.as_str().unwrap_or("?");
            assert!(
                !job["runs-on"].is_badvalue(),
                "{name}: job `{job_id}` has no `runs-on:`"
            );
            let steps = job["steps"]
                .as_vec()
                .unwrap_or_else(|| panic!("{name}: job `{job_id}` has no `steps:` list"));
            for (i, step) in steps.iter().enumerate() {
                assert!(
                    step["run"].as_str().is_some() || step["uses"].as_str().is_some(),
                    "{name}: job `{job_id}`, step {} has neither `run:` nor `uses:`",
                    i + 1
                );
            }
        }
    }
}

#[test]
fn every_billing_command_in_the_examples_runs_against_the_sandbox() {
    let mut problems = Vec::new();
    for workflow in workflows() {
        let found = invocations(&workflow);
        if found.is_empty() {
            problems.push(format!(
                "{}: no `billing` command in any `run:`",
                workflow.name
            ));
        }
        for (i, invocation) in found.iter().enumerate() {
            // A fresh account and directory, holding what the commands before it wrote that it
            // reads (the plan file `apply` and `show` take).
            let runner = Runner::new();
            for earlier in &found[..i] {
                if earlier
                    .value_of("--out")
                    .is_some_and(|file| invocation.has(file))
                {
                    runner.expect(earlier, &[0, 2]);
                }
            }
            let ran = runner.run(invocation);
            if ![0, 2].contains(&ran.code) {
                problems.push(format!(
                    "{}: job `{}`, step `{}`: `{}` exited {}:\n{}",
                    workflow.name,
                    invocation.job,
                    invocation.step,
                    invocation.command_line(),
                    ran.code,
                    ran.stderr.trim_end(),
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n\n"));
}

#[test]
fn the_examples_run_a_pinned_release_binary_checked_against_its_checksum() {
    for workflow in workflows() {
        let name = &workflow.name;
        assert!(
            !workflow.text.contains("cargo install"),
            "{name} should download a release binary, not compile billing"
        );
        let pinned = workflow.yaml["env"]["BILLING_SHA256"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} should pin BILLING_SHA256"));
        assert!(
            pinned.len() == 64 && pinned.bytes().all(|b| b.is_ascii_hexdigit()),
            "{name}: BILLING_SHA256 should be a SHA-256 in hex"
        );
        assert!(
            workflow.yaml["env"]["BILLING_VERSION"]
                .as_str()
                .is_some_and(|v| v.starts_with('v')),
            "{name} should pin BILLING_VERSION to a release tag"
        );
        let jobs = workflow.yaml["jobs"].as_hash().expect("jobs");
        for (job_id, job) in jobs {
            let steps = job["steps"].as_vec().expect("steps");
            let install = steps
                .iter()
                .filter_map(|step| step["run"].as_str())
                .find(|run| run.contains("$BILLING_URL/$BILLING_VERSION/"))
                .unwrap_or_else(|| panic!("{name}: job {job_id:?} should download billing"));
            let archive = release_archives()
                .into_iter()
                .find(|a| install.contains(&format!("archive={a}")))
                .unwrap_or_else(|| {
                    panic!("{name}: job {job_id:?} downloads no archive the release publishes")
                });
            assert!(archive.contains("linux-musl"), "{archive}");
            let check = install.find("sha256sum --check").unwrap_or_else(|| {
                panic!("{name}: job {job_id:?} should check the archive's SHA-256")
            });
            let unpack = install.find("tar -xzf").expect("the archive is unpacked");
            assert!(
                check < unpack,
                "{name}: the checksum is checked before unpacking"
            );
        }
    }
}

/// The file names of the archives the release workflow publishes.
fn release_archives() -> Vec<String> {
    let release = release_workflow();
    let matrix = release["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_vec()
        .expect("the release builds a matrix of targets");
    matrix
        .iter()
        .map(|entry| {
            let target = entry["target"].as_str().expect("a target");
            let extension = if target.contains("windows") {
                "zip"
            } else {
                "tar.gz"
            };
            format!("billing-{target}.{extension}")
        })
        .collect()
}

fn release_workflow() -> Yaml {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/.github/workflows/release.yml");
    let text = std::fs::read_to_string(path).expect("the repository has a release workflow");
    YamlLoader::load_from_str(&text)
        .expect("release.yml is YAML")
        .remove(0)
}

#[test]
fn the_release_workflow_builds_every_platform_on_a_tag_and_publishes_checksums() {
    let release = release_workflow();
    let tags = release["on"]["push"]["tags"]
        .as_vec()
        .expect("on: push: tags");
    assert!(tags.iter().any(|t| t.as_str() == Some("v*")));
    let archives = release_archives();
    for target in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(
            archives.iter().any(|a| a.contains(target)),
            "release.yml builds no {target}"
        );
    }
    let steps = release["jobs"]["release"]["steps"].as_vec().expect("steps");
    let scripts: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(
        scripts
            .iter()
            .any(|s| s.contains("sha256sum") && s.contains("SHA256SUMS"))
    );
    assert!(scripts.iter().any(|s| s.contains("gh release create")));
    assert_eq!(
        release["jobs"]["release"]["permissions"]["contents"].as_str(),
        Some("write")
    );
}

#[test]
fn the_plan_comment_workflow_posts_the_markdown_plan_found_by_its_marker() {
    let workflow = workflow("plan-comment.yml");
    let plans: Vec<_> = invocations(&workflow)
        .into_iter()
        .filter(|i| i.subcommand() == Some("plan"))
        .collect();
    assert!(
        plans
            .iter()
            .any(|plan| plan.value_of("--format") == Some("markdown")
                && plan.has("--detailed-exitcode")
                && plan.value_of("--out").is_some()),
        "plan-comment.yml should run `billing plan --format markdown --detailed-exitcode --out FILE`; \
         found {:?}",
        plans
            .iter()
            .map(Invocation::command_line)
            .collect::<Vec<_>>()
    );
    assert!(
        workflow.text.contains("pull_request"),
        "plan-comment.yml should run on pull requests"
    );

    // The workflow finds its comment by the first line billing actually prints.
    let dir = Workdir::with_catalog(&repository_catalog());
    let output = dir
        .billing()
        .args(["plan", "--format", "markdown"])
        .output()
        .expect("run the billing binary");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 Markdown");
    let marker = stdout.lines().next().expect("a Markdown plan");
    assert!(
        marker.starts_with("<!--") && workflow.text.contains(&format!("'{marker}'")),
        "plan-comment.yml should find its comment by billing's marker {marker:?}"
    );
}

#[test]
fn the_deploy_workflow_applies_the_plan_file_it_saved() {
    let workflow = workflow("deploy.yml");
    let found = invocations(&workflow);
    let plan = found
        .iter()
        .find(|i| i.subcommand() == Some("plan") && i.value_of("--out").is_some())
        .unwrap_or_else(|| panic!("deploy.yml should save a plan with `billing plan --out FILE`"));
    let file = plan.value_of("--out").unwrap();
    let applies: Vec<_> = found
        .iter()
        .filter(|i| i.subcommand() == Some("apply"))
        .collect();
    assert!(
        !applies.is_empty(),
        "deploy.yml should run `billing apply {file}`"
    );
    for apply in applies {
        assert!(
            apply.has(file),
            "deploy.yml: `{}` should apply the saved plan {file}",
            apply.command_line()
        );
        // A plan applies only to the environment it was made for.
        assert_eq!(
            apply.value_of("-e"),
            plan.value_of("-e"),
            "deploy.yml: `{}` and `{}` should target the same environment",
            plan.command_line(),
            apply.command_line()
        );
    }
    assert!(
        !workflow.yaml["concurrency"].is_badvalue(),
        "deploy.yml should have a `concurrency:` group so that deploys never overlap"
    );
}

/// Two sandboxes standing in for the Stripe accounts of billing.toml's `test` and `live`
/// environments, and a directory holding this repository's billing.toml, in which workflow
/// commands run as a runner would run them.
struct Runner {
    dir: Workdir,
    test: Sandbox,
    live: Sandbox,
}

/// How one workflow command ended.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Runner {
    fn new() -> Self {
        Self {
            dir: Workdir::with_catalog(&repository_catalog()),
            test: start(),
            live: start_with(SandboxConfig {
                live: true,
                ..SandboxConfig::default()
            }),
        }
    }

    /// The sandbox standing in for environment `env`.
    fn account(&self, env: &str) -> &Sandbox {
        match env {
            "test" => &self.test,
            "live" => &self.live,
            other => panic!("the examples name environment `{other}`; expected test or live"),
        }
    }

    /// Runs `invocation` as its step would: with the variables the step's `env:` sets (a
    /// `${{ secrets.* }}` key variable becomes a key of the mode the secret's name says), none of the
    /// outside's Stripe variables, and `BILLING_API_BASE` pointing at the sandbox of the
    /// environment its `-e` names.
    fn run(&self, invocation: &Invocation) -> Ran {
        let env = invocation.value_of("-e").unwrap_or_else(|| {
            panic!(
                "`{}` names no environment with -e: it would plan billing.toml's default \
                 (`local`, the embedded sandbox)",
                invocation.command_line()
            )
        });
        assert!(
            !invocation.args.iter().any(|a| a.contains(EXPR)),
            "`{}`: a workflow's billing command should not depend on a `${{{{ … }}}}` expression",
            invocation.command_line()
        );
        let mut cmd = self.dir.billing();
        for var in [
            "STRIPE_TEST_SECRET_KEY",
            "STRIPE_LIVE_SECRET_KEY",
            "BILLING_API_BASE",
        ] {
            cmd.env_remove(var);
        }
        for (name, value) in &invocation.env {
            let value = if !value.contains("secrets.") {
                value.clone()
            } else if !name.ends_with("_SECRET_KEY") {
                // Another secret (a token for `gh`): a stand-in.
                "stand-in".to_owned()
            } else if value.to_ascii_uppercase().contains("LIVE") {
                live_key()
            } else {
                "sk_test_examples_stand_in".to_owned()
            };
            cmd.env(name, value);
        }
        cmd.env("BILLING_API_BASE", self.account(env).base_url());
        let output = cmd
            .args(&invocation.args)
            .output()
            .expect("run the billing binary");
        Ran {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs `invocation`, which must exit with one of `codes`.
    fn expect(&self, invocation: &Invocation, codes: &[i32]) -> Ran {
        let ran = self.run(invocation);
        assert!(
            codes.contains(&ran.code),
            "job `{}`, step `{}`: `{}` exited {} (expected {codes:?})\nstdout:\n{}\nstderr:\n{}",
            invocation.job,
            invocation.step,
            invocation.command_line(),
            ran.code,
            ran.stdout,
            ran.stderr
        );
        ran
    }
}

/// The workflow's commands of job `job`, in order.
fn job_commands<'a>(found: &'a [Invocation], job: &str) -> Vec<&'a Invocation> {
    found.iter().filter(|i| i.job == job).collect()
}

#[test]
fn the_plan_comment_workflow_plans_the_test_environment_of_this_repositorys_catalog() {
    let runner = Runner::new();
    let found = invocations(&workflow("plan-comment.yml"));
    assert!(!found.is_empty());
    for invocation in &found {
        assert_eq!(
            invocation.value_of("-e"),
            Some("test"),
            "{}",
            invocation.command_line()
        );
        // The workflow's case statement accepts 0 (no changes) and 2 (changes).
        let ran = runner.expect(invocation, &[0, 2]);
        assert_eq!(
            ran.code, 2,
            "an empty test account has everything to create"
        );
        assert!(
            ran.stdout.starts_with("<!-- billing-plan -->"),
            "the comment's body: {}",
            ran.stdout
        );
    }
    // It read the test account, and only that: the live account saw nothing, and nothing was
    // written anywhere.
    assert!(!runner.test.requests().is_empty());
    assert!(runner.live.requests().is_empty());
    assert!(list_all(&runner.test, "/v1/products").is_empty());
    assert!(runner.dir.path().join("plan.json").exists());
}

#[test]
fn the_deploy_workflow_plans_and_applies_live_and_refuses_a_removal_without_allow_destroy() {
    let runner = Runner::new();
    let found = invocations(&workflow("deploy.yml"));
    let plan_job = job_commands(&found, "plan");
    let apply_job = job_commands(&found, "apply");
    assert!(!plan_job.is_empty() && !apply_job.is_empty());
    let (with_destroy, without_destroy): (Vec<&Invocation>, Vec<&Invocation>) =
        apply_job.iter().partition(|i| i.has("--allow-destroy"));
    let (with_destroy, without_destroy) = (with_destroy[0], without_destroy[0]);

    // A push: the plan job saves a plan with changes (and shows it on the run's summary page),
    // the apply job applies it to live.
    let run_plan_job = |expected: i32| {
        let mut planned = None;
        for invocation in &plan_job {
            if invocation.subcommand() == Some("plan") {
                planned = Some(runner.expect(invocation, &[expected]));
            } else {
                runner.expect(invocation, &[0]);
            }
        }
        planned.expect("the plan job runs billing plan")
    };
    run_plan_job(2);
    runner.expect(without_destroy, &[0]);
    let products = list_all_live(&runner.live, "/v1/products");
    assert!(
        !products.is_empty(),
        "the apply job created the catalog in live"
    );
    assert!(
        runner.test.requests().is_empty(),
        "the deploy never touches the test account"
    );
    // `[environments.live]` writes its ids after the apply.
    let ids = runner.dir.read("generated/billing.live.json");
    assert!(ids.contains("prod_"), "{ids}");

    // The next push plans nothing: the apply job does not run.
    run_plan_job(0);

    // A price leaves billing.toml: archiving it in live needs --allow-destroy. The push's apply
    // refuses the plan (and the plan said it would); the hand-run deploy applies it.
    let catalog = repository_catalog();
    let start = catalog
        .find("[products.starter.prices.annual]")
        .expect("the repository's catalog has starter's annual price");
    let end = start
        + catalog[start..]
            .find("\n\n")
            .expect("a blank line after it");
    runner.dir.write(
        "billing.toml",
        format!("{}{}", &catalog[..start], &catalog[end + 2..]),
    );
    let planned = run_plan_job(2);
    assert!(
        planned.stdout.contains("--allow-destroy") || planned.stderr.contains("--allow-destroy"),
        "the plan says apply will need --allow-destroy:\n{}{}",
        planned.stdout,
        planned.stderr
    );
    let refused = runner.expect(without_destroy, &[1]);
    assert!(
        refused.stderr.contains("--allow-destroy"),
        "{}",
        refused.stderr
    );
    runner.expect(with_destroy, &[0]);
    let archived = list_all_live(&runner.live, "/v1/prices?active=false");
    assert_eq!(archived.len(), 1, "the annual price is archived in live");
    run_plan_job(0);
}
