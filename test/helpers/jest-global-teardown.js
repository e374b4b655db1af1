// jest globalTeardown: removes the run's temporary directory made by jest-global-setup.js, and gives TMPDIR back.
const fs = require('fs');
const path = require('path');

module.exports = async function globalTeardown() {
  const root = process.env.GUARDRAILS_JEST_TMPDIR;
  if (!root) return;
  // Only ever the directory the setup made.
  if (path.basename(root).startsWith('cdk-rollout-guardrails-jest-')) fs.rmSync(root, { recursive: true, force: true });
  const previous = process.env.GUARDRAILS_JEST_PREVIOUS_TMPDIR;
  if (previous) process.env.TMPDIR = previous;
  else delete process.env.TMPDIR;
  delete process.env.GUARDRAILS_JEST_TMPDIR;
  delete process.env.GUARDRAILS_JEST_PREVIOUS_TMPDIR;
};
