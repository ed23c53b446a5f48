//! Object and request identifiers: random ones (`prod_…`, `price_…`, `promo_…`, `cus_…`,
//! `txr_…`, `taxreg_…`, `bpc_…`, `req_…`, `acct_…`, coupon ids, promotion `code`s and portal
//! login URLs), new ones no object has yet, and the custom ids a client may choose.

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

/// A product id as Stripe generates them: `prod_` + 14 alphanumerics.
pub(crate) fn product() -> String {
    random("prod_", 14)
}

/// A price id as Stripe generates them: `price_` + 24 alphanumerics.
pub(crate) fn price() -> String {
    random("price_", 24)
}

/// A generated coupon id: 8 uppercase alphanumerics, no prefix (e.g. `Z4OV52SU`).
pub(crate) fn coupon() -> String {
    random_of(UPPER_ALPHANUMERIC, 8)
}

/// A promotion code id: `promo_` + 24 alphanumerics.
pub(crate) fn promotion_code() -> String {
    random("promo_", 24)
}

/// A generated customer-facing promotion `code`: 8 uppercase alphanumerics.
pub(crate) fn promotion_code_code() -> String {
    random_of(UPPER_ALPHANUMERIC, 8)
}

/// A customer id: `cus_` + 14 alphanumerics.
pub(crate) fn customer() -> String {
    random("cus_", 14)
}

/// A customer's invoice prefix: 8 uppercase alphanumerics.
pub(crate) fn invoice_prefix() -> String {
    random_of(UPPER_ALPHANUMERIC, 8)
}

/// A tax rate id: `txr_` + 24 alphanumerics.
pub(crate) fn tax_rate() -> String {
    random("txr_", 24)
}

/// A tax registration id: `taxreg_` + 24 alphanumerics.
pub(crate) fn tax_registration() -> String {
    random("taxreg_", 24)
}

/// A portal configuration id: `bpc_` + 24 alphanumerics.
pub(crate) fn portal_configuration() -> String {
    random("bpc_", 24)
}

/// A portal login page URL: `https://billing.stripe.com/p/login/test_` + 24 alphanumerics.
pub(crate) fn portal_login_url() -> String {
    random("https://billing.stripe.com/p/login/test_", 24)
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

    #[test]
    fn ids_have_stripe_shapes() {
        let p = product();
        assert!(p.starts_with("prod_") && p.len() == 19);
        let pr = price();
        assert!(pr.starts_with("price_") && pr.len() == 30);
        assert!(pr[6..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(request().starts_with("req_"));
        let c = coupon();
        assert!(c.len() == 8 && c.bytes().all(|b| UPPER_ALPHANUMERIC.contains(&b)));
        assert!(promotion_code().starts_with("promo_") && promotion_code().len() == 30);
        assert!(customer().starts_with("cus_") && customer().len() == 18);
    }
}
