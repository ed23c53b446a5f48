//! Unix timestamps as billing.toml and plans write them, and the dates Stripe takes.

/// Unix seconds as a UTC datetime, the way billing.toml writes them: `2027-01-31T23:59:59Z`.
pub fn format_timestamp(ts: i64) -> String {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    // Civil from days (Howard Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The current time as Unix seconds, by this machine's clock.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Stripe takes dates for new coupons and codes only in the future and at most five years out.
pub(crate) fn creatable_date(ts: i64, now: i64) -> Option<String> {
    const FIVE_YEARS: i64 = 5 * 365 * 86_400;
    if ts <= now {
        Some(format!("{} is in the past", format_timestamp(ts)))
    } else if ts > now + FIVE_YEARS {
        Some(format!(
            "{} is more than five years away",
            format_timestamp(ts)
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_utc_datetimes() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_timestamp(1_801_439_999), "2027-01-31T23:59:59Z");
        assert_eq!(format_timestamp(1_709_208_000), "2024-02-29T12:00:00Z");
        assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59Z");
    }
}
