// The rehearsal's assumed figures: AWS documents none of them, and the output lists each one as an assumption.

/** Simulated seconds one ΔS probe run takes (both versions, the whole run): the demo's gold set takes well under its budget. */
export const PROBE_RUN_SECONDS = 60;
/** Simulated seconds of one quick machine step (a read, an UpdateAlias, a status report). */
export const STEP_SECONDS = 1;
/**
 * CodeDeploy's rollback after a Failed report, until the alias is back on the old version: the blue-green
 * strategy's `rollbackShift` default (register CD-15: how quickly a rollback starts is not documented).
 */
export const ROLLBACK_SHIFT_SECONDS = 15;
