//! End to end with the PKCS#11 key store: the real `splitid serve --demo` with its KEK and CA
//! keys in a SoftHSM2 token (Debian package `softhsm2`, which .ci/run installs; a missing
//! module fails this test, it is never skipped). A device registers, logs in and signs; the
//! certificates, CRLs and OCSP answers verify with `openssl`; the server restarts on the same
//! token and data directory and logs in again; the admin tool opens the same data; and
//! `ca.json` holds no CA private key.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use splitid_testkit::*;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const TOKEN: &str = "splitid-test";
const TOKEN_PIN: &str = "1234";

/// A SoftHSM2 token directory of its own, with one token initialised.
struct SoftHsm {
    dir: tempfile::TempDir,
}

impl SoftHsm {
    fn new() -> Self {
        assert!(
            Path::new(MODULE).exists(),
            "SoftHSM2 is not installed: {MODULE} is missing (apt-get install softhsm2; .ci/run does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        std::fs::write(
            dir.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        let softhsm = SoftHsm { dir };
        let output = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", TOKEN])
            .args(["--so-pin", "1234", "--pin", TOKEN_PIN])
            .env("SOFTHSM2_CONF", softhsm.conf())
            .env("SPLITID_DEMO_PHONE", "false")
            .output()
            .expect("softhsm2-util (Debian package softhsm2) must be installed");
        assert_success(&output);
        softhsm
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("softhsm2.conf")
    }

    /// A `splitid serve` configuration file selecting this token.
    fn splitid_config(&self) -> PathBuf {
        let path = self.dir.path().join("splitid.toml");
        std::fs::write(
            &path,
            format!(
                "[keystore]\nkind = \"pkcs11\"\nmodule = \"{MODULE}\"\ntoken_label = \"{TOKEN}\"\nkey_label = \"e2e\"\n"
            ),
        )
        .unwrap();
        path
    }
}

/// Writes DER as PEM (`kind`: x509 or crl) in `dir`; returns the PEM file's path.
fn write_pem(dir: &Path, name: &str, kind: &str, der: &[u8]) -> String {
    let pem_path = dir.join(format!("{name}.pem"));
    der_to_pem(der, kind, &pem_path);
    pem_path.to_str().unwrap().to_owned()
}

fn download(server: &Server, path: &str) -> Vec<u8> {
    let response = reqwest::blocking::get(format!("{}{path}", server.url)).unwrap();
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.bytes().unwrap().to_vec()
}

/// A login as the demo relying party, confirmed on the phone with PIN1; the result.
fn log_in(server: &Server, phone: &Phone) -> serde_json::Value {
    let rp = RelyingParty::new(server);
    let hash = fresh_hash("log in with the CA in the HSM");
    let session = rp.start(
        "/authentication/etsi/PNOEE-30303039914",
        &signing_body(&hash, "SHA512", display_text_and_pin("Log in to DEMO")),
    );
    assert_success(&phone.confirm_next(&[], "1234\n"));
    let result = rp.result(&session);
    assert_eq!(result["result"]["endResult"], "OK", "{result}");
    result
}

#[test]
fn a_server_with_its_keys_in_a_token_serves_logins_and_signatures_across_restarts() {
    let softhsm = SoftHsm::new();
    let conf = softhsm.conf();
    let config = softhsm.splitid_config();
    // The configuration file goes by SPLITID_CONFIG so that `splitid admin` reads it too; the
    // PIN only ever travels in the environment.
    let mut server = Server::start_with_env(
        &[],
        &[
            ("SOFTHSM2_CONF", conf.to_str().unwrap()),
            ("SPLITID_CONFIG", config.to_str().unwrap()),
            ("SPLITID_PKCS11_PIN", TOKEN_PIN),
        ],
    );
    assert!(
        !server.data.path().join("kek.key").exists(),
        "no key-encryption key file with PKCS#11"
    );

    let phone = Phone::new();
    let document = phone.register(&server, "PNOEE-30303039914", "1234", "12345");
    let login = log_in(&server, &phone);
    assert_eq!(login["result"]["documentNumber"], document.as_str());

    // A signature with PIN2.
    let rp = RelyingParty::new(&server);
    let message = b"a contract signed with the CA in the HSM";
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
    let session = rp.start(
        &format!("/signature/document/{document}"),
        &signing_body(
            hash.as_ref(),
            "SHA256",
            serde_json::json!([{ "type": "confirmationMessage", "displayText200": "Sign it?" }]),
        ),
    );
    assert_success(&phone.confirm_next(&[], "12345\n"));
    let signed = rp.result(&session);
    assert_eq!(signed["result"]["endResult"], "OK", "{signed}");
    let signing_certificate = b64decode(signed["cert"]["value"].as_str().unwrap());
    let identity = splitid_pki::parse_identity(&signing_certificate).unwrap();
    aws_lc_rs::signature::RsaPublicKeyComponents {
        n: identity.rsa_modulus.as_slice(),
        e: &[1u8, 0, 1][..],
    }
    .verify(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        message,
        &b64decode(signed["signature"]["value"].as_str().unwrap()),
    )
    .expect("the signature verifies with the certificate's key");

    // The token's CA signatures, checked by openssl: the chain of both certificates, both
    // CRLs, and the OCSP responder certificate (issued by the issuing CA) in a signed answer.
    let files = tempfile::tempdir().unwrap();
    let root_der = download(&server, "/pki/root-ca.crt");
    let root = write_pem(files.path(), "root", "x509", &root_der);
    let issuing = write_pem(
        files.path(),
        "issuing",
        "x509",
        &download(&server, "/pki/issuing-ca.crt"),
    );
    let chain = files.path().join("chain.pem");
    std::fs::write(
        &chain,
        std::fs::read_to_string(&issuing).unwrap() + &std::fs::read_to_string(&root).unwrap(),
    )
    .unwrap();
    let crls = files.path().join("crls.pem");
    let issuing_crl = write_pem(
        files.path(),
        "issuing-crl",
        "crl",
        &download(&server, "/pki/issuing-ca.crl"),
    );
    let root_crl = write_pem(
        files.path(),
        "root-crl",
        "crl",
        &download(&server, "/pki/root-ca.crl"),
    );
    std::fs::write(
        &crls,
        std::fs::read_to_string(&issuing_crl).unwrap()
            + &std::fs::read_to_string(&root_crl).unwrap(),
    )
    .unwrap();
    let chain = chain.to_str().unwrap();
    let crls = crls.to_str().unwrap();
    for crl in [&issuing_crl, &root_crl] {
        let checked = all_output(&openssl(&["crl", "-in", crl, "-CAfile", chain, "-noout"]));
        assert!(checked.contains("verify OK"), "{crl}: {checked}");
    }
    for (name, der) in [
        ("auth", phone.certificate(&document, "authentication")),
        ("sign", signing_certificate.clone()),
    ] {
        let leaf = write_pem(files.path(), name, "x509", &der);
        let verified = all_output(&openssl(&[
            "verify",
            "-crl_check_all",
            "-CAfile",
            chain,
            "-CRLfile",
            crls,
            &leaf,
        ]));
        assert!(verified.contains(&format!("{leaf}: OK")), "{verified}");
        let url = format!("{}/pki/ocsp", server.url);
        let answer = all_output(&openssl(&[
            "ocsp", "-issuer", &issuing, "-cert", &leaf, "-url", &url, "-CAfile", &root,
        ]));
        assert!(answer.contains("Response verify OK"), "{answer}");
        assert!(answer.contains(&format!("{leaf}: good")), "{answer}");
    }

    // ca.json: certificates and the keys' labels in the token, no CA private key; the OCSP
    // responder's key (not a CA key) is sealed under the token's KEK, not in the clear.
    let ca_text = std::fs::read_to_string(server.data.path().join("ca.json")).unwrap();
    let ca: serde_json::Value = serde_json::from_str(&ca_text).unwrap();
    let mut fields: Vec<&str> = ca.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "ca_keys",
            "issuing_certificate",
            "ocsp_responder_certificate",
            "ocsp_responder_key_sealed",
            "root_certificate",
            "test"
        ],
        "{ca_text}"
    );
    assert_eq!(ca["ca_keys"]["kind"], "pkcs11");
    assert_eq!(ca["ca_keys"]["token_label"], TOKEN);
    for role in ["root", "issuing"] {
        let label = ca["ca_keys"][role]["label"].as_str().unwrap();
        assert!(label.starts_with(&format!("e2e-{role}-ca-")), "{label}");
    }
    let responder_key = BASE64
        .decode(ca["ocsp_responder_key_sealed"].as_str().unwrap())
        .unwrap();
    assert!(
        aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
            &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            &responder_key
        )
        .is_err(),
        "the responder's key is sealed, not PKCS#8 in the clear"
    );
    assert!(!ca_text.contains("PRIVATE KEY"));

    // The admin tool opens the same data directory with the same key store.
    let shown = server.admin(&["accounts", "show", &document]);
    assert_success(&shown);
    // Without the key store's settings it refuses, and says where the keys are.
    let refused = Command::new(splitid_binary())
        .args(["admin", "--data"])
        .arg(server.data.path())
        .args(
            server
                .database
                .iter()
                .flat_map(|db| ["--database", db.url()]),
        )
        .args(["accounts", "show", &document])
        .env_remove("SPLITID_CONFIG")
        .env_remove("SPLITID_KEYSTORE")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = stderr(&refused);
    assert!(said.contains("PKCS#11"), "{said}");

    // A restart on the same token and data directory: the same CA, and logins work.
    server.restart();
    assert_eq!(download(&server, "/pki/root-ca.crt"), root_der);
    let again = log_in(&server, &phone);
    assert_eq!(again["result"]["documentNumber"], document.as_str());
    assert!(!server.data.path().join("kek.key").exists());
}

#[test]
fn a_misconfigured_token_stops_the_server_with_a_clear_message() {
    let softhsm = SoftHsm::new();
    let data = tempfile::tempdir().unwrap();
    let serve = |env: &[(&str, &str)], extra: &[&str]| {
        let output = Command::new(splitid_binary())
            .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--data"])
            .arg(data.path())
            .args(["--keystore", "pkcs11", "--pkcs11-module", MODULE])
            .args(extra)
            .env("SOFTHSM2_CONF", softhsm.conf())
            .env_remove("SPLITID_PKCS11_PIN")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(!output.status.success());
        stderr(&output)
    };
    let said = serve(
        &[("SPLITID_PKCS11_PIN", "1234")],
        &["--pkcs11-token-label", "no-such-token"],
    );
    assert!(
        said.contains(MODULE) && said.contains("no-such-token") && said.contains(TOKEN),
        "{said}"
    );
    let said = serve(
        &[("SPLITID_PKCS11_PIN", "864209")],
        &["--pkcs11-token-label", TOKEN],
    );
    assert!(said.contains("PIN is incorrect"), "{said}");
    assert!(!said.contains("864209"), "the PIN is never shown: {said}");
    let said = serve(&[], &["--pkcs11-token-label", TOKEN]);
    assert!(said.contains("SPLITID_PKCS11_PIN"), "{said}");
}

#[test]
fn a_pin_in_the_configuration_file_is_refused_without_showing_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("splitid.toml");
    std::fs::write(
        &config,
        format!("[keystore]\nkind = \"pkcs11\"\nmodule = \"{MODULE}\"\ntoken_label = \"{TOKEN}\"\npin = \"531642\"\n"),
    )
    .unwrap();
    let output = serve_refusing(&dir.path().join("data"), &config);
    assert!(!output.status.success());
    let said = stderr(&output);
    assert!(
        said.contains("SPLITID_PKCS11_PIN") && said.contains("pin_file"),
        "{said}"
    );
    assert!(!said.contains("531642"), "{said}");
}
