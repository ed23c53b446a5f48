//! The command line: argument parsing, output conventions and exit codes; commands live in submodules.
//!
//! Exit codes: 0 success; 1 any error (bad input, bad flags, failures). Data goes to stdout,
//! everything else (progress, warnings, errors) to stderr. A command returns its exit code or
//! an [`Error`], which [`run`] alone prints.

mod apply;
mod completions;
mod doctor;
mod error;
mod import;
mod init;
mod lease;
mod lock;
mod output;
mod plan;
mod progress;
mod sandbox;
mod schema;
mod session;
mod show;
mod style;
mod validate;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use error::{Error, Result};
pub(crate) use style::Style;

/// Exit code for success.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit code for any error.
pub(crate) const EXIT_ERROR: u8 = 1;
/// Exit code of `plan --detailed-exitcode` when there are changes.
pub(crate) const EXIT_CHANGES: u8 = 2;

/// How a plan is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PlanFormat {
    /// For people, in Terraform's idiom.
    Text,
    /// For a pull-request comment.
    Markdown,
    /// The plan document (docs/plan-json.md).
    Json,
}

/// Writes a plan in `format`.
fn write_plan(
    doc: &crate::document::PlanDocument,
    format: PlanFormat,
    color: bool,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    match format {
        PlanFormat::Text => crate::render::render_plan(doc, &doc.origin, color, out),
        PlanFormat::Markdown => crate::render::render_markdown(doc, &doc.origin, out),
        PlanFormat::Json => out.write_all(doc.to_json().as_bytes()),
    }
}

/// Keep your Stripe catalog in code: validate it, see what would change, apply it.
#[derive(Debug, Parser)]
#[command(
    name = "billing",
    version,
    about = "Keep your Stripe catalog (products, prices, coupons, promotion codes, tax, the customer portal, webhook endpoints, meters, entitlement features) in code",
    long_about = "Keep your Stripe catalog (products, prices, coupons, promotion codes, tax settings, \
        tax registrations, tax rates, the customer portal, webhook endpoints, billing meters, \
        entitlement features) in code.\n\n\
        billing reads billing.toml, checks it against Stripe's rules without any network access, \
        shows what would change in Stripe (plan) and makes Stripe match (apply); \
        billing import writes a billing.toml for an account that already has a catalog; \
        billing doctor scores an environment's production readiness out of 8. \
        billing.toml's [environments] name the accounts it serves (-e picks one); without any, \
        and without --api-base, it works against an embedded local sandbox whose state lives in \
        .billing/ beside the catalog, so no Stripe account is needed to try it.",
    after_help = "Exit codes: 0 success (and no changes with plan --detailed-exitcode); \
        1 any error, including a stale plan file refused by apply, and a doctor score below --min-score; \
        2 changes present (plan --detailed-exitcode); \
        130 apply interrupted (SIGINT, SIGTERM).\n\
        Secret keys are read from environment variables, never from a flag or a file: each environment's \
        secret_key_env (STRIPE_SECRET_KEY unless billing.toml names another), or STRIPE_SECRET_KEY with \
        --api-base when billing.toml declares no environments.\n\
        Documentation: README.md in the billing repository."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    output: OutputFlags,
    /// `-c` and `-e` given before the command.
    #[command(flatten)]
    catalog: CatalogFlags,
    /// The connection flags given before the command.
    #[command(flatten)]
    connection: ConnectionFlags,
    #[command(subcommand)]
    command: Command,
}

/// What every command takes, before or after its name.
#[derive(Debug, Args)]
struct OutputFlags {
    /// Never use colours (colours are also off when NO_COLOR is set or output is not a terminal).
    #[arg(long, global = true)]
    no_color: bool,
    /// Say more about what is happening: every HTTP request, how long loading, reading and planning took, and the peak memory.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Print only errors on stderr (no progress, notes, warnings or reports); what goes to
    /// stdout is unchanged.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
}

/// Which catalog and environment: taken by the commands that read billing.toml, before or
/// after their name.
#[derive(Debug, Args)]
struct CatalogFlags {
    /// The catalog file [default: billing.toml in the current directory or the nearest one
    /// above it, up to the root of the git repository].
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// The environment of billing.toml to use ([environments.<name>]). Without it: the
    /// default_environment, else the embedded sandbox when none is declared, else the only test
    /// environment (a live one is never picked implicitly).
    #[arg(short = 'e', long = "env", value_name = "NAME")]
    environment: Option<String>,
}

/// The API a command talks to: taken by the commands that connect (and `show`, whose plan key
/// depends on it).
#[derive(Debug, Args)]
struct ApiBaseFlag {
    /// Send requests to this Stripe-compatible API instead of the environment's (https://api.stripe.com,
    /// or a `billing sandbox` such as http://127.0.0.1:12111; without /v1). The environment keeps its
    /// mode and key variable; an embedded sandbox environment (sandbox = true) refuses it. Without
    /// environments, the key comes from STRIPE_SECRET_KEY.
    #[arg(long, value_name = "URL", env = "BILLING_API_BASE")]
    api_base: Option<String>,
}

/// How a command that connects talks to Stripe.
#[derive(Debug, Args)]
struct ConnectionFlags {
    #[command(flatten)]
    api: ApiBaseFlag,
    /// Send at most N requests per second (default: Stripe's limit for the key's mode, 25 in
    /// test mode, 100 in live; billing also slows down when Stripe answers 429).
    #[arg(long, value_name = "N", value_parser = positive_rate)]
    rate: Option<f64>,
    /// Send at most N requests per second to any one endpoint (default: Stripe's 25).
    #[arg(long, value_name = "N", value_parser = positive_rate)]
    endpoint_rate: Option<f64>,
}

/// The flags a command was given, before or after its name, as the commands read them.
#[derive(Debug)]
pub(crate) struct GlobalArgs {
    /// The catalog file.
    config: PathBuf,
    no_color: bool,
    verbose: u8,
    /// `-e`.
    environment: Option<String>,
    /// `--api-base`.
    api_base: Option<String>,
    rate: Option<f64>,
    endpoint_rate: Option<f64>,
}

impl GlobalArgs {
    /// The flags of a command given its own (`None` for the kinds it does not take) and those
    /// given before its name: its own win.
    fn merge(
        top: &Cli,
        catalog: Option<&CatalogFlags>,
        api: Option<&ApiBaseFlag>,
        connection: Option<&ConnectionFlags>,
    ) -> Self {
        let api = api.or(connection.map(|c| &c.api));
        // Without -c, billing.toml is looked for here and in the directories above
        // (`billing import` writes a new catalog: it reads only this directory's).
        let search = !matches!(top.command, Command::Import { .. } | Command::Init(_));
        Self {
            config: catalog
                .and_then(|c| c.config.clone())
                .or_else(|| top.catalog.config.clone())
                .or_else(|| {
                    search
                        .then(|| std::env::current_dir().ok())
                        .flatten()
                        .and_then(|d| session::discover(&d))
                })
                .unwrap_or_else(|| PathBuf::from(session::CATALOG_FILE)),
            no_color: top.output.no_color,
            verbose: top.output.verbose,
            environment: catalog
                .and_then(|c| c.environment.clone())
                .or_else(|| top.catalog.environment.clone()),
            api_base: api
                .and_then(|a| a.api_base.clone())
                .or_else(|| top.connection.api.api_base.clone()),
            rate: connection.and_then(|c| c.rate).or(top.connection.rate),
            endpoint_rate: connection
                .and_then(|c| c.endpoint_rate)
                .or(top.connection.endpoint_rate),
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check billing.toml against Stripe's rules; no network access.
    ///
    /// Every problem is reported at once as FILE:LINE:COL with the source line underlined.
    /// Exits 0 when the catalog is valid, 1 otherwise.
    Validate {
        #[command(flatten)]
        catalog: CatalogFlags,
    },
    /// Show what `apply` would change in Stripe, without changing anything.
    ///
    /// Reads the account with list endpoints only and compares it with billing.toml.
    Plan {
        #[command(flatten)]
        args: plan::PlanArgs,
        #[command(flatten)]
        catalog: CatalogFlags,
        #[command(flatten)]
        connection: ConnectionFlags,
    },
    /// Make Stripe match billing.toml: shows the plan, asks for confirmation, applies it.
    ///
    /// With a plan file (from `billing plan --out`), applies exactly that plan without asking,
    /// after checking that neither Stripe nor billing.toml changed since it was made. Every
    /// write carries an idempotency key; a failed apply can be re-run safely. SIGINT or SIGTERM
    /// stops it gracefully (writes in flight finish, the report is printed, exit code 130); a
    /// second signal stops it at once.
    Apply {
        #[command(flatten)]
        args: apply::ApplyArgs,
        #[command(flatten)]
        catalog: CatalogFlags,
        #[command(flatten)]
        connection: ConnectionFlags,
    },
    /// Stop managing objects without touching them: removes billing's marker from the objects
    /// at these addresses, which stay in Stripe as they are.
    ///
    /// The addresses must already be gone from billing.toml (otherwise the next plan would
    /// create or adopt them again). A product takes its prices with it, a coupon its promotion
    /// codes. Shows the plan and asks for confirmation, like `apply`. To forget an entry as
    /// part of an ordinary apply instead, give it `on_remove = "forget"` before removing it.
    Forget {
        #[command(flatten)]
        args: apply::ForgetArgs,
        #[command(flatten)]
        catalog: CatalogFlags,
        #[command(flatten)]
        connection: ConnectionFlags,
    },
    /// Print a saved plan file as text, Markdown or JSON; no network access.
    Show {
        #[command(flatten)]
        args: show::ShowArgs,
        #[command(flatten)]
        catalog: CatalogFlags,
        #[command(flatten)]
        api: ApiBaseFlag,
    },
    /// Print the Stripe id of every object billing.toml declares in the environment, for the
    /// application (prices with the ids they superseded).
    Output {
        #[command(flatten)]
        args: output::OutputArgs,
        #[command(flatten)]
        catalog: CatalogFlags,
        #[command(flatten)]
        connection: ConnectionFlags,
    },
    /// Write a billing.toml for what the account already holds, so that billing can take it
    /// over: `billing plan` then shows only adoptions.
    ///
    /// Reads the account with list endpoints only. Products, coupons and tax rates are written
    /// with their `id`, prices with their lookup key (or `id`), promotion codes by their code;
    /// objects of other namespaces, archived ones (unless --include-archived) and anything
    /// billing.toml cannot express are left out, and the report on stderr says why. Settings
    /// of the current billing.toml (namespace, environments, ignore_metadata) are carried over.
    Import {
        #[command(flatten)]
        args: import::ImportArgs,
        #[command(flatten)]
        catalog: CatalogFlags,
        #[command(flatten)]
        connection: ConnectionFlags,
    },
    /// Score the environment's production readiness: eight signals of a production Stripe
    /// integration, each pass, fail or "check by hand", with the evidence and the fix.
    ///
    /// Reads the account with GET requests only (list endpoints, as plan does) and judges it
    /// with billing.toml: webhook endpoints and their events, webhook signatures and idempotent
    /// writes, the customer portal, tax, failed-payment retries, the API version, test and live
    /// kept apart, and lookup keys instead of price ids (README "Production readiness"). Only passes
    /// count; what the API cannot show is "check by hand" and never counts. Exits 0 when the
    /// score reaches --min-score (default 5 of 8), 1 below it or on error.
    Doctor {
        #[command(flatten)]
        args: doctor::DoctorArgs,
        #[command(flatten)]
        catalog: CatalogFlags,
        #[command(flatten)]
        connection: ConnectionFlags,
    },
    /// Serve a local Stripe-compatible API (products, prices, coupons, promotion codes, tax,
    /// portal configurations, webhook endpoints with signed event delivery, billing meters,
    /// entitlement features) for development and tests, with optional faults, latency and rate limits; `billing
    /// sandbox trigger` sends a signed sample webhook event to a handler.
    ///
    /// It is a stand-in that follows Stripe's rules as documented, not Stripe.
    Sandbox(Box<sandbox::SandboxArgs>),
    /// Write a commented starter billing.toml for a SaaS (monthly and annual prices, a
    /// customer portal, tax settings, a webhook endpoint; a local sandbox environment, and
    /// test and live ones) to start a catalog from.
    ///
    /// Writes billing.toml in the current directory (or -c FILE); refuses to replace an
    /// existing file unless --force.
    Init(init::InitArgs),
    /// Print the JSON Schema of billing.toml, for editors (Taplo, Even Better TOML): completion,
    /// descriptions and inline errors for unknown keys and wrong types.
    ///
    /// The repository's billing.schema.json is this output; a billing.toml that starts with
    /// `#:schema ./billing.schema.json` gets it in the editor (README "Editor setup").
    Schema,
    /// Print a shell completion script: `billing completions bash > ~/.local/share/bash-completion/completions/billing`.
    Completions(completions::CompletionsArgs),
    /// Print the man page, in roff: `billing man > billing.1`, or `billing man | man -l -`.
    Man,
}

/// With `-v`: the process's peak resident memory, where the system tells it (Linux's
/// `VmHWM`, which covers this program only, not the process it was started from).
fn report_peak_memory() {
    use std::io::Write as _;
    if let Some(mb) = crate::memory::peak_mb() {
        let _ = writeln!(std::io::stderr(), "Peak memory: {mb:.1} MB.");
    }
}

/// A request rate: a positive number.
fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(n),
        _ => Err(format!(
            "`{text}` is not a positive number of requests per second"
        )),
    }
}

/// Runs a command's future on a tokio runtime.
fn block_on(future: impl std::future::Future<Output = Result<u8>>) -> Result<u8> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(future)
}

/// A flag given before the command that the command does not take: refused, as it would be
/// after the command's name.
fn unused_flag(cmd: &clap::Command, matches: &clap::ArgMatches) -> Option<clap::Error> {
    let (name, _) = matches.subcommand()?;
    let sub = cmd.find_subcommand(name)?;
    cmd.get_arguments()
        .filter(|a| !a.is_global_set())
        .filter(|a| {
            matches.value_source(a.get_id().as_str())
                == Some(clap::parser::ValueSource::CommandLine)
        })
        .find(|a| !sub.get_arguments().any(|s| s.get_id() == a.get_id()))
        .map(|a| {
            let flag = a
                .get_long()
                .map_or_else(|| a.get_id().to_string(), |l| format!("--{l}"));
            cmd.clone().error(
                clap::error::ErrorKind::UnknownArgument,
                format!("`billing {name}` does not take {flag}: it means nothing to that command"),
            )
        })
}

/// Runs the command line with these arguments and returns the process exit code.
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    crate::memory::configure();
    let mut cmd = Cli::command();
    let parsed =
        cmd.try_get_matches_from_mut(args)
            .and_then(|matches| match unused_flag(&cmd, &matches) {
                Some(error) => Err(error),
                None => Cli::from_arg_matches(&matches),
            });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return match error.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::from(EXIT_OK)
                }
                _ => ExitCode::from(EXIT_ERROR),
            };
        }
    };
    let global = match &cli.command {
        Command::Validate { catalog } => GlobalArgs::merge(&cli, Some(catalog), None, None),
        Command::Show { catalog, api, .. } => {
            GlobalArgs::merge(&cli, Some(catalog), Some(api), None)
        }
        Command::Plan {
            catalog,
            connection,
            ..
        }
        | Command::Apply {
            catalog,
            connection,
            ..
        }
        | Command::Forget {
            catalog,
            connection,
            ..
        }
        | Command::Output {
            catalog,
            connection,
            ..
        }
        | Command::Import {
            catalog,
            connection,
            ..
        }
        | Command::Doctor {
            catalog,
            connection,
            ..
        } => GlobalArgs::merge(&cli, Some(catalog), None, Some(connection)),
        Command::Sandbox(_)
        | Command::Init(_)
        | Command::Schema
        | Command::Completions(_)
        | Command::Man => GlobalArgs::merge(&cli, None, None, None),
    };
    style::set_quiet(cli.output.quiet);
    let style = Style::detect(global.no_color);
    let result = match &cli.command {
        Command::Validate { .. } => validate::run(&global, style),
        Command::Plan { args, .. } => block_on(plan::run(&global, args, style)),
        Command::Apply { args, .. } => block_on(apply::run(&global, args, style)),
        Command::Forget { args, .. } => block_on(apply::forget(&global, args, style)),
        Command::Show { args, .. } => show::run(&global, args, style),
        Command::Output { args, .. } => block_on(output::run(&global, args, style)),
        Command::Import { args, .. } => block_on(import::run(&global, args)),
        Command::Doctor { args, .. } => block_on(doctor::run(&global, args, style)),
        Command::Sandbox(args) => block_on(sandbox::run(&global, args, style)),
        Command::Init(args) => init::run(&global, args),
        Command::Schema => schema::run(),
        Command::Completions(args) => completions::run(args),
        Command::Man => completions::man(),
    };
    // The one place errors are printed.
    let code = match result {
        Ok(code) => code,
        Err(error) => error.report(style),
    };
    if global.verbose > 0 && !matches!(cli.command, Command::Sandbox(_)) {
        report_peak_memory();
    }
    ExitCode::from(code)
}
