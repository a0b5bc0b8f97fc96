// What `npm start` runs: the real bot when BOT_TOKEN is set, the local playground when it is not (or when asked for
// with --playground). A missing token in webhook mode or with NODE_ENV=production is still the bot's one-line
// configuration error: a server must never fall back to a demo.
import { Cause, Config, Console, Effect, Layer, Option } from "effect"
import { ServeError } from "effect/http/HttpServerError"
import * as App from "../App.ts"
import { describeConfigError } from "../AppConfig.ts"
import * as Playground from "./Playground.ts"

export type Choice =
  | { readonly _tag: "Bot" }
  | { readonly _tag: "Playground"; readonly asked: boolean; readonly reset: boolean }

export interface Environment {
  readonly argv: ReadonlyArray<string>
  readonly botToken: Option.Option<string>
  readonly botMode: Option.Option<string>
  readonly nodeEnv: Option.Option<string>
}

export const choose = (env: Environment): Choice => {
  const reset = env.argv.includes("--reset")
  if (env.argv.includes("--playground")) return { _tag: "Playground", asked: true, reset }
  const hasToken = Option.exists(env.botToken, (token) => token.trim().length > 0)
  const server = Option.contains(env.botMode, "webhook") || Option.contains(env.nodeEnv, "production")
  return hasToken || server ? { _tag: "Bot" } : { _tag: "Playground", asked: false, reset }
}

/** The line the terminal shows once the playground's page is up. */
export const announcement = (url: string, asked: boolean): string =>
  asked
    ? `Local playground at ${url} — nothing is sent to Telegram (BOT_TOKEN is not used with --playground).`
    : `No BOT_TOKEN: local playground at ${url} — nothing is sent to Telegram. Set BOT_TOKEN to run the real bot.`

const environment = (argv: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const read = yield* Config.all({
      botToken: Config.option(Config.String("BOT_TOKEN")),
      botMode: Config.option(Config.String("BOT_MODE")),
      nodeEnv: Config.option(Config.String("NODE_ENV"))
    })
    return { argv, ...read } satisfies Environment
  })

/** The bot or the playground, as the environment and the command line choose; runs until interrupted. */
export const program = (argv: ReadonlyArray<string>) =>
  Effect.flatMap(environment(argv), (env) => {
    const choice = choose(env)
    return choice._tag === "Bot"
      ? Layer.launch(App.layer)
      : Playground.run({
          reset: choice.reset,
          seed: true,
          onReady: (url, first) => (first ? Console.log(announcement(url, choice.asked)) : Effect.void)
        })
  })

/**
 * One line for the start-up failures a newcomer meets (a missing or malformed setting, the HTTP port taken by another
 * program); `undefined` for anything else, which is logged with its full cause.
 */
export const startupProblem = (cause: Cause.Cause<unknown>): string | undefined => {
  const failure = Cause.findErrorOption(cause)
  if (Option.isNone(failure)) return undefined
  const error = failure.value
  if (error instanceof Config.ConfigError) return describeConfigError(error)
  if (error instanceof ServeError) {
    const reason = error.cause as { readonly code?: unknown; readonly port?: unknown } | undefined
    if (reason?.code === "EADDRINUSE") {
      return `HTTP_PORT ${String(reason.port)} is already in use (another bot or playground running?): stop it, or set HTTP_PORT to a free port`
    }
  }
  return undefined
}
