import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const SCRIPT = path.join(__dirname, '..', 'scripts', 'dependency-graph.mjs');

/** Runs the dependency check (`npm run check:deps`) on a tree; its exit status and output. */
function check(root: string): { status: number; output: string } {
  try {
    const out = execFileSync(process.execPath, [SCRIPT, root], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, output: out };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { status: e.status, output: `${e.stderr}${e.stdout}` };
  }
}

describe('dependencies point one way (npm run check:deps)', () => {
  test('the repository: lib/ reaches the runtime only by its package names, handlers never reach lib/ or each other, the runtime and its contract stay pure', () => {
    const { status, output } = check(path.join(__dirname, '..'));
    expect(output).toMatch(/dependency check: \d+ source files, \d+ internal imports, 0 problem\(s\)/);
    expect(status).toBe(0);
    const files = Number(/(\d+) source files/.exec(output)![1]);
    expect(files).toBeGreaterThan(90);
  });

  describe('finds each kind of breach, transitively', () => {
    let root: string;
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    };
    beforeEach(() => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'deps-'));
      write('packages/runtime/src/index.ts', "export * from './probe/index.js';\n");
      write('packages/runtime/src/probe/index.ts', 'export const deltaS = 1;\n');
      write('packages/runtime/src/contract/index.ts', "export * from './staged.js';\n");
      write('packages/runtime/src/contract/staged.ts', 'export const KEY = 1;\n');
      write('lib/index.ts', "import { KEY } from 'cdk-rollout-guardrails-runtime/contract';\nexport const x = KEY;\n");
      write('lambdas/shared/kit.ts', "import { KEY } from 'cdk-rollout-guardrails-runtime/contract';\nexport const k = KEY;\n");
      write('lambdas/staged/index.ts', "import { k } from '../shared/kit';\nexport const handler = k;\n");
      write('lambdas/probe/index.ts', "import { k } from '../shared/kit';\nexport const handler = k;\n");
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    test('a clean tree passes', () => {
      expect(check(root)).toEqual({ status: 0, output: expect.stringContaining('0 problem(s)') });
    });

    test('a handler that reaches lib/ through a shared module', () => {
      write('lambdas/shared/kit.ts', "import { x } from '../../lib/index';\nexport const k = x;\n");
      const { status, output } = check(root);
      expect(status).toBe(1);
      expect(output).toContain('lambdas/staged/index.ts: a handler reaches lib/: lambdas/staged/index.ts -> lambdas/shared/kit.ts -> lib/index.ts');
    });

    test('a handler folder that imports another', () => {
      write('lambdas/staged/index.ts', "import { handler as h } from '../probe/index';\nexport const handler = h;\n");
      const { status, output } = check(root);
      expect(status).toBe(1);
      expect(output).toContain("lambdas/staged/index.ts: reaches another handler's folder (lambdas/probe)");
    });

    test('lib/ reaching into the runtime by a relative path', () => {
      write('lib/index.ts', "import { deltaS } from '../packages/runtime/src/probe/index';\nexport const x = deltaS;\n");
      const { status, output } = check(root);
      expect(status).toBe(1);
      expect(output).toContain("lib/index.ts: imports '../packages/runtime/src/probe/index' outside lib/");
    });

    test('a contract that reaches the AWS SDK through another module', () => {
      write('packages/runtime/src/contract/staged.ts', "import { x } from '../probe/sdk.js';\nexport const KEY = x;\n");
      write('packages/runtime/src/probe/sdk.ts', "import { LambdaClient } from '@aws-sdk/client-lambda';\nexport const x = LambdaClient;\n");
      const { status, output } = check(root);
      expect(status).toBe(1);
      expect(output).toContain('packages/runtime/src/contract/index.ts: the contract reaches @aws-sdk/client-lambda (it must stay pure)');
    });

    test('the runtime reaching aws-cdk-lib', () => {
      write('packages/runtime/src/probe/index.ts', "import { Duration } from 'aws-cdk-lib';\nexport const deltaS = Duration;\n");
      const { status, output } = check(root);
      expect(status).toBe(1);
      expect(output).toContain('packages/runtime/src/index.ts: the runtime reaches aws-cdk-lib');
    });
  });
});
