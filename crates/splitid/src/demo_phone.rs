//! The demo's phone that answers by itself (`serve --demo`, unless `--demo-phone=false`): test
//! identities like SK's demo's, each with a chosen answer, so that an e-service developer can
//! reach every branch of their code without a phone, through RP API v2 and v3 alike.
//!
//! It is the real app (`splitid_app`, its vault in the data directory's `demo-phone`),
//! registered with self-asserted identities at the first start and then listening for
//! transactions: the service cannot tell it from a person's phone, and its OK answers carry
//! real signatures. Notification flows only (a device link needs a phone that sees the code).

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use splitid_app::flows::{Pending, Registration};
use splitid_app::{App, AppError};
use splitid_proto::VerificationCode;
use splitid_proto::app_v1::{CodeOrigin, Proofing, TransactionKind};
use splitkey::{HalfSize, KdfParams, Pin};

/// What a test identity's phone does with every transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Confirms with the right PIN (choosing the right code where it follows from what is
    /// signed).
    Ok,
    /// Cancels plainly: USER_REFUSED.
    Refuse,
    /// Cancels on this screen: USER_REFUSED_INTERACTION (v2: USER_REFUSED_…).
    RefuseOn(&'static str),
    /// Chooses a wrong code (with verification-code choice): WRONG_VC.
    WrongCode,
    /// Enters wrong PINs until the key locks: DOCUMENT_UNUSABLE.
    WrongPins,
    /// Never answers: TIMEOUT.
    Ignore,
}

/// SK's demo's Estonian test identities for notification flows (docs/spec/rp-api.md §3), and
/// one of ours for DOCUMENT_UNUSABLE. Their document numbers are this service's own.
const IDENTITIES: [(&str, &str, Answer); 9] = [
    ("PNOEE-40504040001", "OK", Answer::Ok),
    ("PNOEE-30403039917", "USER-REFUSED", Answer::Refuse),
    (
        "PNOEE-30403039928",
        "REFUSED-DISPLAYTEXTANDPIN",
        Answer::RefuseOn("displayTextAndPIN"),
    ),
    (
        "PNOEE-30403039939",
        "REFUSED-VC-CHOICE",
        Answer::RefuseOn("verificationCodeChoice"),
    ),
    (
        "PNOEE-30403039946",
        "REFUSED-CONFIRMATIONMESSAGE",
        Answer::RefuseOn("confirmationMessage"),
    ),
    (
        "PNOEE-30403039950",
        "REFUSED-CONFIRMATION-VC-CHOICE",
        Answer::RefuseOn("confirmationMessageAndVerificationCodeChoice"),
    ),
    ("PNOEE-30403039972", "WRONG-VC", Answer::WrongCode),
    ("PNOEE-30403039983", "TIMEOUT", Answer::Ignore),
    ("PNOEE-30403039994", "DOCUMENT-UNUSABLE", Answer::WrongPins),
];

const PIN1: &str = "1234";
const PIN2: &str = "12345";
const WRONG_PIN1: &str = "9999";
const WRONG_PIN2: &str = "99999";

fn pin(text: &str) -> Pin {
    Pin::new(text).expect("a demo PIN is digits")
}

/// The identity of an account: its document number without the last two parts.
fn identity_of(document_number: &str) -> &str {
    let mut parts = document_number.rsplitn(3, '-');
    parts.nth(2).unwrap_or(document_number)
}

fn answer_of(document_number: &str) -> Option<Answer> {
    let identity = identity_of(document_number);
    IDENTITIES
        .iter()
        .find(|(id, _, _)| *id == identity)
        .map(|(_, _, answer)| *answer)
}

/// Starts the demo phone in the background: registers what is missing, then answers.
pub fn spawn(server: String, data_dir: &Path, half: HalfSize) {
    let home = data_dir.join("demo-phone");
    tokio::spawn(async move {
        let app = App::open(&home);
        if let Err(error) = register_missing(&app, &server, half).await {
            tracing::warn!(%error, "the demo phone could not register its test identities");
            return;
        }
        tracing::info!("the demo phone answers for its test identities");
        loop {
            match app.pending(Duration::from_secs(30)).await {
                Ok(pending) => {
                    for transaction in pending {
                        if let Err(error) = respond(&app, &transaction).await {
                            tracing::warn!(%error, "the demo phone could not answer");
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "the demo phone cannot reach the service");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
    });
}

async fn register_missing(app: &App, server: &str, half: HalfSize) -> Result<(), AppError> {
    let registered: Vec<String> = app
        .accounts()
        .await?
        .into_iter()
        .map(|account| identity_of(&account.document_number).to_owned())
        .collect();
    for (identity, surname, _) in IDENTITIES {
        if registered.iter().any(|known| known == identity) {
            continue;
        }
        let registration = Registration {
            server: server.to_owned(),
            proofing: Proofing::Demo {
                semantics_identifier: identity.to_owned(),
                given_name: "DEMO".to_owned(),
                surname: surname.to_owned(),
            },
            half,
            kdf: KdfParams::RECOMMENDED,
            supported_interactions: None,
            server_key_fingerprint: None,
        };
        app.register(registration, &pin(PIN1), &pin(PIN2)).await?;
    }
    Ok(())
}

/// The code a phone that follows the rules would choose: the one of what it signs, when
/// that is where the code comes from.
fn right_code(pending: &Pending) -> Option<String> {
    let transaction = &pending.transaction;
    let source = match (
        transaction.code_origin,
        &transaction.acsp,
        &transaction.hash,
    ) {
        (Some(CodeOrigin::Service), _, _) => return None,
        (_, Some(acsp), _) => BASE64.decode(&acsp.rp_challenge).ok()?,
        (_, None, Some(hash)) => BASE64.decode(hash).ok()?,
        (_, None, None) => return None,
    };
    Some(VerificationCode::from_hash(&source).to_string())
}

async fn respond(app: &App, pending: &Pending) -> Result<(), AppError> {
    let Some(answer) = answer_of(&pending.account.document_number) else {
        return Ok(());
    };
    let transaction = &pending.transaction;
    let (right, wrong) = match transaction.kind {
        TransactionKind::Authentication => (PIN1, WRONG_PIN1),
        TransactionKind::Signature | TransactionKind::CertificateChoice => (PIN2, WRONG_PIN2),
    };
    let needs_pin = transaction.kind != TransactionKind::CertificateChoice;
    let choices = &transaction.code_choices;
    match answer {
        Answer::Ignore => Ok(()),
        Answer::Refuse => app.refuse(pending, None).await.map(drop),
        Answer::RefuseOn(screen) => {
            let shown =
                transaction.interaction.as_deref() == Some(screen) || screen == "displayTextAndPIN";
            let screen = shown.then(|| screen.to_owned());
            app.refuse(pending, screen).await.map(drop)
        }
        Answer::Ok => {
            let chosen = (!choices.is_empty())
                .then(|| right_code(pending).unwrap_or_else(|| choices[0].clone()));
            let pin = needs_pin.then(|| self::pin(right));
            app.confirm(pending, pin.as_ref(), chosen).await.map(drop)
        }
        Answer::WrongCode => {
            let correct = right_code(pending);
            let chosen = choices
                .iter()
                .find(|code| Some(*code) != correct.as_ref())
                .cloned();
            let pin = needs_pin.then(|| self::pin(right));
            app.confirm(pending, pin.as_ref(), chosen).await.map(drop)
        }
        Answer::WrongPins => {
            let chosen = (!choices.is_empty())
                .then(|| right_code(pending).unwrap_or_else(|| choices[0].clone()));
            let wrong = self::pin(wrong);
            // Each wrong PIN is judged by the service; the third locks the key, and the
            // session ends DOCUMENT_UNUSABLE.
            for _ in 0..3 {
                let outcome = app.confirm(pending, Some(&wrong), chosen.clone()).await?;
                if !matches!(
                    outcome,
                    splitid_proto::app_v1::TransactionOutcome::WrongPin { .. }
                ) {
                    break;
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_known_by_the_identity_in_their_document_number() {
        assert_eq!(identity_of("PNOEE-30403039917-ABCD-Q"), "PNOEE-30403039917");
        assert_eq!(answer_of("PNOEE-30403039917-ABCD-Q"), Some(Answer::Refuse));
        assert_eq!(answer_of("PNOEE-30303039914-ABCD-Q"), None);
    }
}
