// jest globalSetup: one temporary directory for the whole run, removed by jest-global-teardown.js.
//
// Every synth of an App without an outdir (Template.fromStack, Annotations.fromStack, app.synth()) writes a cloud
// assembly into a fresh `cdk.out*` folder of os.tmpdir() and leaves it there; so do the suites' own mkdtemp folders
// when a test fails before its clean-up. Pointing TMPDIR at this run's directory before the workers start puts all of
// them (os.tmpdir() reads TMPDIR on every call, in the workers and in what they spawn) under one folder that the
// teardown removes. The jest cache is not affected: its directory is resolved from the real tmpdir before this runs.
const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports = async function globalSetup() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-rollout-guardrails-jest-'));
  process.env.GUARDRAILS_JEST_TMPDIR = root;
  process.env.GUARDRAILS_JEST_PREVIOUS_TMPDIR = process.env.TMPDIR ?? '';
  process.env.TMPDIR = root;
};
