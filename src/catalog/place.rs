//! Where billing.toml declares an entry, found again from its address: for problems found
//! after validation (while planning), so that they name FILE:LINE:COL like validation's.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::{Sink, SourceFile, raw};
use crate::resource::{Address, ResourceKind};

/// The span of the key that declares `address` in `source` (`monthly` of
/// `[products.pro.prices.monthly]`), when the text declares it as a table of its own. A
/// registration is found as the `tax` table that holds it.
pub(crate) fn locate(source: &SourceFile, address: &Address) -> Option<Range<usize>> {
    let sink = Sink::default();
    let root = raw::parse_toml(source.text(), &sink)?;
    let table = address.table();
    let path: Vec<&str> = table.split('.').collect();
    let found = find(root.get_ref(), &path);
    if found.is_none() && address.kind() == ResourceKind::Portal && address.key() == "default" {
        return find(root.get_ref(), &["portal"]);
    }
    found
}

/// The span of the key `field` in the table that declares `address` in `source`
/// (`redeem_by` of `[coupons.launch]`), when the text declares it there.
pub(crate) fn locate_field(
    source: &SourceFile,
    address: &Address,
    field: &str,
) -> Option<Range<usize>> {
    let sink = Sink::default();
    let root = raw::parse_toml(source.text(), &sink)?;
    let table = address.table();
    let mut path: Vec<&str> = table.split('.').collect();
    path.push(field);
    find(root.get_ref(), &path)
}

/// The span of the last key of `path` in `table`.
fn find(table: &DeTable<'_>, path: &[&str]) -> Option<Range<usize>> {
    let (segment, rest) = path.split_first()?;
    let (key, value) = table.iter().find(|(k, _)| k.get_ref() == segment)?;
    if rest.is_empty() {
        return Some(key.span());
    }
    match value.get_ref() {
        DeValue::Table(inner) => find(inner, rest),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_by_address_however_they_are_written() {
        let text = "[products.pro]\nname = \"Pro\"\n[products.pro.prices.monthly]\namount = \"1.00\"\n\n[portal]\nheadline = \"x\"\n[coupons]\nlaunch = { percent_off = 5 }\n";
        let source = SourceFile::new("billing.toml", text);
        let at = |address: &str| {
            locate(&source, &address.parse().unwrap()).map(|span| source.position(span.start))
        };
        let line = |p: Option<super::super::source::Position>| p.map(|p| (p.line, p.column));
        assert_eq!(line(at("products.pro")), Some((1, 11)));
        assert_eq!(line(at("prices.pro.monthly")), Some((3, 22)));
        assert_eq!(line(at("portals.default")), Some((6, 2)));
        assert_eq!(line(at("coupons.launch")), Some((9, 1)));
        assert_eq!(at("products.gone"), None);
        let field = |address: &str, field: &str| {
            locate_field(&source, &address.parse().unwrap(), field)
                .map(|span| source.position(span.start))
        };
        assert_eq!(line(field("coupons.launch", "percent_off")), Some((9, 12)));
        assert_eq!(line(field("prices.pro.monthly", "amount")), Some((4, 1)));
        assert_eq!(field("prices.pro.monthly", "currency"), None);
    }
}
