// Generated from the Rust types in src-tauri by `UPDATE_BINDINGS=1 cargo test -p voices-app bindings`.
// Do not edit by hand.

export type ErrorKind = "storage" | "file" | "not_found" | "invalid_input" | "invalid_form" | "conflict";

export type CommandError = { kind: ErrorKind, message: string, };

export type ResponseStatus = "draft" | "finalized" | "queued" | "sent" | "refused";

export type LanguageView = { code: string, name: string, rtl: boolean, };

export type PageKind = "consent" | "questions" | "repeat";

export type ConsentView = { name: string, heading: string, text: string, question: string, agree_label: string, decline_label: string, decline_message: string, text_version: string, 
/**
 * `Some(true)` given, `Some(false)` declined, `None` not yet asked.
 */
given: boolean | null, };

export type PrivacyView = { 
/**
 * Key of the check in the response (`/group`).
 */
group_path: string, prompt: string, 
/**
 * `private`, `not_private`, `interrupted`, or null when not yet asked.
 */
outcome: string | null, };

export type ChoiceView = { name: string, label: string, };

export type RangeView = { start: number, end: number, step: number, };

export type FieldView = { path: string, name: string, 
/**
 * The field type as written in the form (`select_one`, `geopoint`, …).
 */
kind: string, label: string, hint: string, guidance: string, required: boolean, read_only: boolean, relevant: boolean, value: string | null, choices: Array<ChoiceView>, appearance: string, range: RangeView | null, sensitive: boolean, pii: boolean, 
/**
 * What is wrong with the current value, in the form's language.
 */
problem: string | null, 
/**
 * Heading of the inline (non-page) group this field sits in, if any.
 */
group_label: string | null, };

export type InstanceView = { path: string, number: number, fields: Array<FieldView>, };

export type RepeatView = { path: string, add_label: string, count: number, min: number | null, max: number | null, 
/**
 * The count comes from an expression: the enumerator cannot add or remove.
 */
fixed_count: boolean, instances: Array<InstanceView>, };

export type PageView = { 
/**
 * Position in the page list (0-based).
 */
index: number, 
/**
 * Stable key of the page: the group's or repeat's name, `consent`, or `intro-N`.
 */
key: string, title: string, kind: PageKind, 
/**
 * Whether the page applies now (its group's relevance).
 */
relevant: boolean, 
/**
 * Set for the consent page.
 */
consent: ConsentView | null, 
/**
 * Set for a `privacy: required` group.
 */
privacy: PrivacyView | null, 
/**
 * Set for a repeat page.
 */
repeat: RepeatView | null, 
/**
 * The fields of a question page (repeat pages list theirs per instance).
 */
fields: Array<FieldView>, };

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

export type OutlineEntry = { index: number, title: string, relevant: boolean, };

export type InterviewState = { response_id: string, form_id: string, form_version: string, form_title: string, status: ResponseStatus, language: string, rtl: boolean, languages: Array<LanguageView>, outline: Array<OutlineEntry>, page: PageView, edit_count: number, };

export type AnswerSaved = { saved_at: string, page: PageView, outline: Array<OutlineEntry>, };

export type Review = { issues: Array<Issue>, can_finalize: boolean, };

export type ResponseSummary = { response_id: string, form_id: string, form_version: string, form_title: string, status: ResponseStatus, created_at: string, updated_at: string, 
/**
 * Short neutral label: "Interview 3f2a…" (no answer text can leak into lists).
 */
label: string, edit_count: number, };

export type DecoyView = { title: string, message: string, fields: Array<FieldView>, };

export type AttachmentData = { file_name: string, media_type: string, data_base64: string, };

export type SetAnswerRequest = { response_id: string, path: string, value: string | null, page: number, language: string | null, };

export type StartRequest = { form_id: string, version: string | null, language: string | null, };

export type OpenRequest = { response_id: string, page: number, language: string | null, };

export type RepeatRequest = { response_id: string, 
/**
 * `/members` to add an instance; `/members[2]` to remove one.
 */
path: string, page: number, language: string | null, };

export type ConsentRequest = { response_id: string, given: boolean, language: string | null, };

export type PrivacyChoice = "private" | "not_private" | "interrupted";

export type PrivacyRequest = { response_id: string, group_path: string, outcome: PrivacyChoice, page: number, language: string | null, };

export type ResponseRequest = { response_id: string, language: string | null, };

export type ParadataRequest = { response_id: string, 
/**
 * `opened`, `closed`, `question_enter`, `question_leave`, `page_enter`, `page_leave`,
 * `safe_exit`, `safe_return`, `language`.
 */
event: string, path: string | null, };

export type SafeExitRequest = { response_id: string | null, form_id: string | null, };

export type ImportTextRequest = { file_name: string, text: string, };

export type ImportPathRequest = { path: string, };

export type AttachRequest = { response_id: string, path: string, file_name: string, media_type: string, data_base64: string, page: number, language: string | null, };

export type AttachmentRequest = { response_id: string, path: string, };

/** Every command: the request it takes (`null`: none) and what it returns. */
export interface Commands {
  list_forms: { request: null; response: Array<FormSummary> };
  import_form_text: { request: ImportTextRequest; response: FileReport };
  import_form_path: { request: ImportPathRequest; response: ImportReport };
  start_interview: { request: StartRequest; response: InterviewState };
  open_interview: { request: OpenRequest; response: InterviewState };
  interview_state: { request: OpenRequest; response: InterviewState };
  get_page: { request: OpenRequest; response: PageView };
  set_answer: { request: SetAnswerRequest; response: AnswerSaved };
  add_repeat_instance: { request: RepeatRequest; response: PageView };
  remove_repeat_instance: { request: RepeatRequest; response: PageView };
  record_consent: { request: ConsentRequest; response: InterviewState };
  record_privacy: { request: PrivacyRequest; response: PageView };
  review: { request: ResponseRequest; response: Review };
  finalize: { request: ResponseRequest; response: Review };
  reopen: { request: ResponseRequest; response: InterviewState };
  list_responses: { request: null; response: Array<ResponseSummary> };
  record_paradata: { request: ParadataRequest; response: null };
  safe_exit: { request: SafeExitRequest; response: DecoyView };
  safe_return: { request: SafeExitRequest; response: null };
  attach_file: { request: AttachRequest; response: AnswerSaved };
  get_attachment: { request: AttachmentRequest; response: AttachmentData };
}
