//! Countries, subdivisions and tax types: the codes Stripe Tax takes for tax settings, tax
//! registrations and manual tax rates (see `docs/stripe-rules.md#tax-registrations`).

/// The US registration types without a local jurisdiction (the others take
/// `<type>[jurisdiction]`).
pub const US_STATE_LEVEL_TYPES: &[&str] = &[
    "state_communications_tax",
    "state_retail_delivery_fee",
    "state_sales_tax",
];

/// ISO 3166-1 alpha-2 country codes.
pub const COUNTRIES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// The United States' 50 states and the District of Columbia (ISO 3166-2 codes without the
/// `US-` prefix), sorted.
pub const US_STATES: &[&str] = &[
    "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN",
    "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ",
    "NM", "NV", "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA",
    "WI", "WV", "WY",
];

/// Canadian provinces with a provincial sales tax registration (`province_standard`): British
/// Columbia, Manitoba, Québec and Saskatchewan.
pub const CA_PROVINCES: &[&str] = &["BC", "MB", "QC", "SK"];

/// States that levy a retail delivery fee (Colorado and Minnesota).
pub const RETAIL_DELIVERY_FEE_STATES: &[&str] = &["CO", "MN"];

/// Stripe's manual tax-rate types (API version 2026-09-30.endive, `stripe_shared::TaxRateTaxType`).
pub const TAX_TYPES: &[&str] = &[
    "amusement_tax",
    "communications_tax",
    "digital_excise_tax",
    "gst",
    "hst",
    "igst",
    "jct",
    "lease_tax",
    "mass_transit_parking_tax",
    "parking_tax",
    "pst",
    "qst",
    "retail_delivery_fee",
    "rst",
    "sales_tax",
    "service_tax",
    "utility_users_tax",
    "vat",
];

/// The registration types Stripe takes in the United States (each with a `state`).
pub const US_REGISTRATION_TYPES: &[&str] = &[
    "admissions_tax",
    "attendance_tax",
    "entertainment_tax",
    "gross_receipts_tax",
    "hospitality_tax",
    "local_amusement_tax",
    "local_lease_tax",
    "luxury_tax",
    "mass_transit_parking_tax",
    "parking_tax",
    "resort_tax",
    "state_communications_tax",
    "state_retail_delivery_fee",
    "state_sales_tax",
    "tourism_tax",
];

/// EU member states, whose registrations take the EU types.
pub const EU_COUNTRIES: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// Countries outside the EU whose only registration is `standard` (API version 2026-09-30.endive).
pub const STANDARD_ONLY_COUNTRIES: &[&str] = &[
    "AE", "AL", "AO", "AU", "AW", "BA", "BB", "BD", "BF", "BH", "BS", "CD", "CH", "ET", "GB", "GN",
    "IS", "JP", "ME", "MK", "MR", "NO", "NZ", "OM", "RS", "SG", "SR", "UY", "ZA", "ZW",
];

/// Countries whose only registration is `simplified`.
pub const SIMPLIFIED_ONLY_COUNTRIES: &[&str] = &[
    "AM", "AZ", "BJ", "BY", "CL", "CM", "CO", "CR", "CV", "EC", "EG", "GE", "ID", "IN", "KE", "KG",
    "KH", "KR", "KZ", "LA", "LK", "MA", "MD", "MX", "MY", "NG", "NP", "PE", "PH", "RU", "SA", "SN",
    "TH", "TJ", "TR", "TW", "TZ", "UA", "UG", "UZ", "VN", "ZM",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted() {
        for table in [
            COUNTRIES,
            US_STATES,
            CA_PROVINCES,
            RETAIL_DELIVERY_FEE_STATES,
            TAX_TYPES,
            US_REGISTRATION_TYPES,
            US_STATE_LEVEL_TYPES,
            EU_COUNTRIES,
            STANDARD_ONLY_COUNTRIES,
            SIMPLIFIED_ONLY_COUNTRIES,
        ] {
            assert!(table.windows(2).all(|w| w[0] < w[1]), "{table:?}");
        }
        assert_eq!((COUNTRIES.len(), US_STATES.len()), (249, 51));
    }

    #[test]
    fn registration_countries_are_countries_in_one_class_each() {
        let classes = [
            EU_COUNTRIES,
            STANDARD_ONLY_COUNTRIES,
            SIMPLIFIED_ONLY_COUNTRIES,
        ];
        for (i, class) in classes.iter().enumerate() {
            for code in *class {
                assert!(COUNTRIES.binary_search(code).is_ok(), "{code}");
                let elsewhere = classes
                    .iter()
                    .enumerate()
                    .any(|(j, other)| j != i && other.contains(code));
                assert!(!elsewhere, "{code}");
            }
        }
        for kind in US_STATE_LEVEL_TYPES {
            assert!(US_REGISTRATION_TYPES.contains(kind), "{kind}");
        }
        for code in ["US", "CA"] {
            assert!(!classes.iter().any(|class| class.contains(&code)), "{code}");
        }
    }
}
