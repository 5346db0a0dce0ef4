//! Which criteria an evidence text most likely meets (issue 17): a ranking to help the
//! assessor, never a decision. Suggestions are not ticks: nothing here counts toward
//! progress. Two rankings are combined: a lexical one (BM25 over the criteria's words,
//! `lexical`) and, when the server has the model, a semantic one over sentence vectors
//! (cosine similarity, computed elsewhere and passed in as plain vectors). Each suggestion
//! says which sentence of the text supports it.
use crate::domain::qualification::Qualification;

pub mod lexical;

/// The weight of the semantic ranking in the hybrid score; the lexical one has the rest.
/// Measured on the labelled set at 0.7 to 0.95 (benches/suggest.rs, SUGGEST_WEIGHTS): more
/// lexical weight helps texts in the criteria's words and misleads on paraphrases.
pub const SEMANTIC_WEIGHT: f32 = 0.9;
/// A lexical score this high counts as half way (scores saturate towards 1).
const LEXICAL_HALF: f32 = 8.0;
/// Above this a suggestion is confident: a semantic similarity, when vectors are given.
pub const CONFIDENT_SEMANTIC: f32 = 0.45;
/// Above this a suggestion is confident on the lexical ranking alone.
pub const CONFIDENT_LEXICAL: f32 = 0.6;

/// A criterion as the rankings read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionDoc {
    pub unit: String,
    pub criterion: String,
    pub text: String,
    /// Its outcome's and unit's titles.
    pub context: String,
}

impl CriterionDoc {
    /// What the semantic model reads for the criterion: its own text. (With its outcome's
    /// and unit's titles appended, paraphrases ranked worse: MRR 0.45 against 0.49 on the
    /// labelled set; the titles count in the lexical ranking.)
    pub fn embedded_text(&self) -> String {
        self.text.clone()
    }
}

/// A qualification version's criteria, ready to rank against (made once per version).
#[derive(Debug, Clone)]
pub struct Criteria {
    pub docs: Vec<CriterionDoc>,
    bm25: lexical::Bm25,
}

impl Criteria {
    pub fn of(q: &Qualification) -> Criteria {
        let docs: Vec<CriterionDoc> = q
            .units
            .iter()
            .flat_map(|u| {
                u.outcomes.iter().flat_map(move |o| {
                    o.criteria.iter().map(move |c| CriterionDoc {
                        unit: u.code.clone(),
                        criterion: c.number.clone(),
                        text: c.text.clone(),
                        context: format!("{}; {}", o.title, u.title),
                    })
                })
            })
            .collect();
        let bm25 = lexical::Bm25::new(docs.iter().map(|d| (d.text.as_str(), d.context.as_str())));
        Criteria { docs, bm25 }
    }
}

/// The semantic ranking's input: unit vectors (L2-normalised) of every criterion, in
/// `Criteria::docs` order, and of each sentence of the text (`sentences`).
#[derive(Debug, Clone, Copy)]
pub struct Vectors<'a> {
    pub criteria: &'a [Vec<f32>],
    pub sentences: &'a [Vec<f32>],
}

/// One suggestion.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// Its place in `Criteria::docs`.
    pub index: usize,
    pub unit: String,
    pub criterion: String,
    pub score: f32,
    /// Above the confidence line: shown as a suggestion. Below it, only as "weaker".
    pub confident: bool,
    /// The sentence of the text that supports it most.
    pub because: String,
}

/// The text's sentences, as the semantic ranking embeds them and `because` quotes them:
/// split at full stops, question and exclamation marks and line ends; very short pieces
/// join the next.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    for (k, &(i, c)) in bytes.iter().enumerate() {
        let next = bytes.get(k + 1).map(|&(_, n)| n);
        let ends =
            c == '\n' || (matches!(c, '.' | '?' | '!') && next.is_none_or(char::is_whitespace));
        if ends {
            let piece = text[start..i + c.len_utf8()].trim();
            if piece.split_whitespace().count() >= 4 || c == '\n' && !piece.is_empty() {
                out.push(piece);
                start = i + c.len_utf8();
            }
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The criteria ranked for `text`, best first, at most `top` of them. With `vectors`, the
/// hybrid ranking; without, the lexical one alone.
pub fn rank(
    criteria: &Criteria,
    text: &str,
    vectors: Option<Vectors<'_>>,
    top: usize,
) -> Vec<Ranked> {
    rank_weighted(criteria, text, vectors, top, SEMANTIC_WEIGHT)
}

/// `rank` with the semantic ranking's weight given (1: the semantic ranking alone), for
/// the benchmark that measures each ranking apart.
pub fn rank_weighted(
    criteria: &Criteria,
    text: &str,
    vectors: Option<Vectors<'_>>,
    top: usize,
    semantic_weight: f32,
) -> Vec<Ranked> {
    let query = lexical::words(text);
    let lexical: Vec<f32> = criteria
        .bm25
        .scores(&query)
        .into_iter()
        .map(|s| s / (s + LEXICAL_HALF))
        .collect();
    let pieces = sentences(text);
    let piece_words: Vec<Vec<String>> = pieces.iter().map(|s| lexical::words(s)).collect();
    let usable = vectors.filter(|v| {
        v.criteria.len() == criteria.docs.len()
            && v.sentences.len() == pieces.len()
            && !pieces.is_empty()
    });
    let mut ranked: Vec<Ranked> = criteria
        .docs
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let (score, confident, best) = match usable {
                Some(v) => {
                    let (best, similarity) = v
                        .sentences
                        .iter()
                        .map(|s| dot(s, &v.criteria[i]))
                        .enumerate()
                        .fold((0, f32::MIN), |a, b| if b.1 > a.1 { b } else { a });
                    let score = semantic_weight * similarity + (1.0 - semantic_weight) * lexical[i];
                    (score, similarity >= CONFIDENT_SEMANTIC, best)
                }
                None => {
                    let best = piece_words
                        .iter()
                        .map(|w| criteria.bm25.shared(i, w))
                        .enumerate()
                        .fold((0, f32::MIN), |a, b| if b.1 > a.1 { b } else { a })
                        .0;
                    (lexical[i], lexical[i] >= CONFIDENT_LEXICAL, best)
                }
            };
            Ranked {
                index: i,
                unit: doc.unit.clone(),
                criterion: doc.criterion.clone(),
                score,
                confident,
                because: pieces.get(best).map(|s| s.to_string()).unwrap_or_default(),
            }
        })
        .collect();
    // Ties keep the qualification's order, so a ranking is the same every time.
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
    ranked.truncate(top);
    ranked
}

#[cfg(test)]
mod tests;
