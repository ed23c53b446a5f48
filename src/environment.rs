//! Where billing sends requests: the environment billing.toml selects
//! (docs/stripe-rules.md#environments), the embedded sandbox when it declares none, or any
//! Stripe-compatible API given with `--api-base`; and the guards that keep a run off the wrong
//! account.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use stripe_sandbox::{Sandbox, SandboxConfig};

use crate::catalog::{Catalog, DEFAULT_KEY_VAR, EMBEDDED, Environment};
use crate::document::PlanKey;
use crate::resource::KeyMode;
use crate::stripe::{ClientSettings, Observer, SecretKey, StripeHttp};

/// Stripe's API.
pub(crate) const STRIPE_API: &str = "https://api.stripe.com";

/// The key billing uses with its embedded sandbox (a sandbox accepts any test key; this is not a secret).
const EMBEDDED_KEY: &str = "sk_test_billing_embedded_sandbox";

/// Why no connection could be made. None of these ever shows the key.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    /// No key in the variable the environment reads it from.
    #[error(
        "{var} is not set: {} needs a Stripe secret key to talk to {api_base}",
        called(environment)
    )]
    MissingKey {
        environment: String,
        var: String,
        api_base: String,
        /// The environments billing.toml declares, each with the variable of its key.
        declared: Vec<(String, String)>,
    },
    /// `--api-base` (or BILLING_API_BASE) given for an environment that is the embedded
    /// sandbox.
    #[error(
        "--api-base {api_base} cannot be used with environment `{environment}`: it is the embedded sandbox (sandbox = true in billing.toml), which has no API base to replace"
    )]
    SandboxApiBase {
        environment: String,
        api_base: String,
        /// The environments billing.toml declares that are not sandboxes.
        remote: Vec<String>,
    },
    /// `--api-base` written with Stripe's version path.
    #[error("--api-base {given} ends in /v1, which billing adds to every request itself")]
    VersionedBase { given: String, base: String },
    /// The key does not look like a Stripe secret or restricted key.
    #[error("{var} does not hold a Stripe secret key (sk_test_…, sk_live_…, rk_test_…, rk_live_…)")]
    BadKey { var: String },
    /// A key of the other mode.
    #[error(
        "environment `{environment}` is in {expected} mode, but {var} holds a {found} mode key: refusing to use it"
    )]
    WrongMode {
        environment: String,
        var: String,
        expected: KeyMode,
        found: KeyMode,
    },
    /// The embedded sandbox could not start.
    #[error("cannot start the embedded sandbox: {0}")]
    Sandbox(String),
    /// The client refused the settings (a bad URL, a live key over plain http).
    #[error("{0}")]
    Client(String),
    /// The outputs file's directory is, through a link, outside billing.toml's.
    #[error(
        "environment `{environment}` writes its ids to {}, but {} leads outside the directory of billing.toml: refusing to use it",
        path.display(),
        through.display()
    )]
    OutputsOutside {
        environment: String,
        path: PathBuf,
        through: PathBuf,
    },
}

pub(crate) use crate::catalog::called;

impl ConnectError {
    /// What to do about it, when there is more to say than the message.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            Self::MissingKey {
                environment,
                var,
                declared,
                ..
            } => {
                let others: Vec<String> = declared
                    .iter()
                    .filter(|(name, _)| name != environment)
                    .map(|(name, var)| format!("`{name}` ({var})"))
                    .collect();
                let others = if others.is_empty() {
                    String::new()
                } else {
                    format!("; -e picks another environment: {}", others.join(", "))
                };
                let whose = if environment.starts_with("--") {
                    "the account".to_owned()
                } else {
                    called(environment)
                };
                Some(format!(
                    "set {var} to the secret key of {whose} (keys are read from environment variables only){others}"
                ))
            }
            Self::SandboxApiBase { remote, .. } => Some(if remote.is_empty() {
                "leave out --api-base (and unset BILLING_API_BASE), or declare an environment with `mode` and `api_base` in billing.toml".to_owned()
            } else {
                format!(
                    "pass -e with an environment that talks to an API ({}), or leave out --api-base (and unset BILLING_API_BASE)",
                    remote.join(", ")
                )
            }),
            Self::VersionedBase { base, .. } => Some(format!("use --api-base {base}")),
            _ => None,
        }
    }
}

/// A connection to one environment.
pub(crate) struct Connection {
    /// The client.
    pub client: StripeHttp,
    /// The environment's name.
    pub environment: String,
    /// Test or live.
    pub mode: KeyMode,
    /// The account the environment must be, when billing.toml says.
    pub expected_account: Option<String>,
    /// Where the environment's ids are written after a successful apply.
    pub outputs: Option<PathBuf>,
    /// What makes and checks the MACs of the environment's plan files.
    pub plan_key: PlanKey,
    /// What the run reads, for the line that says so: `environment `test` (test mode,
    /// https://api.stripe.com)`.
    pub reading: String,
    /// A warning to print before anything is read (a set STRIPE_SECRET_KEY that is not used).
    pub warning: Option<String>,
    /// Keeps the embedded sandbox running while the connection is in use.
    _sandbox: Option<Sandbox>,
}

impl Connection {
    /// Whether it is the embedded sandbox.
    pub(crate) fn embedded(&self) -> bool {
        self._sandbox.is_some()
    }
}

/// The environment billing.toml and the flags select, with its key, before anything is started
/// or sent: what [`connect`] connects to.
pub(crate) struct Target {
    /// The environment's name.
    pub environment: String,
    /// The key requests authenticate with.
    key: SecretKey,
    /// Test or live.
    mode: KeyMode,
    /// The API, or the embedded sandbox with its state file.
    endpoint: Endpoint,
    /// The account the environment must be, when billing.toml says.
    expected_account: Option<String>,
    /// Where the environment's ids are written after a successful apply.
    outputs: Option<PathBuf>,
    /// A warning for the run (see [`Connection::warning`]).
    warning: Option<String>,
}

/// Where a target's requests go.
enum Endpoint {
    /// A Stripe-compatible API at this base URL.
    Remote(String),
    /// The embedded sandbox, started with its state in this file.
    Embedded(PathBuf),
}

impl Target {
    /// The key of the environment's plan files.
    pub(crate) fn plan_key(&self) -> PlanKey {
        PlanKey::new(&self.key)
    }

    /// What a run of this target reads, for the line that says so.
    fn reading(&self) -> String {
        match &self.endpoint {
            Endpoint::Remote(base) if self.environment.starts_with("--") => {
                format!("{base} ({} mode, the key in {DEFAULT_KEY_VAR})", self.mode)
            }
            Endpoint::Remote(base) => {
                format!(
                    "environment `{}` ({} mode, {base})",
                    self.environment, self.mode
                )
            }
            Endpoint::Embedded(state) => format!(
                "environment `{}` (the embedded sandbox, state in {})",
                self.environment,
                state.display()
            ),
        }
    }
}

/// The warning for a run on the embedded sandbox while STRIPE_SECRET_KEY holds a key: the key
/// is not used, and the user may think it is.
fn unused_key_warning(catalog: &Catalog, environment: &str) -> Option<String> {
    SecretKey::from_env(DEFAULT_KEY_VAR)?;
    let using: Vec<&str> = catalog
        .environments
        .values()
        .filter(|e| !e.sandbox && e.secret_key_env == DEFAULT_KEY_VAR)
        .map(|e| e.name.as_str())
        .collect();
    let others: Vec<String> = catalog
        .environments
        .values()
        .filter(|e| !e.sandbox)
        .map(|e| format!("-e {} (key in {})", e.name, e.secret_key_env))
        .collect();
    let how = if catalog.environments.is_empty() {
        format!(
            "billing.toml declares no environments, so billing uses the embedded sandbox; to use the key, pass --api-base https://api.stripe.com (or set BILLING_API_BASE), or declare an environment with secret_key_env = \"{DEFAULT_KEY_VAR}\""
        )
    } else if using.is_empty() {
        format!(
            "environment `{environment}` is the embedded sandbox, and no environment of billing.toml reads its key from {DEFAULT_KEY_VAR}; to read an account, pass {}",
            if others.is_empty() {
                "-e NAME".to_owned()
            } else {
                others.join(" or ")
            }
        )
    } else {
        format!(
            "environment `{environment}` is the embedded sandbox; to use the key, pass -e {}",
            using.join(" or -e ")
        )
    };
    Some(format!("{DEFAULT_KEY_VAR} is set but not used: {how}"))
}

/// The directory billing.toml is in.
fn catalog_dir(catalog: &Path) -> &Path {
    catalog
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Where environment `environment` writes its outputs: `relative` (checked by validation to
/// stay inside, as written) in the catalog's directory. An error when a link on the way (a
/// directory committed as a symbolic link) leads outside that directory.
fn outputs_path(
    catalog: &Path,
    environment: &str,
    relative: &str,
) -> Result<PathBuf, ConnectError> {
    let dir = catalog_dir(catalog);
    let path = dir.join(relative);
    let (Ok(root), Some(parent)) = (dir.canonicalize(), path.parent()) else {
        // Nothing to resolve: writing will say what is wrong.
        return Ok(path);
    };
    // The deepest directory on the way that exists, as the system resolves it.
    let found = parent
        .ancestors()
        .find_map(|a| a.canonicalize().ok().map(|resolved| (a, resolved)));
    match found {
        Some((through, resolved)) if !resolved.starts_with(&root) => {
            Err(ConnectError::OutputsOutside {
                environment: environment.to_owned(),
                path: path.clone(),
                through: through.to_path_buf(),
            })
        }
        _ => Ok(path),
    }
}

/// The state file of an embedded sandbox environment: `.billing/<name>/state.json` beside the
/// catalog.
pub(crate) fn embedded_state(catalog: &Path, environment: &str) -> PathBuf {
    catalog_dir(catalog)
        .join(".billing")
        .join(environment)
        .join("state.json")
}

/// How the client behaves, from the command line.
#[derive(Clone, Default)]
pub(crate) struct Tuning {
    /// Called after every HTTP exchange (`-v`).
    pub observer: Option<Observer>,
    /// Requests per second overall (default: Stripe's limit for the key's mode).
    pub rate: Option<f64>,
    /// Requests per second per endpoint (default: Stripe's 25).
    pub endpoint_rate: Option<f64>,
}

impl Tuning {
    fn apply(&self, settings: &mut ClientSettings) {
        settings.observer.clone_from(&self.observer);
        settings.rate = self.rate;
        settings.endpoint_rate = self.endpoint_rate;
    }
}

/// The key from `var`, for an API, checking its mode when the environment has one.
fn key_from(
    declared: &BTreeMap<String, Environment>,
    environment: &str,
    api_base: &str,
    var: &str,
    expected: Option<KeyMode>,
) -> Result<(SecretKey, KeyMode), ConnectError> {
    let key = SecretKey::from_env(var).ok_or_else(|| ConnectError::MissingKey {
        environment: environment.to_owned(),
        var: var.to_owned(),
        api_base: api_base.to_owned(),
        declared: declared
            .values()
            .filter(|e| !e.sandbox)
            .map(|e| (e.name.clone(), e.secret_key_env.clone()))
            .collect(),
    })?;
    let mode = key.mode().ok_or_else(|| ConnectError::BadKey {
        var: var.to_owned(),
    })?;
    if let Some(expected) = expected
        && expected != mode
    {
        return Err(ConnectError::WrongMode {
            environment: environment.to_owned(),
            var: var.to_owned(),
            expected,
            found: mode,
        });
    }
    Ok((key, mode))
}

/// Starts the embedded sandbox with its state in `state`.
fn embedded(state: &Path) -> Result<Sandbox, ConnectError> {
    if let Some(billing_dir) = state.parent().and_then(Path::parent) {
        crate::files::create_dirs(billing_dir).map_err(|e| {
            ConnectError::Sandbox(format!(
                "cannot make the directory of its state {}: {e}",
                state.display()
            ))
        })?;
        // Sandbox state is local: keep it out of version control even without a
        // project-level .gitignore entry.
        crate::files::ignore_in_git(billing_dir);
    }
    let config = SandboxConfig {
        state: Some(state.to_owned()),
        // The application's handler runs on this machine, next to the sandbox.
        local_webhooks: true,
        ..SandboxConfig::default()
    };
    Sandbox::start(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .map_err(|e| ConnectError::Sandbox(e.to_string()))
}

/// The environment `catalog` was resolved for (`catalog_path` locates sandbox state and
/// outputs), with its key. `api_base` (the `--api-base` flag) overrides the environment's.
/// Without environments: `api_base` with the key from STRIPE_SECRET_KEY, or the embedded
/// sandbox. The key's mode is checked here; nothing is started or sent.
pub(crate) fn target(
    catalog_path: &Path,
    catalog: &Catalog,
    api_base: Option<&str>,
) -> Result<Target, ConnectError> {
    let env = catalog
        .environment
        .as_ref()
        .and_then(|name| catalog.environments.get(name));
    if let Some(given) = api_base
        && let Some(base) = crate::catalog::without_version(given)
    {
        return Err(ConnectError::VersionedBase {
            given: given.to_owned(),
            base: base.to_owned(),
        });
    }
    let embedded = |environment: &str, expected_account, outputs| Target {
        environment: environment.to_owned(),
        key: SecretKey::new(EMBEDDED_KEY),
        mode: KeyMode::Test,
        endpoint: Endpoint::Embedded(embedded_state(catalog_path, environment)),
        expected_account,
        outputs,
        warning: unused_key_warning(catalog, environment),
    };
    let Some(env) = env else {
        return Ok(match api_base {
            Some(api_base) => {
                let base = api_base.trim_end_matches('/');
                // Not an environment of billing.toml: called by the flag that chose it.
                let name = format!("--api-base {base}");
                let (key, mode) =
                    key_from(&catalog.environments, &name, base, DEFAULT_KEY_VAR, None)?;
                Target {
                    environment: name,
                    key,
                    mode,
                    endpoint: Endpoint::Remote(base.to_owned()),
                    expected_account: None,
                    outputs: None,
                    warning: None,
                }
            }
            None => embedded(EMBEDDED, None, None),
        });
    };
    let outputs = env
        .outputs
        .as_deref()
        .map(|o| outputs_path(catalog_path, &env.name, o))
        .transpose()?;
    if env.sandbox {
        if let Some(api_base) = api_base {
            return Err(ConnectError::SandboxApiBase {
                environment: env.name.clone(),
                api_base: api_base.to_owned(),
                remote: catalog
                    .environments
                    .values()
                    .filter(|e| !e.sandbox)
                    .map(|e| e.name.clone())
                    .collect(),
            });
        }
        return Ok(embedded(&env.name, env.account.clone(), outputs));
    }
    let base = api_base
        .or(env.api_base.as_deref())
        .unwrap_or(STRIPE_API)
        .trim_end_matches('/');
    let (key, mode) = key_from(
        &catalog.environments,
        &env.name,
        base,
        &env.secret_key_env,
        Some(env.mode),
    )?;
    Ok(Target {
        environment: env.name.clone(),
        key,
        mode,
        endpoint: Endpoint::Remote(base.to_owned()),
        expected_account: env.account.clone(),
        outputs,
        warning: None,
    })
}

/// The environment `billing import` declares for an account when there is no billing.toml
/// to say which: the account of STRIPE_SECRET_KEY, at `api_base` (the `--api-base` flag) or
/// Stripe's API. Its name is the key's mode (`test` or `live`), and its table is written into
/// the imported billing.toml, so that the next `billing plan` reads the same account. `None`
/// when neither the key nor the flag is given (the embedded sandbox is read).
pub(crate) fn takeover(
    api_base: Option<&str>,
) -> Result<Option<(String, toml::Table)>, ConnectError> {
    if api_base.is_none() && SecretKey::from_env(DEFAULT_KEY_VAR).is_none() {
        return Ok(None);
    }
    if let Some(given) = api_base
        && let Some(base) = crate::catalog::without_version(given)
    {
        return Err(ConnectError::VersionedBase {
            given: given.to_owned(),
            base: base.to_owned(),
        });
    }
    let base = api_base.map_or(STRIPE_API, |b| b.trim_end_matches('/'));
    let name = format!("--api-base {base}");
    let (_, mode) = key_from(&BTreeMap::new(), &name, base, DEFAULT_KEY_VAR, None)?;
    let mut table = toml::Table::new();
    table.insert("mode".into(), toml::Value::String(mode.to_string()));
    table.insert(
        "secret_key_env".into(),
        toml::Value::String(DEFAULT_KEY_VAR.to_owned()),
    );
    if base != STRIPE_API {
        table.insert("api_base".into(), toml::Value::String(base.to_owned()));
    }
    Ok(Some((mode.to_string(), table)))
}

/// Connects to the environment `catalog` was resolved for (see [`target`]), starting the
/// embedded sandbox when that is where it is; no request is sent.
pub(crate) fn connect(
    catalog_path: &Path,
    catalog: &Catalog,
    api_base: Option<&str>,
    tuning: &Tuning,
) -> Result<Connection, ConnectError> {
    let target = target(catalog_path, catalog, api_base)?;
    let plan_key = target.plan_key();
    let reading = target.reading();
    let (mut settings, sandbox) = match &target.endpoint {
        Endpoint::Remote(base) => (ClientSettings::new(base.as_str(), target.key), None),
        Endpoint::Embedded(state) => {
            let sandbox = embedded(state)?;
            (
                ClientSettings::new(sandbox.base_url(), target.key),
                Some(sandbox),
            )
        }
    };
    tuning.apply(&mut settings);
    if sandbox.is_some() {
        // The embedded sandbox has no rate limits: no need to pace unless asked.
        settings.rate = Some(tuning.rate.unwrap_or(10_000.0));
        settings.endpoint_rate = Some(tuning.endpoint_rate.unwrap_or(10_000.0));
    }
    let client = StripeHttp::new(settings).map_err(|e| ConnectError::Client(e.to_string()))?;
    Ok(Connection {
        client,
        environment: target.environment,
        mode: target.mode,
        expected_account: target.expected_account,
        outputs: target.outputs,
        plan_key,
        reading,
        warning: target.warning,
        _sandbox: sandbox,
    })
}
