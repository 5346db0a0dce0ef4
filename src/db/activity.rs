//! The append-only activity log (SPEC §8): the record an external quality assurer asks
//! for. The database refuses UPDATE, DELETE and TRUNCATE on it.
use futures_util::stream::BoxStream;
use sqlx::postgres::PgArguments;
use sqlx::query::QueryAs;
use sqlx::{PgExecutor, PgPool, Postgres};
use time::OffsetDateTime;
use uuid::Uuid;

use super::DbResult;
use crate::domain::log_filter::{Actions, LogKind, LogView, Page, Who};

#[derive(Debug, Clone, PartialEq)]
pub struct ActivityEntry {
    pub id: i64,
    pub centre_id: Uuid,
    pub enrolment_id: Option<Uuid>,
    /// None when the system acted.
    pub actor_id: Option<Uuid>,
    pub at: OffsetDateTime,
    pub action: String,
    pub detail: serde_json::Value,
}

/// Append an entry; when it concerns an enrolment, that enrolment's last activity time
/// moves too (one statement, so they cannot disagree). Pass a transaction to make the
/// entry part of the change it describes.
pub async fn record(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    enrolment_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    action: &str,
    detail: serde_json::Value,
) -> DbResult<i64> {
    Ok(sqlx::query_scalar!(
        "WITH touched AS (UPDATE enrolments SET last_activity_at = clock_timestamp() WHERE id = $2) \
         INSERT INTO activity_log (centre_id, enrolment_id, actor_id, action, detail) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        centre_id,
        enrolment_id,
        actor_id,
        action,
        detail,
    )
    .fetch_one(db)
    .await?)
}

/// `record` for many entries of one action at once: (enrolment, detail) each; the
/// enrolments named move their last activity.
pub(crate) async fn record_many(
    conn: &mut sqlx::PgConnection,
    centre_id: Uuid,
    actor_id: Option<Uuid>,
    action: &str,
    entries: &[(Option<Uuid>, serde_json::Value)],
) -> DbResult<()> {
    let enrolments: Vec<Option<Uuid>> = entries.iter().map(|e| e.0).collect();
    let details: Vec<serde_json::Value> = entries.iter().map(|e| e.1.clone()).collect();
    sqlx::query!(
        "WITH touched AS (UPDATE enrolments SET last_activity_at = clock_timestamp() \
                           WHERE id = ANY($4::uuid[])) \
         INSERT INTO activity_log (centre_id, enrolment_id, actor_id, action, detail) \
         SELECT $1, e.enrolment_id, $2, $3, e.detail \
           FROM UNNEST($4::uuid[], $5::jsonb[]) WITH ORDINALITY AS e(enrolment_id, detail, n) \
          ORDER BY e.n",
        centre_id,
        actor_id,
        action,
        &enrolments as &[Option<Uuid>],
        &details
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Append an entry that is not activity on the portfolio: an audit reads the portfolio
/// and changes nothing a learner or assessor did, so it leaves last activity (and the
/// caseload's "30 days without activity") where it was.
pub(crate) async fn append(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    enrolment_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    action: &str,
    detail: serde_json::Value,
) -> DbResult<i64> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO activity_log (centre_id, enrolment_id, actor_id, action, detail) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        centre_id,
        enrolment_id,
        actor_id,
        action,
        detail,
    )
    .fetch_one(db)
    .await?)
}

/// An enrolment's log, oldest first.
pub async fn for_enrolment(
    db: impl PgExecutor<'_>,
    enrolment_id: Uuid,
) -> DbResult<Vec<ActivityEntry>> {
    Ok(sqlx::query_as!(
        ActivityEntry,
        "SELECT id, centre_id, enrolment_id, actor_id, at, action, detail FROM activity_log \
         WHERE enrolment_id = $1 ORDER BY id",
        enrolment_id,
    )
    .fetch_all(db)
    .await?)
}

/// A centre's log, newest first, `limit` entries before `before` (an entry id) if given.
pub async fn for_centre(
    db: impl PgExecutor<'_>,
    centre_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> DbResult<Vec<ActivityEntry>> {
    Ok(sqlx::query_as!(
        ActivityEntry,
        "SELECT id, centre_id, enrolment_id, actor_id, at, action, detail FROM activity_log \
         WHERE centre_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        centre_id,
        before,
        limit,
    )
    .fetch_all(db)
    .await?)
}

/// An entry as the log pages and their exports show it, with its actor's name read in
/// the same statement (None for attest's own entries), and in the centre's log the
/// person it is about (its detail's `user`, when of the centre).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct LogLine {
    pub id: i64,
    pub at: OffsetDateTime,
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub action: String,
    pub detail: serde_json::Value,
    pub subject_id: Option<Uuid>,
    pub subject_name: Option<String>,
}

/// Whose log: an enrolment's entries, or the centre's own (those about no enrolment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Log {
    Enrolment(Uuid),
    Centre(Uuid),
}

impl Log {
    /// The entries' columns, with the actor's name and (for the centre) the subject's.
    fn select(self) -> &'static str {
        match self {
            Log::Enrolment(_) => {
                "SELECT a.id, a.at, a.actor_id, u.display_name AS actor_name, a.action, a.detail, \
                        NULL::uuid AS subject_id, NULL::text AS subject_name \
                 FROM activity_log a LEFT JOIN users u ON u.id = a.actor_id \
                 WHERE a.enrolment_id IS NOT NULL"
            }
            // The detail's `user` is a uuid as every writer writes it; anything else
            // names nobody rather than failing the page.
            Log::Centre(_) => {
                "SELECT a.id, a.at, a.actor_id, u.display_name AS actor_name, a.action, a.detail, \
                        s.id AS subject_id, s.display_name AS subject_name \
                 FROM activity_log a LEFT JOIN users u ON u.id = a.actor_id \
                 LEFT JOIN users s ON s.id = CASE WHEN a.detail->>'user' ~* \
                      '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' \
                      THEN (a.detail->>'user')::uuid END AND s.centre_id = a.centre_id \
                 WHERE a.enrolment_id IS NULL"
            }
        }
    }

    /// The column the log's index leads with (the enrolment's, or the partial index of
    /// the centre's own entries, migration 0026), then the entry's id.
    fn column(self) -> &'static str {
        match self {
            Log::Enrolment(_) => "a.enrolment_id",
            Log::Centre(_) => "a.centre_id",
        }
    }

    fn id(self) -> Uuid {
        match self {
            Log::Enrolment(id) | Log::Centre(id) => id,
        }
    }
}

/// A page of an enrolment's log, newest first.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogPage {
    pub lines: Vec<LogLine>,
    /// Entries older than the page's last match the filters too.
    pub older: bool,
    /// Entries newer than the page's first match the filters too.
    pub newer: bool,
}

/// Which entries a statement reads, as SQL conditions from a closed set with their
/// values bound in order: never a value spliced into the text. Each combination of
/// filters is a statement of its own, so that PostgreSQL plans each for what it asks.
///
/// The enrolment and the page's start are one range on (enrolment_id, id), written as
/// row comparisons and ordered by both columns, rather than `enrolment_id = $1` and an
/// order by id: given the equality, PostgreSQL may read the log backwards through the
/// primary key and skip other enrolments' entries on the way (it does once an
/// enrolment holds a large share of the log, which it assumes is spread evenly), so a
/// learner whose log went quiet would have every later entry of the centre read to
/// show their newest page. Only the (enrolment_id, id) index serves these conditions
/// and this order, so a page reads its own entries and no others.
///
/// The centre's log is read the same way, on (centre_id, id) among the entries about no
/// enrolment (a partial index of those alone): a page never passes over the ticks.
struct Selection {
    sql: String,
    log: Log,
    binds: Vec<Bound>,
}

enum Bound {
    Actions(&'static [&'static str]),
    Person(Uuid),
    At(OffsetDateTime),
    Entry(i64),
    Limit(i64),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    NewestFirst,
    OldestFirst,
}

impl Selection {
    /// The entries of `log` that `view`'s filters match, from `start` (an entry id,
    /// exclusive) on in `order`, at most `limit` of them.
    fn new<K: LogKind>(
        log: Log,
        view: &LogView<K>,
        start: Option<i64>,
        order: Order,
        limit: i64,
    ) -> Selection {
        let mut sql = String::from(log.select());
        let mut binds = Vec::new();
        let mut condition = |sql: &mut String, text: &str, bound: Option<Bound>| {
            sql.push_str(" AND ");
            match bound {
                Some(b) => {
                    binds.push(b);
                    // $1 is the enrolment or the centre.
                    sql.push_str(&text.replace('?', &format!("${}", binds.len() + 1)));
                }
                None => sql.push_str(text),
            }
        };
        let (from, to) = match (start, order) {
            (None, _) => ((">=", i64::MIN), ("<=", i64::MAX)),
            (Some(id), Order::NewestFirst) => ((">=", i64::MIN), ("<", id)),
            (Some(id), Order::OldestFirst) => ((">", id), ("<=", i64::MAX)),
        };
        for (op, id) in [from, to] {
            let text = format!("({}, a.id) {op} ($1, ?)", log.column());
            condition(&mut sql, &text, Some(Bound::Entry(id)));
        }
        match view.kind.map(K::actions) {
            None => {}
            Some(Actions::AnyOf(a)) => {
                condition(&mut sql, "a.action = ANY(?)", Some(Bound::Actions(a)))
            }
            Some(Actions::NoneOf(a)) => {
                condition(&mut sql, "a.action <> ALL(?)", Some(Bound::Actions(a)))
            }
        }
        match view.who {
            None => {}
            Some(Who::System) => condition(&mut sql, "a.actor_id IS NULL", None),
            Some(Who::Person(id)) => condition(&mut sql, "a.actor_id = ?", Some(Bound::Person(id))),
        }
        if let Some(at) = view.since() {
            condition(&mut sql, "a.at >= ?", Some(Bound::At(at)));
        }
        if let Some(at) = view.until() {
            condition(&mut sql, "a.at < ?", Some(Bound::At(at)));
        }
        sql.push_str(&match order {
            Order::NewestFirst => format!(" ORDER BY {} DESC, a.id DESC", log.column()),
            Order::OldestFirst => format!(" ORDER BY {}, a.id", log.column()),
        });
        binds.push(Bound::Limit(limit));
        sql.push_str(&format!(" LIMIT ${}", binds.len() + 1));
        Selection { sql, log, binds }
    }

    fn query(&self) -> QueryAs<'_, Postgres, LogLine, PgArguments> {
        // Built at run time: the conditions and the order follow the view's filters and page.
        let mut q = sqlx::query_as(&self.sql).bind(self.log.id());
        for b in &self.binds {
            q = match b {
                Bound::Actions(a) => q.bind(*a),
                Bound::Person(id) => q.bind(*id),
                Bound::At(at) => q.bind(*at),
                Bound::Entry(id) | Bound::Limit(id) => q.bind(*id),
            };
        }
        q
    }
}

/// The page of a log (an enrolment's or the centre's) that `view` asks for, `size`
/// entries at most. Reads one more entry than it shows, to know whether there are more
/// beyond; the page starts at its entry in the index on (enrolment or centre, id), so
/// an old page costs what the newest costs.
pub(crate) async fn page<K: LogKind>(
    db: impl PgExecutor<'_>,
    log: Log,
    view: &LogView<K>,
    size: usize,
) -> DbResult<LogPage> {
    let (start, order) = match view.page {
        Page::Newest => (None, Order::NewestFirst),
        Page::Before(id) => (Some(id), Order::NewestFirst),
        Page::After(id) => (Some(id), Order::OldestFirst),
    };
    let limit = i64::try_from(size + 1).unwrap_or(i64::MAX);
    let selection = Selection::new(log, view, start, order, limit);
    let lines = selection.query().fetch_all(db).await?;
    let (mut lines, more) = super::page_and_more(lines, size);
    Ok(match view.page {
        Page::Newest => LogPage {
            lines,
            older: more,
            newer: false,
        },
        // The entry this page starts before was on a newer page: there is one to go back to.
        Page::Before(_) => LogPage {
            lines,
            older: more,
            newer: true,
        },
        Page::After(_) => {
            lines.reverse();
            LogPage {
                lines,
                older: true,
                newer: more,
            }
        }
    })
}

/// Every entry of a log that `view`'s filters match (wherever its page is), oldest
/// first, to read as a stream: rows come as PostgreSQL sends them, so memory stays flat
/// however long the log.
pub(crate) struct Export(Selection);

impl Export {
    pub(crate) fn new<K: LogKind>(log: Log, view: &LogView<K>) -> Export {
        // A limit no log reaches, yet one the (generic) plan cannot see through: planned
        // for a part of the rows, the export reads the index in order and sends the first
        // row at once. Without it, PostgreSQL sorts every matching entry first (on disk,
        // for a long log), and nothing is sent until the sort ends.
        Export(Selection::new(
            log,
            view,
            None,
            Order::OldestFirst,
            i64::MAX,
        ))
    }

    pub(crate) fn rows<'a>(
        &'a self,
        db: &'a PgPool,
    ) -> BoxStream<'a, Result<LogLine, sqlx::Error>> {
        self.0.query().fetch(db)
    }
}
