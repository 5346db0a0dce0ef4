//! The matrix (SPEC §3): the qualification's criteria down, the enrolment's evidence
//! items across, each cell showing the three layers. At 1,500 criteria × 60 items that
//! is 90,000 cells, so their markup is written here in one pass rather than by the
//! template cell by cell.
use std::collections::HashMap;
use std::ops::Range;

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use uuid::Uuid;

use super::progress::load;
use super::{Asked, Portfolio};
use crate::db::evidence::{self as db_evidence, Evidence};
use crate::db::users::User;
use crate::domain::progress::Layers;
use crate::domain::Qualification;
use crate::web::{page_cache, AppError, AppState};

/// A cell's markup for each set of layers: bit 1 learner, 2 trainee assessor, 4 assessor.
const CELLS: [&str; 8] = [
    "<td></td>",
    r#"<td><span class="mk l">L</span></td>"#,
    r#"<td><span class="mk t">T</span></td>"#,
    r#"<td><span class="mk l">L</span><span class="mk t">T</span></td>"#,
    r#"<td><span class="mk a">A</span></td>"#,
    r#"<td><span class="mk l">L</span><span class="mk a">A</span></td>"#,
    r#"<td><span class="mk t">T</span><span class="mk a">A</span></td>"#,
    r#"<td><span class="mk l">L</span><span class="mk t">T</span><span class="mk a">A</span></td>"#,
];

/// One row of the matrix, in the order the qualification lists them.
pub enum Row {
    Unit(String),
    Outcome(String),
    Criterion {
        label: String,
        text: String,
        confirmed: bool,
        /// The row's cells in `MatrixPage::cells`.
        cells: Range<usize>,
    },
}

#[derive(Template)]
#[template(path = "pages/portfolio/matrix.html", whitespace = "minimize")]
pub(crate) struct MatrixPage {
    header: super::Header,
    user: User,
    enrolment_id: Uuid,
    learner: String,
    code: String,
    title: String,
    rows: Vec<Row>,
    evidence: Vec<Evidence>,
    /// Every criterion row's cells, one after another.
    cells: String,
}

impl MatrixPage {
    // Askama passes template values by reference.
    fn cells_of(&self, range: &Range<usize>) -> &str {
        self.cells.get(range.clone()).unwrap_or_default()
    }
}

pub async fn page(
    State(state): State<AppState>,
    portfolio: Portfolio,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (key, revision) = match portfolio.asked(&state, page_cache::Page::Matrix, None, &headers) {
        Asked::Kept(page) => return Ok(page),
        Asked::ToRender(key, revision) => (key, revision),
    };
    let Portfolio {
        user, enrolment, ..
    } = portfolio;
    let id = enrolment.id;
    let loaded = load(&state, &enrolment).await?;
    let evidence = db_evidence::list_for_enrolment(&state.pool, id).await?;
    let width = evidence.len();
    let column_of: HashMap<Uuid, usize> = evidence
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id, i))
        .collect();
    // Criterion ordinal × evidence column → the layers' bits.
    let mut marks = vec![0u8; loaded.layers.len() * width];
    for (item, ordinal, layer) in &loaded.ticks {
        if let Some(&column) = column_of.get(item) {
            if let Some(m) = marks.get_mut(ordinal * width + column) {
                *m |= 1u8 << (*layer as u8);
            }
        }
    }
    let q = &loaded.version.qualification;
    let (rows, cells) = rows(q, &loaded.layers, &marks, width);
    let size = 32 * 1024 + cells.len() + rows.len() * 160;
    let page = MatrixPage {
        header: loaded.header(id),
        user,
        enrolment_id: id,
        learner: loaded.learner,
        rows,
        code: q.code.clone(),
        title: q.title.clone(),
        evidence,
        cells,
    };
    page_cache::render_and_keep(&state, key, revision, &page, size, &headers)
}

/// The rows, and the markup of every criterion row's cells.
fn rows(q: &Qualification, layers: &[Layers], marks: &[u8], width: usize) -> (Vec<Row>, String) {
    let mut rows = Vec::with_capacity(q.criterion_count() + q.units.len() * 6);
    let mut cells = String::with_capacity(marks.len() * 12);
    let mut ordinal = 0;
    for u in &q.units {
        rows.push(Row::Unit(format!("{} {}", u.code, u.title)));
        for o in &u.outcomes {
            rows.push(Row::Outcome(format!("{} {}", o.number, o.title)));
            for c in &o.criteria {
                let start = cells.len();
                let row = marks
                    .get(ordinal * width..(ordinal + 1) * width)
                    .unwrap_or_default();
                for &m in row {
                    cells.push_str(CELLS[usize::from(m & 7)]);
                }
                rows.push(Row::Criterion {
                    label: format!("{} {}", u.code, c.number),
                    text: c.text.clone(),
                    confirmed: layers.get(ordinal).is_some_and(|l| l.assessor),
                    cells: start..cells.len(),
                });
                ordinal += 1;
            }
        }
    }
    (rows, cells)
}

#[cfg(test)]
mod tests {
    use super::CELLS;

    #[test]
    fn each_cell_shows_exactly_the_layers_of_its_bits() {
        for (bits, cell) in CELLS.iter().enumerate() {
            for (bit, mark) in [(1, "mk l"), (2, "mk t"), (4, "mk a")] {
                assert_eq!(cell.contains(mark), bits & bit != 0, "{bits}: {cell}");
            }
            assert!(cell.starts_with("<td>") && cell.ends_with("</td>"));
        }
    }
}
