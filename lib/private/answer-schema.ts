import * as fs from 'fs';
import * as path from 'path';
import { findPackageRoot } from './assets';

/** What the prebundled answer-schema checker exports (lambdas/mirror-dispatcher/schema.ts, bundled with ajv). */
export interface AnswerSchemaChecker {
  /** What is wrong with a schema, as phrases to follow `answerSchema: `; none when the dispatcher can use it. */
  answerSchemaProblems(schema: unknown): string[];
}

let checker: AnswerSchemaChecker | undefined;

/**
 * The dispatcher's own schema code, run at synth. It needs ajv, which this jsii package may not depend on, so it
 * ships prebundled in assets/answer-schema-check (`npm run bundle`) and is loaded only when a schema is given.
 */
export function answerSchemaChecker(): AnswerSchemaChecker {
  if (checker) return checker;
  const file = path.join(findPackageRoot(), 'assets', 'answer-schema-check', 'index.js');
  if (!fs.existsSync(file)) {
    throw new Error(`cdk-rollout-guardrails: the bundled answer-schema checker is missing at ${file}; run 'npm run bundle' (or 'npm run build') in the package first`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  checker = require(file) as AnswerSchemaChecker;
  return checker;
}
