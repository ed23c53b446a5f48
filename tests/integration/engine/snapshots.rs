//! The text plan for each kind of edit, snapshotted (ids, accounts and ports filtered).

use super::{Env, PRO};

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({
        filters => vec![
            (r"price_[A-Za-z0-9]{8,}", "[PRICE_ID]"),
            (r"prod_[A-Za-z0-9]{8,}", "[PRODUCT_ID]"),
            (r"acct_[A-Za-z0-9]+", "[ACCOUNT]"),
            (r"http://127\.0\.0\.1:\d+", "[SANDBOX]"),
        ],
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn plan_text_for_each_kind_of_edit() {
    let env = Env::new(PRO);
    snapshot("plan_create", &env.plan().stdout);
    env.converge();
    snapshot("plan_no_changes", &env.plan().stdout);

    // Update in place: product fields and metadata.
    env.set_catalog(
        &PRO.replace("name = \"Pro\"", "name = \"Pro plan\"")
            .replace(
                "description = \"For growing teams\"",
                "description = \"For growing teams.\\nNow with audit logs and single sign-on for every workspace.\"",
            )
            .replace("metadata = { tier = \"2\" }", "metadata = { tier = \"3\" }"),
    );
    snapshot("plan_update", &env.plan().stdout);

    // Replacement.
    env.set_catalog(&PRO.replace("amount = \"79.00\"", "amount = \"89.00\""));
    snapshot("plan_replace", &env.plan().stdout);

    // Archive: a price removed.
    env.set_catalog(&PRO.replace("[products.pro.prices.annual]\namount = \"790.00\"\ncurrency = \"usd\"\ninterval = \"year\"\n", ""));
    snapshot("plan_archive", &env.plan().stdout);
    env.converge();

    // Unarchive: put it back.
    env.set_catalog(PRO);
    snapshot("plan_unarchive", &env.plan().stdout);
}
