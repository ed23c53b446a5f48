//! The command line: argument parsing, output conventions and exit codes; commands live in submodules.
//!
//! Exit codes: 0 success; 1 any error (bad input, bad flags, failures). Data goes to stdout,
//! everything else (progress, warnings, errors) to stderr. A command returns its exit code or
//! an [`Error`], which [`run`] alone prints.

mod apply;
mod error;
mod import;
mod lock;
mod output;
mod plan;
mod progress;
mod sandbox;
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
    about = "Keep your Stripe catalog (products, prices, coupons, promotion codes, tax, the customer portal) in code",
    long_about = "Keep your Stripe catalog (products, prices, coupons, promotion codes, tax settings, \
        tax registrations, tax rates, the customer portal) in code.\n\n\
        billing reads billing.toml, checks it against Stripe's rules without any network access, \
        shows what would change in Stripe (plan) and makes Stripe match (apply); \
        billing import writes a billing.toml for an account that already has a catalog. \
        billing.toml's [environments] name the accounts it serves (-e picks one); without any, \
        and without --api-base, it works against an embedded local sandbox whose state lives in \
        .billing/ beside the catalog, so no Stripe account is needed to try it.",
    after_help = "Exit codes: 0 success (and no changes with plan --detailed-exitcode); \
        1 any error, including a stale plan file refused by apply; \
        2 changes present (plan --detailed-exitcode).\n\
        The secret key is read from STRIPE_SECRET_KEY, never from a flag or a file.\n\
        Documentation: README.md in the billing repository."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Options accepted before or after the subcommand.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// The catalog file.
    #[arg(
        short = 'c',
        long = "config",
        value_name = "FILE",
        default_value = "billing.toml",
        global = true
    )]
    config: PathBuf,
    /// Never use colours (colours are also off when NO_COLOR is set or output is not a terminal).
    #[arg(long, global = true)]
    no_color: bool,
    /// Say more about what is happening: every HTTP request, how long loading, reading and planning took, and the peak memory.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// The environment of billing.toml to use ([environments.<name>]). Without it: the
    /// default_environment, else the embedded sandbox when none is declared, else the only test
    /// environment (a live one is never picked implicitly).
    #[arg(short = 'e', long = "env", value_name = "NAME", global = true)]
    environment: Option<String>,
    /// Send requests to this Stripe-compatible API instead of the environment's (https://api.stripe.com,
    /// or a `billing sandbox`). Without environments, the key comes from STRIPE_SECRET_KEY.
    #[arg(long, value_name = "URL", global = true)]
    api_base: Option<String>,
    /// Send at most N requests per second (default: Stripe's limit for the key's mode, 25 in
    /// test mode, 100 in live; billing also slows down when Stripe answers 429).
    #[arg(long, value_name = "N", global = true, value_parser = positive_rate)]
    rate: Option<f64>,
    /// Send at most N requests per second to any one endpoint (default: Stripe's 25).
    #[arg(long, value_name = "N", global = true, value_parser = positive_rate)]
    endpoint_rate: Option<f64>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check billing.toml against Stripe's rules; no network access.
    ///
    /// Every problem is reported at once as FILE:LINE:COL with the source line underlined.
    /// Exits 0 when the catalog is valid, 1 otherwise.
    Validate,
    /// Show what `apply` would change in Stripe, without changing anything.
    ///
    /// Reads the account with list endpoints only and compares it with billing.toml.
    Plan(plan::PlanArgs),
    /// Make Stripe match billing.toml: shows the plan, asks for confirmation, applies it.
    ///
    /// With a plan file (from `billing plan --out`), applies exactly that plan without asking,
    /// after checking that neither Stripe nor billing.toml changed since it was made. Every
    /// write carries an idempotency key; a failed apply can be re-run safely.
    Apply(apply::ApplyArgs),
    /// Stop managing objects without touching them: removes billing's marker from the objects
    /// at these addresses, which stay in Stripe as they are.
    ///
    /// The addresses must already be gone from billing.toml (otherwise the next plan would
    /// create or adopt them again). A product takes its prices with it, a coupon its promotion
    /// codes. Shows the plan and asks for confirmation, like `apply`. To forget an entry as
    /// part of an ordinary apply instead, give it `on_remove = "forget"` before removing it.
    Forget(apply::ForgetArgs),
    /// Print a saved plan file as text, Markdown or JSON; no network access.
    Show(show::ShowArgs),
    /// Print the Stripe id of every object billing.toml declares in the environment, for the
    /// application (prices with the ids they superseded).
    Output(output::OutputArgs),
    /// Write a billing.toml for what the account already holds, so that billing can take it
    /// over: `billing plan` then shows only adoptions.
    ///
    /// Reads the account with list endpoints only. Products, coupons and tax rates are written
    /// with their `id`, prices with their lookup key (or `id`), promotion codes by their code;
    /// objects of other namespaces, archived ones (unless --include-archived) and anything
    /// billing.toml cannot express are left out, and the report on stderr says why. Settings
    /// of the current billing.toml (namespace, environments, ignore_metadata) are carried over.
    Import(import::ImportArgs),
    /// Serve a local Stripe-compatible API (products, prices, coupons, promotion codes, tax,
    /// portal configurations, webhook endpoints with signed event delivery) for development and
    /// tests, with optional faults, latency and rate limits; `billing sandbox trigger` sends a
    /// signed sample webhook event to a handler.
    ///
    /// It is a stand-in that follows Stripe's rules as documented, not Stripe.
    Sandbox(Box<sandbox::SandboxArgs>),
}

/// With `-v`: the process's peak resident memory, where the system tells it (Linux's
/// `VmHWM`, which covers this program only, not the process it was started from).
fn report_peak_memory() {
    use std::io::Write as _;
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return;
    };
    let peak_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    if let Some(kib) = peak_kib {
        let _ = writeln!(
            std::io::stderr(),
            "Peak memory: {:.1} MB.",
            kib as f64 / 1024.0
        );
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

/// Runs the command line with these arguments and returns the process exit code.
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
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
    let style = Style::detect(cli.global.no_color);
    let result = match &cli.command {
        Command::Validate => validate::run(&cli.global),
        Command::Plan(args) => block_on(plan::run(&cli.global, args, style)),
        Command::Apply(args) => block_on(apply::run(&cli.global, args, style)),
        Command::Forget(args) => block_on(apply::forget(&cli.global, args, style)),
        Command::Show(args) => show::run(&cli.global, args, style),
        Command::Output(args) => block_on(output::run(&cli.global, args, style)),
        Command::Import(args) => block_on(import::run(&cli.global, args)),
        Command::Sandbox(args) => block_on(sandbox::run(&cli.global, args, style)),
    };
    // The one place errors are printed.
    let code = match result {
        Ok(code) => code,
        Err(error) => error.report(style),
    };
    if cli.global.verbose > 0 && !matches!(cli.command, Command::Sandbox(_)) {
        report_peak_memory();
    }
    ExitCode::from(code)
}
