//! `rl-search diff ID_OR_URL [--from N] [--to M]`: what changed between two versions, as a
//! unified diff of paragraphs (`diff -u`), coloured on a terminal with the changed words
//! inside a line emphasised. Exit status as diff's: 0 the same, 1 different.

use std::io::Write;

use anyhow::Result;
use similar::{ChangeTag, TextDiff};

use super::{Exit, versions};
use crate::cli::DiffArgs;
use crate::config::Config;
use crate::output::Style;
use crate::store::Store;

pub fn command(cfg: &Config, args: &DiffArgs) -> Result<Exit> {
    let store = Store::open(&cfg.index_dir, false)?;
    let (rec, _) = super::target::find(&store, &args.target)?;
    let current = rec.current_version();
    let to = args.to.unwrap_or(current);
    let from = match args.from {
        Some(f) => f,
        None if rec.versions.is_empty() => {
            anyhow::bail!(
                "{} has one version only: nothing to compare (see `rl-search history {}`)",
                rec.url,
                rec.id
            )
        }
        // The version before `to` that is kept.
        None => versions::before(&versions::all(&rec, &store), to),
    };
    let old_v = versions::numbered(&rec, &store, from)?;
    let new_v = versions::numbered(&rec, &store, to)?;
    let old = crate::terminal::strip_controls(&versions::text(&store, &rec, &old_v)?);
    let new = crate::terminal::strip_controls(&versions::text(&store, &rec, &new_v)?);
    let label = |v: &crate::store::Version| {
        format!(
            "{} version {} ({})",
            rec.id,
            v.version,
            v.fetched_at.as_deref().unwrap_or("unknown date")
        )
    };
    let (old, new) = (
        versions::paragraph_lines(&old),
        versions::paragraph_lines(&new),
    );
    let diff = TextDiff::configure()
        .timeout(std::time::Duration::from_secs(5))
        .diff_lines(&old, &new);
    if diff.ratio() == 1.0 {
        return Ok(Exit::Success);
    }
    let mut out = std::io::stdout().lock();
    let style = Style { color: cfg.color };
    if !cfg.color {
        write!(
            out,
            "{}",
            diff.unified_diff()
                .context_radius(1)
                .header(&label(&old_v), &label(&new_v))
        )?;
        return Ok(Exit::NoHits);
    }
    writeln!(out, "{}", style.red(&format!("--- {}", label(&old_v))))?;
    writeln!(out, "{}", style.green(&format!("+++ {}", label(&new_v))))?;
    let mut udiff = diff.unified_diff();
    udiff.context_radius(1);
    for hunk in udiff.iter_hunks() {
        writeln!(out, "{}", style.cyan(&hunk.header().to_string()))?;
        for op in hunk.ops() {
            for change in diff.iter_inline_changes(op) {
                let (sign, paint): (&str, fn(&str) -> String) = match change.tag() {
                    ChangeTag::Delete => ("-", red),
                    ChangeTag::Insert => ("+", green),
                    ChangeTag::Equal => (" ", plain),
                };
                let mut line = paint(sign);
                for (emphasised, part) in change.iter_strings_lossy() {
                    let part = part.trim_end_matches('\n');
                    line += &if emphasised {
                        // Changed words inside a changed line: reversed, in the line's colour.
                        format!("\x1b[7m{}\x1b[27m", paint(part))
                    } else {
                        paint(part)
                    };
                }
                writeln!(out, "{line}")?;
            }
        }
    }
    Ok(Exit::NoHits)
}

fn red(s: &str) -> String {
    format!("\x1b[31m{s}\x1b[39m")
}

fn green(s: &str) -> String {
    format!("\x1b[32m{s}\x1b[39m")
}

fn plain(s: &str) -> String {
    s.to_string()
}
