import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Annotations as CoreAnnotations, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { GuardedAlias, RolloutStrategy, SHADOW_TAP_NOT_SEEN_INFO, ShadowIntegration } from '../lib';
import { handlerCode } from '../lib/private/assets';
import { HANDLER_RUNTIME } from '../lib/private/runtime';
import { testFunction, testStack } from './util';

const WRAPPED_INLINE = "const { shadowTap } = require('cdk-rollout-guardrails-runtime');\n"
  + "exports.handler = shadowTap(async () => ({ statusCode: 200, body: 'ok' }));";

function mirrored(code?: lambda.Code, before?: (stack: Stack) => void): { stack: Stack; integration: ShadowIntegration } {
  const stack = testStack();
  before?.(stack);
  const live = code
    ? new lambda.Function(stack, 'Live', { runtime: HANDLER_RUNTIME, handler: 'index.handler', code })
    : testFunction(stack, 'Live');
  const guarded = new GuardedAlias(stack, 'Guarded', { function: live, strategy: RolloutStrategy.allAtOnce() });
  const integration = new ShadowIntegration(stack, 'Mirror', {
    api: new apigw.RestApi(stack, 'Api'), method: 'GET', path: '/answer', live: guarded, shadow: testFunction(stack, 'Shadow'), sampleRate: 0.1, maxMirrorRps: 5,
  });
  return { stack, integration };
}

function tapNotes(stack: Stack): string[] {
  return Annotations.fromStack(stack).findInfo('*', Match.stringLikeRegexp(SHADOW_TAP_NOT_SEEN_INFO)).map((m) => String(m.entry.data));
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function assetDir(source: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'newcomer-tap-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'index.js'), source);
  return dir;
}

describe('ShadowIntegration\'s note to wrap the handler with shadowTap()', () => {
  test('is added, with an id to acknowledge it by, when the code it can read has no shadowTap() call', () => {
    const { stack } = mirrored();
    expect(tapNotes(stack)).toEqual([
      "ShadowIntegration: no shadowTap() call seen in the code of 'TestStack/Live' (its inline code was read): wrap its handler with shadowTap() "
      + 'from cdk-rollout-guardrails-runtime, or nothing is mirrored. If it is wrapped, acknowledge this note: '
      + `Annotations.of(scope).acknowledgeInfo('${SHADOW_TAP_NOT_SEEN_INFO}', 'the handler is wrapped with shadowTap'). [ack: ${SHADOW_TAP_NOT_SEEN_INFO}]`,
    ]);
  });

  test('is not added when the inline code wraps the handler', () => {
    expect(tapNotes(mirrored(lambda.Code.fromInline(WRAPPED_INLINE)).stack)).toEqual([]);
  });

  test('a shadowTap() that is only in a comment, or only the tap\'s own definition, does not count', () => {
    const commented = "// TODO: exports.handler = shadowTap(answer);\n/* shadowTap(answer) */\nexports.handler = async () => ({ statusCode: 200, body: 'ok' });";
    expect(tapNotes(mirrored(lambda.Code.fromInline(commented)).stack)).toHaveLength(1);
    const definitionOnly = 'function shadowTap(handler, options = {}) { return handler; }\nexports.handler = async () => ({ statusCode: 200 });';
    expect(tapNotes(mirrored(lambda.Code.fromAsset(assetDir(definitionOnly))).stack)[0]).toContain('(index.js of its asset was read; a minified bundle hides the call)');
  });

  test('is not added when the handler\'s file in the asset directory calls shadowTap (as tsc or esbuild emit it)', () => {
    const tsc = '"use strict";\nconst runtime_1 = require("cdk-rollout-guardrails-runtime");\n'
      + 'function shadowTap(h) { return h; }\nexports.handler = (0, runtime_1.shadowTap)(async () => ({ statusCode: 200, body: "ok" }));\n';
    expect(tapNotes(mirrored(lambda.Code.fromAsset(assetDir(tsc))).stack)).toEqual([]);
  });

  test('stays for a minified bundle, which it cannot read the call in (the demo\'s handler is wrapped, and minified)', () => {
    const notes = tapNotes(mirrored(handlerCode('demo-answer')).stack);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('(index.js of its asset was read; a minified bundle hides the call)');
  });

  test('can be acknowledged on the stack before the integration is made, or on the integration after', () => {
    const early = mirrored(undefined, (stack) => CoreAnnotations.of(stack).acknowledgeInfo(SHADOW_TAP_NOT_SEEN_INFO, 'wrapped in our build'));
    expect(tapNotes(early.stack)).toEqual([]);
    const late = mirrored();
    CoreAnnotations.of(late.integration).acknowledgeInfo(SHADOW_TAP_NOT_SEEN_INFO, 'wrapped in our build');
    expect(tapNotes(late.stack)).toEqual([]);
  });
});
