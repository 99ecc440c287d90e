//! `splitid serve`: the service on one machine, with an embedded database.
//!
//! Its settings are the table in [`crate::settings`]: the command line, then the environment
//! (`SPLITID_…`), then a TOML file (`--config`), then the defaults.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use splitid_domain::clock::Clock;
use splitid_domain::keystore::KeyStoreConfig;
use splitid_domain::store::{DatabaseConfig, RelyingPartyRecord};
use splitid_domain::{Config, DEMO_RELYING_PARTY_NAME, DEMO_RELYING_PARTY_UUIDS, Service};

use crate::settings::{LogFormat, RelyingPartySetting, Settings};

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    settings: Settings,
    /// FOR TESTS ONLY: a clock that `POST /test/clock/advance?seconds=N` moves forward (a
    /// build without the test kit refuses it).
    #[arg(long, hide = true)]
    test_clock: bool,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let logs = tracing_subscriber::fmt().with_env_filter(
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
    );
    let settings = args.settings.with_file()?;
    match settings.log_format() {
        LogFormat::Text => logs.init(),
        // One JSON object per line, with the event's fields, for log collectors.
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let config = settings.service_config()?;
    let clock = splitid_http::node_clock(args.test_clock)?;
    tokio::runtime::Runtime::new()?.block_on(serve(&settings, config, clock))
}

async fn serve(
    settings: &Settings,
    mut config: Config,
    (clock, test_clock_routes): (Arc<dyn Clock>, Option<axum::Router>),
) -> anyhow::Result<()> {
    let listen = settings.listen();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    if settings.public_url.is_none() {
        // The port actually listened on, which differs from `listen`'s when that is 0.
        config.public_url = format!("{}://{address}", settings.scheme());
    }
    // A certificate that does not load stops the start, before anything is opened.
    let tls = match settings.tls()? {
        Some(files) => Some((files.load().await?, files)),
        None => None,
    };
    let service = Service::open(config, clock)
        .await
        .context("cannot open the service")?;
    register_relying_parties(&service, settings.relying_parties()?).await?;
    let mut pages = axum::Router::new();
    if service.config().demo {
        // The Demo Bank: an e-service on the relying parties' SDK, served beside the service.
        pages = pages.nest("/demo", crate::demo_bank::router(&service));
    }
    let mut router = splitid_http::router_with_pages(&service, pages);
    if let Some(routes) = test_clock_routes {
        tracing::warn!("test clock enabled: anyone can move this server's clock forward");
        router = router.merge(routes);
    }
    let document = service.channel_key_document().await?;
    let fingerprint = splitid_sealing::PublicServerKey::from_wire(&document.current)?.fingerprint();
    let scheme = settings.scheme();
    print_banner(service.config(), scheme, address, &fingerprint);
    service.spawn_background_tasks();
    if service.config().demo && settings.demo_phone() {
        let half = if service.config().allow_2048_bit_halves {
            splitkey::HalfSize::Bits2048
        } else {
            splitkey::HalfSize::Bits3072
        };
        let server = service.config().public_url.clone();
        crate::demo_phone::spawn(server, &service.config().data_dir, half);
    }
    let interrupted = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match tls {
        Some((loaded, files)) => {
            splitid_http::tls::serve_tls(listener, router, files, loaded, interrupted).await?
        }
        None => {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(interrupted)
            .await?
        }
    }
    Ok(())
}

async fn register_relying_parties(
    service: &Service,
    parties: &[RelyingPartySetting],
) -> anyhow::Result<()> {
    for rp in parties {
        let record = RelyingPartyRecord {
            uuid: rp.uuid,
            names: rp.names.clone(),
            allowed_levels: rp.levels.clone(),
            ip_ranges: rp.ip_ranges.clone(),
            enabled: true,
            share_device_ip: rp.share_device_ip,
        };
        service
            .store()
            .put_relying_party(&record, service.now())
            .await?;
    }
    Ok(())
}

/// The proofing methods this server accepts, for the banner.
fn proofing_methods(config: &Config) -> String {
    let proofing = &config.proofing;
    let methods: Vec<String> = [
        proofing.eid_certificate.as_ref().map(|eid| {
            format!(
                "eID certificate ({}, {} trust anchors)",
                eid.level.as_str(),
                eid.trust_anchors.len()
            )
        }),
        proofing
            .oidc
            .as_ref()
            .map(|oidc| format!("OpenID Connect ({}, {})", oidc.issuer, oidc.level.as_str())),
        proofing.account.then(|| "existing account".to_owned()),
        config.demo.then(|| "demo self-assertion".to_owned()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if methods.is_empty() {
        "none enabled (see [proofing.…] in the configuration): no one can register".to_owned()
    } else {
        methods.join(", ")
    }
}

fn print_banner(config: &Config, scheme: &str, address: SocketAddr, channel_key: &str) {
    let public_url = &config.public_url;
    let database = match &config.database {
        DatabaseConfig::SqliteIn(_) => "SQLite".to_owned(),
        DatabaseConfig::Postgres { url, .. } => splitid_domain::store::redact_password(url),
    };
    println!(
        "SplitID is listening on {scheme}://{address} (data in {}, database: {database})",
        config.data_dir.display()
    );
    println!(
        "  relying-party API (Smart-ID RP API v2): {public_url}/v2  (description: {public_url}/v2/openapi.json)"
    );
    println!("  app API:                                {public_url}/app/v1");
    println!("  app channel key fingerprint:            {channel_key}");
    println!(
        "  CA certificates:                        {public_url}/pki/root-ca.crt, {public_url}/pki/issuing-ca.crt"
    );
    println!(
        "  identity proofing:                      {}",
        proofing_methods(config)
    );
    match &config.keystore {
        KeyStoreConfig::File => println!(
            "  key store:                              file (kek.key in the data directory)"
        ),
        KeyStoreConfig::Pkcs11(pkcs11) => println!(
            "  key store:                              PKCS#11 token {:?} ({}), keys {}-*",
            pkcs11.token_label,
            pkcs11.module.display(),
            pkcs11.key_label
        ),
    }
    println!("  self-service portal:                    {public_url}/portal");
    if config.demo {
        println!("  Demo Bank (an e-service to try):        {public_url}/demo");
        println!(
            "\nDemo mode: relying party {DEMO_RELYING_PARTY_NAME} ({}), test identities, test CA.",
            DEMO_RELYING_PARTY_UUIDS[0]
        );
        println!("Register a device (it asks for PIN1 and PIN2):");
        println!(
            "  splitid app --home ./phone register --server {public_url} --identity PNOEE-30303039914 --given-name MARY --surname ÄNN"
        );
        println!("Start a login as the demo relying party:");
        println!(
            "  curl -s -X POST {public_url}/v2/authentication/etsi/PNOEE-30303039914 -H 'Content-Type: application/json' \\\n    -d '{{\"relyingPartyUUID\":\"{}\",\"relyingPartyName\":\"DEMO\",\"hash\":\"'$(head -c 64 /dev/urandom | base64 -w0)'\",\"hashType\":\"SHA512\",\"allowedInteractionsOrder\":[{{\"type\":\"displayTextAndPIN\",\"displayText60\":\"Log in to DEMO\"}}]}}'",
            DEMO_RELYING_PARTY_UUIDS[0]
        );
        println!("Confirm it on the device (asks for PIN1):");
        println!("  splitid app --home ./phone confirm --next --wait 30");
        println!(
            "Then read the result: curl -s '{public_url}/v2/session/SESSION_ID?timeoutMs=10000'"
        );
    }
}
