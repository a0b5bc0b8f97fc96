// Whether updates are flowing in (long polling loop alive, or webhook registered), for readiness checks.
import { Context, type Effect } from "effect"

export class UpdateSource extends Context.Service<
  UpdateSource,
  {
    readonly mode: "polling" | "webhook"
    readonly isRunning: Effect.Effect<boolean>
  }
>()("confessions/updates/UpdateSource") {}
