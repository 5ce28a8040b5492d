//! The web reader in a real browser: headless Chromium driven through chromedriver
//! (WebDriver). Search from the box, move through the hits with the keyboard, open one, see
//! and step through the highlights, check the stored PDF, refresh from the status page.
//! Without Chromium and chromedriver on the PATH these tests are skipped, and say so.

#[path = "common/mod.rs"]
mod common;

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use common::Env;
use common::reader::{Reader, build_library, fixture_site};

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| PathBuf::from(d).join(name))
        .find(|p| p.is_file())
}

/// chromedriver on a free port; killed when dropped.
struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_driver(driver: &PathBuf) -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver(child, port)
}

async fn browser(chromium: &PathBuf, driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1200,900"],
        }),
    );
    ClientBuilder::rustls()
        .expect("a WebDriver client")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.1))
        .await
        .expect("a browser session")
}

/// Keys are sent only once the page and its script have loaded: a key pressed before the
/// script runs would be lost.
async fn loaded(c: &Client) {
    wait_until(
        c,
        "return document.readyState === 'complete'",
        "the page to load",
    )
    .await;
}

async fn press(c: &Client, key: char) {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    c.perform_actions(keys).await.unwrap();
}

async fn wait_until(c: &Client, script: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if c.execute(script, vec![]).await.ok() == Some(json!(true)) {
            return;
        }
        if Instant::now() > deadline {
            let page = c
                .execute(
                    "return location.href + ' ' + document.body.innerText.slice(0, 600)",
                    vec![],
                )
                .await
                .unwrap_or_default();
            panic!("timed out waiting for {what}; the page: {page}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn search_read_and_refresh_in_a_browser() {
    let (Some(chromium), Some(driver)) = (
        which("chromium").or_else(|| which("chromium-browser")),
        which("chromedriver"),
    ) else {
        eprintln!(
            "skipping the browser tests: chromium and chromedriver are not on the PATH (apt install chromium chromium-driver)"
        );
        return;
    };
    let env = Env::new();
    let site = fixture_site();
    build_library(&env, &site);
    let quokka = env.run(&["search", "--json", "quokka"]).json_lines()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reader = Reader::start(&env);
    let driver = start_driver(&driver);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = browser(&chromium, &driver).await;

        // Search from the box on the first page.
        c.goto(&reader.url).await.unwrap();
        let q = c.find(Locator::Css("main input[name=q]")).await.unwrap();
        q.send_keys("attention\u{E007}").await.unwrap(); // Enter
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("ol.hits > li"))
            .await
            .unwrap();
        loaded(&c).await;
        let url = c.current_url().await.unwrap();
        assert_eq!(url.path(), "/search");
        assert!(url.query().unwrap_or("").contains("q=attention"));

        // j selects the first hit, Enter opens it.
        press(&c, 'j').await;
        wait_until(&c, "return document.querySelector('ol.hits > li.current') !== null", "j").await;
        press(&c, '\u{E007}').await;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("article h1"))
            .await
            .unwrap();
        loaded(&c).await;
        assert!(c.current_url().await.unwrap().path().starts_with("/doc/"));
        let title = c.find(Locator::Css("article h1")).await.unwrap().text().await.unwrap();
        assert_eq!(title, "Attention Mechanisms in Practice");

        // The query's words are marked; n steps to the next one.
        let marks = c.find_all(Locator::Css("article mark")).await.unwrap();
        assert!(marks.len() >= 3, "{} marks", marks.len());
        press(&c, 'n').await;
        press(&c, 'n').await;
        let pos = c.find(Locator::Css("#mark-pos")).await.unwrap().text().await.unwrap();
        assert_eq!(pos, format!("2 / {}", marks.len()));
        assert_eq!(
            c.execute("return document.querySelector('mark.current').id", vec![]).await.unwrap(),
            json!("m1")
        );

        // / focuses the search box.
        press(&c, '/').await;
        assert_eq!(
            c.execute("return document.activeElement.name", vec![]).await.unwrap(),
            json!("q")
        );

        // The stored original is the PDF.
        let raw = c
            .find(Locator::LinkText("stored original"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        let ct = c
            .execute_async(
                "fetch(arguments[0]).then(r => arguments[1](r.headers.get('content-type')))",
                vec![json!(raw)],
            )
            .await
            .unwrap();
        assert_eq!(ct, json!("application/pdf"));

        // A hostile title is shown as text; its script never runs.
        c.goto(&format!("{}doc/{quokka}", reader.url)).await.unwrap();
        let h1 = c.find(Locator::Css("article h1")).await.unwrap().text().await.unwrap();
        assert!(h1.starts_with("<img src=x"), "{h1}");
        // Had the title's handler run, the page's title would now be just "pwned".
        let doc_title = c.title().await.unwrap();
        assert!(doc_title.ends_with("Evil · rl-search"), "{doc_title}");
        assert_eq!(
            c.execute("return document.querySelectorAll('article img').length", vec![])
                .await
                .unwrap(),
            json!(0)
        );

        // Refresh from the status page; the page follows the progress to the end.
        c.goto(&format!("{}status", reader.url)).await.unwrap();
        c.find(Locator::Css("form[action='/update'] button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_until(
            &c,
            "const p = document.getElementById('progress'); return !!p && p.dataset.running === 'false' && p.textContent.includes('Last refresh');",
            "the refresh to finish",
        )
        .await;
        let text = c.find(Locator::Id("progress")).await.unwrap().text().await.unwrap();
        assert!(text.contains("failed"), "{text}");

        // Issue 22: add a link from the status page's Add box; the new document opens when
        // it is ready. The bookmarklet leads to the same form.
        let new_page = site.url("/zebra/99");
        let url_box = c.find(Locator::Css("form.add input[name=url]")).await.unwrap();
        url_box.send_keys(&new_page).await.unwrap();
        c.find(Locator::Css("form.add input[name=section]"))
            .await
            .unwrap()
            .send_keys("Added from the browser")
            .await
            .unwrap();
        c.find(Locator::Css("form.add button")).await.unwrap().click().await.unwrap();
        wait_until(
            &c,
            "return location.pathname.startsWith('/doc/') && !!document.querySelector('article h1')",
            "the added document to open",
        )
        .await;
        let h1 = c.find(Locator::Css("article h1")).await.unwrap().text().await.unwrap();
        assert_eq!(h1, "Zebra note 99");
        c.goto(&format!("{}status", reader.url)).await.unwrap();
        let bookmarklet = c
            .find(Locator::Css("a.bookmarklet"))
            .await
            .unwrap()
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        assert!(
            bookmarklet.starts_with(&format!("javascript:location.href='{}add?url='", reader.url)),
            "{bookmarklet}"
        );
        c.goto(&format!("{}add?url={}", reader.url, new_page)).await.unwrap();
        let prefilled = c
            .find(Locator::Css("form.add input[name=url]"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap();
        assert_eq!(prefilled.as_deref(), Some(new_page.as_str()));

        c.close().await.unwrap();
    });
}
