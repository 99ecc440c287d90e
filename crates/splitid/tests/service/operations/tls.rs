//! `serve` over HTTPS itself, with a test CA the test makes with openssl: the relying party and
//! the app work end to end; HTTP/1.1 and HTTP/2 are both offered (curl, an independent client,
//! says which it got); a renewed certificate is served without a restart, when its file changes
//! and on SIGHUP; and the app refuses plain http:// to anything but this machine.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use splitid_testkit::*;

/// A test CA and server certificates it issues for 127.0.0.1, made with openssl.
pub struct TestTls {
    pub dir: tempfile::TempDir,
}

impl TestTls {
    pub fn new() -> TestTls {
        let dir = tempfile::tempdir().unwrap();
        let tls = TestTls { dir };
        tls.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=SplitID test TLS CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ]);
        tls.issue("server");
        tls
    }

    fn openssl(&self, args: &[&str]) {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        assert_success(&output);
    }

    /// Issues `<name>.pem` and `<name>.key` for 127.0.0.1 and localhost.
    pub fn issue(&self, name: &str) {
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let pem = format!("{name}.pem");
        std::fs::write(
            self.dir.path().join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        self.openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            "/CN=localhost",
        ]);
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]);
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.path("ca.pem")).unwrap()
    }

    /// The arguments that make `serve` use `server.pem` and `server.key`.
    pub fn serve_args(&self) -> Vec<String> {
        vec![
            "--tls-certificate".into(),
            self.path("server.pem").display().to_string(),
            "--tls-key".into(),
            self.path("server.key").display().to_string(),
        ]
    }
}

/// curl's `%{http_version}` for a GET of `url` with the given protocol option.
fn http_version(ca: &Path, url: &str, protocol: &str) -> String {
    let output = Command::new("curl")
        .args(["-sS", "--fail", protocol, "--cacert"])
        .arg(ca)
        .args(["-o", "/dev/null", "-w", "%{http_version}", url])
        .output()
        .expect("curl must be installed (.ci/run installs it)");
    assert_success(&output);
    stdout(&output)
}

/// The serial number of the certificate the server presents, as openssl s_client sees it.
fn served_serial(server: &Server) -> String {
    let address = server.url.trim_start_matches("https://");
    let shown = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl s_client -connect {address} -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -serial"
        ))
        .output()
        .unwrap();
    stdout(&shown).trim().to_owned()
}

fn file_serial(tls: &TestTls, name: &str) -> String {
    let output = Command::new("openssl")
        .args(["x509", "-noout", "-serial", "-in"])
        .arg(tls.path(name))
        .output()
        .unwrap();
    stdout(&output).trim().to_owned()
}

fn wait_for_serial(server: &Server, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let served = served_serial(server);
        if served == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still serving {served}, expected {expected}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_relying_party_and_the_app_work_over_https_and_certificates_reload_in_place() {
    let tls = TestTls::new();
    let args = tls.serve_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&args);
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );

    // Both protocol versions, by ALPN.
    let ca = tls.path("ca.pem");
    let url = format!("{}/pki/root-ca.crt", server.url);
    assert_eq!(http_version(&ca, &url, "--http2"), "2");
    assert_eq!(http_version(&ca, &url, "--http1.1"), "1.1");

    // The app and the relying party, end to end over https.
    let phone = Phone::trusting(&ca);
    let document = phone.register(&server, "PNOEE-30303039914", "1234", "12345");
    let rp = RelyingParty::trusting(&server, &tls.ca_pem());
    let session = rp.start(
        &format!("/authentication/document/{document}"),
        &login_body(display_text_and_pin("Log in over https")),
    );
    assert_success(&phone.confirm_next(&[], "1234\n"));
    assert_eq!(rp.result(&session)["result"]["endResult"], "OK");

    // A renewed certificate is served once its file changes…
    assert_eq!(served_serial(&server), file_serial(&tls, "server.pem"));
    tls.issue("renewed");
    let renewed = file_serial(&tls, "renewed.pem");
    std::fs::rename(tls.path("renewed.key"), tls.path("server.key")).unwrap();
    std::fs::rename(tls.path("renewed.pem"), tls.path("server.pem")).unwrap();
    wait_for_serial(&server, &renewed);

    // …or when the operator sends SIGHUP (here the files keep their old times).
    let times: Vec<std::time::SystemTime> = ["server.pem", "server.key"]
        .iter()
        .map(|f| std::fs::metadata(tls.path(f)).unwrap().modified().unwrap())
        .collect();
    tls.issue("again");
    let again = file_serial(&tls, "again.pem");
    for (file, (from, time)) in [("server.pem", "again.pem"), ("server.key", "again.key")]
        .iter()
        .zip(&times)
        .map(|((to, from), time)| (to, (from, time)))
    {
        std::fs::copy(tls.path(from), tls.path(file)).unwrap();
        std::fs::File::options()
            .write(true)
            .open(tls.path(file))
            .unwrap()
            .set_modified(*time)
            .unwrap();
    }
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        served_serial(&server),
        renewed,
        "no change seen: still the renewed one"
    );
    server.signal("HUP");
    wait_for_serial(&server, &again);

    // The app still works on the reloaded certificate.
    let session = rp.start(
        &format!("/authentication/document/{document}"),
        &login_body(display_text_and_pin("Log in again")),
    );
    assert_success(&phone.confirm_next(&[], "1234\n"));
    assert_eq!(rp.result(&session)["result"]["endResult"], "OK");
}

#[test]
fn the_app_refuses_plain_http_except_to_this_machine() {
    let phone = Phone::new();
    for server in [
        "http://192.0.2.7:8080",
        "http://id.example.org",
        "ftp://127.0.0.1",
    ] {
        let output = phone.try_register_at(server, "PNOEE-30303039914", &[], "1234\n12345\n");
        assert_fails_with(
            &output,
            &format!("refusing {server}: this app talks to a SplitID server over https only"),
        );
    }
    // Loopback over plain http is the demo's, and works (as every other test shows).
    let server = Server::start(&[]);
    assert!(server.url.starts_with("http://127.0.0.1:"));
    phone.register(&server, "PNOEE-30303039914", "1234", "12345");
}
