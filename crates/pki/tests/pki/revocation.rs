//! Revocation status as relying parties read it: CRLs and OCSP responses parsed back with
//! x509-cert / x509-ocsp, signatures checked with aws-lc-rs against the CA certificates.
//! (The e2e test `crates/splitid/tests/service/trust_services/relying_party_checks.rs` runs openssl against the server.)

use std::sync::LazyLock;

use aws_lc_rs::digest;
use aws_lc_rs::signature::{ECDSA_P384_SHA384_ASN1, UnparsedPublicKey};
use der::asn1::{Null, ObjectIdentifier as Oid, OctetString};
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use splitid_pki::{
    CertificateAuthority, CertificateRequest, CertificateStatus, CrlTerms, Level, OcspQuery,
    Purpose, RevocationReason, RevokedCertificate, SerialNumber, oids, parse_identity,
};
use time::OffsetDateTime;
use time::macros::datetime;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlReason, ExtendedKeyUsage, KeyUsage};
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    ResponderId, TbsRequest,
};

use crate::common::{CA, test_config};

static OTHER_CA: LazyLock<CertificateAuthority> =
    LazyLock::new(|| CertificateAuthority::generate(&test_config()).expect("CA"));

/// A 4096-bit odd number: the CA certifies a modulus without factoring it.
fn modulus() -> Vec<u8> {
    let mut n = vec![0xa5u8; 512];
    n[0] = 0x80;
    n[511] |= 1;
    n
}

fn leaf(ca: &CertificateAuthority) -> Vec<u8> {
    ca.issue(&CertificateRequest {
        given_name: "MARY".into(),
        surname: "ÄNN".into(),
        semantics_identifier: "PNOEE-30303039914".into(),
        country: "EE".into(),
        document_number: "PNOEE-30303039914-ABCD-Q".into(),
        rsa_modulus: modulus(),
        purpose: Purpose::Authentication,
        level: Level::Qualified,
        not_before: OffsetDateTime::now_utc(),
        serial: None,
    })
    .unwrap()
}

fn serial(cert_der: &[u8]) -> SerialNumber {
    parse_identity(cert_der).unwrap().serial
}

fn cert(der: &[u8]) -> Certificate {
    Certificate::from_der(der).unwrap()
}

fn extension(extensions: &Option<Vec<Extension>>, oid: Oid) -> Option<&Extension> {
    extensions.as_ref()?.iter().find(|e| e.extn_id == oid)
}

fn verify_ecdsa(signer: &Certificate, message: &[u8], signature: &[u8]) -> bool {
    let key = signer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    UnparsedPublicKey::new(&ECDSA_P384_SHA384_ASN1, key)
        .verify(message, signature)
        .is_ok()
}

fn subject_key_id(certificate: &Certificate) -> Vec<u8> {
    let ext = extension(
        &certificate.tbs_certificate.extensions,
        oids::SUBJECT_KEY_IDENTIFIER,
    )
    .unwrap();
    OctetString::from_der(ext.extn_value.as_bytes())
        .unwrap()
        .as_bytes()
        .to_vec()
}

// --- CRLs ---

fn terms(number: u64) -> CrlTerms {
    CrlTerms {
        number,
        this_update: datetime!(2026-11-26 01:00:00 UTC),
        next_update: datetime!(2026-11-27 01:00:00 UTC),
    }
}

#[test]
fn the_issuing_crl_lists_each_revocation_with_date_and_reason_and_verifies() {
    let revoked = [
        RevokedCertificate {
            serial: serial(&leaf(&CA)),
            revoked_at: datetime!(2026-11-26 00:30:00.5 UTC),
            reason: RevocationReason::CessationOfOperation,
        },
        RevokedCertificate {
            serial: SerialNumber::from_be_bytes(&[0x42; 16]).unwrap(),
            revoked_at: datetime!(2026-11-25 12:00:00 UTC),
            reason: RevocationReason::KeyCompromise,
        },
    ];
    let der = CA.issuing_crl(terms(7), &revoked).unwrap();
    let crl = CertificateList::from_der(&der).unwrap();
    let issuing = cert(CA.issuing_certificate_der());

    assert!(verify_ecdsa(
        &issuing,
        &crl.tbs_cert_list.to_der().unwrap(),
        crl.signature.raw_bytes()
    ));
    let tbs = &crl.tbs_cert_list;
    assert_eq!(tbs.issuer, issuing.tbs_certificate.subject);
    assert_eq!(
        tbs.this_update.to_unix_duration().as_secs(),
        terms(7).this_update.unix_timestamp() as u64
    );
    assert!(tbs.next_update.is_some());
    let number = extension(&tbs.crl_extensions, oids::CRL_NUMBER).unwrap();
    assert_eq!(number.extn_value.as_bytes(), [0x02, 0x01, 0x07]);
    let aki = extension(&tbs.crl_extensions, oids::AUTHORITY_KEY_IDENTIFIER).unwrap();
    let aki = AuthorityKeyIdentifier::from_der(aki.extn_value.as_bytes()).unwrap();
    assert_eq!(
        aki.key_identifier.unwrap().as_bytes(),
        subject_key_id(&issuing)
    );

    let entries = tbs.revoked_certificates.as_ref().unwrap();
    assert_eq!(entries.len(), 2);
    for (entry, expected) in entries.iter().zip(&revoked) {
        assert_eq!(
            entry.serial_number.as_bytes(),
            expected.serial.as_be_bytes()
        );
        assert_eq!(
            entry.revocation_date.to_unix_duration().as_secs(),
            expected.revoked_at.unix_timestamp() as u64,
            "whole seconds"
        );
        let reason = extension(&entry.crl_entry_extensions, oids::CRL_REASON).unwrap();
        let reason = CrlReason::from_der(reason.extn_value.as_bytes()).unwrap();
        let expected = match expected.reason {
            RevocationReason::CessationOfOperation => CrlReason::CessationOfOperation,
            _ => CrlReason::KeyCompromise,
        };
        assert_eq!(reason, expected);
    }
}

#[test]
fn the_root_crl_is_empty_and_signed_by_the_root() {
    let der = CA.root_crl(terms(1)).unwrap();
    let crl = CertificateList::from_der(&der).unwrap();
    let root = cert(CA.root_certificate_der());
    assert!(verify_ecdsa(
        &root,
        &crl.tbs_cert_list.to_der().unwrap(),
        crl.signature.raw_bytes()
    ));
    assert_eq!(crl.tbs_cert_list.issuer, root.tbs_certificate.subject);
    assert!(crl.tbs_cert_list.revoked_certificates.is_none());
}

#[test]
fn a_crl_needs_next_update_after_this_update() {
    let mut bad = terms(1);
    bad.next_update = bad.this_update;
    assert!(CA.issuing_crl(bad, &[]).is_err());
}

// --- the OCSP responder certificate ---

#[test]
fn the_responder_certificate_is_a_delegated_ocsp_signer_of_the_issuing_ca() {
    let responder = cert(CA.ocsp_responder_certificate_der());
    let issuing = cert(CA.issuing_certificate_der());
    assert_eq!(
        responder.tbs_certificate.issuer,
        issuing.tbs_certificate.subject
    );
    assert!(verify_ecdsa(
        &issuing,
        &responder.tbs_certificate.to_der().unwrap(),
        responder.signature.raw_bytes()
    ));
    let extensions = &responder.tbs_certificate.extensions;
    let eku = extension(extensions, oids::AUTHORITY_KEY_IDENTIFIER).map(|_| ());
    assert!(eku.is_some(), "AKI present");
    let eku = extension(extensions, Oid::new_unwrap("2.5.29.37")).unwrap();
    let eku = ExtendedKeyUsage::from_der(eku.extn_value.as_bytes()).unwrap();
    assert_eq!(eku.0, vec![oids::KP_OCSP_SIGNING]);
    let nocheck = extension(extensions, oids::OCSP_NO_CHECK).unwrap();
    assert_eq!(nocheck.extn_value.as_bytes(), [0x05, 0x00]);
    let key_usage = extension(extensions, oids::KEY_USAGE).unwrap();
    let key_usage = KeyUsage::from_der(key_usage.extn_value.as_bytes()).unwrap();
    assert!(key_usage.digital_signature() && !key_usage.key_cert_sign());
    // A year at most (it cannot be revoked).
    let validity = &responder.tbs_certificate.validity;
    let days = (validity.not_after.to_unix_duration() - validity.not_before.to_unix_duration())
        .as_secs()
        / 86_400;
    assert!(days <= 366, "{days} days");
}

#[test]
fn stored_parts_keep_the_responder_and_parts_without_one_get_one() {
    let mut parts = CA.to_parts();
    let reloaded = CertificateAuthority::from_parts(&parts, &test_config()).unwrap();
    assert_eq!(
        reloaded.ocsp_responder_certificate_der(),
        CA.ocsp_responder_certificate_der()
    );
    parts.ocsp_responder = None;
    let upgraded = CertificateAuthority::from_parts(&parts, &test_config()).unwrap();
    assert_ne!(
        upgraded.ocsp_responder_certificate_der(),
        CA.ocsp_responder_certificate_der()
    );
    assert!(upgraded.to_parts().ocsp_responder.is_some());
}

// --- OCSP ---

const SHA1: &digest::Algorithm = &digest::SHA1_FOR_LEGACY_USE_ONLY;

/// A CertID as a client computes it from the issuer certificate (RFC 6960 §4.1.1).
fn cert_id(issuer_der: &[u8], serial: &[u8], hash: &'static digest::Algorithm) -> CertId {
    let issuer = cert(issuer_der);
    let oid = if std::ptr::eq(hash, SHA1) {
        oids::SHA1
    } else {
        oids::SHA256
    };
    let name = issuer.tbs_certificate.subject.to_der().unwrap();
    let key = issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid,
            parameters: Some(Null.into()),
        },
        issuer_name_hash: OctetString::new(digest::digest(hash, &name).as_ref()).unwrap(),
        issuer_key_hash: OctetString::new(digest::digest(hash, key).as_ref()).unwrap(),
        serial_number: x509_cert::serial_number::SerialNumber::new(serial).unwrap(),
    }
}

fn request_der(ids: Vec<CertId>, nonce: Option<&[u8]>) -> Vec<u8> {
    let request_extensions = nonce.map(|n| {
        vec![Extension {
            extn_id: oids::OCSP_NONCE,
            critical: false,
            extn_value: OctetString::new(OctetString::new(n).unwrap().to_der().unwrap()).unwrap(),
        }]
    });
    OcspRequest {
        tbs_request: TbsRequest {
            request_list: ids
                .into_iter()
                .map(|req_cert| Request {
                    req_cert,
                    single_request_extensions: None,
                })
                .collect(),
            request_extensions,
            ..Default::default()
        },
        optional_signature: None,
    }
    .to_der()
    .unwrap()
}

/// Asks `CA`, looking serials up in `statuses` (anything else is unknown), and returns the
/// verified basic response.
fn ask(request: &[u8], statuses: &[(SerialNumber, CertificateStatus)]) -> BasicOcspResponse {
    let query = OcspQuery::from_der(request).unwrap();
    let now = datetime!(2026-11-26 01:00:00 UTC);
    let der = CA
        .ocsp_response(&query, now, |serial| {
            statuses
                .iter()
                .find(|(s, _)| s == serial)
                .map_or(CertificateStatus::Unknown, |(_, status)| *status)
        })
        .unwrap();
    let response = OcspResponse::from_der(&der).unwrap();
    assert_eq!(response.response_status, OcspResponseStatus::Successful);
    let bytes = response.response_bytes.unwrap();
    assert_eq!(bytes.response_type, Oid::new_unwrap("1.3.6.1.5.5.7.48.1.1"));
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).unwrap();

    // Signed by the responder, whose certificate comes along; identified by its key hash.
    let responder = cert(CA.ocsp_responder_certificate_der());
    assert!(verify_ecdsa(
        &responder,
        &basic.tbs_response_data.to_der().unwrap(),
        basic.signature.raw_bytes()
    ));
    assert_eq!(basic.signature_algorithm.oid, oids::ECDSA_WITH_SHA384);
    let certs = basic.certs.as_ref().unwrap();
    assert_eq!(certs[0], responder);
    let key_hash = digest::digest(
        SHA1,
        responder
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes(),
    );
    assert_eq!(
        basic.tbs_response_data.responder_id,
        ResponderId::ByKey(OctetString::new(key_hash.as_ref()).unwrap())
    );
    for single in &basic.tbs_response_data.responses {
        let this = single.this_update.0.to_unix_duration().as_secs();
        let next = single.next_update.unwrap().0.to_unix_duration().as_secs();
        assert_eq!(this, now.unix_timestamp() as u64);
        assert!(next > this);
    }
    basic
}

#[test]
fn ocsp_answers_good_revoked_and_unknown_per_cert_id() {
    let good = serial(&leaf(&CA));
    let revoked = serial(&leaf(&CA));
    let never_issued = SerialNumber::from_be_bytes(&[0x51; 16]).unwrap();
    let revoked_at = datetime!(2026-11-25 23:59:59 UTC);
    let statuses = [
        (good.clone(), CertificateStatus::Good),
        (
            revoked.clone(),
            CertificateStatus::Revoked {
                revoked_at,
                reason: RevocationReason::KeyCompromise,
            },
        ),
    ];
    let issuing = CA.issuing_certificate_der();
    let ids = vec![
        cert_id(issuing, good.as_be_bytes(), SHA1),
        cert_id(issuing, revoked.as_be_bytes(), &digest::SHA256),
        cert_id(issuing, never_issued.as_be_bytes(), SHA1),
        // Our good serial, but named under another CA, or under our root: not ours.
        cert_id(OTHER_CA.issuing_certificate_der(), good.as_be_bytes(), SHA1),
        cert_id(CA.root_certificate_der(), good.as_be_bytes(), SHA1),
    ];
    let basic = ask(&request_der(ids.clone(), None), &statuses);
    let responses = &basic.tbs_response_data.responses;
    assert_eq!(responses.len(), 5);
    for (response, id) in responses.iter().zip(&ids) {
        assert_eq!(&response.cert_id, id, "CertIDs are echoed as asked");
    }
    assert_eq!(responses[0].cert_status, CertStatus::good());
    match responses[1].cert_status {
        CertStatus::Revoked(info) => {
            assert_eq!(
                info.revocation_time.0.to_unix_duration().as_secs(),
                revoked_at.unix_timestamp() as u64
            );
            assert_eq!(info.revocation_reason, Some(CrlReason::KeyCompromise));
        }
        other => panic!("{other:?}"),
    }
    for unknown in &responses[2..] {
        assert_eq!(unknown.cert_status, CertStatus::unknown());
    }
    assert!(basic.tbs_response_data.response_extensions.is_none());
}

#[test]
fn ocsp_echoes_the_nonce() {
    let good = serial(&leaf(&CA));
    let id = cert_id(CA.issuing_certificate_der(), good.as_be_bytes(), SHA1);
    let basic = ask(
        &request_der(vec![id], Some(&[7u8; 16])),
        &[(good, CertificateStatus::Good)],
    );
    let nonce = basic.tbs_response_data.nonce().unwrap();
    assert_eq!(nonce.0.as_bytes(), [7u8; 16]);
}

#[test]
fn malformed_ocsp_requests_get_malformed_request_not_a_panic() {
    let issuing = CA.issuing_certificate_der();
    let id = || cert_id(issuing, &[0x40; 16], SHA1);
    let valid = request_der(vec![id()], None);
    let too_many = request_der((0..33).map(|_| id()).collect(), None);
    let long_nonce = request_der(vec![id()], Some(&[1u8; 33]));
    let empty_nonce = request_der(vec![id()], Some(&[]));
    let no_requests = request_der(vec![], None);
    let mut trailing = valid.clone();
    trailing.push(0);
    let truncated = valid[..valid.len() - 1].to_vec();
    for (label, bad) in [
        ("empty", Vec::new()),
        ("garbage", b"GET / HTTP/1.1".to_vec()),
        ("truncated", truncated),
        ("trailing byte", trailing),
        ("no requests", no_requests),
        ("33 requests", too_many),
        ("33-octet nonce", long_nonce),
        ("empty nonce", empty_nonce),
    ] {
        assert!(OcspQuery::from_der(&bad).is_err(), "{label}");
    }
    assert!(OcspQuery::from_der(&valid).is_ok());
    // malformedRequest(1), unsigned.
    assert_eq!(
        OcspQuery::malformed_response(),
        [0x30, 0x03, 0x0a, 0x01, 0x01]
    );
    assert_eq!(
        OcspQuery::internal_error_response(),
        [0x30, 0x03, 0x0a, 0x01, 0x02]
    );
}

#[test]
fn the_responder_is_renewed_only_within_its_last_60_days() {
    let mut ca = CertificateAuthority::from_parts(&CA.to_parts(), &test_config()).unwrap();
    let now = OffsetDateTime::now_utc();
    assert!(!ca.renew_ocsp_responder_if_due(now).unwrap());
    assert!(
        !ca.renew_ocsp_responder_if_due(now + time::Duration::days(300))
            .unwrap()
    );
    assert_eq!(
        ca.ocsp_responder_certificate_der(),
        CA.ocsp_responder_certificate_der()
    );
    let later = now + time::Duration::days(310);
    assert!(ca.renew_ocsp_responder_if_due(later).unwrap());
    let renewed = cert(ca.ocsp_responder_certificate_der());
    let not_before = renewed
        .tbs_certificate
        .validity
        .not_before
        .to_unix_duration();
    assert!(not_before.as_secs() as i64 > later.unix_timestamp() - 2 * 3600);
    // The new responder answers, and what it signs verifies with its certificate.
    let query = OcspQuery::from_der(&request_der(
        vec![cert_id(CA.issuing_certificate_der(), &[0x40; 16], SHA1)],
        None,
    ))
    .unwrap();
    let der = ca
        .ocsp_response(&query, later, |_| CertificateStatus::Good)
        .unwrap();
    let bytes = OcspResponse::from_der(&der)
        .unwrap()
        .response_bytes
        .unwrap();
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).unwrap();
    assert!(verify_ecdsa(
        &renewed,
        &basic.tbs_response_data.to_der().unwrap(),
        basic.signature.raw_bytes()
    ));
}
