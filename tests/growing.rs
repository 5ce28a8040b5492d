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

/// `add` fetches only the new link, indexes it at once, prints it as a hit and writes it into
/// the library's own list under its section; the next `update` keeps it; a link already there
/// in another spelling changes nothing; `remove` takes it out of list and index.
#[test]
fn add_and_remove_on_the_librarys_own_list() {
    let env = Env::new();
    let server = site();
    let list = env.write("list.md", &format!("- [Kites]({})\n", server.url("/post")));
    env.run(&["update", "--list", list.to_str().unwrap()])
        .expect_code(0);
    let before = server.requests().len();
    let started = std::time::Instant::now();
    let run = env.run(&[
        "add",
        "--section",
        "Gear",
        "--tag",
        "gear",
        "--tag",
        "fishing line",
        &server.url("/other"),
    ]);
    let took = started.elapsed();
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert!(run.stdout().contains("Reels and lines"), "{}", run.stdout());
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    let asked: Vec<String> = server.requests()[before..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(asked, ["/other"], "no other link is fetched");
    let hits = env.run(&["search", "--json", "reel"]).json_lines();
    assert_eq!(hits[0]["title"], "Reels and lines");
    assert_eq!(hits[0]["section"], "Gear");
    assert_eq!(hits[0]["tags"], serde_json::json!(["gear", "fishing-line"]));
    let own = std::fs::read_to_string(env.library().join("list.md")).unwrap();
    assert_eq!(
        own,
        format!(
            "## Gear\n\n- [Reels and lines]({}) #gear #fishing-line\n",
            server.url("/other")
        )
    );

    // Any spelling of a link already there: nothing changes.
    let again = env.run(&["add", &format!("{}/?utm_source=x", server.url("/other"))]);
    again.expect_code(0);
    assert!(
        again.stdout().contains("already in the library"),
        "{}",
        again.stdout()
    );
    assert_eq!(
        std::fs::read_to_string(env.library().join("list.md")).unwrap(),
        own
    );

    // The next update reads the library's list with the user's.
    let update = env.run(&["update", "--list", list.to_str().unwrap()]);
    update.expect_code(0);
    assert!(
        update.stdout().contains("2 unchanged"),
        "{}",
        update.stdout()
    );
    // Read back from the list, the tags are the ones written there.
    let tagged = env
        .run(&["search", "--json", "--tag", "fishing-line"])
        .json_lines();
    assert_eq!(tagged.len(), 1, "{tagged:?}");

    // Remove by a spelling of the link: out of the list and the index, the record kept.
    let id = hits[0]["id"].as_str().unwrap().to_string();
    let gone = env.run(&[
        "remove",
        &server.url("/other").replacen("http://", "https://", 1),
    ]);
    assert_eq!(gone.code(), 0, "{}", gone.stderr());
    assert!(gone.stdout().contains("--prune"), "{}", gone.stdout());
    assert_eq!(
        std::fs::read_to_string(env.library().join("list.md")).unwrap(),
        "## Gear\n\n"
    );
    assert!(
        env.run(&["search", "--json", "reel"])
            .json_lines()
            .is_empty()
    );
    assert!(
        env.library()
            .join("docs")
            .join(format!("{id}.json"))
            .exists()
    );
    let changes = env.run(&["changes", "--json"]).json_lines();
    assert_eq!(changes[0]["kind"], "removed");

    let bad = env.run(&["add", "ftp://example.org/x"]);
    assert_eq!(bad.code(), 2);
    assert!(bad.stderr().contains("http(s)"), "{}", bad.stderr());
}

/// `add --to FILE` appends under the section's heading in the user's own list — every other
/// byte of it (CRLF line ends, other sections, text) unchanged — and `remove --from FILE`
/// takes it out again.
#[test]
fn add_to_and_remove_from_a_users_list_keep_its_other_bytes() {
    let env = Env::new();
    let server = site();
    let original = format!(
        "# Reading\r\n\r\nSome notes of mine.\r\n\r\n## Kites\r\n\r\n- [Kites]({})\r\n\r\n## Animals\r\n\r\n* nothing yet\r\n",
        server.url("/post")
    );
    let list = env.write("mine.md", &original);
    let l = list.to_str().unwrap();
    env.run(&["update", "--list", l]).expect_code(0);
    env.run(&[
        "add",
        "--to",
        l,
        "--section",
        "kites",
        &server.url("/other"),
    ])
    .expect_code(0);
    let now = std::fs::read_to_string(&list).unwrap();
    let item = format!("- [Reels and lines]({})\r\n", server.url("/other"));
    assert_eq!(
        now,
        original.replace(
            &format!("- [Kites]({})\r\n", server.url("/post")),
            &format!("- [Kites]({})\r\n{item}", server.url("/post"))
        )
    );
    env.run(&[
        "add",
        "--to",
        l,
        "--section",
        "Islands",
        &server.url("/third"),
    ])
    .expect_code(0);
    let now = std::fs::read_to_string(&list).unwrap();
    assert!(now.ends_with(&format!(
        "* nothing yet\r\n\r\n## Islands\r\n\r\n- [Quokkas of Rottnest]({})\r\n",
        server.url("/third")
    )));
    let hits = env.run(&["search", "--json", "quokkas"]).json_lines();
    assert_eq!(hits[0]["section"], "Islands");

    env.run(&["remove", "--from", l, &server.url("/other")])
        .expect_code(0);
    let after = std::fs::read_to_string(&list).unwrap();
    assert!(!after.contains("/other"), "{after}");
    assert!(after.starts_with(&original.replace("* nothing yet\r\n", "")));
}

/// Issue 22: each export format, from a committed fixture made from its documented layout:
/// detected by content, every link with its title, its folder as the section and its tags;
/// entries with no link are skipped with a reason, not a failure.
#[test]
fn every_export_format_reads_from_its_fixture() {
    use rl_search::list::{self, Format};
    type Expect = (
        &'static str,
        &'static str,
        &'static str,
        &'static [&'static str],
    );
    let cases: &[(&str, Format, &[Expect], usize)] = &[
        (
            "pocket.csv",
            Format::PocketCsv,
            &[
                (
                    "https://arxiv.org/abs/2001.08361",
                    "Scaling Laws for Neural Language Models",
                    "",
                    &["scaling", "papers"],
                ),
                (
                    "https://eugeneyan.com/writing/llm-patterns/?utm_source=pocket",
                    "Patterns for Building LLM-based Systems, and Products",
                    "",
                    &[],
                ),
                (
                    "https://example.org/unicode",
                    "Ça marche: 日本語のタイトル",
                    "",
                    &["日本語"],
                ),
            ],
            0,
        ),
        (
            "ril_export.html",
            Format::PocketHtml,
            &[
                (
                    "https://lilianweng.github.io/posts/2023-06-23-agent/",
                    "LLM Powered Autonomous Agents",
                    "",
                    &["agents", "llm"],
                ),
                (
                    "https://jalammar.github.io/illustrated-transformer/",
                    "The Illustrated Transformer",
                    "",
                    &[],
                ),
            ],
            0,
        ),
        (
            "instapaper.csv",
            Format::InstapaperCsv,
            &[
                (
                    "https://simonwillison.net/2023/Aug/3/weird-world-of-llms/",
                    "Catching up on the weird world of LLMs",
                    "Unread",
                    &[],
                ),
                (
                    "https://karpathy.github.io/2015/05/21/rnn-effectiveness/",
                    "The Unreasonable Effectiveness of Recurrent Neural Networks",
                    "Classics",
                    &[],
                ),
            ],
            0,
        ),
        (
            "raindrop.csv",
            Format::RaindropCsv,
            &[
                (
                    "https://arxiv.org/abs/1706.03762",
                    "Attention Is All You Need",
                    "Transformers",
                    &["attention", "papers"],
                ),
                (
                    "https://github.com/ray-project/llm-numbers",
                    "Numbers every LLM developer should know",
                    "Reference",
                    &[],
                ),
            ],
            0,
        ),
        (
            "readwise.csv",
            Format::ReadwiseCsv,
            &[(
                "https://writings.stephenwolfram.com/2023/02/what-is-chatgpt-doing-and-why-does-it-work/",
                "What Is ChatGPT Doing … and Why Does It Work?",
                "",
                &["explainers", "long reads"],
            )],
            0,
        ),
        (
            "pinboard.json",
            Format::PinboardJson,
            &[
                (
                    "https://huyenchip.com/2023/04/11/llm-engineering.html",
                    "Building LLM applications for production",
                    "",
                    &["llm", "production"],
                ),
                (
                    "https://vickiboykis.com/what_are_embeddings/",
                    "What are embeddings?",
                    "",
                    &[],
                ),
            ],
            0,
        ),
        (
            "firefox.json",
            Format::FirefoxJson,
            &[
                (
                    "https://lilianweng.github.io/posts/2023-03-15-prompt-engineering/",
                    "Prompt Engineering",
                    "Reading",
                    &["prompts", "llm"],
                ),
                (
                    "https://e2eml.school/transformers.html",
                    "e2eml transformers",
                    "",
                    &[],
                ),
            ],
            1,
        ),
        (
            "chrome-Bookmarks.json",
            Format::ChromeJson,
            &[
                (
                    "https://finbarr.ca/how-is-llama-cpp-possible/",
                    "How is LLaMa.cpp possible?",
                    "",
                    &[],
                ),
                (
                    "https://ehudreiter.com/2023/04/04/evaluating-chatgpt/",
                    "Evaluating ChatGPT",
                    "Evaluation",
                    &[],
                ),
            ],
            0,
        ),
        (
            "zotero.bib",
            Format::Bibtex,
            &[
                (
                    "https://arxiv.org/abs/1706.03762",
                    "Attention Is All You Need",
                    "",
                    &["transformers", "attention"],
                ),
                (
                    "https://arxiv.org/abs/2203.02155",
                    "Training language models to follow instructions with human feedback",
                    "",
                    &[],
                ),
                (
                    "https://doi.org/10.1000/xyz123",
                    "Über die Bedeutung von Ümlauten in Titeln",
                    "",
                    &[],
                ),
            ],
            1,
        ),
        (
            "mendeley.ris",
            Format::Ris,
            &[
                (
                    "https://d4mucfpksywv.cloudfront.net/better-language-models/language_models_are_unsupervised_multitask_learners.pdf",
                    "Language Models are Unsupervised Multitask Learners",
                    "",
                    &["gpt-2", "language models"],
                ),
                (
                    "https://doi.org/10.18653/v1/N19-1423",
                    "BERT: Pre-training of Deep Bidirectional Transformers",
                    "",
                    &[],
                ),
            ],
            1,
        ),
        (
            "paperpile.json",
            Format::CslJson,
            &[
                (
                    "https://arxiv.org/abs/2001.08361",
                    "Scaling Laws for Neural Language Models",
                    "",
                    &["scaling", "papers"],
                ),
                (
                    "https://doi.org/10.48550/arXiv.2203.15556",
                    "Training Compute-Optimal Large Language Models",
                    "",
                    &[],
                ),
            ],
            1,
        ),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exports");
    for (file, format, expect, skipped) in cases {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let (got_format, parsed) =
            list::read(file, &bytes, None).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(got_format, *format, "{file}");
        let got: Vec<(&str, &str, &str, Vec<&str>)> = parsed
            .entries
            .iter()
            .map(|e| {
                (
                    e.url.as_str(),
                    e.link_text.as_str(),
                    e.section.as_str(),
                    e.tags.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        let want: Vec<(&str, &str, &str, Vec<&str>)> = expect
            .iter()
            .map(|(u, t, s, tags)| (*u, *t, *s, tags.to_vec()))
            .collect();
        assert_eq!(got, want, "{file}");
        assert_eq!(
            parsed.skipped.len(),
            *skipped,
            "{file}: {:?}",
            parsed.skipped
        );
        // When the service saved it, and whether it was read, as metadata.
        let saved = |i: usize| {
            let s = parsed.entries[i].saved.clone().unwrap_or_default();
            (s.at, s.state)
        };
        let some = |s: &str| Some(s.to_string());
        match *file {
            "pocket.csv" => {
                assert_eq!(saved(0), (some("2023-07-22T04:26:40Z"), some("unread")));
                assert_eq!(saved(1).1, some("archive"));
            }
            "pinboard.json" => {
                assert_eq!(saved(0), (some("2023-04-12T08:00:00Z"), some("unread")));
                assert_eq!(saved(1).1, None);
            }
            "readwise.csv" => {
                assert_eq!(saved(0), (some("2023-08-01 10:00:00+00:00"), some("later")))
            }
            "chrome-Bookmarks.json" => assert_eq!(saved(0).0, some("2023-05-31T09:46:40Z")),
            "instapaper.csv" => assert_eq!(saved(0).0, some("2023-08-02T18:13:20Z")),
            _ => {}
        }
    }
}

/// A file in none of the formats: one line naming the file and the formats understood.
#[test]
fn a_file_in_no_known_format_names_the_formats() {
    let env = Env::new();
    let f = env.write("notes.json", "{\"just\": \"some json\", \"n\": 3}\n");
    let run = env.run(&["update", "--list", f.to_str().unwrap()]);
    assert_eq!(run.code(), 2);
    let err = run.stderr();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("notes.json") && err.contains("BibTeX") && err.contains("Pocket"),
        "{err}"
    );
    let bad = env.write("broken.bib", "@article{x,\n  title = {Unclosed\n");
    let run = env.run(&["update", "--list", bad.to_str().unwrap()]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("broken.bib"), "{}", run.stderr());
}

/// Tags from an export are a field: `tag:x` and `search --tag x` find the tagged documents,
/// hits and `read` show the tags; Instapaper's folders are sections.
#[test]
fn an_imported_export_keeps_its_tags_and_folders() {
    let env = Env::new();
    let server = site();
    let pocket = env.write(
        "pocket.csv",
        &format!(
            "title,url,time_added,tags,status\nKites,{},1690000000,hobbies|outdoors,unread\nReels,{},1690000100,hobbies,archive\nQuokkas,{},1690000200,,unread\n",
            server.url("/post"),
            server.url("/other"),
            server.url("/third")
        ),
    );
    env.run(&["update", "--list", pocket.to_str().unwrap()])
        .expect_code(0);
    let ids = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["search", "--json"];
        a.extend_from_slice(args);
        let mut got: Vec<String> = env
            .run(&a)
            .json_lines()
            .iter()
            .map(|h| h["title"].as_str().unwrap().to_string())
            .collect();
        got.sort();
        got
    };
    assert_eq!(
        ids(&["--tag", "hobbies", "kite OR reel OR quokkas"]),
        ["Kite flying for beginners", "Reels and lines"]
    );
    assert_eq!(
        ids(&["--tag", "OUTDOORS", "kites"]),
        ["Kite flying for beginners"]
    );
    assert_eq!(
        ids(&["kites OR reel tag:outdoors"]),
        ["Kite flying for beginners"]
    );
    assert!(ids(&["--tag", "nothing", "kites"]).is_empty());
    assert_eq!(
        ids(&["--tag", "hobbies"]),
        ["Kite flying for beginners", "Reels and lines"],
        "a filter alone lists what it selects"
    );
    let hit = &env.run(&["search", "--json", "kites"]).json_lines()[0];
    assert_eq!(hit["tags"], serde_json::json!(["hobbies", "outdoors"]));
    let shown = env.run(&["search", "kites"]).stdout();
    assert!(shown.contains("#hobbies #outdoors"), "{shown}");
    let read = env.run(&["read", &server.url("/post")]).stdout();
    assert!(read.contains("#hobbies #outdoors"), "{read}");
    assert!(read.contains("saved 2023-07-22 (unread)"), "{read}");

    let instapaper = env.write(
        "instapaper.csv",
        &format!(
            "URL,Title,Selection,Folder,Timestamp\n{},Quokkas,,Animals,1690000000\n",
            server.url("/third")
        ),
    );
    env.run(&["update", "--list", instapaper.to_str().unwrap()])
        .expect_code(0);
    let hits = env
        .run(&["search", "--json", "--section", "animals", "quokkas"])
        .json_lines();
    assert_eq!(hits.len(), 1);
}
