// Runs before each test file's tests (jest setupFilesAfterEnv), after jest has installed its source-map support.

// jest raises the stack trace limit to 100 frames for its failure messages, and maps every frame of every stack
// trace through the source maps. aws-cdk-lib captures a trace for every acknowledged rule (cdk-nag's and cfn-guard's)
// into the cloud assembly's metadata, which no test reads: at 100 mapped frames, seconds of CPU in a synth-heavy
// group. Those traces (of plain objects, not errors) are formatted here as V8 does, unmapped; an error's trace is
// still mapped, and 30 frames still reach from any failure here to the test that made it.
Error.stackTraceLimit = 30;
const mapped = Error.prepareStackTrace;
if (mapped) {
  Error.prepareStackTrace = (thrown, frames) => (thrown instanceof Error
    ? mapped(thrown, frames)
    : `${String(thrown)}${frames.map((frame) => `\n    at ${frame}`).join('')}`);
}
