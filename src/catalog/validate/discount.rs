//! Validation of coupons and promotion codes, and of the references between them and products.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::super::diagnostic::{Diagnostic, Sink};
use super::super::model::{
    Coupon, CouponDuration, Discount, DurationKind, OnRemove, Percent, PromotionCode,
};
use super::super::money::parse_decimal;
use super::super::raw::RawAmounts;
use super::super::raw_discount::{RawCoupon, RawPromotionCode};
use super::super::reader::{Sp, suggest};
use super::fields::{self, AmountNames};

const MAX_COUPON_NAME: usize = 40;
const MAX_CODE: usize = 500;

const AMOUNT_OFF: AmountNames = AmountNames {
    major: "amount_off",
    minor: "unit_amount_off",
    decimal: "unit_amount_off",
};

const MINIMUM_AMOUNT: AmountNames = AmountNames {
    major: "minimum_amount",
    minor: "minimum_amount",
    decimal: "minimum_amount",
};

fn positive(sink: &Sink, field: &str, value: &Option<Sp<i64>>) -> Option<u64> {
    let v = value.as_ref()?;
    match u64::try_from(*v.get_ref()) {
        Ok(n) if n >= 1 => Some(n),
        _ => {
            sink.push(
                Diagnostic::new(v.span(), format!("`{field}` must be at least 1"))
                    .label("not a positive count"),
            );
            None
        }
    }
}

fn reference(sink: &Sink, what: &str, name: &Sp<String>, known: &[&str]) -> bool {
    if known.contains(&name.get_ref().as_str()) {
        return true;
    }
    let address = format!("{what}s.{}", name.get_ref());
    if sink.missing_reference(
        name.span(),
        &format!("{what} `{}`", name.get_ref()),
        &address,
    ) {
        return false;
    }
    let d = Diagnostic::new(
        name.span(),
        format!("no {what} `{}` in billing.toml", name.get_ref()),
    )
    .label(format!("unknown {what} key"));
    sink.push(match suggest(name.get_ref(), known) {
        Some(best) => d.hint(format!("did you mean `{best}`?")),
        None => d.hint(format!("declare it as [{what}s.{}]", name.get_ref())),
    });
    false
}

/// Validates one coupon against Stripe's rules and the catalog's product keys.
pub(crate) fn coupon(sink: &Sink, raw: RawCoupon, products: &[&str]) -> Option<Coupon> {
    let key_ok = fields::check_key(sink, &raw.key, "coupon");
    if let Some(id) = &raw.id {
        let text = id.get_ref();
        if text.is_empty()
            || text.len() > 200
            || !text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            sink.push(
                Diagnostic::new(
                    id.span(),
                    "`id` must be 1 to 200 letters, digits, `_` or `-`",
                )
                .hint("set `id` only to pin the coupon to an existing Stripe coupon id"),
            );
        }
    }
    let name = fields::text(sink, "name", raw.name, MAX_COUPON_NAME);

    let amounts = RawAmounts {
        amount: raw.amount_off.clone(),
        unit_amount: raw.unit_amount_off.clone(),
        unit_amount_decimal: None,
    };
    let discount = match (&raw.percent_off, amounts.is_empty()) {
        (Some(p), true) => {
            if !raw.currency_options.is_empty() {
                sink.push(
                    Diagnostic::new(
                        raw.currency_options[0].currency.span(),
                        "`currency_options` only go with `amount_off`",
                    )
                    .hint("a percentage applies in every currency"),
                );
            }
            let percent = match parse_decimal(p.get_ref()) {
                Ok(d) if d.normalize().scale() > 2 => {
                    sink.push(
                        Diagnostic::new(p.span(), "`percent_off` takes at most 2 decimal places")
                            .label("too precise")
                            .hint("Stripe stores percentages such as 33.33"),
                    );
                    None
                }
                Ok(d) if d >= Decimal::new(1, 2) && d <= Decimal::ONE_HUNDRED => {
                    Some(Percent(d.normalize()))
                }
                Ok(_) => {
                    sink.push(
                        Diagnostic::new(p.span(), "`percent_off` must be between 0.01 and 100")
                            .label("out of range"),
                    );
                    None
                }
                Err(e) => {
                    sink.push(
                        Diagnostic::new(p.span(), format!("`percent_off`: {e}"))
                            .label("not a percentage"),
                    );
                    None
                }
            };
            if let Some(c) = &raw.currency {
                sink.push(
                    Diagnostic::new(c.span(), "`currency` only goes with `amount_off`")
                        .hint("a percentage applies in every currency"),
                );
            }
            percent.map(Discount::PercentOff)
        }
        (None, false) => {
            let currency = match &raw.currency {
                Some(c) => fields::currency(sink, c),
                None => {
                    sink.push(
                        Diagnostic::new(
                            raw.span.clone(),
                            "a coupon with `amount_off` needs `currency`",
                        )
                        .hint("add `currency = \"usd\"` (or another three-letter code)"),
                    );
                    None
                }
            };
            let amount =
                fields::amount(sink, amounts, &AMOUNT_OFF, currency, raw.span.clone(), true);
            let amount = amount.filter(|a| {
                if a.decimal().is_zero() {
                    sink.push(Diagnostic::new(
                        raw.span.clone(),
                        "`amount_off` must be above 0",
                    ));
                    false
                } else {
                    true
                }
            });
            let mut options = BTreeMap::new();
            for option in raw.currency_options {
                let Some(c) = fields::currency(sink, &option.currency) else {
                    continue;
                };
                if Some(c) == currency {
                    sink.push(Diagnostic::new(
                        option.currency.span(),
                        format!(
                            "`{}` is the coupon's own currency",
                            option.currency.get_ref()
                        ),
                    ));
                    continue;
                }
                let amounts = RawAmounts {
                    amount: option.amount_off,
                    unit_amount: option.unit_amount_off,
                    unit_amount_decimal: None,
                };
                if let Some(a) = fields::amount(
                    sink,
                    amounts,
                    &AMOUNT_OFF,
                    Some(c),
                    option.span.clone(),
                    true,
                ) {
                    options.insert(c, a);
                }
            }
            match (currency, amount) {
                (Some(currency), Some(amount)) => Some(Discount::AmountOff {
                    currency,
                    amount,
                    currency_options: options,
                }),
                _ => None,
            }
        }
        (Some(p), false) => {
            sink.push(
                Diagnostic::new(
                    p.span(),
                    "give either `percent_off` or `amount_off`, not both",
                )
                .label("two discounts")
                .hint("a coupon takes off a percentage or a fixed amount"),
            );
            None
        }
        (None, true) => {
            if !raw.incomplete {
                sink.push(
                    Diagnostic::new(
                        raw.span.clone(),
                        format!("coupon `{}` has no discount", raw.key.get_ref()),
                    )
                    .label("missing `percent_off` or `amount_off`")
                    .hint("add `percent_off = 20` or `amount_off = \"10.00\"` with `currency`"),
                );
            }
            None
        }
    };

    let kind = raw.duration.as_ref().map_or(Some(DurationKind::Once), |d| {
        fields::one_of(sink, "duration", d, DurationKind::ALL, DurationKind::parse)
    });
    let duration = match (kind, &raw.duration_in_months) {
        (Some(DurationKind::Repeating), Some(m)) => match u32::try_from(*m.get_ref()) {
            Ok(months) if months >= 1 => Some(CouponDuration::Repeating { months }),
            _ => {
                sink.push(Diagnostic::new(
                    m.span(),
                    "`duration_in_months` must be at least 1",
                ));
                None
            }
        },
        (Some(DurationKind::Repeating), None) => {
            sink.push(
                Diagnostic::new(
                    raw.duration.as_ref().map_or(raw.span.clone(), Sp::span),
                    "a repeating coupon needs `duration_in_months`",
                )
                .hint("add `duration_in_months = 3`"),
            );
            None
        }
        (Some(other), Some(m)) => {
            sink.push(
                Diagnostic::new(m.span(), format!("`duration_in_months` only goes with `duration = \"repeating\"`, not {other:?}", other = other.as_str()))
                    .hint("set `duration = \"repeating\"` or remove `duration_in_months`"),
            );
            None
        }
        (Some(DurationKind::Once), None) => Some(CouponDuration::Once),
        (Some(DurationKind::Forever), None) => Some(CouponDuration::Forever),
        (None, _) => None,
    };
    let max_redemptions = positive(sink, "max_redemptions", &raw.max_redemptions);
    let mut applies_to: Vec<String> = Vec::new();
    for k in raw.applies_to.map(Sp::into_inner).unwrap_or_default() {
        if applies_to.contains(k.get_ref()) {
            sink.push(Diagnostic::new(
                k.span(),
                format!("product `{}` is listed twice in `applies_to`", k.get_ref()),
            ));
        } else if reference(sink, "product", &k, products) {
            applies_to.push(k.into_inner());
        }
    }
    let on_remove = fields::on_remove(
        sink,
        raw.on_remove.as_ref(),
        &["delete", "keep", "forget"],
        OnRemove::Delete,
    );
    fields::id_or_moved_from(sink, raw.id.as_ref(), raw.moved_from.as_ref(), true);
    let metadata = fields::metadata_with_room(sink, raw.metadata, raw.on_remove.as_ref());
    let coupon = Coupon {
        key: raw.key.into_inner(),
        id: raw.id.map(Sp::into_inner),
        name,
        discount: discount?,
        duration: duration?,
        max_redemptions,
        redeem_by: raw.redeem_by.map(Sp::into_inner),
        applies_to,
        metadata,
        on_remove: on_remove?,
        moved_from: fields::moved_from(sink, raw.moved_from, "coupon"),
    };
    key_ok.then_some(coupon)
}

/// Validates one promotion code against Stripe's rules and its coupon.
pub(crate) fn promotion_code(
    sink: &Sink,
    raw: RawPromotionCode,
    coupons: &BTreeMap<String, Coupon>,
    coupon_keys: &[&str],
) -> Option<PromotionCode> {
    let (code, code_span) = match &raw.code {
        Some(c) => (c.get_ref().clone(), c.span()),
        None => (raw.key.get_ref().clone(), raw.key.span()),
    };
    if raw.code.is_some() {
        let key = raw.key.get_ref();
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            sink.push(Diagnostic::new(
                raw.key.span(),
                format!("promotion code key `{key}` may only contain letters, digits, `_` and `-`"),
            ));
        }
    }
    let code_ok = !code.is_empty()
        && code.len() <= MAX_CODE
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !code_ok {
        sink.push(
            Diagnostic::new(code_span, format!("promotion code `{code}` may only contain letters, digits and `-` (1 to {MAX_CODE})"))
                .label("Stripe refuses this code")
                .hint("customers type this code: keep it short, e.g. LAUNCH20"),
        );
    }
    let coupon = match &raw.coupon {
        Some(c) => reference(sink, "coupon", c, coupon_keys).then(|| c.get_ref().clone()),
        None => {
            if !raw.incomplete {
                sink.push(
                    Diagnostic::new(
                        raw.span.clone(),
                        format!("promotion code `{code}` has no `coupon`"),
                    )
                    .hint("add `coupon = \"<coupon key>\"`"),
                );
            }
            None
        }
    };
    let declared_coupon = coupon.as_ref().and_then(|c| coupons.get(c));
    let max_redemptions = positive(sink, "max_redemptions", &raw.max_redemptions);
    if let (Some(max), Some(c), Some(span)) = (
        max_redemptions,
        declared_coupon,
        raw.max_redemptions.as_ref().map(Sp::span),
    ) && c.max_redemptions.is_some_and(|cmax| max > cmax)
    {
        sink.push(
            Diagnostic::new(
                span,
                format!(
                    "`max_redemptions` is above its coupon's ({})",
                    c.max_redemptions.unwrap_or_default()
                ),
            )
            .hint("a promotion code cannot be redeemed more often than its coupon"),
        );
    }
    if let (Some(at), Some(c)) = (&raw.expires_at, declared_coupon)
        && c.redeem_by.is_some_and(|by| *at.get_ref() > by)
    {
        sink.push(
            Diagnostic::new(at.span(), "`expires_at` is after its coupon's `redeem_by`").hint(
                "a promotion code cannot outlive its coupon: move `expires_at` before `redeem_by`",
            ),
        );
    }
    let minimum_currency = raw
        .minimum_amount_currency
        .as_ref()
        .and_then(|c| fields::currency(sink, c));
    let minimum_amount = match (&raw.minimum_amount, &raw.minimum_amount_currency) {
        (Some(a), Some(_)) => {
            let amounts = RawAmounts {
                amount: Some(a.clone()),
                unit_amount: None,
                unit_amount_decimal: None,
            };
            fields::amount(
                sink,
                amounts,
                &MINIMUM_AMOUNT,
                minimum_currency,
                a.span(),
                true,
            )
            .and_then(|amount| minimum_currency.map(|c| (c, amount)))
        }
        (Some(a), None) => {
            sink.push(
                Diagnostic::new(a.span(), "`minimum_amount` needs `minimum_amount_currency`")
                    .hint("add `minimum_amount_currency = \"usd\"`"),
            );
            None
        }
        (None, Some(c)) => {
            sink.push(Diagnostic::new(
                c.span(),
                "`minimum_amount_currency` without `minimum_amount`",
            ));
            None
        }
        (None, None) => None,
    };
    let mut minimum_amount_options = BTreeMap::new();
    for (currency, amount) in raw.currency_options {
        let Some(c) = fields::currency(sink, &currency) else {
            continue;
        };
        if minimum_amount.is_none() {
            sink.push(
                Diagnostic::new(
                    currency.span(),
                    "minimum amounts in other currencies need `minimum_amount`",
                )
                .hint("set `minimum_amount` and `minimum_amount_currency` first"),
            );
            continue;
        }
        if Some(c) == minimum_currency {
            sink.push(Diagnostic::new(
                currency.span(),
                format!(
                    "`{}` is already `minimum_amount_currency`",
                    currency.get_ref()
                ),
            ));
            continue;
        }
        let amounts = RawAmounts {
            amount: Some(amount.clone()),
            unit_amount: None,
            unit_amount_decimal: None,
        };
        if let Some(a) =
            fields::amount(sink, amounts, &MINIMUM_AMOUNT, Some(c), amount.span(), true)
        {
            minimum_amount_options.insert(c, a);
        }
    }
    if let Some(customer) = &raw.customer {
        let text = customer.get_ref();
        if !text.starts_with("cus_")
            || text.len() < 5
            || !text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            sink.push(Diagnostic::new(
                customer.span(),
                "`customer` must be a Stripe customer id such as \"cus_NffrFeUfNV2Hib\"",
            ));
        }
    }
    let metadata = fields::metadata(sink, raw.metadata);
    let key = raw.key.into_inner();
    Some(PromotionCode {
        key,
        code,
        coupon: coupon?,
        active: raw.active.is_none_or(|a| *a.get_ref()),
        max_redemptions,
        expires_at: raw.expires_at.map(Sp::into_inner),
        first_time_transaction: raw.first_time_transaction.is_some_and(|f| *f.get_ref()),
        minimum_amount,
        minimum_amount_options,
        customer: raw.customer.map(Sp::into_inner),
        metadata,
    })
    .filter(|_| code_ok)
}

/// Codes are unique among active codes, ignoring case: the catalog's codes must be too.
pub(crate) fn unique_codes(
    sink: &Sink,
    codes: &[(String, Option<String>, std::ops::Range<usize>)],
) {
    let mut seen: Vec<(String, Option<String>)> = Vec::new();
    for (code, customer, span) in codes {
        let upper = code.to_uppercase();
        // A code without a customer clashes with the same code for any customer.
        let clash = seen
            .iter()
            .any(|(c, cu)| *c == upper && (cu == customer || cu.is_none() || customer.is_none()));
        seen.push((upper, customer.clone()));
        if clash {
            sink.push(
                Diagnostic::new(
                    span.clone(),
                    format!("promotion code `{code}` is declared twice"),
                )
                .label("codes are unique regardless of case")
                .hint("Stripe refuses two active codes that differ only in case"),
            );
        }
    }
}
