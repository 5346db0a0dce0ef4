//! Suggestions (issue 17, point 2), end to end with the real model: a reflective account
//! uploaded, read and ranked by the job; its page lists the criteria it most likely meets
//! with the sentences that say so; a person ticks one and the log says it was suggested;
//! only that tick counts. Suggestions are shown only to those who may see the evidence,
//! never when the centre turns them off, and say when they were ranked on words alone.
use std::sync::Arc;

use attest::db::suggestions::{self, SuggestedBy};
use attest::embedding::Embedder;
use attest::web::files::FileStore;
use attest::web::AppState;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::http::{form_post_as, get, multipart_as, send};
use crate::mail_queue::wait_until;
use crate::portfolio::{demo, Demo};

/// A reflective account written for the demo qualification (the labelled set's
/// "plain-01"), which meets 210 1.1, 220 1.2 and 202 1.2.
const TITLE: &str = "Refunding a faulty kettle at the service desk";
const ACCOUNT: &str = "On Saturday morning a man brought a kettle back to the service desk at the \
homeware store where I work. He was quite annoyed because it had stopped working after three \
weeks. I said I was sorry he'd been put to that trouble and that I would sort it out for him. \
Before doing anything I asked him a few questions: when he bought it, whether he had the \
receipt, and whether he wanted a replacement or his money back. I listened to his answers \
without interrupting and repeated back that he wanted a refund. I checked the kettle to \
confirm the fault, scanned the receipt and refunded £34.99 to his original card, as our \
returns policy says.";
const MEETS: [(&str, &str); 3] = [("210", "1.1"), ("220", "1.2"), ("202", "1.2")];

struct Setup {
    d: Demo,
    state: AppState,
    worker: attest::jobs::WorkerHandle,
}

fn model() -> Arc<Embedder> {
    let dir = std::env::var_os("ATTEST_MODEL_DIR").expect(
        "ATTEST_MODEL_DIR names the model's folder: scripts/test fetches it (scripts/model)",
    );
    Arc::new(Embedder::load(std::path::Path::new(&dir)).unwrap_or_else(|e| panic!("{e}")))
}

fn setup(d: Demo, model: Option<Arc<Embedder>>) -> Setup {
    let dir = std::env::temp_dir().join(format!("attest-suggest-{}", Uuid::new_v4().simple()));
    let state = AppState::from(attest::web::Services {
        files: FileStore::new(dir, 1024 * 1024),
        ..attest::web::Services::new(d.pool.clone())
    });
    let worker = attest::jobs::spawn(
        d.pool.clone(),
        attest::jobs::renderer("http://localhost"),
        attest::jobs::WorkerConfig {
            files: state.files.clone(),
            model,
            ..Default::default()
        },
    );
    Setup { d, state, worker }
}

/// Ben uploads the reflective account as its description and a text file; its id.
async fn upload(s: &Setup) -> Uuid {
    let ben = s.d.as_("ben").await;
    let fields = [
        ("title", TITLE),
        ("description", ACCOUNT),
        ("kind", "document"),
        ("declared", "yes"),
        ("signed_name", "Ben Carter"),
    ];
    let r = send(
        s.state.clone(),
        multipart_as(
            &ben,
            &format!("/enrolments/{}/evidence", s.d.ben.id),
            &fields,
            &[("notes.txt", b"Notes: the customer left calmer.".as_slice())],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    sqlx::query_scalar("SELECT id FROM evidence WHERE enrolment_id = $1 AND title = $2")
        .bind(s.d.ben.id)
        .bind(TITLE)
        .fetch_one(&s.d.pool)
        .await
        .expect("the item")
}

/// The item's suggestions once ranked `by`.
async fn ranked(s: &Setup, item: Uuid, by: SuggestedBy) -> Vec<suggestions::Suggestion> {
    wait_until("the item's suggestions", || async {
        match suggestions::of_item(&s.d.pool, item).await.expect("query") {
            Some((b, list)) if b == by => Some(list),
            _ => None,
        }
    })
    .await
}

/// Waits until every item read is ranked by words and meaning.
async fn ranked_with_model(s: &Setup) {
    wait_until("every item ranked with the model", || async {
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM evidence_texts \
              WHERE done IS NOT NULL AND suggested_by IS DISTINCT FROM 'hybrid'",
        )
        .fetch_one(&s.d.pool)
        .await
        .expect("count");
        (left == 0).then_some(())
    })
    .await;
}

async fn page(s: &Setup, who: &str, item: Uuid) -> (StatusCode, String) {
    let cookie = s.d.as_(who).await;
    let path = format!("/enrolments/{}/evidence/{item}", s.d.ben.id);
    let r = send(s.state.clone(), get(&path, Some(&cookie))).await;
    (r.status, r.body)
}

#[tokio::test]
async fn a_reflective_account_is_ranked_by_the_model_and_a_suggested_tick_is_logged_and_alone_counts(
) {
    let m = model();
    let s = setup(demo().await, Some(Arc::clone(&m)));
    // The demo's items were ranked by words alone; the worker, with the model, ranks
    // them again as it starts.
    ranked_with_model(&s).await;
    let version = s.d.ben.version_id;
    let confirmed_before = s.d.confirmed(&s.d.ben).await;
    let item = upload(&s).await;
    let list = ranked(&s, item, SuggestedBy::Hybrid).await;

    // The version's criteria were embedded once and kept.
    let kept: i32 =
        sqlx::query_scalar("SELECT criteria FROM criterion_vectors WHERE version_id = $1")
            .bind(version)
            .fetch_one(&s.d.pool)
            .await
            .expect("the criterion vectors");
    let loaded = attest::db::qualifications::load_version(&s.d.pool, version)
        .await
        .expect("version");
    assert_eq!(kept as usize, loaded.criterion_ids.len());

    // And kept in memory: ranked again with the row gone, the item is ranked by meaning
    // from the process's copy, neither read from the database nor embedded again.
    sqlx::query("DELETE FROM criterion_vectors WHERE version_id = $1")
        .bind(version)
        .execute(&s.d.pool)
        .await
        .expect("row gone");
    sqlx::query(
        "UPDATE evidence_texts SET suggested_by = 'lexical', suggestions = '[]' WHERE evidence_id = $1",
    )
    .bind(item)
    .execute(&s.d.pool)
    .await
    .expect("ranking undone");
    attest::jobs::suggestions::rank_item(&s.d.pool, Some(&m), item)
        .await
        .expect("ranked again");
    let again = ranked(&s, item, SuggestedBy::Hybrid).await;
    assert_eq!(again.len(), list.len());
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM criterion_vectors WHERE version_id = $1")
            .bind(version)
            .fetch_one(&s.d.pool)
            .await
            .expect("count");
    assert_eq!(rows, 0, "the vectors were made again");

    // A criterion the account meets is among the first five, with a sentence of it.
    let mut meets = Vec::new();
    for (unit, number) in MEETS {
        meets.push(s.d.criterion(&s.d.ben, unit, number).await);
    }
    let top: Vec<&suggestions::Suggestion> = list.iter().take(5).collect();
    let hit = top
        .iter()
        .find(|g| meets.contains(&g.criterion))
        .unwrap_or_else(|| panic!("none of {MEETS:?} in the top five: {list:?}"));
    let text: String = sqlx::query_scalar("SELECT text FROM evidence_texts WHERE evidence_id = $1")
        .bind(item)
        .fetch_one(&s.d.pool)
        .await
        .expect("the item's text");
    assert!(text.contains(ACCOUNT), "the account is in the text read");
    assert!(
        text.contains(hit.because.split(". ").next().expect("a sentence")),
        "{hit:?}"
    );
    assert!(list.windows(2).all(|w| w[0].score >= w[1].score));

    // Suggestions are not ticks: nothing was confirmed or claimed by them.
    assert_eq!(s.d.confirmed(&s.d.ben).await, confirmed_before);
    let on_item: i64 = sqlx::query_scalar("SELECT count(*) FROM ticks WHERE evidence_id = $1")
        .bind(item)
        .fetch_one(&s.d.pool)
        .await
        .expect("ticks");
    assert_eq!(on_item, 0);

    // Ben's page lists them as suggestions, the supporting sentence marked, each with a
    // tick in his own layer.
    let (status, body) = page(&s, "ben", item).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Suggested criteria"), "{body}");
    assert!(body.contains("Suggestions are not ticks"));
    assert!(body.contains("words and meaning"));
    assert!(body.contains("<mark>"));
    assert!(body.contains(r#"name="suggested" value="yes""#));

    // The assessor ticks a suggested criterion Ben has not had confirmed.
    let confirmed = attest::db::ticks::confirmed_ordinals(&s.d.pool, s.d.ben.id)
        .await
        .expect("confirmed");
    let chosen = list
        .iter()
        .map(|g| g.criterion)
        .find(|c| {
            let ordinal = loaded
                .criterion_ordinal(*c)
                .expect("a criterion of the version");
            !confirmed.contains(&ordinal)
        })
        .expect("a suggested criterion not yet confirmed");
    let assessor = s.d.as_("assessor").await;
    let r = send(
        s.state.clone(),
        form_post_as(
            &assessor,
            &format!("/enrolments/{}/evidence/{item}/ticks", s.d.ben.id),
            &format!("criterion={chosen}&action=tick&suggested=yes"),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Logged as the usual tick, with "suggested" beside it; counted because a person ticked.
    let detail: serde_json::Value = sqlx::query_scalar(
        "SELECT detail FROM activity_log WHERE enrolment_id = $1 AND action = 'tick' \
          ORDER BY id DESC LIMIT 1",
    )
    .bind(s.d.ben.id)
    .fetch_one(&s.d.pool)
    .await
    .expect("the tick's entry");
    assert_eq!(detail["suggested"], serde_json::json!(true), "{detail}");
    assert_eq!(detail["criterion"], serde_json::json!(chosen));
    assert_eq!(detail["layer"], serde_json::json!("assessor"));
    assert_eq!(s.d.confirmed(&s.d.ben).await, confirmed_before + 1);
    let (_, body) = page(&s, "assessor", item).await;
    assert!(body.contains("You have ticked"), "{body}");

    // The centre's decisions teach the ranking: a criterion's example is the direction of
    // the items the model read that it was confirmed on (counted here from the ticks);
    // a criterion never confirmed on one has none.
    let centre: Uuid = sqlx::query_scalar("SELECT centre_id FROM enrolments WHERE id = $1")
        .bind(s.d.ben.id)
        .fetch_one(&s.d.pool)
        .await
        .expect("centre");
    let teaching: Vec<(Uuid, Uuid, Vec<u8>)> = sqlx::query_as(
        "SELECT t.criterion_id, t.evidence_id, x.whole FROM ticks t \
           JOIN evidence_texts x ON x.evidence_id = t.evidence_id AND x.whole IS NOT NULL \
           JOIN enrolments e ON e.id = t.enrolment_id \
          WHERE t.layer = 'assessor' AND e.centre_id = $1 AND t.version_id = $2",
    )
    .bind(centre)
    .bind(version)
    .fetch_all(&s.d.pool)
    .await
    .expect("the confirmed ticks on items the model read");
    let taught = attest::jobs::suggestions::learn(&s.d.pool, centre, version)
        .await
        .expect("learning");
    let items: std::collections::HashSet<Uuid> = teaching.iter().map(|t| t.1).collect();
    assert_eq!(
        taught,
        items.len(),
        "every item the model read with a confirmed criterion teaches"
    );
    let examples = suggestions::examples(&s.d.pool, centre, version, attest::embedding::MODEL_NAME)
        .await
        .expect("query")
        .expect("the examples");
    let mut sum = vec![0.0f32; suggestions::DIMENSIONS];
    for (_, _, whole) in teaching.iter().filter(|t| t.0 == chosen) {
        let whole = &suggestions::from_bytes(whole).expect("a vector")[0];
        sum.iter_mut().zip(whole).for_each(|(s, x)| *s += x);
    }
    let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
    let at = |c: Uuid| &examples[loaded.criterion_ordinal(c).expect("ordinal")];
    let dot: f32 = at(chosen).iter().zip(&sum).map(|(a, b)| a * b / norm).sum();
    assert!(dot > 0.999, "{dot}");
    let never = loaded
        .criterion_ids
        .iter()
        .copied()
        .find(|c| teaching.iter().all(|t| t.0 != *c))
        .expect("a criterion never confirmed");
    assert!(at(never).iter().all(|x| *x == 0.0));
    s.worker.shutdown().await;
}

#[tokio::test]
async fn suggestions_show_only_to_who_may_see_the_item_and_never_when_the_centre_turns_them_off() {
    // No model: ranked on words alone, and the page says so.
    let s = setup(demo().await, None);
    let item = upload(&s).await;
    ranked(&s, item, SuggestedBy::Lexical).await;
    let (status, body) = page(&s, "ben", item).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("matching words only"), "{body}");

    // Staff who may read the portfolio see them, without a tick where they tick nothing.
    let (status, body) = page(&s, "iqa", item).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Suggested criteria"));
    assert!(!body.contains(r#"name="suggested""#));
    // Another learner may not see the item at all.
    let (status, body) = page(&s, "zoe", item).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("Suggested criteria"));

    // The centre turns them off: no page shows them (a kept page neither); on again, back.
    // It is one row's change however big the centre: no portfolio is rewritten.
    let revisions = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT string_agg(id::text || ':' || revision, ',' ORDER BY id) FROM enrolments",
        )
        .fetch_one(&s.d.pool)
        .await
        .expect("revisions")
    };
    let before = revisions().await;
    let admin = s.d.as_("admin").await;
    for (form, shown) in [
        ("auto_audit=on", false),
        ("auto_audit=on&suggestions=on", true),
    ] {
        let r = send(
            s.state.clone(),
            form_post_as(&admin, "/admin/settings", form),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        for who in ["ben", "assessor"] {
            let (_, body) = page(&s, who, item).await;
            assert_eq!(body.contains("Suggested criteria"), shown, "{who}, {form}");
        }
    }
    assert_eq!(revisions().await, before, "no enrolment was touched");
    let entry: serde_json::Value = sqlx::query_scalar(
        "SELECT detail FROM activity_log WHERE action = 'centre settings changed' ORDER BY id LIMIT 1",
    )
    .fetch_one(&s.d.pool)
    .await
    .expect("the settings' entry");
    assert_eq!(entry["suggestions"], serde_json::json!(false));
    s.worker.shutdown().await;
}

/// Every server with the model asks for a walk as it starts: while one is queued or
/// running, another start queues none (each start used to queue its own).
#[tokio::test]
async fn a_start_queues_no_second_walk_while_one_is_under_way() {
    let d = demo().await;
    let walks = || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM jobs WHERE kind = 'evidence suggestions backfill' AND payload ? 'walk'",
        )
        .fetch_one(&d.pool)
        .await
        .expect("walks");
        n
    };
    let ranked = sqlx::query("UPDATE evidence_texts SET suggested_by = 'lexical'")
        .execute(&d.pool)
        .await
        .expect("ranked by words");
    assert!(ranked.rows_affected() > 0);
    assert!(suggestions::queue_rerank(&d.pool).await.expect("queue"));
    assert!(
        !suggestions::queue_rerank(&d.pool).await.expect("queue"),
        "one is queued"
    );
    sqlx::query(
        "UPDATE jobs SET state = 'running', locked_by = 'a worker', heartbeat_at = now() \
          WHERE payload ? 'walk'",
    )
    .execute(&d.pool)
    .await
    .expect("running");
    assert!(
        !suggestions::queue_rerank(&d.pool).await.expect("queue"),
        "one is running"
    );
    assert_eq!(walks().await, 1);
    sqlx::query("UPDATE jobs SET state = 'succeeded', finished_at = now() WHERE payload ? 'walk'")
        .execute(&d.pool)
        .await
        .expect("ended");
    assert!(
        suggestions::queue_rerank(&d.pool).await.expect("queue"),
        "it ended with items left: the next start queues another"
    );
    assert_eq!(walks().await, 2);
}

#[tokio::test]
async fn items_read_before_suggestions_are_ranked_by_a_walking_job() {
    let s = setup(demo().await, None);
    let items: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE evidence_texts SET suggested_by = NULL, suggestions = '[]' RETURNING evidence_id",
    )
    .fetch_all(&s.d.pool)
    .await
    .expect("unranked");
    assert!(!items.is_empty());
    sqlx::query(
        "INSERT INTO jobs (kind, payload, idempotency_key) \
         VALUES ('evidence suggestions backfill', '{}', 'evidence suggestions backfill start')",
    )
    .execute(&s.d.pool)
    .await
    .expect("the backfill");
    wait_until("every item ranked", || async {
        let left: i64 =
            sqlx::query_scalar("SELECT count(*) FROM evidence_texts WHERE suggested_by IS NULL")
                .fetch_one(&s.d.pool)
                .await
                .expect("count");
        (left == 0).then_some(())
    })
    .await;
    let lexical: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM evidence_texts WHERE suggested_by = 'lexical' AND evidence_id = ANY($1)",
    )
    .bind(&items)
    .fetch_one(&s.d.pool)
    .await
    .expect("count");
    assert_eq!(lexical as usize, items.len());
    s.worker.shutdown().await;

    // A server with the model starts: what was ranked by words alone is ranked again,
    // by words and meaning, in a walk of its own.
    let with_model = setup(s.d, Some(model()));
    ranked_with_model(&with_model).await;
    // The walk's jobs say they are done (the last writes after its ranking).
    wait_until("the walk's chunks done", || async {
        let chunks: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM jobs WHERE kind = 'evidence suggestions backfill' \
                AND payload ? 'walk' AND state = 'succeeded'",
        )
        .fetch_one(&with_model.d.pool)
        .await
        .expect("walk");
        (chunks as usize >= items.len().div_ceil(50)).then_some(())
    })
    .await;
    // With nothing left to rank again, the next start queues nothing.
    assert!(!suggestions::queue_rerank(&with_model.d.pool)
        .await
        .expect("queue"));
    with_model.worker.shutdown().await;
}
