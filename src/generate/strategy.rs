//! The four prompting strategies (PAPER.md), each a minijinja template in `prompts/`. They are
//! cumulative: `schema` adds column definitions and constraints to `naive`; `conditional` adds
//! column-by-column conditioning to `schema`; `group` fixes one demographic cell (race × sex) per
//! call on top of `conditional`.

use crate::cohort::schema::{self, Kind};
use crate::error::{Error, Result};
use crate::fsutil::sha256_hex;
use minijinja::{context, Environment};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "tool", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    Naive,
    Schema,
    Conditional,
    Group,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [
        Strategy::Naive,
        Strategy::Schema,
        Strategy::Conditional,
        Strategy::Group,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Naive => "naive",
            Strategy::Schema => "schema",
            Strategy::Conditional => "conditional",
            Strategy::Group => "group",
        }
    }

    /// Template files this strategy's prompt is made of (for the template hash).
    fn files(&self) -> &'static [&'static str] {
        match self {
            Strategy::Naive => &["system.j2", "naive.j2", "_examples.j2", "_request.j2"],
            Strategy::Schema => &[
                "system.j2",
                "schema.j2",
                "_examples.j2",
                "_schema.j2",
                "_request.j2",
            ],
            Strategy::Conditional => &[
                "system.j2",
                "conditional.j2",
                "_examples.j2",
                "_schema.j2",
                "_conditional.j2",
                "_request.j2",
            ],
            Strategy::Group => &[
                "system.j2",
                "group.j2",
                "_examples.j2",
                "_schema.j2",
                "_conditional.j2",
                "_request.j2",
            ],
        }
    }
}

impl std::str::FromStr for Strategy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Strategy::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown strategy '{s}' (naive, schema, conditional, group)"
                ))
            })
    }
}

/// The templates, compiled into the binary so the tool and notebooks render the same prompts.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("system.j2", include_str!("../../prompts/system.j2")),
    ("naive.j2", include_str!("../../prompts/naive.j2")),
    ("schema.j2", include_str!("../../prompts/schema.j2")),
    (
        "conditional.j2",
        include_str!("../../prompts/conditional.j2"),
    ),
    ("group.j2", include_str!("../../prompts/group.j2")),
    ("_examples.j2", include_str!("../../prompts/_examples.j2")),
    ("_schema.j2", include_str!("../../prompts/_schema.j2")),
    (
        "_conditional.j2",
        include_str!("../../prompts/_conditional.j2"),
    ),
    ("_request.j2", include_str!("../../prompts/_request.j2")),
    ("prefix.j2", include_str!("../../prompts/prefix.j2")),
    ("_task.j2", include_str!("../../prompts/_task.j2")),
];

/// Where a call's examples go in the user message. `examples-first` (every cell recorded before
/// layout was an axis) opens with them; `prefix-first` puts what is the same for every call of a
/// cell first (task, header, column definitions, conditioning) so a llama-server slot reuses its
/// cached prefix, and the examples and the call's group last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    #[default]
    ExamplesFirst,
    PrefixFirst,
}

impl Layout {
    pub fn is_examples_first(&self) -> bool {
        *self == Layout::ExamplesFirst
    }
    pub fn name(&self) -> &'static str {
        match self {
            Layout::ExamplesFirst => "examples-first",
            Layout::PrefixFirst => "prefix-first",
        }
    }
}

fn template(name: &str) -> &'static str {
    TEMPLATES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .unwrap_or("")
}

/// The template a call is rendered from.
pub fn template_id(s: Strategy, layout: Layout) -> String {
    match layout {
        Layout::ExamplesFirst => format!("prompts/{}.j2", s.name()),
        Layout::PrefixFirst => "prompts/prefix.j2".into(),
    }
}

/// sha256 over the strategy's template files (name + text, in a fixed order).
pub fn template_hash(s: Strategy, layout: Layout) -> String {
    let prefix: Vec<&str> = s
        .files()
        .iter()
        .filter(|f| **f != "_request.j2")
        .map(|f| {
            if f.starts_with(s.name()) {
                "prefix.j2"
            } else {
                f
            }
        })
        .chain(["_task.j2"])
        .collect();
    let files = match layout {
        Layout::ExamplesFirst => s.files(),
        Layout::PrefixFirst => &prefix[..],
    };
    let mut all = String::new();
    for f in files {
        all.push_str(f);
        all.push('\0');
        all.push_str(template(f));
        all.push('\0');
    }
    sha256_hex(all.as_bytes())
}

/// A demographic cell for the group strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// One of race_black, race_hispanic, race_asian, race_other.
    pub race: &'static str,
    pub female: bool,
}

/// The 8 race × sex cells, in the order calls cycle through them.
pub const GROUPS: [Group; 8] = [
    Group {
        race: "race_other",
        female: false,
    },
    Group {
        race: "race_other",
        female: true,
    },
    Group {
        race: "race_black",
        female: false,
    },
    Group {
        race: "race_black",
        female: true,
    },
    Group {
        race: "race_hispanic",
        female: false,
    },
    Group {
        race: "race_hispanic",
        female: true,
    },
    Group {
        race: "race_asian",
        female: false,
    },
    Group {
        race: "race_asian",
        female: true,
    },
];

impl Group {
    pub fn label(&self) -> String {
        format!(
            "{}/{}",
            self.race.trim_start_matches("race_"),
            if self.female { "female" } else { "male" }
        )
    }
    pub fn description(&self) -> String {
        let race = match self.race {
            "race_black" => "African American",
            "race_hispanic" => "Hispanic",
            "race_asian" => "Asian",
            _ => "white or of another or unrecorded ethnicity (not African American, Hispanic or Asian)",
        };
        format!(
            "{} {race} patients",
            if self.female { "female" } else { "male" }
        )
    }
    /// Whether a real row (by its column values) belongs to this group.
    pub fn contains(&self, race_value: f64, is_female: f64) -> bool {
        race_value == 1.0 && (is_female == 1.0) == self.female
    }
}

/// Everything a prompt is rendered from.
pub struct PromptInput<'a> {
    pub strategy: Strategy,
    pub columns: &'a [&'a str],
    pub examples_csv: &'a str,
    pub n_examples: usize,
    pub n_rows: usize,
    pub group: Option<Group>,
    /// Death rate of the member pool, as text ("8.5%").
    pub death_rate: &'a str,
    pub layout: Layout,
}

fn fmt_num(v: f64) -> String {
    crate::cohort::matrix::canonical(v)
}

/// Render (system, user) messages.
pub fn render(input: &PromptInput) -> Result<(String, String)> {
    let mut env = Environment::new();
    for (name, text) in TEMPLATES {
        env.add_template(name, text)
            .map_err(|e| Error::Invalid(format!("prompt template {name}: {e}")))?;
    }
    let cols: Vec<minijinja::Value> = input
        .columns
        .iter()
        .map(|name| {
            let c = schema::column(name);
            let kind = match c.map(|c| c.kind) {
                Some(Kind::Binary) | Some(Kind::Label) => "binary (0 or 1)",
                Some(Kind::Count) => "whole number",
                Some(Kind::Identifier) => "integer identifier",
                _ => "number",
            };
            let range = c
                .and_then(|c| c.range)
                .filter(|_| !c.is_some_and(|c| c.is_binary()));
            minijinja::Value::from_serialize(serde_json::json!({
                "name": name,
                "kind": kind,
                "unit": c.map(|c| c.unit).filter(|u| !u.is_empty() && *u != "0/1" && *u != "id"),
                "range": range.is_some(),
                "lo": range.map(|r| fmt_num(r.0)),
                "hi": range.map(|r| fmt_num(r.1)),
                "description": c.map(|c| c.description).unwrap_or(""),
            }))
        })
        .collect();
    let group = input.group.map(|g| {
        let in_cols = |n: &str| input.columns.contains(&n);
        let mut fixed = Vec::new();
        if in_cols(g.race) {
            fixed.push(format!("{} = 1", g.race));
        }
        if in_cols("is_female") {
            fixed.push(format!("is_female = {}", u8::from(g.female)));
        }
        serde_json::json!({"description": g.description(), "columns": fixed.join(" and ")})
    });
    let ctx = context! {
        columns => cols,
        header => input.columns.join(","),
        examples_csv => input.examples_csv.trim_end(),
        n_examples => input.n_examples,
        n_rows => input.n_rows,
        group => group,
        death_rate => input.death_rate,
        has_race => schema::GROUP_COLUMNS[..4].iter().all(|c| input.columns.contains(c)),
        strategy => input.strategy.name(),
    };
    let render = |name: &str| -> Result<String> {
        env.get_template(name)
            .and_then(|t| t.render(&ctx))
            .map(|s| s.trim().to_string())
            .map_err(|e| Error::Invalid(format!("rendering {name}: {e}")))
    };
    let file = match input.layout {
        Layout::ExamplesFirst => format!("{}.j2", input.strategy.name()),
        Layout::PrefixFirst => "prefix.j2".into(),
    };
    Ok((render("system.j2")?, render(&file)?))
}
