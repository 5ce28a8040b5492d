//! Reading-grade text: a generated paper with a known layout comes out as paragraphs under
//! its headings, with its outline; `read --toc` and `read --section` use it.

#[path = "common/mod.rs"]
mod common;

use common::{Env, Placed, Reply, Server, at, make_layout_pdf};

const HEADER: &str = "Preprint. Under review.";

/// Three pages: a single-column first page, a two-column page drawn right column first, and
/// references with hanging indents; a running header and page numbers on each; a caption at
/// the top of the last page that cuts a paragraph in two.
#[rustfmt::skip]
fn paper() -> Vec<u8> {
    let furniture = |n: &'static str| vec![at(50.0, 820.0, 8.0, HEADER), at(295.0, 40.0, 9.0, n)];
    let mut p1: Vec<Placed> = furniture("1");
    p1.extend([
        at(150.0, 760.0, 18.0, "Reading Papers Offline"),
        at(200.0, 735.0, 11.0, "Ada Lovelace and Alan Turing"),
        at(270.0, 700.0, 11.0, "Abstract"),
        at(70.0, 680.0, 10.0, "We study how a reading list can be kept offline as a searchable library of"),
        at(70.0, 668.0, 10.0, "papers and posts, and we show that the information a reader needs survives"),
        at(70.0, 656.0, 10.0, "the trip from PDF to plain text."),
        at(50.0, 620.0, 12.0, "1 Introduction"),
        at(50.0, 600.0, 10.0, "Reading lists rot: links break and pages change. Machine translation such as English-"),
        at(50.0, 588.0, 10.0, "to-German shows why compounds matter, and the library keeps the infor-"),
        at(50.0, 576.0, 10.0, "mation intact for later reading when the network is gone for good."),
        at(62.0, 564.0, 10.0, "A second paragraph starts here with an indent of its own, as papers do,"),
        at(50.0, 552.0, 10.0, "and it ends on a short line."),
    ]);
    let mut p2: Vec<Placed> = furniture("2");
    // The right column is drawn first: reading order must not follow the drawing order.
    p2.extend([
        at(310.0, 780.0, 12.0, "3 Results"),
        at(310.0, 760.0, 10.0, "Every paper came back as paragraphs under its"),
        at(310.0, 748.0, 10.0, "headings, and English text read as it was"),
        at(310.0, 736.0, 10.0, "written, without page furniture in between."),
        at(310.0, 712.0, 9.0, "Table 1: Words kept per document type."),
        at(310.0, 690.0, 10.0, "Search finds each document by its own words"),
        at(310.0, 678.0, 10.0, "after the update has finished, and the reader"),
        at(50.0, 780.0, 12.0, "2 Method"),
        at(50.0, 760.0, 10.0, "We fetch every link on the list with a polite"),
        at(50.0, 748.0, 10.0, "client, extract the main text of each page and"),
        at(50.0, 736.0, 10.0, "index it for search on the reader's machine."),
        at(50.0, 710.0, 11.0, "2.1 Data"),
        at(50.0, 690.0, 10.0, "The data is a list of thirty-six links taken"),
        at(50.0, 678.0, 10.0, "from a public reading list about language"),
        at(50.0, 666.0, 10.0, "models, fetched through a local proxy."),
    ]);
    let mut p3: Vec<Placed> = furniture("3");
    p3.extend([
        at(50.0, 800.0, 9.0, "Figure 2: The library on disk."),
        at(50.0, 785.0, 10.0, "can go on working offline for as long as needed."),
        at(50.0, 765.0, 12.0, "References"),
        at(50.0, 750.0, 10.0, "[1] A. Lovelace. Notes on the analytical engine. Scientific Memoirs, 1843."),
        at(50.0, 738.0, 10.0, "[2] A. Turing. Computing machinery and intelligence. Mind, 59(236):433-460,"),
        at(65.0, 726.0, 10.0, "1950."),
        at(50.0, 714.0, 10.0, "[3] C. Shannon. A mathematical theory of communication. Bell System"),
        at(65.0, 702.0, 10.0, "Technical Journal, 27(3):379-423, 1948."),
    ]);
    make_layout_pdf(&[p1, p2, p3])
}

fn extract_json(env: &Env) -> serde_json::Value {
    let path = env.path("paper.pdf");
    std::fs::write(&path, paper()).unwrap();
    let run = env.run(&["extract", "--json", path.to_str().unwrap()]);
    run.expect_code(0);
    serde_json::from_str(&run.stdout()).unwrap()
}

#[test]
fn a_paper_reads_as_paragraphs_under_its_headings() {
    let env = Env::new();
    let v = extract_json(&env);
    let text = v["text"].as_str().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let has_line = |l: &str| lines.contains(&l);
    // Paragraphs reflowed into one line each; a first-line indent starts a new one.
    assert!(
        has_line(
            "Reading lists rot: links break and pages change. Machine translation such as English-to-German shows why compounds matter, and the library keeps the information intact for later reading when the network is gone for good."
        ),
        "{text}"
    );
    assert!(has_line(
        "A second paragraph starts here with an indent of its own, as papers do, and it ends on a short line."
    ));
    // Headings on lines of their own.
    for h in [
        "Abstract",
        "1 Introduction",
        "2 Method",
        "2.1 Data",
        "3 Results",
        "References",
    ] {
        assert!(has_line(h), "heading {h:?} in {text}");
    }
    // Page furniture gone: the running header and the bare page numbers.
    assert!(!text.contains(HEADER), "{text}");
    for n in ["1", "2", "3"] {
        assert!(!has_line(n), "page number {n} in {text}");
    }
    // The left column is read before the right one, though drawn after it.
    let method = text.find("We fetch every link").unwrap();
    let results = text.find("Every paper came back").unwrap();
    assert!(method < results, "{text}");
    assert!(has_line(
        "The data is a list of thirty-six links taken from a public reading list about language models, fetched through a local proxy."
    ));
    // A caption is a paragraph of its own; a paragraph a figure cut is one paragraph again,
    // with the caption after it.
    assert!(has_line("Table 1: Words kept per document type."), "{text}");
    let joined = "Search finds each document by its own words after the update has finished, and the reader can go on working offline for as long as needed.";
    assert!(
        text.contains(&format!(
            "{joined}\n\nFigure 2: The library on disk.\n\nReferences"
        )),
        "{text}"
    );
    // One reference per line, hanging indents joined.
    assert!(has_line(
        "[2] A. Turing. Computing machinery and intelligence. Mind, 59(236):433-460, 1950."
    ));
    assert!(has_line(
        "[3] C. Shannon. A mathematical theory of communication. Bell System Technical Journal, 27(3):379-423, 1948."
    ));
    // Paragraphs are separated by blank lines.
    assert!(text.contains("\n\n1 Introduction\n\n"), "{text}");
}

#[test]
fn a_paper_has_an_outline_with_levels() {
    let env = Env::new();
    let v = extract_json(&env);
    let outline: Vec<(u64, String)> = v["outline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let title = match h["number"].as_str() {
                Some(n) => format!("{n} {}", h["title"].as_str().unwrap()),
                None => h["title"].as_str().unwrap().to_string(),
            };
            (h["level"].as_u64().unwrap(), title)
        })
        .collect();
    let expected: Vec<(u64, String)> = [
        (1, "Abstract"),
        (1, "1 Introduction"),
        (1, "2 Method"),
        (2, "2.1 Data"),
        (1, "3 Results"),
        (1, "References"),
    ]
    .iter()
    .map(|(l, t)| (*l, t.to_string()))
    .collect();
    assert_eq!(outline, expected);
}

#[test]
fn an_article_outline_comes_from_its_headings() {
    let env = Env::new();
    let page = env.write(
        "post.html",
        "<html><head><title>On Tokenizers</title></head><body><nav><h2>Menu</h2><a href=/>Home</a></nav><article>\
         <h1>On Tokenizers</h1><p>Byte pair encoding merges the most frequent pairs of symbols until the vocabulary is as large as wanted, which is how most language models split text.</p>\
         <h2>Why bytes</h2><p>Starting from bytes means no word is ever out of the vocabulary, whatever the language or the script of the text.</p>\
         <h3>Unicode</h3><p>Every code point is one to four bytes in UTF-8, so a rare character costs a few tokens rather than an unknown token.</p>\
         <h2>Costs</h2><p>Longer token sequences cost attention compute, which grows with the square of the length of the sequence.</p></article></body></html>",
    );
    let run = env.run(&["extract", "--json", page.to_str().unwrap()]);
    run.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let outline: Vec<(u64, &str)> = v["outline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["level"].as_u64().unwrap(), h["title"].as_str().unwrap()))
        .collect();
    // The h1 repeats the title and is not in the text; the menu's h2 is not content.
    assert_eq!(
        outline,
        vec![(1, "Why bytes"), (2, "Unicode"), (1, "Costs")]
    );
}

#[test]
fn read_toc_and_section() {
    let env = Env::new();
    let pdf = paper();
    let server = Server::start(move |req| match req.path.as_str() {
        "/paper.pdf" => Reply::new(200, "application/pdf", pdf.clone()),
        _ => Reply::status(404),
    });
    let url = server.url("/paper.pdf");
    let list = env.write(
        "list.md",
        &format!("# Papers\n\n- [Reading Papers Offline]({url})\n"),
    );
    env.run(&["update", "--list", list.to_str().unwrap()])
        .expect_code(0);

    let toc = env.run(&["read", &url, "--toc"]);
    toc.expect_code(0);
    common::assert_same_lines(
        "Abstract\n1 Introduction\n2 Method\n  2.1 Data\n3 Results\nReferences\n",
        &toc.stdout(),
    );

    let section = env.run(&["read", &url, "--section", "2.1", "--no-pager"]);
    section.expect_code(0);
    let out = section.stdout();
    let body = out
        .split_once("2.1 Data")
        .map(|(_, b)| b)
        .unwrap_or_else(|| panic!("{out}"));
    assert!(body.contains("thirty-six links"), "{out}");
    assert!(
        !out.contains("Reading lists rot"),
        "text before the section: {out}"
    );

    // By title, any case, and a title's start.
    let by_title = env.run(&["read", &url, "--section", "results", "--no-pager"]);
    by_title.expect_code(0);
    assert!(by_title.stdout().contains("3 Results\n"));
    assert!(!by_title.stdout().contains("We fetch every link"));

    let missing = env.run(&["read", &url, "--section", "Appendix Z"]);
    assert_ne!(missing.code(), 0);
    let err = missing.stderr();
    assert!(
        err.contains("no section \"Appendix Z\"") && err.contains("--toc"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
