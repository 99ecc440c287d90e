//! `splitid loadtest`: registers simulated devices on a demo server, then runs full logins at
//! a given concurrency for a given time — relying party starts a session, the device fetches
//! it, makes its partial signature and confirms, the server completes it, the relying party's
//! long poll returns — and reports throughput, latencies and errors.
//!
//! The simulated devices seal their shares with a cheap KDF (splitkey's `INSECURE_FAST`): a
//! phone spends its Argon2 time on its own CPU, and here the devices share the machine with
//! the server being measured.
//!
//! Several `--server`s (nodes on one database) share the load: devices are registered on them
//! in turn, and each transaction starts on one node and is long-polled through the next, so
//! every answer crosses nodes. A comma list of concurrencies sweeps them with the same devices
//! and reports the best as the peak. `--rate` runs an open loop instead (transactions start on
//! a timer whatever the latency), for reading latencies at a chosen load; `--crypto-bound`
//! runs only the exponentiations a login costs, on threads, as the reference the full
//! transactions are compared with (docs/performance.md).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
use splitkey::{
    DeviceKeyOptions, HalfSize, HashAlgorithm, KdfParams, Padding, Pin, ServerShare, SignRequest,
    generate_device_key,
};

const DEMO_RP_UUID: &str = "00000000-0000-4000-8000-000000000000";
const PIN1: &str = "1234";
const PIN2: &str = "12345";
/// How long one step may take before the transaction counts as an error.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Args)]
pub struct LoadtestArgs {
    /// The service to load: started with `serve --demo` (add `--allow-2048` for 2048-bit
    /// halves). Repeat it, or give a comma list, for several nodes on one database: devices
    /// are registered on them in turn, and each transaction starts on one node and is
    /// long-polled through the next.
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:8080")]
    server: Vec<String>,
    /// Simulated devices to register (at least the concurrency: a device answers one at a
    /// time; with --rate, the most transactions in flight).
    #[arg(long, default_value_t = 8)]
    devices: usize,
    /// Transactions in flight at once (threads with --crypto-bound). A comma list (1,2,4,8)
    /// runs each in turn with the same devices and reports the best as the peak.
    #[arg(long, value_delimiter = ',', default_value = "4")]
    concurrency: Vec<usize>,
    /// Open loop: start this many transactions per second, each on a free device, whatever
    /// the answers' latency (instead of keeping --concurrency in flight).
    #[arg(long, conflicts_with = "crypto_bound")]
    rate: Option<f64>,
    /// No server: the exponentiations a login costs (the device's partial signature, its
    /// check of the finished signature, and the server's completion), with one key made
    /// here, on --concurrency threads. The crypto bound the full transactions are compared with.
    #[arg(long)]
    crypto_bound: bool,
    /// How long to run transactions (for each concurrency), in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Bits of each key half of the simulated devices: 3072, or 2048 if the server allows it.
    #[arg(long, default_value_t = 3072)]
    half_bits: usize,
    /// Also report the CPU time this process (a server node on this machine) spends per
    /// transaction; repeat for several nodes (Linux only).
    #[arg(long, value_name = "PID")]
    cpu_of: Vec<u32>,
    /// Machine-readable report.
    #[arg(long)]
    json: bool,
}

/// What one transaction measured.
struct Sample {
    /// Relying party's start to its long poll returning the result.
    total: Duration,
    /// From the app being told to confirm (so its partial signature, about one modular
    /// exponentiation, is included) to the relying party's long poll returning.
    confirmation_to_answer: Duration,
    /// Bytes of the relying party's request and response bodies.
    rp_bytes: usize,
    /// Bytes of the app API request and response bodies (the device's side).
    app_bytes: u64,
}

#[derive(Serialize, Clone)]
struct Latency {
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
}

#[derive(Serialize, Clone)]
struct Report {
    /// `closed-loop` (--concurrency in flight), `open-loop` (--rate) or `crypto-bound`.
    mode: &'static str,
    servers: Vec<String>,
    half_bits: usize,
    devices: usize,
    concurrency: usize,
    /// Transactions per second asked for (open loop).
    target_rate: Option<f64>,
    /// Open loop: transactions that started more than one interval late because no device
    /// was free (the rate was not sustained when this is more than a few).
    late_starts: Option<usize>,
    seconds: f64,
    transactions: usize,
    errors: usize,
    transactions_per_second: f64,
    total_latency: Latency,
    confirmation_to_answer: Latency,
    /// Bodies only, as for the app API (none in the crypto-bound mode).
    rp_api_bytes_per_transaction: Option<f64>,
    app_api_bytes_per_transaction: Option<f64>,
    /// The machine's 1-minute load average (/proc/loadavg) when the run started and ended.
    load_average_start: Option<f64>,
    load_average_end: Option<f64>,
    /// CPU time (user + system) per transaction of this process — the simulated devices and
    /// relying party, or the whole crypto bound — and of the --cpu-of processes together.
    /// Unlike throughput, it hardly depends on what else the machine runs.
    load_tool_cpu_ms_per_transaction: Option<f64>,
    servers_cpu_ms_per_transaction: Option<f64>,
    first_error: Option<String>,
}

/// Several concurrencies in turn, and the one with the highest throughput.
#[derive(Serialize)]
struct Sweep {
    runs: Vec<Report>,
    peak: Report,
}

pub fn run(args: LoadtestArgs) -> anyhow::Result<()> {
    if args.concurrency.is_empty() || args.concurrency.contains(&0) {
        bail!("--concurrency must be at least 1");
    }
    let most = args.concurrency.iter().copied().max().unwrap_or(1);
    if !args.crypto_bound && args.rate.is_none() && args.devices < most {
        bail!("--devices must be at least --concurrency (and both at least 1)");
    }
    if args.devices == 0 {
        bail!("--devices must be at least 1");
    }
    if args
        .rate
        .is_some_and(|rate| !(rate > 0.0 && rate.is_finite()))
    {
        bail!("--rate must be a positive number of transactions per second");
    }
    if args.server.iter().any(|s| s.trim().is_empty()) {
        bail!("--server: an empty address");
    }
    let half =
        HalfSize::from_bits(args.half_bits).map_err(|e| anyhow::anyhow!("--half-bits: {e}"))?;
    let reports = if args.crypto_bound {
        crypto_bound(&args, half)?
    } else {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(load(&args, half))?
    };
    output(reports, args.json)
}

fn output(mut reports: Vec<Report>, json: bool) -> anyhow::Result<()> {
    if reports.len() == 1 {
        let report = reports.pop().expect("one report");
        if json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print_report(&report);
        }
        return Ok(());
    }
    let peak = reports
        .iter()
        .max_by(|a, b| {
            a.transactions_per_second
                .total_cmp(&b.transactions_per_second)
        })
        .expect("at least one report")
        .clone();
    if json {
        let sweep = Sweep {
            runs: reports,
            peak,
        };
        println!("{}", serde_json::to_string_pretty(&sweep)?);
    } else {
        for report in &reports {
            print_report(report);
        }
        println!(
            "peak: {:.1} transactions per second at concurrency {}",
            peak.transactions_per_second, peak.concurrency
        );
    }
    Ok(())
}

/// The machine's 1-minute load average, where Linux tells it.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU time a process has used (user + system), from /proc/PID/stat (Linux).
fn process_cpu(pid: Option<u32>) -> Option<Duration> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces: the fields are counted after its closing parenthesis,
    // from the state (field 3); utime and stime are fields 14 and 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // In clock ticks of USER_HZ, which Linux fixes at 100 for everything it reports to
    // user space.
    Some(Duration::from_millis(ticks * 10))
}

/// What a run measures about the machine around its transactions: the load average, and the
/// CPU time of this process and of the watched ones.
struct Meter {
    load_average: Option<f64>,
    own_cpu: Option<Duration>,
    watched: Vec<u32>,
    watched_cpu: Option<Duration>,
}

impl Meter {
    fn start(watched: &[u32]) -> Meter {
        Meter {
            load_average: load_average(),
            own_cpu: process_cpu(None),
            watched: watched.to_vec(),
            watched_cpu: Self::watched_cpu(watched),
        }
    }

    fn watched_cpu(watched: &[u32]) -> Option<Duration> {
        if watched.is_empty() {
            return None;
        }
        watched.iter().map(|&pid| process_cpu(Some(pid))).sum()
    }

    fn finish(&self, report: &mut Report) {
        let per_transaction = |before: Option<Duration>, after: Option<Duration>| {
            let used = after?.checked_sub(before?)?;
            (report.transactions > 0)
                .then(|| used.as_secs_f64() * 1000.0 / report.transactions as f64)
        };
        report.load_average_start = self.load_average;
        report.load_average_end = load_average();
        report.load_tool_cpu_ms_per_transaction = per_transaction(self.own_cpu, process_cpu(None));
        report.servers_cpu_ms_per_transaction =
            per_transaction(self.watched_cpu, Self::watched_cpu(&self.watched));
    }
}

/// The servers, without trailing slashes.
fn servers(args: &LoadtestArgs) -> Vec<String> {
    args.server
        .iter()
        .map(|s| s.trim().trim_end_matches('/').to_owned())
        .collect()
}

async fn load(args: &LoadtestArgs, half: HalfSize) -> anyhow::Result<Vec<Report>> {
    let homes = tempfile::tempdir()?;
    let servers = Arc::new(servers(args));
    let devices = Arc::new(register_devices(args, &servers, half, homes.path()).await?);
    let http = reqwest::Client::new();
    // Spreads the transactions over the nodes across all runs.
    let turn = Arc::new(AtomicUsize::new(0));
    let run = Run {
        http: &http,
        servers: &servers,
        devices: &devices,
        turn: &turn,
    };
    let mut reports = Vec::new();
    if let Some(rate) = args.rate {
        reports.push(run.open_loop(args, rate).await?);
    } else {
        for &concurrency in &args.concurrency {
            reports.push(run.closed_loop(args, concurrency).await?);
        }
    }
    Ok(reports)
}

/// What every transaction of a run shares.
struct Run<'a> {
    http: &'a reqwest::Client,
    servers: &'a Arc<Vec<String>>,
    devices: &'a Arc<Vec<Device>>,
    turn: &'a Arc<AtomicUsize>,
}

impl Run<'_> {
    /// `concurrency` workers, each running transactions back to back on its own devices.
    async fn closed_loop(&self, args: &LoadtestArgs, concurrency: usize) -> anyhow::Result<Report> {
        let meter = Meter::start(&args.cpu_of);
        let deadline = Instant::now() + Duration::from_secs(args.seconds);
        let progress = progress_bar(args.seconds, args.json);
        let started = Instant::now();
        let mut workers = tokio::task::JoinSet::new();
        for worker in 0..concurrency {
            let devices = self.devices.clone();
            let servers = self.servers.clone();
            let turn = self.turn.clone();
            let http = self.http.clone();
            let progress = progress.clone();
            workers.spawn(async move {
                let mut results = Vec::new();
                let mine: Vec<&Device> = devices.iter().skip(worker).step_by(concurrency).collect();
                let mut next = 0;
                while Instant::now() < deadline {
                    let device = mine[next % mine.len()];
                    next += 1;
                    let nodes = Nodes::take(&servers, &turn);
                    results.push(bounded_transaction(&http, nodes, device).await);
                    progress.inc(1);
                }
                results
            });
        }
        let mut results = Vec::new();
        while let Some(done) = workers.join_next().await {
            results.extend(done.context("a worker failed")?);
        }
        progress.finish_and_clear();
        let mut report = summarise(args, concurrency, started.elapsed(), results);
        meter.finish(&mut report);
        Ok(report)
    }

    /// Starts `rate` transactions per second on a timer, each on a device that is free, for
    /// as long as the run lasts; waits for the last ones to end.
    async fn open_loop(&self, args: &LoadtestArgs, rate: f64) -> anyhow::Result<Report> {
        let meter = Meter::start(&args.cpu_of);
        let interval = Duration::from_secs_f64(1.0 / rate);
        let deadline = Instant::now() + Duration::from_secs(args.seconds);
        let progress = progress_bar(args.seconds, args.json);
        let (free, mut waiting) = tokio::sync::mpsc::unbounded_channel::<usize>();
        for index in 0..self.devices.len() {
            free.send(index).expect("the receiver is here");
        }
        // A burst after a stall keeps the schedule: the loop is open, so a slow answer does
        // not lower the rate asked for (only a lack of free devices can).
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let started = Instant::now();
        let mut late_starts = 0;
        let mut in_flight = tokio::task::JoinSet::new();
        loop {
            let due = ticker.tick().await.into_std();
            if due >= deadline {
                break;
            }
            let index = waiting.recv().await.context("devices lost")?;
            if due.elapsed() > interval {
                late_starts += 1;
            }
            let devices = self.devices.clone();
            let nodes = Nodes::take(self.servers, self.turn);
            let http = self.http.clone();
            let free = free.clone();
            let progress = progress.clone();
            in_flight.spawn(async move {
                let result = bounded_transaction(&http, nodes, &devices[index]).await;
                progress.inc(1);
                // The device is free again for a later start.
                let _ = free.send(index);
                result
            });
        }
        let mut results = Vec::new();
        while let Some(done) = in_flight.join_next().await {
            results.push(done.context("a transaction task failed")?);
        }
        progress.finish_and_clear();
        let mut report = summarise(args, self.devices.len(), started.elapsed(), results);
        report.mode = "open-loop";
        report.target_rate = Some(rate);
        report.late_starts = Some(late_starts);
        meter.finish(&mut report);
        Ok(report)
    }
}

/// The nodes one transaction uses: the relying party starts it on one and long-polls through
/// the next (the same one when there is one node). The device talks to the node it registered
/// on, which may be either.
struct Nodes {
    start: String,
    poll: String,
}

impl Nodes {
    fn take(servers: &[String], turn: &AtomicUsize) -> Nodes {
        let turn = turn.fetch_add(1, Ordering::Relaxed);
        Nodes {
            start: servers[turn % servers.len()].clone(),
            poll: servers[(turn + 1) % servers.len()].clone(),
        }
    }
}

/// One transaction, as an error if it takes too long.
async fn bounded_transaction(
    http: &reqwest::Client,
    nodes: Nodes,
    device: &Device,
) -> Result<Sample, String> {
    tokio::time::timeout(STEP_TIMEOUT * 3, transaction(http, &nodes, device))
        .await
        .unwrap_or_else(|_| Err(anyhow::anyhow!("transaction timed out")))
        .map_err(|e| format!("{e:#}"))
}

/// The crypto bound: per transaction, what the device and the server compute in a login and
/// nothing else — the device's partial signature, the server's completion (with its PIN check
/// and final check), and the device's check of the finished signature — on `concurrency`
/// threads with one key made here. No HTTP, no database, no sealing of the server's share.
fn crypto_bound(args: &LoadtestArgs, half: HalfSize) -> anyhow::Result<Vec<Report>> {
    let pin1 = pin(PIN1);
    let options = DeviceKeyOptions {
        half,
        kdf: KdfParams::INSECURE_FAST,
        ..Default::default()
    };
    let (device, handover) = generate_device_key(&pin1, b"splitid loadtest crypto bound", options)
        .context("making the device's key")?;
    let server = ServerShare::establish(&handover).context("making the server's share")?;
    drop(handover);
    let public = server.public_key();
    let mut reports = Vec::new();
    for &concurrency in &args.concurrency {
        let meter = Meter::start(&args.cpu_of);
        let progress = progress_bar(args.seconds, args.json);
        let deadline = Instant::now() + Duration::from_secs(args.seconds);
        let started = Instant::now();
        let results: Vec<Result<Sample, String>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..concurrency)
                .map(|_| {
                    let (device, server, public, pin1, progress) =
                        (&device, &server, &public, &pin1, &progress);
                    scope.spawn(move || {
                        let mut results = Vec::new();
                        while Instant::now() < deadline {
                            let start = Instant::now();
                            let result = (|| {
                                let mut hash = [0u8; 64];
                                aws_lc_rs::rand::fill(&mut hash)
                                    .map_err(|_| anyhow::anyhow!("no randomness"))?;
                                let request = SignRequest::new(
                                    half,
                                    HashAlgorithm::Sha512,
                                    Padding::Pkcs1v15,
                                    &hash,
                                )?;
                                // Measured like the full test's: from the person's
                                // confirmation, so the partial signature is included.
                                let confirmed = Instant::now();
                                let partial = device.partial_sign(pin1, &request)?;
                                let signature = server.complete(&request, &partial)?;
                                let completed = Instant::now();
                                public.verify(&request, &signature)?;
                                Ok::<_, anyhow::Error>(Sample {
                                    total: start.elapsed(),
                                    confirmation_to_answer: completed - confirmed,
                                    rp_bytes: 0,
                                    app_bytes: 0,
                                })
                            })();
                            results.push(result.map_err(|e| format!("{e:#}")));
                            progress.inc(1);
                        }
                        results
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("a crypto worker panicked"))
                .collect()
        });
        progress.finish_and_clear();
        let mut report = summarise(args, concurrency, started.elapsed(), results);
        report.mode = "crypto-bound";
        report.servers = Vec::new();
        report.devices = 1;
        report.rp_api_bytes_per_transaction = None;
        report.app_api_bytes_per_transaction = None;
        meter.finish(&mut report);
        reports.push(report);
    }
    Ok(reports)
}

struct Device {
    app: App,
    document_number: String,
}

/// Registers the devices, on the servers in turn.
async fn register_devices(
    args: &LoadtestArgs,
    servers: &[String],
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
            server: servers[index % servers.len()].clone(),
            proofing: Proofing::Demo {
                semantics_identifier: format!("PNOEE-6{run:05}{index:05}"),
                given_name: "LOAD".into(),
                surname: format!("TEST{index}"),
            },
            half,
            kdf: KdfParams::INSECURE_FAST,
            supported_interactions: None,
            server_key_fingerprint: None,
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
    nodes: &Nodes,
    device: &Device,
) -> anyhow::Result<Sample> {
    let app_bytes_before = device.app.body_bytes();
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
            "{}/v2/authentication/document/{}",
            nodes.start, device.document_number
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
            "{}/v2/session/{session_id}?timeoutMs={}",
            nodes.poll,
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
        app_bytes: device.app.body_bytes() - app_bytes_before,
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
    concurrency: usize,
    elapsed: Duration,
    results: Vec<Result<Sample, String>>,
) -> Report {
    let first_error = results.iter().find_map(|r| r.as_ref().err().cloned());
    let errors = results.iter().filter(|r| r.is_err()).count();
    let samples: Vec<Sample> = results.into_iter().filter_map(Result::ok).collect();
    let seconds = elapsed.as_secs_f64();
    let per_transaction = |total: f64| Some(total / samples.len().max(1) as f64);
    Report {
        mode: "closed-loop",
        servers: servers(args),
        half_bits: args.half_bits,
        devices: args.devices,
        concurrency,
        target_rate: None,
        late_starts: None,
        seconds,
        transactions: samples.len(),
        errors,
        transactions_per_second: samples.len() as f64 / seconds,
        total_latency: percentiles(samples.iter().map(|s| s.total).collect()),
        confirmation_to_answer: percentiles(
            samples.iter().map(|s| s.confirmation_to_answer).collect(),
        ),
        rp_api_bytes_per_transaction: per_transaction(
            samples.iter().map(|s| s.rp_bytes).sum::<usize>() as f64,
        ),
        app_api_bytes_per_transaction: per_transaction(
            samples.iter().map(|s| s.app_bytes).sum::<u64>() as f64,
        ),
        load_average_start: None,
        load_average_end: None,
        load_tool_cpu_ms_per_transaction: None,
        servers_cpu_ms_per_transaction: None,
        first_error,
    }
}

fn print_report(report: &Report) {
    let how = match report.target_rate {
        Some(rate) => format!("{rate:.1} per second asked for"),
        None => format!("{} at a time", report.concurrency),
    };
    let with = if report.mode == "crypto-bound" {
        "crypto bound (no server)".to_owned()
    } else {
        format!(
            "{} devices on {} node(s)",
            report.devices,
            report.servers.len()
        )
    };
    println!(
        "{} transactions in {:.1} s, {with}, {how}: {:.1} per second, {} errors",
        report.transactions, report.seconds, report.transactions_per_second, report.errors
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
    if let (Some(rp), Some(app)) = (
        report.rp_api_bytes_per_transaction,
        report.app_api_bytes_per_transaction,
    ) {
        println!("  bytes per transaction (bodies): relying-party API {rp:.0}, app API {app:.0}");
    }
    if let Some(late) = report.late_starts {
        println!("  late starts (no free device): {late}");
    }
    if let Some(own) = report.load_tool_cpu_ms_per_transaction {
        let servers = report
            .servers_cpu_ms_per_transaction
            .map(|ms| format!(", servers {ms:.1} ms"))
            .unwrap_or_default();
        println!("  CPU per transaction: load tool {own:.1} ms{servers}");
    }
    if let (Some(start), Some(end)) = (report.load_average_start, report.load_average_end) {
        println!("  load average (1 min): {start:.2} at the start, {end:.2} at the end");
    }
    if let Some(error) = &report.first_error {
        println!("  first error: {error}");
    }
}
