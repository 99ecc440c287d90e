//! What a relying party does to trust SplitID certificates, with the real `openssl`: download
//! the CA certificates, export a person's certificates with `splitid app certificates`, ask
//! the OCSP responder and read the CRLs, before and after the account is closed.

use std::path::{Path, PathBuf};

use splitid_testkit::*;

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Dir(tempfile::tempdir().unwrap())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    fn text(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }
}

fn get(url: &str) -> (u16, String, Vec<u8>) {
    status_type_and_body(reqwest::blocking::get(url).unwrap())
}

fn post_ocsp(server: &Server, body: &[u8]) -> (u16, String, Vec<u8>) {
    let response = reqwest::blocking::Client::new()
        .post(format!("{}/pki/ocsp", server.url))
        .header("Content-Type", "application/ocsp-request")
        .body(body.to_vec())
        .send()
        .unwrap();
    status_type_and_body(response)
}

/// The HTTP status, the Content-Type (empty if none) and the body.
fn status_type_and_body(response: reqwest::blocking::Response) -> (u16, String, Vec<u8>) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.bytes().unwrap().to_vec())
}

/// Downloads a DER object and writes it as PEM with openssl (`x509` or `crl`).
fn download_pem(server: &Server, path: &str, kind: &str, out: &Path, content_type: &str) {
    let (status, got_type, der) = get(&format!("{}{path}", server.url));
    assert_eq!((status, got_type.as_str()), (200, content_type), "{path}");
    der_to_pem(&der, kind, out);
}

/// The CA certificates as a relying party fetches them: root.pem, issuing.pem, chain.pem.
fn fetch_ca_certificates(server: &Server, dir: &Dir) {
    download_bundle(
        server,
        dir,
        ("x509", "application/pkix-cert"),
        &[
            ("/pki/issuing-ca.crt", "issuing.pem"),
            ("/pki/root-ca.crt", "root.pem"),
        ],
        "chain.pem",
    );
}

/// Both CRLs, fresh: issuing.crl.pem and root.crl.pem, and both in crls.pem.
fn fetch_crls(server: &Server, dir: &Dir) {
    download_bundle(
        server,
        dir,
        ("crl", "application/pkix-crl"),
        &[
            ("/pki/issuing-ca.crl", "issuing.crl.pem"),
            ("/pki/root-ca.crl", "root.crl.pem"),
        ],
        "crls.pem",
    );
}

/// Downloads each (path, file name) in turn as PEM into `dir` (`kind` as for `download_pem`,
/// with the Content-Type the server must give), then all of them, in that order, into
/// `bundle`.
fn download_bundle(
    server: &Server,
    dir: &Dir,
    (kind, content_type): (&str, &str),
    objects: &[(&str, &str)],
    bundle: &str,
) {
    let mut pem = String::new();
    for (path, name) in objects {
        download_pem(server, path, kind, &dir.path(name), content_type);
        pem.push_str(&std::fs::read_to_string(dir.path(name)).unwrap());
    }
    std::fs::write(dir.path(bundle), pem).unwrap();
}

/// `openssl ocsp` as a relying party runs it, with a nonce unless `-no_nonce` is in `extra`.
fn ocsp(server: &Server, dir: &Dir, issuer: &str, extra: &[&str]) -> String {
    let url = format!("{}/pki/ocsp", server.url);
    let mut args = vec!["ocsp", "-issuer", issuer, "-url", &url, "-CAfile"];
    let root = dir.text("root.pem");
    args.push(&root);
    args.push("-resp_text");
    args.extend_from_slice(extra);
    all_output(&openssl(&args))
}

fn crl_text(dir: &Dir) -> String {
    let output = openssl(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        &dir.text("issuing.crl.der"),
        "-CAfile",
        &dir.text("chain.pem"),
        "-noout",
        "-text",
    ]);
    all_output(&output)
}

fn verify_with_crls(dir: &Dir, certificate: &str) -> String {
    all_output(&openssl(&[
        "verify",
        "-crl_check_all",
        "-CAfile",
        &dir.text("chain.pem"),
        "-CRLfile",
        &dir.text("crls.pem"),
        certificate,
    ]))
}

/// The value after `label` on its line, e.g. the revocation time.
fn value_after<'a>(text: &'a str, label: &str) -> &'a str {
    let start = text
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in\n{text}"))
        + label.len();
    text[start..].lines().next().unwrap().trim()
}

fn crl_number(text: &str) -> u64 {
    let start = text.find("X509v3 CRL Number:").expect("CRL number") + 18;
    text[start..]
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn serial_hex(pem_path: &str) -> String {
    let output = openssl(&["x509", "-in", pem_path, "-noout", "-serial"]);
    value_after(&stdout(&output), "serial=").to_owned()
}

/// A server, a phone with one demo account whose certificates are exported to `mine/`, and
/// the CA certificates fetched: where a relying party starts to check the status.
struct Exported {
    server: Server,
    phone: Phone,
    document: String,
    dir: Dir,
}

impl Exported {
    fn new() -> Exported {
        let server = Server::start(&[]);
        let phone = Phone::new();
        let document = phone.register(&server, "PNOEE-30303039914", "1234", "12345");
        let dir = Dir::new();
        assert_success(&phone.run(&["certificates", &document, "--out", &dir.text("mine")], ""));
        fetch_ca_certificates(&server, &dir);
        Exported {
            server,
            phone,
            document,
            dir,
        }
    }
}

#[test]
fn a_relying_party_checks_status_by_ocsp_and_crl_until_the_account_is_deleted() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, "PNOEE-30303039914", "1234", "12345");
    let dir = Dir::new();

    // The person exports their certificates.
    let exported = phone.run(&["certificates", &document, "--out", &dir.text("mine")], "");
    assert_success(&exported);
    let auth = dir.text("mine/auth.pem");
    let sign = dir.text("mine/sign.pem");
    assert_eq!(
        stdout(&exported).lines().collect::<Vec<_>>(),
        [auth.as_str(), sign.as_str()]
    );
    let auth_der = std::fs::read(dir.path("mine/auth.der")).ok();
    assert!(auth_der.is_none(), "only PEM files are written");
    let subject = stdout(&openssl(&["x509", "-in", &sign, "-noout", "-subject"]));
    assert!(subject.contains("PNOEE-30303039914"), "{subject}");

    // The relying party fetches the CA certificates and checks status while it is good.
    fetch_ca_certificates(&server, &dir);
    let issuing = dir.text("issuing.pem");
    for certificate in [&auth, &sign] {
        let answer = ocsp(&server, &dir, &issuing, &["-cert", certificate]);
        assert!(answer.contains("Response verify OK"), "{answer}");
        assert!(answer.contains(&format!("{certificate}: good")), "{answer}");
        assert!(
            answer.contains("OCSP Nonce"),
            "the nonce is echoed: {answer}"
        );
        assert!(!answer.contains("WARNING"), "{answer}");
    }
    let answer = ocsp(&server, &dir, &issuing, &["-cert", &auth, "-no_nonce"]);
    assert!(answer.contains("Response verify OK"), "{answer}");
    assert!(answer.contains(": good"), "{answer}");
    assert!(!answer.contains("OCSP Nonce"), "{answer}");

    fetch_crls(&server, &dir);
    let before = crl_text(&dir);
    assert!(before.contains("verify OK"), "{before}");
    assert!(before.contains("No Revoked Certificates"), "{before}");
    assert!(verify_with_crls(&dir, &auth).contains(": OK"));

    // The person deletes the account: both certificates are revoked at once.
    assert_success(&phone.run(&["delete", &document], ""));
    let mut revocation_times = Vec::new();
    for certificate in [&auth, &sign] {
        let answer = ocsp(&server, &dir, &issuing, &["-cert", certificate]);
        assert!(answer.contains("Response verify OK"), "{answer}");
        assert!(
            answer.contains(&format!("{certificate}: revoked")),
            "{answer}"
        );
        assert!(answer.contains("Reason: cessationOfOperation"), "{answer}");
        revocation_times.push(value_after(&answer, "Revocation Time:").to_owned());
    }

    fetch_crls(&server, &dir);
    let after = crl_text(&dir);
    assert!(after.contains("verify OK"), "{after}");
    assert!(
        crl_number(&after) > crl_number(&before),
        "{before}\n{after}"
    );
    for (certificate, time) in [&auth, &sign].into_iter().zip(&revocation_times) {
        let serial = serial_hex(certificate);
        let entry = &after[after
            .find(&format!("Serial Number: {serial}"))
            .expect(&serial)..];
        assert_eq!(
            value_after(entry, "Revocation Date:"),
            time,
            "CRL and OCSP agree"
        );
        let at = entry
            .find("X509v3 CRL Reason Code:")
            .expect("a reason code");
        let reason = entry[at..].lines().nth(1).unwrap().trim();
        assert_eq!(reason, "Cessation Of Operation");
    }
    let refused = verify_with_crls(&dir, &auth);
    assert!(refused.contains("certificate revoked"), "{refused}");

    // After a restart the CRL number does not go back, and the status stays.
    let mut server = server;
    let number = crl_number(&after);
    server.restart();
    fetch_crls(&server, &dir);
    assert!(crl_number(&crl_text(&dir)) >= number);
    let answer = ocsp(&server, &dir, &issuing, &["-cert", &auth]);
    assert!(answer.contains(": revoked"), "{answer}");
}

#[test]
fn serials_never_issued_and_other_cas_certificates_are_unknown() {
    let server = Server::start(&[]);
    let dir = Dir::new();
    fetch_ca_certificates(&server, &dir);
    let issuing = dir.text("issuing.pem");

    let answer = ocsp(&server, &dir, &issuing, &["-serial", "0x4242424242424242"]);
    assert!(answer.contains("Response verify OK"), "{answer}");
    assert!(answer.contains("0x4242424242424242: unknown"), "{answer}");

    // A certificate of some other CA (self-issued here): not ours, whatever its serial.
    let other = dir.text("other.pem");
    assert_success(&openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=Some Other CA",
        "-days",
        "1",
        "-keyout",
        &dir.text("other.key"),
        "-out",
        &other,
    ]));
    let answer = ocsp(&server, &dir, &other, &["-cert", &other]);
    assert!(answer.contains(&format!("{other}: unknown")), "{answer}");
}

#[test]
fn a_revocation_written_by_another_process_shows_at_once() {
    let Exported {
        server,
        phone: _phone,
        document,
        dir,
    } = Exported::new();
    let auth = dir.text("mine/auth.pem");
    let issuing = dir.text("issuing.pem");
    fetch_crls(&server, &dir);
    let number = crl_number(&crl_text(&dir));
    assert!(ocsp(&server, &dir, &issuing, &["-cert", &auth]).contains(": good"));

    // The operator's tool, another process on the same database, closes the account.
    assert_success(&server.admin(&["accounts", "close", &document, "--lost-device"]));

    let answer = ocsp(&server, &dir, &issuing, &["-cert", &auth]);
    assert!(answer.contains(": revoked"), "{answer}");
    assert!(answer.contains("Reason: keyCompromise"), "{answer}");
    fetch_crls(&server, &dir);
    let text = crl_text(&dir);
    assert_eq!(crl_number(&text), number + 1, "{text}");
    assert!(text.contains("Key Compromise"), "{text}");
}

#[test]
fn ocsp_over_get_and_malformed_requests() {
    use base64::Engine;
    let Exported {
        server,
        phone: _phone,
        document: _,
        dir,
    } = Exported::new();

    // RFC 6960 A.1 GET: the URL-encoded base64 of the DER request.
    let request = dir.text("request.der");
    assert_success(&openssl(&[
        "ocsp",
        "-issuer",
        &dir.text("issuing.pem"),
        "-cert",
        &dir.text("mine/auth.pem"),
        "-no_nonce",
        "-reqout",
        &request,
    ]));
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(&request).unwrap());
    let encoded = encoded
        .replace('/', "%2F")
        .replace('+', "%2B")
        .replace('=', "%3D");
    let (status, content_type, body) = get(&format!("{}/pki/ocsp/{encoded}", server.url));
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/ocsp-response")
    );
    std::fs::write(dir.path("response.der"), body).unwrap();
    let answer = all_output(&openssl(&[
        "ocsp",
        "-respin",
        &dir.text("response.der"),
        "-issuer",
        &dir.text("issuing.pem"),
        "-cert",
        &dir.text("mine/auth.pem"),
        "-CAfile",
        &dir.text("root.pem"),
    ]));
    assert!(answer.contains("Response verify OK"), "{answer}");
    assert!(answer.contains(": good"), "{answer}");

    // Anything that is not an OCSP request gets malformedRequest (an OCSP answer, HTTP 200).
    const MALFORMED: [u8; 5] = [0x30, 0x03, 0x0a, 0x01, 0x01];
    for body in [&b""[..], b"hello", &[0x30, 0x80, 0x00]] {
        let (status, content_type, answer) = post_ocsp(&server, body);
        assert_eq!(
            (status, content_type.as_str()),
            (200, "application/ocsp-response")
        );
        assert_eq!(answer, MALFORMED, "{body:?}");
    }
    for path in ["not*base64", "aGVsbG8%3D", "%2F%2F%2F", "%FF%FE"] {
        let (status, _, answer) = get(&format!("{}/pki/ocsp/{path}", server.url));
        assert_eq!((status, answer.as_slice()), (200, &MALFORMED[..]), "{path}");
    }
}

#[test]
fn exporting_certificates_of_an_unknown_account_fails_clearly_and_writes_nothing() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    phone.register(&server, "PNOEE-30303039914", "1234", "12345");
    let dir = Dir::new();
    let out = dir.text("out");
    let refused = phone.run(
        &["certificates", "PNOEE-30303039914-NONE-Q", "--out", &out],
        "",
    );
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("no account PNOEE-30303039914-NONE-Q on this device"),
        "{}",
        stderr(&refused)
    );
    assert!(!dir.path("out").exists(), "nothing written");
}
