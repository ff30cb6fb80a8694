//! A throwaway certificate authority for TLS tests, made with the `openssl` command: a test CA
//! (`ca.pem`) and a certificate it signed for 127.0.0.1 (`cert.pem`, key `key.pem`, P-256),
//! valid for a day. A client that trusts `ca.pem` accepts a server that presents `cert.pem`;
//! one that trusts only the system's roots refuses it.

use std::path::Path;
use std::process::{Command, Stdio};

/// Writes `ca.pem`, `ca.key`, `cert.pem` and `key.pem` into `dir`.
pub fn make_test_ca(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("ext.cnf");
    let steps: [Vec<&str>; 3] = [
        [
            &[
                "req",
                "-x509",
                "-days",
                "1",
                "-subj",
                "/CN=switchyard-test-ca",
            ][..],
            &ec,
        ]
        .concat(),
        [&["req", "-subj", "/CN=127.0.0.1"][..], &ec].concat(),
        vec![
            "x509",
            "-req",
            "-days",
            "1",
            "-CAcreateserial",
            "-extfile",
            "ext.cnf",
        ],
    ];
    let files: [&[&str]; 3] = [
        &["-keyout", "ca.key", "-out", "ca.pem"],
        &["-keyout", "key.pem", "-out", "req.csr"],
        &[
            "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-out", "cert.pem",
        ],
    ];
    for (args, files) in steps.iter().zip(files) {
        let status = Command::new("openssl")
            .args(args)
            .args(files)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(status.success(), "openssl {args:?} failed");
    }
}
