// ShadowIntegration's answer schema at synth (checked with the dispatcher's own code, prebundled with ajv in
// assets/answer-schema-check) and what the construct exposes and grants for the per-release summaries.
import * as fs from 'fs';
import * as path from 'path';
import { Duration, Lazy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { GuardedAlias } from '../lib/guarded-alias';
import { ShadowIntegration, ShadowIntegrationProps } from '../lib/shadow-integration';
import { ANSWER_SCHEMA_ENV, MAX_ANSWER_SCHEMA_BYTES, answerSchemaProblems, compileAnswerSchema } from '../lambdas/mirror-dispatcher/schema';
import { testFunction, testStack } from './util';

const SCHEMA = {
  type: 'object',
  required: ['answer', 'sources'],
  properties: { answer: { type: 'string', minLength: 1 }, sources: { type: 'array', items: { type: 'string' } } },
  additionalProperties: false,
};

function integration(overrides: Partial<ShadowIntegrationProps> = {}) {
  const stack = testStack();
  const live = testFunction(stack, 'Live');
  const guarded = new GuardedAlias(stack, 'Guarded', { function: live });
  const shadow = testFunction(stack, 'Shadow');
  const api = new apigw.RestApi(stack, 'Api');
  const make = () => new ShadowIntegration(stack, 'Mirror', { api, method: 'GET', path: '/answer', live: guarded, shadow, sampleRate: 0.1, maxMirrorRps: 5, ...overrides });
  return { stack, make };
}

function dispatcherEnvironment(stack: ReturnType<typeof testStack>): Record<string, unknown> {
  const fns = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')) as any[];
  return fns.find((f) => f.Properties.Environment?.Variables?.RESULTS_TABLE)!.Properties.Environment.Variables;
}

describe('answerSchema', () => {
  test('travels to the dispatcher as its JSON, and the construct exposes the results TTL in force', () => {
    const { stack, make } = integration({ answerSchema: SCHEMA, resultsTtl: Duration.days(3) });
    const shadow = make();
    expect(JSON.parse(dispatcherEnvironment(stack)[ANSWER_SCHEMA_ENV] as string)).toEqual(SCHEMA);
    expect(shadow.resultsTtl.toDays()).toBe(3);
    expect(stack.resolve(shadow.metricSchemaViolations().toMetricConfig().metricStat)).toMatchObject({
      namespace: 'CdkRolloutGuardrails/Shadow', metricName: 'SchemaViolations', statistic: 'Sum', dimensions: [{ name: 'Shadow', value: 'TestStack/Mirror' }],
    });
    expect(shadow.metricUnreleasedReplays().metricName).toBe('UnreleasedReplays');
  });

  test('without it the dispatcher has no schema variable, and the TTL is the 7-day default', () => {
    const { stack, make } = integration();
    const shadow = make();
    expect(dispatcherEnvironment(stack)[ANSWER_SCHEMA_ENV]).toBeUndefined();
    expect(shadow.resultsTtl.toDays()).toBe(7);
    expect((shadow.resultsTable as dynamodb.Table).tableName).toBeDefined();
  });

  test('a schema ajv cannot compile is refused at synth, named, with the construct\'s other prop problems', () => {
    const { make } = integration({ answerSchema: { type: 'objec' }, sampleRate: 2 });
    expect(make).toThrow(/sampleRate[\s\S]*answerSchema: is not a JSON Schema ajv 8 compiles \(draft-07, no formats\): schema is invalid: data\/type must be equal to one of the allowed values/);
  });

  test('unknown keywords and formats are refused rather than silently not checked', () => {
    expect(integration({ answerSchema: { type: 'object', requird: ['answer'] } }).make).toThrow('answerSchema: is not a JSON Schema ajv 8 compiles (draft-07, no formats): strict mode: unknown keyword: "requird"');
    expect(integration({ answerSchema: { type: 'string', format: 'email' } }).make).toThrow(/answerSchema: .*unknown format "email"/);
  });

  test(`a schema over ${MAX_ANSWER_SCHEMA_BYTES} bytes of JSON is refused, naming the cap and Lambda's 4 KB environment`, () => {
    const big = { type: 'object', description: 'é'.repeat(1100) };
    const bytes = Buffer.byteLength(JSON.stringify(big));
    expect(bytes).toBeGreaterThan(MAX_ANSWER_SCHEMA_BYTES);
    expect(JSON.stringify(big).length).toBeLessThan(MAX_ANSWER_SCHEMA_BYTES); // the cap counts UTF-8 bytes, not characters
    expect(integration({ answerSchema: big }).make).toThrow(`answerSchema: its JSON is ${bytes} bytes, over the 2048-byte cap`);
    expect(integration({ answerSchema: big }).make).toThrow(/4 KB of environment variables/);
  });

  test('tokens, arrays and values JSON would lose are refused', () => {
    expect(integration({ answerSchema: { type: 'object', title: Lazy.string({ produce: () => 'late' }) } }).make).toThrow(/answerSchema: must be a JSON Schema of plain values, known at synth/);
    expect(integration({ answerSchema: [SCHEMA] as any }).make).toThrow('answerSchema: must be a JSON Schema object (draft-07), got an array');
    expect(integration({ answerSchema: { type: 'number', maximum: NaN } }).make).toThrow(/answerSchema: must be plain JSON/);
    expect(integration({ answerSchema: { type: 'string', description: undefined } }).make).toThrow(/answerSchema: must be plain JSON/);
  });

  test('what synth accepts is what the dispatcher checks with: the bundled checker is the dispatcher\'s module', () => {
    const bundled = require(path.join(__dirname, '..', 'assets', 'answer-schema-check', 'index.js'));
    expect(bundled.ANSWER_SCHEMA_ENV).toBe(ANSWER_SCHEMA_ENV);
    expect(bundled.MAX_ANSWER_SCHEMA_BYTES).toBe(MAX_ANSWER_SCHEMA_BYTES);
    for (const schema of [SCHEMA, { type: 'objec' }, { requird: [] }]) expect(bundled.answerSchemaProblems(schema)).toEqual(answerSchemaProblems(schema));
    // The constructs package does not depend on ajv: only the bundles carry it.
    const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies)).toEqual(['cdk-rollout-guardrails-runtime']);
    expect(manifest.devDependencies.ajv).toBe(require('ajv/package.json').version);
  });
});

describe('the dispatcher\'s schema check', () => {
  const check = compileAnswerSchema(SCHEMA);

  test('a conforming body passes; an invalid one, a body that is not JSON and no body break it, each saying why', () => {
    expect(check(JSON.stringify({ answer: 'yes', sources: ['guide'] }))).toBeUndefined();
    expect(check(JSON.stringify({ answer: 'yes' }))).toBe("(root) must have required property 'sources'");
    expect(check(JSON.stringify({ answer: '', sources: [] }))).toBe('/answer must NOT have fewer than 1 characters');
    expect(check(JSON.stringify({ answer: 'yes', sources: [], extra: 1 }))).toBe('(root) must NOT have additional properties');
    expect(check('<html>oops</html>')).toMatch(/^the body is not JSON \(/);
    expect(check(null)).toBe('the body is empty, not JSON');
    expect(check('')).toBe('the body is empty, not JSON');
  });
});
