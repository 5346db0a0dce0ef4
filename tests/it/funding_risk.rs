//! The funding-risk report and the apprenticeship flags of the other reports (issue 14,
//! points 3 and 5): apprenticeships behind on OTJ hours, with a review overdue, or on a
//! break, each filtered, sorted, counted on the dashboard and exported exactly.
use axum::http::StatusCode;
use time::Duration;
use uuid::Uuid;

use crate::apprenticeship::{iso, scene, Scene};
use crate::http::{form_post_as, get, send};

async fn enrolment_of(s: &Scene, email: &str) -> Uuid {
    sqlx::query_scalar(
        "SELECT e.id FROM enrolments e JOIN users u ON u.id = e.learner_id WHERE u.email = $1 LIMIT 1",
    )
    .bind(email)
    .fetch_one(&s.pool)
    .await
    .expect("an enrolment")
}

async fn plan(s: &Scene, enrolment: Uuid, weeks_ago: i64) {
    let r = send(
        s.state.clone(),
        form_post_as(
            &s.admin,
            &format!("/enrolments/{enrolment}/apprenticeship"),
            &format!(
                "start={}&planned_end={}&weekly_hours=30",
                iso(s.today - Duration::weeks(weeks_ago)),
                iso(s.today + Duration::weeks(40))
            ),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

async fn admin_page(s: &Scene, uri: &str) -> String {
    let r = send(s.state.clone(), get(uri, Some(&s.admin))).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}");
    r.body
}

#[tokio::test]
async fn the_report_lists_apprenticeships_at_risk_by_kind_and_exports_exactly_them() {
    let s = scene().await;
    let amira = s.enrolment;
    let ben = enrolment_of(&s, "ben@demo.attest.test").await;
    let zoe = enrolment_of(&s, "zoe@demo.attest.test").await;
    // Amira: 20 weeks in with nothing approved, no review: behind and overdue.
    plan(&s, amira, 20).await;
    // Ben: starts today: nothing due yet.
    plan(&s, ben, 0).await;
    // Zoe: two weeks in, on a break since last week.
    plan(&s, zoe, 2).await;
    let r = send(
        s.state.clone(),
        form_post_as(
            &s.admin,
            &format!("/enrolments/{zoe}/apprenticeship/breaks"),
            &format!(
                "from={}&to={}&reason=Illness",
                iso(s.today - Duration::days(7)),
                iso(s.today + Duration::days(7))
            ),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let named = |body: &str| {
        // Zoë's name as the page writes it.
        let mut names: Vec<&str> = [("Amira", ">Amira "), ("Ben", ">Ben "), ("Zoe", ">Zoë ")]
            .into_iter()
            .filter(|(_, shown)| body.contains(shown))
            .map(|(n, _)| n)
            .collect();
        names.sort();
        names
    };
    let any = admin_page(&s, "/admin/funding-risk").await;
    assert_eq!(named(&any), ["Amira", "Zoe"], "any risk: {any}");
    assert!(any.contains("On a break in learning"));
    let overdue = admin_page(&s, "/admin/funding-risk?risk=overdue").await;
    assert_eq!(named(&overdue), ["Amira"]);
    let on_break = admin_page(&s, "/admin/funding-risk?risk=break").await;
    assert_eq!(named(&on_break), ["Zoe"]);
    let all = admin_page(&s, "/admin/funding-risk?risk=all&sort=review&dir=desc").await;
    assert_eq!(named(&all), ["Amira", "Ben", "Zoe"]);
    let (ben_at, amira_at) = (all.find(">Ben ").unwrap(), all.find(">Amira ").unwrap());
    assert!(ben_at < amira_at, "the latest review due first");
    assert!(all.contains("aria-sort=\"descending\""));
    let bad = admin_page(&s, "/admin/funding-risk?risk=flood").await;
    assert!(
        bad.contains("is not a funding risk"),
        "said beside its field"
    );

    let csv = send(
        s.state.clone(),
        get("/admin/funding-risk.csv?risk=overdue", Some(&s.admin)),
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 2, "the header and Amira: {}", csv.body);
    assert!(lines[0].starts_with("enrolment_id,learner,assessor"));
    assert!(lines[1].starts_with(&amira.to_string()));

    let dashboard = admin_page(&s, "/admin/dashboard").await;
    assert!(
        dashboard.contains("<span class=\"tile-figure\">2</span> apprenticeships at funding risk"),
        "{dashboard}"
    );

    // The enrolment reports filter and flag the same apprenticeships.
    let behind = admin_page(&s, "/admin/enrolments?otj=1").await;
    assert_eq!(named(&behind), ["Amira", "Zoe"]);
    assert!(behind.contains("Behind on off-the-job hours"));
    let review = admin_page(&s, "/admin/enrolments?review=1").await;
    assert_eq!(named(&review), ["Amira"]);
    let caseload = send(s.state.clone(), get("/caseload", Some(&s.assessor))).await;
    assert!(
        caseload.body.contains("Review overdue"),
        "flagged on the caseload"
    );
    let export = send(
        s.state.clone(),
        get("/admin/enrolments.csv?review=1", Some(&s.admin)),
    )
    .await;
    let rows: Vec<&str> = export.body.lines().collect();
    assert_eq!(rows.len(), 2, "{}", export.body);
    assert!(rows[0].ends_with("behind_on_otj,review_overdue,review_unsigned_after_14_days"));
    assert!(rows[1].ends_with("yes,yes,no"), "{}", rows[1]);
}
