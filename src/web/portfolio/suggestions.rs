//! The suggestions on an evidence page (issue 17, point 2): the criteria the item's text
//! most likely meets, as the reading job ranked and kept them, each with the sentences
//! that support it and a tick in the viewer's own layer. Suggestions are never ticks:
//! nothing here is counted or shown as progress.
use std::collections::HashMap;

use uuid::Uuid;

use super::evidence::{row, CriterionRow};
use crate::db::qualifications::LoadedVersion;
use crate::db::suggestions::{SuggestedBy, Suggestion};
use crate::domain::ticks::{Layer, Tick};

/// The strong suggestions shown, at most.
const SHOWN: usize = 5;
/// The weaker ones offered under them, at most.
const WEAKER: usize = 5;

/// One suggestion as the page shows it.
pub(crate) struct SuggestionView {
    pub c: CriterionRow,
    /// The sentence or two of the text that support it.
    pub because: String,
    /// Already ticked in the viewer's layer on this item.
    pub ticked: bool,
}

/// The item's suggestions as shown.
pub(crate) struct SuggestionsView {
    /// Ranked on words alone: the server has no language model.
    pub words_only: bool,
    pub strong: Vec<SuggestionView>,
    pub weaker: Vec<SuggestionView>,
}

/// The kept suggestions as this viewer sees them.
pub(crate) fn view(
    kept: (SuggestedBy, Vec<Suggestion>),
    version: &LoadedVersion,
    ticks: &[Tick],
    names: &HashMap<Uuid, String>,
    layer: Option<Layer>,
) -> SuggestionsView {
    let (by, list) = kept;
    let shown = |s: &Suggestion| {
        let c = row(version, ticks, names, s.criterion)?;
        let ticked = layer.is_some_and(|l| c.layers[l as usize].is_some());
        Some(SuggestionView {
            c,
            because: s.because.clone(),
            ticked,
        })
    };
    SuggestionsView {
        words_only: by == SuggestedBy::Lexical,
        strong: list
            .iter()
            .filter(|s| s.confident)
            .filter_map(shown)
            .take(SHOWN)
            .collect(),
        weaker: list
            .iter()
            .filter(|s| !s.confident)
            .filter_map(shown)
            .take(WEAKER)
            .collect(),
    }
}
