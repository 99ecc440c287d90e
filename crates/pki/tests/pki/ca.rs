//! End-to-end checks of the CA against an independent X.509 implementation: the system
//! `openssl` (3.x) parses every certificate, prints the extensions we expect, and verifies
//! the chain strictly. Everything read back with `parse_identity` must equal the request.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use der::Decode;
use splitid_pki::{
    CaConfig, CaKeyParts, CaParts, CertificateAuthority, CertificateRequest, Level, PkiError,
    Purpose, SerialNumber, parse_identity,
};
use time::{Date, Month, OffsetDateTime};
use x509_cert::Certificate;

use crate::common::{BASE, CA, test_config};

/// One real 4096-bit RSA key for all tests (key generation is the slow part).
static USER_KEY: LazyLock<RsaKeyPair> =
    LazyLock::new(|| RsaKeyPair::generate(KeySize::Rsa4096).expect("RSA keygen"));

fn user_modulus() -> Vec<u8> {
    PublicKeyComponents::<Vec<u8>>::from(USER_KEY.public_key()).n
}

fn request(purpose: Purpose, level: Level) -> CertificateRequest {
    CertificateRequest {
        given_name: "MARY ÄNN".into(),
        surname: "O'CONNEŽ-ŠUSLIK TESTNUMBER".into(),
        semantics_identifier: "PNOEE-30303039914".into(),
        country: "EE".into(),
        document_number: "PNOEE-30303039914-ABCD-Q".into(),
        rsa_modulus: user_modulus(),
        purpose,
        level,
        not_before: OffsetDateTime::now_utc(),
        serial: None,
    }
}

/// An odd number of exactly `bits` bits: a stand-in modulus for sizes aws-lc cannot generate.
fn odd_number(bits: usize) -> Vec<u8> {
    let mut n = vec![0xa5u8; bits.div_ceil(8)];
    n[0] = 0x80 >> ((8 - bits % 8) % 8);
    *n.last_mut().unwrap() |= 1;
    n
}

// --- openssl helpers ---

struct Workdir(tempfile::TempDir);

impl Workdir {
    fn new() -> Self {
        Workdir(tempfile::tempdir().expect("tempdir"))
    }

    fn write_pem(&self, name: &str, der: &[u8]) -> PathBuf {
        let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).unwrap();
        self.write(name, pem.as_bytes())
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Writes the CA's root and issuing certificates; returns their paths.
    fn write_chain(&self, ca: &CertificateAuthority) -> (PathBuf, PathBuf) {
        (
            self.write("root.pem", ca.root_certificate_pem().as_bytes()),
            self.write("issuing.pem", ca.issuing_certificate_pem().as_bytes()),
        )
    }
}

fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl command (apt-get install openssl)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "openssl {args:?} failed:\n{text}");
    text
}

fn openssl_text(path: &Path) -> String {
    openssl(&[
        "x509",
        "-in",
        path.to_str().unwrap(),
        "-noout",
        "-text",
        "-nameopt",
        "utf8,sep_comma_plus_space,space_eq",
    ])
}

/// The line after an extension's header in `openssl x509 -text` output, e.g. its key usages.
fn extension_value<'a>(text: &'a str, header: &str) -> &'a str {
    let mut lines = text.lines();
    lines
        .find(|l| l.trim() == header)
        .unwrap_or_else(|| panic!("no `{header}` in:\n{text}"));
    lines.next().unwrap().trim()
}

fn verify(args: &[&str], root: &Path, issuing: &Path, leaf: &Path) -> String {
    let mut all = vec![
        "verify",
        "-x509_strict",
        "-CAfile",
        root.to_str().unwrap(),
        "-untrusted",
        issuing.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    all.push(leaf.to_str().unwrap());
    openssl(&all)
}

/// The DER value of one extension of a certificate, for `openssl asn1parse` to dump.
fn extension_der(cert_der: &[u8], oid: &str) -> Option<Vec<u8>> {
    let cert = Certificate::from_der(cert_der).unwrap();
    let oid = der::asn1::ObjectIdentifier::new(oid).unwrap();
    let extensions = cert.tbs_certificate.extensions.unwrap_or_default();
    extensions
        .into_iter()
        .find(|e| e.extn_id == oid)
        .map(|e| e.extn_value.as_bytes().to_vec())
}

fn three_years_after(t: OffsetDateTime) -> OffsetDateTime {
    let year = t.year() + 3;
    let date = t
        .date()
        .replace_year(year)
        .unwrap_or_else(|_| Date::from_calendar_date(year, Month::February, 28).unwrap());
    t.replace_date(date)
}

fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap()
}

// --- CA certificates ---

#[test]
fn ca_certificates_conform_to_rfc_5280_and_name_a_test_ca() {
    let dir = Workdir::new();
    let (root, issuing) = dir.write_chain(&CA);
    let year = OffsetDateTime::now_utc().year();

    let root_text = openssl_text(&root);
    assert!(root_text.contains(&format!("Subject: C = EE, O = SplitID Test OÜ, organizationIdentifier = NTREE-00000000, CN = TEST of SplitID Root CA {year}")), "{root_text}");
    assert!(
        root_text.contains("ecdsa-with-SHA384") && root_text.contains("NIST CURVE: P-384"),
        "{root_text}"
    );
    assert_eq!(
        extension_value(&root_text, "X509v3 Basic Constraints: critical"),
        "CA:TRUE"
    );
    assert_eq!(
        extension_value(&root_text, "X509v3 Key Usage: critical"),
        "Certificate Sign, CRL Sign"
    );
    assert!(root_text.contains("X509v3 Subject Key Identifier"));

    let issuing_text = openssl_text(&issuing);
    assert!(issuing_text.contains(&format!("CN = TEST of SplitID Root CA {year}")));
    assert!(issuing_text.contains(&format!("Subject: C = EE, O = SplitID Test OÜ, organizationIdentifier = NTREE-00000000, CN = TEST of SplitID EID-Q {year}")), "{issuing_text}");
    assert_eq!(
        extension_value(&issuing_text, "X509v3 Basic Constraints: critical"),
        "CA:TRUE, pathlen:0"
    );
    assert_eq!(
        extension_value(&issuing_text, "X509v3 Key Usage: critical"),
        "Certificate Sign, CRL Sign"
    );
    assert!(
        issuing_text.contains("X509v3 Subject Key Identifier")
            && issuing_text.contains("X509v3 Authority Key Identifier")
    );
    assert!(
        issuing_text.contains(&format!("CA Issuers - URI:{BASE}/pki/root-ca.crt")),
        "{issuing_text}"
    );
    assert!(issuing_text.contains(&format!("URI:{BASE}/pki/root-ca.crl")));
    assert!(
        issuing_text.contains("Policy: X509v3 Any Policy"),
        "{issuing_text}"
    );

    let ok = openssl(&[
        "verify",
        "-x509_strict",
        "-CAfile",
        root.to_str().unwrap(),
        issuing.to_str().unwrap(),
    ]);
    assert!(ok.contains(": OK"), "{ok}");
}

#[test]
fn ca_validity_is_about_20_and_10_years_with_random_positive_serials() {
    for der in [CA.root_certificate_der(), CA.issuing_certificate_der()] {
        let cert = Certificate::from_der(der).unwrap();
        let serial = cert.tbs_certificate.serial_number.as_bytes();
        assert!(
            serial.len() >= 9 && serial.len() <= 20 && serial[0] & 0x80 == 0,
            "{serial:02x?}"
        );
    }
    let years = |der: &[u8]| {
        let v = Certificate::from_der(der).unwrap().tbs_certificate.validity;
        (v.not_after.to_unix_duration() - v.not_before.to_unix_duration()).as_secs()
            / (365 * 86_400)
    };
    assert_eq!(years(CA.root_certificate_der()), 20);
    assert_eq!(years(CA.issuing_certificate_der()), 10);
}

#[test]
fn a_production_ca_has_no_test_marker() {
    let ca = CertificateAuthority::generate(&CaConfig {
        test: false,
        ..test_config()
    })
    .unwrap();
    let dir = Workdir::new();
    let (root, issuing) = dir.write_chain(&ca);
    for path in [root, issuing] {
        let text = openssl_text(&path);
        assert!(
            !text.contains("TEST of") && text.contains("CN = SplitID "),
            "{text}"
        );
    }
    let http = CaConfig {
        test: false,
        base_url: "http://id.example.org".into(),
        ..test_config()
    };
    assert!(matches!(
        CertificateAuthority::generate(&http),
        Err(PkiError::Config(_))
    ));
}

// --- end-user certificates ---

/// Checks one issued certificate with openssl and parse_identity; returns openssl's text.
fn check_issued(purpose: Purpose, level: Level) -> String {
    let request = request(purpose, level);
    let leaf_der = CA.issue(&request).unwrap();
    let dir = Workdir::new();
    let (root, issuing) = dir.write_chain(&CA);
    let leaf = dir.write_pem("leaf.pem", &leaf_der);
    let text = openssl_text(&leaf);
    let case = format!("{purpose:?}/{level:?}");

    // Subject and SAN (docs/spec/rp-api.md §4): C, CN "SURNAME,GIVENNAME", SN, GN, serialNumber; SAN DirName CN=document number.
    assert!(text.contains("Subject: C = EE, CN = O'CONNEŽ-ŠUSLIK TESTNUMBER,MARY ÄNN, SN = O'CONNEŽ-ŠUSLIK TESTNUMBER, GN = MARY ÄNN, serialNumber = PNOEE-30303039914"), "{case}\n{text}");
    assert_eq!(
        extension_value(&text, "X509v3 Subject Alternative Name:"),
        "DirName:/CN=PNOEE-30303039914-ABCD-Q",
        "{case}"
    );
    assert!(
        text.contains("Public-Key: (4096 bit)") && text.contains("Exponent: 65537 (0x10001)"),
        "{case}"
    );
    assert!(
        text.contains("Signature Algorithm: ecdsa-with-SHA384"),
        "{case}"
    );

    // Key usage (critical) and EKU.
    let (key_usage, eku) = match purpose {
        Purpose::Authentication => ("Digital Signature", true),
        Purpose::Signing => ("Non Repudiation", false),
    };
    assert_eq!(
        extension_value(&text, "X509v3 Key Usage: critical"),
        key_usage,
        "{case}"
    );
    assert_eq!(text.contains("X509v3 Extended Key Usage"), eku, "{case}");
    if eku {
        assert_eq!(
            extension_value(&text, "X509v3 Extended Key Usage:"),
            "TLS Web Client Authentication"
        );
    }

    // Policies.
    let expected_policies = match (purpose, level) {
        (Purpose::Authentication, Level::Qualified) => ["1.3.6.1.4.1.99999.1.2", "0.4.0.2042.1.2"],
        (Purpose::Signing, Level::Qualified) => ["1.3.6.1.4.1.99999.1.2", "0.4.0.194112.1.2"],
        (_, Level::Advanced) => ["1.3.6.1.4.1.99999.1.1", "0.4.0.2042.1.1"],
    };
    for policy in expected_policies {
        assert!(
            text.contains(&format!("Policy: {policy}")),
            "{case}: {policy}\n{text}"
        );
    }
    assert_eq!(text.matches("Policy: ").count(), 2, "{case}");

    // qcStatements only on qualified signing certificates.
    let qualified_signing = (purpose, level) == (Purpose::Signing, Level::Qualified);
    assert_eq!(
        text.contains("qcStatements"),
        qualified_signing,
        "{case}\n{text}"
    );

    // Where to find the issuer, OCSP and the CRL; AKI and SKI.
    assert!(
        text.contains(&format!("CA Issuers - URI:{BASE}/pki/issuing-ca.crt")),
        "{case}"
    );
    assert!(
        text.contains(&format!("OCSP - URI:{BASE}/pki/ocsp")),
        "{case}"
    );
    assert!(
        text.contains(&format!("URI:{BASE}/pki/issuing-ca.crl")),
        "{case}"
    );
    assert!(
        text.contains("X509v3 Authority Key Identifier")
            && text.contains("X509v3 Subject Key Identifier"),
        "{case}"
    );
    assert!(!text.contains("X509v3 Basic Constraints"), "{case}");

    // Validity: exactly three years from not_before.
    let dates = openssl(&[
        "x509",
        "-in",
        leaf.to_str().unwrap(),
        "-noout",
        "-dates",
        "-dateopt",
        "iso_8601",
    ]);
    let not_before = whole_seconds(request.not_before);
    let iso = |t: OffsetDateTime| {
        t.format(&time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]Z"
        ))
        .unwrap()
    };
    assert!(
        dates.contains(&format!("notBefore={}", iso(not_before))),
        "{dates}"
    );
    assert!(
        dates.contains(&format!("notAfter={}", iso(three_years_after(not_before)))),
        "{dates}"
    );

    // The chain verifies strictly, and the asserted policies survive RFC 5280 policy processing.
    let ok = verify(&[], &root, &issuing, &leaf);
    assert!(ok.contains("leaf.pem: OK"), "{case}: {ok}");
    let ok = verify(
        &[
            "-policy_check",
            "-explicit_policy",
            "-policy",
            expected_policies[1],
        ],
        &root,
        &issuing,
        &leaf,
    );
    assert!(ok.contains("leaf.pem: OK"), "{case}: {ok}");

    // And parse_identity returns what was requested.
    let identity = parse_identity(&leaf_der).unwrap();
    assert_eq!(identity.given_name, request.given_name);
    assert_eq!(identity.surname, request.surname);
    assert_eq!(identity.semantics_identifier, request.semantics_identifier);
    assert_eq!(identity.country, request.country);
    assert_eq!(identity.document_number, request.document_number);
    assert_eq!((identity.purpose, identity.level), (purpose, level));
    assert_eq!(identity.not_before, not_before);
    assert_eq!(identity.not_after, three_years_after(not_before));
    assert_eq!(identity.rsa_modulus, request.rsa_modulus);
    text
}

#[test]
fn qualified_authentication_certificate() {
    check_issued(Purpose::Authentication, Level::Qualified);
}

#[test]
fn advanced_authentication_certificate() {
    check_issued(Purpose::Authentication, Level::Advanced);
}

#[test]
fn advanced_signing_certificate() {
    check_issued(Purpose::Signing, Level::Advanced);
}

#[test]
fn qualified_signing_certificate_carries_the_etsi_qc_statements() {
    check_issued(Purpose::Signing, Level::Qualified);
    let leaf_der = CA
        .issue(&request(Purpose::Signing, Level::Qualified))
        .unwrap();
    let qc = extension_der(&leaf_der, "1.3.6.1.5.5.7.1.3").expect("qcStatements");
    let dir = Workdir::new();
    let dump = openssl(&[
        "asn1parse",
        "-inform",
        "DER",
        "-in",
        dir.write("qc.der", &qc).to_str().unwrap(),
    ]);
    for expected in [
        "1.3.6.1.5.5.7.11.2", // pkixQCSyntax-v2 ...
        "0.4.0.194121.1.1",   // ... with semanticsId-Natural
        "0.4.0.1862.1.1",     // QcCompliance
        "0.4.0.1862.1.4",     // QcSSCD
        "0.4.0.1862.1.6",     // QcType ...
        "0.4.0.1862.1.6.1",   // ... esign
        "0.4.0.1862.1.5",     // QcPDS ...
    ] {
        assert!(
            dump.contains(&format!(":{expected}\n")) || dump.contains(&format!(":{expected} ")),
            "{expected}\n{dump}"
        );
    }
    assert!(
        dump.contains(&format!("IA5STRING         :{BASE}/pki/pds")),
        "{dump}"
    );
    assert!(dump.contains("PRINTABLESTRING   :en"), "{dump}");
}

#[test]
fn the_certified_public_key_verifies_the_users_signature() {
    let leaf_der = CA
        .issue(&request(Purpose::Signing, Level::Qualified))
        .unwrap();
    let message = b"document digest input";
    let mut signature = vec![0u8; USER_KEY.public_modulus_len()];
    USER_KEY
        .sign(
            &RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            message,
            &mut signature,
        )
        .unwrap();

    let dir = Workdir::new();
    let leaf = dir.write_pem("leaf.pem", &leaf_der);
    let public_key = openssl(&["x509", "-in", leaf.to_str().unwrap(), "-noout", "-pubkey"]);
    let public_key = dir.write("pub.pem", public_key.as_bytes());
    let sig = dir.write("sig.bin", &signature);
    let msg = dir.write("msg.bin", message);
    let out = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        public_key.to_str().unwrap(),
        "-signature",
        sig.to_str().unwrap(),
        msg.to_str().unwrap(),
    ]);
    assert!(out.contains("Verified OK"), "{out}");
}

#[test]
fn a_6144_bit_modulus_is_certified() {
    let mut request = request(Purpose::Authentication, Level::Qualified);
    request.rsa_modulus = odd_number(6144);
    let leaf_der = CA.issue(&request).unwrap();
    let dir = Workdir::new();
    let (root, issuing) = dir.write_chain(&CA);
    let leaf = dir.write_pem("leaf.pem", &leaf_der);
    assert!(openssl_text(&leaf).contains("Public-Key: (6144 bit)"));
    assert!(verify(&[], &root, &issuing, &leaf).contains("leaf.pem: OK"));
    assert_eq!(
        parse_identity(&leaf_der).unwrap().rsa_modulus,
        request.rsa_modulus
    );
}

#[test]
fn wrong_modulus_sizes_are_refused() {
    for bits in [1024, 2048, 3072, 4095, 4097, 5120, 6143, 6145, 8192] {
        let mut request = request(Purpose::Authentication, Level::Advanced);
        request.rsa_modulus = odd_number(bits);
        assert_eq!(CA.issue(&request), Err(PkiError::ModulusSize { bits }));
    }
    let mut request = request(Purpose::Authentication, Level::Advanced);
    request.rsa_modulus = Vec::new();
    assert_eq!(CA.issue(&request), Err(PkiError::ModulusSize { bits: 0 }));
    request.rsa_modulus = odd_number(4096);
    *request.rsa_modulus.last_mut().unwrap() &= 0xfe;
    assert!(matches!(CA.issue(&request), Err(PkiError::Modulus(_))));
}

#[test]
fn serials_are_random_unless_chosen() {
    let a = parse_identity(
        &CA.issue(&request(Purpose::Signing, Level::Advanced))
            .unwrap(),
    )
    .unwrap();
    let b = parse_identity(
        &CA.issue(&request(Purpose::Signing, Level::Advanced))
            .unwrap(),
    )
    .unwrap();
    assert_ne!(a.serial, b.serial);
    assert!(a.serial.as_be_bytes().len() >= 8);

    let chosen =
        SerialNumber::from_be_bytes(&[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x42])
            .unwrap();
    let mut request = request(Purpose::Signing, Level::Advanced);
    request.serial = Some(chosen.clone());
    assert_eq!(
        parse_identity(&CA.issue(&request).unwrap()).unwrap().serial,
        chosen
    );
}

#[test]
fn certificates_must_fit_in_the_issuing_ca_validity() {
    let mut request = request(Purpose::Authentication, Level::Qualified);
    request.not_before = OffsetDateTime::now_utc() + time::Duration::days(365 * 8);
    assert!(matches!(CA.issue(&request), Err(PkiError::Validity(_))));
    request.not_before = OffsetDateTime::now_utc() - time::Duration::days(2);
    assert!(matches!(CA.issue(&request), Err(PkiError::Validity(_))));
    request.not_before = OffsetDateTime::now_utc() - time::Duration::minutes(30);
    assert!(
        CA.issue(&request).is_ok(),
        "an hour of backdating is tolerated"
    );
}

#[test]
fn bad_requests_are_refused_not_panicked_on() {
    let mut request = request(Purpose::Signing, Level::Qualified);
    request.semantics_identifier = "PNOLV-010101-10000".into();
    assert!(matches!(
        CA.issue(&request),
        Err(PkiError::Request {
            field: "semantics_identifier",
            ..
        })
    ));
}

// --- persistence ---

#[test]
fn a_ca_survives_to_parts_and_from_parts() {
    let ca = CertificateAuthority::generate(&test_config()).unwrap();
    let parts = ca.to_parts();
    assert!(
        !format!("{parts:?}").contains(&format!("{:?}", &pkcs8(&parts.root_key)[..8])),
        "Debug must not print keys"
    );
    let reloaded = CertificateAuthority::from_parts(&parts, &test_config()).unwrap();
    assert_eq!(reloaded.root_certificate_der(), ca.root_certificate_der());
    assert_eq!(
        reloaded.issuing_certificate_der(),
        ca.issuing_certificate_der()
    );
    assert_eq!(reloaded.root_certificate_pem(), ca.root_certificate_pem());

    // The reloaded CA issues certificates that chain to the original CA certificates, with
    // the issuer name byte-identical to the issuing CA's subject.
    let leaf_der = reloaded
        .issue(&request(Purpose::Authentication, Level::Qualified))
        .unwrap();
    let leaf = Certificate::from_der(&leaf_der).unwrap();
    let issuing = Certificate::from_der(ca.issuing_certificate_der()).unwrap();
    assert_eq!(
        der::Encode::to_der(&leaf.tbs_certificate.issuer).unwrap(),
        der::Encode::to_der(&issuing.tbs_certificate.subject).unwrap()
    );
    let dir = Workdir::new();
    let (root, issuing) = dir.write_chain(&ca);
    let leaf = dir.write_pem("leaf.pem", &leaf_der);
    assert!(verify(&[], &root, &issuing, &leaf).contains("leaf.pem: OK"));
}

#[test]
fn mismatched_or_malformed_parts_are_refused() {
    let a = CertificateAuthority::generate(&test_config())
        .unwrap()
        .to_parts();
    let b = CertificateAuthority::generate(&test_config())
        .unwrap()
        .to_parts();
    let mix = |f: fn(&mut CaParts, &CaParts)| {
        let mut parts = CaParts {
            root_cert_der: a.root_cert_der.clone(),
            root_key: a.root_key.clone(),
            issuing_cert_der: a.issuing_cert_der.clone(),
            issuing_key: a.issuing_key.clone(),
            ocsp_responder: a.ocsp_responder.clone(),
        };
        f(&mut parts, &b);
        CertificateAuthority::from_parts(&parts, &test_config()).map(|_| ())
    };
    let cases: [fn(&mut CaParts, &CaParts); 9] = [
        // Another CA's responder, and a responder certificate with another key.
        |p, b| p.ocsp_responder = b.ocsp_responder.clone(),
        |p, b| {
            let (ours, theirs) = (
                p.ocsp_responder.as_mut().unwrap(),
                b.ocsp_responder.as_ref(),
            );
            ours.key_pkcs8 = theirs.unwrap().key_pkcs8.clone();
        },
        |p, b| p.root_key = b.root_key.clone(),
        |p, b| p.issuing_key = b.issuing_key.clone(),
        |p, _| std::mem::swap(&mut p.root_key, &mut p.issuing_key),
        |p, b| {
            p.root_cert_der = b.root_cert_der.clone();
            p.root_key = b.root_key.clone();
        },
        |p, _| p.root_cert_der.truncate(10),
        |p, _| p.issuing_cert_der = b"not a certificate".to_vec(),
        |p, _| {
            p.issuing_key =
                CaKeyParts::Pkcs8(zeroize::Zeroizing::new(vec![0x30, 0x03, 0x02, 0x01, 0x00]))
        },
    ];
    for (i, case) in cases.into_iter().enumerate() {
        assert!(
            matches!(mix(case), Err(PkiError::CaParts(_))),
            "case {i}: {:?}",
            mix(case)
        );
    }
    assert_eq!(mix(|_, _| {}), Ok(()));
}

fn pkcs8(key: &CaKeyParts) -> &[u8] {
    match key {
        CaKeyParts::Pkcs8(pkcs8) => pkcs8,
        CaKeyParts::External(_) => panic!("a software CA has PKCS#8 keys"),
    }
}

// --- CA keys outside the crate (an HSM's, through CaSigner) ---

/// A stand-in for an HSM key: signs with a software key the CA never sees, and counts its
/// signatures (or refuses, or signs with another key, to show the CA notices).
struct TestSigner {
    key: aws_lc_rs::signature::EcdsaKeyPair,
    behaviour: SignerBehaviour,
    signatures: std::sync::atomic::AtomicUsize,
}

#[derive(Clone, Copy, PartialEq)]
enum SignerBehaviour {
    Honest,
    Refuses,
    /// Signs with another key than the public key it reports.
    WrongKey,
}

impl TestSigner {
    fn new(behaviour: SignerBehaviour) -> std::sync::Arc<Self> {
        use aws_lc_rs::signature::{ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair};
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_ASN1_SIGNING, &rng).unwrap();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        std::sync::Arc::new(TestSigner {
            key,
            behaviour,
            signatures: Default::default(),
        })
    }
}

impl splitid_pki::CaSigner for TestSigner {
    fn public_key(&self) -> &[u8] {
        use aws_lc_rs::signature::KeyPair;
        self.key.public_key().as_ref()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, splitid_pki::CaSignerError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.signatures
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match self.behaviour {
            SignerBehaviour::Honest => Ok(self.key.sign(&rng, message).unwrap().as_ref().to_vec()),
            SignerBehaviour::Refuses => Err(splitid_pki::CaSignerError("token gone".into())),
            SignerBehaviour::WrongKey => {
                let other = TestSigner::new(SignerBehaviour::Honest);
                Ok(other.key.sign(&rng, message).unwrap().as_ref().to_vec())
            }
        }
    }
}

#[test]
fn a_ca_with_external_keys_signs_through_them_and_reloads() {
    let root = TestSigner::new(SignerBehaviour::Honest);
    let issuing = TestSigner::new(SignerBehaviour::Honest);
    let ca =
        CertificateAuthority::generate_with_signers(&test_config(), root.clone(), issuing.clone())
            .unwrap();
    // The root signed itself and the issuing CA; the issuing CA the OCSP responder.
    assert_eq!(root.signatures.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(
        issuing.signatures.load(std::sync::atomic::Ordering::SeqCst),
        1
    );

    let parts = ca.to_parts();
    assert!(matches!(parts.root_key, CaKeyParts::External(_)));
    assert!(matches!(parts.issuing_key, CaKeyParts::External(_)));
    assert!(
        parts.ocsp_responder.is_some(),
        "the responder key stays in software"
    );
    let reloaded = CertificateAuthority::from_parts(&parts, &test_config()).unwrap();
    let leaf_der = reloaded
        .issue(&request(Purpose::Authentication, Level::Qualified))
        .unwrap();
    assert_eq!(
        issuing.signatures.load(std::sync::atomic::Ordering::SeqCst),
        2
    );
    let dir = Workdir::new();
    let (root_pem, issuing_pem) = dir.write_chain(&ca);
    let leaf = dir.write_pem("leaf.pem", &leaf_der);
    assert!(verify(&[], &root_pem, &issuing_pem, &leaf).contains("leaf.pem: OK"));

    // Swapped or foreign external keys do not match their certificates.
    let mut swapped = ca.to_parts();
    std::mem::swap(&mut swapped.root_key, &mut swapped.issuing_key);
    assert!(matches!(
        CertificateAuthority::from_parts(&swapped, &test_config()),
        Err(PkiError::CaParts(_))
    ));
}

#[test]
fn a_failing_or_lying_external_key_is_an_error_not_a_bad_certificate() {
    let refuses = CertificateAuthority::generate_with_signers(
        &test_config(),
        TestSigner::new(SignerBehaviour::Refuses),
        TestSigner::new(SignerBehaviour::Honest),
    );
    assert!(refuses.is_err());
    // A root that signs with another key than its certificate's: the issuing CA certificate
    // would not verify, and the CA refuses to start with it.
    let lies = CertificateAuthority::generate_with_signers(
        &test_config(),
        TestSigner::new(SignerBehaviour::WrongKey),
        TestSigner::new(SignerBehaviour::Honest),
    );
    assert!(matches!(lies, Err(PkiError::CaParts(_))), "{lies:?}");
}

// --- parse_identity on foreign input ---

#[test]
fn parse_identity_refuses_what_is_not_an_end_user_certificate() {
    for input in [
        &b""[..],
        b"\x30\x03\x02\x01\x00",
        CA.root_certificate_der(),
        CA.issuing_certificate_der(),
    ] {
        assert!(matches!(
            parse_identity(input),
            Err(PkiError::Certificate(_))
        ));
    }
    let mut leaf = CA
        .issue(&request(Purpose::Signing, Level::Qualified))
        .unwrap();
    let last = leaf.len() - 1;
    leaf.truncate(last);
    assert!(matches!(
        parse_identity(&leaf),
        Err(PkiError::Certificate(_))
    ));
}
