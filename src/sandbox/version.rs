//! The `Stripe-Version` request header: format checks and the version-dependent rules.

use super::error::ApiError;

/// The version used when a request sends none (the account's default).
pub(crate) const ACCOUNT_DEFAULT: &str = "2026-09-30.endive";

/// The first version that refuses metered prices without a meter.
const BASIL: &str = "2025-03-31";

/// The first version whose names carry a release name (`YYYY-MM-DD.name`).
const ACACIA: &str = "2024-09-30";

/// The API version a request runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiVersion {
    /// `YYYY-MM-DD`.
    date: String,
}

impl ApiVersion {
    /// Parses the header value (`None`: absent → the account default). Accepts
    /// `YYYY-MM-DD.name` (or a bare `YYYY-MM-DD` before 2024-09-30, when versions had no name),
    /// optionally followed by `; name_beta=vN` beta flags.
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
        let (date, name) = match version.split_once('.') {
            Some((date, name)) => (date, Some(name)),
            None => (version, None),
        };
        if !valid_date(date) {
            return Err(invalid());
        }
        match name {
            Some(name) if !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase()) => {}
            None if date < ACACIA => {}
            _ => return Err(invalid()),
        }
        Ok(ApiVersion {
            date: date.to_string(),
        })
    }

    /// Whether metered prices must reference a meter (basil and later).
    pub(crate) fn requires_meters(&self) -> bool {
        self.date.as_str() >= BASIL
    }
}

fn valid_date(date: &str) -> bool {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| date.get(r).and_then(|s| s.parse::<u32>().ok());
    let all_digits = [0..4, 5..7, 8..10]
        .into_iter()
        .all(|r| b[r].iter().all(u8::is_ascii_digit));
    matches!(
        (all_digits, num(5..7), num(8..10)),
        (true, Some(1..=12), Some(1..=31))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_refuses() {
        for ok in [
            "2026-09-30.endive",
            "2026-09-30.endive; foo_beta=v1",
            "2023-10-16",
            "2025-02-24.acacia",
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
        ] {
            let err = ApiVersion::parse(Some(bad)).unwrap_err();
            assert!(
                err.message.starts_with("Invalid Stripe API version: "),
                "{bad}"
            );
        }
        assert!(ApiVersion::parse(None).unwrap().requires_meters());
        assert!(
            !ApiVersion::parse(Some("2025-02-24.acacia"))
                .unwrap()
                .requires_meters()
        );
    }
}
