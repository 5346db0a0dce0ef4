//! Every page of every role fits a phone (issue 15, point 1): signed in as each of the
//! demo centre's people, a crawler follows every link the pages offer, one page per
//! address shape (ids aside), and measures each at 390 × 844: no page may be wider than
//! the window (a wide table scrolls inside its own box).
use std::collections::{HashSet, VecDeque};

use attest::demo::load::{load_if_empty, DEMO_PASSWORD};
use attest::testing::test_pool;
use uuid::Uuid;

use super::driver::{Browser, Chromedriver};
use super::serve;

/// Pages per person at most: far more than any role's pages, so the crawl ends.
const MOST: usize = 150;

/// The address with ids as `{id}` and without its query or fragment: one page per shape.
fn shape(path: &str) -> String {
    path.split(['?', '#'])
        .next()
        .unwrap_or_default()
        .split('/')
        .map(|s| if s.parse::<Uuid>().is_ok() { "{id}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Links worth following: the app's own pages, not files, exports, or signing out.
const LINKS: &str = r#"
return [...document.querySelectorAll('a[href]')]
  .filter(a => !a.hasAttribute('download'))
  .map(a => a.getAttribute('href'))
  .filter(h => h.startsWith('/') && !h.startsWith('//'));
"#;

fn followable(path: &str) -> bool {
    let p = path.split(['?', '#']).next().unwrap_or_default();
    !(p.starts_with("/static/")
        || p == "/logout"
        || p.contains("/files/")
        || p.ends_with(".csv")
        || p.ends_with(".pdf")
        || p.ends_with(".json")
        || p.contains("/export")
        || p.contains("/download")
        || p.starts_with("/sw.js"))
}

async fn sign_in(b: &Browser, email: &str) {
    b.goto("/login").await;
    b.fill("#email", email).await;
    b.fill("#password", DEMO_PASSWORD).await;
    b.click("main form button[type=submit]").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while b.path().await == "/login" {
        assert!(
            std::time::Instant::now() < deadline,
            "{email} did not sign in"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Every page `email` reaches by links from home: those wider than a phone.
async fn crawl(b: &Browser, email: &str, seen: &mut HashSet<String>) -> Vec<String> {
    let mut wide = Vec::new();
    let mut queue = VecDeque::from(["/".to_string()]);
    let mut visited = 0;
    b.as_phone().await;
    while let Some(path) = queue.pop_front() {
        if visited >= MOST {
            break;
        }
        visited += 1;
        b.goto(&path).await;
        b.wait_for("main", "the page").await;
        if let Some(problem) = b.too_wide().await {
            wide.push(format!("{email} at {path}: {problem}"));
        }
        let links = b.run(LINKS).await;
        for href in links
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
        {
            if followable(href) && seen.insert(format!("{email} {}", shape(href))) {
                queue.push_back(href.to_string());
            }
        }
    }
    wide
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_every_role_fits_a_phone_in_chromium() {
    let pool = test_pool().await;
    load_if_empty(&pool).await.expect("the demo centre");
    let (base, _server) = serve(pool).await;
    let driver = Chromedriver::start();
    let mut wide = Vec::new();
    let mut seen = HashSet::new();
    let mut pages = 0;
    for who in ["admin", "assessor", "trainee", "iqa", "ben", "zoe", "amira"] {
        let b = driver.browser(base.clone()).await;
        let email = format!("{who}@demo.attest.test");
        sign_in(&b, &email).await;
        let before = seen.len();
        wide.extend(crawl(&b, &email, &mut seen).await);
        pages += seen.len() - before;
        b.close().await;
    }
    eprintln!("crawled {pages} pages at a phone's width");
    assert!(pages > 60, "the crawl reached only {pages} pages");
    assert!(
        wide.is_empty(),
        "pages wider than a phone:\n{}",
        wide.join("\n")
    );
}
