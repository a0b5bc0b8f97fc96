// Logging set-up: JSON lines for machines, pretty lines on a terminal, and the minimum level from LOG_LEVEL.
import { Effect, Layer, Logger, References } from "effect"
import { AppConfig } from "./AppConfig.ts"

const levels = { trace: "Trace", debug: "Debug", info: "Info", warn: "Warn", error: "Error" } as const

export const layer = (options: { readonly format: "pretty" | "json"; readonly level: keyof typeof levels }) =>
  Layer.mergeAll(
    Logger.layer([options.format === "json" ? Logger.consoleJson : Logger.consolePretty()]),
    Layer.succeed(References.MinimumLogLevel, levels[options.level])
  )

export const layerConfig: Layer.Layer<never, never, AppConfig> = Layer.unwrap(
  Effect.gen(function* () {
    const config = yield* AppConfig
    return layer({ format: config.logFormat, level: config.logLevel })
  })
)
