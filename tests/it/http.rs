//! Requests to the router as a browser makes them: same-site form posts from an
//! address, cookies carried by hand.
use std::net::SocketAddr;

use attest::web::{router, AppState};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use tower::ServiceExt;

pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub cookie: Option<String>,
    pub body: String,
    pub headers: axum::http::HeaderMap,
}

pub async fn send(state: AppState, request: Request<Body>) -> Reply {
    let response = router(state).oneshot(request).await.expect("response");
    let header_of = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let location = header_of(header::LOCATION);
    let cookie = header_of(header::SET_COOKIE);
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    Reply {
        status,
        location,
        cookie,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

pub fn form_post(uri: &str, form: &str, from: &str) -> Request<Body> {
    let mut r = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(form.to_string()))
        .expect("request");
    let addr: SocketAddr = format!("{from}:40000").parse().expect("address");
    r.extensions_mut().insert(ConnectInfo(addr));
    r
}

pub fn sign_in(email: &str, password: &str) -> Request<Body> {
    form_post(
        "/login",
        &format!("email={email}&password={password}"),
        "192.0.2.1",
    )
}

pub fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).expect("request")
}

/// "attest_session=…" from a Set-Cookie header.
pub fn session_cookie(reply: &Reply) -> String {
    let set = reply.cookie.as_deref().expect("a session cookie is set");
    set.split(';').next().expect("name=value").to_string()
}

/// A form post that carries a session cookie.
pub fn form_post_as(cookie: &str, uri: &str, form: &str) -> Request<Body> {
    let mut r = form_post(uri, form, "192.0.2.1");
    r.headers_mut()
        .insert(header::COOKIE, cookie.parse().expect("cookie header"));
    r
}

/// Signs in and returns the session cookie.
pub async fn signed_in(state: AppState, email: &str, password: &str) -> String {
    let body = format!("email={}&password={}", enc(email), enc(password));
    let reply = send(state, form_post("/login", &body, "192.0.2.1")).await;
    assert_eq!(
        reply.status,
        StatusCode::SEE_OTHER,
        "signed in as {email}: {}",
        reply.body
    );
    session_cookie(&reply)
}

/// Percent-encodes a form value.
pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A multipart form post with a session cookie: text fields, then files (name, bytes).
pub fn multipart_as(
    cookie: &str,
    uri: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &[u8])],
) -> Request<Body> {
    let boundary = "attest-boundary-7d1f";
    let mut body: Vec<u8> = Vec::new();
    for (name, value) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    for (file_name, bytes) in files {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    Request::post(uri)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(header::COOKIE, cookie)
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .expect("request")
}
