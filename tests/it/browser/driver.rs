//! Headless Chromium driven through chromedriver, and axe-core run inside every page
//! the journey arrives at. Nothing here skips: a missing browser, driver or axe-core
//! fails the test and says how to install it.
use std::collections::HashSet;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use uuid::Uuid;

const HOW_TO_INSTALL: &str = "run scripts/test, which installs Debian's chromium, \
     chromium-driver and (with npm ci) axe-core when run as root, or install them yourself";

/// How long a page or a DOM change may take to appear.
/// The window every test browses in, and the phone each page is also checked at.
const DESKTOP: (u32, u32) = (1280, 1024);
const PHONE: (u32, u32) = (390, 844);
/// The page's width and the window's, and the outermost elements that stick out past
/// the window's right edge, named to find them by.
const OVERFLOW: &str = r#"
const room = document.documentElement.clientWidth;
const out = [];
for (const e of document.body.querySelectorAll('*')) {
  if (e.getBoundingClientRect().right <= room + 1) continue;
  let p = e.parentElement, inside = false;
  for (; p && p !== document.body; p = p.parentElement) {
    if (p.getBoundingClientRect().right > room + 1 || getComputedStyle(p).overflowX !== 'visible') { inside = true; break; }
  }
  if (!inside) out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : ''));
}
if (out.length === 0) {
  for (const e of document.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.right > room + 1) out.push(e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '') + ' to ' + Math.round(r.right));
  }
}
return [document.documentElement.scrollWidth, room, out.slice(0, 6).join(', ')];
"#;
const PATIENCE: Duration = Duration::from_secs(30);

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// `$VAR` if set, else the first of `names` on PATH; a clear failure otherwise.
fn program(var: &str, names: &[&str]) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .or_else(|| on_path(names))
        .unwrap_or_else(|| {
            panic!(
                "the browser test needs {} and it is not on PATH (or set {var}): {HOW_TO_INSTALL}",
                names[0]
            )
        })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A chromedriver of our own, in a process group of its own: dropping it ends the
/// driver and any Chromium it started, even when the test fails half-way.
pub struct Chromedriver {
    child: Child,
    port: u16,
    profile: PathBuf,
}

impl Chromedriver {
    pub fn start() -> Chromedriver {
        let driver = program("CHROMEDRIVER", &["chromedriver"]);
        let port = free_port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}; {HOW_TO_INSTALL}", driver.display()));
        let profile =
            attest::testing::test_dir().join(format!("chromium-{}", Uuid::new_v4().simple()));
        let started = Chromedriver {
            child,
            port,
            profile,
        };
        let deadline = Instant::now() + PATIENCE;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{} did not listen on port {port} within {PATIENCE:?}",
                driver.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        started
    }

    /// One headless Chromium session (root needs --no-sandbox; /dev/shm may be small).
    pub async fn browser(&self, base: String) -> Browser {
        self.session(base, true).await
    }

    /// A session with JavaScript turned off, as some centres' locked-down browsers are:
    /// every page must work as plain links and forms.
    pub async fn browser_without_javascript(&self, base: String) -> Browser {
        self.session(base, false).await
    }

    async fn session(&self, base: String, javascript: bool) -> Browser {
        let axe = axe_source();
        let chromium = program(
            "CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        );
        let caps = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
                    format!("--user-data-dir={}-{javascript}", self.profile.display()),
                ],
                "prefs": {
                    "profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 },
                },
            }
        });
        let Value::Object(caps) = caps else {
            unreachable!("a JSON object literal")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver could not start {}: {e}; {HOW_TO_INSTALL}",
                    chromium.display()
                )
            });
        Browser {
            client,
            base,
            axe,
            viewer: None,
            checked: HashSet::new(),
            violations: Vec::new(),
            pages_checked: 0,
            javascript,
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // SAFETY: killpg(2) on the process group made for this chromedriver (its pid);
        // no memory is involved.
        unsafe { libc::killpg(self.child.id() as i32, libc::SIGKILL) };
        let _ = self.child.wait();
        for javascript in [true, false] {
            let _ = std::fs::remove_dir_all(format!("{}-{javascript}", self.profile.display()));
        }
    }
}

/// axe-core as pinned in tests/browser/package-lock.json.
fn axe_source() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the browser test needs axe-core at {} ({e}): run `npm ci --prefix tests/browser`; {HOW_TO_INSTALL}",
            path.display()
        )
    })
}

/// Runs axe on the whole document; answers with the serious and critical violations.
const RUN_AXE: &str = r#"
const done = arguments[arguments.length - 1];
// Only violations are wanted: axe then skips detailing passes, which halves its time.
axe.run(document, { resultTypes: ['violations'] }).then(
  (r) => done(r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                   targets: v.nodes.map((n) => n.target.join(' ')) }))),
  (e) => done({ error: String(e) }));
"#;

/// The browser, the app's address, and every serious or critical axe finding so far.
pub struct Browser {
    client: Client,
    base: String,
    axe: String,
    /// Who is signed in (the journey says), for knowing which pages are checked.
    pub viewer: Option<&'static str>,
    /// The pages checked on arrival: (viewer, path with ids as `{id}`).
    checked: HashSet<(Option<&'static str>, String)>,
    violations: Vec<String>,
    pub pages_checked: usize,
    /// False in a session without JavaScript, where axe cannot run: the same pages are
    /// checked in a session with it.
    javascript: bool,
}

/// A DevTools protocol call, through chromedriver's door to it.
#[derive(Debug)]
struct DevTools {
    cmd: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

impl Browser {
    /// Sends a DevTools protocol command to the page.
    pub async fn devtools(&self, cmd: &'static str, params: Value) -> Value {
        self.client
            .issue_cmd(DevTools { cmd, params })
            .await
            .unwrap_or_else(|e| panic!("DevTools {cmd}: {e}"))
    }

    /// Chromium's offline mode (DevTools' network emulation) on or off: the page sees
    /// `navigator.onLine` change and its `offline` and `online` events.
    pub async fn set_offline(&self, offline: bool) {
        self.devtools("Network.enable", json!({})).await;
        self.devtools(
            "Network.emulateNetworkConditions",
            json!({ "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
        )
        .await;
    }

    pub async fn close(self) {
        self.client.close().await.expect("closing the browser");
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("opening {path}: {e}"));
    }

    /// The path of the page the browser shows.
    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current url")
            .path()
            .to_string()
    }

    /// The path and query of the page the browser shows (htmx pushes the query).
    pub async fn location(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Runs `script` in the page and answers what it returns.
    pub async fn run(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("running {script:?}: {e}"))
    }

    /// Where the browser is, for failure messages.
    async fn whereabouts(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        let h1 = match self.client.find(Locator::Css("h1")).await {
            Ok(h) => h.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        format!("{url} (h1 {h1:?})")
    }

    /// Waits for `css` to match; `what` says what the journey expects there.
    pub async fn wait_for(&self, css: &str, what: &str) -> Element {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                return e;
            }
            if Instant::now() > deadline {
                panic!(
                    "{what}: `{css}` not seen within {PATIENCE:?}; the browser is at {}",
                    self.whereabouts().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn has(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css, "text to read")
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("reading `{css}`: {e}"))
    }

    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.client.find_all(Locator::Css(css)).await.expect("find") {
            out.push(e.text().await.expect("text"));
        }
        out
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css, "something to click")
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking `{css}`: {e}"));
    }

    /// Clicks a button that sends its form as a whole page, and waits until the page it
    /// leads to has loaded. A page that comes back under the same heading (a refusal
    /// beside a field) is then never mistaken for the one the form was sent from.
    pub async fn submit(&self, css: &str) {
        self.run("document.documentElement.dataset.sent = 'yes'; return null;")
            .await;
        self.click(css).await;
        let deadline = Instant::now() + PATIENCE;
        loop {
            // While the page changes the script may fail: that is "not yet".
            let loaded = self
                .client
                .execute(
                    "return document.readyState === 'complete' && !document.documentElement.dataset.sent;",
                    Vec::new(),
                )
                .await;
            if matches!(loaded, Ok(Value::Bool(true))) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "`{css}` sent no page within {PATIENCE:?}; the browser is at {}",
                    self.whereabouts().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.wait_for(css, "a field to fill").await;
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("typing");
    }

    /// Sets a date field, as its picker would: typing into one follows the browser's
    /// locale, so the value is set as the form sends it ("2026-11-24").
    pub async fn set_date(&self, css: &str, value: &str) {
        self.wait_for(css, "a date field").await;
        self.client
            .execute(
                "document.querySelector(arguments[0]).value = arguments[1];",
                vec![css.into(), value.into()],
            )
            .await
            .unwrap_or_else(|e| panic!("setting `{css}` to {value}: {e}"));
    }

    /// Chooses the file at `path` in the file input `css`.
    pub async fn attach(&self, css: &str, path: &std::path::Path) {
        let input = self.wait_for(css, "a file input").await;
        input
            .send_keys(&path.display().to_string())
            .await
            .unwrap_or_else(|e| panic!("choosing {} in `{css}`: {e}", path.display()));
    }

    pub async fn select(&self, css: &str, value: &str) {
        self.wait_for(css, "a select")
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choosing {value} in `{css}`: {e}"));
    }

    /// Waits until the page's h1 reads `h1` (the page has loaded), then checks it with
    /// axe the first time this viewer arrives at this page. Pages whose content changed
    /// in place are checked again with `check_accessibility`.
    pub async fn arrive(&mut self, h1: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(e) = self.client.find(Locator::Css("main h1")).await {
                if e.text().await.is_ok_and(|t| t == h1) {
                    break;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "expected a page headed {h1:?} within {PATIENCE:?}; the browser is at {}",
                    self.whereabouts().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let page = self
            .path()
            .await
            .split('/')
            .map(|s| if s.parse::<Uuid>().is_ok() { "{id}" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        if self.javascript && self.checked.insert((self.viewer, page)) {
            self.check_accessibility().await;
        }
    }

    /// Checks the page as it is now with axe at a desktop's width, then at a phone's
    /// (390 × 844, issue 15): there the page must also fit, scrolling only inside its
    /// own boxes (a wide table), never sideways as a whole.
    pub async fn check_accessibility(&mut self) {
        self.run_axe("").await;
        self.resize(PHONE).await;
        if let Some(problem) = self.too_wide().await {
            let page = self.whereabouts().await;
            self.violations
                .push(format!("{page}: at a phone's width the page is {problem}"));
        }
        self.run_axe(" at a phone's width").await;
        self.resize(DESKTOP).await;
    }

    /// The window at a phone's size (390 × 844), until `check_accessibility` puts it back.
    pub async fn as_phone(&self) {
        self.resize(PHONE).await;
    }

    /// What sticks out past the window's right edge, if the page is wider than it.
    pub async fn too_wide(&self) -> Option<String> {
        let page = self.whereabouts().await;
        let widths = self
            .client
            .execute(OVERFLOW, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("measuring {page}: {e}"));
        let (wide, room) = (
            widths[0].as_u64().unwrap_or(0),
            widths[1].as_u64().unwrap_or(0),
        );
        (wide > room).then(|| format!("{wide} px wide in {room} px (sticking out: {})", widths[2]))
    }

    async fn resize(&self, (width, height): (u32, u32)) {
        self.client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("resizing the window to {width} × {height}: {e}"));
    }

    /// Injects axe-core into the page as it is now and records its serious and critical
    /// violations, one readable line each.
    async fn run_axe(&mut self, how: &str) {
        let page = format!("{}{how}", self.whereabouts().await);
        self.client
            .execute(&self.axe, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("injecting axe-core into {page}: {e}"));
        let found = self
            .client
            .execute_async(RUN_AXE, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("running axe on {page}: {e}"));
        self.pages_checked += 1;
        let Value::Array(violations) = found else {
            panic!("axe failed on {page}: {found}");
        };
        for v in violations {
            let targets: Vec<&str> = v["targets"]
                .as_array()
                .map(|t| t.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            self.violations.push(format!(
                "{page}: {} [{}] at {}: {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                targets.join(", "),
                v["help"].as_str().unwrap_or("?"),
            ));
        }
    }

    /// Fetches `path` from the page, as a link the user follows to download it would,
    /// with the session cookie; answers (status, content type, the first bytes as text).
    pub async fn fetch(&self, path: &str) -> (u16, String, String) {
        let script = r#"
const [path, done] = arguments;
fetch(path).then(async (r) => {
  const bytes = new Uint8Array(await r.arrayBuffer());
  done([r.status, r.headers.get('content-type') || '',
        String.fromCharCode(...bytes.slice(0, 8)), bytes.length]);
}, (e) => done([0, String(e), '', 0]));
"#;
        let got = self
            .client
            .execute_async(script, vec![Value::String(path.to_string())])
            .await
            .unwrap_or_else(|e| panic!("fetching {path}: {e}"));
        (
            got[0].as_u64().unwrap_or(0) as u16,
            got[1].as_str().unwrap_or_default().to_string(),
            got[2].as_str().unwrap_or_default().to_string(),
        )
    }

    /// The path and query of the page the browser shows.
    pub async fn address(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Loads the page again, as the browser's reload does.
    pub async fn reload(&self) {
        self.client.refresh().await.expect("reloading");
    }

    /// An attribute of the first element `css` matches.
    pub async fn attribute(&self, css: &str, name: &str) -> Option<String> {
        self.wait_for(css, "an element to read")
            .await
            .attr(name)
            .await
            .unwrap_or_else(|e| panic!("reading {name} of `{css}`: {e}"))
    }

    /// `css`'s text and an attribute of it, or None while it is not there or is being
    /// replaced (an htmx swap): for waiting on a state.
    pub async fn try_read(&self, css: &str, attribute: &str) -> Option<(String, Option<String>)> {
        let element = self.client.find(Locator::Css(css)).await.ok()?;
        let text = element.text().await.ok()?;
        let value = element.attr(attribute).await.ok()?;
        Some((text, value))
    }

    /// The value of a cookie of the site.
    pub async fn cookie(&self, name: &str) -> String {
        self.client
            .get_named_cookie(name)
            .await
            .unwrap_or_else(|e| panic!("the cookie {name}: {e}"))
            .value()
            .to_string()
    }

    /// Fails with every serious or critical violation found on the way.
    pub fn assert_accessible(&self) {
        assert!(
            self.violations.is_empty(),
            "axe found {} serious or critical accessibility violations:\n{}",
            self.violations.len(),
            self.violations.join("\n")
        );
    }
}
