//! The README's first command: `splitid demo` runs the split-key demonstration end to end.

use assert_cmd::Command;

fn splitid() -> Command {
    Command::cargo_bin("splitid").expect("the splitid binary is built")
}

#[test]
fn demo_signs_verifies_and_catches_a_wrong_pin() {
    let output = splitid()
        .args(["demo", "--half-bits", "2048"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("4096 bits"), "{stdout}");
    assert!(stdout.contains("standard RSA verifier"), "{stdout}");
    assert!(stdout.contains("catches it: wrong PIN"), "{stdout}");
}

#[test]
fn demo_refuses_bad_arguments_with_a_clear_message() {
    let cases = [
        (vec!["demo", "--pin", "12"], "at least 4 digits"),
        (
            vec!["demo", "--pin", "1234", "--wrong-pin", "1234"],
            "must differ",
        ),
        (vec!["demo", "--half-bits", "1024"], "2048 or 3072"),
    ];
    for (args, message) in cases {
        let output = splitid().args(&args).output().unwrap();
        assert!(!output.status.success(), "{args:?} should fail");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}
