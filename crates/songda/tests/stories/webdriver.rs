//! A minimal W3C WebDriver client, just enough for the user stories to drive
//! a real headless Chromium through chromedriver.
//!
//! `Browser::start()` spawns its own chromedriver on a free port and opens one
//! session with a fresh profile; dropping the `Browser` closes the session and
//! kills chromedriver, so every test gets an isolated browser and leaves no
//! processes behind, even when it panics.
//!
//! Binaries come from `$SONGDA_CHROMEDRIVER` (default `/usr/bin/chromedriver`)
//! and `$SONGDA_CHROMIUM` (default `/usr/bin/chromium`); `scripts/test`
//! installs Debian's `chromium` and `chromium-driver` packages and sets both.
//!
//! Lookups that wait (`find`, `wait_for_text`) poll for up to 10 s, because the
//! page may still be loading or rendering; their errors name the selector and
//! show the page URL and the start of its `<body>`, which is usually enough to
//! see what went wrong without a screenshot.

// Each story uses a different subset of this API; unused helpers must not fail
// `cargo clippy --all-targets -- -D warnings`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use reqwest::Method;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);
const DRIVER_READY: Duration = Duration::from_secs(20);
/// Key under which W3C WebDriver wraps element references.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    // Tests run as root in CI, where Chromium refuses to start with its sandbox.
    "--no-sandbox",
    "--disable-gpu",
    // Docker-like machines have a tiny /dev/shm; Chromium crashes when it fills.
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    // Only registries are reachable: stop Chromium phoning home and waiting on it.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    // Parties mostly open service links on phones (see mobileEmulation below).
    "--window-size=390,844",
];

/// A WebDriver error as sent by the driver (`{"value": {"error", "message"}}`),
/// kept as a type so callers can retry on specific codes.
#[derive(Debug)]
struct WebDriverError {
    code: String,
    message: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Chromedriver repeats the code and appends a multi-line session info
        // block; the rest of the first line says it all.
        let first = self.message.lines().next().unwrap_or_default();
        let first = first
            .strip_prefix(&format!("{}: ", self.code))
            .unwrap_or(first);
        write!(f, "{}: {}", self.code, first)
    }
}

impl std::error::Error for WebDriverError {}

fn wd_code(err: &anyhow::Error) -> Option<&str> {
    err.downcast_ref::<WebDriverError>()
        .map(|e| e.code.as_str())
}

/// The HTTP side of one session, shared by the browser and its elements.
#[derive(Clone, Debug)]
struct Session {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`
    url: String,
}

impl Session {
    async fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}{}", self.url, path);
        call(&self.http, method.clone(), &url, body)
            .await
            .with_context(|| format!("WebDriver {method} {path}"))
    }

    async fn find_all(&self, from: &str, css: &str) -> Result<Vec<Element>> {
        let body = json!({"using": "css selector", "value": css});
        let found = self
            .cmd(Method::POST, &format!("{from}/elements"), Some(body))
            .await?;
        let list = found.as_array().context("find elements: not a list")?;
        list.iter().map(|v| self.element(v)).collect()
    }

    async fn find_one(&self, from: &str, css: &str) -> Result<Element> {
        let body = json!({"using": "css selector", "value": css});
        let found = self
            .cmd(Method::POST, &format!("{from}/element"), Some(body))
            .await?;
        self.element(&found)
    }

    fn element(&self, v: &Value) -> Result<Element> {
        let id = v[ELEMENT_KEY]
            .as_str()
            .with_context(|| format!("not an element: {v}"))?;
        Ok(Element {
            session: self.clone(),
            id: id.to_owned(),
        })
    }

    async fn url(&self) -> Result<String> {
        let v = self.cmd(Method::GET, "/url", None).await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    async fn source(&self) -> Result<String> {
        let v = self.cmd(Method::GET, "/source", None).await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Page URL and the start of its body, for error messages. Best effort:
    /// this runs when something already failed.
    async fn diagnostics(&self) -> String {
        let url = self
            .url()
            .await
            .unwrap_or_else(|e| format!("<unknown: {e:#}>"));
        let snippet = match self.source().await {
            Ok(src) => {
                // The <head> is mostly boilerplate; what the user sees starts at <body>.
                let start = src.find("<body").unwrap_or(0);
                let rest = &src[start..];
                match rest.char_indices().nth(2000) {
                    Some((cut, _)) => format!("{}…", &rest[..cut]),
                    None => rest.to_owned(),
                }
            }
            Err(e) => format!("<page source unavailable: {e:#}>"),
        };
        format!("page: {url}\n--- page source ---\n{snippet}\n---")
    }
}

/// Sends one WebDriver command and unwraps its `value`, turning a WebDriver
/// error payload into a `WebDriverError`.
async fn call(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value> {
    let mut req = http.request(method, url);
    // POST commands must carry a JSON body, even when empty.
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await?;
    let status = resp.status();
    let mut payload: Value = resp
        .json()
        .await
        .with_context(|| format!("HTTP {status}: response is not JSON"))?;
    let value = payload["value"].take();
    if let Some(code) = value.get("error").and_then(Value::as_str) {
        let message = value["message"].as_str().unwrap_or_default().to_owned();
        return Err(WebDriverError {
            code: code.to_owned(),
            message,
        }
        .into());
    }
    if !status.is_success() {
        bail!("HTTP {status}: {value}");
    }
    Ok(value)
}

/// A headless Chromium, driven through its own chromedriver process.
#[derive(Debug)]
pub struct Browser {
    session: Session,
    driver: Child,
    driver_addr: SocketAddr,
    /// Set once the session is deleted, so Drop does not try again.
    closed: bool,
    /// Holds the Chromium profile and the chromedriver log; removed on drop.
    dir: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and opens a session in a fresh headless Chromium.
    pub async fn start() -> Result<Browser> {
        let driver_bin = env_path("SONGDA_CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium_bin = env_path("SONGDA_CHROMIUM", "/usr/bin/chromium");
        for (bin, what) in [(&driver_bin, "chromedriver"), (&chromium_bin, "chromium")] {
            if !bin.exists() {
                bail!(
                    "{what} not found at {} — run scripts/test, which installs the Debian \
                     packages chromium and chromium-driver (or set SONGDA_CHROMEDRIVER / SONGDA_CHROMIUM)",
                    bin.display()
                );
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("songda-browser-")
            .tempdir()?;
        let http = reqwest::Client::builder()
            // Only loopback is ever reached; a proxy from the environment would break that.
            .no_proxy()
            // Bounds any single command; page loads themselves time out at 30 s (below).
            .timeout(Duration::from_secs(90))
            .build()?;

        // The port is picked by binding :0 and releasing it, so another process
        // can grab it before chromedriver does; chromedriver then exits at once
        // and we simply try again with a new port.
        let mut attempt = 0;
        let (driver, driver_addr) = loop {
            attempt += 1;
            match spawn_driver(&http, &driver_bin, dir.path()).await {
                Ok(started) => break started,
                Err(e) if attempt < 3 && e.is::<DriverExited>() => continue,
                Err(e) => return Err(e),
            }
        };
        let mut browser = Browser {
            session: Session {
                http: http.clone(),
                url: String::new(),
            },
            driver,
            driver_addr,
            closed: true,
            dir,
        };

        let profile = browser.dir.path().join("profile");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            // No implicit wait: find_all must answer at once, find polls by itself.
            "timeouts": {"implicit": 0, "pageLoad": 30_000, "script": 30_000},
            "goog:chromeOptions": {
                "binary": chromium_bin,
                "args": args,
                // Headless windows are at least 500 px wide and --window-size
                // includes the (invisible) browser frame, so the viewport would
                // be 500×701. Device metrics give the phone viewport exactly.
                "mobileEmulation": {"deviceMetrics": {
                    "width": 390, "height": 844, "pixelRatio": 1.0, "mobile": true, "touch": false,
                }},
            },
        }}});
        let base = format!("http://{driver_addr}");
        let created = call(&http, Method::POST, &format!("{base}/session"), Some(caps))
            .await
            .with_context(|| {
                format!(
                    "creating a Chromium session failed; chromedriver log:\n{}",
                    browser.driver_log()
                )
            })?;
        let id = created["sessionId"]
            .as_str()
            .context("new session: no sessionId")?;
        browser.session.url = format!("{base}/session/{id}");
        browser.closed = false;
        Ok(browser)
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.session
            .cmd(Method::POST, "/url", Some(json!({"url": url})))
            .await?;
        Ok(())
    }

    pub async fn current_url(&self) -> Result<String> {
        self.session.url().await
    }

    /// The first element matching `css`, waiting up to 10 s for it to appear.
    pub async fn find(&self, css: &str) -> Result<Element> {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.session.find_one("", css).await {
                Ok(el) => return Ok(el),
                Err(e) if wd_code(&e) == Some("no such element") && Instant::now() < deadline => {
                    tokio::time::sleep(POLL).await
                }
                Err(e) => {
                    let what = match wd_code(&e) {
                        Some("no such element") => {
                            format!("no element matches `{css}` after {WAIT:?}")
                        }
                        _ => format!("finding `{css}` failed"),
                    };
                    let diag = self.session.diagnostics().await;
                    return Err(e.context(format!("{what}\n{diag}")));
                }
            }
        }
    }

    /// Every element matching `css` right now (possibly none); does not wait.
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        self.session.find_all("", css).await
    }

    /// The first element matching `css` whose visible text contains `needle`,
    /// waiting up to 10 s (for instance for a status to change after a click).
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> Result<Element> {
        let deadline = Instant::now() + WAIT;
        let mut seen = Vec::new();
        loop {
            seen.clear();
            for el in self.session.find_all("", css).await? {
                // The page may re-render between finding and reading: a stale
                // element is just "not yet", so skip it and poll again.
                match el.text().await {
                    Ok(t) if t.contains(needle) => return Ok(el),
                    Ok(t) => seen.push(t),
                    Err(e) if wd_code(&e) == Some("stale element reference") => {}
                    Err(e) => return Err(e),
                }
            }
            if Instant::now() >= deadline {
                let diag = self.session.diagnostics().await;
                bail!(
                    "no `{css}` contains text {needle:?} after {WAIT:?}; texts seen: {seen:?}\n{diag}"
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    pub async fn page_source(&self) -> Result<String> {
        self.session.source().await
    }

    /// Runs `script` as a function body in the page (`arguments[i]` are `args`,
    /// `Element::json()` passes an element) and returns what it `return`s.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        let body = json!({"script": script, "args": args});
        self.session
            .cmd(Method::POST, "/execute/sync", Some(body))
            .await
    }

    /// The viewport as a PNG (390×844 CSS pixels).
    pub async fn screenshot_png(&self) -> Result<Vec<u8>> {
        let b64 = self.session.cmd(Method::GET, "/screenshot", None).await?;
        let png = decode_base64(b64.as_str().context("screenshot: not a string")?)?;
        if !png.starts_with(b"\x89PNG") {
            bail!("screenshot: not a PNG");
        }
        Ok(png)
    }

    /// Closes the session (and with it Chromium), then stops chromedriver.
    pub async fn quit(mut self) -> Result<()> {
        self.closed = true;
        self.session.cmd(Method::DELETE, "", None).await?;
        Ok(()) // Drop kills chromedriver.
    }

    fn driver_log(&self) -> String {
        let log =
            std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default();
        tail(&log, 3000)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Killing chromedriver alone would orphan Chromium, so delete the
        // session first. Drop cannot await, hence a blocking bare-bones HTTP
        // request, bounded by timeouts.
        if !self.closed {
            let path = self
                .session
                .url
                .trim_start_matches(&format!("http://{}", self.driver_addr));
            let _ = delete_blocking(self.driver_addr, path);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn delete_blocking(addr: SocketAddr, path: &str) -> std::io::Result<()> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    conn.set_write_timeout(Some(Duration::from_secs(2)))?;
    conn.set_read_timeout(Some(Duration::from_secs(15)))?;
    write!(
        conn,
        "DELETE {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    // Chromedriver answers once Chromium is gone. It keeps the connection
    // open despite `Connection: close`, so wait for the first bytes, not EOF.
    let _ = conn.read(&mut [0; 64])?;
    Ok(())
}

/// chromedriver exited before it was ready (usually: its port was taken).
#[derive(Debug)]
struct DriverExited(String);

impl std::fmt::Display for DriverExited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "chromedriver exited during startup: {}", self.0)
    }
}

impl std::error::Error for DriverExited {}

async fn spawn_driver(
    http: &reqwest::Client,
    bin: &Path,
    dir: &Path,
) -> Result<(Child, SocketAddr)> {
    let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let log_path = dir.join("chromedriver.log");
    let log = std::fs::File::create(&log_path)?;
    let mut child = Command::new(bin)
        .arg(format!("--port={}", addr.port()))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("spawning {}", bin.display()))?;

    let status_url = format!("http://{addr}/status");
    let deadline = Instant::now() + DRIVER_READY;
    loop {
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(DriverExited(format!("{status}\n{}", tail(&log, 3000))).into());
        }
        // Connection refused until chromedriver listens: not an error yet.
        if let Ok(v) = call(http, Method::GET, &status_url, None).await
            && v["ready"].as_bool() == Some(true)
        {
            return Ok((child, addr));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            bail!(
                "chromedriver not ready after {DRIVER_READY:?}; its log:\n{}",
                tail(&log, 3000)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An element of the current page. It goes stale when the page navigates.
#[derive(Debug)]
pub struct Element {
    session: Session,
    id: String,
}

impl Element {
    /// Clicks it, retrying for up to 10 s while it is covered or not yet
    /// interactable (e.g. mid-transition).
    pub async fn click(&self) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.cmd(Method::POST, "/click", Some(json!({}))).await {
                Err(e)
                    if matches!(
                        wd_code(&e),
                        Some("element click intercepted" | "element not interactable")
                    ) && Instant::now() < deadline =>
                {
                    tokio::time::sleep(POLL).await
                }
                other => return other.map(drop),
            }
        }
    }

    /// Types `text` into it, after whatever it already holds.
    pub async fn send_keys(&self, text: &str) -> Result<()> {
        self.cmd(Method::POST, "/value", Some(json!({"text": text})))
            .await?;
        Ok(())
    }

    pub async fn clear(&self) -> Result<()> {
        self.cmd(Method::POST, "/clear", Some(json!({}))).await?;
        Ok(())
    }

    /// Its rendered text, as a user sees it (hidden elements give "").
    pub async fn text(&self) -> Result<String> {
        let v = self.cmd(Method::GET, "/text", None).await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// An attribute as written in the markup, or `None` if absent. For the
    /// live state of a form field (what the user typed) use `property("value")`.
    pub async fn attr(&self, name: &str) -> Result<Option<String>> {
        let v = self
            .cmd(Method::GET, &format!("/attribute/{name}"), None)
            .await?;
        Ok(match v {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        })
    }

    /// A DOM property, e.g. `value` or `checked` of an input (`null` if unset).
    pub async fn property(&self, name: &str) -> Result<Value> {
        self.cmd(Method::GET, &format!("/property/{name}"), None)
            .await
    }

    /// Selects the `<option>` with this `value` in this `<select>`, by clicking
    /// it as a user would (so `change` handlers run).
    pub async fn select_by_value(&self, value: &str) -> Result<()> {
        let css = format!("option[value=\"{}\"]", css_escape(value));
        let option = self
            .session
            .find_one(&format!("/element/{}", self.id), &css)
            .await
            .with_context(|| format!("select has no option with value {value:?}"))?;
        option.click().await
    }

    /// This element as an argument for `Browser::execute`.
    pub fn json(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }

    async fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        self.session
            .cmd(method, &format!("/element/{}{path}", self.id), body)
            .await
    }
}

fn env_path(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// Escapes a string for use inside a double-quoted CSS string.
fn css_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            // Newlines cannot appear literally in a CSS string: use a hex escape.
            '\n' => out.push_str("\\a "),
            _ => out.push(c),
        }
    }
    out
}

fn tail(s: &str, max: usize) -> String {
    let start = s.len().saturating_sub(max);
    let start = (start..=s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len());
    s[start..].to_owned()
}

/// Standard base64 (screenshots arrive base64-encoded; no extra crate for it).
fn decode_base64(s: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => return Err(anyhow!("invalid base64 byte {c:#x}")),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}
