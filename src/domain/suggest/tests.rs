use proptest::prelude::*;

use super::*;
use crate::domain::qualification::{Criterion, Outcome, Unit};
use crate::domain::testkit;

fn criterion(number: &str, text: &str) -> Criterion {
    Criterion {
        number: number.into(),
        text: text.into(),
    }
}

/// Two units of a small customer-service qualification.
fn criteria() -> Criteria {
    let mut q = testkit::qualification(vec![], vec![]);
    q.units = vec![
        Unit {
            code: "201".into(),
            title: "Deal with customers".into(),
            level: 2,
            credits: 5,
            outcomes: vec![Outcome {
                number: "1".into(),
                title: "Handle problems".into(),
                criteria: vec![
                    criterion(
                        "1.1",
                        "Process a refund following the organisation's policy",
                    ),
                    criterion("1.2", "Listen to a complaint and apologise to the customer"),
                ],
            }],
        },
        Unit {
            code: "202".into(),
            title: "Work safely".into(),
            level: 2,
            credits: 5,
            outcomes: vec![Outcome {
                number: "1".into(),
                title: "Follow procedures".into(),
                criteria: vec![criterion("1.1", "Report hazards in the workplace")],
            }],
        },
    ];
    Criteria::of(&q)
}

#[test]
fn words_are_stemmed_lower_cased_and_without_stop_words() {
    assert_eq!(
        lexical::words("I LISTENED to her; she's listening."),
        vec!["listen", "listen"]
    );
}

#[test]
fn the_lexical_ranking_puts_the_criterion_sharing_rare_words_first_and_quotes_its_sentence() {
    let text = "A man brought back a broken kettle. I processed a refund as our policy says.";
    let ranked = rank(&criteria(), text, None, 3);
    assert_eq!(
        (ranked[0].unit.as_str(), ranked[0].criterion.as_str()),
        ("201", "1.1")
    );
    assert_eq!(
        ranked[0].because,
        "I processed a refund as our policy says."
    );
    assert!(ranked[0].score > ranked[1].score);
    // The safety criterion shares nothing: scored nothing, below the line.
    let safety = ranked.iter().find(|r| r.unit == "202").expect("listed");
    assert_eq!(safety.score, 0.0);
    assert!(!safety.confident);
}

#[test]
fn the_hybrid_ranking_follows_the_vectors_and_quotes_the_closest_sentence() {
    // Each criterion on an axis of its own; the second sentence lies near the hazard one.
    let axis = |k: usize| -> Vec<f32> { (0..3).map(|j| if j == k { 1.0 } else { 0.0 }).collect() };
    let criteria_vectors = vec![axis(0), axis(1), axis(2)];
    let text = "We had a quiet morning on the shop floor. I told my manager about a wet floor by the door.";
    let near_hazard = {
        let v = [0.1f32, 0.0, 0.9];
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect::<Vec<f32>>()
    };
    let sentence_vectors = vec![vec![0.3, 0.3, 0.3], near_hazard];
    assert_eq!(sentences(text).len(), 2);
    let ranked = rank(
        &criteria(),
        text,
        Some(Vectors {
            criteria: &criteria_vectors,
            sentences: &sentence_vectors,
            examples: &[],
        }),
        3,
    );
    assert_eq!(
        (ranked[0].unit.as_str(), ranked[0].criterion.as_str()),
        ("202", "1.1")
    );
    assert!(ranked[0].confident);
    assert_eq!(
        ranked[0].because,
        "I told my manager about a wet floor by the door."
    );
    assert!(ranked[1..].iter().all(|r| !r.confident), "{ranked:?}");
}

/// Unit vectors in three dimensions.
fn unit(v: [f32; 3]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

#[test]
fn evidence_confirmed_before_lifts_its_criterion_above_an_equal_one() {
    // The text is as close to the refund criterion as to the hazard one; the evidence
    // assessors confirmed for the hazard criterion reads like this text.
    let criteria_vectors = vec![
        unit([1.0, 0.0, 0.0]),
        unit([0.0, 1.0, 0.0]),
        unit([0.0, 0.0, 1.0]),
    ];
    let text = "Something happened today, and I sorted it out.";
    let sentence_vectors = vec![unit([1.0, 0.0, 1.0])];
    let examples = vec![Vec::new(), Vec::new(), unit([1.0, 0.0, 1.0])];
    let with = |examples: &[Vec<f32>]| {
        rank(
            &criteria(),
            text,
            Some(Vectors {
                criteria: &criteria_vectors,
                sentences: &sentence_vectors,
                examples,
            }),
            3,
        )
    };
    let before = with(&[]);
    assert_eq!(before[0].score, before[1].score, "{before:?}");
    assert_eq!(
        (before[0].unit.as_str(), before[0].criterion.as_str()),
        ("201", "1.1")
    );
    let after = with(&examples);
    assert_eq!(
        (after[0].unit.as_str(), after[0].criterion.as_str()),
        ("202", "1.1")
    );
    assert!(after[0].score > after[1].score);
}

#[test]
fn a_criterion_met_across_two_sentences_quotes_both() {
    // Each sentence says half of the complaint criterion; together they say it.
    let criteria_vectors = vec![
        unit([1.0, 0.0, 0.0]),
        unit([0.0, 1.0, 1.0]),
        unit([1.0, 0.0, 1.0]),
    ];
    let text = "A woman was upset about her order. I heard her out. Then I said sorry to her.";
    let sentence_vectors = vec![
        unit([1.0, 0.1, 0.0]),
        unit([0.0, 1.0, 0.2]),
        unit([0.0, 0.2, 1.0]),
    ];
    assert_eq!(sentences(text).len(), 3);
    let ranked = rank(
        &criteria(),
        text,
        Some(Vectors {
            criteria: &criteria_vectors,
            sentences: &sentence_vectors,
            examples: &[],
        }),
        1,
    );
    assert_eq!(
        (ranked[0].unit.as_str(), ranked[0].criterion.as_str()),
        ("201", "1.2")
    );
    assert_eq!(
        ranked[0].because,
        "I heard her out. Then I said sorry to her."
    );
}

#[test]
fn the_mean_direction_is_a_unit_vector_along_the_sum() {
    let m = mean_direction([[3.0f32, 0.0].as_slice(), [0.0, 4.0].as_slice()]);
    assert!(
        (m[0] - 0.6).abs() < 1e-6 && (m[1] - 0.8).abs() < 1e-6,
        "{m:?}"
    );
    assert!(mean_direction(std::iter::empty::<&[f32]>()).is_empty());
}

#[test]
fn sentences_split_at_ends_and_lines_and_keep_short_pieces_with_the_next() {
    assert_eq!(
        sentences("Mr. Khan rang at 9.30 about his order. Was it late? Yes!\nNotes follow"),
        vec![
            "Mr. Khan rang at 9.30 about his order.",
            "Was it late? Yes!",
            "Notes follow"
        ]
    );
}

proptest! {
    #[test]
    fn a_ranking_is_ordered_bounded_distinct_and_the_same_every_time(
        text in "[a-z .!?\n]{0,300}",
        top in 0usize..5,
    ) {
        let c = criteria();
        let ranked = rank(&c, &text, None, top);
        prop_assert!(ranked.len() <= top.min(c.docs.len()));
        prop_assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
        let mut seen: Vec<usize> = ranked.iter().map(|r| r.index).collect();
        seen.sort();
        seen.dedup();
        prop_assert_eq!(seen.len(), ranked.len());
        prop_assert_eq!(ranked, rank(&c, &text, None, top));
    }
}
