//! Registering the web app with real evidence, in headless Chromium: the methods the server
//! enables are the ones offered; a sign-in at an OpenID Connect provider by redirect (a
//! stand-in authorization endpoint that answers with a signed ID token); and vouching by
//! another phone (the CLI app, confirming with PIN1).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use splitid_testkit::*;

use super::browser::Browser;
use super::web_app::enter_pins_and_register;
use crate::registration::proofing::{AUDIENCE, ISSUER, PERSON, TestIdp};

/// Who the other phone's account is for (registered by the CLI in demo mode).
const OTHER_PERSON: &str = "PNOEE-39912319997";

/// The authorization requests the stand-in received, as query pairs.
type Requests = mpsc::Receiver<Vec<(String, String)>>;

/// A stand-in authorization endpoint: the first request is refused (`access_denied`), each
/// later one answered with an ID token for [`PERSON`] whose nonce is the request's, sent
/// back to its `redirect_uri` in the fragment with its `state`.
fn authorization_endpoint(idp: TestIdp) -> (String, Requests) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/authorize", listener.local_addr().unwrap());
    let (tell, requests) = mpsc::channel();
    let idp = Arc::new(idp);
    std::thread::spawn(move || {
        for (answered, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            if BufReader::new(&stream).read_line(&mut line).is_err() {
                continue;
            }
            let target = line.split(' ').nth(1).unwrap_or_default();
            let url = reqwest::Url::parse(&format!("http://idp{target}")).unwrap();
            let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            let get = |name: &str| {
                query
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            let state = get("state");
            let fragment = if answered == 0 {
                format!("error=access_denied&error_description=Cancelled&state={state}")
            } else {
                let token = idp.token("ES256", &TestIdp::claims(&get("nonce")));
                format!("id_token={token}&state={state}")
            };
            let location = format!("{}#{fragment}", get("redirect_uri"));
            let _ = tell.send(query);
            let _ = write!(
                stream,
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (url, requests)
}

/// The page after a registration names a new account of `person` (its document number).
fn assert_registered_as(page: &str, person: &str) {
    assert!(page.contains(&format!("{person}-")), "{person}:\n{page}");
}

fn server_with(dir: &std::path::Path, jwks: &std::path::Path, endpoint: &str) -> Server {
    let config = dir.join("splitid.toml");
    std::fs::write(
        &config,
        format!(
            "[proofing.oidc]\nissuer = {ISSUER:?}\naudience = {AUDIENCE:?}\njwks_file = {:?}\n\
             authorization_endpoint = {endpoint:?}\nname = \"Test Bank ID\"\n\n\
             [proofing.account]\nenabled = true\n",
            jwks
        ),
    )
    .unwrap();
    Server::start(&["--config", config.to_str().unwrap()])
}

#[test]
fn the_web_app_registers_by_an_identity_providers_sign_in_and_by_another_phone() {
    let dir = tempfile::tempdir().unwrap();
    let idp = TestIdp::new(dir.path());
    let jwks = idp.jwks.clone();
    let (endpoint, requests) = authorization_endpoint(idp);
    let server = server_with(dir.path(), &jwks, &endpoint);
    let phone = Browser::open();
    phone.goto(&format!("{}/app/", server.url));

    // The three methods this demo server enables are offered; the provider by its name.
    let choice = phone.wait_for_text("How do you prove who you are?");
    for offered in [
        "Sign in with Test Bank ID",
        "With SplitID on another phone",
        "Demo: type in a test identity",
    ] {
        assert!(choice.contains(offered), "{offered}:\n{choice}");
    }

    // The provider refuses the first sign-in: the app says so and registers nothing.
    phone.click("#proof-oidc");
    let refused = phone.wait_for_text("did not sign you in");
    assert!(refused.contains("access_denied: Cancelled"), "{refused}");
    let request = requests.recv_timeout(Duration::from_secs(5)).unwrap();
    let asked = |name: &str| {
        request
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(asked("response_type"), "id_token");
    assert_eq!(asked("response_mode"), "fragment");
    assert_eq!(asked("client_id"), AUDIENCE);
    assert_eq!(asked("scope"), "openid profile");
    assert_eq!(asked("redirect_uri"), format!("{}/app/", server.url));
    assert_eq!(asked("nonce").len(), 44, "the challenge: {request:?}");

    // The second sign-in brings an ID token: the PINs, then an ADVANCED account of the
    // provider's person; the token never stays in the address bar.
    phone.click("#proof-oidc");
    phone.wait_for_text("Signed in with Test Bank ID");
    let address = phone.script("return location.href");
    assert_eq!(address, format!("{}/app/", server.url).as_str());
    assert_registered_as(&enter_pins_and_register(&phone), PERSON);
    phone.click("#result-done");
    let accounts = phone.wait_for_text("PIN2: 3 attempts left");
    assert!(accounts.contains("Level: ADVANCED"), "{accounts}");

    // Another phone (the CLI app) has an account of another person; asked to vouch, it
    // first refuses, then confirms with PIN1.
    let other_phone = Phone::new();
    let other = other_phone.register(&server, OTHER_PERSON, "1111", "11111");
    let ask = |phone: &Browser| {
        phone.click("#add");
        phone.wait_for_text("How do you prove who you are?");
        phone.click("#proof-account");
        phone.fill("input[name=document]", &other);
        phone.click("#vouch-ask");
        let shown = phone.wait_for_text("Check that your other phone shows this code");
        let transaction = other_phone.wait_for_transaction(10);
        assert_eq!(transaction["text"], "Add a new device to your SplitID");
        let code = transaction["verificationCode"].as_str().unwrap().to_owned();
        assert!(shown.contains(&code), "{code}:\n{shown}");
    };
    ask(&phone);
    assert_success(&other_phone.run(&["--json", "refuse", "--next"], ""));
    phone.wait_for_text("Your other phone refused. Nothing was registered.");
    phone.click("#vouch-cancel");
    phone.click("#proof-cancel");
    phone.wait_for_text("Your accounts");

    ask(&phone);
    assert_success(&other_phone.confirm_next(&[], "1111\n"));
    phone.wait_for_text(&format!("Confirmed on your other phone ({other})"));
    assert_registered_as(&enter_pins_and_register(&phone), OTHER_PERSON);
    phone.click("#result-done");
    let accounts = phone.wait_for_text(&format!("{OTHER_PERSON}-"));
    assert!(accounts.contains(&format!("{PERSON}-")), "{accounts}");
}
