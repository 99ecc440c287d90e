//! `splitid loadtest`: registers simulated devices on a demo server, then runs full logins at
//! a given concurrency for a given time — relying party starts a session, the device fetches
//! it, makes its partial signature and confirms, the server completes it, the relying party's
//! long poll returns — and reports throughput, latencies and errors.
//!
//! The simulated devices seal their shares with a cheap KDF (splitkey's `INSECURE_FAST`): a
//! phone spends its Argon2 time on its own CPU, and here the devices share the machine with
//! the server being measured.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::Args;
use serde::Serialize;
use serde_json::json;
use splitid_app::App;
use splitid_app::flows::Registration;
use splitid_proto::app_v1::{Proofing, TransactionOutcome};
use splitkey::{HalfSize, KdfParams, Pin};

const DEMO_RP_UUID: &str = "00000000-0000-4000-8000-000000000000";
const PIN1: &str = "1234";
const PIN2: &str = "12345";
/// How long one step may take before the transaction counts as an error.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Args)]
pub struct LoadtestArgs {
    /// The service to load: started with `serve --demo` (add `--allow-2048` for 2048-bit halves).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Simulated devices to register (at least the concurrency: a device answers one at a time).
    #[arg(long, default_value_t = 8)]
    devices: usize,
    /// Transactions in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// How long to run transactions, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Bits of each key half of the simulated devices: 3072, or 2048 if the server allows it.
    #[arg(long, default_value_t = 3072)]
    half_bits: usize,
    /// Machine-readable report.
    #[arg(long)]
    json: bool,
}

/// What one transaction measured.
struct Sample {
    /// Relying party's start to its long poll returning the result.
    total: Duration,
    /// The device's confirmation sent to the relying party's long poll returning.
    confirmation_to_answer: Duration,
    /// Bytes of the relying party's request and response bodies.
    rp_bytes: usize,
}

#[derive(Serialize)]
struct Latency {
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
}

#[derive(Serialize)]
struct Report {
    devices: usize,
    concurrency: usize,
    seconds: f64,
    transactions: usize,
    errors: usize,
    transactions_per_second: f64,
    total_latency: Latency,
    confirmation_to_answer: Latency,
    rp_api_bytes_per_transaction: f64,
    first_error: Option<String>,
}

pub fn run(args: LoadtestArgs) -> anyhow::Result<()> {
    if args.devices < args.concurrency || args.concurrency == 0 {
        bail!("--devices must be at least --concurrency (and both at least 1)");
    }
    let half =
        HalfSize::from_bits(args.half_bits).map_err(|e| anyhow::anyhow!("--half-bits: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(load(&args, half))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(())
}

async fn load(args: &LoadtestArgs, half: HalfSize) -> anyhow::Result<Report> {
    let homes = tempfile::tempdir()?;
    let devices = register_devices(args, half, homes.path()).await?;
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let progress = progress_bar(args.seconds, args.json);
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    let devices = Arc::new(devices);
    for worker in 0..args.concurrency {
        let devices = devices.clone();
        let http = http.clone();
        let server = args.server.trim_end_matches('/').to_owned();
        let concurrency = args.concurrency;
        let progress = progress.clone();
        workers.spawn(async move {
            let mut results = Vec::new();
            let mine: Vec<&Device> = devices.iter().skip(worker).step_by(concurrency).collect();
            let mut turn = 0;
            while Instant::now() < deadline {
                let device = mine[turn % mine.len()];
                turn += 1;
                let result =
                    tokio::time::timeout(STEP_TIMEOUT * 3, transaction(&http, &server, device))
                        .await
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("transaction timed out")));
                progress.inc(1);
                results.push(result.map_err(|e| format!("{e:#}")));
            }
            results
        });
    }
    let mut results = Vec::new();
    while let Some(done) = workers.join_next().await {
        results.extend(done.context("a worker failed")?);
    }
    progress.finish_and_clear();
    Ok(summarise(args, started.elapsed(), results))
}

struct Device {
    app: App,
    document_number: String,
}

async fn register_devices(
    args: &LoadtestArgs,
    half: HalfSize,
    homes: &Path,
) -> anyhow::Result<Vec<Device>> {
    let bar = indicatif::ProgressBar::new(args.devices as u64);
    if args.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_message("registering devices");
    bar.set_style(indicatif::ProgressStyle::with_template(
        "{msg} {bar:30} {pos}/{len}",
    )?);
    // A run-specific prefix keeps the identities of separate runs apart.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        % 100_000;
    let mut devices = Vec::with_capacity(args.devices);
    for index in 0..args.devices {
        let home = homes.join(format!("device-{index}"));
        let app = App::open(&home);
        let registration = Registration {
            server: args.server.clone(),
            proofing: Proofing::Demo {
                semantics_identifier: format!("PNOEE-6{run:05}{index:05}"),
                given_name: "LOAD".into(),
                surname: format!("TEST{index}"),
            },
            half,
            kdf: KdfParams::INSECURE_FAST,
            supported_interactions: None,
        };
        let account = app
            .register(registration, &pin(PIN1), &pin(PIN2))
            .await
            .with_context(|| format!("registering device {index}"))?;
        devices.push(Device {
            app,
            document_number: account.document_number,
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(devices)
}

fn pin(digits: &str) -> Pin {
    Pin::new(digits).expect("a valid PIN")
}

fn progress_bar(seconds: u64, hidden: bool) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    if hidden {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {{elapsed}}/{seconds}s  {{pos}} transactions  {{per_sec}}"
        ))
        .expect("a valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// One full login: start, fetch on the device, confirm with PIN1, long poll to the end.
async fn transaction(
    http: &reqwest::Client,
    server: &str,
    device: &Device,
) -> anyhow::Result<Sample> {
    let start = Instant::now();
    let mut hash = [0u8; 64];
    aws_lc_rs::rand::fill(&mut hash).map_err(|_| anyhow::anyhow!("no randomness"))?;
    let body = json!({
        "relyingPartyUUID": DEMO_RP_UUID,
        "relyingPartyName": "DEMO",
        "hash": BASE64.encode(hash),
        "hashType": "SHA512",
        "allowedInteractionsOrder": [{ "type": "displayTextAndPIN", "displayText60": "Load test" }],
    })
    .to_string();
    let response = http
        .post(format!(
            "{server}/v2/authentication/document/{}",
            device.document_number
        ))
        .header("Content-Type", "application/json")
        .body(body.clone())
        .send()
        .await?;
    let status = response.status();
    let created = response.text().await?;
    if !status.is_success() {
        bail!("start: HTTP {status}: {created}");
    }
    let session: serde_json::Value = serde_json::from_str(&created)?;
    let session_id = session["sessionID"]
        .as_str()
        .context("no sessionID")?
        .to_owned();

    let pending = device
        .app
        .pending(STEP_TIMEOUT)
        .await?
        .into_iter()
        .find(|p| p.transaction.transaction_id == session_id)
        .context("the transaction did not reach the device")?;
    // The relying party is already waiting when the device confirms.
    let poll = tokio::spawn({
        let http = http.clone();
        let url = format!(
            "{server}/v2/session/{session_id}?timeoutMs={}",
            STEP_TIMEOUT.as_millis()
        );
        async move {
            let response = http.get(url).send().await?;
            let text = response.text().await?;
            Ok::<_, reqwest::Error>((Instant::now(), text))
        }
    });
    let confirmed_at = Instant::now();
    let outcome = device.app.confirm(&pending, Some(&pin(PIN1)), None).await?;
    if !matches!(outcome, TransactionOutcome::Completed { .. }) {
        bail!("confirm: {outcome:?}");
    }
    let (answered_at, result) = poll.await??;
    let result_json: serde_json::Value = serde_json::from_str(&result)?;
    if result_json["result"]["endResult"] != "OK" {
        bail!("result: {result}");
    }
    Ok(Sample {
        total: answered_at - start,
        confirmation_to_answer: answered_at.saturating_duration_since(confirmed_at),
        rp_bytes: body.len() + created.len() + result.len(),
    })
}

fn percentiles(mut values: Vec<Duration>) -> Latency {
    values.sort();
    let at = |q: f64| {
        if values.is_empty() {
            return 0.0;
        }
        let index = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len()) - 1;
        values[index].as_secs_f64() * 1000.0
    };
    Latency {
        p50_ms: at(0.50),
        p95_ms: at(0.95),
        p99_ms: at(0.99),
    }
}

fn summarise(
    args: &LoadtestArgs,
    elapsed: Duration,
    results: Vec<Result<Sample, String>>,
) -> Report {
    let first_error = results.iter().find_map(|r| r.as_ref().err().cloned());
    let errors = results.iter().filter(|r| r.is_err()).count();
    let samples: Vec<Sample> = results.into_iter().filter_map(Result::ok).collect();
    let seconds = elapsed.as_secs_f64();
    Report {
        devices: args.devices,
        concurrency: args.concurrency,
        seconds,
        transactions: samples.len(),
        errors,
        transactions_per_second: samples.len() as f64 / seconds,
        total_latency: percentiles(samples.iter().map(|s| s.total).collect()),
        confirmation_to_answer: percentiles(
            samples.iter().map(|s| s.confirmation_to_answer).collect(),
        ),
        rp_api_bytes_per_transaction: samples.iter().map(|s| s.rp_bytes).sum::<usize>() as f64
            / samples.len().max(1) as f64,
        first_error,
    }
}

fn print_report(report: &Report) {
    println!(
        "{} transactions in {:.1} s with {} devices, {} at a time: {:.1} per second, {} errors",
        report.transactions,
        report.seconds,
        report.devices,
        report.concurrency,
        report.transactions_per_second,
        report.errors
    );
    for (name, latency) in [
        ("start to answer", &report.total_latency),
        ("confirmation to answer", &report.confirmation_to_answer),
    ] {
        println!(
            "  {name:<24} p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms",
            latency.p50_ms, latency.p95_ms, latency.p99_ms
        );
    }
    println!(
        "  relying-party API bytes per transaction: {:.0}",
        report.rp_api_bytes_per_transaction
    );
    if let Some(error) = &report.first_error {
        println!("  first error: {error}");
    }
}
