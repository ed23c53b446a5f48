//! Renderers: plans and apply reports written to any `io::Write`, for people and machines.

mod doctor;
mod markdown;
mod paint;
mod text;

pub(crate) use doctor::{render_doctor_markdown, render_doctor_text};
pub(crate) use markdown::render_markdown;
pub(crate) use paint::Paint;
pub(crate) use text::{render_apply_report, render_plan};

/// `3 products and 1 price`, leaving out zero counts.
pub(crate) fn counts(u: &crate::plan::Untouched) -> String {
    let parts: Vec<String> = u
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| kind.count(n))
        .collect();
    match parts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// `one` when `n` is 1, `many` otherwise.
pub(crate) fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
