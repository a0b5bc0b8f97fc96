// Entry point: read `.env`, build the application layer, run until SIGINT/SIGTERM, then close everything in order.
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Cause, Config, Console, Effect, Layer } from "effect"
import * as App from "./App.ts"
import { describeConfigError, layerDotEnv } from "./AppConfig.ts"

const program = Layer.launch(App.layer).pipe(
  Effect.catchCause((cause) => {
    if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
    const failure = Cause.findErrorOption(cause)
    return (
      failure._tag === "Some" && failure.value instanceof Config.ConfigError
        ? Console.error(describeConfigError(failure.value))
        : Effect.logError("the bot stopped on an unexpected error", cause)
    ).pipe(Effect.andThen(Effect.failCause(cause)))
  }),
  Effect.provide(layerDotEnv().pipe(Layer.provide(NodeServices.layer)))
)

NodeRuntime.runMain(program, { disableErrorReporting: true })
