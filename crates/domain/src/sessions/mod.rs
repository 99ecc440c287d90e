//! Sessions: a relying party's login, signature or certificate choice, from start to result.
//!
//! A session is stored when it starts, with the accounts (devices) it was sent to; the first
//! device to answer completes it and the others are withdrawn. Completion is one transaction
//! (result, withdrawals, billing count) and wakes the relying party's long poll at once.

mod device_links;
mod waiters;

use std::time::Duration as StdDuration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use splitid_proto::VerificationCode;
use time::OffsetDateTime;
use uuid::Uuid;

pub use crate::model::{
    BoundTexts, Certificate, CertificateChoiceRequest, CodeRule, EndResult, Flow, Interaction,
    InteractionKind, Level, Outcome, Progress, Signature, SignatureProtocol, SigningRequest,
    Target,
};
pub(crate) use device_links::callback_of;
pub use device_links::{LinkSpec, LinkStarted, QR_MAX_AGE_SECONDS, QR_MAX_LEAD_SECONDS};
pub use waiters::Waiters;

use crate::Service;
use crate::accounts::pin_policy::PinState;
use crate::error::{ServiceError, ServiceResult};
use crate::store::{
    AccountRecord, AuditEvent, AuditKind, ChannelAdvance, Event, KeyPurpose, RightPin,
    SessionCompletion, SessionKind, SessionRecord, SessionState,
};

/// Who answered a session, and what commits with the answer.
#[derive(Clone, Copy, Default)]
pub(crate) struct Answer<'a> {
    pub by: Option<&'a AccountRecord>,
    /// A right PIN's counter reset.
    pub right_pin: Option<&'a RightPin>,
    /// The answering app's channel move, which carries the answer to the app.
    pub channel: Option<&'a ChannelAdvance>,
}

impl<'a> Answer<'a> {
    /// An answer with nothing else to commit (or none: a timeout, a refusal on start).
    pub fn by(account: Option<&'a AccountRecord>) -> Self {
        Answer {
            by: account,
            ..Answer::default()
        }
    }
}

/// Identical requests within this time return the same session (unless the nonce differs).
const IDEMPOTENCY_WINDOW: time::Duration = time::Duration::seconds(15);

/// What a session asks, as stored with it (migration 0009 moved older sessions to this form).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionSpec {
    pub relying_party_name: String,
    pub level: Level,
    /// How the phone signs (none for a certificate choice).
    #[serde(default)]
    pub protocol: Option<SignatureProtocol>,
    /// The interaction the app runs: the relying party's most preferred one that the apps
    /// asked can run.
    #[serde(default)]
    pub interaction: Option<Interaction>,
    #[serde(default)]
    pub verification_code: Option<String>,
    #[serde(default)]
    pub code_choices: Vec<String>,
    #[serde(default)]
    pub ignored_properties: Vec<String>,
    /// The verification code was drawn by the service (the phone cannot recompute it).
    #[serde(default)]
    pub code_drawn: bool,
    /// RP API v3's texts the signature binds.
    #[serde(default)]
    pub bound: Option<BoundTexts>,
    /// How the phone gets the session (RP API v3).
    #[serde(default)]
    pub flow: Option<Flow>,
    /// ACSP_V2's random value of the service (base64), drawn at the start.
    #[serde(default)]
    pub server_random: Option<String>,
    /// A device-link session's secret and whose phone may claim it.
    #[serde(default)]
    pub link: Option<LinkSpec>,
    /// Where a Web2App or App2App flow returns, `sessionSecretDigest` appended: set by the
    /// claim, and passed on to the signature linked to a certificate choice.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// The device-link certificate choice this signature follows (RP API v3's linked
    /// signature).
    #[serde(default)]
    pub linked_session: Option<Uuid>,
    /// Report the answering phone's address (the relying party asked, and may know it).
    #[serde(default)]
    pub share_device_ip: bool,
}

/// A session as its start answers: its id, and the code the relying party shows when the
/// service drew it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub id: Uuid,
    pub verification_code: Option<String>,
}

/// Bytes of ACSP_V2's `serverRandom`: 32 characters of base64 (the spec asks for at least 24).
const SERVER_RANDOM_BYTES: usize = 24;

/// Which key a session's kind uses.
pub fn key_for(kind: SessionKind) -> KeyPurpose {
    match kind {
        SessionKind::Authentication => KeyPurpose::Authentication,
        SessionKind::Signature | SessionKind::CertificateChoice => KeyPurpose::Signing,
    }
}

/// Whether an account's app can run an interaction.
fn supports(account: &AccountRecord, interaction: &Interaction) -> bool {
    account
        .interactions
        .iter()
        .any(|name| name == interaction.kind.name())
}

/// The relying party's most preferred interaction that at least one of the person's apps can
/// run (only those apps are then asked).
fn choose_interaction<'a>(
    allowed: &'a [Interaction],
    accounts: &[AccountRecord],
) -> Option<&'a Interaction> {
    allowed.iter().find(|interaction| {
        accounts
            .iter()
            .any(|account| supports(account, interaction))
    })
}

/// Whether an account's level satisfies the requested one (QSCD needs a qualified account).
fn level_satisfies(account_level: &str, requested: Level) -> bool {
    match requested {
        Level::Advanced => true,
        Level::Qualified | Level::Qscd => account_level == Level::Qualified.name(),
    }
}

fn account_level(account: &AccountRecord) -> Level {
    if account.level == Level::Qualified.name() {
        Level::Qualified
    } else {
        Level::Advanced
    }
}

impl Service {
    /// Starts an authentication or signature session.
    pub async fn start_signing_session(
        &self,
        rp_uuid: Uuid,
        target: Target,
        request: SigningRequest,
    ) -> ServiceResult<Started> {
        let kind = request.kind;
        if kind == SessionKind::CertificateChoice {
            return Err(ServiceError::internal(
                "a certificate choice is not a signing session",
            ));
        }
        let fingerprint = fingerprint(rp_uuid, kind, &target, &request_fingerprint_parts(&request));
        if let Some(existing) = self.recent_identical_session(&fingerprint).await? {
            return Ok(existing);
        }
        let spec = self.signing_spec(&request)?;
        self.start_session(
            rp_uuid,
            kind,
            target,
            spec,
            fingerprint,
            &request.interactions,
        )
        .await
    }

    /// What a signing session asks, as stored with it: the verification code and ACSP_V2's
    /// `serverRandom` drawn now, the interaction chosen when the session starts.
    fn signing_spec(&self, request: &SigningRequest) -> ServiceResult<SessionSpec> {
        let code = match &request.verification_code {
            CodeRule::DerivedFrom(bytes) => Some(VerificationCode::from_hash(bytes)),
            CodeRule::Drawn => Some(self.random_code()?),
            CodeRule::Omitted => None,
        };
        let server_random = match request.protocol {
            SignatureProtocol::AcspV2 { .. } => Some(self.server_random()?),
            _ => None,
        };
        Ok(SessionSpec {
            relying_party_name: request.relying_party_name.clone(),
            level: request.level,
            protocol: Some(request.protocol.clone()),
            // Chosen when the session starts, from what the person's apps can run.
            interaction: None,
            verification_code: code.map(|code| code.to_string()),
            code_choices: Vec::new(),
            ignored_properties: request.ignored_properties.clone(),
            code_drawn: request.verification_code == CodeRule::Drawn,
            bound: request.bound.clone(),
            flow: request.flow,
            server_random,
            link: None,
            callback_url: None,
            linked_session: None,
            share_device_ip: request.share_device_ip,
        })
    }

    /// Starts a certificate choice: completes at once when the person has exactly one eligible
    /// account, otherwise asks their devices.
    pub async fn start_certificate_choice(
        &self,
        rp_uuid: Uuid,
        target: Target,
        request: CertificateChoiceRequest,
    ) -> ServiceResult<Started> {
        let parts = serde_json::json!({
            "name": request.relying_party_name,
            "level": request.level,
            "nonce": request.nonce,
            "flow": request.flow,
        });
        let fingerprint = fingerprint(rp_uuid, SessionKind::CertificateChoice, &target, &parts);
        if let Some(existing) = self.recent_identical_session(&fingerprint).await? {
            return Ok(existing);
        }
        let spec = choice_spec(&request);
        self.start_session(
            rp_uuid,
            SessionKind::CertificateChoice,
            target,
            spec,
            fingerprint,
            &[],
        )
        .await
    }

    /// The session an identical request started moments ago, answered as it was then.
    async fn recent_identical_session(&self, fingerprint: &str) -> ServiceResult<Option<Started>> {
        let since = self.now() - IDEMPOTENCY_WINDOW;
        let Some(id) = self
            .store()
            .recent_session_by_fingerprint(fingerprint, since)
            .await?
        else {
            return Ok(None);
        };
        let session = self
            .store()
            .session(id)
            .await?
            .ok_or_else(|| ServiceError::internal(format!("session {id} vanished")))?;
        let spec: SessionSpec =
            serde_json::from_value(session.request).map_err(ServiceError::internal)?;
        Ok(Some(Started {
            id,
            verification_code: spec.verification_code.filter(|_| spec.code_drawn),
        }))
    }

    async fn start_session(
        &self,
        rp_uuid: Uuid,
        kind: SessionKind,
        target: Target,
        mut spec: SessionSpec,
        fingerprint: String,
        interactions: &[Interaction],
    ) -> ServiceResult<Started> {
        let suitable = self.suitable_accounts(&target, spec.level).await?;
        let now = self.now();
        let mut usable = Vec::new();
        for account in &suitable {
            let key = self.key(account.id, key_for(kind)).await?;
            if matches!(self.pin_state(&key), PinState::Usable { .. }) {
                usable.push(account.clone());
            }
        }
        let mut unsupported = false;
        if !interactions.is_empty() && !usable.is_empty() {
            match choose_interaction(interactions, &usable) {
                Some(interaction) => {
                    usable.retain(|account| supports(account, interaction));
                    if interaction.kind.has_code_choice() {
                        let code = spec
                            .verification_code
                            .as_deref()
                            .and_then(|c| c.parse().ok());
                        spec.code_choices = self
                            .code_choices(code.ok_or_else(|| ServiceError::internal("no code"))?)?;
                    }
                    spec.interaction = Some(interaction.clone());
                }
                None => unsupported = true,
            }
        }
        let record = SessionRecord {
            id: Uuid::new_v4(),
            rp_uuid,
            kind,
            request: serde_json::to_value(&spec).map_err(ServiceError::internal)?,
            fingerprint,
            state: SessionState::Running,
            result: None,
            created_at: now,
            deadline: now + self.config().session_timeout,
            completed_at: None,
            link_token: None,
        };
        let targets: Vec<Uuid> = usable.iter().map(|a| a.id).collect();
        self.store().insert_session(&record, &targets).await?;
        tracing::info!(session = %record.id, kind = kind.as_str(), devices = targets.len(), "session started");
        metrics::counter!("splitid_sessions_started_total", "kind" => kind.as_str()).increment(1);

        if unsupported {
            // No app of the person's can run any interaction the relying party allows.
            self.finish(
                record.id,
                &Outcome::ended(EndResult::RequiredInteractionNotSupportedByApp),
                None,
            )
            .await?;
        } else if usable.is_empty() {
            // Every suitable account has its PIN locked.
            self.finish(
                record.id,
                &Outcome::ended(EndResult::DocumentUnusable),
                None,
            )
            .await?;
        } else if kind == SessionKind::CertificateChoice && usable.len() == 1 {
            let outcome = self.certificate_choice_result(&usable[0], &spec).await?;
            self.complete(&record, &outcome, Answer::by(Some(&usable[0])))
                .await?;
        } else {
            let events: Vec<_> = targets.iter().copied().map(Event::AccountChanged).collect();
            self.announce(&events).await;
            self.push_new_transaction(&record, &spec.relying_party_name, &targets);
        }
        Ok(Started {
            id: record.id,
            verification_code: spec.verification_code.filter(|_| spec.code_drawn),
        })
    }

    /// The accounts a session may go to: 404 when there are none, 471 when the person has
    /// accounts but none of the requested level.
    async fn suitable_accounts(
        &self,
        target: &Target,
        level: Level,
    ) -> ServiceResult<Vec<AccountRecord>> {
        let now = self.now();
        let accounts = match target {
            Target::Document(number) => {
                let account = self
                    .store()
                    .account_by_document(number)
                    .await?
                    .filter(|a| a.is_usable(now))
                    .ok_or_else(|| {
                        ServiceError::NotFound(format!(
                            "no active account with document number {number}"
                        ))
                    })?;
                if !level_satisfies(&account.level, level) {
                    return Err(ServiceError::NotFound(format!(
                        "account {number} is not of level {}",
                        level.name()
                    )));
                }
                vec![account]
            }
            Target::Person(person) => {
                let (usable, _) = self.usable_accounts_of(person).await?;
                if usable.is_empty() {
                    return Err(ServiceError::NotFound(format!(
                        "{person} has no active account"
                    )));
                }
                let suitable: Vec<_> = usable
                    .into_iter()
                    .filter(|a| level_satisfies(&a.level, level))
                    .collect();
                if suitable.is_empty() {
                    return Err(ServiceError::NoSuitableAccount(format!(
                        "{person} has no account of level {}",
                        level.name()
                    )));
                }
                suitable
            }
            // No API starts these yet: the phone that claims one names the account.
            Target::Anonymous => Vec::new(),
        };
        Ok(accounts)
    }

    /// The status of a session for its relying party, waiting up to `timeout` for it to
    /// complete. Sessions of other relying parties, and completed ones older than the TTL,
    /// are not found.
    pub async fn session_status(
        &self,
        rp_uuid: Uuid,
        id: Uuid,
        timeout: StdDuration,
    ) -> ServiceResult<Progress> {
        self.await_session(id, timeout, |session| {
            std::future::ready(if session.rp_uuid == rp_uuid {
                Ok(())
            } else {
                Err(session_not_found(id))
            })
        })
        .await
    }

    /// The status of a session for whoever `authorise` lets see it (it judges the first read;
    /// a session's relying party never changes), waiting up to `timeout` for it to complete.
    /// Completed sessions older than the TTL are not found.
    pub async fn await_session<F, Fut>(
        &self,
        id: Uuid,
        timeout: StdDuration,
        authorise: F,
    ) -> ServiceResult<Progress>
    where
        F: FnOnce(&SessionRecord) -> Fut,
        Fut: std::future::Future<Output = ServiceResult<()>>,
    {
        let _waiting = waiters::LongPoll::start();
        let deadline = tokio::time::Instant::now() + timeout;
        let notify = self.waiters().session(id);
        let mut authorise = Some(authorise);
        loop {
            // Listening before reading: a completion in between still wakes this poll.
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let session = self.readable_session(id).await?;
            if let Some(authorise) = authorise.take() {
                authorise(&session).await?;
            }
            if let Some(outcome) = self.outcome(&session).await? {
                return Ok(Progress::Complete(outcome));
            }
            let until_timeout = (session.deadline - self.now()).max(time::Duration::ZERO);
            let wake_for_timeout = tokio::time::Instant::now()
                + StdDuration::try_from(until_timeout).unwrap_or_default();
            tokio::select! {
                _ = &mut notified => continue,
                _ = tokio::time::sleep_until(wake_for_timeout.min(deadline)) => {
                    if tokio::time::Instant::now() >= deadline {
                        return Ok(Progress::Running);
                    }
                }
            }
        }
    }

    async fn readable_session(&self, id: Uuid) -> ServiceResult<SessionRecord> {
        let session = self
            .store()
            .session(id)
            .await?
            .ok_or_else(|| session_not_found(id))?;
        let expired = session
            .completed_at
            .is_some_and(|done| done + self.config().completed_session_ttl < self.now());
        if expired {
            Err(session_not_found(id))
        } else {
            Ok(session)
        }
    }

    /// How a session ended, completing it with TIMEOUT first if its time is up.
    async fn outcome(&self, session: &SessionRecord) -> ServiceResult<Option<Outcome>> {
        if session.state == SessionState::Running && session.deadline <= self.now() {
            self.finish(session.id, &Outcome::ended(EndResult::Timeout), None)
                .await?;
            let reread = self.store().session(session.id).await?;
            return reread
                .and_then(|s| s.result)
                .map(serde_json::from_value)
                .transpose()
                .map_err(ServiceError::internal);
        }
        session
            .result
            .clone()
            .map(serde_json::from_value)
            .transpose()
            .map_err(ServiceError::internal)
    }

    /// Completes every running session whose time is up (run periodically, so devices stop
    /// showing them and billing counts them even if nobody polls).
    pub async fn expire_overdue_sessions(&self) -> ServiceResult<usize> {
        let overdue = self.store().overdue_sessions(self.now()).await?;
        for id in &overdue {
            self.finish(*id, &Outcome::ended(EndResult::Timeout), None)
                .await?;
        }
        Ok(overdue.len())
    }

    /// Takes a session away from one device (its account closed or its key locked); when no
    /// other device can answer it, it ends with DOCUMENT_UNUSABLE.
    pub(crate) async fn withdraw_device(&self, session: Uuid, account: Uuid) -> ServiceResult<()> {
        let others_remain = self.store().withdraw_target(session, account).await?;
        self.announce(&[Event::AccountChanged(account)]).await;
        if !others_remain {
            self.finish(session, &Outcome::ended(EndResult::DocumentUnusable), None)
                .await?;
        }
        Ok(())
    }

    /// Completes a session (if still running) and wakes its waiters and its devices.
    pub(crate) async fn finish(
        &self,
        id: Uuid,
        outcome: &Outcome,
        answered_by: Option<Uuid>,
    ) -> ServiceResult<bool> {
        let session = self
            .store()
            .session(id)
            .await?
            .ok_or_else(|| ServiceError::internal(format!("no session {id}")))?;
        let answered_by = match answered_by {
            Some(account) => self.store().account(account).await?,
            None => None,
        };
        self.complete(&session, outcome, Answer::by(answered_by.as_ref()))
            .await
    }

    /// [`finish`](Self::finish) with the records in hand; what the answer carries (a right
    /// PIN's reset, the app channel's move) is written in the same commit.
    pub(crate) async fn complete(
        &self,
        session: &SessionRecord,
        outcome: &Outcome,
        answer: Answer<'_>,
    ) -> ServiceResult<bool> {
        let answered_by = answer.by;
        let end_result = outcome.end_result;
        let result = serde_json::to_value(outcome).map_err(ServiceError::internal)?;
        let audit = self
            .session_audit(session, &end_result, answered_by)
            .await?;
        let still_asked = self
            .store()
            .complete_session(&SessionCompletion {
                session_id: session.id,
                result: &result,
                end_result: &end_result.to_string(),
                answered_by: answered_by.map(|account| account.id),
                now: self.now(),
                audit: &audit,
                right_pin: answer.right_pin,
                channel: answer.channel,
            })
            .await?;
        let Some(still_asked) = still_asked else {
            return Ok(false);
        };
        tracing::info!(session = %session.id, result = %end_result, "session completed");
        metrics::counter!(
            "splitid_sessions_completed_total",
            "kind" => audit.kind.as_str(),
            "result" => end_result.to_string(),
        )
        .increment(1);
        let events: Vec<_> = std::iter::once(Event::SessionCompleted(session.id))
            .chain(still_asked.into_iter().map(Event::AccountChanged))
            .collect();
        self.announce(&events).await;
        Ok(true)
    }

    /// The audit record of a session's completion: the relying party, and the account that
    /// answered, or the only one asked.
    async fn session_audit(
        &self,
        session: &SessionRecord,
        end_result: &EndResult,
        answered_by: Option<&AccountRecord>,
    ) -> ServiceResult<AuditEvent> {
        let mut event = AuditEvent::new(
            AuditKind::of_session(session.kind),
            format!("rp:{}", session.rp_uuid),
            self.now(),
        )
        .relying_party(session.rp_uuid)
        .session(session.id)
        .details(serde_json::json!({ "endResult": end_result.to_string() }));
        let only_asked = match answered_by {
            Some(_) => None,
            None => match self.store().session_target_accounts(session.id).await?[..] {
                [only] => self.store().account(only).await?,
                _ => None,
            },
        };
        if let Some(account) = answered_by.or(only_asked.as_ref()) {
            event = event.account(account);
        }
        Ok(event)
    }

    pub(crate) async fn certificate_choice_result(
        &self,
        account: &AccountRecord,
        spec: &SessionSpec,
    ) -> ServiceResult<Outcome> {
        let key = self.key(account.id, KeyPurpose::Signing).await?;
        Ok(Outcome {
            end_result: EndResult::Ok,
            document_number: Some(account.document_number.clone()),
            signature: None,
            certificate: Some(Certificate {
                der: key.certificate,
                level: account_level(account),
            }),
            interaction_used: None,
            ignored_properties: spec.ignored_properties.clone(),
            flow: spec.flow,
            device_ip_address: None,
        })
    }

    /// One account's signing certificate, at once and without asking the person (RP API v3's
    /// certificate lookup): `None` when the account cannot sign now (its PIN2 is locked).
    pub async fn signing_certificate(
        &self,
        document_number: &str,
        level: Level,
    ) -> ServiceResult<Option<Certificate>> {
        let target = Target::Document(document_number.to_owned());
        let accounts = self.suitable_accounts(&target, level).await?;
        let Some(account) = accounts.first() else {
            return Ok(None);
        };
        let key = self.key(account.id, KeyPurpose::Signing).await?;
        if !matches!(self.pin_state(&key), PinState::Usable { .. }) {
            return Ok(None);
        }
        Ok(Some(Certificate {
            der: key.certificate,
            level: account_level(account),
        }))
    }

    /// A verification code drawn from the OS's randomness (the small bias of `% 10000` over
    /// 16 bits is below 0.1 % and tells nothing about any secret).
    fn random_code(&self) -> ServiceResult<VerificationCode> {
        let mut random = [0u8; 2];
        self.keys().random(&mut random)?;
        Ok(VerificationCode::new(u16::from_be_bytes(random) % 10_000).expect("below 10000"))
    }

    /// ACSP_V2's `serverRandom`: fresh for every session, standard base64.
    fn server_random(&self) -> ServiceResult<String> {
        let mut random = [0u8; SERVER_RANDOM_BYTES];
        self.keys().random(&mut random)?;
        Ok(BASE64.encode(random))
    }

    /// Three distinct codes, one of them right, in random order.
    fn code_choices(&self, right: VerificationCode) -> ServiceResult<Vec<String>> {
        let mut codes = vec![right];
        while codes.len() < 3 {
            let candidate = self.random_code()?;
            if !codes.contains(&candidate) {
                codes.push(candidate);
            }
        }
        let mut position = [0u8; 1];
        self.keys().random(&mut position)?;
        codes.swap(0, usize::from(position[0]) % 3);
        Ok(codes.iter().map(ToString::to_string).collect())
    }
}

/// What a certificate choice asks, as stored with it.
fn choice_spec(request: &CertificateChoiceRequest) -> SessionSpec {
    SessionSpec {
        relying_party_name: request.relying_party_name.clone(),
        level: request.level,
        protocol: None,
        interaction: None,
        verification_code: None,
        code_choices: Vec::new(),
        ignored_properties: request.ignored_properties.clone(),
        code_drawn: false,
        bound: request.initial_callback_url.as_ref().map(|url| BoundTexts {
            interactions: String::new(),
            initial_callback_url: Some(url.clone()),
        }),
        flow: request.flow,
        server_random: None,
        link: None,
        callback_url: None,
        linked_session: None,
        share_device_ip: request.share_device_ip,
    }
}

fn session_not_found(id: Uuid) -> ServiceError {
    ServiceError::NotFound(format!("no session {id}"))
}

/// The outcome of a successful authentication or signature.
pub(crate) fn signed_outcome(
    account: &AccountRecord,
    certificate: &[u8],
    spec: &SessionSpec,
    signature: &[u8],
    user_challenge: Option<String>,
) -> ServiceResult<Outcome> {
    let protocol = spec
        .protocol
        .as_ref()
        .ok_or_else(|| ServiceError::internal("a signature without a protocol"))?;
    Ok(Outcome {
        end_result: EndResult::Ok,
        document_number: Some(account.document_number.clone()),
        signature: Some(Signature {
            value: signature.to_vec(),
            algorithm: protocol.algorithm(),
            server_random: spec.server_random.clone(),
            user_challenge,
        }),
        certificate: Some(Certificate {
            der: certificate.to_vec(),
            level: account_level(account),
        }),
        interaction_used: spec.interaction.as_ref().map(|i| i.kind),
        ignored_properties: spec.ignored_properties.clone(),
        flow: spec.flow,
        device_ip_address: None,
    })
}

fn request_fingerprint_parts(request: &SigningRequest) -> serde_json::Value {
    serde_json::json!({
        "name": request.relying_party_name,
        "level": request.level,
        "protocol": request.protocol,
        "interactions": request.interactions,
        "nonce": request.nonce,
        "bound": request.bound,
        "flow": request.flow,
        "shareDeviceIp": request.share_device_ip,
    })
}

/// A digest of everything that makes two requests "identical".
fn fingerprint(
    rp_uuid: Uuid,
    kind: SessionKind,
    target: &Target,
    parts: &serde_json::Value,
) -> String {
    let text = serde_json::json!({ "rp": rp_uuid, "kind": kind.as_str(), "target": target, "parts": parts }).to_string();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    BASE64.encode(digest.as_ref())
}

/// Whether a time is in the past.
pub(crate) fn is_past(t: OffsetDateTime, now: OffsetDateTime) -> bool {
    t <= now
}
