//! API-key authentication: any test-mode secret or restricted key is accepted, as a Bearer
//! token or as the HTTP Basic user name. Keys are never stored, logged or echoed in full.

use super::error::ApiError;

const DOCS: &str = "See https://stripe.com/docs/api#authentication for details, or we can help \
                    at https://support.stripe.com/.";

/// Checks an `Authorization` header value (`None` when the header is absent or not text):
/// a test key, or with `live` (a sandbox standing in for a live account) a live key.
pub(crate) fn check(header: Option<&str>, live: bool) -> Result<(), ApiError> {
    let Some(header) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return Err(unauthorized(format!(
            "You did not provide an API key. You need to provide your API key in the \
             Authorization header, using Bearer auth (e.g. 'Authorization: Bearer \
             YOUR_SECRET_KEY'). {DOCS}"
        )));
    };
    let key = match header.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim().to_string(),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("basic") => {
            let Some(decoded) = base64_decode(rest.trim()) else {
                return Err(unauthorized(format!(
                    "Invalid API Key provided: the Basic credentials are not valid base64. {DOCS}"
                )));
            };
            let text = String::from_utf8_lossy(&decoded).into_owned();
            // Basic auth carries the key as the user name, with an empty password.
            text.split_once(':')
                .map(|(user, _)| user.to_string())
                .unwrap_or(text)
        }
        _ => {
            return Err(unauthorized(format!(
                "Invalid API Key provided: the Authorization header must use Bearer auth (e.g. \
                 'Authorization: Bearer YOUR_SECRET_KEY'). {DOCS}"
            )));
        }
    };
    check_key(&key, live)
}

fn check_key(key: &str, live: bool) -> Result<(), ApiError> {
    let well_formed = |prefix: &str| {
        key.strip_prefix(prefix).is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
    };
    let masked = mask(key);
    if live {
        if well_formed("sk_live_") || well_formed("rk_live_") {
            return Ok(());
        }
        return Err(unauthorized(format!(
            "Invalid API Key provided: {masked}. This billing sandbox stands in for a live-mode \
             account and only accepts live mode keys (sk_live_… or rk_live_…)."
        )));
    }
    if well_formed("sk_test_") || well_formed("rk_test_") {
        return Ok(());
    }
    if key.starts_with("sk_live_") || key.starts_with("rk_live_") {
        return Err(unauthorized(format!(
            "Invalid API Key provided: {masked}. The billing sandbox only accepts test mode keys \
             (sk_test_… or rk_test_…); never send a live key to it."
        )));
    }
    if key.starts_with("pk_") {
        return Err(unauthorized(format!(
            "This API call cannot be made with a publishable API key ({masked}). Please use a \
             secret API key: the billing sandbox accepts any test mode key (sk_test_… or \
             rk_test_…)."
        )));
    }
    Err(unauthorized(format!("Invalid API Key provided: {masked}")))
}

fn unauthorized(message: String) -> ApiError {
    ApiError::invalid(message).with_status(401)
}

/// A key with everything but a known prefix and, for long keys, the last four characters
/// replaced by a fixed run of asterisks (which also hides the key's length).
pub(crate) fn mask(key: &str) -> String {
    const PREFIXES: &[&str] = &[
        "sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_",
    ];
    let prefix = PREFIXES
        .iter()
        .find(|p| key.starts_with(**p))
        .copied()
        .unwrap_or("");
    let rest: Vec<char> = key[prefix.len()..].chars().collect();
    let tail: String = if rest.len() >= 12 {
        rest[rest.len() - 4..].iter().collect()
    } else {
        String::new()
    };
    format!("{prefix}********{tail}")
}

/// Standard base64 (with or without padding); `None` if malformed.
fn base64_decode(input: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' | b'-' => Some(62),
            b'/' | b'_' => Some(63),
            _ => None,
        }
    }
    let trimmed = input.trim_end_matches('=');
    if trimmed.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    for chunk in trimmed.as_bytes().chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_test(header: Option<&str>) -> Result<(), ApiError> {
        check(header, false)
    }

    #[test]
    fn accepts_test_keys_only() {
        assert!(check_test(Some("Bearer sk_test_123")).is_ok());
        assert!(check_test(Some("Bearer rk_test_abc")).is_ok());
        // "sk_test_123:" in base64
        assert!(check_test(Some("Basic c2tfdGVzdF8xMjM6")).is_ok());
        assert_eq!(check_test(None).unwrap_err().status, 401);
        let live =
            check_test(Some(&format!("Bearer sk_live_{}", "abcdefghijklmnop1234"))).unwrap_err();
        assert!(live.message.contains("sk_live_********1234"));
        assert!(!live.message.contains("abcdefghijklmnop"));
        assert!(check_test(Some("Bearer garbage")).is_err());
        assert!(check_test(Some("Token sk_test_1")).is_err());
        assert!(check_test(Some("Bearer sk_test_")).is_err());
    }

    #[test]
    fn a_live_sandbox_accepts_live_keys_only() {
        let live_key = format!("Bearer sk_live_{}", "abcdefghijklmnop1234");
        assert!(check(Some(&live_key), true).is_ok());
        assert!(check(Some(&format!("Bearer rk_live_{}", "abc")), true).is_ok());
        let test = check(Some("Bearer sk_test_123"), true).unwrap_err();
        assert_eq!(test.status, 401);
        assert!(test.message.contains("live mode keys"), "{}", test.message);
        assert!(check(Some("Bearer sk_live_"), true).is_err());
    }

    #[test]
    fn base64_round_trip() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8").unwrap(), b"hello");
        assert!(base64_decode("a").is_none());
        assert!(base64_decode("a$==").is_none());
    }
}
