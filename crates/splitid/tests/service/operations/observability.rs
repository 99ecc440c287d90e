//! End to end: health, readiness and Prometheus metrics of the real binary, counted as a
//! relying party and a phone use it.

use splitid_testkit::*;

fn get(url: &str) -> (u16, String) {
    let response = ::reqwest::blocking::get(url).unwrap();
    let status = response.status().as_u16();
    (status, response.text().unwrap())
}

/// The value of one sample line of the Prometheus text (`name{labels} value`).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[test]
fn health_readiness_and_metrics_follow_the_traffic() {
    let server = Server::start(&[]);
    assert_eq!(
        get(&format!("{}/health", server.url)),
        (200, r#"{"status":"ok"}"#.into())
    );
    assert_eq!(get(&format!("{}/ready", server.url)).0, 200);

    let phone = Phone::new();
    let document = phone.register(&server, "PNOEE-30303039914", "1234", "12345");
    let rp = RelyingParty::new(&server);
    let login = rp.start(
        "/authentication/etsi/PNOEE-30303039914",
        &login_body(display_text_and_pin("Log in")),
    );
    assert!(!phone.confirm_next(&[], "9999\n").status.success());
    assert_success(&phone.confirm_next(&[], "1234\n"));
    assert_eq!(rp.result(&login)["result"]["endResult"], "OK");
    let (status, _) = rp.get("/session/00000000-0000-4000-8000-00000000dead");
    assert_eq!(status, 404);

    let (status, metrics) = get(&format!("{}/metrics", server.url));
    assert_eq!(status, 200);
    let value = |series: &str| {
        sample(&metrics, series).unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
    };
    assert_eq!(
        value(r#"splitid_sessions_started_total{kind="authentication"}"#),
        1.0
    );
    assert_eq!(
        value(r#"splitid_sessions_completed_total{kind="login",result="OK"}"#),
        1.0
    );
    assert_eq!(value(r#"splitid_registrations_total{method="demo"}"#), 1.0);
    assert_eq!(
        value(r#"splitid_pin_failures_total{purpose="authentication"}"#),
        1.0
    );
    assert_eq!(value("splitid_long_poll_waiters"), 0.0);
    assert!(
        metrics.contains(r#"splitid_http_request_duration_seconds_count{route="/v2/session/{id}",method="GET",status="404"}"#)
            || metrics.contains(r#"splitid_http_request_duration_seconds{route="/v2/session/{id}",method="GET",status="404",quantile"#),
        "requests are timed by route pattern:\n{metrics}"
    );
    assert!(
        !metrics.contains(&document),
        "no identifiers in label values"
    );
    assert!(!metrics.contains("dead"), "no session ids in label values");
}
