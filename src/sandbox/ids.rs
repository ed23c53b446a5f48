//! Random object and request identifiers (`prod_…`, `price_…`, `req_…`, `acct_…`).

const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

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
    }
}
