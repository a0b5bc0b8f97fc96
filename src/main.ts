// Entry point: read `.env`, then run the bot (or, without BOT_TOKEN, the local playground) until SIGINT/SIGTERM, and
// close everything in order. `npm start` reaches it through scripts/start.mjs, which checks the Node version first.
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Cause, Console, Effect, Layer } from "effect"
import { layerDotEnv } from "./AppConfig.ts"
import * as Launch from "./playground/Launch.ts"

const program = Launch.program(process.argv.slice(2)).pipe(
  Effect.catchCause((cause) => {
    if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
    const problem = Launch.startupProblem(cause)
    return (
      problem !== undefined ? Console.error(problem) : Effect.logError("the bot stopped on an unexpected error", cause)
    ).pipe(Effect.andThen(Effect.failCause(cause)))
  }),
  Effect.provide(layerDotEnv().pipe(Layer.provide(NodeServices.layer)))
)

NodeRuntime.runMain(program, { disableErrorReporting: true })
