//! A data directory from before the OCSP responder existed gets one on start, kept from then
//! on; the CRLs answer at their URLs with growing numbers; a data directory whose key-encryption
//! key is gone is refused rather than given a new one; the data is private to its owner.

use axum::http::Method;
use splitid_domain::Service;
use splitid_domain::clock::SystemClock;

const RESPONDER_FIELDS: [&str; 2] = ["ocsp_responder_certificate", "ocsp_responder_key_sealed"];

fn stored_ca(data: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(data.join("ca.json")).unwrap()).unwrap()
}

async fn reopen(data: &splitid_testkit::in_process::TestData) -> Service {
    data.open(|_| {}).await
}

#[tokio::test]
async fn an_old_ca_file_gets_an_ocsp_responder_once() {
    let (service, data) = splitid_testkit::in_process::demo_service().await;
    drop(service);
    let mut old = stored_ca(data.path());
    let root = old["root_certificate"].clone();
    for field in RESPONDER_FIELDS {
        assert!(old[field].is_string(), "a new CA has {field}");
        old.as_object_mut().unwrap().remove(field);
    }
    std::fs::write(data.path().join("ca.json"), old.to_string()).unwrap();

    drop(reopen(&data).await);
    let upgraded = stored_ca(data.path());
    assert_eq!(upgraded["root_certificate"], root, "the CA itself is kept");
    let responder = upgraded["ocsp_responder_certificate"].clone();
    assert!(responder.is_string());

    drop(reopen(&data).await);
    assert_eq!(
        stored_ca(data.path())["ocsp_responder_certificate"],
        responder,
        "the same responder on every start"
    );
}

#[tokio::test]
async fn crl_numbers_grow_with_revocations_and_survive_reopening() {
    let (service, data) = splitid_testkit::in_process::demo_service().await;
    let (status, first) =
        splitid_testkit::in_process::call(&service, Method::GET, "/pki/issuing-ca.crl", "").await;
    assert_eq!(status, 200);
    let (_, again) =
        splitid_testkit::in_process::call(&service, Method::GET, "/pki/issuing-ca.crl", "").await;
    assert_eq!(first, again, "unchanged: the same CRL is served");
    let (status, root) =
        splitid_testkit::in_process::call(&service, Method::GET, "/pki/root-ca.crl", "").await;
    assert_eq!(status, 200);
    assert_ne!(root, first);
    drop(service);

    let service = reopen(&data).await;
    let (_, reopened) =
        splitid_testkit::in_process::call(&service, Method::GET, "/pki/issuing-ca.crl", "").await;
    assert_eq!(reopened, first, "still fresh and unchanged after a restart");
    let stored = service.store().crl("issuing").await.unwrap().unwrap();
    assert_eq!(stored.number, 1);
}

#[tokio::test]
async fn a_data_directory_that_lost_its_key_encryption_key_gets_no_new_one() {
    let (service, data) = splitid_testkit::in_process::demo_service().await;
    drop(service);
    let kek = data.path().join("kek.key");
    std::fs::remove_file(&kek).unwrap();
    let refused = Service::open(data.config(), std::sync::Arc::new(SystemClock))
        .await
        .err()
        .expect("a data directory with a CA but no KEK is refused")
        .to_string();
    assert!(
        refused.contains("kek.key is missing") && refused.contains("ca.json"),
        "{refused}"
    );
    assert!(!kek.exists(), "no new key-encryption key was made");
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The data directory is its owner's only, and so are the database and its journal (on
/// SQLite); `serve` refuses a key-encryption key that others may read, and says how to fix it.
#[test]
fn the_data_is_private_and_an_exposed_key_encryption_key_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let mut server = splitid_testkit::Server::start(&[]);
    let data = server.data.path().to_owned();
    // Even a directory made readable by all is taken back at start.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    server.restart();
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("kek.key")), 0o600);
    if server.database.is_none() {
        for file in ["splitid.sqlite", "splitid.sqlite-wal", "splitid.sqlite-shm"] {
            assert_eq!(mode(&data.join(file)), 0o600, "{file}");
        }
    }
    server.stop();

    std::fs::set_permissions(data.join("kek.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = data.join("empty.toml");
    std::fs::write(&config, "").unwrap();
    let refused = splitid_testkit::serve_refusing(&data, &config);
    assert!(!refused.status.success());
    let message = splitid_testkit::stderr(&refused);
    assert!(
        message.contains("kek.key can be read by other users (mode 644)")
            && message.contains("chmod 600"),
        "{message}"
    );
}
