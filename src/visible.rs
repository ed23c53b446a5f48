//! Text from billing.toml, Stripe or a plan file as it is safe to print on a terminal: every
//! control character (ESC, BEL, a carriage return, an OSC 52 clipboard write's introducer) and
//! every invisible or reordering one shown as a visible symbol, so that what is printed is what
//! the reader sees. Line breaks are kept.

use std::fmt::Write as _;

/// How a character is shown: a tab as four spaces, a control character (NUL, ESC, a lone
/// carriage return: anything that could garble the terminal) as its visible symbol, and one
/// that is invisible or reorders the text around it (zero-width space, bidirectional
/// overrides, byte order mark, the C1 controls) as `<U+XXXX>`.
pub(crate) fn push_visible(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("    "),
        '\u{0}'..='\u{1f}' => out.extend(char::from_u32(0x2400 + u32::from(c))),
        '\u{7f}' => out.push('\u{2421}'),
        '\u{80}'..='\u{9f}'
        | '\u{200b}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'
        | '\u{2066}'..='\u{2069}'
        | '\u{feff}' => {
            let _ = write!(out, "<U+{:04X}>", u32::from(c));
        }
        c => out.push(c),
    }
}

/// `text` as it is safe to print (see [`push_visible`]); line breaks are kept.
pub(crate) fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\n' {
            out.push(c);
        } else {
            push_visible(&mut out, c);
        }
    }
    out
}

/// `text` with its control characters shown (see [`push_visible`]) but other invisible
/// characters kept: for Markdown, which puts zero-width spaces in on purpose (to keep `@name`
/// from mentioning anyone) and whose reader, GitHub, shows bidirectional text as such.
pub(crate) fn controls_shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            push_visible(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_line_breaks_and_printable_text_pass() {
        assert_eq!(
            visible("a\u{1b}]52;c;aGk=\u{7}\r\nb\tc\u{9b}2J\u{202e}é🚀\n"),
            "a␛]52;c;aGk=␇␍\nb    c<U+009B>2J<U+202E>é🚀\n"
        );
        assert!(
            !visible(&(0..0x2100).filter_map(char::from_u32).collect::<String>())
                .chars()
                .any(|c| c.is_control() && c != '\n')
        );
    }
}
