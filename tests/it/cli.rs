//! The `attest` binary's qualification commands, run as a user would.
use std::path::PathBuf;
use std::process::{Command, Output};

use attest::testing::test_pool;

use crate::helpers::database_url;

const DEMO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/demo/customer-service.toml"
);

fn attest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_attest"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run attest")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write_temp(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("attest-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write temp file");
    path
}

#[test]
fn check_prints_each_majors_rules_in_plain_words() {
    let out = attest(&["qualification", "check", DEMO]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("16 units, 51 criteria"), "{stdout}");
    assert!(
        stdout.contains("Optional group C: at most 7 credits count from 230, 231, 232"),
        "{stdout}"
    );
    assert!(
        stdout.contains("At most one of 214, 215 may count"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Rule set 'Elective set B: digital service'"),
        "{stdout}"
    );
}

#[test]
fn check_reports_every_error_with_line_and_exits_non_zero() {
    let bad = "[qualification]\ncode = \"X\"\ntitle = \"T\"\nlevel = 12\nawarding_body = \"B\"\n\n\
               [[unit]]\ncode = \"1\"\ntitle = \"U\"\nlevel = 2\ncredits = 5\ncolour = \"red\"\n";
    let file = write_temp("bad.toml", bad);
    let out = attest(&["qualification", "check", file.to_str().expect("utf-8 path")]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("nothing imported"), "{stderr}");
    assert!(stderr.contains("line 4: qualification.level"), "{stderr}");
    assert!(
        stderr.contains("line 12: unit[1].colour: unknown key"),
        "{stderr}"
    );
    assert!(
        stderr.contains("unit[1]") && stderr.contains("criteria"),
        "{stderr}"
    );
}

#[test]
fn what_if_json_is_one_object_with_every_major() {
    let out = attest(&[
        "qualification",
        "what-if",
        DEMO,
        "--major",
        "SPEC",
        "--units",
        "201,202,230,231",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("exactly one JSON object");
    assert_eq!(v["outcome"], "Assigned Major Achieved");
    let majors = v["majors"].as_array().expect("majors");
    let codes: Vec<&str> = majors
        .iter()
        .map(|m| m["code"].as_str().expect("code"))
        .collect();
    assert_eq!(codes, ["GEN", "SPEC", "TEAM"]);
    assert_eq!(majors[1]["achieved"], true);
    assert_eq!(majors[1]["rule_set"], "Elective set B: digital service");
    assert_eq!(majors[0]["achieved"], false);
}

/// `attest` with the suggestions model in the folder `model` names (none there: words alone).
fn attest_with_model(args: &[&str], model: &std::ffi::OsStr) -> Output {
    Command::new(env!("CARGO_BIN_EXE_attest"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env("ATTEST_MODEL_DIR", model)
        .output()
        .expect("run attest")
}

/// `qualification suggest --json`'s ranking, and what it said on standard error.
fn suggested(
    file: &std::path::Path,
    top: &str,
    model: &std::ffi::OsStr,
) -> (Vec<serde_json::Value>, String) {
    let path = file.to_str().expect("utf-8");
    let out = attest_with_model(
        &[
            "qualification",
            "suggest",
            DEMO,
            "--text",
            path,
            "--top",
            top,
            "--json",
        ],
        model,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("exactly one JSON object");
    let ranked = v["ranked"].as_array().expect("ranked").clone();
    (ranked, text(&out.stderr))
}

fn keys(ranked: &[serde_json::Value]) -> Vec<String> {
    ranked
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["unit"].as_str().unwrap(),
                r["criterion"].as_str().unwrap()
            )
        })
        .collect()
}

/// Issue 17: `qualification suggest` ranks the criteria a text meets, with no database:
/// by words and meaning with the model, by words alone (and saying so) without it.
#[test]
fn suggest_json_is_one_object_ranking_the_criteria_a_text_meets() {
    let account = write_temp(
        "account.txt",
        "A customer came to the desk with a complaint about a late delivery. I acknowledged \
         the complaint and apologised, then recorded the complaint accurately in the log.\n\
         I phoned her the next day to keep her informed of progress.",
    );
    let written = std::fs::read_to_string(&account).expect("the account");
    let model = std::env::var_os("ATTEST_MODEL_DIR")
        .expect("ATTEST_MODEL_DIR names the model's folder: scripts/test fetches it");
    let nowhere = std::env::temp_dir().join(format!("attest-no-model-{}", uuid::Uuid::new_v4()));

    // Words alone: the three complaint criteria the text names, and it says how it ranked.
    let (ranked, said) = suggested(&account, "4", nowhere.as_os_str());
    assert!(said.contains("Ranked by words alone"), "{said}");
    assert_eq!(ranked.len(), 4);
    let mut top3 = keys(&ranked[..3]);
    top3.sort();
    assert_eq!(top3, ["210/1.1", "210/1.2", "210/1.3"]);

    // Words and meaning: the two criteria the text says outright come first.
    let (hybrid, said) = suggested(&account, "4", &model);
    assert!(!said.contains("words alone"), "{said}");
    let mut top2 = keys(&hybrid[..2]);
    top2.sort();
    assert_eq!(top2, ["210/1.1", "210/1.2"]);
    for ranked in [&ranked, &hybrid] {
        assert_eq!(ranked[0]["confident"], true);
        assert!(ranked
            .windows(2)
            .all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64()));
        assert!(
            ranked
                .iter()
                .all(|r| written.contains(r["because"].as_str().unwrap())),
            "each reason quotes the text"
        );
    }

    // A text that meets nothing of the qualification: nothing above the confidence line.
    let bread = write_temp(
        "bread.txt",
        "On Sunday I baked a sourdough loaf. The starter had doubled overnight, so I folded the \
         dough four times and proved it in the fridge before baking it in a cast iron pot.",
    );
    for model in [nowhere.as_os_str(), &model] {
        let (ranked, _) = suggested(&bread, "10", model);
        assert_eq!(ranked.len(), 10);
        assert!(ranked.iter().all(|r| r["confident"] == false), "{ranked:?}");
    }
}

#[test]
fn what_if_gives_each_outcome() {
    let outcome = |major: &str, units: &str| {
        let out = attest(&[
            "qualification",
            "what-if",
            DEMO,
            "--major",
            major,
            "--units",
            units,
            "--json",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v["outcome"].as_str().expect("outcome").to_string()
    };
    assert_eq!(outcome("GEN", ""), "No Majors Achieved");
    assert_eq!(outcome("GEN", "201,202,230,231"), "Other Majors Achieved");
    let everything = "201,202,203,210,211,214,220,221,230,231,240,241";
    assert_eq!(outcome("TEAM", everything), "All Majors Achieved");
}

#[test]
fn what_if_text_explains_the_nearest_way() {
    let out = attest(&[
        "qualification",
        "what-if",
        DEMO,
        "--major",
        "SPEC",
        "--units",
        "201,202,230",
    ]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Set B electives: 1 of 2 units — unit 231 has 2 of 2 criteria left"),
        "{stdout}"
    );
}

#[test]
fn what_if_on_a_file_without_majors_reports_the_implicit_core_major() {
    let file = write_temp(
        "core.json",
        r#"{"qualification": {"code": "C1", "title": "Core only", "level": 1, "awarding_body": "B"},
            "unit": [{"code": "1", "title": "U", "level": 1, "credits": 2,
                      "outcome": [{"number": "1", "title": "O", "criterion": [{"number": "1.1", "text": "Do it"}]}]}]}"#,
    );
    let out = attest(&[
        "qualification",
        "what-if",
        file.to_str().expect("utf-8"),
        "--major",
        "CORE",
        "--units",
        "1",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["outcome"], "Assigned Major Achieved");
    assert_eq!(v["majors"][0]["code"], "CORE");
}

#[test]
fn what_if_refuses_unknown_major_and_unit_codes() {
    let out = attest(&[
        "qualification",
        "what-if",
        DEMO,
        "--major",
        "NOPE",
        "--units",
        "201",
    ]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unknown major \"NOPE\""));
    assert!(out.stdout.is_empty());
    let out = attest(&[
        "qualification",
        "what-if",
        DEMO,
        "--major",
        "GEN",
        "--units",
        "201,999",
    ]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unknown unit code(s): 999"));
}

#[tokio::test]
async fn import_creates_a_version_then_nothing_then_a_new_version() {
    let pool = test_pool().await;
    let url = database_url(&pool);
    let import = |file: String| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_attest"))
                .args(["qualification", "import", &file])
                .env("DATABASE_URL", url)
                .output()
                .expect("run attest")
        })
    };
    let out = import(DEMO.to_string()).await.expect("join");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("as version 1 into Default centre"),
        "{}",
        text(&out.stdout)
    );

    let out = import(DEMO.to_string()).await.expect("join");
    assert!(
        text(&out.stdout).contains("is unchanged: version 1"),
        "{}",
        text(&out.stdout)
    );

    let changed = std::fs::read_to_string(DEMO)
        .expect("demo")
        .replace("min_credits = 35", "min_credits = 36");
    let file = write_temp("changed.toml", &changed);
    let out = import(file.display().to_string()).await.expect("join");
    assert!(
        text(&out.stdout).contains("as version 2"),
        "{}",
        text(&out.stdout)
    );

    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM qualification_versions")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(versions, 2);
}

#[tokio::test]
async fn bench_fixture_loads_the_load_test_centre_once_and_prints_its_ids() {
    let pool = test_pool().await;
    let url = database_url(&pool);
    let run = || {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_attest"))
                .args(["bench-fixture", "--evidence", "6"])
                .env("DATABASE_URL", url)
                .output()
                .expect("run attest")
        })
    };
    let out = run().await.expect("join");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let value = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{key}= in {stdout}"))
            .to_string()
    };
    assert_eq!(value("learner"), "learner@bench.attest.test");
    assert_eq!(value("evidence_items"), "6");
    let evidence: uuid::Uuid = value("evidence").parse().expect("an evidence id");
    let enrolment: uuid::Uuid = value("enrolment").parse().expect("an enrolment id");
    let (on_enrolment, ticks): (uuid::Uuid, i64) = sqlx::query_as(
        "SELECT e.enrolment_id, (SELECT count(*) FROM ticks t WHERE t.evidence_id = e.id) \
         FROM evidence e WHERE e.id = $1",
    )
    .bind(evidence)
    .fetch_one(&pool)
    .await
    .expect("the printed evidence item exists");
    assert_eq!(on_enrolment, enrolment);
    assert!(ticks > 10, "the measured item is ticked: {ticks}");
    let free: Vec<uuid::Uuid> = value("free_criteria")
        .split(',')
        .map(|c| c.parse().expect("a criterion id"))
        .collect();
    let ticked_free: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM ticks WHERE evidence_id = $1 AND criterion_id = ANY($2)",
    )
    .bind(evidence)
    .bind(&free)
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!((free.len(), ticked_free), (128, 0));

    let again = run().await.expect("join");
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("already loaded"),
        "{}",
        text(&again.stderr)
    );
}

/// `attest keys rotate` against a database whose keys are sealed with `kek_text`.
fn rotate_keys(url: String, kek_text: &str, centre: &str) -> tokio::task::JoinHandle<Output> {
    let kek_text = kek_text.to_string();
    let centre = centre.to_string();
    tokio::task::spawn_blocking(move || {
        let data = std::env::temp_dir().join(format!("attest-keys-{}", uuid::Uuid::new_v4()));
        Command::new(env!("CARGO_BIN_EXE_attest"))
            .args(["keys", "rotate", "--centre", &centre])
            .env("DATABASE_URL", url)
            .env("ATTEST_DATA_DIR", data)
            .env("ATTEST_SIGNING_KEK", kek_text)
            .output()
            .expect("run attest")
    })
}

#[tokio::test]
async fn keys_rotate_retires_the_signing_key_and_a_new_one_signs_from_then_on() {
    use attest::credentials::sealing::Kek;
    use attest::db::{centre_keys, centres};
    let pool = test_pool().await;
    let centre = centres::create(&pool, "ngc", "Northgate College")
        .await
        .expect("centre");
    let kek = Kek::for_tests();
    let first = centre_keys::get_or_create(&pool, &kek, centre.id)
        .await
        .expect("first key");
    assert_eq!(first.key_id(), "key-1");

    let out = rotate_keys(
        database_url(&pool),
        "attest test key-encryption key!!"
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .as_str(),
        "ngc",
    )
    .await
    .expect("join");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Northgate College: key-2 signs from now on"),
        "{}",
        text(&out.stdout)
    );

    let now = centre_keys::find(&pool, &kek, centre.id)
        .await
        .expect("find")
        .expect("a signing key");
    assert_eq!(now.key_id(), "key-2");
    let published: Vec<String> = centre_keys::published(&pool, centre.id)
        .await
        .expect("published")
        .iter()
        .map(|k| k.key_id())
        .collect();
    assert_eq!(
        published,
        ["key-1", "key-2"],
        "the retired key stays published"
    );
    let logged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM activity_log \
         WHERE action = 'signing key rotated' AND actor_id IS NULL AND centre_id = $1",
    )
    .bind(centre.id)
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(logged, 1);
}

#[tokio::test]
async fn keys_rotate_with_the_wrong_key_encryption_key_changes_nothing() {
    use attest::credentials::sealing::Kek;
    use attest::db::{centre_keys, centres};
    let pool = test_pool().await;
    let centre = centres::create(&pool, "ngc", "Northgate College")
        .await
        .expect("centre");
    centre_keys::get_or_create(&pool, &Kek::for_tests(), centre.id)
        .await
        .expect("first key");

    let out = rotate_keys(database_url(&pool), &"42".repeat(32), "ngc")
        .await
        .expect("join");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("signing key"),
        "{}",
        text(&out.stderr)
    );
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM centre_keys")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(keys, 1);
}

/// Issue 16, point 4: `attest migrate` migrates a database once and stops; run again it
/// finds nothing to do.
#[tokio::test]
async fn migrate_applies_what_is_missing_then_nothing() {
    let cluster = attest::testing::cluster();
    let name = attest::testing::empty_database().await;
    let url = format!(
        "postgres://{}@localhost/{name}?host={}",
        cluster.connect_options("postgres").get_username(),
        cluster.socket_dir().display()
    );
    let migrate = || {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_attest"))
                .arg("migrate")
                .env("DATABASE_URL", url)
                .output()
                .expect("run attest")
        })
    };
    let every = attest::db::MIGRATOR.iter().count();
    let out = migrate().await.expect("join");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with(&format!("Applied {every} migration(s): 1, 2, 3")),
        "{}",
        text(&out.stdout)
    );
    let out = migrate().await.expect("join");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        "The database is up to date; no migration was needed."
    );
}
