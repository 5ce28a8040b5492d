//! Command-line definitions (clap derive). The only module that knows clap.
//!
//! Style: flags are long and spelled out; every flag has a one-line help that says what it does
//! and its default; values name their kind (`DIR`, `N`, `DURATION`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "rl-search",
    version,
    about = "Turn a Markdown reading list into a local, offline, searchable library",
    long_about = "Turn a Markdown reading list into a local, offline, searchable library.\n\n\
        `rl-search update` fetches every link of the list (the built-in Anti-hype LLM reading list \
        unless --list is given), extracts the text of pages and PDFs, and indexes it. \
        `rl-search QUERY` searches it; `rl-search read ID` shows a document offline; `rl-search serve` opens the library in a browser.",
    subcommand_negates_reqs = true,
    override_usage = "rl-search [OPTIONS] QUERY...\n       rl-search [OPTIONS] <COMMAND>"
)]
pub struct Cli {
    /// Library folder [default: ./index]
    #[arg(long, global = true, value_name = "DIR", env = "RL_SEARCH_INDEX")]
    pub index: Option<PathBuf>,

    /// Model folder for search by meaning (a sentence-transformers model in the Hugging Face
    /// layout) [default: the one `rl-search model pull` put in the cache, if any]
    #[arg(long, global = true, value_name = "DIR", env = "RL_SEARCH_MODEL")]
    pub model: Option<PathBuf>,

    /// When to use colour: auto (a terminal, without NO_COLOR), always or never
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// Search the library (same as `rl-search search QUERY...`)
    #[command(flatten)]
    pub search: SearchArgs,
}

#[derive(Debug, Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    pub command: ModelCommand,
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Download a sentence-transformers model into the cache (resumable, checked against
    /// the hub's sha256): all-MiniLM-L6-v2 (default), bge-small-en-v1.5, e5-small-v2, or
    /// any OWNER/REPO of the BERT family
    Pull {
        /// Model name or hub repository
        #[arg(value_name = "NAME")]
        name: Option<String>,
        /// The hub's base URL (a mirror, or a local server)
        #[arg(
            long,
            value_name = "URL",
            env = "RL_SEARCH_HUB",
            default_value = "https://huggingface.co"
        )]
        hub: String,
    },
    /// The models in the cache, and the one in use
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SearchMode {
    Hybrid,
    Lexical,
    Meaning,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch every link of the list(s), extract and index them
    Update(UpdateArgs),
    /// Search the library
    Search(SearchArgs),
    /// Show one document's stored text, offline
    Read(ReadArgs),
    /// Show each link's state: ok, failed or pending
    Status(StatusArgs),
    /// Show what the indexer would see for one file or URL, without touching the library
    Extract(ExtractArgs),
    /// Documents like this one
    Similar(SimilarArgs),
    /// Open a document's URL in the browser, or its stored copy with --local
    Open(OpenArgs),
    /// Write the library as documents for another search engine (NDJSON or Elasticsearch bulk)
    Export(ExportArgs),
    /// Read the library in a browser: search, reading view, status and refresh
    Serve(ServeArgs),
    /// A document's versions: when each was fetched and how much it changed
    History(HistoryArgs),
    /// Models for search by meaning: download one (`model pull`), see what is there
    Model(ModelArgs),
    /// What changed between two versions of a document (unified diff)
    Diff(DiffArgs),
    /// What the last update(s) found: new, changed, failing, recovered, no longer listed
    Changes(ChangesArgs),
    /// Add links to a list and fetch, store and index them now
    Add(AddArgs),
    /// Take a link out of its list and the index (its versions stay until update --prune)
    Remove(RemoveArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `rl-search man | man -l -`
    Man,
    /// Internal: extract one PDF from stdin (a worker process of `update`)
    #[command(name = "__pdf-worker", hide = true)]
    PdfWorker,
}

#[derive(Debug, Args)]
pub struct SimilarArgs {
    /// A document id, URL, or rank number from the last search
    #[arg(value_name = "ID_OR_URL")]
    pub target: String,

    /// Number of documents to show
    #[arg(short = 'n', long, value_name = "N", default_value_t = crate::search::DEFAULT_LIMIT, value_parser = how_many)]
    pub limit: usize,

    /// One JSON object per hit, per line
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// A document id, URL, or rank number from the last search
    #[arg(value_name = "ID_OR_URL")]
    pub target: String,

    /// Open the stored copy (the PDF or page as downloaded) instead of the URL
    #[arg(long)]
    pub local: bool,
}

/// The index name in `_bulk` action lines unless `--index-name` says otherwise.
pub const DEFAULT_INDEX_NAME: &str = "rl-search";
/// Words per exported chunk: under Meilisearch's 65,535-word limit for one field.
pub const DEFAULT_CHUNK_WORDS: usize = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One JSON document per line (Meilisearch, Quickwit, jq)
    Ndjson,
    /// Elasticsearch / OpenSearch `_bulk`: an action line, then the document
    EsBulk,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ExportFormat::Ndjson)]
    pub format: ExportFormat,

    /// The index name in `_bulk` action lines
    #[arg(long, value_name = "NAME", default_value = DEFAULT_INDEX_NAME)]
    pub index_name: String,

    /// Split documents longer than this many words into chunks (Meilisearch indexes only the
    /// first 65,535 words of a field)
    #[arg(long, value_name = "WORDS", default_value_t = DEFAULT_CHUNK_WORDS)]
    pub chunk_words: usize,

    /// Also export earlier versions (ids `ID-vN-CHUNK`, with `version` and `current`)
    #[arg(long)]
    pub all_versions: bool,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// A reading list: a Markdown file or an http(s) URL; repeat for several
    /// [default: the lists of the last update, else the built-in list]
    #[arg(long = "list", value_name = "PATH_OR_URL")]
    pub lists: Vec<String>,

    /// Refetch everything, ignoring validators and --max-age
    #[arg(long)]
    pub force: bool,

    /// Skip links checked more recently than this (e.g. 12h, 7d)
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub max_age: Option<std::time::Duration>,

    /// Wait for another running update to finish instead of failing at once
    #[arg(long)]
    pub wait: bool,

    /// Downloads in flight at once, across all hosts
    #[arg(long, value_name = "N", default_value_t = crate::fetch::DEFAULT_GLOBAL_LIMIT)]
    pub concurrency: usize,

    /// Downloads in flight at once to one host
    #[arg(long, value_name = "N", default_value_t = crate::fetch::politeness::DEFAULT_PER_HOST)]
    pub per_host: usize,

    /// Politeness for one host, HOST=N or HOST=N/SPACING (e.g. arxiv.org=1/3s); repeatable
    #[arg(long = "host-rule", value_name = "RULE")]
    pub host_rules: Vec<String>,

    /// Give up on a download after this long (per attempt)
    #[arg(long, value_name = "DURATION", default_value_t = crate::fetch::DEFAULT_TOTAL_TIMEOUT.into())]
    pub timeout: humantime::Duration,

    /// Retries of a download after a timeout, a reset, 408, 429 or 5xx (with backoff)
    #[arg(long, value_name = "N", default_value_t = crate::fetch::retry::DEFAULT_ATTEMPTS - 1)]
    pub retries: u32,

    /// Give up on a PDF's text after this long (its extraction process is stopped)
    #[arg(long, value_name = "DURATION", default_value_t = crate::extract::pdf::DEFAULT_PDF_TIMEOUT.into())]
    pub pdf_timeout: humantime::Duration,

    /// Largest document to download, in bytes (after decompression)
    #[arg(long, value_name = "BYTES", default_value_t = crate::fetch::DEFAULT_MAX_BYTES)]
    pub max_bytes: u64,

    /// Rebuild the search index from the stored text (no network)
    #[arg(long)]
    pub reindex: bool,

    /// Indexing threads [default: one per core, up to 8]
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub index_threads: usize,

    /// Keep at most N versions of each document, the current one included [default: all]
    #[arg(long, value_name = "N", value_parser = versions_to_keep)]
    pub keep_versions: Option<usize>,

    /// Remove the stored copies and versions of links that are no longer on the list
    #[arg(long)]
    pub prune: bool,

    /// Embed the library again with the model (--model), replacing vectors another model made
    #[arg(long)]
    pub embed: bool,
}

#[derive(Debug, Args, Default)]
pub struct SearchArgs {
    /// Words to search for; "quoted phrases", -excluded, OR, title:/section:/kind:/host: work
    #[arg(value_name = "QUERY")]
    pub query: Vec<String>,

    /// Number of hits to show
    #[arg(short = 'n', long, value_name = "N", default_value_t = crate::search::DEFAULT_LIMIT, value_parser = how_many)]
    pub limit: usize,

    /// Only documents whose section matches
    #[arg(long, value_name = "SECTION")]
    pub section: Option<String>,

    /// Only documents of this kind: paper, pdf, page, video, repo, gist, text
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,

    /// Only documents from this host (e.g. arxiv.org)
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,

    /// Only documents with this tag (from an import's tags or keywords); repeatable
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// One JSON object per hit, per line
    #[arg(long)]
    pub json: bool,

    /// Also search earlier versions of documents (marked as such)
    #[arg(long)]
    pub all_versions: bool,

    /// How to rank: by meaning and words together (hybrid, when the library has passage
    /// vectors and the model is at hand), by words only (lexical), or by meaning only
    #[arg(long, value_enum, value_name = "MODE")]
    pub mode: Option<SearchMode>,
}

#[derive(Debug, Args)]
pub struct ReadArgs {
    /// A document id (as search prints it), the link's URL, or a rank number from the last search
    #[arg(value_name = "ID_OR_URL")]
    pub target: String,

    /// Write the original bytes (the HTML or PDF as downloaded)
    #[arg(long)]
    pub raw: bool,

    /// Highlight these words and open at the first match [default: the last search's query,
    /// when the target is a rank number]
    #[arg(long, value_name = "QUERY")]
    pub query: Option<String>,

    /// Never use a pager
    #[arg(long)]
    pub no_pager: bool,

    /// Read an earlier version (numbers as `history` shows them)
    #[arg(long, value_name = "N", conflicts_with_all = ["raw", "at"])]
    pub version: Option<u32>,

    /// Read the version that was current at this date (2026-11-30 or 2026-11-30T12:00:00Z)
    #[arg(long, value_name = "DATE", conflicts_with = "raw")]
    pub at: Option<String>,

    /// Print the document's outline (its section headings) instead of its text
    #[arg(long, conflicts_with_all = ["raw", "section"])]
    pub toc: bool,

    /// Start at this section: a heading's title or number, as `--toc` prints them
    /// (`--section 3.2`, `--section "Related work"`)
    #[arg(long, value_name = "TITLE", conflicts_with = "raw")]
    pub section: Option<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// A document id, the link's URL, or a rank number from the last search
    #[arg(value_name = "ID_OR_URL")]
    pub target: String,

    /// One JSON object per version, per line
    #[arg(long)]
    pub json: bool,
}

/// `--since`: a duration back from now (`7d`, `12h`) or a date or time (`2026-11-30`,
/// `2026-11-30T08:00:00Z`).
pub fn parse_since(s: &str) -> Result<std::time::SystemTime, String> {
    let s = s.trim();
    if let Ok(d) = humantime::parse_duration(s) {
        return std::time::SystemTime::now()
            .checked_sub(d)
            .ok_or_else(|| format!("{s} goes back too far"));
    }
    let time = if s.len() == 10 {
        format!("{s}T00:00:00Z")
    } else {
        s.to_string()
    };
    humantime::parse_rfc3339_weak(&time)
        .map_err(|_| format!("{s:?} is neither a duration (7d, 12h) nor a date (2026-11-30)"))
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The links (http or https)
    #[arg(value_name = "URL", required = true)]
    pub urls: Vec<String>,

    /// The section (heading) they go under; made when missing
    #[arg(long, value_name = "S")]
    pub section: Option<String>,

    /// A tag for them (written after the link as #TAG); repeatable
    #[arg(long = "tag", value_name = "T")]
    pub tags: Vec<String>,

    /// The Markdown list they go into [default: the library's own list.md]
    #[arg(long, value_name = "LIST")]
    pub to: Option<std::path::PathBuf>,

    /// Wait for another update to finish instead of failing
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// A document id, a rank of the last search, or any spelling of its link
    #[arg(value_name = "ID_OR_URL")]
    pub target: String,

    /// The list to take it out of [default: whichever of the library's lists has it]
    #[arg(long, value_name = "LIST")]
    pub from: Option<std::path::PathBuf>,

    /// Wait for another update to finish instead of failing
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// Every update since then: a duration back (7d, 12h) or a date (2026-11-30)
    /// [default: the last update]
    #[arg(long, value_name = "DURATION|DATE", value_parser = parse_since)]
    pub since: Option<std::time::SystemTime>,

    /// One JSON object per change, per line
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// A document id, the link's URL, or a rank number from the last search
    #[arg(value_name = "ID_OR_URL")]
    pub target: String,

    /// The older version [default: the one before --to]
    #[arg(long, value_name = "N")]
    pub from: Option<u32>,

    /// The newer version [default: the current one]
    #[arg(long, value_name = "M")]
    pub to: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on (0 picks a free one)
    #[arg(long, default_value_t = 8717)]
    pub port: u16,

    /// Address to listen on; anything but loopback lets other machines read the library
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub bind: std::net::IpAddr,

    /// Open the reader in the browser ($BROWSER, else the system's opener)
    #[arg(long)]
    pub open: bool,

    /// Also answer requests for this host name (besides localhost and IP addresses); repeatable
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_hosts: Vec<String>,

    /// Refresh the library in the background this often (e.g. 6h; at least 1m), give or
    /// take a tenth so that many copies do not ask hosts at the same moment
    #[arg(long, value_name = "DURATION", value_parser = parse_every)]
    pub refresh_every: Option<std::time::Duration>,
}

/// `--refresh-every`: a duration of a minute or more.
fn parse_every(s: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|_| format!("{s:?} is not a duration: give e.g. 6h, 30m or 1d"))?;
    if d < std::time::Duration::from_secs(60) {
        return Err(format!(
            "{s} is too often to refresh a library: give a minute or more (e.g. 30m)"
        ));
    }
    Ok(d)
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// One JSON object with a `documents` list and totals
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// A local file (HTML, PDF, text) or an http(s) URL
    #[arg(value_name = "PATH_OR_URL")]
    pub target: String,

    /// Print a JSON object instead of text
    #[arg(long)]
    pub json: bool,

    /// Treat a local file as this content type instead of guessing (e.g. text/html)
    #[arg(long, value_name = "MIME")]
    pub content_type: Option<String>,
}

/// `--keep-versions`: the current version is always kept.
fn versions_to_keep(s: &str) -> Result<usize, String> {
    how_many(s).map_err(|e| format!("{e} (the current version is always kept)"))
}

/// A whole number of at least 1 (`--limit 0` used to show one hit: a search asks for one).
fn how_many(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("give a whole number of at least 1".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_durations_and_dates() {
        let week = parse_since("7d").unwrap();
        let ago = std::time::SystemTime::now()
            .duration_since(week)
            .unwrap()
            .as_secs();
        assert!((7 * 86400 - 5..=7 * 86400 + 5).contains(&ago));
        assert!(parse_since("2026-11-30").is_ok());
        assert!(parse_since("2026-11-30T08:00:00Z").is_ok());
        let e = parse_since("last tuesday").unwrap_err();
        assert!(e.contains("7d") && e.contains("2026-11-30"), "{e}");
    }

    #[test]
    fn zero_results_is_refused_not_rounded_up() {
        for cmd in ["search", "similar"] {
            let e = Cli::try_parse_from(["rl-search", cmd, "x", "--limit", "0"]).unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains("--limit") && text.contains("at least 1"),
                "{text}"
            );
        }
        assert!(Cli::try_parse_from(["rl-search", "search", "x", "-n", "3"]).is_ok());
    }
}
