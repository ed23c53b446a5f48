//! `billing schema`: the JSON Schema of billing.toml, for editors.

use std::io::Write;

use super::EXIT_OK;
use super::error::Result;

/// The schema as the repository's billing.schema.json holds it: pretty JSON, one final newline.
pub(super) fn text() -> String {
    let mut text = serde_json::to_string_pretty(&crate::catalog::schema())
        .unwrap_or_else(|_| String::from("{}"));
    text.push('\n');
    text
}

pub(super) fn run() -> Result<u8> {
    std::io::stdout().lock().write_all(text().as_bytes())?;
    Ok(EXIT_OK)
}
