//! Tax settings, tax registrations and tax rates over real HTTP (docs/stripe-rules.md:
//! #tax-rates, #tax-settings, #tax-registrations):
//! complete objects async-stripe can read, one-way settings, registration statuses that move
//! with the clock, the tax-rate update whitelist, list filters and events.

use std::collections::HashMap;

use serde_json::{Value, json};
use stripe_misc::tax_registration::{
    CreateTaxRegistration, CreateTaxRegistrationActiveFrom, CreateTaxRegistrationCountryOptions,
    CreateTaxRegistrationCountryOptionsDe, CreateTaxRegistrationCountryOptionsDeStandard,
    CreateTaxRegistrationCountryOptionsDeStandardPlaceOfSupplyScheme,
    CreateTaxRegistrationCountryOptionsDeType, CreateTaxRegistrationCountryOptionsGb,
    CreateTaxRegistrationCountryOptionsGbType, CreateTaxRegistrationCountryOptionsUs,
    CreateTaxRegistrationCountryOptionsUsType, ListTaxRegistration, ListTaxRegistrationStatus,
    RetrieveTaxRegistration, UpdateTaxRegistration, UpdateTaxRegistrationActiveFrom,
    UpdateTaxRegistrationExpiresAt,
};
use stripe_misc::tax_settings::{
    RetrieveForMyAccountTaxSettings, UpdateTaxSettings, UpdateTaxSettingsDefaults,
    UpdateTaxSettingsDefaultsTaxBehavior, UpdateTaxSettingsHeadOffice,
    UpdateTaxSettingsHeadOfficeAddress,
};
use stripe_misc::{
    TaxProductResourceTaxSettingsDefaultsTaxBehavior, TaxRegistrationStatus, TaxSettingsStatus,
};
use stripe_product::tax_rate::{CreateTaxRate, ListTaxRate, RetrieveTaxRate, UpdateTaxRate};
use stripe_shared::TaxRateTaxType;
use stripe_types::RangeQueryTs;

use super::support::{RawResponse, Req, client, event_types, keys, start, stripe_error, unix_now};

/// `(status, code, param)` of a raw error response.
fn refusal(res: &RawResponse) -> (u16, Option<String>, Option<String>) {
    let (code, param, _) = res.error();
    (res.status, code, param)
}

// ---------------------------------------------------------------------------------------------
// Tax settings

#[tokio::test]
async fn settings_start_pending_with_nothing_set() {
    let sandbox = start();
    let settings = RetrieveForMyAccountTaxSettings::new()
        .send(&client(&sandbox))
        .await
        .unwrap();
    assert_eq!(settings.status, TaxSettingsStatus::Pending);
    let pending = settings.status_details.pending.expect("pending details");
    assert_eq!(
        pending.missing_fields,
        Some(vec!["head_office".to_string()])
    );
    assert!(settings.status_details.active.is_none());
    assert!(settings.head_office.is_none() && !settings.livemode);
    assert_eq!(settings.defaults.tax_behavior, None);
    assert_eq!(settings.defaults.tax_code, None);
    assert_eq!(settings.defaults.provider.as_str(), "stripe");

    let raw = Req::get("/v1/tax/settings").send(&sandbox).json();
    assert_eq!(
        keys(&raw),
        [
            "object",
            "defaults",
            "head_office",
            "livemode",
            "status",
            "status_details"
        ]
    );
    assert_eq!(raw["object"], "tax.settings");
    assert_eq!(raw["head_office"], Value::Null);
}

#[tokio::test]
async fn settings_become_active_once_the_head_office_is_set() {
    let sandbox = start();
    let client = client(&sandbox);
    let mut address = UpdateTaxSettingsHeadOfficeAddress::new();
    address.line1 = Some("1 Main St".into());
    address.city = Some("San Francisco".into());
    address.state = Some("CA".into());
    address.postal_code = Some("94105".into());
    address.country = Some("US".into());
    let mut defaults = UpdateTaxSettingsDefaults::new();
    defaults.tax_behavior = Some(UpdateTaxSettingsDefaultsTaxBehavior::Exclusive);
    defaults.tax_code = Some("txcd_10103001".into());
    let settings = UpdateTaxSettings::new()
        .defaults(defaults)
        .head_office(UpdateTaxSettingsHeadOffice::new(address))
        .send(&client)
        .await
        .unwrap();
    assert_eq!(settings.status, TaxSettingsStatus::Active);
    assert!(settings.status_details.active.is_some());
    assert!(settings.status_details.pending.is_none());
    assert_eq!(
        settings.defaults.tax_behavior,
        Some(TaxProductResourceTaxSettingsDefaultsTaxBehavior::Exclusive)
    );
    assert_eq!(settings.defaults.tax_code.as_deref(), Some("txcd_10103001"));
    let office = settings.head_office.expect("head office").address;
    assert_eq!(office.country.as_deref(), Some("US"));
    assert_eq!(office.line2, None);
    assert_eq!(event_types(&sandbox), ["tax.settings.updated"]);

    // What is not sent is kept; a new address replaces the old one whole.
    let res = Req::post(
        "/v1/tax/settings",
        "head_office[address][country]=DE&head_office[address][city]=Berlin",
    )
    .send(&sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    let raw = res.json();
    assert_eq!(
        raw["head_office"]["address"],
        json!({"city": "Berlin", "country": "DE", "line1": null, "line2": null,
               "postal_code": null, "state": null})
    );
    assert_eq!(raw["defaults"]["tax_code"], "txcd_10103001");
    assert_eq!(raw["status_details"], json!({"active": {}}));
    let fetched = RetrieveForMyAccountTaxSettings::new()
        .send(&client)
        .await
        .unwrap();
    assert_eq!(fetched.status, TaxSettingsStatus::Active);
}

#[tokio::test]
async fn settings_values_can_change_but_never_be_removed() {
    let sandbox = start();
    let client = client(&sandbox);
    let set = Req::post(
        "/v1/tax/settings",
        "defaults[tax_behavior]=inclusive&defaults[tax_code]=txcd_10000000&\
         head_office[address][country]=GB&head_office[address][line2]=Floor+2",
    )
    .send(&sandbox);
    assert_eq!(set.status, 200, "{}", set.body);
    for (body, param) in [
        ("defaults[tax_behavior]=", "defaults[tax_behavior]"),
        ("defaults[tax_code]=", "defaults[tax_code]"),
        ("defaults=", "defaults"),
        ("head_office=", "head_office"),
        ("head_office[address]=", "head_office[address]"),
        (
            "head_office[address][country]=GB&head_office[address][line2]=",
            "head_office[address][line2]",
        ),
    ] {
        let res = Req::post("/v1/tax/settings", body).send(&sandbox);
        assert_eq!(
            refusal(&res),
            (
                400,
                Some("parameter_invalid_empty".into()),
                Some(param.into())
            ),
            "{body}: {}",
            res.body
        );
    }
    // Changing a value is fine.
    let mut defaults = UpdateTaxSettingsDefaults::new();
    defaults.tax_behavior = Some(UpdateTaxSettingsDefaultsTaxBehavior::InferredByCurrency);
    let settings = UpdateTaxSettings::new()
        .defaults(defaults)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(
        settings.defaults.tax_behavior,
        Some(TaxProductResourceTaxSettingsDefaultsTaxBehavior::InferredByCurrency)
    );
    assert_eq!(settings.defaults.tax_code.as_deref(), Some("txcd_10000000"));
}

#[test]
fn settings_check_codes_countries_and_unknown_parameters() {
    let sandbox = start();
    for (body, expected) in [
        (
            "defaults[tax_code]=txcd_123",
            (400, Some("resource_missing"), Some("defaults[tax_code]")),
        ),
        (
            "defaults[tax_behavior]=unspecified",
            (400, None, Some("defaults[tax_behavior]")),
        ),
        (
            "head_office[address][city]=Paris",
            (
                400,
                Some("parameter_missing"),
                Some("head_office[address][country]"),
            ),
        ),
        (
            "head_office[name]=HQ",
            (400, Some("parameter_unknown"), Some("head_office[name]")),
        ),
        (
            "head_office[address][country]=XX",
            (
                400,
                Some("country_code_invalid"),
                Some("head_office[address][country]"),
            ),
        ),
        (
            "head_office[address][country]=us",
            (
                400,
                Some("country_code_invalid"),
                Some("head_office[address][country]"),
            ),
        ),
        (
            "head_office[address][country]=US&head_office[address][zip]=1",
            (
                400,
                Some("parameter_unknown"),
                Some("head_office[address][zip]"),
            ),
        ),
        (
            "defaults[provider]=stripe",
            (400, Some("parameter_unknown"), Some("defaults[provider]")),
        ),
        (
            "status=active",
            (400, Some("parameter_unknown"), Some("status")),
        ),
    ] {
        let res = Req::post("/v1/tax/settings", body).send(&sandbox);
        let (status, code, param) = refusal(&res);
        assert_eq!(
            (status, code.as_deref(), param.as_deref()),
            expected,
            "{body}: {}",
            res.body
        );
    }
    // Nothing was changed, and no event recorded.
    let raw = Req::get("/v1/tax/settings").send(&sandbox).json();
    assert_eq!(raw["status"], "pending");
    assert!(event_types(&sandbox).is_empty());
    // There is nothing to delete or create.
    assert_eq!(Req::delete("/v1/tax/settings").send(&sandbox).status, 404);
}

// ---------------------------------------------------------------------------------------------
// Tax registrations

fn germany() -> CreateTaxRegistrationCountryOptions {
    let mut de = CreateTaxRegistrationCountryOptionsDe::new(
        CreateTaxRegistrationCountryOptionsDeType::Standard,
    );
    de.standard = Some(CreateTaxRegistrationCountryOptionsDeStandard::new(
        CreateTaxRegistrationCountryOptionsDeStandardPlaceOfSupplyScheme::SmallSeller,
    ));
    let mut options = CreateTaxRegistrationCountryOptions::new();
    options.de = Some(de);
    options
}

fn registration(sandbox: &stripe_sandbox::Sandbox, body: &str) -> Value {
    let res = Req::post("/v1/tax/registrations", body).send(sandbox);
    assert_eq!(res.status, 200, "{body}: {}", res.body);
    res.json()
}

#[tokio::test]
async fn registration_create_returns_a_complete_object_and_records_no_event() {
    let sandbox = start();
    let client = client(&sandbox);
    let before = unix_now();
    let created = CreateTaxRegistration::new(CreateTaxRegistrationActiveFrom::Now, "DE", germany())
        .send(&client)
        .await
        .unwrap();
    assert!(created.id.as_str().starts_with("taxreg_"), "{}", created.id);
    assert_eq!(created.country, "DE");
    assert_eq!(created.status, TaxRegistrationStatus::Active);
    assert!(created.active_from >= before && created.active_from <= unix_now());
    assert_eq!(created.expires_at, None);
    assert!(!created.livemode);
    let de = created.country_options.de.expect("de options");
    assert_eq!(de.type_.as_str(), "standard");
    assert_eq!(
        de.standard
            .expect("standard")
            .place_of_supply_scheme
            .as_str(),
        "small_seller"
    );

    let raw = Req::get(&format!("/v1/tax/registrations/{}", created.id))
        .send(&sandbox)
        .json();
    assert_eq!(
        keys(&raw),
        [
            "id",
            "object",
            "active_from",
            "country",
            "country_options",
            "created",
            "expires_at",
            "livemode",
            "status"
        ]
    );
    assert_eq!(raw["object"], "tax.registration");
    assert_eq!(
        raw["country_options"],
        json!({"de": {"standard": {"place_of_supply_scheme": "small_seller"}, "type": "standard"}})
    );
    let fetched = RetrieveTaxRegistration::new(created.id.clone())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(fetched.created, created.created);

    // A US state registration, typed.
    let mut options = CreateTaxRegistrationCountryOptions::new();
    options.us = Some(CreateTaxRegistrationCountryOptionsUs::new(
        "CA",
        CreateTaxRegistrationCountryOptionsUsType::StateSalesTax,
    ));
    let us = CreateTaxRegistration::new(CreateTaxRegistrationActiveFrom::Now, "US", options)
        .send(&client)
        .await
        .unwrap();
    let us_options = us.country_options.us.expect("us options");
    assert_eq!(
        (us_options.state.as_str(), us_options.type_.as_str()),
        ("CA", "state_sales_tax")
    );
    // Registrations record no events (Stripe has no event type for them).
    assert!(event_types(&sandbox).is_empty());
}

#[tokio::test]
async fn registration_status_moves_with_the_clock() {
    let sandbox = start();
    let client = client(&sandbox);
    let now = unix_now();
    let mut options = CreateTaxRegistrationCountryOptions::new();
    options.gb = Some(CreateTaxRegistrationCountryOptionsGb::new(
        CreateTaxRegistrationCountryOptionsGbType::Standard,
    ));
    let scheduled = CreateTaxRegistration::new(
        CreateTaxRegistrationActiveFrom::Timestamp(now + 3_600),
        "GB",
        options,
    )
    .expires_at(now + 7_200)
    .send(&client)
    .await
    .unwrap();
    assert_eq!(scheduled.status, TaxRegistrationStatus::Scheduled);
    let active = registration(
        &sandbox,
        "country=DE&country_options[de][type]=oss_union&active_from=now",
    );
    assert_eq!(active["status"], "active");

    let ids = |status: Option<ListTaxRegistrationStatus>| {
        let client = client.clone();
        async move {
            let mut list = ListTaxRegistration::new();
            if let Some(status) = status {
                list = list.status(status);
            }
            list.send(&client)
                .await
                .unwrap()
                .data
                .into_iter()
                .map(|r| (r.id.to_string(), r.status))
                .collect::<Vec<_>>()
        }
    };
    let active_id = active["id"].as_str().unwrap().to_string();
    let scheduled_id = scheduled.id.to_string();
    // Without `status`, every registration, newest first.
    assert_eq!(
        ids(None).await,
        [
            (active_id.clone(), TaxRegistrationStatus::Active),
            (scheduled_id.clone(), TaxRegistrationStatus::Scheduled)
        ]
    );
    assert_eq!(
        ids(Some(ListTaxRegistrationStatus::Scheduled)).await,
        [(scheduled_id.clone(), TaxRegistrationStatus::Scheduled)]
    );

    sandbox.advance_clock(3_600).unwrap();
    let now_active = RetrieveTaxRegistration::new(scheduled.id.clone())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(now_active.status, TaxRegistrationStatus::Active);
    assert_eq!(ids(Some(ListTaxRegistrationStatus::Active)).await.len(), 2);
    assert!(
        ids(Some(ListTaxRegistrationStatus::Scheduled))
            .await
            .is_empty()
    );

    sandbox.advance_clock(3_600).unwrap();
    assert_eq!(
        ids(Some(ListTaxRegistrationStatus::Expired)).await,
        [(scheduled_id, TaxRegistrationStatus::Expired)]
    );
    assert_eq!(
        ids(Some(ListTaxRegistrationStatus::Active)).await,
        [(active_id, TaxRegistrationStatus::Active)]
    );
    assert_eq!(ids(Some(ListTaxRegistrationStatus::All)).await.len(), 2);
    let bad = Req::get("/v1/tax/registrations?status=ended").send(&sandbox);
    assert_eq!(refusal(&bad), (400, None, Some("status".into())));
}

#[test]
fn registration_country_options_follow_the_country() {
    let sandbox = start();
    let post = |body: &str| Req::post("/v1/tax/registrations", body).send(&sandbox);
    for (body, expected) in [
        (
            "country=DE&active_from=now",
            (400, Some("parameter_missing"), Some("country_options")),
        ),
        (
            "country=DE&country_options[de][type]=standard",
            (400, Some("parameter_missing"), Some("active_from")),
        ),
        (
            "country=DE&active_from=now&country_options[fr][type]=standard",
            (400, None, Some("country_options[fr]")),
        ),
        (
            "country=DE&active_from=now&country_options[de][type]=simplified",
            (400, None, Some("country_options[de][type]")),
        ),
        (
            "country=DE&active_from=now&country_options[de][type]=standard&\
             country_options[de][standard][place_of_supply_scheme]=inbound",
            (
                400,
                None,
                Some("country_options[de][standard][place_of_supply_scheme]"),
            ),
        ),
        (
            "country=DE&active_from=now&country_options[de][type]=standard&\
             country_options[de][standard][foo]=1",
            (
                400,
                Some("parameter_unknown"),
                Some("country_options[de][standard][foo]"),
            ),
        ),
        (
            "country=DE&active_from=now&country_options[de][type]=oss_union&\
             country_options[de][standard][place_of_supply_scheme]=standard",
            (400, None, Some("country_options[de][standard]")),
        ),
        // Great Britain takes a standard registration only.
        (
            "country=GB&active_from=now&country_options[gb][type]=simplified",
            (400, None, Some("country_options[gb][type]")),
        ),
        // India a simplified one only.
        (
            "country=IN&active_from=now&country_options[in][type]=standard",
            (400, None, Some("country_options[in][type]")),
        ),
        (
            "country=BR&active_from=now&country_options[br][type]=standard",
            (400, Some("parameter_unknown"), Some("country_options[br]")),
        ),
        (
            "country=BR&active_from=now&country_options[de][type]=standard",
            (400, None, Some("country")),
        ),
        (
            "country=de&active_from=now&country_options[de][type]=standard",
            (400, Some("country_code_invalid"), Some("country")),
        ),
        (
            "country=US&active_from=now&country_options[us][type]=state_sales_tax",
            (
                400,
                Some("parameter_missing"),
                Some("country_options[us][state]"),
            ),
        ),
        (
            "country=US&active_from=now&country_options[us][type]=state_sales_tax&\
             country_options[us][state]=ZZ",
            (400, None, Some("country_options[us][state]")),
        ),
        (
            "country=US&active_from=now&country_options[us][type]=local_amusement_tax&\
             country_options[us][state]=IL",
            (
                400,
                Some("parameter_missing"),
                Some("country_options[us][local_amusement_tax][jurisdiction]"),
            ),
        ),
        (
            "country=US&active_from=now&country_options[us][type]=local_amusement_tax&\
             country_options[us][state]=IL&\
             country_options[us][local_amusement_tax][jurisdiction]=Chicago",
            (
                400,
                None,
                Some("country_options[us][local_amusement_tax][jurisdiction]"),
            ),
        ),
        (
            "country=US&active_from=now&country_options[us][type]=state_sales_tax&\
             country_options[us][state]=CA&\
             country_options[us][local_lease_tax][jurisdiction]=14000",
            (400, None, Some("country_options[us][local_lease_tax]")),
        ),
        (
            "country=US&active_from=now&country_options[us][type]=state_retail_delivery_fee&\
             country_options[us][state]=CA",
            (400, None, Some("country_options[us][type]")),
        ),
        (
            "country=CA&active_from=now&country_options[ca][type]=province_standard",
            (
                400,
                Some("parameter_missing"),
                Some("country_options[ca][province_standard][province]"),
            ),
        ),
        (
            "country=CA&active_from=now&country_options[ca][type]=province_standard&\
             country_options[ca][province_standard][province]=ON",
            (
                400,
                None,
                Some("country_options[ca][province_standard][province]"),
            ),
        ),
        (
            "country=DE&active_from=now&country_options[de][type]=standard&metadata[k]=v",
            (400, Some("parameter_unknown"), Some("metadata")),
        ),
    ] {
        let res = post(body);
        let (status, code, param) = refusal(&res);
        assert_eq!(
            (status, code.as_deref(), param.as_deref()),
            expected,
            "{body}: {}",
            res.body
        );
    }
    // And what each class takes is accepted.
    for body in [
        "country=US&active_from=now&country_options[us][type]=local_amusement_tax&\
         country_options[us][state]=IL&country_options[us][local_amusement_tax][jurisdiction]=14000",
        "country=US&active_from=now&country_options[us][type]=state_sales_tax&\
         country_options[us][state]=CO&\
         country_options[us][state_sales_tax][elections][0][type]=simplified_sellers_use_tax",
        "country=CA&active_from=now&country_options[ca][type]=province_standard&\
         country_options[ca][province_standard][province]=BC",
        "country=IN&active_from=now&country_options[in][type]=simplified",
        "country=NO&active_from=now&country_options[no][type]=standard&\
         country_options[no][standard][place_of_supply_scheme]=inbound_goods",
    ] {
        let created = registration(&sandbox, body);
        assert_eq!(created["status"], "active", "{body}");
    }
    let listed = Req::get("/v1/tax/registrations?limit=100")
        .send(&sandbox)
        .json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 5);
    assert_eq!(
        listed["data"][3]["country_options"]["us"]["state_sales_tax"],
        json!({"elections": [{"jurisdiction": null, "type": "simplified_sellers_use_tax"}]})
    );
    assert_eq!(
        listed["data"][2]["country_options"],
        json!({"ca": {"province_standard": {"province": "BC"}, "type": "province_standard"}})
    );
}

#[tokio::test]
async fn registration_updates_only_move_its_period() {
    let sandbox = start();
    let client = client(&sandbox);
    let now = unix_now();
    let created = registration(
        &sandbox,
        &format!(
            "country=DE&country_options[de][type]=standard&active_from={}",
            now + 600
        ),
    );
    let id = created["id"].as_str().unwrap().to_string();
    let path = format!("/v1/tax/registrations/{id}");
    for (body, param) in [
        ("country=FR", "country"),
        ("country_options[de][type]=ioss", "country_options"),
        ("status=expired", "status"),
    ] {
        let res = Req::post(&path, body).send(&sandbox);
        assert_eq!(
            refusal(&res),
            (400, Some("parameter_unknown".into()), Some(param.into())),
            "{body}"
        );
    }
    // While scheduled, the start can move.
    let moved = UpdateTaxRegistration::new(id.clone())
        .active_from(UpdateTaxRegistrationActiveFrom::Now)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(moved.status, TaxRegistrationStatus::Active);
    // Once active, it cannot.
    let res = Req::post(&path, &format!("active_from={}", now + 900)).send(&sandbox);
    assert_eq!(refusal(&res), (400, None, Some("active_from".into())));
    // An end in the past, or before the start, is refused.
    let res = Req::post(&path, &format!("expires_at={}", now - 60)).send(&sandbox);
    assert_eq!(refusal(&res), (400, None, Some("expires_at".into())));
    // An end can be set, and removed with `expires_at=`.
    let ending = UpdateTaxRegistration::new(id.clone())
        .expires_at(UpdateTaxRegistrationExpiresAt::Timestamp(now + 86_400))
        .send(&client)
        .await
        .unwrap();
    assert_eq!(ending.expires_at, Some(now + 86_400));
    let cleared = Req::post(&path, "expires_at=").send(&sandbox);
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert_eq!(cleared.json()["expires_at"], Value::Null);
    // `expires_at=now` ends it at once: expired, and then it cannot change any more.
    sandbox.advance_clock(1).unwrap();
    let ended = UpdateTaxRegistration::new(id.clone())
        .expires_at(UpdateTaxRegistrationExpiresAt::Now)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(ended.status, TaxRegistrationStatus::Expired);
    let res = Req::post(&path, "expires_at=").send(&sandbox);
    assert_eq!(res.status, 400, "{}", res.body);
    // No registration can be deleted.
    let res = Req::delete(&path).send(&sandbox);
    assert_eq!(res.status, 404);
    assert!(
        res.error().2.starts_with("Unrecognized request URL"),
        "{}",
        res.body
    );
    let res = Req::post("/v1/tax/registrations/taxreg_missing", "expires_at=now").send(&sandbox);
    assert_eq!(
        refusal(&res),
        (404, Some("resource_missing".into()), Some("id".into()))
    );
}

#[test]
fn registration_periods_are_checked() {
    let sandbox = start();
    let now = unix_now();
    let post = |body: String| Req::post("/v1/tax/registrations", &body).send(&sandbox);
    let base = "country=DE&country_options[de][type]=standard";
    let past = post(format!("{base}&active_from={}", now - 3_600));
    assert_eq!(refusal(&past), (400, None, Some("active_from".into())));
    let junk = post(format!("{base}&active_from=tomorrow"));
    assert_eq!(
        refusal(&junk),
        (
            400,
            Some("parameter_invalid_integer".into()),
            Some("active_from".into())
        )
    );
    let before_start = post(format!(
        "{base}&active_from={}&expires_at={}",
        now + 600,
        now + 300
    ));
    assert_eq!(
        refusal(&before_start),
        (400, None, Some("expires_at".into()))
    );
    let expires_now = post(format!("{base}&active_from=now&expires_at=now"));
    assert_eq!(
        refusal(&expires_now),
        (
            400,
            Some("parameter_invalid_integer".into()),
            Some("expires_at".into())
        )
    );
    // Two registrations for the same tax cannot overlap; after the first ends, a new one can
    // start.
    let first = post(format!("{base}&active_from=now&expires_at={}", now + 600));
    assert_eq!(first.status, 200, "{}", first.body);
    let overlapping = post(format!("{base}&active_from={}", now + 300));
    assert_eq!(overlapping.status, 400, "{}", overlapping.body);
    let other_tax = post(format!(
        "country=DE&country_options[de][type]=ioss&active_from={}",
        now + 300
    ));
    assert_eq!(other_tax.status, 200, "{}", other_tax.body);
    let after = post(format!("{base}&active_from={}", now + 600));
    assert_eq!(after.status, 200, "{}", after.body);
    // A scheduled registration is cancelled by ending it at its start, in one request; its
    // period is then empty, and a new one for the same tax can start at once.
    let scheduled = post(format!(
        "country=FR&country_options[fr][type]=standard&active_from={}",
        now + 3_600
    ));
    let id = scheduled.json()["id"].as_str().unwrap().to_string();
    let path = format!("/v1/tax/registrations/{id}");
    let early_end = Req::post(&path, "expires_at=now").send(&sandbox);
    assert_eq!(refusal(&early_end), (400, None, Some("expires_at".into())));
    let cancelled = Req::post(&path, "active_from=now&expires_at=now").send(&sandbox);
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let cancelled = cancelled.json();
    assert_eq!(cancelled["status"], "expired");
    assert_eq!(cancelled["active_from"], cancelled["expires_at"]);
    let replacement = post("country=FR&country_options[fr][type]=standard&active_from=now".into());
    assert_eq!(replacement.status, 200, "{}", replacement.body);
}

// ---------------------------------------------------------------------------------------------
// Tax rates

/// Every key of a tax rate (docs/stripe-rules.md#tax-rates).
const TAX_RATE_KEYS: &[&str] = &[
    "id",
    "object",
    "active",
    "country",
    "created",
    "description",
    "display_name",
    "effective_percentage",
    "flat_amount",
    "inclusive",
    "jurisdiction",
    "jurisdiction_level",
    "livemode",
    "metadata",
    "percentage",
    "rate_type",
    "state",
    "tax_type",
];

#[tokio::test]
async fn tax_rate_create_returns_a_complete_exact_rate() {
    let sandbox = start();
    let client = client(&sandbox);
    let vat = CreateTaxRate::new("VAT", false, 19.0)
        .country("DE")
        .jurisdiction("DE")
        .description("VAT Germany")
        .tax_type(TaxRateTaxType::Vat)
        .metadata(HashMap::from([("billing_key".into(), "vat_de".into())]))
        .send(&client)
        .await
        .unwrap();
    assert!(vat.id.as_str().starts_with("txr_"), "{}", vat.id);
    assert_eq!(
        (vat.percentage, vat.effective_percentage),
        (19.0, Some(19.0))
    );
    assert!(vat.active && !vat.inclusive && !vat.livemode);
    assert_eq!(vat.country.as_deref(), Some("DE"));
    assert_eq!(vat.tax_type, Some(TaxRateTaxType::Vat));
    assert_eq!(
        vat.rate_type.as_ref().map(|r| r.as_str()),
        Some("percentage")
    );
    assert!(vat.jurisdiction_level.is_none() && vat.flat_amount.is_none());
    assert_eq!(vat.metadata.as_ref().unwrap()["billing_key"], "vat_de");

    let raw = Req::get(&format!("/v1/tax_rates/{}", vat.id))
        .send(&sandbox)
        .json();
    assert_eq!(keys(&raw), TAX_RATE_KEYS);
    assert_eq!(raw["object"], "tax_rate");
    assert_eq!(raw["percentage"].to_string(), "19");

    // Percentages stay exact in JSON.
    let ny = Req::post(
        "/v1/tax_rates",
        "display_name=Sales+tax&inclusive=false&percentage=8.875&country=US&state=NY&\
         tax_type=sales_tax",
    )
    .send(&sandbox);
    assert_eq!(ny.status, 200, "{}", ny.body);
    assert!(ny.body.contains("\"percentage\": 8.875"), "{}", ny.body);
    assert!(
        ny.body.contains("\"effective_percentage\": 8.875"),
        "{}",
        ny.body
    );
    let fetched = RetrieveTaxRate::new(ny.json()["id"].as_str().unwrap())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(fetched.percentage, 8.875);
    assert_eq!(fetched.state.as_deref(), Some("NY"));
    assert_eq!(
        event_types(&sandbox),
        ["tax_rate.created", "tax_rate.created"]
    );
}

#[test]
fn tax_rate_create_refusals() {
    let sandbox = start();
    let base = "display_name=VAT&inclusive=false";
    for (body, expected) in [
        (
            "display_name=VAT&inclusive=false".to_string(),
            (400, Some("parameter_missing"), Some("percentage")),
        ),
        (
            "inclusive=false&percentage=5".into(),
            (400, Some("parameter_missing"), Some("display_name")),
        ),
        (
            "display_name=VAT&percentage=5".into(),
            (400, Some("parameter_missing"), Some("inclusive")),
        ),
        (
            format!("{base}&percentage=100.5"),
            (400, None, Some("percentage")),
        ),
        (
            format!("{base}&percentage=-1"),
            (400, None, Some("percentage")),
        ),
        (
            format!("{base}&percentage=1.23456"),
            (400, None, Some("percentage")),
        ),
        (
            format!("{base}&percentage=abc"),
            (400, None, Some("percentage")),
        ),
        (
            format!(
                "inclusive=false&percentage=5&display_name={}",
                "x".repeat(51)
            ),
            (400, None, Some("display_name")),
        ),
        (
            format!("{base}&percentage=5&jurisdiction={}", "x".repeat(51)),
            (400, None, Some("jurisdiction")),
        ),
        (
            format!("{base}&percentage=5&tax_type=wine_tax"),
            (400, None, Some("tax_type")),
        ),
        (
            format!("{base}&percentage=5&country=Germany"),
            (400, None, Some("country")),
        ),
        (
            format!("{base}&percentage=5&country=XX"),
            (400, Some("country_code_invalid"), Some("country")),
        ),
        (
            format!("{base}&percentage=5&state=NY"),
            (400, None, Some("state")),
        ),
        (
            format!("{base}&percentage=5&metadata="),
            (400, Some("parameter_invalid_empty"), Some("metadata")),
        ),
        (
            format!("{base}&percentage=5&flat_amount=100"),
            (400, Some("parameter_unknown"), Some("flat_amount")),
        ),
    ] {
        let res = Req::post("/v1/tax_rates", &body).send(&sandbox);
        let (status, code, param) = refusal(&res);
        assert_eq!(
            (status, code.as_deref(), param.as_deref()),
            expected,
            "{body}: {}",
            res.body
        );
    }
    // The edges are fine.
    for percentage in ["0", "100", "99.9999", "0.0001"] {
        let res =
            Req::post("/v1/tax_rates", &format!("{base}&percentage={percentage}")).send(&sandbox);
        assert_eq!(res.status, 200, "{percentage}: {}", res.body);
        assert!(
            res.body
                .contains(&format!("\"percentage\": {percentage}\n"))
                || res.body.contains(&format!("\"percentage\": {percentage},")),
            "{}",
            res.body
        );
    }
}

#[tokio::test]
async fn tax_rate_updates_only_what_is_mutable() {
    let sandbox = start();
    let client = client(&sandbox);
    let rate = CreateTaxRate::new("GST", true, 10.0)
        .country("AU")
        .metadata(HashMap::from([
            ("a".into(), "1".into()),
            ("b".into(), "2".into()),
        ]))
        .send(&client)
        .await
        .unwrap();
    let path = format!("/v1/tax_rates/{}", rate.id);
    for (body, param) in [
        ("percentage=12", "percentage"),
        ("inclusive=false", "inclusive"),
        ("effective_percentage=12", "effective_percentage"),
    ] {
        let res = Req::post(&path, body).send(&sandbox);
        assert_eq!(
            refusal(&res),
            (400, Some("parameter_unknown".into()), Some(param.into())),
            "{body}"
        );
    }
    for param in [
        "country",
        "state",
        "jurisdiction",
        "description",
        "display_name",
    ] {
        let res = Req::post(&path, &format!("{param}=")).send(&sandbox);
        assert_eq!(
            refusal(&res),
            (
                400,
                Some("parameter_invalid_empty".into()),
                Some(param.into())
            ),
            "{param}"
        );
    }
    let updated = UpdateTaxRate::new(rate.id.clone())
        .display_name("GST (AU)")
        .active(false)
        .tax_type(TaxRateTaxType::Gst)
        .state("NSW")
        .send(&client)
        .await
        .unwrap();
    assert_eq!(updated.display_name, "GST (AU)");
    assert!(!updated.active);
    assert_eq!(updated.percentage, 10.0);
    assert!(updated.inclusive);
    assert_eq!(updated.state.as_deref(), Some("NSW"));
    // Metadata merges: `metadata[a]=` removes one key.
    let merged = Req::post(&path, "metadata[a]=&metadata[c]=3").send(&sandbox);
    assert_eq!(merged.json()["metadata"], json!({"b": "2", "c": "3"}));
    let cleared = Req::post(&path, "metadata=").send(&sandbox);
    assert_eq!(cleared.json()["metadata"], json!({}));
    assert_eq!(
        event_types(&sandbox),
        [
            "tax_rate.updated",
            "tax_rate.updated",
            "tax_rate.updated",
            "tax_rate.created"
        ]
    );
    let (status, code, param, kind, message) =
        stripe_error(RetrieveTaxRate::new("txr_missing").send(&client).await);
    assert_eq!(
        (status, code.as_deref(), param.as_deref(), kind.as_str()),
        (
            404,
            Some("resource_missing"),
            Some("id"),
            "invalid_request_error"
        )
    );
    assert_eq!(message, "No such tax rate: 'txr_missing'");
    let missing = Req::post("/v1/tax_rates/txr_missing", "active=true").send(&sandbox);
    assert_eq!(
        refusal(&missing),
        (404, Some("resource_missing".into()), Some("id".into()))
    );
    assert_eq!(Req::delete(&path).send(&sandbox).status, 404);
}

#[tokio::test]
async fn tax_rate_list_filters() {
    let sandbox = start();
    let client = client(&sandbox);
    let exclusive = CreateTaxRate::new("VAT", false, 20.0)
        .send(&client)
        .await
        .unwrap();
    sandbox.advance_clock(10).unwrap();
    let inclusive = CreateTaxRate::new("VAT incl.", true, 20.0)
        .send(&client)
        .await
        .unwrap();
    sandbox.advance_clock(10).unwrap();
    let archived = CreateTaxRate::new("Old", false, 5.0)
        .active(false)
        .send(&client)
        .await
        .unwrap();
    let ids = |list: ListTaxRate| {
        let client = client.clone();
        async move {
            list.send(&client)
                .await
                .unwrap()
                .data
                .into_iter()
                .map(|r| r.id.to_string())
                .collect::<Vec<_>>()
        }
    };
    let all = ids(ListTaxRate::new()).await;
    assert_eq!(
        all,
        [
            archived.id.to_string(),
            inclusive.id.to_string(),
            exclusive.id.to_string()
        ]
    );
    assert_eq!(
        ids(ListTaxRate::new().active(true)).await,
        [inclusive.id.to_string(), exclusive.id.to_string()]
    );
    assert_eq!(
        ids(ListTaxRate::new().active(false)).await,
        [archived.id.to_string()]
    );
    assert_eq!(
        ids(ListTaxRate::new().inclusive(true)).await,
        [inclusive.id.to_string()]
    );
    assert_eq!(
        ids(ListTaxRate::new().created(RangeQueryTs::gt(exclusive.created))).await,
        [archived.id.to_string(), inclusive.id.to_string()]
    );
    assert_eq!(
        ids(ListTaxRate::new()
            .limit(1)
            .starting_after(archived.id.as_str()))
        .await,
        [inclusive.id.to_string()]
    );
    let res = Req::get("/v1/tax_rates?percentage=20").send(&sandbox);
    assert_eq!(
        refusal(&res),
        (
            400,
            Some("parameter_unknown".into()),
            Some("percentage".into())
        )
    );
    let res = Req::get("/v1/tax_rates?expand[]=data.country").send(&sandbox);
    assert_eq!(res.status, 400, "{}", res.body);
}
