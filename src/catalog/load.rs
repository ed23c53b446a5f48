//! Loading a catalog: reading the file (bounded in size), parsing, resolving an environment
//! and validating, with every problem collected.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io;
use std::path::{Path, PathBuf};

use crate::files::{ReadError, read_capped};

use super::environments::ChoiceError;
use super::{
    Catalog, Diagnostic, EnvChoice, Environment, Sink, SourceFile, environments, raw, reader,
    validate,
};

/// Catalog files larger than this are refused before parsing.
pub const MAX_CATALOG_BYTES: u64 = 16 * 1024 * 1024;

/// Why a catalog could not be loaded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoadError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The path as given.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file (or pipe, or device) holds more than a catalog may.
    #[error("{} is too large: a catalog may be at most {MAX_CATALOG_BYTES} bytes", path.display())]
    TooLarge {
        /// The path as given.
        path: PathBuf,
    },
    /// `-e` names no environment billing.toml declares, or no `-e` was given where one is
    /// needed: the flag's mistake, not the file's.
    #[error(transparent)]
    Choice(#[from] ChoiceError),
    /// The file was read but has problems, each with its place in the source.
    #[error("{} is not valid: {} problem(s)", file.name(), diagnostics.len())]
    Invalid {
        /// The file, for rendering the diagnostics.
        file: SourceFile,
        /// Every problem found, in source order.
        diagnostics: Vec<Diagnostic>,
    },
}

/// Reads and validates the catalog at `path` for the environment `choice` selects.
pub(crate) fn load_for(path: &Path, choice: EnvChoice<'_>) -> Result<Catalog, LoadError> {
    let read_error = |source| LoadError::Read {
        path: path.to_owned(),
        source,
    };
    let bytes = match read_capped(path, MAX_CATALOG_BYTES) {
        Ok(bytes) => bytes,
        Err(ReadError::Io(source)) => return Err(read_error(source)),
        Err(ReadError::TooLarge) => {
            return Err(LoadError::TooLarge {
                path: path.to_owned(),
            });
        }
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    load_text(path.display().to_string(), Some(dir), bytes, choice)
}

/// Validates the bytes of a catalog file for the environment `choice` selects, as
/// [`load_for`] does once it has read them; `name` is how diagnostics call the file. Fails
/// only with [`LoadError::Invalid`] or [`LoadError::Choice`].
pub(crate) fn load_bytes(
    name: String,
    bytes: Vec<u8>,
    choice: EnvChoice<'_>,
) -> Result<Catalog, LoadError> {
    load_text(name, None, bytes, choice)
}

/// [`load_bytes`] of a file in `dir`, when it is one.
fn load_text(
    name: String,
    dir: Option<&Path>,
    bytes: Vec<u8>,
    choice: EnvChoice<'_>,
) -> Result<Catalog, LoadError> {
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let bytes = error.as_bytes();
            let hint = if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
                "the file is UTF-16 text: save it as UTF-8"
            } else {
                "save the file as UTF-8"
            };
            let label = format!(
                "byte 0x{:02X} cannot start or continue a character here",
                bytes[at]
            );
            let text = String::from_utf8_lossy(bytes).into_owned();
            let file = SourceFile::new(name, text);
            let diagnostic = Diagnostic::new(
                at..at + char::REPLACEMENT_CHARACTER.len_utf8(),
                "the file is not valid UTF-8 text",
            )
            .label(label)
            .hint(hint);
            return Err(LoadError::Invalid {
                file,
                diagnostics: vec![diagnostic],
            });
        }
    };
    let mut file = SourceFile::new(name, text);
    if let Some(dir) = dir {
        file = file.in_dir(dir);
    }
    let catalog = match parse_for(&file, choice) {
        Ok(catalog) => catalog,
        Err(Rejected::Invalid(diagnostics)) => {
            return Err(LoadError::Invalid { file, diagnostics });
        }
        Err(Rejected::Choice(choice)) => return Err(LoadError::Choice(choice)),
    };
    // Parsing freed many times what the catalog holds: give it back before the account is
    // read, the text included.
    drop(file);
    crate::memory::release_free();
    Ok(catalog)
}

/// Why [`parse_for`] returned no catalog.
#[derive(Debug)]
pub(crate) enum Rejected {
    /// The catalog's problems, in source order.
    Invalid(Vec<Diagnostic>),
    /// The environment `-e` asks for cannot be chosen (the file itself is valid as far as
    /// this goes).
    Choice(ChoiceError),
}

/// Where the file writes each promotion code's `customer`, as `environment` sees it (`None`:
/// as written), by code key: checks against the account point there. Empty for text that
/// does not parse (it was validated before).
pub(crate) fn customer_spans(
    source: &SourceFile,
    environment: Option<&str>,
) -> std::collections::BTreeMap<String, std::ops::Range<usize>> {
    let sink = Sink::default();
    let Some(mut root) = raw::parse_toml(source.text(), &sink) else {
        return std::collections::BTreeMap::new();
    };
    let envs = environments::read(&sink, root.get_ref());
    environments::resolve(&sink, root.get_mut(), &envs, environment);
    super::read_root(root, &sink)
        .promotion_codes
        .into_iter()
        .filter_map(|code| Some((code.key.into_inner(), code.customer?.span())))
        .collect()
}

/// Parses and validates catalog text as written and as every environment sees it; on failure
/// returns every problem, in source order.
pub(crate) fn parse(source: &SourceFile) -> Result<Catalog, Vec<Diagnostic>> {
    parse_for(source, EnvChoice::All).map_err(|rejected| match rejected {
        Rejected::Invalid(diagnostics) => diagnostics,
        // Every environment is checked: none is chosen.
        Rejected::Choice(choice) => vec![Diagnostic::new(0..0, choice.message)],
    })
}

/// Products read while the text was parsed (see [`parse_for`]), with their problems.
#[derive(Clone, Default)]
struct Early {
    products: Vec<raw::RawProduct>,
    problems: Vec<Diagnostic>,
}

/// Resolves and validates the tables for one environment (`None`: as written), with the
/// products read early.
///
/// Takes the parsed document (a copy when it is needed again): a catalog of 100,000 prices
/// holds hundreds of megabytes of it, dropped before validation builds the catalog.
fn resolve_and_validate(
    sink: &Sink,
    mut root: reader::Sp<toml::de::DeTable<'_>>,
    early: Early,
    (envs, selected): (
        &std::collections::BTreeMap<String, Environment>,
        Option<&str>,
    ),
    dir: Option<&Path>,
) -> Catalog {
    environments::resolve(sink, root.get_mut(), envs, selected);
    let mut raw = super::read_root(root, sink);
    if !early.products.is_empty() {
        raw.products.extend(early.products);
        // In source order, as read_root gives them.
        raw.products.sort_by_key(|p| p.span.start);
    }
    for problem in early.problems {
        sink.push(problem);
    }
    let env = selected.and_then(|name| envs.get(name));
    raw.place = super::Place {
        dir: dir.map(Path::to_owned),
        environment: selected.map(str::to_owned),
        test_data: env.is_none_or(|e| e.sandbox || e.mode == crate::resource::KeyMode::Test),
        local_webhooks: env.is_none_or(|e| {
            e.sandbox
                || e.api_base.as_deref().is_some_and(|base| {
                    base.trim_end_matches('/') != crate::environment::STRIPE_API
                })
        }),
    };
    let mut catalog = validate::validate(sink, raw);
    catalog.environments = envs.clone();
    catalog.environment = selected.map(str::to_owned);
    catalog
}

/// Parses and validates catalog text for the environment `choice` selects; on failure returns
/// every problem, in source order, or why the environment cannot be chosen.
///
/// Products that no environment changes (no `environments`, no `overrides`) are read as their
/// part of the text is parsed, and their tables dropped: in a large catalog, most of the text.
/// Their problems are held apart until an environment is chosen, so that a wrong `-e` is
/// still said alone.
pub(crate) fn parse_for<'s>(
    source: &'s SourceFile,
    choice: EnvChoice<'_>,
) -> Result<Catalog, Rejected> {
    let sink = Sink::default();
    let early_sink = Sink::default();
    let mut products = Vec::new();
    type Value<'s> = reader::Sp<toml::de::DeValue<'s>>;
    let mut take = |key, value: Value<'s>| -> Option<Value<'s>> {
        if !environments::product_is_plain(value.get_ref()) {
            return Some(value);
        }
        products.extend(raw::read_product(&early_sink, key, &value));
        None
    };
    let mut taker = super::pieces::Taker {
        table: "products",
        take: &mut take,
    };
    let Some((root, taken)) = raw::parse_toml_taking(source.text(), &sink, Some(&mut taker)) else {
        return Err(Rejected::Invalid(sink.into_sorted()));
    };
    let early = if taken {
        Early {
            products,
            problems: early_sink.into_sorted(),
        }
    } else {
        Early::default()
    };
    let envs = environments::read(&sink, root.get_ref());
    let default = root
        .get_ref()
        .get("default_environment")
        .and_then(|v| match v.get_ref() {
            toml::de::DeValue::String(s) => Some(reader::Sp::new(v.span(), s.to_string())),
            _ => None,
        });
    environments::check_default(&sink, &envs, default.as_ref());
    let catalog = match choice {
        EnvChoice::Pick(flag) => {
            if !sink.is_empty() {
                return Err(Rejected::Invalid(sink.into_sorted()));
            }
            let selected = environments::select(&sink, &envs, default.as_ref(), flag)
                .map_err(Rejected::Choice)?;
            let at = (&envs, selected.as_deref());
            resolve_and_validate(&sink, root, early, at, source.dir())
        }
        EnvChoice::All if envs.is_empty() => {
            resolve_and_validate(&sink, root, early, (&envs, None), source.dir())
        }
        EnvChoice::All => {
            // As each environment sees it: entries limited to different environments may share
            // a lookup key or a code, so the catalog as written is not checked on its own (it
            // only gives the summary). A problem some environments have names them.
            let catalog = resolve_and_validate(
                &Sink::default(),
                root.clone(),
                early.clone(),
                (&envs, None),
                source.dir(),
            );
            let mut found: Vec<(Diagnostic, Vec<&str>)> = Vec::new();
            // Where each problem is in `found`: a file can have many thousands.
            let mut index: HashMap<_, usize> = HashMap::new();
            for name in envs.keys() {
                let env_sink = Sink::default();
                let at = (&envs, Some(name.as_str()));
                resolve_and_validate(&env_sink, root.clone(), early.clone(), at, source.dir());
                for d in env_sink.into_sorted() {
                    match index.entry((d.span.clone(), d.message.clone())) {
                        Entry::Occupied(at) => {
                            found[*at.get()].1.push(name);
                        }
                        Entry::Vacant(slot) => {
                            slot.insert(found.len());
                            found.push((d, vec![name]));
                        }
                    }
                }
            }
            for (mut d, names) in found {
                let said =
                    names.len() == 1 && d.message.contains(&format!("environment `{}`", names[0]));
                if names.len() < envs.len() && !said {
                    let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                    d.message = format!(
                        "{} (in environment{} {})",
                        d.message,
                        if names.len() == 1 { "" } else { "s" },
                        list.join(", ")
                    );
                }
                sink.push(d);
            }
            catalog
        }
    };
    if sink.is_empty() {
        Ok(catalog)
    } else {
        Err(Rejected::Invalid(sink.into_sorted()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A catalog large enough to be parsed in pieces, with products limited to environments,
    /// overridden per environment, and with problems, then `last` (a product `zz`).
    fn large(last: &str) -> String {
        let mut text = String::from(
            "namespace = \"big\"\n\n[environments.test]\nmode = \"test\"\n\
             secret_key_env = \"T_KEY\"\n\n[environments.live]\nmode = \"live\"\n\
             secret_key_env = \"L_KEY\"\n\n",
        );
        for i in 0..6000 {
            text.push_str(&format!(
                "[products.p{i}]\nname = \"Product {i}\"\n\
                 [products.p{i}.prices.monthly]\namount = \"{}.00\"\ncurrency = \"usd\"\n\
                 interval = \"month\"\n",
                i % 90 + 1
            ));
            match i % 1000 {
                7 => text.push_str("environments = [\"live\"]\n"),
                8 => text.push_str(&format!(
                    "[products.p{i}.prices.monthly.overrides.test]\namount = \"1.00\"\n"
                )),
                9 => text.push_str("colour = \"red\"\n"),
                10 => text.push_str(&format!(
                    "[products.p{i}.prices.yearly]\namount = \"x\"\ncurrency = \"usd\"\n"
                )),
                _ => {}
            }
        }
        text.push_str(last);
        text
    }

    fn outcome(text: &str, choice: EnvChoice<'_>) -> String {
        let source = SourceFile::new("billing.toml", text);
        match parse_for(&source, choice) {
            Ok(mut catalog) => {
                catalog.products.remove("zz");
                format!("{catalog:?}")
            }
            Err(Rejected::Invalid(problems)) => problems
                .iter()
                .filter(|d| d.span.start < text.find("zz").unwrap_or(usize::MAX))
                .map(|d| format!("{:?} {}", d.span, d.message))
                .collect::<Vec<_>>()
                .join("\n"),
            Err(Rejected::Choice(choice)) => choice.message,
        }
    }

    #[test]
    fn products_read_while_parsing_give_the_catalog_and_problems_a_whole_parse_gives() {
        // A quoted key in a header keeps the text from being cut: parsed whole, nothing read
        // early. Written bare, the same product lets the rest be read in pieces.
        let whole = large("[products.\"zz\"]\nname = \"Z\"\n");
        let pieces = large("[products.zz]\nname = \"Z\"\n");
        assert!(super::super::pieces::parse(&whole, None).is_ok_and(|(_, cut)| !cut));
        let mut took = 0;
        let mut count = |_key, value| {
            took += 1;
            Some(value)
        };
        let mut taker = super::super::pieces::Taker {
            table: "products",
            take: &mut count,
        };
        let (_, cut) = super::super::pieces::parse(&pieces, Some(&mut taker)).unwrap();
        assert!(cut && took == 6001, "cut: {cut}, offered: {took}");
        for choice in [
            EnvChoice::All,
            EnvChoice::Pick(Some("test")),
            EnvChoice::Pick(Some("live")),
            EnvChoice::Pick(Some("nowhere")),
        ] {
            let (a, b) = (outcome(&whole, choice), outcome(&pieces, choice));
            assert!(a.len() > 20, "{a}");
            assert!(a == b, "{choice:?}: whole\n{a}\n\npieces\n{b}");
        }
        // Without the problems, each environment's catalog is the same both ways.
        let clean = |text: String| {
            text.replace("colour = \"red\"\n", "")
                .replace("\"x\"", "\"2\"")
        };
        for env in ["test", "live"] {
            let (a, b) = (clean(whole.clone()), clean(pieces.clone()));
            let (a, b) = (
                outcome(&a, EnvChoice::Pick(Some(env))),
                outcome(&b, EnvChoice::Pick(Some(env))),
            );
            assert!(a.starts_with("Catalog"), "{a}");
            assert!(a == b, "{env}: the catalogs differ");
        }
    }
}
