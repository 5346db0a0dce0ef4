//! The bucket client against a real S3-compatible server (moto, started by the harness):
//! small and large files go up and come back byte for byte, a start reads only its
//! bytes, a presigned address serves the object as told, and removal is final.
use attest::testing::s3;

/// A file of `size` bytes whose every position says where it is.
fn patterned(dir: &std::path::Path, size: usize) -> std::path::PathBuf {
    let bytes: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let path = dir.join(format!("f-{size}"));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn scratch() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("attest-s3-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn small_and_large_files_come_back_byte_for_byte() {
    let (bucket, _) = s3::bucket().await;
    let dir = scratch();
    // Below the part threshold (one request) and above it (three parts, the last short).
    for size in [0usize, 70_000, 20 * 1024 * 1024 + 123] {
        let path = patterned(&dir, size);
        let key = format!("files/{size}");
        bucket.put_file(&key, &path).await.unwrap();
        let back = bucket.get_bytes(&key).await.unwrap();
        assert_eq!(back.len(), size);
        assert!(back == std::fs::read(&path).unwrap(), "{size} bytes differ");
        let start = bucket.get_start(&key, 4096).await.unwrap();
        assert_eq!(start.len(), size.min(4096));
        assert_eq!(&start[..], &back[..size.min(4096)]);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_presigned_address_serves_the_object_as_told_and_removal_is_final() {
    let (bucket, _) = s3::bucket().await;
    bucket
        .put_bytes("mail/one.eml", b"Subject: hi\r\n\r\nbody".to_vec())
        .await
        .unwrap();
    let url = bucket.presigned_get(
        "mail/one.eml",
        "application/octet-stream",
        "attachment; filename=\"one.eml\"",
        std::time::Duration::from_secs(60),
    );
    let (status, headers, body) = attest_get(&url).await;
    assert_eq!(status, 200);
    assert_eq!(body, b"Subject: hi\r\n\r\nbody");
    assert_eq!(
        headers.get("content-disposition").unwrap(),
        "attachment; filename=\"one.eml\""
    );
    assert_eq!(
        headers.get("content-type").unwrap(),
        "application/octet-stream"
    );
    bucket.delete("mail/one.eml").await.unwrap();
    assert!(matches!(
        bucket.get_bytes("mail/one.eml").await,
        Err(attest::storage::StorageError::NotFound(_))
    ));
    // Removing what is gone is not an error.
    bucket.delete("mail/one.eml").await.unwrap();
}

/// A plain GET of `url` with hyper, as a browser following a redirect would.
pub async fn attest_get(url: &url::Url) -> (u16, hyper::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let response = client
        .get(url.as_str().parse().unwrap())
        .await
        .expect("the storage answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}
