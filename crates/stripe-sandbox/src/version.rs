//! The `Stripe-Version` request header: which versions are accepted, and the
//! version-dependent rules.

use super::error::ApiError;

/// The version used when a request sends none (the account's default).
pub(crate) const ACCOUNT_DEFAULT: &str = "2026-09-30.endive";

/// The first version that refuses metered prices without a meter.
const BASIL: &str = "2025-03-31";

/// The first version whose promotion codes reference their coupon as
/// `promotion[type]=coupon&promotion[coupon]=…` rather than a top-level `coupon`.
const CLOVER: &str = "2025-09-30";

/// The API version a request runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiVersion {
    /// `YYYY-MM-DD`.
    date: String,
    /// The whole version, `YYYY-MM-DD.name`.
    full: String,
}

impl ApiVersion {
    /// Parses the header value (`None`: absent → the account default). Every version Stripe
    /// has published is accepted, up to the newest (`stripe_facts::API_VERSIONS`, from Stripe's
    /// own API definition), and anything else is refused as Stripe refuses an unknown version.
    /// A known version may be followed by `; name_beta=vN` beta flags.
    pub(crate) fn parse(header: Option<&str>) -> Result<ApiVersion, ApiError> {
        let raw = header.unwrap_or(ACCOUNT_DEFAULT);
        let invalid = || {
            ApiError::invalid(format!(
                "Invalid Stripe API version: {raw}. Versions look like `{ACCOUNT_DEFAULT}`; see \
                 https://docs.stripe.com/api/versioning."
            ))
        };
        let mut parts = raw.split(';');
        let version = parts.next().unwrap_or("").trim();
        for beta in parts {
            let (name, value) = beta.trim().split_once('=').ok_or_else(invalid)?;
            let name_ok = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            let value_ok = value
                .strip_prefix('v')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if !name_ok || !value_ok {
                return Err(invalid());
            }
        }
        if !stripe_facts::is_api_version(version) {
            return Err(invalid());
        }
        // Every published version starts with its `YYYY-MM-DD` date.
        let date = version.get(..10).ok_or_else(invalid)?;
        Ok(ApiVersion {
            date: date.to_string(),
            full: version.to_string(),
        })
    }

    /// The version, `YYYY-MM-DD.name`.
    pub(crate) fn as_str(&self) -> &str {
        &self.full
    }

    /// Whether metered prices must reference a meter (basil and later).
    pub(crate) fn requires_meters(&self) -> bool {
        self.date.as_str() >= BASIL
    }

    /// Whether promotion codes have the `promotion` shape (clover and later).
    pub(crate) fn polymorphic_promotions(&self) -> bool {
        self.date.as_str() >= CLOVER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_refuses() {
        for ok in [
            ACCOUNT_DEFAULT,
            "2026-09-30.endive",
            "2026-09-30.endive; foo_beta=v1",
            "2023-10-16",
            "2025-02-24.acacia",
            "2025-03-01.dashboard",
            "2026-10-28.endive",
            stripe_facts::LATEST_API_VERSION,
            "2011-01-01",
        ] {
            assert!(ApiVersion::parse(Some(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "yesterday",
            "2026-13-01.endive",
            "2026-09-30",
            "2026-09-30.Endive",
            "2026-09-30.endive; beta",
            "2026-09-31.endive",
            "2026-10-01.endive",
            "2026-11-25.endive",
            "2010-12-31",
            "2023-10-17",
            " 2026-09-30.endive extra",
        ] {
            let err = ApiVersion::parse(Some(bad)).unwrap_err();
            assert!(
                err.message.starts_with("Invalid Stripe API version: "),
                "{bad}"
            );
        }
        assert!(ApiVersion::parse(None).unwrap().requires_meters());
        assert!(ApiVersion::parse(None).unwrap().polymorphic_promotions());
        assert!(
            !ApiVersion::parse(Some("2025-08-27.basil"))
                .unwrap()
                .polymorphic_promotions()
        );
        assert!(
            !ApiVersion::parse(Some("2025-02-24.acacia"))
                .unwrap()
                .requires_meters()
        );
    }
}
