//! The Demo Bank, served by the binary beside the service, keeps the service's limits: a form
//! larger than the body limit is refused before any page code sees it.

use splitid_testkit::*;

#[test]
fn a_form_larger_than_the_body_limit_is_refused() {
    let server = Server::start(&[]);
    let client = reqwest::blocking::Client::new();
    let form = |bytes: usize| format!("country=EE&code={}", "3".repeat(bytes));
    let status = |body: String| {
        client
            .post(format!("{}/demo/login", server.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(status(form(100 * 1024)), 413);
    assert_ne!(status(form(11)), 413, "a form of normal size is read");
}
