//! The TypeScript declarations of every type the UI exchanges with the commands,
//! written to `ui/src/lib/bindings.ts` (a test fails when that file is stale).

use ts_rs::TS;

use crate::commands::*;
use crate::error::{CommandError, ErrorKind};
use crate::forms::*;
use crate::store::ResponseStatus;
use crate::sync::*;
use crate::view::*;
use crate::voices::*;

/// Where the generated file lives, relative to this crate.
pub const BINDINGS_PATH: &str = "../ui/src/lib/bindings.ts";

/// The full text of `bindings.ts`.
pub fn typescript() -> String {
    let decls = [
        ErrorKind::decl(),
        CommandError::decl(),
        ResponseStatus::decl(),
        LanguageView::decl(),
        PageKind::decl(),
        ConsentView::decl(),
        PrivacyView::decl(),
        MatchingView::decl(),
        ChoiceView::decl(),
        RangeView::decl(),
        SelectionView::decl(),
        ReferralView::decl(),
        ServiceView::decl(),
        FieldView::decl(),
        InstanceView::decl(),
        OutlineEntry::decl(),
        RepeatView::decl(),
        PageView::decl(),
        Issue::decl(),
        FormSummary::decl(),
        Diagnostic::decl(),
        FileReport::decl(),
        ImportReport::decl(),
        InterviewState::decl(),
        PageUpdate::decl(),
        Review::decl(),
        ResponseSummary::decl(),
        ReturnedSummary::decl(),
        FieldComment::decl(),
        AnswerConflict::decl(),
        ReturnedDetail::decl(),
        Visit::decl(),
        DecoyView::decl(),
        AttachmentData::decl(),
        SetAnswerRequest::decl(),
        StartRequest::decl(),
        OpenRequest::decl(),
        RepeatRequest::decl(),
        ConsentRequest::decl(),
        AssentRequest::decl(),
        PrivacyChoice::decl(),
        PrivacyRequest::decl(),
        DrawRequest::decl(),
        MatchingChoice::decl(),
        MatchCheckRequest::decl(),
        HandOverRequest::decl(),
        MatchingCheck::decl(),
        HandOverResult::decl(),
        Presentation::decl(),
        OutcomeChoice::decl(),
        EndRequest::decl(),
        ResponseRequest::decl(),
        ParadataRequest::decl(),
        SafeExitRequest::decl(),
        ImportTextRequest::decl(),
        ImportSpreadsheetRequest::decl(),
        ImportPathRequest::decl(),
        AttachRequest::decl(),
        AttachmentRequest::decl(),
        crate::qr::DecodeImageRequest::decl(),
        crate::qr::DecodePictureRequest::decl(),
        DeviceLink::decl(),
        SyncPhase::decl(),
        FormProgress::decl(),
        SyncProgress::decl(),
        OutboxCounts::decl(),
        FormVersionOffer::decl(),
        SyncStatus::decl(),
        RecordSyncState::decl(),
        OutboxEntry::decl(),
        ProvisionRequest::decl(),
        SyncSettingsRequest::decl(),
        AppSettings::decl(),
        AppLanguageRequest::decl(),
        crate::device::LockStatus::decl(),
        crate::device::DeviceState::decl(),
        crate::device::PinRequest::decl(),
        crate::device::ChangePinRequest::decl(),
    ];
    let mut out = String::from(
        "// Generated from the Rust types in src-tauri by `UPDATE_BINDINGS=1 cargo test -p voices-app bindings`.\n// Do not edit by hand.\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.push_str("/** Every command: the request it takes (`null`: none) and what it returns. */\nexport interface Commands {\n");
    for (name, request, response) in signatures() {
        out.push_str(&format!(
            "  {name}: {{ request: {request}; response: {response} }};\n"
        ));
    }
    out.push_str("}\n");
    out
}
