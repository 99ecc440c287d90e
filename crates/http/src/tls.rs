//! HTTPS for `splitid serve` itself: rustls (on AWS-LC) with the operator's certificate chain
//! and private key (PEM files), HTTP/1.1 and HTTP/2 by ALPN. The files are read again when
//! they change (checked every few seconds) or on SIGHUP, so a renewed certificate (certbot,
//! an ACME client, a secrets manager) is served without a restart; a pair that does not load
//! is reported and the one in use is kept.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum_server::tls_rustls::RustlsConfig;

/// How often the files' modification times are looked at.
const WATCH_INTERVAL: Duration = Duration::from_secs(2);
/// How long open connections get to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The certificate chain (leaf first) and the private key, PEM.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub certificate: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// The pair, loaded: refuses to start with files that do not make a usable key pair.
    pub async fn load(&self) -> std::io::Result<RustlsConfig> {
        RustlsConfig::from_pem_file(&self.certificate, &self.key)
            .await
            .map_err(|e| {
                std::io::Error::other(format!(
                    "TLS certificate {} and key {}: {e}",
                    self.certificate.display(),
                    self.key.display()
                ))
            })
    }

    fn modified(&self) -> Option<(SystemTime, SystemTime)> {
        let time = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
        Some((time(&self.certificate)?, time(&self.key)?))
    }
}

/// Serves `router` over HTTPS on `listener` until `shutdown` completes.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    router: Router,
    files: TlsFiles,
    config: RustlsConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tokio::spawn(reload_when_changed(config.clone(), files));
    let handle = axum_server::Handle::new();
    tokio::spawn({
        let handle = handle.clone();
        async move {
            shutdown.await;
            handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
        }
    });
    axum_server::from_tcp_rustls(listener.into_std()?, config)?
        .handle(handle)
        .serve(router.into_make_service_with_connect_info::<SocketAddr>())
        .await
}

/// Reloads the pair when either file's modification time changes, or on SIGHUP.
async fn reload_when_changed(config: RustlsConfig, files: TlsFiles) {
    let mut seen = files.modified();
    let mut hangups = hangup_signals();
    loop {
        let hangup = async {
            match hangups.as_mut() {
                Some(signals) => {
                    signals.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        let asked = tokio::select! {
            () = hangup => true,
            () = tokio::time::sleep(WATCH_INTERVAL) => false,
        };
        let now = files.modified();
        if !asked && now == seen {
            continue;
        }
        seen = now;
        match config
            .reload_from_pem_file(&files.certificate, &files.key)
            .await
        {
            Ok(()) => {
                tracing::info!(certificate = %files.certificate.display(), "TLS certificate reloaded")
            }
            Err(error) => {
                tracing::error!(certificate = %files.certificate.display(), %error, "TLS certificate not reloaded; the one in use stays")
            }
        }
    }
}

#[cfg(unix)]
fn hangup_signals() -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}

#[cfg(not(unix))]
fn hangup_signals() -> Option<tokio::sync::mpsc::Receiver<()>> {
    None
}
