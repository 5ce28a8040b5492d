//! List parsing at scale (not a test): `cargo run --release --example list_bench -- 100000`
//! parses a generated Markdown list of N links (a tenth of them repeated) and prints the time.

use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut md = String::from("# Bench\n");
    for i in 0..n {
        if i % 1000 == 0 {
            md += &format!("\n## Section {}\n\n", i / 1000);
        }
        // Every tenth link repeats an earlier one, as lists do.
        let target = if i % 10 == 9 { i / 2 } else { i };
        md += &format!(
            "- [Link {i}](https://host{}.example.org/page/{target})\n",
            target % 50
        );
    }
    let t = Instant::now();
    let parsed = rl_search::list::parse(&md);
    println!(
        "{n} links ({} unique, {:.1} MB): parsed in {:.0} ms",
        parsed.entries.len(),
        md.len() as f64 / 1e6,
        t.elapsed().as_secs_f64() * 1000.0
    );
}
