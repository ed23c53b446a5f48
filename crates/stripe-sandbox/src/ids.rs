//! Object and request identifiers: random ones (each kind's module makes its ids from them:
//! `prod_…` in `resources/products.rs`, …; here those of events, requests and the account), new
//! ones no object has yet, and the custom ids a client may choose.

use super::error::ApiError;

const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const UPPER_ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// `len` random characters of `alphabet`.
fn random_of(alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(alphabet[fastrand::usize(..alphabet.len())]))
        .collect()
}

/// `prefix` followed by `len` random ASCII alphanumerics.
pub(crate) fn random(prefix: &str, len: usize) -> String {
    let mut id = String::with_capacity(prefix.len() + len);
    id.push_str(prefix);
    for _ in 0..len {
        id.push(char::from(
            ALPHANUMERIC[fastrand::usize(..ALPHANUMERIC.len())],
        ));
    }
    id
}

/// `len` random uppercase ASCII alphanumerics (coupon ids, promotion `code`s, invoice prefixes).
pub(crate) fn random_upper(len: usize) -> String {
    random_of(UPPER_ALPHANUMERIC, len)
}

/// An event id: `evt_1` + 23 alphanumerics.
pub(crate) fn event() -> String {
    random("evt_1", 23)
}

/// A request id for the `Request-Id` header: `req_` + 14 alphanumerics.
pub(crate) fn request() -> String {
    random("req_", 14)
}

/// An account id: `acct_1` + 15 alphanumerics (the shape of real account ids).
pub(crate) fn account() -> String {
    random("acct_1", 15)
}

/// Checks a custom id chosen by the client (products and coupons take one; `kind` is `Product`
/// or `Coupon`): only letters, digits, `_` and `-`. Stripe documents no character set; ids
/// travel unescaped in URL paths (async-stripe does not percent-encode them), so the sandbox
/// refuses anything else (stricter reading).
pub(crate) fn check_custom(id: &str, kind: &str, param: &str) -> Result<(), ApiError> {
    if id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid id: '{id}'. {kind} ids may only contain letters, numbers, underscores (_) \
             and dashes (-)."
        ))
        .with_param(param))
    }
}

/// A new id from `make` that `taken` does not know.
pub(crate) fn unused(make: fn() -> String, taken: impl Fn(&str) -> bool) -> String {
    loop {
        let id = make();
        if !taken(&id) {
            return id;
        }
    }
}

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{coupons, customers, prices, products, promotion_codes};

    #[test]
    fn ids_have_stripe_shapes() {
        let p = products::new_id();
        assert!(p.starts_with("prod_") && p.len() == 19);
        let pr = prices::new_id();
        assert!(pr.starts_with("price_") && pr.len() == 30);
        assert!(pr[6..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(request().starts_with("req_"));
        let c = coupons::new_id();
        assert!(c.len() == 8 && c.bytes().all(|b| UPPER_ALPHANUMERIC.contains(&b)));
        let promo = promotion_codes::new_id();
        assert!(promo.starts_with("promo_") && promo.len() == 30);
        let cus = customers::new_id();
        assert!(cus.starts_with("cus_") && cus.len() == 18);
    }
}
