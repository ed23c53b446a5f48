//! Typed access to a parsed TOML table that records every problem instead of stopping at the first.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diagnostic::{Diagnostic, Sink};
use super::money;
use super::shape::{Read, Table};
use crate::resource::{Address, ResourceKind};

/// A value together with the byte range it was written at.
pub(super) type Sp<T> = Spanned<T>;

/// The entries of a table used as a map: each key with its span, and its value.
pub(crate) type MapEntries<'a, 'i> = Vec<(Sp<String>, &'a Sp<DeValue<'i>>)>;

/// The tables of an array of tables: each with its position in the array and its span.
pub(crate) type ArrayTables<'a, 'i> = Vec<(usize, Range<usize>, &'a DeTable<'i>)>;

/// `value` as a table; else a problem saying that `what` must be a table (with `hint`), and
/// `None`.
pub(crate) fn expect_table<'a, 'i>(
    sink: &Sink,
    value: &'a Sp<DeValue<'i>>,
    what: &str,
    hint: Option<String>,
) -> Option<&'a DeTable<'i>> {
    let DeValue::Table(table) = value.get_ref() else {
        let mut d = Diagnostic::new(value.span(), format!("{what} must be a table"))
            .label("expected a table");
        if let Some(hint) = hint {
            d = d.hint(hint);
        }
        sink.push(d);
        return None;
    };
    Some(table)
}

/// Reads the fields of one TOML table; every key it is asked about counts as known.
pub(crate) struct TableReader<'a, 'i> {
    sink: &'a Sink,
    name: String,
    span: Range<usize>,
    table: &'a DeTable<'i>,
    known: &'static Table,
    aliases: &'static [(&'static str, &'static str)],
    /// How many problems the sink held when the reader was made.
    opened: usize,
}

/// What a value's TOML type is called in messages.
fn kind(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The decimal text of a number or string value, for amounts (`"79.00"`, `79`, `79.99`).
pub(crate) fn number_text(value: &DeValue<'_>) -> Option<String> {
    match value {
        DeValue::String(s) => Some(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .ok()
            .map(|n| n.to_string()),
        DeValue::Float(f) => f.as_str().parse::<f64>().ok().and_then(money::float_text),
        _ => None,
    }
}

impl<'a, 'i> TableReader<'a, 'i> {
    /// A reader for `table`, placed in messages by `name` (`in [products.pro]`), accepting the
    /// fields of `known`.
    pub(crate) fn new(
        sink: &'a Sink,
        name: impl Into<String>,
        span: Range<usize>,
        table: &'a DeTable<'i>,
        known: &'static Table,
    ) -> Self {
        Self {
            sink,
            name: name.into(),
            span,
            table,
            known,
            aliases: &[],
            opened: sink.len(),
        }
    }

    /// A reader of the entry `[<table>.<key>]` of `kind`, with its `known` fields; else a
    /// problem saying the entry must be a table, and `None`.
    pub(crate) fn entry(
        sink: &'a Sink,
        kind: ResourceKind,
        key: &str,
        value: &'a Sp<DeValue<'i>>,
        known: &'static Table,
    ) -> Option<Self> {
        let what = format!("{} `{key}`", kind.noun());
        let table = expect_table(sink, value, &what, None)?;
        let name = format!("in {}", Address::new(kind, key).declaration());
        Some(Self::new(sink, name, value.span(), table, known))
    }

    /// Keys that users coming from Stripe's API tend to write here, each with the hint to give instead.
    pub(crate) fn with_aliases(mut self, aliases: &'static [(&'static str, &'static str)]) -> Self {
        self.aliases = aliases;
        self
    }

    /// The span of the table (its header, or the inline table).
    pub(crate) fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    pub(crate) fn sink(&self) -> &'a Sink {
        self.sink
    }

    /// The raw value of `key`, if present.
    pub(crate) fn value(&self, key: &str) -> Option<&'a Sp<DeValue<'i>>> {
        debug_assert!(
            self.known.knows(key),
            "key `{key}` must be declared as known"
        );
        self.table.get(key)
    }

    /// Checks (in debug builds) that the shape declares `key` as a field read as `read`.
    fn declared(&self, key: &str, read: Read) {
        debug_assert!(
            self.known.field(key).is_some_and(|f| f.ty.reads(read)),
            "key `{key}` must be declared in the shape as read as {read:?}"
        );
    }

    fn wrong_type(&self, key: &str, value: &Sp<DeValue<'_>>, expected: &str, hint: Option<&str>) {
        let mut d = Diagnostic::new(
            value.span(),
            format!(
                "`{key}` {} must be {expected}, not {}",
                self.name,
                kind(value.get_ref())
            ),
        )
        .label(format!("expected {expected}"));
        if let Some(hint) = hint {
            d = d.hint(hint);
        }
        self.sink.push(d);
    }

    /// A string field.
    pub(crate) fn string(&self, key: &str) -> Option<Sp<String>> {
        self.declared(key, Read::Text);
        let value = self.value(key)?;
        match value.get_ref() {
            DeValue::String(s) => Some(Sp::new(value.span(), s.to_string())),
            _ => {
                self.wrong_type(
                    key,
                    value,
                    "a string",
                    Some("put the value in double quotes"),
                );
                None
            }
        }
    }

    /// A boolean field.
    pub(crate) fn boolean(&self, key: &str) -> Option<Sp<bool>> {
        self.declared(key, Read::Bool);
        let value = self.value(key)?;
        match value.get_ref() {
            DeValue::Boolean(b) => Some(Sp::new(value.span(), *b)),
            _ => {
                self.wrong_type(key, value, "true or false", None);
                None
            }
        }
    }

    /// An integer field.
    pub(crate) fn integer(&self, key: &str) -> Option<Sp<i64>> {
        self.declared(key, Read::Integer);
        let value = self.value(key)?;
        match value.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some(Sp::new(value.span(), n)),
                Err(_) => {
                    self.sink.push(Diagnostic::new(
                        value.span(),
                        format!("`{key}` is too large"),
                    ));
                    None
                }
            },
            _ => {
                let hint = matches!(value.get_ref(), DeValue::String(_))
                    .then_some("write the number without quotes");
                self.wrong_type(key, value, "an integer", hint);
                None
            }
        }
    }

    /// An amount written as a string or a number; the decimal text is returned for exact conversion.
    pub(crate) fn amount(&self, key: &str) -> Option<Sp<String>> {
        self.declared(key, Read::Amount);
        let value = self.value(key)?;
        match number_text(value.get_ref()) {
            Some(text) => Some(Sp::new(value.span(), text)),
            None => {
                self.wrong_type(key, value, "a decimal amount such as \"79.00\"", None);
                None
            }
        }
    }

    /// A TOML datetime with a UTC offset (`2027-01-31T23:59:59Z`), as Unix seconds.
    pub(crate) fn timestamp(&self, key: &str) -> Option<Sp<i64>> {
        self.declared(key, Read::Datetime);
        let value = self.value(key)?;
        let DeValue::Datetime(dt) = value.get_ref() else {
            self.wrong_type(
                key,
                value,
                "a date and time such as 2027-01-31T23:59:59Z",
                Some("write it without quotes: TOML has dates"),
            );
            return None;
        };
        match unix_seconds(dt) {
            Some(ts) => Some(Sp::new(value.span(), ts)),
            None => {
                self.sink.push(
                    Diagnostic::new(
                        value.span(),
                        format!("`{key}` needs a date, a time and a UTC offset"),
                    )
                    .label("not a complete instant")
                    .hint("write it like 2027-01-31T23:59:59Z (or with an offset such as +01:00)"),
                );
                None
            }
        }
    }

    /// An array of strings.
    pub(crate) fn strings(&self, key: &str) -> Option<Sp<Vec<Sp<String>>>> {
        self.declared(key, Read::Texts);
        let value = self.value(key)?;
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(
                key,
                value,
                "an array of strings",
                Some("write it as [\"a\", \"b\"]"),
            );
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push(Sp::new(item.span(), s.to_string())),
                other => self.sink.push(
                    Diagnostic::new(
                        item.span(),
                        format!(
                            "`{key}` {} must contain only strings, not {}",
                            self.name,
                            kind(other)
                        ),
                    )
                    .label("expected a string"),
                ),
            }
        }
        Some(Sp::new(value.span(), out))
    }

    /// The fields of the table `key` holds, as this table's shape declares them.
    pub(crate) fn nested_shape(&self, key: &str) -> &'static Table {
        const NONE: Table = Table::of(&[]);
        debug_assert!(
            self.known.nested(key).is_some(),
            "key `{key}` must be declared as holding a table"
        );
        self.known.nested(key).unwrap_or(&NONE)
    }

    /// A nested table, read with the fields its shape declares.
    pub(crate) fn table(&self, key: &str) -> Option<TableReader<'a, 'i>> {
        let value = self.value(key)?;
        let known = self.nested_shape(key);
        match value.get_ref() {
            DeValue::Table(table) => Some(TableReader::new(
                self.sink,
                format!("in `{key}`"),
                value.span(),
                table,
                known,
            )),
            _ => {
                self.wrong_type(key, value, "a table", None);
                None
            }
        }
    }

    /// The entries of a table used as a map (products, prices, metadata): key and value with spans.
    pub(crate) fn map(&self, key: &str) -> Option<(Range<usize>, MapEntries<'a, 'i>)> {
        self.declared(key, Read::Map);
        let value = self.value(key)?;
        match value.get_ref() {
            DeValue::Table(table) => Some((
                value.span(),
                table
                    .iter()
                    .map(|(k, v)| (Sp::new(k.span(), k.get_ref().to_string()), v))
                    .collect(),
            )),
            _ => {
                self.wrong_type(key, value, "a table", None);
                None
            }
        }
    }

    /// Whether the table has keys that are not known here (reported by [`Self::finish`]).
    pub(crate) fn unknown_keys(&self) -> bool {
        self.table
            .iter()
            .any(|(k, _)| !self.known.knows(k.get_ref().as_ref()))
    }

    /// Whether the table had shape problems since the reader was made (a value of the wrong
    /// type, a key not known here): a field missing from it may just be mistyped.
    pub(crate) fn incomplete(&self) -> bool {
        self.sink.len() > self.opened || self.unknown_keys()
    }

    /// How messages call a table nested in this one, `what` (`currency option `eur``):
    /// `in currency option `eur` [products.pro.prices.monthly]`.
    pub(crate) fn nested_name(&self, what: &str) -> String {
        format!("in {what} {}", self.name.trim_start_matches("in "))
    }

    /// An array of tables (`tiers`, `[[tax.registrations]]`): each item that is a table, with
    /// its position in the array and its span. `not_array` and `not_table` make the problems
    /// said of a value that is not an array and of an item that is not a table.
    pub(crate) fn array_of_tables(
        &self,
        key: &str,
        not_array: impl FnOnce(Range<usize>) -> Diagnostic,
        not_table: impl Fn(Range<usize>) -> Diagnostic,
    ) -> Option<Sp<ArrayTables<'a, 'i>>> {
        self.declared(key, Read::Tables);
        let value = self.value(key)?;
        let DeValue::Array(items) = value.get_ref() else {
            self.sink.push(not_array(value.span()));
            return None;
        };
        let mut tables = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.get_ref() {
                DeValue::Table(table) => tables.push((i, item.span(), table)),
                _ => self.sink.push(not_table(item.span())),
            }
        }
        Some(Sp::new(value.span(), tables))
    }

    /// Reports every key that was not declared as known, with a did-you-mean when one is close.
    pub(crate) fn finish(self) {
        for (key, _) in self.table.iter() {
            let name = key.get_ref().as_ref();
            if self.known.knows(name) {
                continue;
            }
            let known = self.known.names();
            let mut d = Diagnostic::new(key.span(), format!("unknown key `{name}` {}", self.name))
                .label("not a key billing knows here");
            if let Some((_, hint)) = self.aliases.iter().find(|(alias, _)| *alias == name) {
                d = d.hint(*hint);
            } else if let Some(best) = self.sink.suggest(name, &known) {
                d = d.hint(format!("did you mean `{best}`?"));
            } else {
                d = d.hint(format!("known keys here: {}", known.join(", ")));
            }
            self.sink.push(d);
        }
    }
}

/// Seconds since the Unix epoch of a TOML offset datetime; `None` without a date, time or offset.
pub(crate) fn unix_seconds(dt: &toml::value::Datetime) -> Option<i64> {
    let (date, time, offset) = (dt.date?, dt.time?, dt.offset?);
    // Days from civil (Howard Hinnant's algorithm), valid for the proleptic Gregorian calendar.
    let (y, m, d) = (
        i64::from(date.year),
        i64::from(date.month),
        i64::from(date.day),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = i64::from(time.hour) * 3600
        + i64::from(time.minute) * 60
        + i64::from(time.second.unwrap_or(0));
    let offset = match offset {
        toml::value::Offset::Z => 0,
        toml::value::Offset::Custom { minutes } => i64::from(minutes) * 60,
    };
    Some(days * 86_400 + seconds - offset)
}

/// The known name closest to `name`, if it is close enough to be a likely typo.
pub(crate) fn suggest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), *k))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_only_for_close_names() {
        let known = ["name", "description", "features", "default_price"];
        assert_eq!(suggest("nmae", &known), Some("name"));
        assert_eq!(suggest("descripton", &known), Some("description"));
        assert_eq!(suggest("default_prices", &known), Some("default_price"));
        assert_eq!(suggest("colour", &known), None);
    }

    #[test]
    fn datetimes_convert_to_unix_seconds() {
        let ts = |text: &str| {
            let source = format!("t = {text}");
            let doc = DeTable::parse(&source).unwrap();
            match doc.get_ref().get("t").unwrap().get_ref() {
                DeValue::Datetime(dt) => unix_seconds(dt),
                _ => panic!("not a datetime"),
            }
        };
        assert_eq!(ts("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(ts("2027-01-31T23:59:59Z"), Some(1_801_439_999));
        assert_eq!(ts("2027-02-01T00:59:59+01:00"), Some(1_801_439_999));
        assert_eq!(ts("2024-02-29T12:00:00Z"), Some(1_709_208_000));
        assert_eq!(ts("2027-01-31"), None);
        assert_eq!(ts("2027-01-31T23:59:59"), None);
    }

    #[test]
    fn numbers_and_strings_give_decimal_text() {
        let doc = DeTable::parse("a = \"79.00\"\nb = 79\nc = 79.99\nd = 1e3\ne = true\nf = 0x10")
            .unwrap();
        let text = |k: &str| number_text(doc.get_ref().get(k).unwrap().get_ref());
        assert_eq!(text("a").as_deref(), Some("79.00"));
        assert_eq!(text("b").as_deref(), Some("79"));
        assert_eq!(text("c").as_deref(), Some("79.99"));
        assert_eq!(text("d").as_deref(), Some("1000"));
        assert_eq!(text("e"), None);
        assert_eq!(text("f").as_deref(), Some("16"));
    }
}
