//! Device-link sessions (RP API v3's QR codes, Web2App and App2App links; docs/spec/rp-api.md
//! §2.5, §2.9; threat model in docs/device-links.md).
//!
//! Such a session is asked of nobody when it starts: the relying party gets a `sessionToken`
//! and a `sessionSecret` and builds links with an `authCode` under the secret. The phone that
//! presents a link claims the session for its account, if the link is this service's, its
//! code is right for the session and the exact link, a QR code's `elapsedSeconds` is recent,
//! and the account is one the session may go to. Claiming clears the token in the same
//! statement that asks the account, so a link opens one phone's transaction, once; a refused
//! link changes nothing. From there the session runs as any other.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD as BASE64URL};
use serde::{Deserialize, Serialize};
use splitid_proto::app_v1::PendingTransaction;
use splitid_proto::rp_v3::SessionTexts;
use splitid_proto::rp_v3::device_link::{
    AuthCode, DeviceLink, DeviceLinkType, LinkContext, SessionType, session_secret_digest,
};
use splitid_proto::rp_v3::requests::{ACSP_V2, RAW_DIGEST_SIGNATURE};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::{Interaction, SessionSpec, choice_spec, choose_interaction, key_for, level_satisfies};
use crate::Service;
use crate::accounts::pin_policy::PinState;
use crate::error::{ServiceError, ServiceResult};
use crate::model::{
    CertificateChoiceRequest, EndResult, Flow, Outcome, SignatureProtocol, SigningRequest, Target,
};
use crate::sessions::is_past;
use crate::store::{AccountRecord, Event, SessionKind, SessionRecord, SessionState};

/// Bytes of a `sessionToken`: 32 characters of base64url (the spec asks for at least 24).
const TOKEN_BYTES: usize = 24;
/// Bytes of a `sessionSecret`: an HMAC-SHA256 key of the hash's own length.
const SECRET_BYTES: usize = 32;
/// How old a QR code's link may be, in seconds, by the service's count since it answered the
/// start (the relying party's count starts a moment later, so the service's is never
/// smaller). Ten seconds cover showing the code (it changes every second), scanning it and
/// sending it over a slow mobile network; a photographed or relayed code older than that is
/// refused, and the person scans the live one again.
pub const QR_MAX_AGE_SECONDS: i64 = 10;
/// How far a QR code's count may run ahead of the service's: the two clocks tick apart by up
/// to a second each. A code further ahead was computed in advance, which the spec forbids.
pub const QR_MAX_LEAD_SECONDS: i64 = 2;

/// What a device-link session keeps beside its request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkSpec {
    /// The session secret, sealed under the key store for this session (standard base64).
    pub sealed_secret: String,
    /// Whose phone may claim it.
    pub target: Target,
    /// The interactions the relying party allows, most preferred first: chosen from when a
    /// phone claims the session (its app's are known only then).
    #[serde(default)]
    pub interactions: Vec<Interaction>,
}

/// A device-link session as its start answers.
#[derive(Debug, Clone)]
pub struct LinkStarted {
    pub id: Uuid,
    /// Goes into every link as it is.
    pub session_token: String,
    /// The authCode's key, standard base64; only the relying party's backend holds it.
    pub session_secret: Zeroizing<String>,
}

/// What the store keeps of a token: its SHA-256, base64url.
fn token_digest(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    BASE64URL.encode(digest.as_ref())
}

/// The key store context the session secret is sealed in: one session's only.
fn secret_context(session: Uuid) -> String {
    format!("rp-v3 session secret {session}")
}

fn link_session_type(kind: SessionKind) -> SessionType {
    match kind {
        SessionKind::Authentication => SessionType::Authentication,
        SessionKind::Signature => SessionType::Signature,
        SessionKind::CertificateChoice => SessionType::CertificateChoice,
    }
}

fn flow_of(link_type: DeviceLinkType) -> Flow {
    match link_type {
        DeviceLinkType::Qr => Flow::Qr,
        DeviceLinkType::Web2App => Flow::Web2App,
        DeviceLinkType::App2App => Flow::App2App,
    }
}

/// The callback URL a flow returns to: none for QR codes (the person is on another screen)
/// and notifications.
pub(crate) fn callback_of(spec: &SessionSpec, flow: Option<Flow>) -> Option<&str> {
    match flow {
        Some(Flow::Web2App | Flow::App2App) => spec
            .bound
            .as_ref()
            .and_then(|bound| bound.initial_callback_url.as_deref()),
        Some(Flow::Qr | Flow::Notification) | None => None,
    }
}

/// `url` with one more query parameter.
fn with_parameter(url: &str, name: &str, value: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{name}={value}")
}

/// The message for a link that opens nothing (never issued, spent, or its session over):
/// the same in each case, so a token tells nobody which.
fn spent() -> ServiceError {
    ServiceError::NotFound(
        "this link opens no session: it was used already, its session ended, or it was not \
         issued by this service"
            .into(),
    )
}

/// Whether a QR code's `elapsedSeconds` is recent by the service's count.
fn check_fresh(
    started: time::OffsetDateTime,
    now: time::OffsetDateTime,
    elapsed: u64,
) -> ServiceResult<()> {
    let ours = (now - started).whole_seconds();
    let theirs = i64::try_from(elapsed).unwrap_or(i64::MAX);
    let age = ours.saturating_sub(theirs);
    if age > QR_MAX_AGE_SECONDS {
        return Err(ServiceError::NotAllowed(format!(
            "this QR code is {age} seconds old (at most {QR_MAX_AGE_SECONDS} are accepted): \
             scan the code on the screen again"
        )));
    }
    if -age > QR_MAX_LEAD_SECONDS {
        return Err(ServiceError::NotAllowed(format!(
            "this QR code counts {} seconds ahead of its session: it was not made from the \
             live session",
            -age
        )));
    }
    Ok(())
}

/// Whether the session may go to this account: the person or document it names, and a
/// level at least the requested one.
fn check_target(link: &LinkSpec, spec: &SessionSpec, account: &AccountRecord) -> ServiceResult<()> {
    let meant = match &link.target {
        Target::Person(person) => account.semantics_id == *person,
        Target::Document(number) => account.document_number == *number,
        Target::Anonymous => true,
    };
    if !meant {
        return Err(ServiceError::NotAllowed(
            "this link is for another person's account".into(),
        ));
    }
    if !level_satisfies(&account.level, spec.level) {
        return Err(ServiceError::NotAllowed(format!(
            "the e-service asks for a {} account, and this one is not",
            spec.level.name()
        )));
    }
    Ok(())
}

impl Service {
    /// `deviceLinkBase`: where this service's links point (its public address).
    pub fn device_link_base(&self) -> String {
        format!(
            "{}/device-link",
            self.config().public_url.trim_end_matches('/')
        )
    }

    /// Starts an authentication or signature that a phone claims with a device link.
    pub async fn start_device_link_signing(
        &self,
        rp_uuid: Uuid,
        target: Target,
        request: SigningRequest,
    ) -> ServiceResult<LinkStarted> {
        if request.kind == SessionKind::CertificateChoice {
            return Err(ServiceError::internal(
                "a certificate choice is not a signing session",
            ));
        }
        let spec = self.signing_spec(&request)?;
        self.start_link_session(rp_uuid, request.kind, target, spec, request.interactions)
            .await
    }

    /// Starts a certificate choice that a phone claims with a device link.
    pub async fn start_device_link_certificate_choice(
        &self,
        rp_uuid: Uuid,
        target: Target,
        request: CertificateChoiceRequest,
    ) -> ServiceResult<LinkStarted> {
        let spec = choice_spec(&request);
        self.start_link_session(
            rp_uuid,
            SessionKind::CertificateChoice,
            target,
            spec,
            Vec::new(),
        )
        .await
    }

    /// Starts the signature that follows a device-link certificate choice (RP API v3's
    /// linked signature): pushed to the account that chose, reported with the choice's flow,
    /// returning to the choice's callback. The choice must be this relying party's, have
    /// ended OK with this document, and still be readable.
    pub async fn start_linked_signature(
        &self,
        rp_uuid: Uuid,
        document_number: &str,
        linked: Uuid,
        request: SigningRequest,
    ) -> ServiceResult<super::Started> {
        let refused = |why: &str| ServiceError::Invalid(format!("linkedSessionID: {why}"));
        let choice = self
            .readable_session(linked)
            .await
            .ok()
            .filter(|session| session.rp_uuid == rp_uuid)
            .ok_or_else(|| refused("no such session of this relying party"))?;
        let choice_spec: SessionSpec =
            serde_json::from_value(choice.request.clone()).map_err(ServiceError::internal)?;
        if choice.kind != SessionKind::CertificateChoice || choice_spec.link.is_none() {
            return Err(refused("is not a device-link certificate choice"));
        }
        let outcome = self
            .outcome(&choice)
            .await?
            .ok_or_else(|| refused("the certificate choice has not ended yet"))?;
        if outcome.end_result != EndResult::Ok
            || outcome.document_number.as_deref() != Some(document_number)
        {
            return Err(refused(&format!(
                "the certificate choice did not choose {document_number}"
            )));
        }
        let mut spec = self.signing_spec(&request)?;
        spec.flow = outcome.flow;
        spec.callback_url = choice_spec.callback_url;
        spec.linked_session = Some(linked);
        let target = Target::Document(document_number.to_owned());
        let fingerprint = format!("linked {linked} {}", Uuid::new_v4());
        self.start_session(
            rp_uuid,
            request.kind,
            target,
            spec,
            fingerprint,
            &request.interactions,
        )
        .await
    }

    /// Stores a session nobody is asked yet. A named person or document must have a suitable
    /// account (404 as for a notification); whether that account's PIN is usable is judged
    /// when its phone claims the session. No idempotency rule: every start has its own token
    /// and secret, which a repeated answer could not return (the service keeps neither).
    async fn start_link_session(
        &self,
        rp_uuid: Uuid,
        kind: SessionKind,
        target: Target,
        mut spec: SessionSpec,
        interactions: Vec<Interaction>,
    ) -> ServiceResult<LinkStarted> {
        if target != Target::Anonymous {
            self.suitable_accounts(&target, spec.level).await?;
        }
        let id = Uuid::new_v4();
        let mut token = [0u8; TOKEN_BYTES];
        self.keys().random(&mut token)?;
        let session_token = BASE64URL.encode(token);
        let mut secret = Zeroizing::new([0u8; SECRET_BYTES]);
        self.keys().random(secret.as_mut())?;
        let sealed = self.keys().seal(secret.as_ref(), &secret_context(id))?;
        spec.link = Some(LinkSpec {
            sealed_secret: BASE64.encode(sealed),
            target,
            interactions,
        });
        let now = self.now();
        let record = SessionRecord {
            id,
            rp_uuid,
            kind,
            request: serde_json::to_value(&spec).map_err(ServiceError::internal)?,
            // Never equal to another session's: device-link starts are not merged.
            fingerprint: format!("device-link {id}"),
            state: SessionState::Running,
            result: None,
            created_at: now,
            deadline: now + self.config().session_timeout,
            completed_at: None,
            link_token: Some(token_digest(&session_token)),
        };
        self.store().insert_session(&record, &[]).await?;
        tracing::info!(session = %id, kind = kind.as_str(), "device-link session started");
        metrics::counter!("splitid_sessions_started_total", "kind" => kind.as_str()).increment(1);
        Ok(LinkStarted {
            id,
            session_token,
            session_secret: Zeroizing::new(BASE64.encode(secret.as_ref())),
        })
    }

    /// A phone presents a device link (`presented`, exactly as scanned or opened): the
    /// session becomes this account's transaction, which is returned. Every refusal before
    /// the claim leaves the session as it was. A claim by an account whose PIN is locked, or
    /// whose app runs none of the allowed interactions, ends the session as a notification's
    /// would (DOCUMENT_UNUSABLE, REQUIRED_INTERACTION_NOT_SUPPORTED_BY_APP) and says so.
    pub async fn claim_device_link(
        &self,
        account: &AccountRecord,
        presented: &str,
    ) -> ServiceResult<PendingTransaction> {
        let (link, code) = DeviceLink::parse(presented)
            .map_err(|error| ServiceError::Invalid(error.to_string()))?;
        let base = self.device_link_base();
        if link.base != base {
            return Err(ServiceError::Invalid(format!(
                "this link is for {}, not this service ({base})",
                link.base
            )));
        }
        let digest = token_digest(&link.session_token);
        let session = self
            .store()
            .session_by_link_token(&digest)
            .await?
            .ok_or_else(spent)?;
        let now = self.now();
        if is_past(session.deadline, now) {
            self.finish(session.id, &Outcome::ended(EndResult::Timeout), None)
                .await?;
            return Err(spent());
        }
        if link_session_type(session.kind) != link.session_type {
            return Err(ServiceError::Invalid(format!(
                "the link's sessionType {} is not its session's ({})",
                link.session_type.as_str(),
                link_session_type(session.kind).as_str()
            )));
        }
        let mut spec: SessionSpec =
            serde_json::from_value(session.request.clone()).map_err(ServiceError::internal)?;
        let link_spec = spec
            .link
            .clone()
            .ok_or_else(|| ServiceError::internal("a device-link session without its link"))?;
        let flow = flow_of(link.link_type);
        let secret = self.session_secret(session.id, &link_spec)?;
        if !self.link_code_matches(&secret, &spec, flow, &link, &code) {
            return Err(ServiceError::NotAllowed(
                "the link's authCode does not match its session: the link was altered or made \
                 for another session"
                    .into(),
            ));
        }
        if let Some(elapsed) = link.elapsed_seconds {
            check_fresh(session.created_at, now, elapsed)?;
        }
        if !account.is_usable(now) {
            return Err(ServiceError::NotAllowed(
                "this account is closed or expired".into(),
            ));
        }
        check_target(&link_spec, &spec, account)?;

        spec.flow = Some(flow);
        let ending = self
            .claim_ending(account, session.kind, &link_spec, &mut spec)
            .await?;
        let callback = callback_of(&spec, Some(flow)).map(|url| {
            with_parameter(
                url,
                "sessionSecretDigest",
                &session_secret_digest(secret.as_ref()),
            )
        });
        spec.callback_url = callback;
        let request = serde_json::to_value(&spec).map_err(ServiceError::internal)?;
        let claimed = self
            .store()
            .claim_linked_session(session.id, &digest, account.id, &request)
            .await?;
        if !claimed {
            return Err(spent());
        }
        tracing::info!(session = %session.id, account = %account.id, flow = ?flow, "device link claimed");
        if let Some((end, why)) = ending {
            let outcome = Outcome {
                flow: Some(flow),
                ..Outcome::ended(end)
            };
            self.finish(session.id, &outcome, Some(account.id)).await?;
            return Err(ServiceError::Conflict(why.into()));
        }
        self.announce(&[Event::AccountChanged(account.id)]).await;
        let claimed = self
            .store()
            .session(session.id)
            .await?
            .ok_or_else(|| ServiceError::internal("a claimed session vanished"))?;
        let mut transactions = vec![self.describe(&claimed)?];
        self.stamp_channel_key(&mut transactions).await?;
        transactions
            .pop()
            .ok_or_else(|| ServiceError::internal("no transaction described"))
    }

    /// The session secret, opened from the key store.
    fn session_secret(&self, session: Uuid, link: &LinkSpec) -> ServiceResult<Zeroizing<Vec<u8>>> {
        let sealed = BASE64
            .decode(&link.sealed_secret)
            .map_err(ServiceError::internal)?;
        Ok(self.keys().open(&sealed, &secret_context(session))?)
    }

    /// Whether `code` is the authCode of `link` in this session (docs/spec/rp-api.md §2.5).
    fn link_code_matches(
        &self,
        secret: &[u8],
        spec: &SessionSpec,
        flow: Flow,
        link: &DeviceLink,
        code: &str,
    ) -> bool {
        // A digest is re-encoded from its bytes: the request's strict base64 decoding takes
        // only the canonical text, so this is the text the relying party sent.
        let (protocol, challenge) = match &spec.protocol {
            Some(SignatureProtocol::AcspV2 { rp_challenge, .. }) => (ACSP_V2, rp_challenge.clone()),
            Some(
                SignatureProtocol::PssDigest { digest, .. }
                | SignatureProtocol::Pkcs1V15Digest { digest, .. },
            ) => (RAW_DIGEST_SIGNATURE, BASE64.encode(digest)),
            None => ("", String::new()),
        };
        let bound = spec.bound.clone().unwrap_or_default();
        let context = LinkContext {
            session: SessionTexts {
                scheme_name: self.config().scheme_name(),
                relying_party_name: &spec.relying_party_name,
                brokered_rp_name: "",
                interactions: &bound.interactions,
                initial_callback_url: callback_of(spec, Some(flow)).unwrap_or_default(),
            },
            signature_protocol: protocol,
            challenge: &challenge,
        };
        AuthCode::verify(secret, &context, link, code)
    }

    /// What the claiming account settles: the interaction its app runs. `Some` ending when the
    /// session cannot go on with this account.
    async fn claim_ending(
        &self,
        account: &AccountRecord,
        kind: SessionKind,
        link: &LinkSpec,
        spec: &mut SessionSpec,
    ) -> ServiceResult<Option<(EndResult, &'static str)>> {
        let key = self.key(account.id, key_for(kind)).await?;
        if !matches!(self.pin_state(&key), PinState::Usable { .. }) {
            return Ok(Some((
                EndResult::DocumentUnusable,
                "this account's PIN is locked: the e-service is told the account cannot be used",
            )));
        }
        if kind == SessionKind::CertificateChoice {
            return Ok(None);
        }
        match choose_interaction(&link.interactions, std::slice::from_ref(account)) {
            Some(interaction) => {
                spec.interaction = Some(interaction.clone());
                Ok(None)
            }
            None => Ok(Some((
                EndResult::RequiredInteractionNotSupportedByApp,
                "this app cannot show what the e-service asks: the e-service is told",
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: time::OffsetDateTime = time::macros::datetime!(2026-12-06 00:00:00 UTC);

    #[test]
    fn a_qr_code_is_fresh_for_ten_seconds_and_never_from_the_future() {
        let at = |seconds| START + time::Duration::seconds(seconds);
        // The relying party got the answer a moment after the service gave it.
        assert!(check_fresh(START, at(5), 4).is_ok());
        assert!(check_fresh(START, at(15), 5).is_ok());
        assert!(check_fresh(START, at(16), 5).is_err());
        assert!(check_fresh(START, at(5), 7).is_ok());
        assert!(check_fresh(START, at(5), 8).is_err());
        assert!(check_fresh(START, at(0), u64::MAX).is_err());
    }

    #[test]
    fn a_callback_gets_its_parameter_after_the_query() {
        assert_eq!(
            with_parameter("https://rp.example/cb?x=1", "sessionSecretDigest", "abc"),
            "https://rp.example/cb?x=1&sessionSecretDigest=abc"
        );
        assert_eq!(
            with_parameter("https://rp.example/cb", "sessionSecretDigest", "abc"),
            "https://rp.example/cb?sessionSecretDigest=abc"
        );
    }

    #[test]
    fn tokens_are_kept_as_digests() {
        let digest = token_digest("wGIrqveE6AuGDATZKmR1mtAZ");
        assert_eq!(digest.len(), 43);
        assert_ne!(digest, token_digest("wGIrqveE6AuGDATZKmR1mtAa"));
    }
}
