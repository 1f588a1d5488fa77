//! The S3 driver (aws-sdk-s3): path-style addressing against a configured endpoint
//! (MinIO in production, Garage in tests), static credentials, the bucket created
//! at start when missing. Downloads are redirects to URLs presigned for one hour
//! against the public endpoint when one is configured; otherwise the server relays
//! the object itself, since the internal endpoint is usually out of browsers' reach
//! (docs/ARCHITECTURE.md, Files).

use std::path::Path;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
    retry::RetryConfig, timeout::TimeoutConfig,
};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use secrecy::ExposeSecret;

use super::{Download, ObjectStream, Storage, StorageError};
use crate::config::S3Config;

pub struct S3Storage {
    client: Client,
    /// Signs download URLs for the public endpoint, when one is configured.
    presigner: Option<Client>,
    bucket: String,
}

const PRESIGN_TTL: Duration = Duration::from_secs(3600);

fn client(c: &S3Config, endpoint: &str) -> Client {
    let credentials = Credentials::new(
        c.access_key.expose_secret(),
        c.secret_key.expose_secret(),
        None,
        None,
        "andon-config",
    );
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(c.region.clone()))
        .credentials_provider(credentials)
        .force_path_style(true)
        // Checksums only where S3 requires them: the SDK's default (streaming
        // CRC trailers on every upload) is AWS-specific, and S3-compatible
        // servers such as Garage reject its payload signature.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        // Fail fast when the storage is down: the upload answers 503 and the
        // client retries, rather than hanging.
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .build();
    Client::from_conf(config)
}

impl S3Storage {
    pub fn new(c: &S3Config) -> Self {
        Self {
            client: client(c, &c.endpoint),
            presigner: c.public_endpoint.as_deref().map(|p| client(c, p)),
            bucket: c.bucket.clone(),
        }
    }
}

fn unavailable(e: impl std::error::Error) -> StorageError {
    // The SDK's error chain says what went wrong (connection refused, access denied).
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    StorageError::Unavailable(text)
}

#[async_trait::async_trait]
impl Storage for S3Storage {
    async fn prepare(&self) -> Result<(), StorageError> {
        tokio::fs::create_dir_all(self.spool_dir())
            .await
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        if self
            .client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        match self
            .client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
        {
            Ok(_) => {
                tracing::info!(bucket = %self.bucket, "bucket created");
                Ok(())
            }
            Err(e) => {
                let owned = e.as_service_error().is_some_and(|s| {
                    s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
                });
                if owned { Ok(()) } else { Err(unavailable(e)) }
            }
        }
    }

    async fn check(&self) -> Result<(), StorageError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    fn spool_dir(&self) -> std::path::PathBuf {
        std::env::temp_dir().join("andon-uploads")
    }

    async fn put_file(
        &self,
        key: &str,
        path: &Path,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let body = ByteStream::from_path(path)
            .await
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn download(
        &self,
        key: &str,
        content_type: &str,
        disposition: &str,
        range: Option<&str>,
    ) -> Result<Download, StorageError> {
        if let Some(presigner) = &self.presigner {
            // Signing is local: no request reaches the storage here.
            let presign = PresigningConfig::expires_in(PRESIGN_TTL).map_err(unavailable)?;
            let request = presigner
                .get_object()
                .bucket(&self.bucket)
                .key(key)
                .response_content_type(content_type)
                .response_content_disposition(disposition)
                .presigned(presign)
                .await
                .map_err(unavailable)?;
            return Ok(Download::Redirect(request.uri().to_string()));
        }
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_range(range.map(str::to_string))
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key)
                {
                    StorageError::NotFound
                } else if e.raw_response().is_some_and(|r| r.status().as_u16() == 416) {
                    StorageError::RangeNotSatisfiable
                } else {
                    unavailable(e)
                }
            })?;
        let length = object.content_length().and_then(|l| u64::try_from(l).ok());
        let content_range = object.content_range().map(str::to_string);
        let etag = object.e_tag().map(str::to_string);
        let body = futures_util::stream::unfold(object.body, |mut body| async move {
            let chunk = body.next().await?;
            Some((chunk.map_err(unavailable), body))
        });
        Ok(Download::Stream(ObjectStream {
            body: Box::pin(body),
            length,
            content_range,
            etag,
        }))
    }

    async fn fetch(&self, key: &str, dest: &Path) -> Result<(), StorageError> {
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(se) if se.is_no_such_key() => StorageError::NotFound,
                _ => unavailable(e),
            })?;
        let mut body = object.body.into_async_read();
        let mut file = tokio::fs::File::create(dest).await.map_err(unavailable)?;
        tokio::io::copy(&mut body, &mut file)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<usize, StorageError> {
        let mut deleted = 0;
        let mut token = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(unavailable)?;
            for object in page.contents() {
                if let Some(key) = object.key() {
                    self.delete(key).await?;
                    deleted += 1;
                }
            }
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => return Ok(deleted),
            }
        }
    }
}
