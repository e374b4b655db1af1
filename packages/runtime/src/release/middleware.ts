import { EarlyResponse, LambdaMiddleware, settlingMiddleware } from '../middleware.js';
import { PinGuardOptions, PinMismatchResponse, pinRefusal } from './pin-guard.js';
import { releaseRecorder, setMiddlewareReport, WithReleaseOptions } from './telemetry.js';

/**
 * `pinGuard` as a middy middleware: `before` answers a request whose pin headers do not match this version's pins
 * with pinGuard's own 409 (the handler does not run) and lets any other through. Same options, same checks.
 *
 * @throws ReleaseConfigError now, for invalid pins, as pinGuard does
 */
export function pinGuardMiddleware<E = any, R = any, C = any>(options: PinGuardOptions = {}): LambdaMiddleware<E, R | PinMismatchResponse, C> {
  const refuse = pinRefusal(options);
  return settlingMiddleware<E, R | PinMismatchResponse, C>((request) => {
    const refusal = refuse(request.event);
    return refusal && new EarlyResponse(refusal);
  });
}

/**
 * `withRelease` as a middy middleware: one EMF record per invocation (warm pings excepted), written in `after`
 * with the response or in `onError` with the error, which goes on unchanged; the latency counts from its
 * `before`. `reportQuality` in the handler adds to the record. Use it first (outermost, bar the shadow tap) so
 * that it sees every answer and every error, as `withRelease(handler)` does.
 *
 * @throws ReleaseConfigError now, for an invalid option, as withRelease does
 */
export function releaseTelemetryMiddleware<E = any, R = any, C = any>(options: WithReleaseOptions = {}): LambdaMiddleware<E, R, C> {
  const begin = releaseRecorder(options);
  return settlingMiddleware<E, R, C>((request) => {
    const recording = begin(request.event, request.context);
    setMiddlewareReport(recording?.report);
    if (!recording) return undefined;
    return (outcome) => {
      setMiddlewareReport(undefined);
      recording.end(outcome);
    };
  });
}
