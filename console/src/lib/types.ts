// The shapes of the console API's answers (docs/console.md, "API").
import type { LocalText } from './languages';

export interface Project {
  id: string;
  name?: string | null;
  role: string;
}

export interface Overview {
  responses_today: number;
  responses_week: number;
  total: number;
  by_form: { form: string; title: string; count: number }[];
  by_enumerator: { enumerator: string; count: number }[];
  pending_review: number;
  quarantined: number;
  conflicts: number;
  by_outcome: { outcome: string; code: number | null; count: number }[];
  devices_unseen: { id: string; label: string | null; enumerator: string; last_seen: string | null }[];
}

export interface FormVersionSummary {
  form: string;
  version: string;
  title: string;
  published_at: string;
  sha256: string;
}

export interface Finding {
  severity: 'error' | 'warning';
  message: string;
  sheet?: string;
  cell?: string;
  row?: number;
  pointer?: string;
  line?: number;
  column?: number;
}

export interface ChoiceDef {
  name: string;
  label: LocalText;
}

export interface FieldDef {
  path: string;
  name: string;
  type: string;
  label: LocalText;
  group: string | null;
  repeat: string | null;
  pii: boolean;
  sensitive: boolean;
  disaggregation: string | null;
  choices: ChoiceDef[] | null;
}

/** An answer in the table or a response: text, or masked pii. */
/** An answer: its text, pii the server held back, or a sealed answer (its ciphertext, or
 * `true` in a history), which only its key's holder can open. */
export type AnswerValue = string | { masked: true } | { sealed: string | true } | null;

export interface TableRow {
  id: string;
  form: string;
  version: string;
  enumerator: string;
  device: string;
  received_at: string;
  updated_at: string;
  status: string;
  review: string;
  conflicts: number;
  quarantined: boolean;
  answers: Record<string, AnswerValue>;
}

export interface TablePage {
  total: number | null;
  /** `total` is where the server stopped counting: more rows match. */
  total_capped?: boolean;
  rows: TableRow[];
  next: string | null;
}

/** Answers by field name; a repeat holds one answer set per instance. */
export interface AnswerTree {
  [name: string]: AnswerValue | AnswerTree[];
}

export interface ConflictValue {
  dot: { actor: string; seq: number };
  revision: string;
  hlc: string;
  value: { text?: string | null; masked?: boolean; [other: string]: unknown };
}

export interface ResponseDetail {
  cursor: string;
  response: {
    id: string;
    form_id: string;
    form_version: string;
    answers: AnswerTree;
    consent?: unknown;
    privacy?: Record<string, unknown>;
    /** What happened at each section with a matching rule, by the group's path. */
    matching?: Record<string, import('./answers').MatchingRecord>;
  };
  status?: string;
  device: string;
  enumerator: string;
  received_at: string;
  updated_at: string;
  review_state: string;
  review_comment?: string | null;
  /** Flat paths of the pii answers (and pii conflicts) left out without `pii=true`. */
  masked?: string[];
  quarantine?: string[];
  conflicts?: { key: string; values: ConflictValue[] }[];
  /** Set once the respondent withdrew: the answers are left out. */
  withdrawn?: Withdrawal;
  revisions: number;
}

export interface Change {
  path: string;
  before: AnswerValue;
  after: AnswerValue;
}

export interface Withdrawal {
  at: string;
  by: string;
  reason?: string | null;
  purged_at?: string | null;
}

export type HistoryEntry =
  | {
      kind: 'revision';
      revision: string;
      actor: string;
      actor_kind: 'device' | 'coordinator';
      enumerator?: string;
      at: string;
      changes: Change[];
      status?: string;
    }
  | {
      kind: 'review';
      actor: string;
      actor_kind: 'device' | 'coordinator';
      at: string;
      state: string;
      comment?: string | null;
      fields?: Record<string, string>;
    }
  | {
      kind: 'withdrawal';
      actor: string;
      actor_kind: 'device' | 'coordinator';
      at: string;
      reason?: string | null;
      purged_at?: string | null;
    };

export type Count = number | string;

export interface DashboardQuestion {
  path: string;
  label: LocalText;
  choices: ChoiceDef[];
  total: { choice: string; count: Count }[];
  by: Record<string, { group: string; choice: string; count: Count }[]>;
}

export interface Dashboard {
  total: number;
  over_time: { day: string; count: number }[];
  by_enumerator: { enumerator: string; count: number }[];
  disaggregation: Record<string, string | null>;
  age_bands: string[];
  questions: DashboardQuestion[];
}

export interface Device {
  id: string;
  label: string | null;
  enumerator: string;
  created_at: string;
  last_seen: string | null;
  app_version: string | null;
  pending: number | null;
  revoked_at: string | null;
  /** Revoked with wipe: the app erases its data at its next contact. */
  wipe_requested_at: string | null;
  /** The enumerator's profile, which matching rules read on the device. */
  profile: EnumeratorProfile;
}

/** Who the enumerator of a device is, as matching rules ask (every part may be unknown). */
export interface EnumeratorProfile {
  sex?: 'female' | 'male' | 'other' | null;
  languages?: string[];
  area?: string | null;
}

export interface NewDevice {
  id: string;
  code: string;
  qr_svg: string;
  expires_at: string;
}

export interface Person {
  name: string;
  display_name: string | null;
  admin: boolean;
  disabled: boolean;
  memberships: { project: string; role: string; teams: TeamRef[] | null }[];
}

/** A team as a membership names it. */
export interface TeamRef {
  id: number;
  name: string;
}

/** `GET /projects/{p}/teams`: a team with its devices and the people limited to it. */
export interface Team {
  id: number;
  name: string;
  created_at: string;
  devices: string[];
  coordinators: string[];
}

/** Every review state (the table's filter). */
export const REVIEW_STATES = ['received', 'has_issues', 'approved', 'rejected', 'sent_back', 'resubmitted'] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];
/** The states a person decides (`resubmitted` is the enumerator's device's). */
export const DECISIONS = ['received', 'has_issues', 'approved', 'rejected', 'sent_back'] as const;

/** `GET /responses/{id}/resubmission`: what changed since the response was sent back. */
export interface Resubmission {
  review_state: ReviewState;
  sent_back: { state: string; comment?: string | null; fields?: Record<string, string>; by: string; at: string };
  resubmitted_at: string | null;
  changes: Change[];
}

/** Every action the access audit records (`GET /audit`'s `action` filter). */
export const AUDIT_ACTIONS = [
  'sign_in',
  'sign_in_failed',
  'read_response',
  'search',
  'export',
  'review',
  'edit',
  'add_device',
  'revoke_device',
  'add_key',
  'retire_key',
  'grant_pii',
  'open_sealed',
  'add_team',
  'rename_team',
  'delete_team',
  'team_device',
  'limit_teams',
] as const;
export type AuditActionName = (typeof AUDIT_ACTIONS)[number];

/** One record of the access audit (never answers). */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  project?: string;
  target?: string;
  detail: string;
  outcome: string;
}

/** A page of the audit, oldest first: `next` is the `after` of the next page. */
export interface AuditPage {
  entries: AuditEntry[];
  next: number;
  more: boolean;
}
