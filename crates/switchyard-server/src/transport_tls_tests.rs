//! The transport over TLS (pingora's rustls connector opens the connections, the gateway's
//! pool keeps them): the upstream's certificate is verified against the name in the key, a
//! connection is reused for the next request, and one the upstream closed while idle (a TLS
//! close alert and a FIN) is swept out of the pool. The certificates are a fresh test CA's,
//! made with the `openssl` command.

use std::path::Path;
use std::process::{Command, Stdio};

use pingora_core::connectors::ConnectorOptions;
use pingora_core::tls::{load_certs_and_key_files, ServerConfig};

use super::*;

/// A test CA (`ca.pem`) and a certificate it signed for `localhost` (`cert.pem`, `key.pem`).
fn certificates() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ext.cnf"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    let steps = [
        format!("req -x509 -days 1 -subj /CN=switchyard-test-ca {ec} -keyout ca.key -out ca.pem"),
        format!("req -subj /CN=localhost {ec} -keyout key.pem -out req.csr"),
        "x509 -req -days 1 -CAcreateserial -extfile ext.cnf -in req.csr -CA ca.pem -CAkey ca.key -out cert.pem".into(),
    ];
    for step in steps {
        let status = Command::new("openssl")
            .args(step.split(' '))
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("the openssl command");
        assert!(status.success(), "openssl {step} failed");
    }
    dir
}

fn path(dir: &Path, file: &str) -> String {
    dir.join(file).to_string_lossy().into_owned()
}

/// A TLS upstream serving `localhost`'s certificate from `dir`.
async fn tls_upstream(dir: &Path, script: fn(usize, usize) -> Then) -> Upstream {
    pingora_core::tls::install_default_crypto_provider();
    let (certs, key) = load_certs_and_key_files(&path(dir, "cert.pem"), &path(dir, "key.pem"))
        .unwrap()
        .unwrap();
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    Upstream::start_with(script, Some(TlsAcceptor::from(Arc::new(config)))).await
}

/// A transport that trusts the test CA in `dir`.
fn transport(dir: &Path, sweep_every: Duration) -> Transport {
    let mut options = ConnectorOptions::new(0);
    options.ca_file = Some(path(dir, "ca.pem"));
    let pool = PoolOptions {
        max_idle_per_peer: 8,
        sweep_every,
    };
    Transport::new(TransportConnector::new(Some(options)), pool)
}

fn tls_key(up: &Upstream, name: &str) -> PeerKey {
    PeerKey {
        addr: up.addr,
        tls: true,
        sni: name.into(),
    }
}

#[tokio::test]
async fn a_verified_tls_connection_is_pooled_and_reused() {
    let certs = certificates();
    let up = tls_upstream(certs.path(), |_, _| Then::Answer).await;
    let t = transport(certs.path(), Duration::from_secs(60));
    let key = tls_key(&up, "localhost");
    assert_eq!(call(&t, &key, "{\"a\":1}").await.unwrap(), 200);
    assert_eq!(call(&t, &key, "{\"b\":2}").await.unwrap(), 200);
    assert_eq!(
        up.seen(),
        [(0, request("{\"a\":1}")), (0, request("{\"b\":2}"))],
        "both on one TLS connection, byte for byte"
    );
    assert_eq!(t.idle(&key), 1);
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let certs = certificates();
    let up = tls_upstream(certs.path(), |_, _| Then::Answer).await;
    let t = transport(certs.path(), Duration::from_secs(60));
    let e = call(&t, &tls_key(&up, "api.example.com"), "x")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, AttemptError::Connect(who, _) if who == "up"),
        "{e}"
    );
    assert!(
        up.seen().is_empty(),
        "no request over an unverified connection"
    );
}

#[tokio::test]
async fn a_tls_connection_the_upstream_closed_while_idle_is_swept_out() {
    let certs = certificates();
    let up = tls_upstream(certs.path(), |c, _| match c {
        0 => Then::AnswerThenClose,
        _ => Then::Answer,
    })
    .await;
    let t = transport(certs.path(), Duration::from_millis(10));
    let key = tls_key(&up, "localhost");
    assert_eq!(call(&t, &key, "first").await.unwrap(), 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.idle(&key) > 0 {
        assert!(
            Instant::now() < deadline,
            "the closed connection stayed pooled"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(call(&t, &key, "second").await.unwrap(), 200);
    let seen: Vec<usize> = up.seen().into_iter().map(|(c, _)| c).collect();
    assert_eq!(seen, [0, 1], "straight to a new connection, no retry");
}
