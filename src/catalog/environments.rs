//! `[environments.<name>]`: which accounts one catalog serves, which one a run uses, and the
//! small, explicit differences between them — an entry limited to some environments
//! (`environments = ["live"]`) and fields overridden for one (`[<entry>.overrides.<env>]`).
//!
//! Differences are resolved on the TOML tables before anything else reads them, so an
//! overridden value is checked like any other and its problems point at the override.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;
use toml::de::{DeArray, DeTable, DeValue};

use super::diagnostic::{Diagnostic, Sink};
use super::reader::{Sp, TableReader};
use super::shape::{Table, Ty, field};
use crate::resource::KeyMode;
use crate::resource::{Address, ResourceKind};

/// The variable holding the key when an environment names none.
pub(crate) const DEFAULT_KEY_VAR: &str = "STRIPE_SECRET_KEY";

/// The environment billing uses when billing.toml declares none: the embedded sandbox.
pub(crate) const EMBEDDED: &str = "sandbox";

/// One declared environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Environment {
    pub name: String,
    /// The variable the secret key is read from.
    pub secret_key_env: String,
    pub mode: KeyMode,
    /// The account it must be (`acct_…`); any other is refused.
    pub account: Option<String>,
    /// Where its API is (default: Stripe's).
    pub api_base: Option<String>,
    /// The embedded sandbox, with its state under `.billing/<name>/`.
    pub sandbox: bool,
    /// A file written with the environment's Stripe ids after each successful apply, relative
    /// to billing.toml.
    pub outputs: Option<String>,
}

/// Which environment a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnvChoice<'a> {
    /// `billing validate` without `-e`: the catalog as written, and as each environment sees it.
    All,
    /// The environment named by `-e`, else the default rules (docs/stripe-rules.md#environments).
    Pick(Option<&'a str>),
}

/// `[environments.<name>]`.
pub(super) static ENVIRONMENT: Table = Table::of(&[
    field(
        "secret_key_env",
        Ty::Text,
        "The environment variable holding its secret key (default STRIPE_SECRET_KEY).",
    ),
    field(
        "mode",
        Ty::Word(&["test", "live"]),
        "The mode of its key: billing refuses a key of the other mode (required unless sandbox).",
    ),
    field(
        "account",
        Ty::Text,
        "The account it must be (acct_…): any other is refused.",
    ),
    field(
        "api_base",
        Ty::Text,
        "Where its API is (default https://api.stripe.com).",
    ),
    field(
        "sandbox",
        Ty::Bool,
        "The embedded local sandbox, its state in .billing/<name>/.",
    ),
    field(
        "outputs",
        Ty::Text,
        "A file written with its Stripe ids after each successful apply, relative to billing.toml (.json, .toml, .ts or .env).",
    ),
]);

/// The file formats `outputs` can be written in, by extension.
pub(crate) const OUTPUT_EXTENSIONS: &[&str] = &["json", "toml", "ts", "env"];

/// The format a file name's extension names: `ids.json` → `json`; `.env` and `app.env` →
/// `env`.
pub(crate) fn output_format(path: &str) -> Option<&'static str> {
    let name = std::path::Path::new(path).file_name()?.to_str()?;
    let extension = if name == ".env" {
        "env"
    } else {
        name.rsplit_once('.').map(|(_, e)| e)?
    };
    OUTPUT_EXTENSIONS.iter().find(|e| **e == extension).copied()
}

fn env_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Reads and checks `[environments.<name>]`.
pub(crate) fn read(sink: &Sink, root: &DeTable<'_>) -> BTreeMap<String, Environment> {
    let mut out = BTreeMap::new();
    let Some(value) = root.get("environments") else {
        return out;
    };
    let DeValue::Table(table) = value.get_ref() else {
        sink.push(
            Diagnostic::new(
                value.span(),
                "`environments` must be a table of environments",
            )
            .hint("declare each as [environments.<name>]"),
        );
        return out;
    };
    for (name, value) in table {
        if let Some(env) = environment(sink, name, value) {
            out.insert(env.name.clone(), env);
        }
    }
    out
}

/// One `[environments.<name>]`; `None` when its name, table or mode is unusable.
fn environment(
    sink: &Sink,
    name: &Sp<Cow<'_, str>>,
    value: &Sp<DeValue<'_>>,
) -> Option<Environment> {
    if !env_name_ok(name.get_ref()) {
        sink.push(
            Diagnostic::new(
                name.span(),
                format!("environment name `{}` is not allowed", name.get_ref()),
            )
            .hint("use lowercase letters, digits, `_` and `-` (at most 40)"),
        );
        return None;
    }
    let DeValue::Table(t) = value.get_ref() else {
        sink.push(Diagnostic::new(
            value.span(),
            format!("environment `{}` must be a table", name.get_ref()),
        ));
        return None;
    };
    let where_ = format!("in [environments.{}]", name.get_ref());
    let r = TableReader::new(sink, where_, name.span(), t, &ENVIRONMENT);
    let sandbox = r.boolean("sandbox").is_some_and(|b| *b.get_ref());
    let mode = mode(&r, name, sandbox);
    let secret_key_env = r
        .string("secret_key_env")
        .map_or_else(|| DEFAULT_KEY_VAR.to_owned(), |v| secret_key_env(sink, &v));
    let account = r.string("account").map(|a| account(sink, &a));
    let api_base = r.string("api_base").map(|u| api_base(sink, &u, sandbox));
    let outputs = r.string("outputs").map(|o| outputs(sink, &o));
    r.finish();
    Some(Environment {
        name: name.get_ref().to_string(),
        secret_key_env,
        mode: mode?,
        account,
        api_base,
        sandbox,
        outputs,
    })
}

/// `mode`: `test` or `live`; a sandbox environment is in test mode, and needs none.
fn mode(r: &TableReader<'_, '_>, name: &Sp<Cow<'_, str>>, sandbox: bool) -> Option<KeyMode> {
    let sink = r.sink();
    let Some(m) = r.string("mode") else {
        if sandbox {
            return Some(KeyMode::Test);
        }
        sink.push(
            Diagnostic::new(
                name.span(),
                format!("environment `{}` needs `mode`", name.get_ref()),
            )
            .hint("mode = \"test\" or mode = \"live\": billing refuses a key of the other mode"),
        );
        return None;
    };
    match m.get_ref().as_str() {
        "test" => Some(KeyMode::Test),
        "live" => {
            if sandbox {
                sink.push(
                    Diagnostic::new(m.span(), "a sandbox environment is in test mode")
                        .label("the embedded sandbox has test data only"),
                );
            }
            Some(KeyMode::Live)
        }
        other => {
            sink.push(
                Diagnostic::new(
                    m.span(),
                    format!("`mode` must be \"test\" or \"live\", not {other:?}"),
                )
                .label("unknown mode"),
            );
            None
        }
    }
}

/// `secret_key_env`: the name of the variable holding the key, never a key.
fn secret_key_env(sink: &Sink, v: &Sp<String>) -> String {
    let text = v.get_ref();
    let ok = text
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_uppercase() || b == b'_')
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    let looks_like_key = ["sk_", "rk_", "pk_"].iter().any(|p| text.starts_with(p));
    if looks_like_key {
        sink.push(
            Diagnostic::new(v.span(), "`secret_key_env` holds what looks like a Stripe key")
                .hint("remove it from billing.toml (and from version control) now and roll the key in the Dashboard; write the name of the variable that holds the key, e.g. \"STRIPE_LIVE_SECRET_KEY\"")
                .secret(),
        );
    } else if !ok {
        sink.push(
            Diagnostic::new(v.span(), "`secret_key_env` must name an environment variable")
                .label("not a variable name")
                .hint("the key itself never goes in billing.toml: write the variable that holds it, e.g. \"STRIPE_LIVE_SECRET_KEY\""),
        );
    }
    text.clone()
}

/// `account`: a Stripe account id.
fn account(sink: &Sink, a: &Sp<String>) -> String {
    let text = a.get_ref();
    let ok = text
        .strip_prefix("acct_")
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !ok {
        sink.push(
            Diagnostic::new(
                a.span(),
                format!("`account` {text:?} is not a Stripe account id"),
            )
            .label("expected acct_…")
            .hint("the id shown in the Dashboard under Settings → Account details"),
        );
    }
    text.clone()
}

/// An API base URL written with Stripe's version path (`https://api.stripe.com/v1`): the URL
/// without it, which is what billing takes (it adds `/v1` to every request itself).
pub(crate) fn without_version(url: &str) -> Option<&str> {
    url.trim_end_matches('/').strip_suffix("/v1")
}

/// `api_base`: an http(s) URL (none for a sandbox environment), without a trailing `/`.
fn api_base(sink: &Sink, u: &Sp<String>, sandbox: bool) -> String {
    let text = u.get_ref();
    let ok = (text.starts_with("https://") || text.starts_with("http://"))
        && text.len() > "https://".len()
        && !text.contains(char::is_whitespace);
    if !ok {
        sink.push(
            Diagnostic::new(u.span(), "`api_base` must be an http(s) URL")
                .hint("e.g. \"https://api.stripe.com\", or a `billing sandbox` at \"http://127.0.0.1:12111\""),
        );
    }
    if let Some(base) = without_version(text) {
        sink.push(
            Diagnostic::new(
                u.span(),
                "`api_base` ends in /v1, which billing adds itself",
            )
            .label("every request would go to /v1/v1/…")
            .hint(format!("write \"{base}\"")),
        );
    }
    if sandbox {
        sink.push(
            Diagnostic::new(u.span(), "a sandbox environment has no `api_base`")
                .hint("remove `sandbox = true` to use this API, or `api_base` to use the embedded sandbox"),
        );
    }
    text.trim_end_matches('/').to_owned()
}

/// How `path` would leave the directory it is relative to: an absolute path (`/…`, `\\…`,
/// `C:…`), or `..` climbing above where it started. Both separators count, whatever the system,
/// so that a catalog means the same everywhere.
pub(super) fn leaves_directory(path: &str) -> Option<&'static str> {
    let drive =
        path.len() >= 2 && path.as_bytes()[0].is_ascii_alphabetic() && path.as_bytes()[1] == b':';
    if path.starts_with(['/', '\\']) || drive {
        return Some("an absolute path");
    }
    let mut depth: usize = 0;
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(up) => depth = up,
                None => return Some("climbs out with `..`"),
            },
            _ => depth += 1,
        }
    }
    None
}

/// `outputs`: a file inside billing.toml's directory whose extension names a format billing
/// writes.
fn outputs(sink: &Sink, o: &Sp<String>) -> String {
    let text = o.get_ref();
    if let Some(how) = leaves_directory(text) {
        sink.push(
            Diagnostic::new(
                o.span(),
                format!("`outputs` {text:?} must stay inside the directory of billing.toml"),
            )
            .label(how)
            .hint("write a path relative to billing.toml, such as \"generated/billing.live.json\""),
        );
    }
    if output_format(text).is_none() {
        sink.push(
            Diagnostic::new(
                o.span(),
                format!("`outputs` {text:?} must end in .json, .toml, .ts or .env"),
            )
            .label("the extension chooses the format"),
        );
    }
    text.clone()
}

/// Why no environment could be chosen for a run: a mistake in `-e` (or a missing `-e`), not
/// in billing.toml, which may well be valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub(crate) struct ChoiceError {
    /// What is wrong, naming `-e`/`--env` and the environments billing.toml declares.
    pub message: String,
    /// What to pass instead.
    pub hint: String,
}

/// The declared environment names as a sentence: `local, test and live`.
fn listed(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => format!("`{one}`"),
        [rest @ .., last] => {
            let rest: Vec<String> = rest.iter().map(|n| format!("`{n}`")).collect();
            format!("{} and `{last}`", rest.join(", "))
        }
    }
}

/// The environment a run uses, or `None` for the embedded sandbox of a catalog that declares
/// none. `-e`, else `default_environment`, else the embedded sandbox when none is declared,
/// else the only test environment; a live environment is never picked implicitly. A choice
/// that cannot be made is the flag's problem, not the file's.
pub(crate) fn select(
    sink: &Sink,
    envs: &BTreeMap<String, Environment>,
    default: Option<&Sp<String>>,
    flag: Option<&str>,
) -> Result<Option<String>, ChoiceError> {
    let names: Vec<&str> = envs.keys().map(String::as_str).collect();
    if let Some(name) = flag {
        if envs.contains_key(name) || (envs.is_empty() && name == EMBEDDED) {
            return Ok((!envs.is_empty()).then(|| name.to_owned()));
        }
        if envs.is_empty() {
            return Err(ChoiceError {
                message: format!(
                    "-e/--env {name}: billing.toml declares no environments; without any, billing uses the embedded sandbox (`-e {EMBEDDED}`)"
                ),
                hint: format!(
                    "leave out -e, or declare [environments.{name}] in billing.toml (see the README's environments section)"
                ),
            });
        }
        let hint = match sink.suggest(name, &names) {
            Some(best) => format!("did you mean `-e {best}`?"),
            None => format!(
                "pass -e with an environment billing.toml declares, or declare [environments.{name}] in it"
            ),
        };
        return Err(ChoiceError {
            message: format!(
                "-e/--env {name}: billing.toml declares no environment `{name}` (it declares {})",
                listed(&names)
            ),
            hint,
        });
    }
    if let Some(default) = default {
        // Checked where it is read: here it names a declared environment.
        return Ok(envs
            .contains_key(default.get_ref().as_str())
            .then(|| default.get_ref().clone()));
    }
    if envs.is_empty() {
        return Ok(None);
    }
    let tests: Vec<&Environment> = envs.values().filter(|e| e.mode == KeyMode::Test).collect();
    match tests.as_slice() {
        [only] => Ok(Some(only.name.clone())),
        [] => Err(ChoiceError {
            message: format!(
                "no environment chosen: billing.toml declares only live environments ({}), and billing never picks a live one by itself",
                names.join(", ")
            ),
            hint: format!("pass -e {} to use it", names[0]),
        }),
        several => {
            let several: Vec<&str> = several.iter().map(|e| e.name.as_str()).collect();
            Err(ChoiceError {
                message: format!(
                    "no environment chosen: billing.toml declares several test environments ({})",
                    several.join(", ")
                ),
                hint: "pass -e NAME, or set default_environment in billing.toml".to_owned(),
            })
        }
    }
}

/// Checks `default_environment` against the declared environments.
pub(crate) fn check_default(
    sink: &Sink,
    envs: &BTreeMap<String, Environment>,
    default: Option<&Sp<String>>,
) {
    let Some(default) = default else { return };
    let name = default.get_ref();
    if envs.contains_key(name.as_str()) {
        return;
    }
    let names: Vec<&str> = envs.keys().map(String::as_str).collect();
    let d = Diagnostic::new(
        default.span(),
        if envs.is_empty() {
            format!("`default_environment` is {name:?}, but billing.toml declares no environments")
        } else {
            format!("`default_environment` is {name:?}, which is not declared")
        },
    )
    .label("unknown environment");
    let hint = sink.did_you_mean(name, &names);
    sink.push(d.hint(hint.unwrap_or_else(|| format!("declare it as [environments.{name}]"))));
}

/// Reads an entry's `environments` list: `None` when absent, else the names (checked).
fn limits(
    sink: &Sink,
    table: &DeTable<'_>,
    envs: &BTreeMap<String, Environment>,
    entry: &str,
) -> Option<Vec<String>> {
    let value = table.get("environments")?;
    let names: Vec<&str> = envs.keys().map(String::as_str).collect();
    let DeValue::Array(items) = value.get_ref() else {
        sink.push(
            Diagnostic::new(
                value.span(),
                format!("`environments` of {entry} must be a list of environment names"),
            )
            .hint("e.g. environments = [\"live\"]"),
        );
        return Some(Vec::new());
    };
    let mut out = Vec::new();
    if items.is_empty() {
        sink.push(
            Diagnostic::new(
                value.span(),
                format!("{entry} is limited to no environment at all"),
            )
            .hint("remove the entry, or name the environments it belongs to"),
        );
    }
    for item in items.iter() {
        let DeValue::String(name) = item.get_ref() else {
            sink.push(Diagnostic::new(
                item.span(),
                "an environment name must be a string",
            ));
            continue;
        };
        if !envs.contains_key(name.as_ref()) {
            let d = Diagnostic::new(item.span(), format!("no environment `{name}` is declared"))
                .label("unknown environment");
            let hint = sink.did_you_mean(name, &names);
            sink.push(
                d.hint(hint.unwrap_or_else(|| format!("declare it as [environments.{name}]"))),
            );
        }
        out.push(name.to_string());
    }
    Some(out)
}

/// The environments declared, and the one entries are resolved for (`None`: as written,
/// checking names only).
#[derive(Clone, Copy)]
struct Resolution<'e> {
    envs: &'e BTreeMap<String, Environment>,
    selected: Option<&'e str>,
}

/// Resolves one entry for `at.selected`: `false` when it is limited to other environments.
/// Its `environments` and `overrides` keys are checked and removed; the selected
/// environment's overrides replace the fields they name.
fn resolve_entry(
    sink: &Sink,
    table: &mut DeTable<'_>,
    at: Resolution<'_>,
    entry: &str,
    nested: &[&str],
) -> bool {
    let list = limits(sink, table, at.envs, entry);
    let keep = match (&list, at.selected) {
        (Some(list), Some(env)) => list.iter().any(|n| n == env),
        _ => true,
    };
    if !keep && let (Some(list), Some(env)) = (&list, at.selected) {
        // `[products.pro.prices.annual]` → `products.pro.prices.annual`.
        let table = entry
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        sink.limited_away(env, table, list.clone());
    }
    table.remove("environments");
    let Some(overrides) = table.remove("overrides") else {
        return keep;
    };
    let overrides_span = overrides.span();
    let DeValue::Table(per_env) = overrides.into_inner() else {
        sink.push(
            Diagnostic::new(
                overrides_span,
                format!("`overrides` of {entry} must be a table of environments"),
            )
            .hint(format!(
                "e.g. [{entry}.overrides.test] with the fields that differ there"
            )),
        );
        return keep;
    };
    for (env, fields) in per_env {
        if let Some(fields) = override_fields(sink, at, (entry, list.as_deref()), &env, fields) {
            apply_overrides(sink, table, at, &env, fields, nested);
        }
    }
    keep
}

/// The fields `[<entry>.overrides.<env>]` overrides, when `env` is declared and one of the
/// entry's environments (`limits`).
fn override_fields<'i>(
    sink: &Sink,
    at: Resolution<'_>,
    (entry, limits): (&str, Option<&[String]>),
    env: &Sp<Cow<'i, str>>,
    fields: Sp<DeValue<'i>>,
) -> Option<DeTable<'i>> {
    if !at.envs.contains_key(env.get_ref().as_ref()) {
        let names: Vec<&str> = at.envs.keys().map(String::as_str).collect();
        let d = Diagnostic::new(
            env.span(),
            format!("no environment `{}` is declared", env.get_ref()),
        )
        .label("unknown environment");
        sink.push(match sink.suggest(env.get_ref(), &names) {
            Some(best) => d.hint(format!("did you mean `{best}`?")),
            None => d.hint(format!("declare it as [environments.{}]", env.get_ref())),
        });
        return None;
    }
    if let Some(list) = limits
        && !list.iter().any(|n| n == env.get_ref().as_ref())
    {
        sink.push(
            Diagnostic::new(
                env.span(),
                format!(
                    "{entry} is limited to {}: an override for `{}` never applies",
                    list.join(", "),
                    env.get_ref()
                ),
            )
            .label("not one of its environments")
            .hint("remove the override, or add the environment to `environments`"),
        );
        return None;
    }
    let fields_span = fields.span();
    let DeValue::Table(fields) = fields.into_inner() else {
        sink.push(Diagnostic::new(
            fields_span,
            format!(
                "`overrides.{}` of {entry} must be a table of fields",
                env.get_ref()
            ),
        ));
        return None;
    };
    Some(fields)
}

/// Puts the fields overridden for `env` into the entry's `table` when `env` is the selected
/// environment; `environments`, `overrides` and the `nested` tables cannot be overridden.
fn apply_overrides<'i>(
    sink: &Sink,
    table: &mut DeTable<'i>,
    at: Resolution<'_>,
    env: &Sp<Cow<'i, str>>,
    fields: DeTable<'i>,
    nested: &[&str],
) {
    for (field, value) in fields {
        let name = field.get_ref().as_ref();
        if matches!(name, "environments" | "overrides") || nested.contains(&name) {
            sink.push(
                Diagnostic::new(
                    field.span(),
                    format!("`{name}` cannot be overridden per environment"),
                )
                .hint("limit whole entries with `environments = [...]` instead"),
            );
            continue;
        }
        if at.selected == Some(env.get_ref().as_ref()) {
            table.insert(field, value);
        }
    }
}

/// Resolves every entry of a table of entries in `parent` (`[products.<key>]`,
/// `[products.<key>.prices.<key>]`, `[coupons.<key>]`, …): `name` is the table's key in
/// `parent` (`prices`), `address` the address of its entry `key`. Entries limited to other
/// environments are removed; `inner` resolves what a kept entry nests (`nested` names it).
fn resolve_entries(
    sink: &Sink,
    parent: &mut DeTable<'_>,
    name: &str,
    address: impl Fn(&str) -> Address,
    at: Resolution<'_>,
    nested: &[&str],
    mut inner: impl FnMut(&Sink, &str, &mut DeTable<'_>),
) {
    let Some(value) = parent.get_mut(name) else {
        return;
    };
    let DeValue::Table(entries) = value.get_mut() else {
        return;
    };
    let mut dropped = Vec::new();
    for (key, value) in entries.iter_mut() {
        let DeValue::Table(table) = value.get_mut() else {
            continue;
        };
        let entry = address(key.get_ref()).declaration();
        if resolve_entry(sink, table, at, &entry, nested) {
            inner(sink, key.get_ref(), table);
        } else {
            dropped.push(key.get_ref().to_string());
        }
    }
    for key in &dropped {
        entries.remove(key.as_str());
    }
}

/// Whether resolving for an environment leaves the product entry `value` as it is, whatever
/// the environment: neither it nor any of its prices names `environments` or has `overrides`
/// (resolution only looks at those). Such a product can be read before the environments are.
pub(crate) fn product_is_plain(value: &DeValue<'_>) -> bool {
    let plain = |table: &DeTable<'_>| {
        !table.contains_key("environments") && !table.contains_key("overrides")
    };
    let DeValue::Table(product) = value else {
        return true;
    };
    let prices_plain = match product.get("prices").map(|p| p.get_ref()) {
        Some(DeValue::Table(prices)) => prices.values().all(|price| match price.get_ref() {
            DeValue::Table(price) => plain(price),
            _ => true,
        }),
        _ => true,
    };
    plain(product) && prices_plain
}

/// Resolves the catalog's tables for `selected` (`None`: as written, checking names only).
pub(crate) fn resolve(
    sink: &Sink,
    root: &mut DeTable<'_>,
    envs: &BTreeMap<String, Environment>,
    selected: Option<&str>,
) {
    let at = Resolution { envs, selected };
    root.remove("environments");
    resolve_entries(
        sink,
        root,
        "products",
        Address::product,
        at,
        &["prices"],
        |sink, key, product| {
            let price = |price: &str| Address::price(key, price);
            resolve_entries(sink, product, "prices", price, at, &[], |_, _, _| {});
        },
    );
    // Products are resolved above, with their prices; every other keyed table here.
    let tables = ResourceKind::ALL
        .into_iter()
        .filter(|kind| *kind != ResourceKind::Product)
        .filter_map(|kind| Some((kind, kind.keyed_table()?)));
    for (kind, table) in tables {
        let entry = |key: &str| Address::new(kind, key);
        resolve_entries(sink, root, table, entry, at, &[], |_, _, _| {});
    }
    if let Some(value) = root.get_mut("portal")
        && let DeValue::Table(table) = value.get_mut()
        && !resolve_entry(sink, table, at, "[portal]", &[])
    {
        root.remove("portal");
    }
    if let Some(value) = root.get_mut("tax")
        && let DeValue::Table(tax) = value.get_mut()
        && let Some(value) = tax.get_mut("registrations")
        && let DeValue::Array(items) = value.get_mut()
    {
        let mut kept = DeArray::new();
        let taken = std::mem::replace(items, DeArray::new());
        for (i, mut item) in taken.iter().cloned().enumerate() {
            let keep = match item.get_mut() {
                DeValue::Table(table) => resolve_entry(
                    sink,
                    table,
                    at,
                    &format!("tax registration #{}", i + 1),
                    &[],
                ),
                _ => true,
            };
            if keep {
                kept.push(item);
            }
        }
        *items = kept;
    }
}

/// How messages call an environment: `environment `test``, or `--api-base URL` for the API a
/// flag names without any environment declared.
pub(crate) fn called(environment: &str) -> String {
    if environment.starts_with("--") {
        environment.to_owned()
    } else {
        format!("environment `{environment}`")
    }
}
