// The community channel: an approved confession's post and its removal, through the outbox in the caller's transaction.
// A post is retried until it is out (the courier alerts the admins if the channel keeps refusing it) and its message id
// is remembered on the confession. A removal deletes the post, or, when the post has not gone out yet, stops it.
import { Clock, Context, type Duration, Effect, Layer, Option } from "effect"
import type { SqlError } from "effect/sql/SqlError"
import { AppConfig } from "../AppConfig.ts"
import * as BotCall from "../domain/BotCall.ts"
import * as Channel from "../domain/Channel.ts"
import type { ConfessionId } from "../domain/Ids.ts"
import { Outbox } from "../sql/Outbox.ts"
import { Courier } from "./Courier.ts"

/** A rendered post: HTML text (or a caption, for a photo or voice) and its keyboard. */
export interface Post {
  readonly call: (chatId: BotCall.ChatId) => BotCall.BotCall
}

export class ChannelPosts extends Context.Service<
  ChannelPosts,
  {
    /** CHANNEL_ID, when one is configured. */
    readonly channelId: Option.Option<string>
    /**
     * Queues the confession's post; returns the key of its outbox row, for calls that must follow it (the author's
     * notice with the post's link), or `None` without a channel.
     */
    readonly post: (id: ConfessionId, post: Post) => Effect.Effect<Option.Option<string>, SqlError>
    /**
     * Removes the confession's post: deletes `messageId` when it is known, otherwise stops the post if it has not gone
     * out, or deletes it once it has. Returns whether there was a post (sent or queued) to remove.
     */
    readonly withdraw: (
      id: ConfessionId,
      messageId: Option.Option<number>,
      options?: { readonly delay?: Duration.Input }
    ) => Effect.Effect<boolean, SqlError>
    /**
     * The confession's post shows `post` from now on (its author line changed): the stored post is rewritten, so one
     * not sent yet goes out as `post`, and a post that is out (`messageId`) or going out is edited to it. Returns
     * whether there was a post.
     */
    readonly revise: (id: ConfessionId, messageId: Option.Option<number>, post: Post) => Effect.Effect<boolean, SqlError>
  }
>()("confessions/services/ChannelPosts") {
  static readonly layer = (channelId: Option.Option<string>): Layer.Layer<ChannelPosts, never, Courier | Outbox> =>
    Layer.effect(ChannelPosts, make(channelId))

  static readonly layerConfig: Layer.Layer<ChannelPosts, never, Courier | Outbox | AppConfig> = Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* AppConfig
      return ChannelPosts.layer(config.channelId)
    })
  )
}

const topicOf = (id: ConfessionId) => `confession:${id}`
const postKey = (id: ConfessionId) => `${topicOf(id)}:post`

const make = (channelId: Option.Option<string>) =>
  Effect.gen(function* () {
    const courier = yield* Courier
    const outbox = yield* Outbox

    return ChannelPosts.of({
      channelId,

      post: Effect.fn("ChannelPosts.post")(function* (id, post) {
        if (Option.isNone(channelId)) return Option.none()
        const key = postKey(id)
        yield* courier.send([
          { key, kind: "channel_post", topic: topicOf(id), call: post.call(Channel.chatId(channelId.value)), postOf: id }
        ])
        return Option.some(key)
      }),

      withdraw: Effect.fn("ChannelPosts.withdraw")(function* (id, messageId, withdrawOptions) {
        if (Option.isNone(channelId)) return Option.isSome(messageId)
        const chat = Channel.chatId(channelId.value)
        const now = new Date(yield* Clock.currentTimeMillis)
        // A post nobody is sending yet is cancelled here; one sent or being sent comes back, to be deleted after it.
        const posts = yield* outbox.supersede(topicOf(id), "channel_post", now)
        const remove = (call: BotCall.BotCall, after?: string) =>
          courier.send([
            { key: `${topicOf(id)}:unpost`, kind: "channel_delete", topic: topicOf(id), call, after, delay: withdrawOptions?.delay }
          ])
        if (Option.isSome(messageId)) {
          yield* remove(BotCall.BotCall.cases.Delete.make({ chatId: chat, messageId: messageId.value }))
          return true
        }
        const sent = posts.find((row) => row.dedupeKey === postKey(id))
        if (sent === undefined) return false
        yield* remove(BotCall.BotCall.cases.Delete.make({ chatId: chat }), sent.dedupeKey)
        return true
      }),

      revise: Effect.fn("ChannelPosts.revise")(function* (id, messageId, post) {
        if (Option.isNone(channelId)) return Option.isSome(messageId)
        const call = post.call(Channel.chatId(channelId.value))
        const now = new Date(yield* Clock.currentTimeMillis)
        const stored = yield* outbox.rewrite(postKey(id), call, now)
        // A post not sent yet now goes out revised; one that is out (or going out) is edited once it is.
        const out = Option.isSome(messageId) || (Option.isSome(stored) && stored.value.out)
        const edit = BotCall.editOf(call, Option.getOrUndefined(messageId))
        if (out && edit !== undefined) {
          yield* courier.send([
            {
              key: `${topicOf(id)}:revised`,
              kind: "channel_post",
              topic: topicOf(id),
              call: edit,
              after: Option.isSome(messageId) ? undefined : postKey(id)
            }
          ])
        }
        return Option.isSome(messageId) || Option.isSome(stored)
      })
    })
  })
