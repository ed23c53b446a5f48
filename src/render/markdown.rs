//! The plan as Markdown for a pull-request comment: a summary table, warnings first, then one
//! collapsible section per change, within GitHub's comment limit.
//!
//! The comment opens with the marker `<!-- billing-plan -->`, by which a CI job finds the comment
//! to update. Text that comes from billing.toml or Stripe is escaped where it lands: backslash
//! escapes in Markdown, entities in HTML, and code fences longer than any backtick run inside;
//! control characters are shown visibly ([`crate::visible::controls_shown`]).

use std::io::{self, Write};

use similar::{ChangeTag, TextDiff};

use super::{counts, plural};
use crate::document::{DestroyRefused, Origin, PlanDocument};
use crate::plan::{Action, Change, FieldChange, FieldValue, Summary};
use crate::resource::ResourceKind;
use crate::visible::controls_shown;

/// GitHub refuses comments longer than this many characters.
const LIMIT: usize = 65_536;

/// The first line of every comment, by which a workflow finds the comment it posted before.
const MARKER: &str = "<!-- billing-plan -->";

/// Writes the plan as a GitHub pull-request comment of at most 65,536 characters.
///
/// When the whole plan does not fit, the heading, the summary and as many warnings and changes
/// as fit are kept, followed by a notice saying how many are not shown.
pub(crate) fn render_markdown(
    plan: &PlanDocument,
    origin: &Origin,
    out: &mut impl Write,
) -> io::Result<()> {
    out.write_all(Comment::new(plan, origin).fit(LIMIT).as_bytes())
}

/// The comment in pieces that truncation keeps or drops whole.
struct Comment {
    /// Marker, heading, summary line and table (or "No changes").
    head: String,
    /// Warnings, grouped in GitHub alerts.
    alerts: Vec<Alert>,
    /// One `<details>` block per change.
    sections: Vec<String>,
    /// What the plan left alone.
    footer: String,
}

/// A GitHub alert (`> [!WARNING]`) holding a list.
struct Alert {
    /// The alert's first lines, up to its list.
    header: String,
    /// List items, each a complete quoted line or lines.
    items: Vec<String>,
}

impl Comment {
    fn new(plan: &PlanDocument, origin: &Origin) -> Self {
        let mut head = format!(
            "{MARKER}\n### billing plan for {} (account {}, {} mode, namespace {})\n\n",
            inline(&origin.environment),
            inline(&origin.account),
            origin.mode,
            inline(&format!("{:?}", plan.namespace)),
        );
        if plan.is_empty() {
            head.push_str("No changes: Stripe matches billing.toml.\n\n");
        } else {
            head.push_str(&summary(plan));
        }
        if let Some(line) = DestroyRefused::line(&plan.refusals) {
            head.push_str(&format!("**Warning:** {}.\n\n", inline(&line)));
        }
        // Every piece as it is safe to print, before its length counts: a comment is shown on a
        // terminal too (`billing show --format markdown`).
        let alerts = alerts(plan)
            .into_iter()
            .map(|a| Alert {
                header: controls_shown(&a.header),
                items: a.items.iter().map(|i| controls_shown(i)).collect(),
            })
            .collect();
        Self {
            head: controls_shown(&head),
            alerts,
            sections: plan
                .resource_changes
                .iter()
                .map(|c| controls_shown(&section(c)))
                .collect(),
            footer: controls_shown(&footer(plan)),
        }
    }

    /// The whole comment, or as much as fits in `limit` characters with a truncation notice.
    fn fit(&self, limit: usize) -> String {
        let warnings: usize = self.alerts.iter().map(|a| a.items.len()).sum();
        let full = len(&self.head)
            + self.alerts.iter().map(Alert::len).sum::<usize>()
            + self.sections.iter().map(|s| len(s)).sum::<usize>()
            + len(&self.footer);
        if full <= limit {
            let mut out = self.head.clone();
            for alert in &self.alerts {
                alert.write(&mut out, alert.items.len());
            }
            self.sections.iter().for_each(|s| out.push_str(s));
            out.push_str(&self.footer);
            return out;
        }
        // The longest notice this comment could need: its counts can only be smaller.
        let reserve = len(&notice(warnings.max(2), self.sections.len().max(2)));
        let mut budget = limit.saturating_sub(len(&self.head) + len(&self.footer) + reserve);
        let mut out = self.head.clone();
        let mut shown_warnings = 0;
        let mut complete = true;
        for alert in &self.alerts {
            let mut fit = 0;
            let mut used = len(&alert.header) + 1;
            for item in &alert.items {
                if used + len(item) > budget {
                    break;
                }
                used += len(item);
                fit += 1;
            }
            if fit > 0 {
                alert.write(&mut out, fit);
                budget -= used;
                shown_warnings += fit;
            }
            if fit < alert.items.len() {
                complete = false;
                break;
            }
        }
        let mut shown_sections = 0;
        if complete {
            for section in &self.sections {
                if len(section) > budget {
                    break;
                }
                out.push_str(section);
                budget -= len(section);
                shown_sections += 1;
            }
        }
        out.push_str(&notice(
            warnings - shown_warnings,
            self.sections.len() - shown_sections,
        ));
        out.push_str(&self.footer);
        out
    }
}

impl Alert {
    fn len(&self) -> usize {
        if self.items.is_empty() {
            return 0;
        }
        len(&self.header) + self.items.iter().map(|i| len(i)).sum::<usize>() + 1
    }

    /// Writes the alert with its first `items` items.
    fn write(&self, out: &mut String, items: usize) {
        if items == 0 {
            return;
        }
        out.push_str(&self.header);
        self.items[..items].iter().for_each(|i| out.push_str(i));
        out.push('\n');
    }
}

/// Length in characters, as GitHub counts.
fn len(s: &str) -> usize {
    s.chars().count()
}

/// Says what truncation left out.
fn notice(warnings: usize, changes: usize) -> String {
    let mut parts = Vec::new();
    if warnings > 0 {
        parts.push(format!(
            "{warnings} more {}",
            plural(warnings, "warning", "warnings")
        ));
    }
    if changes > 0 {
        parts.push(format!(
            "{changes} more {}",
            plural(changes, "change", "changes")
        ));
    }
    let verb = if warnings + changes == 1 { "is" } else { "are" };
    format!(
        "> [!NOTE]\n> Truncated: {} {verb} not shown (GitHub comments hold 65,536 characters). \
         Run `billing plan`, or `billing show` on the saved plan, for the full plan.\n\n",
        parts.join(" and ")
    )
}

/// The summary line, as the text renderer writes it, and a table of changes by kind.
fn summary(plan: &PlanDocument) -> String {
    let mut out = format!("**Plan:** {}\n\n", plan.summary.line());
    // A column for each count the summary has, after the kind.
    let totals = plan.summary.columns();
    let columns: Vec<usize> = (0..totals.len()).filter(|&i| totals[i].1 > 0).collect();
    out.push_str("| |");
    for &i in &columns {
        out.push_str(&format!(" {} |", totals[i].0));
    }
    out.push_str("\n|:--|");
    out.push_str(&"--:|".repeat(columns.len()));
    out.push('\n');
    let mut kinds: Vec<ResourceKind> = plan.resource_changes.iter().map(|c| c.kind).collect();
    kinds.sort();
    kinds.dedup();
    for kind in kinds {
        let row: Summary = plan
            .resource_changes
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.action)
            .collect();
        let row = row.columns();
        out.push_str(&format!("| {} |", kind.plural()));
        for &i in &columns {
            match row[i].1 {
                0 => out.push_str(" |"),
                n => out.push_str(&format!(" {n} |")),
            }
        }
        out.push('\n');
    }
    out.push('\n');
    out
}

/// The plan's warnings, objects in the way, then replacements and removals, then the plan's
/// notices.
fn alerts(plan: &PlanDocument) -> Vec<Alert> {
    let mut alerts = Vec::new();
    if !plan.warnings.is_empty() {
        alerts.push(Alert {
            header: "> [!CAUTION]\n".to_owned(),
            items: plan
                .warnings
                .iter()
                .map(|w| format!("> - {}\n", inline(w)))
                .collect(),
        });
    }
    let blockers: Vec<String> = plan
        .blockers()
        .map(|(change, blocker)| {
            format!(
                "> - {} would break {}\n",
                code(&change.address),
                inline(blocker)
            )
        })
        .collect();
    if !blockers.is_empty() {
        alerts.push(Alert {
            // Whether apply refuses them is said once, above the alerts (`plan.refusals`).
            header:
                "> [!CAUTION]\n> **Objects billing.toml does not declare would stop working.**\n>\n"
                    .to_owned(),
            items: blockers,
        });
    }
    let risky: Vec<String> = plan
        .resource_changes
        .iter()
        .filter(|c| c.action == Action::Replace || c.action.removes())
        .map(warning)
        .collect();
    if !risky.is_empty() {
        let header =
            "> [!WARNING]\n> **Replacements and removals**: review what they mean for customers.\n>\n"
                .to_owned();
        alerts.push(Alert {
            header,
            items: risky,
        });
    }
    if !plan.notices.is_empty() {
        alerts.push(Alert {
            header: "> [!NOTE]\n".to_owned(),
            items: plan
                .notices
                .iter()
                .map(|n| format!("> - {}\n", inline(n)))
                .collect(),
        });
    }
    alerts
}

/// One replacement or removal as a warning, with its notes.
fn warning(change: &Change) -> String {
    let mut out = format!(
        "> - {} {}",
        code(&change.address),
        change.action.phrase(change.kind)
    );
    match (&change.reason, change.destroy) {
        (Some(reason), _) => out.push_str(&format!(": {}", inline(reason))),
        (None, true) => out.push_str(": removed from billing.toml"),
        (None, false) => {}
    }
    out.push('\n');
    for note in &change.notes {
        out.push_str(&format!(">   - {}\n", inline(note)));
    }
    out
}

/// A change as a collapsible section: its reason, its fields as a diff, its notes.
fn section(change: &Change) -> String {
    let (symbol, verb) = (change.action.symbol(), change.action.verb(change.kind));
    let id = change
        .id
        .as_deref()
        .map(|id| format!(" ({})", html(id)))
        .unwrap_or_default();
    let mut out = format!(
        "<details><summary><code>{}</code> {verb} <code>{}</code> — {}{id}</summary>\n\n",
        html(symbol),
        html(&change.address),
        html(&change.title),
    );
    if let Some(reason) = &change.reason {
        out.push_str(&format!("Why: {}\n\n", inline(reason)));
    }
    let diff = field_diff(change);
    if !diff.is_empty() {
        let fence = "`".repeat(longest_backtick_run(&diff).max(2) + 1);
        out.push_str(&format!("{fence}diff\n{diff}{fence}\n\n"));
    }
    for note in &change.notes {
        out.push_str(&format!("- {}\n", inline(note)));
    }
    if !change.notes.is_empty() {
        out.push('\n');
    }
    out.push_str("</details>\n\n");
    out
}

/// The fields as the lines of a `diff` block: `-` before, `+` after.
fn field_diff(change: &Change) -> String {
    let removal = change.action.removes();
    let fields: Vec<&FieldChange> = change
        .fields
        .iter()
        .filter(|f| !(removal && f.field == "active"))
        .collect();
    let width = fields.iter().map(|f| f.field.len()).max().unwrap_or(0);
    let mut out = String::new();
    for field in fields {
        let mark = if field.forces_replacement {
            "   # forces replacement"
        } else {
            ""
        };
        if change.action != Action::Create
            && (field.before.is_long_text() || field.after.is_long_text())
        {
            out.push_str(&format!("  {}:{mark}\n", field.field));
            let (before, after) = (raw(&field.before), raw(&field.after));
            for line in TextDiff::from_lines(&before, &after).iter_all_changes() {
                let sign = match line.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                let text = line.value().trim_end_matches('\n');
                out.push_str(&format!("{sign}   {text}\n"));
            }
            continue;
        }
        let name = format!("{:width$}", field.field);
        let before = (change.action != Action::Create && field.before != FieldValue::None)
            .then(|| format!("- {name} = {}", field.before));
        let after = (field.after != FieldValue::None || before.is_none())
            .then(|| format!("+ {name} = {}", field.after));
        match (before, after) {
            (Some(before), Some(after)) => {
                out.push_str(&format!("{before}\n{after}{mark}\n"));
            }
            (Some(line), None) | (None, Some(line)) => out.push_str(&format!("{line}{mark}\n")),
            (None, None) => {}
        }
    }
    out
}

/// A value as the lines a line diff compares.
fn raw(value: &FieldValue) -> String {
    match value {
        FieldValue::Text(t) => t.clone(),
        FieldValue::None => String::new(),
        other => other.to_string(),
    }
}

/// What the plan left alone, one paragraph per kind of owner.
fn footer(plan: &PlanDocument) -> String {
    let mut out = String::new();
    let (u, f) = (&plan.unmanaged, &plan.foreign);
    if !u.is_empty() {
        out.push_str(&format!(
            "Left alone: {} without billing's marker.\n\n",
            counts(u)
        ));
    }
    if !f.is_empty() {
        out.push_str(&format!(
            "Left alone: {} managed by other namespaces.\n\n",
            counts(f)
        ));
    }
    out
}

/// Text made safe inside a line of Markdown: on one line, with every character that could
/// start markup escaped.
pub(super) fn inline(text: &str) -> String {
    let text = text.trim();
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            c if c.is_control() => out.push(' '),
            // Within a word, as in `price_m`, an underscore is no emphasis.
            '_' if i > 0
                && chars[i - 1].is_alphanumeric()
                && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric()) =>
            {
                out.push(c);
            }
            // GitHub turns `@name` into a mention and `#12` into a link whatever the escaping:
            // a zero-width space after the sign stops it.
            '@' => out.push_str("@\u{200B}"),
            '#' => out.push_str("\\#\u{200B}"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '$' => {
                out.push('\\');
                out.push(c);
            }
            // A list item or a heading underline if it came first on a line.
            '-' | '+' | '=' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    // An ordered list if it came first on a line: `1. `, `2) `.
    let digits = out.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && matches!(out[digits..].chars().next(), Some('.' | ')')) {
        out.insert(digits, '\\');
    }
    out
}

/// Text as an inline code span, however many backticks it holds.
pub(super) fn code(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let ticks = "`".repeat(longest_backtick_run(&text) + 1);
    if text.starts_with('`') || text.ends_with('`') {
        format!("{ticks} {text} {ticks}")
    } else {
        format!("{ticks}{text}{ticks}")
    }
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Text made safe inside an HTML element, on one line.
fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '@' | '#' => {
                out.push(c);
                out.push('\u{200B}');
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::live::LiveState;
    use crate::live::fixtures::{
        CATALOG, catalog, coupon, live, marker, price, product, unmarked_code,
    };
    use crate::resource::KeyMode;

    fn plan_for(text: &str, state: &LiveState) -> PlanDocument {
        let catalog = catalog(text);
        let plan = crate::plan::plan(&catalog, state).unwrap_or_else(|e| panic!("{e}"));
        PlanDocument::new(&plan, &catalog, state, origin(KeyMode::Test))
    }

    fn origin(mode: KeyMode) -> Origin {
        Origin {
            environment: "sandbox".into(),
            account: "acct_1".into(),
            mode,
        }
    }

    fn render(plan: &PlanDocument, mode: KeyMode) -> String {
        let mut out = Vec::new();
        render_markdown(plan, &origin(mode), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Within GitHub's limit, every code fence closed, every `<details>` closed outside fences.
    fn assert_well_formed(md: &str) {
        assert!(md.starts_with("<!-- billing-plan -->\n"), "{md}");
        assert!(md.chars().count() <= LIMIT, "{} chars", md.chars().count());
        let (mut fence, mut open) = (None, 0);
        for line in md.lines() {
            let ticks = line.chars().take_while(|&c| c == '`').count();
            match fence {
                Some(n) if ticks >= n && line[ticks..].trim().is_empty() => fence = None,
                Some(_) => {}
                None if ticks >= 3 => {
                    fence = Some(ticks);
                    assert_eq!(open, 1, "a fence outside a section: {md}");
                }
                None if line.starts_with("<details>") => {
                    assert_eq!(open, 0, "{md}");
                    open += 1;
                }
                None if line.starts_with("</details>") => {
                    assert_eq!(open, 1, "{md}");
                    open -= 1;
                }
                None => {}
            }
        }
        assert_eq!((fence, open), (None, 0), "{md}");
    }

    #[test]
    fn an_empty_plan_says_so() {
        let mut stray = product();
        stray.id = "prod_dash".into();
        stray.metadata = BTreeMap::new().into();
        stray.default_price = None;
        let plan = plan_for(CATALOG, &live(vec![product(), stray], vec![price()]));
        assert!(plan.is_empty());
        let md = render(&plan, KeyMode::Test);
        assert_well_formed(&md);
        insta::assert_snapshot!(md);
    }

    #[test]
    fn creations() {
        let md = render(&plan_for(CATALOG, &live(vec![], vec![])), KeyMode::Test);
        assert_well_formed(&md);
        insta::assert_snapshot!(md);
    }

    #[test]
    fn replacements_removals_and_objects_in_the_way_come_first() {
        let mut old = product();
        old.id = "prod_old".into();
        old.name = "Old".into();
        old.default_price = None;
        old.metadata = marker("products.old").into();
        let mut state = live(vec![product(), old], vec![price()]);
        state.coupons = vec![coupon("20")];
        // A promotion code made in the Dashboard, without billing's marker.
        state.promotion_codes = vec![unmarked_code("promo_dash", "PARTNER", "launch_old", 100)];
        let plan = plan_for(&CATALOG.replace("79.00", "89.00"), &state);
        let md = render(&plan, KeyMode::Live);
        assert_well_formed(&md);
        insta::assert_snapshot!(md);
    }

    #[test]
    fn user_text_cannot_break_out() {
        let mut p = product();
        p.description = Some("Line one\nLine two".into());
        let catalog = CATALOG
            .replace("name = \"Pro\"", "name = \"Pro | <b>x</b> ``` *y* & `z`\"")
            .replace(
                "description = \"For teams\"",
                "description = \"\"\"Line one\n```\n</details>\n- [x] <script>\"\"\"",
            );
        let md = render(
            &plan_for(&catalog, &live(vec![p], vec![price()])),
            KeyMode::Test,
        );
        assert_well_formed(&md);
        insta::assert_snapshot!(md);
    }

    #[test]
    fn control_characters_are_shown_not_sent_to_the_terminal() {
        let catalog = CATALOG
            .replace("name = \"Pro\"", "name = \"Pro @octocat\"")
            .replace(
                "description = \"For teams\"",
                r#"description = "one\u001b]52;c;aGk=\u0007\ntwo\r\u001b[2J\u009b31m""#,
            );
        let md = render(
            &plan_for(&catalog, &live(vec![product()], vec![price()])),
            KeyMode::Test,
        );
        assert_well_formed(&md);
        assert!(!md.chars().any(|c| c.is_control() && c != '\n'), "{md:?}");
        assert!(md.contains("one␛]52;c;aGk=␇"), "{md}");
        assert!(md.contains("two␍"), "{md}");
        assert!(md.contains("␛[2J<U+009B>31m"), "{md}");
        // The zero-width space that keeps a mention from pinging is the renderer's own.
        assert!(md.contains("@\u{200B}octocat"), "{md}");
    }

    #[test]
    fn inline_text_is_escaped() {
        assert_eq!(inline("Pro | <b>x</b>"), r"Pro \| \<b\>x\</b\>");
        assert_eq!(
            inline("`code` *em* _u_ [l](u) $5 #1 ~s~ &amp;"),
            "\\`code\\` \\*em\\* \\_u\\_ \\[l\\](u) \\$5 \\#\u{200B}1 \\~s\\~ \\&amp;"
        );
        // Mentions and issue references cannot ping or link.
        assert_eq!(inline("@octocat #12"), "@\u{200B}octocat \\#\u{200B}12");
        assert_eq!(html("@octocat #12"), "@\u{200B}octocat #\u{200B}12");
        assert_eq!(inline("- item"), r"\- item");
        assert_eq!(inline("  + item"), r"\+ item");
        assert_eq!(inline("12. item"), r"12\. item");
        assert_eq!(inline("a\nb\r\tc"), "a b  c");
        assert_eq!(inline("price_m _x_ y_"), r"price_m \_x\_ y\_");
        assert_eq!(html("<b>a & b</b>\n"), "&lt;b&gt;a &amp; b&lt;/b&gt; ");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
    }

    fn many_products(n: usize) -> String {
        (0..n)
            .map(|i| {
                format!(
                    "[products.p{i:04}]\nname = \"Product {i}\"\ndescription = \"Number {i}\"\n"
                )
            })
            .collect()
    }

    #[test]
    fn a_huge_plan_is_truncated_between_sections() {
        let plan = plan_for(&many_products(2000), &live(vec![], vec![]));
        let md = render(&plan, KeyMode::Test);
        assert_well_formed(&md);
        let shown = md.matches("<details>").count();
        assert!(shown > 100 && shown < 2000, "{shown}");
        let notice = format!(
            "> [!NOTE]\n> Truncated: {} more changes are not shown (GitHub comments hold 65,536 characters).",
            2000 - shown
        );
        assert!(md.contains(&notice), "{}", &md[md.len() - 400..]);
        assert!(md.contains("**Plan:** 2000 to create, 0 to update"));
    }

    #[test]
    fn too_many_warnings_are_truncated_too() {
        let products: Vec<_> = (0..2000)
            .map(|i| {
                let mut p = product();
                p.id = format!("prod_{i}");
                p.default_price = None;
                p.metadata = marker(&format!("products.p{i:04}")).into();
                p
            })
            .collect();
        let plan = plan_for("", &live(products, vec![]));
        let md = render(&plan, KeyMode::Live);
        assert_well_formed(&md);
        assert_eq!(md.matches("<details>").count(), 0);
        let shown = md.matches("\n> - `products.").count();
        assert!(shown > 100 && shown < 2000, "{shown}");
        assert!(
            md.contains(&format!(
                "> Truncated: {} more warnings and 2000 more changes are not shown",
                2000 - shown
            )),
            "{}",
            &md[md.len() - 400..]
        );
    }

    #[test]
    fn truncation_keeps_whole_sections() {
        let plan = plan_for(&many_products(3), &live(vec![], vec![]));
        let comment = Comment::new(&plan, &origin(KeyMode::Test));
        let full = comment.fit(LIMIT);
        let cut = comment.fit(full.chars().count() - 1);
        assert_well_formed(&cut);
        // Whole sections only: the last one (and any the notice needs room from) is left out.
        let shown = cut.matches("<details>").count();
        assert!((1..3).contains(&shown), "{cut}");
        assert!(
            cut.contains(&format!("Truncated: {} more changes", 3 - shown)),
            "{cut}"
        );
        insta::assert_snapshot!(cut);
    }

    #[test]
    fn rendering_is_deterministic() {
        let plan = plan_for(&many_products(50), &live(vec![product()], vec![price()]));
        let first = render(&plan, KeyMode::Test);
        for _ in 0..3 {
            assert_eq!(render(&plan, KeyMode::Test), first);
        }
    }
}
