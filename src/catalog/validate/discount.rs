//! Validation of coupons and promotion codes, and of the references between them and products.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::super::currency::Currency;
use super::super::diagnostic::{Diagnostic, Sink};
use super::super::model::{
    Coupon, CouponDuration, Discount, DurationKind, OnRemove, Percent, PromotionCode,
};
use super::super::money::MinorAmount;
use super::super::raw::RawAmounts;
use super::super::raw_discount::{RawCoupon, RawCouponOption, RawPromotionCode};
use super::super::reader::Sp;
use super::fields::{self, AmountNames};
use crate::resource::ResourceKind;

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

/// What becomes of a coupon's object when it leaves billing.toml: deleted, unless kept or
/// forgotten.
const DELETED: fields::Removal = fields::Removal {
    allowed: super::super::raw_discount::REMOVALS,
    default: OnRemove::Delete,
};

/// Validates one coupon against Stripe's rules and the catalog's product keys.
pub(crate) fn coupon(sink: &Sink, mut raw: RawCoupon, products: &[&str]) -> Option<Coupon> {
    let key_ok = fields::check_key(sink, &raw.key, "coupon");
    fields::pinned_id(sink, raw.id.as_ref(), 200, |d| {
        d.hint("set `id` only to pin the coupon to an existing Stripe coupon id")
    });
    let options = std::mem::take(&mut raw.currency_options);
    let discount = discount(sink, &raw, options);
    let name = fields::text(sink, "name", raw.name.take(), MAX_COUPON_NAME);
    let duration = duration(sink, &raw);
    let max_redemptions = positive(sink, "max_redemptions", &raw.max_redemptions);
    let applies_to = applies_to(sink, raw.applies_to, products);
    fields::id_or_moved_from(sink, raw.id.as_ref(), raw.moved_from.as_ref(), true);
    let (metadata, on_remove) =
        fields::metadata_and_removal(sink, raw.metadata, raw.on_remove.as_ref(), &DELETED);
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

/// What a coupon takes off: a percentage, or an amount in its currency (and in the other
/// currencies of `options`).
fn discount(sink: &Sink, raw: &RawCoupon, options: Vec<RawCouponOption>) -> Option<Discount> {
    let amounts = RawAmounts {
        amount: raw.amount_off.clone(),
        unit_amount: raw.unit_amount_off.clone(),
        unit_amount_decimal: None,
    };
    match (&raw.percent_off, amounts.is_empty()) {
        (Some(p), true) => percent_off(sink, raw, p, &options),
        (None, false) => amount_off(sink, raw, amounts, options),
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
    }
}

/// `percent_off`, which applies in every currency: a coupon with it has no currency.
fn percent_off(
    sink: &Sink,
    raw: &RawCoupon,
    p: &Sp<String>,
    options: &[RawCouponOption],
) -> Option<Discount> {
    if let Some(first) = options.first() {
        sink.push(
            Diagnostic::new(
                first.currency.span(),
                "`currency_options` only go with `amount_off`",
            )
            .hint("a percentage applies in every currency"),
        );
    }
    let percent = fields::percent(sink, "percent_off", p, (2, Decimal::new(1, 2)), |d| {
        d.label("too precise")
            .hint("Stripe stores percentages such as 33.33")
    });
    if let Some(c) = &raw.currency {
        sink.push(
            Diagnostic::new(c.span(), "`currency` only goes with `amount_off`")
                .hint("a percentage applies in every currency"),
        );
    }
    percent.map(|d| Discount::PercentOff(Percent(d)))
}

/// `amount_off` (given as `amounts`) in `currency`, above 0, and in the other currencies of
/// `options`.
fn amount_off(
    sink: &Sink,
    raw: &RawCoupon,
    amounts: RawAmounts,
    options: Vec<RawCouponOption>,
) -> Option<Discount> {
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
    let amount = fields::amount(sink, amounts, &AMOUNT_OFF, currency, raw.span.clone(), true);
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
    let currency_options = amount_off_options(sink, options, currency);
    Some(Discount::AmountOff {
        currency: currency?,
        amount: amount?,
        currency_options,
    })
}

/// A coupon's `amount_off` in currencies other than its own (`main`).
fn amount_off_options(
    sink: &Sink,
    options: Vec<RawCouponOption>,
    main: Option<Currency>,
) -> BTreeMap<Currency, MinorAmount> {
    let mut out = BTreeMap::new();
    for option in options {
        let Some(c) = fields::currency(sink, &option.currency) else {
            continue;
        };
        if Some(c) == main {
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
        if let Some(a) = fields::amount(sink, amounts, &AMOUNT_OFF, Some(c), option.span, true) {
            out.insert(c, a);
        }
    }
    out
}

/// `duration` (`once` when absent), with `duration_in_months` for a repeating coupon only.
fn duration(sink: &Sink, raw: &RawCoupon) -> Option<CouponDuration> {
    let kind = raw.duration.as_ref().map_or(Some(DurationKind::Once), |d| {
        fields::one_of(sink, "duration", d, DurationKind::ALL, DurationKind::parse)
    });
    match (kind?, &raw.duration_in_months) {
        (DurationKind::Repeating, Some(m)) => match u32::try_from(*m.get_ref()) {
            Ok(months) if months >= 1 => Some(CouponDuration::Repeating { months }),
            _ => {
                sink.push(Diagnostic::new(
                    m.span(),
                    "`duration_in_months` must be at least 1",
                ));
                None
            }
        },
        (DurationKind::Repeating, None) => {
            sink.push(
                Diagnostic::new(
                    raw.duration.as_ref().map_or(raw.span.clone(), Sp::span),
                    "a repeating coupon needs `duration_in_months`",
                )
                .hint("add `duration_in_months = 3`"),
            );
            None
        }
        (other, Some(m)) => {
            sink.push(
                Diagnostic::new(m.span(), format!("`duration_in_months` only goes with `duration = \"repeating\"`, not {other:?}", other = other.as_str()))
                    .hint("set `duration = \"repeating\"` or remove `duration_in_months`"),
            );
            None
        }
        (DurationKind::Once, None) => Some(CouponDuration::Once),
        (DurationKind::Forever, None) => Some(CouponDuration::Forever),
    }
}

/// `applies_to`: declared products, each listed once.
fn applies_to(sink: &Sink, raw: Option<Sp<Vec<Sp<String>>>>, products: &[&str]) -> Vec<String> {
    let mut applies_to: Vec<String> = Vec::new();
    for k in raw.map(Sp::into_inner).unwrap_or_default() {
        if applies_to.contains(k.get_ref()) {
            sink.push(Diagnostic::new(
                k.span(),
                format!("product `{}` is listed twice in `applies_to`", k.get_ref()),
            ));
        } else if fields::reference(sink, ResourceKind::Product, &k, products) {
            applies_to.push(k.into_inner());
        }
    }
    applies_to
}

/// Validates one promotion code against Stripe's rules and its coupon.
pub(crate) fn promotion_code(
    sink: &Sink,
    raw: RawPromotionCode,
    coupons: &BTreeMap<String, Coupon>,
    coupon_keys: &[&str],
) -> Option<PromotionCode> {
    let (code, code_ok) = code(sink, &raw);
    let coupon = fields::required(sink, raw.coupon.as_ref(), raw.incomplete, || {
        Diagnostic::new(
            raw.span.clone(),
            format!("promotion code `{code}` has no `coupon`"),
        )
        .hint("add `coupon = \"<coupon key>\"`")
    })
    .and_then(|c| {
        fields::reference(sink, ResourceKind::Coupon, c, coupon_keys).then(|| c.get_ref().clone())
    });
    let max_redemptions = positive(sink, "max_redemptions", &raw.max_redemptions);
    if let Some(c) = coupon.as_ref().and_then(|c| coupons.get(c)) {
        within_coupon(sink, &raw, max_redemptions, c);
    }
    let (minimum_amount, minimum_currency) = minimum_amount(sink, &raw);
    let minimum_amount_options = minimum_amount_options(
        sink,
        raw.currency_options,
        minimum_amount.is_some(),
        minimum_currency,
    );
    if let Some(customer) = &raw.customer {
        customer_id(sink, customer);
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

/// The code customers type (`code`, else the key), and whether Stripe takes it; a key that
/// is not the code takes letters, digits, `_` and `-`.
fn code(sink: &Sink, raw: &RawPromotionCode) -> (String, bool) {
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
    (code, code_ok)
}

/// A code is redeemed no more often than its coupon, and expires before the coupon does.
fn within_coupon(
    sink: &Sink,
    raw: &RawPromotionCode,
    max_redemptions: Option<u64>,
    coupon: &Coupon,
) {
    if let (Some(max), Some(span)) = (max_redemptions, raw.max_redemptions.as_ref().map(Sp::span))
        && coupon.max_redemptions.is_some_and(|cmax| max > cmax)
    {
        sink.push(
            Diagnostic::new(
                span,
                format!(
                    "`max_redemptions` is above its coupon's ({})",
                    coupon.max_redemptions.unwrap_or_default()
                ),
            )
            .hint("a promotion code cannot be redeemed more often than its coupon"),
        );
    }
    if let Some(at) = &raw.expires_at
        && coupon.redeem_by.is_some_and(|by| *at.get_ref() > by)
    {
        sink.push(
            Diagnostic::new(at.span(), "`expires_at` is after its coupon's `redeem_by`").hint(
                "a promotion code cannot outlive its coupon: move `expires_at` before `redeem_by`",
            ),
        );
    }
}

/// `minimum_amount` in `minimum_amount_currency` (the two go together); and that currency,
/// when it is one.
fn minimum_amount(
    sink: &Sink,
    raw: &RawPromotionCode,
) -> (Option<(Currency, MinorAmount)>, Option<Currency>) {
    let minimum_currency = raw
        .minimum_amount_currency
        .as_ref()
        .and_then(|c| fields::currency(sink, c));
    let minimum_amount = match (&raw.minimum_amount, &raw.minimum_amount_currency) {
        (Some(a), Some(_)) => fields::amount(
            sink,
            major(a),
            &MINIMUM_AMOUNT,
            minimum_currency,
            a.span(),
            true,
        )
        .and_then(|amount| minimum_currency.map(|c| (c, amount))),
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
    (minimum_amount, minimum_currency)
}

/// An amount written in major units only.
fn major(amount: &Sp<String>) -> RawAmounts {
    RawAmounts {
        amount: Some(amount.clone()),
        unit_amount: None,
        unit_amount_decimal: None,
    }
}

/// Minimum amounts in currencies other than `minimum_amount_currency` (`main`); they need a
/// `minimum_amount` (`has_minimum`).
fn minimum_amount_options(
    sink: &Sink,
    options: Vec<(Sp<String>, Sp<String>)>,
    has_minimum: bool,
    main: Option<Currency>,
) -> BTreeMap<Currency, MinorAmount> {
    let mut out = BTreeMap::new();
    for (currency, amount) in options {
        let Some(c) = fields::currency(sink, &currency) else {
            continue;
        };
        if !has_minimum {
            sink.push(
                Diagnostic::new(
                    currency.span(),
                    "minimum amounts in other currencies need `minimum_amount`",
                )
                .hint("set `minimum_amount` and `minimum_amount_currency` first"),
            );
            continue;
        }
        if Some(c) == main {
            sink.push(Diagnostic::new(
                currency.span(),
                format!(
                    "`{}` is already `minimum_amount_currency`",
                    currency.get_ref()
                ),
            ));
            continue;
        }
        if let Some(a) = fields::amount(
            sink,
            major(&amount),
            &MINIMUM_AMOUNT,
            Some(c),
            amount.span(),
            true,
        ) {
            out.insert(c, a);
        }
    }
    out
}

/// `customer`: a Stripe customer id.
fn customer_id(sink: &Sink, customer: &Sp<String>) {
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
