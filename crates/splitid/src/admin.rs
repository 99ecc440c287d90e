//! `splitid admin`: the operator's tools, on the service's data directory (beside a running
//! server, or with none). Reads the same configuration file as `splitid serve`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use splitid_domain::Service;
use splitid_domain::accounts::rfc3339;
use splitid_domain::admin::{AccountLookup, AccountSummary, RelyingPartyChange};
use splitid_domain::clock::SystemClock;
use splitid_domain::store::Level;
use splitid_domain::store::{AuditEntry, AuditKind, AuditQuery, MonthlyUsage, RelyingPartyRecord};
use uuid::Uuid;

use crate::settings::{KeyStoreSettings, Settings};
use splitid_domain::store::DatabaseConfig;

#[derive(Args)]
pub struct AdminArgs {
    /// The service's configuration file (the one `splitid serve --config` reads).
    #[arg(long, env = "SPLITID_CONFIG")]
    config: Option<PathBuf>,
    /// The service's data directory [default: from the configuration, else ./splitid-data].
    #[arg(long, env = "SPLITID_DATA")]
    data: Option<PathBuf>,
    /// The service's database, as `splitid serve --database` [default: from the configuration,
    /// else SQLite in the data directory].
    #[arg(long, env = "SPLITID_DATABASE")]
    database: Option<String>,
    /// Who is acting, for the audit log [default: $USER].
    #[arg(long, env = "SPLITID_OPERATOR")]
    operator: Option<String>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    json: bool,
    /// The key store, as `splitid serve` takes it: the tools open the same CA and secrets.
    #[command(flatten)]
    keystore: KeyStoreSettings,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Relying parties: the e-services allowed to use the RP API.
    #[command(subcommand, name = "rp")]
    RelyingParty(RelyingPartyCommand),
    /// Accounts: find, show with history, close a lost device's account. (There is no
    /// unlock: a locked PIN unlocks with time, a permanent lock means registering anew.)
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Transactions per relying party, month, kind and result (for billing).
    Usage {
        /// Only this month, YYYY-MM.
        #[arg(long)]
        month: Option<String>,
        /// Comma-separated values instead of a table.
        #[arg(long)]
        csv: bool,
    },
    /// The server's channel keys, which apps seal PIN-testable values to.
    #[command(subcommand)]
    ChannelKey(ChannelKeyCommand),
    /// The audit log of security events, oldest first.
    Audit {
        /// Only events about this account.
        #[arg(long)]
        document: Option<String>,
        /// Only this kind of event (e.g. wrong_pin, account_closed).
        #[arg(long)]
        event: Option<String>,
        /// Only events at or after this time (RFC 3339, or a date YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Only the newest N matching events.
        #[arg(long)]
        limit: Option<u32>,
    },
}

#[derive(Subcommand)]
enum RelyingPartyCommand {
    /// Add a relying party; prints its new UUID.
    Add {
        #[command(flatten)]
        settings: RelyingPartySettings,
    },
    /// List the relying parties.
    List,
    /// Change names, levels or address ranges (each given replaces the current list).
    Change {
        uuid: Uuid,
        #[command(flatten)]
        settings: RelyingPartySettings,
        /// Allow calls from any address (drops the ranges).
        #[arg(long, conflicts_with = "ip")]
        any_ip: bool,
    },
    /// Stop a relying party from starting or reading sessions.
    Disable { uuid: Uuid },
    /// Allow a disabled relying party again.
    Enable { uuid: Uuid },
}

#[derive(Args)]
struct RelyingPartySettings {
    /// A `relyingPartyName` it may use (repeat for several).
    #[arg(long = "name")]
    names: Vec<String>,
    /// A certificate level it may ask for: ADVANCED, QUALIFIED, QSCD (repeat for several).
    #[arg(long = "level")]
    levels: Vec<String>,
    /// A source address range (CIDR) it may call from (repeat for several).
    #[arg(long)]
    ip: Vec<String>,
    /// May learn the address of the phone that answered, when a request asks for it
    /// (`shareMdClientIpAddress`) [add: false; change: unchanged].
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    share_device_ip: Option<bool>,
}

#[derive(Subcommand)]
enum AccountsCommand {
    /// Find accounts by the person's identity or by document number.
    Find {
        /// Semantics identifier, e.g. PNOEE-30303039914.
        #[arg(
            long,
            conflicts_with = "document",
            required_unless_present = "document"
        )]
        identity: Option<String>,
        #[arg(long)]
        document: Option<String>,
    },
    /// One account's state and history.
    Show { document: String },
    /// Close an account because its device was lost or stolen: revokes its certificates.
    Close {
        document: String,
        /// Required: says why (the only reason support closes an account).
        #[arg(long, required = true)]
        lost_device: bool,
    },
}

#[derive(Subcommand)]
enum ChannelKeyCommand {
    /// Every channel key: generation, fingerprint, when made, when it retires.
    List,
    /// Make a new current key, signed by the current one; the current one keeps opening what
    /// apps sealed to it for the overlap, then retires.
    Rotate {
        /// Days the old key keeps working.
        #[arg(long, default_value_t = 30)]
        overlap_days: i64,
    },
}

/// A channel key as the tool shows it.
#[derive(Serialize)]
struct ChannelKeyView {
    generation: i64,
    key_id: String,
    fingerprint: String,
    created_at: String,
    retires_at: Option<String>,
}

async fn channel_key(
    service: &Service,
    operator: &str,
    command: ChannelKeyCommand,
    out: Output,
) -> anyhow::Result<()> {
    if let ChannelKeyCommand::Rotate { overlap_days } = command {
        if !(0..=3650).contains(&overlap_days) {
            bail!("--overlap-days {overlap_days}: expected 0 to 3650");
        }
        let key = service
            .rotate_channel_key(time::Duration::days(overlap_days))
            .await?;
        tracing::info!(operator, key = %key.key_id, "channel key rotated");
    }
    let mut views = Vec::new();
    for record in service.channel_keys().await? {
        let public: splitid_proto::app_v1::ServerKey = serde_json::from_str(&record.public_key)?;
        let fingerprint = splitid_sealing::PublicServerKey::from_wire(&public)?.fingerprint();
        views.push(ChannelKeyView {
            generation: record.generation,
            key_id: record.key_id,
            fingerprint,
            created_at: rfc3339(record.created_at),
            retires_at: record.retires_at.map(rfc3339),
        });
    }
    out.show(&views, || {
        table(
            &["GENERATION", "FINGERPRINT", "CREATED", "RETIRES"],
            views.iter().map(|v| {
                vec![
                    v.generation.to_string(),
                    v.fingerprint.clone(),
                    v.created_at.clone(),
                    v.retires_at.clone().unwrap_or_else(|| "current".into()),
                ]
            }),
        )
    })
}

pub fn run(args: AdminArgs) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(run_async(args))
}

async fn open_service(args: &AdminArgs) -> anyhow::Result<Service> {
    let given = Settings {
        config: args.config.clone(),
        data: args.data.clone(),
        database: args.database.clone(),
        keystore: args.keystore.clone(),
        ..Settings::default()
    };
    let config = given.with_file()?.tool_config()?;
    // Never create anything: a directory without the service's CA (or, on SQLite, without
    // its database) is a mistyped path, not a new service.
    let sqlite_file = config.data_dir.join(splitid_domain::store::DATABASE_FILE);
    let no_database =
        matches!(config.database, DatabaseConfig::SqliteIn(_)) && !sqlite_file.exists();
    if no_database || splitid_domain::ca::stored_ca_is_test(&config.data_dir).is_none() {
        bail!(
            "{} holds no SplitID data (start `splitid serve` on it first, or pass --data/--config)",
            config.data_dir.display()
        );
    }
    Service::open(config, Arc::new(SystemClock))
        .await
        .context("cannot open the service's data")
}

async fn run_async(args: AdminArgs) -> anyhow::Result<()> {
    let service = open_service(&args).await?;
    let operator = args
        .operator
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "operator".into());
    let out = Output { json: args.json };
    match args.command {
        AdminCommand::RelyingParty(command) => {
            relying_party(&service, &operator, command, out).await
        }
        AdminCommand::Accounts(command) => accounts(&service, &operator, command, out).await,
        AdminCommand::Usage { month, csv } => usage(&service, month, csv, out).await,
        AdminCommand::ChannelKey(command) => channel_key(&service, &operator, command, out).await,
        AdminCommand::Audit {
            document,
            event,
            since,
            limit,
        } => {
            let query = AuditQuery {
                document_number: document,
                kind: event.map(parse_event).transpose()?,
                since: since.as_deref().map(parse_since).transpose()?,
                limit,
            };
            audit(&service, &query, out).await
        }
    }
}

#[derive(Clone, Copy)]
struct Output {
    json: bool,
}

impl Output {
    /// JSON when asked for, else the table.
    fn show<T: Serialize>(self, value: &T, table: impl FnOnce() -> String) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value)?);
        } else {
            print!("{}", table());
        }
        Ok(())
    }
}

fn parse_levels(levels: &[String]) -> anyhow::Result<Vec<Level>> {
    levels
        .iter()
        .map(|level| {
            serde_json::from_value(serde_json::Value::String(level.to_uppercase())).with_context(
                || format!("{level:?} is not a certificate level (ADVANCED, QUALIFIED, QSCD)"),
            )
        })
        .collect()
}

fn parse_event(name: String) -> anyhow::Result<AuditKind> {
    AuditKind::parse(name.clone()).map_err(|_| {
        let known: Vec<_> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
        anyhow::anyhow!("unknown event {name:?}; events are: {}", known.join(", "))
    })
}

fn parse_since(text: &str) -> anyhow::Result<time::OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(at) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    let date = time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .with_context(|| format!("{text:?} is neither an RFC 3339 time nor a date YYYY-MM-DD"))?;
    Ok(date.midnight().assume_utc())
}

async fn relying_party(
    service: &Service,
    operator: &str,
    command: RelyingPartyCommand,
    out: Output,
) -> anyhow::Result<()> {
    let changed = match command {
        RelyingPartyCommand::List => {
            let parties = service.store().relying_parties().await?;
            return out.show(&parties, || relying_party_table(&parties));
        }
        RelyingPartyCommand::Add { settings } => {
            let levels = if settings.levels.is_empty() {
                vec![Level::Qualified, Level::Qscd]
            } else {
                parse_levels(&settings.levels)?
            };
            service
                .add_relying_party(
                    operator,
                    settings.names,
                    levels,
                    settings.ip,
                    settings.share_device_ip.unwrap_or(false),
                )
                .await?
        }
        RelyingPartyCommand::Change {
            uuid,
            settings,
            any_ip,
        } => {
            let change = RelyingPartyChange {
                names: Some(settings.names).filter(|n| !n.is_empty()),
                allowed_levels: Some(parse_levels(&settings.levels)?).filter(|l| !l.is_empty()),
                ip_ranges: if any_ip {
                    Some(Vec::new())
                } else {
                    Some(settings.ip).filter(|r| !r.is_empty())
                },
                enabled: None,
                share_device_ip: settings.share_device_ip,
            };
            service.change_relying_party(operator, uuid, change).await?
        }
        RelyingPartyCommand::Disable { uuid } | RelyingPartyCommand::Enable { uuid } => {
            let enabled = matches!(command, RelyingPartyCommand::Enable { .. });
            let change = RelyingPartyChange {
                enabled: Some(enabled),
                ..RelyingPartyChange::default()
            };
            service.change_relying_party(operator, uuid, change).await?
        }
    };
    out.show(&changed, || {
        relying_party_table(std::slice::from_ref(&changed))
    })
}

fn relying_party_table(parties: &[RelyingPartyRecord]) -> String {
    let rows = parties.iter().map(|rp| {
        vec![
            rp.uuid.to_string(),
            if rp.enabled { "enabled" } else { "disabled" }.into(),
            rp.names.join(", "),
            rp.allowed_levels
                .iter()
                .map(|l| l.name())
                .collect::<Vec<_>>()
                .join(","),
            if rp.ip_ranges.is_empty() {
                "any".into()
            } else {
                rp.ip_ranges.join(",")
            },
        ]
    });
    table(&["UUID", "STATE", "NAMES", "LEVELS", "ADDRESSES"], rows)
}

async fn accounts(
    service: &Service,
    operator: &str,
    command: AccountsCommand,
    out: Output,
) -> anyhow::Result<()> {
    match command {
        AccountsCommand::Find { identity, document } => {
            let lookup = match (identity, document) {
                (Some(identity), _) => AccountLookup::Person(identity),
                (None, Some(document)) => AccountLookup::Document(document),
                (None, None) => bail!("give --identity or --document"),
            };
            let found = service.find_accounts(&lookup).await?;
            if found.is_empty() && !out.json {
                bail!("no account found");
            }
            out.show(&found, || account_table(&found))
        }
        AccountsCommand::Show { document } => {
            let (account, history) = service.account_history(&document).await?;
            let value = serde_json::json!({ "account": account, "history": history });
            out.show(&value, || {
                format!(
                    "{}\nHistory:\n{}",
                    account_table(std::slice::from_ref(&account)),
                    audit_table(&history)
                )
            })
        }
        AccountsCommand::Close { document, .. } => {
            let account = service.close_lost_device(operator, &document).await?;
            out.show(&account, || {
                format!(
                    "Closed {}: both certificates revoked (keyCompromise).\n",
                    account.document_number
                )
            })
        }
    }
}

fn pin_text(state: &splitid_domain::accounts::pin_policy::PinState) -> String {
    use splitid_domain::accounts::pin_policy::PinState;
    match state {
        PinState::Usable {
            attempts_before_lock,
            ..
        } => format!("ok ({attempts_before_lock} tries)"),
        PinState::Locked { until } => format!("locked until {until}"),
        PinState::PermanentlyLocked => "locked for good".into(),
    }
}

fn account_table(accounts: &[AccountSummary]) -> String {
    let rows = accounts.iter().map(|a| {
        vec![
            a.document_number.clone(),
            format!("{} {}", a.given_name, a.surname),
            a.level.clone(),
            a.proofing_method.clone(),
            match &a.closed_reason {
                Some(reason) => format!("{} ({reason})", a.state),
                None => a.state.clone(),
            },
            a.created_at.date().to_string(),
            a.expires_at.date().to_string(),
            pin_text(&a.pin1),
            pin_text(&a.pin2),
        ]
    });
    table(
        &[
            "DOCUMENT", "NAME", "LEVEL", "PROOF", "STATE", "CREATED", "EXPIRES", "PIN1", "PIN2",
        ],
        rows,
    )
}

async fn usage(
    service: &Service,
    month: Option<String>,
    csv: bool,
    out: Output,
) -> anyhow::Result<()> {
    if let Some(month) = &month {
        let valid = month.len() == 7
            && month.as_bytes()[4] == b'-'
            && month
                .bytes()
                .enumerate()
                .all(|(i, b)| i == 4 || b.is_ascii_digit());
        if !valid {
            bail!("--month {month:?}: expected YYYY-MM, e.g. 2026-11");
        }
    }
    let usage = service.store().monthly_usage(month.as_deref()).await?;
    if csv {
        print!("{}", usage_csv(&usage));
        return Ok(());
    }
    out.show(&usage, || usage_table(&usage))
}

fn usage_rows(usage: &[MonthlyUsage]) -> impl Iterator<Item = Vec<String>> + '_ {
    usage.iter().map(|u| {
        vec![
            u.month.clone(),
            u.rp_uuid.to_string(),
            u.kind.clone(),
            u.end_result.clone(),
            u.count.to_string(),
        ]
    })
}

const USAGE_HEADER: [&str; 5] = ["month", "relying_party", "kind", "end_result", "count"];

fn usage_csv(usage: &[MonthlyUsage]) -> String {
    // Every field is a UUID, a number or a fixed identifier: nothing needs quoting.
    let mut text = USAGE_HEADER.join(",") + "\n";
    for row in usage_rows(usage) {
        text += &(row.join(",") + "\n");
    }
    text
}

fn usage_table(usage: &[MonthlyUsage]) -> String {
    let header = USAGE_HEADER.map(str::to_uppercase);
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    table(&header, usage_rows(usage))
}

async fn audit(service: &Service, query: &AuditQuery, out: Output) -> anyhow::Result<()> {
    let entries = service.store().audit_events(query).await?;
    out.show(&entries, || audit_table(&entries))
}

fn audit_table(entries: &[AuditEntry]) -> String {
    let rows = entries.iter().map(|e| {
        vec![
            e.seq.to_string(),
            e.event
                .at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            e.event.kind.as_str().into(),
            e.event.actor.clone(),
            e.event.document_number.clone().unwrap_or_default(),
            e.event.details.to_string(),
        ]
    });
    table(
        &["SEQ", "AT", "EVENT", "ACTOR", "DOCUMENT", "DETAILS"],
        rows,
    )
}

/// A plain text table with aligned columns.
fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let rows: Vec<Vec<String>> = std::iter::once(header.iter().map(|h| h.to_string()).collect())
        .chain(rows)
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|column| {
            rows.iter()
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        text += cells.join("  ").trim_end();
        text.push('\n');
    }
    text
}
