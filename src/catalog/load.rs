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
    parse_for(&file, choice).map_err(|rejected| match rejected {
        Rejected::Invalid(diagnostics) => LoadError::Invalid { file, diagnostics },
        Rejected::Choice(choice) => LoadError::Choice(choice),
    })
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

/// Resolves and validates the tables for one environment (`None`: as written).
///
/// Takes the parsed document (a copy when it is needed again): a catalog of 100,000 prices
/// holds hundreds of megabytes of it, dropped before validation builds the catalog.
fn resolve_and_validate(
    sink: &Sink,
    mut root: reader::Sp<toml::de::DeTable<'_>>,
    (envs, selected): (
        &std::collections::BTreeMap<String, Environment>,
        Option<&str>,
    ),
    dir: Option<&Path>,
) -> Catalog {
    environments::resolve(sink, root.get_mut(), envs, selected);
    let mut raw = super::read_root(root, sink);
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
    crate::memory::release_free();
    catalog.environments = envs.clone();
    catalog.environment = selected.map(str::to_owned);
    catalog
}

/// Parses and validates catalog text for the environment `choice` selects; on failure returns
/// every problem, in source order, or why the environment cannot be chosen.
pub(crate) fn parse_for(source: &SourceFile, choice: EnvChoice<'_>) -> Result<Catalog, Rejected> {
    let sink = Sink::default();
    let Some(root) = raw::parse_toml(source.text(), &sink) else {
        return Err(Rejected::Invalid(sink.into_sorted()));
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
            resolve_and_validate(&sink, root, (&envs, selected.as_deref()), source.dir())
        }
        EnvChoice::All if envs.is_empty() => {
            resolve_and_validate(&sink, root, (&envs, None), source.dir())
        }
        EnvChoice::All => {
            // As each environment sees it: entries limited to different environments may share
            // a lookup key or a code, so the catalog as written is not checked on its own (it
            // only gives the summary). A problem some environments have names them.
            let catalog =
                resolve_and_validate(&Sink::default(), root.clone(), (&envs, None), source.dir());
            let mut found: Vec<(Diagnostic, Vec<&str>)> = Vec::new();
            // Where each problem is in `found`: a file can have many thousands.
            let mut index: HashMap<_, usize> = HashMap::new();
            for name in envs.keys() {
                let env_sink = Sink::default();
                resolve_and_validate(&env_sink, root.clone(), (&envs, Some(name)), source.dir());
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
