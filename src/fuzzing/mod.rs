//! Entry points for the fuzz targets in `fuzz/`: bytes in, a panic out when billing mishandles
//! them. The tests run the same functions over the hostile corpus and the fuzz seeds, so the
//! targets' bodies are checked on stable Rust too.

#[cfg(test)]
mod properties;

use std::path::Path;

use crate::catalog::{self, EnvChoice, MAX_CATALOG_BYTES, MAX_SHOWN};
use crate::document::{LoadError, PlanDocument};

/// How the catalog under test is named in messages.
const CATALOG_NAME: &str = "billing.toml";

/// How the plan file under test is named in messages.
const PLAN_NAME: &str = "plan.json";

/// Catalog bytes through what `billing validate` does with a file: validated as every
/// environment sees it and, when rejected, every problem rendered. Panics when a rejection is
/// not something a user can act on: no problem, a problem that does not name the file with
/// a line and column inside it, or output with control characters for the terminal.
pub fn catalog(bytes: &[u8]) {
    if bytes.len() as u64 > MAX_CATALOG_BYTES {
        return; // Refused before it is read.
    }
    let (file, diagnostics) =
        match catalog::load_bytes(CATALOG_NAME.to_owned(), bytes.to_vec(), EnvChoice::All) {
            Ok(_) => return,
            Err(catalog::LoadError::Invalid { file, diagnostics }) => (file, diagnostics),
            Err(other) => panic!("bytes already read were refused with: {other}"),
        };
    assert!(!diagnostics.is_empty(), "rejected without a problem");
    let lines = file.text().matches('\n').count() + 1;
    for d in diagnostics.iter().take(MAX_SHOWN) {
        assert!(
            d.span.start <= file.text().len(),
            "{d:?} points past the end"
        );
        let rendered = d.render(&file, false);
        let place = rendered
            .strip_prefix(&format!("{CATALOG_NAME}:"))
            .and_then(|rest| rest.split_once(": error: "))
            .map(|(place, _)| place);
        let line_and_column = place
            .and_then(|p| p.split_once(':'))
            .and_then(|(l, c)| Some((l.parse::<usize>().ok()?, c.parse::<usize>().ok()?)));
        assert!(
            matches!(line_and_column, Some((line, column)) if (1..=lines).contains(&line) && column >= 1),
            "{rendered}"
        );
    }
    let mut out = Vec::new();
    catalog::render_all(&file, &diagnostics, false, &mut out).expect("rendering to memory");
    let out = String::from_utf8(out).expect("rendered as UTF-8");
    assert!(
        !out.chars().any(|c| c.is_control() && c != '\n'),
        "control characters in {out:?}"
    );
    assert!(out.ends_with("nothing was sent to Stripe.\n"), "{out}");
}

/// Plan-file bytes through what `billing apply PLAN` does with a file before applying it
/// (see [`check_plan_file`]).
pub fn plan_file(bytes: &[u8]) {
    // Text that is not UTF-8 is refused as the file is read, naming it.
    if let Ok(text) = std::str::from_utf8(bytes) {
        let path = Path::new(PLAN_NAME);
        check_plan_file(path, &PlanDocument::parse(path, text));
    }
}

/// What must hold of the outcome of reading the plan file at `path`. Panics when a rejection
/// does not name the file, or when an accepted document cannot be shown, compared, or saved
/// and read back as it was.
pub(crate) fn check_plan_file(path: &Path, outcome: &Result<PlanDocument, LoadError>) {
    let doc = match outcome {
        Ok(doc) => doc,
        Err(error) => {
            let message = error.to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
            return;
        }
    };
    assert!(
        doc.differences(doc).is_empty(),
        "a plan differs from itself"
    );
    let mut out = Vec::new();
    crate::render::render_plan(doc, &doc.origin, false, &mut out).expect("rendering to memory");
    crate::render::render_markdown(doc, &doc.origin, &mut out).expect("rendering to memory");
    let again = PlanDocument::parse(path, &doc.to_json());
    assert_eq!(again.as_ref(), Ok(doc), "a saved plan reads back as it was");
}
