//! End to end: `splitid loadtest` against the real server completes full logins without
//! errors and reports consistent figures that match the server's own count.

use splitid_testkit::*;

/// OK logins the server's billing counted (each completed session once).
fn ok_logins_counted(server: &Server) -> u64 {
    server
        .usage_counts()
        .iter()
        .filter(|(kind, result, _)| kind == "authentication" && result == "OK")
        .map(|(_, _, n)| n)
        .sum()
}

#[test]
fn the_load_tool_runs_full_logins_and_reports_them() {
    let server = Server::start(&[]);
    let output = std::process::Command::new(splitid_binary())
        .args([
            "loadtest",
            "--server",
            &server.url,
            "--devices",
            "3",
            "--concurrency",
            "2",
        ])
        .args(["--seconds", "2", "--half-bits", "2048", "--json"])
        .output()
        .unwrap();
    assert_success(&output);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let transactions = report["transactions"].as_u64().unwrap();
    assert!(transactions > 0, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    for latency in ["total_latency", "confirmation_to_answer"] {
        let (p50, p99) = (
            report[latency]["p50_ms"].as_f64().unwrap(),
            report[latency]["p99_ms"].as_f64().unwrap(),
        );
        assert!(0.0 < p50 && p50 <= p99, "{latency}: {report}");
    }
    assert!(report["rp_api_bytes_per_transaction"].as_f64().unwrap() > 500.0);
    // Every reported transaction completed on the server as an OK login, counted once.
    let ok_logins = ok_logins_counted(&server);
    assert_eq!(ok_logins, transactions, "{report}");

    let refused = std::process::Command::new(splitid_binary())
        .args([
            "loadtest",
            "--server",
            &server.url,
            "--devices",
            "1",
            "--concurrency",
            "2",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("at least --concurrency"));
}

/// Runs `splitid loadtest ARGS --json`, which must succeed, and returns its report.
fn loadtest_json(args: &[&str]) -> serde_json::Value {
    let output = std::process::Command::new(splitid_binary())
        .arg("loadtest")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert_success(&output);
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn the_crypto_bound_runs_the_exponentiations_of_a_login_without_a_server() {
    // Two concurrencies: a sweep reports each run and the best one as the peak.
    let sweep = loadtest_json(&[
        "--crypto-bound",
        "--concurrency",
        "1,2",
        "--seconds",
        "1",
        "--half-bits",
        "2048",
    ]);
    let runs = sweep["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{sweep}");
    for (run, concurrency) in runs.iter().zip([1, 2]) {
        assert_eq!(run["mode"], "crypto-bound", "{run}");
        assert_eq!(run["concurrency"], concurrency, "{run}");
        assert!(run["transactions"].as_u64().unwrap() > 0, "{run}");
        assert_eq!(run["errors"], 0, "{run}");
        // The server's completion is part of the device's confirmation to the answer.
        let (confirmation, total) = (
            run["confirmation_to_answer"]["p50_ms"].as_f64().unwrap(),
            run["total_latency"]["p50_ms"].as_f64().unwrap(),
        );
        assert!(0.0 < confirmation && confirmation <= total, "{run}");
        assert!(run["rp_api_bytes_per_transaction"].is_null(), "{run}");
        // All the arithmetic runs in the tool's process, so its CPU time is the cost.
        assert!(run["load_tool_cpu_ms_per_transaction"].as_f64().unwrap() > 0.0);
    }
    let best = runs
        .iter()
        .map(|r| r["transactions_per_second"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert_eq!(
        sweep["peak"]["transactions_per_second"].as_f64().unwrap(),
        best
    );
}

/// The value of one sample line of a node's Prometheus text (`name{labels} value`).
fn metric(server: &Server, series: &str) -> f64 {
    let metrics = reqwest::blocking::get(format!("{}/metrics", server.url))
        .unwrap()
        .text()
        .unwrap();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn the_load_is_spread_over_several_nodes_and_an_open_loop_keeps_its_rate() {
    let cluster = Cluster::start(2, &[]);
    let urls: Vec<&str> = cluster.nodes.iter().map(|n| n.url.as_str()).collect();
    // Repeated `--server` and a comma list mean the same.
    let report = loadtest_json(&[
        "--server",
        urls[0],
        "--server",
        urls[1],
        "--devices",
        "2",
        "--concurrency",
        "2",
        "--seconds",
        "2",
        "--half-bits",
        "2048",
    ]);
    let transactions = report["transactions"].as_u64().unwrap();
    assert!(transactions > 1, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(report["servers"].as_array().unwrap().len(), 2, "{report}");
    assert!(report["app_api_bytes_per_transaction"].as_f64().unwrap() > 500.0);
    // Transactions started on both nodes, and devices registered on both.
    let started = r#"splitid_sessions_started_total{kind="authentication"}"#;
    let registered = r#"splitid_registrations_total{method="demo"}"#;
    for node in &cluster.nodes {
        assert!(metric(node, started) >= 1.0, "{}: {report}", node.url);
        assert_eq!(metric(node, registered), 1.0, "{}", node.url);
    }
    let ok_logins = ok_logins_counted(&cluster.nodes[0]);
    assert_eq!(ok_logins, transactions, "{report}");

    // Open loop: about the rate asked for, whatever the latency.
    let open = loadtest_json(&[
        "--server",
        &format!("{},{}", urls[0], urls[1]),
        "--devices",
        "2",
        "--rate",
        "4",
        "--seconds",
        "3",
        "--half-bits",
        "2048",
    ]);
    assert_eq!(open["mode"], "open-loop", "{open}");
    assert_eq!(open["errors"], 0, "{open}");
    let done = open["transactions"].as_u64().unwrap();
    assert!((9..=13).contains(&done), "4/s for 3 s: {open}");
    // Two devices at 4/s are free in time unless the machine is very busy.
    assert!(open["late_starts"].as_u64().unwrap() <= 2, "{open}");
}
