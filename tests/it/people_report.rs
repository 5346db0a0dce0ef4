//! The people list as a report (issue 12): every order and filter answers exactly the
//! people it should, the pages cover everyone once, the CSV is exactly the filtered and
//! sorted set, input that cannot be read is said and never a failure, and no admin is
//! ever shown another centre's people.
use std::collections::HashSet;

use attest::db::centres::{self, Centre};
use attest::db::users::{self, Role};
use attest::testing::test_pool;
use attest::web::auth::password;
use attest::web::AppState;
use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::person;
use crate::http::{form_post, form_post_as, get, send, signed_in, Reply};

const PASSWORD: &str = "a long enough password";

/// One person as the fixture made them.
#[derive(Debug, Clone)]
struct Made {
    id: Uuid,
    name: String,
    email: String,
    roles: Vec<Role>,
    active: bool,
    /// Minutes before the fixture's moment that they were added (ties on purpose).
    added_ago: i64,
}

struct Centres {
    pool: PgPool,
    acme: Centre,
    made: Vec<Made>,
    bravo: Vec<Made>,
}

const ROLE_SETS: [&[Role]; 7] = [
    &[Role::Learner],
    &[Role::Learner],
    &[Role::Assessor],
    &[Role::TraineeAssessor],
    &[Role::Iqa],
    &[Role::Assessor, Role::Iqa],
    &[Role::Admin, Role::Iqa],
];

/// Acme: its admin Ada and 63 people of every kind and role, some deactivated, added at
/// known moments (a few at the same moment); names sort apart from the order they were
/// made in, and some begin as a spreadsheet formula would. Bravo: its admin Bea and
/// three people of its own, one sharing a name with one of Acme's.
async fn centres() -> Centres {
    let pool = test_pool().await;
    let hash = password::hash(PASSWORD).expect("hash");
    let acme = centres::create(&pool, "acme", "Acme Training")
        .await
        .expect("centre");
    let bravo = centres::create(&pool, "bravo", "Bravo College")
        .await
        .expect("centre");
    let mut made = Vec::new();
    let ada = person(
        &pool,
        acme.id,
        "ada@acme.test",
        "Ada Admin",
        &[Role::Admin],
        &hash,
    )
    .await;
    made.push(Made {
        id: ada,
        name: "Ada Admin".into(),
        email: "ada@acme.test".into(),
        roles: vec![Role::Admin],
        active: true,
        added_ago: 0,
    });
    for i in 0..63usize {
        let name = match i {
            7 => "=HYPERLINK(\"http://evil.example\")".to_string(),
            8 => "+44 caller".to_string(),
            9 => "@mention".to_string(),
            10 => "-minus".to_string(),
            _ => format!(
                "{} {:02} {}",
                ["Kai", "ben", "Zoë", "amy"][i % 4],
                (i * 37) % 63,
                ["Ng", "Ōtaki", "Smith"][i % 3]
            ),
        };
        let email = format!("{}{i}@acme.test", ["m", "B", "a"][i % 3]);
        let mut roles = ROLE_SETS[i % ROLE_SETS.len()].to_vec();
        roles.sort();
        let id = person(&pool, acme.id, &email, &name, &roles, &hash).await;
        made.push(Made {
            id,
            name,
            email,
            roles,
            active: i % 5 != 3,
            added_ago: i64::try_from((i * 11) % 40 + 1).expect("minutes"),
        });
    }
    for (n, (email, name, roles)) in [
        ("bea@bravo.test", "Bea Bravo", &[Role::Admin][..]),
        ("q@bravo.test", "Quentin Bravo-Only", &[Role::Learner][..]),
        ("kai@bravo.test", "Kai 01 Ng", &[Role::Learner][..]),
        ("bob@bravo.test", "Bob Bravo", &[Role::Assessor][..]),
    ]
    .into_iter()
    .enumerate()
    {
        let id = person(&pool, bravo.id, email, name, roles, &hash).await;
        made.push(Made {
            id,
            name: name.into(),
            email: email.into(),
            roles: roles.to_vec(),
            active: true,
            added_ago: i64::try_from(n).expect("n"),
        });
    }
    let bravo_made = made.split_off(64);
    // The moments and the accounts' standing are set directly: deactivating is another
    // part of issue 12, and what is tested here is only how the list reads them.
    for m in made.iter().chain(&bravo_made) {
        sqlx::query(
            "UPDATE users SET active = $2, \
                    created_at = date_trunc('minute', now()) - make_interval(mins => $3::int) \
              WHERE id = $1",
        )
        .bind(m.id)
        .bind(m.active)
        .bind(i32::try_from(m.added_ago).expect("minutes"))
        .execute(&pool)
        .await
        .expect("standing and moment");
    }
    Centres {
        pool,
        acme,
        made,
        bravo: bravo_made,
    }
}

impl Centres {
    async fn get(&self, who: &str, uri: &str) -> Reply {
        let state = AppState::new(self.pool.clone());
        let cookie = signed_in(state.clone(), who, PASSWORD).await;
        send(state, get(uri, Some(&cookie))).await
    }

    async fn page(&self, uri: &str) -> String {
        let r = self.get("ada@acme.test", uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
        r.body
    }

    /// The ids of the people a page lists, in its order.
    async fn listed(&self, uri: &str) -> Vec<Uuid> {
        ids_in(&self.page(uri).await)
    }

    /// The CSV's rows (header first), read with a real CSV reader.
    async fn csv(&self, who: &str, uri: &str) -> Vec<Vec<String>> {
        let r = self.get(who, uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        let body = r.body.strip_prefix('\u{feff}').expect("a byte-order mark");
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(body.as_bytes())
            .records()
            .map(|r| r.expect("record").iter().map(str::to_string).collect())
            .collect()
    }

    /// The ids a CSV holds, in its order.
    async fn csv_ids(&self, uri: &str) -> Vec<Uuid> {
        let rows = self.csv("ada@acme.test", uri).await;
        assert_eq!(rows[0][0], "person_id");
        rows[1..]
            .iter()
            .map(|r| Uuid::parse_str(&r[0]).expect("an id"))
            .collect()
    }
}

/// The people a page lists, by the link on each name.
fn ids_in(body: &str) -> Vec<Uuid> {
    body.split("<th scope=\"row\"><a href=\"/admin/people/")
        .skip(1)
        .map(|rest| Uuid::parse_str(&rest[..36]).expect("a person's id"))
        .collect()
}

/// `lower()` in the C locale the tests' cluster uses: ASCII letters only.
fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// The fixture's people in the list's order for a sort key (ascending), with the
/// name and then the id breaking ties; descending is the whole list reversed.
fn ordered(people: &[&Made], column: &str, descending: bool) -> Vec<Uuid> {
    let mut rows: Vec<&Made> = people.to_vec();
    rows.sort_by(|a, b| {
        let by_name = || lower(&a.name).cmp(&lower(&b.name)).then(a.id.cmp(&b.id));
        match column {
            "name" => by_name(),
            "email" => lower(&a.email).cmp(&lower(&b.email)),
            "roles" => a.roles.cmp(&b.roles).then_with(by_name),
            "status" => (!a.active).cmp(&!b.active).then_with(by_name),
            "added" => b.added_ago.cmp(&a.added_ago).then(a.id.cmp(&b.id)),
            other => panic!("no column {other}"),
        }
    });
    if descending {
        rows.reverse();
    }
    rows.into_iter().map(|m| m.id).collect()
}

#[tokio::test]
async fn every_order_both_ways_pages_through_exactly_the_centres_people_once() {
    let c = centres().await;
    let acme: Vec<&Made> = c.made.iter().collect();
    assert_eq!(acme.len(), 64);
    for column in ["name", "email", "roles", "status", "added"] {
        for dir in ["asc", "desc"] {
            let mut seen = Vec::new();
            for page in 1..=3 {
                let uri = format!("/admin/people?sort={column}&dir={dir}&size=25&page={page}");
                let body = c.page(&uri).await;
                assert!(
                    body.contains("of <strong>64</strong> people"),
                    "{uri}: the total"
                );
                seen.extend(ids_in(&body));
            }
            assert_eq!(
                seen,
                ordered(&acme, column, dir == "desc"),
                "sort={column}&dir={dir}"
            );
            let unique: HashSet<&Uuid> = seen.iter().collect();
            assert_eq!(unique.len(), 64, "everyone once");
        }
    }
    // The natural direction: names from A, the newest added first.
    assert_eq!(
        c.listed("/admin/people?size=100").await,
        ordered(&acme, "name", false)
    );
    assert_eq!(
        c.listed("/admin/people?sort=added&size=100").await,
        ordered(&acme, "added", true)
    );
    // The sorted column says so, to assistive technology too.
    let body = c.page("/admin/people?sort=roles").await;
    assert!(body.contains(r#"aria-sort="ascending"><a id="sort-roles""#));
    assert_eq!(body.matches("aria-sort=").count(), 1);
}

#[tokio::test]
async fn each_filter_and_the_search_answer_exactly_the_people_they_name() {
    let c = centres().await;
    let acme: Vec<&Made> = c.made.iter().collect();
    let only = |f: &dyn Fn(&Made) -> bool| -> Vec<&Made> {
        acme.iter().copied().filter(|m| f(m)).collect()
    };
    let mut cases: Vec<(String, Vec<&Made>)> = Vec::new();
    for role in [
        Role::Learner,
        Role::TraineeAssessor,
        Role::Assessor,
        Role::Iqa,
        Role::Admin,
    ] {
        cases.push((
            format!("role={}", role.key()),
            only(&|m| m.roles.contains(&role)),
        ));
    }
    cases.push(("status=active".into(), only(&|m| m.active)));
    cases.push(("status=deactivated".into(), only(&|m| !m.active)));
    cases.push(("q=%C5%8Ctaki".into(), only(&|m| m.name.contains("Ōtaki"))));
    cases.push((
        "q=ZO".into(),
        only(&|m| lower(&m.name).contains("zo") || lower(&m.email).contains("zo")),
    ));
    cases.push((
        "q=b1".into(),
        only(&|m| lower(&m.name).contains("b1") || lower(&m.email).contains("b1")),
    ));
    cases.push(("q=%40acme".into(), acme.clone()));
    cases.push(("q=50%25".into(), Vec::new()));
    cases.push((
        "role=iqa&status=deactivated&q=smith".into(),
        only(&|m| m.roles.contains(&Role::Iqa) && !m.active && lower(&m.name).contains("smith")),
    ));
    for (query, expected) in cases {
        assert!(
            query.starts_with("q=50") || !expected.is_empty() || query.contains('&'),
            "{query}: the fixture has someone to find"
        );
        let listed = c.listed(&format!("/admin/people?size=200&{query}")).await;
        assert_eq!(listed, ordered(&expected, "name", false), "{query}");
        let body = c.page(&format!("/admin/people?{query}")).await;
        if expected.is_empty() {
            assert!(body.contains("No people match these filters"), "{query}");
        }
        let in_csv = c.csv_ids(&format!("/admin/people.csv?{query}")).await;
        assert_eq!(in_csv, listed, "{query}: the CSV holds the same people");
    }
    // A role given later is a role the list finds and orders by.
    let kai = c
        .made
        .iter()
        .find(|m| m.roles == [Role::Assessor] && m.active)
        .expect("an assessor");
    users::grant_role(&c.pool, kai.id, Role::Admin)
        .await
        .expect("granted");
    let admins = c.listed("/admin/people?role=admin&size=200").await;
    assert!(admins.contains(&kai.id));
    let by_roles = c.listed("/admin/people?sort=roles&size=200").await;
    let mut now: Vec<Made> = c.made.clone();
    for m in &mut now {
        if m.id == kai.id {
            m.roles = vec![Role::Assessor, Role::Admin];
        }
    }
    let now: Vec<&Made> = now.iter().collect();
    assert_eq!(by_roles, ordered(&now, "roles", false));
}

#[tokio::test]
async fn the_csv_is_exactly_the_filtered_sorted_set_with_ids_and_safe_cells() {
    let c = centres().await;
    // Every page of the view, whatever page and size the link was on.
    let rows = c
        .csv(
            "ada@acme.test",
            "/admin/people.csv?status=active&sort=email&dir=desc&size=25&page=2",
        )
        .await;
    assert_eq!(
        rows[0],
        [
            "person_id",
            "name",
            "email",
            "kind",
            "roles",
            "role_keys",
            "account",
            "active",
            "password_set",
            "added_at"
        ]
    );
    let active: Vec<&Made> = c.made.iter().filter(|m| m.active).collect();
    let ids: Vec<Uuid> = rows[1..]
        .iter()
        .map(|r| Uuid::parse_str(&r[0]).expect("id"))
        .collect();
    assert_eq!(ids, ordered(&active, "email", true));
    for row in &rows[1..] {
        let m = c
            .made
            .iter()
            .find(|m| m.id.to_string() == row[0])
            .expect("made");
        let expected_name = if m.name.starts_with(['=', '+', '-', '@']) {
            format!("'{}", m.name)
        } else {
            m.name.clone()
        };
        assert_eq!(row[1], expected_name, "formulas are neutralised");
        assert_eq!(row[2], m.email);
        let keys: Vec<&str> = m.roles.iter().map(|r| r.key()).collect();
        assert_eq!(row[5], keys.join(" "));
        assert_eq!(row[7], "yes");
        assert!(row[9].len() == 20 && row[9].ends_with('Z'), "{}", row[9]);
    }
    assert!(rows.iter().any(|r| r[1].starts_with("'=HYPERLINK")));
    // Every cell a spreadsheet would run, whatever its first character.
    let everyone = c.csv("ada@acme.test", "/admin/people.csv").await;
    for name in [
        "'+44 caller",
        "'@mention",
        "'-minus",
        "'=HYPERLINK(\"http://evil.example\")",
    ] {
        assert!(everyone.iter().any(|r| r[1] == name), "{name}");
    }
    // Nothing at all matches: the header alone.
    let none = c
        .csv("ada@acme.test", "/admin/people.csv?q=nobody-at-all")
        .await;
    assert_eq!(none.len(), 1);
}

#[tokio::test]
async fn input_that_cannot_be_read_is_said_beside_its_field_never_a_failure() {
    let c = centres().await;
    for (query, says) in [
        (
            "sort=salary",
            "no column “salary” to sort by; sorted by name instead",
        ),
        ("page=-3", "The page is a whole number from 1"),
        ("page=abc", "The page is a whole number from 1"),
        ("size=13", "Rows per page are 25, 50, 100 or 200"),
        ("dir=sideways", "The order is asc or desc"),
        ("role=wizard", "“wizard” is not a role"),
        ("role=%00", "is not a role"),
        ("status=asleep", "“asleep” is not an account status"),
        ("page=99", "There is no page 99: there are 2 pages"),
        ("q=%00%FF%FE", ""),
        ("q=%27%3B+DROP+TABLE+users%3B--", ""),
    ] {
        let r = c
            .get("ada@acme.test", &format!("/admin/people?{query}"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{query}");
        assert!(r.body.contains(says), "{query}: {says}");
        if !says.is_empty() {
            assert!(r.body.contains("error-summary"), "{query}: summary on top");
        }
        let csv = c
            .get("ada@acme.test", &format!("/admin/people.csv?{query}"))
            .await;
        assert_eq!(csv.status, StatusCode::OK, "{query} CSV");
    }
    // A bad value is left out and the rest of the view stands.
    let listed = c
        .listed("/admin/people?role=wizard&status=deactivated&size=200")
        .await;
    let deactivated: Vec<&Made> = c.made.iter().filter(|m| !m.active).collect();
    assert_eq!(listed, ordered(&deactivated, "name", false));
    // What was typed stays in the form, escaped.
    let body = c.page("/admin/people?q=%3Cb%3EZo%C3%AB").await;
    assert!(
        body.contains(r#"value="&#60;b&#62;Zoë""#) || body.contains(r#"value="&lt;b&gt;Zoë""#),
        "kept and escaped"
    );
}

#[tokio::test]
async fn another_centres_people_never_appear_even_searched_for_by_name() {
    let c = centres().await;
    let acme_ids: HashSet<Uuid> = c.made.iter().map(|m| m.id).collect();
    let bravo_ids: Vec<Uuid> = {
        let all: Vec<&Made> = c.bravo.iter().collect();
        ordered(&all, "name", false)
    };
    let state = AppState::new(c.pool.clone());
    let bea = signed_in(state.clone(), "bea@bravo.test", PASSWORD).await;
    let ada = signed_in(state.clone(), "ada@acme.test", PASSWORD).await;
    let listed = |cookie: &str, uri: &str| {
        let (state, cookie, uri) = (state.clone(), cookie.to_string(), uri.to_string());
        async move {
            let r = send(state, get(&uri, Some(&cookie))).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}");
            r.body
        }
    };
    let body = listed(&bea, "/admin/people?size=200").await;
    assert_eq!(ids_in(&body), bravo_ids);
    for uri in [
        "/admin/people?q=Kai&size=200",
        "/admin/people?q=acme.test&size=200",
        "/admin/people?role=iqa&size=200",
        "/admin/people.csv?q=acme",
        "/admin/people.csv",
    ] {
        let body = listed(&bea, uri).await;
        assert!(!body.contains("@acme.test"), "{uri}: no Acme person");
        assert!(ids_in(&body).iter().all(|id| !acme_ids.contains(id)));
    }
    // And Acme's admin, looking for Bravo's.
    let body = listed(&ada, "/admin/people?q=Bravo&size=200").await;
    assert!(body.contains("No people match these filters"));
    let body = listed(&ada, "/admin/people.csv?q=bravo").await;
    assert!(!body.contains("Bravo"));
    // The rows' actions refuse another centre's people: 404, nothing changed.
    let theirs = c.bravo[1].id;
    let r = send(
        state,
        form_post_as(&ada, &format!("/admin/people/{theirs}/unlock"), ""),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_the_centres_admins_have_the_list_and_its_csv() {
    let c = centres().await;
    let learner = c
        .made
        .iter()
        .find(|m| m.roles == [Role::Learner] && m.active)
        .expect("a learner");
    let assessor = c
        .made
        .iter()
        .find(|m| m.roles == [Role::Assessor, Role::Iqa] && m.active)
        .expect("an assessor and IQA");
    for who in [&learner.email, &assessor.email] {
        for uri in [
            "/admin/people",
            "/admin/people.csv",
            "/admin/people?sort=roles",
        ] {
            assert_eq!(
                c.get(who, uri).await.status,
                StatusCode::NOT_FOUND,
                "{who} {uri}"
            );
        }
    }
    let anonymous = send(
        AppState::new(c.pool.clone()),
        get("/admin/people.csv", None),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn each_row_keeps_its_actions_and_names_link_to_the_person() {
    let c = centres().await;
    let state = AppState::new(c.pool.clone());
    let ada = signed_in(state.clone(), "ada@acme.test", PASSWORD).await;
    // Someone added by the form: no password yet, their email queued.
    let added = send(
        state.clone(),
        form_post_as(
            &ada,
            "/admin/people",
            "display_name=Wiremu+Added&email=wiremu%40acme.test&kind=learner",
        ),
    )
    .await;
    assert_eq!(added.status, StatusCode::CREATED);
    // Someone whose sign-in failed.
    let locked = c
        .made
        .iter()
        .find(|m| m.active && m.roles == [Role::Iqa])
        .expect("an IQA");
    let failed = send(
        state.clone(),
        form_post(
            "/login",
            &format!(
                "email={}&password=wrong+password+here",
                locked.email.replace('@', "%40")
            ),
            "192.0.2.44",
        ),
    )
    .await;
    assert_ne!(failed.status, StatusCode::SEE_OTHER);

    let body = c.page("/admin/people?q=wiremu").await;
    assert!(body.contains(r#"<a class="button" href="/admin/people/new">Add a person</a>"#));
    assert!(body.contains("Waiting for the person to set a password"));
    assert!(body.contains("Set-password email:"), "the email's state");
    assert!(body.contains("Send a new set-password link"));
    let wiremu = ids_in(&body);
    assert_eq!(wiremu.len(), 1);
    assert!(body.contains(&format!("/admin/people/{}/password-link", wiremu[0])));
    assert!(body.contains(&format!(
        r#"<th scope="row"><a href="/admin/people/{}">Wiremu Added</a></th>"#,
        wiremu[0]
    )));

    let body = c
        .page(&format!(
            "/admin/people?q={}",
            locked.email.replace('@', "%40")
        ))
        .await;
    assert!(
        body.contains("Unlock sign-in"),
        "failed sign-ins can be cleared"
    );
    let r = send(
        state.clone(),
        form_post_as(&ada, &format!("/admin/people/{}/unlock", locked.id), ""),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let body = c
        .page(&format!(
            "/admin/people?q={}",
            locked.email.replace('@', "%40")
        ))
        .await;
    assert!(!body.contains("Unlock sign-in"), "cleared");
    // Someone with a password of their own is not offered a link.
    let body = c.page("/admin/people?q=ada%40acme").await;
    assert!(body.contains("Active") && !body.contains("Send a new set-password link"));
    let _ = &c.acme;
}

#[tokio::test]
async fn with_htmx_only_the_results_come_back_with_the_order_and_problems_beside() {
    let c = centres().await;
    let state = AppState::new(c.pool.clone());
    let cookie = signed_in(state.clone(), "ada@acme.test", PASSWORD).await;
    let mut request = get("/admin/people?sort=added&role=bogus", Some(&cookie));
    request
        .headers_mut()
        .insert("hx-request", "true".parse().expect("header"));
    request
        .headers_mut()
        .insert("hx-target", "report-results".parse().expect("header"));
    let r = send(state.clone(), request).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body
            .trim_start()
            .starts_with(r#"<div id="report-results""#),
        "{}",
        &r.body[..200.min(r.body.len())]
    );
    assert!(!r.body.contains("<html"), "a fragment, not a page");
    assert!(r.body.contains(r#"<div id="report-order" hx-swap-oob="true"><input type="hidden" name="sort" value="added">"#));
    assert!(
        r.body
            .contains(r#"id="report-problems" hx-swap-oob="true""#)
            && r.body.contains("is not a role")
    );
    // Without htmx, the whole page: the filter form is a plain GET with the view in it.
    let page = send(
        state,
        get("/admin/people?sort=added&role=admin", Some(&cookie)),
    )
    .await;
    assert!(page
        .body
        .contains(r#"<form class="report-filters" method="get" action="/admin/people""#));
    assert!(page
        .body
        .contains(r#"<option value="admin" selected>Admin</option>"#));
    assert!(
        page.body
            .contains(r#"href="/admin/people.csv?role=admin&#38;sort=added""#),
        "the CSV of the same view"
    );
}
