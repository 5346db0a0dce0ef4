//! Browser hardening on every response (issue 11, point 2): a Content-Security-Policy
//! that forbids inline script and framing, the headers that go with it, HSTS only over
//! https, and nothing a signed-in person saw kept by the browser for the Back button.
use attest::db::evidence;
use attest::web::AppState;
use axum::http::{header, HeaderMap, StatusCode};
use uuid::Uuid;

use crate::http::{form_post_as, get, multipart_as, send, Reply};
use crate::portfolio::demo;

fn value<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
}

/// The headers every response carries, whatever answered it.
fn assert_hardened(what: &str, r: &Reply) {
    let csp = value(&r.headers, "content-security-policy");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{what}: {directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(value(&r.headers, "x-frame-options"), "DENY", "{what}");
    assert_eq!(
        value(&r.headers, "x-content-type-options"),
        "nosniff",
        "{what}"
    );
    assert_eq!(
        value(&r.headers, "referrer-policy"),
        "no-referrer",
        "{what}"
    );
    let permissions = value(&r.headers, "permissions-policy");
    for denied in ["geolocation=()", "microphone=()", "payment=()"] {
        assert!(permissions.contains(denied), "{what}: {permissions}");
    }
    assert!(
        r.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none(),
        "{what}: no HSTS over plain http"
    );
}

fn assert_not_stored(what: &str, r: &Reply) {
    assert_eq!(
        value(&r.headers, "cache-control"),
        "no-store",
        "{what}: the Back button after signing out must not show it"
    );
}

#[tokio::test]
async fn every_kind_of_response_carries_the_hardening_headers_and_signed_in_ones_are_not_stored() {
    let d = demo().await;
    let state = || AppState::new(d.pool.clone());
    let ben = d.as_("ben").await;
    let admin = d.as_("admin").await;
    let portfolio = format!("/enrolments/{}", d.ben.id);

    // Public pages.
    for path in ["/help", "/login", "/verify", "/set-password/not-a-token"] {
        let r = send(state(), get(path, None)).await;
        assert_hardened(path, &r);
    }

    // Signed-in pages, the kept ones (page_cache) among them.
    for path in [
        "/".to_string(),
        portfolio.clone(),
        format!("{portfolio}/progress"),
        format!("{portfolio}/matrix"),
    ] {
        let r = send(state(), get(&path, Some(&ben))).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_hardened(&path, &r);
        assert_not_stored(&path, &r);
    }

    // Downloads: an evidence file and a CSV.
    let fields = [
        ("title", "Signed statement"),
        ("description", ""),
        ("kind", "document"),
        ("declared", "yes"),
        ("signed_name", "Ben Carter"),
    ];
    let r = send(
        state(),
        multipart_as(
            &ben,
            &format!("{portfolio}/evidence"),
            &fields,
            &[("statement.txt", b"signed")],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let item = r.location.expect("the new item");
    let item_id: Uuid = item.rsplit('/').next().expect("id").parse().expect("uuid");
    let file = evidence::list_files(&d.pool, item_id)
        .await
        .expect("files")
        .remove(0);
    let download = format!("{item}/files/{}", file.id);
    for path in [download, format!("{portfolio}/activity.csv")] {
        let r = send(state(), get(&path, Some(&ben))).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_hardened(&path, &r);
        assert_not_stored(&path, &r);
    }

    // A 404, signed in and not, and a 409.
    let r = send(state(), get("/no/such/page", None)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_hardened("404", &r);
    let r = send(state(), get("/no/such/page", Some(&ben))).await;
    assert_hardened("404 signed in", &r);
    assert_not_stored("404 signed in", &r);
    let r = send(
        state(),
        form_post_as(&admin, &format!("{portfolio}/credential/issue"), ""),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_hardened("409", &r);
    assert_not_stored("409", &r);

    // Static assets keep their caching, and still carry the rest.
    let r = send(state(), get("/static/attest.css", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_hardened("static", &r);
    assert_eq!(value(&r.headers, "cache-control"), "public, max-age=3600");
}

#[tokio::test]
async fn strict_transport_security_is_sent_only_when_cookies_are_secure() {
    let d = demo().await;
    let plain = send(AppState::new(d.pool.clone()), get("/login", None)).await;
    assert!(plain
        .headers
        .get(header::STRICT_TRANSPORT_SECURITY)
        .is_none());
    let secure = AppState::from(attest::web::Services {
        secure_cookies: true,
        ..attest::web::Services::new(d.pool.clone())
    });
    for path in ["/login", "/static/attest.css", "/no/such/page"] {
        let r = send(secure.clone(), get(path, None)).await;
        let hsts = value(&r.headers, "strict-transport-security");
        assert!(hsts.starts_with("max-age="), "{path}: {hsts}");
    }
}

/// What the policy forbids must not be in the pages: no inline script, no event
/// handler attributes, no style attributes or elements.
#[test]
fn no_template_holds_inline_script_or_style() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut stack = vec![root];
    let mut checked = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("templates") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("template");
            let lower = text.to_lowercase();
            checked += 1;
            for (at, _) in lower.match_indices("<script") {
                let tag = &lower[at..lower[at..].find('>').map_or(lower.len(), |e| at + e)];
                assert!(tag.contains(" src="), "{}: inline script", path.display());
            }
            assert!(
                !lower.contains("<style"),
                "{}: a style element",
                path.display()
            );
            assert!(
                !lower.contains(" style="),
                "{}: a style attribute",
                path.display()
            );
            assert!(
                !lower.contains("javascript:"),
                "{}: a javascript: address",
                path.display()
            );
            let handler = regex_free_handler(&lower);
            assert!(
                handler.is_none(),
                "{}: an event handler attribute {handler:?}",
                path.display()
            );
        }
    }
    assert!(checked > 20, "the templates were found");
    // htmx injects a <style> for its indicators unless told not to.
    let base = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/layouts/base.html"),
    )
    .expect("base layout");
    assert!(
        base.contains(r#""includeIndicatorStyles":false"#),
        "htmx is configured not to inject its style element"
    );
}

/// An ` on…=` attribute (onclick, onload, …) or htmx's `hx-on`.
fn regex_free_handler(text: &str) -> Option<String> {
    if text.contains("hx-on") {
        return Some("hx-on".into());
    }
    text.match_indices(" on").find_map(|(at, _)| {
        let rest = &text[at + 3..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase())
            .collect();
        (!name.is_empty() && rest[name.len()..].starts_with('=')).then(|| format!("on{name}"))
    })
}
