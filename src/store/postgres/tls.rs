//! How a PostgreSQL URL asks to be reached: libpq's `sslmode` and `sslrootcert`, which
//! tokio-postgres does not read itself, turned into a rustls configuration.
//!
//! | `sslmode` | encrypted | certificate checked |
//! |---|---|---|
//! | `disable` | no | — |
//! | `prefer` (the default, as libpq's) | when the server offers it | no |
//! | `require` | yes | against `sslrootcert` when one is given (as libpq), else no |
//! | `verify-ca` | yes | chain, against `sslrootcert` (or the system's roots) |
//! | `verify-full` | yes | chain and host name |

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode;

/// Where to connect, and how.
pub struct Target {
    pub config: tokio_postgres::Config,
    pub tls: tokio_postgres_rustls::MakeRustlsConnect,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Check {
    Nothing,
    Chain,
    ChainAndName,
}

/// Why a PostgreSQL URL's TLS settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Not a PostgreSQL URL, or a setting in it is unreadable.
    #[error("{0}")]
    Url(String),
    #[error(
        "sslmode={0} is not supported (disable, allow, prefer, require, verify-ca or verify-full)"
    )]
    Mode(String),
    #[error("sslrootcert={path}: {source}")]
    RootFile {
        path: String,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("sslrootcert={path}: no certificate in the file")]
    NoRoot { path: String },
    #[error("sslrootcert={path}: {source}")]
    BadRoot {
        path: String,
        #[source]
        source: rustls::Error,
    },
    #[error("no system root certificates found; give sslrootcert=FILE")]
    NoSystemRoots,
    #[error("cannot check certificates: {0}")]
    Verifier(#[source] rustls::client::VerifierBuilderError),
    #[error("TLS: {0}")]
    Config(#[source] rustls::Error),
}

/// Reads `url` (a `postgres://` URL) with its `sslmode` and `sslrootcert`.
pub fn target(url: &str) -> Result<Target, TlsError> {
    let crate::config::PostgresUrl {
        mut config,
        sslmode: mode,
        sslrootcert: root,
    } = crate::config::postgres_url(url).map_err(TlsError::Url)?;
    let (ssl, check) = match mode.as_deref().unwrap_or("prefer") {
        "disable" => (SslMode::Disable, Check::Nothing),
        "allow" | "prefer" => (SslMode::Prefer, Check::Nothing),
        "require" if root.is_some() => (SslMode::Require, Check::Chain),
        "require" => (SslMode::Require, Check::Nothing),
        "verify-ca" => (SslMode::Require, Check::Chain),
        "verify-full" => (SslMode::Require, Check::ChainAndName),
        other => return Err(TlsError::Mode(other.to_string())),
    };
    config.ssl_mode(ssl);
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let chain = match check {
        Check::Nothing => None,
        Check::Chain | Check::ChainAndName => Some(
            WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(root.as_deref())?),
                provider.clone(),
            )
            .build()
            .map_err(TlsError::Verifier)?,
        ),
    };
    let verifier = Arc::new(Verifier {
        chain,
        names: check == Check::ChainAndName,
        provider: provider.clone(),
    });
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Target {
        config,
        tls: tokio_postgres_rustls::MakeRustlsConnect::new(tls),
    })
}

/// The certificates a server's chain must lead to: the PEM file `sslrootcert` names, or
/// (none given, or `system`) the system's.
fn roots(file: Option<&str>) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    match file {
        Some(path) if path != "system" => {
            let unreadable = |source| TlsError::RootFile {
                path: path.to_string(),
                source,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(unreadable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unreadable)?;
            if certs.is_empty() {
                return Err(TlsError::NoRoot {
                    path: path.to_string(),
                });
            }
            for cert in certs {
                roots.add(cert).map_err(|source| TlsError::BadRoot {
                    path: path.to_string(),
                    source,
                })?;
            }
        }
        _ => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(TlsError::NoSystemRoots);
            }
        }
    }
    Ok(roots)
}

/// Checks a server's certificate as its `sslmode` asks: not at all (`prefer`, `require`
/// without a root certificate, as libpq), its chain only (`verify-ca`), or its chain and
/// host name (`verify-full`). The handshake's signatures are always checked.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    names: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.names => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_are_read_and_left_out_of_the_connection() {
        let t =
            target("postgres://u:p@db.example:5433/figwatch?sslmode=require&application_name=fw")
                .unwrap();
        assert_eq!(t.config.get_ssl_mode(), SslMode::Require);
        assert_eq!(t.config.get_dbname(), Some("figwatch"));
        assert_eq!(t.config.get_application_name(), Some("fw"));
        assert_eq!(
            target("postgres://u@h/d").unwrap().config.get_ssl_mode(),
            SslMode::Prefer
        );
        assert_eq!(
            target("postgres://u@h/d?sslmode=disable")
                .unwrap()
                .config
                .get_ssl_mode(),
            SslMode::Disable
        );
        let bad = target("postgres://u@h/d?sslmode=sometimes").err().unwrap();
        assert!(bad.to_string().contains("sslmode=sometimes"), "{bad}");
        let missing =
            target("postgres://u@h/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
                .err()
                .unwrap();
        assert!(
            missing
                .to_string()
                .starts_with("sslrootcert=/nonexistent/ca.pem: "),
            "{missing}"
        );
        let cause = std::error::Error::source(&missing).expect("the file's error is kept");
        assert!(!cause.to_string().is_empty());
    }
}
