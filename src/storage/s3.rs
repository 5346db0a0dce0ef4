//! An S3-compatible bucket: requests signed by rusty-s3 (sans-IO, as presigned
//! addresses) and sent over hyper with rustls on ring. Every request has a deadline,
//! files go up streamed from disk (in parts when large), so memory stays flat whatever
//! the file's size.
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use rusty_s3::{Credentials, S3Action, UrlStyle};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::BucketAddress;

/// How long a signature lasts: it is made just before the request is sent.
const SIGNED_FOR: Duration = Duration::from_secs(5 * 60);

/// One request, answer included: a part of `PART_BYTES` at 1 MB/s, with room to spare.
const REQUEST_DEADLINE: Duration = Duration::from_secs(60);

/// Files above this go up in parts (S3 takes up to 5 GB in one request; parts can be
/// retried alone and keep a request within its deadline).
const MULTIPART_FROM: u64 = 16 * 1024 * 1024;

/// A part of a large file (S3's least is 5 MB, but for the last).
const PART_BYTES: u64 = 8 * 1024 * 1024;

/// The most of an object read into memory whole (the register's documents, emails).
const MOST_READ: usize = 64 * 1024 * 1024;

type Body = BoxBody<Bytes, std::io::Error>;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("no storage credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")]
    NoCredentials,
    #[error("the bucket address is not usable: {0}")]
    Address(String),
    #[error("the storage did not answer within {0:?}")]
    Deadline(Duration),
    #[error("the storage could not be reached: {0}")]
    Unreachable(String),
    #[error("the storage answered {status} to {what}: {body}")]
    Refused {
        what: &'static str,
        status: u16,
        body: String,
    },
    #[error("no object {0}")]
    NotFound(String),
    #[error("the object {0} is larger than can be read whole")]
    TooLarge(String),
    #[error("the storage's answer to {0} could not be read")]
    Unreadable(&'static str),
    #[error("a file to store could not be read: {0}")]
    File(#[from] std::io::Error),
}

/// A bucket and the client that reaches it. Cheap to clone.
#[derive(Clone)]
pub struct Bucket {
    inner: Arc<Inner>,
}

struct Inner {
    bucket: rusty_s3::Bucket,
    credentials: Credentials,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Body>,
}

impl std::fmt::Debug for Bucket {
    // Never the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket")
            .field("address", &self.inner.bucket.base_url().as_str())
            .finish()
    }
}

/// An answer read whole.
struct Answer {
    status: u16,
    /// What a part upload is named by when the upload is finished.
    etag: Option<String>,
    body: Bytes,
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

impl Bucket {
    /// The bucket with credentials from the environment.
    pub fn connect(address: &BucketAddress) -> Result<Bucket, StorageError> {
        let credentials = Credentials::from_env().ok_or(StorageError::NoCredentials)?;
        Bucket::with_credentials(address, credentials)
    }

    pub fn with_credentials(
        address: &BucketAddress,
        credentials: Credentials,
    ) -> Result<Bucket, StorageError> {
        let style = if address.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = rusty_s3::Bucket::new(
            address.endpoint.clone(),
            style,
            address.name.clone(),
            address.region.clone(),
        )
        .map_err(|e| StorageError::Address(e.to_string()))?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(Bucket {
            inner: Arc::new(Inner {
                bucket,
                credentials,
                client,
            }),
        })
    }

    /// The origin browsers fetch the bucket's presigned addresses from.
    pub fn origin(&self) -> String {
        self.inner.bucket.base_url().origin().ascii_serialization()
    }

    fn credentials(&self) -> Option<&Credentials> {
        Some(&self.inner.credentials)
    }

    /// Sends one request and reads its answer, all within the deadline.
    async fn send(
        &self,
        what: &'static str,
        method: hyper::Method,
        url: url::Url,
        headers: &[(hyper::header::HeaderName, String)],
        body: Body,
    ) -> Result<Answer, StorageError> {
        let mut request = hyper::Request::builder().method(method).uri(url.as_str());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        // Said even when nothing is sent: S3 servers refuse a PUT without it (411).
        if let (Some(n), false) = (
            hyper::body::Body::size_hint(&body).exact(),
            headers
                .iter()
                .any(|(name, _)| name == hyper::header::CONTENT_LENGTH),
        ) {
            request = request.header(hyper::header::CONTENT_LENGTH, n);
        }
        let request = request
            .body(body)
            .map_err(|e| StorageError::Address(e.to_string()))?;
        let exchange = async {
            let response = self
                .inner
                .client
                .request(request)
                .await
                .map_err(|e| StorageError::Unreachable(e.to_string()))?;
            let status = response.status().as_u16();
            let etag = response
                .headers()
                .get(hyper::header::ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            // The answers read here are small (XML, or a document checked by size).
            let body = http_body_util::Limited::new(response.into_body(), MOST_READ)
                .collect()
                .await
                .map_err(|_| StorageError::Unreadable(what))?
                .to_bytes();
            Ok(Answer { status, etag, body })
        };
        tokio::time::timeout(REQUEST_DEADLINE, exchange)
            .await
            .map_err(|_| StorageError::Deadline(REQUEST_DEADLINE))?
    }

    fn ok(what: &'static str, answer: Answer) -> Result<Answer, StorageError> {
        if (200..300).contains(&answer.status) {
            Ok(answer)
        } else {
            Err(StorageError::Refused {
                what,
                status: answer.status,
                body: String::from_utf8_lossy(&answer.body)
                    .chars()
                    .take(300)
                    .collect(),
            })
        }
    }

    /// Makes the bucket if it is not there (tests and first start of a new install).
    pub async fn create_if_missing(&self) -> Result<(), StorageError> {
        let url = self
            .inner
            .bucket
            .head_bucket(self.credentials())
            .sign(SIGNED_FOR);
        let head = self
            .send("HEAD bucket", hyper::Method::HEAD, url, &[], full(""))
            .await?;
        if head.status == 404 {
            let url = self
                .inner
                .bucket
                .create_bucket(&self.inner.credentials)
                .sign(SIGNED_FOR);
            let made = self
                .send("create bucket", hyper::Method::PUT, url, &[], full(""))
                .await?;
            Self::ok("create bucket", made)?;
            return Ok(());
        }
        Self::ok("HEAD bucket", head).map(|_| ())
    }

    /// Keeps `bytes` as `key`.
    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        let url = self
            .inner
            .bucket
            .put_object(self.credentials(), key)
            .sign(SIGNED_FOR);
        let answer = self
            .send("PUT", hyper::Method::PUT, url, &[], full(bytes))
            .await?;
        Self::ok("PUT", answer).map(|_| ())
    }

    /// Keeps the file at `path` as `key`, streamed from disk: one request when small,
    /// parts of `PART_BYTES` when large (an unfinished upload is aborted, so no parts are
    /// left to pay for).
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<(), StorageError> {
        let size = tokio::fs::metadata(path).await?.len();
        if size <= MULTIPART_FROM {
            let url = self
                .inner
                .bucket
                .put_object(self.credentials(), key)
                .sign(SIGNED_FOR);
            let body = file_piece(path, 0, size).await?;
            let answer = self
                .send(
                    "PUT",
                    hyper::Method::PUT,
                    url,
                    &[(hyper::header::CONTENT_LENGTH, size.to_string())],
                    body,
                )
                .await?;
            return Self::ok("PUT", answer).map(|_| ());
        }
        let url = self
            .inner
            .bucket
            .create_multipart_upload(self.credentials(), key)
            .sign(SIGNED_FOR);
        let answer = self
            .send("start upload", hyper::Method::POST, url, &[], full(""))
            .await?;
        let answer = Self::ok("start upload", answer)?;
        let started = rusty_s3::actions::CreateMultipartUpload::parse_response(&answer.body)
            .map_err(|_| StorageError::Unreadable("start upload"))?;
        let upload_id = started.upload_id().to_string();
        match self.put_parts(key, path, size, &upload_id).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let url = self
                    .inner
                    .bucket
                    .abort_multipart_upload(self.credentials(), key, &upload_id)
                    .sign(SIGNED_FOR);
                if let Err(abort) = self
                    .send("abort upload", hyper::Method::DELETE, url, &[], full(""))
                    .await
                {
                    tracing::warn!(key, error = %abort, "an unfinished upload could not be aborted");
                }
                Err(e)
            }
        }
    }

    async fn put_parts(
        &self,
        key: &str,
        path: &Path,
        size: u64,
        upload_id: &str,
    ) -> Result<(), StorageError> {
        let mut etags = Vec::new();
        let mut offset = 0;
        while offset < size {
            let length = PART_BYTES.min(size - offset);
            let number = u16::try_from(etags.len() + 1)
                .map_err(|_| StorageError::TooLarge(key.to_string()))?;
            let url = self
                .inner
                .bucket
                .upload_part(self.credentials(), key, number, upload_id)
                .sign(SIGNED_FOR);
            let body = file_piece(path, offset, length).await?;
            let answer = self
                .send(
                    "upload part",
                    hyper::Method::PUT,
                    url,
                    &[(hyper::header::CONTENT_LENGTH, length.to_string())],
                    body,
                )
                .await?;
            let etag = Self::ok("upload part", answer)?.etag;
            etags.push(etag.ok_or(StorageError::Unreadable("upload part"))?);
            offset += length;
        }
        let action = self.inner.bucket.complete_multipart_upload(
            self.credentials(),
            key,
            upload_id,
            etags.iter().map(String::as_str),
        );
        let url = action.sign(SIGNED_FOR);
        let body = action.body();
        let answer = self
            .send("finish upload", hyper::Method::POST, url, &[], full(body))
            .await?;
        // S3 can answer 200 with an error in the body when finishing.
        let answer = Self::ok("finish upload", answer)?;
        if answer.body.windows(7).any(|w| w == b"<Error>") {
            return Err(StorageError::Refused {
                what: "finish upload",
                status: 200,
                body: String::from_utf8_lossy(&answer.body).into_owned(),
            });
        }
        Ok(())
    }

    /// The object's bytes, whole (documents and emails: bounded by `MOST_READ`).
    pub async fn get_bytes(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        self.get(key, None).await
    }

    /// The first `length` bytes of the object (to judge its kind as it is served).
    pub async fn get_start(&self, key: &str, length: usize) -> Result<Vec<u8>, StorageError> {
        self.get(key, Some(length)).await
    }

    async fn get(&self, key: &str, length: Option<usize>) -> Result<Vec<u8>, StorageError> {
        let url = self
            .inner
            .bucket
            .get_object(self.credentials(), key)
            .sign(SIGNED_FOR);
        let range: Vec<_> = length
            .map(|n| {
                (
                    hyper::header::RANGE,
                    format!("bytes=0-{}", n.saturating_sub(1)),
                )
            })
            .into_iter()
            .collect();
        let answer = self
            .send("GET", hyper::Method::GET, url, &range, full(""))
            .await
            .map_err(|e| match e {
                StorageError::Unreadable(_) => StorageError::TooLarge(key.to_string()),
                e => e,
            })?;
        match answer.status {
            404 => Err(StorageError::NotFound(key.to_string())),
            // An empty object has no byte 0 to start a range at.
            416 => Ok(Vec::new()),
            _ => Ok(Self::ok("GET", answer)?.body.to_vec()),
        }
    }

    /// Removes the object (gone already is fine).
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let url = self
            .inner
            .bucket
            .delete_object(self.credentials(), key)
            .sign(SIGNED_FOR);
        let answer = self
            .send("DELETE", hyper::Method::DELETE, url, &[], full(""))
            .await?;
        if answer.status == 404 {
            return Ok(());
        }
        Self::ok("DELETE", answer).map(|_| ())
    }

    /// The names of the objects under `prefix`, every page of them.
    pub async fn keys(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut action = self.inner.bucket.list_objects_v2(self.credentials());
            action.with_prefix(prefix);
            if let Some(t) = &token {
                action.with_continuation_token(t.clone());
            }
            let url = action.sign(SIGNED_FOR);
            let answer = self
                .send("list", hyper::Method::GET, url, &[], full(""))
                .await?;
            let answer = Self::ok("list", answer)?;
            let page = rusty_s3::actions::ListObjectsV2::parse_response(&answer.body)
                .map_err(|_| StorageError::Unreadable("list"))?;
            keys.extend(page.contents.into_iter().map(|c| c.key));
            match page.next_continuation_token {
                Some(t) => token = Some(t),
                None => return Ok(keys),
            }
        }
    }

    /// A short-lived address that serves the object with the given type and
    /// disposition: what a download redirects to once its access check has passed.
    pub fn presigned_get(
        &self,
        key: &str,
        content_type: &str,
        disposition: &str,
        valid_for: Duration,
    ) -> url::Url {
        let mut action = self.inner.bucket.get_object(self.credentials(), key);
        action
            .query_mut()
            .insert("response-content-type", content_type.to_string());
        action
            .query_mut()
            .insert("response-content-disposition", disposition.to_string());
        action
            .query_mut()
            .insert("response-cache-control", "private, no-cache");
        action.sign(valid_for)
    }
}

/// `length` bytes of the file from `offset`, as a body read from disk as it is sent.
async fn file_piece(path: &Path, offset: u64, length: u64) -> Result<Body, StorageError> {
    let mut file = tokio::fs::File::open(path).await?;
    file.seek(std::io::SeekFrom::Start(offset)).await?;
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(length), 64 * 1024);
    Ok(BodyExt::boxed(StreamBody::new(stream.map_ok(Frame::data))))
}
