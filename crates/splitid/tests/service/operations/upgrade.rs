//! A database made before migration 0009, which stored sessions in RP API v2's shapes, opens
//! with today's code: each stored session answers exactly as it did, and the one still
//! waiting is answered by its phone. The fixtures (tests/fixtures/upgrade) were made by
//! `make.sh` with the build of commit 19c340b, on SQLite and on PostgreSQL; this test runs on
//! the backend the suite runs on.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;
use splitid_proto::VerificationCode;
use splitid_testkit::*;

fn fixture(backend: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/upgrade/{backend}"))
}

/// Copies a fixture directory, its files readable by their owner only, as the service keeps
/// them (git does not keep file modes).
fn copy_dir(from: &Path, to: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let copy = to.join(entry.file_name());
        std::fs::copy(entry.path(), &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

fn run(database: &splitid_domain::store::DatabaseConfig, script: &str) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run_script(database, script))
        .unwrap();
}

/// The fixture's sessions, moved to now: the completed ones just completed, the running one
/// with ten minutes left. Only their dates change; what is tested is their stored form.
fn make_current(database: &splitid_domain::store::DatabaseConfig) {
    let format = &time::format_description::well_known::Rfc3339;
    let now = time::OffsetDateTime::now_utc();
    let (now, later) = (
        now.format(format).unwrap(),
        (now + time::Duration::minutes(10)).format(format).unwrap(),
    );
    run(
        database,
        &format!(
            "UPDATE sessions SET created_at = '{now}', deadline = '{later}',
                 completed_at = CASE WHEN completed_at IS NULL THEN NULL ELSE '{now}' END"
        ),
    );
}

#[test]
fn sessions_stored_by_older_code_are_answered_after_the_upgrade() {
    let backend = if tests_use_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    let fixture = fixture(backend);
    let stored: Value =
        serde_json::from_slice(&std::fs::read(fixture.join("answers.json")).unwrap()).unwrap();
    let data = tempfile::tempdir().unwrap();
    copy_dir(&fixture.join("data"), data.path());
    let database = tests_use_postgres().then(|| {
        let database = scratch_database_blocking();
        let dump = std::fs::read_to_string(fixture.join("dump.sql")).unwrap();
        run(&postgres_config(&database, 1), &dump);
        database
    });
    let config = match &database {
        Some(database) => postgres_config(database, 1),
        None => splitid_domain::store::DatabaseConfig::SqliteIn(data.path().to_owned()),
    };
    make_current(&config);

    let server = Server::start_on_existing(data, database, &[]);
    let rp = RelyingParty::new(&server);
    for name in ["ok", "refused", "choice"] {
        let session = stored["sessions"][name].as_str().unwrap();
        let (status, answer) = rp.status(session, 1000);
        assert_eq!(status, 200, "{name}: {answer}");
        assert_eq!(answer, stored["answers"][name], "{name}");
    }

    let phone = Phone::new();
    copy_dir(&fixture.join("phone"), phone.home.path());
    phone.use_server(&server);
    let running = stored["sessions"]["running"].as_str().unwrap();
    let hash = BASE64
        .decode(stored["runningHash"].as_str().unwrap())
        .unwrap();
    let code = VerificationCode::from_hash(&hash).to_string();
    let confirmed = phone.run(
        &["confirm", "--transaction", running, "--vc", &code],
        "1357\n",
    );
    assert_success(&confirmed);
    let answer = rp.result(running);
    assert_eq!(answer["result"]["endResult"], "OK", "{answer}");
    assert_eq!(answer["interactionFlowUsed"], "verificationCodeChoice");
    assert_eq!(answer["signature"]["algorithm"], "sha384WithRSAEncryption");
    let document = answer["result"]["documentNumber"].as_str().unwrap();
    let certificate = BASE64
        .decode(answer["cert"]["value"].as_str().unwrap())
        .unwrap();
    assert_eq!(certificate, phone.certificate(document, "authentication"));
    // The signature is an ordinary one: openssl verifies it over the stored digest.
    verify_pkcs1_signature(
        &certificate,
        &hash,
        "sha384",
        &BASE64
            .decode(answer["signature"]["value"].as_str().unwrap())
            .unwrap(),
    );
    // It works, but its registration sent d1ˢ and the MAC key in clear: the app says so.
    let accounts = phone.run(&["accounts"], "");
    assert_success(&accounts);
    assert!(
        stdout(&accounts).contains("registered before sealing: register this device again"),
        "{}",
        stdout(&accounts)
    );
}

/// openssl's verdict on a PKCS#1 v1.5 signature over a digest, by the certificate's key.
fn verify_pkcs1_signature(certificate: &[u8], digest: &[u8], algorithm: &str, signature: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, digest_file, signature_file) = (
        dir.path().join("cert.pem"),
        dir.path().join("digest"),
        dir.path().join("signature"),
    );
    der_to_pem(certificate, "x509", &cert);
    std::fs::write(&digest_file, digest).unwrap();
    std::fs::write(&signature_file, signature).unwrap();
    let verdict = openssl(&[
        "pkeyutl",
        "-verify",
        "-certin",
        "-inkey",
        cert.to_str().unwrap(),
        "-in",
        digest_file.to_str().unwrap(),
        "-sigfile",
        signature_file.to_str().unwrap(),
        "-pkeyopt",
        &format!("digest:{algorithm}"),
    ]);
    assert!(
        stdout(&verdict).contains("Signature Verified Successfully"),
        "{}",
        all_output(&verdict)
    );
}
