//! How an interview ends before its last question (refused, nobody at home, interrupted
//! for safety…) and the return visits agreed then: the device's list of appointments.
//!
//! Appointments are reminders a bystander may see, so they are neutral: the response's
//! short label and the time, never the form's title, the outcome or a name.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use ts_rs::TS;
use voices_core::response::InterviewOutcome;

use super::{engine_error, Voices};
use crate::env::now;
use crate::error::{Error, Result};
use crate::lock::lock;
use crate::store::ResponseStatus;
use crate::view;

use super::interview::Review;

/// A return visit still to make.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Visit {
    pub response_id: String,
    /// The response's neutral label ("#3f2a9c").
    pub label: String,
    /// For the quick-hide screen prepared when it is opened; never shown.
    pub form_id: String,
    pub status: ResponseStatus,
    /// When (RFC 3339, as agreed).
    pub at: String,
    /// The time has come or passed.
    pub due: bool,
    /// It falls on today's date (the device's local date).
    pub today: bool,
}

impl Voices {
    /// End the interview with `outcome` (not `completed`: finishing the interview records
    /// that), an optional note and return visit (RFC 3339). Everything reached is kept;
    /// what was never reached is excused, so the response is finalized and queued unless
    /// an answer given is wrong, which the review lists.
    pub fn end_interview(
        &self,
        id: &str,
        outcome: InterviewOutcome,
        note: Option<String>,
        return_visit: Option<String>,
    ) -> Result<Review> {
        if outcome == InterviewOutcome::Completed {
            return Err(Error::InvalidInput(
                "an interview is completed by finishing it, not by ending it early".to_owned(),
            ));
        }
        let at = now();
        let record = self.with_open(id, |o| {
            let mut env = lock(&self.env);
            o.session
                .record_outcome(outcome, note, return_visit, &mut *env)
                .map_err(engine_error)?;
            o.session
                .outcome()
                .cloned()
                .ok_or_else(|| Error::Corrupt("the outcome was not recorded".to_owned()))
        })?;
        let stored = {
            let mut store = self.store.lock();
            store
                .record_outcome(id, &record)
                .and_then(|()| store.add_paradata(id, "ended", None, &at))
        };
        if let Err(e) = stored {
            // The session is ahead of the store: reopened from the store next time.
            self.evict(id);
            return Err(e);
        }
        self.persist_all(id, &at)?;
        let review = self.review(id)?;
        if review.can_finalize {
            self.queue_finished(id, &at)?;
        }
        Ok(review)
    }

    /// The return visits still to make, soonest first.
    pub fn visits(&self) -> Result<Vec<Visit>> {
        let now = chrono::Local::now().fixed_offset();
        let pending = self.store.lock().pending_visits()?;
        let mut out: Vec<(DateTime<FixedOffset>, Visit)> = pending
            .into_iter()
            .filter_map(|(row, record)| {
                let at = record.return_visit_at()?;
                let local_day =
                    |t: DateTime<FixedOffset>| t.with_timezone(&chrono::Local).date_naive();
                Some((
                    at,
                    Visit {
                        label: view::neutral_label(&row.id),
                        response_id: row.id,
                        form_id: row.form_id,
                        status: row.status,
                        at: at.to_rfc3339(),
                        due: at <= now,
                        today: local_day(at) == local_day(now),
                    },
                ))
            })
            .collect();
        out.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.response_id.cmp(&b.1.response_id))
        });
        Ok(out.into_iter().map(|(_, v)| v).collect())
    }

    /// Move a draft whose review is clean to the outbox.
    pub(super) fn queue_finished(&self, id: &str, at: &str) -> Result<()> {
        let mut store = self.store.lock();
        store.transition(id, &[ResponseStatus::Draft], ResponseStatus::Finalized, at)?;
        store.transition(id, &[ResponseStatus::Finalized], ResponseStatus::Queued, at)?;
        store.add_paradata(id, "finalized", None, at)?;
        // Sent back and finished again: it waits for the server as resubmitted.
        store.mark_resubmitted(id, at)?;
        drop(store);
        self.sync.after_finalize();
        Ok(())
    }
}
