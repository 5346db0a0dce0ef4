//! Where files are kept (issue 16 point 1): evidence files, the register's documents and
//! stored emails stay under the data folder by default, or go to an S3-compatible bucket
//! shared by every server (`--storage s3://bucket?endpoint=…&region=…`).
//!
//! Only the bucket is here: the stores that use it (`web::files::FileStore`,
//! `credentials::store::DocumentStore`, the mailer's stored messages) keep their own
//! rules about names, checks and clean-up, and each names its objects under its own
//! prefix (`files/`, `credentials/`, `mail/`).
mod s3;

pub use s3::{Bucket, StorageError};

/// Where files go, as chosen at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageChoice {
    /// Under the data folder: one server's disk.
    Local,
    /// `s3://bucket?endpoint=https://…&region=…[&style=path|virtual]`, with credentials
    /// from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`).
    S3(BucketAddress),
}

/// A bucket as the storage setting names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketAddress {
    pub name: String,
    pub endpoint: url::Url,
    pub region: String,
    /// `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key`: what
    /// S3-compatible servers (MinIO, Garage, moto) answer; AWS takes either.
    pub path_style: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StorageSettingError {
    #[error("the storage setting must be `local` or `s3://bucket?endpoint=…&region=…`, not “{0}”")]
    Unknown(String),
    #[error("the storage setting names no bucket: write s3://BUCKET?region=…")]
    NoBucket,
    #[error("the storage endpoint “{0}” is not an http or https address")]
    BadEndpoint(String),
    #[error("the storage setting has “{0}”, which is not one of endpoint, region and style")]
    UnknownPart(String),
    #[error("style must be path or virtual, not “{0}”")]
    BadStyle(String),
}

impl std::str::FromStr for StorageChoice {
    type Err = StorageSettingError;

    fn from_str(setting: &str) -> Result<Self, Self::Err> {
        let setting = setting.trim();
        if setting.is_empty() || setting == "local" {
            return Ok(StorageChoice::Local);
        }
        let rest = setting
            .strip_prefix("s3://")
            .ok_or_else(|| StorageSettingError::Unknown(setting.to_string()))?;
        let (name, query) = rest.split_once('?').unwrap_or((rest, ""));
        let name = name.trim_end_matches('/');
        if name.is_empty() {
            return Err(StorageSettingError::NoBucket);
        }
        let (mut endpoint, mut region, mut style) = (None, None, None);
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match &*k {
                "endpoint" => endpoint = Some(v.into_owned()),
                "region" => region = Some(v.into_owned()),
                "style" => style = Some(v.into_owned()),
                other => return Err(StorageSettingError::UnknownPart(other.to_string())),
            }
        }
        let region = region.unwrap_or_else(|| "us-east-1".to_string());
        let given = endpoint.is_some();
        let endpoint = endpoint.unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
        let endpoint: url::Url = endpoint
            .parse()
            .ok()
            .filter(|u: &url::Url| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or(StorageSettingError::BadEndpoint(endpoint))?;
        let path_style = match style.as_deref() {
            Some("path") => true,
            Some("virtual") => false,
            // Another server than AWS answers at its own address, bucket in the path.
            None => given,
            Some(other) => return Err(StorageSettingError::BadStyle(other.to_string())),
        };
        Ok(StorageChoice::S3(BucketAddress {
            name: name.to_string(),
            endpoint,
            region,
            path_style,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_names_local_or_a_bucket() {
        assert_eq!("".parse(), Ok(StorageChoice::Local));
        assert_eq!("local".parse(), Ok(StorageChoice::Local));
        let StorageChoice::S3(b) = "s3://evidence?endpoint=http://127.0.0.1:9000&region=eu-west-2"
            .parse::<StorageChoice>()
            .unwrap()
        else {
            panic!("a bucket")
        };
        assert_eq!(b.name, "evidence");
        assert_eq!(b.endpoint.as_str(), "http://127.0.0.1:9000/");
        assert_eq!(b.region, "eu-west-2");
        assert!(
            b.path_style,
            "another server than AWS: the bucket in the path"
        );
        let StorageChoice::S3(aws) = "s3://evidence?region=eu-west-2".parse().unwrap() else {
            panic!("a bucket")
        };
        assert_eq!(aws.endpoint.as_str(), "https://s3.eu-west-2.amazonaws.com/");
        assert!(!aws.path_style);
    }

    #[test]
    fn a_wrong_setting_says_what_is_wrong() {
        assert_eq!(
            "/srv/files".parse::<StorageChoice>(),
            Err(StorageSettingError::Unknown("/srv/files".into()))
        );
        assert_eq!(
            "s3://?region=x".parse::<StorageChoice>(),
            Err(StorageSettingError::NoBucket)
        );
        assert_eq!(
            "s3://b?endpoint=ftp://x".parse::<StorageChoice>(),
            Err(StorageSettingError::BadEndpoint("ftp://x".into()))
        );
        assert_eq!(
            "s3://b?secret=x".parse::<StorageChoice>(),
            Err(StorageSettingError::UnknownPart("secret".into()))
        );
        assert_eq!(
            "s3://b?style=odd".parse::<StorageChoice>(),
            Err(StorageSettingError::BadStyle("odd".into()))
        );
    }
}
