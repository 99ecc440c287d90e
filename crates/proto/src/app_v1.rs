//! The app API (v1): what the SplitID app and the server say to each other.
//! Byte values travel as standard base64 strings. See docs/app-api.md.

use serde::{Deserialize, Serialize};

/// Request headers of the authenticated app channel.
pub mod headers {
    /// The account (UUID) the request is made for.
    pub const ACCOUNT: &str = "x-splitid-account";
    /// Seconds since the Unix epoch when the request was made.
    pub const TIMESTAMP: &str = "x-splitid-timestamp";
    /// A random value, unique per request.
    pub const NONCE: &str = "x-splitid-nonce";
    /// The current ratchet token (state-changing requests only).
    pub const RATCHET: &str = "x-splitid-ratchet";
    /// HMAC-SHA256 over the request, under the account's MAC key (base64).
    pub const MAC: &str = "x-splitid-mac";
}

/// How the person proves who they are when registering a device. Every method but demo
/// binds its evidence to a server-issued proofing challenge (`POST /app/v1/proofing-challenges`),
/// which one registration consumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Proofing {
    /// Self-asserted identity: only on a server started with `--demo`.
    #[serde(rename_all = "camelCase")]
    Demo {
        semantics_identifier: String,
        given_name: String,
        surname: String,
    },
    /// An existing eID certificate (ID card, Mobile-ID): the chain (leaf first, base64 DER)
    /// and the leaf key's signature over [`proofing_message`]. The identity is the
    /// certificate's.
    #[serde(rename_all = "camelCase")]
    EidCertificate {
        challenge_id: String,
        certificate_chain: Vec<String>,
        /// [`EidSignatureAlgorithm`] name.
        signature_algorithm: String,
        signature: String,
    },
    /// An OpenID Connect ID token (compact JWS) whose `nonce` is the challenge.
    #[serde(rename_all = "camelCase")]
    Oidc {
        challenge_id: String,
        id_token: String,
    },
    /// An existing SplitID account vouched for the challenge with a PIN1 login
    /// (`POST /app/v1/accounts/{id}/vouch`); the new account inherits its identity and level.
    #[serde(rename_all = "camelCase")]
    Account { challenge_id: String },
}

/// Signature algorithms an eID certificate's key may sign the proofing message with.
pub mod eid_signature_algorithm {
    /// RSA PKCS#1 v1.5 with SHA-256.
    pub const RSA_PKCS1_SHA256: &str = "RSA_PKCS1_SHA256";
    /// RSA-PSS with SHA-256 (MGF1 SHA-256, 32-byte salt).
    pub const RSA_PSS_SHA256: &str = "RSA_PSS_SHA256";
    /// ECDSA P-256 with SHA-256, ASN.1 DER signature.
    pub const ECDSA_P256_SHA256: &str = "ECDSA_P256_SHA256";
    /// ECDSA P-384 with SHA-384, ASN.1 DER signature.
    pub const ECDSA_P384_SHA384: &str = "ECDSA_P384_SHA384";
}

/// `GET /app/v1/proofing-methods`: the ways this server lets a person prove who they are, so
/// that an app offers only those. The same for everyone: it tells nothing about any person.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofingMethods {
    /// Self-asserted identities (a server in demo mode only).
    pub demo: bool,
    /// An eID certificate's key signs the challenge.
    pub eid_certificate: bool,
    /// An existing account vouches with a PIN1 login on its device.
    pub account: bool,
    /// An OpenID Connect provider's ID token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcMethod>,
}

/// The OpenID Connect provider whose ID tokens prove identities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcMethod {
    pub issuer: String,
    /// The `client_id` an app signs in with (the tokens' audience).
    pub client_id: String,
    /// What the app calls the provider ("Bank ID").
    pub name: String,
    /// Where an app sends the person to sign in (authorization request with
    /// `response_type=id_token`, `response_mode=fragment`, `nonce` = the challenge); absent
    /// when the operator offers no sign-in by redirect (an ID token is then brought otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// The scopes to ask for, space-separated (`openid` first).
    pub scope: String,
}

/// `POST /app/v1/proofing-challenges`: a single-use challenge for identity proofing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofingChallenge {
    pub challenge_id: String,
    /// Base64 of 32 random bytes; an OIDC ID token carries it as its `nonce`.
    pub challenge: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// `POST /app/v1/accounts/{id}/vouch` (ratcheted): an existing account's PIN1 signature
/// (partial, PKCS#1 v1.5 of SHA-256 of [`vouch_message`]) for a proofing challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vouch {
    pub challenge_id: String,
    /// Sealed (binding: the account and the challenge).
    pub sealed_partial_signature: SealedSecret,
}

/// `POST /app/v1/proofing-challenges/{id}/vouch-session`: ask the device of an existing
/// account (elsewhere) to vouch with a PIN1 login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VouchSessionRequest {
    pub document_number: String,
}

/// The login sent to the vouching device: the new device shows the code, the person checks
/// that their other device shows the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VouchSession {
    pub verification_code: String,
}

/// `GET /app/v1/proofing-challenges/{id}?waitMs=`: whether an account vouched for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VouchState {
    /// `NONE` (no vouching asked), `RUNNING`, `OK`, or the login's end result
    /// (`USER_REFUSED`, `TIMEOUT`, …).
    pub state: String,
    /// The vouching account's document number, once it vouched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher: Option<String>,
}

/// What an eID certificate's key signs: domain-separated, so that no other protocol's
/// signature (a TLS handshake, a document) can serve as proofing evidence.
pub fn proofing_message(challenge_id: &str, challenge: &str) -> Vec<u8> {
    format!("splitid-proofing-v1\neid-certificate\n{challenge_id}\n{challenge}").into_bytes()
}

/// What an existing account signs with PIN1 to vouch for a new registration.
pub fn vouch_message(challenge_id: &str, challenge: &str) -> Vec<u8> {
    format!("splitid-proofing-v1\nvouch-for-new-device\n{challenge_id}\n{challenge}").into_bytes()
}

/// A secret the app sends, sealed to the server's channel key with HPKE (RFC 9180, base
/// mode, [`SEALING_SUITE`]): partial signatures and the server's exponent share, each of
/// which would let whoever holds the phone's storage test PINs offline if it were readable.
/// The associated data binds it to where it is used (see `splitid_sealing::Binding`), so it
/// cannot be moved to another account, key, transaction or registration.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecret {
    /// The [`ServerKey::key_id`] it is sealed to.
    pub key_id: String,
    /// The HPKE encapsulated key (base64).
    pub enc: String,
    /// The AEAD ciphertext with its tag (base64).
    pub ciphertext: String,
}

/// Sizes only: the ciphertext is what a recording must not be able to open.
impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedSecret")
            .field("key_id", &self.key_id)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// The one HPKE suite of the app API: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
/// ChaCha20-Poly1305 (RFC 9180 identifiers 0x0020, 0x0001, 0x0003).
pub const SEALING_SUITE: &str = "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/ChaCha20-Poly1305";

/// The server's channel key (public parts): the HPKE key the app seals to, and the Ed25519
/// key that signs the next channel key when the server rotates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerKey {
    /// The first 16 bytes of the fingerprint, hex.
    pub key_id: String,
    /// [`SEALING_SUITE`].
    pub suite: String,
    /// The X25519 public key (base64, 32 bytes).
    pub encryption_key: String,
    /// The Ed25519 public key (base64, 32 bytes).
    pub signing_key: String,
}

/// A rotation: the key `from` vouches for its successor `to` with its signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRotation {
    pub from: String,
    pub to: ServerKey,
    /// Ed25519 over `splitid_sealing::rotation_message` (base64).
    pub signature: String,
}

/// `GET /app/v1/server-key`: the current channel key and every rotation that led to it, oldest
/// first, so that an app that pinned any earlier key can follow the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerKeyDocument {
    pub current: ServerKey,
    #[serde(default)]
    pub rotations: Vec<KeyRotation>,
}

/// One key's material handed to the server at registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyHandover {
    pub half_bits: usize,
    /// The device modulus n1.
    pub device_modulus: String,
    /// The server's exponent share d1ˢ, sealed (binding: the key's purpose and n1).
    pub sealed_server_exponent: SealedSecret,
}

/// `POST /app/v1/registrations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationRequest {
    pub proofing: Proofing,
    pub authentication: KeyHandover,
    pub signing: KeyHandover,
    /// The interactions this app can run (RP API names); absent means all four. An older app
    /// that lacks some is never sent a transaction that needs them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported_interactions: Option<Vec<String>>,
}

/// The server's half of a new key: the composite modulus the certificate will carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeKey {
    pub modulus: String,
}

/// Answer to `POST /app/v1/registrations`: sign `challenge` with both new keys (proof of
/// possession, with PIN1 and PIN2) and complete the registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationChallenge {
    pub registration_id: String,
    pub challenge: String,
    pub authentication: CompositeKey,
    pub signing: CompositeKey,
}

/// Bytes of the channel MAC key (HMAC-SHA256) the app chooses at registration.
pub const MAC_KEY_LEN: usize = 32;

/// `POST /app/v1/registrations/{id}/complete`: the partial signatures of the proofs, sealed
/// (binding: the registration and the key's purpose).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationProof {
    pub authentication: SealedSecret,
    pub signing: SealedSecret,
    /// The account's channel MAC key, [`MAC_KEY_LEN`] random bytes the app chose, sealed (binding: the
    /// registration). It never crosses the wire readable, so a recording of the registration
    /// cannot forge the app's requests.
    pub sealed_mac_key: SealedSecret,
}

/// The new account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredAccount {
    pub account_id: String,
    pub document_number: String,
    /// The first ratchet token.
    pub ratchet_token: String,
    pub authentication_certificate: String,
    pub signing_certificate: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// Which key a transaction needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyUse {
    /// PIN1.
    Authentication,
    /// PIN2.
    Signing,
}

/// What kind of transaction a relying party started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    Authentication,
    Signature,
    CertificateChoice,
}

/// A transaction waiting for the person's answer, as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingTransaction {
    pub transaction_id: String,
    pub kind: TransactionKind,
    pub relying_party_name: String,
    /// The interaction the app must run (`displayTextAndPIN`, …); absent for certificate
    /// choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The verification code the relying party shows (absent for certificate choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_code: Option<String>,
    /// For verification-code choice: the codes to choose among (one is right).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code_choices: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyUse>,
    /// `SHA256`, `SHA384` or `SHA512` (RP API v2's names, which every app reads), or
    /// `SHA3-256`, `SHA3-384`, `SHA3-512`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_type: Option<String>,
    /// The relying party's digest, signed as it is; absent for ACSP_V2 (`acsp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// `pkcs1v15` or `pss`. With `pss` the app draws the salt and sends its encoding in the
    /// confirmation's `encodedMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padding: Option<String>,
    /// Where `verificationCode` comes from; absent: from `hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_origin: Option<CodeOrigin>,
    /// An ACSP_V2 authentication (RP API v3): what the payload the key signs is made of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acsp: Option<AcspTransaction>,
    /// RFC 3339.
    pub expires_at: String,
    /// A Web2App or App2App device link's return: the relying party's `initialCallbackUrl`
    /// with `sessionSecretDigest` appended. The app opens it when the transaction is done,
    /// appending `userChallengeVerifier` to an ACSP_V2 login's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// The certificate choice (its transaction id) this signature follows: after a device
    /// link's certificate choice the app waits for this one, and refuses any other transaction
    /// meanwhile with the screen [`EXPECTED_LINKED_SESSION_SCREEN`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_to: Option<String>,
    /// The server's current channel key ([`ServerKey::key_id`]): an app whose pinned key
    /// differs fetches `GET /app/v1/server-key` and follows the rotation before it seals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_key_id: Option<String>,
}

/// Where a transaction's verification code comes from, so the app knows how to check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CodeOrigin {
    /// From the digest signed (RP API v2).
    Hash,
    /// From ACSP_V2's `rpChallenge` (RP API v3's notification authentication).
    RpChallenge,
    /// Drawn by the service (RP API v3's notification signature): the app cannot check it.
    Service,
}

/// The parts of an ACSP_V2 payload (docs/spec/rp-api.md §2.6) the server knows; the app adds
/// its own `userChallenge`, the interaction it shows and the relying party's name it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcspTransaction {
    pub scheme_name: String,
    pub server_random: String,
    pub rp_challenge: String,
    /// The relying party's `interactions` text as sent; it must list the interaction shown.
    pub interactions: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_callback_url: Option<String>,
    /// `QR`, `Web2App`, `App2App` or `Notification`.
    pub flow_type: String,
}

impl AcspTransaction {
    /// The payload the authentication key signs, with the relying party's name and the
    /// interaction as the phone shows them and the phone's `userChallenge`; `None` for an
    /// unknown flow type.
    pub fn payload(
        &self,
        relying_party_name: &str,
        interaction_type_used: &str,
        user_challenge: &str,
    ) -> Option<Vec<u8>> {
        use crate::rp_v3::{FlowType, SessionTexts, acsp::AcspV2};
        let acsp = AcspV2 {
            session: SessionTexts {
                scheme_name: &self.scheme_name,
                relying_party_name,
                brokered_rp_name: "",
                interactions: &self.interactions,
                initial_callback_url: self.initial_callback_url.as_deref().unwrap_or_default(),
            },
            server_random: &self.server_random,
            rp_challenge: &self.rp_challenge,
            user_challenge,
            interaction_type_used,
            flow_type: FlowType::parse(&self.flow_type)?,
        };
        Some(acsp.payload())
    }
}

/// `GET /app/v1/accounts/{id}/transactions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingTransactions {
    pub transactions: Vec<PendingTransaction>,
}

/// `POST /accounts/{id}/device-links`: a device link the phone scanned (a QR code) or was
/// opened with (Web2App, App2App), exactly as it arrived. The answer is the transaction it
/// opens for this account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceLinkClaim {
    pub link: String,
}

/// `POST …/transactions/{id}/confirm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Confirmation {
    /// The partial signature made with the PIN, sealed (binding: the account, the key and the
    /// transaction); absent for certificate choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_partial_signature: Option<SealedSecret>,
    /// The code the person chose, for verification-code choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen_code: Option<String>,
    /// With PSS: the encoded message μ the partial signature is over (the salt is the app's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoded_message: Option<String>,
    /// With ACSP_V2: the app's `userChallenge` (43 characters of base64url), in the payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_challenge: Option<String>,
}

/// The refusal "screen" of a transaction that arrived while the app waited for the
/// signature linked to a certificate choice: the relying party gets EXPECTED_LINKED_SESSION.
pub const EXPECTED_LINKED_SESSION_SCREEN: &str = "expectedLinkedSession";

/// The refusal "screen" of a transaction the app would not sign because it is inconsistent
/// (its verification code, texts or interaction not what is signed): the relying party gets
/// PROTOCOL_FAILURE, at once rather than at the timeout.
pub const PROTOCOL_FAILURE_SCREEN: &str = "protocolFailure";

/// Which screen the person pressed Cancel on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    /// An interaction name, `certificateChoice`, or absent for a plain refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen: Option<String>,
}

/// A key's PIN state as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PinStatus {
    Usable {
        #[serde(rename = "attemptsBeforeLock")]
        attempts_before_lock: u32,
        /// What those wrong PINs would bring: `3h`, `24h` or `permanent`.
        #[serde(rename = "nextLock", default)]
        next_lock: String,
    },
    Locked {
        /// RFC 3339.
        until: String,
    },
    PermanentlyLocked,
}

/// The outcome of a confirmation or refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TransactionOutcome {
    /// Done, with the end result the relying party gets. The finished signature is not
    /// echoed: the server verified it against the composite key before completing (that is
    /// how it tells a wrong PIN), and its 1 KB was a third of a phone's bytes per transaction
    /// (docs/performance.md). Servers before 2026-12 added a `signature` field; it is ignored.
    Completed {
        #[serde(rename = "endResult")]
        end_result: String,
    },
    /// The PIN was wrong; the transaction stays open unless the key is now locked.
    WrongPin { pin: PinStatus },
    /// The transaction is no longer open (answered elsewhere, timed out or withdrawn).
    Gone,
}

/// `GET /app/v1/accounts/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountStatus {
    pub document_number: String,
    /// `active` or `closed`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_reason: Option<String>,
    pub expires_at: String,
    /// Whole days until the account expires, by the server's clock (0 or less: expired).
    /// Absent from servers that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    pub pin1: PinStatus,
    pub pin2: PinStatus,
}

/// The app warns this many days before an account expires, so the person registers a
/// replacement in time.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// The bytes an app request's MAC covers: a label, the method, the path (without query), the
/// timestamp, nonce and ratchet headers (empty when absent) and the SHA-256 of the body.
pub fn mac_input(
    method: &str,
    path: &str,
    timestamp: &str,
    nonce: &str,
    ratchet: &str,
    body: &[u8],
) -> Vec<u8> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let body_digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
    format!("splitid-app-v1\n{method}\n{path}\n{timestamp}\n{nonce}\n{ratchet}\n{body_digest}")
        .into_bytes()
}

/// The body of every refusal of the app API; `detail` is the message for the app's
/// developer (never shown as is to the person).
pub use crate::problem::ErrorBody;

/// `GET /app/v1/push-key`: the key a browser's push subscription must be made with
/// (`applicationServerKey`: the service's VAPID public key, base64url).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushKey {
    pub application_server_key: String,
}

/// `PUT /app/v1/accounts/{id}/push-subscription`: where to tell this device that a transaction
/// waits — the browser's `PushSubscription.toJSON()` as it is (its `expirationTime` is
/// accepted and not used).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushSubscription {
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<serde_json::Value>,
    pub keys: PushSubscriptionKeys,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushSubscriptionKeys {
    pub p256dh: String,
    pub auth: String,
}

/// The endpoint is a capability and `auth` a secret: neither reaches a log.
impl std::fmt::Debug for PushSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSubscription").finish_non_exhaustive()
    }
}

/// What a push message says (encrypted to the browser, padded): only what the notification
/// shows. The app writes the notification in the phone's language, and opens the app to show
/// the transaction itself, which it fetches over the authenticated channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushMessage {
    pub kind: TransactionKind,
    pub relying_party_name: String,
}

#[cfg(test)]
mod tests {
    use super::TransactionOutcome;

    /// An app of today talks to a server from before 2026-12, which echoed the finished
    /// signature: the answer still reads, the field ignored.
    #[test]
    fn a_completed_answer_with_the_old_signature_echo_still_reads() {
        let old = r#"{"outcome":"completed","endResult":"OK","signature":"AAEC"}"#;
        let outcome: TransactionOutcome = serde_json::from_str(old).unwrap();
        assert_eq!(
            outcome,
            TransactionOutcome::Completed {
                end_result: "OK".into()
            }
        );
        let now = serde_json::to_string(&outcome).unwrap();
        assert_eq!(now, r#"{"outcome":"completed","endResult":"OK"}"#);
    }
}
