//! The ranking's parameters, one struct every stage reads: field weights and stop words for
//! the plan, BM25F, coordination, proximity and document expansion for the second stage,
//! and the feedback's share.

/// The ranking's parameters. The defaults were chosen on SciFact's train claims (see the
/// README's ranking table and `cargo bench --bench relevance`); the bench varies them.
#[derive(Debug, Clone)]
pub struct Ranking {
    /// BM25 weight of each field (0 leaves the field out of free-text matching).
    pub title: f32,
    pub link_text: f32,
    pub section: f32,
    pub author: f32,
    pub body: f32,
    /// Second stage (BM25F) weight of title and link text each, against the body's 1.
    pub rr_title: f32,
    /// Second stage weight of section and author.
    pub rr_other: f32,
    /// Share of the first stage's score kept in the final score.
    pub mix: f32,
    /// BM25F term-frequency saturation.
    pub k1: f32,
    /// BM25F length normalisation of the body, section and author fields.
    pub b: f32,
    /// BM25F length normalisation of the title and link text.
    pub b_title: f32,
    /// Weight of the proximity score (0: off).
    pub proximity: f32,
    /// Words further apart than this (in tokens) do not count as near.
    pub proximity_window: u32,
    /// Exponent of the coordination factor (0: off).
    pub coordination: f32,
    /// How many of the first-stage hits are re-ranked.
    pub depth: usize,
    /// Drop stop words from free text (unless the query is nothing else).
    pub stop_words: bool,
    /// Also drop the longer list of function words the feedback ignores.
    pub more_stop_words: bool,
    /// Relevance feedback runs only for queries of at most this many content words.
    pub feedback_max_words: usize,
    /// Weight of the expansion against the user's words.
    pub feedback_weight: f32,
    /// RM3 feedback: documents read (0: off), words kept, and their share of the query.
    pub rm3_docs: usize,
    pub rm3_terms: usize,
    pub rm3_weight: f32,
    /// RM3 runs for queries of at least this many content words.
    pub rm3_min_words: usize,
    /// Document expansion: each candidate borrows the words of this many of its nearest
    /// documents (0: off; at most `neighbours::KEEP`) ...
    pub near: usize,
    /// ... at this weight against its own words, times each neighbour's similarity.
    pub near_weight: f32,
    /// Hybrid search without sentence vectors (a library embedded before them): the share of
    /// the passage score in the fused score (min-max normalised scores of both rankings,
    /// convex mix).
    pub dense_weight: f32,
    /// Hybrid search with sentence vectors: the shares of the passage and the sentence scores
    /// (the lexical one has the rest; 0 sentence weight: as without sentences).
    pub passage_weight: f32,
    pub sentence_weight: f32,
    /// The same shares for keyword queries: at most `short_words` words (after stop words).
    /// A claim restates a sentence, so its passages matter; two or three words are better
    /// served by their own matches and the best sentence (SciFact train, README).
    pub short_words: usize,
    pub short_passage_weight: f32,
    pub short_sentence_weight: f32,
    /// Documents taken from each ranking into the fusion.
    pub fusion_depth: usize,
}

impl Default for Ranking {
    fn default() -> Self {
        Ranking {
            title: 0.25,
            link_text: 0.25,
            section: 0.25,
            author: 0.5,
            body: 1.0,
            rr_title: 1.0,
            rr_other: 0.25,
            mix: 0.0,
            k1: 3.0,
            b: 0.75,
            b_title: 0.75,
            proximity: 0.3,
            proximity_window: 8,
            coordination: 0.5,
            depth: 100,
            stop_words: true,
            more_stop_words: false,
            feedback_max_words: 3,
            feedback_weight: 1.0,
            rm3_docs: 0,
            rm3_terms: 10,
            rm3_weight: 0.3,
            rm3_min_words: 4,
            near: 5,
            near_weight: 0.3,
            dense_weight: 0.3,
            passage_weight: 0.175,
            sentence_weight: 0.475,
            short_words: 3,
            short_passage_weight: 0.05,
            short_sentence_weight: 0.45,
            fusion_depth: 100,
        }
    }
}

impl Ranking {
    /// Sets a parameter by name (for benchmarks and tuning tools).
    pub fn set(&mut self, key: &str, v: &str) -> Result<(), String> {
        let f = || {
            v.parse::<f32>()
                .map_err(|_| format!("{key}={v}: not a number"))
        };
        let u = || {
            v.parse::<usize>()
                .map_err(|_| format!("{key}={v}: not a count"))
        };
        let b = || Ok::<bool, String>(v == "true" || v == "1");
        match key {
            "title" => self.title = f()?,
            "link_text" => self.link_text = f()?,
            "section" => self.section = f()?,
            "author" => self.author = f()?,
            "body" => self.body = f()?,
            "rr_title" => self.rr_title = f()?,
            "rr_other" => self.rr_other = f()?,
            "mix" => self.mix = f()?,
            "k1" => self.k1 = f()?,
            "b" => self.b = f()?,
            "b_title" => self.b_title = f()?,
            "proximity" => self.proximity = f()?,
            "window" => self.proximity_window = u()? as u32,
            "coordination" => self.coordination = f()?,
            "depth" => self.depth = u()?,
            "stop_words" => self.stop_words = b()?,
            "more_stop_words" => self.more_stop_words = b()?,
            "feedback_max_words" => self.feedback_max_words = u()?,
            "feedback_weight" => self.feedback_weight = f()?,
            "rm3_docs" => self.rm3_docs = u()?,
            "rm3_terms" => self.rm3_terms = u()?,
            "rm3_weight" => self.rm3_weight = f()?,
            "rm3_min_words" => self.rm3_min_words = u()?,
            "near" => self.near = u()?,
            "near_weight" => self.near_weight = f()?,
            "dense_weight" => self.dense_weight = f()?,
            "passage_weight" => self.passage_weight = f()?,
            "sentence_weight" => self.sentence_weight = f()?,
            "fusion_depth" => self.fusion_depth = u()?,
            "short_words" => self.short_words = u()?,
            "short_passage_weight" => self.short_passage_weight = f()?,
            "short_sentence_weight" => self.short_sentence_weight = f()?,
            _ => return Err(format!("unknown ranking parameter {key}")),
        }
        Ok(())
    }
}
