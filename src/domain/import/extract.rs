//! The file's shape: which keys each table has, their types, and the checks that need
//! only the table itself. Cross-references are left to `validate`.
use super::fields::{
    array, boolean, each, int_in, level, plain_text, text, Errors, Fields, Got, Reported, Sp,
};
use super::tree::{Kind, Node};
use crate::domain::qualification::LevelCredits;

const UNIT_CREDITS: (u32, u32) = (1, 999);
const RULE_CREDITS: (u32, u32) = (1, 9999);

/// Fields that could not be read are `None`; an error has then been recorded and the
/// result is only used to find further errors.
#[derive(Debug, Default)]
pub(super) struct RawQualification {
    pub code: Option<String>,
    pub title: Option<String>,
    pub level: Option<u8>,
    pub awarding_body: Option<String>,
    pub units: Vec<RawUnit>,
    pub majors: Vec<RawMajor>,
}

#[derive(Debug)]
pub(super) struct RawUnit {
    pub path: String,
    pub code: Option<Sp<String>>,
    pub title: Option<String>,
    pub level: Option<u8>,
    pub credits: Option<u32>,
    pub outcomes: Vec<RawOutcome>,
}

#[derive(Debug)]
pub(super) struct RawOutcome {
    pub path: String,
    pub number: Option<Sp<String>>,
    pub title: Option<String>,
    pub criteria: Vec<RawCriterion>,
}

#[derive(Debug)]
pub(super) struct RawCriterion {
    pub path: String,
    pub number: Option<Sp<String>>,
    pub text: Option<String>,
}

#[derive(Debug)]
pub(super) struct RawMajor {
    pub path: String,
    pub code: Option<Sp<String>>,
    pub title: Option<String>,
    pub rule_sets: Vec<RawRuleSet>,
}

#[derive(Debug)]
pub(super) struct RawRuleSet {
    pub title: String,
    pub min_credits: Option<u32>,
    pub min_credits_at_level: Vec<LevelCredits>,
    pub barred: Vec<Vec<UnitRef>>,
    pub groups: Vec<RawGroup>,
}

#[derive(Debug)]
pub(super) struct RawGroup {
    pub path: String,
    pub title: Option<String>,
    pub units: Vec<UnitRef>,
    pub all: bool,
    pub min_units: Option<u32>,
    pub min_credits: Option<u32>,
    pub min_credits_line: Option<u32>,
    pub max_credits: Option<u32>,
}

#[derive(Debug)]
pub(super) struct UnitRef {
    pub path: String,
    pub line: Option<u32>,
    pub code: String,
}

pub(super) fn qualification(root: &Node, errs: &mut Errors) -> RawQualification {
    let mut raw = RawQualification::default();
    let Ok(top) = Fields::of(root, "", &["qualification", "unit", "major"], errs) else {
        return raw;
    };
    if top.is_empty() {
        errs.add(
            "",
            None,
            "the file has no [qualification] table and no units",
        );
        return raw;
    }
    const KEYS: &[&str] = &["code", "title", "level", "awarding_body"];
    let head = top.req("qualification", errs, |n, p, e| Fields::of(n, p, KEYS, e));
    if let Ok(q) = head {
        raw.code = q.req("code", errs, plain_text).ok();
        raw.title = q.req("title", errs, plain_text).ok();
        raw.level = q.req("level", errs, level).ok();
        raw.awarding_body = q.req("awarding_body", errs, plain_text).ok();
    }
    raw.units = list(&top, "unit", errs, unit);
    if no_items(&top, "unit") {
        errs.add(
            "unit",
            None,
            "missing: a qualification needs at least one [[unit]]",
        );
    }
    raw.majors = list(&top, "major", errs, major);
    raw
}

fn unit(node: &Node, path: &str, errs: &mut Errors) -> Got<RawUnit> {
    let f = Fields::of(
        node,
        path,
        &["code", "title", "level", "credits", "outcome"],
        errs,
    )?;
    let code = f.req("code", errs, text).ok();
    let title = f.req("title", errs, plain_text).ok();
    let level = f.req("level", errs, level).ok();
    let credits = f.req("credits", errs, int_in(UNIT_CREDITS.0, UNIT_CREDITS.1));
    let outcomes = list(&f, "outcome", errs, outcome);
    // An outcome without criteria reports itself, so the unit only speaks for itself.
    if no_items(&f, "outcome") {
        errs.add(path, f.line, "has no assessment criteria");
    }
    Ok(RawUnit {
        path: path.to_string(),
        code,
        title,
        level,
        credits: credits.ok(),
        outcomes,
    })
}

fn outcome(node: &Node, path: &str, errs: &mut Errors) -> Got<RawOutcome> {
    let f = Fields::of(node, path, &["number", "title", "criterion"], errs)?;
    let number = f.req("number", errs, text).ok();
    let title = f.req("title", errs, plain_text).ok();
    let criteria = list(&f, "criterion", errs, criterion);
    if no_items(&f, "criterion") {
        errs.add(path, f.line, "has no assessment criteria");
    }
    Ok(RawOutcome {
        path: path.to_string(),
        number,
        title,
        criteria,
    })
}

fn criterion(node: &Node, path: &str, errs: &mut Errors) -> Got<RawCriterion> {
    let f = Fields::of(node, path, &["number", "text"], errs)?;
    Ok(RawCriterion {
        path: path.to_string(),
        number: f.req("number", errs, text).ok(),
        text: f.req("text", errs, plain_text).ok(),
    })
}

/// The readable elements of an optional list; a list of the wrong type is reported and
/// read as empty.
fn list<'a, T>(
    f: &Fields<'a>,
    key: &str,
    errs: &mut Errors,
    read: impl FnMut(&'a Node, &str, &mut Errors) -> Got<T>,
) -> Vec<T> {
    match f.opt(key, errs, array) {
        Ok(Some(items)) => each(items, &f.path_of(key), errs, read),
        _ => Vec::new(),
    }
}

/// True when the key is absent or an empty array, but not when it has the wrong type or
/// only bad elements: those are reported already.
fn no_items(f: &Fields<'_>, key: &str) -> bool {
    match f.get(key).map(|n| &n.kind) {
        None => true,
        Some(Kind::Array(items)) => items.is_empty(),
        Some(_) => false,
    }
}

/// Keys that make a major's rules "direct", i.e. one rule set written inline.
const DIRECT: &[&str] = &["min_credits", "min_credits_at_level", "barred", "group"];
const RULE_SET_KEYS: &[&str] = &[
    "title",
    "min_credits",
    "min_credits_at_level",
    "barred",
    "group",
];

fn major(node: &Node, path: &str, errs: &mut Errors) -> Got<RawMajor> {
    let mut keys = vec!["code", "title", "rule_set"];
    keys.extend_from_slice(DIRECT);
    let f = Fields::of(node, path, &keys, errs)?;
    let code = f.req("code", errs, text).ok();
    let title = f.req("title", errs, plain_text).ok();
    let direct: Vec<&str> = DIRECT.iter().copied().filter(|k| f.has(k)).collect();
    let blocks = f.has("rule_set");
    let mut rule_sets = Vec::new();
    if blocks && !direct.is_empty() {
        let message = format!(
            "has both direct rules ({}) and rule_set blocks; write one or the other",
            direct.join(", ")
        );
        errs.add(path, f.line, message);
    }
    if !blocks || !direct.is_empty() {
        // With rule sets present too, missing direct groups would only repeat the error above.
        let no_groups = (!blocks).then_some("needs at least one group or rule_set");
        let title = title.clone().unwrap_or_default();
        rule_sets.extend(rules(&f, title, no_groups, errs));
    }
    if blocks {
        if no_items(&f, "rule_set") {
            errs.add(
                &f.path_of("rule_set"),
                f.line,
                "must list at least one rule set",
            );
        }
        rule_sets.extend(list(&f, "rule_set", errs, |n, p, e| {
            let rs = Fields::of(n, p, RULE_SET_KEYS, e)?;
            let title = rs.opt("title", e, plain_text).ok().flatten();
            let title = title.unwrap_or_else(|| format!("Rule set {}", position(p)));
            rules(&rs, title, Some("needs at least one group"), e).ok_or(Reported)
        }));
    }
    Ok(RawMajor {
        path: path.to_string(),
        code,
        title,
        rule_sets,
    })
}

/// The 1-based position at the end of a path such as `major[2].rule_set[3]`.
fn position(path: &str) -> &str {
    path.rsplit('[')
        .next()
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or("")
}

/// The rules of one rule set, written in a `[[major.rule_set]]` block or directly in the
/// major. `None` when it has no groups; `no_groups` is the message for that, if any.
fn rules(
    f: &Fields<'_>,
    title: String,
    no_groups: Option<&str>,
    errs: &mut Errors,
) -> Option<RawRuleSet> {
    let credits = int_in(RULE_CREDITS.0, RULE_CREDITS.1);
    let min_credits = f.opt("min_credits", errs, credits).ok().flatten();
    let min_credits_at_level = match f.opt("min_credits_at_level", errs, array) {
        Ok(Some(items)) => level_credits(items, &f.path_of("min_credits_at_level"), errs),
        _ => Vec::new(),
    };
    let barred = list(f, "barred", errs, barred_set);
    let groups = list(f, "group", errs, group);
    if no_items(f, "group") {
        if let Some(message) = no_groups {
            errs.add(&f.path, f.line, message);
        }
    }
    if groups.is_empty() {
        return None;
    }
    Some(RawRuleSet {
        title,
        min_credits,
        min_credits_at_level,
        barred,
        groups,
    })
}

fn level_credits(items: &[Node], path: &str, errs: &mut Errors) -> Vec<LevelCredits> {
    let mut seen: Vec<u8> = Vec::new();
    each(items, path, errs, |n, p, e| {
        let f = Fields::of(n, p, &["level", "credits"], e)?;
        let level = f.req("level", e, level);
        let credits = f.req("credits", e, int_in(RULE_CREDITS.0, RULE_CREDITS.1));
        let (level, credits) = (level?, credits?);
        if seen.contains(&level) {
            let line = f.get("level").and_then(|l| l.line);
            e.add(&f.path_of("level"), line, format!("duplicate {level}"));
            return Err(Reported);
        }
        seen.push(level);
        Ok(LevelCredits { level, credits })
    })
}

fn unit_refs(node: &Node, path: &str, errs: &mut Errors) -> Got<Vec<UnitRef>> {
    let items = array(node, path, errs)?;
    Ok(each(items, path, errs, |n, p, e| {
        let s = text(n, p, e)?;
        Ok(UnitRef {
            path: p.to_string(),
            line: s.line,
            code: s.value,
        })
    }))
}

fn barred_set(node: &Node, path: &str, errs: &mut Errors) -> Got<Vec<UnitRef>> {
    if let Kind::Str(_) = node.kind {
        // The likely slip is a flat list where a list of sets belongs.
        let message = "expected an array, found a string: barred is a list of sets, \
                       e.g. barred = [[\"214\", \"215\"]]";
        errs.add(path, node.line, message);
        return Err(Reported);
    }
    let refs = unit_refs(node, path, errs)?;
    if let Kind::Array(items) = &node.kind {
        if items.len() < 2 {
            errs.add(
                path,
                node.line,
                "needs at least 2 units: at most one of them may count",
            );
        }
    }
    Ok(refs)
}

fn group(node: &Node, path: &str, errs: &mut Errors) -> Got<RawGroup> {
    const KEYS: &[&str] = &[
        "title",
        "units",
        "all",
        "min_units",
        "min_credits",
        "max_credits",
    ];
    let f = Fields::of(node, path, KEYS, errs)?;
    let title = f.req("title", errs, plain_text).ok();
    let units = f.req("units", errs, unit_refs);
    let listed = match f.get("units").map(|n| &n.kind) {
        Some(Kind::Array(items)) => items.len(),
        _ => 0,
    };
    if listed == 0 && units.is_ok() {
        errs.add(&f.path_of("units"), f.line, "must list at least one unit");
    }
    let credits = int_in(RULE_CREDITS.0, RULE_CREDITS.1);
    let all = f.opt("all", errs, boolean);
    let min_units = f.opt("min_units", errs, int_in(1, RULE_CREDITS.1));
    let min_credits = f.opt("min_credits", errs, &credits);
    let max_credits = f.opt("max_credits", errs, &credits);
    let set = |r: &Got<Option<u32>>| !matches!(r, Ok(None));
    if !matches!(all, Ok(Some(true)) | Err(_))
        && !set(&min_units)
        && !set(&min_credits)
        && !set(&max_credits)
    {
        errs.add(
            path,
            f.line,
            "needs a rule: all = true, min_units, min_credits or max_credits",
        );
    }
    if let Ok(Some(n)) = min_units {
        if listed > 0 && n as usize > listed {
            let line = f.get("min_units").and_then(|n| n.line);
            errs.add(
                &f.path_of("min_units"),
                line,
                format!("{n} is more than the {listed} units in this group"),
            );
        }
    }
    if let (Ok(Some(lo)), Ok(Some(hi))) = (min_credits, max_credits) {
        if hi < lo {
            let line = f.get("max_credits").and_then(|n| n.line);
            errs.add(
                &f.path_of("max_credits"),
                line,
                format!("{hi} is less than min_credits {lo}"),
            );
        }
    }
    Ok(RawGroup {
        path: path.to_string(),
        title,
        units: units.unwrap_or_default(),
        all: matches!(all, Ok(Some(true))),
        min_units: min_units.ok().flatten(),
        min_credits: min_credits.ok().flatten(),
        min_credits_line: f.get("min_credits").and_then(|n| n.line),
        max_credits: max_credits.ok().flatten(),
    })
}
