//! Validation of one price: amounts in its currency, recurring fields, tiers, currency options.

use std::collections::BTreeMap;
use std::ops::Range;

use super::super::currency::Currency;
use super::super::diagnostic::{Diagnostic, Sink};
use super::super::model::{
    BillingScheme, CurrencyOption, CurrencyOptionPricing, Interval, Price, Pricing, Recurring,
    Round, TaxBehavior, Tier, TiersMode, TransformQuantity,
};
use super::super::raw::{RawCurrencyOption, RawPrice, RawTier, RawTransformQuantity, RawUpTo};
use super::super::reader::Sp;
use super::fields::{self, FLAT_AMOUNT, UNIT_AMOUNT};

const MAX_LOOKUP_KEY: usize = 200;

/// Where a price's lookup key came from, for messages about collisions.
#[derive(Debug, Clone)]
pub(crate) struct LookupKeyOrigin {
    pub span: Range<usize>,
    pub defaulted: bool,
}

/// The longest interval Stripe accepts, per unit: three years.
fn max_interval_count(interval: Interval) -> i64 {
    match interval {
        Interval::Day => 1095,
        Interval::Week => 156,
        Interval::Month => 36,
        Interval::Year => 3,
    }
}

/// Validates one price of product `product`, and says where its lookup key came from.
pub(crate) fn validate(
    sink: &Sink,
    product: &str,
    mut raw: RawPrice,
) -> Option<(Price, LookupKeyOrigin)> {
    let key_ok = fields::check_key(sink, &raw.key, "price");
    let header = raw.span.clone();
    let currency = fields::required(sink, raw.currency.as_ref(), raw.incomplete, || {
        Diagnostic::new(
            header.clone(),
            format!("price `{}` has no `currency`", raw.key.get_ref()),
        )
        .label("missing `currency`")
        .hint("add `currency = \"usd\"` (or another three-letter code)")
    })
    .and_then(|c| fields::currency(sink, c));

    let recurring = recurring(sink, &raw);
    let tax_behavior = raw.more().tax_behavior.as_ref().and_then(|v| {
        fields::one_of(
            sink,
            "tax_behavior",
            v,
            TaxBehavior::ALL,
            TaxBehavior::parse,
        )
    });
    let scheme = raw.more().billing_scheme.as_ref().and_then(|v| {
        fields::one_of(
            sink,
            "billing_scheme",
            v,
            BillingScheme::ALL,
            BillingScheme::parse,
        )
    });
    let tiered = scheme == Some(BillingScheme::Tiered);

    let pricing = if tiered {
        tiered_pricing(sink, &raw, currency, recurring.is_some())
    } else {
        tiers_without_scheme(sink, &raw);
        let amounts = std::mem::take(&mut raw.amounts);
        fields::amount(
            sink,
            amounts,
            &UNIT_AMOUNT,
            currency,
            header,
            !raw.incomplete,
        )
        .map(|unit_amount| Pricing::PerUnit { unit_amount })
    };

    let more = raw.more.take().map_or_else(Default::default, |more| *more);
    let transform_quantity = more
        .transform_quantity
        .and_then(|t| transform(sink, t, tiered));
    let currency_options = currency_options(sink, more.currency_options, currency, &pricing);
    let (lookup_key, origin) = lookup_key(sink, product, &raw.key, raw.lookup_key);

    // Every field is checked before giving up on a price whose currency or amount is unusable.
    let nickname = fields::text(sink, "nickname", more.nickname, 5000);
    fields::id_or_moved_from(sink, more.id.as_ref(), more.moved_from.as_ref(), false);
    let (metadata, on_remove) = fields::archivable(sink, more.metadata, more.on_remove.as_ref());
    let id = fields::adopt_id(sink, more.id, "price_", "price");
    let moved_from = fields::moved_from(sink, more.moved_from, "price");
    let price = Price {
        key: raw.key.into_inner(),
        id,
        moved_from,
        on_remove: on_remove?,
        currency: currency?,
        pricing: pricing?,
        recurring,
        meter: more.meter.map(Sp::into_inner),
        nickname,
        lookup_key,
        lookup_key_declared: !origin.defaulted,
        tax_behavior,
        metadata,
        transform_quantity,
        currency_options,
    };
    key_ok.then_some((price, origin))
}

/// `tiers` and `tiers_mode` on a price that is not tiered.
fn tiers_without_scheme(sink: &Sink, raw: &RawPrice) {
    if let Some(tiers) = &raw.more().tiers {
        sink.push(
            Diagnostic::new(tiers.span(), "`tiers` are only used by tiered prices")
                .label("tiers without the tiered scheme")
                .hint("add `billing_scheme = \"tiered\"` and `tiers_mode = \"graduated\"` (or \"volume\") to the price"),
        );
    }
    if let Some(mode) = &raw.more().tiers_mode {
        sink.push(
            Diagnostic::new(mode.span(), "`tiers_mode` is only used by tiered prices")
                .hint("add `billing_scheme = \"tiered\"` or remove `tiers_mode`"),
        );
    }
}

/// The price's lookup key: `lookup_key` as written, else `<product>_<price>`; and where it
/// came from.
fn lookup_key(
    sink: &Sink,
    product: &str,
    key: &Sp<String>,
    written: Option<Sp<String>>,
) -> (String, LookupKeyOrigin) {
    let Some(k) = written else {
        let default = format!("{product}_{}", key.get_ref());
        if fields::chars(&default) > MAX_LOOKUP_KEY {
            sink.push(
                Diagnostic::new(
                    key.span(),
                    format!("the default lookup key `{product}_<price>` would be longer than {MAX_LOOKUP_KEY} characters"),
                )
                .hint("set a shorter `lookup_key`"),
            );
        }
        let origin = LookupKeyOrigin {
            span: key.span(),
            defaulted: true,
        };
        return (default, origin);
    };
    if k.get_ref().is_empty() {
        sink.push(
            Diagnostic::new(k.span(), "`lookup_key` cannot be empty").hint(format!(
                "remove it to use the default `{product}_{}`",
                key.get_ref()
            )),
        );
    } else if fields::chars(k.get_ref()) > MAX_LOOKUP_KEY {
        sink.push(
            Diagnostic::new(
                k.span(),
                format!(
                    "`lookup_key` is {} characters long; Stripe allows at most {MAX_LOOKUP_KEY}",
                    fields::chars(k.get_ref())
                ),
            )
            .label(format!("at most {MAX_LOOKUP_KEY} characters")),
        );
    }
    let origin = LookupKeyOrigin {
        span: k.span(),
        defaulted: false,
    };
    (k.into_inner(), origin)
}

fn recurring(sink: &Sink, raw: &RawPrice) -> Option<Recurring> {
    let Some(interval) = &raw.interval else {
        if let Some(count) = &raw.interval_count {
            sink.push(
                Diagnostic::new(count.span(), "`interval_count` on a one-time price")
                    .label("recurring field without `interval`")
                    .hint("add `interval = \"month\"` (or day, week, year) to make the price recurring, or remove `interval_count`"),
            );
        }
        return None;
    };
    let interval = fields::one_of(sink, "interval", interval, Interval::ALL, Interval::parse)?;
    let max = max_interval_count(interval);
    let count = match &raw.interval_count {
        None => 1,
        Some(count) if (1..=max).contains(count.get_ref()) => *count.get_ref(),
        Some(count) => {
            sink.push(
                Diagnostic::new(count.span(), format!("`interval_count` must be between 1 and {max} for `interval = \"{interval}\"`"))
                    .label("Stripe allows intervals of up to three years"),
            );
            return None;
        }
    };
    Some(Recurring {
        interval,
        interval_count: u32::try_from(count).ok()?,
    })
}

fn tiered_pricing(
    sink: &Sink,
    raw: &RawPrice,
    currency: Option<Currency>,
    recurring: bool,
) -> Option<Pricing> {
    if !recurring {
        sink.push(
            Diagnostic::new(raw.span.clone(), "a tiered price must be recurring")
                .label("tiers on a one-time price")
                .hint(
                    "add `interval = \"month\"` (Stripe supports tiers only on recurring prices)",
                ),
        );
    }
    for span in [
        raw.amounts.amount.as_ref().map(Sp::span),
        raw.amounts.unit_amount.as_ref().map(Sp::span),
        raw.amounts.unit_amount_decimal.as_ref().map(Sp::span),
    ]
    .into_iter()
    .flatten()
    {
        sink.push(
            Diagnostic::new(span, "a tiered price takes its amounts from `tiers`")
                .label("amount on a tiered price")
                .hint("move the amount into the tiers, or remove `billing_scheme = \"tiered\"`"),
        );
    }
    let mode = match &raw.more().tiers_mode {
        Some(v) => fields::one_of(sink, "tiers_mode", v, TiersMode::ALL, TiersMode::parse),
        None if raw.incomplete => None,
        None => {
            sink.push(
                Diagnostic::new(raw.span.clone(), "a tiered price needs `tiers_mode`")
                    .hint("add `tiers_mode = \"graduated\"` or `tiers_mode = \"volume\"`"),
            );
            None
        }
    };
    let Some(raw_tiers) = &raw.more().tiers else {
        if raw.incomplete {
            return None;
        }
        sink.push(
            Diagnostic::new(raw.span.clone(), "a tiered price needs `tiers`")
                .hint("add [[...tiers]] entries with `up_to` and an amount; the last has `up_to = \"inf\"`"),
        );
        return None;
    };
    let tiers = tiers(sink, raw_tiers, currency)?;
    Some(Pricing::Tiered { mode: mode?, tiers })
}

/// `tiers`: bounds increasing to a last unbounded tier, each tier with an amount.
fn tiers(sink: &Sink, raw: &Sp<Vec<RawTier>>, currency: Option<Currency>) -> Option<Vec<Tier>> {
    if raw.get_ref().is_empty() {
        sink.push(
            Diagnostic::new(raw.span(), "`tiers` is empty")
                .hint("a tiered price needs at least one tier"),
        );
        return None;
    }
    let count = raw.get_ref().len();
    let mut out = Vec::new();
    let mut previous: Option<i64> = None;
    let mut ok = true;
    for (i, tier) in raw.get_ref().iter().enumerate() {
        let (up_to, bound_ok) = up_to(sink, tier, i + 1, i + 1 == count, &mut previous);
        ok &= bound_ok;
        let [unit, flat] =
            [(&tier.unit, &UNIT_AMOUNT), (&tier.flat, &FLAT_AMOUNT)].map(|(amounts, names)| {
                let span = tier.span.clone();
                fields::amount(sink, amounts.clone(), names, currency, span, false)
            });
        if tier.unit.is_empty() && tier.flat.is_empty() {
            sink.push(
                Diagnostic::new(tier.span.clone(), format!("tier {} has no amount", i + 1))
                    .hint("give a per-unit `amount`, a `flat_amount`, or both"),
            );
            ok = false;
        }
        out.push(Tier {
            up_to,
            unit_amount: unit,
            flat_amount: flat,
        });
    }
    ok.then_some(out)
}

/// The upper bound of tier `number` (`None`: unbounded, or unusable), and whether it is
/// right: above `previous` (the bound before it, which becomes this one), unbounded only for
/// the `last` tier.
fn up_to(
    sink: &Sink,
    tier: &RawTier,
    number: usize,
    last: bool,
    previous: &mut Option<i64>,
) -> (Option<u64>, bool) {
    let Some(bound) = &tier.up_to else {
        sink.push(
            Diagnostic::new(tier.span.clone(), format!("tier {number} has no `up_to`")).hint(
                if last {
                    "the last tier takes `up_to = \"inf\"`"
                } else {
                    "give the tier's upper quantity, e.g. `up_to = 1000`"
                },
            ),
        );
        return (None, false);
    };
    let n = match *bound.get_ref() {
        RawUpTo::Inf if last => return (None, true),
        RawUpTo::Inf => {
            sink.push(
                Diagnostic::new(
                    bound.span(),
                    "only the last tier can have `up_to = \"inf\"`",
                )
                .label("tier after an unbounded tier"),
            );
            return (None, false);
        }
        RawUpTo::Count(n) => n,
    };
    let mut ok = true;
    if last {
        sink.push(
            Diagnostic::new(bound.span(), "the last tier must have `up_to = \"inf\"`")
                .label("quantities above this would have no price")
                .hint("add a final tier with `up_to = \"inf\"`"),
        );
        ok = false;
    }
    if n < 1 || previous.is_some_and(|p| n <= p) {
        sink.push(
            Diagnostic::new(bound.span(), "tier bounds must be positive and increasing").label(
                match *previous {
                    Some(p) => format!("not above the previous tier's {p}"),
                    None => "must be at least 1".to_owned(),
                },
            ),
        );
        ok = false;
    }
    *previous = Some(n);
    (u64::try_from(n).ok(), ok)
}

fn transform(sink: &Sink, raw: RawTransformQuantity, tiered: bool) -> Option<TransformQuantity> {
    if tiered {
        sink.push(
            Diagnostic::new(
                raw.span.clone(),
                "`transform_quantity` cannot be combined with tiers",
            )
            .label("Stripe refuses transform_quantity on tiered prices"),
        );
        return None;
    }
    let divide_by = match &raw.divide_by {
        Some(d) if *d.get_ref() >= 1 => u64::try_from(*d.get_ref()).ok(),
        Some(d) => {
            sink.push(Diagnostic::new(d.span(), "`divide_by` must be at least 1"));
            None
        }
        None => {
            sink.push(
                Diagnostic::new(raw.span.clone(), "`transform_quantity` needs `divide_by`")
                    .hint("e.g. `divide_by = 1000`"),
            );
            None
        }
    };
    let round = match &raw.round {
        Some(r) => fields::one_of(sink, "round", r, Round::ALL, Round::parse),
        None => {
            sink.push(
                Diagnostic::new(raw.span.clone(), "`transform_quantity` needs `round`")
                    .hint("add `round = \"up\"` or `round = \"down\"`"),
            );
            None
        }
    };
    Some(TransformQuantity {
        divide_by: divide_by?,
        round: round?,
    })
}

/// `currency_options`: the price in other currencies, priced the way it is.
fn currency_options(
    sink: &Sink,
    raw: Vec<RawCurrencyOption>,
    main: Option<Currency>,
    pricing: &Option<Pricing>,
) -> BTreeMap<Currency, CurrencyOption> {
    let mut out = BTreeMap::new();
    let mut seen: BTreeMap<Currency, String> = BTreeMap::new();
    for option in raw {
        let Some(currency) = fields::currency(sink, &option.currency) else {
            continue;
        };
        if Some(currency) == main {
            sink.push(
                Diagnostic::new(
                    option.currency.span(),
                    format!(
                        "`{}` is the price's own currency",
                        option.currency.get_ref()
                    ),
                )
                .label("already the main currency")
                .hint("currency_options lists the other currencies only"),
            );
            continue;
        }
        if let Some(first) = seen.get(&currency) {
            sink.push(
                Diagnostic::new(
                    option.currency.span(),
                    format!("currency {currency} is listed twice"),
                )
                .label(format!("also listed as `{first}`")),
            );
            continue;
        }
        seen.insert(currency, option.currency.get_ref().clone());
        let tax_behavior = option.tax_behavior.as_ref().and_then(|v| {
            fields::one_of(
                sink,
                "tax_behavior",
                v,
                TaxBehavior::ALL,
                TaxBehavior::parse,
            )
        });
        let Some(pricing) = option_pricing(sink, option, currency, pricing) else {
            continue;
        };
        out.insert(
            currency,
            CurrencyOption {
                pricing,
                tax_behavior,
            },
        );
    }
    out
}

/// How a currency option prices: tiers with the bounds of the price's own on a tiered price,
/// else an amount.
fn option_pricing(
    sink: &Sink,
    option: RawCurrencyOption,
    currency: Currency,
    pricing: &Option<Pricing>,
) -> Option<CurrencyOptionPricing> {
    let Some(Pricing::Tiered {
        tiers: main_tiers, ..
    }) = pricing
    else {
        if let Some(t) = &option.tiers {
            sink.push(Diagnostic::new(
                t.span(),
                "`tiers` in a currency option of a price that is not tiered",
            ));
            return None;
        }
        return fields::amount(
            sink,
            option.amounts,
            &UNIT_AMOUNT,
            Some(currency),
            option.span,
            true,
        )
        .map(CurrencyOptionPricing::PerUnit);
    };
    if !option.amounts.is_empty() {
        sink.push(
            Diagnostic::new(
                option.span,
                format!(
                    "currency option {currency} of a tiered price needs `tiers`, not an amount"
                ),
            )
            .hint("give tiers with the same `up_to` bounds as the price's own tiers"),
        );
        return None;
    }
    let Some(raw_tiers) = &option.tiers else {
        sink.push(Diagnostic::new(
            option.span,
            format!("currency option {currency} of a tiered price needs `tiers`"),
        ));
        return None;
    };
    let tiers = tiers(sink, raw_tiers, Some(currency))?;
    let bounds = |t: &[Tier]| t.iter().map(|t| t.up_to).collect::<Vec<_>>();
    if bounds(&tiers) != bounds(main_tiers) {
        sink.push(
            Diagnostic::new(raw_tiers.span(), format!("the tiers of currency option {currency} must have the same `up_to` bounds as the price's tiers"))
                .label("different bounds"),
        );
        return None;
    }
    Some(CurrencyOptionPricing::Tiered(tiers))
}
