//! Log a person in and have them sign, as a relying party, against a demo server:
//!
//! ```sh
//! cargo run --release -p splitid -- serve --demo                  # terminal 1
//! splitid app --home ./phone register --server http://127.0.0.1:8080 \
//!     --identity PNOEE-30303039914 --given-name MARY --surname ÄNN  # terminal 2, once
//! cargo run -p splitid-rp --example login_and_sign -- http://127.0.0.1:8080 PNOEE-30303039914
//! splitid app --home ./phone confirm --next --wait 60              # terminal 2, twice
//! ```
//!
//! For the demo it downloads the CA certificates from the server it talks to. A real relying
//! party must not: it installs the root certificate once, checked by its fingerprint.

use splitid_rp::proto::rp_v2::{CertificateLevel, HashType, Interaction};
use splitid_rp::{RpClient, RpConfig, SignableData, Target, TrustConfig};

const DEMO_UUID: &str = "00000000-0000-4000-8000-000000000000";

async fn download(url: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    Ok(reqwest::get(url)
        .await?
        .error_for_status()?
        .bytes()
        .await?
        .to_vec())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let server = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let person = args.next().unwrap_or_else(|| "PNOEE-30303039914".into());

    let root = download(&format!("{server}/pki/root-ca.crt")).await?;
    let issuing = download(&format!("{server}/pki/issuing-ca.crt")).await?;
    let trust = TrustConfig::new(vec![root])?.with_intermediates(vec![issuing]);
    let client = RpClient::new(
        RpConfig::new(format!("{server}/v2"), DEMO_UUID, "DEMO"),
        trust,
    )?;

    let login = client
        .start_authentication(
            &Target::Person(person),
            CertificateLevel::Qualified,
            &[Interaction::DisplayTextAndPin {
                text: "Log in to DEMO".into(),
            }],
        )
        .await?;
    println!(
        "Login started. Verification code: {} (check the phone shows the same)",
        login.verification_code.expect("logins have a code")
    );
    let logged_in = client.wait(&login).await?;
    let who = &logged_in.certificate.identity;
    println!(
        "Logged in: {} {} ({}, born {}), document {}",
        who.given_name,
        who.surname,
        who.semantics_identifier,
        who.date_of_birth.map_or_else(
            || "on a date the code does not tell".into(),
            |d| d.to_string()
        ),
        logged_in.document_number
    );

    let transfer = "Pay 25.00 EUR to EE382200221020145685 (Demo Shop), order 1042";
    let signing = client
        .start_signature(
            &Target::Document(logged_in.document_number.clone()),
            CertificateLevel::Qualified,
            SignableData::new(transfer, HashType::Sha256),
            &[Interaction::DisplayTextAndPin {
                text: "Pay 25.00 EUR to Demo Shop".into(),
            }],
        )
        .await?;
    println!(
        "Signature started. Verification code: {}",
        signing.verification_code.expect("signatures have a code")
    );
    let signed = client.wait(&signing).await?;
    println!(
        "Signed and verified: {} bytes of RSA signature by {}",
        signed.signature.map(|s| s.len()).unwrap_or(0),
        signed.document_number
    );
    Ok(())
}
