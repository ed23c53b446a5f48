//! Validation of `[tax]` and `[tax_rates.<key>]`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::super::diagnostic::{Diagnostic, Sink};
use super::super::model::OnRemove;
use super::super::money::parse_decimal;
use super::super::raw_tax::{RawTax, RawTaxRate, When};
use super::super::reader::Sp;
use super::super::tax::{
    CA_PROVINCES, COUNTRIES, DEFAULT_TAX_BEHAVIORS, RETAIL_DELIVERY_FEE_STATES, Registration,
    TAX_TYPES, TaxRate, TaxSettings, US_STATE_LEVEL_TYPES, US_STATES, registration_types,
};
use super::fields;
use crate::catalog::PostalAddress;

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
    let default_tax_behavior = raw.default_tax_behavior.as_ref().and_then(|v| {
        fields::one_of(
            sink,
            "default_tax_behavior",
            v,
            DEFAULT_TAX_BEHAVIORS,
            |t| {
                DEFAULT_TAX_BEHAVIORS
                    .iter()
                    .find(|b| **b == t)
                    .map(|b| (*b).to_owned())
            },
        )
    });
    let default_tax_code = raw
        .default_tax_code
        .filter(|c| tax_code(sink, "default_tax_code", c))
        .map(Sp::into_inner);
    let head_office = raw.head_office.and_then(|a| {
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
    });
    let mut registrations: Vec<Registration> = Vec::new();
    for r in raw.registrations {
        let Some(c) = r
            .country
            .as_ref()
            .and_then(|c| country(sink, c))
            .or_else(|| {
                if r.country.is_none() {
                    sink.push(Diagnostic::new(
                        r.span.clone(),
                        "a tax registration needs `country`",
                    ));
                }
                None
            })
        else {
            continue;
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
            continue;
        }
        let Some(kind) = (match &r.kind {
            Some(k) => fields::one_of(sink, "type", k, types, |t| {
                types.iter().find(|x| **x == t).map(|x| (*x).to_owned())
            }),
            None => {
                sink.push(
                    Diagnostic::new(
                        r.span.clone(),
                        format!("a tax registration in {c} needs `type`"),
                    )
                    .hint(format!("one of: {}", types.join(", "))),
                );
                None
            }
        }) else {
            continue;
        };
        if c == "US" && !US_STATE_LEVEL_TYPES.contains(&kind.as_str()) {
            if let Some(k) = &r.kind {
                sink.push(
                    Diagnostic::new(k.span(), format!("`{kind}` is a local tax registered per jurisdiction, which billing.toml cannot declare yet"))
                        .label("needs a jurisdiction")
                        .hint(format!("register it in the Stripe Dashboard (billing leaves registrations it does not declare alone), or use one of: {}", US_STATE_LEVEL_TYPES.join(", "))),
                );
            }
            continue;
        }
        let state = match (needs(&kind), &r.state) {
            (Some(what), None) => {
                sink.push(Diagnostic::new(
                    r.span.clone(),
                    format!("a {c} `{kind}` registration needs `{what}`"),
                ));
                continue;
            }
            (None, Some(s)) => {
                sink.push(Diagnostic::new(
                    s.span(),
                    format!("a {c} `{kind}` registration takes no state or province"),
                ));
                continue;
            }
            (Some(what), Some(s)) => {
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
                    continue;
                }
                if kind == "state_retail_delivery_fee"
                    && !RETAIL_DELIVERY_FEE_STATES.contains(&code.as_str())
                {
                    sink.push(
                        Diagnostic::new(s.span(), format!("{code} levies no retail delivery fee"))
                            .hint(format!(
                                "Stripe Tax registers the fee in {}",
                                RETAIL_DELIVERY_FEE_STATES.join(" and ")
                            )),
                    );
                    continue;
                }
                Some(code)
            }
            (None, None) => None,
        };
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
            continue;
        }
        let registration = Registration {
            country: c,
            kind,
            state,
            active_from,
            ends_at,
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

/// Validates one `[tax_rates.<key>]`.
pub(crate) fn tax_rate(sink: &Sink, raw: RawTaxRate) -> Option<TaxRate> {
    let key_ok = fields::check_key(sink, &raw.key, "tax rate");
    let display_name = match raw.display_name {
        Some(n) if !n.get_ref().trim().is_empty() => {
            fields::text(sink, "display_name", Some(n), 50)
        }
        Some(n) => {
            sink.push(Diagnostic::new(n.span(), "`display_name` cannot be empty"));
            None
        }
        None if raw.incomplete => None,
        None => {
            sink.push(
                Diagnostic::new(
                    raw.span.clone(),
                    format!("tax rate `{}` has no `display_name`", raw.key.get_ref()),
                )
                .hint("add display_name = \"VAT\": customers see it on invoices"),
            );
            None
        }
    };
    let percentage = match &raw.percentage {
        Some(p) => match parse_decimal(p.get_ref()) {
            Ok(d) if d <= Decimal::ONE_HUNDRED && d.normalize().scale() <= 4 => Some(d.normalize()),
            Ok(d) if d.normalize().scale() > 4 => {
                sink.push(Diagnostic::new(
                    p.span(),
                    "`percentage` takes at most 4 decimal places",
                ));
                None
            }
            Ok(_) => {
                sink.push(
                    Diagnostic::new(p.span(), "`percentage` must be between 0 and 100")
                        .label("out of range"),
                );
                None
            }
            Err(e) => {
                sink.push(
                    Diagnostic::new(p.span(), format!("`percentage`: {e}"))
                        .label("not a percentage"),
                );
                None
            }
        },
        None if raw.incomplete => None,
        None => {
            sink.push(
                Diagnostic::new(
                    raw.span.clone(),
                    format!("tax rate `{}` has no `percentage`", raw.key.get_ref()),
                )
                .hint("add percentage = 19"),
            );
            None
        }
    };
    let inclusive = match &raw.inclusive {
        Some(i) => Some(*i.get_ref()),
        None if raw.incomplete => None,
        None => {
            sink.push(
                Diagnostic::new(raw.span.clone(), format!("tax rate `{}` has no `inclusive`", raw.key.get_ref()))
                    .hint("add inclusive = false when the rate is added on top of prices, true when prices include it"),
            );
            None
        }
    };
    let country = raw.country.as_ref().and_then(|c| country(sink, c));
    let state = raw.state.and_then(|st| {
        let text = st.get_ref();
        let problem = if raw.country.is_none() {
            Some("a `state` needs the rate's `country`".to_owned())
        } else if text.is_empty() || text.len() > 3 || !text.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            Some(format!("`state` \"{text}\" is not a subdivision code such as \"NY\""))
        } else if country.as_deref() == Some("US") && !US_STATES.contains(&text.as_str()) {
            Some(format!("`{text}` is not a US state"))
        } else {
            None
        };
        match problem {
            Some(message) => {
                sink.push(
                    Diagnostic::new(st.span(), message)
                        .hint("an ISO 3166-2 subdivision code without the country prefix, in capitals, with `country` set: country = \"US\", state = \"NY\""),
                );
                None
            }
            None => Some(st.into_inner()),
        }
    });
    let tax_type = raw.tax_type.as_ref().and_then(|t| {
        fields::one_of(sink, "tax_type", t, TAX_TYPES, |x| {
            TAX_TYPES.iter().find(|y| **y == x).map(|y| (*y).to_owned())
        })
    });
    let jurisdiction = fields::text(sink, "jurisdiction", raw.jurisdiction, 50);
    let description = fields::text(sink, "description", raw.description, 5000);
    fields::id_or_moved_from(sink, raw.id.as_ref(), raw.moved_from.as_ref(), false);
    let metadata = fields::metadata_with_room(sink, raw.metadata, raw.on_remove.as_ref());
    let on_remove = fields::on_remove(
        sink,
        raw.on_remove.as_ref(),
        &["archive", "forget"],
        OnRemove::Archive,
    );
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

/// Tax rates by key.
pub(crate) fn tax_rates(sink: &Sink, raw: Vec<RawTaxRate>) -> BTreeMap<String, TaxRate> {
    fields::unique_ids(
        sink,
        &raw.iter()
            .filter_map(|r| Some((format!("tax_rates.{}", r.key.get_ref()), r.id.as_ref()?)))
            .collect::<Vec<_>>(),
    );
    fields::renames(
        sink,
        "tax_rates",
        &raw.iter()
            .map(|r| (r.key.get_ref().as_str(), r.moved_from.as_ref()))
            .collect::<Vec<_>>(),
    );
    raw.into_iter()
        .filter_map(|r| tax_rate(sink, r))
        .map(|r| (r.key.clone(), r))
        .collect()
}
