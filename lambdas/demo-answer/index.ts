import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
// The probe runtime's modules are imported one by one, not through its index, so that the bundle does not
// pull in (and load at cold start) the Bedrock client that only BedrockEmbedder needs.
import { cosineDistance } from 'cdk-rollout-guardrails-runtime';
import { HashedNgramEmbedder } from 'cdk-rollout-guardrails-runtime';
import { CORPUS, CorpusSection } from './corpus';
import { cacheKey, guardrails, reportCacheLookup } from 'cdk-rollout-guardrails-runtime';

/** What the demo answers: the nearest corpus section, and which release produced it. */
export interface DemoAnswer {
  /** The text of the chosen section, verbatim. */
  readonly answer: string;
  /** The id of the chosen section. */
  readonly sectionId: string;
  /** `RELEASE_ID` from the environment, so a probe can tell which version answered; null when unset. */
  readonly release: string | null;
}

/** A direct (non-API Gateway) invocation, as the probe sends it; `seed` is accepted and ignored. */
export interface DirectEvent {
  /** The question to answer. */
  readonly question?: unknown;
  /** Accepted so probes can vary it; the demo is deterministic and ignores it. */
  readonly seed?: unknown;
}

/** A warm-up ping from the warm gate: answered at once, without work, and left out of SLO metrics. */
export interface WarmEvent {
  /** `true` (or the string "true") marks the event as a warm ping. */
  readonly 'x-warm': true | 'true';
}

/** A question the demo refuses to answer; the message says why, in words a caller can act on. */
export class DemoRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoRequestError';
  }
}

/** Longest question the demo accepts; the same bound as the example app's API Gateway request model. */
export const MAX_QUESTION_LENGTH = 2000;

/** The environment variable that selects the drifted build (`1`); anything else is the normal build. */
export const DRIFT_ENV = 'DEMO_DRIFT';

/** Options of {@link answerQuestion} and {@link createDemoHandler}. */
export interface DemoOptions {
  /**
   * Answer as the drifted build does: retrieve by section titles alone and answer with the section's first
   * sentence, the kind of "cheaper retriever, shorter prompt" change the ΔS probe is there to catch.
   * @default false
   */
  readonly drift?: boolean;
  /** The release id put in every answer. @default null */
  readonly release?: string | null;
}

const embedder = new HashedNgramEmbedder();
// Embedded once per execution environment: the corpus is fixed, so cold start pays for it and requests do not.
// The title is embedded with the text so that a question naming the topic finds it.
const sectionVectors = CORPUS.map((section) => embedder.embedOne(`${section.title}. ${section.text}`));
const titleVectors = CORPUS.map((section) => embedder.embedOne(section.title));

/**
 * The corpus section nearest to the question by ΔS (hashed n-gram embeddings); ties go to the earlier
 * section, so the answer is a pure function of the question.
 */
export function nearestSection(question: string): CorpusSection {
  return nearest(question, sectionVectors);
}

/** The drifted build's retrieval: the section whose title alone is nearest to the question. */
export function nearestTitle(question: string): CorpusSection {
  return nearest(question, titleVectors);
}

/** The first sentence of a text (up to and including the first ". "), or the whole text. */
export function firstSentence(text: string): string {
  const end = text.search(/\.\s/);
  return end < 0 ? text : text.slice(0, end + 1);
}

function nearest(question: string, vectors: readonly number[][]): CorpusSection {
  const vector = embedder.embedOne(question);
  let best = 0;
  let bestDistance = Infinity;
  vectors.forEach((sectionVector, i) => {
    const distance = cosineDistance(vector, sectionVector);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = i;
    }
  });
  return CORPUS[best];
}

/**
 * Answers one question; throws DemoRequestError for a question that is missing, blank or too long. The
 * release defaults to `RELEASE_ID` from the environment.
 */
export function answerQuestion(question: unknown, options: DemoOptions = {}): DemoAnswer {
  if (question === undefined || question === null) throw new DemoRequestError('missing question: send {"question": "..."} or GET ?q=...');
  if (typeof question !== 'string') throw new DemoRequestError(`question must be a string, got ${typeof question}`);
  if (question.trim() === '') throw new DemoRequestError('question must not be empty');
  if (question.length > MAX_QUESTION_LENGTH) {
    throw new DemoRequestError(`question is ${question.length} characters long; the limit is ${MAX_QUESTION_LENGTH}`);
  }
  const release = options.release !== undefined ? options.release : process.env.RELEASE_ID ?? null;
  if (options.drift) {
    const section = nearestTitle(question);
    return { answer: firstSentence(section.text), sectionId: section.id, release };
  }
  const section = cachedSection(question);
  return { answer: section.text, sectionId: section.id, release };
}

/**
 * The retrieval, cached per execution environment under the release's namespace (the canary seed's "separate
 * cache prefixes for control and canary"), each lookup counted in the telemetry record. Without a RELEASE_ID
 * (outside a GuardedAlias) nothing is cached: one namespace for every version is what namespacing prevents.
 */
const sections = new Map<string, CorpusSection>();
const MAX_CACHED = 1000;
function cachedSection(question: string): CorpusSection {
  if (!process.env.RELEASE_ID) return nearestSection(question);
  const key = cacheKey(`section:${question}`);
  const hit = sections.get(key);
  reportCacheLookup(hit !== undefined);
  if (hit) return hit;
  const section = nearestSection(question);
  if (sections.size >= MAX_CACHED) sections.clear();
  sections.set(key, section);
  return section;
}

/**
 * The demo answering service. Three kinds of event:
 * - a warm ping `{"x-warm": true}` → `{warm: true}` at once;
 * - an API Gateway REST proxy event (v1): `GET ?q=...` or `POST {"question": "..."}` → 200 with the
 *   DemoAnswer as JSON, 400 with `{"error": "..."}` for a missing, empty or over-long question or a body
 *   that is not a JSON object, 405 for other methods;
 * - a direct invocation `{"question": "...", "seed": n}` (the probe's) → the DemoAnswer itself; a bad
 *   question throws DemoRequestError, which Lambda reports as a function error.
 */
export const handler = guardrails(async (event: APIGatewayProxyEvent | DirectEvent | WarmEvent): Promise<APIGatewayProxyResult | DemoAnswer | { warm: true }> => {
  return handle(event, { drift: process.env[DRIFT_ENV] === '1' });
}, {
  // pinGuard refuses (409) a request whose X-Schema-Rev, X-Index-Hash or X-Model-Tag does not match this
  // version's pins (from the environment).
  pins: {},
  // One EMF record per invocation by release and revision (the cold-start gate reads ColdStart), warm pings
  // left out; outside Lambda (the tests) there is no log to read them from, so none is written.
  telemetry: { sink: process.env.AWS_LAMBDA_FUNCTION_NAME ? undefined : () => undefined },
  // The tap mirrors a sample of reads to a shadow when ShadowIntegration configures it through the environment
  // (bin/demo-shadow.ts); without that configuration it only passes events through.
  shadow: {},
});
// The demo answers reads and writes nothing, so it needs no idempotency. guardrails nests the parts as
// shadowTap(withRelease(pinGuard(handler))): the tap records what the caller got, 409s included.

/**
 * A handler of one build, whatever the environment says: tests run the normal and the drifted build side
 * by side in one process (as two versions of the function).
 */
export function createDemoHandler(options: DemoOptions): (event: APIGatewayProxyEvent | DirectEvent | WarmEvent) => Promise<APIGatewayProxyResult | DemoAnswer | { warm: true }> {
  return async (event) => handle(event, options);
}

async function handle(event: APIGatewayProxyEvent | DirectEvent | WarmEvent, options: DemoOptions): Promise<APIGatewayProxyResult | DemoAnswer | { warm: true }> {
  if (isWarmPing(event)) return { warm: true };
  if (isRestEvent(event)) return answerRest(event, options);
  return answerQuestion((event as DirectEvent | null | undefined)?.question, options);
}

function isWarmPing(event: unknown): event is WarmEvent {
  if (typeof event !== 'object' || event === null) return false;
  const flag = (event as Record<string, unknown>)['x-warm'];
  return flag === true || flag === 'true';
}

function isRestEvent(event: unknown): event is APIGatewayProxyEvent {
  return typeof event === 'object' && event !== null
    && typeof (event as { httpMethod?: unknown }).httpMethod === 'string'
    && typeof (event as { requestContext?: unknown }).requestContext === 'object';
}

function answerRest(event: APIGatewayProxyEvent, options: DemoOptions): APIGatewayProxyResult {
  try {
    switch (event.httpMethod.toUpperCase()) {
      case 'GET':
        return json(200, answerQuestion(event.queryStringParameters?.q ?? event.multiValueQueryStringParameters?.q?.[0], options));
      case 'POST':
        return json(200, answerQuestion(questionFromBody(event), options));
      default:
        return json(405, { error: `method ${event.httpMethod} is not allowed; use GET ?q=... or POST {"question": "..."}` }, { Allow: 'GET, POST' });
    }
  } catch (error) {
    if (error instanceof DemoRequestError) return json(400, { error: error.message });
    throw error;
  }
}

function questionFromBody(event: APIGatewayProxyEvent): unknown {
  const raw = event.body === null || event.body === undefined
    ? ''
    : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (raw.trim() === '') throw new DemoRequestError('missing request body: send {"question": "..."}');
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new DemoRequestError('request body is not valid JSON: send {"question": "..."}');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new DemoRequestError('request body must be a JSON object: send {"question": "..."}');
  }
  return (body as { question?: unknown }).question;
}

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}
