//! The sentence-embedding model (issue 17, point 3), the real one, from the folder the
//! test script fetched it into (`ATTEST_MODEL_DIR`, set by scripts/test; without it this
//! fails saying how to fetch it, it never skips).
use attest::embedding::{Embedder, EmbeddingError};

pub(crate) fn model() -> Embedder {
    let dir = std::env::var_os("ATTEST_MODEL_DIR")
        .expect("ATTEST_MODEL_DIR names the model's folder: run scripts/test, or scripts/model");
    Embedder::load(std::path::Path::new(&dir)).unwrap_or_else(|e| panic!("{e}"))
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn the_model_puts_a_paraphrase_near_its_criterion_and_an_unrelated_text_far() {
    let m = model();
    let texts = [
        "Use questioning and active listening to find out what the customer wants",
        "I let her talk, nodded, then asked whether she needed it before the weekend and what size.",
        "On Sunday I baked a sourdough loaf in a cast iron pot.",
    ];
    let v = m.embed(&texts).expect("vectors");
    assert_eq!(v.len(), 3);
    for x in &v {
        assert_eq!(x.len(), 384);
        assert!((dot(x, x) - 1.0).abs() < 1e-4, "unit length");
    }
    let (near, far) = (dot(&v[0], &v[1]), dot(&v[0], &v[2]));
    assert!(near > far + 0.1, "paraphrase {near}, unrelated {far}");
    // The same text gives the same vector, alone or in a batch of others.
    let alone = m.embed(&texts[1..2]).expect("a vector");
    assert!(dot(&alone[0], &v[1]) > 0.9999);
}

#[test]
fn a_folder_without_the_model_says_which_file_is_missing() {
    let dir = attest::testing::test_dir().join("no-model");
    std::fs::create_dir_all(&dir).unwrap();
    match Embedder::load(&dir) {
        Err(EmbeddingError::Missing { file, .. }) => assert_eq!(file, "model.safetensors"),
        other => panic!("{:?}", other.err()),
    }
}
