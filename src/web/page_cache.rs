//! The big portfolio pages (an evidence item's criterion tree, progress, the matrix)
//! kept in memory once rendered, with their gzip form beside them. An entry holds for
//! one `Revision`: its enrolment's (`enrolments.revision`, which the database moves on
//! every change to the enrolment a page shows) and its centre's (`centres.page_revision`,
//! moved by the rare centre-wide changes: a person renamed, suggestions turned off), so
//! a page is never served from before a change; it is kept per viewer and capacity,
//! since the account bar and the tick forms differ.
//!
//! Access is still checked on every request before the cache is asked: only the
//! rendering is saved, never the decision who may see it.
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use flate2::write::GzEncoder;
use flate2::Compression;
use uuid::Uuid;

use crate::domain::access::Capacity;
use crate::web::{AppError, AppState};

/// What a kept page was rendered at; it is served again only while both are unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revision {
    /// The enrolment's revision (a home page: the fingerprint of its enrolments).
    pub own: i64,
    /// The centre's page revision.
    pub centre: i64,
}

/// Renders `page` (into a buffer of about `size` bytes), keeps it as `key`'s page at
/// `revision`, and answers the request with it.
pub(crate) fn render_and_keep<T: Template>(
    state: &AppState,
    key: Key,
    revision: Revision,
    page: &T,
    size: usize,
    request: &HeaderMap,
) -> Result<Response, AppError> {
    let rendered = Rendered::of(page, size).map_err(|e| AppError::Internal(e.into()))?;
    let response = rendered.respond(request);
    let html = rendered.html.clone();
    state.pages.put(key.clone(), revision, Arc::new(rendered));
    // The fast gzip answered this request; the pages kept are served many times, so a
    // smaller one (a third smaller for an evidence page, for five times the work) is
    // made beside the requests and takes its place.
    let pages = Arc::clone(&state.pages);
    tokio::task::spawn_blocking(move || {
        if let Ok(gzip) = gzip(&html, Compression::best()) {
            pages.improve(&key, revision, Arc::new(Rendered { html, gzip }));
        }
    });
    Ok(response)
}

fn gzip(html: &[u8], level: Compression) -> std::io::Result<Bytes> {
    let mut gz = GzEncoder::new(Vec::with_capacity(html.len() / 8), level);
    gz.write_all(html)?;
    gz.finish().map(Bytes::from)
}

/// Which page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Page {
    /// An evidence item's page, as asked for (`ItemView`).
    Evidence(ItemView),
    Progress,
    Matrix,
    /// A person's home page (`web::home`), kept for the state of every enrolment it
    /// shows rather than one enrolment's revision.
    Home,
}

/// Which criteria an evidence item's page lists (issue 15): those claimed or ticked on
/// it, or all of the qualification's; by default, the first for staff when the item has
/// any tick, else all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemView {
    Default,
    Claimed,
    All,
}

impl ItemView {
    /// From the address's `view`; anything else is the default.
    pub fn from_query(value: Option<&str>) -> ItemView {
        match value {
            Some("claimed") => ItemView::Claimed,
            Some("all") => ItemView::All,
            _ => ItemView::Default,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub page: Page,
    /// The portfolio's enrolment (none for a home page).
    pub enrolment: Option<Uuid>,
    /// The evidence item, for its page.
    pub item: Option<Uuid>,
    pub viewer: Uuid,
    /// The viewer's capacity on the enrolment (none for a home page).
    pub capacity: Option<Capacity>,
}

/// A page as sent: its HTML, and the same compressed.
#[derive(Debug)]
pub struct Rendered {
    html: Bytes,
    gzip: Bytes,
}

impl Rendered {
    /// Renders `page` into a buffer of `capacity` bytes and compresses it once.
    pub fn of<T: Template>(page: &T, capacity: usize) -> Result<Rendered, askama::Error> {
        let mut html = String::with_capacity(capacity);
        page.render_into(&mut html)?;
        // The fastest level: a megabyte of repetitive markup still shrinks about
        // twentyfold, in a few milliseconds, once per revision.
        let html = Bytes::from(html);
        gzip(&html, Compression::fast())
            .map(|gzip| Rendered { html, gzip })
            .map_err(|e| askama::Error::Custom(Box::new(e)))
    }

    fn size(&self) -> usize {
        self.html.len() + self.gzip.len()
    }

    /// The response for a request with these headers: gzip where the browser takes it.
    pub(crate) fn respond(&self, request: &HeaderMap) -> Response {
        let gzip = accepts_gzip(request);
        let body = if gzip { &self.gzip } else { &self.html };
        let mut response = body.clone().into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        // A person's portfolio: kept by no cache, the browser's included, so that
        // Back after signing out shows nothing.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if gzip {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        response
    }
}

/// Whether `Accept-Encoding` allows gzip (`gzip` or `*`, with a q-value above zero).
pub(crate) fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

struct Entry {
    revision: Revision,
    page: Arc<Rendered>,
    /// When it was last served, in `Inner::clock` ticks: the least recent goes first.
    used: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    bytes: usize,
    clock: u64,
}

/// The process's rendered pages, within a memory budget.
pub struct PageCache {
    inner: Mutex<Inner>,
    budget: usize,
}

/// 128 MB: about a hundred of the largest evidence pages (60 units, 1,500 criteria)
/// or thousands of ordinary ones.
pub(crate) const DEFAULT_BUDGET: usize = 128 << 20;

impl PageCache {
    pub fn new(budget: usize) -> PageCache {
        PageCache {
            inner: Mutex::new(Inner::default()),
            budget,
        }
    }

    /// The page kept under `key`, if it was rendered at this revision.
    pub fn get(&self, key: &Key, revision: Revision) -> Option<Arc<Rendered>> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.clock += 1;
        let now = inner.clock;
        let entry = inner.entries.get_mut(key)?;
        if entry.revision != revision {
            return None;
        }
        entry.used = now;
        Some(Arc::clone(&entry.page))
    }

    /// Keeps `page` as `key`'s rendering at `revision`, making room by dropping the
    /// least recently served pages. A page bigger than the whole budget is not kept.
    pub fn put(&self, key: Key, revision: Revision, page: Arc<Rendered>) {
        let size = page.size();
        if size > self.budget {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.clock += 1;
        let used = inner.clock;
        if let Some(old) = inner.entries.insert(
            key,
            Entry {
                revision,
                page,
                used,
            },
        ) {
            inner.bytes -= old.page.size();
        }
        inner.bytes += size;
        while inner.bytes > self.budget {
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(gone) = inner.entries.remove(&oldest) {
                inner.bytes -= gone.page.size();
            }
        }
    }

    /// Replaces `key`'s page with `page` if it is still the one of `revision` (a newer
    /// rendering, or none, is left as it is).
    pub(crate) fn improve(&self, key: &Key, revision: Revision, page: Arc<Rendered>) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Some(entry) = inner.entries.get_mut(key) else {
            return;
        };
        if entry.revision != revision {
            return;
        }
        let (old, new) = (entry.page.size(), page.size());
        entry.page = page;
        inner.bytes = inner.bytes - old + new;
    }

    /// How many pages and bytes are kept (for tests and diagnostics).
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        (inner.entries.len(), inner.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[derive(Template)]
    #[template(source = "<p>{{ text }}</p>", ext = "html")]
    struct Tiny {
        text: String,
    }

    fn page(text: &str) -> Arc<Rendered> {
        Arc::new(
            Rendered::of(
                &Tiny {
                    text: text.repeat(50),
                },
                64,
            )
            .expect("renders"),
        )
    }

    fn rev(own: i64) -> Revision {
        Revision { own, centre: 0 }
    }

    fn key(n: u128) -> Key {
        Key {
            page: Page::Progress,
            enrolment: Some(Uuid::from_u128(n)),
            item: None,
            viewer: Uuid::from_u128(1),
            capacity: Some(Capacity::Learner),
        }
    }

    #[test]
    fn a_page_is_served_only_at_the_revision_it_was_rendered_at() {
        let cache = PageCache::new(DEFAULT_BUDGET);
        cache.put(key(1), rev(7), page("a"));
        assert!(cache.get(&key(1), rev(7)).is_some());
        assert!(
            cache.get(&key(1), rev(8)).is_none(),
            "a later revision renders again"
        );
        assert!(
            cache.get(&key(1), Revision { own: 7, centre: 1 }).is_none(),
            "a centre-wide change renders again"
        );
        assert!(
            cache.get(&key(2), rev(7)).is_none(),
            "another enrolment is not this one"
        );
        let other_viewer = Key {
            viewer: Uuid::from_u128(2),
            ..key(1)
        };
        assert!(
            cache.get(&other_viewer, rev(7)).is_none(),
            "pages are per viewer"
        );
    }

    #[test]
    fn the_least_recently_served_page_goes_first_when_the_budget_is_spent() {
        let one = page("a").size();
        let cache = PageCache::new(one * 2);
        cache.put(key(1), rev(1), page("a"));
        cache.put(key(2), rev(1), page("a"));
        assert!(cache.get(&key(1), rev(1)).is_some());
        cache.put(key(3), rev(1), page("a"));
        assert!(
            cache.get(&key(2), rev(1)).is_none(),
            "the least recent went"
        );
        assert!(cache.get(&key(1), rev(1)).is_some() && cache.get(&key(3), rev(1)).is_some());
        assert!(cache.usage().1 <= one * 2);
    }

    #[test]
    fn a_better_page_replaces_only_its_own_revision() {
        let cache = PageCache::new(DEFAULT_BUDGET);
        cache.put(key(1), rev(7), page("a"));
        cache.improve(&key(1), rev(6), page("b"));
        cache.improve(&key(2), rev(7), page("b"));
        let kept = cache.get(&key(1), rev(7)).expect("kept");
        assert_eq!(
            kept.html,
            page("a").html,
            "an older rendering does not replace it"
        );
        assert!(cache.get(&key(2), rev(7)).is_none(), "nor makes an entry");
        cache.improve(&key(1), rev(7), page("b"));
        assert_eq!(
            cache.get(&key(1), rev(7)).expect("kept").html,
            page("b").html
        );
        assert_eq!(cache.usage(), (1, page("b").size()));
    }

    #[test]
    fn gzip_holds_exactly_the_html() {
        use std::io::Read;
        let p = page("Zoë Ōtaki-Ngata ");
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&p.gzip[..])
            .read_to_string(&mut unzipped)
            .expect("valid gzip");
        assert_eq!(unzipped.as_bytes(), &p.html[..]);
        assert!(p.gzip.len() < p.html.len() / 4, "repetitive markup shrinks");
    }

    #[test]
    fn gzip_is_sent_only_to_those_who_accept_it() {
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).unwrap(),
            );
            h
        };
        for yes in ["gzip", "gzip, deflate, br", "br;q=1.0, GZIP;q=0.5", "*"] {
            assert!(accepts_gzip(&with(yes)), "{yes}");
        }
        for no in ["br", "identity", "gzip;q=0", "gzip; q=0.0, br", "gzipped"] {
            assert!(!accepts_gzip(&with(no)), "{no}");
        }
        assert!(!accepts_gzip(&HeaderMap::new()));
        let p = page("x");
        let r = p.respond(&with("gzip"));
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(r.headers()[header::VARY], "accept-encoding");
        let plain = p.respond(&HeaderMap::new());
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(plain.headers()[header::CACHE_CONTROL], "no-store");
    }
}
