//! The HTTP side: start a session, long-poll it to the end, turn every answer into a typed
//! result, and validate what completed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use splitid_proto::rp_v2::{
    CertificateChoiceBody, CertificateLevel, CommonBody, EndResult, ErrorBody, Interaction,
    InteractionBody, SessionCreated, SessionState, SessionStatus, SigningBody,
};
use splitid_proto::verification_code::VerificationCode;

use crate::error::{RpError, RpResult};
use crate::identity::KeyRole;
use crate::ocsp;
use crate::signable::SignableData;
use crate::validate::{
    RevocationPolicy, TrustConfig, ValidatedCertificate, validate_certificate, verify_signature,
};
use time::OffsetDateTime;

/// Where the service is and who this relying party is.
#[derive(Debug, Clone)]
pub struct RpConfig {
    /// The RP API v2 base, e.g. `https://id.example.org/v2` (SplitID) or
    /// `https://rp-api.smart-id.com/v2` (Smart-ID).
    pub base_url: String,
    pub relying_party_uuid: String,
    pub relying_party_name: String,
    /// How long each long poll may wait on the service (Smart-ID allows up to 120 s).
    pub long_poll: Duration,
    /// Give up waiting for a session after this long.
    pub give_up_after: Duration,
    /// The scheme name RP API v3 signs: `smart-id` (Smart-ID's production, the default),
    /// `smart-id-demo` (SK's demo and `splitid serve --demo`), or the service's setting.
    pub scheme_name: String,
}

impl RpConfig {
    pub fn new(
        base_url: impl Into<String>,
        relying_party_uuid: impl Into<String>,
        relying_party_name: impl Into<String>,
    ) -> Self {
        RpConfig {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            relying_party_uuid: relying_party_uuid.into(),
            relying_party_name: relying_party_name.into(),
            long_poll: Duration::from_secs(30),
            give_up_after: Duration::from_secs(300),
            scheme_name: "smart-id".to_owned(),
        }
    }
}

/// Whom a session is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A person by ETSI semantics identifier (`PNOEE-30303039914`): all their accounts.
    Person(String),
    /// One account by document number.
    Document(String),
}

impl Target {
    pub(crate) fn path(&self, kind: &str) -> String {
        match self {
            Target::Person(id) => format!("/{kind}/etsi/{id}"),
            Target::Document(number) => format!("/{kind}/document/{number}"),
        }
    }
}

/// What a session is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SessionKind {
    Authentication,
    Signature,
    CertificateChoice,
}

impl SessionKind {
    /// The key a session of this kind is answered with.
    pub(crate) fn key_role(self) -> KeyRole {
        match self {
            SessionKind::Authentication => KeyRole::Authentication,
            SessionKind::Signature | SessionKind::CertificateChoice => KeyRole::Signing,
        }
    }
}

/// A started session: show the verification code, then [`RpClient::wait`]. It serialises, so
/// a web application on several nodes can keep it in its shared session store.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PendingSession {
    pub session_id: String,
    pub kind: SessionKind,
    /// For logins and signatures: the code the person must see on the phone too.
    pub verification_code: Option<VerificationCode>,
    level: CertificateLevel,
    signed: Option<SignableData>,
}

/// A completed, validated session.
#[derive(Debug, Clone)]
pub struct Completed {
    pub document_number: String,
    pub certificate: ValidatedCertificate,
    /// The RSA signature over the data (logins and signatures).
    pub signature: Option<Vec<u8>>,
    /// The interaction the person saw.
    pub interaction_flow_used: Option<String>,
}

/// A relying party's client.
#[derive(Debug, Clone)]
pub struct RpClient {
    config: RpConfig,
    trust: TrustConfig,
    http: reqwest::Client,
    ocsp_cache: Arc<Mutex<OcspCache>>,
}

/// OCSP answers by SHA-256 of the certificate: the status and until when to reuse it.
type OcspCache = HashMap<Vec<u8>, (ocsp::Status, Instant)>;

impl RpClient {
    pub fn new(config: RpConfig, trust: TrustConfig) -> RpResult<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| RpError::Config(format!("HTTP client: {e}")))?;
        Ok(RpClient {
            config,
            trust,
            http,
            ocsp_cache: Arc::default(),
        })
    }

    pub(crate) fn config(&self) -> &RpConfig {
        &self.config
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn trust(&self) -> &TrustConfig {
        &self.trust
    }

    fn common(&self, level: CertificateLevel) -> CommonBody {
        CommonBody {
            relying_party_uuid: Some(self.config.relying_party_uuid.clone()),
            relying_party_name: Some(self.config.relying_party_name.clone()),
            certificate_level: Some(level.api_name().to_owned()),
            ..CommonBody::default()
        }
    }

    /// Starts a login with a fresh random challenge; `interactions` in order of preference.
    pub async fn start_authentication(
        &self,
        target: &Target,
        level: CertificateLevel,
        interactions: &[Interaction],
    ) -> RpResult<PendingSession> {
        let challenge = SignableData::random_challenge()?;
        self.start_signing_shaped(
            target,
            SessionKind::Authentication,
            level,
            challenge,
            interactions,
        )
        .await
    }

    /// Starts a signature over `data` (its hash is sent; the data stays here).
    pub async fn start_signature(
        &self,
        target: &Target,
        level: CertificateLevel,
        data: SignableData,
        interactions: &[Interaction],
    ) -> RpResult<PendingSession> {
        self.start_signing_shaped(target, SessionKind::Signature, level, data, interactions)
            .await
    }

    /// Starts a certificate choice: which account (device) will sign, and its certificate.
    pub async fn start_certificate_choice(
        &self,
        target: &Target,
        level: CertificateLevel,
    ) -> RpResult<PendingSession> {
        let body = CertificateChoiceBody {
            common: self.common(level),
        };
        let created = self.start(&target.path("certificatechoice"), &body).await?;
        Ok(PendingSession {
            session_id: created.session_id,
            kind: SessionKind::CertificateChoice,
            verification_code: None,
            level,
            signed: None,
        })
    }

    async fn start_signing_shaped(
        &self,
        target: &Target,
        kind: SessionKind,
        level: CertificateLevel,
        signed: SignableData,
        interactions: &[Interaction],
    ) -> RpResult<PendingSession> {
        let body = SigningBody {
            common: self.common(level),
            hash: Some(BASE64.encode(signed.hash())),
            hash_type: Some(signed.hash_type().api_name().to_owned()),
            allowed_interactions_order: Some(
                interactions.iter().map(InteractionBody::from).collect(),
            ),
        };
        let path = match kind {
            SessionKind::Authentication => target.path("authentication"),
            _ => target.path("signature"),
        };
        let created = self.start(&path, &body).await?;
        Ok(PendingSession {
            session_id: created.session_id,
            kind,
            verification_code: Some(signed.verification_code()),
            level,
            signed: Some(signed),
        })
    }

    async fn start(&self, path: &str, body: &impl serde::Serialize) -> RpResult<SessionCreated> {
        let response = self
            .http
            .post(format!("{}{path}", self.config.base_url))
            .json(body)
            .send()
            .await
            .map_err(|e| RpError::Transport(e.to_string()))?;
        read_answer(response, true).await
    }

    /// Long-polls the session until it completes, then validates it (for [`SessionKind`]:
    /// the certificate always, with its revocation status; the signature for logins and
    /// signatures).
    pub async fn wait(&self, pending: &PendingSession) -> RpResult<Completed> {
        let status = self.poll_until_complete(&pending.session_id).await?;
        let completed = self.check(pending, status, SystemTime::now())?;
        self.check_revocation(&completed.certificate).await?;
        Ok(completed)
    }

    /// Asks the certificate's OCSP responder whether it is revoked, as the trust
    /// configuration's [`RevocationPolicy`] says (good answers are reused for a while).
    pub async fn check_revocation(&self, certificate: &ValidatedCertificate) -> RpResult<()> {
        if self.trust.revocation == RevocationPolicy::Off {
            return Ok(());
        }
        let key = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &certificate.der)
            .as_ref()
            .to_vec();
        let cached = self.cached_status(&key);
        let status = match cached {
            Some(status) => status,
            None => match self.ask_responder(&certificate.der).await {
                Ok(answer) => {
                    self.remember(key, &answer);
                    answer.status
                }
                Err(why) if self.trust.revocation == RevocationPolicy::Required => {
                    return Err(RpError::RevocationUnknown(why));
                }
                Err(_) => return Ok(()),
            },
        };
        match status {
            ocsp::Status::Good => Ok(()),
            ocsp::Status::Revoked => Err(RpError::CertificateRevoked(
                "its OCSP responder says so".into(),
            )),
        }
    }

    fn cached_status(&self, key: &[u8]) -> Option<ocsp::Status> {
        let cache = self.ocsp_cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(key)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(status, _)| *status)
    }

    fn remember(&self, key: Vec<u8>, answer: &ocsp::Answer) {
        let mut lifetime = self.trust.ocsp_cache;
        if let Some(next) = answer.next_update {
            let left = (next - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
            lifetime = lifetime.min(left.unsigned_abs());
        }
        if lifetime.is_zero() {
            return;
        }
        let mut cache = self.ocsp_cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(key, (answer.status, Instant::now() + lifetime));
    }

    async fn ask_responder(&self, der: &[u8]) -> Result<ocsp::Answer, String> {
        use der::Decode;
        let leaf = x509_cert::Certificate::from_der(der).map_err(|e| e.to_string())?;
        let url = ocsp::responder_url(&leaf).ok_or("the certificate names no OCSP responder")?;
        let issuer = self
            .trust
            .issuer_of(&leaf)
            .ok_or("the issuing CA's certificate is not configured")?;
        ocsp::query(&url, &leaf, &issuer, OffsetDateTime::now_utc()).await
    }

    async fn poll_until_complete(&self, session_id: &str) -> RpResult<SessionStatus> {
        let url = format!("{}/session/{session_id}", self.config.base_url);
        self.poll_json_until(&url, |status: &SessionStatus| {
            status.state == SessionState::Complete
        })
        .await
    }

    /// Long-polls a session's `url` until `done` says its status is final.
    pub(crate) async fn poll_json_until<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        done: impl Fn(&T) -> bool,
    ) -> RpResult<T> {
        let give_up = tokio::time::Instant::now() + self.config.give_up_after;
        let timeout_ms = self.config.long_poll.as_millis();
        loop {
            let response = self
                .http
                .get(format!("{url}?timeoutMs={timeout_ms}"))
                .timeout(self.config.long_poll + Duration::from_secs(10))
                .send()
                .await
                .map_err(|e| RpError::Transport(e.to_string()))?;
            let status: T = read_answer(response, false).await?;
            if done(&status) {
                return Ok(status);
            }
            if tokio::time::Instant::now() >= give_up {
                return Err(RpError::Timeout);
            }
        }
    }

    /// Validates a completed session's status as of `at`, offline: everything
    /// [`wait`](Self::wait) checks except revocation (for callers that poll themselves, who
    /// then call [`check_revocation`](Self::check_revocation)).
    pub fn check(
        &self,
        pending: &PendingSession,
        status: SessionStatus,
        at: SystemTime,
    ) -> RpResult<Completed> {
        let result = status
            .result
            .ok_or_else(|| RpError::InvalidResponse("a completed session without result".into()))?;
        if let Some(error) = RpError::from_end_result(result.end_result) {
            return Err(error);
        }
        debug_assert_eq!(result.end_result, EndResult::Ok);
        let document_number = result
            .document_number
            .ok_or_else(|| RpError::InvalidResponse("OK without documentNumber".into()))?;
        let cert = status
            .cert
            .ok_or_else(|| RpError::InvalidResponse("OK without cert".into()))?;
        let der = decode("cert.value", &cert.value)?;
        let role = pending.kind.key_role();
        let certificate = validate_certificate(
            &self.trust,
            &der,
            cert.certificate_level,
            pending.level,
            role,
            at,
        )?;
        let signature = match &pending.signed {
            None => None,
            Some(signed) => {
                let signature = status
                    .signature
                    .ok_or_else(|| RpError::InvalidResponse("OK without signature".into()))?;
                let bytes = decode("signature.value", &signature.value)?;
                verify_signature(&der, signed, &signature.algorithm, &bytes)?;
                Some(bytes)
            }
        };
        Ok(Completed {
            document_number,
            certificate,
            signature,
            interaction_flow_used: status.interaction_flow_used,
        })
    }
}

pub(crate) fn decode(field: &str, value: &str) -> RpResult<Vec<u8>> {
    BASE64
        .decode(value)
        .map_err(|_| RpError::InvalidResponse(format!("{field} is not base64")))
}

/// The JSON body of a 200, or the typed error of any other status.
pub(crate) async fn read_answer<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    starting: bool,
) -> RpResult<T> {
    let status = response.status().as_u16();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| RpError::Transport(e.to_string()))?;
    if status != 200 {
        let detail = serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|body| body.detail)
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).chars().take(200).collect());
        return Err(RpError::from_status(status, detail, starting));
    }
    serde_json::from_slice(&bytes).map_err(|e| RpError::InvalidResponse(e.to_string()))
}
