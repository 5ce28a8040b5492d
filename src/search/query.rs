//! The query reader: a user's text → clauses. It forgives: text that is not unambiguously
//! syntax is read as words (`GPT-2`, `state-of-the-art`, `Crohn's`, a stray parenthesis or
//! quote), so a natural sentence is never a syntax error. Operators count only where they
//! cannot be misread: `"a phrase"`, a leading `-word` / `+word`, `field:value` with a known
//! field, `OR` / `AND` in capitals, `word*` and `word~` / `word~2`.

use thiserror::Error;

/// Fields a `field:value` clause may name, as the user types them.
pub const FIELDS: &[&str] = &[
    "title",
    "link_text",
    "section",
    "author",
    "body",
    "kind",
    "host",
    "tag",
];

/// Words of a query that are read; a longer query (a pasted page) is cut here, with a note.
pub const MAX_WORDS: usize = 64;
/// Prefix (`word*`) and fuzzy (`word~`) clauses that are expanded against the index; each
/// walks the term dictionary of five fields, so past this they count as plain words.
pub const MAX_EXPANDING: usize = 8;

/// Whether a clause must, may or must not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occur {
    Should,
    Must,
    MustNot,
}

/// What a clause looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Free text: analysed into terms (a hyphenated word gives several).
    Words(String),
    /// A quoted phrase.
    Phrase(String),
    /// `word*`: any word starting so.
    Prefix(String),
    /// `word~` or `word~2`: within that many edits.
    Fuzzy(String, u8),
}

/// One clause of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub occur: Occur,
    /// A field named by `field:value` (one of [`FIELDS`]); `None` for every text field.
    pub field: Option<&'static str>,
    pub item: Item,
}

/// A read query: its clauses, and notes for the user about what was read differently from
/// how it was typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    pub clauses: Vec<Clause>,
    pub notes: Vec<String>,
}

impl ParsedQuery {
    /// The words of the clauses that rank (not excluded), as one string: what snippets,
    /// highlighting and feedback look for.
    pub fn positive_text(&self) -> String {
        let mut out = vec![];
        for c in &self.clauses {
            if c.occur == Occur::MustNot || matches!(c.field, Some("kind" | "host" | "tag")) {
                continue;
            }
            match &c.item {
                Item::Words(w) | Item::Phrase(w) | Item::Prefix(w) | Item::Fuzzy(w, _) => {
                    out.push(w.as_str())
                }
            }
        }
        out.join(" ")
    }
}

/// The one error a query can have: naming a field that does not exist.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("unknown field {field:?} in {token:?}; fields are {}", FIELDS.join(", "))]
pub struct QueryError {
    pub field: String,
    pub token: String,
}

/// Reads a query. Never fails on punctuation; fails only on `name:value` where `name` looks
/// like a field name (lower-case letters) but is not one.
pub fn parse(query: &str) -> Result<ParsedQuery, QueryError> {
    let mut parsed = ParsedQuery::default();
    let (tokens, unmatched_quote) = tokens(query);
    if unmatched_quote {
        parsed
            .notes
            .push("an unmatched quote was ignored: the words are searched as words".into());
    }
    let mut pending_and = false;
    if tokens.len() > MAX_WORDS {
        parsed.notes.push(format!(
            "the query has {} words; only the first {MAX_WORDS} are searched",
            tokens.len()
        ));
    }
    let mut expanding = 0;
    for raw in tokens.into_iter().take(MAX_WORDS) {
        if raw == "OR" {
            continue; // any word may match anyway
        }
        if raw == "AND" {
            // The clauses either side become required.
            if let Some(last) = parsed.clauses.last_mut()
                && last.occur == Occur::Should
            {
                last.occur = Occur::Must;
                pending_and = true;
            }
            continue;
        }
        let Some(mut clause) = clause(&raw)? else {
            continue;
        };
        if pending_and && clause.occur == Occur::Should {
            clause.occur = Occur::Must;
        }
        if let Item::Prefix(w) | Item::Fuzzy(w, _) = &clause.item {
            expanding += 1;
            if expanding == MAX_EXPANDING + 1 {
                parsed.notes.push(format!(
                    "only the first {MAX_EXPANDING} wildcard or fuzzy words are expanded; the rest are searched as words"
                ));
            }
            if expanding > MAX_EXPANDING {
                clause.item = Item::Words(w.clone());
            }
        }
        pending_and = false;
        parsed.clauses.push(clause);
    }
    Ok(parsed)
}

/// Splits on whitespace, keeping a quoted stretch (which may hold spaces) inside its token.
/// Returns whether a quote had no partner (it is dropped).
fn tokens(query: &str) -> (Vec<String>, bool) {
    let quotes = query.matches('"').count();
    // With an odd count the last quote has no partner: drop it.
    let drop_at = (quotes % 2 == 1).then(|| query.rfind('"')).flatten();
    let mut out = vec![];
    let mut cur = String::new();
    let mut in_quotes = false;
    for (i, c) in query.char_indices() {
        if Some(i) == drop_at {
            continue;
        }
        if c == '"' {
            in_quotes = !in_quotes;
            cur.push(c);
        } else if c.is_whitespace() && !in_quotes {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    (out, drop_at.is_some())
}

/// One whitespace-separated token → a clause (`None` when it holds no word).
fn clause(raw: &str) -> Result<Option<Clause>, QueryError> {
    let mut t = raw.trim_matches(|c| c == '(' || c == ')');
    let mut occur = Occur::Should;
    // A sign is an operator only before a letter or a quote: `-2` and `+1` are numbers.
    let signed = |t: &str| {
        t.chars()
            .nth(1)
            .is_some_and(|c| c.is_alphabetic() || c == '"')
    };
    if t.starts_with('-') && signed(t) {
        occur = Occur::MustNot;
        t = &t[1..];
    } else if t.starts_with('+') && signed(t) {
        occur = Occur::Must;
        t = &t[1..];
    }
    let mut field = None;
    if let Some((name, value)) = t.split_once(':') {
        let looks_like_field = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            && !value.is_empty()
            && !value.starts_with('/');
        if let Some(known) = FIELDS.iter().find(|f| **f == name) {
            if !value.is_empty() {
                field = Some(*known);
                t = value.trim_start_matches('(');
            }
        } else if looks_like_field && name != "http" && name != "https" {
            return Err(QueryError {
                field: name.to_string(),
                token: raw.to_string(),
            });
        }
    }
    if field.is_some() && occur == Occur::Should {
        occur = Occur::Must; // `title:x` is a condition, as in every search box
    }
    let item = if let Some(inner) = t.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        if occur == Occur::Should {
            occur = Occur::Must; // quotes ask for exactly these words, together
        }
        Item::Phrase(inner.to_string())
    } else {
        let t = t.replace('"', " ");
        let t = t.trim_end_matches(['.', ',', ';', '!', '?']);
        let plain = |s: &str| !s.is_empty() && s.chars().all(char::is_alphanumeric);
        if let Some(word) = t.strip_suffix('*').filter(|w| plain(w)) {
            Item::Prefix(word.to_lowercase())
        } else if let Some((word, d)) = t.split_once('~')
            && plain(word)
            && (d.is_empty() || d.parse::<u8>().is_ok_and(|d| d <= 2))
        {
            Item::Fuzzy(word.to_string(), d.parse().unwrap_or(1))
        } else {
            Item::Words(t.to_string())
        }
    };
    // Punctuation and emoji are no words to search for, but a kind, host or tag is matched
    // whole: `tag:🤖` names a tag (or none, which the search then says).
    let whole = matches!(field, Some("kind" | "host" | "tag"));
    let empty = match &item {
        Item::Words(w) | Item::Phrase(w) if whole => w.trim().is_empty(),
        Item::Words(w) | Item::Phrase(w) => !w.chars().any(char::is_alphanumeric),
        _ => false,
    };
    Ok((!empty).then_some(Clause { occur, field, item }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(occur: Occur, w: &str) -> Clause {
        Clause {
            occur,
            field: None,
            item: Item::Words(w.into()),
        }
    }

    #[test]
    fn natural_text_is_words() {
        let q = parse("GPT-2 tokenizer: Crohn's (ComYMV) alpha (+)- state-of-the-art -2, +1 G - x")
            .unwrap();
        let got: Vec<_> = q.clauses.iter().map(|c| c.item.clone()).collect();
        let w = |s: &str| Item::Words(s.into());
        assert_eq!(
            got,
            [
                w("GPT-2"),
                w("tokenizer:"),
                w("Crohn's"),
                w("ComYMV"),
                w("alpha"),
                w("state-of-the-art"),
                w("-2"),
                w("+1"),
                w("G"),
                w("x"),
            ]
        );
        assert!(q.clauses.iter().all(|c| c.occur == Occur::Should));
        assert!(q.notes.is_empty());
    }

    #[test]
    fn operators_where_unambiguous() {
        let q = parse(r#"title:transformers -bert "word embeddings" +gpu a AND b OR c embed* kubernetis~ vectr~2"#)
            .unwrap();
        assert_eq!(
            q.clauses,
            [
                Clause {
                    occur: Occur::Must,
                    field: Some("title"),
                    item: Item::Words("transformers".into())
                },
                words(Occur::MustNot, "bert"),
                Clause {
                    occur: Occur::Must,
                    field: None,
                    item: Item::Phrase("word embeddings".into())
                },
                words(Occur::Must, "gpu"),
                words(Occur::Must, "a"),
                words(Occur::Must, "b"),
                words(Occur::Should, "c"),
                Clause {
                    occur: Occur::Should,
                    field: None,
                    item: Item::Prefix("embed".into())
                },
                Clause {
                    occur: Occur::Should,
                    field: None,
                    item: Item::Fuzzy("kubernetis".into(), 1)
                },
                Clause {
                    occur: Occur::Should,
                    field: None,
                    item: Item::Fuzzy("vectr".into(), 2)
                },
            ]
        );
    }

    #[test]
    fn unmatched_quotes_and_parentheses_are_forgiven() {
        let q = parse(r#"virus' "artificial spermatids title:(unclosed"#).unwrap();
        assert_eq!(q.notes.len(), 1);
        assert_eq!(q.clauses.len(), 4, "{q:?}");
        assert_eq!(q.clauses[3].field, Some("title"));
        let q = parse(r#"Mouse models "artificial spermatids.""#).unwrap();
        assert_eq!(
            q.clauses[2].item,
            Item::Phrase("artificial spermatids.".into())
        );
    }

    /// SciFact claims that older readers rejected as syntax errors.
    #[test]
    fn claims_are_never_syntax() {
        for claim in [
            "A high microerythrocyte count raises vulnerability to severe anemia in homozygous alpha (+)- thalassemia trait subjects.",
            "Commelina yellow mottle virus' (ComYMV) genome consists of 7489 baise pairs.",
            "Macropinocytosis contributes to a cell's supply of amino acids via the intracellular uptake of protein.",
            "Pyridostatin destabilizes the G - quadruplex in the telomeric region.",
            "The minor G allele of FOXO3 is related to more severe symptoms of Crohn's Disease.",
            "Differentiated E2f-1, -2, -3 TKO cells in the intestine do not exhibit apoptosis.",
            "Stacking is more stable when a purine is present in the +5 position (C1698).",
        ] {
            let q = parse(claim).unwrap();
            assert!(q.notes.is_empty(), "{claim}");
            assert!(
                q.clauses.iter().all(|c| c.occur == Occur::Should),
                "{claim}: {q:?}"
            );
        }
    }

    #[test]
    fn an_unknown_field_is_the_one_error() {
        let e = parse("nosuchfield:x").unwrap_err();
        assert!(e.to_string().contains("nosuchfield"), "{e}");
        // Not fields: capitals, URLs, a colon before a space or at the end.
        assert!(parse("Note:this https://x.org/a ratio: 1 end:").is_ok());
    }

    /// Issue 20: a query of 3,000 prefixes (a 20 KB URL) held the web reader for 5.9 s.
    #[test]
    fn long_and_wildcard_heavy_queries_are_capped_with_a_note() {
        let q: Vec<String> = (0..3000).map(|i| format!("w{i}x*")).collect();
        let p = parse(&q.join(" ")).unwrap();
        assert_eq!(p.clauses.len(), MAX_WORDS);
        let expanded = p
            .clauses
            .iter()
            .filter(|c| matches!(c.item, Item::Prefix(_) | Item::Fuzzy(..)))
            .count();
        assert_eq!(expanded, MAX_EXPANDING);
        assert_eq!(p.notes.len(), 2, "{:?}", p.notes);
        let short = parse("transf* attent~ scaling").unwrap();
        assert!(short.notes.is_empty());
        assert!(matches!(short.clauses[0].item, Item::Prefix(_)));
    }
}
