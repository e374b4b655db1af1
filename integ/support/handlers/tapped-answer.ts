// The live function of the shadow integ test: a tiny answering handler wrapped with the runtime's `shadowTap`, which
// logs a sample of its requests and answers (configured by ShadowIntegration through the environment) for the mirror
// dispatcher to replay to the shadow. Bundled by NodejsFunction at synth (esbuild, no network).
import { shadowTap } from '../../../packages/runtime/src';

interface HttpEvent {
  readonly queryStringParameters?: Record<string, string | undefined> | null;
}

async function answer(event: HttpEvent): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> {
  const question = event?.queryStringParameters?.q ?? '';
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ answer: `A canary release sends a small share of live traffic to the new version. (${question.length} characters asked)` }),
  };
}

export const handler = shadowTap(answer);
