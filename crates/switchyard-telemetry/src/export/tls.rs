//! TLS to an `https://` collector: rustls verifying the collector against the CA certificates
//! of `OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE` when set, else the system's roots; ALPN `h2`
//! for gRPC, `http/1.1` otherwise. Built once per config, when it goes into service.

use std::sync::{Arc, OnceLock};

use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use switchyard_config::{OtlpConfig, OtlpProtocol};

/// The system's root certificates, loaded once per process.
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        roots
    })
}

/// The roots `cfg`'s collector is verified against; an error names the file and what is
/// wrong with it.
fn roots(cfg: &OtlpConfig) -> Result<RootCertStore, String> {
    let Some(cert) = &cfg.certificate else {
        return Ok(system_roots().clone());
    };
    let mut roots = RootCertStore::empty();
    for (i, der) in cert.der.iter().enumerate() {
        roots.add(CertificateDer::from(der.clone())).map_err(|e| {
            format!(
                "{}: certificate {} of `{}` cannot be trusted: {e}",
                cert.source,
                i + 1,
                cert.path
            )
        })?;
    }
    Ok(roots)
}

/// The TLS client for `cfg`'s collector.
pub(crate) fn client_config(cfg: &OtlpConfig) -> Result<Arc<ClientConfig>, String> {
    let mut c =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots(cfg)?)
            .with_no_client_auth();
    c.alpn_protocols = vec![match cfg.protocol {
        OtlpProtocol::Grpc => b"h2".to_vec(),
        OtlpProtocol::HttpProtobuf => b"http/1.1".to_vec(),
    }];
    Ok(Arc::new(c))
}

/// Whether the certificates `cfg` names can be trusted (checked when a config is built, so
/// `switchyard check` and a reload report it); `Ok` when it names none.
pub fn check_certificate(cfg: &OtlpConfig) -> Result<(), String> {
    match &cfg.certificate {
        Some(_) => roots(cfg).map(drop),
        None => Ok(()),
    }
}
