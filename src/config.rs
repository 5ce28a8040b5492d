//! Resolved, validated settings: what the command line and environment mean, decided once
//! before any work starts.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::{Cli, ColorChoice};

/// The library folder when neither --index nor RL_SEARCH_INDEX is given.
pub const DEFAULT_INDEX_DIR: &str = "index";

/// Settings every command shares.
#[derive(Debug, Clone)]
pub struct Config {
    /// The library folder.
    pub index_dir: PathBuf,
    /// Colour and bold on stdout.
    pub color: bool,
    /// stdout is a terminal: a pager and aligned tables make sense.
    pub stdout_tty: bool,
    /// stderr is a terminal: progress bars make sense.
    pub stderr_tty: bool,
    /// The embedding model's folder: given, or the default model in the cache when it is
    /// there; `None`: search by words only.
    pub model: Option<PathBuf>,
}

/// The model used when none is named.
pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2";

/// Where `rl-search model pull` keeps models: `$XDG_CACHE_HOME/rl-search/models`, else
/// `~/.cache/rl-search/models`.
pub fn models_dir() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("rl-search").join("models"))
}

impl Config {
    pub fn resolve(cli: &Cli) -> Config {
        let stdout_tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                stdout_tty && !no_color && std::env::var("TERM").map_or(true, |t| t != "dumb")
            }
        };
        Config {
            index_dir: cli
                .index
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_INDEX_DIR)),
            color,
            stdout_tty,
            stderr_tty: std::io::stderr().is_terminal(),
            model: cli.model.clone().or_else(|| {
                let d = models_dir()?.join(DEFAULT_MODEL);
                d.join("config.json").is_file().then_some(d)
            }),
        }
    }
}
