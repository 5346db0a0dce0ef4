//! Headers every response carries, whatever answered it (a page, a download, an error,
//! a refusal by the CSRF layer): what the browser may run, frame, send and keep.
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Scripts, styles, fonts and pictures only from this site (and `data:` pictures);
/// nothing inline, no plugins, no `<base>`, forms posted only here, and no page of
/// another site may frame ours (a framed evidence page once turned a click into a
/// tick). The pages hold no inline script, event attribute or style attribute
/// (`tests/it/hardening.rs` checks the templates), and htmx is told not to inject its
/// indicator `<style>` (`templates/layouts/base.html`).
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Browser features no page of ours uses, turned off for them and anything they might
/// embed. The camera stays available to this site, for taking evidence photos.
pub(crate) const PERMISSIONS_POLICY: &str = "camera=(self), microphone=(), geolocation=(), \
     payment=(), usb=(), serial=(), hid=(), display-capture=(), browsing-topics=()";

/// A year, sent only when the site is served over https (`AppState::secure_cookies`).
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// The policy when evidence files are served by a bucket at `files` (an origin such as
/// `https://bucket.s3.eu-west-2.amazonaws.com`): photos, video and audio shown in the page
/// come from there too, after the redirect a download answers with.
pub(crate) fn content_security_policy(files: Option<&str>) -> String {
    match files {
        None => CONTENT_SECURITY_POLICY.to_string(),
        Some(origin) => CONTENT_SECURITY_POLICY.replace(
            "img-src 'self' data:;",
            &format!("img-src 'self' data: {origin}; media-src 'self' {origin};"),
        ),
    }
}

/// Whether to send HSTS (the app knows it is behind https only by this setting), and
/// the content security policy, made once.
#[derive(Clone)]
pub(crate) struct Hardening {
    pub https: bool,
    pub policy: HeaderValue,
}

pub async fn headers(
    State(Hardening { https, policy }): State<Hardening>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    let fixed: [(HeaderName, &'static str); 4] = [
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // Addresses carry ids and set-password tokens: none leaves for another site.
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("permissions-policy"),
            PERMISSIONS_POLICY,
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        );
    }
    if !cacheable(headers) {
        // Not kept at all, so that Back after signing out on a shared computer shows
        // nothing of the portfolio (`private, no-cache` still lets the browser show
        // its copy on Back).
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Only what a handler marked `public` (the static files) may be kept: everything else
/// may be about a person, or answer differently once they sign out.
fn cacheable(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|d| d.trim().eq_ignore_ascii_case("public"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_may_serve_pictures_and_media_and_nothing_else() {
        assert_eq!(content_security_policy(None), CONTENT_SECURITY_POLICY);
        let p = content_security_policy(Some("https://b.s3.example.net"));
        assert!(
            p.contains("img-src 'self' data: https://b.s3.example.net;"),
            "{p}"
        );
        assert!(
            p.contains("media-src 'self' https://b.s3.example.net;"),
            "{p}"
        );
        assert!(
            p.contains("script-src 'self';") && p.contains("default-src 'self';"),
            "{p}"
        );
    }

    #[test]
    fn only_public_responses_are_cacheable() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(v));
            cacheable(&h)
        };
        assert!(with("public, max-age=3600"));
        assert!(!with("private, no-cache"));
        assert!(!with("no-store"));
        assert!(!cacheable(&HeaderMap::new()));
    }
}
