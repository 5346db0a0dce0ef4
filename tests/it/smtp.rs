//! A real SMTP server on loopback, small enough to read: it speaks the commands a client
//! sends (RFC 5321: greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps each
//! message it accepts byte for byte, and can be told to defer (4xx) or refuse (5xx)
//! recipients, or defer the first few messages and accept the rest. `Tarpit` is a
//! mail server gone wrong: it accepts connections and never says a word.
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How the server answers RCPT TO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    /// 451: try again later.
    Defer,
    /// 550: no such mailbox.
    Refuse,
    /// 451 to the first `n` RCPT TO commands the server receives, then accept.
    DeferFirst(u32),
}

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent after DATA, with dot-stuffing undone.
    pub data: Vec<u8>,
}

pub struct SmtpServer {
    /// `smtp://127.0.0.1:<port>`, as ATTEST_SMTP_URL would be set.
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpServer {
    pub async fn start(answer: Answer) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        let deferred = Arc::new(AtomicU32::new(0));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, answer, store.clone(), deferred.clone()));
            }
        });
        SmtpServer {
            url: format!("smtp://127.0.0.1:{port}"),
            received,
            task,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn session(
    stream: TcpStream,
    answer: Answer,
    store: Arc<Mutex<Vec<Received>>>,
    deferred: Arc<AtomicU32>,
) {
    // A client that hangs up mid-way simply ends the session.
    let _ = converse(stream, answer, store, deferred).await;
}

async fn converse(
    stream: TcpStream,
    answer: Answer,
    store: Arc<Mutex<Vec<Received>>>,
    deferred: Arc<AtomicU32>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 localhost ESMTP test\r\n").await?;
    let mut mail_from = String::new();
    let mut rcpt_to = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_string();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-localhost\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n",
            "HELO" | "NOOP" => b"250 OK\r\n",
            "RSET" => {
                mail_from.clear();
                rcpt_to.clear();
                b"250 OK\r\n"
            }
            "MAIL" => {
                mail_from = angle(&command);
                b"250 OK\r\n"
            }
            "RCPT" => match answer {
                Answer::Accept => {
                    rcpt_to.push(angle(&command));
                    b"250 OK\r\n"
                }
                Answer::Defer => b"451 4.3.0 Mailbox busy, try again later\r\n",
                Answer::Refuse => b"550 5.1.1 No such mailbox here\r\n",
                Answer::DeferFirst(n) => {
                    if deferred.fetch_add(1, Ordering::SeqCst) < n {
                        b"451 4.3.0 Mailbox busy, try again later\r\n"
                    } else {
                        rcpt_to.push(angle(&command));
                        b"250 OK\r\n"
                    }
                }
            },
            "DATA" if rcpt_to.is_empty() => b"554 5.5.1 No valid recipients\r\n",
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let data = read_data(&mut lines).await?;
                store.lock().expect("lock").push(Received {
                    mail_from: std::mem::take(&mut mail_from),
                    rcpt_to: std::mem::take(&mut rcpt_to),
                    data,
                });
                b"250 2.0.0 Queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 Command not recognised\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// The lines after DATA up to the lone ".", with a leading ".." turned back into ".".
async fn read_data(
    lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" {
            return Ok(data);
        }
        let unstuffed = if line.starts_with(b"..") {
            &line[1..]
        } else {
            &line[..]
        };
        data.extend_from_slice(unstuffed);
    }
}

/// The address between angle brackets in `MAIL FROM:<a@b> SIZE=…`.
fn angle(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_string())
        .unwrap_or_default()
}

/// Accepts every connection and never answers: no greeting, no replies. Each
/// connection is held open until the tarpit is dropped.
pub struct Tarpit {
    /// `smtp://127.0.0.1:<port>`.
    pub url: String,
    connections: Arc<AtomicU32>,
    task: tokio::task::JoinHandle<()>,
}

impl Tarpit {
    pub async fn start() -> Tarpit {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let connections = Arc::new(AtomicU32::new(0));
        let counted = connections.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
        Tarpit {
            url: format!("smtp://127.0.0.1:{port}"),
            connections,
            task,
        }
    }

    /// How many connections it has taken in.
    pub fn connections(&self) -> u32 {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Tarpit {
    fn drop(&mut self) {
        self.task.abort();
    }
}
