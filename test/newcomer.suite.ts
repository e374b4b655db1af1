// The newcomer suites (what a first-time user meets), one describe() per former file: each test file that loads aws-cdk-lib costs about a second of `npm test` (issue #14 §7), so suites of one area share a file.
import { Annotations as CoreAnnotations, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { GoldSetError, parseGoldSet } from '../packages/runtime/src/probe';
import { GOLD_SET_LISTED_LINES, GoldSetProblemsError } from '../packages/runtime/src/contract/gold-set';
import { DeltaSProbe, GoldSet, GuardrailsValidationError, API_BYPASSES_ALIAS_WARNING, ENVIRONMENT_SIZE_WARNING, GuardedAlias, RolloutStrategy, SHADOW_TAP_NOT_SEEN_INFO, ShadowIntegration } from '../lib';
import { testStack, testFunction } from './util';
import { captureSynthWarnings } from './helpers/console';
import { handlerCode } from '../lib/private/assets';
import { HANDLER_RUNTIME } from '../lib/private/runtime';

describe('newcomer-gold-set', () => {
  const line = (fields: Record<string, unknown>) => JSON.stringify({
    id: 'q1', question: 'What is a canary?', paraphrases: ['Define a canary.', 'Explain canaries.'], target: 'A canary is…', ...fields,
  });

  function rejection(jsonl: string): GoldSetProblemsError {
    try {
      parseGoldSet(jsonl);
    } catch (error) {
      expect(error).toBeInstanceOf(GoldSetError);
      expect(error).toBeInstanceOf(GoldSetProblemsError);
      return error as GoldSetProblemsError;
    }
    throw new Error('parseGoldSet accepted the file');
  }

  describe('a gold set with several bad lines', () => {
    const jsonl = [
      line({}),
      '{"id": "q2",',
      '',
      line({ id: 'q3', question: 42, target: '  ' }),
      line({ id: 'q4', paraphrases: ['Define a canary.'] }),
      line({ id: 'q1' }),
      '[1, 2]',
      line({ id: 'q7' }),
    ].join('\n');

    test('reports every bad line, with its line number and what is wrong, in one error', () => {
      const error = rejection(jsonl);
      expect(error.name).toBe('GoldSetError');
      expect(error.message.split('\n')).toEqual([
        'gold set has 6 problems on 5 lines:',
        expect.stringMatching(/^ {2}- line 2: not valid JSON \(/),
        "  - line 4: field 'question': expected a string, got number 42; field 'target': must not be blank",
        "  - line 5: field 'paraphrases': needs at least 2 paraphrases, got 1",
        "  - line 6: field 'id': duplicate id 'q1' (first on line 1)",
        '  - line 7: expected a JSON object, got an array',
      ]);
      expect(error.problems.map((p) => [p.line, p.field])).toEqual([[2, undefined], [4, 'question'], [4, 'target'], [5, 'paraphrases'], [6, 'id'], [7, undefined]]);
      // line and field are the first problem's, as before
      expect([error.line, error.field]).toEqual([2, undefined]);
      expect(error.cause).toBeInstanceOf(SyntaxError);
    });

    test(`lists the first ${GOLD_SET_LISTED_LINES} bad lines and counts the rest; problems holds every one`, () => {
      const bad = Array.from({ length: 25 }, (_, i) => line({ id: `b${i}`, question: i }));
      bad[24] = line({ id: 'b24', question: 24, target: 7 });
      const error = rejection([line({}), ...bad].join('\n'));
      const rows = error.message.split('\n');
      expect(rows[0]).toBe('gold set has 26 problems on 25 lines:');
      expect(rows).toHaveLength(1 + GOLD_SET_LISTED_LINES + 1);
      expect(rows[1]).toBe("  - line 2: field 'question': expected a string, got number 0");
      expect(rows[GOLD_SET_LISTED_LINES]).toBe("  - line 21: field 'question': expected a string, got number 19");
      expect(rows[GOLD_SET_LISTED_LINES + 1]).toBe("  - … and 5 more bad lines (6 more problems, from line 22; the error's problems list every one)");
      expect(error.problems).toHaveLength(26);
    });

    test('one problem reads as it always did', () => {
      expect(rejection(`${line({})}\n\n${line({ id: 'q2', question: 42 })}`).message).toBe("gold set line 3, field 'question': expected a string, got number 42");
    });

    test('DeltaSProbe fails synth listing every bad line under its goldSet prop', () => {
      let error: unknown;
      try {
        new DeltaSProbe(testStack(), 'Probe', { goldSet: GoldSet.fromJsonl(jsonl) });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(GuardrailsValidationError);
      const lines = (error as Error).message.split('\n');
      expect(lines[0]).toBe("DeltaSProbe 'TestStack/Probe' has 1 invalid prop:");
      expect(lines[1]).toBe('  - goldSet must be a valid gold set, got: inline JSON Lines: gold set has 6 problems on 5 lines:');
      expect(lines.slice(2).map((l) => l.slice(0, 16))).toEqual(['      - line 2: ', '      - line 4: ', '      - line 5: ', '      - line 6: ', '      - line 7: ']);
    });
  });
});

describe('newcomer-guarded-alias', () => {
  const CANARY = RolloutStrategy.canary(10, Duration.minutes(5));

  /** The stack's bypass warnings; the report aws-cdk-lib prints at synth names the same ones, and nothing else. */
  function bypassWarnings(stack: Stack) {
    const { result: annotations, warnings: printed } = captureSynthWarnings(() => Annotations.fromStack(stack));
    const warnings = annotations.findWarning('*', Match.stringLikeRegexp(API_BYPASSES_ALIAS_WARNING));
    expect(printed).toEqual(warnings.map(() => API_BYPASSES_ALIAS_WARNING));
    return warnings;
  }

  describe('two GuardedAliases of one alias name on one function', () => {
    test('are refused at synth, naming both constructs, the function and the alias name', () => {
      const stack = testStack();
      const fn = testFunction(stack, 'Answer');
      new GuardedAlias(stack, 'First', { function: fn, strategy: CANARY });
      let error: unknown;
      try {
        new GuardedAlias(stack, 'Second', { function: fn, strategy: CANARY });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(GuardrailsValidationError);
      expect((error as GuardrailsValidationError).problems).toHaveLength(1);
      expect((error as Error).message).toBe("GuardedAlias 'TestStack/Second' has 1 invalid prop:\n"
        + "  - aliasName must be a name not already used on function 'TestStack/Answer' (GuardedAlias 'TestStack/First' already owns its alias \"live\"; "
        + 'Lambda allows one alias of a name per function, so CloudFormation would fail at deploy): give each GuardedAlias its own aliasName, got: "live"');
    });

    test('the duplicate is reported with the other problems of the props', () => {
      const stack = testStack();
      const fn = testFunction(stack, 'Answer');
      new GuardedAlias(stack, 'First', { function: fn, aliasName: 'prod', strategy: CANARY });
      expect(() => new GuardedAlias(stack, 'Second', { function: fn, aliasName: 'prod', strategy: RolloutStrategy.canary(0, Duration.minutes(5)) }))
        .toThrow(/has 2 invalid props:\n {2}- strategy \(canary\) percent must be an integer from 1 to 99, got: 0\n {2}- aliasName must be a name not already used on function 'TestStack\/Answer' \(GuardedAlias 'TestStack\/First' already owns its alias "prod"/);
    });

    test('different alias names on one function, and one name on two functions, are fine', () => {
      const stack = testStack();
      const fn = testFunction(stack, 'Answer');
      new GuardedAlias(stack, 'Live', { function: fn, strategy: CANARY });
      expect(() => new GuardedAlias(stack, 'Beta', { function: fn, aliasName: 'beta', strategy: CANARY })).not.toThrow();
      expect(() => new GuardedAlias(stack, 'OtherGuarded', { function: testFunction(stack, 'Other'), strategy: CANARY })).not.toThrow();
    });

    test('an alias of the same name made without a GuardedAlias (fn.addAlias) fails synth too, naming both', () => {
      const stack = testStack();
      const fn = testFunction(stack, 'Answer');
      new GuardedAlias(stack, 'Guarded', { function: fn, strategy: CANARY });
      fn.addAlias('live');
      expect(() => Annotations.fromStack(stack)).toThrow(/GuardedAlias 'TestStack\/Guarded': aliasName must be a name not already used on function 'TestStack\/Answer' \(the alias 'TestStack\/Answer\/Aliaslive' is also named "live"/);
    });

    test('an alias of the user\'s that takes the sticky cohorts\' canary name ("<alias>-canary") fails synth, naming both and the fix', () => {
      const stack = testStack();
      const fn = testFunction(stack, 'Answer');
      new GuardedAlias(stack, 'Guarded', { function: fn, strategy: RolloutStrategy.staged({ stickyCohorts: {} }) });
      fn.addAlias('live-canary');
      expect(() => Annotations.fromStack(stack)).toThrow("function 'TestStack/Answer' has 2 aliases named \"live-canary\" ('TestStack/Answer/Aliaslive-canary', 'TestStack/Guarded/Alias/CohortCanary'): "
        + 'Lambda allows one alias of a name per function, so CloudFormation would fail at deploy. \'TestStack/Guarded/Alias/CohortCanary\' is the canary alias a staged rollout '
        + 'with sticky cohorts names "<alias>-canary": rename the other alias');
      // A GuardedAlias of that name is named by the GuardedAlias check, once.
      const second = testStack();
      const fn2 = testFunction(second, 'Answer');
      new GuardedAlias(second, 'Guarded', { function: fn2, strategy: RolloutStrategy.staged({ stickyCohorts: {} }) });
      new GuardedAlias(second, 'Canary', { function: fn2, aliasName: 'live-canary', strategy: CANARY });
      expect(() => Annotations.fromStack(second)).toThrow(/Validation failed with the following errors:\n {2}\[TestStack\] GuardedAlias 'TestStack\/Canary': aliasName must be a name not already used on function 'TestStack\/Answer' \(the alias 'TestStack\/Guarded\/Alias\/CohortCanary' is also named "live-canary"[^\n]*$/);
    });
  });

  describe('an API wired to the guarded function instead of its alias', () => {
    test('REST: warns on the method whose integration calls the unqualified function, and not on one that calls the alias', () => {
      const stack = testStack();
      const fn = testFunction(stack, 'Answer');
      const guarded = new GuardedAlias(stack, 'Guarded', { function: fn, strategy: CANARY });
      const api = new apigw.RestApi(stack, 'Api');
      api.root.addResource('direct').addMethod('GET', new apigw.LambdaIntegration(fn));
      api.root.addResource('through-alias').addMethod('GET', new apigw.LambdaIntegration(guarded.alias));
      const warnings = bypassWarnings(stack);
      expect(warnings.map((w) => w.id)).toEqual(['/TestStack/Api/Default/direct/GET/Resource']);
      expect(warnings[0].entry.data).toBe("this REST API method integration calls the function 'TestStack/Answer' itself (its unqualified ARN, i.e. $LATEST), "
        + "not the alias 'live' of GuardedAlias 'TestStack/Guarded': its traffic bypasses the rollout (no gate, no rollback; a new version reaches it the moment it is deployed). "
        + `Target the alias instead: new apigateway.LambdaIntegration(guarded.alias). [ack: ${API_BYPASSES_ALIAS_WARNING}]`);
    });

    test('HTTP API: warns on the integration that calls the unqualified function, and not on one that calls the alias', () => {
      const stack = testStack();
      const fn = testFunction(stack, 'Answer');
      const guarded = new GuardedAlias(stack, 'Guarded', { function: fn, strategy: CANARY });
      const api = new apigwv2.HttpApi(stack, 'Http');
      api.addRoutes({ path: '/direct', methods: [apigwv2.HttpMethod.GET], integration: new HttpLambdaIntegration('Direct', fn) });
      api.addRoutes({ path: '/alias', methods: [apigwv2.HttpMethod.GET], integration: new HttpLambdaIntegration('Alias', guarded.alias) });
      const warnings = bypassWarnings(stack);
      expect(warnings).toHaveLength(1);
      expect(warnings[0].id).toMatch(/^\/TestStack\/Http\/GET--direct\/Direct/);
      expect(warnings[0].entry.data).toContain("this HTTP API integration calls the function 'TestStack/Answer' itself");
      expect(warnings[0].entry.data).toContain('new HttpLambdaIntegration(id, guarded.alias)');
    });

    test('wiring everything to the alias gives no warning (REST, HTTP API, function URL, event source mapping)', () => {
      const stack = testStack();
      const fn = testFunction(stack, 'Answer');
      const guarded = new GuardedAlias(stack, 'Guarded', { function: fn, strategy: CANARY });
      new apigw.RestApi(stack, 'Api').root.addMethod('GET', new apigw.LambdaIntegration(guarded.alias));
      new apigwv2.HttpApi(stack, 'Http', { defaultIntegration: new HttpLambdaIntegration('Alias', guarded.alias) });
      guarded.alias.addFunctionUrl();
      guarded.alias.addEventSource(new SqsEventSource(new sqs.Queue(stack, 'Queue')));
      expect(bypassWarnings(stack)).toEqual([]);
    });

    test('warns on a function URL and an event source mapping of the unqualified function', () => {
      const stack = testStack();
      const fn = testFunction(stack, 'Answer');
      new GuardedAlias(stack, 'Guarded', { function: fn, strategy: CANARY });
      fn.addFunctionUrl();
      fn.addEventSource(new SqsEventSource(new sqs.Queue(stack, 'Queue')));
      const warnings = bypassWarnings(stack);
      expect(warnings.map((w) => w.id).sort()).toEqual(['/TestStack/Answer/FunctionUrl/Resource', expect.stringMatching(/^\/TestStack\/Answer\/SqsEventSource:TestStackQueue[0-9A-F]{8}\/Resource$/)]);
      expect(warnings.map((w) => String(w.entry.data)).join('\n')).toMatch(/function URL calls[\s\S]*guarded\.alias\.addFunctionUrl\(\)[\s\S]*event source mapping calls|event source mapping calls[\s\S]*function URL calls/);
    });

    test('a function no GuardedAlias guards may be wired directly; the warning can be acknowledged', () => {
      const stack = testStack();
      const fn = testFunction(stack, 'Answer');
      new GuardedAlias(stack, 'Guarded', { function: fn, strategy: CANARY });
      const api = new apigw.RestApi(stack, 'Api');
      api.root.addResource('health').addMethod('GET', new apigw.LambdaIntegration(testFunction(stack, 'Health')));
      api.root.addResource('direct').addMethod('GET', new apigw.LambdaIntegration(fn));
      const acknowledged = testStack();
      const fn2 = testFunction(acknowledged, 'Answer');
      new GuardedAlias(acknowledged, 'Guarded', { function: fn2, strategy: CANARY });
      const api2 = new apigw.RestApi(acknowledged, 'Api');
      api2.root.addMethod('GET', new apigw.LambdaIntegration(fn2));
      CoreAnnotations.of(api2).acknowledgeWarning(API_BYPASSES_ALIAS_WARNING, 'an internal health route');
      expect(bypassWarnings(stack).map((w) => w.id)).toEqual(['/TestStack/Api/Default/direct/GET/Resource']);
      expect(bypassWarnings(acknowledged)).toEqual([]);
    });

    test('the check is added once per stack, however many GuardedAliases it holds', () => {
      const stack = testStack();
      const a = testFunction(stack, 'A');
      const b = testFunction(stack, 'B');
      new GuardedAlias(stack, 'GA', { function: a, strategy: CANARY });
      new GuardedAlias(stack, 'GB', { function: b, strategy: CANARY });
      new apigw.RestApi(stack, 'Api').root.addMethod('GET', new apigw.LambdaIntegration(b));
      const warnings = bypassWarnings(stack);
      expect(warnings).toHaveLength(1);
      expect(warnings[0].entry.data).toContain("calls the function 'TestStack/B' itself");
      expect(warnings[0].entry.data).toContain("GuardedAlias 'TestStack/GB'");
    });
  });

  describe("a function's environment past Lambda's 4 KB (register LAM-19)", () => {
    /** A guarded function with `variables` of its own. */
    function guardedWith(variables: Record<string, string>) {
      const stack = testStack();
      const fn = testFunction(stack, 'Answer');
      for (const [name, value] of Object.entries(variables)) fn.addEnvironment(name, value);
      new GuardedAlias(stack, 'Guarded', { function: fn, strategy: CANARY, release: { releaseId: 'r-2026.11.27' } });
      return { stack, fn };
    }
    const sizeWarnings = (stack: Stack) => captureSynthWarnings(() => Annotations.fromStack(stack)).result
      .findWarning('*', Match.stringLikeRegexp(ENVIRONMENT_SIZE_WARNING));

    test('the release identity that pushes it over fails synth, naming the function, the bytes and the largest variables', () => {
      // 4,000 bytes of the user's own (CONFIG 6 + 3,994), then RELEASE_ID (10 + 12): 4,022 fits; a 75-byte more does not.
      expect(() => Annotations.fromStack(guardedWith({ CONFIG: 'x'.repeat(3994) }).stack)).not.toThrow();
      const { stack } = guardedWith({ CONFIG: 'x'.repeat(3994), EXTRA: 'y'.repeat(70) });
      expect(() => Annotations.fromStack(stack)).toThrow(
        "the function 'TestStack/Answer' has environment variables of at least 4,097 bytes (names and values, without the 0 reference(s) resolved at deploy); "
        + 'Lambda allows 4 KB (4,096 bytes) for all of them, so CloudFormation would fail to deploy it. The largest, in bytes: CONFIG 4,000, EXTRA 75, RELEASE_ID 22');
    });

    test('references that may push it over once deployed give a warning, which can be acknowledged', () => {
      const { stack, fn } = guardedWith({ CONFIG: 'x'.repeat(3800) });
      Array.from({ length: 5 }, (_, i) => fn.addEnvironment(`QUEUE_${i}`, new sqs.Queue(stack, `Queue${i}`).queueUrl));
      const warnings = sizeWarnings(stack);
      expect(warnings).toHaveLength(1);
      // Known: CONFIG 3,806, RELEASE_ID 22, QUEUE_0..4 7 each (their URLs are references).
      expect(warnings[0].entry.data).toContain("the function 'TestStack/Answer' has environment variables of about 4,183 bytes once deployed (3,863 known, and 5 reference(s) at about 64 bytes each)");
      const acknowledged = guardedWith({ CONFIG: 'x'.repeat(3800) });
      Array.from({ length: 5 }, (_, i) => acknowledged.fn.addEnvironment(`QUEUE_${i}`, new sqs.Queue(acknowledged.stack, `Queue${i}`).queueUrl));
      CoreAnnotations.of(acknowledged.fn).acknowledgeWarning(ENVIRONMENT_SIZE_WARNING, 'the queue URLs are short in this account');
      expect(sizeWarnings(acknowledged.stack)).toEqual([]);
      expect(sizeWarnings(guardedWith({ CONFIG: 'x'.repeat(100) }).stack)).toEqual([]);
    });

    test('a function the library does not write into is not checked', () => {
      const stack = testStack();
      testFunction(stack, 'Mine').addEnvironment('CONFIG', 'x'.repeat(5000));
      new GuardedAlias(stack, 'Guarded', { function: testFunction(stack, 'Answer'), strategy: CANARY });
      expect(() => Annotations.fromStack(stack)).not.toThrow();
    });
  });
});

describe('newcomer-shadow-tap', () => {
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
});

describe('newcomer-staged', () => {
  const HOUR = 'strategy (staged) schedule must fit CodeDeploy\'s 60-minute lifecycle hook limit with a 10-minute margin (at most 50 minutes), got: ';

  describe('RolloutStrategy.staged(...).validate() reports every schedule problem together', () => {
    // Falling (50 after 70), not ending at 100, a step out of range (0), a bake of seconds, and 15 steps below
    // the last × (10-minute probe + 30-second bake) + a last probe: 167 minutes 30 seconds, far over the hour.
    const steps = [0, 10, 20, 30, 40, 50, 60, 70, 50, 75, 80, 85, 90, 95, 97, 99];
    const options = { steps, bake: Duration.seconds(30), probeBudget: Duration.minutes(10) };

    test('falling steps, no 100 at the end, a step out of range, a bake too short and the hour exceeded', () => {
      expect(RolloutStrategy.staged(options).validate()).toEqual([
        `strategy (staged) steps must be integers from 1 to 100, got: ${JSON.stringify(steps)}`,
        `strategy (staged) steps must be strictly rising, got: ${JSON.stringify(steps)}`,
        `strategy (staged) steps must be a schedule ending at 100, got: ${JSON.stringify(steps)}`,
        'strategy (staged) bake must be whole minutes, at least 1, got: 30 seconds',
        `${HOUR}167 minutes 30 seconds (15 steps below 100 × (probe budget 10 minutes + bake 30 seconds) + a last probe of 10 minutes); shorten bake or probeBudget, or use fewer steps`,
      ]);
    });

    test('the GuardedAlias error lists them all, with its other props\' problems, in one GuardrailsValidationError', () => {
      const stack = testStack();
      let error: unknown;
      try {
        new GuardedAlias(stack, 'Guarded', { function: testFunction(stack), aliasName: '7', strategy: RolloutStrategy.staged({ ...options, maxFailuresPerStep: 0 }) });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(GuardrailsValidationError);
      const problems = (error as GuardrailsValidationError).problems;
      expect(problems).toHaveLength(7);
      expect((error as Error).message).toMatch(/^GuardedAlias 'TestStack\/Guarded' has 7 invalid props:\n {2}- aliasName must be/);
      for (const what of ['integers from 1 to 100', 'strictly rising', 'ending at 100', 'bake must be whole minutes', 'maxFailuresPerStep must be an integer from 1 to 10, got: 0', HOUR]) {
        expect(problems.filter((p) => p.includes(what))).toHaveLength(1);
      }
    });

    test('the hour is judged beside an out-of-range probe budget, at the budget given', () => {
      expect(RolloutStrategy.staged({ probeBudget: Duration.minutes(16) }).validate()).toEqual([
        'strategy (staged) probeBudget must be from 1 second to 15 minutes (Lambda\'s longest timeout), got: 16 minutes',
        `${HOUR}100 minutes (4 steps below 100 × (probe budget 16 minutes + bake 5 minutes) + a last probe of 16 minutes); shorten bake or probeBudget, or use fewer steps`,
      ]);
    });

    test('the hour is left out when it cannot be computed (a bake that is not a Duration, or of a fraction of a second), and nothing throws', () => {
      expect(RolloutStrategy.staged({ bake: 300 as unknown as Duration, probeBudget: Duration.minutes(15) }).validate())
        .toEqual(['strategy (staged) bake must be a Duration, got: 300']);
      expect(RolloutStrategy.staged({ bake: Duration.millis(1500), probeBudget: Duration.minutes(15) }).validate())
        .toEqual(['strategy (staged) bake must be whole minutes, at least 1, got: 1 second 500 millis']);
    });

    test('a last step out of range is one problem, not also "ending at 100"; a good schedule has none', () => {
      expect(RolloutStrategy.staged({ steps: [50, 150] }).validate()).toEqual(['strategy (staged) steps must be integers from 1 to 100, got: [50,150]']);
      expect(RolloutStrategy.staged({ steps: [1, 10, 100] }).validate()).toEqual([]);
    });
  });
});
