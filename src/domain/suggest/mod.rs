//! Which criteria an evidence text most likely meets (issue 17): a ranking to help the
//! assessor, never a decision. Suggestions are not ticks: nothing here counts toward
//! progress. Two rankings are combined: a lexical one (BM25 over the criteria's words,
//! `lexical`) and, when the server has the model, a semantic one over sentence vectors
//! (cosine similarity, computed elsewhere and passed in as plain vectors). Each suggestion
//! says which sentence of the text supports it.
use crate::domain::qualification::Qualification;

pub mod lexical;

/// How the rankings are combined. Measured on the labelled set (benches/suggest.rs, whose
/// SUGGEST_EXPLORE grid tried each share): more lexical weight helps texts in the
/// criteria's words and misleads on paraphrases; the closest sentence alone misses
/// criteria a text meets across several sentences; the centre's own decisions help most
/// on paraphrases.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Of the semantic similarity in the hybrid score; the lexical score has the rest.
    pub semantic: f32,
    /// Within the semantic similarity, of the closest pair of neighbouring sentences.
    pub pair: f32,
    /// Within the semantic similarity, of the closeness to the evidence assessors
    /// confirmed for the criterion before (when the centre has any).
    pub example: f32,
    /// Of the rest: the closest sentence; the whole text has what is left.
    pub sentence: f32,
    /// A BM25 score this high counts as half way (scores saturate towards 1).
    pub lexical_half: f32,
    /// A strong match on words alone is not lost to the meaning: the hybrid score is at
    /// least the lexical score times this (0: never).
    pub lexical_floor: f32,
}

/// The weights the server ranks with: the semantic similarity, or the lexical score
/// times 0.8 where that is higher (a criterion named in the text's own words is not lost
/// to one close in meaning to the text as a whole).
pub const WEIGHTS: Weights = Weights {
    semantic: 1.0,
    pair: 0.4,
    example: 0.2,
    sentence: 0.5,
    lexical_half: 16.0,
    lexical_floor: 0.8,
};
/// At or above this hybrid score a suggestion is confident (shown as a suggestion; below
/// it only as weaker): above every score the texts that meet nothing reached on the
/// labelled set.
pub const CONFIDENT: f32 = 0.42;
/// At or above this BM25 score a suggestion is confident on the lexical ranking alone.
pub const CONFIDENT_LEXICAL: f32 = 12.0;

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
    /// Learnt from the centre's decisions: per criterion (in `criteria` order), the
    /// direction of the evidence its assessors confirmed for it (`mean_direction` of
    /// those items' `whole` vectors), or an empty vector for a criterion without any.
    /// Empty when the centre has decided nothing yet.
    pub examples: &'a [Vec<f32>],
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

/// The unit vector along the sum of `vectors`: what they say together. A text's `whole`
/// vector is this of its sentences' vectors; a criterion's example is this of the whole
/// vectors of the evidence confirmed for it.
pub fn mean_direction<'a>(vectors: impl IntoIterator<Item = &'a [f32]>) -> Vec<f32> {
    let mut sum: Vec<f32> = Vec::new();
    for v in vectors {
        if sum.is_empty() {
            sum = vec![0.0; v.len()];
        }
        for (s, x) in sum.iter_mut().zip(v) {
            *s += x;
        }
    }
    let norm = dot(&sum, &sum).sqrt();
    if norm > 0.0 {
        sum.iter_mut().for_each(|s| *s /= norm);
    }
    sum
}

/// The part of `text` from the first of `pieces` (slices of it) to the end of the last,
/// as written: the sentences a suggestion quotes, quoted whole.
fn span(text: &str, pieces: &[&str]) -> String {
    let offset = |p: &str| (p.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    match (pieces.first(), pieces.last()) {
        (Some(first), Some(last)) => {
            let (start, end) = (offset(first), offset(last) + last.len());
            text.get(start..end).unwrap_or(first).to_string()
        }
        _ => String::new(),
    }
}

/// The index and value of the greatest of `values` (the first of equals); (0, MIN) if none.
fn greatest(values: impl Iterator<Item = f32>) -> (usize, f32) {
    values
        .enumerate()
        .fold((0, f32::MIN), |a, b| if b.1 > a.1 { b } else { a })
}

/// The criteria ranked for `text`, best first, at most `top` of them. With `vectors`, the
/// hybrid ranking; without, the lexical one alone.
pub fn rank(
    criteria: &Criteria,
    text: &str,
    vectors: Option<Vectors<'_>>,
    top: usize,
) -> Vec<Ranked> {
    rank_weighted(criteria, text, vectors, top, WEIGHTS)
}

/// `rank` with the weights given, for the benchmark that measures each ranking apart
/// (`semantic` 0: the lexical ranking alone; 1: the semantic one alone).
pub fn rank_weighted(
    criteria: &Criteria,
    text: &str,
    vectors: Option<Vectors<'_>>,
    top: usize,
    weights: Weights,
) -> Vec<Ranked> {
    let query = lexical::words(text);
    let bm25 = criteria.bm25.scores(&query);
    let pieces = sentences(text);
    let usable = vectors.filter(|v| {
        v.criteria.len() == criteria.docs.len()
            && v.sentences.len() == pieces.len()
            && (v.examples.is_empty() || v.examples.len() == criteria.docs.len())
            && !pieces.is_empty()
    });
    let semantic = usable.map(|v| Semantic::new(v, weights));
    let piece_words: Vec<Vec<String>> = match semantic {
        Some(_) => Vec::new(),
        None => pieces.iter().map(|s| lexical::words(s)).collect(),
    };
    let mut ranked: Vec<Ranked> = criteria
        .docs
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let lexical = bm25[i] / (bm25[i] + weights.lexical_half);
            let (score, confident, because) = match &semantic {
                Some(s) => {
                    let (similarity, because) = s.similarity(i);
                    let score = (weights.semantic * similarity
                        + (1.0 - weights.semantic) * lexical)
                        .max(weights.lexical_floor * lexical);
                    (score, score >= CONFIDENT, because)
                }
                None => {
                    let best = greatest(piece_words.iter().map(|w| criteria.bm25.shared(i, w))).0;
                    (lexical, bm25[i] >= CONFIDENT_LEXICAL, best..best + 1)
                }
            };
            Ranked {
                index: i,
                unit: doc.unit.clone(),
                criterion: doc.criterion.clone(),
                score,
                confident,
                because: pieces
                    .get(because)
                    .map(|s| span(text, s))
                    .unwrap_or_default(),
            }
        })
        .collect();
    // Ties keep the qualification's order, so a ranking is the same every time.
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
    ranked.truncate(top);
    ranked
}

/// The semantic similarity of a text to each criterion, from its vectors.
struct Semantic<'a> {
    vectors: Vectors<'a>,
    weights: Weights,
    /// The text as a whole, and each pair of neighbouring sentences.
    whole: Vec<f32>,
    pairs: Vec<Vec<f32>>,
}

impl<'a> Semantic<'a> {
    fn new(vectors: Vectors<'a>, mut weights: Weights) -> Semantic<'a> {
        let whole = mean_direction(vectors.sentences.iter().map(Vec::as_slice));
        let pairs = vectors
            .sentences
            .windows(2)
            .map(|w| mean_direction([w[0].as_slice(), w[1].as_slice()]))
            .collect();
        if vectors.examples.is_empty() {
            weights.example = 0.0;
        }
        Semantic {
            vectors,
            weights,
            whole,
            pairs,
        }
    }

    /// The similarity to criterion `i`, and the sentences (a range of them) that say most.
    fn similarity(&self, i: usize) -> (f32, std::ops::Range<usize>) {
        let c = &self.vectors.criteria[i];
        let w = self.weights;
        let (one, sentence) = greatest(self.vectors.sentences.iter().map(|s| dot(s, c)));
        // A text of one sentence has no pair: the sentence stands for it.
        let (two, pair) = match greatest(self.pairs.iter().map(|p| dot(p, c))) {
            (_, f32::MIN) => (one, sentence),
            (k, p) => (k, p),
        };
        let example = self
            .vectors
            .examples
            .get(i)
            .map_or(0.0, |e| dot(&self.whole, e));
        let similarity = (1.0 - w.pair - w.example)
            * (w.sentence * sentence + (1.0 - w.sentence) * dot(&self.whole, c))
            + w.pair * pair
            + w.example * example;
        let because = if pair > sentence {
            two..two + 2
        } else {
            one..one + 1
        };
        (similarity, because)
    }
}

#[cfg(test)]
mod tests;
