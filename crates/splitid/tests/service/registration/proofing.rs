//! Identity proofing at registration, end to end through `splitid app register --proof …`:
//! eID certificates (RSA and ECDSA, made here by a test CA, revocation by a CRL served here),
//! OpenID Connect ID tokens (signed here with a test issuer key), an existing account vouching
//! with PIN1 — and the refusals: untrusted chain, expired, revoked, wrong signature, wrong
//! nonce/audience, replayed challenge, method not configured, demo CA without --demo.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevokedCertParams, SerialNumber, SignatureAlgorithm,
};
use serde_json::{Value, json};
use splitid_pki::Level;
use splitid_testkit::{Phone, Server, assert_success, stderr};
use time::{Duration, OffsetDateTime};

pub(crate) const PERSON: &str = "PNOEE-38001085718";
pub(crate) const ISSUER: &str = "https://bank.example.test";
pub(crate) const AUDIENCE: &str = "splitid-test";

// ---- a test eID CA, its CRL and leaf certificates -----------------------------------------

struct TestCa {
    root_pem: String,
    intermediate: Issuer<'static, KeyPair>,
    intermediate_pem: String,
    revoked: Arc<Mutex<Vec<RevokedCertParams>>>,
    crl_url: String,
    /// The OCSP responder leaves name, if any.
    ocsp_url: Option<String>,
    intermediate_der: Vec<u8>,
    intermediate_key_pkcs8: Vec<u8>,
}

struct Leaf {
    cert: PathBuf,
    key: PathBuf,
    serial: u64,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.distinguished_name.push(DnType::CountryName, "EE");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    if name.contains("no-keyCertSign") {
        params.key_usages = vec![KeyUsagePurpose::CrlSign];
    }
    params
}

impl TestCa {
    /// A root and an issuing CA (ECDSA P-384), and an HTTP server publishing the issuing CA's
    /// CRL, made fresh on every request from the current revocation list.
    fn new(name: &str) -> TestCa {
        let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let root_params = ca_params(&format!("{name} root"));
        let root_cert = root_params.self_signed(&root_key).unwrap();
        let root = Issuer::new(root_params, root_key);
        let intermediate_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let intermediate_params = ca_params(&format!("{name} ESTEID"));
        let intermediate_cert = intermediate_params
            .signed_by(&intermediate_key, &root)
            .unwrap();
        let revoked = Arc::new(Mutex::new(Vec::new()));
        let crl_url = serve_crls(
            intermediate_params.clone(),
            intermediate_key.serialize_pem(),
            revoked.clone(),
        );
        let intermediate_key_pkcs8 = intermediate_key.serialize_der();
        let intermediate = Issuer::new(intermediate_params, intermediate_key);
        TestCa {
            root_pem: root_cert.pem(),
            intermediate,
            intermediate_pem: intermediate_cert.pem(),
            revoked,
            crl_url,
            ocsp_url: None,
            intermediate_der: intermediate_cert.der().to_vec(),
            intermediate_key_pkcs8,
        }
    }

    /// Starts an OCSP responder (signing as the issuing CA) that later leaves name.
    fn with_ocsp(mut self) -> TestCa {
        self.ocsp_url = Some(serve_ocsp(
            self.intermediate_der.clone(),
            self.intermediate_key_pkcs8.clone(),
            self.revoked.clone(),
        ));
        self
    }

    /// An authentication certificate of `person`, valid from `from` to `until`, written with
    /// its chain and key into `dir`.
    fn leaf(
        &self,
        dir: &Path,
        algorithm: &'static SignatureAlgorithm,
        person: &str,
        from: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Leaf {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1000);
        let serial = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = KeyPair::generate_for(algorithm).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let dn = &mut params.distinguished_name;
        dn.push(DnType::CountryName, "EE");
        dn.push(DnType::CommonName, "JÕEORG,JAAK-KRISTJAN,38001085718");
        dn.push(
            DnType::CustomDnType(vec![2, 5, 4, 4]),
            DnValue::Utf8String("JÕEORG".into()),
        );
        dn.push(
            DnType::CustomDnType(vec![2, 5, 4, 42]),
            DnValue::Utf8String("JAAK-KRISTJAN".into()),
        );
        dn.push(
            DnType::CustomDnType(vec![2, 5, 4, 5]),
            DnValue::PrintableString(person.try_into().unwrap()),
        );
        params.serial_number = Some(SerialNumber::from(serial));
        params.not_before = from;
        params.not_after = until;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec![self.crl_url.clone()],
        }];
        if let Some(url) = &self.ocsp_url {
            params.custom_extensions = vec![rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 5, 5, 7, 1, 1],
                authority_info_access(url),
            )];
        }
        let cert = params.signed_by(&key, &self.intermediate).unwrap();
        let cert_path = dir.join(format!("leaf-{serial}.pem"));
        let key_path = dir.join(format!("leaf-{serial}.key"));
        std::fs::write(
            &cert_path,
            format!("{}{}", cert.pem(), self.intermediate_pem),
        )
        .unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        Leaf {
            cert: cert_path,
            key: key_path,
            serial,
        }
    }

    /// An authentication certificate of PERSON, valid from yesterday for a month.
    fn current_leaf(&self, dir: &Path, algorithm: &'static SignatureAlgorithm) -> Leaf {
        let now = OffsetDateTime::now_utc();
        self.leaf(dir, algorithm, PERSON, now - days(1), now + days(30))
    }

    fn revoke(&self, serial: u64) {
        self.revoked.lock().unwrap().push(RevokedCertParams {
            serial_number: SerialNumber::from(serial),
            revocation_time: OffsetDateTime::now_utc() - Duration::minutes(1),
            reason_code: Some(rcgen::RevocationReason::KeyCompromise),
            invalidity_date: None,
        });
    }
}

/// A tiny HTTP server answering every request with the issuing CA's current CRL.
fn serve_crls(
    issuer_params: CertificateParams,
    issuer_key_pem: String,
    revoked: Arc<Mutex<Vec<RevokedCertParams>>>,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/esteid.crl", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let issuer = Issuer::new(issuer_params, KeyPair::from_pem(&issuer_key_pem).unwrap());
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 2048];
            let _ = stream.read(&mut request);
            let now = OffsetDateTime::now_utc();
            let crl = CertificateRevocationListParams {
                this_update: now - Duration::minutes(5),
                next_update: now + Duration::days(1),
                crl_number: SerialNumber::from(1u64),
                issuing_distribution_point: None,
                revoked_certs: revoked.lock().unwrap().clone(),
                key_identifier_method: KeyIdMethod::Sha256,
            }
            .signed_by(&issuer)
            .unwrap();
            answer(&mut stream, "application/pkix-crl", crl.der());
        }
    });
    url
}

/// Writes a 200 answer with this body (a client that went away is no error).
fn answer(stream: &mut std::net::TcpStream, content_type: &str, body: &[u8]) {
    let _ = stream.write_all(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    let _ = stream.write_all(body);
}

/// authorityInfoAccess naming one OCSP responder (DER by hand: rcgen has no field for it).
fn authority_info_access(url: &str) -> Vec<u8> {
    assert!(url.len() < 100);
    let ocsp_oid = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01];
    let mut location = vec![0x86, url.len() as u8];
    location.extend_from_slice(url.as_bytes());
    let mut description = vec![0x30, (ocsp_oid.len() + location.len()) as u8];
    description.extend_from_slice(&ocsp_oid);
    description.extend_from_slice(&location);
    let mut syntax = vec![0x30, description.len() as u8];
    syntax.extend_from_slice(&description);
    syntax
}

/// A tiny OCSP responder: answers each POSTed request for its CA's certificates, revoked if the
/// serial is on the CA's revocation list, signed with the CA's key (P-384).
fn serve_ocsp(
    issuer_der: Vec<u8>,
    issuer_key_pkcs8: Vec<u8>,
    revoked: Arc<Mutex<Vec<RevokedCertParams>>>,
) -> String {
    use der::{Decode, Encode};
    use x509_ocsp::{
        BasicOcspResponse, CertStatus, OcspRequest, OcspResponse, ResponderId, ResponseData,
        RevokedInfo, SingleResponse,
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/ocsp", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let issuer = x509_cert::Certificate::from_der(&issuer_der).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            &issuer_key_pkcs8,
        )
        .unwrap();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let body = read_http_body(&mut stream);
            let request = OcspRequest::from_der(&body).unwrap();
            let cert_id = request.tbs_request.request_list[0].req_cert.clone();
            let serial = cert_id.serial_number.as_bytes().to_vec();
            let now = std::time::SystemTime::now();
            let time =
                |t: std::time::SystemTime| x509_ocsp::OcspGeneralizedTime::try_from(t).unwrap();
            let is_revoked = revoked.lock().unwrap().iter().any(|r| {
                r.serial_number
                    .to_bytes()
                    .iter()
                    .skip_while(|b| **b == 0)
                    .eq(serial.iter().skip_while(|b| **b == 0))
            });
            let cert_status = if is_revoked {
                CertStatus::Revoked(RevokedInfo {
                    revocation_time: time(now - std::time::Duration::from_secs(60)),
                    revocation_reason: None,
                })
            } else {
                CertStatus::Good(der::asn1::Null)
            };
            let data = ResponseData {
                version: Default::default(),
                responder_id: ResponderId::ByName(issuer.tbs_certificate.subject.clone()),
                produced_at: time(now),
                responses: vec![SingleResponse {
                    cert_id,
                    cert_status,
                    this_update: time(now - std::time::Duration::from_secs(60)),
                    next_update: Some(time(now + std::time::Duration::from_secs(3600))),
                    single_extensions: None,
                }],
                response_extensions: None,
            };
            let signed = key
                .sign(&SystemRandom::new(), &data.to_der().unwrap())
                .unwrap();
            let basic = BasicOcspResponse {
                tbs_response_data: data,
                signature_algorithm: x509_cert::spki::AlgorithmIdentifierOwned {
                    oid: der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3"),
                    parameters: None,
                },
                signature: der::asn1::BitString::from_bytes(signed.as_ref()).unwrap(),
                certs: None,
            };
            let der = OcspResponse::successful(basic).unwrap().to_der().unwrap();
            answer(&mut stream, "application/ocsp-response", &der);
        }
    });
    url
}

/// The body of an HTTP request (by its Content-Length).
fn read_http_body(stream: &mut std::net::TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = stream.read(&mut buffer).unwrap_or(0);
        if n == 0 {
            return Vec::new();
        }
        received.extend_from_slice(&buffer[..n]);
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            while received.len() < end + 4 + length {
                let n = stream.read(&mut buffer).unwrap_or(0);
                if n == 0 {
                    break;
                }
                received.extend_from_slice(&buffer[..n]);
            }
            return received[end + 4..].to_vec();
        }
    }
}

// ---- a test OpenID Connect issuer -----------------------------------------------------------

pub(crate) struct TestIdp {
    ec: EcdsaKeyPair,
    rsa: RsaKeyPair,
    pub(crate) jwks: PathBuf,
}

impl TestIdp {
    pub(crate) fn new(dir: &Path) -> TestIdp {
        let ec = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let rsa = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let point = ec.public_key().as_ref();
        let rsa_public = signature::RsaPublicKeyComponents::<Vec<u8>>::from(rsa.public_key());
        let jwks = json!({ "keys": [
            { "kty": "EC", "kid": "ec-1", "crv": "P-256",
              "x": B64URL.encode(&point[1..33]), "y": B64URL.encode(&point[33..65]) },
            { "kty": "RSA", "kid": "rsa-1",
              "n": B64URL.encode(&rsa_public.n), "e": B64URL.encode(&rsa_public.e) },
        ]});
        let path = dir.join("jwks.json");
        std::fs::write(&path, jwks.to_string()).unwrap();
        TestIdp {
            ec,
            rsa,
            jwks: path,
        }
    }

    pub(crate) fn claims(nonce: &str) -> Value {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": "customer-4711", "jti": "token-1",
            "iat": now, "exp": now + 300, "nonce": nonce,
            "semantics_identifier": PERSON, "given_name": "Jaak-Kristjan", "family_name": "Jõeorg",
        })
    }

    /// A compact JWS of `claims`, ES256 or RS256.
    pub(crate) fn token(&self, alg: &str, claims: &Value) -> String {
        let kid = if alg == "ES256" { "ec-1" } else { "rsa-1" };
        let header = B64URL.encode(json!({ "alg": alg, "kid": kid, "typ": "JWT" }).to_string());
        let payload = B64URL.encode(claims.to_string());
        let signed = format!("{header}.{payload}");
        let rng = SystemRandom::new();
        let signature = if alg == "ES256" {
            self.ec
                .sign(&rng, signed.as_bytes())
                .unwrap()
                .as_ref()
                .to_vec()
        } else {
            let mut out = vec![0; self.rsa.public_modulus_len()];
            self.rsa
                .sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    signed.as_bytes(),
                    &mut out,
                )
                .unwrap();
            out
        };
        format!("{signed}.{}", B64URL.encode(signature))
    }
}

// ---- the server and the phone ---------------------------------------------------------------

/// A demo server (so that demo accounts and the test clock exist) with every proofing method.
fn server_with_proofing(dir: &Path, ca: &TestCa, idp: &TestIdp, revocation: &str) -> Server {
    let anchor = dir.join("anchor.pem");
    std::fs::write(&anchor, &ca.root_pem).unwrap();
    let config = dir.join("splitid.toml");
    std::fs::write(
        &config,
        format!(
            "[proofing.eid_certificate]\ntrust_anchors = [{anchor:?}]\nlevel = \"QUALIFIED\"\nrevocation = {revocation:?}\n\n\
             [proofing.oidc]\nissuer = {ISSUER:?}\naudience = {AUDIENCE:?}\njwks_file = {:?}\nlevel = \"ADVANCED\"\n\n\
             [proofing.account]\nenabled = true\n",
            idp.jwks
        ),
    )
    .unwrap();
    Server::start(&["--config", config.to_str().unwrap()])
}

/// What most tests start from: a test eID CA and OpenID Connect issuer, a server with every
/// proofing method (the eID `revocation` check as given) trusting them, and an empty phone.
struct Proofing {
    dir: tempfile::TempDir,
    ca: TestCa,
    idp: TestIdp,
    server: Server,
    phone: Phone,
}

impl Proofing {
    fn start(revocation: &str) -> Proofing {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new("Test eID");
        let idp = TestIdp::new(dir.path());
        let server = server_with_proofing(dir.path(), &ca, &idp, revocation);
        Proofing {
            dir,
            ca,
            idp,
            server,
            phone: Phone::new(),
        }
    }
}

fn register(phone: &Phone, server: &Server, proof: &[&str], pins: &str) -> Output {
    let mut args = vec![
        "--json",
        "register",
        "--server",
        &server.url,
        "--half-bits",
        "2048",
    ];
    args.extend_from_slice(proof);
    phone.run(&args, pins)
}

/// Registers on the phone with an existing account (`voucher`) as the proof; `pins` are the
/// voucher's PIN1 and the new account's PIN1 and PIN2, a line each.
fn register_vouched(phone: &Phone, server: &Server, voucher: &str, pins: &str) -> Output {
    register(
        phone,
        server,
        &["--proof", "account", "--with", voucher],
        pins,
    )
}

fn document_number(output: &Output) -> String {
    assert_success(output);
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    value["documentNumber"].as_str().unwrap().to_owned()
}

fn assert_refused(output: &Output, reason: &str) {
    assert!(
        !output.status.success(),
        "accepted, but should be refused for: {reason}"
    );
    assert!(
        stderr(output).contains(reason),
        "expected {reason:?} in: {}",
        stderr(output)
    );
}

fn eid_args(leaf: &Leaf) -> Vec<String> {
    vec![
        "--proof".into(),
        "eid-cert".into(),
        "--cert".into(),
        leaf.cert.display().to_string(),
        "--key".into(),
        leaf.key.display().to_string(),
    ]
}

fn register_eid(phone: &Phone, server: &Server, leaf: &Leaf) -> Output {
    let args = eid_args(leaf);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    register(phone, server, &args, "1234\n12345\n")
}

fn proofing_challenge(phone: &Phone, server: &Server) -> Value {
    let output = phone.run(
        &["--json", "proofing-challenge", "--server", &server.url],
        "",
    );
    assert_success(&output);
    serde_json::from_slice(&output.stdout).unwrap()
}

fn register_oidc(phone: &Phone, server: &Server, challenge_id: &str, token: &str) -> Output {
    let path = phone.home.path().join(format!("token-{challenge_id}.jwt"));
    std::fs::write(&path, token).unwrap();
    register(
        phone,
        server,
        &[
            "--proof",
            "oidc",
            "--challenge-id",
            challenge_id,
            "--id-token",
            path.to_str().unwrap(),
        ],
        "1234\n12345\n",
    )
}

/// The server's record of an account (read from its database).
fn account_record(server: &Server, document: &str) -> splitid_domain::store::AccountRecord {
    let document = document.to_owned();
    block_on_store(server, move |store| async move {
        store.account_by_document(&document).await.unwrap().unwrap()
    })
}

fn block_on_store<T, F, Fut>(server: &Server, work: F) -> T
where
    F: FnOnce(splitid_domain::store::Store) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move { work(server.open_store().await).await })
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

// ---- the tests --------------------------------------------------------------------------

#[test]
fn an_eid_certificate_proves_the_identity_it_certifies() {
    let Proofing {
        dir,
        ca,
        idp: _idp,
        server,
        phone,
    } = Proofing::start("required");

    for algorithm in [
        &rcgen::PKCS_RSA_SHA256,
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &rcgen::PKCS_ECDSA_P384_SHA384,
    ] {
        let leaf = ca.current_leaf(dir.path(), algorithm);
        let document = document_number(&register_eid(&phone, &server, &leaf));
        assert!(document.starts_with(&format!("{PERSON}-")), "{document}");
        assert!(document.ends_with("-Q"), "{document}");
        let certified =
            splitid_pki::parse_identity(&phone.certificate(&document, "authentication")).unwrap();
        assert_eq!(certified.semantics_identifier, PERSON);
        assert_eq!(certified.given_name, "JAAK-KRISTJAN");
        assert_eq!(certified.surname, "JÕEORG");
        assert_eq!(certified.level, Level::Qualified);
        let record = account_record(&server, &document);
        assert_eq!(record.proofing_method, "eid_certificate");
        assert_eq!(
            record.proofing_evidence["serial"]
                .as_str()
                .unwrap()
                .trim_start_matches('0'),
            format!("{:x}", leaf.serial)
        );
        assert!(
            record.proofing_evidence["issuer"]
                .as_str()
                .unwrap()
                .contains("Test eID ESTEID")
        );
        let logged =
            server.admin_json(&["audit", "--document", &document, "--event", "registration"]);
        assert_eq!(
            logged[0]["details"]["method"], "eid_certificate",
            "{logged}"
        );
    }

    // What the registrant types is not evidence: the app will not even send it.
    let leaf = ca.current_leaf(dir.path(), &rcgen::PKCS_ECDSA_P256_SHA256);
    let mut args = eid_args(&leaf);
    args.extend(["--identity".to_owned(), "PNOEE-30303039914".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_refused(
        &register(&phone, &server, &args, "1234\n12345\n"),
        "for --proof demo only",
    );
}

#[test]
fn eid_certificates_that_do_not_prove_anything_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Test eID");
    let stranger = TestCa::new("Stranger");
    let idp = TestIdp::new(dir.path());
    let server = server_with_proofing(dir.path(), &ca, &idp, "required");
    let phone = Phone::new();
    let now = OffsetDateTime::now_utc();
    let valid = (now - days(1), now + days(30));
    let p256 = &rcgen::PKCS_ECDSA_P256_SHA256;

    let untrusted = stranger.leaf(dir.path(), p256, PERSON, valid.0, valid.1);
    assert_refused(
        &register_eid(&phone, &server, &untrusted),
        "does not chain to a trusted eID issuer",
    );

    let expired = ca.leaf(dir.path(), p256, PERSON, now - days(60), now - days(1));
    assert_refused(&register_eid(&phone, &server, &expired), "has expired");

    let revoked = ca.leaf(
        dir.path(),
        &rcgen::PKCS_RSA_SHA256,
        PERSON,
        valid.0,
        valid.1,
    );
    ca.revoke(revoked.serial);
    assert_refused(&register_eid(&phone, &server, &revoked), "is revoked");

    // The certificate of one key, a signature by another.
    let good = ca.leaf(dir.path(), p256, PERSON, valid.0, valid.1);
    let other = ca.leaf(dir.path(), p256, PERSON, valid.0, valid.1);
    let mismatched = Leaf {
        cert: good.cert.clone(),
        key: other.key.clone(),
        serial: good.serial,
    };
    assert_refused(
        &register_eid(&phone, &server, &mismatched),
        "does not verify with the certificate's key",
    );

    // A CA whose keyUsage does not allow signing certificates issued it.
    let misused = TestCa::new("Test eID no-keyCertSign");
    let server_for_misused = server_with_proofing(dir.path(), &misused, &idp, "off");
    let leaf = misused.leaf(dir.path(), p256, PERSON, valid.0, valid.1);
    assert_refused(
        &register_eid(&phone, &server_for_misused, &leaf),
        "does not allow signing certificates",
    );
    drop(server_for_misused);

    assert!(phone.accounts().is_empty(), "no refusal may register");
    // The good certificate itself still works: refusals consumed nothing of it.
    document_number(&register_eid(&phone, &server, &good));
}

#[test]
fn with_revocation_required_an_unreachable_crl_refuses_and_if_reachable_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = TestCa::new("Test eID");
    ca.crl_url = "http://127.0.0.1:9/nothing-listens-here.crl".into();
    let idp = TestIdp::new(dir.path());
    let leaf = ca.current_leaf(dir.path(), &rcgen::PKCS_ECDSA_P256_SHA256);
    let phone = Phone::new();
    {
        let strict = server_with_proofing(dir.path(), &ca, &idp, "required");
        assert_refused(
            &register_eid(&phone, &strict, &leaf),
            "revocation status unknown",
        );
    }
    let lenient = server_with_proofing(dir.path(), &ca, &idp, "if-reachable");
    document_number(&register_eid(&phone, &lenient, &leaf));
}

#[test]
fn an_ocsp_responder_named_in_the_certificate_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mut ca = TestCa::new("Test eID").with_ocsp();
    // No CRL to fall back on: with revocation required, only OCSP can answer.
    ca.crl_url = "http://127.0.0.1:9/nothing-listens-here.crl".into();
    let idp = TestIdp::new(dir.path());
    let server = server_with_proofing(dir.path(), &ca, &idp, "required");
    let phone = Phone::new();
    let good = ca.current_leaf(dir.path(), &rcgen::PKCS_RSA_SHA256);
    let revoked = ca.current_leaf(dir.path(), &rcgen::PKCS_ECDSA_P256_SHA256);
    ca.revoke(revoked.serial);
    assert_refused(&register_eid(&phone, &server, &revoked), "is revoked");
    document_number(&register_eid(&phone, &server, &good));
}

#[test]
fn an_id_token_proves_an_advanced_identity_once() {
    let Proofing {
        dir: _dir,
        ca: _ca,
        idp,
        server,
        phone,
    } = Proofing::start("off");

    for alg in ["ES256", "RS256"] {
        let challenge = proofing_challenge(&phone, &server);
        let id = challenge["challengeId"].as_str().unwrap();
        let token = idp.token(
            alg,
            &TestIdp::claims(challenge["challenge"].as_str().unwrap()),
        );
        let document = document_number(&register_oidc(&phone, &server, id, &token));
        assert!(document.starts_with(&format!("{PERSON}-")), "{document}");
        assert!(
            document.ends_with("-NQ"),
            "ADVANCED accounts are NQ: {document}"
        );
        let certified =
            splitid_pki::parse_identity(&phone.certificate(&document, "signing")).unwrap();
        assert_eq!(certified.level, Level::Advanced);
        assert_eq!(certified.given_name, "JAAK-KRISTJAN");

        // The same challenge and token again: a replay.
        assert_refused(&register_oidc(&phone, &server, id, &token), "already used");
    }
}

#[test]
fn id_tokens_for_something_else_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Test eID");
    let idp = TestIdp::new(dir.path());
    let other_dir = tempfile::tempdir().unwrap();
    let other_idp = TestIdp::new(other_dir.path());
    let server = server_with_proofing(dir.path(), &ca, &idp, "off");
    let phone = Phone::new();
    let challenge = proofing_challenge(&phone, &server);
    let id = challenge["challengeId"].as_str().unwrap();
    let nonce = challenge["challenge"].as_str().unwrap();

    let other_challenge = proofing_challenge(&phone, &server);
    let for_other = TestIdp::claims(other_challenge["challenge"].as_str().unwrap());
    let mut wrong_audience = TestIdp::claims(nonce);
    wrong_audience["aud"] = json!("someone-else");
    let mut expired = TestIdp::claims(nonce);
    expired["exp"] = json!(OffsetDateTime::now_utc().unix_timestamp() - 3600);
    let mut no_identity = TestIdp::claims(nonce);
    no_identity["semantics_identifier"] = json!("38001085718");
    let cases = [
        (
            idp.token("ES256", &for_other),
            "nonce is not this registration's",
        ),
        (
            idp.token("ES256", &wrong_audience),
            "aud does not name this service",
        ),
        (idp.token("RS256", &expired), "expired (exp)"),
        (
            idp.token("ES256", &no_identity),
            "not a semantics identifier",
        ),
        (
            other_idp.token("ES256", &TestIdp::claims(nonce)),
            "does not verify with any of the issuer's configured keys",
        ),
        ("not.a-token".to_owned(), "ID token"),
    ];
    for (token, reason) in cases {
        assert_refused(&register_oidc(&phone, &server, id, &token), reason);
    }
    assert!(phone.accounts().is_empty());
    // None of the refusals used the challenge up.
    let token = idp.token("ES256", &TestIdp::claims(nonce));
    document_number(&register_oidc(&phone, &server, id, &token));
}

#[test]
fn an_existing_account_vouches_with_pin1_and_passes_on_at_most_its_level() {
    let Proofing {
        dir: _dir,
        ca: _ca,
        idp,
        server,
        phone,
    } = Proofing::start("off");

    // A QUALIFIED (demo) account vouches: the new one is the same person, QUALIFIED.
    let qualified = phone.register(&server, "PNOEE-30303039914", "1111", "11111");
    let added = document_number(&register_vouched(
        &phone,
        &server,
        &qualified,
        "1111\n2222\n22222\n",
    ));
    assert!(
        added.starts_with("PNOEE-30303039914-") && added.ends_with("-Q"),
        "{added}"
    );
    assert_ne!(added, qualified);
    let certified =
        splitid_pki::parse_identity(&phone.certificate(&added, "authentication")).unwrap();
    assert_eq!(
        (certified.given_name.as_str(), certified.surname.as_str()),
        ("MARY", "ÄNN")
    );

    // A wrong PIN1 counts against the vouching account, like any login, and registers nothing.
    let before = phone.accounts().len();
    let refused = register_vouched(&phone, &server, &qualified, "9999\n3333\n33333\n");
    assert_refused(&refused, "wrong PIN1");
    assert_eq!(phone.accounts().len(), before);
    assert_eq!(
        phone.account_status(&qualified)["pin1"]["attemptsBeforeLock"],
        2
    );

    // An ADVANCED (OIDC) account vouches: the new account is ADVANCED too, never more.
    let challenge = proofing_challenge(&phone, &server);
    let token = idp.token(
        "ES256",
        &TestIdp::claims(challenge["challenge"].as_str().unwrap()),
    );
    let advanced = document_number(&register_oidc(
        &phone,
        &server,
        challenge["challengeId"].as_str().unwrap(),
        &token,
    ));
    let inherited = document_number(&register_vouched(
        &phone,
        &server,
        &advanced,
        "1234\n4444\n44444\n",
    ));
    assert!(inherited.ends_with("-NQ"), "{inherited}");
    let certified = splitid_pki::parse_identity(&phone.certificate(&inherited, "signing")).unwrap();
    assert_eq!(certified.level, Level::Advanced);
    assert_eq!(certified.semantics_identifier, PERSON);
}

#[test]
fn a_new_phone_is_added_by_a_pin1_login_on_the_old_one() {
    let setup = Proofing::start("off");
    let (server, old_phone) = (&setup.server, &setup.phone);
    let existing = old_phone.register(server, "PNOEE-30303039914", "1111", "11111");
    let new_phone = Phone::new();
    let args = |with: &str| {
        vec![
            "--json".to_owned(),
            "register".to_owned(),
            "--server".to_owned(),
            server.url.clone(),
            "--half-bits".to_owned(),
            "2048".to_owned(),
            "--proof".to_owned(),
            "account".to_owned(),
            "--with".to_owned(),
            with.to_owned(),
        ]
    };

    // The old phone refuses: the new one registers nothing.
    let owned = args(&existing);
    let waiting = new_phone.spawn(
        &owned.iter().map(String::as_str).collect::<Vec<_>>(),
        "2222\n22222\n",
    );
    let transaction = old_phone.wait_for_transaction(10);
    assert_eq!(transaction["text"], "Add a new device to your SplitID");
    assert_eq!(transaction["relyingPartyName"], "SplitID");
    assert_success(&old_phone.run(&["--json", "refuse", "--next"], ""));
    assert_refused(&waiting.join().unwrap(), "ended with USER_REFUSED");

    // The old phone confirms with PIN1: the new phone gets an account of the same person.
    let waiting = new_phone.spawn(
        &owned.iter().map(String::as_str).collect::<Vec<_>>(),
        "2222\n22222\n",
    );
    assert_success(&old_phone.confirm_next(&[], "1111\n"));
    let added = document_number(&waiting.join().unwrap());
    assert!(added.starts_with("PNOEE-30303039914-"), "{added}");
    let record = account_record(server, &added);
    assert_eq!(record.proofing_method, "account");
    assert_eq!(
        record.proofing_evidence["documentNumber"],
        existing.as_str()
    );
    assert_eq!(new_phone.accounts().len(), 1);
}

#[test]
fn a_replacement_is_registered_with_the_expiring_account_before_it_expires() {
    let setup = Proofing::start("off");
    let (server, phone) = (&setup.server, &setup.phone);
    let expiring = phone.register(server, "PNOEE-30303039914", "1111", "11111");
    let other = phone.register(server, "PNOEE-30303039914", "3333", "33333");

    // A day before the three years are up, the account still vouches for its replacement.
    server.advance_clock(3 * 365 * 86_400 - 86_400);
    let replacement = document_number(&register_vouched(
        phone,
        server,
        &expiring,
        "1111\n2222\n22222\n",
    ));
    let old = account_record(server, &expiring);
    let new = account_record(server, &replacement);
    assert_eq!(new.semantics_id, old.semantics_id);
    assert!(new.expires_at > old.expires_at + days(3 * 365 - 2));
    assert_eq!(new.proofing_evidence["documentNumber"], expiring.as_str());

    // Once expired, it cannot.
    server.advance_clock(2 * 86_400);
    assert_refused(
        &register_vouched(phone, server, &other, "3333\n4444\n44444\n"),
        "expired",
    );
}

#[test]
fn a_closed_account_cannot_vouch() {
    let setup = Proofing::start("off");
    let (server, phone) = (&setup.server, &setup.phone);
    let voucher = phone.register(server, "PNOEE-30303039914", "1111", "11111");
    // Closed by support (lost phone), still on the phone.
    assert_success(&server.admin(&["accounts", "close", &voucher, "--lost-device"]));
    assert_refused(
        &register_vouched(phone, server, &voucher, "1111\n2222\n22222\n"),
        "closed",
    );
    assert_eq!(phone.accounts().len(), 1);
}

#[test]
fn a_broken_proofing_configuration_stops_the_start_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, "{\"keys\": []}").unwrap();
    let good_jwks = dir.path().join("good-jwks.json");
    std::fs::write(
        &good_jwks,
        r#"{"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}"#,
    )
    .unwrap();
    let anchor = dir.path().join("anchor.pem");
    std::fs::write(&anchor, "not a certificate").unwrap();
    for (section, reason) in [
        (
            format!("[proofing.oidc]\nissuer = \"x\"\naudience = \"y\"\njwks_file = {jwks:?}\n"),
            "the JWKS has no keys",
        ),
        (
            format!("[proofing.eid_certificate]\ntrust_anchors = [{anchor:?}]\n"),
            "holds no PEM certificate",
        ),
        (
            format!("[proofing.oidc]\nissuer = \"x\"\naudience = \"y\"\njwks_file = {good_jwks:?}\nlevel = \"GOLD\"\n"),
            "QUALIFIED or ADVANCED",
        ),
        (
            "[proofing.oidc]\nissuer = \"x\"\naudience = \"y\"\njwks_file = \"/nonexistent/jwks.json\"\n".to_owned(),
            "cannot read /nonexistent/jwks.json",
        ),
        ("[proofing.account]\nenabled = true\nlevel = \"QUALIFIED\"\n".to_owned(), "unknown field"),
    ] {
        let config = dir.path().join("splitid.toml");
        std::fs::write(&config, section).unwrap();
        let output = splitid_testkit::serve_refusing(&dir.path().join("data"), &config);
        assert!(!output.status.success());
        assert!(
            stderr(&output).contains(reason),
            "expected {reason:?} in {}",
            stderr(&output)
        );
    }
}

#[test]
fn methods_the_operator_did_not_configure_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[]);
    let phone = Phone::new();
    let ca = TestCa::new("Test eID");
    let leaf = ca.current_leaf(dir.path(), &rcgen::PKCS_ECDSA_P256_SHA256);
    assert_refused(
        &register_eid(&phone, &server, &leaf),
        "\"eid_certificate\" is not enabled",
    );
    let challenge = proofing_challenge(&phone, &server);
    assert_refused(
        &register_oidc(
            &phone,
            &server,
            challenge["challengeId"].as_str().unwrap(),
            "a.b.c",
        ),
        "\"oidc\" is not enabled",
    );
    let demo = phone.register(&server, "PNOEE-30303039914", "1111", "11111");
    assert_refused(
        &register_vouched(&phone, &server, &demo, "1111\n2222\n22222\n"),
        "\"account\" is not enabled",
    );
}

#[test]
fn a_server_without_demo_refuses_to_run_on_a_demo_data_directory() {
    let mut server = Server::start(&[]);
    let phone = Phone::new();
    phone.register(&server, "PNOEE-30303039914", "1111", "11111");
    server.stop();
    let output = std::process::Command::new(splitid_testkit::splitid_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(server.data.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("test CA"), "{}", stderr(&output));
}
