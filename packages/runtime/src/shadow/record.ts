import { SHADOW_LINE_MARKER, SHADOW_RECORD_VERSION } from '../contract/shadow.js';

/** Which API Gateway event shape a record came from, so the dispatcher replays the same shape. */
export type ShadowEventKind = 'rest' | 'http';

/** The sanitised request in a tap record: everything the shadow needs to answer, nothing that identifies the caller. */
export interface ShadowRequest {
  /** The HTTP method, upper case. */
  readonly method: string;
  /** The request path as the client sent it (`/answer`). */
  readonly path: string;
  /** The route: REST `resource` (`/items/{id}`), HTTP API route path. */
  readonly resource: string;
  /** The API stage. */
  readonly stage?: string;
  /** Allowed headers only, names in lower case. */
  readonly headers: Record<string, string>;
  /** Query parameters, without any whose name looks like a credential; null when there are none. */
  readonly query: Record<string, string> | null;
  /** Repeated query parameters (REST only), same rule. */
  readonly multiQuery?: Record<string, string[]> | null;
  /** Path parameters as API Gateway matched them. */
  readonly pathParameters: Record<string, string> | null;
  /** The body, with the configured JSON paths redacted; null when there is none. */
  readonly body: string | null;
  /** Whether `body` is base64 (binary bodies are passed through only when no redaction is configured). */
  readonly isBase64Encoded: boolean;
}

/** The live answer in a tap record. */
export interface ShadowResponse {
  /** The status code the user got. */
  readonly status: number;
  /** The body, with the configured JSON paths redacted; null when there is none. */
  readonly body: string | null;
  /** Whether `body` is base64. */
  readonly isBase64Encoded: boolean;
  /** The live handler's duration, in milliseconds, measured by the tap. */
  readonly ms: number;
}

/** One sampled request and its live answer: the line the tap logs, a JSON object. */
export interface ShadowRecord {
  /** Always `GUARDRAILS_SHADOW_V1`, first in the line: what the subscription filter selects on. */
  readonly _shadow: typeof SHADOW_LINE_MARKER;
  readonly v: typeof SHADOW_RECORD_VERSION;
  readonly kind: ShadowEventKind;
  /** The API Gateway request id: the sampling key and the results' `shadow_id`. */
  readonly id: string;
  /** When the live answer was produced, epoch milliseconds. */
  readonly at: number;
  /** The sample rate in force. */
  readonly rate: number;
  /** Eligible requests this execution environment saw since its previous line, this one included. */
  readonly seen: number;
  /** The live release (`RELEASE_ID`, else the Lambda version). */
  readonly modelRev: string | null;
  /** The live function's index identity, when the handler says (`indexHash` option or `GUARDRAILS_INDEX_HASH`). */
  readonly indexHash: string | null;
  readonly request: ShadowRequest;
  readonly response: ShadowResponse;
}

/** Why the tap dropped a sampled request instead of logging it. */
export type ShadowDropReason = 'oversize' | 'unredactable' | 'unserialisable';

/** The line logged in place of a record the tap had to drop: the drop is counted, the content never copied. */
export interface ShadowDrop {
  readonly _shadow: typeof SHADOW_LINE_MARKER;
  readonly v: typeof SHADOW_RECORD_VERSION;
  readonly drop: ShadowDropReason;
  /** The request id of the dropped record. */
  readonly id: string;
  readonly at: number;
  readonly rate: number;
  readonly seen: number;
  /**
   * The size of the record that was too large, in bytes; for a drop decided on the raw bodies (`body` set), their
   * length in UTF-16 code units, a lower bound of their UTF-8 size (absent when it was not worth counting).
   */
  readonly bytes?: number;
  /**
   * Set on an `oversize` drop decided before anything was parsed or redacted, from the raw sizes of the bodies:
   * the request body alone, the response body alone, or both together took the record over the cap.
   */
  readonly body?: 'request' | 'response' | 'both';
}

/** A parsed tap line. */
export type ShadowLine = ShadowRecord | ShadowDrop;

/** Whether a parsed line is a drop notice rather than a record. */
export function isShadowDrop(line: ShadowLine): line is ShadowDrop {
  return (line as ShadowDrop).drop !== undefined;
}

/** How every tap line starts: it is a JSON object whose first member is the marker. */
export const SHADOW_LINE_PREFIX = `{"_shadow":"${SHADOW_LINE_MARKER}"`;

/**
 * Finds and parses the tap line in one CloudWatch Logs message, whether Lambda wrote it in its text format
 * (`<time>\t<request id>\tINFO\t{"_shadow":"GUARDRAILS_SHADOW_V1",...}`) or its JSON format (the line is
 * the `message` of an outer JSON object, as a string or as an object).
 * @throws Error saying what is wrong when the message holds no valid line
 */
export function parseShadowLine(message: string): ShadowLine {
  if (typeof message !== 'string') throw new Error('the log event has no message');
  let text = message;
  let at = text.indexOf(SHADOW_LINE_PREFIX);
  const trimmed = message.trimStart();
  if (trimmed.startsWith('{') && !trimmed.startsWith(SHADOW_LINE_PREFIX)) {
    // Lambda's JSON log format: the line is the message of an outer object (a nested object holds the
    // prefix unescaped, so the outer object is read first).
    let outer: { message?: unknown } | undefined;
    try {
      outer = JSON.parse(trimmed);
    } catch {
      // not Lambda's JSON format; look for the prefix in the text as it is
    }
    if (typeof outer?.message === 'string') {
      text = outer.message;
      at = text.indexOf(SHADOW_LINE_PREFIX);
    } else if (typeof outer?.message === 'object' && outer.message !== null && (outer.message as { _shadow?: unknown })._shadow === SHADOW_LINE_MARKER) {
      return checkLine(outer.message);
    }
  }
  if (at < 0) throw new Error(`the message holds no ${SHADOW_LINE_MARKER} record`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(at));
  } catch (cause) {
    throw new Error(`the ${SHADOW_LINE_MARKER} record is not valid JSON (${(cause as Error).message})`);
  }
  return checkLine(parsed);
}

function checkLine(value: unknown): ShadowLine {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('the record is not a JSON object');
  const line = value as Record<string, unknown>;
  if (line.v !== SHADOW_RECORD_VERSION) throw new Error(`the record's version must be ${SHADOW_RECORD_VERSION}, got: ${JSON.stringify(line.v)}`);
  if (typeof line.id !== 'string' || line.id === '') throw new Error('the record has no request id');
  if (typeof line.seen !== 'number' || !(line.seen >= 1)) throw new Error(`the record's seen count must be at least 1, got: ${JSON.stringify(line.seen)}`);
  if (typeof line.rate !== 'number' || !(line.rate > 0 && line.rate <= 1)) throw new Error(`the record's rate must be in (0, 1], got: ${JSON.stringify(line.rate)}`);
  if (typeof line.drop === 'string') return line as unknown as ShadowDrop;
  if (line.kind !== 'rest' && line.kind !== 'http') throw new Error(`the record's kind must be "rest" or "http", got: ${JSON.stringify(line.kind)}`);
  const request = line.request as Record<string, unknown> | undefined;
  if (typeof request !== 'object' || request === null || typeof request.method !== 'string' || typeof request.path !== 'string') {
    throw new Error('the record has no request method and path');
  }
  const response = line.response as Record<string, unknown> | undefined;
  if (typeof response !== 'object' || response === null || typeof response.status !== 'number' || typeof response.ms !== 'number') {
    throw new Error('the record has no live response status and duration');
  }
  return line as unknown as ShadowRecord;
}
