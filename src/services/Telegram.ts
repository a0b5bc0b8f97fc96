// The Effect face of grammY's Bot API client: every call is an Effect with a classified TelegramError, 429s wait
// `retry_after`, 5xx and network failures back off exponentially, 403 "blocked by the user" marks the user inactive,
// and outgoing messages pass Telegram's rate limits (global, per private chat, per group or channel) first.
import { Clock, Context, Data, Duration, Effect, Layer, Metric, Redacted, Ref, Schedule } from "effect"
import { RateLimiter } from "effect/persistence"
import { Api, GrammyError, HttpError, InputFile } from "grammy"
import type { InlineKeyboardMarkup, ReplyKeyboardMarkup, Update, UserFromGetMe } from "grammy/types"
import { AppConfig } from "../AppConfig.ts"
import * as BotCall from "../domain/BotCall.ts"
import { type UserId, UserId as UserIdSchema } from "../domain/Ids.ts"
import { RateLimiterStoreMemory } from "./RateLimiterStoreMemory.ts"

export type ChatId = number | string
export type ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup

/** What a performed call produced: a send's message id. */
export interface Performed {
  readonly messageId: number | undefined
}

export interface SendOptions {
  readonly replyMarkup?: ReplyMarkup | undefined
}

export interface RateLimits {
  /** Messages per second across all chats (Telegram: about 30). */
  readonly globalPerSecond: number
  /** Messages per second to one private chat, with a burst of `privateChatBurst` (Telegram: about 1). */
  readonly privateChatPerSecond: number
  readonly privateChatBurst: number
  /** Messages per minute to one group or channel (Telegram: 20). */
  readonly groupPerMinute: number
}

export interface TelegramOptions {
  readonly token: string
  readonly apiRoot: string
  readonly rateLimits: RateLimits
  /** First delay of the exponential back-off for 5xx and network failures. */
  readonly backoffBase: Duration.Input
  /**
   * Called when a private chat answers 403 because the person blocked the bot or deleted their account, so the
   * program stops writing to them (the users repository marks them inactive). Failures are logged, never raised.
   */
  readonly onBlocked?: ((user: UserId) => Effect.Effect<void, unknown>) | undefined
}

export const defaultRateLimits: RateLimits = {
  globalPerSecond: 30,
  privateChatPerSecond: 1,
  privateChatBurst: 3,
  groupPerMinute: 20
}

export class RateLimited extends Data.TaggedClass("RateLimited")<{ readonly retryAfter: Duration.Duration }> {}
export class Forbidden extends Data.TaggedClass("Forbidden")<{ readonly description: string }> {}
export class BadRequest extends Data.TaggedClass("BadRequest")<{ readonly description: string }> {}
export class Unauthorized extends Data.TaggedClass("Unauthorized")<{ readonly description: string }> {}
export class Conflict extends Data.TaggedClass("Conflict")<{ readonly description: string }> {}
export class ServerError extends Data.TaggedClass("ServerError")<{ readonly code: number; readonly description: string }> {}
export class NetworkError extends Data.TaggedClass("NetworkError")<{ readonly message: string }> {}

export type TelegramErrorReason =
  | RateLimited
  | Forbidden
  | BadRequest
  | Unauthorized
  | Conflict
  | ServerError
  | NetworkError

/**
 * A call not made because its chat's rate limit would have made it wait `retryAfter` (asked for with
 * `perform(…, { chatBusy: "fail" })`): a courier with messages for other chats sends those meanwhile.
 */
export class ChatBusy extends Data.TaggedError("ChatBusy")<{ readonly retryAfter: Duration.Duration }> {}

export class TelegramError extends Data.TaggedError("TelegramError")<{
  readonly method: string
  readonly reason: TelegramErrorReason
}> {
  override get message(): string {
    const reason = this.reason
    const detail = "description" in reason ? reason.description : "message" in reason ? reason.message : "rate limited"
    return `${this.method}: ${reason._tag}: ${detail}`
  }
  /** "message is not modified" is the answer to an edit that changes nothing: harmless for us. */
  get isNotModified(): boolean {
    return this.reason._tag === "BadRequest" && this.reason.description.includes("message is not modified")
  }
}

export class Telegram extends Context.Service<
  Telegram,
  {
    readonly getMe: Effect.Effect<UserFromGetMe, TelegramError>
    readonly getUpdates: (options: {
      readonly offset: number
      readonly limit: number
      readonly timeoutSeconds: number
      readonly allowedUpdates: ReadonlyArray<string>
    }) => Effect.Effect<ReadonlyArray<Update>, TelegramError>
    readonly setWebhook: (url: string, secret: string, allowedUpdates: ReadonlyArray<string>) => Effect.Effect<void, TelegramError>
    readonly deleteWebhook: Effect.Effect<void, TelegramError>
    readonly sendMessage: (chatId: ChatId, html: string, options?: SendOptions) => Effect.Effect<number, TelegramError>
    readonly editMessageText: (
      chatId: ChatId,
      messageId: number,
      html: string,
      options?: { readonly replyMarkup?: InlineKeyboardMarkup | undefined }
    ) => Effect.Effect<void, TelegramError>
    /**
     * Replaces only the inline keyboard of `messageId` (counts on buttons); the text stays. An edit that changes
     * nothing ("message is not modified") succeeds.
     */
    readonly editMessageReplyMarkup: (
      chatId: ChatId,
      messageId: number,
      replyMarkup: InlineKeyboardMarkup
    ) => Effect.Effect<void, TelegramError>
    /**
     * Edits `messageId` in place (paging, toggles); sends a new message when there is none (a button too old for
     * Telegram to say which message it was on) or Telegram refuses the edit (the message was deleted).
     */
    readonly sendOrEdit: (
      chatId: ChatId,
      messageId: number | undefined,
      html: string,
      options?: { readonly replyMarkup?: InlineKeyboardMarkup | undefined }
    ) => Effect.Effect<void, TelegramError>
    readonly answerCallbackQuery: (
      callbackQueryId: string,
      options?: { readonly text?: string | undefined; readonly showAlert?: boolean | undefined }
    ) => Effect.Effect<void, TelegramError>
    readonly deleteMessage: (chatId: ChatId, messageId: number) => Effect.Effect<void, TelegramError>
    /** Uploads `file` as a document (multipart), with an optional HTML caption; returns the message id. */
    readonly sendDocument: (
      chatId: ChatId,
      file: { readonly fileName: string; readonly content: Uint8Array },
      options?: { readonly caption?: string | undefined }
    ) => Effect.Effect<number, TelegramError>
    /**
     * Performs a call; a send returns the message id it produced. Without `retry` it is tried once (the outbox
     * schedules its own retries); with it, 429s, 5xx and network failures are retried like every direct call. An edit
     * or delete that still lacks its message id is a defect: the caller fills it in first.
     */
    readonly perform: <Busy extends "wait" | "fail" = "wait">(
      call: BotCall.BotCall,
      options?: { readonly retry?: boolean; readonly chatBusy?: Busy }
    ) => Effect.Effect<Performed, TelegramError | (Busy extends "fail" ? ChatBusy : never)>
  }
>()("confessions/services/Telegram") {
  static readonly layerNoDeps = (options: TelegramOptions) => Layer.effect(Telegram, make(options))

  /**
   * Rate limits kept in this process's memory, in the bounded store: Effect's own keeps one token bucket per chat
   * ever written to, forever (issue 12, item 10).
   */
  static readonly layer = (options: TelegramOptions) =>
    Telegram.layerNoDeps(options).pipe(Layer.provide(RateLimiter.layer.pipe(Layer.provide(RateLimiterStoreMemory.layer()))))

  /**
   * Settings from the configuration; the limits live in the `RateLimiterStore` given (the memory one, or Redis so that
   * several processes together stay within Telegram's limits).
   */
  static readonly layerConfig = (
    hooks: Pick<TelegramOptions, "onBlocked"> = {}
  ): Layer.Layer<Telegram, never, AppConfig | RateLimiter.RateLimiterStore> =>
    Layer.unwrap(
      Effect.gen(function* () {
        const config = yield* AppConfig
        return Telegram.layerNoDeps({
          token: Redacted.value(config.botToken),
          apiRoot: config.telegramApiRoot,
          rateLimits: config.telegramRateLimits,
          backoffBase: "250 millis",
          onBlocked: hooks.onBlocked
        }).pipe(Layer.provide(RateLimiter.layer))
      })
    )
}

const apiCalls = Metric.counter("confessions_telegram_api_calls_total", {
  description: "Bot API calls by method and outcome",
  incremental: true
})
const apiRetries = Metric.counter("confessions_telegram_api_retries_total", {
  description: "Bot API calls retried after a 429, 5xx or network failure",
  incremental: true
})
const rateLimitedResponses = Metric.counter("confessions_telegram_429_total", {
  description: "429 Too Many Requests answers from the Bot API",
  incremental: true
})

const unthrottledCalls = Metric.counter("confessions_telegram_unthrottled_total", {
  description: "Bot API calls sent without the rate limit because its store (Redis) could not be reached",
  incremental: true
})

const messageMethods = new Set([
  "sendMessage",
  "sendPhoto",
  "sendVoice",
  "sendDocument",
  "editMessageText",
  "editMessageCaption",
  "editMessageReplyMarkup"
])

const make = (options: TelegramOptions) =>
  Effect.gen(function* () {
    const limiter = yield* RateLimiter.RateLimiter
    const lastUnthrottledWarning = yield* Ref.make(Number.NEGATIVE_INFINITY)
    // Exposed from the start at 0, so that rules like `increase(…[10m]) > 0` see the first one.
    yield* Metric.update(rateLimitedResponses, 0)
    yield* Metric.update(unthrottledCalls, 0)
    const api = new Api(options.token, { apiRoot: options.apiRoot })
    const limits = options.rateLimits

    const chatLimit = (chatId: ChatId) =>
      typeof chatId === "number" && chatId > 0
        ? {
            algorithm: "token-bucket" as const,
            window: Duration.seconds(limits.privateChatBurst / limits.privateChatPerSecond),
            limit: limits.privateChatBurst,
            key: `telegram:chat:${chatId}`
          }
        : { algorithm: "token-bucket" as const, window: "1 minute" as const, limit: limits.groupPerMinute, key: `telegram:group:${chatId}` }

    /** Waits for the global limit, and for the chat's unless the caller took the chat's token already. */
    const throttle = (chatId: ChatId, chatTaken: boolean) =>
      Effect.gen(function* () {
        yield* RateLimiter.sleep(limiter, {
          algorithm: "token-bucket",
          window: "1 second",
          limit: limits.globalPerSecond,
          key: "telegram:global"
        })
        if (!chatTaken) yield* RateLimiter.sleep(limiter, chatLimit(chatId))
      }).pipe(
        // Only the store can fail here (Redis unreachable; `sleep` waits instead of failing on a limit). The call goes
        // out unthrottled rather than not at all, so people still hear "a temporary problem" during an outage;
        // Telegram's own 429 with retry_after is the backstop.
        Effect.catchTag("RateLimiterError", (error) =>
          Effect.gen(function* () {
            yield* Metric.update(unthrottledCalls, 1)
            const now = yield* Clock.currentTimeMillis
            if (now - (yield* Ref.getAndSet(lastUnthrottledWarning, now)) < 10_000) return
            yield* Effect.logWarning("rate-limit store unreachable; Bot API calls go out unthrottled", error.reason._tag)
          })
        )
      )

    /** Takes a token of the chat's limit now, or fails with `ChatBusy` saying when one will be there. */
    const takeChatToken = (chatId: ChatId): Effect.Effect<void, ChatBusy> =>
      limiter.consume({ ...chatLimit(chatId), onExceeded: "fail" }).pipe(
        Effect.asVoid,
        Effect.catchReason("RateLimiterError", "RateLimitExceeded", (reason) =>
          Effect.fail(new ChatBusy({ retryAfter: reason.retryAfter }))
        ),
        // The store is unreachable: as in `throttle`, the call goes out rather than not at all.
        Effect.catchTag("RateLimiterError", () => Effect.void)
      )

    const transientRetry = Schedule.max([Schedule.exponential(options.backoffBase), Schedule.recurs(3)]).pipe(
      Schedule.setInputType<TelegramError>(),
      Schedule.tap(() => Metric.update(apiRetries, 1))
    )
    const rateLimitRetry = Schedule.recurs(5).pipe(
      Schedule.setInputType<TelegramError>(),
      Schedule.modifyDelay(({ input }) =>
        Effect.succeed(input.reason._tag === "RateLimited" ? input.reason.retryAfter : Duration.seconds(1))
      ),
      Schedule.tap(() => Metric.update(apiRetries, 1))
    )

    // Every call counts one success: the labelled counter is made once per method (a new one per call cost a JSON
    // series key each time); failures are rare and stay labelled per call.
    const okCounters = new Map<string, Metric.Metric<number, unknown>>()
    const succeeded = (method: string) => {
      let counter = okCounters.get(method)
      if (counter === undefined) {
        counter = Metric.withAttributes(apiCalls, { method, outcome: "ok" })
        okCounters.set(method, counter)
      }
      return counter
    }

    /**
     * One Bot API call: throttled when it writes to a chat, counted, and (unless `retry` is false, for callers that
     * schedule their own retries) retried on 429, 5xx and network failures.
     */
    const call = <A>(
      method: string,
      chatId: ChatId | undefined,
      request: (signal: GrammySignal) => Promise<A>,
      retry = true,
      chatTaken = false
    ) => {
      const attempt = Effect.tryPromise({
        try: (signal) => request(signal as unknown as GrammySignal),
        catch: (cause) => classify(method, cause)
      }).pipe(
        Effect.tapError((error) =>
          error.reason._tag === "RateLimited" ? Metric.update(rateLimitedResponses, 1) : Effect.void
        )
      )
      const once = retry
        ? retryAfterFailure(attempt, { while: (error) => error.reason._tag === "RateLimited", schedule: rateLimitRetry })
        : attempt
      const throttled = chatId !== undefined && messageMethods.has(method) ? Effect.andThen(throttle(chatId, chatTaken), once) : once
      const retried = retry
        ? retryAfterFailure(throttled, {
            while: (error) => error.reason._tag === "ServerError" || error.reason._tag === "NetworkError",
            schedule: transientRetry
          })
        : throttled
      return retried.pipe(
        Effect.tap(() => Metric.update(succeeded(method), 1)),
        Effect.tapError((error) =>
          Metric.update(Metric.withAttributes(apiCalls, { method, outcome: error.reason._tag }), 1).pipe(
            Effect.andThen(onFinalFailure(error, chatId))
          )
        )
      )
    }

    const onFinalFailure = (error: TelegramError, chatId: ChatId | undefined) => {
      if (error.reason._tag === "Forbidden" && typeof chatId === "number" && chatId > 0 && isBlockedByUser(error.reason.description)) {
        return options.onBlocked === undefined
          ? Effect.void
          : options.onBlocked(UserIdSchema.make(chatId)).pipe(
              Effect.andThen(Effect.logInfo("user blocked the bot; marked inactive")),
              Effect.ignore({ log: "Warn" })
            )
      }
      if (error.reason._tag === "BadRequest" && !error.isNotModified) {
        return Effect.logWarning("Bot API rejected a request", error.message)
      }
      return Effect.void
    }

    const sendMessage = (chatId: ChatId, html: string, sendOptions?: SendOptions) =>
      call("sendMessage", chatId, (signal) =>
        api.sendMessage(
          chatId,
          html,
          {
            parse_mode: "HTML",
            link_preview_options: { is_disabled: true },
            ...(sendOptions?.replyMarkup ? { reply_markup: sendOptions.replyMarkup } : {})
          },
          signal
        )
      ).pipe(Effect.map((message) => message.message_id))

    const editMessageText = (
      chatId: ChatId,
      messageId: number,
      html: string,
      editOptions?: { readonly replyMarkup?: InlineKeyboardMarkup | undefined }
    ) =>
      call("editMessageText", chatId, (signal) =>
        api.editMessageText(
          chatId,
          messageId,
          html,
          {
            parse_mode: "HTML",
            link_preview_options: { is_disabled: true },
            ...(editOptions?.replyMarkup ? { reply_markup: editOptions.replyMarkup } : {})
          },
          signal
        )
      ).pipe(
        Effect.asVoid,
        Effect.catchIf((error) => error.isNotModified, () => Effect.void)
      )

    const editMessageReplyMarkup = (chatId: ChatId, messageId: number, replyMarkup: InlineKeyboardMarkup) =>
      call("editMessageReplyMarkup", chatId, (signal) =>
        api.editMessageReplyMarkup(chatId, messageId, { reply_markup: replyMarkup }, signal)
      ).pipe(
        Effect.asVoid,
        Effect.catchIf((error) => error.isNotModified, () => Effect.void)
      )

    const sent = (message: { readonly message_id: number }): Performed => ({ messageId: message.message_id })
    const done: Performed = { messageId: undefined }
    const html = { parse_mode: "HTML", link_preview_options: { is_disabled: true } } as const
    /** The message id an edit or delete targets; the outbox fills in one left open before performing. */
    const target = (messageId: number | undefined) =>
      messageId === undefined ? Effect.die(new Error("a stored call lost its message id")) : Effect.succeed(messageId)

    const performCall = (stored: BotCall.BotCall, retry: boolean, chatTaken: boolean): Effect.Effect<Performed, TelegramError> => {
      switch (stored._tag) {
        case "SendMessage":
          return call("sendMessage", stored.chatId, (signal) =>
            api.sendMessage(stored.chatId, stored.text, { ...html, ...markupOf(stored.markup) }, signal), retry, chatTaken
          ).pipe(Effect.map(sent))
        case "SendPhoto":
          return call("sendPhoto", stored.chatId, (signal) =>
            api.sendPhoto(stored.chatId, stored.fileId, { caption: stored.caption, parse_mode: "HTML", ...markupOf(stored.markup) }, signal), retry, chatTaken
          ).pipe(Effect.map(sent))
        case "SendVoice":
          return call("sendVoice", stored.chatId, (signal) =>
            api.sendVoice(stored.chatId, stored.fileId, { caption: stored.caption, parse_mode: "HTML", ...markupOf(stored.markup) }, signal), retry, chatTaken
          ).pipe(Effect.map(sent))
        case "EditText":
          return Effect.flatMap(target(stored.messageId), (messageId) =>
            call("editMessageText", stored.chatId, (signal) =>
              api.editMessageText(stored.chatId, messageId, stored.text, { ...html, ...inlineOf(stored.keyboard) }, signal), retry, chatTaken
            )
          ).pipe(Effect.as(done), Effect.catchIf((error) => error.isNotModified, () => Effect.succeed(done)))
        case "EditCaption":
          return Effect.flatMap(target(stored.messageId), (messageId) =>
            call("editMessageCaption", stored.chatId, (signal) =>
              api.editMessageCaption(stored.chatId, messageId, { caption: stored.caption, parse_mode: "HTML", ...inlineOf(stored.keyboard) }, signal), retry, chatTaken
            )
          ).pipe(Effect.as(done), Effect.catchIf((error) => error.isNotModified, () => Effect.succeed(done)))
        case "EditKeyboard":
          return Effect.flatMap(target(stored.messageId), (messageId) =>
            call("editMessageReplyMarkup", stored.chatId, (signal) =>
              api.editMessageReplyMarkup(stored.chatId, messageId, inlineOf(stored.keyboard), signal), retry, chatTaken
            )
          ).pipe(Effect.as(done), Effect.catchIf((error) => error.isNotModified, () => Effect.succeed(done)))
        case "Delete":
          return Effect.flatMap(target(stored.messageId), (messageId) =>
            call("deleteMessage", stored.chatId, (signal) => api.deleteMessage(stored.chatId, messageId, signal), retry, chatTaken)
          ).pipe(Effect.as(done))
        case "AnswerCallback":
          return call("answerCallbackQuery", undefined, (signal) =>
            api.answerCallbackQuery(
              stored.callbackQueryId,
              {
                ...(stored.text !== undefined ? { text: stored.text } : {}),
                ...(stored.alert !== undefined ? { show_alert: stored.alert } : {})
              },
              signal
            ), retry, chatTaken
          ).pipe(Effect.as(done))
      }
    }

    const perform = (
      stored: BotCall.BotCall,
      retry: boolean,
      chatBusy: "wait" | "fail"
    ): Effect.Effect<Performed, TelegramError | ChatBusy> => {
      const chatId = BotCall.chatOf(stored)
      // Only calls that write to a chat count against its limit (see `messageMethods`).
      return chatBusy === "fail" && chatId !== undefined && stored._tag !== "AnswerCallback" && stored._tag !== "Delete"
        ? Effect.andThen(takeChatToken(chatId), performCall(stored, retry, true))
        : performCall(stored, retry, false)
    }

    return Telegram.of({
      getMe: call("getMe", undefined, (signal) => api.getMe(signal)),
      getUpdates: (request) =>
        call("getUpdates", undefined, (signal) =>
          api.getUpdates(
            {
              offset: request.offset,
              limit: request.limit,
              timeout: request.timeoutSeconds,
              allowed_updates: request.allowedUpdates as Array<"message">
            },
            signal
          )
        ),
      setWebhook: (url, secret, allowedUpdates) =>
        Effect.asVoid(
          call("setWebhook", undefined, (signal) =>
            api.setWebhook(
              url,
              { secret_token: secret, allowed_updates: allowedUpdates as Array<"message">, drop_pending_updates: false },
              signal
            )
          )
        ),
      deleteWebhook: Effect.asVoid(
        call("deleteWebhook", undefined, (signal) => api.deleteWebhook({ drop_pending_updates: false }, signal))
      ),
      sendMessage,
      editMessageText,
      editMessageReplyMarkup,
      sendOrEdit: (chatId, messageId, html, options) => {
        const send = Effect.asVoid(sendMessage(chatId, html, options))
        return messageId === undefined
          ? send
          : editMessageText(chatId, messageId, html, options).pipe(
              Effect.catchIf((error) => error.reason._tag === "BadRequest", () => send)
            )
      },
      answerCallbackQuery: (id, answer) =>
        Effect.asVoid(
          call("answerCallbackQuery", undefined, (signal) =>
            api.answerCallbackQuery(
              id,
              {
                ...(answer?.text !== undefined ? { text: answer.text } : {}),
                ...(answer?.showAlert !== undefined ? { show_alert: answer.showAlert } : {})
              },
              signal
            )
          )
        ),
      deleteMessage: (chatId, messageId) =>
        Effect.asVoid(call("deleteMessage", chatId, (signal) => api.deleteMessage(chatId, messageId, signal))),
      sendDocument: (chatId, file, documentOptions) =>
        call("sendDocument", chatId, (signal) =>
          // A fresh InputFile per try: a retried upload reads its bytes again.
          api.sendDocument(
            chatId,
            new InputFile(file.content, file.fileName),
            documentOptions?.caption === undefined ? {} : { caption: documentOptions.caption, parse_mode: "HTML" },
            signal
          )
        ).pipe(Effect.map((message) => message.message_id)),
      // The type says when ChatBusy can happen; the one implementation serves both.
      perform: ((stored: BotCall.BotCall, options?: { readonly retry?: boolean; readonly chatBusy?: "wait" | "fail" }) =>
        perform(stored, options?.retry ?? false, options?.chatBusy ?? "wait")) as Telegram["Service"]["perform"]
    })
  })

/**
 * A stored keyboard as grammY takes it. The stored shapes are grammY's own minus mutability (the outbox decodes them
 * with a Schema of readonly arrays), so only the arrays' mutability is asserted away here.
 */
const markupOf = (markup: BotCall.Markup | undefined): { reply_markup?: ReplyMarkup } =>
  markup === undefined ? {} : { reply_markup: markup as ReplyMarkup }

const inlineOf = (keyboard: BotCall.InlineKeyboard | undefined): { reply_markup?: InlineKeyboardMarkup } =>
  keyboard === undefined ? {} : { reply_markup: keyboard as InlineKeyboardMarkup }

// grammY's Node typings use the abort-controller polyfill's AbortSignal type; Effect hands us the platform one.
type GrammySignal = Parameters<Api["getMe"]>[0]

const isBlockedByUser = (description: string) =>
  /bot was blocked by the user|user is deactivated|bot can't initiate conversation/i.test(description)

/** The one place grammY's two error kinds become our reasons. */
const classify = (method: string, cause: unknown): TelegramError => {
  if (cause instanceof GrammyError) {
    const description = cause.description
    const reason: TelegramErrorReason =
      cause.error_code === 429
        ? new RateLimited({ retryAfter: Duration.seconds(cause.parameters.retry_after ?? 1) })
        : cause.error_code === 403
          ? new Forbidden({ description })
          : cause.error_code === 401
            ? new Unauthorized({ description })
            : cause.error_code === 409
              ? new Conflict({ description })
              : cause.error_code >= 500
                ? new ServerError({ code: cause.error_code, description })
                : new BadRequest({ description })
    return new TelegramError({ method, reason })
  }
  const message = cause instanceof HttpError ? cause.message : cause instanceof Error ? cause.message : String(cause)
  return new TelegramError({ method, reason: new NetworkError({ message }) })
}

/**
 * `Effect.retry` with the same schedule and predicate, set up only once a first try failed: `Effect.retry` builds its
 * schedule driver and provides its metadata on every call, which for two retry policies per Bot API call was a
 * measurable share of the pipeline's CPU while nearly every call succeeds at once. The first failure is replayed
 * into `Effect.retry`, so the predicate, the delays and the count of tries are exactly those of `Effect.retry(self)`.
 */
const retryAfterFailure = <A, R>(
  self: Effect.Effect<A, TelegramError, R>,
  options: { readonly while: (error: TelegramError) => boolean; readonly schedule: Schedule.Schedule<unknown, TelegramError> }
): Effect.Effect<A, TelegramError, R> =>
  Effect.catch(self, (first) => {
    let replayed = false
    return Effect.retry(
      Effect.suspend(() => {
        if (replayed) return self
        replayed = true
        return Effect.fail(first)
      }),
      options
    )
  })
