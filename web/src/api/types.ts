// Shapes of docs/PROTOCOL.md (REST and WebSocket).

import type { ServerFrame } from '../protocol/generated';

export interface User {
  id: string;
  display_name: string;
  office_location: string | null;
  job_title: string | null;
  is_admin: boolean;
}

export type IncidentType = 'equipment_failure' | 'material_shortage' | 'quality_issue' | 'other';
export type Severity = 'low' | 'medium' | 'high' | 'critical';
export type RoomStatus = 'active' | 'resolved' | 'archived';
export type Role = 'owner' | 'editor' | 'viewer';

export const INCIDENT_TYPES: IncidentType[] = ['equipment_failure', 'material_shortage', 'quality_issue', 'other'];
export const SEVERITIES: Severity[] = ['low', 'medium', 'high', 'critical'];
export const STATUSES: RoomStatus[] = ['active', 'resolved', 'archived'];

export interface Room {
  id: string;
  title: string;
  incident_type: IncidentType;
  severity: Severity;
  status: RoomStatus;
  location: string | null;
  line: string | null;
  equipment: string | null;
  description: string | null;
  resolution_notes: string | null;
  lots: string[];
  created_by: string;
  created_at: string;
  resolved_at: string | null;
  archived_at: string | null;
  last_activity_at: string;
  member_count: number;
  head_seq: number;
  /** Milestones: set once, by the first who declares them; kept on reopening. */
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  contained_at: string | null;
  contained_by: string | null;
  is_member: boolean;
  my_role: Role | null;
  unread: number;
  /** Messages after my read marker that mention me (by name or everyone). */
  mentions: number;
}

export interface RoomPage {
  rooms: Room[];
  total: number;
  page: number;
  page_size: number;
}

export interface Member {
  user_id: string;
  role: Role;
  display_name: string | null;
  pending: boolean;
  added_by: string | null;
  added_at: string;
  last_read_seq: number;
}

export interface Template {
  id: string;
  name: string;
  incident_type: IncidentType;
  default_severity: Severity;
  default_description: string | null;
  default_members: { user_id: string; role: Role }[];
}

export interface FileMeta {
  id: string;
  room_id: string;
  name: string;
  kind: 'image' | 'document' | 'log';
  mime_type: string;
  size: number;
  sha256: string;
  uploader: string;
  uploaded_at: string;
  message_id: string | null;
  has_thumbnail: boolean;
  content_url: string;
  thumbnail_url: string | null;
}

export interface Reaction {
  emoji: string;
  users: string[];
}

export interface Message {
  id: string;
  room_id: string;
  seq: number;
  sender: string;
  sender_name: string | null;
  message_type: 'text' | 'incident_data' | 'image_ref' | 'file_ref' | 'system';
  content: string;
  metadata: Record<string, unknown>;
  client_id: string | null;
  created_at: string;
  edited_at: string | null;
  deleted: boolean;
  reactions: Reaction[];
  file: FileMeta | null;
  /** Pinned to the room (absent in events from before pins existed). */
  pinned?: boolean;
}

/** A pinned message, as `GET /api/rooms/{id}/pins` lists it (in pin order). */
export interface Pin {
  seq: number;
  pinned_by: string;
  pinned_by_name: string | null;
  pinned_at: string;
  message: Message;
}

/** A page of `GET /api/rooms/{id}/messages`; `has_older`/`has_newer` come with `around_seq` only. */
export interface MessagePage {
  messages: Message[];
  has_more: boolean;
  /** The room's other events in the span of history the page covers (shown as lines). */
  events: RoomEvent[];
  has_older?: boolean;
  has_newer?: boolean;
}

// Search and edit history (docs/PROTOCOL.md, "Search and edit history").

export interface MessageHit {
  room_id: string;
  /** In the search across rooms only. */
  room_title?: string;
  message_id: string;
  seq: number;
  sender: string;
  sender_name: string;
  message_type: Message['message_type'];
  content: string;
  created_at: string;
  edited_at: string | null;
}

export interface RoomSearchPage {
  hits: MessageHit[];
  has_more: boolean;
  next_before_seq: number | null;
}

export interface GlobalSearchPage {
  hits: MessageHit[];
  has_more: boolean;
  next_before: string | null;
}

export interface EditVersion {
  version: number;
  content: string;
  written_at: string;
  replaced_at: string;
}

export interface EditHistory {
  message_id: string;
  deleted: boolean;
  created_at: string;
  edited_at: string | null;
  versions: EditVersion[];
  content: string;
}

/** A durable room event as delivered over the socket (generated from the server's type). */
export type RoomEvent = Extract<ServerFrame, { type: 'event' }>;

// Incident reports (docs/PROTOCOL.md, "Reports").

export type ReportLanguage = 'zh-TW' | 'en';
export type ReportStatus = 'pending' | 'collecting' | 'writing' | 'assembling' | 'completed' | 'failed';

export interface Report {
  id: string;
  room_id: string;
  requested_by: string;
  language: ReportLanguage;
  ai: boolean;
  status: ReportStatus;
  reason: string | null;
  created_at: string;
  finished_at: string | null;
  file_name: string | null;
  size: number | null;
  sha256: string | null;
  content_url: string | null;
}

export type ReportBlock =
  | { type: 'paragraph'; text: string }
  | { type: 'note'; text: string }
  | { type: 'subheading'; text: string }
  | { type: 'table'; header: string[]; rows: string[][] }
  | { type: 'image'; file_id: string; caption: string };

export interface ReportSection {
  key: string;
  heading: string;
  blocks: ReportBlock[];
}

export interface ReportContent {
  language: ReportLanguage;
  title: string;
  subtitle: string[];
  sections: ReportSection[];
}

export interface ReportDetail extends Report {
  content: ReportContent | null;
}

export interface ReportList {
  reports: Report[];
  ai_available: boolean;
}

// Escalation ladders (docs/PROTOCOL.md, "Escalation ladders").

export interface EscalationLevel {
  after_secs: number;
  notify: string[];
}

export interface EscalationPolicy {
  severity: Severity;
  levels: EscalationLevel[];
  updated_by: string | null;
  updated_at: string | null;
}

/** A `room.escalated` event's data. */
export interface Escalated {
  level: number;
  after_secs: number;
  notify: string[];
  added: string[];
}

/** A routing rule (system administrators): rooms it matches get its people. */
export interface RoutingRule {
  id: string;
  name: string;
  /** `null`: any. */
  incident_type: IncidentType | null;
  severity: Severity | null;
  location: string | null;
  line: string | null;
  members: { user_id: string; role: Role }[];
  created_by: string;
  created_at: string;
  updated_at: string;
}
