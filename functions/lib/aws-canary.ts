import { sendTaskFailure, sendTaskSuccess } from './aws/stepfunctions.js';
import { Canary } from './canary.js';
import { logger } from './log.js';
import { notify } from './notify.js';
import { PairClaims } from './pair-lock.js';
import { route53Router } from './traffic/route53/route53-router.js';

/** The canary on AWS, with the claims of `table` (a function's LOCK_TABLE, or the stack's table for the CLI). */
export const awsCanary = (table: string): Canary =>
  new Canary({
    claims: new PairClaims(table),
    router: route53Router,
    signals: { succeed: sendTaskSuccess, fail: sendTaskFailure },
    notifier: { notify: (type, detail) => notify(logger, type, detail) },
    clock: Date.now,
  });
