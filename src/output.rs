//! Outputs: the Stripe id of every object the catalog manages in one environment, for the
//! application to read instead of hard-coding ids — as JSON, TOML, a TypeScript module or
//! environment variables. Prices also list the ids they superseded, so that a webhook handler
//! can still recognise a subscription on an old price.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalog::{Catalog, env_part};
use crate::document::Origin;
use crate::live::{LivePrice, LiveState, Managed};
use crate::resource::{Address, ResourceKind, owner};

/// The formats `billing output` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Nested by kind and key.
    Json,
    /// Nested by kind and key.
    Toml,
    /// A TypeScript module exporting the JSON `as const`.
    Ts,
    /// `BILLING_<KIND>_<KEY>=id` lines.
    Env,
}

impl Format {
    const ALL: [Self; 4] = [Self::Json, Self::Toml, Self::Ts, Self::Env];

    /// Its name on the command line, and the extension of a file in it (`.env` and `app.env`
    /// for env).
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Toml => "toml",
            Self::Ts => "ts",
            Self::Env => "env",
        }
    }

    /// The format a file's extension names (`outputs = "generated/billing.live.ts"`).
    pub(crate) fn from_path(path: &std::path::Path) -> Option<Self> {
        let extension = crate::catalog::output_format(path.to_str()?)?;
        Self::ALL.into_iter().find(|f| f.name() == extension)
    }

    /// The format to write the file at `path` in, the one rule for the `outputs` setting and
    /// `billing output --out`: the format its extension names; `explicit` (`--format`) for a
    /// file whose extension names none, and an error when it names another.
    pub(crate) fn for_file(
        path: &std::path::Path,
        explicit: Option<Self>,
    ) -> Result<Self, FileFormat> {
        match (Self::from_path(path), explicit) {
            (Some(named), Some(given)) if named != given => Err(FileFormat::Contradicts(named)),
            (Some(format), _) | (None, Some(format)) => Ok(format),
            (None, None) => Err(FileFormat::Unknown),
        }
    }
}

/// Why a file's format cannot be settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileFormat {
    /// Its extension names no format, and none was given.
    Unknown,
    /// The format given is not the one its extension names (this one).
    Contradicts(Format),
}

/// A price's ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PriceIds {
    /// The current price.
    pub id: String,
    pub lookup_key: Option<String>,
    /// Earlier prices at the same key (replaced or archived), newest first.
    pub superseded: Vec<String>,
}

/// Every managed object's id in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outputs {
    pub environment: String,
    pub account: String,
    pub mode: crate::resource::KeyMode,
    pub namespace: String,
    /// Ids by kind and key, for every kind but prices: products always, the other kinds when
    /// billing.toml declares some.
    pub ids: BTreeMap<ResourceKind, BTreeMap<String, String>>,
    /// By product key, then price key.
    pub prices: BTreeMap<String, BTreeMap<String, PriceIds>>,
    /// Declared addresses with no object in Stripe yet (not applied).
    pub missing: Vec<String>,
    /// Declared addresses whose object is inactive in Stripe and cannot be used (a promotion
    /// code Stripe deactivated: expired or used up), left out of the ids.
    pub inactive: Vec<String>,
    /// What is listed with the ids of a kind besides them, by kind and key (see [`detail`]):
    /// each webhook endpoint's URL (never its signing secret), each entitlement feature's
    /// lookup key.
    pub details: BTreeMap<ResourceKind, BTreeMap<String, String>>,
    /// Each declared meter billing found, by key: the application sends meter events by its
    /// event name.
    pub meters: BTreeMap<String, MeterIds>,
}

/// A billing meter as outputs list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct MeterIds {
    pub id: String,
    pub event_name: String,
}

impl Outputs {
    /// Whether it lists any id at all.
    pub(crate) fn has_ids(&self) -> bool {
        !self.prices.is_empty()
            || !self.meters.is_empty()
            || self.ids.values().any(|ids| !ids.is_empty())
    }
}

/// The value of the field listed with the id of the live object `id` of `kind` (see
/// [`detail_name`]).
fn detail(live: &LiveState, kind: ResourceKind, id: &str) -> Option<String> {
    match kind {
        ResourceKind::WebhookEndpoint => {
            let endpoint = live.webhooks.iter().find(|w| w.id == id)?;
            Some(endpoint.url.clone())
        }
        ResourceKind::EntitlementFeature => {
            let feature = live.entitlements.iter().find(|f| f.id == id)?;
            Some(feature.lookup_key.clone())
        }
        _ => None,
    }
}

/// The field listed with each id of `kind`: a webhook endpoint's `url`, an entitlement
/// feature's `lookup_key` (what the application sends events to, or asks Stripe by).
fn detail_name(kind: ResourceKind) -> Option<&'static str> {
    match kind {
        ResourceKind::WebhookEndpoint => Some("url"),
        ResourceKind::EntitlementFeature => Some("lookup_key"),
        _ => None,
    }
}

impl Serialize for Outputs {
    /// The header fields, then one table per kind, in kind order, named as addresses start.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let kinds: Vec<ResourceKind> = ResourceKind::MARKED
            .into_iter()
            .filter(|k| *k == ResourceKind::Price || self.ids.contains_key(k))
            .collect();
        let meters = usize::from(!self.meters.is_empty());
        let mut out = s.serialize_struct("Outputs", 4 + kinds.len() + meters)?;
        out.serialize_field("environment", &self.environment)?;
        out.serialize_field("account", &self.account)?;
        out.serialize_field("mode", &self.mode)?;
        out.serialize_field("namespace", &self.namespace)?;
        for kind in kinds {
            match self.ids.get(&kind) {
                Some(ids) if let Some(name) = detail_name(kind) => {
                    let details = self.details.get(&kind);
                    let listed: BTreeMap<&str, BTreeMap<&str, &str>> = ids
                        .iter()
                        .map(|(key, id)| {
                            let mut fields = BTreeMap::from([("id", id.as_str())]);
                            if let Some(value) = details.and_then(|d| d.get(key)) {
                                fields.insert(name, value);
                            }
                            (key.as_str(), fields)
                        })
                        .collect();
                    out.serialize_field(kind.prefix(), &listed)?;
                }
                Some(ids) => out.serialize_field(kind.prefix(), ids)?,
                None => out.serialize_field(kind.prefix(), &self.prices)?,
            }
        }
        if meters > 0 {
            out.serialize_field(ResourceKind::Meter.prefix(), &self.meters)?;
        }
        out.end()
    }
}

/// The current price at an address: the one holding the declared lookup key, else the newest
/// active one, else the newest; and the others, newest first.
fn price_ids(at: &[&LivePrice], lookup_key: &str) -> Option<PriceIds> {
    let chosen = at
        .iter()
        .find(|p| p.active && p.lookup_key.as_deref() == Some(lookup_key))
        .or_else(|| at.iter().find(|p| p.active))
        .or_else(|| at.first())?;
    Some(PriceIds {
        id: chosen.id.to_string(),
        lookup_key: chosen.lookup_key.as_ref().map(ToString::to_string),
        superseded: at
            .iter()
            .filter(|p| p.id != chosen.id)
            .map(|p| p.id.to_string())
            .collect(),
    })
}

/// Collects the ids of what `catalog` declares from `live`.
pub(crate) fn collect(catalog: &Catalog, live: &LiveState, origin: &Origin) -> Outputs {
    let ns = catalog.namespace.as_str();
    let managed = Managed::new(live, |o| owner(o.metadata(), ns));
    let mut missing = Vec::new();
    let mut inactive = Vec::new();
    let mut prices: BTreeMap<String, BTreeMap<String, PriceIds>> = BTreeMap::new();
    for (pkey, product) in &catalog.products {
        for (key, price) in &product.prices {
            let address = Address::price(pkey, key).to_string();
            match price_ids(&managed.at::<LivePrice>(&address), &price.lookup_key) {
                Some(ids) => {
                    prices
                        .entry(pkey.clone())
                        .or_default()
                        .insert(key.clone(), ids);
                }
                None => missing.push(address),
            }
        }
    }
    let default_portal = live.portals.iter().find(|c| c.is_default);
    let mut ids = BTreeMap::new();
    for kind in ResourceKind::MARKED {
        if kind == ResourceKind::Price
            || (kind != ResourceKind::Product && catalog.count(kind) == 0)
        {
            continue;
        }
        let mut of_kind = BTreeMap::new();
        for address in catalog.addresses(kind) {
            let text = address.to_string();
            let objects = managed.objects_at(kind, &text);
            // The current object: the newest active one, else the newest.
            let current = objects
                .iter()
                .find(|o| o.active())
                .or_else(|| objects.first());
            let id = if kind == ResourceKind::Portal
                && catalog
                    .portals
                    .get(address.key())
                    .is_some_and(|p| p.account_default)
            {
                // A portal entry that manages the account's default configuration names it.
                default_portal.map(|c| c.id.clone())
            } else if current.is_some_and(|o| kind.deactivates() && !o.active()) {
                // A deactivated code or configuration cannot be used: no id to offer. (An
                // archived product, price or tax rate still names what customers have.)
                inactive.push(text);
                continue;
            } else {
                current.map(|o| o.id().to_owned())
            };
            match id {
                Some(id) => {
                    of_kind.insert(address.key().to_owned(), id);
                }
                None => missing.push(text),
            }
        }
        ids.insert(kind, of_kind);
    }
    missing.sort();
    inactive.sort();
    let details = ids
        .iter()
        .map(|(kind, of_kind)| {
            let values = of_kind
                .iter()
                .filter_map(|(key, id)| Some((key.clone(), detail(live, *kind, id)?)))
                .collect();
            (*kind, values)
        })
        .collect();
    let meters = catalog
        .meters
        .values()
        .filter_map(|m| {
            let live = live.meters.iter().find(|l| l.event_name == m.event_name);
            if live.is_none() {
                missing.push(Address::new(ResourceKind::Meter, m.key.as_str()).to_string());
            }
            let ids = MeterIds {
                id: live?.id.clone(),
                event_name: m.event_name.clone(),
            };
            Some((m.key.clone(), ids))
        })
        .collect();
    missing.sort();
    Outputs {
        environment: origin.environment.clone(),
        account: origin.account.clone(),
        mode: origin.mode,
        namespace: catalog.namespace.clone(),
        ids,
        prices,
        missing,
        inactive,
        details,
        meters,
    }
}

/// A value for an env file that a shell sources as it is, running nothing: bare when every
/// character is inert (letters, digits and `_-.,:/`), else single-quoted, where only `'` is
/// special and is written `'\''` (close, an escaped quote, reopen). A newline stays a newline
/// inside the quotes.
fn env_value(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.,:/".contains(c));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

/// `text` on one line, for a comment: a line break (or any control character) from Stripe's
/// answers or the command line would end the comment and start code.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// A price's lines: its id, lookup key and the ids it superseded, as `NAME`, value and address.
fn price_lines(
    prices: &BTreeMap<String, BTreeMap<String, PriceIds>>,
    lines: &mut Vec<(String, String, String)>,
) {
    for (pkey, prices) in prices {
        for (key, ids) in prices {
            let name = format!("BILLING_PRICE_{}__{}", env_part(pkey), env_part(key));
            let address = Address::price(pkey, key).to_string();
            lines.push((name.clone(), ids.id.clone(), address.clone()));
            if let Some(lookup_key) = &ids.lookup_key {
                lines.push((
                    format!("{name}__LOOKUP_KEY"),
                    lookup_key.clone(),
                    address.clone(),
                ));
            }
            lines.push((
                format!("{name}__SUPERSEDED"),
                ids.superseded.join(","),
                address,
            ));
        }
    }
}

/// The `env` format's lines, `NAME=value`; an error names two keys that would share a name.
fn env_lines(o: &Outputs) -> Result<Vec<(String, String)>, String> {
    let mut lines: Vec<(String, String, String)> = vec![
        (
            "BILLING_ENVIRONMENT".into(),
            o.environment.clone(),
            "environment".into(),
        ),
        (
            "BILLING_ACCOUNT".into(),
            o.account.clone(),
            "account".into(),
        ),
        ("BILLING_MODE".into(), o.mode.to_string(), "mode".into()),
    ];
    for kind in ResourceKind::MARKED {
        if kind == ResourceKind::Price {
            price_lines(&o.prices, &mut lines);
        }
        let (Some(prefix), Some(ids)) = (kind.env_prefix(), o.ids.get(&kind)) else {
            continue;
        };
        for (k, id) in ids {
            let name = format!("BILLING_{prefix}_{}", env_part(k));
            let address = Address::new(kind, k.as_str()).to_string();
            lines.push((name.clone(), id.clone(), address.clone()));
            let value = o.details.get(&kind).and_then(|d| d.get(k));
            if let (Some(field), Some(value)) = (detail_name(kind), value) {
                let suffix = field.to_ascii_uppercase();
                lines.push((format!("{name}__{suffix}"), value.clone(), address));
            }
        }
    }
    if let Some(prefix) = ResourceKind::Meter.env_prefix() {
        for (k, m) in &o.meters {
            let name = format!("BILLING_{prefix}_{}", env_part(k));
            let address = Address::new(ResourceKind::Meter, k.as_str()).to_string();
            lines.push((name.clone(), m.id.clone(), address.clone()));
            lines.push((format!("{name}__EVENT_NAME"), m.event_name.clone(), address));
        }
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, _, address) in &lines {
        if let Some(other) = seen.insert(name, address)
            && other != address
        {
            return Err(format!(
                "{other} and {address} would both be written as {name}: rename one of the keys"
            ));
        }
    }
    Ok(lines.into_iter().map(|(n, v, _)| (n, v)).collect())
}

/// The outputs in `format`, ending with a newline; an error when the env format's names would
/// collide.
pub(crate) fn render(o: &Outputs, format: Format) -> Result<String, String> {
    let header = one_line(&format!(
        "Generated by billing for environment {} (account {}, {} mode, namespace {:?}). Do not edit: run `billing output` again.",
        o.environment, o.account, o.mode, o.namespace
    ));
    Ok(match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(o).map_err(|e| e.to_string())?;
            text.push('\n');
            text
        }
        Format::Toml => {
            let body = toml::to_string(o).map_err(|e| e.to_string())?;
            format!("# {header}\n{body}")
        }
        Format::Ts => {
            let json = serde_json::to_string_pretty(o).map_err(|e| e.to_string())?;
            format!(
                "// {header}\nexport const billing = {json} as const;\n\nexport type Billing = typeof billing;\nexport default billing;\n"
            )
        }
        Format::Env => {
            let mut text = format!("# {header}\n");
            for (name, value) in env_lines(o)? {
                text.push_str(&format!("{name}={}\n", env_value(&value)));
            }
            text
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_are_bare_when_inert_and_single_quoted_otherwise() {
        assert_eq!(env_value("pro_monthly"), "pro_monthly");
        assert_eq!(
            env_value("price_1,price_2:a/b.c-d"),
            "price_1,price_2:a/b.c-d"
        );
        assert_eq!(env_value(""), "''");
        assert_eq!(env_value("a b"), "'a b'");
        assert_eq!(env_value("$(id) `id` ~"), "'$(id) `id` ~'");
        assert_eq!(env_value("it's"), r"'it'\''s'");
        assert_eq!(env_value("a\nb"), "'a\nb'");
    }

    #[test]
    fn a_file_is_written_in_the_format_its_extension_names() {
        let of = |path: &str, given| Format::for_file(std::path::Path::new(path), given);
        assert_eq!(of("src/ids.ts", None), Ok(Format::Ts));
        assert_eq!(of("app/.env", None), Ok(Format::Env));
        assert_eq!(of("ids.toml", Some(Format::Toml)), Ok(Format::Toml));
        assert_eq!(of("ids.txt", Some(Format::Env)), Ok(Format::Env));
        assert_eq!(of("ids.txt", None), Err(FileFormat::Unknown));
        assert_eq!(of("ids", None), Err(FileFormat::Unknown));
        assert_eq!(
            of("ids.ts", Some(Format::Json)),
            Err(FileFormat::Contradicts(Format::Ts))
        );
    }

    #[test]
    fn a_comment_stays_on_one_line() {
        assert_eq!(
            one_line("acct_1\n$(id)\r\u{2028}x"),
            "acct_1\u{fffd}$(id)\u{fffd}\u{fffd}x"
        );
    }
}
