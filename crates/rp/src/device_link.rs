//! RP API v3's device links on the relying party's side (docs/spec/rp-api.md §2.5, §2.9):
//! start a session a phone opens by QR code, Web2App or App2App link; build each link in the
//! backend (a QR code's anew every second, `elapsedSeconds` counted from the answer); render
//! the QR code (SVG, PNG; error correction L); check the callback the phone returns with.
//!
//! The session secret stays here: it keys the authCode and proves the callback. A
//! [`PendingV3`] with a link serialises with the secret for a shared session store; keep that
//! store as you keep other secrets.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use qrcode::{Color, EcLevel, QrCode};
use splitid_proto::rp_v2::{CertificateLevel, CommonBody, Interaction};
use splitid_proto::rp_v3::device_link::{
    AuthCode, DeviceLink, DeviceLinkType, LinkContext, SessionType, session_secret_digest,
    user_challenge,
};
use splitid_proto::rp_v3::interactions::Interactions;
use splitid_proto::rp_v3::requests::{ACSP_V2, RAW_DIGEST_SIGNATURE, RequestBody};
use splitid_proto::rp_v3::responses::{DeviceLinkSessionCreated, NotificationSessionCreated};
use splitid_proto::rp_v3::{FlowType, SessionTexts};

use crate::client::{RpClient, SessionKind, Target};
use crate::error::{RpError, RpResult};
use crate::signable::SignableData;
use crate::v3::{LOGIN_HASH, PendingV3, hash_algorithm, pss_parameters};

/// The language of the page a link opens where no app takes it (ISO 639-2).
const LANG: &str = "eng";
/// Pixels per QR module in a PNG: with the 4-module quiet zone, about 600 pixels a side for
/// a link's usual size (the Java client's 610×610).
const PNG_MODULE_PIXELS: usize = 10;
const QUIET_ZONE_MODULES: usize = 4;

/// A device-link session's answer, as the backend keeps it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LinkSession {
    pub session_token: String,
    /// Standard base64; never to the browser.
    session_secret: String,
    pub device_link_base: String,
    /// When the answer arrived (milliseconds since 1970): `elapsedSeconds` counts from it.
    received_at_ms: u64,
    /// Where Web2App and App2App links return (none: QR codes only).
    pub callback_url: Option<String>,
}

/// What a Web2App or App2App callback proved: for a login, the verifier of the signed
/// `userChallenge`, which [`RpClient::wait_v3_returned`] checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Returned {
    pub user_challenge_verifier: Option<String>,
}

fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

impl LinkSession {
    fn secret(&self) -> RpResult<Vec<u8>> {
        BASE64
            .decode(&self.session_secret)
            .map_err(|_| RpError::InvalidResponse("sessionSecret is not base64".into()))
    }

    /// The flows a phone may report for this session: QR always, the same-device ones only
    /// with a callback to return to.
    pub(crate) fn offers(&self, flow: FlowType) -> bool {
        match flow {
            FlowType::Qr => true,
            FlowType::Web2App | FlowType::App2App => self.callback_url.is_some(),
            FlowType::Notification => false,
        }
    }
}

fn session_type(kind: SessionKind) -> SessionType {
    match kind {
        SessionKind::Authentication => SessionType::Authentication,
        SessionKind::Signature => SessionType::Signature,
        SessionKind::CertificateChoice => SessionType::CertificateChoice,
    }
}

impl RpClient {
    /// Starts a login that a phone opens by device link (anonymous when `target` is
    /// `None`), with a fresh 64-byte rpChallenge (ACSP_V2, RSASSA-PSS with SHA-512).
    /// `callback_url` (https) is where Web2App and App2App links return.
    pub async fn start_device_link_authentication(
        &self,
        target: Option<&Target>,
        level: CertificateLevel,
        interactions: &[Interaction],
        callback_url: Option<&str>,
    ) -> RpResult<PendingV3> {
        let challenge = SignableData::random_challenge()?;
        let rp_challenge = BASE64.encode(challenge.data());
        let sent = Interactions::encode(interactions);
        let parameters = splitid_proto::rp_v3::requests::ProtocolParametersBody {
            rp_challenge: Some(rp_challenge.clone()),
            ..pss_parameters(LOGIN_HASH)
        };
        let mut body = self.v3_body(level, ACSP_V2, parameters, &sent);
        body.initial_callback_url = callback_url.map(str::to_owned);
        let path = match target {
            Some(target) => target.path("authentication/device-link"),
            None => "/authentication/device-link/anonymous".to_owned(),
        };
        let link = self.start_link(&path, &body, callback_url).await?;
        Ok(PendingV3::linked(
            SessionKind::Authentication,
            level,
            sent,
            Some(rp_challenge),
            None,
            link,
        ))
    }

    /// Starts a signature over `data` that a phone opens by device link (RAW_DIGEST_SIGNATURE,
    /// RSASSA-PSS with its hash).
    pub async fn start_device_link_signature(
        &self,
        target: &Target,
        level: CertificateLevel,
        data: SignableData,
        interactions: &[Interaction],
        callback_url: Option<&str>,
    ) -> RpResult<PendingV3> {
        let sent = Interactions::encode(interactions);
        let parameters = splitid_proto::rp_v3::requests::ProtocolParametersBody {
            digest: Some(BASE64.encode(data.hash())),
            ..pss_parameters(hash_algorithm(data.hash_type()))
        };
        let mut body = self.v3_body(level, RAW_DIGEST_SIGNATURE, parameters, &sent);
        body.initial_callback_url = callback_url.map(str::to_owned);
        let link = self
            .start_link(&target.path("signature/device-link"), &body, callback_url)
            .await?;
        Ok(PendingV3::linked(
            SessionKind::Signature,
            level,
            sent,
            None,
            Some(data),
            link,
        ))
    }

    /// Starts an anonymous certificate choice by device link; a signature linked to it
    /// follows with [`start_linked_signature`](Self::start_linked_signature).
    pub async fn start_device_link_certificate_choice(
        &self,
        level: CertificateLevel,
        callback_url: Option<&str>,
    ) -> RpResult<PendingV3> {
        let body = RequestBody {
            common: CommonBody {
                relying_party_uuid: Some(self.config().relying_party_uuid.clone()),
                relying_party_name: Some(self.config().relying_party_name.clone()),
                certificate_level: Some(level.api_name().to_owned()),
                ..CommonBody::default()
            },
            initial_callback_url: callback_url.map(str::to_owned),
            ..RequestBody::default()
        };
        let link = self
            .start_link(
                "/signature/certificate-choice/device-link/anonymous",
                &body,
                callback_url,
            )
            .await?;
        Ok(PendingV3::linked(
            SessionKind::CertificateChoice,
            level,
            String::new(),
            None,
            None,
            link,
        ))
    }

    /// Starts the signature that follows a device-link certificate choice, on the document
    /// it chose; it reports the choice's flow and returns to its callback.
    pub async fn start_linked_signature(
        &self,
        choice: &PendingV3,
        document_number: &str,
        data: SignableData,
        interactions: &[Interaction],
    ) -> RpResult<PendingV3> {
        let link = choice
            .link
            .clone()
            .filter(|_| choice.kind == SessionKind::CertificateChoice)
            .ok_or_else(|| {
                RpError::Usage("a linked signature follows a device-link certificate choice".into())
            })?;
        let sent = Interactions::encode(interactions);
        let parameters = splitid_proto::rp_v3::requests::ProtocolParametersBody {
            digest: Some(BASE64.encode(data.hash())),
            ..pss_parameters(hash_algorithm(data.hash_type()))
        };
        let mut body = self.v3_body(choice.level, RAW_DIGEST_SIGNATURE, parameters, &sent);
        body.linked_session_id = Some(choice.session_id.clone());
        let created: NotificationSessionCreated = self
            .start_v3(
                &format!("/signature/notification/linked/{document_number}"),
                &body,
            )
            .await?;
        Ok(PendingV3::linked(
            SessionKind::Signature,
            choice.level,
            sent,
            None,
            Some(data),
            (created.session_id, link),
        ))
    }

    async fn start_link(
        &self,
        path: &str,
        body: &RequestBody,
        callback_url: Option<&str>,
    ) -> RpResult<(String, LinkSession)> {
        let created: DeviceLinkSessionCreated = self.start_v3(path, body).await?;
        let link = LinkSession {
            session_token: created.session_token,
            session_secret: created.session_secret,
            device_link_base: created.device_link_base,
            received_at_ms: millis(SystemTime::now()),
            callback_url: callback_url.map(str::to_owned),
        };
        link.secret()?;
        Ok((created.session_id, link))
    }

    /// The QR code's link at `at`: `elapsedSeconds` since the session's answer arrived.
    /// Build it anew every second, in the backend, and never ahead of time.
    pub fn qr_link(&self, pending: &PendingV3, at: SystemTime) -> RpResult<String> {
        let link = pending_link(pending)?;
        let elapsed = millis(at).saturating_sub(link.received_at_ms) / 1000;
        self.protected_link(pending, DeviceLinkType::Qr, Some(elapsed))
    }

    /// The Web2App (a page in the phone's browser) or App2App (another app) link, which
    /// returns to the session's callback.
    pub fn same_device_link(
        &self,
        pending: &PendingV3,
        link_type: DeviceLinkType,
    ) -> RpResult<String> {
        if link_type == DeviceLinkType::Qr {
            return Err(RpError::Usage("a QR code's link is qr_link's".into()));
        }
        if pending_link(pending)?.callback_url.is_none() {
            return Err(RpError::Usage(
                "a same-device link needs the session's callback URL".into(),
            ));
        }
        self.protected_link(pending, link_type, None)
    }

    fn protected_link(
        &self,
        pending: &PendingV3,
        link_type: DeviceLinkType,
        elapsed_seconds: Option<u64>,
    ) -> RpResult<String> {
        let link = pending_link(pending)?;
        let unprotected = DeviceLink {
            base: link.device_link_base.clone(),
            link_type,
            elapsed_seconds,
            session_token: link.session_token.clone(),
            session_type: session_type(pending.kind),
            lang: LANG.to_owned(),
        };
        let (protocol, challenge) = pending.challenge_text();
        let callback = match link_type {
            DeviceLinkType::Qr => "",
            DeviceLinkType::Web2App | DeviceLinkType::App2App => {
                link.callback_url.as_deref().unwrap_or_default()
            }
        };
        let context = LinkContext {
            session: SessionTexts {
                scheme_name: &self.config().scheme_name,
                relying_party_name: &self.config().relying_party_name,
                brokered_rp_name: "",
                interactions: pending.interactions_text(),
                initial_callback_url: callback,
            },
            signature_protocol: protocol,
            challenge: &challenge,
        };
        let code = AuthCode::compute(&link.secret()?, &context, &unprotected);
        Ok(unprotected.protect(&code))
    }

    /// Checks the callback a Web2App or App2App flow returned with (`received`, the whole
    /// URL): it must be the session's callback with the digest of this session's secret, and
    /// for a login the verifier of the `userChallenge` the phone signed. Check it before the
    /// session's result, and accept each callback once.
    pub fn verify_callback(&self, pending: &PendingV3, received: &str) -> RpResult<Returned> {
        check_callback(pending_link(pending)?, pending.kind, received)
    }
}

/// [`RpClient::verify_callback`] of a session of `kind` with this link.
fn check_callback(link: &LinkSession, kind: SessionKind, received: &str) -> RpResult<Returned> {
    let invalid = |what: &str| RpError::InvalidResponse(format!("callback: {what}"));
    let initial = link
        .callback_url
        .as_deref()
        .ok_or_else(|| invalid("this session has no callback"))?;
    let separator = if initial.contains('?') { '&' } else { '?' };
    let rest = received
        .strip_prefix(initial)
        .and_then(|rest| rest.strip_prefix(separator))
        .and_then(|rest| rest.strip_prefix("sessionSecretDigest="))
        .ok_or_else(|| invalid("not this session's callback URL"))?;
    let (digest, verifier) = match rest.split_once("&userChallengeVerifier=") {
        Some((digest, verifier)) => (digest, Some(verifier)),
        None => (rest, None),
    };
    let expected = session_secret_digest(&link.secret()?);
    if aws_lc_rs::constant_time::verify_slices_are_equal(digest.as_bytes(), expected.as_bytes())
        .is_err()
    {
        return Err(invalid("sessionSecretDigest is not this session's"));
    }
    let login = kind == SessionKind::Authentication;
    match (login, verifier) {
        (true, Some(verifier)) if !verifier.is_empty() && !verifier.contains('&') => Ok(Returned {
            user_challenge_verifier: Some(verifier.to_owned()),
        }),
        (true, _) => Err(invalid("a login's callback without userChallengeVerifier")),
        (false, None) => Ok(Returned {
            user_challenge_verifier: None,
        }),
        (false, Some(_)) => Err(invalid("userChallengeVerifier belongs to logins only")),
    }
}

fn pending_link(pending: &PendingV3) -> RpResult<&LinkSession> {
    pending
        .link
        .as_ref()
        .ok_or_else(|| RpError::Usage("not a device-link session".into()))
}

/// Whether `verifier` is what the signed `userChallenge` commits to.
pub(crate) fn verifier_matches(verifier: &str, signed_user_challenge: &str) -> bool {
    user_challenge(verifier) == signed_user_challenge
}

/// The QR code of `link` (error correction L, as the spec recommends).
fn qr_code(link: &str) -> RpResult<QrCode> {
    QrCode::with_error_correction_level(link.as_bytes(), EcLevel::L)
        .map_err(|e| RpError::Usage(format!("the link does not fit a QR code: {e}")))
}

/// The QR code of `link` as an SVG document (black on white, 4-module quiet zone).
pub fn qr_svg(link: &str) -> RpResult<String> {
    Ok(qr_code(link)?
        .render::<qrcode::render::svg::Color>()
        .quiet_zone(true)
        .min_dimensions(240, 240)
        .build())
}

/// The QR code of `link` as a greyscale PNG, 10 pixels a module with a 4-module quiet zone.
pub fn qr_png(link: &str) -> RpResult<Vec<u8>> {
    let code = qr_code(link)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE_MODULES) * PNG_MODULE_PIXELS;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (row, column) = (index / modules, index % modules);
        let top = (row + QUIET_ZONE_MODULES) * PNG_MODULE_PIXELS;
        let left = (column + QUIET_ZONE_MODULES) * PNG_MODULE_PIXELS;
        for y in top..top + PNG_MODULE_PIXELS {
            pixels[y * side + left..y * side + left + PNG_MODULE_PIXELS].fill(0);
        }
    }
    let mut png = Vec::new();
    let side = u32::try_from(side).map_err(|_| RpError::Usage("QR code too large".into()))?;
    let mut encoder = png::Encoder::new(&mut png, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let encoding = |e: png::EncodingError| RpError::Usage(format!("PNG encoding: {e}"));
    let mut writer = encoder.write_header().map_err(encoding)?;
    writer.write_image_data(&pixels).map_err(encoding)?;
    writer.finish().map_err(encoding)?;
    Ok(png)
}

/// How often a QR code's link must be rebuilt.
pub const QR_REFRESH: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;

    /// SK's example (docs/spec/rp-api.md §2.9): the callback of a Web2App login with the
    /// example session secret, and the userChallenge its verifier commits to.
    #[test]
    fn sks_callback_example_verifies_and_its_verifier_matches_the_user_challenge() {
        let link = LinkSession {
            session_token: "wGIrqveE6AuGDATZKmR1mtAZ".into(),
            session_secret: "B98ODiVCebRedSwdTk51zFSaGYyHtY1H2A0ocAi3/Ps=".into(),
            device_link_base: "https://smart-id.com/device-link".into(),
            received_at_ms: 0,
            callback_url: Some(
                "https://rp.example.com/callback-url?value=RrKjjT4aggzu27YBddX1bQ".into(),
            ),
        };
        let received = "https://rp.example.com/callback-url?value=RrKjjT4aggzu27YBddX1bQ\
            &sessionSecretDigest=U4CKK13H1XFiyBofev9asqrzIrY5_Gszi_nL_zDKkBc\
            &userChallengeVerifier=XtPfaGa8JnGtYrJjboooUf0KfY9sMEHrWFpSQrsUv9c";
        let returned = check_callback(&link, SessionKind::Authentication, received).unwrap();
        let verifier = returned.user_challenge_verifier.unwrap();
        assert_eq!(verifier, "XtPfaGa8JnGtYrJjboooUf0KfY9sMEHrWFpSQrsUv9c");
        assert!(verifier_matches(
            &verifier,
            "GnsWXXEjTCKR89fj9uo5u5ReBZ9JR7_pezLAI5jMS00"
        ));
        assert!(!verifier_matches(
            &verifier,
            "GnsWXXEjTCKR89fj9uo5u5ReBZ9JR7_pezLAI5jMS01"
        ));
        // Another secret's digest, and a signature's callback with a verifier, are refused.
        let other = received.replace("U4CKK", "U4CKL");
        assert!(check_callback(&link, SessionKind::Authentication, &other).is_err());
        assert!(check_callback(&link, SessionKind::Signature, received).is_err());
    }

    #[test]
    fn a_qr_png_reads_back_as_its_link() {
        let link = "https://id.example/device-link?deviceLinkType=QR&elapsedSeconds=3";
        let png = qr_png(link).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(frame.width, frame.height);
        // Dark modules, a light quiet zone.
        assert!(pixels.contains(&0));
        assert!(
            pixels[..frame.width as usize * QUIET_ZONE_MODULES * PNG_MODULE_PIXELS]
                .iter()
                .all(|&p| p == 255)
        );
    }
}
