//! What `billing import` tells the user on stderr: what it wrote, then — only when there is
//! something to say — what it left out and why, the keys it had to rename, and the lookup keys
//! adoption will add.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::resource::ResourceKind;

/// Counts by kind, in kind order.
pub(super) type Counts = BTreeMap<ResourceKind, usize>;

fn list(counts: &Counts) -> String {
    let parts: Vec<String> = counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| k.count(*n))
        .collect();
    match parts.len() {
        0 => "nothing".to_owned(),
        1 => parts[0].clone(),
        n => format!("{} and {}", parts[..n - 1].join(", "), parts[n - 1]),
    }
}

/// An object left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub kind: ResourceKind,
    /// Its Stripe id (a registration's country and type).
    pub id: String,
    pub why: String,
}

/// A key that had to differ from the one proposed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    /// Where the object is written (`products.pro_2`).
    pub address: String,
    pub id: String,
    /// The key it would have had (`pro`).
    pub wanted: String,
    /// Why it could not, when not because another object has the key.
    pub why: Option<String>,
}

/// A price adopted by id, and the lookup key adoption gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoLookupKey {
    pub address: String,
    pub id: String,
    pub lookup_key: String,
}

/// A value written differently from Stripe's, or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inexpressible {
    /// The object's address (or id).
    pub at: String,
    pub field: String,
    pub why: String,
}

/// Everything the import has to say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Objects written, by kind.
    pub written: Counts,
    /// Whether `[tax]` was written with the account's Stripe Tax settings.
    pub tax_settings: bool,
    pub skipped: Vec<Skipped>,
    /// Objects of other namespaces, by namespace.
    pub foreign: BTreeMap<String, Counts>,
    /// Lookup keys held by more than one price, with the prices' ids.
    pub duplicate_lookup_keys: BTreeMap<String, Vec<String>>,
    pub without_lookup_key: Vec<NoLookupKey>,
    pub renamed: Vec<Renamed>,
    pub inexpressible: Vec<Inexpressible>,
    /// Archived objects left out, by kind.
    pub archived: Counts,
    /// `--include-archived` was given.
    pub include_archived: bool,
    /// Whatever else the user should know (the portal, tax settings that could not be read).
    pub notes: Vec<String>,
    /// What `billing plan` will show besides adoptions (see [`super::review`]).
    pub not_adoptions: Vec<String>,
    /// The command that plans the imported file against the account read (`billing plan`
    /// when empty).
    pub next_command: String,
}

impl Report {
    pub(crate) fn wrote(&mut self, kind: ResourceKind) {
        *self.written.entry(kind).or_default() += 1;
    }

    pub(crate) fn skip(&mut self, kind: ResourceKind, id: &str, why: impl Into<String>) {
        self.skipped.push(Skipped {
            kind,
            id: id.to_owned(),
            why: why.into(),
        });
    }

    pub(crate) fn foreign(&mut self, namespace: &str, kind: ResourceKind) {
        *self
            .foreign
            .entry(namespace.to_owned())
            .or_default()
            .entry(kind)
            .or_default() += 1;
    }

    pub(crate) fn archived(&mut self, kind: ResourceKind) {
        *self.archived.entry(kind).or_default() += 1;
    }

    pub(crate) fn inexpressible(&mut self, at: &str, field: &str, why: impl Into<String>) {
        self.inexpressible.push(Inexpressible {
            at: at.to_owned(),
            field: field.to_owned(),
            why: why.into(),
        });
    }

    /// The report, as printed on stderr; `source` names where it was read (`acct_123,
    /// environment sandbox`).
    pub fn render(&self, source: &str, out: &mut impl Write) -> io::Result<()> {
        let mut wrote = list(&self.written);
        if self.tax_settings {
            wrote = if self.written.values().all(|n| *n == 0) {
                "Stripe Tax settings".to_owned()
            } else {
                format!("{wrote}, and Stripe Tax settings")
            };
        }
        writeln!(out, "Imported from {source}: {wrote}.")?;
        section(
            out,
            &format!("Skipped ({}):", self.skipped.len()),
            self.skipped
                .iter()
                .map(|s| format!("{} {}: {}", s.kind.noun(), s.id, s.why)),
        )?;
        section(
            out,
            "Managed by other namespaces, skipped (import them from their own catalogs):",
            self.foreign
                .iter()
                .map(|(ns, counts)| format!("namespace \"{ns}\": {}", list(counts))),
        )?;
        section(
            out,
            "Duplicate lookup keys (Stripe keeps lookup keys unique; these prices share one, so none of them is written):",
            self.duplicate_lookup_keys
                .iter()
                .map(|(key, ids)| format!("{key:?}: {}", ids.join(", "))),
        )?;
        section(
            out,
            "Prices without a lookup key (written with `id`; adopting them gives each the catalog's default lookup key):",
            self.without_lookup_key
                .iter()
                .map(|p| format!("{} ({}) gets {:?}", p.address, p.id, p.lookup_key)),
        )?;
        section(
            out,
            "Renamed (the key was taken):",
            self.renamed.iter().map(|r| match &r.why {
                None => format!("{} ({}): {:?} was taken", r.address, r.id, r.wanted),
                Some(why) => format!("{} ({}): not {:?}: {why}", r.address, r.id, r.wanted),
            }),
        )?;
        section(
            out,
            "Not written as Stripe has them:",
            self.inexpressible
                .iter()
                .map(|i| format!("{} {}: {}", i.at, i.field, i.why)),
        )?;
        self.render_archived(out)?;
        section(
            out,
            "`billing plan` will show more than adoptions (review these before applying):",
            self.not_adoptions.iter().cloned(),
        )?;
        section(out, "Notes:", self.notes.iter().cloned())?;
        let next = if self.next_command.is_empty() {
            "billing plan"
        } else {
            &self.next_command
        };
        writeln!(out, "\nRun `{next}` to review the adoptions.")
    }

    /// What archived objects were left out, when any were.
    fn render_archived(&self, out: &mut impl Write) -> io::Result<()> {
        if !self.archived.values().any(|n| *n > 0) {
            return Ok(());
        }
        let mut others = self.archived.clone();
        let prices = others.remove(&ResourceKind::Price).unwrap_or(0);
        writeln!(out)?;
        if others.values().any(|n| *n > 0) {
            if self.include_archived {
                writeln!(
                    out,
                    "Archived, left out even with --include-archived: {} (see Skipped).",
                    list(&others)
                )?;
            } else {
                writeln!(
                    out,
                    "Archived, left out: {}: use --include-archived to write them with `active = false`.",
                    list(&others)
                )?;
            }
        }
        if prices > 0 {
            writeln!(
                out,
                "{prices} archived {} left out: billing.toml cannot declare an archived price (every price it declares is active).",
                if prices == 1 { "price" } else { "prices" }
            )?;
        }
        Ok(())
    }
}

/// A section of the report, when it has lines: a blank line, `title`, then each line
/// indented.
fn section(
    out: &mut impl Write,
    title: &str,
    lines: impl IntoIterator<Item = String>,
) -> io::Result<()> {
    let mut lines = lines.into_iter().peekable();
    if lines.peek().is_none() {
        return Ok(());
    }
    writeln!(out, "\n{title}")?;
    for line in lines {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

#[cfg(test)]
impl Report {
    /// [`Self::render`]'s text.
    pub(crate) fn rendered(&self, source: &str) -> String {
        let mut out = Vec::new();
        self.render(source, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_import_says_what_it_wrote_and_the_next_step() {
        let mut r = Report::default();
        r.wrote(ResourceKind::Product);
        r.wrote(ResourceKind::Price);
        r.wrote(ResourceKind::Price);
        r.wrote(ResourceKind::TaxRate);
        assert_eq!(
            r.rendered("acct_1 (environment `sandbox`)"),
            "Imported from acct_1 (environment `sandbox`): 1 product, 2 prices and 1 tax rate.\n\nRun `billing plan` to review the adoptions.\n"
        );
    }

    #[test]
    fn sections_appear_only_when_they_have_something() {
        let mut r = Report::default();
        r.skip(ResourceKind::Price, "price_1", "metered");
        r.foreign("other", ResourceKind::Product);
        r.foreign("other", ResourceKind::Price);
        r.foreign("other", ResourceKind::Price);
        r.archived(ResourceKind::Price);
        r.archived(ResourceKind::Price);
        r.archived(ResourceKind::Product);
        let text = r.rendered("acct_1");
        assert!(text.contains("Imported from acct_1: nothing."), "{text}");
        assert!(
            text.contains("Skipped (1):\n  price price_1: metered\n"),
            "{text}"
        );
        assert!(
            text.contains("  namespace \"other\": 1 product and 2 prices\n"),
            "{text}"
        );
        assert!(
            text.contains("Archived, left out: 1 product: use --include-archived"),
            "{text}"
        );
        assert!(
            text.contains(
                "2 archived prices left out: billing.toml cannot declare an archived price"
            ),
            "{text}"
        );
        assert!(!text.contains("Renamed"), "{text}");
        assert!(!text.contains("Duplicate"), "{text}");
        r.include_archived = true;
        let text = r.rendered("acct_1");
        assert!(
            text.contains("Archived, left out even with --include-archived: 1 product"),
            "{text}"
        );
    }
}
