//! `splitid serve`: the service on one machine, with an embedded database.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use splitid_server::clock::{Clock, OffsetClock, SystemClock};
use splitid_server::{Config, DEMO_RELYING_PARTY_NAME, DEMO_RELYING_PARTY_UUIDS, Service};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SPLITID_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Data directory: database, key-encryption key, CA. Created on first start.
    #[arg(long, env = "SPLITID_DATA", default_value = "./splitid-data")]
    data: PathBuf,
    /// Demo mode: the demo relying party and self-asserted test identities.
    #[arg(long, env = "SPLITID_DEMO")]
    demo: bool,
    /// The URL this service is reached at (written into certificates); defaults to
    /// http://LISTEN.
    #[arg(long, env = "SPLITID_PUBLIC_URL")]
    public_url: Option<String>,
    /// Seconds a person has to answer a transaction.
    #[arg(long, env = "SPLITID_SESSION_TIMEOUT", default_value_t = 90)]
    session_timeout: u32,
    /// Also accept keys with 2048-bit halves (older-style, weaker; for tests).
    #[arg(long, env = "SPLITID_ALLOW_2048")]
    allow_2048: bool,
    /// FOR TESTS ONLY: a clock that `POST /test/clock/advance?seconds=N` moves forward.
    #[arg(long, hide = true)]
    test_clock: bool,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    tokio::runtime::Runtime::new()?.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen));
    let mut config = Config::new(&args.data, &public_url);
    config.demo = args.demo;
    config.session_timeout = time::Duration::seconds(i64::from(args.session_timeout));
    config.allow_2048_bit_halves = args.allow_2048;
    let test_clock = OffsetClock::default();
    let clock: Arc<dyn Clock> = if args.test_clock {
        Arc::new(test_clock.clone())
    } else {
        Arc::new(SystemClock)
    };
    let service = Service::open(config, clock)
        .await
        .context("cannot open the service")?;
    let mut router = service.router();
    if args.test_clock {
        tracing::warn!("test clock enabled: anyone can move this server's clock forward");
        router = router.merge(splitid_server::test_clock_router(test_clock));
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    print_banner(&args, &public_url, address);
    service.spawn_background_tasks();
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

fn print_banner(args: &ServeArgs, public_url: &str, address: SocketAddr) {
    println!(
        "SplitID is listening on http://{address} (data in {})",
        args.data.display()
    );
    println!("  relying-party API (Smart-ID RP API v2): {public_url}/v2");
    println!("  app API:                                {public_url}/app/v1");
    println!(
        "  CA certificates:                        {public_url}/pki/root-ca.crt, {public_url}/pki/issuing-ca.crt"
    );
    if args.demo {
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
