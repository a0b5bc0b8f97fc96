// Who the bot is: its username, asked from Telegram (`getMe`) once while the layer is built, for links into the bot
// such as a channel post's "View / Add Comments" button (`https://t.me/<username>?start=c<ID>`). A bot that cannot
// learn its own name cannot build those links, so an unreachable Bot API or a bad token stops the start-up.
import { Context, Data, Effect, Layer } from "effect"
import * as DeepLink from "../domain/DeepLink.ts"
import { Telegram, type TelegramError } from "./Telegram.ts"

export class BotIdentityError extends Data.TaggedError("BotIdentityError")<{
  /** `Unreachable`: getMe failed (network, bad token); `NoUsername`: Telegram answered without a username. */
  readonly reason: "Unreachable" | "NoUsername"
  readonly cause?: TelegramError
}> {
  override get message(): string {
    return this.reason === "Unreachable"
      ? `could not ask Telegram who the bot is (getMe): ${this.cause?.message ?? "unknown error"}`
      : "Telegram's getMe returned no username for the bot"
  }
}

export class BotIdentity extends Context.Service<
  BotIdentity,
  {
    readonly id: number
    /** Without the leading `@`. */
    readonly username: string
    /** `https://t.me/<username>?start=<payload>` for a deep link into the bot. */
    readonly startUrl: (link: DeepLink.DeepLink) => string
  }
>()("confessions/services/BotIdentity") {
  /** Needs the program's one Telegram client; fails the build when getMe does. */
  static readonly layer: Layer.Layer<BotIdentity, BotIdentityError, Telegram> = Layer.effect(
    BotIdentity,
    Effect.gen(function* () {
      const telegram = yield* Telegram
      const me = yield* telegram.getMe.pipe(
        Effect.mapError((cause) => new BotIdentityError({ reason: "Unreachable", cause }))
      )
      const username = me.username.replace(/^@/, "")
      if (username === "") return yield* new BotIdentityError({ reason: "NoUsername" })
      yield* Effect.logInfo(`running as @${username}`)
      return BotIdentity.of({ id: me.id, username, startUrl: (link) => DeepLink.toStartUrl(username, link) })
    }).pipe(Effect.withSpan("BotIdentity.make"))
  )
}
