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

/// Whether to send HSTS: the app knows it is behind https only by this setting.
#[derive(Clone, Copy)]
pub(crate) struct Https(pub bool);

pub async fn headers(State(Https(https)): State<Https>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
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
