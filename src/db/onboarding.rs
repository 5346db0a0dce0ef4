//! Bulk onboarding's store (issue 12, point 3): the centre as the planner reads it, the
//! uploaded files, and the import itself, which plans the file again inside its one
//! transaction and writes the plan only when it has no problem and is the plan the
//! admin confirmed.
use std::collections::HashMap;

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::users::{self, User};
use super::{accounts, activity, invitations, outbox, password_tokens, DbError, DbResult};
use crate::domain::onboarding::{
    self, Assignment, Counts, Directory, EnrolmentStep, KnownEmployer, KnownEnrolment, KnownMajor,
    KnownPerson, KnownVersion, PersonStep, Plan, Sheet, Who,
};
use crate::domain::people::{Role, UserKind};
use crate::domain::Status;

struct PersonRow {
    id: Uuid,
    email: String,
    display_name: String,
    kind: String,
    active: bool,
    roles: Vec<String>,
}

struct VersionRow {
    id: Uuid,
    code: String,
    version: i32,
    major_id: Uuid,
    major_code: String,
}

struct EnrolmentRow {
    id: Uuid,
    learner_id: Uuid,
    version_id: Uuid,
    major_id: Uuid,
    assessor_id: Uuid,
    trainee_assessor_id: Option<Uuid>,
    iqa_id: Option<Uuid>,
    withdrawn: bool,
    start_date: Option<Date>,
    planned_end_date: Option<Date>,
    employer_id: Option<Uuid>,
}

/// The admin's centre as the planner reads it: its people, qualification versions with
/// their majors, and enrolments. Three statements, whatever the centre's size.
pub(crate) async fn directory(conn: &mut PgConnection, admin: &User) -> DbResult<Directory> {
    let people = sqlx::query_as!(
        PersonRow,
        "SELECT u.id, u.email, u.display_name, u.kind, u.active, \
                COALESCE(array_agg(r.role) FILTER (WHERE r.role IS NOT NULL), '{}') AS \"roles!\" \
           FROM users u LEFT JOIN user_roles r ON r.user_id = u.id \
          WHERE u.centre_id = $1 GROUP BY u.id",
        admin.centre_id
    )
    .fetch_all(&mut *conn)
    .await?;
    let people = people
        .into_iter()
        .map(|p| {
            let kind = UserKind::from_key(&p.kind)
                .ok_or_else(|| DbError::Corrupt(format!("user kind {:?}", p.kind)))?;
            let mut roles = p
                .roles
                .iter()
                .map(|k| Role::from_key(k).ok_or_else(|| DbError::Corrupt(format!("role {k:?}"))))
                .collect::<DbResult<Vec<Role>>>()?;
            roles.sort();
            Ok(KnownPerson {
                id: p.id,
                email: p.email,
                name: p.display_name,
                kind,
                roles,
                active: p.active,
            })
        })
        .collect::<DbResult<Vec<_>>>()?;
    let rows = sqlx::query_as!(
        VersionRow,
        "SELECT v.id, q.code, v.version, m.id AS major_id, m.code AS major_code \
           FROM qualifications q JOIN qualification_versions v ON v.qualification_id = q.id \
           JOIN majors m ON m.version_id = v.id \
          WHERE q.centre_id = $1 ORDER BY q.code, v.version, m.ordinal",
        admin.centre_id
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut versions: Vec<KnownVersion> = Vec::new();
    for r in rows {
        let major = KnownMajor {
            id: r.major_id,
            code: r.major_code,
        };
        match versions.last_mut() {
            Some(v) if v.id == r.id => v.majors.push(major),
            _ => versions.push(KnownVersion {
                id: r.id,
                code: r.code,
                version: r.version,
                majors: vec![major],
            }),
        }
    }
    let enrolments = sqlx::query_as!(
        EnrolmentRow,
        "SELECT id, learner_id, version_id, major_id, assessor_id, trainee_assessor_id, iqa_id, \
                status = 'withdrawn' AS \"withdrawn!\", start_date, planned_end_date, employer_id \
           FROM enrolments WHERE centre_id = $1",
        admin.centre_id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|e| KnownEnrolment {
        id: e.id,
        learner: e.learner_id,
        version: e.version_id,
        major: e.major_id,
        assessor: e.assessor_id,
        trainee: e.trainee_assessor_id,
        iqa: e.iqa_id,
        withdrawn: e.withdrawn,
        start: e.start_date,
        planned_end: e.planned_end_date,
        employer: e.employer_id,
    })
    .collect();
    let employers = sqlx::query!(
        "SELECT id, name FROM employers WHERE centre_id = $1",
        admin.centre_id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| KnownEmployer {
        id: r.id,
        name: r.name,
    })
    .collect();
    Ok(Directory {
        actor: admin.id,
        people,
        versions,
        enrolments,
        employers,
    })
}

/// The pairs of (enrolment, person) among `pairs` where the person ticked as assessor or
/// trainee: an IQA who is that person would sample their own decisions (SPEC §7).
async fn decided(conn: &mut PgConnection, pairs: &[(Uuid, Uuid)]) -> DbResult<Vec<(Uuid, Uuid)>> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let (enrolments, people): (Vec<Uuid>, Vec<Uuid>) = pairs.iter().copied().unzip();
    let found = sqlx::query!(
        "SELECT p.enrolment_id AS \"enrolment_id!\", p.person AS \"person!\" \
           FROM UNNEST($1::uuid[], $2::uuid[]) AS p (enrolment_id, person) \
          WHERE EXISTS (SELECT 1 FROM ticks t WHERE t.enrolment_id = p.enrolment_id \
                           AND t.ticked_by = p.person AND t.layer IN ('assessor', 'trainee_assessor'))",
        &enrolments,
        &people
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(found
        .into_iter()
        .map(|r| (r.enrolment_id, r.person))
        .collect())
}

/// Plans `sheet` for the admin's centre, as it stands on `conn`.
pub(crate) async fn plan(conn: &mut PgConnection, admin: &User, sheet: &Sheet) -> DbResult<Plan> {
    let dir = directory(&mut *conn, admin).await?;
    let mut plan = onboarding::plan(sheet, &dir);
    let found = decided(&mut *conn, &plan.new_iqas()).await?;
    let column = if sheet.has(onboarding::Col::IqaEmail) {
        sheet.header(onboarding::Col::IqaEmail)
    } else {
        sheet.header(onboarding::Col::IqaId)
    };
    plan.refuse_own_decisions(&found, &column);
    Ok(plan)
}

/// An uploaded file and what became of it.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub id: Uuid,
    pub file_name: String,
    pub content: Vec<u8>,
    pub uploaded_at: OffsetDateTime,
    pub uploaded_by: String,
    pub imported_at: Option<OffsetDateTime>,
    pub imported_by: Option<String>,
    pub counts: Option<sqlx::types::Json<Counts>>,
}

/// Keeps an uploaded file (already read without a file problem) for its preview.
pub async fn store(
    db: impl PgExecutor<'_>,
    admin: &User,
    file_name: &str,
    content: &[u8],
    rows: usize,
) -> DbResult<Uuid> {
    let id = Uuid::now_v7();
    let rows = i32::try_from(rows).map_err(|_| DbError::Corrupt(format!("{rows} rows")))?;
    sqlx::query!(
        "INSERT INTO imports (id, centre_id, uploaded_by, file_name, content, row_count) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        admin.centre_id,
        admin.id,
        file_name,
        content,
        rows
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// An upload of the admin's centre; `DbError::NotFound` for any other.
pub(crate) async fn upload(db: impl PgExecutor<'_>, admin: &User, id: Uuid) -> DbResult<Upload> {
    sqlx::query_as!(
        Upload,
        "SELECT i.id, i.file_name, i.content, i.uploaded_at, \
                u.display_name AS uploaded_by, i.imported_at, b.display_name AS \"imported_by?\", \
                i.counts AS \"counts: sqlx::types::Json<Counts>\" \
           FROM imports i JOIN users u ON u.id = i.uploaded_by \
           LEFT JOIN users b ON b.id = i.imported_by \
          WHERE i.id = $1 AND i.centre_id = $2",
        id,
        admin.centre_id
    )
    .fetch_optional(db)
    .await?
    .ok_or(DbError::NotFound)
}

/// One line of the list of a centre's uploads.
#[derive(Debug, Clone)]
pub(crate) struct UploadLine {
    pub id: Uuid,
    pub file_name: String,
    pub row_count: i32,
    pub uploaded_at: OffsetDateTime,
    pub uploaded_by: String,
    pub imported_at: Option<OffsetDateTime>,
}

/// A page of the centre's uploads, newest first: `per_page + 1` read, so the caller
/// knows whether there is a next page.
pub(crate) async fn uploads(
    db: impl PgExecutor<'_>,
    admin: &User,
    page: i64,
    per_page: i64,
) -> DbResult<Vec<UploadLine>> {
    Ok(sqlx::query_as!(
        UploadLine,
        "SELECT i.id, i.file_name, i.row_count, i.uploaded_at, u.display_name AS uploaded_by, \
                i.imported_at \
           FROM imports i JOIN users u ON u.id = i.uploaded_by \
          WHERE i.centre_id = $1 ORDER BY i.uploaded_at DESC, i.id DESC \
          LIMIT $2 OFFSET $3",
        admin.centre_id,
        per_page + 1,
        page.saturating_mul(per_page)
    )
    .fetch_all(db)
    .await?)
}

/// What came of confirming an import.
#[derive(Debug)]
pub(crate) enum Confirmed {
    Imported,
    /// The plan has problems now; nothing was written.
    Refused(Plan),
    /// The centre changed since the preview, so the plan is not the one confirmed;
    /// nothing was written.
    Changed(Plan),
    AlreadyImported,
    /// Every row matches the centre already; nothing was written.
    Nothing,
}

/// Imports an upload: in one transaction, with the centre's imports one at a time, the
/// file is planned again against the centre as it now is and written only if the plan
/// is clean and its figures are those the admin confirmed (`expected`). New people's
/// set-password emails are queued in the same transaction and leave from the job queue.
pub(crate) async fn confirm(
    pool: &PgPool,
    admin: &User,
    id: Uuid,
    expected: Counts,
    public_url: &str,
) -> DbResult<Confirmed> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('import:' || $1::text, 0))",
        admin.centre_id.to_string()
    )
    .execute(&mut *tx)
    .await?;
    let upload = sqlx::query!(
        "SELECT content, imported_at, file_name FROM imports WHERE id = $1 AND centre_id = $2 FOR UPDATE",
        id,
        admin.centre_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DbError::NotFound)?;
    if upload.imported_at.is_some() {
        return Ok(Confirmed::AlreadyImported);
    }
    let sheet = onboarding::read(&upload.content)
        .map_err(|p| DbError::Corrupt(format!("a stored upload: {}", p.message())))?;
    let plan = plan(&mut tx, admin, &sheet).await?;
    if !plan.is_clean() {
        return Ok(Confirmed::Refused(plan));
    }
    let counts = plan.counts();
    if counts.changing_rows() == 0 {
        return Ok(Confirmed::Nothing);
    }
    if counts != expected {
        return Ok(Confirmed::Changed(plan));
    }
    write(&mut tx, admin, id, &plan, public_url).await?;
    sqlx::query!(
        "UPDATE imports SET imported_at = now(), imported_by = $2, counts = $3 WHERE id = $1",
        id,
        admin.id,
        sqlx::types::Json(counts) as _
    )
    .execute(&mut *tx)
    .await?;
    activity::record(
        &mut *tx,
        admin.centre_id,
        None,
        Some(admin.id),
        "people imported",
        serde_json::json!({ "import": id, "file": upload.file_name, "counts": counts }),
    )
    .await?;
    tx.commit().await?;
    Ok(Confirmed::Imported)
}

/// Writes a clean plan: people first, so that enrolments can name those it adds. What
/// there is much of (new people, new enrolments) is written set-based, a handful of
/// statements for the lot; updates, which are few, one by one.
async fn write(
    conn: &mut PgConnection,
    admin: &User,
    import: Uuid,
    plan: &Plan,
    public_url: &str,
) -> DbResult<()> {
    let new_people: Vec<NewPerson> = plan
        .rows
        .iter()
        .filter_map(|r| match &r.person {
            Some(PersonStep::New {
                name,
                email,
                kind,
                roles,
            }) => Some(NewPerson {
                id: Uuid::now_v7(),
                name,
                email,
                kind: *kind,
                roles,
            }),
            _ => None,
        })
        .collect();
    add_people(conn, admin, import, &new_people, public_url).await?;
    for row in &plan.rows {
        if let Some(PersonStep::Updated {
            id,
            name,
            roles,
            was_name,
            was_roles,
        }) = &row.person
        {
            change_person(
                conn,
                admin,
                import,
                *id,
                (was_name, name),
                (was_roles, roles),
            )
            .await?;
        }
    }
    let added: HashMap<String, Uuid> = new_people
        .iter()
        .map(|p| (p.email.to_lowercase(), p.id))
        .collect();
    let id_of = |who: &Who| match who {
        Who::Known(id) => Ok(*id),
        Who::New(email) => added
            .get(email)
            .copied()
            .ok_or_else(|| DbError::Corrupt(format!("{email} is named but not added"))),
    };
    let mut enrolments = Vec::new();
    for row in &plan.rows {
        match &row.enrolment {
            Some(EnrolmentStep::New {
                learner,
                version,
                major,
                assignment,
            }) => enrolments.push(NewRow {
                id: Uuid::now_v7(),
                learner: id_of(learner)?,
                version: *version,
                major: *major,
                assessor: id_of(&assignment.assessor)?,
                trainee: assignment.trainee.as_ref().map(id_of).transpose()?,
                iqa: assignment.iqa.as_ref().map(id_of).transpose()?,
                start: assignment.start,
                planned_end: assignment.planned_end,
                employer: assignment.employer,
            }),
            Some(EnrolmentStep::Updated { id, assignment, .. }) => {
                let (assessor, trainee, iqa) = (
                    id_of(&assignment.assessor)?,
                    assignment.trainee.as_ref().map(id_of).transpose()?,
                    assignment.iqa.as_ref().map(id_of).transpose()?,
                );
                super::enrolments::set_assignments(&mut *conn, *id, assessor, trainee, iqa).await?;
                set_dates(conn, *id, assignment).await?;
                activity::record(
                    &mut *conn,
                    admin.centre_id,
                    Some(*id),
                    Some(admin.id),
                    "assignments changed",
                    serde_json::json!({ "assessor": assessor, "trainee": trainee, "iqa": iqa,
                                        "start": assignment.start, "planned_end": assignment.planned_end,
                                        "import": import }),
                )
                .await?;
            }
            _ => {}
        }
    }
    enrol(conn, admin, import, &enrolments).await
}

struct NewPerson<'a> {
    id: Uuid,
    name: &'a str,
    email: &'a str,
    kind: UserKind,
    roles: &'a [Role],
}

/// The new people, their roles, set-password links and queued emails, the import's
/// record of them and their log entries: seven statements for any number.
async fn add_people(
    conn: &mut PgConnection,
    admin: &User,
    import: Uuid,
    people: &[NewPerson<'_>],
    public_url: &str,
) -> DbResult<()> {
    if people.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = people.iter().map(|p| p.id).collect();
    let emails: Vec<&str> = people.iter().map(|p| p.email).collect();
    let names: Vec<&str> = people.iter().map(|p| p.name).collect();
    let kinds: Vec<&str> = people.iter().map(|p| p.kind.key()).collect();
    sqlx::query!(
        "INSERT INTO users (id, centre_id, email, display_name, kind) \
         SELECT u.id, $1, u.email, u.name, u.kind \
           FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::text[]) AS u(id, email, name, kind)",
        admin.centre_id,
        &ids,
        &emails as &[&str],
        &names as &[&str],
        &kinds as &[&str]
    )
    .execute(&mut *conn)
    .await?;
    let (mut holders, mut holder_kinds, mut roles) = (Vec::new(), Vec::new(), Vec::new());
    for p in people {
        for r in p.roles {
            holders.push(p.id);
            holder_kinds.push(p.kind.key());
            roles.push(r.key());
        }
    }
    sqlx::query!(
        "INSERT INTO user_roles (user_id, kind, role) SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[])",
        &holders,
        &holder_kinds as &[&str],
        &roles as &[&str]
    )
    .execute(&mut *conn)
    .await?;
    let tokens = password_tokens::create_many(conn, &ids).await?;
    let to: Vec<(Uuid, String, String)> = people
        .iter()
        .zip(&tokens)
        .map(|(p, t)| (p.id, p.email.to_string(), invitations::link(public_url, t)))
        .collect();
    let messages = outbox::queue_password_links(conn, admin.centre_id, admin.id, &to).await?;
    sqlx::query!(
        "INSERT INTO import_invitations (import_id, user_id) SELECT $1, u FROM UNNEST($2::uuid[]) AS u",
        import,
        &ids
    )
    .execute(&mut *conn)
    .await?;
    let entries: Vec<(Option<Uuid>, serde_json::Value)> = people
        .iter()
        .zip(&messages)
        .map(|(p, m)| {
            let keys: Vec<&str> = p.roles.iter().map(|r| r.key()).collect();
            let detail = serde_json::json!({ "user": p.id, "email": p.email, "roles": keys,
                                             "message": m, "import": import });
            (None, detail)
        })
        .collect();
    activity::record_many(
        conn,
        admin.centre_id,
        Some(admin.id),
        "person added",
        &entries,
    )
    .await
}

struct NewRow {
    id: Uuid,
    learner: Uuid,
    version: Uuid,
    major: Uuid,
    assessor: Uuid,
    trainee: Option<Uuid>,
    iqa: Option<Uuid>,
    start: Option<Date>,
    planned_end: Option<Date>,
    employer: Option<Uuid>,
}

/// The new enrolments, as `audits::enrol` makes each: Not Yet Achieved with its first
/// history entry, "enrolled" in the log, and the first audit; set-based.
async fn enrol(
    conn: &mut PgConnection,
    admin: &User,
    import: Uuid,
    rows: &[NewRow],
) -> DbResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&NewRow) -> Uuid| rows.iter().map(f).collect::<Vec<Uuid>>();
    let opt = |f: fn(&NewRow) -> Option<Uuid>| rows.iter().map(f).collect::<Vec<Option<Uuid>>>();
    let day = |f: fn(&NewRow) -> Option<Date>| rows.iter().map(f).collect::<Vec<Option<Date>>>();
    let ids = col(|r| r.id);
    sqlx::query!(
        "INSERT INTO enrolments (id, centre_id, learner_id, version_id, major_id, assessor_id, \
                trainee_assessor_id, iqa_id, status, start_date, planned_end_date, employer_id) \
         SELECT e.id, $1, e.learner, e.version, e.major, e.assessor, e.trainee, e.iqa, $2, e.start, \
                e.planned_end, e.employer \
           FROM UNNEST($3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::uuid[], $8::uuid[], $9::uuid[], \
                       $10::date[], $11::date[], $12::uuid[]) \
                AS e(id, learner, version, major, assessor, trainee, iqa, start, planned_end, employer)",
        admin.centre_id,
        Status::NotYetAchieved.key(),
        &ids,
        &col(|r| r.learner),
        &col(|r| r.version),
        &col(|r| r.major),
        &col(|r| r.assessor),
        &opt(|r| r.trainee) as &[Option<Uuid>],
        &opt(|r| r.iqa) as &[Option<Uuid>],
        &day(|r| r.start) as &[Option<Date>],
        &day(|r| r.planned_end) as &[Option<Date>],
        &opt(|r| r.employer) as &[Option<Uuid>]
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO enrolment_status_history (enrolment_id, from_status, to_status, actor_id, reason, at) \
         SELECT e, NULL, $2, $3, 'enrolled', clock_timestamp() FROM UNNEST($1::uuid[]) AS e",
        &ids,
        Status::NotYetAchieved.key(),
        admin.id
    )
    .execute(&mut *conn)
    .await?;
    let entries: Vec<(Option<Uuid>, serde_json::Value)> = rows
        .iter()
        .map(|r| {
            let detail =
                serde_json::json!({ "major": r.major, "version": r.version, "import": import });
            (Some(r.id), detail)
        })
        .collect();
    activity::record_many(conn, admin.centre_id, Some(admin.id), "enrolled", &entries).await?;
    super::bulk_audit::audit_new(conn, &ids, Some(admin.id)).await
}

/// An enrolment's programme dates and employer, as the file gives them.
async fn set_dates(conn: &mut PgConnection, enrolment: Uuid, a: &Assignment) -> DbResult<()> {
    sqlx::query!(
        "UPDATE enrolments SET start_date = $2, planned_end_date = $3, employer_id = $4 WHERE id = $1 \
           AND (start_date, planned_end_date, employer_id) IS DISTINCT FROM ($2, $3, $4)",
        enrolment,
        a.start,
        a.planned_end,
        a.employer
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn change_person(
    conn: &mut PgConnection,
    admin: &User,
    import: Uuid,
    id: Uuid,
    (was_name, name): (&String, &String),
    (was_roles, roles): (&Vec<Role>, &Vec<Role>),
) -> DbResult<()> {
    let mut changes = serde_json::Map::new();
    if was_name != name {
        sqlx::query!(
            "UPDATE users SET display_name = $2, updated_at = now() WHERE id = $1",
            id,
            name
        )
        .execute(&mut *conn)
        .await?;
        changes.insert(
            "name".into(),
            serde_json::json!({ "from": was_name, "to": name }),
        );
    }
    if was_roles != roles {
        let person = users::get(&mut *conn, id).await?;
        accounts::set_roles(conn, &person, roles).await?;
        let keys = |r: &[Role]| r.iter().map(|r| r.key()).collect::<Vec<_>>();
        changes.insert(
            "roles".into(),
            serde_json::json!({ "from": keys(was_roles), "to": keys(roles) }),
        );
    }
    activity::record(
        &mut *conn,
        admin.centre_id,
        None,
        Some(admin.id),
        "person changed",
        serde_json::json!({ "user": id, "changes": changes, "import": import }),
    )
    .await?;
    Ok(())
}

/// The people an import added: id, name, email.
pub(crate) async fn invited(
    db: impl PgExecutor<'_>,
    admin: &User,
    import: Uuid,
) -> DbResult<Vec<(Uuid, String, String)>> {
    let rows = sqlx::query!(
        "SELECT u.id, u.display_name, u.email FROM import_invitations i \
           JOIN users u ON u.id = i.user_id \
          WHERE i.import_id = $1 AND u.centre_id = $2 ORDER BY u.display_name, u.id",
        import,
        admin.centre_id
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.display_name, r.email))
        .collect())
}
