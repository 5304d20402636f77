//! The commands the UI calls. Each takes one typed `request` and returns a typed
//! answer or an [`Error`] that reaches the UI as `{kind, message}`.

use serde::Deserialize;
use tauri::ipc::Invoke;
use tauri::{Runtime, State, WebviewWindow};
use ts_rs::TS;
use voices_core::response::{InterviewOutcome, PrivacyOutcome};

use crate::device::{ChangePinRequest, Device, DeviceState, PinRequest, Unlocked};
use crate::error::{Error, Result};
use crate::forms::{FileReport, FormSummary, ImportReport};
use crate::qr::{DecodeImageRequest, DecodePictureRequest};
use crate::sync::{DeviceLink, OutboxEntry, ProvisionRequest, SyncSettingsRequest, SyncStatus};
use crate::view::PageView;
use crate::voices::{
    AppSettings, AttachmentData, DecoyView, HandOverResult, InterviewState, MatchingCheck,
    PageUpdate, Presentation, ResponseSummary, ReturnedDetail, ReturnedSummary, Review, Upload,
    Visit,
};

/// The request to save one answer.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct SetAnswerRequest {
    pub response_id: String,
    pub path: String,
    pub value: Option<String>,
    /// The page the UI shows, returned refreshed.
    pub page: u32,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct StartRequest {
    pub form_id: String,
    pub version: Option<String>,
    pub language: Option<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct OpenRequest {
    pub response_id: String,
    pub page: u32,
    pub language: Option<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct RepeatRequest {
    pub response_id: String,
    /// `/members` to add an instance; `/members[2]` to remove one.
    pub path: String,
    pub page: u32,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ConsentRequest {
    pub response_id: String,
    pub given: bool,
}

/// A minor's assent, answered on the assent page `page` (after the guardian's consent).
#[derive(Debug, Clone, Deserialize, TS)]
pub struct AssentRequest {
    pub response_id: String,
    pub given: bool,
    pub page: u32,
}

/// The TypeScript declaration of [`PrivacyOutcome`] (the core does not depend on
/// ts-rs); requests and views carry the core's type itself.
#[derive(Debug, Clone, Copy, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyChoice {
    Private,
    NotPrivate,
    Interrupted,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct PrivacyRequest {
    pub response_id: String,
    pub group_path: String,
    #[ts(as = "PrivacyChoice")]
    pub outcome: PrivacyOutcome,
    pub page: u32,
}

/// The TypeScript declaration of `voices_core::matching::MatchingOutcome`.
#[derive(Debug, Clone, Copy, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum MatchingChoice {
    Matched,
    HandedOver,
    HandOverRefused,
    Skipped,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct MatchCheckRequest {
    pub response_id: String,
    /// The group with the `match` rule (`/experiences`).
    pub group_path: String,
    pub page: u32,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct HandOverRequest {
    pub response_id: String,
    pub group_path: String,
    /// Who takes the section over.
    pub by: String,
    /// What they state of themselves: their sex, and their languages and home area when
    /// the rule reads them (the page's `matching.keys`).
    pub sex: Option<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    pub area: Option<String>,
    pub page: u32,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct DrawRequest {
    pub response_id: String,
    /// The `respondent_selection` field (`/selected`).
    pub field_path: String,
    pub page: u32,
}

/// The TypeScript declaration of [`InterviewOutcome`] (as [`PrivacyChoice`]).
#[derive(Debug, Clone, Copy, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeChoice {
    Completed,
    PartlyCompleted,
    Refused,
    NobodyAtHome,
    RespondentNotAvailable,
    InterruptedForSafety,
    Other,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct EndRequest {
    pub response_id: String,
    /// Any outcome but `completed` (finishing the interview records that).
    #[ts(as = "OutcomeChoice")]
    pub outcome: InterviewOutcome,
    pub note: Option<String>,
    /// The return visit agreed: RFC 3339 with its offset, later than now.
    pub return_visit: Option<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ResponseRequest {
    pub response_id: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ParadataRequest {
    pub response_id: String,
    /// `opened`, `closed`, `question_enter`, `question_leave`, `page_enter`, `page_leave`,
    /// `safe_exit`, `safe_return`, `language`.
    pub event: String,
    pub path: Option<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct AppLanguageRequest {
    /// A language tag such as `ar`.
    pub language: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct SafeExitRequest {
    pub response_id: Option<String>,
    pub form_id: Option<String>,
    /// The interview's language, for the decoy (absent: the form's default language).
    #[serde(default)]
    #[ts(optional)]
    pub language: Option<String>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ImportTextRequest {
    pub file_name: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ImportSpreadsheetRequest {
    pub file_name: String,
    /// The file's bytes, base64: a byte array would travel as a JSON number list.
    pub data_base64: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct ImportPathRequest {
    pub path: String,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct AttachRequest {
    pub response_id: String,
    pub path: String,
    pub file_name: String,
    pub media_type: String,
    pub data_base64: String,
    pub page: u32,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct AttachmentRequest {
    pub response_id: String,
    pub path: String,
}

/// The window title never names the form or the respondent: it stays neutral, the
/// project's neutral name once a sync brought one (remembered here, since a locked app
/// cannot read its store).
static TITLE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn remember_title(name: &str) {
    *crate::lock::lock(&TITLE) = Some(name.to_owned());
}

fn neutral_title() -> String {
    crate::lock::lock(&TITLE)
        .clone()
        .unwrap_or_else(|| crate::sync::profile::APP_NAME.to_owned())
}

#[tauri::command]
pub fn list_forms(voices: Unlocked) -> Result<Vec<FormSummary>> {
    voices.forms().list()
}

#[tauri::command]
pub fn import_form_text(voices: Unlocked, request: ImportTextRequest) -> Result<FileReport> {
    voices
        .forms()
        .import_text(&request.file_name, &request.text, "file")
}

#[tauri::command]
pub fn import_form_spreadsheet(
    voices: Unlocked,
    request: ImportSpreadsheetRequest,
) -> Result<FileReport> {
    voices
        .forms()
        .import_spreadsheet_base64(&request.file_name, &request.data_base64)
}

#[tauri::command]
pub fn import_form_path(voices: Unlocked, request: ImportPathRequest) -> Result<ImportReport> {
    voices
        .forms()
        .import_path(std::path::Path::new(&request.path))
}

#[tauri::command]
pub fn start_interview(voices: Unlocked, request: StartRequest) -> Result<InterviewState> {
    voices.start(
        &request.form_id,
        request.version.as_deref(),
        request.language.as_deref(),
    )
}

#[tauri::command]
pub fn open_interview(voices: Unlocked, request: OpenRequest) -> Result<InterviewState> {
    let state = voices.open_interview(&request.response_id, request.language.as_deref())?;
    if request.page == 0 {
        return Ok(state);
    }
    voices.state(&request.response_id, request.page, None)
}

#[tauri::command]
pub fn interview_state(voices: Unlocked, request: OpenRequest) -> Result<InterviewState> {
    voices.state(
        &request.response_id,
        request.page,
        request.language.as_deref(),
    )
}

#[tauri::command]
pub fn get_page(voices: Unlocked, request: OpenRequest) -> Result<PageView> {
    voices.page(&request.response_id, request.page)
}

#[tauri::command]
pub fn set_answer(voices: Unlocked, request: SetAnswerRequest) -> Result<PageUpdate> {
    voices.set_answer(
        &request.response_id,
        &request.path,
        request.value.as_deref(),
        request.page,
    )
}

#[tauri::command]
pub fn add_repeat_instance(voices: Unlocked, request: RepeatRequest) -> Result<PageUpdate> {
    voices.add_repeat_instance(&request.response_id, &request.path, request.page)
}

#[tauri::command]
pub fn remove_repeat_instance(voices: Unlocked, request: RepeatRequest) -> Result<PageUpdate> {
    voices.remove_repeat_instance(&request.response_id, &request.path, request.page)
}

#[tauri::command]
pub fn record_consent(voices: Unlocked, request: ConsentRequest) -> Result<InterviewState> {
    voices.record_consent(&request.response_id, request.given)
}

#[tauri::command]
pub fn record_assent(voices: Unlocked, request: AssentRequest) -> Result<InterviewState> {
    voices.record_assent(&request.response_id, request.given, request.page)
}

#[tauri::command]
pub fn record_privacy(voices: Unlocked, request: PrivacyRequest) -> Result<PageUpdate> {
    voices.record_privacy(
        &request.response_id,
        &request.group_path,
        request.outcome,
        request.page,
    )
}

/// Draw the respondent of a `respondent_selection` field, once (the seed comes from
/// the operating system's random source and is recorded with the draw).
/// Check a section's `match` rule with this device's enumerator profile.
#[tauri::command]
pub fn check_matching(voices: Unlocked, request: MatchCheckRequest) -> Result<MatchingCheck> {
    voices.check_matching(&request.response_id, &request.group_path, request.page)
}

/// Offer a section to a colleague: accepted only when their stated profile meets the
/// section's rule; either way it is recorded.
#[tauri::command]
pub fn hand_over(voices: Unlocked, request: HandOverRequest) -> Result<HandOverResult> {
    voices.hand_over(&request)
}

/// Skip a section no suitable enumerator can take.
#[tauri::command]
pub fn skip_matching(voices: Unlocked, request: MatchCheckRequest) -> Result<PageUpdate> {
    voices.skip_matching(&request.response_id, &request.group_path, request.page)
}

/// What the app shows of itself (the project's neutral name) and the enumerator
/// profile it holds; the window takes the name as its title.
#[tauri::command]
pub fn presentation<R: Runtime>(
    window: WebviewWindow<R>,
    voices: Unlocked,
) -> Result<Presentation> {
    let presentation = voices.presentation()?;
    remember_title(&presentation.name);
    window.set_title(&presentation.name).ok();
    Ok(presentation)
}

#[tauri::command]
pub fn draw_selection(voices: Unlocked, request: DrawRequest) -> Result<PageUpdate> {
    voices.draw_selection(&request.response_id, &request.field_path, request.page)
}

#[tauri::command]
pub fn review(voices: Unlocked, request: ResponseRequest) -> Result<Review> {
    voices.review(&request.response_id)
}

#[tauri::command]
pub fn finalize(voices: Unlocked, request: ResponseRequest) -> Result<Review> {
    voices.finalize(&request.response_id)
}

/// End the interview before its last question with an outcome (and a return visit).
#[tauri::command]
pub fn end_interview(voices: Unlocked, request: EndRequest) -> Result<Review> {
    voices.end_interview(
        &request.response_id,
        request.outcome,
        request.note,
        request.return_visit,
    )
}

/// The return visits still to make, soonest first (neutral: label and time only).
#[tauri::command]
pub fn list_visits(voices: Unlocked) -> Result<Vec<Visit>> {
    voices.visits()
}

#[tauri::command]
pub fn reopen(voices: Unlocked, request: ResponseRequest) -> Result<InterviewState> {
    voices.reopen(&request.response_id)
}

#[tauri::command]
pub fn list_responses(voices: Unlocked) -> Result<Vec<ResponseSummary>> {
    voices.list_responses()
}

/// Responses sent back to the enumerator ("Returned"): neutral facts only.
#[tauri::command]
pub fn returned_list(voices: Unlocked) -> Result<Vec<ReturnedSummary>> {
    voices.returned_list()
}

/// What the server said about one response: comments next to their questions (in the
/// interview's language), conflicts; `null` when it said nothing.
#[tauri::command]
pub fn returned_detail(
    voices: Unlocked,
    request: ResponseRequest,
) -> Result<Option<ReturnedDetail>> {
    voices.returned_detail(&request.response_id)
}

#[tauri::command]
pub fn record_paradata(voices: Unlocked, request: ParadataRequest) -> Result<()> {
    voices.paradata(
        &request.response_id,
        &request.event,
        request.path.as_deref(),
    )
}

#[tauri::command]
pub fn safe_exit<R: Runtime>(
    window: WebviewWindow<R>,
    voices: Unlocked,
    request: SafeExitRequest,
) -> Result<DecoyView> {
    let decoy = voices.safe_exit(
        request.response_id.as_deref(),
        request.form_id.as_deref(),
        request.language.as_deref(),
    )?;
    // Only a form id: the UI is preparing the decoy in advance, not showing it yet.
    let preparing = request.response_id.is_none() && request.form_id.is_some();
    if !preparing {
        window.set_title(&decoy.title).ok();
    }
    Ok(decoy)
}

#[tauri::command]
pub fn safe_return<R: Runtime>(
    window: WebviewWindow<R>,
    voices: Unlocked,
    request: SafeExitRequest,
) -> Result<()> {
    window.set_title(&neutral_title()).ok();
    match request.response_id.as_deref() {
        Some(id) => voices.paradata(id, "safe_return", None),
        None => Ok(()),
    }
}

#[tauri::command]
pub fn attach_file(voices: Unlocked, request: AttachRequest) -> Result<PageUpdate> {
    voices.attach(
        &request.response_id,
        &request.path,
        &Upload {
            file_name: &request.file_name,
            media_type: &request.media_type,
            data_base64: &request.data_base64,
        },
        request.page,
    )
}

#[tauri::command]
pub fn get_attachment(voices: Unlocked, request: AttachmentRequest) -> Result<AttachmentData> {
    voices.attachment(&request.response_id, &request.path)
}

/// Link the device with the code from `voices-server device add`.
#[tauri::command]
pub async fn provision_device(voices: Unlocked, request: ProvisionRequest) -> Result<DeviceLink> {
    voices.sync().provision_device(&request.code).await
}

/// Forget the server link; every response stays on the device.
#[tauri::command]
pub fn unlink_device(voices: Unlocked) -> Result<()> {
    voices.sync().unlink_device()
}

#[tauri::command]
pub fn sync_status(voices: Unlocked) -> Result<SyncStatus> {
    voices.sync().sync_status()
}

/// Start a sync now (the background task runs it); returns at once.
#[tauri::command]
pub fn sync_now(voices: Unlocked) -> Result<SyncStatus> {
    let status = voices.sync().sync_status()?;
    if status.link.is_none() {
        return Err(Error::NotProvisioned(
            "link this device to a server first (Settings → Link device)".to_owned(),
        ));
    }
    voices.sync().request_now();
    Ok(status)
}

#[tauri::command]
pub fn list_outbox(voices: Unlocked) -> Result<Vec<OutboxEntry>> {
    voices.sync().list_outbox()
}

#[tauri::command]
pub fn set_sync_settings(voices: Unlocked, request: SyncSettingsRequest) -> Result<SyncStatus> {
    voices
        .sync()
        .set_sync_settings(request.auto_sync, request.proxy.as_deref())
}

/// The UI showed the new form versions: stop offering them.
#[tauri::command]
pub fn acknowledge_form_versions(voices: Unlocked) -> Result<()> {
    voices.sync().acknowledge_form_versions()
}

/// The app's own settings (its language), for the UI to restore on start.
#[tauri::command]
pub fn app_settings(voices: Unlocked) -> Result<AppSettings> {
    voices.app_settings()
}

/// Keep the language the enumerator chose for the app's own wording.
#[tauri::command]
pub fn set_app_language(voices: Unlocked, request: AppLanguageRequest) -> Result<AppSettings> {
    voices.set_app_language(&request.language)
}

/// The lock: first start, locked or unlocked, tries left, the idle time.
#[tauri::command]
pub fn device_state(device: State<'_, Device>) -> Result<DeviceState> {
    device.state()
}

/// First start: set the PIN (or passphrase) and open the app.
#[tauri::command]
pub fn set_pin(device: State<'_, Device>, request: PinRequest) -> Result<DeviceState> {
    device.set_pin(&request.pin)
}

/// Unlock with the PIN; the last allowed wrong PIN erases the device's data.
#[tauri::command]
pub fn unlock(device: State<'_, Device>, request: PinRequest) -> Result<DeviceState> {
    device.unlock(&request.pin)
}

/// Lock now (the store closes; the PIN opens it again).
#[tauri::command]
pub fn lock_device<R: Runtime>(
    window: WebviewWindow<R>,
    device: State<'_, Device>,
) -> Result<DeviceState> {
    device.lock();
    window.set_title(&neutral_title()).ok();
    device.state()
}

#[tauri::command]
pub fn change_pin(device: State<'_, Device>, request: ChangePinRequest) -> Result<()> {
    device.change_pin(&request.old_pin, &request.new_pin)
}

/// The enumerator is using the app (a touch or a key): the idle time starts again.
#[tauri::command]
pub fn keep_unlocked(device: State<'_, Device>) -> Result<()> {
    device.voices()?;
    device.touch();
    Ok(())
}

/// Every command the UI calls, each listed once: its function (in this module or in
/// `qr`), the request it takes (`()`: none) and what it answers. Expands `$then!` over the
/// list: [`handler`] registers the commands with Tauri and [`signatures`] gives the
/// TypeScript bindings their `Commands` interface, so the two cannot disagree.
macro_rules! with_commands {
    ($then:ident) => {
        $then! {
            commands::device_state: () => DeviceState,
            commands::set_pin: PinRequest => DeviceState,
            commands::unlock: PinRequest => DeviceState,
            commands::lock_device: () => DeviceState,
            commands::change_pin: ChangePinRequest => (),
            commands::keep_unlocked: () => (),
            commands::list_forms: () => Vec<FormSummary>,
            commands::import_form_text: ImportTextRequest => FileReport,
            commands::import_form_spreadsheet: ImportSpreadsheetRequest => FileReport,
            commands::import_form_path: ImportPathRequest => ImportReport,
            commands::start_interview: StartRequest => InterviewState,
            commands::open_interview: OpenRequest => InterviewState,
            commands::interview_state: OpenRequest => InterviewState,
            commands::get_page: OpenRequest => PageView,
            commands::set_answer: SetAnswerRequest => PageUpdate,
            commands::add_repeat_instance: RepeatRequest => PageUpdate,
            commands::remove_repeat_instance: RepeatRequest => PageUpdate,
            commands::record_consent: ConsentRequest => InterviewState,
            commands::record_assent: AssentRequest => InterviewState,
            commands::record_privacy: PrivacyRequest => PageUpdate,
            commands::draw_selection: DrawRequest => PageUpdate,
            commands::check_matching: MatchCheckRequest => MatchingCheck,
            commands::hand_over: HandOverRequest => HandOverResult,
            commands::skip_matching: MatchCheckRequest => PageUpdate,
            commands::presentation: () => Presentation,
            commands::review: ResponseRequest => Review,
            commands::finalize: ResponseRequest => Review,
            commands::end_interview: EndRequest => Review,
            commands::list_visits: () => Vec<Visit>,
            commands::reopen: ResponseRequest => InterviewState,
            commands::list_responses: () => Vec<ResponseSummary>,
            commands::returned_list: () => Vec<ReturnedSummary>,
            commands::returned_detail: ResponseRequest => Option<ReturnedDetail>,
            commands::record_paradata: ParadataRequest => (),
            commands::safe_exit: SafeExitRequest => DecoyView,
            commands::safe_return: SafeExitRequest => (),
            commands::attach_file: AttachRequest => PageUpdate,
            commands::get_attachment: AttachmentRequest => AttachmentData,
            qr::decode_provisioning_image: DecodeImageRequest => String,
            qr::decode_provisioning_picture: DecodePictureRequest => String,
            qr::read_barcode_picture: DecodePictureRequest => String,
            commands::provision_device: ProvisionRequest => DeviceLink,
            commands::unlink_device: () => (),
            commands::sync_status: () => SyncStatus,
            commands::sync_now: () => SyncStatus,
            commands::list_outbox: () => Vec<OutboxEntry>,
            commands::set_sync_settings: SyncSettingsRequest => SyncStatus,
            commands::acknowledge_form_versions: () => (),
            commands::app_settings: () => AppSettings,
            commands::set_app_language: AppLanguageRequest => AppSettings,
        }
    };
}

macro_rules! tauri_handler {
    ($($module:ident::$name:ident: $request:ty => $response:ty,)*) => {
        tauri::generate_handler![$(crate::$module::$name),*]
    };
}

macro_rules! typescript_signatures {
    ($($module:ident::$name:ident: $request:ty => $response:ty,)*) => {
        vec![$((stringify!($name), <$request as TS>::name(), <$response as TS>::name())),*]
    };
}

/// The Tauri handler of every command (see [`with_commands`]).
pub fn handler<R: Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
    with_commands!(tauri_handler)
}

/// Every command: its name, the TypeScript type of its request (or `null`) and of its answer.
pub fn signatures() -> Vec<(&'static str, String, String)> {
    with_commands!(typescript_signatures)
}
