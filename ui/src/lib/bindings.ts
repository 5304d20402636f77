// Generated from the Rust types in src-tauri by `UPDATE_BINDINGS=1 cargo test -p voices-app bindings`.
// Do not edit by hand.

export type ErrorKind = "storage" | "file" | "not_found" | "invalid_input" | "invalid_form" | "conflict" | "no_code_found" | "not_provisioned" | "offline" | "server_refused" | "bad_code" | "locked" | "wrong_pin" | "wiped" | "withdrawn";

export type CommandError = { kind: ErrorKind, message: string, };

export type ResponseStatus = "draft" | "finalized" | "queued" | "sent" | "refused";

export type LanguageView = { code: string, name: string, rtl: boolean, };

export type PageKind = "consent" | "questions" | "privacy_check" | "match_check" | "repeat_controls";

export type ConsentView = { heading: string, text: string, question: string, agree_label: string, decline_label: string, decline_message: string, text_version: string, 
/**
 * `Some(true)` given, `Some(false)` declined, `None` not yet asked.
 */
given: boolean | null, 
/**
 * A minor's assent after the guardian's consent (answered with `record_assent`).
 */
assent: boolean, };

export type PrivacyView = { 
/**
 * Path of the checked group (`/experiences`).
 */
group_path: string, prompt: string, 
/**
 * `interrupted` when the interview was stopped inside the group; null when not yet asked.
 */
outcome: PrivacyChoice | null, };

export type MatchingView = { 
/**
 * Path of the group (`/experiences`).
 */
group_path: string, 
/**
 * `skipped` when the section was skipped, `hand_over_refused` when the last
 * colleague offered it did not meet the rule; null when nothing opens it yet.
 */
outcome: MatchingChoice | null, 
/**
 * What the rule reads of an enumerator (`sex`, `languages`, `area`): what a
 * hand-over asks the colleague.
 */
keys: Array<string>, };

export type ChoiceView = { name: string, label: string, };

export type RangeView = { start: number, end: number, step: number, };

export type SelectionView = { 
/**
 * `uniform` or `kish`.
 */
method: string, roster_size: number, eligible: number, 
/**
 * The drawn member's number on the roster (`None`: not drawn yet).
 */
selected: number | null, 
/**
 * The drawn member's roster instance (`/members[3]`).
 */
selected_path: string | null, kish_table: string | null, };

export type ReferralView = { 
/**
 * The device holds the project's directory (false: no sync has brought one yet).
 */
directory: boolean, 
/**
 * The respondent's area as the step reads it (empty: not answered).
 */
area: string, 
/**
 * The kinds of service needed (none: every kind).
 */
needs: Array<string>, 
/**
 * The services matching, in directory order.
 */
services: Array<ServiceView>, };

export type ServiceView = { id: string, name: string, kind: string, 
/**
 * The kind in the interview's language when the form names it (its needs question's
 * choice label), else the kind as the directory writes it.
 */
kind_label: string, phone: string, hours: string, languages: Array<string>, 
/**
 * The service can be reached in the interview's language.
 */
in_language: boolean, };

export type FieldView = { path: string, name: string, 
/**
 * The field type as written in the form (`select_one`, `geopoint`, …).
 */
kind: string, label: string, hint: string, guidance: string, required: boolean, read_only: boolean, value: string | null, choices: Array<ChoiceView>, appearance: string, range: RangeView | null, sensitive: boolean, pii: boolean, 
/**
 * What is wrong with the answer given (constraint or type), in the form's language.
 */
problem: string | null, 
/**
 * The question is required and still unanswered (shown as a problem in the review).
 */
missing: boolean, 
/**
 * Heading of the inline group this field sits in, if any.
 */
group_label: string | null, 
/**
 * For a `respondent_selection`.
 */
selection: SelectionView | null, 
/**
 * For a `referral` step (its services filled by [`list_services`]).
 */
referral: ReferralView | null, };

export type InstanceView = { path: string, 
/**
 * 1-based.
 */
number: number, 
/**
 * How many instances the repeat has now ("member 2 of 3").
 */
count: number, can_remove: boolean, };

export type OutlineEntry = { index: number, title: string, kind: PageKind, questions: number, answered: number, invalid: number, };

export type RepeatView = { path: string, label: string, add_label: string, count: number, min: number | null, max: number | null, can_add: boolean, can_remove: boolean, };

export type PageView = { 
/**
 * Position in the page list (0-based). Pages come and go with skip logic and repeats.
 */
index: number, 
/**
 * Stable key of the page: its group, repeat or instance path, or `page-N`.
 */
key: string, title: string, hint: string, kind: PageKind, 
/**
 * The page is about a sensitive topic.
 */
sensitive: boolean, 
/**
 * Set for the consent page.
 */
consent: ConsentView | null, 
/**
 * Set for the privacy check before a `privacy: required` group.
 */
privacy: PrivacyView | null, 
/**
 * Set for the matching check before a group with a `match` rule.
 */
matching: MatchingView | null, 
/**
 * Set for the add/remove page after a repeat's instances.
 */
repeat: RepeatView | null, 
/**
 * Set when the page is one instance of a repeat.
 */
instance: InstanceView | null, 
/**
 * The privacy-checked group this page is inside (the interview may be marked
 * interrupted from here).
 */
privacy_group: string | null, fields: Array<FieldView>, };

export type Issue = { path: string, page_index: number, 
/**
 * The question's label, or a neutral placeholder for a sensitive question.
 */
label: string, message: string, };

export type FormSummary = { form_id: string, version: string, 
/**
 * Title in the form's default language (titles must be neutral).
 */
title: string, languages: Array<LanguageView>, default_language: string, drafts: number, finalized: number, 
/**
 * Versions of this form on the device (the newest is listed).
 */
versions: number, };

export type Diagnostic = { 
/**
 * `error` or `warning`.
 */
severity: string, 
/**
 * JSON pointer of the offending value (empty when unknown).
 */
pointer: string, line: number, column: number, code: string, message: string, };

export type FileReport = { file: string, 
/**
 * `added`, `already_present`, `rejected`.
 */
outcome: string, form_id: string | null, version: string | null, diagnostics: Array<Diagnostic>, };

export type ImportReport = { files: Array<FileReport>, };

export type InterviewState = { response_id: string, form_id: string, form_version: string, form_title: string, status: ResponseStatus, language: string, rtl: boolean, languages: Array<LanguageView>, outline: Array<OutlineEntry>, page: PageView, page_count: number, edit_count: number, };

export type PageUpdate = { 
/**
 * When the change was committed to disk.
 */
saved_at: string, page: PageView, page_count: number, outline: Array<OutlineEntry>, };

export type Review = { issues: Array<Issue>, can_finalize: boolean, };

export type ResponseSummary = { response_id: string, form_id: string, form_version: string, form_title: string, status: ResponseStatus, created_at: string, updated_at: string, 
/**
 * Short neutral label: "#3f2a9c" (no answer text can leak into lists).
 */
label: string, edit_count: number, 
/**
 * What the coordinators decided (`approved`, `rejected`, `sent_back`,
 * `resubmitted`, …), once the server said so.
 */
review_state: string | null, };

export type ReturnedSummary = { response_id: string, 
/**
 * Short neutral label, as in every list ("#3f2a9c").
 */
label: string, form_title: string, 
/**
 * When the server's word about it arrived on the device.
 */
updated_at: string, 
/**
 * How many comments there are (on the response and on its answers).
 */
comments: number, 
/**
 * Answers changed on both sides, waiting for the enumerator.
 */
conflicts: number, 
/**
 * When retention removed its answers from the device: it cannot be fixed here.
 */
purged_at: string | null, };

export type FieldComment = { path: string, 
/**
 * The question's label in the interview's language (its name if it has none).
 */
label: string, comment: string, };

export type AnswerConflict = { path: string, label: string, yours: string | null, 
/**
 * The other values, each with who wrote it (`user:NAME`).
 */
theirs: Array<[string, string | null]>, 
/**
 * Who changed it to a value sealed to the project's keys (this device cannot show it).
 */
sealed: Array<string>, };

export type ReturnedDetail = { response_id: string, 
/**
 * `received`, `has_issues`, `sent_back`, `resubmitted`, `approved` or `rejected`.
 */
review_state: string, 
/**
 * The language the interview is in (its labels below are in it), and its direction.
 */
language: string, rtl: boolean, 
/**
 * The last send-back's comment on the response.
 */
comment: string | null, 
/**
 * Who sent it back (`user:NAME`) and when.
 */
sent_back_by: string | null, sent_back_at: string | null, 
/**
 * The last send-back's comments on single answers, in form order.
 */
fields: Array<FieldComment>, conflicts: Array<AnswerConflict>, 
/**
 * When retention removed its answers from the device: it cannot be fixed here.
 */
purged_at: string | null, };

export type Visit = { response_id: string, 
/**
 * The response's neutral label ("#3f2a9c").
 */
label: string, 
/**
 * For the quick-hide screen prepared when it is opened; never shown.
 */
form_id: string, status: ResponseStatus, 
/**
 * When (RFC 3339, as agreed).
 */
at: string, 
/**
 * The time has come or passed.
 */
due: boolean, 
/**
 * It falls on today's date (the device's local date).
 */
today: boolean, };

export type DecoyView = { title: string, message: string, fields: Array<FieldView>, 
/**
 * The language the decoy is written in (the interview's, when the form has it), so
 * the screen does not switch language, or direction, when it appears.
 */
language: string, rtl: boolean, };

export type AttachmentData = { file_name: string, media_type: string, data_base64: string, };

export type SetAnswerRequest = { response_id: string, path: string, value: string | null, 
/**
 * The page the UI shows, returned refreshed.
 */
page: number, };

export type StartRequest = { form_id: string, version: string | null, language: string | null, };

export type OpenRequest = { response_id: string, page: number, language: string | null, };

export type RepeatRequest = { response_id: string, 
/**
 * `/members` to add an instance; `/members[2]` to remove one.
 */
path: string, page: number, };

export type ConsentRequest = { response_id: string, given: boolean, };

export type AssentRequest = { response_id: string, given: boolean, page: number, };

export type PrivacyChoice = "private" | "not_private" | "interrupted";

export type PrivacyRequest = { response_id: string, group_path: string, outcome: PrivacyChoice, page: number, };

export type DrawRequest = { response_id: string, 
/**
 * The `respondent_selection` field (`/selected`).
 */
field_path: string, page: number, };

export type MatchingChoice = "matched" | "handed_over" | "hand_over_refused" | "skipped";

export type MatchCheckRequest = { response_id: string, 
/**
 * The group with the `match` rule (`/experiences`).
 */
group_path: string, page: number, };

export type HandOverRequest = { response_id: string, group_path: string, 
/**
 * Who takes the section over.
 */
by: string, 
/**
 * What they state of themselves: their sex, and their languages and home area when
 * the rule reads them (the page's `matching.keys`).
 */
sex: string | null, languages: Array<string>, area: string | null, page: number, };

export type MatchingCheck = { 
/**
 * The device's enumerator meets the rule: `matched` is recorded and the section is
 * open. Otherwise the section stays closed until a hand-over or a skip is recorded.
 */
matched: boolean, 
/**
 * The device has an enumerator profile. Without one no rule that names a value is
 * met, and the screen says so.
 */
profile_known: boolean, update: PageUpdate, };

export type HandOverResult = { 
/**
 * The colleague meets the section's rule: it is handed over and opens. Otherwise
 * the refusal is recorded and the section stays closed (offer it to someone else,
 * or skip it).
 */
accepted: boolean, update: PageUpdate, };

export type Presentation = { 
/**
 * The project's neutral name, or the app's own ("Voices").
 */
name: string, 
/**
 * The enumerator profile kept from the last sync (`None`: none yet).
 */
enumerator: { sex?: string, languages?: Array<string>, area?: string } | null, };

export type OutcomeChoice = "completed" | "partly_completed" | "refused" | "nobody_at_home" | "respondent_not_available" | "interrupted_for_safety" | "other";

export type EndRequest = { response_id: string, 
/**
 * Any outcome but `completed` (finishing the interview records that).
 */
outcome: OutcomeChoice, note: string | null, 
/**
 * The return visit agreed: RFC 3339 with its offset, later than now.
 */
return_visit: string | null, };

export type ResponseRequest = { response_id: string, };

export type ParadataRequest = { response_id: string, 
/**
 * `opened`, `closed`, `question_enter`, `question_leave`, `page_enter`, `page_leave`,
 * `safe_exit`, `safe_return`, `language`.
 */
event: string, path: string | null, };

export type SafeExitRequest = { response_id: string | null, form_id: string | null, 
/**
 * The interview's language, for the decoy (absent: the form's default language).
 */
language?: string, };

export type ImportTextRequest = { file_name: string, text: string, };

export type ImportSpreadsheetRequest = { file_name: string, 
/**
 * The file's bytes, base64: a byte array would travel as a JSON number list.
 */
data_base64: string, };

export type ImportPathRequest = { path: string, };

export type AttachRequest = { response_id: string, path: string, file_name: string, media_type: string, data_base64: string, page: number, };

export type AttachmentRequest = { response_id: string, path: string, };

export type DecodeImageRequest = { 
/**
 * Path of a PNG or JPEG picture on this device.
 */
path: string, };

export type DecodePictureRequest = { 
/**
 * The picture's bytes, base64 (what a file chooser in the window gives; it has no path).
 */
data_base64: string, };

export type DeviceLink = { server_url: string, project: string, device_id: string, enumerator: string, linked_at: string, };

export type SyncPhase = "not_linked" | "idle" | "syncing" | "waiting" | "error";

export type FormProgress = { form_id: string, version: string, title: string, records_done: number, records_total: number, bytes_done: number, bytes_total: number, };

export type SyncProgress = { records_done: number, records_total: number, bytes_done: number, bytes_total: number, per_form: Array<FormProgress>, };

export type OutboxCounts = { pending: number, sending: number, sent: number, quarantined: number, rejected: number, failed: number, };

export type FormVersionOffer = { form_id: string, version: string, title: string, published_at: string, };

export type SyncStatus = { link: DeviceLink | null, phase: SyncPhase, 
/**
 * RFC 3339, when waiting.
 */
next_attempt_at: string | null, last_success_at: string | null, 
/**
 * A message safe to show: never answer content. In English: the UI shows the
 * sentence of `last_error_kind` (or of `still_waiting`) in the enumerator's language
 * and keeps this as the detail.
 */
last_error: string | null, 
/**
 * What kind of failure stopped the last run, when one did.
 */
last_error_kind: ErrorKind | null, 
/**
 * How many revisions the last run left unacknowledged, when that is the problem.
 */
still_waiting: number | null, progress: SyncProgress | null, counts: OutboxCounts, auto_sync: boolean, proxy: string | null, 
/**
 * Form versions pulled during sync that the user has not been shown yet.
 */
new_form_versions: Array<FormVersionOffer>, 
/**
 * Responses sent back to the enumerator and not finalized again (the header's
 * "Returned" count).
 */
returned: number, 
/**
 * Responses withdrawn by the coordinator (their respondents withdrew) and removed
 * from this device: a count only, nothing that names a respondent.
 */
withdrawn: number, };

export type RecordSyncState = "pending" | "sending" | "sent" | "quarantined" | "rejected" | "failed";

export type OutboxEntry = { response_id: string, form_id: string, form_version: string, form_title: string, 
/**
 * The same neutral label the drafts list uses.
 */
label: string, state: RecordSyncState, 
/**
 * Why it was quarantined or rejected, or the last send error.
 */
reasons: Array<string>, attempts: number, updated_at: string, revisions: number, };

export type ProvisionRequest = { 
/**
 * The `voices1:…` text from `voices-server device add` (whitespace tolerated).
 */
code: string, };

export type SyncSettingsRequest = { auto_sync: boolean, 
/**
 * `http://host:port` of an HTTP(S) proxy; `null` uses `HTTPS_PROXY`/`HTTP_PROXY` if set.
 */
proxy: string | null, };

export type AppSettings = { 
/**
 * The language of the app's own wording, chosen in the header (a language tag such
 * as `ar`); `null` until the enumerator picks one.
 */
language: string | null, };

export type AppLanguageRequest = { 
/**
 * A language tag such as `ar`.
 */
language: string, };

export type LockStatus = "new" | "locked" | "unlocked";

export type DeviceState = { status: LockStatus, 
/**
 * No PIN yet, but data from an app before encryption is here: setting the PIN
 * encrypts it (nothing is lost).
 */
has_unencrypted_data: boolean, 
/**
 * Wrong PINs that may still be entered before the device's data is erased.
 */
attempts_left: number, max_attempts: number, 
/**
 * From this many tries left, the screen warns what the last one does.
 */
warn_when_left: number, min_pin_length: number, 
/**
 * Idle time after which the app locks itself (the project's setting, or the default).
 */
idle_lock_seconds: number, 
/**
 * The device's data was erased since the app started (too many wrong PINs or a
 * wipe ordered by the coordinator): the screen says so.
 */
wiped: boolean, };

export type PinRequest = { pin: string, };

export type ChangePinRequest = { old_pin: string, new_pin: string, };

/** Every command: the request it takes (`null`: none) and what it returns. */
export interface Commands {
  device_state: { request: null; response: DeviceState };
  set_pin: { request: PinRequest; response: DeviceState };
  unlock: { request: PinRequest; response: DeviceState };
  lock_device: { request: null; response: DeviceState };
  change_pin: { request: ChangePinRequest; response: null };
  keep_unlocked: { request: null; response: null };
  list_forms: { request: null; response: Array<FormSummary> };
  import_form_text: { request: ImportTextRequest; response: FileReport };
  import_form_spreadsheet: { request: ImportSpreadsheetRequest; response: FileReport };
  import_form_path: { request: ImportPathRequest; response: ImportReport };
  start_interview: { request: StartRequest; response: InterviewState };
  open_interview: { request: OpenRequest; response: InterviewState };
  interview_state: { request: OpenRequest; response: InterviewState };
  get_page: { request: OpenRequest; response: PageView };
  set_answer: { request: SetAnswerRequest; response: PageUpdate };
  add_repeat_instance: { request: RepeatRequest; response: PageUpdate };
  remove_repeat_instance: { request: RepeatRequest; response: PageUpdate };
  record_consent: { request: ConsentRequest; response: InterviewState };
  record_assent: { request: AssentRequest; response: InterviewState };
  record_privacy: { request: PrivacyRequest; response: PageUpdate };
  draw_selection: { request: DrawRequest; response: PageUpdate };
  check_matching: { request: MatchCheckRequest; response: MatchingCheck };
  hand_over: { request: HandOverRequest; response: HandOverResult };
  skip_matching: { request: MatchCheckRequest; response: PageUpdate };
  presentation: { request: null; response: Presentation };
  review: { request: ResponseRequest; response: Review };
  finalize: { request: ResponseRequest; response: Review };
  end_interview: { request: EndRequest; response: Review };
  list_visits: { request: null; response: Array<Visit> };
  reopen: { request: ResponseRequest; response: InterviewState };
  list_responses: { request: null; response: Array<ResponseSummary> };
  returned_list: { request: null; response: Array<ReturnedSummary> };
  returned_detail: { request: ResponseRequest; response: ReturnedDetail | null };
  record_paradata: { request: ParadataRequest; response: null };
  safe_exit: { request: SafeExitRequest; response: DecoyView };
  safe_return: { request: SafeExitRequest; response: null };
  attach_file: { request: AttachRequest; response: PageUpdate };
  get_attachment: { request: AttachmentRequest; response: AttachmentData };
  decode_provisioning_image: { request: DecodeImageRequest; response: string };
  decode_provisioning_picture: { request: DecodePictureRequest; response: string };
  read_barcode_picture: { request: DecodePictureRequest; response: string };
  provision_device: { request: ProvisionRequest; response: DeviceLink };
  unlink_device: { request: null; response: null };
  sync_status: { request: null; response: SyncStatus };
  sync_now: { request: null; response: SyncStatus };
  list_outbox: { request: null; response: Array<OutboxEntry> };
  set_sync_settings: { request: SyncSettingsRequest; response: SyncStatus };
  acknowledge_form_versions: { request: null; response: null };
  app_settings: { request: null; response: AppSettings };
  set_app_language: { request: AppLanguageRequest; response: AppSettings };
}
