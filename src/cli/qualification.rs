use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::domain::audit::{audit_units, progress_with_units_achieved, AuditSummary};
use crate::domain::describe::describe_qualification;
use crate::domain::import::{self, Format};
use crate::domain::Qualification;

/// Reads and parses a file; on import errors prints every one to stderr.
fn load(file: &Path) -> anyhow::Result<Result<Qualification, ExitCode>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let format = Format::from_path(&file.to_string_lossy());
    match import::parse(&text, format) {
        Ok(q) => Ok(Ok(q)),
        Err(errors) => {
            eprintln!(
                "{}: {} error(s), nothing imported:",
                file.display(),
                errors.0.len()
            );
            for e in &errors.0 {
                eprintln!("  {e}");
            }
            Ok(Err(ExitCode::FAILURE))
        }
    }
}

pub fn check(file: &Path) -> anyhow::Result<ExitCode> {
    Ok(match load(file)? {
        Ok(q) => {
            println!("{} is valid.\n", file.display());
            print!("{}", describe_qualification(&q));
            ExitCode::SUCCESS
        }
        Err(code) => code,
    })
}

/// One suggestion as `suggest --json` prints it.
#[derive(serde::Serialize)]
struct Suggested<'a> {
    unit: &'a str,
    criterion: &'a str,
    score: f32,
    confident: bool,
    because: &'a str,
}

/// Ranks the criteria `text` most likely meets: by words and meaning with the model (as
/// `serve` finds it), else by words alone, said on standard error.
pub(crate) fn suggest(
    data_dir: &Path,
    file: &Path,
    text: &Path,
    top: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let q = match load(file)? {
        Ok(q) => q,
        Err(code) => return Ok(code),
    };
    let evidence =
        std::fs::read_to_string(text).with_context(|| format!("cannot read {}", text.display()))?;
    let criteria = crate::domain::suggest::Criteria::of(&q);
    let ranked = match crate::embedding::Embedder::load(&crate::embedding::model_dir(data_dir)) {
        Ok(model) => {
            let texts: Vec<String> = criteria.docs.iter().map(|d| d.embedded_text()).collect();
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            let criterion_vectors = model.embed(&texts)?;
            let sentence_vectors = model.embed(&crate::domain::suggest::sentences(&evidence))?;
            let vectors = crate::domain::suggest::Vectors {
                criteria: &criterion_vectors,
                sentences: &sentence_vectors,
                examples: &[],
            };
            crate::domain::suggest::rank(&criteria, &evidence, Some(vectors), top)
        }
        Err(e) => {
            eprintln!("Ranked by words alone: {e}.");
            crate::domain::suggest::rank(&criteria, &evidence, None, top)
        }
    };
    if json {
        let ranked: Vec<Suggested> = ranked
            .iter()
            .map(|r| Suggested {
                unit: &r.unit,
                criterion: &r.criterion,
                score: r.score,
                confident: r.confident,
                because: &r.because,
            })
            .collect();
        println!("{}", serde_json::json!({ "ranked": ranked }));
    } else {
        for r in &ranked {
            let line = if r.confident {
                ""
            } else {
                " (below the confidence line)"
            };
            println!(
                "{}/{}  {:.3}{line}\n    because: {}",
                r.unit, r.criterion, r.score, r.because
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn what_if(
    file: &Path,
    major: &str,
    units: &[String],
    json: bool,
) -> anyhow::Result<ExitCode> {
    let q = match load(file)? {
        Ok(q) => q,
        Err(code) => return Ok(code),
    };
    let Some(m) = q.major_index(major) else {
        let known: Vec<&str> = q.majors.iter().map(|m| m.code.as_str()).collect();
        eprintln!(
            "unknown major \"{major}\"; this qualification's majors are: {}",
            known.join(", ")
        );
        return Ok(ExitCode::FAILURE);
    };
    let mut achieved = Vec::new();
    let mut unknown = Vec::new();
    for code in units.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
        match q.unit_index(code) {
            Some(u) => achieved.push(u),
            None => unknown.push(code),
        }
    }
    if !unknown.is_empty() {
        eprintln!("unknown unit code(s): {}", unknown.join(", "));
        return Ok(ExitCode::FAILURE);
    }
    let report = audit_units(&q, m, progress_with_units_achieved(&q, &achieved));
    let summary = AuditSummary::new(&q, &report);
    if json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        print!("{}", summary.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn import(
    data_dir: &Path,
    file: &Path,
    centre: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let q = match load(file)? {
        Ok(q) => q,
        Err(code) => return Ok(code),
    };
    let database = crate::startup::Database::open(data_dir).await?;
    let result = async {
        let centre = crate::db::centres::resolve_for_import(&database.pool, centre).await?;
        let outcome =
            crate::db::qualifications::import(&database.pool, centre.id, &q, None).await?;
        anyhow::Ok((centre, outcome))
    }
    .await;
    database.close().await;
    let (centre, outcome) = result?;
    if outcome.created {
        println!(
            "Imported {} \"{}\" as version {} into {}.",
            q.code, q.title, outcome.version, centre.name
        );
    } else {
        println!(
            "{} \"{}\" is unchanged: version {} already has this content.",
            q.code, q.title, outcome.version
        );
    }
    Ok(ExitCode::SUCCESS)
}
