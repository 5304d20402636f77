//! The answer model every part of Voices shares: where an answer is ([`AnswerPath`],
//! parsed and checked once) and a response's answers as one flat map ([`FlatAnswers`]).
//!
//! The engine addresses answers, instances and groups by path; the app stores a
//! response's answers flat; a revision carries changes of the flat map; the merge keeps a
//! register per flat key; pull and export rebuild the tree ([`Answers`], the shape a
//! response has in JSON) from it. A sealed answer ([`Sealed`], a `sensitive` or `pii`
//! answer encrypted on the device) is a value of its own kind next to clear text
//! ([`AnswerValue`]). A bottom module: it depends on nothing else in the core.

mod flat;
mod instances;
mod path;
mod sealed;
mod tree;

pub use flat::{is_key, parse_count, tree_from, tree_with_sealed, FlatAnswers};
pub use instances::{InstanceTally, MAX_RESPONSE_INSTANCES};
pub use path::{is_valid_name, AnswerPath, PathError, PathKind, Step, MAX_INSTANCES};
pub use sealed::{AnswerValue, Sealed, SealedError, MAX_SEALED};
pub use tree::{Answer, Answers};
