//! How well the suggestions rank (issue 17, point 4), and how fast: the labelled set
//! `benches/suggest/labelled.toml` (evidence texts written for the demo qualification,
//! each with the criteria an assessor would confirm) ranked by each method, scored by
//! P@5, R@5, R@10 and mean reciprocal rank on the plain and the paraphrased texts apart,
//! and the texts that meet nothing by how many suggestions they get above the confidence
//! line (the goal: none). Then the time to embed the 60-unit × 25-criterion benchmark
//! qualification's criteria, and to rank a 600-word text on it, and the memory the
//! model takes.
//!
//! "+decisions" is the hybrid learning from the centre's decisions, measured leave-one-out:
//! for each text, the other texts labelled with a criterion stand for the evidence its
//! assessors confirmed before.
//!
//!   ATTEST_MODEL_DIR=target/model/all-minilm-l6-v2 cargo bench --bench suggest
//!   SUGGEST_EXPLORE=1 …    the MRR over a grid of weights instead
use std::collections::HashMap;
use std::time::Instant;

use attest::domain::import::{self, Format};
use attest::domain::suggest::{self, Criteria, Ranked, Vectors, Weights};
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
    /// Suggestions above the confidence line (for the texts that meet nothing, the goal
    /// is none), and of those how many the text meets.
    confident: usize,
    confident_right: usize,
    /// The highest score any text of the kind got: the confidence line must be above it
    /// for the texts that meet nothing.
    highest: f32,
}

impl Scores {
    fn add(&mut self, ranked: &[Ranked], meets: &[String]) {
        let hit = |r: &Ranked| meets.contains(&format!("{}/{}", r.unit, r.criterion));
        let within = |n: usize| ranked.iter().take(n).filter(|r| hit(r)).count() as f64;
        self.items += 1;
        self.confident += ranked.iter().filter(|r| r.confident).count();
        self.confident_right += ranked.iter().filter(|r| r.confident && hit(r)).count();
        self.highest = ranked.iter().map(|r| r.score).fold(self.highest, f32::max);
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
            "{method:<10} {kind:<12} {:>4}  P@5 {:.3}  R@5 {:.3}  R@10 {:.3}  MRR {:.3}  confident {} ({} right)  highest {:.3}",
            self.items,
            self.p5 / n,
            self.r5 / n,
            self.r10 / n,
            self.rr / n,
            self.confident,
            self.confident_right,
            self.highest
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
    let rss_before = rss();
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
    // Learning from decisions, measured leave-one-out: for each text, every other text
    // labelled with a criterion stands for evidence an assessor confirmed for it.
    let keys: Vec<String> = criteria
        .docs
        .iter()
        .map(|d| format!("{}/{}", d.unit, d.criterion))
        .collect();
    let wholes: Vec<Vec<f32>> = labelled
        .item
        .iter()
        .map(|i| suggest::mean_direction(sentence_vectors[&text_of(i)].iter().map(Vec::as_slice)))
        .collect();
    let examples: Vec<Vec<Vec<f32>>> = (0..labelled.item.len())
        .map(|k| {
            keys.iter()
                .map(|key| {
                    suggest::mean_direction(
                        labelled
                            .item
                            .iter()
                            .enumerate()
                            .filter(|(j, o)| *j != k && o.meets.contains(key))
                            .map(|(j, _)| wholes[j].as_slice()),
                    )
                })
                .collect()
        })
        .collect();
    let measure = |weights: Weights, decisions: bool| -> Vec<(&'static str, Scores)> {
        let mut by_kind: Vec<(&str, Scores)> = ["plain", "paraphrased", "none", "all that meet"]
            .into_iter()
            .map(|k| (k, Scores::default()))
            .collect();
        for (k, item) in labelled.item.iter().enumerate() {
            let text = text_of(item);
            let vectors = (weights.semantic > 0.0).then(|| Vectors {
                criteria: &criterion_vectors,
                sentences: &sentence_vectors[&text],
                examples: if decisions { &examples[k] } else { &[] },
            });
            let ranked = suggest::rank_weighted(&criteria, &text, vectors, usize::MAX, weights);
            let kind = by_kind
                .iter()
                .position(|(kind, _)| *kind == item.kind)
                .unwrap_or_else(|| panic!("{}: unknown kind {}", item.id, item.kind));
            by_kind[kind].1.add(&ranked, &item.meets);
            if !item.meets.is_empty() {
                by_kind[3].1.add(&ranked, &item.meets);
            }
        }
        by_kind
    };
    let w = suggest::WEIGHTS;
    if std::env::var_os("SUGGEST_EXPLORE").is_some() {
        explore(&measure);
        return;
    }
    let methods = [
        ("lexical", Weights { semantic: 0.0, ..w }, false),
        (
            "semantic",
            Weights {
                semantic: 1.0,
                lexical_floor: 0.0,
                ..w
            },
            false,
        ),
        ("hybrid", w, false),
        ("+decisions", w, true),
    ];
    for (method, weights, decisions) in methods {
        for (kind, s) in measure(weights, decisions) {
            println!("{}", s.line(method, kind));
        }
    }

    speed_and_memory(&labelled, &model, rss_before);
}

/// The process's resident memory now and at its peak, in MB (Linux).
fn rss() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kb("VmRSS:") / 1024.0, kb("VmHWM:") / 1024.0)
}

/// The median and slowest of `runs` timings of `f`, in ms.
fn timed(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() - 1])
}

/// Speed and memory on the benchmark qualification (60 units × 25 criteria): embedding
/// its criteria (done once per version, in the background), embedding a 600-word text
/// (in the reading job), and ranking that text once its vectors exist (goal ≤ 200 ms).
/// `cargo test --benches` embeds only the first 100 criteria, as a smoke test.
fn speed_and_memory(labelled: &Labelled, model: &Embedder, rss_before: (f64, f64)) {
    let full = std::env::args().any(|a| a == "--bench");
    let big = Criteria::of(&attest::demo::large::large_qualification("BENCH/60"));
    let texts: Vec<String> = big.docs.iter().map(|d| d.embedded_text()).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let embedded = if full { refs.len() } else { 100 };
    let start = Instant::now();
    let mut criterion_vectors = model.embed(&refs[..embedded]).expect("criterion vectors");
    println!(
        "embedding {embedded} criteria: {:.1} s (goal for 1,500: ≤ 15 s, in the background)",
        start.elapsed().as_secs_f64()
    );
    // The smoke test ranks against the embedded ones repeated (the speed is the same).
    while criterion_vectors.len() < refs.len() {
        criterion_vectors.push(criterion_vectors[criterion_vectors.len() % embedded].clone());
    }
    let words: Vec<&str> = labelled
        .item
        .iter()
        .flat_map(|i| i.text.split_whitespace())
        .take(600)
        .collect();
    let text = words.join(" ");
    let pieces = suggest::sentences(&text);
    let start = Instant::now();
    let sentence_vectors = model.embed(&pieces).expect("sentence vectors");
    println!(
        "embedding a 600-word text ({} sentences): {:.0} ms (in the reading job)",
        pieces.len(),
        start.elapsed().as_secs_f64() * 1000.0
    );
    // Every criterion with an example, as at a centre that has decided much.
    let examples = criterion_vectors.clone();
    let (lexical, lexical_max) = timed(20, || {
        assert_eq!(suggest::rank(&big, &text, None, 10).len(), 10);
    });
    let vectors = Vectors {
        criteria: &criterion_vectors,
        sentences: &sentence_vectors,
        examples: &examples,
    };
    let (hybrid, hybrid_max) = timed(20, || {
        assert_eq!(suggest::rank(&big, &text, Some(vectors), 10).len(), 10);
    });
    println!(
        "ranking a 600-word text over {} criteria once its vectors exist: lexical median {lexical:.1} ms \
         (slowest {lexical_max:.1}), hybrid median {hybrid:.1} ms (slowest {hybrid_max:.1}) (goal ≤ 200 ms)",
        big.docs.len()
    );
    let (now, peak) = rss();
    println!(
        "memory: {:.0} MB resident before the model, {now:.0} MB with it after embedding \
         (peak {peak:.0} MB): the model adds {:.0} MB, {:.0} MB at its peak (goal ≤ 200 MB)",
        rss_before.0,
        now - rss_before.0,
        peak - rss_before.0
    );
}

/// SUGGEST_EXPLORE=1: the MRR at each point of a grid of weights, with the centre's
/// decisions and without, best first (where the paraphrased texts reach 0.5).
fn explore(measure: &dyn Fn(Weights, bool) -> Vec<(&'static str, Scores)>) {
    let mrr = |weights: Weights, decisions: bool| {
        let by_kind = measure(weights, decisions);
        let of = |k: usize| by_kind[k].1.rr / by_kind[k].1.items.max(1) as f64;
        (of(3), of(1), of(0))
    };
    let mut results = Vec::new();
    for semantic in [0.85, 0.9, 0.95, 1.0] {
        for pair in [0.0, 0.2, 0.4] {
            for example in [0.0, 0.1, 0.2, 0.3] {
                for sentence in [0.3, 0.5, 0.6] {
                    for (lexical_half, lexical_floor) in [
                        (16.0, 0.0),
                        (16.0, 0.6),
                        (16.0, 0.8),
                        (16.0, 1.0),
                        (8.0, 0.0),
                        (8.0, 0.6),
                    ] {
                        let w = Weights {
                            semantic,
                            pair,
                            example,
                            sentence,
                            lexical_half,
                            lexical_floor,
                        };
                        results.push((mrr(w, true), mrr(w, false), w));
                    }
                }
            }
        }
    }
    results.sort_by(|a, b| b.0 .0.total_cmp(&a.0 .0));
    println!("MRR all / paraphrased / plain, with decisions | without; weights");
    for (with, without, w) in results.iter().filter(|r| r.0 .1 >= 0.5).take(20) {
        println!(
            "{:.3} {:.3} {:.3} | {:.3} {:.3} {:.3}  {w:?}",
            with.0, with.1, with.2, without.0, without.1, without.2
        );
    }
}
