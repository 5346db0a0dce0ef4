//! Every text response is sent compressed when the browser accepts gzip: pages, htmx
//! fragments, CSV. Rendered portfolio pages and the static files carry their own gzip
//! already (made once, at the best level), which this layer leaves as they are; files
//! people uploaded (photos, video, PDF) are sent as stored.
use axum::http::{header, Extensions, HeaderMap, StatusCode, Version};
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Below this, a response fits in a packet either way.
const SMALLEST: u64 = 512;

pub fn layer() -> CompressionLayer<impl Predicate> {
    // The fastest level: a page is compressed once per request, and level 1 already
    // takes most of the size off HTML (a 40 KB report page to about 6 KB).
    CompressionLayer::new()
        .quality(CompressionLevel::Fastest)
        .compress_when(SizeAbove::new(SMALLEST).and(is_text))
}

fn is_text(_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            let t = t.trim_start().to_ascii_lowercase();
            t.starts_with("text/")
                || t.starts_with("application/json")
                || t.starts_with("application/ld+json")
                || t.starts_with("image/svg+xml")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(t: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, t.parse().unwrap());
        h
    }

    #[test]
    fn text_is_compressed_and_uploads_are_not() {
        let yes = |t| {
            is_text(
                StatusCode::OK,
                Version::HTTP_11,
                &typed(t),
                &Extensions::new(),
            )
        };
        assert!(yes("text/html; charset=utf-8"));
        assert!(yes("text/csv; charset=utf-8"));
        assert!(yes("application/json"));
        assert!(!yes("image/jpeg"));
        assert!(!yes("application/pdf"));
        assert!(!yes("video/mp4"));
        assert!(!is_text(
            StatusCode::OK,
            Version::HTTP_11,
            &HeaderMap::new(),
            &Extensions::new()
        ));
    }
}
