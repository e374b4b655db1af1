// The live function of the sticky-cohorts integ test: a tiny handler that answers with its release, under the
// runtime's guardrails() with the cohorts part (the stickyCohorts forwarder: a user of the cohort is forwarded to the
// canary alias) and the release telemetry the gates read each version's p95 from. The stable id is the caller's
// `x-tenant-id` header. Bundled by NodejsFunction at synth (esbuild, no network).
import { guardrails } from '../../../packages/runtime/src';

interface HttpEvent {
  readonly headers?: Record<string, string | undefined> | null;
}

async function answer(_event: HttpEvent): Promise<{ statusCode: number; body: string }> {
  // The bad-live release fails every request it serves: only the canary-vs-control gates see it.
  if (process.env.RELEASE_LABEL?.endsWith('bad-live')) throw new Error('the bad-live release fails every request');
  return { statusCode: 200, body: JSON.stringify({ release: process.env.RELEASE_LABEL, version: process.env.AWS_LAMBDA_FUNCTION_VERSION }) };
}

export const handler = guardrails(answer, {
  cohorts: { stableId: (event: HttpEvent) => event.headers?.['x-tenant-id'] },
  telemetry: {},
});
