//! Billing portal configurations over real HTTP (docs/stripe-rules.md#portal-configurations): the
//! default configuration every account starts with, complete objects async-stripe can read, the
//! includable `features.subscription_update.products`, product and price checks, the create/update
//! requiredness differences, emptyable fields, list filters and events.

use std::collections::HashMap;

use serde_json::{Value, json};
use stripe_billing::BillingPortalConfiguration;
use stripe_billing::billing_portal_configuration::{
    CreateBillingPortalConfiguration, CreateBillingPortalConfigurationBusinessProfile,
    CreateBillingPortalConfigurationFeatures,
    CreateBillingPortalConfigurationFeaturesCustomerUpdate,
    CreateBillingPortalConfigurationFeaturesCustomerUpdateAllowedUpdates,
    CreateBillingPortalConfigurationFeaturesSubscriptionCancel,
    CreateBillingPortalConfigurationFeaturesSubscriptionCancelMode,
    CreateBillingPortalConfigurationFeaturesSubscriptionUpdate,
    CreateBillingPortalConfigurationFeaturesSubscriptionUpdateDefaultAllowedUpdates,
    CreateBillingPortalConfigurationFeaturesSubscriptionUpdateProrationBehavior, InvoiceListParam,
    ListBillingPortalConfiguration, PaymentMethodUpdateParam, RetrieveBillingPortalConfiguration,
    SubscriptionUpdateProductParam, UpdateBillingPortalConfiguration,
    UpdateBillingPortalConfigurationBusinessProfile, UpdateBillingPortalConfigurationFeatures,
    UpdateBillingPortalConfigurationLoginPage,
};
use stripe_sandbox::Sandbox;

use super::support::{
    RawResponse, Req, client, event_types, keys, price, product, start, stripe_error,
};

const PATH: &str = "/v1/billing_portal/configurations";

/// Every key of a configuration (docs/stripe-rules.md#portal-configurations).
const KEYS: &[&str] = &[
    "id",
    "object",
    "active",
    "application",
    "business_profile",
    "created",
    "default_return_url",
    "features",
    "is_default",
    "livemode",
    "login_page",
    "metadata",
    "name",
    "updated",
];

/// An expected refusal: `(status, code, param)`.
type Expected<'a> = (u16, Option<&'a str>, String);

/// The expansion that includes `features.subscription_update.products`.
const PRODUCTS: &str = "features.subscription_update.products";

/// `(status, code, param)` of a raw error response.
fn refusal(res: &RawResponse) -> (u16, Option<String>, Option<String>) {
    let (code, param, _) = res.error();
    (res.status, code, param)
}

fn create(sandbox: &Sandbox, body: &str) -> Value {
    let res = Req::post(PATH, body).send(sandbox);
    assert_eq!(res.status, 200, "{body}: {}", res.body);
    res.json()
}

fn update(sandbox: &Sandbox, id: &str, body: &str) -> RawResponse {
    Req::post(&format!("{PATH}/{id}"), body).send(sandbox)
}

/// The id of the account's default configuration.
fn default_id(sandbox: &Sandbox) -> String {
    let listed = Req::get(&format!("{PATH}?is_default=true"))
        .send(sandbox)
        .json();
    listed["data"][0]["id"]
        .as_str()
        .expect("a default")
        .to_string()
}

/// A product with monthly and yearly USD prices: `(product, monthly, yearly)`.
fn catalog(sandbox: &Sandbox, name: &str) -> (String, String, String) {
    let prod = product(sandbox, &format!("name={name}"));
    let monthly = price(
        sandbox,
        &format!("product={prod}&currency=usd&unit_amount=1000&recurring[interval]=month"),
    );
    let yearly = price(
        sandbox,
        &format!("product={prod}&currency=usd&unit_amount=10000&recurring[interval]=year"),
    );
    (prod, monthly, yearly)
}

/// A body enabling subscription updates (prices) for `entries` of `(product, [prices])`.
fn subscription_update(entries: &[(&str, &[&str])]) -> String {
    let mut body = String::from(
        "features[subscription_update][enabled]=true&\
         features[subscription_update][default_allowed_updates][0]=price",
    );
    for (i, (prod, prices)) in entries.iter().enumerate() {
        body.push_str(&format!(
            "&features[subscription_update][products][{i}][product]={prod}"
        ));
        for (j, p) in prices.iter().enumerate() {
            body.push_str(&format!(
                "&features[subscription_update][products][{i}][prices][{j}]={p}"
            ));
        }
    }
    body
}

#[tokio::test]
async fn every_account_starts_with_a_default_configuration_the_api_can_update() {
    let sandbox = start();
    let client = client(&sandbox);
    let listed = ListBillingPortalConfiguration::new()
        .send(&client)
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 1);
    let default = &listed.data[0];
    assert!(default.is_default && default.active && !default.livemode);
    assert!(default.id.as_str().starts_with("bpc_"), "{}", default.id);
    let features = &default.features;
    assert!(!features.customer_update.enabled && !features.invoice_history.enabled);
    assert!(!features.payment_method_update.enabled);
    assert!(!features.subscription_cancel.enabled && !features.subscription_update.enabled);
    assert!(!default.login_page.enabled && default.login_page.url.is_none());
    assert!(default.metadata.is_none() && default.name.is_none());
    assert!(default.application.is_none());
    assert_eq!(default.created, default.updated);

    let raw = Req::get(&format!("{PATH}/{}", default.id))
        .send(&sandbox)
        .json();
    assert_eq!(keys(&raw), KEYS);
    assert_eq!(raw["object"], "billing_portal.configuration");
    assert_eq!(raw["metadata"], Value::Null);
    assert_eq!(
        keys(&raw["features"]["subscription_update"]),
        [
            "billing_cycle_anchor",
            "default_allowed_updates",
            "enabled",
            "proration_behavior",
            "schedule_at_period_end",
            "trial_update_behavior"
        ]
    );

    sandbox.advance_clock(60).unwrap();
    let mut profile = UpdateBillingPortalConfigurationBusinessProfile::new();
    profile.headline = Some("Manage your Acme subscription".into());
    let mut features = UpdateBillingPortalConfigurationFeatures::new();
    features.invoice_history = Some(InvoiceListParam::new(true));
    let updated = UpdateBillingPortalConfiguration::new(default.id.clone())
        .business_profile(profile)
        .features(features)
        .send(&client)
        .await
        .unwrap();
    assert!(updated.is_default);
    assert_eq!(
        updated.business_profile.headline.as_deref(),
        Some("Manage your Acme subscription")
    );
    assert!(updated.features.invoice_history.enabled);
    assert_eq!(updated.created, default.created);
    assert!(updated.updated >= default.updated + 60);
    assert_eq!(
        event_types(&sandbox),
        ["billing_portal.configuration.updated"]
    );
    let fetched = RetrieveBillingPortalConfiguration::new(default.id.clone())
        .send(&client)
        .await
        .unwrap();
    assert!(fetched.features.invoice_history.enabled);

    // Another account has another default configuration.
    assert_ne!(default_id(&start()), default.id.as_str());
}

#[tokio::test]
async fn created_configurations_are_complete_and_never_default() {
    let sandbox = start();
    let client = client(&sandbox);
    let mut customer_update = CreateBillingPortalConfigurationFeaturesCustomerUpdate::new(true);
    customer_update.allowed_updates = Some(vec![
        CreateBillingPortalConfigurationFeaturesCustomerUpdateAllowedUpdates::Email,
        CreateBillingPortalConfigurationFeaturesCustomerUpdateAllowedUpdates::TaxId,
    ]);
    let mut cancel = CreateBillingPortalConfigurationFeaturesSubscriptionCancel::new(true);
    cancel.mode = Some(CreateBillingPortalConfigurationFeaturesSubscriptionCancelMode::AtPeriodEnd);
    let mut features = CreateBillingPortalConfigurationFeatures::new();
    features.customer_update = Some(customer_update);
    features.invoice_history = Some(InvoiceListParam::new(true));
    features.payment_method_update = Some(PaymentMethodUpdateParam::new(true));
    features.subscription_cancel = Some(cancel);
    let mut profile = CreateBillingPortalConfigurationBusinessProfile::new();
    profile.privacy_policy_url = Some("https://acme.example/privacy".into());
    profile.terms_of_service_url = Some("https://acme.example/terms".into());
    let created = CreateBillingPortalConfiguration::new(features)
        .business_profile(profile)
        .default_return_url("https://acme.example/account")
        .name("Acme portal")
        .metadata(HashMap::from([("billing_key".into(), "portal".into())]))
        .send(&client)
        .await
        .unwrap();
    assert!(!created.is_default && created.active && !created.livemode);
    assert!(created.id.as_str().starts_with("bpc_"));
    assert_eq!(created.name.as_deref(), Some("Acme portal"));
    assert_eq!(
        created.default_return_url.as_deref(),
        Some("https://acme.example/account")
    );
    assert_eq!(
        created.business_profile.terms_of_service_url.as_deref(),
        Some("https://acme.example/terms")
    );
    let allowed: Vec<&str> = created
        .features
        .customer_update
        .allowed_updates
        .iter()
        .map(|a| a.as_str())
        .collect();
    assert_eq!(allowed, ["email", "tax_id"]);
    assert_eq!(
        created.features.subscription_cancel.mode.as_str(),
        "at_period_end"
    );
    assert_eq!(
        created
            .features
            .subscription_cancel
            .proration_behavior
            .as_str(),
        "none"
    );
    assert!(created.features.subscription_update.products.is_none());
    assert_eq!(created.metadata.as_ref().unwrap()["billing_key"], "portal");

    let raw = Req::get(&format!("{PATH}/{}", created.id))
        .send(&sandbox)
        .json();
    assert_eq!(keys(&raw), KEYS);
    assert!(
        raw["features"]["subscription_update"]
            .get("products")
            .is_none()
    );
    assert_eq!(raw["application"], Value::Null);
    assert_eq!(
        event_types(&sandbox),
        ["billing_portal.configuration.created"]
    );

    // `features` is required on create.
    let res = Req::post(PATH, "name=Nothing").send(&sandbox);
    assert_eq!(
        refusal(&res),
        (
            400,
            Some("parameter_missing".into()),
            Some("features".into())
        )
    );
}

#[tokio::test]
async fn subscription_update_products_are_included_only_when_expanded() {
    let sandbox = start();
    let client = client(&sandbox);
    let (pro, monthly, yearly) = catalog(&sandbox, "Pro");
    let created = create(
        &sandbox,
        &subscription_update(&[(&pro, &[&monthly, &yearly])]),
    );
    assert!(
        created["features"]["subscription_update"]
            .get("products")
            .is_none()
    );
    let id = created["id"].as_str().unwrap();

    let expanded = Req::get(&format!("{PATH}/{id}?expand[]={PRODUCTS}"))
        .send(&sandbox)
        .json();
    assert_eq!(
        expanded["features"]["subscription_update"]["products"],
        json!([{
            "adjustable_quantity": {"enabled": false, "maximum": null, "minimum": 0},
            "prices": [monthly, yearly],
            "product": pro,
        }])
    );
    let typed: BillingPortalConfiguration = RetrieveBillingPortalConfiguration::new(id)
        .expand(vec![PRODUCTS.to_string()])
        .send(&client)
        .await
        .unwrap();
    let products = typed
        .features
        .subscription_update
        .products
        .expect("products");
    assert_eq!(products[0].product, pro);
    assert_eq!(products[0].prices, [monthly.clone(), yearly.clone()]);
    // Also on create and update responses when asked for.
    let res = update(&sandbox, id, &format!("name=Renamed&expand[0]={PRODUCTS}"));
    assert_eq!(
        res.json()["features"]["subscription_update"]["products"][0]["product"],
        pro.as_str()
    );

    // On lists, under `data.`.
    let listed = ListBillingPortalConfiguration::new()
        .expand(vec![format!("data.{PRODUCTS}")])
        .send(&client)
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 2);
    assert!(
        listed
            .data
            .iter()
            .all(|c| c.features.subscription_update.products.is_some())
    );
    let plain = Req::get(PATH).send(&sandbox).json();
    assert!(plain["data"].as_array().unwrap().iter().all(|c| {
        c["features"]["subscription_update"]
            .get("products")
            .is_none()
    }));
    for bad in [
        format!("{PATH}?expand[]={PRODUCTS}"),
        format!("{PATH}/{id}?expand[]=features"),
        format!("{PATH}/{id}?expand[]=features.subscription_update"),
        format!("{PATH}/{id}?expand[]=features.customer_update.allowed_updates"),
        format!("{PATH}/{id}?expand[]={PRODUCTS}.prices"),
    ] {
        let res = Req::get(&bad).send(&sandbox);
        assert_eq!(refusal(&res), (400, None, Some("expand".into())), "{bad}");
    }
    // `application` expands (to nothing: no Connect application made it).
    let res = Req::get(&format!("{PATH}/{id}?expand[]=application")).send(&sandbox);
    assert_eq!(res.json()["application"], Value::Null);
}

#[test]
fn subscription_update_products_and_prices_are_checked() {
    let sandbox = start();
    let (pro, monthly, yearly) = catalog(&sandbox, "Pro");
    let (team, team_monthly, _) = catalog(&sandbox, "Team");
    let (old, old_monthly, _) = catalog(&sandbox, "Old");
    let archived_product = Req::post(&format!("/v1/products/{old}"), "active=false").send(&sandbox);
    assert_eq!(archived_product.status, 200, "{}", archived_product.body);
    let one_time = price(
        &sandbox,
        &format!("product={pro}&currency=usd&unit_amount=500"),
    );
    let archived = price(
        &sandbox,
        &format!("product={pro}&currency=eur&unit_amount=900&recurring[interval]=month"),
    );
    let res = Req::post(&format!("/v1/prices/{archived}"), "active=false").send(&sandbox);
    assert_eq!(res.status, 200, "{}", res.body);
    let second_monthly = price(
        &sandbox,
        &format!("product={pro}&currency=usd&unit_amount=1200&recurring[interval]=month"),
    );
    let p0 = "features[subscription_update][products][0]";
    let cases: Vec<(String, Expected)> = vec![
        (
            subscription_update(&[("prod_missing", &[&monthly])]),
            (400, Some("resource_missing"), format!("{p0}[product]")),
        ),
        (
            subscription_update(&[(&old, &[&old_monthly])]),
            (400, None, format!("{p0}[product]")),
        ),
        (
            subscription_update(&[(&pro, &[&team_monthly])]),
            (400, None, format!("{p0}[prices][0]")),
        ),
        (
            subscription_update(&[(&pro, &[&monthly, &one_time])]),
            (400, None, format!("{p0}[prices][1]")),
        ),
        (
            subscription_update(&[(&pro, &[&archived])]),
            (400, None, format!("{p0}[prices][0]")),
        ),
        (
            subscription_update(&[(&pro, &["price_missing"])]),
            (400, Some("resource_missing"), format!("{p0}[prices][0]")),
        ),
        (
            subscription_update(&[(&pro, &[&monthly, &monthly])]),
            (400, None, format!("{p0}[prices][1]")),
        ),
        (
            subscription_update(&[(&pro, &[&monthly, &second_monthly])]),
            (400, None, format!("{p0}[prices][1]")),
        ),
        (
            subscription_update(&[(&pro, &[&monthly]), (&pro, &[&yearly])]),
            (
                400,
                None,
                "features[subscription_update][products][1][product]".into(),
            ),
        ),
        (
            format!(
                "{}&{p0}[adjustable_quantity][enabled]=true&\
                 {p0}[adjustable_quantity][minimum]=5&{p0}[adjustable_quantity][maximum]=2",
                subscription_update(&[(&pro, &[&monthly])])
            ),
            (400, None, format!("{p0}[adjustable_quantity][maximum]")),
        ),
        (
            format!(
                "{}&{p0}[adjustable_quantity][enabled]=false&{p0}[adjustable_quantity][maximum]=2",
                subscription_update(&[(&pro, &[&monthly])])
            ),
            (400, None, format!("{p0}[adjustable_quantity][enabled]")),
        ),
        (
            format!(
                "{}&{p0}[adjustable_quantity][maximum]=2",
                subscription_update(&[(&pro, &[&monthly])])
            ),
            (
                400,
                Some("parameter_missing"),
                format!("{p0}[adjustable_quantity][enabled]"),
            ),
        ),
        (
            format!(
                "features[subscription_update][enabled]=true&\
                 features[subscription_update][default_allowed_updates][0]=price&{p0}[product]={pro}"
            ),
            (400, Some("parameter_missing"), format!("{p0}[prices]")),
        ),
    ];
    for (body, (status, code, param)) in cases {
        let res = Req::post(PATH, &body).send(&sandbox);
        let (got_status, got_code, got_param) = refusal(&res);
        assert_eq!(
            (got_status, got_code.as_deref(), got_param.as_deref()),
            (status, code, Some(param.as_str())),
            "{body}: {}",
            res.body
        );
    }
    // At most 10 products.
    let products: Vec<(String, String)> = (0..11)
        .map(|i| {
            let (p, m, _) = catalog(&sandbox, &format!("P{i}"));
            (p, m)
        })
        .collect();
    let entries: Vec<(&str, Vec<&str>)> = products
        .iter()
        .map(|(p, m)| (p.as_str(), vec![m.as_str()]))
        .collect();
    let borrowed: Vec<(&str, &[&str])> = entries.iter().map(|(p, m)| (*p, m.as_slice())).collect();
    let res = Req::post(PATH, &subscription_update(&borrowed)).send(&sandbox);
    assert_eq!(
        refusal(&res),
        (
            400,
            None,
            Some("features[subscription_update][products]".into())
        ),
        "{}",
        res.body
    );
    let ten = create(&sandbox, &subscription_update(&borrowed[..10]));
    assert_eq!(ten["features"]["subscription_update"]["enabled"], true);
    // Valid quantities, and a product with both its prices, are fine; nothing else was created.
    let fine = create(
        &sandbox,
        &format!(
            "{}&{p0}[adjustable_quantity][enabled]=true&{p0}[adjustable_quantity][minimum]=1&\
             {p0}[adjustable_quantity][maximum]=50&expand[]={PRODUCTS}",
            subscription_update(&[(&pro, &[&monthly, &yearly]), (&team, &[&team_monthly])])
        ),
    );
    assert_eq!(
        fine["features"]["subscription_update"]["products"][0]["adjustable_quantity"],
        json!({"enabled": true, "maximum": 50, "minimum": 1})
    );
    let listed = Req::get(&format!("{PATH}?limit=100")).send(&sandbox).json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 3);
}

#[test]
fn enabled_subscription_updates_need_products_and_allowed_updates() {
    let sandbox = start();
    let (pro, monthly, _) = catalog(&sandbox, "Pro");
    let su = "features[subscription_update]";
    let res = Req::post(
        PATH,
        &format!("{su}[enabled]=true&{su}[default_allowed_updates][0]=price"),
    )
    .send(&sandbox);
    assert_eq!(refusal(&res), (400, None, Some(format!("{su}[products]"))));
    let res = Req::post(
        PATH,
        &format!("{su}[enabled]=true&{su}[products][0][product]={pro}&{su}[products][0][prices][0]={monthly}"),
    )
    .send(&sandbox);
    assert_eq!(
        refusal(&res),
        (400, None, Some(format!("{su}[default_allowed_updates]")))
    );
    // Disabled, nothing is needed; enabled with both, it works.
    create(&sandbox, &format!("{su}[enabled]=false"));
    let config = create(&sandbox, &subscription_update(&[(&pro, &[&monthly])]));
    let id = config["id"].as_str().unwrap();
    // Emptying either while enabled is refused; disabling first is fine.
    for body in [
        format!("{su}[products]="),
        format!("{su}[default_allowed_updates]="),
    ] {
        let res = update(&sandbox, id, &body);
        assert_eq!(res.status, 400, "{body}: {}", res.body);
    }
    let res = update(
        &sandbox,
        id,
        &format!(
            "{su}[enabled]=false&{su}[products]=&{su}[default_allowed_updates]=&expand[]={PRODUCTS}"
        ),
    );
    assert_eq!(res.status, 200, "{}", res.body);
    let body = res.json();
    assert_eq!(
        body["features"]["subscription_update"]["products"],
        json!([])
    );
    assert_eq!(
        body["features"]["subscription_update"]["default_allowed_updates"],
        json!([])
    );
}

#[tokio::test]
async fn cancellation_proration_applies_only_to_immediate_cancellations() {
    let sandbox = start();
    let client = client(&sandbox);
    let sc = "features[subscription_cancel]";
    let res = Req::post(
        PATH,
        &format!(
            "{sc}[enabled]=true&{sc}[mode]=at_period_end&{sc}[proration_behavior]=create_prorations"
        ),
    )
    .send(&sandbox);
    assert_eq!(
        refusal(&res),
        (400, None, Some(format!("{sc}[proration_behavior]")))
    );
    let res = Req::post(
        PATH,
        &format!(
            "{sc}[enabled]=true&{sc}[mode]=immediately&{sc}[proration_behavior]=always_invoice"
        ),
    )
    .send(&sandbox);
    assert_eq!(
        refusal(&res),
        (400, None, Some(format!("{sc}[proration_behavior]")))
    );
    let config = create(
        &sandbox,
        &format!(
            "{sc}[enabled]=true&{sc}[mode]=immediately&{sc}[proration_behavior]=create_prorations"
        ),
    );
    assert_eq!(
        config["features"]["subscription_cancel"]["proration_behavior"],
        "create_prorations"
    );
    let id = config["id"].as_str().unwrap();
    // Back to cancelling at the period end: nothing is prorated.
    let res = update(&sandbox, id, &format!("{sc}[mode]=at_period_end"));
    assert_eq!(
        res.json()["features"]["subscription_cancel"]["proration_behavior"],
        "none"
    );
    let res = update(&sandbox, id, &format!("{sc}[proration_behavior]=none"));
    assert_eq!(
        refusal(&res),
        (400, None, Some(format!("{sc}[proration_behavior]")))
    );

    // Cancellation reasons: options are required on create, and cannot be empty when enabled.
    let cr = format!("{sc}[cancellation_reason]");
    let res = Req::post(PATH, &format!("{sc}[enabled]=true&{cr}[enabled]=true")).send(&sandbox);
    assert_eq!(
        refusal(&res),
        (
            400,
            Some("parameter_missing".into()),
            Some(format!("{cr}[options]"))
        )
    );
    let res = update(
        &sandbox,
        id,
        &format!("{cr}[enabled]=true&{cr}[options][0]=too_expensive&{cr}[options][1]=other"),
    );
    assert_eq!(res.status, 200, "{}", res.body);
    let res = update(&sandbox, id, &format!("{cr}[enabled]=true&{cr}[options]="));
    assert_eq!(refusal(&res), (400, None, Some(format!("{cr}[options]"))));
    let res = update(
        &sandbox,
        id,
        &format!("{cr}[enabled]=true&{cr}[feedback_options][0]=bfo_123"),
    );
    assert_eq!(
        refusal(&res),
        (
            400,
            Some("resource_missing".into()),
            Some(format!("{cr}[feedback_options][0]"))
        )
    );
    let typed = RetrieveBillingPortalConfiguration::new(id)
        .send(&client)
        .await
        .unwrap();
    let options: Vec<&str> = typed
        .features
        .subscription_cancel
        .cancellation_reason
        .options
        .iter()
        .map(|o| o.as_str())
        .collect();
    assert_eq!(options, ["too_expensive", "other"]);
}

#[tokio::test]
async fn is_default_is_read_only_and_the_default_stays_active() {
    let sandbox = start();
    let client = client(&sandbox);
    let res = Req::post(
        PATH,
        "is_default=true&features[invoice_history][enabled]=true",
    )
    .send(&sandbox);
    assert_eq!(
        refusal(&res),
        (
            400,
            Some("parameter_unknown".into()),
            Some("is_default".into())
        )
    );
    let default = default_id(&sandbox);
    let res = update(&sandbox, &default, "is_default=false");
    assert_eq!(
        refusal(&res),
        (
            400,
            Some("parameter_unknown".into()),
            Some("is_default".into())
        )
    );
    let res = update(&sandbox, &default, "active=false");
    assert_eq!(refusal(&res), (400, None, Some("active".into())));

    // Created configurations can be deactivated, and the list filters see it.
    let created = create(&sandbox, "features[invoice_history][enabled]=true");
    let id = created["id"].as_str().unwrap().to_string();
    let deactivated = UpdateBillingPortalConfiguration::new(id.clone())
        .active(false)
        .send(&client)
        .await
        .unwrap();
    assert!(!deactivated.active && !deactivated.is_default);
    let ids = |list: ListBillingPortalConfiguration| {
        let client = client.clone();
        async move {
            list.send(&client)
                .await
                .unwrap()
                .data
                .into_iter()
                .map(|c| c.id.to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids(ListBillingPortalConfiguration::new()).await,
        [id.clone(), default.clone()]
    );
    assert_eq!(
        ids(ListBillingPortalConfiguration::new().active(false)).await,
        [id.as_str()]
    );
    assert_eq!(
        ids(ListBillingPortalConfiguration::new().active(true)).await,
        [default.as_str()]
    );
    assert_eq!(
        ids(ListBillingPortalConfiguration::new().is_default(true)).await,
        [default.as_str()]
    );
    assert_eq!(
        ids(ListBillingPortalConfiguration::new().is_default(false)).await,
        [id.as_str()]
    );
    assert_eq!(
        ids(ListBillingPortalConfiguration::new()
            .limit(1)
            .starting_after(id.as_str()))
        .await,
        [default]
    );
    assert_eq!(
        event_types(&sandbox),
        [
            "billing_portal.configuration.updated",
            "billing_portal.configuration.created"
        ]
    );
    let res = Req::get(&format!("{PATH}?is_default=yes")).send(&sandbox);
    assert_eq!(refusal(&res), (400, None, Some("is_default".into())));
    let (status, code, param, _, _) = stripe_error(
        RetrieveBillingPortalConfiguration::new("bpc_missing")
            .send(&client)
            .await,
    );
    assert_eq!(
        (status, code.as_deref(), param.as_deref()),
        (404, Some("resource_missing"), Some("id"))
    );
    assert_eq!(
        Req::delete(&format!("{PATH}/{id}")).send(&sandbox).status,
        404
    );
}

#[test]
fn urls_must_be_https_and_headlines_short() {
    let sandbox = start();
    let base = "features[invoice_history][enabled]=true";
    for (body, expected) in [
        (
            format!("{base}&default_return_url=http://acme.example"),
            (400, Some("url_invalid"), "default_return_url"),
        ),
        (
            format!("{base}&business_profile[privacy_policy_url]=acme.example/privacy"),
            (
                400,
                Some("url_invalid"),
                "business_profile[privacy_policy_url]",
            ),
        ),
        (
            format!("{base}&business_profile[terms_of_service_url]=ftp://acme.example"),
            (
                400,
                Some("url_invalid"),
                "business_profile[terms_of_service_url]",
            ),
        ),
        (
            format!("{base}&business_profile[headline]={}", "h".repeat(61)),
            (400, None, "business_profile[headline]"),
        ),
        (
            format!(
                "{base}&features[payment_method_update][enabled]=true&\
                     features[payment_method_update][payment_method_configuration]=pmc_123"
            ),
            (
                400,
                Some("resource_missing"),
                "features[payment_method_update][payment_method_configuration]",
            ),
        ),
        (
            format!(
                "{base}&features[customer_update][enabled]=true&\
                     features[customer_update][allowed_updates][0]=email&\
                     features[customer_update][allowed_updates][1]=email"
            ),
            (400, None, "features[customer_update][allowed_updates][1]"),
        ),
        (
            format!(
                "{base}&features[customer_update][enabled]=true&\
                     features[customer_update][allowed_updates][0]=avatar"
            ),
            (400, None, "features[customer_update][allowed_updates][0]"),
        ),
        (
            format!(
                "{base}&features[subscription_update][enabled]=false&\
                     features[subscription_update][proration_behavior]=sometimes"
            ),
            (
                400,
                None,
                "features[subscription_update][proration_behavior]",
            ),
        ),
        (
            format!("{base}&features[subscription_pause][enabled]=false"),
            (
                400,
                Some("parameter_unknown"),
                "features[subscription_pause]",
            ),
        ),
    ] {
        let res = Req::post(PATH, &body).send(&sandbox);
        let (status, code, param) = refusal(&res);
        assert_eq!(
            (status, code.as_deref(), param.as_deref()),
            (expected.0, expected.1, Some(expected.2)),
            "{body}: {}",
            res.body
        );
    }
    let fine = create(
        &sandbox,
        &format!("{base}&business_profile[headline]={}", "h".repeat(60)),
    );
    assert_eq!(fine["business_profile"]["headline"], "h".repeat(60));
}

#[test]
fn emptyable_fields_clear_and_the_others_refuse_empty() {
    let sandbox = start();
    let created = create(
        &sandbox,
        "features[customer_update][enabled]=true&features[customer_update][allowed_updates][0]=email&\
         features[subscription_update][enabled]=false&\
         features[subscription_update][default_allowed_updates][0]=quantity&\
         features[subscription_update][schedule_at_period_end][conditions][0][type]=shortening_interval&\
         business_profile[headline]=Hi&default_return_url=https://acme.example&name=Portal&\
         metadata[a]=1",
    );
    let id = created["id"].as_str().unwrap();
    let res = update(
        &sandbox,
        id,
        "features[customer_update][allowed_updates]=&\
         features[subscription_update][default_allowed_updates]=&\
         features[subscription_update][schedule_at_period_end][conditions]=&\
         features[payment_method_update][enabled]=false&\
         features[payment_method_update][payment_method_configuration]=&\
         business_profile[headline]=&default_return_url=&name=&metadata=",
    );
    assert_eq!(res.status, 200, "{}", res.body);
    let body = res.json();
    assert_eq!(
        body["features"]["customer_update"],
        json!({"allowed_updates": [], "enabled": true})
    );
    let su = &body["features"]["subscription_update"];
    assert_eq!(su["default_allowed_updates"], json!([]));
    assert_eq!(su["schedule_at_period_end"], json!({"conditions": []}));
    assert_eq!(body["business_profile"]["headline"], Value::Null);
    assert_eq!(body["default_return_url"], Value::Null);
    assert_eq!(body["name"], Value::Null);
    assert_eq!(body["metadata"], json!({}));
    for (body, param) in [
        (
            "features[invoice_history][enabled]=",
            "features[invoice_history][enabled]",
        ),
        (
            "features[subscription_cancel][mode]=",
            "features[subscription_cancel][mode]",
        ),
        ("features=", "features"),
        ("login_page[enabled]=", "login_page[enabled]"),
        ("active=", "active"),
    ] {
        let res = update(&sandbox, id, body);
        assert_eq!(
            refusal(&res),
            (
                400,
                Some("parameter_invalid_empty".into()),
                Some(param.into())
            ),
            "{body}"
        );
    }
    // Nothing is emptyable on create.
    for (body, param) in [
        ("name=", "name"),
        ("default_return_url=", "default_return_url"),
        ("business_profile[headline]=", "business_profile[headline]"),
        ("metadata=", "metadata"),
    ] {
        let res = Req::post(
            PATH,
            &format!("features[invoice_history][enabled]=true&{body}"),
        )
        .send(&sandbox);
        assert_eq!(
            refusal(&res),
            (
                400,
                Some("parameter_invalid_empty".into()),
                Some(param.into())
            ),
            "{body}"
        );
    }
}

#[test]
fn arrays_are_replaced_and_update_requires_less_than_create() {
    let sandbox = start();
    let cu = "features[customer_update]";
    // On create, a feature hash needs its `enabled`; on update, some do not.
    let res = Req::post(PATH, &format!("{cu}[allowed_updates][0]=email")).send(&sandbox);
    assert_eq!(
        refusal(&res),
        (
            400,
            Some("parameter_missing".into()),
            Some(format!("{cu}[enabled]"))
        )
    );
    let res = Req::post(
        PATH,
        "features[subscription_update][proration_behavior]=none",
    )
    .send(&sandbox);
    assert_eq!(
        refusal(&res),
        (
            400,
            Some("parameter_missing".into()),
            Some("features[subscription_update][enabled]".into())
        )
    );
    let created = create(
        &sandbox,
        &format!(
            "{cu}[enabled]=true&{cu}[allowed_updates][0]=email&{cu}[allowed_updates][1]=address"
        ),
    );
    let id = created["id"].as_str().unwrap();
    let res = update(&sandbox, id, &format!("{cu}[allowed_updates][0]=name"));
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.json()["features"]["customer_update"],
        json!({"allowed_updates": ["name"], "enabled": true})
    );
    let res = update(
        &sandbox,
        id,
        "features[subscription_cancel][mode]=immediately",
    );
    assert_eq!(res.status, 200, "{}", res.body);
    // `invoice_history`, `payment_method_update`, `cancellation_reason` and `login_page` still
    // need their `enabled`.
    for (body, param) in [
        (
            "features[payment_method_update][payment_method_configuration]=",
            "features[payment_method_update][enabled]",
        ),
        (
            "features[subscription_cancel][cancellation_reason][options][0]=other",
            "features[subscription_cancel][cancellation_reason][enabled]",
        ),
        ("login_page[url]=https://x.example", "login_page[url]"),
    ] {
        let res = update(&sandbox, id, body);
        let expected_code = if param.ends_with("[url]") {
            "parameter_unknown"
        } else {
            "parameter_missing"
        };
        assert_eq!(
            refusal(&res),
            (400, Some(expected_code.into()), Some(param.into())),
            "{body}"
        );
    }
    // Metadata merges, as everywhere.
    let res = update(&sandbox, id, "metadata[a]=1&metadata[b]=2");
    assert_eq!(res.json()["metadata"], json!({"a": "1", "b": "2"}));
    let res = update(&sandbox, id, "metadata[a]=");
    assert_eq!(res.json()["metadata"], json!({"b": "2"}));
}

#[tokio::test]
async fn an_enabled_login_page_has_a_url() {
    let sandbox = start();
    let client = client(&sandbox);
    let default = default_id(&sandbox);
    let enabled = UpdateBillingPortalConfiguration::new(default.clone())
        .login_page(UpdateBillingPortalConfigurationLoginPage::new(true))
        .send(&client)
        .await
        .unwrap();
    assert!(enabled.login_page.enabled);
    let url = enabled.login_page.url.clone().expect("a login URL");
    assert!(
        url.starts_with("https://billing.stripe.com/p/login/"),
        "{url}"
    );
    // Enabling again keeps the link; disabling deactivates it.
    let again = update(&sandbox, &default, "login_page[enabled]=true").json();
    assert_eq!(again["login_page"]["url"], url.as_str());
    let disabled = update(&sandbox, &default, "login_page[enabled]=false").json();
    assert_eq!(
        disabled["login_page"],
        json!({"enabled": false, "url": null})
    );
    let created = create(
        &sandbox,
        "features[invoice_history][enabled]=true&login_page[enabled]=true",
    );
    let other = created["login_page"]["url"].as_str().expect("a login URL");
    assert_ne!(other, url);
}

#[tokio::test]
async fn subscription_update_settings_round_trip() {
    let sandbox = start();
    let (pro, monthly, _) = catalog(&sandbox, "Pro");
    let su = "features[subscription_update]";
    let created = create(
        &sandbox,
        &format!(
            "{}&{su}[default_allowed_updates][1]=quantity&{su}[proration_behavior]=always_invoice&\
             {su}[billing_cycle_anchor]=now&{su}[trial_update_behavior]=continue_trial&\
             {su}[schedule_at_period_end][conditions][0][type]=decreasing_item_amount&\
             {su}[schedule_at_period_end][conditions][1][type]=shortening_interval",
            subscription_update(&[(&pro, &[&monthly])])
        ),
    );
    let got = &created["features"]["subscription_update"];
    assert_eq!(got["default_allowed_updates"], json!(["price", "quantity"]));
    assert_eq!(got["proration_behavior"], "always_invoice");
    assert_eq!(got["billing_cycle_anchor"], "now");
    assert_eq!(got["trial_update_behavior"], "continue_trial");
    assert_eq!(
        got["schedule_at_period_end"]["conditions"],
        json!([{"type": "decreasing_item_amount"}, {"type": "shortening_interval"}])
    );
    // The typed client sends the same shapes.
    let client = client(&sandbox);
    let mut update = CreateBillingPortalConfigurationFeaturesSubscriptionUpdate::new(true);
    update.default_allowed_updates = Some(vec![
        CreateBillingPortalConfigurationFeaturesSubscriptionUpdateDefaultAllowedUpdates::Price,
    ]);
    update.proration_behavior = Some(
        CreateBillingPortalConfigurationFeaturesSubscriptionUpdateProrationBehavior::CreateProrations,
    );
    update.products = Some(vec![SubscriptionUpdateProductParam::new(
        vec![monthly.clone()],
        pro.clone(),
    )]);
    let mut features = CreateBillingPortalConfigurationFeatures::new();
    features.subscription_update = Some(update);
    let typed = CreateBillingPortalConfiguration::new(features)
        .expand(vec![PRODUCTS.to_string()])
        .send(&client)
        .await
        .unwrap();
    let products = typed
        .features
        .subscription_update
        .products
        .expect("expanded");
    assert_eq!(
        (products[0].product.as_str(), products[0].prices.len()),
        (pro.as_str(), 1)
    );
    assert_eq!(
        typed
            .features
            .subscription_update
            .proration_behavior
            .as_str(),
        "create_prorations"
    );
}
