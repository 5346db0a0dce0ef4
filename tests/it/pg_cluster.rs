//! The managed cluster on its own: create, stop, restart over a stale pid file, refuse
//! a folder that is not a cluster.
use attest::pg::{ClusterOptions, LocalCluster, PgError};
use sqlx::{ConnectOptions, Connection};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_restarts_in_its_folder_and_keeps_its_data() {
    let root = attest::testing::test_dir().join(format!("own-{}", uuid::Uuid::new_v4().simple()));
    let dir = root.join("pg");
    let opts = ClusterOptions {
        port: 5433,
        ..ClusterOptions::for_tests()
    };
    let mut cluster = tokio::task::block_in_place(|| LocalCluster::start(&dir, &opts))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(cluster.ensure_database("keep").await.unwrap());
    assert!(!cluster.ensure_database("keep").await.unwrap());
    cluster.stop().unwrap();
    assert!(cluster.pid().is_none());

    // A killed server leaves its pid file behind; here it names a live process that is
    // not PostgreSQL (this test), as happens when pids are reused.
    let pid_file = dir.join("postmaster.pid");
    std::fs::write(
        &pid_file,
        format!("{}\n{}\n", std::process::id(), dir.display()),
    )
    .unwrap();

    let cluster = tokio::task::block_in_place(|| LocalCluster::start(&dir, &opts))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut conn = cluster.connect_options("keep").connect().await.unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(one, 1);
    conn.close().await.unwrap();
    drop(cluster);
    std::fs::remove_dir_all(root).unwrap();
}

/// A cluster the app runs for itself starts with WAL settings for many small writes
/// (`pg::tuning`), written once into its `postgresql.conf`, where an operator's
/// `ALTER SYSTEM` still overrides them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_cluster_starts_with_write_settings_an_operator_can_change() {
    let root = attest::testing::test_dir().join(format!("tuned-{}", uuid::Uuid::new_v4().simple()));
    let dir = root.join("pg");
    let opts = ClusterOptions {
        durable: true,
        ..ClusterOptions::for_tests()
    };
    let show = |cluster: &LocalCluster, name: &'static str| {
        let options = cluster.connect_options("postgres");
        async move {
            let mut conn = options.connect().await.unwrap();
            let value: String = sqlx::query_scalar(&format!("SHOW {name}"))
                .fetch_one(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
            value
        }
    };
    let mut cluster = tokio::task::block_in_place(|| LocalCluster::start(&dir, &opts))
        .unwrap_or_else(|e| panic!("{e}"));
    let compression = show(&cluster, "wal_compression").await;
    assert!(
        ["lz4", "pglz", "on"].contains(&compression.as_str()),
        "WAL compressed: {compression}"
    );
    assert_eq!(show(&cluster, "max_wal_size").await, "4GB");
    let mut conn = cluster.connect_options("postgres").connect().await.unwrap();
    sqlx::query("ALTER SYSTEM SET max_wal_size = '2GB'")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    cluster.stop().unwrap();

    let cluster = tokio::task::block_in_place(|| LocalCluster::start(&dir, &opts))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        show(&cluster, "max_wal_size").await,
        "2GB",
        "the operator's wins"
    );
    let conf = std::fs::read_to_string(dir.join("postgresql.conf")).unwrap();
    assert_eq!(
        conf.matches("max_wal_size = '4GB'").count(),
        1,
        "written once"
    );
    drop(cluster);
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_folder_with_other_files_is_not_taken_over() {
    let dir = attest::testing::test_dir().join(format!("junk-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let err = LocalCluster::start(&dir, &ClusterOptions::for_tests()).unwrap_err();
    assert!(matches!(err, PgError::NotACluster { .. }), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Issue 11, point 7: the app's database belongs to a role that is no superuser; run as
/// it, the migrations make everything and the app writes, while the role can touch
/// nothing beyond its database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_works_as_a_role_that_is_no_superuser_and_owns_its_database() {
    let root = attest::testing::test_dir().join(format!("role-{}", uuid::Uuid::new_v4().simple()));
    let opts = ClusterOptions::for_tests();
    let mut cluster = tokio::task::block_in_place(|| LocalCluster::start(&root.join("pg"), &opts))
        .unwrap_or_else(|e| panic!("{e}"));
    cluster
        .ensure_app_database("attest", attest::startup::APP_ROLE)
        .await
        .expect("the app's database");
    let mut app = cluster
        .connect_options_as("attest", attest::startup::APP_ROLE)
        .connect()
        .await
        .expect("connect as the app");
    attest::db::migrate(&mut app)
        .await
        .expect("migrations run as the app");
    assert_owned_by_the_app(&mut app).await;
    let (user, superuser): (String, bool) = sqlx::query_as(
        "SELECT current_user::text, rolsuper FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&mut app)
    .await
    .expect("who");
    assert_eq!(
        (user.as_str(), superuser),
        (attest::startup::APP_ROLE, false)
    );
    attest::db::centres::create(&mut app, "acme", "Acme Training")
        .await
        .expect("the app writes");
    for beyond in [
        "CREATE ROLE intruder",
        "CREATE DATABASE another",
        "ALTER SYSTEM SET log_statement = 'all'",
        "COPY (SELECT 1) TO PROGRAM 'true'",
    ] {
        assert!(
            sqlx::query(beyond).execute(&mut app).await.is_err(),
            "refused: {beyond}"
        );
    }
    app.close().await.expect("close");
    cluster.stop().expect("stop");
    let _ = std::fs::remove_dir_all(root);
}

/// A database an earlier version made (the superuser owning all of it) is handed to the
/// app's role, and the app goes on in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_the_superuser_owned_is_handed_to_the_apps_role() {
    let root =
        attest::testing::test_dir().join(format!("handover-{}", uuid::Uuid::new_v4().simple()));
    let opts = ClusterOptions::for_tests();
    let mut cluster = tokio::task::block_in_place(|| LocalCluster::start(&root.join("pg"), &opts))
        .unwrap_or_else(|e| panic!("{e}"));
    cluster
        .ensure_database("attest")
        .await
        .expect("the old way");
    let mut old = cluster
        .connect_options("attest")
        .connect()
        .await
        .expect("connect");
    attest::db::migrate(&mut old)
        .await
        .expect("migrated as the superuser");
    attest::db::centres::create(&mut old, "acme", "Acme Training")
        .await
        .expect("data of the old days");
    old.close().await.expect("close");

    cluster
        .ensure_app_database("attest", attest::startup::APP_ROLE)
        .await
        .expect("handed over");
    let mut app = cluster
        .connect_options_as("attest", attest::startup::APP_ROLE)
        .connect()
        .await
        .expect("connect as the app");
    assert_owned_by_the_app(&mut app).await;
    attest::db::migrate(&mut app)
        .await
        .expect("nothing left to run");
    let centre = attest::db::centres::find_by_slug(&mut app, "acme")
        .await
        .expect("read")
        .expect("the old centre");
    attest::db::centres::create(&mut app, "bcol", "B College")
        .await
        .expect("and writes");
    assert_eq!(centre.slug, "acme");
    app.close().await.expect("close");
    cluster.stop().expect("stop");
    let _ = std::fs::remove_dir_all(root);
}

/// Every table, sequence, view, function and schema of the app's is the app role's (the
/// extensions' own objects aside).
async fn assert_owned_by_the_app(app: &mut sqlx::PgConnection) {
    let others: Vec<String> = sqlx::query_scalar(
        "SELECT kind || ' ' || name FROM ( \
           SELECT 'relation' AS kind, n.nspname || '.' || c.relname AS name, c.relowner AS owner, \
                  c.oid AS oid, 'pg_class'::regclass AS class \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
            WHERE n.nspname IN ('public', 'tower_sessions') AND c.relkind IN ('r', 'p', 'S', 'v', 'm') \
           UNION ALL \
           SELECT 'function', p.oid::regprocedure::text, p.proowner, p.oid, 'pg_proc'::regclass \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
            WHERE n.nspname IN ('public', 'tower_sessions') \
           UNION ALL \
           SELECT 'schema', n.nspname, n.nspowner, n.oid, 'pg_namespace'::regclass \
             FROM pg_namespace n WHERE n.nspname IN ('public', 'tower_sessions') \
         ) o \
         WHERE o.owner <> (SELECT oid FROM pg_roles WHERE rolname = current_user) \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.class AND d.objid = o.oid AND d.deptype = 'e') \
         ORDER BY 1",
    )
    .fetch_all(&mut *app)
    .await
    .expect("owners");
    assert_eq!(others, Vec::<String>::new(), "owned by someone else");
}
