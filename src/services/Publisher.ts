// Posts approved confessions to the channel, exactly once, even across crashes (an outbox without a second table).
// Approving commits first and posting follows, so a crash in between would leave an approved confession that never
// reaches the channel: a recovery fiber looks every `recoveryInterval` (and at start-up) for approved confessions
// without a post, decided more than `grace` and less than `window` ago, and posts them.
//
// Two publishers never post the same confession: each first claims it with one conditional update that stores a
// claim (minus the claim's epoch second, never a real message id) in `channel_message_id`; only the winner posts, and
// the post's id then replaces that very claim. A failed post gives its claim back for the next round. A claim older
// than `abandonedAfter` belongs to a publisher that died and is taken over; a send is given up after a third of that,
// so a live publisher never holds an expired claim. The admin who approved claims at once; the grace keeps the
// recovery from even trying first. A publisher that finds its claim taken over deletes its own post.
//
// What can still post twice: a send whose outcome is unknown (the connection broke after Telegram accepted it, or the
// process died between the post and storing its id) is posted again once its claim is abandoned; Telegram has no
// idempotency key. A post whose id cannot be stored (the database failing after a few retries) is deleted again and
// left to the recovery, so that case posts twice only when Telegram also refuses the deletion.
import { Context, Duration, Effect, Exit, Layer, Option, Result, Schedule } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import type { InlineKeyboardMarkup } from "grammy/types"
import { AppConfig } from "../AppConfig.ts"
import * as Channel from "../domain/Channel.ts"
import type { Published } from "../domain/Confession.ts"
import * as DeepLink from "../domain/DeepLink.ts"
import type { ConfessionId } from "../domain/Ids.ts"
import { CurrentUpdate } from "../sql/Processed.ts"
import { BotIdentity, type BotIdentityError } from "./BotIdentity.ts"
import { Confessions, type PublicationClaim } from "./Confessions.ts"
import { Telegram } from "./Telegram.ts"

/**
 * What became of a publish: `posted` by this call; `elsewhere`: another publisher posted it or is posting it;
 * `noChannel`: CHANNEL_ID is unset; `failed`: not in the channel, the recovery tries again; `deletedMeanwhile`: the
 * confession is no longer approved (any post made was deleted again).
 */
export interface Publication {
  readonly posted: "posted" | "elsewhere" | "noChannel" | "failed" | "deletedMeanwhile"
  /** The post's public link, when it is known and the channel has links. */
  readonly url: string | undefined
}

/** How posts and notices look; the views render them (services never import views). */
export interface PublisherTexts {
  readonly channelPost: (
    confession: Published,
    commentsUrl: string
  ) => { readonly text: string; readonly keyboard?: InlineKeyboardMarkup | undefined }
  readonly authorApproved: (id: ConfessionId, postUrl: string | undefined) => string
}

export interface PublisherOptions {
  /** CHANNEL_ID. Unset: nothing is posted and no recovery runs. */
  readonly channelId: Option.Option<string>
  readonly texts: PublisherTexts
  /** Time between recovery rounds; the first runs at start-up. */
  readonly recoveryInterval?: Duration.Input
  /** Approvals younger than this are left to the admin who approved them. */
  readonly grace?: Duration.Input
  /** Approvals older than this that never reached the channel are stale and left alone. */
  readonly window?: Duration.Input
  /** A claim older than this belongs to a publisher that died; a send is given up after a third of it. */
  readonly abandonedAfter?: Duration.Input
  /** Posts per recovery round at most (a channel takes about 20 messages a minute). */
  readonly batch?: number
}

export const defaults = {
  recoveryInterval: "5 minutes",
  grace: "1 minute",
  window: "24 hours",
  abandonedAfter: "15 minutes",
  batch: 50
} as const

export class Publisher extends Context.Service<
  Publisher,
  {
    /** Posts an approved confession to the channel unless someone else does; never fails, a failure is logged. */
    readonly publish: (confession: Published) => Effect.Effect<Publication>
    /** One recovery round now (the layer runs them on its schedule); returns how many confessions it posted. */
    readonly recover: Effect.Effect<number, SqlError>
  }
>()("confessions/services/Publisher") {
  /** Needs Telegram and Confessions; asks the bot's identity (getMe) for the comments link, like the features. */
  static readonly layer = (options: PublisherOptions): Layer.Layer<Publisher, BotIdentityError, Telegram | Confessions> =>
    Layer.effect(Publisher, make(options)).pipe(Layer.provide(BotIdentity.layer))

  static readonly layerConfig = (
    texts: PublisherTexts
  ): Layer.Layer<Publisher, BotIdentityError, AppConfig | Telegram | Confessions> =>
    Layer.unwrap(
      Effect.gen(function* () {
        const config = yield* AppConfig
        return Publisher.layer({ channelId: config.channelId, texts })
      })
    )
}

const make = (options: PublisherOptions) =>
  Effect.gen(function* () {
    const telegram = yield* Telegram
    const confessions = yield* Confessions
    const bot = yield* BotIdentity
    const interval = Duration.fromInputUnsafe(options.recoveryInterval ?? defaults.recoveryInterval)
    const grace = options.grace ?? defaults.grace
    const window = options.window ?? defaults.window
    const abandonedAfter = Duration.fromInputUnsafe(options.abandonedAfter ?? defaults.abandonedAfter)
    const sendTimeout = Duration.divideUnsafe(abandonedAfter, 3)
    const batch = options.batch ?? defaults.batch

    const outcome = (posted: Publication["posted"], url?: string): Publication => ({ posted, url })

    /** Why the claim went to someone else: the confession is gone, or another publisher has (or had) it. */
    const notClaimed = (channelId: string, id: ConfessionId) =>
      Effect.gen(function* () {
        const current = yield* confessions.get(id)
        if (Option.isNone(current) || current.value.status !== "approved") return outcome("deletedMeanwhile")
        const messageId = current.value.channelMessageId
        return messageId !== null && messageId > 0
          ? outcome("elsewhere", Channel.postUrl(channelId, messageId))
          : outcome("elsewhere")
      }).pipe(
        Effect.catch((error) =>
          Effect.as(Effect.logWarning(`could not read confession #${id} after losing its claim`, error), outcome("elsewhere"))
        )
      )

    /** Stores the post in place of our claim, retrying a failing database a few times (about 1.5 s in all). */
    const remember = (id: ConfessionId, messageId: number, claim: PublicationClaim) =>
      confessions.setChannelMessage(id, messageId, claim).pipe(
        Effect.retry({
          while: (error) => error._tag !== "ConfessionsError",
          schedule: Schedule.max([Schedule.exponential("100 millis"), Schedule.recurs(4)])
        })
      )

    const publishTo = (channelId: string, confession: Published) =>
      Effect.gen(function* () {
        const id = confession.id
        const chat = Channel.chatId(channelId)
        const claimed = yield* Effect.result(confessions.claimPublication(id, abandonedAfter))
        if (Result.isFailure(claimed)) {
          yield* Effect.logError(`could not claim confession #${id} for the channel; the recovery tries again`, claimed.failure)
          return outcome("failed")
        }
        if (Option.isNone(claimed.success)) return yield* notClaimed(channelId, id)
        const claim = claimed.success.value
        const giveBack = confessions.releasePublication(id, claim).pipe(Effect.ignore({ log: "Warn" }))

        const view = options.texts.channelPost(confession, bot.startUrl(DeepLink.OpenComments(id)))
        // The only interruptible part (a shutdown, the timeout): interrupted here, nothing needs undoing but the claim.
        const sent = yield* Effect.exit(
          Effect.interruptible(
            telegram.sendMessage(chat, view.text, { replyMarkup: view.keyboard }).pipe(Effect.timeout(sendTimeout))
          )
        )
        if (Exit.isFailure(sent)) {
          yield* giveBack
          yield* Effect.logError(`could not post confession #${id} to the channel; the recovery tries again`, sent.cause)
          return outcome("failed")
        }
        const messageId = sent.value
        const deletePost = telegram.deleteMessage(chat, messageId)

        const stored = yield* Effect.result(remember(id, messageId, claim))
        if (Result.isSuccess(stored)) return outcome("posted", Channel.postUrl(channelId, messageId))
        const error = stored.failure
        if (error._tag === "ConfessionsError") {
          // Deleted while we posted, or our claim was taken over (and that publisher posts): ours must go.
          yield* deletePost.pipe(Effect.ignore({ log: "Warn" }))
          return error.reason._tag === "ClaimLost" ? outcome("elsewhere") : outcome("deletedMeanwhile")
        }
        // Not remembered, so the recovery would post it again: withdraw this post and let the recovery own it.
        yield* Effect.logError(`could not remember the channel post of confession #${id}`, error)
        const withdrawn = yield* Effect.result(deletePost)
        if (Result.isFailure(withdrawn)) {
          yield* Effect.logError(
            `the channel post of confession #${id} could not be withdrawn either; it may be posted twice`,
            withdrawn.failure
          )
          return outcome("posted", Channel.postUrl(channelId, messageId))
        }
        yield* giveBack
        return outcome("failed")
      }).pipe(
        // Once claimed, the protocol runs to its end (claim stored, given back, or its post deleted).
        Effect.uninterruptible,
        // Bookkeeping for the confession, not a write on behalf of the update that may be running: it claims none.
        Effect.provideService(CurrentUpdate, Option.none())
      )

    const publish = Effect.fn("Publisher.publish")(function* (confession: Published) {
      if (Option.isNone(options.channelId)) return outcome("noChannel")
      return yield* publishTo(options.channelId.value, confession)
    })

    const recover = Effect.gen(function* () {
      if (Option.isNone(options.channelId)) return 0
      const due = yield* confessions.listUnpublished({ decidedAtLeast: grace, decidedAtMost: window, abandonedAfter, limit: batch })
      // One at a time: the channel's rate limit is the bottleneck, and each claim stays short. The admin who approved
      // it was cut off before telling the author, so the author hears it from here.
      const results = yield* Effect.forEach(due, (confession) =>
        publish(confession).pipe(
          Effect.tap((result) =>
            result.posted === "posted"
              ? telegram
                  .sendMessage(confession.authorId, options.texts.authorApproved(confession.id, result.url))
                  .pipe(Effect.catchCause((cause) => Effect.logWarning(`could not tell the author of #${confession.id}`, cause)))
              : Effect.void
          )
        )
      )
      const posted = results.filter((result) => result.posted === "posted").length
      const failed = results.filter((result) => result.posted === "failed").length
      if (posted > 0) yield* Effect.logInfo(`channel posts recovered: ${posted}`)
      if (failed > 0) yield* Effect.logWarning(`approved confessions still not in the channel: ${failed}; retried next round`)
      return posted
    }).pipe(Effect.withSpan("Publisher.recover"))

    if (Option.isSome(options.channelId)) {
      yield* recover.pipe(
        Effect.catchCause((cause) => Effect.logError("recovering channel posts failed; retried next round", cause)),
        Effect.repeat(Schedule.spaced(interval)),
        Effect.forkScoped
      )
    }

    return Publisher.of({ publish, recover })
  })
