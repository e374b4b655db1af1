// jest globalSetup: one temporary directory for the whole run, removed by jest-global-teardown.js.
//
// Every synth of an App without an outdir (Template.fromStack, Annotations.fromStack, app.synth()) writes a cloud
// assembly into a fresh `cdk.out*` folder of os.tmpdir() and leaves it there; so do the suites' own mkdtemp folders
// when a test fails before its clean-up. Pointing TMPDIR at this run's directory before the workers start puts all of
// them (os.tmpdir() reads TMPDIR on every call, in the workers and in what they spawn) under one folder that the
// teardown removes. The jest cache is not affected: its directory is resolved from the real tmpdir before this runs.
//
// A run that is killed (Ctrl-C, a timeout) never reaches its teardown: the directory records the pid of the jest
// process that owns it, and each run first removes the directories of runs whose process is gone. Runs going on at
// the same time (another terminal, another engineer) keep theirs.
const fs = require('fs');
const os = require('os');
const path = require('path');

const PREFIX = 'cdk-rollout-guardrails-jest-';
const OWNER = 'owner.pid';
/** A directory made before owners were recorded is left alone until nothing has been written to it for this long. */
const UNOWNED_GRACE_MS = 60 * 60 * 1000;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

function removeAbandoned(parent) {
  for (const name of fs.readdirSync(parent)) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = path.join(parent, name);
    try {
      const owner = path.join(dir, OWNER);
      const abandoned = fs.existsSync(owner)
        ? !alive(Number(fs.readFileSync(owner, 'utf8')))
        : Date.now() - fs.statSync(dir).mtimeMs > UNOWNED_GRACE_MS;
      if (abandoned) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Gone already, or not ours to read: leave it.
    }
  }
}

module.exports = async function globalSetup() {
  removeAbandoned(os.tmpdir());
  const root = fs.mkdtempSync(path.join(os.tmpdir(), PREFIX));
  fs.writeFileSync(path.join(root, OWNER), String(process.pid));
  process.env.GUARDRAILS_JEST_TMPDIR = root;
  process.env.GUARDRAILS_JEST_PREVIOUS_TMPDIR = process.env.TMPDIR ?? '';
  process.env.TMPDIR = root;
};
