//! Bar charts drawn as SVG on the server: no JavaScript, and each bar a link to the
//! report filtered to the enrolments it counts. The drawing is for the eye (and hidden
//! from screen readers); the same numbers, with the same links, are a table under it.

/// One bar, or one group of bars sharing a label (one bar per series).
pub(crate) struct Bar {
    pub label: String,
    /// What the drawing writes under a column, where the full label has no room.
    pub short: String,
    /// One value and link per series.
    pub values: Vec<(i64, String)>,
}

/// A series: its name and the class its bars are drawn with.
pub(crate) struct Series {
    pub name: &'static str,
    pub class: &'static str,
}

pub(crate) enum Shape {
    /// Bars grow to the right, one row per label (few labels, long names).
    Rows,
    /// Bars grow upwards, one column per label (bands, months).
    Columns,
}

pub(crate) struct Chart {
    /// The id of the chart's heading, which names the figure and the table.
    pub id: &'static str,
    pub title: &'static str,
    /// What the values count ("Enrolments"), the table's column heading.
    pub unit: &'static str,
    pub shape: Shape,
    pub series: Vec<Series>,
    pub bars: Vec<Bar>,
    /// Said when every value is 0.
    pub empty: &'static str,
}

/// A rectangle of the drawing with its link and its text.
pub(crate) struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub class: &'static str,
    pub href: String,
    pub tip: String,
}

/// A piece of text of the drawing.
pub struct Text {
    pub x: u32,
    pub y: u32,
    pub anchor: &'static str,
    pub text: String,
}

/// The drawing of a chart, in the units of its view box.
pub(crate) struct Drawing {
    pub width: u32,
    pub height: u32,
    pub rects: Vec<Rect>,
    pub texts: Vec<Text>,
}

const ROW: u32 = 26;
const LABEL: u32 = 200;
const PLOT: u32 = 360;
const COLUMN_PLOT_HEIGHT: u32 = 180;

impl Chart {
    pub fn max(&self) -> i64 {
        self.bars
            .iter()
            .flat_map(|b| b.values.iter().map(|(v, _)| *v))
            .max()
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.max() == 0
    }

    pub(crate) fn draw(&self) -> Drawing {
        match self.shape {
            Shape::Rows => self.draw_rows(),
            Shape::Columns => self.draw_columns(),
        }
    }

    fn draw_rows(&self) -> Drawing {
        let max = self.max();
        let mut rects = Vec::new();
        let mut texts = Vec::new();
        for (i, bar) in self.bars.iter().enumerate() {
            let y = u32::try_from(i).unwrap_or(0) * ROW + 4;
            texts.push(Text {
                x: LABEL - 8,
                y: y + ROW / 2 + 1,
                anchor: "end",
                text: shorten(&bar.label, 30),
            });
            if let (Some((value, href)), Some(series)) = (bar.values.first(), self.series.first()) {
                let width = scale(*value, max, PLOT);
                rects.push(Rect {
                    x: LABEL,
                    y: y + 3,
                    width,
                    height: ROW - 8,
                    class: series.class,
                    href: href.clone(),
                    tip: format!("{}: {value}", bar.label),
                });
                texts.push(Text {
                    x: LABEL + width + 6,
                    y: y + ROW / 2 + 1,
                    anchor: "start",
                    text: value.to_string(),
                });
            }
        }
        Drawing {
            width: LABEL + PLOT + 60,
            height: u32::try_from(self.bars.len()).unwrap_or(0) * ROW + 8,
            rects,
            texts,
        }
    }

    fn draw_columns(&self) -> Drawing {
        let max = self.max();
        let per = u32::try_from(self.series.len().max(1)).unwrap_or(1);
        let group = 22 * per + 26;
        let top = 20;
        let base = top + COLUMN_PLOT_HEIGHT;
        let mut rects = Vec::new();
        let mut texts = Vec::new();
        for (i, bar) in self.bars.iter().enumerate() {
            let x0 = 8 + u32::try_from(i).unwrap_or(0) * group;
            for (s, ((value, href), series)) in bar.values.iter().zip(&self.series).enumerate() {
                let height = scale(*value, max, COLUMN_PLOT_HEIGHT);
                let x = x0 + u32::try_from(s).unwrap_or(0) * 22;
                rects.push(Rect {
                    x,
                    y: base - height,
                    width: 20,
                    height,
                    class: series.class,
                    href: href.clone(),
                    tip: if self.series.len() > 1 {
                        format!("{}, {}: {value}", bar.label, series.name)
                    } else {
                        format!("{}: {value}", bar.label)
                    },
                });
                if *value > 0 {
                    texts.push(Text {
                        x: x + 10,
                        y: base - height - 4,
                        anchor: "middle",
                        text: value.to_string(),
                    });
                }
            }
            texts.push(Text {
                x: x0 + (group - 26) / 2,
                y: base + 16,
                anchor: "middle",
                text: bar.short.clone(),
            });
        }
        Drawing {
            width: 16 + u32::try_from(self.bars.len()).unwrap_or(0) * group,
            height: base + 24,
            rects,
            texts,
        }
    }
}

/// `value` of `max` as a length of at most `full`; a value above 0 is never drawn
/// thinner than 2, so that it can be seen.
pub(crate) fn scale(value: i64, max: i64, full: u32) -> u32 {
    if value <= 0 || max <= 0 {
        return 0;
    }
    let length = (value.min(max) as f64 / max as f64 * f64::from(full)).round() as u32;
    length.max(2)
}

fn shorten(text: &str, most: usize) -> String {
    if text.chars().count() <= most {
        text.to_string()
    } else {
        let cut: String = text.chars().take(most - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(shape: Shape, values: &[i64]) -> Chart {
        Chart {
            id: "c",
            title: "Chart",
            unit: "Enrolments",
            shape,
            series: vec![Series {
                name: "All",
                class: "bar-a",
            }],
            bars: values
                .iter()
                .enumerate()
                .map(|(i, v)| Bar {
                    label: format!("Bar {i}"),
                    short: format!("{i}"),
                    values: vec![(*v, format!("/r?b={i}"))],
                })
                .collect(),
            empty: "Nothing yet.",
        }
    }

    #[test]
    fn the_longest_bar_fills_the_plot_and_small_ones_stay_visible() {
        assert_eq!(scale(50, 50, 420), 420);
        assert_eq!(scale(25, 50, 420), 210);
        assert_eq!(scale(1, 10_000, 420), 2);
        assert_eq!(scale(0, 10, 420), 0);
        assert_eq!(scale(5, 0, 420), 0);
    }

    #[test]
    fn rows_link_each_bar_and_print_its_value() {
        let d = chart(Shape::Rows, &[3, 0, 12]).draw();
        assert_eq!(d.rects.len(), 3);
        assert_eq!(d.rects[2].width, PLOT);
        assert_eq!(d.rects[1].width, 0);
        assert_eq!(d.rects[0].href, "/r?b=0");
        assert!(d.texts.iter().any(|t| t.text == "12"));
        assert!(d.height >= 3 * ROW);
    }

    #[test]
    fn columns_stand_on_one_base_line() {
        let d = chart(Shape::Columns, &[4, 8]).draw();
        let bases: Vec<u32> = d.rects.iter().map(|r| r.y + r.height).collect();
        assert_eq!(bases[0], bases[1]);
        assert_eq!(d.rects[1].height, COLUMN_PLOT_HEIGHT);
        assert!(d.rects[0].x < d.rects[1].x);
    }

    #[test]
    fn an_all_zero_chart_is_empty() {
        assert!(chart(Shape::Rows, &[0, 0]).is_empty());
        assert!(!chart(Shape::Rows, &[0, 1]).is_empty());
    }
}
