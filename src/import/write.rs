//! The imported catalog as TOML text: tables in catalog order (`[products.pro]`, then its
//! metadata, then `[products.pro.prices.monthly]`), values in a fixed order, strings escaped
//! so that any name (quotes, newlines, any script) reads back exactly.

use std::fmt::Write as _;

/// A TOML value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    /// Unix seconds, written as a UTC datetime (`2027-01-31T23:59:59Z`).
    Datetime(i64),
    /// TOML written elsewhere (a number with decimals, a value carried over from billing.toml).
    Raw(String),
    Array(Vec<Value>),
    /// `{ key = value, … }` on one line.
    Inline(Vec<(String, Value)>),
}

/// A table: its values, then its sub-tables (each written under its own header).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Table {
    /// A comment written above the table's header.
    pub comment: Option<String>,
    /// A catalog entry: its header is written even when every field has its default value
    /// (an empty table is otherwise left out, which would leave the entry out).
    pub entry: bool,
    pub values: Vec<(String, Value)>,
    pub tables: Vec<(String, Table)>,
}

impl Table {
    /// Adds `key = value`.
    pub(crate) fn set(&mut self, key: &str, value: Value) {
        self.values.push((key.to_owned(), value));
    }

    /// Adds `key = "text"`.
    pub(crate) fn text(&mut self, key: &str, text: &str) {
        self.set(key, Value::Str(text.to_owned()));
    }

    /// Adds a sub-table.
    pub(crate) fn table(&mut self, key: &str, table: Table) {
        self.tables.push((key.to_owned(), table));
    }

    /// Whether nothing would be written.
    pub(crate) fn is_empty(&self) -> bool {
        !self.entry && self.values.is_empty() && self.tables.iter().all(|(_, t)| t.is_empty())
    }
}

/// A string as a one-line TOML basic string: `"` and `\` escaped, control characters as
/// escapes, everything else (any script, emoji) as it is.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A key, bare when TOML allows it, else quoted.
pub(crate) fn key(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        text.to_owned()
    } else {
        quote(text)
    }
}

/// Lines longer than this put an array's items on lines of their own.
const WIDTH: usize = 88;

fn value(v: &Value) -> String {
    match v {
        Value::Str(s) => quote(s),
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Datetime(ts) => crate::timestamp::format_timestamp(*ts),
        Value::Raw(r) => r.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(value).collect();
            let one_line = format!("[{}]", parts.join(", "));
            let multi = items.iter().any(|i| matches!(i, Value::Inline(_)));
            if !multi && one_line.len() <= WIDTH {
                one_line
            } else {
                let mut out = String::from("[\n");
                for p in parts {
                    let _ = writeln!(out, "  {p},");
                }
                out.push(']');
                out
            }
        }
        Value::Inline(entries) => {
            if entries.is_empty() {
                return "{}".to_owned();
            }
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{} = {}", key(k), value(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
    }
}

fn header(path: &[String]) -> String {
    path.iter().map(|p| key(p)).collect::<Vec<_>>().join(".")
}

/// `# …` lines (control characters left out: a comment ends at a newline).
fn comment(out: &mut String, text: &str) {
    for line in text.lines() {
        let line: String = line.chars().filter(|c| !c.is_control()).collect();
        if line.trim().is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {}", line.trim_end());
        }
    }
}

fn render_table(path: &mut Vec<String>, table: &Table, out: &mut String) {
    if !path.is_empty() && (!table.values.is_empty() || table.comment.is_some() || table.entry) {
        if !out.is_empty() {
            out.push('\n');
        }
        if let Some(c) = &table.comment {
            comment(out, c);
        }
        let _ = writeln!(out, "[{}]", header(path));
    }
    for (k, v) in &table.values {
        let _ = writeln!(out, "{} = {}", key(k), value(v));
    }
    for (name, sub) in &table.tables {
        if sub.is_empty() && sub.comment.is_none() {
            continue;
        }
        path.push(name.clone());
        render_table(path, sub, out);
        path.pop();
    }
}

/// The document: `header` as comment lines, then `root`.
pub(crate) fn render(header: &str, root: &Table) -> String {
    let mut out = String::new();
    comment(&mut out, header);
    let mut body = String::new();
    render_table(&mut Vec::new(), root, &mut body);
    if !out.is_empty() && !body.is_empty() {
        out.push('\n');
    }
    out.push_str(&body);
    out
}

/// A TOML value carried over from billing.toml, in this module's terms: tables inside a
/// table become sub-tables (`[environments.live]`), inside arrays inline tables.
pub(crate) fn carried(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::Str(s.clone()),
        toml::Value::Integer(n) => Value::Int(*n),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Array(items) => Value::Array(items.iter().map(carried).collect()),
        toml::Value::Table(t) => {
            Value::Inline(t.iter().map(|(k, v)| (k.clone(), carried(v))).collect())
        }
        other => Value::Raw(other.to_string()),
    }
}

/// A table carried over from billing.toml (`[environments]`).
pub(crate) fn carried_table(table: &toml::Table) -> Table {
    let mut out = Table::default();
    for (k, v) in table {
        match v {
            toml::Value::Table(t) => out.table(k, carried_table(t)),
            other => out.set(k, carried(other)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_through_toml() {
        for text in [
            "Pro",
            "He said \"hi\"",
            "back\\slash",
            "two\nlines\r\n",
            "tab\there",
            "Crème brûlée — 日本語 🚀",
            "bell\u{7} and del\u{7f} and nul\u{0}",
            "'single' '''triple'''",
            "",
        ] {
            let doc = format!("x = {}", quote(text));
            let parsed: toml::Table = toml::from_str(&doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
            assert_eq!(parsed["x"].as_str(), Some(text), "{doc}");
            assert!(!quote(text).contains('\n'), "one line: {doc}");
        }
    }

    #[test]
    fn keys_are_bare_only_when_toml_allows() {
        assert_eq!(key("pro_monthly"), "pro_monthly");
        assert_eq!(key("LAUNCH-20"), "LAUNCH-20");
        assert_eq!(key("crm id"), "\"crm id\"");
        assert_eq!(key("a.b"), "\"a.b\"");
        assert_eq!(key("ключ"), "\"ключ\"");
        assert_eq!(key(""), "\"\"");
    }

    #[test]
    fn tables_nest_under_headers_in_the_order_given() {
        let mut price = Table::default();
        price.text("amount", "79.00");
        price.set(
            "tiers",
            Value::Array(vec![Value::Inline(vec![
                ("up_to".into(), Value::Raw("\"inf\"".into())),
                ("amount".into(), Value::Str("1.00".into())),
            ])]),
        );
        let mut prices = Table::default();
        prices.table("monthly", price);
        let mut metadata = Table::default();
        metadata.text("crm id", "42");
        let mut pro = Table::default();
        pro.text("name", "Pro");
        pro.set("features", Value::Array(vec![Value::Str("A".into())]));
        pro.table("metadata", metadata);
        pro.table("prices", prices);
        let mut products = Table::default();
        products.table("pro", pro);
        let mut root = Table::default();
        root.text("namespace", "acme");
        root.table("products", products);
        root.table("coupons", Table::default());
        let text = render("Imported.\n\nSecond paragraph.", &root);
        assert_eq!(
            text,
            "# Imported.\n#\n# Second paragraph.\n\nnamespace = \"acme\"\n\n[products.pro]\nname = \"Pro\"\nfeatures = [\"A\"]\n\n[products.pro.metadata]\n\"crm id\" = \"42\"\n\n[products.pro.prices.monthly]\namount = \"79.00\"\ntiers = [\n  { up_to = \"inf\", amount = \"1.00\" },\n]\n"
        );
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(
            parsed["products"]["pro"]["prices"]["monthly"]["tiers"][0]["amount"].as_str(),
            Some("1.00")
        );
    }

    #[test]
    fn carried_settings_keep_their_shape() {
        let source: toml::Table = toml::from_str(
            "[environments.live]\nmode = \"live\"\naccount = \"acct_1\"\n[environments.local]\nsandbox = true\n",
        )
        .unwrap();
        let mut root = Table::default();
        root.table(
            "environments",
            carried_table(source["environments"].as_table().unwrap()),
        );
        let text = render("", &root);
        let back: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(back, source);
    }
}
