//! Random selection of one respondent from a household roster: the draw itself.
//!
//! Pure and reproducible: the seed comes from the shell (the app reads it from the
//! operating system's random source) and is recorded with the draw, so anyone can run
//! [`draw`] again with the recorded seed and eligible list and get the same person.
//! The steps are simple enough to redo by hand or in a spreadsheet (docs/forms.md):
//! SplitMix64 numbers from the seed, a uniform pick by rejection, or one of Kish's
//! selection tables (Kish 1949, *A procedure for objective respondent selection within
//! the household*) picked in twelfths.

use serde::{Deserialize, Serialize};

/// How the respondent is drawn among the eligible roster members.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectionMethod {
    /// Every eligible member has the same chance.
    #[default]
    Uniform,
    /// Kish's selection tables: a table is drawn (A … F, in their published
    /// proportions), then the person it names for the number of eligible members.
    /// List eligible members in Kish's order (men oldest first, then women oldest first).
    Kish,
}

impl SelectionMethod {
    pub const ALL: [SelectionMethod; 2] = [SelectionMethod::Uniform, SelectionMethod::Kish];

    /// The name used in JSON and in XLSForm's `selection_method` column.
    pub fn as_str(self) -> &'static str {
        match self {
            SelectionMethod::Uniform => "uniform",
            SelectionMethod::Kish => "kish",
        }
    }

    pub fn parse(text: &str) -> Option<SelectionMethod> {
        SelectionMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == text.trim())
    }
}

/// One of Kish's eight selection tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KishTable {
    A,
    B1,
    B2,
    C,
    D,
    E1,
    E2,
    F,
}

/// Kish's tables as published: the share of households each is assigned to (in
/// twelfths) and, for 1, 2, 3, 4, 5 and 6 or more eligible persons, the number of the
/// person to interview.
pub const KISH_TABLES: [(KishTable, u8, [u8; 6]); 8] = [
    (KishTable::A, 2, [1, 1, 1, 1, 1, 1]),
    (KishTable::B1, 1, [1, 1, 1, 1, 2, 2]),
    (KishTable::B2, 1, [1, 1, 1, 2, 2, 2]),
    (KishTable::C, 2, [1, 1, 2, 2, 3, 3]),
    (KishTable::D, 2, [1, 2, 2, 3, 4, 4]),
    (KishTable::E1, 1, [1, 2, 3, 3, 3, 5]),
    (KishTable::E2, 1, [1, 2, 3, 4, 5, 5]),
    (KishTable::F, 2, [1, 2, 3, 4, 5, 6]),
];

impl KishTable {
    /// The table a number in `0..12` picks: tables take consecutive twelfths in the
    /// order above (A takes 0 and 1, B1 takes 2, B2 3, C 4 and 5, …).
    pub fn from_twelfth(twelfth: u64) -> KishTable {
        let mut left = twelfth % 12;
        for (table, share, _) in KISH_TABLES {
            if left < u64::from(share) {
                return table;
            }
            left -= u64::from(share);
        }
        KishTable::F
    }

    /// The person (1-based, in the eligible list) this table names for `eligible`
    /// persons (`None` for none). Beyond six the table names one of the first six, as
    /// the printed tables do.
    pub fn person(self, eligible: usize) -> Option<usize> {
        let column = eligible.min(6).checked_sub(1)?;
        KISH_TABLES
            .iter()
            .find(|(t, _, _)| *t == self)
            .map(|(_, _, people)| usize::from(people[column]))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KishTable::A => "A",
            KishTable::B1 => "B1",
            KishTable::B2 => "B2",
            KishTable::C => "C",
            KishTable::D => "D",
            KishTable::E1 => "E1",
            KishTable::E2 => "E2",
            KishTable::F => "F",
        }
    }
}

/// The result of a draw: who, and (Kish) by which table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw {
    /// The selected member: an element of the eligible list given to [`draw`].
    pub selected: u32,
    pub kish_table: Option<KishTable>,
}

/// Draw one of `eligible` (roster instance numbers, in roster order) from `seed`.
/// `None` when nobody is eligible.
pub fn draw(method: SelectionMethod, seed: u64, eligible: &[u32]) -> Option<Draw> {
    if eligible.is_empty() {
        return None;
    }
    let mut numbers = SplitMix64(seed);
    match method {
        SelectionMethod::Uniform => {
            let index = numbers.below(eligible.len() as u64) as usize;
            Some(Draw {
                selected: eligible[index],
                kish_table: None,
            })
        }
        SelectionMethod::Kish => {
            let table = KishTable::from_twelfth(numbers.below(12));
            let person = table.person(eligible.len())?;
            Some(Draw {
                selected: eligible[person - 1],
                kish_table: Some(table),
            })
        }
    }
}

/// A seed as it is recorded: sixteen lower-case hex digits (JSON numbers lose
/// precision beyond 2^53 in many readers, text does not).
pub fn seed_text(seed: u64) -> String {
    format!("{seed:016x}")
}

/// A recorded seed back to its number.
pub fn parse_seed(text: &str) -> Option<u64> {
    if text.len() != 16 {
        return None;
    }
    u64::from_str_radix(text, 16).ok()
}

/// SplitMix64 (Steele, Lea and Flood 2014): a published, tiny generator, so an auditor
/// can recompute a draw in any language.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` with every value equally likely: numbers at or above the
    /// largest multiple of `n` are drawn again (plain `mod` would favour small values).
    fn below(&mut self, n: u64) -> u64 {
        let limit = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next();
            if x < limit {
                return x % n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pearson's chi-square statistic of observed counts against equal expected counts.
    fn chi_square(counts: &[u64]) -> f64 {
        let total: u64 = counts.iter().sum();
        let expected = total as f64 / counts.len() as f64;
        counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum()
    }

    #[test]
    fn uniform_draws_pass_a_chi_square_test() {
        // Critical values of chi-square at p = 0.001 for k - 1 degrees of freedom.
        let critical = [(2, 10.83), (3, 13.82), (5, 18.47), (8, 24.32), (12, 31.26)];
        for (n, limit) in critical {
            let eligible: Vec<u32> = (1..=n).collect();
            let mut counts = vec![0u64; n as usize];
            for seed in 0..60_000u64 {
                // Seeds as the app makes them are random; consecutive ones are the hard case.
                let d = draw(SelectionMethod::Uniform, seed, &eligible).unwrap();
                counts[(d.selected - 1) as usize] += 1;
            }
            let stat = chi_square(&counts);
            assert!(
                stat < limit,
                "n = {n}: chi-square {stat} ≥ {limit}: {counts:?}"
            );
        }
    }

    #[test]
    fn a_draw_is_reproducible_from_its_seed() {
        let eligible = [2, 3, 5, 8, 9];
        for seed in [0, 1, 42, u64::MAX, 0x0123_4567_89ab_cdef] {
            for method in SelectionMethod::ALL {
                let first = draw(method, seed, &eligible);
                assert_eq!(first, draw(method, seed, &eligible));
                assert!(eligible.contains(&first.unwrap().selected));
            }
            assert_eq!(parse_seed(&seed_text(seed)), Some(seed));
        }
        // Pinned: a change to the generator would make recorded draws unverifiable.
        assert_eq!(
            draw(SelectionMethod::Uniform, 42, &eligible).map(|d| d.selected),
            Some(pinned_uniform_42())
        );
    }

    fn pinned_uniform_42() -> u32 {
        // SplitMix64 from seed 42 gives 0xbdd732262feb6e95 first; that mod 5 is 3 → the
        // fourth eligible member, 8.
        assert_eq!(SplitMix64(42).next(), 0xbdd7_3226_2feb_6e95);
        8
    }

    #[test]
    fn only_eligible_members_are_drawn_and_none_from_nobody() {
        let eligible = [4, 7];
        for seed in 0..2_000 {
            for method in SelectionMethod::ALL {
                let d = draw(method, seed, &eligible).unwrap();
                assert!(eligible.contains(&d.selected), "{d:?}");
            }
        }
        assert_eq!(draw(SelectionMethod::Uniform, 1, &[]), None);
        assert_eq!(draw(SelectionMethod::Kish, 1, &[]), None);
    }

    #[test]
    fn kish_tables_are_the_published_grid() {
        // Kish (1949), as reprinted in survey handbooks: rows are the number of eligible
        // persons (1 … 6 or more), columns the tables A, B1, B2, C, D, E1, E2, F.
        let published: [[usize; 8]; 6] = [
            [1, 1, 1, 1, 1, 1, 1, 1],
            [1, 1, 1, 1, 2, 2, 2, 2],
            [1, 1, 1, 2, 2, 3, 3, 3],
            [1, 1, 2, 2, 3, 3, 4, 4],
            [1, 2, 2, 3, 4, 3, 5, 5],
            [1, 2, 2, 3, 4, 5, 5, 6],
        ];
        for (row, people) in published.iter().enumerate() {
            for (col, &person) in people.iter().enumerate() {
                let table = KISH_TABLES[col].0;
                assert_eq!(
                    table.person(row + 1),
                    Some(person),
                    "{table:?} for {}",
                    row + 1
                );
            }
        }
        assert_eq!(KishTable::F.person(9), Some(6));
        assert_eq!(KishTable::F.person(0), None);
        let shares: Vec<u8> = KISH_TABLES.iter().map(|t| t.1).collect();
        assert_eq!(shares, [2, 1, 1, 2, 2, 1, 1, 2]);
        // The tables give every person an equal chance for 1–4 and 6 eligible persons.
        for n in [1usize, 2, 3, 4, 6] {
            let mut twelfths = vec![0u32; n];
            for (table, share, _) in KISH_TABLES {
                twelfths[table.person(n).unwrap() - 1] += u32::from(share);
            }
            assert!(
                twelfths.iter().all(|&t| t * n as u32 == 12),
                "{n}: {twelfths:?}"
            );
        }
        let tables: Vec<KishTable> = (0..12).map(KishTable::from_twelfth).collect();
        use KishTable::*;
        assert_eq!(tables, [A, A, B1, B2, C, C, D, D, E1, E2, F, F]);
    }

    #[test]
    fn kish_draws_pick_tables_in_their_proportions() {
        let eligible: Vec<u32> = (1..=6).collect();
        let mut counts = [0u64; 8];
        for seed in 0..48_000u64 {
            let d = draw(SelectionMethod::Kish, seed, &eligible).unwrap();
            let table = d.kish_table.unwrap();
            let i = KISH_TABLES.iter().position(|t| t.0 == table).unwrap();
            counts[i] += 1;
            assert_eq!(Some(d.selected as usize), table.person(6));
        }
        // Against the published shares (expected 8,000 per twelfth), p = 0.001, 7 df.
        let stat: f64 = counts
            .iter()
            .zip(KISH_TABLES)
            .map(|(&c, (_, share, _))| {
                let expected = 4_000.0 * f64::from(share);
                (c as f64 - expected).powi(2) / expected
            })
            .sum();
        assert!(stat < 24.32, "chi-square {stat}: {counts:?}");
    }
}
