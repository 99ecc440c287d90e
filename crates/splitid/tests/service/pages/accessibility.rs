//! Every screen of the installable app, checked by axe-core (Deque's accessibility engine,
//! from npm; `.ci/run` installs it) against WCAG 2.1 A and AA in the phone-sized Chromium
//! window: the choice of proof, the other-phone form, the PIN form, the accounts, a
//! transaction with its keypad, a wrong PIN's message and a result. Axe finds what a machine
//! can (names, labels, roles, contrast, focus order); what it cannot, such as whether the
//! order of reading makes sense, is left to people.

use std::path::PathBuf;

use serde_json::{Value, json};
use splitid_testkit::*;

use super::browser::Browser;
use super::web_app::enter_pin;

/// Where `.ci/run` puts axe-core (`npm install --prefix target/tools axe-core@…`), or
/// `$SPLITID_AXE_CORE`.
fn axe_source() -> String {
    let path = std::env::var_os("SPLITID_AXE_CORE").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/tools/node_modules/axe-core/axe.min.js")
        },
        PathBuf::from,
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is not at {} ({e}): run `npm install --prefix target/tools axe-core@4.11.1` (as .ci/run does)",
            path.display()
        )
    })
}

/// The WCAG 2.1 A/AA violations axe finds on the page as it is now.
fn violations(page: &Browser, axe: &str, screen: &str) -> Vec<Value> {
    if page.script("return typeof window.axe") != "object" {
        page.script(axe);
    }
    let found = page.script(
        "return axe.run(document, { runOnly: { type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
           .then((result) => result.violations.map((v) => ({
             id: v.id, impact: v.impact, help: v.help,
             nodes: v.nodes.map((node) => node.target.join(' ')) })));",
    );
    let found = found.as_array().cloned().unwrap_or_default();
    found
        .into_iter()
        .map(|violation| json!({ "screen": screen, "violation": violation }))
        .collect()
}

#[test]
fn every_screen_of_the_app_passes_axe_core_for_wcag_2_1_aa() {
    let axe = axe_source();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("splitid.toml");
    std::fs::write(&config, "[proofing.account]\nenabled = true\n").unwrap();
    let server = Server::start(&["--config", config.to_str().unwrap()]);
    let phone = Browser::open();
    let mut found = Vec::new();

    phone.goto(&format!("{}/app/", server.url));
    phone.wait_for_text("How do you prove who you are?");
    found.extend(violations(&phone, &axe, "choice of proof"));
    phone.click("#proof-account");
    phone.wait_for_text("Ask the other phone");
    found.extend(violations(&phone, &axe, "another phone"));
    phone.click("#vouch-cancel");
    phone.click("#proof-demo");
    phone.wait_for_text("Personal identity code");
    found.extend(violations(&phone, &axe, "PINs and demo identity"));

    super::web_app::fill_demo_identity(&phone);
    super::web_app::enter_pins_and_register(&phone);
    found.extend(violations(&phone, &axe, "registered"));
    phone.click("#result-done");
    phone.wait_for_text("PIN2: 3 attempts left");
    found.extend(violations(&phone, &axe, "accounts"));

    let rp = RelyingParty::new(&server);
    rp.start(
        "/authentication/etsi/PNOEE-30303039914",
        &login_body(display_text_and_pin("Log in to check the screens")),
    );
    phone.click("#check");
    phone.wait_for_text("Log in to check the screens");
    found.extend(violations(&phone, &axe, "transaction"));
    enter_pin(&phone, "0000");
    phone.click("#tx-confirm");
    phone.wait_for_text("attempts left before the PIN locks");
    found.extend(violations(&phone, &axe, "wrong PIN"));
    phone.click("#tx-refuse");
    phone.wait_for_text("Refused");
    found.extend(violations(&phone, &axe, "result"));

    assert!(
        found.is_empty(),
        "axe-core found:\n{}",
        serde_json::to_string_pretty(&found).unwrap()
    );
}
