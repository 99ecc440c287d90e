//! The rows the store reads and writes.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;

/// The durable state of one key's PIN counter (what it means is the PIN policy's, in the
/// server's `accounts::pin_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PinCounter {
    /// Attempts in a row not (yet) proven right.
    pub wrong_in_a_row: u32,
    /// End of the current temporary lock, if any.
    pub locked_until: Option<OffsetDateTime>,
}

/// A certificate level: an account's, or the least a session asks for. The names are the
/// ones stored and configured (and, as it happens, Smart-ID's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    Advanced,
    Qualified,
    /// Qualified, with the key in a qualified signature creation device.
    Qscd,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Advanced, Level::Qualified, Level::Qscd];

    pub fn name(self) -> &'static str {
        match self {
            Self::Advanced => "ADVANCED",
            Self::Qualified => "QUALIFIED",
            Self::Qscd => "QSCD",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.name() == name)
    }
}

/// A registered relying party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelyingPartyRecord {
    pub uuid: Uuid,
    /// The `relyingPartyName` values it may use (compared case-insensitively).
    pub names: Vec<String>,
    pub allowed_levels: Vec<Level>,
    /// Source address ranges (CIDR) it may call from; empty means any.
    pub ip_ranges: Vec<String>,
    pub enabled: bool,
    /// May learn the address of the phone that answered (`shareMdClientIpAddress`).
    pub share_device_ip: bool,
}

macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(text: String) -> Result<Self, StoreError> {
                match text.as_str() {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(StoreError::Damaged(format!("unknown {} {text:?}", stringify!($name)))),
                }
            }
        }
    };
}

text_enum!(AccountState { Active => "active", Closed => "closed" });
text_enum!(KeyPurpose { Authentication => "authentication", Signing => "signing" });
text_enum!(SessionKind {
    Authentication => "authentication",
    Signature => "signature",
    CertificateChoice => "certificate_choice",
});
text_enum!(SessionState { Running => "running", Complete => "complete" });

/// The app channel's state: the ratchet against cloned apps and the last exchange (replayed
/// when the app retransmits a request whose answer it lost).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelState {
    pub ratchet_token: Vec<u8>,
    pub previous_token: Option<Vec<u8>>,
    pub last_request: Option<Vec<u8>>,
    pub last_response: Option<Vec<u8>>,
}

/// A move of an account's app channel, written only if the channel is still at
/// `expected_token` (compare-and-swap): on its own
/// ([`Store::advance_channel`](super::Store::advance_channel)) or with the session answer it
/// carries ([`SessionCompletion::channel`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelAdvance {
    pub account: Uuid,
    pub expected_token: Vec<u8>,
    pub next: ChannelState,
}

/// One account: one device registration of one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub id: Uuid,
    pub document_number: String,
    pub semantics_id: String,
    pub given_name: String,
    pub surname: String,
    pub country: String,
    pub level: String,
    pub proofing_method: String,
    pub state: AccountState,
    pub closed_reason: Option<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub mac_key_sealed: Vec<u8>,
    pub channel: ChannelState,
    /// The interactions the account's app can run (RP API names).
    pub interactions: Vec<String>,
    /// What proved the identity at registration (JSON; no secrets).
    pub proofing_evidence: serde_json::Value,
}

/// A server-issued proofing challenge.
#[derive(Debug, Clone)]
pub struct ProofingChallengeRecord {
    pub id: Uuid,
    /// Base64 of the random bytes.
    pub challenge: String,
    pub expires_at: OffsetDateTime,
    /// The account whose PIN1 login proved it (method `account`).
    pub vouched_by: Option<Uuid>,
    /// The login session sent to the vouching account's device (from another device).
    pub vouch_session: Option<Uuid>,
    /// Consumed by a registration.
    pub used: bool,
}

impl AccountRecord {
    /// Active and not expired.
    pub fn is_usable(&self, now: OffsetDateTime) -> bool {
        self.state == AccountState::Active && now < self.expires_at
    }
}

/// One of an account's two keys, with its PIN counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub purpose: KeyPurpose,
    pub half_bits: usize,
    pub device_modulus: Vec<u8>,
    pub server_exponent_sealed: Vec<u8>,
    pub server_key_sealed: Vec<u8>,
    /// n2⁻¹ mod n1, public, so that a signature need not compute it; `None` for keys stored
    /// before it was kept (then it is computed each time).
    pub crt_coefficient: Option<Vec<u8>>,
    pub certificate: Vec<u8>,
    /// The certificate's serial number, lower-case hex; `None` only for keys stored before
    /// serials were recorded, until the service fills it in on start.
    pub serial: Option<String>,
    pub pin: PinCounter,
}

/// A relying party's session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id: Uuid,
    pub rp_uuid: Uuid,
    pub kind: SessionKind,
    pub request: serde_json::Value,
    pub fingerprint: String,
    pub state: SessionState,
    pub result: Option<serde_json::Value>,
    pub created_at: OffsetDateTime,
    pub deadline: OffsetDateTime,
    pub completed_at: Option<OffsetDateTime>,
    /// A device-link session not yet claimed: the SHA-256 of its sessionToken (base64url).
    pub link_token: Option<String>,
}

/// How a session completes.
pub struct SessionCompletion<'a> {
    pub session_id: Uuid,
    pub result: &'a serde_json::Value,
    pub end_result: &'a str,
    pub answered_by: Option<Uuid>,
    pub now: OffsetDateTime,
    /// The login, signature or certificate choice, as the audit log records it.
    pub audit: &'a AuditEvent,
    /// The right PIN that answered, whose counter reset is written in the same commit.
    pub right_pin: Option<&'a RightPin>,
    /// The answering app's channel move, carrying this answer, written in the same commit.
    pub channel: Option<&'a ChannelAdvance>,
}

/// A right PIN, not yet written: the key's counter starts again and the account was used.
/// Written on its own ([`Store::record_right_pin`](super::Store::record_right_pin)) or with
/// the session it answered ([`SessionCompletion::right_pin`]), so a login commits once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a right PIN's counter reset must be written"]
pub struct RightPin {
    pub account: Uuid,
    pub purpose: KeyPurpose,
    pub counter: PinCounter,
    pub at: OffsetDateTime,
}

/// Billing: transactions of one relying party of one kind with one result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageCount {
    pub rp_uuid: Uuid,
    pub kind: String,
    pub end_result: String,
    pub count: u64,
}

/// RFC 5280 CRLReason names the service uses.
pub const REVOCATION_REASONS: [&str; 3] = [
    "keyCompromise",
    "cessationOfOperation",
    "privilegeWithdrawn",
];

/// What the database knows of a certificate serial number (for OCSP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SerialStatus {
    /// Not a serial of a certificate this service issued.
    NotIssued,
    /// Issued and not revoked.
    Good,
    /// Revoked.
    Revoked(Revocation),
}

/// The latest CRL of one CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCrl {
    pub number: i64,
    /// How many revocations it lists.
    pub revocations: i64,
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
    pub der: Vec<u8>,
}

/// A revoked certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// Serial number, lower-case hex.
    pub serial: String,
    pub purpose: KeyPurpose,
    /// One of [`REVOCATION_REASONS`].
    pub reason: &'static str,
    pub revoked_at: OffsetDateTime,
}

text_enum!(AuditKind {
    Registration => "registration",
    Login => "login",
    Signature => "signature",
    CertificateChoice => "certificate_choice",
    WrongPin => "wrong_pin",
    PinLocked => "pin_locked",
    CloneDetected => "clone_detected",
    AccountClosed => "account_closed",
    CertificateRevoked => "certificate_revoked",
    RelyingPartyAdded => "relying_party_added",
    RelyingPartyChanged => "relying_party_changed",
});

impl AuditKind {
    pub const ALL: [AuditKind; 11] = [
        AuditKind::Registration,
        AuditKind::Login,
        AuditKind::Signature,
        AuditKind::CertificateChoice,
        AuditKind::WrongPin,
        AuditKind::PinLocked,
        AuditKind::CloneDetected,
        AuditKind::AccountClosed,
        AuditKind::CertificateRevoked,
        AuditKind::RelyingPartyAdded,
        AuditKind::RelyingPartyChanged,
    ];

    /// The event a completed session of this kind is logged as.
    pub fn of_session(kind: SessionKind) -> AuditKind {
        match kind {
            SessionKind::Authentication => AuditKind::Login,
            SessionKind::Signature => AuditKind::Signature,
            SessionKind::CertificateChoice => AuditKind::CertificateChoice,
        }
    }
}

/// One security event for the audit log: who did what, to which account, when. Never
/// carries a secret (no PIN, key, share or hash of one).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub kind: AuditKind,
    /// `person:<semantics id>`, `rp:<uuid>`, `device`, `system` or `operator:<name>`.
    pub actor: String,
    pub account: Option<Uuid>,
    pub document_number: Option<String>,
    pub relying_party: Option<Uuid>,
    pub session: Option<Uuid>,
    pub details: serde_json::Value,
}

impl AuditEvent {
    pub fn new(kind: AuditKind, actor: impl Into<String>, at: OffsetDateTime) -> Self {
        AuditEvent {
            at,
            kind,
            actor: actor.into(),
            account: None,
            document_number: None,
            relying_party: None,
            session: None,
            details: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn account(mut self, account: &AccountRecord) -> Self {
        self.account = Some(account.id);
        self.document_number = Some(account.document_number.clone());
        self
    }

    pub fn relying_party(mut self, uuid: Uuid) -> Self {
        self.relying_party = Some(uuid);
        self
    }

    pub fn session(mut self, id: Uuid) -> Self {
        self.session = Some(id);
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// A logged event with its place in the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub seq: i64,
    #[serde(flatten)]
    pub event: AuditEvent,
}

/// Which audit events to read (all filters optional), oldest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub document_number: Option<String>,
    pub kind: Option<AuditKind>,
    pub since: Option<OffsetDateTime>,
    /// At most this many of the newest matching events.
    pub limit: Option<u32>,
}

/// Billing: one relying party's transactions of one month, kind and result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonthlyUsage {
    /// `YYYY-MM`.
    pub month: String,
    pub rp_uuid: Uuid,
    pub kind: String,
    pub end_result: String,
    pub count: u64,
}
