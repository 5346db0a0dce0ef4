//! Running matrix rows: requests as a browser sends them, answers classified, the
//! database fingerprinted around every request that must change nothing, and one
//! table of every difference at the end.
use std::fmt::Write as _;
use std::net::SocketAddr;

use attest::web::AppState;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use sqlx::PgPool;

use super::world::{World, SECRET};
use super::{Row, Viewer, VIEWERS};
use crate::http::{send, Reply};

/// What a viewer gets, as the matrix writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 200: the page, file or CSV.
    Page,
    /// 201: made (a new person, with their link).
    Created,
    /// 303 anywhere but the sign-in page: the action was done.
    Done,
    /// 204: done, with nothing to show (a resumable upload's piece, or its discarding).
    NoContent,
    /// 303 to /login: not signed in.
    SignIn,
    NotFound,
    /// 409: the domain refuses, with its reason.
    Refused,
    /// 422: a form error, nothing kept.
    Invalid,
    Other(u16),
}

impl Outcome {
    pub fn parse(code: &str) -> Outcome {
        match code {
            "200" => Outcome::Page,
            "201" => Outcome::Created,
            "303" => Outcome::Done,
            "204" => Outcome::NoContent,
            "in" => Outcome::SignIn,
            "404" => Outcome::NotFound,
            "409" => Outcome::Refused,
            "422" => Outcome::Invalid,
            "410" => Outcome::Other(410),
            other => panic!("unknown outcome {other:?} in the matrix"),
        }
    }

    fn of(reply: &Reply) -> Outcome {
        match reply.status {
            StatusCode::OK => Outcome::Page,
            StatusCode::CREATED => Outcome::Created,
            StatusCode::NO_CONTENT => Outcome::NoContent,
            StatusCode::SEE_OTHER
                if reply
                    .location
                    .as_deref()
                    .is_some_and(|l| l.starts_with("/login")) =>
            {
                Outcome::SignIn
            }
            StatusCode::SEE_OTHER => Outcome::Done,
            StatusCode::NOT_FOUND => Outcome::NotFound,
            StatusCode::CONFLICT => Outcome::Refused,
            StatusCode::UNPROCESSABLE_ENTITY => Outcome::Invalid,
            s => Outcome::Other(s.as_u16()),
        }
    }

    /// Answers after which the database must be as it was.
    fn changes_nothing(self) -> bool {
        !matches!(self, Outcome::Created | Outcome::Done | Outcome::NoContent)
    }

    fn code(self) -> String {
        match self {
            Outcome::Page => "200".into(),
            Outcome::Created => "201".into(),
            Outcome::Done => "303".into(),
            Outcome::NoContent => "204".into(),
            Outcome::SignIn => "in".into(),
            Outcome::NotFound => "404".into(),
            Outcome::Refused => "409".into(),
            Outcome::Invalid => "422".into(),
            Outcome::Other(s) => s.to_string(),
        }
    }
}

/// What a row sends.
pub enum Payload {
    Empty,
    /// application/x-www-form-urlencoded.
    Form(String),
    /// Text fields, then files (name, bytes) in the field "file".
    Multipart(Vec<(&'static str, String)>, Vec<(String, Vec<u8>)>),
    /// A resumable upload's request: its headers (a content type among them) and bytes.
    Upload(Vec<(&'static str, &'static str)>, Vec<u8>),
}

fn request(method: &Method, uri: &str, cookie: Option<&str>, payload: Payload) -> Request<Body> {
    let boundary = "access-matrix-boundary";
    let mut extra = Vec::new();
    let (content_type, body) = match payload {
        Payload::Upload(headers, body) => {
            extra = headers;
            (None, body)
        }
        Payload::Empty => (None, Vec::new()),
        Payload::Form(form) => (
            Some("application/x-www-form-urlencoded".to_string()),
            form.into_bytes(),
        ),
        Payload::Multipart(fields, files) => {
            let mut body = Vec::new();
            for (name, value) in fields {
                body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
            }
            for (file_name, bytes) in files {
                body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/plain\r\n\r\n").as_bytes());
                body.extend(bytes);
                body.extend(b"\r\n");
            }
            body.extend(format!("--{boundary}--\r\n").as_bytes());
            (
                Some(format!("multipart/form-data; boundary={boundary}")),
                body,
            )
        }
    };
    let mut b = Request::builder()
        .method(method.clone())
        .uri(uri)
        // A same-site browser: the CSRF layer lets it through to the access checks.
        .header("sec-fetch-site", "same-origin");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    if let Some(t) = content_type {
        b = b.header(header::CONTENT_TYPE, t);
    }
    for (name, value) in extra {
        b = b.header(name, value);
    }
    let mut r = b.body(Body::from(body)).expect("request");
    let addr: SocketAddr = "192.0.2.7:40000".parse().expect("address");
    r.extensions_mut().insert(ConnectInfo(addr));
    r
}

/// A copy of the world, with its fingerprint as last taken: a request that changes
/// nothing leaves it valid, so the next request's "before" costs nothing.
struct Db {
    pool: PgPool,
    state: AppState,
    known: Option<Vec<(String, String)>>,
}

impl Db {
    async fn new(world: &World) -> Db {
        let (pool, state) = world.copy().await;
        Db {
            pool,
            state,
            known: None,
        }
    }

    async fn fingerprint(&mut self, sql: &str) -> Vec<(String, String)> {
        let now: Vec<(String, String)> = sqlx::query_as(sql)
            .fetch_all(&self.pool)
            .await
            .expect("fingerprint");
        self.known = Some(now.clone());
        now
    }

    async fn close(self) {
        self.pool.close().await;
    }
}

/// A query digesting every table of the product (not sessions, not sign-in attempts
/// and their counters).
async fn fingerprint_sql(pool: &PgPool) -> String {
    sqlx::query_scalar(
        "SELECT string_agg(format('SELECT %L, md5(coalesce(string_agg(x::text, %L ORDER BY x::text), %L)) FROM %I x', \
                table_name, '|', '', table_name), ' UNION ALL ' ORDER BY table_name) \
           FROM information_schema.tables \
          WHERE table_schema = 'public' AND table_type = 'BASE TABLE' \
            AND table_name NOT IN ('_sqlx_migrations', 'login_attempts', 'login_throttles')",
    )
    .fetch_one(pool)
    .await
    .expect("fingerprint query")
}

fn changed_tables(before: &[(String, String)], after: &[(String, String)]) -> Vec<String> {
    before
        .iter()
        .zip(after)
        .filter(|(b, a)| b != a)
        .map(|(b, _)| b.0.clone())
        .collect()
}

/// One answer that is not what the matrix says.
pub struct Miss {
    row: usize,
    viewer: Viewer,
    problem: Problem,
}

enum Problem {
    Status { expected: Outcome, got: Outcome },
    Changed(Vec<String>),
    Leak,
}

/// Every row × viewer. GET rows share one copy of the world; a POST row runs its
/// refusals in one copy (each checked to change nothing) and each viewer who may act
/// in a copy of their own, so one viewer's change never decides another's answer.
pub async fn run(world: &World, rows: &[Row]) -> Vec<Miss> {
    let mut misses = Vec::new();
    let mut pages = Db::new(world).await;
    let sql = fingerprint_sql(&pages.pool).await;
    for (index, row) in rows.iter().enumerate() {
        let mut refusals = if row.method == Method::GET {
            None
        } else {
            Some(Db::new(world).await)
        };
        for (viewer, expect) in VIEWERS.iter().zip(row.expected()) {
            // GETs never write; POSTs are watched unless the viewer may act.
            let watch = row.method == Method::GET || expect.changes_nothing();
            let mut own = if watch {
                None
            } else {
                Some(Db::new(world).await)
            };
            let db = match (&mut own, &mut refusals) {
                (Some(db), _) | (None, Some(db)) => db,
                (None, None) => &mut pages,
            };
            let before = match (watch, db.known.take()) {
                (false, _) => None,
                (true, Some(known)) => Some(known),
                (true, None) => Some(db.fingerprint(&sql).await),
            };
            let req = request(
                &row.method,
                &(row.uri)(world),
                world.cookie(*viewer),
                (row.payload)(world),
            );
            let reply = send(db.state.clone(), req).await;
            let got = Outcome::of(&reply);
            let mut miss = |problem| {
                misses.push(Miss {
                    row: index,
                    viewer: *viewer,
                    problem,
                })
            };
            if got != expect {
                miss(Problem::Status {
                    expected: expect,
                    got,
                });
            } else if viewer.outsider() && !row.for_link_holders && reply.body.contains(SECRET) {
                miss(Problem::Leak);
            }
            if let Some(before) = before {
                let changed = changed_tables(&before, &db.fingerprint(&sql).await);
                if !changed.is_empty() {
                    miss(Problem::Changed(changed));
                }
            }
            if let Some(db) = own {
                db.close().await;
            }
        }
        if let Some(db) = refusals {
            db.close().await;
        }
    }
    pages.close().await;
    misses
}

/// The differences as one table (rows with a wrong answer; `·` where the answer was
/// right), then the other problems one a line.
pub fn report(rows: &[Row], misses: &[Miss]) -> String {
    let mut out = String::new();
    let answers: usize = rows.len() * VIEWERS.len();
    let _ = writeln!(
        out,
        "\naccess matrix: {} problems in {answers} answers (expected→got; in = sent to sign in)",
        misses.len()
    );
    let label = |r: &Row| {
        let note = if r.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", r.note)
        };
        format!("{} {}{note}", r.method.as_str(), r.route)
    };
    let status = |m: &Miss| match m.problem {
        Problem::Status { expected, got } => Some(format!("{}→{}", expected.code(), got.code())),
        _ => None,
    };
    let mut wrong_rows: Vec<usize> = misses
        .iter()
        .filter(|m| status(m).is_some())
        .map(|m| m.row)
        .collect();
    wrong_rows.dedup();
    if !wrong_rows.is_empty() {
        let width = wrong_rows
            .iter()
            .map(|&i| label(&rows[i]).chars().count())
            .max()
            .unwrap_or(0);
        let _ = write!(out, "{:width$}", "");
        for v in VIEWERS {
            let _ = write!(out, " {:>7}", v.short());
        }
        out.push('\n');
        for &i in &wrong_rows {
            let _ = write!(out, "{:width$}", label(&rows[i]));
            for v in VIEWERS {
                let cell = misses
                    .iter()
                    .filter(|m| m.row == i && m.viewer == v)
                    .find_map(status)
                    .unwrap_or_else(|| "·".to_string());
                let _ = write!(out, " {cell:>7}");
            }
            out.push('\n');
        }
    }
    for m in misses {
        let what = match &m.problem {
            Problem::Status { .. } => continue,
            Problem::Changed(tables) => {
                format!("refused, but changed the database ({})", tables.join(", "))
            }
            Problem::Leak => format!("was shown “{SECRET}”, which it may not see"),
        };
        let _ = writeln!(
            out,
            "{} as {}: {what}",
            label(&rows[m.row]),
            m.viewer.short()
        );
    }
    out
}
