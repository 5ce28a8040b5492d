//! Growing the library (issue 22): any spelling of a link names its document; `add` and
//! `remove`; lists exported from other services.

#[path = "common/mod.rs"]
mod common;

use common::{Env, Reply, Server};

fn page(title: &str, text: &str) -> String {
    format!(
        "<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{text}</p></article></body></html>"
    )
}

fn site() -> Server {
    Server::start(|req| match req.path.as_str() {
        "/post" => Reply::html(&page(
            "Kite flying for beginners",
            "Kites fly high above the hills in the spring wind, tethered by a single line.",
        )),
        "/other" => Reply::html(&page(
            "Reels and lines",
            "A good kite line is light and strong, and it is wound on a reel after each flight.",
        )),
        "/third" => Reply::html(&page(
            "Quokkas of Rottnest",
            "Quokkas are small marsupials that live on an island near Perth and seem to smile.",
        )),
        _ => Reply::status(404),
    })
}

/// Every spelling of a listed link — the list's own with its fragment, http for https or
/// back, a bare host/path, a trailing slash, a tracking parameter — names its document, in
/// `read`, `history`, `diff` and `similar`; nothing found is one line with the closest
/// titles, exit 2.
#[test]
fn any_spelling_of_a_link_names_its_document() {
    let env = Env::new();
    let server = site();
    let listed = format!("{}#getting-started", server.url("/post"));
    let list = env.write(
        "list.md",
        &format!("- [Kites]({listed})\n- [Reels]({})\n", server.url("/other")),
    );
    env.run(&["update", "--list", list.to_str().unwrap()])
        .expect_code(0);
    let base = server.url("/post");
    let bare = base.trim_start_matches("http://").to_string();
    let spellings = [
        listed.clone(),
        base.clone(),
        format!("{base}/"),
        format!("{base}?utm_source=newsletter"),
        base.replacen("http://", "https://", 1),
        bare.clone(),
    ];
    for s in &spellings {
        let run = env.run(&["read", s]);
        assert_eq!(run.code(), 0, "{s}: {}", run.stderr());
        assert!(run.stdout().contains("tethered by a single line"), "{s}");
        env.run(&["history", s]).expect_code(0);
        assert_ne!(env.run(&["similar", s]).code(), 2, "{s}");
    }
    let missing = env.run(&["read", "Kite flying for beginers"]);
    assert_eq!(missing.code(), 2);
    let err = missing.stderr();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("Kite flying for beginners") && err.contains("closest"),
        "{err}"
    );
    let nothing = env.run(&["read", &server.url("/never-listed")]);
    assert_eq!(nothing.code(), 2);
    assert!(
        nothing.stderr().contains("never-listed"),
        "{}",
        nothing.stderr()
    );
}
