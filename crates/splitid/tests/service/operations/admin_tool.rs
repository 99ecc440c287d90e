//! End to end: the operator's tools (`splitid admin`) on a running server's data directory:
//! relying parties, billing figures that match the sessions run, the audit log of every
//! security event, and support closing a lost phone's account.

use serde_json::{Value, json};
use splitid_testkit::*;

const PERSON: &str = "PNOEE-30303039914";
const PIN1: &str = "1234";
const PIN2: &str = "12345";

fn bank_login(uuid: &str) -> Value {
    let mut body = login_body(display_text_and_pin("Log in to Demo Bank"));
    body["relyingPartyUUID"] = json!(uuid);
    body["relyingPartyName"] = json!("Demo Bank");
    body
}

fn events(entries: &Value) -> Vec<String> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_operator_adds_changes_and_disables_relying_parties() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    phone.register(&server, PERSON, PIN1, PIN2);
    let rp = RelyingParty::new(&server);
    let before = server.admin_json(&["rp", "list"]).as_array().unwrap().len();

    let added = server.admin_json(&[
        "rp",
        "add",
        "--name",
        "Demo Bank",
        "--level",
        "qualified",
        "--ip",
        "127.0.0.0/8",
    ]);
    let uuid = added["uuid"].as_str().unwrap().to_owned();
    assert_eq!(added["allowedLevels"], json!(["QUALIFIED"]), "{added}");
    let path = format!("/authentication/etsi/{PERSON}");
    assert_eq!(
        rp.post(&path, &bank_login(&uuid)).0,
        200,
        "a new RP can start sessions"
    );

    // Bad input is refused with a clear message and adds nothing.
    let bad_range = server.admin(&["rp", "add", "--name", "X", "--ip", "10.0.0.0/33"]);
    assert!(!bad_range.status.success());
    assert!(
        stderr(&bad_range).contains("is not a CIDR range"),
        "{}",
        stderr(&bad_range)
    );
    let no_name = server.admin(&["rp", "add", "--level", "QUALIFIED"]);
    assert!(
        stderr(&no_name).contains("at least one name"),
        "{}",
        stderr(&no_name)
    );
    let bad_level = server.admin(&["rp", "add", "--name", "X", "--level", "GOLD"]);
    assert!(
        stderr(&bad_level).contains("is not a certificate level"),
        "{}",
        stderr(&bad_level)
    );
    let listed = server.admin_json(&["rp", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), before + 1);

    // Calls from outside its ranges are refused; any address again after --any-ip.
    server.admin_json(&["rp", "change", &uuid, "--ip", "192.0.2.0/24"]);
    let (status, answer) = rp.post(&path, &bank_login(&uuid));
    assert_eq!(status, 401, "{answer}");
    server.admin_json(&["rp", "change", &uuid, "--any-ip"]);
    assert_eq!(rp.post(&path, &bank_login(&uuid)).0, 200);

    let disabled = server.admin_json(&["rp", "disable", &uuid]);
    assert_eq!(disabled["enabled"], false);
    let (status, answer) = rp.post(&path, &bank_login(&uuid));
    assert_eq!(status, 401, "a disabled RP is refused: {answer}");
    server.admin_json(&["rp", "enable", &uuid]);
    assert_eq!(rp.post(&path, &bank_login(&uuid)).0, 200);

    let unknown = server.admin(&["rp", "disable", "6f1c1f7e-0000-4000-8000-000000000000"]);
    assert!(
        stderr(&unknown).contains("no relying party"),
        "{}",
        stderr(&unknown)
    );

    let log = server.admin_json(&["audit", "--event", "relying_party_changed"]);
    assert_eq!(log.as_array().unwrap().len(), 4, "{log}");
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == format!("operator:{ADMIN_OPERATOR}")
                && e["relyingParty"] == uuid.as_str())
    );
    let table = stdout(&server.admin(&["rp", "list"]));
    assert!(
        table.contains(&uuid) && table.contains("Demo Bank"),
        "{table}"
    );
}

/// Usage rows of the CSV for the demo relying party: (kind, end result, count).
fn demo_usage(csv: &str) -> Vec<(String, String, u64)> {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("month,relying_party,kind,end_result,count")
    );
    let this_month = time::OffsetDateTime::now_utc().date().to_string()[..7].to_owned();
    lines
        .map(|line| line.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|f| f[1] == DEMO_RP_UUID)
        .map(|f| {
            assert_eq!(f[0], this_month);
            (f[2].clone(), f[3].clone(), f[4].parse().unwrap())
        })
        .collect()
}

#[test]
fn usage_and_the_audit_log_follow_what_happened_and_support_closes_a_lost_phone() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, PERSON, PIN1, PIN2);
    let rp = RelyingParty::new(&server);
    let login_path = format!("/authentication/etsi/{PERSON}");

    let login = rp.start(&login_path, &login_body(display_text_and_pin("Log in")));
    assert_success(&phone.confirm_next(&[], &format!("{PIN1}\n")));
    assert_eq!(rp.result(&login)["result"]["endResult"], "OK");
    let hash = fresh_hash("transfer");
    let signing = rp.start(
        &format!("/signature/document/{document}"),
        &signing_body(&hash, "SHA512", display_text_and_pin("Pay 10 EUR")),
    );
    assert_success(&phone.confirm_next(&[], &format!("{PIN2}\n")));
    assert_eq!(rp.result(&signing)["result"]["endResult"], "OK");
    let refused = rp.start(&login_path, &login_body(display_text_and_pin("Log in")));
    assert_success(&phone.run(&["--json", "refuse", "--next", "--wait", "10"], ""));
    assert_eq!(rp.result(&refused)["result"]["endResult"], "USER_REFUSED");
    // Three wrong PIN1s lock PIN1 for 3 hours.
    let locked = rp.start(&login_path, &login_body(display_text_and_pin("Log in")));
    for _ in 0..3 {
        assert!(!phone.confirm_next(&[], "9999\n").status.success());
    }
    assert_eq!(
        rp.result(&locked)["result"]["endResult"],
        "DOCUMENT_UNUSABLE"
    );

    // Billing: each completed session counted once, by kind and result.
    let csv = stdout(&server.admin(&["usage", "--csv"]));
    let mut usage = demo_usage(&csv);
    usage.sort();
    let expected = [
        ("authentication", "DOCUMENT_UNUSABLE", 1),
        ("authentication", "OK", 1),
        ("authentication", "USER_REFUSED", 1),
        ("signature", "OK", 1),
    ]
    .map(|(k, r, n)| (k.to_owned(), r.to_owned(), n));
    assert_eq!(usage, expected, "{csv}");
    let other_month = stdout(&server.admin(&["usage", "--csv", "--month", "1999-01"]));
    assert_eq!(other_month.lines().count(), 1, "{other_month}");
    let bad_month = server.admin(&["usage", "--month", "November"]);
    assert!(
        stderr(&bad_month).contains("expected YYYY-MM"),
        "{}",
        stderr(&bad_month)
    );

    // The audit log, in order, for this account.
    let log = server.admin_json(&["audit", "--document", &document]);
    assert_eq!(
        events(&log),
        [
            "registration",
            "login",
            "signature",
            "login",
            "wrong_pin",
            "wrong_pin",
            "wrong_pin",
            "pin_locked",
            "login"
        ],
        "{log:#}"
    );
    let entries = log.as_array().unwrap();
    assert_eq!(entries[0]["details"]["method"], "demo");
    assert_eq!(entries[0]["actor"], format!("person:{PERSON}"));
    assert_eq!(entries[1]["actor"], format!("rp:{DEMO_RP_UUID}"));
    assert_eq!(entries[3]["details"]["endResult"], "USER_REFUSED");
    assert_eq!(entries[6]["details"]["wrongInARow"], 3);
    assert_eq!(entries[7]["details"]["purpose"], "authentication");
    let mut fields: Vec<&String> = entries[4]["details"].as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(
        fields,
        ["purpose", "state", "wrongInARow"],
        "nothing about the PIN itself"
    );
    let newest = server.admin_json(&["audit", "--document", &document, "--limit", "2"]);
    assert_eq!(events(&newest), ["pin_locked", "login"]);
    let unknown = server.admin(&["audit", "--event", "coffee"]);
    assert!(
        stderr(&unknown).contains("events are: registration"),
        "{}",
        stderr(&unknown)
    );

    // Support finds the person's account and closes it: the phone was stolen.
    let found = server.admin_json(&["accounts", "find", "--identity", PERSON]);
    assert_eq!(found[0]["documentNumber"], document.as_str());
    assert_eq!(found[0]["state"], "active");
    assert_eq!(found[0]["pin1"]["state"], "locked", "{found}");
    let closed = server.admin_json(&["accounts", "close", &document, "--lost-device"]);
    assert_eq!(closed["state"], "closed");
    let certificate = phone.certificate(&document, "signing");
    assert_eq!(
        server.revocation_reason(&certificate).as_deref(),
        Some("keyCompromise")
    );
    let (status, _) = rp.post(
        &format!("/authentication/document/{document}"),
        &login_body(display_text_and_pin("Log in")),
    );
    assert_eq!(status, 404, "a closed account is not found");
    let again = server.admin(&["accounts", "close", &document, "--lost-device"]);
    assert!(
        stderr(&again).contains("already closed"),
        "{}",
        stderr(&again)
    );
    let without_reason = server.admin(&["accounts", "close", &document]);
    assert!(!without_reason.status.success());

    let shown = server.admin_json(&["accounts", "show", &document]);
    let history = events(&shown["history"]);
    assert_eq!(
        history[history.len() - 3..],
        [
            "account_closed",
            "certificate_revoked",
            "certificate_revoked"
        ]
    );
    let last = shown["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"], format!("operator:{ADMIN_OPERATOR}"));
    assert_eq!(last["details"]["reason"], "keyCompromise");
    let table = stdout(&server.admin(&["accounts", "show", &document]));
    assert!(
        table.contains("closed (closed by support: device lost or stolen)"),
        "{table}"
    );
}

#[test]
fn deleting_from_the_app_is_logged_as_the_person() {
    let server = Server::start(&[]);
    let phone = Phone::new();
    let document = phone.register(&server, PERSON, PIN1, PIN2);
    assert_success(&phone.run(&["--json", "delete", &document], ""));
    let log = server.admin_json(&[
        "audit",
        "--document",
        &document,
        "--event",
        "account_closed",
    ]);
    assert_eq!(log[0]["actor"], format!("person:{PERSON}"), "{log}");
    assert_eq!(log[0]["details"]["reason"], "deleted by the person");
    let revoked = server.admin_json(&["audit", "--event", "certificate_revoked"]);
    assert!(
        revoked
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["details"]["reason"] == "cessationOfOperation")
    );
    let missing = server.admin(&["accounts", "show", "PNOEE-00000000000-ZZZZ-Q"]);
    assert!(
        stderr(&missing).contains("no account"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn admin_refuses_a_directory_without_splitid_data() {
    let empty = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(splitid_binary())
        .args(["admin", "--data"])
        .arg(empty.path())
        .args(["rp", "list"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("holds no SplitID data"),
        "{}",
        stderr(&output)
    );
    assert!(
        std::fs::read_dir(empty.path()).unwrap().next().is_none(),
        "nothing created"
    );
}
