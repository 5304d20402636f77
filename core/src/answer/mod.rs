//! The answer model every part of Voices shares: where an answer is ([`AnswerPath`],
//! parsed and checked once) and a response's answers as one flat map ([`FlatAnswers`]).
//!
//! The engine addresses answers, instances and groups by path; the app stores a
//! response's answers flat; a revision carries changes of the flat map; the merge keeps a
//! register per flat key; pull and export rebuild the tree ([`Answers`], the shape a
//! response has in JSON) from it. A bottom module: it depends on nothing else in the core.

mod flat;
mod instances;
mod path;
mod tree;

pub use flat::{is_key, parse_count, tree_from, FlatAnswers};
pub use instances::{InstanceTally, MAX_RESPONSE_INSTANCES};
pub use path::{is_valid_name, AnswerPath, PathError, PathKind, Step, MAX_INSTANCES};
pub use tree::{Answer, Answers};
