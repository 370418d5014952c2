import { DelayedError, type Job } from "bullmq";

/** Re-schedules the job `ms` from now without using an attempt (BullMQ DelayedError); call it as `return delayJob(…)`. */
export async function delayJob(job: Job, ms: number): Promise<never> {
  await job.moveToDelayed(Date.now() + ms, job.token);
  throw new DelayedError();
}
