//! Access (SPEC §8): every route the router serves × every kind of viewer. Whoever may
//! not see a thing gets 404, never 403, so ids are not confirmed to exist; a refused
//! form changes nothing; someone with no right to enrolment A is never shown its
//! learner. `routes_are_all_in_the_matrix` makes a new route fail until it has a row.
//!
//! To add a route: add a row to `pages()`, `account_forms()` or `portfolio_forms()` with
//! the answer each viewer gets, in the column order of `VIEWERS`:
//!   200 page · 201 created · 303 done (redirect) · in (sent to sign in) ·
//!   404 not there for them · 409 the domain refuses · 422 form error
use axum::http::Method;
use uuid::Uuid;

mod routes;
mod run;
mod world;

use run::{report, run, Outcome, Payload};
use world::{world, World, PASSWORD};

/// The kinds of viewer, relative to enrolment A (see `world`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Viewer {
    Anonymous,
    /// A's learner.
    Learner,
    /// Another learner of the same centre (A2's).
    OtherLearner,
    /// A's assessor (A2's too).
    Assessor,
    /// An assessor of the centre not assigned to A.
    OtherAssessor,
    /// A's trainee assessor.
    Trainee,
    /// A's IQA.
    Iqa,
    /// An IQA of the centre not assigned to A (A2's).
    OtherIqa,
    /// The centre's admin.
    Admin,
    /// An admin of another centre.
    ForeignAdmin,
    /// A learner of another centre (B's).
    ForeignLearner,
    /// An admin of the centre whose account was deactivated after signing in: their
    /// session must open nothing.
    Deactivated,
    /// A person of A's learner's employer, linked to A.
    Employer,
    /// Another person of the same employer, not linked to A.
    OtherEmployer,
}

/// The matrix's columns, in order.
pub const VIEWERS: [Viewer; 14] = [
    Viewer::Anonymous,
    Viewer::Learner,
    Viewer::OtherLearner,
    Viewer::Assessor,
    Viewer::OtherAssessor,
    Viewer::Trainee,
    Viewer::Iqa,
    Viewer::OtherIqa,
    Viewer::Admin,
    Viewer::ForeignAdmin,
    Viewer::ForeignLearner,
    Viewer::Deactivated,
    Viewer::Employer,
    Viewer::OtherEmployer,
];

impl Viewer {
    pub fn short(self) -> &'static str {
        match self {
            Viewer::Anonymous => "anon",
            Viewer::Learner => "lrn",
            Viewer::OtherLearner => "lrn2",
            Viewer::Assessor => "ass",
            Viewer::OtherAssessor => "ass2",
            Viewer::Trainee => "trn",
            Viewer::Iqa => "iqa",
            Viewer::OtherIqa => "iqa2",
            Viewer::Admin => "adm",
            Viewer::ForeignAdmin => "xadm",
            Viewer::ForeignLearner => "xlrn",
            Viewer::Deactivated => "gone",
            Viewer::Employer => "emp",
            Viewer::OtherEmployer => "emp2",
        }
    }

    /// Has no right to see enrolment A.
    pub fn outsider(self) -> bool {
        matches!(
            self,
            Viewer::Anonymous
                | Viewer::OtherLearner
                | Viewer::OtherAssessor
                | Viewer::OtherIqa
                | Viewer::ForeignAdmin
                | Viewer::ForeignLearner
                | Viewer::Deactivated
                | Viewer::OtherEmployer
        )
    }
}

/// One route (or one variant of it, named by `note`) and what each viewer gets.
pub struct Row {
    pub method: Method,
    /// The route exactly as `src/web` declares it.
    pub route: &'static str,
    pub note: &'static str,
    pub uri: fn(&World) -> String,
    pub payload: fn(&World) -> Payload,
    expect: &'static str,
    /// The page is for whoever holds a one-time link (a witness): it names the learner
    /// to them, whoever they are.
    pub for_link_holders: bool,
}

impl Row {
    pub fn expected(&self) -> Vec<Outcome> {
        let e: Vec<Outcome> = self.expect.split_whitespace().map(Outcome::parse).collect();
        assert_eq!(
            e.len(),
            VIEWERS.len(),
            "{} {} ({}): one answer per viewer",
            self.method,
            self.route,
            self.note
        );
        e
    }

    /// A variant of the route: mixed ids, another centre's, a refused step.
    fn note(self, note: &'static str) -> Row {
        Row { note, ..self }
    }

    fn method(self, method: Method) -> Row {
        Row { method, ..self }
    }

    fn link_holders(self) -> Row {
        Row {
            for_link_holders: true,
            ..self
        }
    }
}

fn get(route: &'static str, uri: fn(&World) -> String, expect: &'static str) -> Row {
    Row {
        method: Method::GET,
        route,
        note: "",
        uri,
        payload: |_| Payload::Empty,
        expect,
        for_link_holders: false,
    }
}

fn post(
    route: &'static str,
    uri: fn(&World) -> String,
    payload: fn(&World) -> Payload,
    expect: &'static str,
) -> Row {
    Row {
        method: Method::POST,
        route,
        note: "",
        uri,
        payload,
        expect,
        for_link_holders: false,
    }
}

const ENROLMENT: &str = "/enrolments/{id}";
const ITEM: &str = "/enrolments/{id}/evidence/{evidence}";
const FILE: &str = "/enrolments/{id}/evidence/{evidence}/files/{file}";
const ACCEPT: &str = "/enrolments/{id}/evidence/{evidence}/accept/{from}";
const TICKS: &str = "/enrolments/{id}/evidence/{evidence}/ticks";
const EVIDENCE: &str = "/enrolments/{id}/evidence";
const UPLOADS: &str = "/enrolments/{id}/uploads";
const UPLOAD: &str = "/enrolments/{id}/uploads/{upload}";
const IQA: &str = "/enrolments/{id}/iqa";
const ADDRESSED: &str = "/enrolments/{id}/iqa/{decision}/addressed";
const CLOSED: &str = "/enrolments/{id}/iqa/{decision}/closed";
const ASSIGNMENTS: &str = "/admin/enrolments/{id}/assignments";
const QUALIFICATION: &str = "/admin/qualifications/{id}";
const REASSIGN: &str = "/admin/people/{id}/reassign";
const REASSIGN_CONFIRM: &str = "/admin/people/{id}/reassign/confirm";
const PERSON: &str = "/admin/people/{id}";
const IMPORT: &str = "/admin/import/{id}";
const EMPLOYER: &str = "/admin/employers/{id}";
const IMPORT_EMAILS: &str = "/admin/import/{id}/emails";
const IMPORT_RESEND: &str = "/admin/import/{id}/resend";
const IMPORT_COUNTS: &str =
    "rows=1&new_people=1&updated_people=0&new_enrolments=0&updated_enrolments=0&unchanged_rows=0";
const DEACTIVATE: &str = "/admin/people/{id}/deactivate";
const REACTIVATE: &str = "/admin/people/{id}/reactivate";
const END_SESSIONS: &str = "/admin/people/{id}/end-sessions";

/// Every GET. All run in one copy of the world, and none may change it.
#[rustfmt::skip]
fn pages() -> Vec<Row> {
    vec![
        //                                                          anon lrn  lrn2 ass  ass2 trn  iqa  iqa2 adm  xadm xlrn gone emp  emp2
        get("/", |_| "/".into(),                                   "in   200  200  200  200  200  200  200  200  200  200  in   200  200"),
        get("/healthz", |_| "/healthz".into(),                     "200  200  200  200  200  200  200  200  200  200  200  200  200  200"),
        get("/readyz", |_| "/readyz".into(),                       "200  200  200  200  200  200  200  200  200  200  200  200  200  200"),
        get("/static/{file}", |_| "/static/attest.css".into(),     "200  200  200  200  200  200  200  200  200  200  200  200  200  200"),
        get("/sw.js", |_| "/sw.js".into(),                         "200  200  200  200  200  200  200  200  200  200  200  200  200  200"),
        get("/login", |_| "/login".into(),                         "200  200  200  200  200  200  200  200  200  200  200  200  200  200"),
        get("/help", |_| "/help".into(),                           "200  200  200  200  200  200  200  200  200  200  200  200  200  200"),
        get("/set-password/{token}", |w| format!("/set-password/{}", w.token),
                                                                   "200  200  200  200  200  200  200  200  200  200  200  200  200  200"),
        get("/forgot-password", |_| "/forgot-password".into(),     "200  200  200  200  200  200  200  200  200  200  200  200  200  200"),
        get("/forgot-password/sent", |_| "/forgot-password/sent".into(),
                                                                   "200  200  200  200  200  200  200  200  200  200  200  200  200  200"),
        // Everyone signed in changes their own password here.
        get("/account/password", |_| "/account/password".into(), "in   200  200  200  200  200  200  200  200  200  200  in   200  200"),
        // Admin pages: each admin sees their own centre.
        get("/admin/people", |_| "/admin/people".into(),           "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        get("/admin/people.csv", |_| "/admin/people.csv".into(),   "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        // The funding-risk report is the admin's, of their own centre.
        get("/admin/funding-risk", |_| "/admin/funding-risk?risk=all".into(),
                                                                   "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        get("/admin/funding-risk.csv", |_| "/admin/funding-risk.csv?risk=all".into(),
                                                                   "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        // Forged filters and searches narrow within the viewer's centre: another centre's
        // admin searching for A's learner, or filtering its log by A's people, is shown
        // none of A (the matrix checks no outsider is shown A's learner).
        get("/admin/people", |_| "/admin/people?q=Quill&role=learner&status=active&sort=roles".into(),
                                                                   "in   404  404  404  404  404  404  404  200  200  404  in   404  404")
            .note("A's learner's name searched"),
        get("/admin/people.csv", |_| "/admin/people.csv?q=Quill".into(),
                                                                   "in   404  404  404  404  404  404  404  200  200  404  in   404  404")
            .note("A's learner's name searched"),
        get("/admin/log", |_| "/admin/log".into(),                 "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        get("/admin/log.csv", |_| "/admin/log.csv".into(),         "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        get("/admin/log", |w| format!("/admin/log?who={}&kind=people", w.ids[&Viewer::Admin]),
                                                                   "in   404  404  404  404  404  404  404  200  200  404  in   404  404")
            .note("filtered by A's admin"),
        get("/admin/log.csv", |w| format!("/admin/log.csv?who={}", w.ids[&Viewer::Learner]),
                                                                   "in   404  404  404  404  404  404  404  200  200  404  in   404  404")
            .note("filtered by A's learner"),
        // Bulk onboarding: an upload is its own centre's.
        get("/admin/import", |_| "/admin/import".into(),           "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        get("/admin/import/template.csv", |_| "/admin/import/template.csv".into(),
                                                                   "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        get(IMPORT, |w| format!("/admin/import/{}", w.import_a),  "in   404  404  404  404  404  404  404  200  404  404  in   404  404"),
        get(IMPORT, |w| format!("/admin/import/{}?show=all&page=9", w.import_a),
                                                                   "in   404  404  404  404  404  404  404  200  404  404  in   404  404")
            .note("a page past the end"),
        get(IMPORT_EMAILS, |w| format!("/admin/import/{}/emails", w.import_a),
                                                                   "in   404  404  404  404  404  404  404  200  404  404  in   404  404"),
        // Employers: each centre's admins see their own.
        get("/admin/employers", |_| "/admin/employers".into(),     "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        get("/admin/employers/new", |_| "/admin/employers/new".into(),
                                                                   "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        get(EMPLOYER, |w| format!("/admin/employers/{}", w.employer_a),
                                                                   "in   404  404  404  404  404  404  404  200  404  404  in   404  404"),
        get("/admin/people/new", |_| "/admin/people/new".into(),   "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        // A person's page: their own centre's admins only.
        get(PERSON, |w| format!("/admin/people/{}", w.ids[&Viewer::Learner]),
                                                                   "in   404  404  404  404  404  404  404  200  404  404  in   404  404"),
        get(PERSON, |w| format!("/admin/people/{}", w.ids[&Viewer::ForeignLearner]),
                                                                   "in   404  404  404  404  404  404  404  404  200  404  in   404  404")
            .note("another centre's person"),
        get("/admin/enrolments/new", |_| "/admin/enrolments/new".into(),
                                                                   "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        get("/admin/qualifications", |_| "/admin/qualifications".into(),
                                                                   "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        get(ASSIGNMENTS, |w| format!("/admin/enrolments/{}/assignments", w.a.id),
                                                                   "in   404  404  404  404  404  404  404  200  404  404  in   404  404"),
        get(QUALIFICATION, |w| format!("/admin/qualifications/{}", w.a.version_id),
                                                                   "in   404  404  404  404  404  404  404  200  404  404  in   404  404"),
        // A member of staff's caseload, for their own centre's admin; a learner holds none.
        get(REASSIGN, |w| format!("/admin/people/{}/reassign", w.ids[&Viewer::Assessor]),
                                                                   "in   404  404  404  404  404  404  404  200  404  404  in   404  404"),
        get(REASSIGN, |w| format!("/admin/people/{}/reassign?role=iqa&page=2", w.ids[&Viewer::Iqa]),
                                                                   "in   404  404  404  404  404  404  404  200  404  404  in   404  404")
            .note("an IQA's, a page past the end"),
        get(REASSIGN, |w| format!("/admin/people/{}/reassign", w.ids[&Viewer::Learner]),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("a learner"),
        get(REASSIGN, |w| format!("/admin/people/{}/reassign", w.foreign_assessor),
                                                                   "in   404  404  404  404  404  404  404  404  200  404  in   404  404")
            .note("another centre's assessor"),
        // The portfolio: the enrolment's people and the centre's admin.
        get(ENROLMENT, |w| format!("/enrolments/{}", w.a.id),     "in   200  404  200  404  200  200  404  200  404  404  in   404  404"),
        get("/enrolments/{id}/progress", |w| format!("/enrolments/{}/progress", w.a.id),
                                                                   "in   200  404  200  404  200  200  404  200  404  404  in   404  404"),
        get("/enrolments/{id}/matrix", |w| format!("/enrolments/{}/matrix", w.a.id),
                                                                   "in   200  404  200  404  200  200  404  200  404  404  in   404  404"),
        get("/enrolments/{id}/activity", |w| format!("/enrolments/{}/activity", w.a.id),
                                                                   "in   200  404  200  404  200  200  404  200  404  404  in   404  404"),
        get("/enrolments/{id}/activity.csv", |w| format!("/enrolments/{}/activity.csv", w.a.id),
                                                                   "in   200  404  200  404  200  200  404  200  404  404  in   404  404"),
        get(ITEM, |w| format!("/enrolments/{}/evidence/{}", w.a.id, w.evidence_a),
                                                                   "in   200  404  200  404  200  200  404  200  404  404  in   404  404"),
        get(FILE, |w| format!("/enrolments/{}/evidence/{}/files/{}", w.a.id, w.evidence_a, w.file_a),
                                                                   "in   200  404  200  404  200  200  404  200  404  404  in   404  404"),
        // Status, audits and history: everyone on the enrolment reads them.
        get("/enrolments/{id}/status", |w| format!("/enrolments/{}/status", w.a.id),
                                                                   "in   200  404  200  404  200  200  404  200  404  404  in   404  404"),
        get("/enrolments/{id}/audit", |w| format!("/enrolments/{}/audit", w.a.id),
                                                                   "in   200  404  200  404  200  200  404  200  404  404  in   404  404"),
        // Switching major and cancelling are the admin's; A is Not Yet Achieved, so
        // there is no credential to cancel.
        get("/enrolments/{id}/major", |w| format!("/enrolments/{}/major", w.a.id),
                                                                   "in   404  404  404  404  404  404  404  200  404  404  in   404  404"),
        get("/enrolments/{id}/credential/cancel", |w| format!("/enrolments/{}/credential/cancel", w.a.id),
                                                                   "in   404  404  404  404  404  404  404  409  404  404  in   404  404"),
        // A has no credential yet: nothing to show anyone.
        get("/enrolments/{id}/credential", |w| format!("/enrolments/{}/credential", w.a.id),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404"),
        get("/enrolments/{id}/credential.pdf", |w| format!("/enrolments/{}/credential.pdf", w.a.id),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404"),
        get("/enrolments/{id}/credential.json", |w| format!("/enrolments/{}/credential.json", w.a.id),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404"),
        get("/enrolments/{id}/credential/print", |w| format!("/enrolments/{}/credential/print", w.a.id),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404"),
        // Verification is public; an unknown number is 404 for everyone.
        get("/verify", |_| "/verify".into(),                       "200  200  200  200  200  200  200  200  200  200  200  200  200  200"),
        get("/verify/{number}", |_| "/verify/0000-0000-0001-1".into(),
                                                                   "404  404  404  404  404  404  404  404  404  404  404  404  404  404"),
        get("/verify/{number}/status", |_| "/verify/0000-0000-0001-1/status".into(),
                                                                   "404  404  404  404  404  404  404  404  404  404  404  404  404  404"),
        // The centre's key exists once it has issued a credential; A's has not.
        get("/.well-known/attest/centres/{centre}", |w| format!("/.well-known/attest/centres/{}", w.a.centre_id),
                                                                   "404  404  404  404  404  404  404  404  404  404  404  404  404  404"),
        get("/.well-known/attest/centres/{centre}/revocation/{list}", |w| format!("/.well-known/attest/centres/{}/revocation/0", w.a.centre_id),
                                                                   "404  404  404  404  404  404  404  404  404  404  404  404  404  404"),
        // Witness testimony: the learner, the assessor and the trainee ask and follow
        // requests. The witness's page opens for whoever holds its link; a request to an
        // employer's person opens for that person only.
        get("/enrolments/{id}/witness", |w| format!("/enrolments/{}/witness", w.a.id),
                                                                   "in   200  404  200  404  200  404  404  404  404  404  in   404  404"),
        get("/witness/{token}", |w| format!("/witness/{}", w.witness_token),
                                                                   "200  200  200  200  200  200  200  200  200  200  200  200  200  200")
            .link_holders(),
        get("/witness/{token}", |w| format!("/witness/{}", w.used_token),
                                                                   "200  200  200  200  200  200  200  200  200  200  200  200  200  200")
            .note("a used link says it was signed"),
        get("/witness/{token}", |_| format!("/witness/{}", "0".repeat(64)),
                                                                   "404  404  404  404  404  404  404  404  404  404  404  404  404  404")
            .note("a link never made"),
        get("/witness-requests/{id}", |w| format!("/witness-requests/{}", w.employer_request_a),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   200  404"),
        get("/witness-requests/{id}", |w| format!("/witness-requests/{}", w.request_a),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("asked by email, so no account's"),
        // An apprenticeship's OTJ log: everyone on the portfolio reads it (the employer
        // on their own page); the plan and breaks are the admin's.
        get("/enrolments/{id}/otj", |w| format!("/enrolments/{}/otj", w.a.id),
                                                                   "in   200  404  200  404  200  200  404  200  404  404  in   404  404"),
        get("/enrolments/{id}/otj/{entry}", |w| format!("/enrolments/{}/otj/{}", w.a.id, w.otj_a),
                                                                   "in   200  404  200  404  200  200  404  200  404  404  in   404  404"),
        get("/enrolments/{id}/otj/{entry}", |w| format!("/enrolments/{}/otj/{}", w.a2.id, w.otj_a),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("A's entry under A2"),
        // Progress reviews: everyone on the portfolio reads them; the employer's person
        // on their own pages. Not signed by all three yet, so there is no printout.
        get("/enrolments/{id}/reviews", |w| format!("/enrolments/{}/reviews", w.a.id),
                                                                   "in   200  404  200  404  200  200  404  200  404  404  in   404  404"),
        get("/enrolments/{id}/reviews/{review}", |w| format!("/enrolments/{}/reviews/{}", w.a.id, w.review_a),
                                                                   "in   200  404  200  404  200  200  404  200  404  404  in   404  404"),
        get("/enrolments/{id}/reviews/{review}", |w| format!("/enrolments/{}/reviews/{}", w.a2.id, w.review_a),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("A's review under A2"),
        get("/enrolments/{id}/reviews/{review}/review.pdf", |w| format!("/enrolments/{}/reviews/{}/review.pdf", w.a.id, w.review_a),
                                                                   "in   409  404  409  404  409  409  404  409  404  404  in   404  404"),
        get("/review-sign/{token}", |w| format!("/review-sign/{}", w.review_token),
                                                                   "200  200  200  200  200  200  200  200  200  200  200  200  200  200")
            .link_holders(),
        get("/review-sign/{token}", |_| format!("/review-sign/{}", "0".repeat(64)),
                                                                   "404  404  404  404  404  404  404  404  404  404  404  404  404  404")
            .note("a link never made"),
        get("/employer/learners/{id}/reviews/{review}", |w| format!("/employer/learners/{}/reviews/{}", w.a.id, w.review_a),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   200  404"),
        get("/enrolments/{id}/apprenticeship", |w| format!("/enrolments/{}/apprenticeship", w.a.id),
                                                                   "in   404  404  404  404  404  404  404  200  404  404  in   404  404"),
        get("/enrolments/{id}/apprenticeship/breaks", |w| format!("/enrolments/{}/apprenticeship/breaks", w.a.id),
                                                                   "in   404  404  404  404  404  404  404  200  404  404  in   404  404"),
        get("/admin/settings/apprenticeships", |_| "/admin/settings/apprenticeships".into(),
                                                                   "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        // An employer's person: the learners they are linked to, read-only.
        get("/employer/learners", |_| "/employer/learners".into(), "in   404  404  404  404  404  404  404  404  404  404  in   200  200"),
        get("/employer/learners/{id}", |w| format!("/employer/learners/{}", w.a.id),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   200  404"),
        get("/employer/learners/{id}", |w| format!("/employer/learners/{}?page=3", w.a2.id),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("a learner of no employer"),
        // A signature's check is public: it shows the signature, never the content; so
        // is a record's, the address its printout carries.
        get("/signatures/{id}", |w| format!("/signatures/{}", w.signature_a),
                                                                   "200  200  200  200  200  200  200  200  200  200  200  200  200  200"),
        get("/signed/{id}", |w| format!("/signed/{}", w.testimony_item_a),
                                                                   "200  200  200  200  200  200  200  200  200  200  200  200  200  200"),
        get("/signed/{id}", |w| format!("/signed/{}", w.a.id),
                                                                   "404  404  404  404  404  404  404  404  404  404  404  404  404  404")
            .note("no signed record"),
        // The printout: whoever sees the portfolio.
        get("/enrolments/{id}/evidence/{evidence}/record.pdf", |w| format!("/enrolments/{}/evidence/{}/record.pdf", w.a.id, w.testimony_a),
                                                                   "in   200  404  200  404  200  200  404  200  404  404  in   404  404"),
        get("/enrolments/{id}/evidence/{evidence}/record.pdf", |w| format!("/enrolments/{}/evidence/{}/record.pdf", w.a.id, w.evidence_a),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("an item with only its declaration"),
        get("/admin/settings", |_| "/admin/settings".into(),       "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        get("/admin/retention", |_| "/admin/retention".into(),     "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        get("/admin/people/{id}/erase", |w| format!("/admin/people/{}/erase", w.ids[&Viewer::Learner]),
                                                                   "in   404  404  404  404  404  404  404  200  404  404  in   404  404"),
        get("/admin/people/{id}/erase", |w| format!("/admin/people/{}/erase", w.ids[&Viewer::ForeignLearner]),
                                                                   "in   404  404  404  404  404  404  404  404  200  404  in   404  404")
            .note("another centre's person"),
        // The reports of SPEC §3: each viewer's own enrolments, within their centre;
        // nobody else has the page. The CSV is the same rows.
        get("/caseload", |_| "/caseload".into(),                   "in   404  404  200  200  200  404  404  404  404  404  in   404  404"),
        get("/caseload.csv", |_| "/caseload.csv".into(),           "in   404  404  200  200  200  404  404  404  404  404  in   404  404"),
        get("/sample", |_| "/sample".into(),                       "in   404  404  404  404  404  200  200  404  404  404  in   404  404"),
        get("/sample.csv", |_| "/sample.csv".into(),               "in   404  404  404  404  404  200  200  404  404  404  in   404  404"),
        get("/sample/dashboard", |_| "/sample/dashboard".into(),   "in   404  404  404  404  404  200  200  404  404  404  in   404  404"),
        get("/admin/enrolments", |_| "/admin/enrolments".into(),   "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        get("/admin/enrolments.csv", |_| "/admin/enrolments.csv".into(),
                                                                   "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        get("/admin/dashboard", |_| "/admin/dashboard".into(),     "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        // Forged filters name people of A: they narrow, never widen, so outsiders are
        // shown none of A (the matrix checks no outsider is shown A's learner).
        get("/caseload", |w| format!("/caseload?trainee={}&iqa={}", w.ids[&Viewer::Trainee], w.ids[&Viewer::Iqa]),
                                                                   "in   404  404  200  200  200  404  404  404  404  404  in   404  404")
            .note("filtered by A's people"),
        get("/caseload.csv", |w| format!("/caseload.csv?trainee={}", w.ids[&Viewer::Trainee]),
                                                                   "in   404  404  200  200  200  404  404  404  404  404  in   404  404")
            .note("filtered by A's trainee"),
        get("/sample.csv", |w| format!("/sample.csv?assessor={}", w.ids[&Viewer::Assessor]),
                                                                   "in   404  404  404  404  404  200  200  404  404  404  in   404  404")
            .note("filtered by A's assessor"),
        get("/admin/enrolments", |w| format!("/admin/enrolments?assessor={}&q=Quill", w.ids[&Viewer::Assessor]),
                                                                   "in   404  404  404  404  404  404  404  200  200  404  in   404  404")
            .note("another centre's assessor and A's learner's name"),
        get("/admin/enrolments.csv", |w| format!("/admin/enrolments.csv?assessor={}&q=Quill", w.ids[&Viewer::Assessor]),
                                                                   "in   404  404  404  404  404  404  404  200  200  404  in   404  404")
            .note("another centre's assessor and A's learner's name"),
        get("/admin/audits", |_| "/admin/audits".into(),           "in   404  404  404  404  404  404  404  200  200  404  in   404  404"),
        // A run is its centre's: an id that is not one of yours does not exist for you
        // (tests/it/admin_audits.rs shows another centre's run is 404 too).
        get("/admin/audits/{id}", |_| format!("/admin/audits/{}", Uuid::new_v4()),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404"),
        get("/admin/audits/{id}/progress", |_| format!("/admin/audits/{}/progress", Uuid::new_v4()),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404"),
        // Only those who tick add evidence; IQAs and admins read.
        get("/enrolments/{id}/evidence/new", |w| format!("/enrolments/{}/evidence/new", w.a.id),
                                                                   "in   200  404  200  404  200  404  404  404  404  404  in   404  404"),
        // Accepting is for assessors; the learner is told why not.
        get(ACCEPT, |w| format!("/enrolments/{}/evidence/{}/accept/learner", w.a.id, w.evidence_a),
                                                                   "in   409  404  200  404  200  404  404  404  404  404  in   404  404"),
        get(ACCEPT, |w| format!("/enrolments/{}/evidence/{}/accept/trainee", w.a.id, w.evidence_a),
                                                                   "in   409  404  200  404  409  404  404  404  404  404  in   404  404")
            .note("trainee ticks"),
        // Unknown, unparsable and mixed ids: 404 for everyone, rights elsewhere or not.
        get(ENROLMENT, |w| format!("/enrolments/{}", w.b.id),     "in   404  404  404  404  404  404  404  404  200  200  in   404  404")
            .note("another centre's enrolment"),
        get(ENROLMENT, |_| format!("/enrolments/{}", Uuid::new_v4()),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("unknown id"),
        get(ENROLMENT, |_| "/enrolments/not-an-id".into(),        "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("id that does not parse"),
        get(ITEM, |w| format!("/enrolments/{}/evidence/{}", w.a.id, w.evidence_a2),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("A2's item under A"),
        get(ITEM, |w| format!("/enrolments/{}/evidence/{}", w.a2.id, w.evidence_a),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("A's item under A2"),
        get(ITEM, |w| format!("/enrolments/{}/evidence/{}", w.a.id, w.evidence_b),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("another centre's item under A"),
        get(FILE, |w| format!("/enrolments/{}/evidence/{}/files/{}", w.a.id, w.evidence_a, w.file_a2),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("another item's file"),
        get(FILE, |w| format!("/enrolments/{}/evidence/{}/files/{}", w.a.id, w.evidence_a2, w.file_a2),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("A2's item and file under A"),
        get(FILE, |w| format!("/enrolments/{}/evidence/{}/files/{}", w.a2.id, w.evidence_a, w.file_a),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("A's item and file under A2"),
        get(FILE, |w| format!("/enrolments/{}/evidence/{}/files/{}", w.a.id, w.evidence_a, Uuid::new_v4()),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("unknown file"),
        get(ACCEPT, |w| format!("/enrolments/{}/evidence/{}/accept/learner", w.a.id, w.evidence_a2),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("A2's item under A"),
        get(ACCEPT, |w| format!("/enrolments/{}/evidence/{}/accept/everyone", w.a.id, w.evidence_a),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("no such layer"),
        get(ASSIGNMENTS, |w| format!("/admin/enrolments/{}/assignments", w.b.id),
                                                                   "in   404  404  404  404  404  404  404  404  200  404  in   404  404")
            .note("another centre's enrolment"),
        get(QUALIFICATION, |w| format!("/admin/qualifications/{}", w.b.version_id),
                                                                   "in   404  404  404  404  404  404  404  404  200  404  in   404  404")
            .note("another centre's version"),
        get(QUALIFICATION, |w| format!("/admin/qualifications/{}", w.a.id),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("an enrolment's id"),
        get("/static/{file}", |_| "/static/nothing.css".into(),    "404  404  404  404  404  404  404  404  404  404  404  404  404  404")
            .note("unknown file"),
        get("/set-password/{token}", |_| "/set-password/0123456789abcdef".into(),
                                                                   "404  404  404  404  404  404  404  404  404  404  404  404  404  404")
            .note("unknown link"),
    ]
}

fn form(s: String) -> Payload {
    Payload::Form(s)
}

fn testimony(name: &str) -> Payload {
    Payload::Multipart(
        vec![
            ("account", "I saw it.".into()),
            ("role", "Supervisor".into()),
            ("relationship", "Line manager".into()),
            ("agreed", "yes".into()),
            ("signed_name", name.into()),
        ],
        vec![],
    )
}

/// An evidence form, signed (declared, or an observation record) in `name`.
fn evidence(kind: &str, name: &str) -> Payload {
    Payload::Multipart(
        vec![
            ("title", "Matrix evidence".into()),
            ("description", String::new()),
            ("kind", kind.into()),
            ("declared", "yes".into()),
            ("signed_name", name.into()),
        ],
        vec![("note.txt".into(), b"a note".to_vec())],
    )
}

const QUALIFICATION_FILE: &str = r#"
[qualification]
code = "NEW/1"
title = "New certificate"
level = 2
awarding_body = "Test Body"

[[unit]]
code = "101"
title = "The only unit"
level = 2
credits = 1
  [[unit.outcome]]
  number = "1"
  title = "The only outcome"
    [[unit.outcome.criterion]]
    number = "1.1"
    text = "Do the thing"
"#;

/// Signing in and out, and the admin's POSTs. Refusals run in one copy of the world
/// and must change nothing in it; each viewer who may act runs in a copy of their own.
#[rustfmt::skip]
fn account_forms() -> Vec<Row> {
    vec![
        //                                                          anon lrn  lrn2 ass  ass2 trn  iqa  iqa2 adm  xadm xlrn gone emp  emp2
        post("/login", |_| "/login".into(), |w| form(format!("email={}&password={PASSWORD}", crate::http::enc(&w.learner_email))),
                                                                   "303  303  303  303  303  303  303  303  303  303  303  303  303  303"),
        post("/logout", |_| "/logout".into(), |_| Payload::Empty,  "in   in   in   in   in   in   in   in   in   in   in   in   in   in"),
        post("/set-password/{token}", |w| format!("/set-password/{}", w.token),
            |_| form("password=a-long-new-password&confirm=a-long-new-password".into()),
                                                                   "303  303  303  303  303  303  303  303  303  303  303  303  303  303"),
        // Anyone may ask for a reset link, for any email: the same answer whatever it is.
        post("/forgot-password", |_| "/forgot-password".into(), |w| form(format!("email={}", crate::http::enc(&w.learner_email))),
                                                                   "303  303  303  303  303  303  303  303  303  303  303  303  303  303"),
        post("/forgot-password", |_| "/forgot-password".into(), |_| form("email=not-an-email".into()),
                                                                   "422  422  422  422  422  422  422  422  422  422  422  422  422  422")
            .note("a malformed email"),
        // Each signed-in person changes their own, with their current password.
        post("/account/password", |_| "/account/password".into(),
            |_| form(format!("current={PASSWORD}&password=a-long-new-password&confirm=a-long-new-password")),
                                                                   "in   303  303  303  303  303  303  303  303  303  303  in   303  303"),
        post("/account/password", |_| "/account/password".into(),
            |_| form("current=not-the-password&password=a-long-new-password&confirm=a-long-new-password".into()),
                                                                   "in   422  422  422  422  422  422  422  422  422  422  in   422  422")
            .note("a wrong current password"),
        // Admins act in their own centre; another centre's people are a form error.
        post("/admin/people", |_| "/admin/people".into(),
            |_| form("display_name=Pat+New&email=pat%40new.test&kind=staff&role=assessor".into()),
                                                                   "in   404  404  404  404  404  404  404  201  201  404  in   404  404"),
        // Unlocking sign-in is for the person's own centre's admin.
        post("/admin/people/{id}/unlock", |w| format!("/admin/people/{}/unlock", w.ids[&Viewer::Learner]), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  303  404  404  in   404  404"),
        post("/admin/people/{id}/password-link", |w| format!("/admin/people/{}/password-link", w.spare_learner),
            |_| Payload::Empty,                                    "in   404  404  404  404  404  404  404  201  404  404  in   404  404"),
        // A person's account: their own centre's admins act; a move that makes no
        // sense is refused with its reason.
        post(PERSON, |w| format!("/admin/people/{}", w.ids[&Viewer::Learner]),
            |_| form("display_name=Lena+Renamed&email=lena%40acme.test".into()),
                                                                   "in   404  404  404  404  404  404  404  303  404  404  in   404  404"),
        post(PERSON, |w| format!("/admin/people/{}", w.ids[&Viewer::Learner]),
            |_| form("display_name=Lena+Renamed&email=lena%40acme.test&role=assessor".into()),
                                                                   "in   404  404  404  404  404  404  404  422  404  404  in   404  404")
            .note("a staff role for a learner"),
        post(PERSON, |w| format!("/admin/people/{}", w.ids[&Viewer::ForeignLearner]),
            |_| form("display_name=Ben+Renamed&email=ben%40bravo.test".into()),
                                                                   "in   404  404  404  404  404  404  404  404  303  404  in   404  404")
            .note("another centre's person"),
        post(DEACTIVATE, |w| format!("/admin/people/{}/deactivate", w.ids[&Viewer::OtherAssessor]), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  303  404  404  in   404  404"),
        post(DEACTIVATE, |w| format!("/admin/people/{}/deactivate", w.ids[&Viewer::Deactivated]), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  409  404  404  in   404  404")
            .note("already deactivated"),
        post(DEACTIVATE, |w| format!("/admin/people/{}/deactivate", w.ids[&Viewer::Admin]), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  409  404  404  in   404  404")
            .note("the admin's own account"),
        post(DEACTIVATE, |w| format!("/admin/people/{}/deactivate", w.ids[&Viewer::ForeignLearner]), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  404  303  404  in   404  404")
            .note("another centre's person"),
        post(REACTIVATE, |w| format!("/admin/people/{}/reactivate", w.ids[&Viewer::Deactivated]), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  303  404  404  in   404  404"),
        post(REACTIVATE, |w| format!("/admin/people/{}/reactivate", w.ids[&Viewer::Learner]), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  409  404  404  in   404  404")
            .note("an active account"),
        post(END_SESSIONS, |w| format!("/admin/people/{}/end-sessions", w.ids[&Viewer::Learner]), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  303  404  404  in   404  404"),
        post(END_SESSIONS, |w| format!("/admin/people/{}/end-sessions", w.ids[&Viewer::Deactivated]), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  409  404  404  in   404  404")
            .note("a deactivated account"),
        post("/admin/enrolments", |_| "/admin/enrolments".into(),
            |w| form(format!("learner={}&major={}&assessor={}&trainee=&iqa={}",
                w.spare_learner, w.major_a, w.ids[&Viewer::Assessor], w.ids[&Viewer::Iqa])),
                                                                   "in   404  404  404  404  404  404  404  303  422  404  in   404  404"),
        post(ASSIGNMENTS, |w| format!("/admin/enrolments/{}/assignments", w.a.id), reassign_a,
                                                                   "in   404  404  404  404  404  404  404  303  404  404  in   404  404"),
        post(ASSIGNMENTS, |w| format!("/admin/enrolments/{}/assignments", w.b.id),
            |w| form(format!("assessor={}&trainee=&iqa=", w.foreign_assessor)),
                                                                   "in   404  404  404  404  404  404  404  404  303  404  in   404  404")
            .note("another centre's enrolment"),
        post("/admin/qualifications", |_| "/admin/qualifications".into(),
            |_| Payload::Multipart(vec![], vec![("new.toml".into(), QUALIFICATION_FILE.as_bytes().to_vec())]),
                                                                   "in   404  404  404  404  404  404  404  303  303  404  in   404  404"),
        // Employers: any admin adds to their own centre; an employer is changed by its
        // own centre's admins only.
        post("/admin/employers", |_| "/admin/employers".into(), |_| form("name=Matrix+Employer".into()),
                                                                   "in   404  404  404  404  404  404  404  303  303  404  in   404  404"),
        post(EMPLOYER, |w| format!("/admin/employers/{}", w.employer_a), |_| form("name=Northwind+Care+Group".into()),
                                                                   "in   404  404  404  404  404  404  404  303  404  404  in   404  404"),
        post(EMPLOYER, |w| format!("/admin/employers/{}", w.employer_a), |_| form("name=".into()),
                                                                   "in   404  404  404  404  404  404  404  422  404  404  in   404  404")
            .note("no name"),
        // Bulk onboarding: any admin uploads to their own centre; an upload is imported,
        // and its emails sent again, by its own centre's admins only.
        post("/admin/import", |_| "/admin/import".into(),
            |_| Payload::Multipart(vec![], vec![("people.csv".into(), world::IMPORT_FILE.as_bytes().to_vec())]),
                                                                   "in   404  404  404  404  404  404  404  303  303  404  in   404  404"),
        post(IMPORT, |w| format!("/admin/import/{}", w.import_a), |_| form(IMPORT_COUNTS.into()),
                                                                   "in   404  404  404  404  404  404  404  303  404  404  in   404  404"),
        post(IMPORT, |w| format!("/admin/import/{}", w.import_a), |_| form(IMPORT_COUNTS.replace("new_people=1", "new_people=2")),
                                                                   "in   404  404  404  404  404  404  404  409  404  404  in   404  404")
            .note("figures other than the preview's"),
        post(IMPORT_RESEND, |w| format!("/admin/import/{}/resend", w.import_a), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  303  404  404  in   404  404"),
        // Reassigning a caseload: the confirmation step changes nothing; the move is
        // the admin's of the person's centre; a refused move changes nothing.
        post(REASSIGN, |w| format!("/admin/people/{}/reassign", w.ids[&Viewer::Assessor]),
            |w| form(format!("role=assessor&which=all&to={}", w.ids[&Viewer::OtherAssessor])),
                                                                   "in   404  404  404  404  404  404  404  200  404  404  in   404  404"),
        post(REASSIGN, |w| format!("/admin/people/{}/reassign", w.ids[&Viewer::Assessor]),
            |w| form(format!("role=assessor&which=all&to={}", w.ids[&Viewer::Deactivated])),
                                                                   "in   404  404  404  404  404  404  404  422  404  404  in   404  404")
            .note("to a deactivated account"),
        post(REASSIGN_CONFIRM, |w| format!("/admin/people/{}/reassign/confirm", w.ids[&Viewer::Assessor]),
            |w| form(format!("role=assessor&which=chosen&enrolment={}&enrolment={}&to={}", w.a.id, w.a2.id, w.ids[&Viewer::OtherAssessor])),
                                                                   "in   404  404  404  404  404  404  404  303  404  404  in   404  404"),
        post(REASSIGN_CONFIRM, |w| format!("/admin/people/{}/reassign/confirm", w.ids[&Viewer::Iqa]),
            |w| form(format!("role=iqa&which=all&digest=0000&to={}", w.ids[&Viewer::OtherIqa])),
                                                                   "in   404  404  404  404  404  404  404  409  404  404  in   404  404")
            .note("the caseload changed since the confirmation"),
    ]
}

/// The portfolio's POSTs, as `account_forms`.
#[rustfmt::skip]
fn portfolio_forms() -> Vec<Row> {
    vec![
        //                                                          anon lrn  lrn2 ass  ass2 trn  iqa  iqa2 adm  xadm xlrn gone emp  emp2
        // Evidence: learners add theirs; assessors and trainees only their records of
        // an observation or a professional discussion.
        // Each signs in their own name: the form names the signer, so a row signs as one.
        post(EVIDENCE, |w| format!("/enrolments/{}/evidence", w.a.id), |_| evidence("document", "Lena Quillfeather"),
                                                                   "in   303  404  422  404  422  404  404  404  404  404  in   404  404"),
        post(EVIDENCE, |w| format!("/enrolments/{}/evidence", w.a.id), |_| evidence("document", "Ann Assessor"),
                                                                   "in   422  404  422  404  422  404  404  404  404  404  in   404  404")
            .note("declared in another's name"),
        post(EVIDENCE, |w| format!("/enrolments/{}/evidence", w.a.id), |_| evidence("observation", "Ann Assessor"),
                                                                   "in   422  404  303  404  422  404  404  404  404  404  in   404  404")
            .note("an observation record, signed by the assessor"),
        post(EVIDENCE, |w| format!("/enrolments/{}/evidence", w.a.id), |_| evidence("observation", "Tom Trainee"),
                                                                   "in   422  404  422  404  303  404  404  404  404  404  in   404  404")
            .note("an observation record, signed by the trainee"),
        post(EVIDENCE, |w| format!("/enrolments/{}/evidence", w.b.id), |_| evidence("document", "Ben Bravolearner"),
                                                                   "in   404  404  404  404  404  404  404  404  404  303  in   404  404")
            .note("another centre's enrolment"),
        // Resumable uploads: whoever may add evidence starts one; only its owner reads
        // where it stands, sends to it or discards it.
        post(UPLOADS, |w| format!("/enrolments/{}/uploads", w.a.id), |_| Payload::Upload(vec![("upload-length", "10")], Vec::new()),
                                                                   "in   201  404  201  404  201  404  404  404  404  404  in   404  404"),
        get(UPLOAD, |w| format!("/enrolments/{}/uploads/{}", w.a.id, w.upload_a),
                                                                   "in   200  404  404  404  404  404  404  404  404  404  in   404  404"),
        post(UPLOAD, |w| format!("/enrolments/{}/uploads/{}", w.a.id, w.upload_a),
             |_| Payload::Upload(vec![("content-type", "application/offset+octet-stream"), ("upload-offset", "0")], Vec::new()),
                                                                   "in   204  404  404  404  404  404  404  404  404  404  in   404  404")
            .method(Method::PATCH),
        post(UPLOAD, |w| format!("/enrolments/{}/uploads/{}", w.a.id, w.upload_a_spare), |_| Payload::Empty,
                                                                   "in   204  404  404  404  404  404  404  404  404  404  in   404  404")
            .method(Method::DELETE),
        post(UPLOAD, |w| format!("/enrolments/{}/uploads/{}", w.a2.id, w.upload_a), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .method(Method::DELETE)
            .note("an upload under another enrolment's address"),
        // Witness requests: asked and followed by the learner, assessor and trainee.
        post("/enrolments/{id}/witness", |w| format!("/enrolments/{}/witness", w.a.id),
            |w| form(format!("to=email&witness_name=Wes&witness_email=wes%40example.test&criterion={}", w.claimed)),
                                                                   "in   303  404  303  404  303  404  404  404  404  404  in   404  404"),
        post("/enrolments/{id}/witness", |w| format!("/enrolments/{}/witness", w.a.id),
            |w| form(format!("to=email&witness_name=Wes&witness_email=wes%40example.test&criterion={}", w.criterion_b)),
                                                                   "in   422  404  422  404  422  404  404  404  404  404  in   404  404")
            .note("another centre's criterion"),
        post("/enrolments/{id}/witness/{request}/withdraw", |w| format!("/enrolments/{}/witness/{}/withdraw", w.a.id, w.request_a), |_| Payload::Empty,
                                                                   "in   303  404  303  404  303  404  404  404  404  404  in   404  404"),
        post("/enrolments/{id}/witness/{request}/withdraw", |w| format!("/enrolments/{}/witness/{}/withdraw", w.a2.id, w.request_a), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("A's request under A2"),
        post("/enrolments/{id}/witness/{request}/resend", |w| format!("/enrolments/{}/witness/{}/resend", w.a.id, w.request_a), |_| Payload::Empty,
                                                                   "in   303  404  303  404  303  404  404  404  404  404  in   404  404"),
        // A signed testimony: its assessor corrects it (a new version); asking the
        // witness to sign the signed version again is refused.
        post("/enrolments/{id}/evidence/{evidence}/testimony", |w| format!("/enrolments/{}/evidence/{}/testimony", w.a.id, w.testimony_a),
            |_| form("version=1&account=Corrected".into()),
                                                                   "in   404  404  303  404  404  404  404  404  404  404  in   404  404"),
        post("/enrolments/{id}/evidence/{evidence}/testimony", |w| format!("/enrolments/{}/evidence/{}/testimony", w.a.id, w.testimony_a),
            |_| form("version=7&account=Corrected".into()),
                                                                   "in   404  404  409  404  404  404  404  404  404  404  in   404  404")
            .note("from a version that is not the current one"),
        post("/enrolments/{id}/evidence/{evidence}/testimony/ask", |w| format!("/enrolments/{}/evidence/{}/testimony/ask", w.a.id, w.testimony_a), |_| Payload::Empty,
                                                                   "in   404  404  409  404  404  404  404  404  404  404  in   404  404"),
        // The witness signs through the link, signed in or not; a used link is closed.
        post("/witness/{token}", |w| format!("/witness/{}", w.witness_token), |_| testimony("Wendy"),
                                                                   "303  303  303  303  303  303  303  303  303  303  303  303  303  303"),
        post("/witness/{token}", |w| format!("/witness/{}", w.witness_token), |_| testimony("Someone Else"),
                                                                   "422  422  422  422  422  422  422  422  422  422  422  422  422  422")
            .note("signed in another's name").link_holders(),
        post("/witness/{token}", |w| format!("/witness/{}", w.used_token), |_| testimony("Walter"),
                                                                   "410  410  410  410  410  410  410  410  410  410  410  410  410  410")
            .note("a used link"),
        post("/witness-requests/{id}", |w| format!("/witness-requests/{}", w.employer_request_a), |_| testimony("Erin Mentor"),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   303  404"),
        post("/witness-requests/{id}", |w| format!("/witness-requests/{}", w.request_a), |_| testimony("Wendy"),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404"),
        // Ticks: each in their own layer; IQAs and admins tick nothing.
        post(TICKS, |w| format!("/enrolments/{}/evidence/{}/ticks", w.a.id, w.evidence_a),
            |w| form(format!("criterion={}&action=tick", w.untouched)),
                                                                   "in   303  404  303  404  303  404  404  404  404  404  in   404  404"),
        post(TICKS, |w| format!("/enrolments/{}/evidence/{}/ticks", w.a.id, w.evidence_a),
            |w| form(format!("criterion={}&action=untick", w.claimed)),
                                                                   "in   303  404  303  404  303  404  404  404  404  404  in   404  404")
            .note("untick"),
        post(TICKS, |w| format!("/enrolments/{}/evidence/{}/ticks", w.a.id, w.evidence_a2),
            |w| form(format!("criterion={}&action=tick", w.untouched)),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("A2's item under A"),
        post(TICKS, |w| format!("/enrolments/{}/evidence/{}/ticks", w.a.id, w.evidence_a),
            |w| form(format!("criterion={}&action=tick", w.criterion_b)),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("another centre's criterion"),
        post(ACCEPT, |w| format!("/enrolments/{}/evidence/{}/accept/learner", w.a.id, w.evidence_a), |_| Payload::Empty,
                                                                   "in   409  404  303  404  303  404  404  404  404  404  in   404  404"),
        post(ACCEPT, |w| format!("/enrolments/{}/evidence/{}/accept/trainee", w.a.id, w.evidence_a), |_| Payload::Empty,
                                                                   "in   409  404  303  404  409  404  404  404  404  404  in   404  404")
            .note("trainee ticks"),
        post(ACCEPT, |w| format!("/enrolments/{}/evidence/{}/accept/learner", w.a.id, w.evidence_a2), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("A2's item under A"),
        // Audit: the admin and the assigned assessor; the credential: the admin, and
        // A (Not Yet Achieved) allows none of it yet.
        post("/enrolments/{id}/audit", |w| format!("/enrolments/{}/audit", w.a.id), |_| Payload::Empty,
                                                                   "in   404  404  303  404  404  404  404  303  404  404  in   404  404"),
        post("/enrolments/{id}/major", |w| format!("/enrolments/{}/major", w.a.id), |_| form("major=".into()),
                                                                   "in   404  404  404  404  404  404  404  422  404  404  in   404  404"),
        post("/enrolments/{id}/credential/request", |w| format!("/enrolments/{}/credential/request", w.a.id), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  409  404  404  in   404  404"),
        post("/enrolments/{id}/credential/retry", |w| format!("/enrolments/{}/credential/retry", w.a.id), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  409  404  404  in   404  404"),
        post("/enrolments/{id}/credential/issue", |w| format!("/enrolments/{}/credential/issue", w.a.id), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  409  404  404  in   404  404"),
        post("/enrolments/{id}/credential/cancel", |w| format!("/enrolments/{}/credential/cancel", w.a.id), |_| form("reason=mistake".into()),
                                                                   "in   404  404  404  404  404  404  404  409  404  404  in   404  404"),
        post("/enrolments/{id}/credential/request", |w| format!("/enrolments/{}/credential/request", w.b.id), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  404  409  404  in   404  404")
            .note("another centre's enrolment"),
        post("/enrolments/{id}/credential/email", |w| format!("/enrolments/{}/credential/email", w.a.id), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  409  404  404  in   404  404"),
        // Nothing chosen: the form says so and starts nothing.
        post("/admin/audits", |_| "/admin/audits".into(), |_| form("scope=chosen".into()),
                                                                   "in   404  404  404  404  404  404  404  422  422  404  in   404  404"),
        post("/admin/settings", |_| "/admin/settings".into(), |_| form("auto_audit=on".into()),
                                                                   "in   404  404  404  404  404  404  404  303  303  404  in   404  404"),
        post("/admin/settings/rotate-key", |_| "/admin/settings/rotate-key".into(), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  303  303  404  in   404  404"),
        post("/admin/retention", |_| "/admin/retention".into(), |_| form("retention_years=6".into()),
                                                                   "in   404  404  404  404  404  404  404  303  303  404  in   404  404"),
        post("/admin/retention", |_| "/admin/retention".into(), |_| form("retention_years=0".into()),
                                                                   "in   404  404  404  404  404  404  404  422  422  404  in   404  404")
            .note("no years"),
        // Not certified, so not past retention: refused with the reason.
        post("/admin/retention/{id}/archive", |w| format!("/admin/retention/{}/archive", w.a.id), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  409  404  404  in   404  404"),
        post("/admin/people/{id}/erase", |w| format!("/admin/people/{}/erase", w.ids[&Viewer::Learner]), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  303  404  404  in   404  404"),
        post("/admin/people/{id}/erase", |w| format!("/admin/people/{}/erase", w.ids[&Viewer::OtherAssessor]), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  409  404  404  in   404  404")
            .note("staff, not a learner"),
        post("/admin/settings/apprenticeships", |_| "/admin/settings/apprenticeships".into(),
            |_| form("rule=percent&percent=20&margin=10&review_weeks=12&activity_types=Shadowing".into()),
                                                                   "in   404  404  404  404  404  404  404  303  303  404  in   404  404"),
        post("/admin/settings/apprenticeships", |_| "/admin/settings/apprenticeships".into(),
            |_| form("rule=percent&percent=20&margin=10&review_weeks=13&activity_types=Shadowing".into()),
                                                                   "in   404  404  404  404  404  404  404  422  422  404  in   404  404")
            .note("reviews more than 12 weeks apart"),
        // The OTJ log: the learner, trainee and assessor log and change entries (a
        // learner only their own); only the assessor decides. The plan and breaks are
        // the admin's.
        post("/enrolments/{id}/otj", |w| format!("/enrolments/{}/otj", w.a.id),
            |w| form(format!("day={}&hours=1&minutes=30&activity=Mentoring&what=Met+my+mentor", w.otj_day)),
                                                                   "in   303  404  303  404  303  404  404  404  404  404  in   404  404"),
        post("/enrolments/{id}/otj", |w| format!("/enrolments/{}/otj", w.a.id),
            |_| form("day=2999-01-01&hours=1&minutes=30&activity=Mentoring&what=Met+my+mentor".into()),
                                                                   "in   422  404  422  404  422  404  404  404  404  404  in   404  404")
            .note("a day in the future"),
        post("/enrolments/{id}/otj/{entry}", |w| format!("/enrolments/{}/otj/{}", w.a.id, w.otj_a),
            |w| form(format!("day={}&hours=3&minutes=0&activity=Shadowing&what=Shadowed+the+ward+sister", w.otj_day)),
                                                                   "in   303  404  303  404  303  404  404  404  404  404  in   404  404"),
        post("/enrolments/{id}/otj/{entry}/withdraw", |w| format!("/enrolments/{}/otj/{}/withdraw", w.a.id, w.otj_a),
            |_| Payload::Empty,
                                                                   "in   303  404  303  404  303  404  404  404  404  404  in   404  404"),
        post("/enrolments/{id}/otj/{entry}/decision", |w| format!("/enrolments/{}/otj/{}/decision", w.a.id, w.otj_a),
            |_| form("decision=approve".into()),
                                                                   "in   404  404  303  404  404  404  404  404  404  404  in   404  404"),
        post("/enrolments/{id}/otj/{entry}/decision", |w| format!("/enrolments/{}/otj/{}/decision", w.a.id, w.otj_a),
            |_| form("decision=reject&reason=".into()),
                                                                   "in   404  404  422  404  404  404  404  404  404  404  in   404  404")
            .note("rejected without a reason"),
        // Progress reviews: the assessor or trainee records one; each party writes their
        // part and signs in their own name (the trainee signs nothing).
        post("/enrolments/{id}/reviews", |w| format!("/enrolments/{}/reviews", w.a.id),
            |w| form(format!("held_on={}&attended=All&assessor_summary=Fine&targets=More&next_review_on=2999-01-01", w.otj_day)),
                                                                   "in   404  404  422  404  422  404  404  404  404  404  in   404  404")
            .note("the next review too far ahead"),
        post("/enrolments/{id}/reviews", |w| format!("/enrolments/{}/reviews", w.a.id),
            |w| form(format!("held_on={}&attended=All&assessor_summary=Fine&targets=More&next_review_on={}", w.otj_day, w.otj_day)),
                                                                   "in   404  404  422  404  422  404  404  404  404  404  in   404  404")
            .note("the next review on the day of this one"),
        post("/enrolments/{id}/reviews/{review}/part", |w| format!("/enrolments/{}/reviews/{}/part", w.a.id, w.review_a),
            |w| form(format!("held_on={}&attended=All+three&assessor_summary=Good&targets=Unit+3&next_review_on={}&learner_reflection=Changed&employer_comments=Doing+well", w.otj_day, w.next_review)),
                                                                   "in   303  404  303  404  303  404  404  404  404  404  in   404  404"),
        post("/enrolments/{id}/reviews/{review}/sign", |w| format!("/enrolments/{}/reviews/{}/sign", w.a.id, w.review_a),
            |_| form("signed_name=Lena+Quillfeather".into()),
                                                                   "in   303  404  422  404  404  404  404  404  404  404  in   404  404"),
        post("/enrolments/{id}/reviews/{review}/sign", |w| format!("/enrolments/{}/reviews/{}/sign", w.a.id, w.review_a),
            |_| form("signed_name=Ann+Assessor".into()),
                                                                   "in   422  404  303  404  404  404  404  404  404  404  in   404  404"),
        post("/enrolments/{id}/reviews/{review}/employer-link", |w| format!("/enrolments/{}/reviews/{}/employer-link", w.a.id, w.review_a),
            |_| form("signer_name=Owen+Owner&signer_email=owen%40northwind.test".into()),
                                                                   "in   404  404  303  404  303  404  404  404  404  404  in   404  404"),
        post("/enrolments/{id}/reviews/{review}/employer-link", |w| format!("/enrolments/{}/reviews/{}/employer-link", w.a.id, w.review_a),
            |_| form("signer_name=Owen+Owner&signer_email=owen".into()),
                                                                   "in   404  404  422  404  422  404  404  404  404  404  in   404  404")
            .note("not an email address"),
        // Whoever holds the emailed link comments and signs as the employer, signed in
        // or not, in the name the link was sent to.
        post("/review-sign/{token}/part", |w| format!("/review-sign/{}/part", w.review_token),
            |_| form("employer_comments=Keen".into()),
                                                                   "303  303  303  303  303  303  303  303  303  303  303  303  303  303")
            .link_holders(),
        post("/review-sign/{token}/sign", |w| format!("/review-sign/{}/sign", w.review_token),
            |_| form("signed_name=Owen+Owner".into()),
                                                                   "303  303  303  303  303  303  303  303  303  303  303  303  303  303"),
        post("/review-sign/{token}/sign", |w| format!("/review-sign/{}/sign", w.review_token),
            |_| form("signed_name=Someone+Else".into()),
                                                                   "422  422  422  422  422  422  422  422  422  422  422  422  422  422")
            .note("signed in another's name").link_holders(),
        post("/employer/learners/{id}/reviews/{review}/part", |w| format!("/employer/learners/{}/reviews/{}/part", w.a.id, w.review_a),
            |_| form("employer_comments=Much+improved".into()),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   303  404"),
        post("/employer/learners/{id}/reviews/{review}/sign", |w| format!("/employer/learners/{}/reviews/{}/sign", w.a.id, w.review_a),
            |_| form("signed_name=Erin+Mentor".into()),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   303  404"),
        post("/enrolments/{id}/apprenticeship", |w| format!("/enrolments/{}/apprenticeship", w.a.id),
            |_| form("start=2026-09-01&planned_end=2027-09-01&weekly_hours=37.5".into()),
                                                                   "in   404  404  404  404  404  404  404  303  404  404  in   404  404"),
        post("/enrolments/{id}/apprenticeship", |w| format!("/enrolments/{}/apprenticeship", w.a.id),
            |_| form("start=2026-09-01&planned_end=2027-09-01&weekly_hours=37.5&planned_hours=100".into()),
                                                                   "in   404  404  404  404  404  404  404  422  404  404  in   404  404")
            .note("an override without a reason"),
        post("/enrolments/{id}/apprenticeship/breaks", |w| format!("/enrolments/{}/apprenticeship/breaks", w.a.id),
            |w| form(format!("from={}&to={}&reason=Illness", w.otj_day, w.otj_day)),
                                                                   "in   404  404  404  404  404  404  404  303  404  404  in   404  404"),
        post("/enrolments/{id}/apprenticeship/breaks/{break}/remove", |w| format!("/enrolments/{}/apprenticeship/breaks/{}/remove", w.a.id, w.break_a),
            |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  303  404  404  in   404  404"),
        // IQA: the IQA records and closes; the assessor (or trainee) marks addressed.
        post(IQA, |w| format!("/enrolments/{}/iqa", w.a.id),
            |w| form(format!("target=unit%3A{}&verdict=agreed&feedback=", w.unit_a)),
                                                                   "in   404  404  404  404  404  303  404  404  404  404  in   404  404"),
        post(IQA, |w| format!("/enrolments/{}/iqa", w.a.id),
            |w| form(format!("target=evidence%3A{}&verdict=agreed&feedback=", w.evidence_a2)),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("A2's item"),
        post(IQA, |w| format!("/enrolments/{}/iqa", w.a.id),
            |w| form(format!("target=unit%3A{}&verdict=agreed&feedback=", w.unit_b)),
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("another centre's unit"),
        post(ADDRESSED, |w| format!("/enrolments/{}/iqa/{}/addressed", w.a.id, w.open_a), |_| Payload::Empty,
                                                                   "in   404  404  303  404  303  404  404  404  404  404  in   404  404"),
        post(ADDRESSED, |w| format!("/enrolments/{}/iqa/{}/addressed", w.a.id, w.addressed_a), |_| Payload::Empty,
                                                                   "in   404  404  409  404  409  404  404  404  404  404  in   404  404")
            .note("already addressed"),
        post(ADDRESSED, |w| format!("/enrolments/{}/iqa/{}/addressed", w.a.id, w.open_a2), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("A2's action under A"),
        post(CLOSED, |w| format!("/enrolments/{}/iqa/{}/closed", w.a.id, w.addressed_a), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  303  404  404  404  404  in   404  404"),
        post(CLOSED, |w| format!("/enrolments/{}/iqa/{}/closed", w.a.id, w.open_a), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  409  404  404  404  404  in   404  404")
            .note("not addressed yet"),
        post(CLOSED, |w| format!("/enrolments/{}/iqa/{}/closed", w.a.id, w.addressed_a2), |_| Payload::Empty,
                                                                   "in   404  404  404  404  404  404  404  404  404  404  in   404  404")
            .note("A2's action under A"),
    ]
}

fn reassign_a(w: &World) -> Payload {
    form(format!(
        "assessor={}&trainee={}&iqa={}",
        w.ids[&Viewer::OtherAssessor],
        w.ids[&Viewer::Trainee],
        w.ids[&Viewer::OtherIqa]
    ))
}

#[tokio::test]
async fn every_page_answers_each_viewer_as_the_matrix_says() {
    let rows = pages();
    let misses = run(world().await, &rows).await;
    assert!(misses.is_empty(), "{}", report(&rows, &misses));
}

#[tokio::test]
async fn sign_in_and_admin_forms_answer_each_viewer_as_the_matrix_says_and_refusals_change_nothing()
{
    let rows = account_forms();
    let misses = run(world().await, &rows).await;
    assert!(misses.is_empty(), "{}", report(&rows, &misses));
}

#[tokio::test]
async fn portfolio_forms_answer_each_viewer_as_the_matrix_says_and_refusals_change_nothing() {
    let rows = portfolio_forms();
    let misses = run(world().await, &rows).await;
    assert!(misses.is_empty(), "{}", report(&rows, &misses));
}

#[test]
fn routes_are_all_in_the_matrix() {
    let declared = routes::declared();
    assert!(
        declared.len() >= 20,
        "found only {} routes in src/web: is the scan still right?",
        declared.len()
    );
    let in_matrix: Vec<(Method, &str)> = pages()
        .into_iter()
        .chain(account_forms())
        .chain(portfolio_forms())
        .map(|r| (r.method, r.route))
        .collect();
    let missing: Vec<String> = declared
        .iter()
        .filter(|(m, p)| !in_matrix.iter().any(|(mm, pp)| mm == m && pp == p))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    let stale: Vec<String> = in_matrix
        .iter()
        .filter(|(m, p)| !declared.iter().any(|(dm, dp)| dm == m && dp == p))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes in src/web without a row in tests/it/access.rs: {missing:?}; \
         rows for routes src/web no longer declares: {stale:?}"
    );
}
