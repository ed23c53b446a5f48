//! Validation of `[tax]` and `[tax_rates.<key>]`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::super::diagnostic::{Diagnostic, Sink};
use super::super::raw_tax::{RawAddress, RawRegistration, RawTax, RawTaxRate, When};
use super::super::reader::Sp;
use super::super::tax::{
    CA_PROVINCES, COUNTRIES, DEFAULT_TAX_BEHAVIORS, RETAIL_DELIVERY_FEE_STATES, Registration,
    TAX_TYPES, TaxRate, TaxSettings, US_STATE_LEVEL_TYPES, US_STATES, registration_types,
};
use super::fields;
use crate::catalog::PostalAddress;
use crate::resource::{Address, ResourceKind};

/// A Stripe tax code: `txcd_` and 8 digits.
pub(crate) fn tax_code(sink: &Sink, field: &str, code: &Sp<String>) -> bool {
    let text = code.get_ref();
    let valid = text
        .strip_prefix("txcd_")
        .is_some_and(|digits| digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit()));
    if !valid {
        sink.push(
            Diagnostic::new(code.span(), format!("`{field}` \"{text}\" is not a Stripe tax code"))
                .label("expected txcd_ followed by 8 digits")
                .hint("pick a code from https://stripe.com/docs/tax/tax-categories, e.g. \"txcd_10103001\" (SaaS)"),
        );
    }
    valid
}

/// An ISO 3166-1 alpha-2 country code, in capitals.
pub(crate) fn country(sink: &Sink, code: &Sp<String>) -> Option<String> {
    let text = code.get_ref();
    if COUNTRIES.contains(&text.as_str()) {
        return Some(text.clone());
    }
    let upper = text.to_ascii_uppercase();
    let d = Diagnostic::new(
        code.span(),
        format!("`{text}` is not an ISO 3166-1 country code"),
    )
    .label("unknown country");
    sink.push(if COUNTRIES.contains(&upper.as_str()) {
        d.hint(format!("write it in capitals: \"{upper}\""))
    } else {
        d.hint("use a two-letter code such as \"US\", \"DE\" or \"GB\"")
    });
    None
}

/// Validates `[tax]`.
pub(crate) fn settings(sink: &Sink, raw: RawTax) -> TaxSettings {
    let default_tax_behavior = raw
        .default_tax_behavior
        .as_ref()
        .and_then(|v| fields::word(sink, "default_tax_behavior", v, DEFAULT_TAX_BEHAVIORS));
    let default_tax_code = raw
        .default_tax_code
        .filter(|c| tax_code(sink, "default_tax_code", c))
        .map(Sp::into_inner);
    let head_office = raw.head_office.and_then(|a| head_office(sink, a));
    let mut registrations: Vec<Registration> = Vec::new();
    for r in raw.registrations {
        let Some(registration) = registration(sink, &r) else {
            continue;
        };
        if registrations
            .iter()
            .any(|x| x.label() == registration.label())
        {
            sink.push(Diagnostic::new(
                r.span.clone(),
                format!(
                    "the registration {} is declared twice",
                    registration.label()
                ),
            ));
            continue;
        }
        registrations.push(registration);
    }
    TaxSettings {
        default_tax_behavior,
        default_tax_code,
        head_office,
        registrations,
    }
}

/// `head_office`: an address with a country.
fn head_office(sink: &Sink, a: RawAddress) -> Option<PostalAddress> {
    let country = match &a.country {
        Some(c) => country(sink, c),
        None => {
            sink.push(
                Diagnostic::new(a.span.clone(), "`head_office` needs `country`")
                    .hint("add country = \"US\" (a two-letter code)"),
            );
            None
        }
    };
    Some(PostalAddress {
        line1: a.line1.map(Sp::into_inner),
        line2: a.line2.map(Sp::into_inner),
        city: a.city.map(Sp::into_inner),
        state: a.state.map(Sp::into_inner),
        postal_code: a.postal_code.map(Sp::into_inner),
        country: country?,
    })
}

/// One registration: a country Stripe Tax registers in, one of its types, the state or
/// province the type needs, and when it is active.
fn registration(sink: &Sink, r: &RawRegistration) -> Option<Registration> {
    let c = match &r.country {
        Some(c) => country(sink, c)?,
        None => {
            sink.push(Diagnostic::new(
                r.span.clone(),
                "a tax registration needs `country`",
            ));
            return None;
        }
    };
    let (types, needs) = registration_types(&c);
    if types.is_empty() {
        if let Some(span) = r.country.as_ref().map(|c| c.span()) {
            sink.push(
                Diagnostic::new(span, format!("Stripe Tax takes no registrations in {c}"))
                    .label("no registration types")
                    .hint("see https://docs.stripe.com/tax/supported-countries"),
            );
        }
        return None;
    }
    let kind = registration_kind(sink, r, &c, types)?;
    let state = match (needs(&kind), &r.state) {
        (Some(what), None) => {
            sink.push(Diagnostic::new(
                r.span.clone(),
                format!("a {c} `{kind}` registration needs `{what}`"),
            ));
            return None;
        }
        (None, Some(s)) => {
            sink.push(Diagnostic::new(
                s.span(),
                format!("a {c} `{kind}` registration takes no state or province"),
            ));
            return None;
        }
        (Some(what), Some(s)) => Some(registration_state(sink, s, what, &kind)?),
        (None, None) => None,
    };
    let (active_from, ends_at) = registration_dates(sink, r)?;
    Some(Registration {
        country: c,
        kind,
        state,
        active_from,
        ends_at,
    })
}

/// A registration's `type`: one of `types`, those of its country `c` (in the US, one
/// registered per state).
fn registration_kind(
    sink: &Sink,
    r: &RawRegistration,
    c: &str,
    types: &[&'static str],
) -> Option<String> {
    let Some(k) = &r.kind else {
        sink.push(
            Diagnostic::new(
                r.span.clone(),
                format!("a tax registration in {c} needs `type`"),
            )
            .hint(format!("one of: {}", types.join(", "))),
        );
        return None;
    };
    let kind = fields::word(sink, "type", k, types)?;
    if c == "US" && !US_STATE_LEVEL_TYPES.contains(&kind.as_str()) {
        sink.push(
            Diagnostic::new(k.span(), format!("`{kind}` is a local tax registered per jurisdiction, which billing.toml cannot declare yet"))
                .label("needs a jurisdiction")
                .hint(format!("register it in the Stripe Dashboard (billing leaves registrations it does not declare alone), or use one of: {}", US_STATE_LEVEL_TYPES.join(", "))),
        );
        return None;
    }
    Some(kind)
}

/// The state (US) or province (Canada) a registration of `kind` needs (`what` names which),
/// in capitals.
fn registration_state(sink: &Sink, s: &Sp<String>, what: &str, kind: &str) -> Option<String> {
    let code = s.get_ref().to_ascii_uppercase();
    let known = if what == "state" {
        US_STATES
    } else {
        CA_PROVINCES
    };
    if !known.contains(&code.as_str()) {
        sink.push(
            Diagnostic::new(
                s.span(),
                format!("`{}` is not a {what} Stripe Tax registers", s.get_ref()),
            )
            .label(format!("unknown {what}"))
            .hint(format!("one of: {}", known.join(", "))),
        );
        return None;
    }
    if kind == "state_retail_delivery_fee" && !RETAIL_DELIVERY_FEE_STATES.contains(&code.as_str()) {
        sink.push(
            Diagnostic::new(s.span(), format!("{code} levies no retail delivery fee")).hint(
                format!(
                    "Stripe Tax registers the fee in {}",
                    RETAIL_DELIVERY_FEE_STATES.join(" and ")
                ),
            ),
        );
        return None;
    }
    Some(code)
}

/// When a registration starts (`None`: now) and ends (`Some(None)`: now), not ending before
/// it starts.
type Dates = (Option<i64>, Option<Option<i64>>);

/// A registration's `active_from` and `ends_at`.
fn registration_dates(sink: &Sink, r: &RawRegistration) -> Option<Dates> {
    let active_from = match r.active_from.as_ref().map(|w| *w.get_ref()) {
        None | Some(When::Now) => None,
        Some(When::At(t)) => Some(t),
    };
    let ends_at = r.ends_at.as_ref().map(|w| match *w.get_ref() {
        When::Now => None,
        When::At(t) => Some(t),
    });
    if let (Some(from), Some(Some(end)), Some(span)) =
        (active_from, ends_at, r.ends_at.as_ref().map(|e| e.span()))
        && end < from
    {
        sink.push(
            Diagnostic::new(span, "`ends_at` is before `active_from`")
                .label("ends before it starts")
                .hint("a registration ends at or after its start"),
        );
        return None;
    }
    Some((active_from, ends_at))
}

/// Validates one `[tax_rates.<key>]`.
pub(crate) fn tax_rate(sink: &Sink, raw: RawTaxRate) -> Option<TaxRate> {
    let key_ok = fields::check_key(sink, &raw.key, "tax rate");
    let key = raw.key.get_ref();
    let missing = |field: &str, hint: &str| {
        Diagnostic::new(
            raw.span.clone(),
            format!("tax rate `{key}` has no `{field}`"),
        )
        .hint(hint)
    };
    let display_name = fields::required(sink, raw.display_name, raw.incomplete, || {
        missing(
            "display_name",
            "add display_name = \"VAT\": customers see it on invoices",
        )
    })
    .and_then(|n| fields::nonblank(sink, "display_name", n, 50, |d| d));
    let percentage = fields::required(sink, raw.percentage.as_ref(), raw.incomplete, || {
        missing("percentage", "add percentage = 19")
    })
    .and_then(|p| fields::percent(sink, "percentage", p, (4, Decimal::ZERO), |d| d));
    let inclusive = fields::required(sink, raw.inclusive.as_ref(), raw.incomplete, || {
        missing("inclusive", "add inclusive = false when the rate is added on top of prices, true when prices include it")
    })
    .map(|i| *i.get_ref());
    let country = raw.country.as_ref().and_then(|c| country(sink, c));
    let state = raw
        .state
        .and_then(|st| state(sink, st, raw.country.is_some(), country.as_deref()));
    let tax_type = raw
        .tax_type
        .as_ref()
        .and_then(|t| fields::word(sink, "tax_type", t, TAX_TYPES));
    let jurisdiction = fields::text(sink, "jurisdiction", raw.jurisdiction, 50);
    let description = fields::text(sink, "description", raw.description, 5000);
    fields::id_or_moved_from(sink, raw.id.as_ref(), raw.moved_from.as_ref(), false);
    let (metadata, on_remove) = fields::archivable(sink, raw.metadata, raw.on_remove.as_ref());
    let rate = TaxRate {
        id: fields::adopt_id(sink, raw.id, "txr_", "tax rate"),
        moved_from: fields::moved_from(sink, raw.moved_from, "tax rate"),
        on_remove: on_remove?,
        key: raw.key.into_inner(),
        display_name: display_name?,
        percentage: percentage?,
        inclusive: inclusive?,
        active: raw.active.is_none_or(|a| *a.get_ref()),
        country,
        state,
        jurisdiction,
        tax_type,
        description,
        metadata,
    };
    key_ok.then_some(rate)
}

/// A tax rate's `state`: a subdivision code of its `country` (`has_country`: one is
/// written; `country`: the valid one).
fn state(sink: &Sink, st: Sp<String>, has_country: bool, country: Option<&str>) -> Option<String> {
    let text = st.get_ref();
    let problem = if !has_country {
        "a `state` needs the rate's `country`".to_owned()
    } else if text.is_empty()
        || text.len() > 3
        || !text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        format!("`state` \"{text}\" is not a subdivision code such as \"NY\"")
    } else if country == Some("US") && !US_STATES.contains(&text.as_str()) {
        format!("`{text}` is not a US state")
    } else {
        return Some(st.into_inner());
    };
    sink.push(
        Diagnostic::new(st.span(), problem)
            .hint("an ISO 3166-2 subdivision code without the country prefix, in capitals, with `country` set: country = \"US\", state = \"NY\""),
    );
    None
}

/// `tax_rates.<key>`.
fn tax_rate_address(key: &str) -> Address {
    Address::new(ResourceKind::TaxRate, key)
}

/// Tax rates by key.
pub(crate) fn tax_rates(sink: &Sink, raw: Vec<RawTaxRate>) -> BTreeMap<String, TaxRate> {
    let ids = raw
        .iter()
        .map(|r| (&r.key, r.id.as_ref(), r.moved_from.as_ref()));
    fields::ids_and_renames(sink, tax_rate_address, ids);
    raw.into_iter()
        .filter_map(|r| tax_rate(sink, r))
        .map(|r| (r.key.clone(), r))
        .collect()
}
