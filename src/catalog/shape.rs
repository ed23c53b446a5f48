//! The shape of billing.toml's tables: each table's fields, what each holds and means.
//!
//! It is the one description of the file's keys: the readers accept exactly the fields a
//! table lists ([`super::reader::TableReader`], which finds nested tables here too), and
//! `billing schema` writes it as a JSON Schema ([`super::schema`]). A field added to a table
//! here is read and appears in the schema; a table added to the catalog is one more field of
//! [`super::TOP`].

/// The fields of one TOML table.
#[derive(Debug)]
pub(crate) struct Table {
    pub fields: &'static [Field],
    /// Whether it is an entry that `environments = [...]` limits and
    /// `[<entry>.overrides.<env>]` changes per environment (both resolved before it is read).
    pub entry: bool,
}

/// One key of a table.
#[derive(Debug)]
pub(crate) struct Field {
    pub name: &'static str,
    pub ty: Ty,
    /// What it means, for editors (a sentence or two).
    pub doc: &'static str,
}

/// What a field holds.
#[derive(Debug)]
pub(crate) enum Ty {
    /// A string.
    Text,
    /// One string of a closed set.
    Word(&'static [&'static str]),
    /// Exactly this string (an alternative in [`Ty::Either`]: `"inf"`, `"now"`).
    Exactly(&'static str),
    Bool,
    Integer,
    /// A decimal amount, as a string (`"79.00"`) or a number.
    Amount,
    /// A TOML date and time with an offset.
    Datetime,
    /// An array of strings.
    Texts,
    /// An array of strings of a closed set.
    Words(&'static [&'static str]),
    /// A table of string values.
    Metadata,
    /// A three-letter currency code Stripe supports.
    Currency,
    /// Webhook event presets, event types and `prefix.*` patterns.
    Events,
    /// Webhook event presets' names.
    Presets,
    /// A table of known fields.
    Table(&'static Table),
    /// A table of entries, each a table of these fields, keyed as [`Key`] says.
    Entries(Key, &'static Table),
    /// An array of tables.
    Tables(&'static Table),
    /// An array of values of this type.
    List(&'static Ty),
    /// Per-currency values: each an amount, or a table of these fields.
    CurrencyOptions(&'static Table),
    /// Any one of these.
    Either(&'static [Ty]),
}

/// What keys a table of entries takes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Key {
    /// Catalog keys: lowercase letters, digits and `_`.
    Catalog,
    /// Promotion codes: the code customers type.
    Code,
    /// Environment names: lowercase letters, digits, `_` and `-`.
    Environment,
}

impl Key {
    /// The regular expression (ECMA 262, as JSON Schema takes it) a key matches.
    pub(crate) fn pattern(self) -> &'static str {
        match self {
            Self::Catalog => "^[a-z0-9_]{1,100}$",
            Self::Code => "^[a-zA-Z0-9_-]{1,500}$",
            Self::Environment => "^[a-z0-9_-]{1,40}$",
        }
    }
}

/// A field (for the tables' `const` lists).
pub(crate) const fn field(name: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field { name, ty, doc }
}

impl Table {
    /// A table of these fields.
    pub(crate) const fn of(fields: &'static [Field]) -> Self {
        Self {
            fields,
            entry: false,
        }
    }

    /// An entry of these fields (`environments` and `overrides` are taken too).
    pub(crate) const fn entry(fields: &'static [Field]) -> Self {
        Self {
            fields,
            entry: true,
        }
    }

    /// The field called `name`.
    pub(crate) fn field(&self, name: &str) -> Option<&'static Field> {
        let fields: &'static [Field] = self.fields;
        fields.iter().find(|f| f.name == name)
    }

    /// Whether `name` is one of its fields.
    pub(crate) fn knows(&self, name: &str) -> bool {
        self.field(name).is_some()
    }

    /// Its field names, in order.
    pub(crate) fn names(&self) -> Vec<&'static str> {
        self.fields.iter().map(|f| f.name).collect()
    }

    /// The table a field holds (alone or as one of its alternatives).
    pub(crate) fn nested(&self, name: &str) -> Option<&'static Table> {
        self.field(name).and_then(|f| f.ty.table())
    }
}

/// What a reader's accessor reads ([`super::reader::TableReader`] checks, in debug builds,
/// that the shape declares a field of that type: the schema cannot drift from the reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    Text,
    Bool,
    Integer,
    Amount,
    Datetime,
    Texts,
    Map,
    Tables,
}

impl Ty {
    /// Whether a value of this type (or of one of its alternatives) is read as `read`.
    pub(crate) fn reads(&self, read: Read) -> bool {
        let this = match self {
            Self::Either(all) => return all.iter().any(|t| t.reads(read)),
            Self::Text | Self::Word(_) | Self::Exactly(_) | Self::Currency => Read::Text,
            Self::Bool => Read::Bool,
            Self::Integer => Read::Integer,
            Self::Amount => Read::Amount,
            Self::Datetime => Read::Datetime,
            Self::Texts | Self::Words(_) | Self::Events | Self::Presets | Self::List(_) => {
                Read::Texts
            }
            Self::Metadata | Self::Entries(..) | Self::CurrencyOptions(_) => Read::Map,
            Self::Tables(_) => Read::Tables,
            Self::Table(_) => return false,
        };
        this == read
    }

    /// The table of known fields this type holds, alone or as an alternative.
    fn table(&'static self) -> Option<&'static Table> {
        match self {
            Self::Table(t) | Self::Tables(t) | Self::CurrencyOptions(t) => Some(t),
            Self::Either(all) => all.iter().find_map(Ty::table),
            Self::List(item) => item.table(),
            _ => None,
        }
    }
}

/// `metadata`: the entry's own key-value pairs.
pub(crate) const METADATA: Field = field(
    "metadata",
    Ty::Metadata,
    "Key-value pairs stored on the Stripe object (string values; keys starting with `billing_` are billing's own).",
);

/// `id`: an existing object to adopt.
pub(crate) const ID: Field = field(
    "id",
    Ty::Text,
    "The id of an existing Stripe object to adopt for this entry when billing manages none here.",
);

/// `moved_from`: the key the entry had before a rename.
pub(crate) const MOVED_FROM: Field = field(
    "moved_from",
    Ty::Text,
    "The key this entry had before it was renamed: its objects move with it instead of being replaced.",
);

/// The values of `on_remove` of products, prices and tax rates.
pub(crate) const ARCHIVE_OR_FORGET: &[&str] = &["archive", "forget"];

/// `on_remove` of products, prices and tax rates.
pub(crate) const ON_REMOVE_ARCHIVE: Field = field(
    "on_remove",
    Ty::Word(ARCHIVE_OR_FORGET),
    "What happens to the object when the entry leaves billing.toml: archived (the default) or forgotten (left as it is, unmanaged).",
);
