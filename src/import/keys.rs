//! Readable catalog keys for imported objects: `[a-z0-9_]+` slugs of lookup keys, names and
//! intervals (ids as the last resort), unique within their table, the same for the same
//! account every time.

use std::collections::BTreeSet;

/// Generated keys are at most this long, so that a default lookup key `<product>_<price>`
/// (at most 200 characters) and an output name stay short.
pub(crate) const MAX_KEY: usize = 40;

/// The ASCII letters a Latin letter with a diacritic (or a ligature) is written with.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

/// `"Pro Plan (2024) — €"` → `pro_plan_2024`: lowercase ASCII letters and digits, every other
/// run of characters one `_`, none at either end, at most [`MAX_KEY`] characters; `None` when
/// nothing is left (a name in a script without Latin letters).
pub(crate) fn slug(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut gap = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let part: Option<std::borrow::Cow<'static, str>> = if c.is_ascii_alphanumeric() {
            Some(c.to_string().into())
        } else {
            fold(c).map(Into::into)
        };
        match part {
            Some(p) => {
                if gap && !out.is_empty() {
                    out.push('_');
                }
                gap = false;
                out.push_str(&p);
            }
            None => gap = true,
        }
    }
    if out.len() > MAX_KEY {
        out.truncate(MAX_KEY);
        while out.ends_with('_') {
            out.pop();
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Whether `key` is a catalog key: `[a-z0-9_]+`, at most 100 characters, as the validator
/// has it.
pub(crate) fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 100
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// `month` → `monthly`, 3 `month`s → `every_3_months`; `None` (one-time) → `one_time`.
pub(crate) fn interval_key(interval: Option<(&str, u64)>) -> String {
    match interval {
        None => "one_time".to_owned(),
        Some((unit, 1)) => match unit {
            "day" => "daily".to_owned(),
            "week" => "weekly".to_owned(),
            "month" => "monthly".to_owned(),
            "year" => "annual".to_owned(),
            other => slug(other).unwrap_or_else(|| "recurring".to_owned()),
        },
        Some((unit, n)) => format!("every_{n}_{}s", slug(unit).unwrap_or_default()),
    }
}

/// The keys taken in one table (products, the prices of one product, coupons, …).
#[derive(Debug, Default)]
pub(crate) struct KeySpace {
    taken: BTreeSet<String>,
}

/// A key given to an object, and whether it had to differ from the one proposed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claimed {
    pub key: String,
    /// The proposed key, when it was taken (or refused) and a suffix was added.
    pub wanted: Option<String>,
}

impl KeySpace {
    /// Takes `key` as it is (an address from billing's marker); false when it is taken.
    pub(crate) fn reserve(&mut self, key: &str) -> bool {
        self.taken.insert(key.to_owned())
    }

    /// Whether `key` is taken.
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.taken.contains(key)
    }

    /// `base`, else `base_2`, `base_3`, … : the first that is free and that `allowed` accepts.
    pub(crate) fn claim(&mut self, base: &str, allowed: impl Fn(&str) -> bool) -> Claimed {
        let free = |k: &str| !self.taken.contains(k) && allowed(k);
        let key = if free(base) {
            base.to_owned()
        } else {
            (2_u64..)
                .map(|n| format!("{base}_{n}"))
                .find(|k| free(k))
                .unwrap_or_else(|| base.to_owned())
        };
        self.taken.insert(key.clone());
        let wanted = (key != base).then(|| base.to_owned());
        Claimed { key, wanted }
    }
}

/// The part of an output name a key gives (`PROMOTION_CODE_<KEY>`: capitals, `-` as `_`):
/// two keys with the same one cannot both be declared.
pub(crate) fn env_name(key: &str) -> String {
    crate::catalog::env_part(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_ascii_words_joined_by_underscores() {
        assert_eq!(slug("Pro").as_deref(), Some("pro"));
        assert_eq!(slug("Pro Plan (2024)").as_deref(), Some("pro_plan_2024"));
        assert_eq!(
            slug("  --Team  /  Annual--  ").as_deref(),
            Some("team_annual")
        );
        assert_eq!(slug("pro_monthly").as_deref(), Some("pro_monthly"));
        assert_eq!(slug("a__b").as_deref(), Some("a_b"), "never `__`");
        assert_eq!(slug("Crème Brûlée").as_deref(), Some("creme_brulee"));
        assert_eq!(
            slug("Straße Æsir Øre").as_deref(),
            Some("strasse_aesir_ore")
        );
        assert_eq!(slug("日本語プラン Pro").as_deref(), Some("pro"));
        assert_eq!(slug("日本語プラン"), None);
        assert_eq!(slug("🚀"), None);
        assert_eq!(slug(""), None);
        assert_eq!(
            slug("prod_NffrFeUfNV2Hib").as_deref(),
            Some("prod_nffrfeufnv2hib")
        );
        let long = slug(&"word ".repeat(30)).unwrap();
        assert!(long.len() <= MAX_KEY && !long.ends_with('_'), "{long}");
        assert!(is_key(&long));
    }

    #[test]
    fn intervals_read_as_words() {
        assert_eq!(interval_key(Some(("month", 1))), "monthly");
        assert_eq!(interval_key(Some(("year", 1))), "annual");
        assert_eq!(interval_key(Some(("week", 1))), "weekly");
        assert_eq!(interval_key(Some(("day", 1))), "daily");
        assert_eq!(interval_key(Some(("month", 3))), "every_3_months");
        assert_eq!(interval_key(None), "one_time");
    }

    #[test]
    fn collisions_get_numbered_suffixes_in_claim_order() {
        let mut space = KeySpace::default();
        assert!(space.reserve("pro"));
        let a = space.claim("pro", |_| true);
        assert_eq!(a.key, "pro_2");
        assert_eq!(a.wanted.as_deref(), Some("pro"));
        let b = space.claim("pro", |_| true);
        assert_eq!(b.key, "pro_3");
        let c = space.claim("team", |_| true);
        assert_eq!(
            c,
            Claimed {
                key: "team".into(),
                wanted: None
            }
        );
        // A key refused by the caller (its default lookup key is taken) is skipped too.
        let d = space.claim("monthly", |k| k != "monthly" && k != "monthly_2");
        assert_eq!(d.key, "monthly_3");
        assert!(!space.reserve("pro_2"), "already taken");
    }

    #[test]
    fn the_same_claims_give_the_same_keys() {
        let run = || {
            let mut space = KeySpace::default();
            ["basic", "pro", "basic", "pro", "pro"]
                .iter()
                .map(|b| space.claim(b, |_| true).key)
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
        assert_eq!(run(), ["basic", "pro", "basic_2", "pro_2", "pro_3"]);
    }

    #[test]
    fn keys_follow_the_catalog_rule() {
        assert!(is_key("pro_2"));
        assert!(!is_key("Pro"));
        assert!(!is_key(""));
        assert!(!is_key("a-b"));
        assert!(!is_key(&"a".repeat(101)));
        assert_eq!(env_name("launch-20"), "LAUNCH_20");
    }
}
