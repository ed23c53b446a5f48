//! Random accounts built the way the Dashboard builds them: products, prices, coupons,
//! promotion codes, tax rates, Stripe Tax settings and portal configurations made through the
//! sandbox's API with the oddities real accounts have (texts and metadata that need quoting,
//! lookup keys and ids that look alike, archived and foreign objects, objects billing manages
//! and left behind), each recorded with what an import must make of it ([`Fate`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use stripe_sandbox::test_support::{Req, unix_now};

use crate::engine::Env;

/// A form body, percent-encoded in the order the pairs were added.
#[derive(Default, Clone)]
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    fn add(&mut self, key: impl Into<String>, value: impl ToString) -> &mut Self {
        self.0.push((key.into(), value.to_string()));
        self
    }

    fn metadata(&mut self, prefix: &str, entries: &[(String, String)]) -> &mut Self {
        for (k, v) in entries {
            self.add(format!("{prefix}[{k}]"), v);
        }
        self
    }

    fn body(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            s.append_pair(k, v);
        }
        s.finish()
    }
}

/// What the generator expects of an object it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fate {
    /// No marker: written (adopted) or reported as skipped, never silently dropped.
    Unmanaged,
    /// Archived (or inactive) and unmarked: counted as archived, never written.
    Archived,
    /// Marked by the catalog of namespace `other` at this address.
    Foreign(String),
    /// Marked by the catalog of namespace `default` at this address.
    Ours(String),
    /// Marked by the catalog of namespace `default`, and archived (or deactivated) by it: what
    /// a replacement or a removal leaves behind. Never adopted, never changed.
    OursArchived(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Made {
    pub kind: &'static str,
    pub id: String,
    pub fate: Fate,
}

/// A recurring price's currency, interval and interval count.
pub(crate) type Period = (String, String, String);

/// Builds one random account through the sandbox's API.
pub(crate) struct Fuzz<'a> {
    env: &'a Env,
    rng: fastrand::Rng,
    now: i64,
    /// Every request sent, and what came of it (printed on failure).
    pub log: Vec<String>,
    pub made: Vec<Made>,
    lookup_keys: BTreeSet<String>,
    ids: BTreeSet<String>,
    customers: Vec<String>,
    /// Product ids with their name slug, for lookup keys that look like another product's.
    products: Vec<(String, String)>,
    /// The billing period of each recurring price made.
    periods: BTreeMap<String, Period>,
    /// The namespace imported (the objects of the other one are foreign).
    pub namespace: &'static str,
    /// `ignore_metadata` of the billing.toml imported over.
    pub ignore_metadata: Vec<&'static str>,
    /// The active recurring prices of products billing manages, by product: what a portal
    /// configuration can offer (price id, currency, interval, interval count).
    offerable: BTreeMap<String, Vec<(String, Period)>>,
    /// Import with `--include-archived`.
    pub include_archived: bool,
}

const TEXTS: &[&str] = &[
    "For growing teams",
    "He said \"hi\" — twice",
    "two\nlines",
    "Crème brûlée 日本語 🚀",
    "back\\slash and 'single'",
    "tab\there",
    "100% more",
    "a [bracketed] {braced} text",
];

const META_KEYS: &[&str] = &[
    "tier",
    "crm id",
    "plan.family",
    "Région",
    "x-source",
    "ключ",
    "say \"hi\"",
    "back\\slash",
    "tab\tkey",
    "=",
];

const META_VALUES: &[&str] = &[
    "2",
    "He said \"yes\"",
    "line one\nline two",
    "日本語 🚀",
    "C:\\path",
    "'quoted'",
    "trailing space ",
    "=1+1",
];

const PRODUCT_NAMES: &[&str] = &[
    "Pro",
    "pro",
    "PRO!",
    "Team",
    "Starter",
    "Pro (Japan)",
    "Crème Brûlée",
    "日本語プラン",
    "Onboarding \"white glove\" — setup",
    "API",
    "Enterprise Plus",
    "Seats",
    "pro monthly",
    "Legacy",
    " Pro ",
    "Pro\nPlan",
    "Ünïcödé — a rather long product name that goes on and on, well past forty characters",
];

const LOOKUP_KEYS: &[&str] = &[
    "monthly",
    "Pro_Monthly",
    "pro-annual",
    "plan.v2.monthly",
    "цена_месяц",
    "ünïcödé key",
    "Growth Plan",
    "seat",
    "pro_monthly",
    "team_annual",
    "pro_one_time",
    "pro_2_monthly",
    "api_requests",
    "legacy",
];

impl<'a> Fuzz<'a> {
    pub(crate) fn new(env: &'a Env, seed: u64) -> Self {
        Self {
            env,
            rng: fastrand::Rng::with_seed(seed),
            now: unix_now(),
            log: Vec::new(),
            made: Vec::new(),
            lookup_keys: BTreeSet::new(),
            ids: BTreeSet::new(),
            customers: Vec::new(),
            products: Vec::new(),
            periods: BTreeMap::new(),
            namespace: "default",
            ignore_metadata: Vec::new(),
            offerable: BTreeMap::new(),
            include_archived: false,
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.f64() < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.usize(..items.len())]
    }

    /// Sends a POST; the object, or `None` when the sandbox refuses it (logged).
    fn post(&mut self, path: &str, form: &Form) -> Option<Value> {
        let res = Req::post(path, &form.body()).send(&self.env.sandbox);
        let pairs: Vec<String> = form.0.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        if res.status == 200 {
            let body = res.json();
            self.log.push(format!(
                "POST {path} {} -> {}",
                pairs.join(" "),
                body["id"].as_str().unwrap_or_default()
            ));
            Some(body)
        } else {
            self.log.push(format!(
                "POST {path} {} -> REFUSED {}: {}",
                pairs.join(" "),
                res.status,
                res.json()["error"]["message"]
            ));
            None
        }
    }

    fn create(
        &mut self,
        kind: &'static str,
        path: &str,
        form: &Form,
        fate: Fate,
    ) -> Option<String> {
        let body = self.post(path, form)?;
        let id = body["id"].as_str().unwrap_or_default().to_owned();
        self.made.push(Made {
            kind,
            id: id.clone(),
            fate,
        });
        Some(id)
    }

    fn set_fate(&mut self, id: &str, fate: Fate) {
        if let Some(m) = self.made.iter_mut().find(|m| m.id == id) {
            m.fate = fate;
        }
    }

    /// `meta` with the marker `fate` calls for (and without billing's reserved keys, which a
    /// catalog's objects never carry).
    fn marked(fate: &Fate, mut meta: Vec<(String, String)>) -> Vec<(String, String)> {
        let (ns, address) = match fate {
            Fate::Ours(a) => ("default", a),
            Fate::Foreign(a) => ("other", a),
            _ => return meta,
        };
        meta.retain(|(k, _)| !k.starts_with("billing_"));
        meta.push(("billing_key".into(), address.clone()));
        meta.push(("billing_ns".into(), ns.into()));
        meta
    }

    /// Sometimes the `on_remove` billing records on an object it manages (one of `allowed`).
    fn on_remove(&mut self, fate: &Fate, allowed: &[&str], meta: &mut Vec<(String, String)>) {
        if matches!(fate, Fate::Ours(_) | Fate::Foreign(_)) && self.chance(0.15) {
            meta.push(("billing_on_remove".into(), self.pick(allowed).into()));
        }
    }

    fn metadata(&mut self, p: f64) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.chance(p) {
            for _ in 0..self.rng.usize(1..4) {
                let k = self.pick(META_KEYS).to_owned();
                let v = self.pick(META_VALUES).to_owned();
                if !out.iter().any(|(x, _): &(String, String)| *x == k) {
                    out.push((k, v));
                }
            }
            if self.chance(0.05) {
                // A key billing reserves: such an object cannot be adopted as it is.
                out.push(("billing_owner".to_owned(), "finance".to_owned()));
            }
            if self.chance(0.05) {
                // Stripe's limits: a 40-character key, a 500-character value.
                out.push(("k".repeat(40), "v".repeat(499) + "é"));
            }
            if self.chance(0.03) {
                // 49 keys: more than billing.toml leaves room for beside the marker.
                for i in out.len()..49 {
                    out.push((format!("key_{i}"), i.to_string()));
                }
            }
        }
        out
    }

    /// A unique custom id (`prefix` and a counter), or `None`.
    fn custom_id(&mut self, candidates: &[&str]) -> Option<String> {
        let base = self.pick(candidates).to_owned();
        let id = (1..)
            .map(|n| {
                if n == 1 {
                    base.clone()
                } else {
                    format!("{base}{n}")
                }
            })
            .find(|i| !self.ids.contains(i))?;
        self.ids.insert(id.clone());
        Some(id)
    }

    fn lookup_key(&mut self) -> Option<String> {
        let key = if self.chance(0.3) && !self.products.is_empty() {
            // Looks like `<product>_<price>` of some product.
            let (_, slug) = self.products[self.rng.usize(..self.products.len())].clone();
            let suffix = self.pick(&["monthly", "annual", "one_time", "monthly_2", "weekly"]);
            format!("{slug}_{suffix}")
        } else if self.chance(0.05) {
            // 200 characters, Stripe's limit (400 bytes).
            "ключ_".repeat(40)
        } else {
            self.pick(LOOKUP_KEYS).to_owned()
        };
        self.lookup_keys.insert(key.clone()).then_some(key)
    }

    fn amount(&mut self, currency: &str) -> (&'static str, String) {
        if self.chance(0.25) {
            let decimal = match currency {
                "jpy" => self.pick(&["0.5", "12.5", "9800", "0.25"]),
                "kwd" => self.pick(&["0.5", "12345.6", "1.25", "1500.000"]),
                _ => self.pick(&[
                    "0.5",
                    "0.05",
                    "12.345",
                    "1500",
                    "0.000001",
                    "99.9",
                    "0.000000000001",
                    "99999999.5",
                    "1.50",
                    "2000.0",
                ]),
            };
            return ("unit_amount_decimal", decimal.to_owned());
        }
        let units = match currency {
            "jpy" => self.pick(&[0, 1, 500, 9800, 120_000, 99_999_999]),
            "kwd" => self.pick(&[1, 1500, 12_345, 99_999, 100_000]),
            _ => self.pick(&[0, 1, 99, 500, 1900, 7900, 79_000, 99_999_999]),
        };
        ("unit_amount", units.to_string())
    }

    fn tiers(&mut self, prefix: &str, bounds: &[Option<u32>], form: &mut Form) {
        for (i, up_to) in bounds.iter().enumerate() {
            let here = format!("{prefix}[{i}]");
            form.add(
                format!("{here}[up_to]"),
                up_to.map_or("inf".to_owned(), |n| n.to_string()),
            );
            let unit = self.rng.u8(..4);
            match unit {
                0 => {}
                1 => {
                    form.add(
                        format!("{here}[unit_amount_decimal]"),
                        self.pick(&["0.05", "0.5", "1.25"]),
                    );
                }
                _ => {
                    form.add(
                        format!("{here}[unit_amount]"),
                        self.pick(&[0, 10, 800, 1000]),
                    );
                }
            }
            if unit == 0 || self.chance(0.3) {
                if self.chance(0.2) {
                    form.add(
                        format!("{here}[flat_amount_decimal]"),
                        self.pick(&["0.5", "250"]),
                    );
                } else {
                    form.add(format!("{here}[flat_amount]"), self.pick(&[0, 500, 10_000]));
                }
            }
        }
    }

    /// A price of `product`; `managed_product`: billing manages the product, so the price is
    /// one billing.toml can declare (otherwise the product could not be written as it is).
    fn price(
        &mut self,
        product: &str,
        managed_product: bool,
        fate: Fate,
        marker: Option<(&str, &str)>,
    ) -> Option<String> {
        let currency = self.pick(&["usd", "usd", "usd", "eur", "jpy", "kwd", "gbp"]);
        let mut f = Form::default();
        f.add("product", product).add("currency", currency);
        let recurring = self.chance(0.7);
        if recurring {
            let (interval, counts): (&str, &[u32]) = match self.rng.u8(..4) {
                0 => ("day", &[1, 7, 30, 1095]),
                1 => ("week", &[1, 2, 156]),
                2 => ("month", &[1, 1, 3, 6, 36]),
                _ => ("year", &[1, 1, 2, 3]),
            };
            f.add("recurring[interval]", interval);
            let count = self.pick(counts);
            if count != 1 || self.chance(0.2) {
                f.add("recurring[interval_count]", count);
            }
        }
        let others: Vec<&str> = if self.chance(0.25) {
            let mut all = vec!["eur", "gbp", "jpy", "usd", "kwd", "chf"];
            all.retain(|c| *c != currency);
            self.rng.shuffle(&mut all);
            all.truncate(self.rng.usize(1..4));
            all
        } else {
            Vec::new()
        };
        if recurring && self.chance(0.25) {
            f.add("billing_scheme", "tiered")
                .add("tiers_mode", self.pick(&["graduated", "volume"]));
            let bounds: Vec<Option<u32>> = match self.rng.u8(..3) {
                0 => vec![None],
                1 => vec![Some(10), None],
                _ => vec![Some(1), Some(100), Some(10_000), None],
            };
            self.tiers("tiers", &bounds, &mut f);
            for o in &others {
                self.tiers(&format!("currency_options[{o}][tiers]"), &bounds, &mut f);
                if self.chance(0.5) {
                    f.add(
                        format!("currency_options[{o}][tax_behavior]"),
                        self.pick(&["inclusive", "exclusive", "unspecified"]),
                    );
                }
            }
        } else if !recurring && !managed_product && self.chance(0.05) {
            // Pay what you want: billing.toml cannot declare it.
            f.add("custom_unit_amount[enabled]", "true")
                .add("custom_unit_amount[minimum]", 500);
        } else {
            let (k, v) = self.amount(currency);
            f.add(k, v);
            if self.chance(0.1) {
                f.add("transform_quantity[divide_by]", self.pick(&[2, 10, 1000]))
                    .add("transform_quantity[round]", self.pick(&["up", "down"]));
            }
            for o in &others {
                let (k, v) = self.amount(o);
                f.add(format!("currency_options[{o}][{k}]"), v);
                if self.chance(0.5) {
                    f.add(
                        format!("currency_options[{o}][tax_behavior]"),
                        self.pick(&["inclusive", "exclusive", "unspecified"]),
                    );
                }
            }
        }
        if self.chance(0.4) {
            f.add(
                "tax_behavior",
                self.pick(&["inclusive", "exclusive", "unspecified"]),
            );
        }
        let lookup_key = match marker {
            // Billing gives every price it creates a lookup key.
            Some((pk, k)) if self.chance(0.6) => {
                Some(format!("{pk}_{k}")).filter(|l| self.lookup_keys.insert(l.clone()))
            }
            Some(_) => self.lookup_key(),
            None if self.chance(0.5) => self.lookup_key(),
            None => None,
        };
        if let Some(l) = &lookup_key {
            f.add("lookup_key", l);
        }
        if marker.is_some() && lookup_key.is_none() {
            return None;
        }
        if self.chance(0.3) {
            f.add(
                "nickname",
                self.pick(&[
                    "Monthly",
                    "Launch price \"early bird\"",
                    "Preis — jährlich",
                    "multi\nline",
                ]),
            );
        }
        let mut meta = self.metadata(0.3);
        if managed_product {
            meta.retain(|(k, _)| !k.starts_with("billing_"));
            meta.truncate(8);
        }
        let mut meta = Self::marked(&fate, meta);
        self.on_remove(&fate, &["forget"], &mut meta);
        f.metadata("metadata", &meta);
        let id = self.create("price", "/v1/prices", &f, fate.clone());
        match (&id, lookup_key) {
            (None, Some(l)) => {
                self.lookup_keys.remove(&l);
            }
            (Some(id), _) => {
                let field = |name: &str| f.0.iter().find(|(k, _)| k == name).map(|(_, v)| v);
                if let Some(interval) = field("recurring[interval]") {
                    let count = field("recurring[interval_count]").map_or("1", String::as_str);
                    self.periods.insert(
                        id.clone(),
                        (currency.to_owned(), interval.clone(), count.to_owned()),
                    );
                }
            }
            _ => {}
        }
        id
    }

    fn product(&mut self, fate: Fate, marker: Option<&str>) -> Option<String> {
        let mut f = Form::default();
        let name = self.pick(PRODUCT_NAMES);
        f.add("name", name);
        if self.chance(0.15)
            && let Some(id) = self.custom_id(&["pro-plan", "Plan_A", "prod_custom"])
        {
            f.add("id", id);
        }
        if self.chance(0.5) {
            f.add("description", self.pick(TEXTS));
        }
        if self.chance(0.2) {
            f.add(
                "unit_label",
                self.pick(&["seat", "request", "GB", "Gerät", "Übernachtung"]),
            );
        }
        if self.chance(0.2) {
            f.add(
                "url",
                self.pick(&["https://example.com/pro", "http://acme.example/p?x=1"]),
            );
        }
        if self.chance(0.2) {
            for i in 0..self.rng.usize(1..4) {
                f.add(
                    format!("images[{i}]"),
                    format!("https://img.example/{i}.png"),
                );
            }
        }
        if self.chance(0.2) {
            f.add(
                "statement_descriptor",
                self.pick(&["ACME PRO", "Acme* Team 2024", "CREME BRULEE"]),
            );
        }
        if self.chance(0.3) {
            f.add(
                "tax_code",
                self.pick(&["txcd_10103001", "txcd_10000000", "txcd_20030000"]),
            );
        }
        if self.chance(0.3) {
            for i in 0..self.rng.usize(1..5) {
                f.add(
                    format!("marketing_features[{i}][name]"),
                    self.pick(&[
                        "Unlimited projects",
                        "Priority \"white glove\" support",
                        "Ünïcödé feature with exactly eighty characters — ünïcödé ünïcödé ünïcödé ünïcödé",
                        "日本語サポート",
                        "SSO",
                    ]),
                );
            }
        }
        let with_default_data = marker.is_none() && self.chance(0.1);
        if with_default_data {
            // The Dashboard's "add a product with a price" form.
            f.add("default_price_data[currency]", "usd")
                .add("default_price_data[unit_amount]", 2500)
                .add("default_price_data[recurring][interval]", "month");
        }
        let meta = self.metadata(0.5);
        let mut meta = Self::marked(&fate, meta);
        self.on_remove(&fate, &["forget"], &mut meta);
        f.metadata("metadata", &meta);
        let body = self.post("/v1/products", &f)?;
        let id = body["id"].as_str().unwrap_or_default().to_owned();
        self.made.push(Made {
            kind: "product",
            id: id.clone(),
            fate: fate.clone(),
        });
        if let Some(price) = body["default_price"].as_str() {
            // Made without a marker, whatever its product's.
            self.made.push(Made {
                kind: "price",
                id: price.to_owned(),
                fate: Fate::Unmanaged,
            });
        }
        let slug = name
            .to_lowercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join("_");
        self.products.push((id.clone(), slug));
        Some(id)
    }

    /// A product with its prices, some archived, maybe a default price, maybe archived itself.
    fn catalog_product(&mut self, marker: Option<&str>) {
        let fate = marker.map_or(Fate::Unmanaged, |k| Fate::Ours(format!("products.{k}")));
        let Some(product) = self.product(fate.clone(), marker) else {
            return;
        };
        let mut active = Vec::new();
        for i in 0..self.rng.usize(0..7) {
            let price_key = ["monthly", "annual", "eur", "seats", "once", "usage", "x"][i];
            let mark = marker.filter(|_| self.rng.bool());
            let price_fate = match mark {
                Some(k) => Fate::Ours(format!("prices.{k}.{price_key}")),
                None => Fate::Unmanaged,
            };
            if let (Some(k), true) = (mark, self.chance(0.25)) {
                // A price billing replaced: archived, its lookup key moved to the new one.
                let address = format!("prices.{k}.{price_key}");
                let mut f = Form::default();
                f.add("product", &product)
                    .add("currency", "usd")
                    .add("unit_amount", 100)
                    .metadata(
                        "metadata",
                        &Self::marked(&Fate::Ours(address.clone()), Vec::new()),
                    );
                if let Some(old) = self.create("price", "/v1/prices", &f, Fate::Ours(address)) {
                    self.retire("/v1/prices", &old);
                }
                if self.chance(0.5) {
                    // ... or removed from billing.toml: archived, and nothing replaced it.
                    continue;
                }
            }
            let Some(price) = self.price(
                &product,
                marker.is_some(),
                price_fate,
                mark.map(|k| (k, price_key)),
            ) else {
                continue;
            };
            if mark.is_none() && self.chance(0.15) {
                let mut f = Form::default();
                f.add("active", "false");
                if self.post(&format!("/v1/prices/{price}"), &f).is_some() {
                    self.set_fate(&price, Fate::Archived);
                    continue;
                }
            }
            if marker.is_some() {
                self.offer(&product, &price);
            }
            active.push(price);
        }
        if !active.is_empty() && self.chance(0.5) {
            let default = active[self.rng.usize(..active.len())].clone();
            let mut f = Form::default();
            f.add("default_price", default);
            self.post(&format!("/v1/products/{product}"), &f);
        }
        if marker.is_none() && self.chance(0.1) {
            let mut f = Form::default();
            f.add("active", "false");
            if self.post(&format!("/v1/products/{product}"), &f).is_some() {
                self.set_fate(&product, Fate::Archived);
            }
        }
    }

    fn coupon(&mut self, marker: Option<&str>) -> Option<(String, Option<i64>, Option<i64>)> {
        let mut f = Form::default();
        match marker {
            Some(k) if self.rng.bool() => {
                let hex: String = (0..8)
                    .map(|_| self.pick(&['0', '7', 'a', 'f', '3']))
                    .collect();
                f.add("id", format!("{k}_{hex}"));
            }
            _ => {
                if self.chance(0.3)
                    && let Some(id) = self.custom_id(&["SUMMER-25", "welcome_10", "TENOFF"])
                {
                    f.add("id", id);
                }
            }
        }
        if self.chance(0.6) {
            f.add(
                "name",
                self.pick(&[
                    "Launch 20",
                    "Ten off",
                    "Rabatt „Sommer“",
                    "\"VIP\" 🚀",
                    "Launch 20",
                    // 40 characters, 60 bytes: Stripe's limit is in characters.
                    "Ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé!",
                ]),
            );
        }
        if self.chance(0.5) {
            f.add(
                "percent_off",
                self.pick(&["5", "10", "12.5", "33.33", "100", "0.01", "0.1", "99.99"]),
            );
        } else {
            let currency = self.pick(&["usd", "eur", "jpy", "kwd"]);
            let amount = match currency {
                "jpy" => 500,
                "kwd" => 1500,
                _ => self.pick(&[100, 1000, 2500]),
            };
            f.add("amount_off", amount).add("currency", currency);
            if self.chance(0.3) {
                let other = if currency == "eur" { "usd" } else { "eur" };
                f.add(format!("currency_options[{other}][amount_off]"), 900);
            }
        }
        match self.rng.u8(..3) {
            0 => {}
            1 => {
                f.add("duration", "repeating")
                    .add("duration_in_months", self.rng.u8(1..13));
            }
            _ => {
                f.add("duration", self.pick(&["once", "forever"]));
            }
        }
        let max = self.chance(0.3).then(|| self.pick(&[1, 50, 500]));
        if let Some(m) = max {
            f.add("max_redemptions", m);
        }
        let redeem_by = self.chance(0.3).then(|| {
            self.now + i64::from(self.rng.u16(1..400)) * 86_400 + i64::from(self.rng.u16(..3600))
        });
        if let Some(at) = redeem_by {
            f.add("redeem_by", at);
        }
        if marker.is_none() && self.chance(0.2) && !self.products.is_empty() {
            for i in 0..self.rng.usize(1..3) {
                let (id, _) = self.products[self.rng.usize(..self.products.len())].clone();
                f.add(format!("applies_to[products][{i}]"), id);
            }
        }
        let mut meta = self.metadata(0.3);
        let fate = match marker {
            Some(k) => {
                meta.retain(|(k, _)| !k.starts_with("billing_"));
                meta.push(("billing_key".into(), format!("coupons.{k}")));
                meta.push(("billing_ns".into(), "default".into()));
                Fate::Ours(format!("coupons.{k}"))
            }
            None => Fate::Unmanaged,
        };
        self.on_remove(&fate, &["keep", "forget"], &mut meta);
        f.metadata("metadata", &meta);
        let id = self.create("coupon", "/v1/coupons", &f, fate)?;
        Some((id, max, redeem_by))
    }

    /// A promotion code on `coupon`; its id and code.
    fn code(
        &mut self,
        coupon: &(String, Option<i64>, Option<i64>),
        marker: bool,
    ) -> Option<(String, String)> {
        let mut f = Form::default();
        let code = self.pick(&[
            "LAUNCH20",
            "launch20",
            "Summer-25",
            "VIP-2024",
            "ALICE10",
            "WELCOME",
        ]);
        f.add("promotion[type]", "coupon")
            .add("promotion[coupon]", &coupon.0)
            .add("code", code);
        if let Some(m) = coupon.1.filter(|_| self.chance(0.5)) {
            f.add("max_redemptions", self.rng.i64(1..=m));
        } else if self.chance(0.2) {
            f.add("max_redemptions", 10);
        }
        if self.chance(0.3) {
            let mut at = self.now + i64::from(self.rng.u16(1..200)) * 86_400;
            if let Some(by) = coupon.2 {
                at = at.min(by);
            }
            f.add("expires_at", at);
        }
        if self.chance(0.3) {
            f.add("restrictions[first_time_transaction]", "true");
        }
        if self.chance(0.3) {
            let currency = self.pick(&["usd", "eur", "jpy"]);
            f.add(
                "restrictions[minimum_amount]",
                if currency == "jpy" { 3000 } else { 2000 },
            )
            .add("restrictions[minimum_amount_currency]", currency);
            if self.chance(0.5) {
                let other = self.pick(&["gbp", "kwd", "jpy", "chf"]);
                f.add(
                    format!("restrictions[currency_options][{other}][minimum_amount]"),
                    1800,
                );
            }
        }
        if self.chance(0.2) {
            let customer = if self.customers.is_empty() || self.chance(0.5) {
                let mut c = Form::default();
                c.add("name", self.pick(&["Alice", "Bob"]));
                let id = self
                    .post("/v1/customers", &c)
                    .and_then(|b| b["id"].as_str().map(str::to_owned));
                if let Some(id) = &id {
                    self.customers.push(id.clone());
                }
                id
            } else {
                Some(self.customers[self.rng.usize(..self.customers.len())].clone())
            };
            if let Some(c) = customer {
                f.add("customer", c);
            }
        }
        let mut meta = self.metadata(0.2);
        let fate = if marker {
            meta.retain(|(k, _)| !k.starts_with("billing_"));
            meta.push(("billing_key".into(), format!("promotion_codes.{code}")));
            meta.push(("billing_ns".into(), "default".into()));
            Fate::Ours(format!("promotion_codes.{code}"))
        } else {
            Fate::Unmanaged
        };
        f.metadata("metadata", &meta);
        let id = self.create("promotion_code", "/v1/promotion_codes", &f, fate)?;
        if !marker && self.chance(0.2) {
            let mut f = Form::default();
            f.add("active", "false");
            if self
                .post(&format!("/v1/promotion_codes/{id}"), &f)
                .is_some()
            {
                self.set_fate(&id, Fate::Archived);
            }
        }
        Some((id, code.to_owned()))
    }

    /// Records `price` as one a portal can offer, when it is recurring and its product offers
    /// no other price of its currency and period.
    fn offer(&mut self, product: &str, price: &str) {
        let Some(period) = self.periods.get(price).cloned() else {
            return;
        };
        let offered = self.offerable.entry(product.to_owned()).or_default();
        if !offered.iter().any(|(_, p)| *p == period) {
            offered.push((price.to_owned(), period));
        }
    }

    /// A portal configuration billing manages, offering products billing manages.
    fn portal(&mut self) {
        let key = self.pick(&["default", "team"]);
        let mut f = Form::default();
        let features = "features";
        f.add(
            format!("{features}[invoice_history][enabled]"),
            self.rng.bool(),
        )
        .add(
            format!("{features}[payment_method_update][enabled]"),
            self.rng.bool(),
        );
        if self.rng.bool() {
            f.add(format!("{features}[customer_update][enabled]"), "true");
            let mut fields = vec!["address", "email", "name", "phone", "shipping", "tax_id"];
            self.rng.shuffle(&mut fields);
            for (i, u) in fields.iter().take(self.rng.usize(1..4)).enumerate() {
                f.add(
                    format!("{features}[customer_update][allowed_updates][{i}]"),
                    u,
                );
            }
        }
        if self.rng.bool() {
            let cancel = format!("{features}[subscription_cancel]");
            f.add(format!("{cancel}[enabled]"), "true");
            if self.rng.bool() {
                f.add(format!("{cancel}[mode]"), "immediately").add(
                    format!("{cancel}[proration_behavior]"),
                    self.pick(&["none", "create_prorations"]),
                );
            } else {
                f.add(format!("{cancel}[mode]"), "at_period_end");
            }
            if self.rng.bool() {
                f.add(format!("{cancel}[cancellation_reason][enabled]"), "true");
                for (i, r) in ["too_expensive", "other", "unused"]
                    .iter()
                    .take(self.rng.usize(1..4))
                    .enumerate()
                {
                    f.add(format!("{cancel}[cancellation_reason][options][{i}]"), r);
                }
            }
        }
        let offerable: Vec<(String, Vec<String>)> = self
            .offerable
            .iter()
            .map(|(p, prices)| (p.clone(), prices.iter().map(|x| x.0.clone()).collect()))
            .collect();
        if !offerable.is_empty() && self.rng.bool() {
            let update = format!("{features}[subscription_update]");
            f.add(format!("{update}[enabled]"), "true")
                .add(format!("{update}[default_allowed_updates][0]"), "price")
                .add(
                    format!("{update}[proration_behavior]"),
                    self.pick(&["none", "create_prorations", "always_invoice"]),
                );
            for (i, (product, prices)) in offerable.iter().enumerate() {
                f.add(format!("{update}[products][{i}][product]"), product);
                for (j, price) in prices.iter().enumerate() {
                    f.add(format!("{update}[products][{i}][prices][{j}]"), price);
                }
            }
        }
        if self.rng.bool() {
            f.add("business_profile[headline]", self.pick(TEXTS));
        }
        if self.rng.bool() {
            f.add(
                "business_profile[privacy_policy_url]",
                "https://acme.example/privacy",
            );
        }
        if self.rng.bool() {
            f.add("default_return_url", "https://app.acme.example/billing");
        }
        if self.rng.bool() {
            f.add("login_page[enabled]", "true");
        }
        if self.rng.bool() {
            f.add(
                "name",
                self.pick(&["Self-serve", "Portal \"VIP\" — ünïcödé"]),
            );
        }
        let meta = self.metadata(0.3);
        let address = format!("portals.{key}");
        let meta = Self::marked(&Fate::Ours(address.clone()), meta);
        f.metadata("metadata", &meta);
        self.create(
            "portal",
            "/v1/billing_portal/configurations",
            &f,
            Fate::Ours(address),
        );
    }

    /// Archives (deactivates) an object billing manages, as billing does when it replaces or
    /// removes one: it keeps its marker.
    fn retire(&mut self, path: &str, id: &str) -> bool {
        let mut f = Form::default();
        f.add("active", "false");
        if self.post(&format!("{path}/{id}"), &f).is_none() {
            return false;
        }
        if let Some(m) = self.made.iter_mut().find(|m| m.id == id)
            && let Fate::Ours(a) = &m.fate
        {
            m.fate = Fate::OursArchived(a.clone());
        }
        true
    }

    fn tax_rate(&mut self, fate: Fate) -> Option<String> {
        let mut f = Form::default();
        f.add(
            "display_name",
            self.pick(&[
                "VAT",
                "Sales tax",
                "GST",
                "MwSt.",
                "TVA réduite",
                "消費税",
                // 50 characters, Stripe's limit.
                "Taxe sur la valeur ajoutée — réduite (Île-de-Franc",
            ]),
        )
        .add(
            "percentage",
            self.pick(&[
                "19", "8.875", "8.8750", "7.5", "20", "0.25", "100", "0", "0.0001", "33.3333",
            ]),
        )
        .add("inclusive", self.rng.bool());
        if self.chance(0.6) {
            let country = self.pick(&["DE", "US", "FR", "CA"]);
            f.add("country", country);
            if matches!(country, "US" | "CA") && self.chance(0.5) {
                f.add("state", if country == "US" { "NY" } else { "QC" });
            }
        }
        if self.chance(0.3) {
            f.add(
                "jurisdiction",
                self.pick(&["Berlin", "New York City", "Québec"]),
            );
        }
        if self.chance(0.5) {
            f.add("tax_type", self.pick(&["vat", "sales_tax", "gst", "qst"]));
        }
        if self.chance(0.4) {
            f.add("description", self.pick(TEXTS));
        }
        let meta = self.metadata(0.2);
        let mut meta = Self::marked(&fate, meta);
        self.on_remove(&fate, &["forget"], &mut meta);
        f.metadata("metadata", &meta);
        let id = self.create("tax_rate", "/v1/tax_rates", &f, fate.clone())?;
        if fate == Fate::Unmanaged && self.chance(0.15) {
            let mut f = Form::default();
            f.add("active", "false");
            if self.post(&format!("/v1/tax_rates/{id}"), &f).is_some() {
                self.set_fate(&id, Fate::Archived);
            }
        }
        Some(id)
    }

    /// Stripe Tax settings and registrations, as the Dashboard's tax pages leave them.
    fn tax(&mut self) {
        let mut f = Form::default();
        if self.chance(0.6) {
            f.add(
                "defaults[tax_behavior]",
                self.pick(&["inclusive", "exclusive", "inferred_by_currency"]),
            );
        }
        if self.chance(0.4) {
            f.add(
                "defaults[tax_code]",
                self.pick(&["txcd_10000000", "txcd_10103001"]),
            );
        }
        if self.chance(0.6) {
            f.add(
                "head_office[address][country]",
                self.pick(&["DE", "US", "FR"]),
            );
            for (field, value) in [
                ("line1", "Hauptstraße 1"),
                ("line2", "c/o \"Acme\""),
                ("city", "Berlin"),
                ("postal_code", "10115"),
                ("state", "BE"),
            ] {
                if self.chance(0.5) {
                    f.add(format!("head_office[address][{field}]"), value);
                }
            }
        }
        if !f.0.is_empty() {
            self.post("/v1/tax/settings", &f);
        }
        for _ in 0..self.rng.usize(0..4) {
            let mut f = Form::default();
            match self.rng.u8(..5) {
                0 => f.add("country", "DE").add(
                    "country_options[de][type]",
                    self.pick(&["standard", "oss_union"]),
                ),
                1 => f
                    .add("country", "US")
                    .add("country_options[us][type]", "state_sales_tax")
                    .add("country_options[us][state]", self.pick(&["CA", "NY"])),
                2 => f
                    .add("country", "CA")
                    .add("country_options[ca][type]", "province_standard")
                    .add("country_options[ca][province_standard][province]", "BC"),
                3 => f
                    .add("country", "GB")
                    .add("country_options[gb][type]", "standard"),
                _ => f
                    .add("country", "FR")
                    .add("country_options[fr][type]", "standard"),
            };
            if self.chance(0.3) {
                f.add("active_from", self.now + 30 * 86_400);
            } else {
                f.add("active_from", "now");
            }
            if self.chance(0.2) {
                f.add("expires_at", self.now + 400 * 86_400);
            }
            let Some(body) = self.post("/v1/tax/registrations", &f) else {
                continue;
            };
            if self.chance(0.15)
                && let Some(id) = body["id"].as_str()
            {
                let mut f = Form::default();
                f.add("expires_at", "now");
                self.post(&format!("/v1/tax/registrations/{id}"), &f);
            }
        }
    }

    /// The whole account.
    pub(crate) fn account(&mut self) {
        if self.chance(0.2) {
            self.namespace = "other";
        }
        self.include_archived = self.chance(0.25);
        if self.chance(0.2) {
            for p in ["crm*", "tier", "*id", "billing_owner"] {
                if self.rng.bool() {
                    self.ignore_metadata.push(p);
                }
            }
        }
        if self.chance(0.3) {
            self.tax();
        }
        if self.chance(0.3) {
            for k in ["core", "pro"].iter().take(self.rng.usize(1..3)) {
                self.catalog_product(Some(k));
            }
        }
        if self.chance(0.3) {
            self.portal();
        }
        if self.chance(0.2)
            && let Some(legacy) = self.product(Fate::Ours("products.legacy".into()), Some("legacy"))
        {
            // A product billing archived when it left billing.toml, with its price.
            if let Some(price) = self.price(
                &legacy,
                true,
                Fate::Ours("prices.legacy.monthly".into()),
                Some(("legacy", "monthly")),
            ) {
                self.retire("/v1/prices", &price);
            }
            self.retire("/v1/products", &legacy);
        }
        for _ in 0..self.rng.usize(1..10) {
            self.catalog_product(None);
        }
        if self.chance(0.3) {
            // Another team's catalog, as billing made it.
            if let Some(theirs) =
                self.product(Fate::Foreign("products.theirs".into()), Some("theirs"))
            {
                self.price(
                    &theirs,
                    true,
                    Fate::Foreign("prices.theirs.once".into()),
                    Some(("theirs", "once")),
                );
            }
            let mut f = Form::default();
            f.add("percent_off", 15)
                .add("metadata[billing_key]", "coupons.theirs")
                .add("metadata[billing_ns]", "other");
            self.create(
                "coupon",
                "/v1/coupons",
                &f,
                Fate::Foreign("coupons.theirs".into()),
            );
            self.tax_rate(Fate::Foreign("tax_rates.theirs".into()));
        }
        let mut coupons = Vec::new();
        if self.chance(0.3)
            && let Some(c) = self.coupon(Some("launch"))
        {
            if let Some((old, text)) = self.code(&c, true)
                && self.chance(0.4)
                && self.retire("/v1/promotion_codes", &old)
                // ... or removed from billing.toml: deactivated, and nothing replaced it.
                && self.rng.bool()
            {
                // Replaced by billing: the same code again, on the same coupon.
                let address = format!("promotion_codes.{text}");
                let mut f = Form::default();
                f.add("promotion[type]", "coupon")
                    .add("promotion[coupon]", &c.0)
                    .add("code", &text)
                    .metadata(
                        "metadata",
                        &Self::marked(&Fate::Ours(address.clone()), Vec::new()),
                    );
                self.create(
                    "promotion_code",
                    "/v1/promotion_codes",
                    &f,
                    Fate::Ours(address),
                );
            }
            // A code made in the Dashboard on billing's coupon.
            if self.chance(0.3) {
                coupons.push(c);
            }
        }
        for _ in 0..self.rng.usize(0..4) {
            if let Some(c) = self.coupon(None) {
                coupons.push(c);
            }
        }
        if !coupons.is_empty() && self.chance(0.2) {
            // One code for several customers, in any case.
            for _ in 0..self.rng.usize(2..4) {
                let c = coupons[self.rng.usize(..coupons.len())].clone();
                let mut f = Form::default();
                f.add("name", "Customer");
                let Some(customer) = self
                    .post("/v1/customers", &f)
                    .and_then(|b| b["id"].as_str().map(str::to_owned))
                else {
                    continue;
                };
                let mut f = Form::default();
                f.add("promotion[type]", "coupon")
                    .add("promotion[coupon]", &c.0)
                    .add("code", self.pick(&["SPRING", "spring", "Spring"]))
                    .add("customer", customer);
                self.create("promotion_code", "/v1/promotion_codes", &f, Fate::Unmanaged);
            }
        }
        if !coupons.is_empty() {
            for _ in 0..self.rng.usize(0..5) {
                let c = coupons[self.rng.usize(..coupons.len())].clone();
                self.code(&c, false);
            }
        }
        if self.chance(0.2) {
            if self.chance(0.5)
                && let Some(old) = self.tax_rate(Fate::Ours("tax_rates.vat".to_owned()))
            {
                // Replaced by billing (a new percentage): the old rate archived...
                self.retire("/v1/tax_rates", &old);
            }
            // ... or removed from billing.toml, and nothing replaced it.
            if self.rng.bool() {
                self.tax_rate(Fate::Ours("tax_rates.vat".to_owned()));
            }
        }
        for _ in 0..self.rng.usize(0..4) {
            self.tax_rate(Fate::Unmanaged);
        }
        if self.chance(0.3) {
            self.time_passes();
        }
    }

    /// Customers redeem codes and time passes (the sandbox's test hooks): coupons expire or
    /// run out, and Stripe deactivates codes that expired, ran out or lost their coupon.
    fn time_passes(&mut self) {
        let codes: Vec<String> = self
            .made
            .iter()
            .filter(|m| m.kind == "promotion_code")
            .map(|m| m.id.clone())
            .collect();
        for id in codes {
            if self.chance(0.3) {
                for _ in 0..self.rng.usize(1..4) {
                    let redeemed = self.env.sandbox.redeem_promotion_code(&id).is_ok();
                    self.log.push(format!("redeem {id}: {redeemed}"));
                }
            }
        }
        let days = self.pick(&[1, 45, 200, 500]);
        self.env
            .sandbox
            .advance_clock(days * 86_400)
            .expect("the clock moves forward");
        self.log.push(format!("{days} days pass"));
        // What Stripe deactivated is now archived, as far as the import is concerned.
        for code in self.env.list("/v1/promotion_codes") {
            if code["active"] == false
                && let Some(m) = self.made.iter_mut().find(|m| m.id == code["id"])
            {
                m.fate = match &m.fate {
                    Fate::Ours(a) => Fate::OursArchived(a.clone()),
                    Fate::Unmanaged => Fate::Archived,
                    other => other.clone(),
                };
            }
        }
    }
}
