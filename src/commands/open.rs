//! `rl-search open ID`: the original URL in the browser, or `--local` the stored copy with the
//! system's opener.

use std::process::{Command, Stdio};

use anyhow::{Result, bail};

use super::Exit;
use crate::cli::OpenArgs;
use crate::config::Config;
use crate::store::Store;

pub fn command(cfg: &Config, args: &OpenArgs) -> Result<Exit> {
    let store = Store::open(&cfg.index_dir, false)?;
    let (rec, _) = super::target::find(&store, &args.target)?;
    let target = if args.local {
        let src = super::read::main_source(&rec)?;
        store.raw_path(&src.raw_file)?.display().to_string()
    } else {
        rec.url.clone()
    };
    launch(&target)?;
    eprintln!("opened {target}");
    Ok(Exit::Success)
}

/// `$BROWSER` when set, else the platform's opener.
pub(crate) fn launch(target: &str) -> Result<()> {
    let opener = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open"
            } else if cfg!(windows) {
                "explorer"
            } else {
                "xdg-open"
            }
            .to_string()
        });
    let mut parts = opener.split_whitespace();
    let program = parts.next().unwrap_or("xdg-open");
    let status = Command::new(program)
        .args(parts)
        .arg(target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => bail!("{program} could not open {target} ({s})"),
        Err(_) => bail!("no program to open {target}: install xdg-utils or set BROWSER"),
    }
}
