//! End to end: `splitid loadtest` against the real server completes full logins without
//! errors and reports consistent figures that match the server's own count.

mod common;

use common::*;

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
    let ok_logins: u64 = server
        .usage_counts()
        .iter()
        .filter(|(kind, result, _)| kind == "authentication" && result == "OK")
        .map(|(_, _, n)| n)
        .sum();
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
