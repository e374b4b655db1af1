import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DEMO_STACK_NAME } from '../bin/demo-app';
import { DemoStack } from '../bin/demo-stack';
import { DeltaSProbe, GoldSet, GuardedAlias, RolloutStrategy } from '../lib';
import { testFunction, testStack, TEST_APP_PROPS } from './util';
import { aslChecker, AslCheckRun, checkAslCli } from './helpers/asl-check';
import { expectSynthWarnings } from './helpers/console';

// Every state machine the library synthesizes, judged by asl-validator (an Amazon States Language validator
// nobody here wrote) through scripts/check-asl.mjs, the same check CI runs on cdk.out: its check (checkAsl) in
// one worker thread for the suite, and the script itself as CI runs it for the exit statuses.

const GOLD = GoldSet.fromFile(path.join(__dirname, '..', 'bin', 'gold-set.jsonl'));
const STATE_MACHINE = 'AWS::StepFunctions::StateMachine';

type Json = any;

/** Where this suite writes (its synth outputs, the templates it checks): removed after the suite. */
let dir: string;

/** An app like test/util.ts's testApp(), synthesizing into this suite's directory rather than a stray temp dir. */
function app(name: string): App {
  return new App({ ...TEST_APP_PROPS, outdir: path.join(dir, `${name}.out`) });
}

type Run = AslCheckRun;
let checker: ReturnType<typeof aslChecker>;
const check = (...args: string[]): Promise<Run> => checker.check(...args);

function stagedStack(): Stack {
  const stack = testStack(app('Staged'), 'StagedStack');
  const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
  new GuardedAlias(stack, 'Answer', {
    function: testFunction(stack), probe,
    strategy: RolloutStrategy.staged(),
    warmup: { provisionedConcurrency: 2 },
    notifications: new sns.Topic(stack, 'Releases'),
  });
  return stack;
}

function blueGreenStack(): Stack {
  const stack = testStack(app('BlueGreen'), 'BlueGreenStack');
  const fn = testFunction(stack);
  const jobs = fn.addEventSourceMapping('Jobs', { eventSourceArn: new sqs.Queue(stack, 'Jobs', { enforceSSL: true }).queueArn });
  // Concurrency enough for the hold-and-watch probe budget (no blueGreenProbeBudget warning in the output).
  const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD, concurrency: 32 });
  new GuardedAlias(stack, 'Answer', {
    function: fn, probe,
    strategy: RolloutStrategy.blueGreen({ freezeConsumers: [jobs] }),
    warmup: { provisionedConcurrency: 2 },
    notifications: new sns.Topic(stack, 'Releases'),
  });
  return stack;
}

function demoStack(): Stack {
  return new DemoStack(app('Demo'), DEMO_STACK_NAME);
}

/** The definition of a template's one state machine as an object, its tokens set aside: edit it, then `rebuild`. */
function editable(template: Json): { logicalId: string; definition: Json; rebuild: (d: Json) => Json } {
  const ids = Object.keys(template.Resources).filter((id) => template.Resources[id].Type === STATE_MACHINE);
  expect(ids).toHaveLength(1);
  const [logicalId] = ids;
  const body = template.Resources[logicalId].Properties.DefinitionString;
  const parts: Json[] = typeof body === 'string' ? [body] : body['Fn::Join'][1];
  const tokens: Json[] = [];
  // A marker of letters, digits and underscores survives JSON.parse and JSON.stringify wherever it sits.
  const text = parts.map((p) => (typeof p === 'string' ? p : `__TOKEN_${tokens.push(p) - 1}__`)).join('');
  const rebuild = (definition: Json) => {
    const out = JSON.parse(JSON.stringify(template));
    const pieces = JSON.stringify(definition).split(/__TOKEN_(\d+)__/).map((s, i) => (i % 2 === 1 ? tokens[Number(s)] : s)).filter((s) => s !== '');
    out.Resources[logicalId].Properties.DefinitionString = { 'Fn::Join': ['', pieces] };
    return out;
  };
  return { logicalId, definition: JSON.parse(text), rebuild };
}

/** Each state of the definition (nested ones too), with its name. */
function statesOf(definition: Json): Array<[string, Json]> {
  const found: Array<[string, Json]> = [];
  const walk = (node: Json) => {
    if (node === null || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'States' && v && typeof v === 'object') found.push(...Object.entries(v as Json) as Array<[string, Json]>);
      walk(v);
    }
  };
  walk(definition);
  return found;
}

/** The first `{% %}` string under `node`: its holder, key and JSON pointer. */
function firstJsonata(node: Json, pointer: string): { holder: Json; key: string; pointer: string } | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  for (const [k, v] of Object.entries(node)) {
    if (typeof v === 'string' && v.startsWith('{% ')) return { holder: node, key: k, pointer: `${pointer}/${k}` };
    const deeper = firstJsonata(v, `${pointer}/${k}`);
    if (deeper) return deeper;
  }
  return undefined;
}

describe('asl-validator on the synthesized state machines (scripts/check-asl.mjs)', () => {
  const templates: Record<string, Json> = {};
  const write = (name: string, template: Json): string => {
    const file = path.join(dir, `${name}.template.json`);
    fs.writeFileSync(file, JSON.stringify(template, null, 1));
    return file;
  };

  beforeAll(() => {
    checker = aslChecker();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asl-validator-'));
    templates.Staged = Template.fromStack(stagedStack()).toJSON();
    // The Jobs mapping (a consumer the switch freezes) calls the function itself: the library warns that it bypasses the alias.
    templates.BlueGreen = expectSynthWarnings(['cdk-rollout-guardrails:apiBypassesAlias'], () => Template.fromStack(blueGreenStack())).toJSON();
    templates.Demo = Template.fromStack(demoStack()).toJSON();
  });
  afterAll(async () => {
    await checker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each(['Staged', 'BlueGreen', 'Demo'])('passes the %s stack\'s state machine, resolved with placeholders', async (name) => {
    const file = write(name, templates[name]);
    const { logicalId, definition } = editable(templates[name]);
    const r = await check(file);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`asl-validator: ${file} ${logicalId}: valid (${statesOf(definition).length} states)`);
    expect(r.stdout).toContain('asl-validator: 1 state machine(s) in 1 template(s), no errors');
  });

  test('the machines really are in both query languages (JSONata expressions compiled, JSONPath checked)', () => {
    const staged = JSON.stringify(editable(templates.Staged).definition);
    const blueGreen = editable(templates.BlueGreen).definition;
    // The staged machine is JSONPath with a JSONata Pass state; the blue-green machine is JSONata throughout.
    expect(staged).toContain('"QueryLanguage":"JSONata"');
    expect(staged).toMatch(/"\w+\.\$":"\$\./);
    expect(blueGreen.QueryLanguage).toBe('JSONata');
    expect(JSON.stringify(blueGreen)).toContain('{% ');
  });

  test('checks every template of a cloud assembly directory, nested assemblies included, in one run', async () => {
    const assembly = path.join(dir, 'assembly');
    fs.mkdirSync(path.join(assembly, 'assembly-Stage'), { recursive: true });
    fs.writeFileSync(path.join(assembly, 'Staged.template.json'), JSON.stringify(templates.Staged));
    fs.writeFileSync(path.join(assembly, 'assembly-Stage', 'BlueGreen.template.json'), JSON.stringify(templates.BlueGreen));
    fs.writeFileSync(path.join(assembly, 'Empty.template.json'), JSON.stringify({ Resources: {} }));
    const r = await check(assembly);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('asl-validator: 2 state machine(s) in 3 template(s), no errors');
  });

  describe('rejects a broken definition, naming the template, the state machine and the state', () => {
    const broken = async (name: string, edit: (definition: Json) => string) => {
      const { logicalId, definition, rebuild } = editable(templates[name]);
      const state = edit(definition);
      const file = write(`${name}-broken`, rebuild(definition));
      return { logicalId, state, file, r: await check(file) };
    };

    test.each(['Staged', 'BlueGreen'])('%s: a JSONata expression that does not compile', async (name) => {
      const { logicalId, state, file, r } = await broken(name, (d) => {
        // The first JSONata expression of the first state that has one, wherever it sits in the state.
        for (const [stateName, s] of statesOf(d)) {
          const found = firstJsonata(s, `/States/${stateName}`);
          if (found) {
            found.holder[found.key] = '{% $states.input. %}';
            return found.pointer;
          }
        }
        throw new Error('no JSONata expression in the definition');
      });
      expect(r.status).toBe(1);
      expect(r.stdout).not.toContain('no errors');
      expect(r.stderr).toContain(`asl-validator: ${file} ${logicalId}: INVALID`);
      expect(r.stderr).toContain(`${state} is invalid`);
      expect(r.stderr).toMatch(/JSONata S0\d+ at \d+/);
      expect(r.stderr).toContain('1 state machine(s) in 1 template(s), 1 invalid');
    });

    test.each(['Staged', 'BlueGreen'])('%s: a Next to a state that is not there', async (name) => {
      const { logicalId, r } = await broken(name, (d) => {
        d.States[d.StartAt].Next = 'NoSuchState';
        return d.StartAt;
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`${logicalId}: INVALID`);
      expect(r.stderr).toContain("MISSING_TRANSITION_TARGET: Missing 'StartAt'|'Next'|'Default' target: NoSuchState");
    });

    test.each(['Staged', 'BlueGreen'])('%s: a Choice state without Choices', async (name) => {
      const { logicalId, state, r } = await broken(name, (d) => {
        const [stateName, s] = statesOf(d).find(([, st]) => st.Type === 'Choice')!;
        delete s.Choices;
        return stateName;
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`${logicalId}: INVALID`);
      expect(r.stderr).toContain(`/States/${state} is invalid`);
      expect(r.stderr).toContain(`/States/${state}: Choice: (the state) must have required property 'Choices'`);
    });

    // asl-validator 4.0.0 checks a catcher's ErrorEquals and Next only; check-asl judges the rest with its schemas.
    test('BlueGreen: a JSONata expression of a catcher that does not compile', async () => {
      const { logicalId, state, r } = await broken('BlueGreen', (d) => {
        for (const [stateName, s] of statesOf(d)) {
          const found = (s.Catch ?? []).map((c: Json, i: number) => firstJsonata(c, `/States/${stateName}/Catch/${i}`)).find(Boolean);
          if (found) {
            found.holder[found.key] = '{% $states.errorOutput. %}';
            return found.pointer;
          }
        }
        throw new Error('no catcher with a JSONata expression');
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`${logicalId}: INVALID`);
      expect(r.stderr).toContain(`CATCHER_INVALID: ${state} is invalid. JSONata S0`);
    });

    test('Staged: a catcher\'s ResultPath that is not a JSONPath, and an Output a JSONPath catcher cannot have', async () => {
      const { logicalId, state, r } = await broken('Staged', (d) => {
        const [stateName, s] = statesOf(d).find(([, st]) => st.Catch?.[0]?.ResultPath !== undefined)!;
        s.Catch[0].ResultPath = '$.error[[';
        s.Catch[0].Output = '{% $states.errorOutput %}';
        return `/States/${stateName}/Catch/0`;
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`${logicalId}: INVALID`);
      expect(r.stderr).toContain(`CATCHER_INVALID: ${state}/ResultPath is invalid. "$.error[[" must match format "asl_result_path"`);
      expect(r.stderr).toContain(`CATCHER_INVALID: ${state}/Output is invalid. a catcher of a JSONPath state cannot have this field`);
    });

    test('a token whose placeholder would end up unresolvable (a Ref to a resource not in the template)', async () => {
      const template = JSON.parse(JSON.stringify(templates.Staged));
      const { logicalId } = editable(template);
      template.Resources[logicalId].Properties.DefinitionString['Fn::Join'][1].splice(1, 0, { Ref: 'Missing' });
      const r = await check(write('Staged-unresolvable', template));
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`${logicalId}: INVALID`);
      expect(r.stderr).toContain('cannot rebuild the definition: Ref to Missing');
    });
  });

  test('fails when there is no state machine at all, so that the check cannot pass over nothing (unless --allow-none)', async () => {
    const stack = testStack(app('Plain'), 'Plain');
    testFunction(stack);
    const file = write('Plain', Template.fromStack(stack).toJSON());
    // The script as CI runs it: its exit status says whether the check passed.
    const none = checkAslCli(file);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('no state machine (AWS::StepFunctions::StateMachine) in 1 template(s)');
    const allowed = checkAslCli('--allow-none', file);
    expect(allowed.status).toBe(0);
    expect(allowed.stdout).toContain('asl-validator: 0 state machine(s) in 1 template(s), no errors');
    const emptyDir = fs.mkdtempSync(path.join(dir, 'empty-'));
    expect((await check(emptyDir)).status).toBe(1);
    const usage = await check('--strict', file);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('unknown option(s) --strict');
  });
});
