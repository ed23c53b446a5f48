//! The catalog's source text, and the mapping from byte spans to lines and columns.

/// A catalog file as read from disk: the name to show in messages and its text.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    name: String,
    text: String,
    /// The byte offset where each line starts, so that finding a line takes a search, not a
    /// scan of the text before it (a file can hold many thousands of problems).
    line_starts: Vec<usize>,
    /// The directory the file is in, when it was read from disk.
    dir: Option<std::path::PathBuf>,
}

/// A position in a source file, 1-based, with the column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    /// Line number, starting at 1.
    pub line: usize,
    /// Column number in characters, starting at 1.
    pub column: usize,
}

impl SourceFile {
    /// A source file named `name` (shown in diagnostics) holding `text`.
    pub(crate) fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            name: name.into(),
            text,
            line_starts,
            dir: None,
        }
    }

    /// The same file, read from `dir`.
    pub(crate) fn in_dir(mut self, dir: &std::path::Path) -> Self {
        self.dir = Some(dir.to_owned());
        self
    }

    /// The directory the file was read from, if it was.
    pub(crate) fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_deref()
    }

    /// The name shown in diagnostics, usually the path as the user gave it.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Line and column of a byte offset (clamped to the text, and to a character boundary).
    pub(crate) fn position(&self, offset: usize) -> Position {
        let offset = self.floor_boundary(offset);
        let line = self.line_index(offset);
        Position {
            line: line + 1,
            column: self.text[self.line_starts[line]..offset].chars().count() + 1,
        }
    }

    /// The full line (without its newline) containing a byte offset, and the offset where it starts.
    pub(crate) fn line_at(&self, offset: usize) -> (usize, &str) {
        let line = self.line_index(self.floor_boundary(offset));
        let start = self.line_starts[line];
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(self.text.len(), |next| next - 1);
        let line = &self.text[start..end];
        (start, line.strip_suffix('\r').unwrap_or(line))
    }

    /// The 0-based line holding a byte offset (at most the text's length).
    fn line_index(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset) - 1
    }

    /// The nearest character boundary at or after `offset`, within the text.
    pub(crate) fn ceil_boundary(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset += 1;
        }
        offset
    }

    /// The nearest character boundary at or before `offset`, within the text.
    pub(crate) fn floor_boundary(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let src = SourceFile::new("billing.toml", "a = 1\nname = \"Zürich\" # x\n");
        assert_eq!(src.position(0), Position { line: 1, column: 1 });
        let x = src.text().find('#').unwrap();
        assert_eq!(
            src.position(x),
            Position {
                line: 2,
                column: 17
            }
        );
        assert_eq!(src.line_at(x), (6, "name = \"Zürich\" # x"));
        assert_eq!(src.position(10_000).line, 3);
    }

    proptest::proptest! {
        /// The line index gives what counting newlines before the offset gives.
        #[test]
        fn the_line_index_agrees_with_counting(text in "(a|é|\\r|\\n|\\t){0,40}", offset in 0..50usize) {
            let src = SourceFile::new("c.toml", text.clone());
            let at = src.floor_boundary(offset);
            let before = &text[..at];
            let start = before.rfind('\n').map_or(0, |i| i + 1);
            let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
            let line = &text[start..end];
            proptest::prop_assert_eq!(
                src.position(offset),
                Position { line: before.matches('\n').count() + 1, column: before[start..].chars().count() + 1 }
            );
            proptest::prop_assert_eq!(src.line_at(offset), (start, line.strip_suffix('\r').unwrap_or(line)));
        }
    }
}
