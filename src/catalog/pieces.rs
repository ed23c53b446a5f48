//! Parsing a large billing.toml in pieces, so that memory stays proportional to the document
//! and not to its tokens.
//!
//! The `toml` crate parses a document by first lexing all of it into one vector of tokens and
//! one of parser events, about 22 bytes of each per byte of text: for a catalog of 100,000
//! prices (8 MB of TOML) that is over 180 MB held at once, more than the parsed tables
//! themselves. Here the text is cut before some table headers into pieces of about
//! [`PIECE_BYTES`], each piece is parsed on its own, and the pieces' tables are joined into one
//! document, their spans moved to where the piece starts in the file.
//!
//! Joining is only done where it cannot change the meaning of the document; everywhere else
//! the whole text is parsed at once, so the result (tables, spans, or the error reported) is
//! exactly what `DeTable::parse` gives for the whole text:
//! - a cut is made only before a standard table header `[a.b…]` of two or more bare keys,
//!   outside any array or inline table, at the start of a line;
//! - `a` must be a table that only headers of two or more keys build: no `[a]` header, no
//!   `a = …` or `a.x = …` at the top of the file, no quoted key anywhere in a header or at the
//!   top (for those, the whole text is parsed at once);
//! - when joining, each `a.b` a piece holds must be new to the document: a second piece that
//!   adds to `products.pro` makes the whole text be parsed at once;
//! - a piece that does not parse makes the whole text be parsed at once, for the error.
//!
//! A caller can also take the entries of one top-level table (`products`) as each piece is
//! parsed ([`Taker`]): billing.toml's products are read then, and their tables dropped, so that
//! the whole document's tables (10 times the text's size) are never held at once. When the
//! pieces cannot be joined after all, what was taken is to be dropped: the whole text is parsed
//! at once and nothing is taken from it.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};
use toml_parser::Source;
use toml_parser::lexer::TokenKind;

/// About how much text one piece holds. Text smaller than two pieces is parsed at once.
const PIECE_BYTES: usize = 256 * 1024;

/// Takes entries of the top-level table `table` out of the document as they are parsed.
pub(super) struct Taker<'t, 'i> {
    /// The top-level table whose entries are offered.
    pub table: &'static str,
    /// Given an entry's key and value (spans as in the whole text): `None` when it took the
    /// entry, else the value back, to stay in the document.
    #[allow(clippy::type_complexity)]
    pub take:
        &'t mut dyn FnMut(Spanned<String>, Spanned<DeValue<'i>>) -> Option<Spanned<DeValue<'i>>>,
}

/// Parses `text` as `DeTable::parse` does, in pieces where that is the same. With a `taker`,
/// the second value tells whether the entries it took stand: `false` when the text was parsed
/// whole (then it took nothing that stands, and the document holds every entry).
pub(super) fn parse<'i>(
    text: &'i str,
    taker: Option<&mut Taker<'_, 'i>>,
) -> Result<(Spanned<DeTable<'i>>, bool), toml::de::Error> {
    if text.len() >= 2 * PIECE_BYTES
        && let Some(root) = cuts(text).and_then(|(cuts, fixed)| joined(text, &cuts, &fixed, taker))
    {
        return Ok((root, true));
    }
    DeTable::parse(text).map(|root| (root, false))
}

/// What the token scan sees at the start of a line.
struct Header<'i> {
    /// Where its `[` is.
    at: usize,
    /// `[[…]]`.
    array: bool,
    /// Its keys, when all are bare.
    keys: Option<Vec<&'i str>>,
}

/// The offsets to cut the text before, and the first keys whose tables something other than a
/// header of two or more keys builds (those are never joined); `None` when the text is not to
/// be cut (a quoted key where it matters).
fn cuts(text: &str) -> Option<(Vec<usize>, HashSet<&str>)> {
    // First keys that something other than a header of two or more keys builds.
    let mut built_otherwise: HashSet<&str> = HashSet::new();
    let mut headers = Vec::new();
    let mut in_header = false;
    scan(text, |line| match line {
        Line::Header(header) => {
            in_header = true;
            let keys = header.keys.as_ref()?;
            if header.array || keys.len() < 2 {
                built_otherwise.insert(keys[0]);
            }
            // Only where a cut may go: a few hundred offsets, not every header.
            if !header.array && keys.len() >= 2 {
                headers.push((header.at, keys[0], keys[1]));
            }
            Some(())
        }
        Line::Key(key) if !in_header => {
            built_otherwise.insert(key?);
            Some(())
        }
        Line::Key(_) => Some(()),
    })?;
    let mut cuts = Vec::new();
    let mut last_cut = 0;
    let mut previous: Option<(&str, &str)> = None;
    for (at, a, b) in headers {
        let fresh = previous != Some((a, b));
        previous = Some((a, b));
        if fresh && at - last_cut >= PIECE_BYTES && !built_otherwise.contains(a) {
            cuts.push(at);
            last_cut = at;
        }
    }
    (!cuts.is_empty()).then_some((cuts, built_otherwise))
}

/// One line's start, as the scan reports it.
enum Line<'s, 'i> {
    /// A table header.
    Header(&'s Header<'i>),
    /// A key/value pair's first key (`None`: quoted).
    Key(Option<&'i str>),
}

/// Goes through `text`'s tokens once, reporting each line that starts a header or a key/value
/// pair outside any array or inline table; stops with `None` as soon as `each` does.
fn scan<'i>(text: &'i str, mut each: impl FnMut(Line<'_, 'i>) -> Option<()>) -> Option<()> {
    let mut tokens = Source::new(text).lex().peekable();
    // Open `[` and `{` of values.
    let mut depth = 0usize;
    let mut line_start = true;
    while let Some(token) = tokens.next() {
        let kind = token.kind();
        let span = token.span();
        match kind {
            TokenKind::Whitespace | TokenKind::Comment => {}
            TokenKind::Newline => line_start |= depth == 0,
            TokenKind::Eof => break,
            TokenKind::LeftSquareBracket if line_start => {
                line_start = false;
                let array = tokens
                    .next_if(|t| t.kind() == TokenKind::LeftSquareBracket)
                    .is_some();
                let mut keys = Some(Vec::new());
                for token in tokens.by_ref() {
                    match token.kind() {
                        TokenKind::RightSquareBracket | TokenKind::Newline | TokenKind::Eof => {
                            break;
                        }
                        TokenKind::Atom => {
                            let s = token.span();
                            if let Some(keys) = keys.as_mut() {
                                keys.push(&text[s.start()..s.end()]);
                            }
                        }
                        TokenKind::Dot | TokenKind::Whitespace => {}
                        _ => keys = None,
                    }
                }
                let keys = keys.filter(|k| !k.is_empty());
                if array {
                    tokens.next_if(|t| t.kind() == TokenKind::RightSquareBracket);
                }
                let header = Header {
                    at: span.start(),
                    array,
                    keys,
                };
                each(Line::Header(&header))?;
            }
            _ if line_start => {
                line_start = false;
                let key = (kind == TokenKind::Atom).then(|| &text[span.start()..span.end()]);
                each(Line::Key(key))?;
            }
            TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket => depth += 1,
            TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => {
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    Some(())
}

/// The pieces between `cuts`, parsed and joined; `None` where joining them could differ from
/// parsing the whole text. Tables at the top named in `fixed` are never joined.
fn joined<'i>(
    text: &'i str,
    cuts: &[usize],
    fixed: &HashSet<&str>,
    mut taker: Option<&mut Taker<'_, 'i>>,
) -> Option<Spanned<DeTable<'i>>> {
    let bounds = std::iter::once(0).chain(cuts.iter().copied());
    let ends = cuts.iter().copied().chain(std::iter::once(text.len()));
    let mut root = DeTable::new();
    // The keys of the entries taken so far: a later piece may not hold them again.
    let mut taken: HashSet<String> = HashSet::new();
    for (start, end) in bounds.zip(ends) {
        let piece = DeTable::parse(&text[start..end]).ok()?.into_inner();
        for (key, value) in piece {
            let key = moved_key(key, start);
            let value = moved(value, start);
            let name = key.get_ref().to_string();
            let offered = taker.as_deref_mut().filter(|t| t.table == name);
            match root.get_mut(name.as_str()) {
                None => match (offered, value.get_ref()) {
                    (Some(taker), DeValue::Table(_)) => {
                        let span = value.span();
                        let DeValue::Table(from) = value.into_inner() else {
                            return None;
                        };
                        let mut into = DeTable::new();
                        join(&mut into, from, &mut taken, Some(taker))?;
                        root.insert(key, Spanned::new(span, DeValue::Table(into)));
                    }
                    _ => {
                        root.insert(key, value);
                    }
                },
                Some(existing) => {
                    if fixed.contains(name.as_str()) {
                        return None;
                    }
                    let (DeValue::Table(into), DeValue::Table(from)) =
                        (existing.get_mut(), value.into_inner())
                    else {
                        return None;
                    };
                    join(into, from, &mut taken, offered)?;
                }
            }
        }
    }
    Some(Spanned::new(0..text.len(), root))
}

/// Adds the entries of `from` to `into`, or gives them to `taker`; `None` when an entry is
/// already in `into` or was taken before.
fn join<'i>(
    into: &mut DeTable<'i>,
    from: DeTable<'i>,
    taken: &mut HashSet<String>,
    mut taker: Option<&mut Taker<'_, 'i>>,
) -> Option<()> {
    for (key, value) in from {
        let name = key.get_ref().as_ref();
        if into.contains_key(name) || taken.contains(name) {
            return None;
        }
        match taker.as_deref_mut() {
            Some(taker) => {
                let owned = Spanned::new(key.span(), name.to_owned());
                match (taker.take)(owned, value) {
                    None => {
                        taken.insert(name.to_owned());
                    }
                    Some(value) => {
                        into.insert(key, value);
                    }
                }
            }
            None => {
                into.insert(key, value);
            }
        }
    }
    Some(())
}

/// `range` moved `by` bytes on.
fn shifted(range: Range<usize>, by: usize) -> Range<usize> {
    range.start + by..range.end + by
}

fn moved_key(key: Spanned<Cow<'_, str>>, by: usize) -> Spanned<Cow<'_, str>> {
    Spanned::new(shifted(key.span(), by), key.into_inner())
}

/// `value` with its spans, and those of everything in it, moved `by` bytes on.
fn moved(value: Spanned<DeValue<'_>>, by: usize) -> Spanned<DeValue<'_>> {
    let span = shifted(value.span(), by);
    let inner = match value.into_inner() {
        DeValue::Table(table) => {
            // Sized to what it holds: a price's table has three or four keys.
            let mut out = DeTable::with_capacity(table.len());
            for (key, value) in table {
                out.insert(moved_key(key, by), moved(value, by));
            }
            DeValue::Table(out)
        }
        DeValue::Array(mut items) => {
            for item in items.iter_mut() {
                let taken = std::mem::replace(item, Spanned::new(0..0, DeValue::Boolean(false)));
                *item = moved(taken, by);
            }
            DeValue::Array(items)
        }
        other => other,
    };
    Spanned::new(span, inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A catalog of `n` products with two prices each, with `extra` after the first half.
    fn catalog(n: usize, extra: &str) -> String {
        let mut text = String::from("namespace = \"big\"\n\n");
        for i in 0..n {
            if i == n / 2 {
                text.push_str(extra);
            }
            text.push_str(&format!(
                "[products.p{i}]\nname = \"Product {i}\"\n\
                 [products.p{i}.prices.monthly]\namount = \"{i}.00\"\ncurrency = \"usd\"\n\
                 interval = \"month\"\ntiers = [\n  {{ up_to = 1 }},\n  [2],\n]\n\
                 [products.p{i}.prices.yearly]\namount = \"{i}.50\" # [not.a.header]\n\
                 currency = \"usd\"\n"
            ));
        }
        text
    }

    /// Every key, value and span of `table`, in order.
    fn flat(table: &DeTable<'_>, out: &mut Vec<String>) {
        for (key, value) in table {
            out.push(format!(
                "{} {:?} {:?}",
                key.get_ref(),
                key.span(),
                value.span()
            ));
            match value.get_ref() {
                DeValue::Table(t) => flat(t, out),
                DeValue::Array(items) => {
                    for item in items.iter() {
                        out.push(format!("item {:?}", item.span()));
                        if let DeValue::Table(t) = item.get_ref() {
                            flat(t, out);
                        }
                    }
                }
                other => out.push(format!("{other:?}")),
            }
        }
    }

    fn same_as_whole(text: &str) {
        let whole = DeTable::parse(text);
        let pieces = parse(text, None).map(|(root, _)| root);
        match (whole, pieces) {
            (Ok(whole), Ok(pieces)) => {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                flat(whole.get_ref(), &mut a);
                flat(pieces.get_ref(), &mut b);
                assert_eq!(a, b);
            }
            (Err(whole), Err(pieces)) => {
                assert_eq!(whole.span(), pieces.span());
                assert_eq!(whole.message(), pieces.message());
            }
            (whole, pieces) => panic!(
                "whole: {:?}, pieces: {:?}",
                whole.map(|_| ()),
                pieces.map(|_| ())
            ),
        }
    }

    #[test]
    fn a_large_catalog_is_cut_and_reads_as_the_whole_text_does() {
        let text = catalog(6000, "");
        let (cuts, fixed) = cuts(&text).expect("cut");
        assert!(cuts.len() >= 3, "{} cuts", cuts.len());
        assert!(!fixed.contains("products"));
        // Each cut is at a product's own header, never inside one product's tables.
        for at in cuts {
            assert!(
                text[at..].starts_with("[products.p"),
                "{}",
                &text[at..at + 40]
            );
            let header = text[at..].lines().next().unwrap();
            assert!(!header.contains(".prices."), "{header}");
        }
        same_as_whole(&text);
    }

    #[test]
    fn documents_joining_would_change_are_parsed_whole() {
        // Each is invalid or different as a whole in a way pieces alone would not see.
        for extra in [
            // A product's tables defined again far from the first definition.
            "[products.p1]\nname = \"again\"\n",
            "[products.p2.prices.monthly]\namount = \"1\"\n",
            // `products` written as a table header, and as a top-level key.
            "[products]\nx = 1\n",
            "[[products]]\nx = 1\n",
            // A syntax error in the second half.
            "[products.bad]\nname = \n",
            "[products.\"quoted\"]\nname = \"q\"\n",
        ] {
            same_as_whole(&catalog(6000, extra));
        }
        let inline = format!(
            "products = {{ p = {{ name = \"x\" }} }}\n{}",
            catalog(6000, "")
        );
        assert!(parse(&inline, None).is_err());
        same_as_whole(&inline);
        let dotted = format!("products.q.name = \"x\"\n{}", catalog(6000, ""));
        same_as_whole(&dotted);
    }

    #[test]
    fn headers_inside_strings_and_arrays_are_not_cuts() {
        let mut text = catalog(3000, "");
        text.push_str("[coupons.c]\nnote = '''\n");
        for i in 0..20_000 {
            text.push_str(&format!("[products.s{i}]\n"));
        }
        text.push_str("'''\nlist = [\n");
        for i in 0..20_000 {
            text.push_str(&format!("[\"products.a{i}\"],\n"));
        }
        text.push_str("]\n");
        let (cuts, _) = cuts(&text).expect("cut");
        assert!(
            cuts.iter()
                .all(|&at| at < text.find("[coupons.c]").unwrap())
        );
        same_as_whole(&text);
    }
}
