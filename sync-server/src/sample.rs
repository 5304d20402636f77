//! Synthetic responses to the household benchmark form (`schemas/forms/household-survey.json`,
//! the Voices translation of `shared/bench/household_survey.xml`): 30 questions and three
//! household members, with answers shaped like the OpenRosa sample submission. Used by the
//! tests and the ingest benchmark; deterministic in the index given.

use std::collections::BTreeMap;

use voices_core::answer::AnswerValue;
use voices_core::sync::{Hlc, ResponseStatus, Revision, VersionVector};

const FIRST: [&str; 8] = [
    "Grace", "Paul", "Emmanuel", "Achieng", "Fatuma", "John", "Amina", "Peter",
];
const LAST: [&str; 6] = ["Abdi", "Diallo", "Okello", "Otieno", "Mwangi", "Wanjiru"];

/// A small deterministic generator (SplitMix64), so samples need no random source and a
/// test that draws from a seed can be replayed.
pub struct Mix(pub u64);

impl Mix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn some(&mut self, items: &[&str]) -> String {
        let mut picked: Vec<&str> = items
            .iter()
            .copied()
            .filter(|_| self.below(3) == 0)
            .collect();
        if picked.is_empty() {
            picked.push(items[0]);
        }
        picked.join(" ")
    }
    fn name(&mut self) -> String {
        format!("{} {}", self.pick(&FIRST), self.pick(&LAST))
    }
}

/// Answers of sample response `i`, as flat paths.
pub fn household_answers(i: u64) -> BTreeMap<String, Option<String>> {
    let mut g = Mix(i.wrapping_mul(7919).wrapping_add(17));
    let mut a: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        a.insert(k.to_owned(), Some(v));
    };
    let day = 1 + g.below(28);
    set(
        "/start",
        format!("2026-11-{day:02}T08:{:02}:19.302+03:00", g.below(60)),
    );
    set(
        "/end",
        format!("2026-11-{day:02}T09:{:02}:02.114+03:00", g.below(60)),
    );
    set("/today", format!("2026-11-{day:02}"));
    set("/deviceid", format!("voices:{:016x}", g.next_u64()));
    set("/enumerator_name", g.name());
    set("/interview_date", format!("2026-11-{day:02}"));
    set(
        "/region",
        g.pick(&["north", "south", "east", "west", "central"])
            .into(),
    );
    set(
        "/district",
        g.pick(&["Kibera", "Kisumu", "Mombasa", "Garissa"]).into(),
    );
    set("/village", format!("Kijiji {}", g.below(40)));
    set(
        "/gps",
        format!(
            "-0.{:07} 30.{:07} {}.{} 9.5",
            g.below(9_999_999),
            g.below(9_999_999),
            900 + g.below(200),
            g.below(10)
        ),
    );
    set("/resp_name", g.name());
    set("/resp_age", (15 + g.below(90)).to_string());
    set("/resp_gender", g.pick(&["female", "male", "other"]).into());
    set("/resp_phone", format!("+2547{:08}", g.below(99_999_999)));
    set(
        "/resp_education",
        g.pick(&["none", "primary", "secondary", "tertiary"]).into(),
    );
    set(
        "/resp_marital",
        g.pick(&["single", "married", "widowed", "divorced"]).into(),
    );
    let size = 3 + g.below(12);
    set("/hh_size", size.to_string());
    set("/hh_children", g.below(size).to_string());
    set("/hh_head_gender", g.pick(&["female", "male"]).into());
    set(
        "/dwelling_type",
        g.pick(&["brick", "mud", "wood", "tent"]).into(),
    );
    set(
        "/water_source",
        g.pick(&["piped", "borehole", "well", "river", "rain"])
            .into(),
    );
    set("/toilet_type", g.pick(&["flush", "pit", "none"]).into());
    set(
        "/electricity",
        g.pick(&["grid", "solar", "generator", "none"]).into(),
    );
    set(
        "/assets",
        g.some(&["radio", "tv", "phone", "bicycle", "motorcycle", "fridge"]),
    );
    set(
        "/income_sources",
        g.some(&["farming", "wage", "trade", "remit", "transfer"]),
    );
    set(
        "/monthly_income",
        format!("{}.{:02}", g.below(2_000), g.below(100)),
    );
    set("/food_insecurity_days", g.below(31).to_string());
    set(
        "/last_harvest_date",
        format!("2026-{:02}-{:02}", 1 + g.below(10), 1 + g.below(28)),
    );
    set(
        "/crops",
        g.some(&["maize", "sorghum", "cassava", "beans", "rice", "groundnuts"]),
    );
    set("/livestock_count", g.below(40).to_string());
    set("/has_bank_account", g.pick(&["yes", "no"]).into());
    set("/member[]", "3".into());
    for m in 1..=3 {
        set(&format!("/member[{m}]/member_name"), g.name());
        set(&format!("/member[{m}]/member_age"), g.below(90).to_string());
        set(
            &format!("/member[{m}]/member_relation"),
            g.pick(&["spouse", "child", "parent", "sibling", "other"])
                .into(),
        );
    }
    set("/visited_clinic", g.pick(&["yes", "no"]).into());
    set("/vaccinated_children", g.below(5).to_string());
    set(
        "/illness_symptoms",
        g.some(&["fever", "cough", "diarrhoea", "rash", "none"]),
    );
    set(
        "/satisfaction",
        g.pick(&[
            "very_satisfied",
            "satisfied",
            "neutral",
            "dissatisfied",
            "very_dissatisfied",
        ])
        .into(),
    );
    set(
        "/comments",
        "Respondent asked about the next food distribution.".into(),
    );
    a
}

/// A UUID-shaped id, deterministic in `(kind, i)`.
pub fn sample_uuid(kind: u8, i: u64) -> String {
    let mut g = Mix(i ^ ((kind as u64) << 56));
    let (a, b) = (g.next_u64(), g.next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// The first revision of sample response `i`, made by `actor` on the household form.
pub fn household_revision(i: u64, actor: &str, form_version: &str) -> Revision {
    Revision {
        id: sample_uuid(1, i),
        response: sample_uuid(2, i),
        form: "household_survey".into(),
        version: form_version.into(),
        actor: actor.into(),
        seq: 1,
        validated: false,
        files: Default::default(),
        hlc: Hlc::new(1_764_130_000_000 + i, 0),
        seen: VersionVector::new(),
        set: household_answers(i)
            .into_iter()
            .map(|(k, v)| (k, v.map(AnswerValue::Text)))
            .collect(),
        consent: None,
        privacy: BTreeMap::new(),
        selections: BTreeMap::new(),
        matching: BTreeMap::new(),
        outcome: None,
        status: Some(ResponseStatus::Finalized),
    }
}
