//! `attest serve` takes its mail settings from the environment: a person added in the
//! running app is emailed through the SMTP server ATTEST_SMTP_URL names.
use std::process::{Command, Stdio};

use attest::testing::{test_dir, test_pool};
use mail_parser::MessageParser;

use crate::helpers::database_url;
use crate::serve::{add_ana_as_demo_admin, free_port, interrupt_and_wait, start_with};
use crate::smtp::{Answer, SmtpServer};

#[tokio::test]
async fn serve_emails_through_the_smtp_server_in_its_environment() {
    let server = SmtpServer::start(Answer::Accept).await;
    let smtp_port = server.url.rsplit(':').next().expect("port").to_string();
    let pool = test_pool().await;
    let url = database_url(&pool);
    let data = test_dir().join(format!("serve-mail-{}", uuid::Uuid::new_v4().simple()));
    let port = free_port();
    let smtp_url = server.url.clone();
    let (mut child, lines) = tokio::task::spawn_blocking(move || {
        let data_arg = data.to_str().expect("utf-8").to_string();
        let addr = format!("127.0.0.1:{port}");
        start_with(
            &["--data-dir", &data_arg, "serve", "--demo", "--addr", &addr],
            Some(&url),
            &[
                ("ATTEST_SMTP_URL", &smtp_url),
                ("ATTEST_MAIL_FROM", "Demo College <office@demo.attest.test>"),
            ],
        )
    })
    .await
    .expect("join");
    assert!(
        lines
            .iter()
            .any(|l| l == &format!("Email is sent through SMTP at 127.0.0.1:{smtp_port}.")),
        "{lines:?}"
    );

    let reply = tokio::task::spawn_blocking(move || add_ana_as_demo_admin(port))
        .await
        .expect("join");
    assert!(reply.starts_with("HTTP/1.0 201"), "{reply}");
    assert!(
        reply.contains("The set-password email is queued"),
        "{reply}"
    );

    // The server's worker sends it from the queue.
    let received = crate::mail_queue::wait_until("the email", || async {
        let got = server.received();
        (!got.is_empty()).then_some(got)
    })
    .await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].mail_from, "office@demo.attest.test");
    assert_eq!(received[0].rcpt_to, vec!["ana@example.es".to_string()]);
    let parsed = MessageParser::default()
        .parse(&received[0].data)
        .expect("parses");
    let to = parsed.to().and_then(|a| a.first()).expect("recipient");
    assert_eq!(to.name(), Some("Ana Pérez"));
    let text = parsed.body_text(0).expect("text");
    // Built on the server's public URL (here its own address), not on the Host header.
    assert!(
        text.contains(&format!("http://127.0.0.1:{port}/set-password/")),
        "{text}"
    );
    tokio::task::spawn_blocking(move || interrupt_and_wait(&mut child))
        .await
        .expect("join");
}

#[test]
fn serve_refuses_to_start_with_a_mail_url_it_cannot_use() {
    let data = test_dir().join(format!("serve-bad-mail-{}", uuid::Uuid::new_v4().simple()));
    let out = Command::new(env!("CARGO_BIN_EXE_attest"))
        .args(["--data-dir", data.to_str().expect("utf-8"), "serve"])
        .args(["--smtp-url", "pop3://mail.example.org"])
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .expect("run attest");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ATTEST_SMTP_URL") && stderr.contains("pop3"),
        "{stderr}"
    );
    assert!(
        !data.join("postgres").exists(),
        "refused before starting a database"
    );
}
