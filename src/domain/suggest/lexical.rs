//! The lexical ranking: BM25 over each criterion's words (its text, its outcome's and its
//! unit's titles), the evidence text as the query. Words are lower-cased, stop words
//! dropped and the rest stemmed (Snowball English), so "listened" meets "listening".
use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};

/// BM25's term-frequency saturation and length normalisation, the usual values.
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// The query is a whole account, not a few words: a word said ten times counts a little
/// more than once, not ten times.
const K3: f32 = 1.5;
/// The criterion's own words count this many times; its outcome's and unit's titles once.
const OWN_WORDS: usize = 2;

/// Words too common to tell criteria apart.
const STOP: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "before", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has",
    "have", "he", "her", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "me",
    "my", "not", "of", "on", "or", "our", "out", "own", "she", "so", "than", "that", "the",
    "their", "them", "then", "there", "these", "they", "this", "those", "to", "too", "up", "us",
    "was", "way", "we", "were", "what", "when", "where", "which", "while", "who", "why", "will",
    "with", "would", "you", "your",
];

/// The stemmed words of `text` that count, in order.
pub fn words(text: &str) -> Vec<String> {
    let stemmer = Stemmer::create(Algorithm::English);
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|w| w.trim_matches('\'').to_lowercase())
        .map(|w| w.strip_suffix("'s").map(str::to_string).unwrap_or(w))
        .filter(|w| w.len() > 1 && !STOP.contains(&w.as_str()))
        .map(|w| stemmer.stem(&w).into_owned())
        .collect()
}

/// The criteria's words, counted once per qualification version.
#[derive(Debug, Clone)]
pub struct Bm25 {
    /// Per criterion: each word's count.
    docs: Vec<HashMap<String, f32>>,
    lengths: Vec<f32>,
    average: f32,
    idf: HashMap<String, f32>,
}

impl Bm25 {
    /// `docs`: per criterion, (its own text, the text around it).
    pub fn new<'a>(docs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Bm25 {
        let mut counted = Vec::new();
        let mut lengths = Vec::new();
        for (own, around) in docs {
            let mut counts: HashMap<String, f32> = HashMap::new();
            for w in words(own) {
                *counts.entry(w).or_default() += OWN_WORDS as f32;
            }
            for w in words(around) {
                *counts.entry(w).or_default() += 1.0;
            }
            lengths.push(counts.values().sum());
            counted.push(counts);
        }
        let n = counted.len() as f32;
        let mut df: HashMap<String, f32> = HashMap::new();
        for counts in &counted {
            for w in counts.keys() {
                *df.entry(w.clone()).or_default() += 1.0;
            }
        }
        let idf = df
            .into_iter()
            .map(|(w, f)| (w, ((n - f + 0.5) / (f + 0.5) + 1.0).ln()))
            .collect();
        let average = if lengths.is_empty() {
            1.0
        } else {
            (lengths.iter().sum::<f32>() / n).max(1.0)
        };
        Bm25 {
            docs: counted,
            lengths,
            average,
            idf,
        }
    }

    /// How rare a word is among the criteria (0 for a word none has).
    pub fn idf(&self, word: &str) -> f32 {
        self.idf.get(word).copied().unwrap_or(0.0)
    }

    /// Each criterion's score for the query's words, in the criteria's order.
    pub fn scores(&self, query: &[String]) -> Vec<f32> {
        let mut tf: HashMap<&str, f32> = HashMap::new();
        for w in query {
            *tf.entry(w.as_str()).or_default() += 1.0;
        }
        self.docs
            .iter()
            .zip(&self.lengths)
            .map(|(doc, len)| {
                tf.iter()
                    .filter_map(|(w, qtf)| {
                        let f = *doc.get(*w)?;
                        let norm = K1 * (1.0 - B + B * len / self.average);
                        let query_weight = qtf * (K3 + 1.0) / (qtf + K3);
                        Some(self.idf(w) * f * (K1 + 1.0) / (f + norm) * query_weight)
                    })
                    .sum()
            })
            .collect()
    }

    /// How much `sentence` shares with criterion `i`: the rarity of the words they share.
    pub fn shared(&self, i: usize, sentence: &[String]) -> f32 {
        let Some(doc) = self.docs.get(i) else {
            return 0.0;
        };
        let mut seen: Vec<&str> = Vec::new();
        sentence
            .iter()
            .filter(|w| doc.contains_key(w.as_str()))
            .filter(|w| {
                let new = !seen.contains(&w.as_str());
                seen.push(w);
                new
            })
            .map(|w| self.idf(w))
            .sum()
    }
}
