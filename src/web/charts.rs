//! Charts drawn on the server as SVG (issue 14, point 3): no script, no library, the same
//! in every browser and in print. Each chart names itself and says its figures in words
//! (`<title>`, `<desc>`); the page shows the numbers as a table beside it too.
use std::fmt::Write;

use crate::domain::apprenticeship::{Minutes, Week, MINUTES_PER_HOUR};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 32.0;

fn hours(m: Minutes) -> String {
    let whole = m / MINUTES_PER_HOUR;
    let rest = m % MINUTES_PER_HOUR;
    if rest == 0 {
        format!("{whole}")
    } else {
        format!("{whole}.{:01}", rest * 10 / MINUTES_PER_HOUR)
    }
}

/// The cumulative OTJ chart: the target line (dashed) and the approved line (solid) by
/// week. `id` makes its title and description ids unique on the page.
pub fn otj_chart(id: &str, weeks: &[Week]) -> String {
    let top = weeks
        .iter()
        .map(|w| w.target.max(w.approved.unwrap_or(0)))
        .max()
        .unwrap_or(0)
        .max(1);
    let span = (weeks.len().max(2) - 1) as f64;
    let x = |i: usize| LEFT + (WIDTH - LEFT - RIGHT) * i as f64 / span;
    let y = |m: Minutes| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - m as f64 / top as f64);
    let line = |points: &mut dyn Iterator<Item = (usize, Minutes)>| {
        points
            .map(|(i, m)| format!("{:.1},{:.1}", x(i), y(m)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let target = line(&mut weeks.iter().enumerate().map(|(i, w)| (i, w.target)));
    let approved = line(
        &mut weeks
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.approved.map(|a| (i, a))),
    );
    let reached = weeks.iter().rev().find_map(|w| w.approved.map(|a| (w, a)));
    let desc = match reached {
        Some((w, a)) => format!(
            "By {}: {} hours approved against a target of {} hours. The plan is {} hours over {} weeks.",
            w.ends
                .format(time::macros::format_description!(
                    "[day padding:none] [month repr:short] [year]"
                ))
                .unwrap_or_default(),
            hours(a),
            hours(w.target),
            hours(weeks.last().map_or(0, |l| l.target)),
            weeks.len()
        ),
        None => format!(
            "No week has ended yet. The plan is {} hours over {} weeks.",
            hours(weeks.last().map_or(0, |l| l.target)),
            weeks.len()
        ),
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg">"#
    );
    let _ = write!(
        svg,
        r#"<title id="{id}-title">Off-the-job hours: target and approved, week by week</title><desc id="{id}-desc">{desc}</desc>"#
    );
    let axis_y = HEIGHT - BOTTOM;
    let _ = write!(
        svg,
        r#"<g class="chart-axes" aria-hidden="true"><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{axis_y}"/><line x1="{LEFT}" y1="{axis_y}" x2="{}" y2="{axis_y}"/><text x="{}" y="{}" text-anchor="end">{} h</text><text x="{}" y="{}" text-anchor="end">0</text><text x="{LEFT}" y="{}">week 1</text><text x="{}" y="{}" text-anchor="end">week {}</text></g>"#,
        WIDTH - RIGHT,
        LEFT - 6.0,
        TOP + 4.0,
        hours(top),
        LEFT - 6.0,
        axis_y,
        HEIGHT - 10.0,
        WIDTH - RIGHT,
        HEIGHT - 10.0,
        weeks.len()
    );
    let _ = write!(
        svg,
        r#"<polyline class="chart-target" fill="none" stroke-dasharray="6 4" points="{target}"/>"#
    );
    if !approved.is_empty() {
        let _ = write!(
            svg,
            r#"<polyline class="chart-approved" fill="none" points="{approved}"/>"#
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn weeks(approved_until: usize) -> Vec<Week> {
        (0..10)
            .map(|i| Week {
                ends: date!(2026 - 01 - 12) + time::Duration::weeks(i as i64),
                target: (i as Minutes + 1) * 360,
                approved: (i < approved_until).then_some(i as Minutes * 300),
            })
            .collect()
    }

    fn points(svg: &str, class: &str) -> usize {
        svg.split(&format!(r#"class="{class}""#))
            .nth(1)
            .and_then(|rest| rest.split("points=\"").nth(1))
            .and_then(|p| p.split('"').next())
            .map_or(0, |p| p.split_whitespace().count())
    }

    #[test]
    fn the_target_runs_every_week_and_the_approved_line_to_today() {
        let svg = otj_chart("otj", &weeks(4));
        assert_eq!(points(&svg, "chart-target"), 10);
        assert_eq!(points(&svg, "chart-approved"), 4);
        assert!(svg.contains(r#"aria-labelledby="otj-title otj-desc""#));
        assert!(
            svg.contains("By 2 Feb 2026: 15 hours approved against a target of 24 hours. The plan is 60 hours over 10 weeks."),
            "{svg}"
        );
    }

    #[test]
    fn before_the_first_week_ends_there_is_no_approved_line() {
        let svg = otj_chart("otj", &weeks(0));
        assert_eq!(points(&svg, "chart-approved"), 0);
        assert!(svg.contains("No week has ended yet. The plan is 60 hours over 10 weeks."));
        let empty = otj_chart("otj", &[]);
        assert!(empty.starts_with("<svg") && empty.ends_with("</svg>"));
    }

    #[test]
    fn hours_are_written_as_people_write_them() {
        assert_eq!(hours(0), "0");
        assert_eq!(hours(90), "1.5");
        assert_eq!(hours(7 * 60 + 30), "7.5");
        assert_eq!(hours(20), "0.3");
    }
}
