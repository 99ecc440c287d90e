//! A demo account registered in process, as the app registers one (2048-bit halves and a
//! fast KDF, to keep tests quick), and a login started for it through the relying-party API.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use splitid_domain::Service;
use splitid_domain::store::AccountRecord;
use splitid_proto::app_v1::{
    KeyHandover, MAC_KEY_LEN, Proofing, RegisteredAccount, RegistrationChallenge,
    RegistrationProof, RegistrationRequest, SealedSecret,
};
use splitid_sealing::{Binding, PublicServerKey};
use splitkey::{
    CompositePublicKey, DeviceKeyOptions, HalfSize, KdfParams, Pin, generate_device_key,
    proof_of_possession_request,
};

pub const HALF: HalfSize = HalfSize::Bits2048;

fn handover(
    pin: &Pin,
    server_key: &PublicServerKey,
    purpose: &str,
) -> (splitkey::DeviceShare, KeyHandover) {
    let options = DeviceKeyOptions {
        half: HALF,
        kdf: KdfParams::INSECURE_FAST,
        min_pin_digits: 4,
    };
    let (share, handover) = generate_device_key(pin, b"test", options).unwrap();
    let wire = KeyHandover {
        half_bits: 2048,
        device_modulus: BASE64.encode(handover.device_modulus()),
        sealed_server_exponent: server_key
            .seal(
                handover.server_exponent(),
                &Binding::ServerExponent {
                    purpose,
                    device_modulus: handover.device_modulus(),
                },
            )
            .unwrap(),
    };
    (share, wire)
}

/// A proof of possession, sealed as the app seals it.
fn prove(
    share: &splitkey::DeviceShare,
    pin: &Pin,
    challenge: &RegistrationChallenge,
    purpose: &str,
    server_key: &PublicServerKey,
) -> SealedSecret {
    let modulus = match purpose {
        "authentication" => &challenge.authentication.modulus,
        _ => &challenge.signing.modulus,
    };
    let key = CompositePublicKey::from_modulus(&BASE64.decode(modulus).unwrap()).unwrap();
    let request =
        proof_of_possession_request(&key, &BASE64.decode(&challenge.challenge).unwrap()).unwrap();
    let partial = share.partial_sign(pin, &request).unwrap();
    server_key
        .seal(
            partial.as_bytes(),
            &Binding::Possession {
                registration: &challenge.registration_id,
                purpose,
            },
        )
        .unwrap()
}

/// The service's current channel key, as an app learns it.
pub async fn server_key(service: &Service) -> PublicServerKey {
    let document = service.channel_key_document().await.unwrap();
    PublicServerKey::from_wire(&document.current).unwrap()
}

/// A registered demo account, with its two device shares and PINs, and what the app was given.
pub struct Registered {
    pub account: AccountRecord,
    pub auth: splitkey::DeviceShare,
    pub sign: splitkey::DeviceShare,
    pub pin1: Pin,
    pub pin2: Pin,
    pub app: RegisteredAccount,
    /// The channel MAC key the app chose.
    pub mac_key: Vec<u8>,
    /// The channel key the app seals to.
    pub server_key: PublicServerKey,
}

impl Registered {
    /// A partial signature sealed for a confirmation of `transaction` with `purpose`'s key.
    pub fn seal_confirmation(
        &self,
        partial: &splitkey::PartialSignature,
        purpose: &str,
        transaction: &str,
    ) -> SealedSecret {
        self.server_key
            .seal(
                partial.as_bytes(),
                &Binding::Confirmation {
                    account: &self.app.account_id,
                    purpose,
                    transaction,
                },
            )
            .unwrap()
    }
}

pub async fn register(service: &Service) -> Registered {
    let mac_key: Vec<u8> = (0..MAC_KEY_LEN as u8).collect();
    try_register(service, mac_key).await.unwrap()
}

/// [`register`] with the app's choice of MAC key; the service's refusal, if it refuses.
pub async fn try_register(
    service: &Service,
    mac_key: Vec<u8>,
) -> splitid_domain::error::ServiceResult<Registered> {
    let (pin1, pin2) = (Pin::new("1234").unwrap(), Pin::new("12345").unwrap());
    let server_key = server_key(service).await;
    let (auth, auth_wire) = handover(&pin1, &server_key, "authentication");
    let (sign, sign_wire) = handover(&pin2, &server_key, "signing");
    let challenge = service
        .begin_registration(RegistrationRequest {
            proofing: Proofing::Demo {
                semantics_identifier: "PNOEE-30303039914".into(),
                given_name: "MARY".into(),
                surname: "ÄNN".into(),
            },
            authentication: auth_wire,
            signing: sign_wire,
            supported_interactions: None,
        })
        .await
        .unwrap();
    let proof = RegistrationProof {
        authentication: prove(&auth, &pin1, &challenge, "authentication", &server_key),
        signing: prove(&sign, &pin2, &challenge, "signing", &server_key),
        sealed_mac_key: server_key
            .seal(
                &mac_key,
                &Binding::MacKey {
                    registration: &challenge.registration_id,
                },
            )
            .unwrap(),
    };
    let registered = service
        .complete_registration(&challenge.registration_id, proof)
        .await?;
    let account = service
        .store()
        .account(registered.account_id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    Ok(Registered {
        account,
        auth,
        sign,
        pin1,
        pin2,
        app: registered,
        mac_key,
        server_key,
    })
}

/// Starts a login for the registered person through the relying-party API; its session id.
pub async fn start_login(service: &Service) -> uuid::Uuid {
    start_login_showing(service, "Log in").await
}

/// [`start_login`] with its own text on the phone: a session of its own, where the same
/// request within the idempotency window would get the same session again.
pub async fn start_login_showing(service: &Service, text: &str) -> uuid::Uuid {
    let body = serde_json::json!({
        "relyingPartyUUID": "00000000-0000-4000-8000-000000000000", "relyingPartyName": "DEMO",
        "hash": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "hashType": "SHA256",
        "allowedInteractionsOrder": [{ "type": "displayTextAndPIN", "displayText60": text }]
    });
    let (status, bytes) = super::call(
        service,
        axum::http::Method::POST,
        "/v2/authentication/etsi/PNOEE-30303039914",
        &body.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let started: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    started["sessionID"].as_str().unwrap().parse().unwrap()
}
