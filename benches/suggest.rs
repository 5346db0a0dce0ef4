//! How well the suggestions rank (issue 17, point 4), and how fast: the labelled set
//! `benches/suggest/labelled.toml` (evidence texts written for the demo qualification,
//! each with the criteria an assessor would confirm) ranked by each method, scored by
//! P@5, R@5, R@10 and mean reciprocal rank on the plain and the paraphrased texts apart,
//! and the texts that meet nothing by how many suggestions they get above the confidence
//! line (the goal: none). Then the time to rank a 600-word text on the 60-unit × 25-
//! criterion benchmark qualification.
//!
//!   cargo bench --bench suggest
use std::collections::HashMap;
use std::time::Instant;

use attest::domain::import::{self, Format};
use attest::domain::suggest::{self, Criteria, Ranked, Vectors};
use attest::embedding::Embedder;
use serde::Deserialize;

#[derive(Deserialize)]
struct Labelled {
    item: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    id: String,
    kind: String,
    meets: Vec<String>,
    text: String,
    title: String,
}

/// An item's text as the server reads it: its title, then its text.
fn text_of(item: &Item) -> String {
    format!("{}\n\n{}", item.title, item.text.trim())
}

/// The sums of one method's measures over a kind's items.
#[derive(Default)]
struct Scores {
    items: usize,
    p5: f64,
    r5: f64,
    r10: f64,
    rr: f64,
    /// Suggestions above the confidence line (for the texts that meet nothing).
    confident: usize,
}

impl Scores {
    fn add(&mut self, ranked: &[Ranked], meets: &[String]) {
        let hit = |r: &Ranked| meets.contains(&format!("{}/{}", r.unit, r.criterion));
        let within = |n: usize| ranked.iter().take(n).filter(|r| hit(r)).count() as f64;
        self.items += 1;
        self.confident += ranked.iter().filter(|r| r.confident).count();
        if meets.is_empty() {
            return;
        }
        let wanted = meets.len() as f64;
        self.p5 += within(5) / 5.0;
        self.r5 += within(5) / wanted;
        self.r10 += within(10) / wanted;
        self.rr += ranked
            .iter()
            .position(hit)
            .map_or(0.0, |p| 1.0 / (p as f64 + 1.0));
    }

    fn line(&self, method: &str, kind: &str) -> String {
        let n = self.items.max(1) as f64;
        format!(
            "{method:<10} {kind:<12} {:>4}  P@5 {:.3}  R@5 {:.3}  R@10 {:.3}  MRR {:.3}  confident {}",
            self.items,
            self.p5 / n,
            self.r5 / n,
            self.r10 / n,
            self.rr / n,
            self.confident
        )
    }
}

fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let labelled: Labelled = toml::from_str(
        &std::fs::read_to_string(format!("{root}/benches/suggest/labelled.toml"))
            .expect("the labelled set"),
    )
    .expect("a labelled set");
    let q = import::parse(attest::demo::DEMO_QUALIFICATION, Format::Toml).expect("the demo");
    let criteria = Criteria::of(&q);

    println!(
        "suggestions for {} labelled texts ({} criteria)",
        labelled.item.len(),
        criteria.docs.len()
    );
    // The model's vectors of every criterion, once; of each text's sentences, per text.
    let dir = std::env::var_os("ATTEST_MODEL_DIR")
        .expect("ATTEST_MODEL_DIR names the model's folder (scripts/model fetches it)");
    let model = Embedder::load(std::path::Path::new(&dir)).unwrap_or_else(|e| panic!("{e}"));
    let criterion_texts: Vec<String> = criteria.docs.iter().map(|d| d.embedded_text()).collect();
    let refs: Vec<&str> = criterion_texts.iter().map(String::as_str).collect();
    let criterion_vectors = model.embed(&refs).expect("criterion vectors");
    let mut sentence_vectors: HashMap<String, Vec<Vec<f32>>> = HashMap::new();
    for item in &labelled.item {
        let text = text_of(item);
        let vectors = model
            .embed(&suggest::sentences(&text))
            .expect("sentence vectors");
        sentence_vectors.insert(text, vectors);
    }
    // SUGGEST_WEIGHTS=0.8,0.9 measures the hybrid at other semantic weights too.
    let mut methods: Vec<(String, f32)> = vec![
        ("lexical".into(), 0.0),
        ("semantic".into(), 1.0),
        ("hybrid".into(), suggest::SEMANTIC_WEIGHT),
    ];
    for w in std::env::var("SUGGEST_WEIGHTS")
        .unwrap_or_default()
        .split(',')
    {
        if let Ok(w) = w.trim().parse::<f32>() {
            methods.push((format!("hybrid {w}"), w));
        }
    }
    for (method, weight) in methods {
        let method = method.as_str();
        let ranking = |c: &Criteria, t: &str| {
            let vectors = (weight > 0.0).then(|| Vectors {
                criteria: &criterion_vectors,
                sentences: &sentence_vectors[t],
            });
            suggest::rank_weighted(c, t, vectors, usize::MAX, weight)
        };
        let mut by_kind: Vec<(&str, Scores)> = ["plain", "paraphrased", "none"]
            .into_iter()
            .map(|k| (k, Scores::default()))
            .collect();
        let mut all = Scores::default();
        for item in &labelled.item {
            let text = text_of(item);
            let ranked = ranking(&criteria, &text);
            if let Some((_, s)) = by_kind.iter_mut().find(|(k, _)| *k == item.kind) {
                s.add(&ranked, &item.meets);
            } else {
                panic!("{}: unknown kind {}", item.id, item.kind);
            }
            if !item.meets.is_empty() {
                all.add(&ranked, &item.meets);
            }
        }
        for (kind, s) in &by_kind {
            println!("{}", s.line(method, kind));
        }
        println!("{}", all.line(method, "all that meet"));
    }

    // Speed: a 600-word text on the benchmark qualification (1,500 criteria).
    let big = Criteria::of(&attest::demo::large::large_qualification("BENCH/60"));
    let words: Vec<&str> = labelled
        .item
        .iter()
        .flat_map(|i| i.text.split_whitespace())
        .take(600)
        .collect();
    let text = words.join(" ");
    let mut times = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let ranked = suggest::rank(&big, &text, None, 10);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(ranked.len(), 10);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "lexical ranking of a 600-word text over {} criteria: median {:.2} ms, slowest {:.2} ms (goal ≤ 200 ms)",
        big.docs.len(),
        times[times.len() / 2],
        times[times.len() - 1]
    );
}
