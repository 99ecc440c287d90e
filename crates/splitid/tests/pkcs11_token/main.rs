//! The PKCS#11 key store against a real token: SoftHSM2 (Debian package `softhsm2`, which
//! .ci/run installs). Each run makes its own tokens in a temporary directory. A missing module
//! fails these tests: they are never skipped.
//!
//! SoftHSM reads its configuration (SOFTHSM2_CONF) once, when the module is initialised, and a
//! process initialises it once: every test here shares one token directory, set up before any
//! test touches the module, and keeps to its own key labels.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use axum::http::Method;
use splitid_domain::clock::SystemClock;
use splitid_domain::keystore::{
    KeyStore, KeyStoreConfig, KeyStoreError, Pkcs11Config, Token, TokenKeyRef,
};
use splitid_domain::{Config, Service};
use splitid_testkit::{der_to_pem, openssl};
use zeroize::Zeroizing;

const TOKEN: &str = "splitid-test";
/// A second token, to open a data directory with the wrong one.
const OTHER_TOKEN: &str = "splitid-other";
/// A token only ever given the wrong PIN (were another test logged in to it, PKCS#11 would
/// answer "already logged in" before it looks at the PIN).
const WRONG_PIN_TOKEN: &str = "splitid-wrong-pin";
const PIN: &str = "1234";

/// The module: Debian's path, or SPLITID_TEST_PKCS11_MODULE elsewhere.
fn module() -> PathBuf {
    std::env::var_os("SPLITID_TEST_PKCS11_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/usr/lib/softhsm/libsofthsm2.so".into())
}

/// The shared token directory, made (with both tokens) before the module is first loaded.
fn softhsm() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        assert!(
            module().exists(),
            "SoftHSM2 is not installed: {} is missing (apt-get install softhsm2; .ci/run does)",
            module().display()
        );
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        for label in [TOKEN, OTHER_TOKEN, WRONG_PIN_TOKEN] {
            let output = Command::new("softhsm2-util")
                .args(["--init-token", "--free", "--label", label])
                .args(["--so-pin", "1234", "--pin", PIN])
                .env("SOFTHSM2_CONF", &conf)
                .output()
                .expect("softhsm2-util (Debian package softhsm2) must be installed");
            assert!(
                output.status.success(),
                "softhsm2-util --init-token failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        // SAFETY: set once, inside this OnceLock, before any test loads the module; every test
        // in this binary waits here first, and nothing else in it reads the environment
        // concurrently.
        unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };
        dir
    })
    .path()
}

fn config(key_label: &str) -> Pkcs11Config {
    softhsm();
    Pkcs11Config {
        module: module(),
        token_label: TOKEN.into(),
        pin: Zeroizing::new(PIN.into()),
        key_label: key_label.into(),
    }
}

fn token(key_label: &str) -> Arc<Token> {
    Token::open(&config(key_label)).unwrap()
}

/// One test at a time on the tokens: PKCS#11 keeps the login state per application and token,
/// not per session, so a key store that logs out when dropped logs out every other test's
/// sessions on that token too, and their next call fails (SoftHSM: "general error"). A service
/// keeps one key store for its whole life, so this is the tests' concern only.
static MODULE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    MODULE.blocking_lock()
}

async fn one_at_a_time_async() -> tokio::sync::MutexGuard<'static, ()> {
    MODULE.lock().await
}

#[test]
fn secrets_are_sealed_and_opened_in_the_token() {
    let _module = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let store =
        KeyStore::from_config(&KeyStoreConfig::Pkcs11(config("seal")), dir.path(), None).unwrap();
    assert!(
        !dir.path().join("kek.key").exists(),
        "no KEK file with PKCS#11"
    );
    let sealed = store.seal(b"d1s share", "account 1/auth/d1s").unwrap();
    assert_eq!(sealed.len(), 12 + 9 + 16, "nonce ‖ ciphertext ‖ tag");
    assert_eq!(
        &*store.open(&sealed, "account 1/auth/d1s").unwrap(),
        b"d1s share"
    );
    // Bound to its context; tampering anywhere (nonce, ciphertext, tag) is detected.
    assert!(matches!(
        store.open(&sealed, "account 2/auth/d1s"),
        Err(KeyStoreError::Integrity)
    ));
    for position in [0, 13, sealed.len() - 1] {
        let mut tampered = sealed.clone();
        tampered[position] ^= 1;
        assert!(
            matches!(
                store.open(&tampered, "account 1/auth/d1s"),
                Err(KeyStoreError::Integrity)
            ),
            "byte {position}"
        );
    }
    assert!(matches!(
        store.open(&sealed[..20], "account 1/auth/d1s"),
        Err(KeyStoreError::Integrity)
    ));
    // A fresh nonce every time.
    assert_ne!(
        store.seal(b"d1s share", "account 1/auth/d1s").unwrap(),
        sealed
    );
    // The store still works after failures (the pool dropped nothing it needs).
    assert_eq!(
        &*store.open(&sealed, "account 1/auth/d1s").unwrap(),
        b"d1s share"
    );

    // Opened again (as after a restart), the KEK is found by its label, not made anew.
    let again =
        KeyStore::from_config(&KeyStoreConfig::Pkcs11(config("seal")), dir.path(), None).unwrap();
    assert_eq!(
        &*again.open(&sealed, "account 1/auth/d1s").unwrap(),
        b"d1s share"
    );
    // Another prefix is another KEK.
    let other =
        KeyStore::from_config(&KeyStoreConfig::Pkcs11(config("other")), dir.path(), None).unwrap();
    assert!(matches!(
        other.open(&sealed, "account 1/auth/d1s"),
        Err(KeyStoreError::Integrity)
    ));
}

#[test]
fn the_kek_never_leaves_the_token() {
    let _module = one_at_a_time();
    let token = token("kek-flags");
    let objects = token.key_objects(&token.kek_label()).unwrap();
    assert_eq!(objects.len(), 1, "exactly one KEK: {objects:?}");
    let kek = &objects[0];
    assert_eq!(kek.class, "secret");
    assert!(kek.token && kek.private, "{kek:?}");
    assert!(kek.sensitive && kek.always_sensitive, "{kek:?}");
    assert!(!kek.extractable && kek.never_extractable, "{kek:?}");
}

#[test]
fn concurrent_requests_share_the_token() {
    let _module = one_at_a_time();
    let token = token("concurrent");
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let token = token.clone();
            std::thread::spawn(move || {
                for round in 0..40 {
                    let context = format!("account {thread}/{round}");
                    let secret = format!("secret {thread} {round}");
                    let sealed = token.seal(secret.as_bytes(), &context).unwrap();
                    assert_eq!(
                        &*token.open_sealed(&sealed, &context).unwrap(),
                        secret.as_bytes()
                    );
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

#[test]
fn a_misconfigured_token_is_a_clear_error() {
    let _module = one_at_a_time();
    let mut wrong_label = config("misconfigured");
    wrong_label.token_label = "no-such-token".into();
    let error = Token::open(&wrong_label).unwrap_err().to_string();
    assert!(
        error.contains("libsofthsm2.so")
            && error.contains("no-such-token")
            && error.contains("tokens found")
            && error.contains(TOKEN),
        "{error}"
    );

    let mut wrong_pin = config("misconfigured");
    wrong_pin.token_label = WRONG_PIN_TOKEN.into();
    wrong_pin.pin = Zeroizing::new("98765".into());
    let error = Token::open(&wrong_pin).unwrap_err().to_string();
    assert!(
        error.contains("PIN is incorrect") && error.contains(WRONG_PIN_TOKEN),
        "{error}"
    );
    assert!(!error.contains("98765"), "the PIN is never shown: {error}");

    let mut no_module = config("misconfigured");
    no_module.module = "/nonexistent/libpkcs11.so".into();
    let error = Token::open(&no_module).unwrap_err().to_string();
    assert!(
        error.contains("/nonexistent/libpkcs11.so") && error.contains("does not exist"),
        "{error}"
    );

    let missing = token("misconfigured").ca_key(&TokenKeyRef {
        label: "misconfigured-root-ca-00".into(),
        id: "00".into(),
    });
    let error = missing.err().unwrap().to_string();
    assert!(
        error.contains("misconfigured-root-ca-00") && error.contains("not in this token"),
        "{error}"
    );
}

fn stored_ca(data: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(data.join("ca.json")).unwrap()).unwrap()
}

async fn open_service(data: &Path, keystore: KeyStoreConfig) -> Result<Service, String> {
    let mut config = Config::new(data, "http://127.0.0.1:8080");
    config.demo = true;
    config.keystore = keystore;
    Service::open(config, Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())
}

/// `der` as a PEM file `name.pem` in `dir` (with openssl); its path.
fn pem(dir: &Path, name: &str, kind: &str, der: &[u8]) -> String {
    let pem_path = dir.join(format!("{name}.pem"));
    der_to_pem(der, kind, &pem_path);
    pem_path.to_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_ca_keys_are_made_and_used_in_the_token() {
    let _module = one_at_a_time_async().await;
    let data = tempfile::tempdir().unwrap();
    let keystore = KeyStoreConfig::Pkcs11(config("ca"));
    let service = open_service(data.path(), keystore.clone()).await.unwrap();

    // ca.json names the keys; it holds no CA private key, and the responder's key is sealed
    // under the token's KEK.
    let stored = stored_ca(data.path());
    assert_eq!(stored["ca_keys"]["kind"], "pkcs11", "{stored}");
    assert_eq!(stored["ca_keys"]["token_label"], TOKEN);
    assert!(stored.get("root_key_sealed").is_none());
    assert!(stored.get("issuing_key_sealed").is_none());
    assert!(stored["ocsp_responder_key_sealed"].is_string());
    let root_label = stored["ca_keys"]["root"]["label"]
        .as_str()
        .unwrap()
        .to_owned();
    let issuing_label = stored["ca_keys"]["issuing"]["label"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(root_label.starts_with("ca-root-ca-"), "{root_label}");

    let token = token("ca");
    for label in [&root_label, &issuing_label] {
        let objects = token.key_objects(label).unwrap();
        assert_eq!(objects.len(), 1, "{label}: {objects:?}");
        let key = &objects[0];
        assert_eq!(key.class, "private");
        assert!(key.token && key.private && key.sensitive, "{key:?}");
        assert!(!key.extractable && key.never_extractable, "{key:?}");
    }

    // The token's signatures verify: the chain, and a CRL signed on demand.
    let (status, root) =
        splitid_testkit::in_process::call(&service, Method::GET, "/pki/root-ca.crt", "").await;
    assert_eq!(status, 200);
    let (_, issuing) =
        splitid_testkit::in_process::call(&service, Method::GET, "/pki/issuing-ca.crt", "").await;
    let (status, crl) =
        splitid_testkit::in_process::call(&service, Method::GET, "/pki/issuing-ca.crl", "").await;
    assert_eq!(status, 200);
    let files = tempfile::tempdir().unwrap();
    let root_pem = pem(files.path(), "root", "x509", &root);
    let issuing_pem = pem(files.path(), "issuing", "x509", &issuing);
    let crl_pem = pem(files.path(), "crl", "crl", &crl);
    let verified = openssl(&["verify", "-CAfile", &root_pem, &issuing_pem]);
    assert!(
        String::from_utf8_lossy(&verified.stdout).contains(": OK"),
        "{verified:?}"
    );
    let crl_check = openssl(&["crl", "-in", &crl_pem, "-CAfile", &issuing_pem, "-noout"]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&crl_check.stdout),
        String::from_utf8_lossy(&crl_check.stderr)
    );
    assert!(said.contains("verify OK"), "{said}");
    drop(service);

    // Reopened on the same token: the same CA.
    let service = open_service(data.path(), keystore).await.unwrap();
    let (_, again) =
        splitid_testkit::in_process::call(&service, Method::GET, "/pki/root-ca.crt", "").await;
    assert_eq!(again, root);
    drop(service);

    // With the file key store, the data directory is refused, and no KEK file appears.
    let error = open_service(data.path(), KeyStoreConfig::File)
        .await
        .err()
        .unwrap();
    assert!(error.contains("PKCS#11"), "{error}");
    assert!(!data.path().join("kek.key").exists());

    // Another token label than the CA's: refused with both names.
    let mut elsewhere = config("ca");
    elsewhere.token_label = OTHER_TOKEN.into();
    let error = open_service(data.path(), KeyStoreConfig::Pkcs11(elsewhere))
        .await
        .err()
        .unwrap();
    assert!(
        error.contains(TOKEN) && error.contains(OTHER_TOKEN),
        "{error}"
    );
}

#[tokio::test]
async fn a_file_data_directory_is_not_opened_with_a_token() {
    let _module = one_at_a_time_async().await;
    let (service, data) = splitid_testkit::in_process::demo_service().await;
    drop(service);
    let error = open_service(data.path(), KeyStoreConfig::Pkcs11(config("file-dir")))
        .await
        .err()
        .unwrap();
    assert!(
        error.contains("kek.key") && error.contains(TOKEN),
        "{error}"
    );
}
