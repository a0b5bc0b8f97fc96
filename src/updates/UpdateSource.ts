// Whether updates are flowing in (long polling loop alive, or webhook registered), and this process's role, for
// readiness checks.
import { Context, type Effect } from "effect"

/** Polling: `leader` polls, `standby` waits to take over; webhook: every process receives (`webhook`). */
export type Role = "leader" | "standby" | "webhook"

export class UpdateSource extends Context.Service<
  UpdateSource,
  {
    readonly mode: "polling" | "webhook"
    readonly role: Effect.Effect<Role>
    /** The process does its part: the leader's polling loop runs, a standby waits, the webhook is registered. */
    readonly isRunning: Effect.Effect<boolean>
  }
>()("confessions/updates/UpdateSource") {}
