//! Where billing sends requests: the embedded sandbox by default, or any Stripe-compatible API
//! (Stripe itself) given with `--api-base` and a key from the environment.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::sandbox::{Sandbox, SandboxConfig};
use crate::stripe::{ClientSettings, KeyMode, Observer, SecretKey, StripeHttp};

/// The environment variable holding the secret key.
pub const SECRET_KEY_VAR: &str = "STRIPE_SECRET_KEY";

/// The name of the embedded sandbox environment (and of its state directory).
pub const EMBEDDED: &str = "sandbox";

/// The key billing uses with its embedded sandbox (a sandbox accepts any test key; this is not a secret).
const EMBEDDED_KEY: &str = "sk_test_billing_embedded_sandbox";

/// Why no connection could be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// `--api-base` without a key.
    #[error("{SECRET_KEY_VAR} is not set: billing needs a Stripe secret key to talk to {api_base}")]
    MissingKey {
        /// Where billing was asked to connect.
        api_base: String,
    },
    /// The key does not look like a Stripe secret or restricted key.
    #[error(
        "{SECRET_KEY_VAR} does not hold a Stripe secret key (sk_test_…, sk_live_…, rk_test_…, rk_live_…)"
    )]
    BadKey,
    /// The embedded sandbox could not start.
    #[error("cannot start the embedded sandbox: {0}")]
    Sandbox(String),
    /// The client refused the settings (a bad URL, a live key over plain http).
    #[error("{0}")]
    Client(String),
}

/// A connection to one environment.
pub struct Connection {
    /// The client.
    pub client: StripeHttp,
    /// The environment's name.
    pub environment: String,
    /// Test or live.
    pub mode: KeyMode,
    /// Where the state of the embedded sandbox lives, when it is the embedded sandbox.
    pub sandbox_state: Option<PathBuf>,
    /// Keeps the embedded sandbox running while the connection is in use.
    _sandbox: Option<Sandbox>,
}

/// The state file of the embedded sandbox for a catalog: `.billing/sandbox/state.json` beside it.
pub fn embedded_state(catalog: &Path) -> PathBuf {
    let dir = catalog
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    dir.join(".billing").join(EMBEDDED).join("state.json")
}

/// Connects to `api_base` with the key from [`SECRET_KEY_VAR`], or, without `api_base`, starts
/// the embedded sandbox with its state beside the catalog.
pub fn connect(
    catalog: &Path,
    api_base: Option<&str>,
    observer: Option<Observer>,
) -> Result<Connection, ConnectError> {
    match api_base {
        Some(api_base) => {
            let key =
                SecretKey::from_env(SECRET_KEY_VAR).ok_or_else(|| ConnectError::MissingKey {
                    api_base: api_base.to_owned(),
                })?;
            let mode = key.mode().ok_or(ConnectError::BadKey)?;
            let mut settings = ClientSettings::new(api_base, key);
            settings.observer = observer;
            let client =
                StripeHttp::new(settings).map_err(|e| ConnectError::Client(e.to_string()))?;
            Ok(Connection {
                client,
                environment: api_base.trim_end_matches('/').to_owned(),
                mode,
                sandbox_state: None,
                _sandbox: None,
            })
        }
        None => {
            let state = embedded_state(catalog);
            if let Some(billing_dir) = state.parent().and_then(Path::parent) {
                std::fs::create_dir_all(billing_dir).map_err(|e| {
                    ConnectError::Sandbox(format!("{}: {e}", billing_dir.display()))
                })?;
                let ignore = billing_dir.join(".gitignore");
                if !ignore.exists() {
                    // Sandbox state is local: keep it out of version control even without a
                    // project-level .gitignore entry.
                    let _ = std::fs::write(&ignore, "*\n");
                }
            }
            let config = SandboxConfig {
                state: Some(state.clone()),
                ..SandboxConfig::default()
            };
            let sandbox = Sandbox::start(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                .map_err(|e| ConnectError::Sandbox(e.to_string()))?;
            let mut settings =
                ClientSettings::new(sandbox.base_url(), SecretKey::new(EMBEDDED_KEY));
            settings.observer = observer;
            let client =
                StripeHttp::new(settings).map_err(|e| ConnectError::Client(e.to_string()))?;
            Ok(Connection {
                client,
                environment: EMBEDDED.to_owned(),
                mode: KeyMode::Test,
                sandbox_state: Some(state),
                _sandbox: Some(sandbox),
            })
        }
    }
}
