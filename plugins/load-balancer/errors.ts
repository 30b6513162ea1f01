import { defineErrors } from '../../core/plugin-api';

/** load-balancer's errors, `GH_ERR_LOAD_BALANCER_<WHAT>`. */
export const errors = defineErrors('load-balancer', {
  UNKNOWN_SERVICE: {
    status: 400,
    message: 'Unknown service',
    fix: 'The path does not start with /<service>/ of this load-balancer. Check the service name the client uses against `service`.',
  },
  MISSING_UUID: {
    status: 400,
    message: 'The uuid parameter is missing',
    fix: 'status and cancel need ?uuid=<the uuid process answered>.',
  },
  UNKNOWN_UUID: {
    status: 400,
    message: 'Unknown task uuid',
    fix: 'No task has this uuid: never submitted, or finished longer ago than resultTtlMs + tombstoneMs. Check the uuid the client kept.',
  },
  TASK_NOT_FOUND: {
    status: 404,
    message: 'No such task',
    fix: 'No task has this id: never submitted, or finished longer ago than resultTtlMs + tombstoneMs.',
  },
  TASK_FINISHED: {
    status: 409,
    message: 'The task has already finished',
    fix: 'A finished task cannot be canceled or changed; read its result instead.',
  },
  TASK_TIMED_OUT: {
    status: 409,
    message: 'The task timed out; its result is not taken',
    fix: 'The task ran longer than taskTimeoutMs and failed with code TIMEOUT (its progress answers said continue: false). Raise taskTimeoutMs above the longest task, or make the worker stop when told.',
  },
  WORKER_UNAUTHORIZED: {
    status: 401,
    message: 'A valid worker token (and the attempt token of the task) is required',
    fix: 'Workers send `Authorization: Bearer <workerToken>` and the attempt token the claim (or Gatehouse-Progress-Url) gave them. A worker whose task was requeued or canceled holds a stale attempt token.',
  },
  BAD_STATE: {
    status: 400,
    message: 'Unknown task state',
    fix: 'state is one of queued, running, succeeded, failed, canceled, expired.',
  },
});
