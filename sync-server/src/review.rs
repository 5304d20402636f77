//! Review decisions and the send-back loop: a coordinator judges responses (received,
//! has issues, approved, rejected) or sends one back to the enumerator who collected it,
//! with a comment and comments on single answers; the device that started it pulls its
//! own responses' reviews and coordinators' edits ([`device_page`]); its next finalized
//! edit makes it `resubmitted` (recorded by the ingest, `store/plan.rs`).

use voices_core::answer::AnswerPath;
use voices_core::sync::protocol::{DeviceFeedItem, DeviceFeedPage, FieldComments, ReviewState};
use voices_core::sync::Revision;

use crate::store::{Decision, DeviceFeedRow, Scope, Store};
use crate::Result;

/// Longest review comment kept (on the response or on one answer), in characters.
pub const MAX_COMMENT: usize = 2_000;
/// Most responses one review decision covers.
pub const MAX_REVIEWED: usize = 1_000;
/// Most answers one send-back comments on.
pub const MAX_FIELD_COMMENTS: usize = 500;

/// A decision refused before anything is stored; `code` is the API's.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("review 1 to {MAX_REVIEWED} responses at once")]
    Count,
    #[error("a review comment has at most {MAX_COMMENT} characters")]
    CommentTooLong,
    #[error("the comment on `{0}` is longer than {MAX_COMMENT} characters")]
    FieldCommentTooLong(String),
    #[error("a send-back comments on at most {MAX_FIELD_COMMENTS} answers")]
    TooManyFields,
    #[error("`resubmitted` is set by the enumerator's device when it sends the response again, not by a person")]
    Resubmitted,
    #[error("sending a response back needs a comment saying what to fix")]
    CommentRequired,
    #[error("comments on single answers go with `sent_back` only")]
    FieldsWithoutSendBack,
    #[error("comments on single answers go to one response at a time")]
    FieldsForMany,
    #[error("`{path}` is not an answer path: {reason}")]
    BadPath { path: String, reason: String },
}

impl Refused {
    /// The Problem Details `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Refused::BadPath { .. } => "bad_path",
            Refused::CommentRequired => "comment_required",
            // Limits keep the code review limits always had.
            Refused::Count
            | Refused::CommentTooLong
            | Refused::FieldCommentTooLong(_)
            | Refused::TooManyFields => "invalid",
            Refused::Resubmitted | Refused::FieldsWithoutSendBack | Refused::FieldsForMany => {
                "bad_review"
            }
        }
    }
}

/// A review request as it arrives.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub state: ReviewState,
    pub comment: Option<&'a str>,
    pub fields: &'a FieldComments,
}

/// The decision's rules, checked before anything is stored; the comments trimmed (empty
/// ones dropped).
pub fn check(
    ids: usize,
    request: &Request<'_>,
) -> Result<(Option<String>, FieldComments), Refused> {
    if ids == 0 || ids > MAX_REVIEWED {
        return Err(Refused::Count);
    }
    if request.state == ReviewState::Resubmitted {
        return Err(Refused::Resubmitted);
    }
    if request
        .comment
        .is_some_and(|c| c.chars().count() > MAX_COMMENT)
    {
        return Err(Refused::CommentTooLong);
    }
    let comment = request
        .comment
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    if !request.fields.is_empty() {
        if request.state != ReviewState::SentBack {
            return Err(Refused::FieldsWithoutSendBack);
        }
        if ids > 1 {
            return Err(Refused::FieldsForMany);
        }
        if request.fields.len() > MAX_FIELD_COMMENTS {
            return Err(Refused::TooManyFields);
        }
    }
    let mut fields = FieldComments::new();
    for (path, text) in request.fields {
        let parsed: AnswerPath =
            path.parse()
                .map_err(|e: voices_core::answer::PathError| Refused::BadPath {
                    path: path.chars().take(200).collect(),
                    reason: e.to_string(),
                })?;
        if text.chars().count() > MAX_COMMENT {
            return Err(Refused::FieldCommentTooLong(parsed.to_string()));
        }
        let text = text.trim();
        if !text.is_empty() {
            fields.insert(parsed.to_string(), text.to_owned());
        }
    }
    if request.state == ReviewState::SentBack && comment.is_none() && fields.is_empty() {
        return Err(Refused::CommentRequired);
    }
    Ok((comment, fields))
}

/// Set the review state of responses (each found one moves to the end of the feed),
/// recording who decided, when, and the comments. `true` per id found in the project
/// and seen by `scope`: a limited coordinator's review of a response outside their
/// teams changes nothing and is answered as one of a missing response.
pub fn review(
    store: &dyn Store,
    project: &str,
    scope: &Scope,
    ids: &[String],
    request: &Request<'_>,
    by: &str,
) -> Result<Result<Vec<bool>, Refused>> {
    let (comment, fields) = match check(ids.len(), request) {
        Ok(checked) => checked,
        Err(refused) => return Ok(Err(refused)),
    };
    let decision = Decision {
        state: request.state,
        comment: comment.as_deref(),
        fields: &fields,
        by,
    };
    if *scope == Scope::Project {
        return Ok(Ok(store.review(
            project,
            ids,
            &decision,
            &crate::now_text(),
        )?));
    }
    let seen = store.visible_responses(project, scope, ids)?;
    let chosen: Vec<String> = ids
        .iter()
        .zip(&seen)
        .filter(|(_, seen)| **seen)
        .map(|(id, _)| id.clone())
        .collect();
    let mut found = store
        .review(project, &chosen, &decision, &crate::now_text())?
        .into_iter();
    Ok(Ok(seen
        .iter()
        .map(|seen| *seen && found.next() == Some(true))
        .collect()))
}

/// Most items in one page of a device's feed.
pub const MAX_FEED_PAGE: usize = 1_000;
/// Items in a page of a device's feed when the device does not say.
pub const DEFAULT_FEED_PAGE: usize = 100;

fn feed_item(row: DeviceFeedRow) -> DeviceFeedItem {
    DeviceFeedItem {
        cursor: row.feed_seq.to_string(),
        response: row.id,
        form: row.form,
        version: row.version,
        review_state: row.review_state,
        reviews: row.reviews.iter().map(|r| r.transition()).collect(),
        // Stored revisions were checked when they arrived.
        edits: row
            .coordinator_revisions
            .iter()
            .filter_map(|body| serde_json::from_str::<Revision>(body).ok())
            .collect(),
        withdrawn: row.withdrawn,
    }
}

/// The responses `device` started that changed after feed position `after`, at most
/// `limit` (clamped to 1..=[`MAX_FEED_PAGE`]), and whether more are waiting, in feed
/// `version` (one of `DEVICE_FEED_VERSIONS`: from 2, withdrawn responses are items
/// saying only that). Nothing of another device's responses: the store filters by the
/// device that started each.
pub fn device_page(
    store: &dyn Store,
    project: &str,
    device: &str,
    after: i64,
    limit: usize,
    version: u32,
) -> Result<DeviceFeedPage> {
    let limit = limit.clamp(1, MAX_FEED_PAGE);
    let mut rows = store.device_feed(project, device, after, limit + 1, version >= 2)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = rows
        .last()
        .map(|r| r.feed_seq.to_string())
        .unwrap_or_else(|| after.to_string());
    Ok(DeviceFeedPage {
        feed_version: version,
        items: rows.into_iter().map(feed_item).collect(),
        next,
        more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> FieldComments {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn request<'a>(
        state: ReviewState,
        comment: Option<&'a str>,
        f: &'a FieldComments,
    ) -> Request<'a> {
        Request {
            state,
            comment,
            fields: f,
        }
    }

    #[test]
    fn a_send_back_needs_a_comment_and_takes_comments_on_answer_paths() {
        let none = FieldComments::new();
        let sent_back = ReviewState::SentBack;
        assert_eq!(
            check(1, &request(sent_back, Some("  "), &none)),
            Err(Refused::CommentRequired)
        );
        let f = fields(&[("/member[2]/age", " is 7 right? "), ("/village", " ")]);
        let (comment, kept) = check(1, &request(sent_back, Some(" ask again "), &f)).unwrap();
        assert_eq!(comment.as_deref(), Some("ask again"));
        assert_eq!(kept, fields(&[("/member[2]/age", "is 7 right?")]));
        let only_fields = fields(&[("/age", "check")]);
        assert!(check(1, &request(sent_back, None, &only_fields)).is_ok());
        let bad = fields(&[("age", "x")]);
        let refused = check(1, &request(sent_back, Some("x"), &bad)).unwrap_err();
        assert_eq!(refused.code(), "bad_path");
        assert!(refused.to_string().contains("`age`"), "{refused}");
        let long = fields(&[("/age", &"x".repeat(MAX_COMMENT + 1))]);
        assert!(matches!(
            check(1, &request(sent_back, Some("x"), &long)),
            Err(Refused::FieldCommentTooLong(_))
        ));
    }

    #[test]
    fn people_never_set_resubmitted_and_field_comments_go_with_one_send_back() {
        let none = FieldComments::new();
        let f = fields(&[("/age", "check")]);
        assert_eq!(
            check(1, &request(ReviewState::Resubmitted, None, &none)),
            Err(Refused::Resubmitted)
        );
        assert_eq!(
            check(1, &request(ReviewState::Approved, None, &f)),
            Err(Refused::FieldsWithoutSendBack)
        );
        assert_eq!(
            check(2, &request(ReviewState::SentBack, Some("x"), &f)),
            Err(Refused::FieldsForMany)
        );
        assert!(check(2, &request(ReviewState::SentBack, Some("x"), &none)).is_ok());
        assert_eq!(
            check(0, &request(ReviewState::Approved, None, &none)),
            Err(Refused::Count)
        );
        let many: FieldComments = (0..=MAX_FIELD_COMMENTS)
            .map(|i| (format!("/q{i}"), "x".to_owned()))
            .collect();
        assert_eq!(
            check(1, &request(ReviewState::SentBack, Some("x"), &many)),
            Err(Refused::TooManyFields)
        );
    }
}
