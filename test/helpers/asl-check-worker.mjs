// A worker thread that runs scripts/check-asl.mjs's check (checkAsl) on request, so that a suite pays for
// loading asl-validator once rather than once per run of the script (see test/helpers/asl-check.ts).
import { parentPort } from 'node:worker_threads';
import { checkAsl } from '../../scripts/asl-check-lib.mjs';

parentPort.on('message', ({ id, args }) => {
  const stdout = [];
  const stderr = [];
  let status;
  try {
    status = checkAsl(args, (line) => stdout.push(`${line}\n`), (line) => stderr.push(`${line}\n`));
  } catch (e) {
    stderr.push(`${e && e.stack ? e.stack : e}\n`);
    status = null;
  }
  parentPort.postMessage({ id, status, stdout: stdout.join(''), stderr: stderr.join('') });
});
