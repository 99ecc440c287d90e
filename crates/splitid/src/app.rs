//! `splitid app`: the phone, on the command line. PINs are read from the terminal when there
//! is one, otherwise one per line from standard input (so scripts and tests can drive it).

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use splitid_app::flows::{Pending, Registration};
use splitid_app::vault::StoredAccount;
use splitid_app::{App, AppError};
use splitid_proto::app_v1::{
    PinStatus, Proofing, ProofingChallenge, TransactionKind, TransactionOutcome,
};
use splitkey::{HalfSize, KdfParams, Pin};

#[derive(Args)]
pub struct AppArgs {
    /// The device's home directory (its key store).
    #[arg(long, env = "SPLITID_APP_HOME", default_value = "./splitid-phone")]
    home: PathBuf,
    /// Machine-readable output.
    #[arg(long, global = true)]
    json: bool,
    /// A PEM file of CA certificates to trust for the server's TLS certificate, beside the
    /// system's (a private CA).
    #[arg(long, env = "SPLITID_APP_TLS_ROOTS", global = true)]
    tls_roots: Option<PathBuf>,
    #[command(subcommand)]
    command: AppCommand,
}

#[derive(Subcommand)]
enum AppCommand {
    /// Register this device. Reads PIN1, then PIN2 (with `--proof account`, first PIN1 of the
    /// vouching account).
    Register {
        #[arg(long)]
        server: String,
        #[command(flatten)]
        proof: Box<ProofArgs>,
        /// Bits of each key half: 3072, or 2048 where the server allows it.
        #[arg(long, default_value_t = 3072)]
        half_bits: usize,
        /// The interactions this app runs, comma-separated (default: all four), e.g. to behave
        /// like an older app that only knows displayTextAndPIN.
        #[arg(long, value_delimiter = ',')]
        interactions: Option<Vec<String>>,
        /// The fingerprint of the server's channel key as `serve` prints it (given out of
        /// band): registration refuses a server that presents any other key.
        #[arg(long)]
        server_key: Option<String>,
    },
    /// Ask the server for a proofing challenge (for an ID token's nonce; then `register --proof
    /// oidc --challenge-id ID`).
    ProofingChallenge {
        #[arg(long)]
        server: String,
    },
    /// The accounts on this device, with their lock state.
    Accounts,
    /// Check for transactions.
    Check {
        /// Wait up to this many seconds for one to arrive.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Confirm a transaction (reads PIN1 for a login, PIN2 for a signature).
    Confirm {
        #[command(flatten)]
        which: Which,
        /// For verification-code choice: the code you see at the e-service.
        #[arg(long)]
        vc: Option<String>,
    },
    /// Open an RP API v3 device link (a QR code's, a Web2App or App2App link), then confirm
    /// its transaction (reads PIN1 for a login, PIN2 for a signature) or refuse it, and print
    /// where to return to the e-service (Web2App, App2App).
    Open {
        /// The link, exactly as scanned or opened.
        #[arg(required_unless_present = "qr", conflicts_with = "qr")]
        link: Option<String>,
        /// A PNG image of the QR code to read the link from (a screenshot, a photo's crop).
        #[arg(long)]
        qr: Option<PathBuf>,
        /// The account to open it with, when this device has several at its server.
        #[arg(long)]
        account: Option<String>,
        /// Refuse instead of confirming, on this screen (an interaction name or
        /// certificateChoice; `plain` for a plain refusal).
        #[arg(long)]
        refuse: Option<String>,
        /// After a certificate choice: seconds to wait for the signature linked to it (then
        /// confirmed with PIN2); other transactions meanwhile are refused as not expected.
        #[arg(long, default_value_t = 30)]
        linked_wait: u64,
    },
    /// Refuse a transaction.
    Refuse {
        #[command(flatten)]
        which: Which,
        /// The screen you pressed Cancel on (an interaction name or certificateChoice).
        #[arg(long)]
        screen: Option<String>,
    },
    /// Stay connected to the push channel and show each transaction as it arrives.
    Listen {
        /// Stop after this many transactions (default: run until interrupted).
        #[arg(long)]
        count: Option<usize>,
    },
    /// Delete an account, on the server and on this device.
    Delete { document_number: String },
    /// Write an account's certificates as PEM files auth.pem and sign.pem.
    Certificates {
        document_number: String,
        /// The directory to write them to (created if missing).
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
}

/// How this registration proves who the person is.
#[derive(Args)]
struct ProofArgs {
    /// The proofing method: demo (self-asserted, demo servers only), eid-cert, account, oidc.
    #[arg(long, value_enum, default_value = "demo")]
    proof: ProofMethod,
    /// demo: ETSI semantics identifier, e.g. PNOEE-30303039914.
    #[arg(long)]
    identity: Option<String>,
    /// demo: given name.
    #[arg(long)]
    given_name: Option<String>,
    /// demo: surname.
    #[arg(long)]
    surname: Option<String>,
    /// eid-cert: PEM certificate file (the eID certificate first, then any intermediates).
    #[arg(long)]
    cert: Option<PathBuf>,
    /// eid-cert: PEM PKCS#8 private key of that certificate (RSA, ECDSA P-256 or P-384).
    #[arg(long)]
    key: Option<PathBuf>,
    /// account: the document number of an account that vouches with a PIN1 login (on this
    /// device, or on another that gets the login to confirm).
    #[arg(long = "with")]
    with: Option<String>,
    /// oidc: a file with the ID token (compact JWS) whose nonce is the challenge.
    #[arg(long)]
    id_token: Option<PathBuf>,
    /// oidc: the proofing challenge the ID token's nonce is (from `proofing-challenge`).
    #[arg(long)]
    challenge_id: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ProofMethod {
    Demo,
    EidCert,
    Account,
    Oidc,
}

#[derive(Args)]
struct Which {
    #[command(flatten)]
    pick: Pick,
    /// Wait up to this many seconds for a transaction to arrive.
    #[arg(long, default_value_t = 0)]
    wait: u64,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct Pick {
    /// The next (oldest) pending transaction.
    #[arg(long)]
    next: bool,
    /// A transaction by its id.
    #[arg(long)]
    transaction: Option<String>,
}

pub fn run(args: AppArgs) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(run_async(args))
}

async fn run_async(args: AppArgs) -> anyhow::Result<()> {
    let app = match &args.tls_roots {
        Some(path) => {
            let pem = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
            App::open_with(
                &args.home,
                splitid_app::desktop::HttpTransport::trusting(&pem).map_err(explain)?,
            )
        }
        None => App::open(&args.home),
    };
    let mut pins = PinReader::new();
    if !matches!(
        args.command,
        AppCommand::Register { .. }
            | AppCommand::ProofingChallenge { .. }
            | AppCommand::Certificates { .. }
    ) {
        // A request whose answer was lost (or that this app was stopped waiting for) goes
        // first, byte for byte, so that the server's record and this device agree again. Without
        // a network it stays for the next time.
        match app.resume().await {
            Ok(_) | Err(AppError::Network(_)) => {}
            Err(error) => return Err(explain(error)),
        }
    }
    match args.command {
        AppCommand::Register {
            server,
            proof,
            half_bits,
            interactions,
            server_key,
        } => {
            let proofing = proofing(&app, &server, &proof, &mut pins).await?;
            let registration = Registration {
                server,
                proofing,
                half: HalfSize::from_bits(half_bits)?,
                kdf: KdfParams::RECOMMENDED,
                supported_interactions: interactions,
                server_key_fingerprint: server_key,
            };
            let pin1 = pins.read("PIN1 (at least 4 digits, for logging in)")?;
            let pin2 = pins.read("PIN2 (at least 5 digits, for signing)")?;
            let account = app
                .register(registration, &pin1, &pin2)
                .await
                .map_err(explain)?;
            output(
                args.json,
                &serde_json::json!({ "documentNumber": account.document_number, "expiresAt": account.expires_at }),
                || {
                    format!(
                        "Registered: {}\nValid until {}",
                        account.document_number, account.expires_at
                    )
                },
            );
        }
        AppCommand::ProofingChallenge { server } => {
            let challenge = app.proofing_challenge(&server).await.map_err(explain)?;
            output(args.json, &serde_json::json!(challenge), || {
                format!(
                    "Challenge {} (use it as the ID token's nonce): {}\nValid until {}",
                    challenge.challenge_id, challenge.challenge, challenge.expires_at
                )
            });
        }
        AppCommand::Accounts => show_accounts(&app, args.json).await?,
        AppCommand::Check { wait } => {
            let pending = app
                .pending(Duration::from_secs(wait))
                .await
                .map_err(explain)?;
            let list: Vec<_> = pending.iter().map(|p| serde_json::json!({ "documentNumber": p.account.document_number, "transaction": p.transaction })).collect();
            output(args.json, &serde_json::json!(list), || {
                if pending.is_empty() {
                    "No transactions.".to_owned()
                } else {
                    pending.iter().map(describe).collect::<Vec<_>>().join("\n")
                }
            });
        }
        AppCommand::Confirm { which, vc } => {
            let pending = choose(&app, &which).await?;
            let (outcome, _) = confirm(&app, &pending, &mut pins, vc, args.json).await?;
            report(args.json, &pending, &outcome)?;
        }
        AppCommand::Open {
            link,
            qr,
            account,
            refuse,
            linked_wait,
        } => {
            let link = match (link, qr) {
                (Some(link), _) => link,
                (None, Some(image)) => read_qr(&image)?,
                (None, None) => bail!("give the link, or --qr IMAGE.png"),
            };
            let pending = app
                .open_link(&link, account.as_deref())
                .await
                .map_err(explain)?;
            let (outcome, callback) = match refuse {
                Some(screen) => {
                    let screen = (screen != "plain").then_some(screen);
                    let outcome = app.refuse(&pending, screen).await.map_err(explain)?;
                    (outcome, pending.transaction.callback_url.clone())
                }
                None => confirm(&app, &pending, &mut pins, None, args.json).await?,
            };
            let chose = pending.transaction.kind == TransactionKind::CertificateChoice
                && matches!(&outcome, TransactionOutcome::Completed { end_result } if end_result == "OK");
            if chose {
                let linked = app
                    .await_linked(&pending, Duration::from_secs(linked_wait))
                    .await
                    .map_err(explain)?;
                if let Some(linked) = linked {
                    let (signed, returning) =
                        confirm(&app, &linked, &mut pins, None, args.json).await?;
                    let callback = returning.or(callback);
                    return report_returning(args.json, &linked, &signed, callback.as_deref());
                }
                if linked_wait > 0 {
                    eprintln!("No signature followed the certificate choice.");
                }
            }
            report_returning(args.json, &pending, &outcome, callback.as_deref())?;
        }
        AppCommand::Refuse { which, screen } => {
            let pending = choose(&app, &which).await?;
            let outcome = app.refuse(&pending, screen).await.map_err(explain)?;
            report(args.json, &pending, &outcome)?;
        }
        AppCommand::Listen { count } => {
            let mut seen = 0usize;
            let json = args.json;
            app.listen(|pending| {
                if json {
                    println!("{}", serde_json::json!({ "documentNumber": pending.account.document_number, "transaction": pending.transaction }));
                } else {
                    println!("{}", describe(&pending));
                }
                seen += 1;
                count.is_none_or(|count| seen < count)
            })
            .await
            .map_err(explain)?;
        }
        AppCommand::Certificates {
            document_number,
            out,
        } => {
            let paths = export_certificates(&app, &document_number, &out).await?;
            output(
                args.json,
                &serde_json::json!({ "authentication": paths[0], "signing": paths[1] }),
                || {
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join("\n")
                },
            );
        }
        AppCommand::Delete { document_number } => {
            app.delete(&document_number).await.map_err(explain)?;
            output(
                args.json,
                &serde_json::json!({ "deleted": document_number }),
                || format!("Deleted {document_number}."),
            );
        }
    }
    Ok(())
}

/// Writes the account's certificates to `out/auth.pem` and `out/sign.pem`; returns the paths.
async fn export_certificates(
    app: &App,
    document_number: &str,
    out: &std::path::Path,
) -> anyhow::Result<[PathBuf; 2]> {
    let (authentication, signing) = app.certificates(document_number).await.map_err(explain)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut paths = [out.join("auth.pem"), out.join("sign.pem")];
    for (path, der) in paths.iter_mut().zip([authentication, signing]) {
        let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der)
            .map_err(|e| anyhow::anyhow!("PEM encoding: {e}"))?;
        std::fs::write(&*path, pem).with_context(|| format!("cannot write {}", path.display()))?;
        *path = std::path::absolute(&*path).unwrap_or_else(|_| path.clone());
    }
    Ok(paths)
}

/// Gathers the evidence for the chosen proofing method (signing with the eID key, vouching
/// with an account's PIN1, reading the ID token).
async fn proofing(
    app: &App,
    server: &str,
    proof: &ProofArgs,
    pins: &mut PinReader,
) -> anyhow::Result<Proofing> {
    let typed = proof.identity.is_some() || proof.given_name.is_some() || proof.surname.is_some();
    if typed && proof.proof != ProofMethod::Demo {
        bail!(
            "--identity, --given-name and --surname are for --proof demo only: the other methods take the identity from their evidence"
        );
    }
    Ok(match proof.proof {
        ProofMethod::Demo => {
            let (Some(identity), Some(given_name), Some(surname)) =
                (&proof.identity, &proof.given_name, &proof.surname)
            else {
                bail!("--proof demo needs --identity, --given-name and --surname");
            };
            Proofing::Demo {
                semantics_identifier: identity.clone(),
                given_name: given_name.clone(),
                surname: surname.clone(),
            }
        }
        ProofMethod::EidCert => {
            let signer = crate::eid::Signer::load(
                needed(&proof.cert, "--cert FILE", "eid-cert")?,
                needed(&proof.key, "--key FILE", "eid-cert")?,
            )?;
            let challenge = app.proofing_challenge(server).await.map_err(explain)?;
            let message = splitid_proto::app_v1::proofing_message(
                &challenge.challenge_id,
                &challenge.challenge,
            );
            let (signature_algorithm, signature) = signer.sign(&message)?;
            Proofing::EidCertificate {
                challenge_id: challenge.challenge_id,
                certificate_chain: signer.chain_base64(),
                signature_algorithm: signature_algorithm.to_owned(),
                signature,
            }
        }
        ProofMethod::Account => {
            let voucher = needed(&proof.with, "--with DOCUMENT_NUMBER", "account")?;
            let challenge = app.proofing_challenge(server).await.map_err(explain)?;
            if app.has_account(voucher).await.map_err(explain)? {
                vouch_here(app, voucher, &challenge, pins).await?;
            } else {
                vouch_elsewhere(app, server, voucher, &challenge).await?;
            }
            Proofing::Account {
                challenge_id: challenge.challenge_id,
            }
        }
        ProofMethod::Oidc => {
            let path = needed(&proof.id_token, "--id-token FILE", "oidc")?;
            let challenge_id = needed(&proof.challenge_id, "--challenge-id ID", "oidc")?;
            let id_token = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Proofing::Oidc {
                challenge_id: challenge_id.clone(),
                id_token: id_token.trim().to_owned(),
            }
        }
    })
}

/// The vouching account is on this device: its PIN1 now.
async fn vouch_here(
    app: &App,
    voucher: &str,
    challenge: &ProofingChallenge,
    pins: &mut PinReader,
) -> anyhow::Result<()> {
    let pin = pins.read(&format!("PIN1 of {voucher} (vouching for the new account)"))?;
    match app.vouch(voucher, challenge, &pin).await.map_err(explain)? {
        TransactionOutcome::Completed { .. } => Ok(()),
        TransactionOutcome::WrongPin { pin } => {
            bail!("the vouching account's {}", wrong_pin_line("PIN1", &pin))
        }
        TransactionOutcome::Gone => bail!("the vouching was not accepted"),
    }
}

/// The vouching account is on another device: it gets a login to confirm with PIN1, and this
/// device shows the verification code to compare and waits.
async fn vouch_elsewhere(
    app: &App,
    server: &str,
    voucher: &str,
    challenge: &ProofingChallenge,
) -> anyhow::Result<()> {
    let session = app
        .start_vouch_session(server, challenge, voucher)
        .await
        .map_err(explain)?;
    eprintln!(
        "Confirm \"Add a new device to your SplitID\" with PIN1 on the device of {voucher}.\nVerification code: {}",
        session.verification_code
    );
    loop {
        let state = app
            .vouch_state(server, challenge, Duration::from_secs(30))
            .await
            .map_err(explain)?;
        match state.state.as_str() {
            "OK" => return Ok(()),
            "RUNNING" => continue,
            other => bail!("the vouching login on {voucher}'s device ended with {other}"),
        }
    }
}

/// A flag the chosen proofing method needs.
fn needed<'a, T>(value: &'a Option<T>, flag: &str, method: &str) -> anyhow::Result<&'a T> {
    value
        .as_ref()
        .with_context(|| format!("--proof {method} needs {flag}"))
}

async fn show_accounts(app: &App, json: bool) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for account in app.accounts().await? {
        let status = app.status(&account).await;
        rows.push((account, status));
    }
    let list: Vec<_> = rows
        .iter()
        .map(|(account, status)| match status {
            Ok(status) => serde_json::json!({ "documentNumber": account.document_number, "server": account.server, "status": status, "warning": account.registration_warning() }),
            Err(error) => serde_json::json!({ "documentNumber": account.document_number, "server": account.server, "error": error.to_string() }),
        })
        .collect();
    output(json, &serde_json::json!(list), || {
        if rows.is_empty() {
            return "No accounts on this device.".to_owned();
        }
        rows.iter()
            .map(|(account, status)| account_line(account, status))
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

fn account_line(
    account: &StoredAccount,
    status: &Result<splitid_proto::app_v1::AccountStatus, AppError>,
) -> String {
    match status {
        Ok(status) if status.state != "active" => format!(
            "{}  CLOSED ({})",
            account.document_number,
            status.closed_reason.as_deref().unwrap_or("no reason given")
        ),
        Ok(status) => {
            format!(
                "{}  active until {}  PIN1: {}  PIN2: {}{}",
                account.document_number,
                status.expires_at,
                pin_text(&status.pin1),
                pin_text(&status.pin2),
                expiry_warning(&account.document_number, status.days_left)
            ) + &account
                .registration_warning()
                .map(|warning| format!("\n  {warning}"))
                .unwrap_or_default()
        }
        Err(error) => format!("{}  (server: {error})", account.document_number),
    }
}

/// In the last days of an account: when it ends and what to do about it.
fn expiry_warning(document_number: &str, days_left: Option<i64>) -> String {
    match days_left {
        Some(days) if days <= 0 => {
            "\n  EXPIRED: register this device again to go on using SplitID".to_owned()
        }
        Some(days) if days <= splitid_proto::app_v1::EXPIRY_WARNING_DAYS => format!(
            "\n  expires in {days} day(s): register a replacement now, proving who you are with this account:\n    splitid app register --proof account --with {document_number}"
        ),
        _ => String::new(),
    }
}

/// "usable", or a countdown to the end of a lock.
fn pin_text(status: &PinStatus) -> String {
    match status {
        PinStatus::Usable { .. } => "usable".to_owned(),
        PinStatus::PermanentlyLocked => {
            "locked for good (delete the account and register again)".to_owned()
        }
        PinStatus::Locked { until } => {
            let remaining =
                time::OffsetDateTime::parse(until, &time::format_description::well_known::Rfc3339)
                    .map(|t| t - time::OffsetDateTime::now_utc())
                    .unwrap_or_default();
            let minutes = remaining.whole_minutes().max(0);
            format!(
                "locked for {}h {:02}min more (until {until})",
                minutes / 60,
                minutes % 60
            )
        }
    }
}

fn describe(pending: &Pending) -> String {
    let t = &pending.transaction;
    let what = match t.kind {
        TransactionKind::Authentication => "Log in to",
        TransactionKind::Signature => "Sign for",
        TransactionKind::CertificateChoice => "Share your signing certificate with",
    };
    let mut line = format!(
        "[{}] {what} {} ({})",
        t.transaction_id, t.relying_party_name, pending.account.document_number
    );
    if let Some(text) = &t.text {
        line.push_str(&format!("\n    \"{text}\""));
    }
    if !t.code_choices.is_empty() {
        line.push_str(&format!(
            "\n    Choose the code shown at the e-service: {}",
            t.code_choices.join(" / ")
        ));
    } else if let Some(code) = &t.verification_code {
        line.push_str(&format!("\n    Verification code: {code}"));
    }
    line
}

/// The text of the QR code in a PNG image (any colour type; the first code found).
fn read_qr(path: &std::path::Path) -> anyhow::Result<String> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .with_context(|| format!("{} is not a PNG image", path.display()))?;
    let mut pixels = vec![
        0;
        reader
            .output_buffer_size()
            .context("the image is too large")?
    ];
    let frame = reader
        .next_frame(&mut pixels)
        .context("the PNG image is damaged")?;
    let channels = frame.color_type.samples();
    let (width, height) = (frame.width as usize, frame.height as usize);
    // Luma of the first three channels (or the one); alpha is ignored.
    let grey = |x: usize, y: usize| {
        let at = (y * width + x) * channels;
        match channels {
            1 | 2 => pixels[at],
            _ => {
                let sum =
                    u16::from(pixels[at]) + u16::from(pixels[at + 1]) + u16::from(pixels[at + 2]);
                u8::try_from(sum / 3).unwrap_or(u8::MAX)
            }
        }
    };
    let luma: Vec<u8> = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .map(|(x, y)| grey(x, y))
        .collect();
    splitid_app::qr::read(width, height, &luma)
        .with_context(|| format!("no readable QR code in {}", path.display()))
}

/// Shows a transaction and confirms it with the PIN it needs (and the chosen code for
/// verification-code choice); returns the outcome and where a device link's flow returns.
async fn confirm(
    app: &App,
    pending: &Pending,
    pins: &mut PinReader,
    vc: Option<String>,
    json: bool,
) -> anyhow::Result<(TransactionOutcome, Option<String>)> {
    if !json {
        println!("{}", describe(pending));
    }
    let pin = match pending.transaction.kind {
        TransactionKind::Authentication => Some(pins.read("PIN1")?),
        TransactionKind::Signature => Some(pins.read("PIN2")?),
        TransactionKind::CertificateChoice => None,
    };
    let chosen = if pending.transaction.code_choices.is_empty() {
        None
    } else {
        Some(choose_code(pending, vc)?)
    };
    app.confirm_returning(pending, pin.as_ref(), chosen)
        .await
        .map_err(explain)
}

async fn choose(app: &App, which: &Which) -> anyhow::Result<Pending> {
    let pending = app
        .pending(Duration::from_secs(which.wait))
        .await
        .map_err(explain)?;
    let found = match &which.pick.transaction {
        Some(id) => pending
            .into_iter()
            .find(|p| &p.transaction.transaction_id == id),
        None => pending.into_iter().next(),
    };
    found.context(
        "no such pending transaction (it may have been answered on another device, withdrawn or timed out)",
    )
}

fn choose_code(pending: &Pending, vc: Option<String>) -> anyhow::Result<String> {
    let code = match vc {
        Some(code) => code,
        None if std::io::stdin().is_terminal() => {
            let mut line = String::new();
            eprint!("Which code does the e-service show? ");
            std::io::stdin().read_line(&mut line)?;
            line.trim().to_owned()
        }
        None => bail!("this transaction asks you to choose the verification code: pass --vc CODE"),
    };
    if !pending.transaction.code_choices.contains(&code) {
        bail!(
            "{code} is not one of the offered codes {}",
            pending.transaction.code_choices.join(", ")
        );
    }
    Ok(code)
}

fn report(json: bool, pending: &Pending, outcome: &TransactionOutcome) -> anyhow::Result<()> {
    report_returning(json, pending, outcome, None)
}

/// [`report`], with where a device link's flow returns to the e-service (`callbackUrl`).
fn report_returning(
    json: bool,
    pending: &Pending,
    outcome: &TransactionOutcome,
    callback: Option<&str>,
) -> anyhow::Result<()> {
    let mut value = serde_json::json!(outcome);
    if let Some(callback) = callback {
        value["callbackUrl"] = serde_json::json!(callback);
    }
    output(json, &value, || {
        let text = match outcome {
            TransactionOutcome::Completed { end_result, .. } if end_result == "OK" => {
                "Done.".to_owned()
            }
            TransactionOutcome::Completed { end_result, .. } => format!("Finished: {end_result}"),
            TransactionOutcome::WrongPin { pin } => wrong_pin_text(pending, pin),
            TransactionOutcome::Gone => {
                "The transaction is no longer open (answered elsewhere, withdrawn or timed out)."
                    .to_owned()
            }
        };
        match callback {
            Some(callback) => format!("{text}\nReturn to the e-service: {callback}"),
            None => text,
        }
    });
    match outcome {
        TransactionOutcome::Completed { .. } => Ok(()),
        TransactionOutcome::WrongPin { pin } => bail!("{}", wrong_pin_text(pending, pin)),
        TransactionOutcome::Gone => bail!("the transaction is no longer open"),
    }
}

fn wrong_pin_text(pending: &Pending, pin: &PinStatus) -> String {
    let which = if pending.transaction.kind == TransactionKind::Authentication {
        "PIN1"
    } else {
        "PIN2"
    };
    wrong_pin_line(which, pin)
}

fn wrong_pin_line(which: &str, pin: &PinStatus) -> String {
    match pin {
        PinStatus::Usable {
            attempts_before_lock,
            next_lock,
        } => {
            let attempts = match attempts_before_lock {
                1 => "1 attempt".to_owned(),
                n => format!("{n} attempts"),
            };
            let lock = match next_lock.as_str() {
                "3h" => "a 3-hour lock".to_owned(),
                "24h" => "a 24-hour lock".to_owned(),
                "permanent" => format!("{which} is locked for good"),
                _ => "a lock".to_owned(),
            };
            format!("wrong {which}: {attempts} left before {lock}")
        }
        PinStatus::Locked { until } => format!("wrong {which}: {which} is locked until {until}"),
        PinStatus::PermanentlyLocked => {
            format!("wrong {which}: {which} is locked for good; the account is closed")
        }
    }
}

fn output(json: bool, value: &serde_json::Value, text: impl FnOnce() -> String) {
    if json {
        println!("{value}");
    } else {
        println!("{}", text());
    }
}

fn explain(error: AppError) -> anyhow::Error {
    anyhow::anyhow!(error)
}

/// PINs from the terminal (not echoed), or one per line from standard input.
struct PinReader {
    lines: Option<std::io::Lines<std::io::StdinLock<'static>>>,
}

impl PinReader {
    fn new() -> Self {
        let stdin = std::io::stdin();
        let lines = (!stdin.is_terminal()).then(|| stdin.lock().lines());
        PinReader { lines }
    }

    /// The PIN; the text it was read as is wiped.
    fn read(&mut self, prompt: &str) -> anyhow::Result<Pin> {
        let text = zeroize::Zeroizing::new(match &mut self.lines {
            None => rpassword::prompt_password(format!("{prompt}: "))?,
            Some(lines) => lines
                .next()
                .transpose()?
                .with_context(|| format!("{prompt}: no more lines on standard input"))?,
        });
        Pin::new(text.trim()).with_context(|| prompt.to_owned())
    }
}
