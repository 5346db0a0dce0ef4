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

#[test]
fn a_folder_with_other_files_is_not_taken_over() {
    let dir = attest::testing::test_dir().join(format!("junk-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let err = LocalCluster::start(&dir, &ClusterOptions::for_tests()).unwrap_err();
    assert!(matches!(err, PgError::NotACluster { .. }), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}
