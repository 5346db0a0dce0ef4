//! The relational copy of a version's items, written with one `UNNEST` insert per
//! table: an import of 1,500 criteria is a dozen statements, not thousands. Ids are
//! made here so that children can name their parents without reading anything back.
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use super::{DbError, DbResult};
use crate::domain::qualification::Qualification;

fn int(n: u32, what: &str) -> DbResult<i32> {
    i32::try_from(n).map_err(|_| DbError::Constraint {
        constraint: format!("{what}_range"),
        message: format!("{what} {n} is too large"),
    })
}

fn ord(n: usize) -> DbResult<i32> {
    i32::try_from(n).map_err(|_| DbError::Corrupt(format!("position {n} is too large")))
}

#[derive(Default)]
struct Units {
    id: Vec<Uuid>,
    ordinal: Vec<i32>,
    code: Vec<String>,
    title: Vec<String>,
    level: Vec<i16>,
    credits: Vec<i32>,
}

#[derive(Default)]
struct Outcomes {
    id: Vec<Uuid>,
    unit: Vec<Uuid>,
    ordinal: Vec<i32>,
    number: Vec<String>,
    title: Vec<String>,
}

#[derive(Default)]
struct Criteria {
    id: Vec<Uuid>,
    unit: Vec<Uuid>,
    outcome: Vec<Uuid>,
    ordinal: Vec<i32>,
    number: Vec<String>,
    text: Vec<String>,
}

pub(super) async fn insert_items(
    tx: &mut Transaction<'_, Postgres>,
    version_id: Uuid,
    q: &Qualification,
) -> DbResult<()> {
    let mut units = Units::default();
    let mut outcomes = Outcomes::default();
    let mut criteria = Criteria::default();
    for (ui, u) in q.units.iter().enumerate() {
        let unit_id = Uuid::now_v7();
        units.id.push(unit_id);
        units.ordinal.push(ord(ui)?);
        units.code.push(u.code.clone());
        units.title.push(u.title.clone());
        units.level.push(i16::from(u.level));
        units.credits.push(int(u.credits, "credits")?);
        for (oi, o) in u.outcomes.iter().enumerate() {
            let outcome_id = Uuid::now_v7();
            outcomes.id.push(outcome_id);
            outcomes.unit.push(unit_id);
            outcomes.ordinal.push(ord(oi)?);
            outcomes.number.push(o.number.clone());
            outcomes.title.push(o.title.clone());
            for c in &o.criteria {
                criteria.ordinal.push(ord(criteria.id.len())?);
                criteria.id.push(Uuid::now_v7());
                criteria.unit.push(unit_id);
                criteria.outcome.push(outcome_id);
                criteria.number.push(c.number.clone());
                criteria.text.push(c.text.clone());
            }
        }
    }
    let conn: &mut PgConnection = tx;
    sqlx::query!(
        "INSERT INTO units (id, version_id, ordinal, code, title, level, credits) \
         SELECT id, $1, ordinal, code, title, level, credits \
         FROM UNNEST($2::uuid[], $3::int4[], $4::text[], $5::text[], $6::int2[], $7::int4[]) \
           AS t(id, ordinal, code, title, level, credits)",
        version_id,
        &units.id[..],
        &units.ordinal[..],
        &units.code[..],
        &units.title[..],
        &units.level[..],
        &units.credits[..],
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO outcomes (id, unit_id, ordinal, number, title) \
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::int4[], $4::text[], $5::text[])",
        &outcomes.id[..],
        &outcomes.unit[..],
        &outcomes.ordinal[..],
        &outcomes.number[..],
        &outcomes.title[..],
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO criteria (id, version_id, unit_id, outcome_id, ordinal, number, text) \
         SELECT id, $1, unit_id, outcome_id, ordinal, number, text \
         FROM UNNEST($2::uuid[], $3::uuid[], $4::uuid[], $5::int4[], $6::text[], $7::text[]) \
           AS t(id, unit_id, outcome_id, ordinal, number, text)",
        version_id,
        &criteria.id[..],
        &criteria.unit[..],
        &criteria.outcome[..],
        &criteria.ordinal[..],
        &criteria.number[..],
        &criteria.text[..],
    )
    .execute(&mut *conn)
    .await?;
    insert_majors(conn, version_id, q, &units.id).await
}

#[derive(Default)]
struct Rules {
    major_id: Vec<Uuid>,
    major_ordinal: Vec<i32>,
    major_code: Vec<String>,
    major_title: Vec<String>,
    major_implicit: Vec<bool>,
    rs_id: Vec<Uuid>,
    rs_major: Vec<Uuid>,
    rs_ordinal: Vec<i32>,
    rs_title: Vec<String>,
    rs_min_credits: Vec<Option<i32>>,
    lc_rule_set: Vec<Uuid>,
    lc_ordinal: Vec<i32>,
    lc_level: Vec<i16>,
    lc_credits: Vec<i32>,
    bs_id: Vec<Uuid>,
    bs_rule_set: Vec<Uuid>,
    bs_ordinal: Vec<i32>,
    bu_set: Vec<Uuid>,
    bu_unit: Vec<Uuid>,
    g_id: Vec<Uuid>,
    g_rule_set: Vec<Uuid>,
    g_ordinal: Vec<i32>,
    g_title: Vec<String>,
    g_all: Vec<bool>,
    g_min_units: Vec<Option<i32>>,
    g_min_credits: Vec<Option<i32>>,
    g_max_credits: Vec<Option<i32>>,
    gu_group: Vec<Uuid>,
    gu_rule_set: Vec<Uuid>,
    gu_unit: Vec<Uuid>,
    gu_ordinal: Vec<i32>,
}

fn collect_rules(q: &Qualification, unit_ids: &[Uuid]) -> DbResult<Rules> {
    let unit = |ix: usize| {
        unit_ids.get(ix).copied().ok_or_else(|| {
            DbError::Corrupt(format!(
                "a rule names unit index {ix}, which does not exist"
            ))
        })
    };
    let opt = |n: Option<u32>, what: &str| n.map(|n| int(n, what)).transpose();
    let mut r = Rules::default();
    for (mi, m) in q.majors.iter().enumerate() {
        let major_id = Uuid::now_v7();
        r.major_id.push(major_id);
        r.major_ordinal.push(ord(mi)?);
        r.major_code.push(m.code.clone());
        r.major_title.push(m.title.clone());
        r.major_implicit.push(m.implicit);
        for (ri, rs) in m.rule_sets.iter().enumerate() {
            let rs_id = Uuid::now_v7();
            r.rs_id.push(rs_id);
            r.rs_major.push(major_id);
            r.rs_ordinal.push(ord(ri)?);
            r.rs_title.push(rs.title.clone());
            r.rs_min_credits.push(opt(rs.min_credits, "min_credits")?);
            for (li, lc) in rs.min_credits_at_level.iter().enumerate() {
                r.lc_rule_set.push(rs_id);
                r.lc_ordinal.push(ord(li)?);
                r.lc_level.push(i16::from(lc.level));
                r.lc_credits.push(int(lc.credits, "credits")?);
            }
            for (bi, set) in rs.barred.iter().enumerate() {
                let set_id = Uuid::now_v7();
                r.bs_id.push(set_id);
                r.bs_rule_set.push(rs_id);
                r.bs_ordinal.push(ord(bi)?);
                for &u in set {
                    r.bu_set.push(set_id);
                    r.bu_unit.push(unit(u)?);
                }
            }
            for (gi, g) in rs.groups.iter().enumerate() {
                let group_id = Uuid::now_v7();
                r.g_id.push(group_id);
                r.g_rule_set.push(rs_id);
                r.g_ordinal.push(ord(gi)?);
                r.g_title.push(g.title.clone());
                r.g_all.push(g.all);
                r.g_min_units.push(opt(g.min_units, "min_units")?);
                r.g_min_credits.push(opt(g.min_credits, "min_credits")?);
                r.g_max_credits.push(opt(g.max_credits, "max_credits")?);
                for (pos, &u) in g.units.iter().enumerate() {
                    r.gu_group.push(group_id);
                    r.gu_rule_set.push(rs_id);
                    r.gu_unit.push(unit(u)?);
                    r.gu_ordinal.push(ord(pos)?);
                }
            }
        }
    }
    Ok(r)
}

async fn insert_majors(
    conn: &mut PgConnection,
    version_id: Uuid,
    q: &Qualification,
    unit_ids: &[Uuid],
) -> DbResult<()> {
    let r = collect_rules(q, unit_ids)?;
    sqlx::query!(
        "INSERT INTO majors (id, version_id, ordinal, code, title, implicit) \
         SELECT id, $1, ordinal, code, title, implicit \
         FROM UNNEST($2::uuid[], $3::int4[], $4::text[], $5::text[], $6::bool[]) AS t(id, ordinal, code, title, implicit)",
        version_id,
        &r.major_id[..],
        &r.major_ordinal[..],
        &r.major_code[..],
        &r.major_title[..],
        &r.major_implicit[..],
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO rule_sets (id, major_id, version_id, ordinal, title, min_credits) \
         SELECT id, major_id, $1, ordinal, title, min_credits \
         FROM UNNEST($2::uuid[], $3::uuid[], $4::int4[], $5::text[], $6::int4[]) AS t(id, major_id, ordinal, title, min_credits)",
        version_id,
        &r.rs_id[..],
        &r.rs_major[..],
        &r.rs_ordinal[..],
        &r.rs_title[..],
        &r.rs_min_credits as &[Option<i32>],
    )
    .execute(&mut *conn)
    .await?;
    if !r.lc_rule_set.is_empty() {
        sqlx::query!(
            "INSERT INTO rule_set_level_credits (rule_set_id, ordinal, level, credits) \
             SELECT * FROM UNNEST($1::uuid[], $2::int4[], $3::int2[], $4::int4[])",
            &r.lc_rule_set[..],
            &r.lc_ordinal[..],
            &r.lc_level[..],
            &r.lc_credits[..],
        )
        .execute(&mut *conn)
        .await?;
    }
    if !r.bs_id.is_empty() {
        sqlx::query!(
            "INSERT INTO barred_sets (id, rule_set_id, version_id, ordinal) \
             SELECT id, rule_set_id, $1, ordinal FROM UNNEST($2::uuid[], $3::uuid[], $4::int4[]) AS t(id, rule_set_id, ordinal)",
            version_id,
            &r.bs_id[..],
            &r.bs_rule_set[..],
            &r.bs_ordinal[..],
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query!(
            "INSERT INTO barred_set_units (barred_set_id, unit_id, version_id) \
             SELECT set_id, unit_id, $1 FROM UNNEST($2::uuid[], $3::uuid[]) AS t(set_id, unit_id)",
            version_id,
            &r.bu_set[..],
            &r.bu_unit[..],
        )
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query!(
        "INSERT INTO rule_groups (id, rule_set_id, version_id, ordinal, title, all_units, min_units, min_credits, max_credits) \
         SELECT id, rule_set_id, $1, ordinal, title, all_units, min_units, min_credits, max_credits \
         FROM UNNEST($2::uuid[], $3::uuid[], $4::int4[], $5::text[], $6::bool[], $7::int4[], $8::int4[], $9::int4[]) \
           AS t(id, rule_set_id, ordinal, title, all_units, min_units, min_credits, max_credits)",
        version_id,
        &r.g_id[..],
        &r.g_rule_set[..],
        &r.g_ordinal[..],
        &r.g_title[..],
        &r.g_all[..],
        &r.g_min_units as &[Option<i32>],
        &r.g_min_credits as &[Option<i32>],
        &r.g_max_credits as &[Option<i32>],
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO rule_group_units (group_id, rule_set_id, unit_id, version_id, ordinal) \
         SELECT group_id, rule_set_id, unit_id, $1, ordinal \
         FROM UNNEST($2::uuid[], $3::uuid[], $4::uuid[], $5::int4[]) AS t(group_id, rule_set_id, unit_id, ordinal)",
        version_id,
        &r.gu_group[..],
        &r.gu_rule_set[..],
        &r.gu_unit[..],
        &r.gu_ordinal[..],
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
