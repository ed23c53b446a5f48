//! Scale benchmark (issue #9): `billing plan` and `billing apply` against a sandbox that answers
//! like Stripe does to a real account — every request delayed (80 ms by default) and limited
//! to 25 requests/s overall and per endpoint — on an account seeded straight into a state file
//! with P products and N prices (plus a tenth as many unmanaged), their `created` times spread
//! over three years as a growing account's are.
//!
//!     cargo bench --bench scale                      # P = 1,000, N = 10,000 (and 2N)
//!     cargo bench --bench scale -- --large           # also a no-op plan at 100,000 prices
//!     cargo bench --bench scale -- --help
//!
//! Each scenario prints what it cost (wall time, requests by kind, 429s received, the tool's
//! peak RSS, the time spent planning) beside its lower bound: requests = Σ over the lists the
//! tool must read of ceil(objects / 100), plus the writes the plan needs; time = max(requests /
//! rate, longest unavoidable chain × latency). Beside it, the estimate for a tool that reads
//! each object with its own GET, 10 in flight. A table goes to stdout, JSON to a file. The
//! benchmark asserts nothing about time; it stops if the tool fails or a plan is not what the
//! scenario built (a no-op plan that is not empty, say).
//!
//! Two scenarios run billing's internals in process, each printed in a table of its own:
//! `billing import`'s work on an account of P products and N prices (scenario 5: the time to
//! turn the account into billing.toml, render it and validate it), and the partitioned lister
//! reading lists of different creation histories from a simulated Stripe at the sandbox's
//! latency and rate (scenario 6: requests against `ceil(n / 100)`, time against
//! `requests / rate`; it sleeps through about 20 s of requests).
//!
//!     cargo bench --bench scale -- --scenarios 5,6   # only those

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use billing::{Account as LiveAccount, LivePrice, LiveProduct, LiveRecurring, LiveState, Word};
use clap::Parser;
use serde_json::{Value, json};
use stripe_sandbox::seed::{
    SeedExtras, SeedFeature, SeedMeter, SeedPrice, SeedProduct, SeedWebhook, write_state_with,
};

/// Options (after `cargo bench --bench scale --`).
#[derive(Debug, Parser)]
#[command(about = "Plan and apply at the limits of Stripe's API, against a throttled sandbox")]
struct Args {
    /// Products in the seeded account (managed; a tenth as many unmanaged are added).
    #[arg(long, default_value_t = 1_000)]
    products: usize,
    /// Prices in the seeded account (managed; a tenth as many unmanaged are added).
    #[arg(long, default_value_t = 10_000)]
    prices: usize,
    /// Latency the sandbox adds to every request, in milliseconds.
    #[arg(long, default_value_t = 80)]
    latency: u64,
    /// The sandbox's global limit, requests per second (Stripe test mode: 25).
    #[arg(long, default_value_t = 25)]
    rate: u32,
    /// The sandbox's limit per endpoint, requests per second (Stripe: 25).
    #[arg(long, default_value_t = 25)]
    endpoint_rate: u32,
    /// Also a no-op plan on an account of 100,000 prices (and 10,000 products).
    #[arg(long)]
    large: bool,
    /// Scenarios to run (1 no-op plan at N and 2N, 2 plan with 1% changed, 3 apply of 500
    /// creates, 4 apply of 100 replacements, 5 import of P products and N prices in process,
    /// 6 listing over history shapes, simulated).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 2, 3, 4, 5, 6])]
    scenarios: Vec<u8>,
    /// Where the JSON results go.
    #[arg(long, default_value = "target/bench-scale.json")]
    json: PathBuf,
    /// Keep each scenario's billing.toml and seeded state.json under DIR/<scenario>, to run
    /// again by hand (`billing sandbox --from DIR/…/state.json`).
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// An account to seed and the catalog that manages its managed part.
struct Account {
    products: Vec<SeedProduct>,
    prices: Vec<SeedPrice>,
    /// Managed products (the first ones; the rest are unmanaged).
    managed_products: usize,
    /// Webhook endpoints (unmanaged), meters and features (managed), and the features
    /// attached to a tenth of the managed products.
    extras: SeedExtras,
}

/// Stripe's limit of webhook endpoints per account, all of them seeded.
const WEBHOOKS: usize = 16;
/// Meters and entitlement features per 10 managed products.
const METERS_PER_10: usize = 1;
const FEATURES_PER_10: usize = 3;

/// Whether managed product `i` has features: one in ten.
fn entitled(i: usize) -> bool {
    i % 10 == 3
}

/// The features (indices) attached to managed product `i`: one to three.
fn features_of(i: usize, features: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..1 + i % 3)
        .map(|t| (i / 10 * 3 + t * 7) % features.max(1))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The kinds beside products and prices, for `products` managed products.
fn extras(products: usize) -> SeedExtras {
    let meters = products * METERS_PER_10 / 10;
    let features = products * FEATURES_PER_10 / 10;
    SeedExtras {
        webhooks: (0..WEBHOOKS)
            .map(|w| SeedWebhook {
                url: format!("https://hooks.example.com/bench/{w}"),
                events: vec!["*".to_owned()],
            })
            .collect(),
        meters: (0..meters)
            .map(|m| SeedMeter {
                display_name: format!("Meter {m}"),
                event_name: format!("bench_meter_{m}"),
                aggregation: "sum".to_owned(),
            })
            .collect(),
        features: (0..features)
            .map(|f| SeedFeature {
                lookup_key: format!("f{f}"),
                name: format!("Feature {f}"),
                metadata: marker(format!("entitlements.f{f}")),
            })
            .collect(),
        attachments: if features == 0 {
            Vec::new()
        } else {
            (0..products)
                .filter(|&i| entitled(i))
                .flat_map(|i| features_of(i, features).into_iter().map(move |f| (i, f)))
                .collect()
        },
    }
}

const PRICES_PER_PRODUCT_MIN: usize = 1;
const YEAR: i64 = 365 * 86_400;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Amount of managed price `j` of product `i`, in cents.
fn amount(i: usize, j: usize) -> i64 {
    (100 + (i * 37 + j * 101) % 99_000) as i64
}

fn interval(j: usize) -> Option<&'static str> {
    match j % 5 {
        4 => None,
        1 | 3 => Some("year"),
        _ => Some("month"),
    }
}

fn marker(address: String) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("billing_key".to_owned(), address),
        ("billing_ns".to_owned(), "bench".to_owned()),
    ])
}

/// A growing account: P products and N prices over three years, more of them recent, some
/// made in bursts (an import: many in one second), and a tenth as many unmanaged.
fn account(products: usize, prices: usize) -> Account {
    let mut rng = fastrand::Rng::with_seed(9);
    let end = now() - 3_600;
    let start = end - 3 * YEAR;
    let mut seeded_products = Vec::new();
    let mut seeded_prices = Vec::new();
    let per = (prices / products.max(1)).max(PRICES_PER_PRODUCT_MIN);
    let unmanaged_products = products / 10;
    let unmanaged_prices = prices / 10;
    let total_products = products + unmanaged_products;
    for i in 0..total_products {
        let managed = i < products;
        // Growth: the density of new products rises over time.
        let at = start + ((end - start) as f64 * rng.f64().sqrt()) as i64;
        // One product in twenty came in a burst, in the same second as others.
        let created = if rng.u8(..20) == 0 {
            at - at % 3_600
        } else {
            at
        };
        let count = if managed {
            per.min(prices.saturating_sub(i * per))
        } else {
            (unmanaged_prices / unmanaged_products.max(1)).max(1)
        };
        let first_price = seeded_prices.len();
        for j in 0..count {
            // Prices come with the product (often the same second) or later.
            let created = if j == 0 || rng.bool() {
                created
            } else {
                created + ((end - created) as f64 * rng.f64().powi(2)) as i64
            };
            seeded_prices.push(SeedPrice {
                product: i,
                created,
                active: true,
                currency: "usd".to_owned(),
                unit_amount: amount(i, j),
                interval: interval(j).map(str::to_owned),
                lookup_key: managed.then(|| format!("p{i}_m{j}")),
                metadata: if managed {
                    marker(format!("prices.p{i}.m{j}"))
                } else {
                    BTreeMap::from([("source".to_owned(), "dashboard".to_owned())])
                },
            });
        }
        seeded_products.push(SeedProduct {
            name: if managed {
                format!("Product {i}")
            } else {
                format!("Dashboard product {i}")
            },
            created,
            active: true,
            metadata: if managed {
                let mut metadata = marker(format!("products.p{i}"));
                if entitled(i) && products * FEATURES_PER_10 / 10 > 0 {
                    metadata.insert("billing_features".to_owned(), "attached".to_owned());
                }
                metadata
            } else {
                BTreeMap::new()
            },
            default_price: (count > 0).then_some(first_price),
        });
    }
    Account {
        products: seeded_products,
        prices: seeded_prices,
        managed_products: products,
        extras: extras(products),
    }
}

/// The catalog managing `account`'s managed part; `changed(i, j)` adds a cent to a price.
fn catalog(account: &Account, changed: impl Fn(usize, usize) -> bool) -> String {
    let mut text = String::from("namespace = \"bench\"\n");
    let mut by_product: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (at, price) in account.prices.iter().enumerate() {
        if price.metadata.contains_key("billing_key") {
            by_product.entry(price.product).or_default().push(at);
        }
    }
    for meter in &account.extras.meters {
        let _ = write!(
            text,
            "\n[meters.{0}]\ndisplay_name = \"{1}\"\nevent_name = \"{0}\"\naggregation = \"{2}\"\n",
            meter.event_name, meter.display_name, meter.aggregation
        );
    }
    for feature in &account.extras.features {
        let _ = write!(
            text,
            "\n[entitlements.{}]\nname = \"{}\"\n",
            feature.lookup_key, feature.name
        );
    }
    let mut attached: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for &(product, feature) in &account.extras.attachments {
        let key = format!("\"{}\"", account.extras.features[feature].lookup_key);
        attached.entry(product).or_default().push(key);
    }
    for i in 0..account.managed_products {
        let prices = by_product.get(&i).map(Vec::as_slice).unwrap_or_default();
        let _ = write!(text, "\n[products.p{i}]\nname = \"Product {i}\"\n");
        if let Some(keys) = attached.get(&i) {
            let _ = writeln!(text, "entitlements = [{}]", keys.join(", "));
        }
        if !prices.is_empty() {
            text.push_str("default_price = \"m0\"\n");
        }
        for (j, _) in prices.iter().enumerate() {
            let cents = amount(i, j) + i64::from(changed(i, j));
            let _ = write!(
                text,
                "[products.p{i}.prices.m{j}]\namount = \"{}.{:02}\"\ncurrency = \"usd\"\n",
                cents / 100,
                cents % 100
            );
            if let Some(interval) = interval(j) {
                let _ = writeln!(text, "interval = \"{interval}\"");
            }
        }
    }
    text
}

/// A catalog of `products` new products with `per` prices each, none of them in Stripe.
fn new_catalog(products: usize, per: usize) -> String {
    let mut text = String::from("namespace = \"bench\"\n");
    for i in 0..products {
        let _ = write!(
            text,
            "\n[products.n{i}]\nname = \"New {i}\"\ndefault_price = \"m0\"\n"
        );
        for j in 0..per {
            let cents = amount(i, j);
            let _ = write!(
                text,
                "[products.n{i}.prices.m{j}]\namount = \"{}.{:02}\"\ncurrency = \"usd\"\n",
                cents / 100,
                cents % 100
            );
            if let Some(interval) = interval(j) {
                let _ = writeln!(text, "interval = \"{interval}\"");
            }
        }
    }
    text
}

/// A `billing sandbox` process, its request log collected from its stderr.
struct Sandbox {
    child: Child,
    url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Sandbox {
    fn start(args: &Args, from: Option<&Path>) -> Result<Sandbox> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_billing"));
        cmd.args(["-v", "sandbox", "--port", "0"])
            .args(["--latency", &format!("{0}..{0}", args.latency)])
            .args(["--rate-limit", &args.rate.to_string()])
            .args(["--endpoint-rate-limit", &args.endpoint_rate.to_string()])
            .args(["--seed", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(from) = from {
            cmd.arg("--from").arg(from);
        }
        let mut child = cmd.spawn().context("cannot start billing sandbox")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("Listening on ").nth(1) {
                    let url = rest.split('/').take(3).collect::<Vec<_>>().join("/");
                    let _ = tx.send(url);
                } else if line.starts_with("billing sandbox: ") && line.contains(" -> ") {
                    lines.lock().unwrap().push(line);
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(120))
            .context("the sandbox did not start")?;
        Ok(Sandbox { child, url, log })
    }

    fn lines(&self) -> usize {
        self.log.lock().unwrap().len()
    }

    /// The log lines from `from` on, once they stop arriving.
    fn since(&self, from: usize) -> Vec<String> {
        let mut seen = self.lines();
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let now = self.lines();
            if now == seen {
                return self.log.lock().unwrap()[from..].to_vec();
            }
            seen = now;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one run of the tool cost.
#[derive(Debug, Default)]
struct Measured {
    wall: f64,
    peak_rss_mb: f64,
    /// The peak once billing.toml is loaded (parsed and validated), before Stripe is read.
    load_peak_mb: Option<f64>,
    plan_ms: Option<u64>,
    requests: usize,
    writes: usize,
    by_kind: BTreeMap<String, usize>,
    rate_limited: usize,
    exit: i32,
    stdout: String,
    stderr: String,
}

/// `METHOD /v1/kind[/{id}]` of a logged request, as billing's pacer names endpoints.
fn kind(line: &str) -> String {
    let mut words = line.trim_start_matches("billing sandbox: ").split(' ');
    let method = words.next().unwrap_or("?");
    let path = words.next().unwrap_or("?");
    billing::rate_limit_bucket(method, path)
}

/// Runs `billing ARGS` in `dir` against `sandbox`, measuring it.
fn run(dir: &Path, sandbox: &Sandbox, args: &[&str]) -> Result<Measured> {
    let out = dir.join("stdout.txt");
    let err = dir.join("stderr.txt");
    let first = sandbox.lines();
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_billing"))
        .current_dir(dir)
        .args(["-v", "--api-base", &sandbox.url])
        .args(args)
        .env("STRIPE_SECRET_KEY", "sk_test_benchmark")
        .env("NO_COLOR", "1")
        .stdout(std::fs::File::create(&out)?)
        .stderr(std::fs::File::create(&err)?)
        .spawn()
        .context("cannot run billing")?;
    let exit = child.wait_with_output()?.status.code().unwrap_or(-1);
    let wall = started.elapsed().as_secs_f64();
    let lines = sandbox.since(first);
    let stderr = std::fs::read_to_string(&err)?;
    let mut by_kind = BTreeMap::new();
    for line in &lines {
        *by_kind.entry(kind(line)).or_insert(0) += 1;
    }
    let plan_ms = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("Planned "))
        .filter_map(|l| l.rsplit(" in ").next())
        .filter_map(|l| l.trim_end_matches(" ms.").parse().ok())
        .next();
    Ok(Measured {
        wall,
        // The tool's own report (-v), from Linux's VmHWM: the peak of this program alone
        // (wait4's ru_maxrss would count the benchmark's memory, copied when it forked).
        peak_rss_mb: stderr
            .lines()
            .filter_map(|l| l.strip_prefix("Peak memory: "))
            .filter_map(|l| l.trim_end_matches(" MB.").parse().ok())
            .next()
            .unwrap_or(f64::NAN),
        plan_ms,
        load_peak_mb: stderr
            .lines()
            .filter_map(|l| l.split("(peak memory so far ").nth(1))
            .filter_map(|l| l.trim_end_matches(" MB).").parse().ok())
            .next(),
        requests: lines.len(),
        writes: lines
            .iter()
            .filter(|l| !l.contains(": GET ") && l.contains(" -> 200 "))
            .count(),
        by_kind,
        rate_limited: lines.iter().filter(|l| l.contains(" -> 429 ")).count(),
        exit,
        stdout: std::fs::read_to_string(&out)?,
        stderr,
    })
}

fn pages(n: usize) -> usize {
    n.div_ceil(100).max(1)
}

/// The lists a plan must read and how many objects each holds: the lower bound of requests is
/// Σ max(1, ceil(n / 100)) over them.
fn read_bound(products: usize, active_prices: usize, archived_prices: usize) -> usize {
    // The account and the newest catalog event; then products, active and archived prices,
    // coupons, promotion codes, tax rates, portal configurations, webhook endpoints, and
    // active and archived entitlement features.
    2 + pages(products) + pages(active_prices) + pages(archived_prices) + 4 + 1 + 2
}

/// What `account`'s other kinds add to [`read_bound`]: the meters (read when billing.toml
/// declares some), the features beyond one page, and one list of attached features for each
/// product that declares `entitlements`, since Stripe lists a product's features only per
/// product.
fn extras_bound(account: &Account) -> usize {
    let extras = &account.extras;
    let meters = if extras.meters.is_empty() {
        0
    } else {
        pages(extras.meters.len())
    };
    let entitled: std::collections::BTreeSet<usize> =
        extras.attachments.iter().map(|(p, _)| *p).collect();
    meters + pages(extras.features.len()) - 1 + entitled.len()
}

/// How `account`'s other kinds read in a scenario's name.
fn extras_label(account: &Account) -> String {
    let entitled: std::collections::BTreeSet<usize> =
        account.extras.attachments.iter().map(|(p, _)| *p).collect();
    format!(
        "{} webhooks, {} meters, {} features on {} products",
        account.extras.webhooks.len(),
        account.extras.meters.len(),
        account.extras.features.len(),
        entitled.len()
    )
}

/// Objects in `account`, every kind.
fn objects(account: &Account) -> usize {
    let extras = &account.extras;
    account.products.len()
        + account.prices.len()
        + extras.webhooks.len()
        + extras.meters.len()
        + extras.features.len()
        + extras.attachments.len()
}

/// What an apply reads beyond a plan: the apply lease, once before the account (its moves,
/// taking and releasing it, are among the writes the sandbox counts).
const LEASE_READS: usize = 1;

/// One scenario's figures, printed and saved.
struct Row {
    name: String,
    objects: usize,
    measured: Measured,
    bound_requests: usize,
    chain: usize,
    rate: f64,
    latency: f64,
}

impl Row {
    fn time_bound(&self) -> f64 {
        (self.bound_requests as f64 / self.rate).max(self.chain as f64 * self.latency)
    }

    /// One GET per object, 10 in flight, within the same rate limit.
    fn naive_seconds(&self) -> f64 {
        let requests = self.objects as f64 + self.measured.writes as f64;
        (requests / self.rate).max((requests / 10.0).ceil() * self.latency)
    }

    fn json(&self) -> Value {
        let m = &self.measured;
        json!({
            "scenario": self.name,
            "objects": self.objects,
            "requests": m.requests,
            "requests_bound": self.bound_requests,
            "requests_ratio": m.requests as f64 / self.bound_requests as f64,
            "writes": m.writes,
            "requests_by_kind": m.by_kind,
            "rate_limited_429": m.rate_limited,
            "wall_seconds": m.wall,
            "time_bound_seconds": self.time_bound(),
            "time_ratio": m.wall / self.time_bound(),
            "plan_ms": m.plan_ms,
            "peak_rss_mb": m.peak_rss_mb,
            "peak_rss_after_load_mb": m.load_peak_mb,
            "one_get_per_object_seconds": self.naive_seconds(),
        })
    }
}

fn print_table(rows: &[Row], args: &Args) {
    println!(
        "\nbilling scale benchmark: sandbox latency {} ms, limits {}/s global and {}/s per endpoint\n",
        args.latency, args.rate, args.endpoint_rate
    );
    println!(
        "| scenario | objects | requests | bound | ratio | wall s | bound s | ratio | 429s | peak RSS MB | plan ms | one GET per object s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let m = &row.measured;
        println!(
            "| {} | {} | {} | {} | {:.2} | {:.1} | {:.1} | {:.2} | {} | {:.0} | {} | {:.0} |",
            row.name,
            row.objects,
            m.requests,
            row.bound_requests,
            m.requests as f64 / row.bound_requests as f64,
            m.wall,
            row.time_bound(),
            m.wall / row.time_bound(),
            m.rate_limited,
            m.peak_rss_mb,
            m.plan_ms.map_or("-".to_owned(), |ms| ms.to_string()),
            row.naive_seconds()
        );
    }
    for row in rows {
        let kinds: Vec<String> = row
            .measured
            .by_kind
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        let loaded = row.measured.load_peak_mb.map_or(String::new(), |mb| {
            format!(" (peak RSS once billing.toml is loaded: {mb:.0} MB)")
        });
        println!("  {}: {}{loaded}", row.name, kinds.join(", "));
    }
}

/// A scenario's directory, with its billing.toml (and state.json when seeded).
struct Workdir {
    path: PathBuf,
    /// Deletes the directory when dropped, unless `--keep` was given.
    _temp: Option<tempfile::TempDir>,
}

impl Workdir {
    fn path(&self) -> &Path {
        &self.path
    }
}

/// A directory for scenario `name` with `catalog` as billing.toml: temporary, or under
/// `--keep DIR` to be looked at and run again by hand.
fn workdir(args: &Args, name: &str, catalog: &str) -> Result<Workdir> {
    let dir = match &args.keep {
        Some(keep) => {
            let path = keep.join(name);
            std::fs::create_dir_all(&path)?;
            Workdir { path, _temp: None }
        }
        None => {
            let temp = tempfile::tempdir()?;
            Workdir {
                path: temp.path().to_path_buf(),
                _temp: Some(temp),
            }
        }
    };
    std::fs::write(dir.path().join("billing.toml"), catalog)?;
    Ok(dir)
}

/// Seeds `account` into a state file under `dir`.
fn seed(dir: &Path, account: &Account) -> Result<PathBuf> {
    let path = dir.join("state.json");
    write_state_with(&path, &account.products, &account.prices, &account.extras)?;
    Ok(path)
}

fn check(m: &Measured, expected: &[i32], what: &str) -> Result<()> {
    if !expected.contains(&m.exit) {
        bail!(
            "{what}: billing exited {} (expected {expected:?})\n{}\n{}",
            m.exit,
            m.stdout
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .join("\n"),
            m.stderr
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    Ok(())
}

/// Scenario 1 or 2: a plan on a seeded account of `prices` prices, `changed` of them edited.
fn plan_scenario(
    args: &Args,
    products: usize,
    prices: usize,
    percent_changed: usize,
) -> Result<Row> {
    let account = account(products, prices);
    let changed =
        |i: usize, j: usize| percent_changed > 0 && (i * 7 + j * 13) % 100 < percent_changed;
    let slug = format!("plan-{prices}-{percent_changed}pc");
    let dir = workdir(args, &slug, &catalog(&account, changed))?;
    let state = seed(dir.path(), &account)?;
    let sandbox = Sandbox::start(args, Some(&state))?;
    let measured = run(dir.path(), &sandbox, &["plan", "--detailed-exitcode"])?;
    let name = if percent_changed == 0 {
        check(&measured, &[0], "no-op plan")?;
        format!("1. no-op plan, {prices} prices; {}", extras_label(&account))
    } else {
        check(&measured, &[2], "plan with changes")?;
        ensure!(
            measured.stdout.contains("to replace"),
            "the plan replaces nothing:\n{}",
            measured.stdout
        );
        format!("2. plan, {percent_changed}% of {prices} prices changed")
    };
    Ok(Row {
        name,
        objects: objects(&account),
        bound_requests: read_bound(account.products.len(), account.prices.len(), 0)
            + extras_bound(&account),
        chain: 1,
        rate: f64::from(args.rate),
        latency: args.latency as f64 / 1000.0,
        measured,
    })
}

/// Scenario 3: 500 creates (100 products with 4 prices each) on an empty account.
fn create_scenario(args: &Args) -> Result<Row> {
    let dir = workdir(args, "apply-500-creates", &new_catalog(100, 4))?;
    let sandbox = Sandbox::start(args, None)?;
    let measured = run(dir.path(), &sandbox, &["apply", "--yes"])?;
    check(&measured, &[0], "apply of 500 creates")?;
    let after = run(dir.path(), &sandbox, &["plan", "--detailed-exitcode"])?;
    check(&after, &[0], "the plan after applying 500 creates")?;
    Ok(Row {
        name: "3. apply, 500 creates".to_owned(),
        objects: 500,
        bound_requests: read_bound(0, 0, 0) + LEASE_READS + measured.writes,
        // The lease's read, reads, the lease taken, product → price → the product's default
        // price, the lease released.
        chain: 7,
        rate: f64::from(args.rate),
        latency: args.latency as f64 / 1000.0,
        measured,
    })
}

/// Scenario 4: 100 price replacements on the seeded account.
fn replace_scenario(args: &Args) -> Result<Row> {
    let account = account(args.products, args.prices);
    // Every 100th managed price (of the first price of a product: a default price, moved too).
    let step = (args.products / 100).max(1);
    let changed = |i: usize, j: usize| j == 0 && i.is_multiple_of(step) && i / step < 100;
    let dir = workdir(args, "apply-100-replacements", &catalog(&account, changed))?;
    let state = seed(dir.path(), &account)?;
    let sandbox = Sandbox::start(args, Some(&state))?;
    let measured = run(dir.path(), &sandbox, &["apply", "--yes"])?;
    check(&measured, &[0], "apply of 100 replacements")?;
    ensure!(
        measured.stdout.contains("100 to replace"),
        "not 100 replacements:\n{}",
        measured
            .stdout
            .lines()
            .take(3)
            .collect::<Vec<_>>()
            .join("\n")
    );
    Ok(Row {
        name: "4. apply, 100 replacements".to_owned(),
        objects: objects(&account),
        bound_requests: read_bound(account.products.len(), account.prices.len(), 0)
            + extras_bound(&account)
            + LEASE_READS
            + measured.writes,
        // The lease's read, reads, the lease taken, new price → the product's default price →
        // archive the old one, the lease released.
        chain: 7,
        rate: f64::from(args.rate),
        latency: args.latency as f64 / 1000.0,
        measured,
    })
}

/// Scenario 5's figures: `billing import`'s work on a large account, in process.
struct Imported {
    products: usize,
    prices: usize,
    bytes: usize,
    /// Entries written, by kind in kind order (`prices`, 10000).
    written: Vec<(&'static str, usize)>,
    import: Duration,
    render: Duration,
    verify: Duration,
}

impl Imported {
    fn print(&self) {
        println!(
            "\n5. import in process, {} products and {} prices (half with lookup keys)\n",
            self.products, self.prices
        );
        println!("| billing.toml bytes | written | import ms | render ms | validate ms |");
        println!("|---:|---|---:|---:|---:|");
        let written: Vec<String> = self
            .written
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        println!(
            "| {} | {} | {} | {} | {} |",
            self.bytes,
            written.join(", "),
            self.import.as_millis(),
            self.render.as_millis(),
            self.verify.as_millis()
        );
    }

    fn json(&self) -> Value {
        json!({
            "products": self.products,
            "prices": self.prices,
            "bytes": self.bytes,
            "written": self.written.iter().map(|(kind, n)| (kind.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "import_ms": self.import.as_millis() as u64,
            "render_ms": self.render.as_millis() as u64,
            "validate_ms": self.verify.as_millis() as u64,
        })
    }
}

/// An account read from Stripe with `products` products and `prices` monthly prices spread
/// over them, every other one with a lookup key, none of them managed.
fn unmanaged_account(products: usize, prices: usize) -> LiveState {
    let products: Vec<LiveProduct> = (0..products)
        .map(|i| LiveProduct {
            id: format!("prod_{i}"),
            created: i as i64,
            active: true,
            name: format!("Product {i}"),
            description: None,
            tax_code: None,
            unit_label: None,
            statement_descriptor: None,
            url: None,
            images: Vec::new(),
            features: Vec::new(),
            metadata: Default::default(),
            default_price: None,
        })
        .collect();
    let count = products.len().max(1);
    let prices = (0..prices)
        .map(|i| LivePrice {
            id: format!("price_{i}").into(),
            created: i as i64,
            active: true,
            product: format!("prod_{}", i % count).into(),
            currency: Word::new("usd"),
            billing_scheme: Word::new("per_unit"),
            unit_amount: billing::MinorAmount::from_minor(100 + i as i64).ok(),
            custom_unit_amount: false,
            tiers_mode: None,
            tiers: Vec::new(),
            recurring: Some(LiveRecurring {
                interval: Word::new("month"),
                interval_count: 1,
                usage_type: Word::new("licensed"),
                meter: None,
            }),
            transform_quantity: None,
            lookup_key: i.is_multiple_of(2).then(|| format!("key_{i}").into()),
            nickname: None,
            tax_behavior: Some(Word::new("unspecified")),
            metadata: Default::default(),
            currency_options: BTreeMap::new(),
        })
        .collect();
    LiveState {
        account: LiveAccount {
            id: "acct_bench".to_owned(),
            name: None,
        },
        now: now(),
        products,
        prices,
        ..LiveState::default()
    }
}

/// Scenario 5: what `billing import` does once the account is read, on P products and N
/// prices: the entries chosen, the text rendered and validated.
fn import_scenario(args: &Args) -> Result<Imported> {
    use billing::{
        ImportOptions as Options, ImportOrigin as Origin, import, verify_import as verify,
    };
    let live = unmanaged_account(args.products, args.prices);
    let started = Instant::now();
    let imported = import(&live, &Options::default());
    let import_time = started.elapsed();
    let origin = Origin {
        account: live.account.id.clone(),
        account_name: None,
        environment: "bench".to_owned(),
        mode: "test".to_owned(),
        now: live.now,
    };
    let started = Instant::now();
    let text = imported.render(&origin, &toml::Table::new());
    let render = started.elapsed();
    let started = Instant::now();
    verify("billing.toml", &text)
        .map_err(|problems| anyhow::anyhow!("the import does not validate:\n{problems}"))?;
    let verify_time = started.elapsed();
    Ok(Imported {
        products: args.products,
        prices: args.prices,
        bytes: text.len(),
        written: imported
            .report
            .written
            .iter()
            .map(|(kind, n)| (kind.plural(), *n))
            .collect(),
        import: import_time,
        render,
        verify: verify_time,
    })
}

/// One history shape of scenario 6, as the lister read it.
struct Listed {
    shape: &'static str,
    objects: usize,
    requests: usize,
    splits: usize,
    wall: f64,
}

impl Listed {
    fn json(&self) -> Value {
        json!({
            "shape": self.shape,
            "objects": self.objects,
            "requests": self.requests,
            "requests_bound": self.objects.div_ceil(100),
            "splits": self.splits,
            "wall_seconds": self.wall,
        })
    }
}

/// Creation histories of about 11,000 objects (and one of 3,000), in Unix seconds.
fn history_shapes() -> Vec<(&'static str, Vec<i64>)> {
    let t0 = 1_000_000i64;
    vec![
        (
            "uniform, 25 per second",
            (0..11_000).map(|i| t0 + i / 25).collect(),
        ),
        (
            "uniform, 1 per minute",
            (0..11_000).map(|i| t0 + i * 60).collect(),
        ),
        (
            "11 clumps of 40 s, 1 h apart",
            (0..11_000)
                .map(|i| t0 + (i / 1000) * 3600 + (i % 1000) / 25)
                .collect(),
        ),
        ("growing", (0..11_000).map(|i| t0 + i * i / 2000).collect()),
        ("bulk after 5 years", {
            let mut v: Vec<i64> = (0..1_000).map(|i| t0 + i * 150_000).collect();
            v.extend((0..10_000).map(|i| t0 + 160_000_000 + i / 25));
            v
        }),
        ("3,000 uniform", (0..3_000).map(|i| t0 + i / 25).collect()),
    ]
}

/// Scenario 6: the partitioned lister over each history shape, against a simulated Stripe
/// with the sandbox's latency and the client's pacer at its rate.
fn history_scenario(args: &Args) -> Result<Vec<Listed>> {
    let latency = Duration::from_millis(args.latency);
    let mut out = Vec::new();
    for (shape, created) in history_shapes() {
        let started = Instant::now();
        let (read, stats) = billing::simulate_listing(&created, latency, f64::from(args.rate));
        let wall = started.elapsed().as_secs_f64();
        ensure!(
            read == created.len(),
            "{shape}: read {read} of {} objects",
            created.len()
        );
        out.push(Listed {
            shape,
            objects: read,
            requests: stats.requests,
            splits: stats.splits,
            wall,
        });
    }
    Ok(out)
}

fn print_history(rows: &[Listed], args: &Args) {
    println!(
        "\n6. listing over history shapes (simulated: {} ms per request, {}/s)\n",
        args.latency, args.rate
    );
    println!("| shape | objects | ceil(n/100) | requests | splits | wall s | requests / rate s |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {} | {:.2} | {:.2} |",
            row.shape,
            row.objects,
            row.objects.div_ceil(100),
            row.requests,
            row.splits,
            row.wall,
            row.requests as f64 / f64::from(args.rate)
        );
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut rows = Vec::new();
    let mut imported = None;
    let mut history = Vec::new();
    for scenario in &args.scenarios {
        match scenario {
            1 => {
                rows.push(plan_scenario(&args, args.products, args.prices, 0)?);
                rows.push(plan_scenario(&args, args.products * 2, args.prices * 2, 0)?);
            }
            2 => rows.push(plan_scenario(&args, args.products, args.prices, 1)?),
            3 => rows.push(create_scenario(&args)?),
            4 => rows.push(replace_scenario(&args)?),
            5 => imported = Some(import_scenario(&args)?),
            6 => history = history_scenario(&args)?,
            other => bail!("no scenario {other}: 1 to 6"),
        }
        eprintln!("done: scenario {scenario}");
    }
    if args.large {
        rows.push(plan_scenario(&args, 10_000, 100_000, 0)?);
    }
    if !rows.is_empty() {
        print_table(&rows, &args);
    }
    if let Some(imported) = &imported {
        imported.print();
    }
    if !history.is_empty() {
        print_history(&history, &args);
    }
    let json = json!({
        "latency_ms": args.latency,
        "rate": args.rate,
        "endpoint_rate": args.endpoint_rate,
        "scenarios": rows.iter().map(Row::json).collect::<Vec<_>>(),
        "import": imported.as_ref().map(Imported::json),
        "history": history.iter().map(Listed::json).collect::<Vec<_>>(),
    });
    if let Some(dir) = args.json.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.json, serde_json::to_string_pretty(&json)? + "\n")?;
    println!("\nJSON: {}", args.json.display());
    Ok(())
}
