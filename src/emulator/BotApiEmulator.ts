// A local Telegram Bot API over real HTTP (node:http on 127.0.0.1), for the tests, the benchmark and the playground.
// It serves `/bot<token>/<method>` like Telegram: getUpdates with offset confirmation and long polling, webhook
// delivery, messages that live in per-chat histories (so edits, deletes and button presses behave as on Telegram,
// errors worded as Telegram words them), records every request, injects faults, simulates people, and reports every
// chat change to listeners; its chats can be saved and restored (the playground keeps them across restarts). The
// lowest layer of the project: it knows nothing of the bot. Not emulated: Telegram's own rate limits (inject 429s
// instead), inline messages, group membership rules, file downloads.
import { Context, Data, Deferred, Duration, Effect, Layer, Queue, Stream } from "effect"
import type {
  BotCommand,
  Chat,
  InlineKeyboardMarkup,
  Message,
  MessageEntity,
  ReplyKeyboardMarkup,
  Update,
  User,
  UserFromGetMe
} from "grammy/types"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import * as RequestBody from "./RequestBody.ts"
import * as TelegramHtml from "./TelegramHtml.ts"
import {
  callbackOn,
  type Content,
  lastUpdateId,
  messageOf,
  nextUpdateId,
  observeUpdateId,
  type Person,
  type PersonMessage,
  privateChatOf
} from "./Updates.ts"

/** The bot the emulator plays unless told otherwise. */
export const botInfo: UserFromGetMe = {
  id: 777_000,
  is_bot: true,
  first_name: "Confessions",
  username: "confessions_test_bot",
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
  can_manage_bots: false,
  supports_guest_queries: false,
  supports_join_request_queries: false
}

export const token = "123456:TEST-TOKEN"

/**
 * Settings that open the bot's own outgoing limiter wide (TELEGRAM_RATE_* at their maximum) for a bot talking to this
 * emulator, which has no per-chat or global limits; against Telegram the defaults (30/s overall, 1/s per chat) apply.
 */
export const unthrottledEnv: Readonly<Record<string, string>> = {
  TELEGRAM_RATE_GLOBAL: "100000",
  TELEGRAM_RATE_PER_CHAT: "100000",
  TELEGRAM_RATE_PER_CHAT_BURST: "100000",
  TELEGRAM_RATE_PER_GROUP: "100000"
}

export interface EmulatorOptions {
  /** 0 (the default) takes a free port. */
  readonly port?: number | undefined
  readonly token?: string | undefined
  readonly bot?: UserFromGetMe | undefined
  /** Longest a getUpdates long poll is held, whatever `timeout` asks (default: as asked, like Telegram). */
  readonly longPollCap?: Duration.Input | undefined
  /** Keep every request in `calls` (default true); the benchmark turns it off and listens instead. */
  readonly record?: boolean | undefined
  /** Keep at most this many messages per chat, dropping the oldest (default: all, like Telegram). */
  readonly maxMessagesPerChat?: number | undefined
  /** Private chats that never wrote to the bot answer 403 "can't initiate conversation" (default false). */
  readonly requireStart?: boolean | undefined
  /** Pause before a failed webhook delivery is tried again (default 100 millis). */
  readonly webhookRetryDelay?: Duration.Input | undefined
  /** Chats and people from an earlier `snapshot`, to go on where that emulator stopped. */
  readonly restore?: EmulatorSnapshot | undefined
}

/**
 * What a person would find again after a restart: every chat with its messages and reply keyboard, the people met, the
 * channels named by @username, and the highest update id handed out (a bot de-duplicates updates by id, so ids must
 * keep growing across restarts). Plain JSON.
 */
export interface EmulatorSnapshot {
  readonly version: 1
  readonly lastUpdateId: number
  readonly people: ReadonlyArray<Person>
  readonly usernames: ReadonlyArray<readonly [username: string, chatId: number]>
  readonly chats: ReadonlyArray<{
    readonly chat: Chat
    readonly nextMessageId: number
    readonly messages: ReadonlyArray<{ readonly message: Message; readonly byBot: boolean }>
    readonly replyKeyboard?: ReplyKeyboardMarkup | undefined
    readonly started: boolean
    readonly access: ChatAccess
  }>
}

export interface ApiCall {
  readonly method: string
  readonly body: Record<string, unknown>
  /** The request body exactly as sent (JSON); for form and multipart bodies, the decoded fields as JSON. */
  readonly raw: string
  /** The chat the request addresses (`chat_id`, or the presser's chat for answerCallbackQuery). */
  readonly chatId: number | string | undefined
  /** Milliseconds since the epoch on the emulator's clock. */
  readonly at: number
  readonly files: ReadonlyArray<RequestBody.UploadedFile>
}

export interface ScriptedResponse {
  readonly status: number
  readonly body: Record<string, unknown>
}

/** What an injected fault does to a matching request. */
export type Fault =
  | { readonly _tag: "Respond"; readonly status: number; readonly body: Record<string, unknown> }
  | { readonly _tag: "Delay"; readonly millis: number }
  | { readonly _tag: "Drop"; readonly afterApplying: boolean }

export const Faults = {
  /** An error answer: `{ ok: false, error_code, description }`. */
  status: (status: number, description: string): Fault => ({
    _tag: "Respond",
    status,
    body: { ok: false, error_code: status, description }
  }),
  /** 429 with `parameters.retry_after`, worded as Telegram does. */
  rateLimit: (retryAfterSeconds: number): Fault => ({
    _tag: "Respond",
    status: 429,
    body: {
      ok: false,
      error_code: 429,
      description: `Too Many Requests: retry after ${retryAfterSeconds}`,
      parameters: { retry_after: retryAfterSeconds }
    }
  }),
  /** Any answer, as given. */
  respond: (status: number, body: Record<string, unknown>): Fault => ({ _tag: "Respond", status, body }),
  /** Holds the request this long, then handles it normally. */
  delay: (duration: Duration.Input): Fault => ({ _tag: "Delay", millis: Duration.toMillis(Duration.fromInputUnsafe(duration)) }),
  /**
   * Destroys the connection without an answer. `afterApplying`: the request takes effect first (the message is
   * sent), only the answer is lost, as when a network fails on the way back.
   */
  drop: (options: { readonly afterApplying?: boolean } = {}): Fault => ({ _tag: "Drop", afterApplying: options.afterApplying ?? false })
} as const

export interface FaultTarget {
  /** Only requests addressing this chat. */
  readonly chatId?: number | string | undefined
  /** Only requests whose parameters satisfy this. */
  readonly when?: ((body: Record<string, unknown>) => boolean) | undefined
  /** How many matching requests it hits; until cleared when absent. */
  readonly times?: number | undefined
}

export interface InjectedFault {
  readonly remaining: () => number
  readonly clear: () => void
}

export type ChatAccess = "open" | "notStarted" | "blocked"

/** A change a person would see in a chat. */
export type ChatEvent =
  | { readonly _tag: "MessageSent"; readonly chatId: number; readonly message: Message; readonly method: string }
  | { readonly _tag: "MessageReceived"; readonly chatId: number; readonly message: Message }
  | { readonly _tag: "MessageEdited"; readonly chatId: number; readonly message: Message; readonly method: string }
  | { readonly _tag: "MessageDeleted"; readonly chatId: number; readonly messageId: number }
  | {
      readonly _tag: "CallbackAnswered"
      readonly chatId: number | undefined
      readonly callbackQueryId: string
      readonly text: string | undefined
      readonly showAlert: boolean
    }

/** Updates handed to the bot (getUpdates answer or webhook delivery): those delivered for the first time. */
export interface DeliveryEvent {
  readonly _tag: "UpdatesDelivered"
  readonly fresh: ReadonlyArray<number>
  /** Updates delivered before and still unconfirmed when the bot asked (after its offset confirmed what it could). */
  readonly unconfirmed: number
}

export type EmulatorEvent = ChatEvent | DeliveryEvent

export interface ChatView {
  readonly chatId: number
  /** The messages the chat shows, oldest first (the bot's and the person's). */
  readonly messages: ReadonlyArray<Message>
  /** The reply keyboard the person's client shows, if the bot set one. */
  readonly replyKeyboard: ReplyKeyboardMarkup | undefined
}

export interface EmulatorStats {
  readonly requests: Readonly<Record<string, number>>
  /** Answers by HTTP status (dropped connections under "dropped"). */
  readonly statuses: Readonly<Record<string, number>>
}

export class NoSuchMessage extends Data.TaggedClass("NoSuchMessage")<{ readonly chatId: number; readonly messageId: number }> {}
export class NoSuchButton extends Data.TaggedClass("NoSuchButton")<{ readonly messageId: number; readonly button: string }> {}

export class EmulatorError extends Data.TaggedError("EmulatorError")<{ readonly reason: NoSuchMessage | NoSuchButton }> {
  override get message(): string {
    return this.reason._tag === "NoSuchMessage"
      ? `no message ${this.reason.messageId} in chat ${this.reason.chatId}`
      : `no button "${this.reason.button}" on message ${this.reason.messageId}`
  }
}

export class BotApiEmulator extends Context.Service<
  BotApiEmulator,
  {
    /** Give this to grammY as `apiRoot` (or as TELEGRAM_API_ROOT). */
    readonly apiRoot: string
    readonly token: string
    readonly botInfo: UserFromGetMe

    // ---- updates ----
    /** Queues raw updates for getUpdates or the webhook (a long poll waiting for them answers at once). */
    readonly push: (...updates: ReadonlyArray<Update>) => void
    /** The offset the bot last confirmed: every update below it is gone for good, as on Telegram. */
    readonly confirmedOffset: () => number
    readonly pendingUpdates: () => number

    // ---- people ----
    /** `who` writes in their private chat with the bot: text (commands get their entity) or media. */
    readonly send: (who: Person, content: string | Content) => Effect.Effect<Update>
    /** `who` edits their own earlier message. */
    readonly edit: (who: Person, messageId: number, text: string) => Effect.Effect<Update, EmulatorError>
    /**
     * `who` presses a button on message `messageId` of chat `chatId`, named by its text or its callback data; the
     * press carries that message as the chat shows it now, keyboard included.
     */
    readonly press: (who: Person, chatId: number, messageId: number, button: string) => Effect.Effect<Update, EmulatorError>

    // ---- chats ----
    readonly chat: (chatId: number | string) => ChatView
    /** Puts a bot message into a chat as if sent earlier (history a scenario starts from); no request is recorded. */
    readonly seedMessage: (
      chatId: number | string,
      message: { readonly text: string; readonly parse_mode?: string; readonly reply_markup?: InlineKeyboardMarkup }
    ) => Message
    /** Whether the bot may write to a private chat: "notStarted" and "blocked" answer 403 as Telegram does. */
    readonly setChatAccess: (chatId: number, access: ChatAccess) => void
    /** Every event as it happens, synchronously; returns the unsubscribe. */
    readonly listen: (listener: (event: EmulatorEvent) => void) => () => void
    /** Chat changes as a stream (one subscription per run). */
    readonly changes: Stream.Stream<ChatEvent>
    /** The chats as they are now, for `EmulatorOptions.restore`. */
    readonly snapshot: () => EmulatorSnapshot

    // ---- recording ----
    readonly calls: ReadonlyArray<ApiCall>
    readonly callsTo: (method: string) => ReadonlyArray<ApiCall>
    /** Waits (real time) until some recorded call satisfies `predicate`, and returns it. */
    readonly waitForCall: (predicate: (call: ApiCall) => boolean) => Effect.Effect<ApiCall>
    /** Waits (real time) until `condition()` holds, re-checked after every request and every 20 ms. */
    readonly waitUntil: (condition: () => boolean) => Effect.Effect<void>
    readonly clearCalls: () => void
    readonly stats: () => EmulatorStats

    // ---- faults ----
    /** The next `times` (default 1) calls of `method` (matching `when`) get this response. */
    readonly script: (
      method: string,
      response: ScriptedResponse,
      options?: { readonly times?: number; readonly when?: (body: Record<string, unknown>) => boolean }
    ) => void
    /** Makes matching calls of `method` ("*" for any) fail with `fault`, `times` times or until cleared. */
    readonly fail: (method: string, fault: Fault, target?: FaultTarget) => InjectedFault
    readonly clearFaults: () => void
  }
>()("confessions/emulator/BotApiEmulator") {
  static readonly layer = (options: EmulatorOptions = {}): Layer.Layer<BotApiEmulator> =>
    Layer.effect(BotApiEmulator, make(options))
}

// ---- internals ------------------------------------------------------------------------------------------------

interface Queued {
  readonly id: number
  readonly type: string
  readonly json: string
  /** Handed to the bot at least once. */
  served: boolean
  /** Not of an allowed type: never delivered. */
  skipped: boolean
  /** Webhook: acknowledged with 2xx. */
  done: boolean
  inFlight: boolean
  retryAt: number
}

interface Stored {
  message: Message
  readonly byBot: boolean
}

interface ChatRecord {
  readonly id: number
  chat: Chat
  nextMessageId: number
  readonly messages: Map<number, Stored>
  replyKeyboard: ReplyKeyboardMarkup | undefined
  started: boolean
  access: ChatAccess
}

interface ActiveFault {
  readonly method: string
  readonly fault: Fault
  readonly chatId: number | string | undefined
  readonly when: ((body: Record<string, unknown>) => boolean) | undefined
  remaining: number
}

interface Webhook {
  readonly url: string
  readonly secret: string | undefined
  readonly maxConnections: number
  lastErrorDate: number | undefined
  lastErrorMessage: string | undefined
}

type Respond = (status: number, json: string) => void

const defaultAllowed = new Set([
  "message",
  "edited_message",
  "channel_post",
  "edited_channel_post",
  "business_connection",
  "business_message",
  "edited_business_message",
  "deleted_business_messages",
  "inline_query",
  "chosen_inline_result",
  "callback_query",
  "shipping_query",
  "pre_checkout_query",
  "purchased_paid_media",
  "poll",
  "poll_answer",
  "my_chat_member",
  "chat_join_request",
  "chat_boost",
  "removed_chat_boost"
])

const methodNames = [
  "getMe",
  "logOut",
  "close",
  "getUpdates",
  "setWebhook",
  "deleteWebhook",
  "getWebhookInfo",
  "sendMessage",
  "sendPhoto",
  "sendVoice",
  "sendDocument",
  "editMessageText",
  "editMessageCaption",
  "editMessageReplyMarkup",
  "deleteMessage",
  "answerCallbackQuery",
  "setMyCommands",
  "getMyCommands",
  "deleteMyCommands",
  "sendChatAction"
]
/** Telegram matches method names case-insensitively. */
const canonicalMethod = new Map(methodNames.map((name) => [name.toLowerCase(), name]))

const okTrue = `{"ok":true,"result":true}`
const notFound = `{"ok":false,"error_code":404,"description":"Not Found"}`
const notModified =
  "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

const errorJson = (status: number, description: string) =>
  JSON.stringify({ ok: false, error_code: status, description })
const okJson = (result: unknown) => `{"ok":true,"result":${JSON.stringify(result)}}`

const make = (options: EmulatorOptions) =>
  Effect.gen(function* () {
    const clock = yield* Effect.clockWith(Effect.succeed)
    const now = () => clock.currentTimeMillisUnsafe()
    const unixNow = () => Math.floor(now() / 1000)
    const apiToken = options.token ?? token
    const bot = options.bot ?? botInfo
    const botUser: User = {
      id: bot.id,
      is_bot: true,
      first_name: bot.first_name,
      ...(bot.username !== undefined ? { username: bot.username } : {})
    }
    const getMeJson = okJson(bot)
    const record = options.record ?? true
    const longPollCap = options.longPollCap === undefined ? Infinity : Duration.toMillis(Duration.fromInputUnsafe(options.longPollCap))
    const maxMessages = options.maxMessagesPerChat ?? Infinity
    const retryDelay = Duration.toMillis(Duration.fromInputUnsafe(options.webhookRetryDelay ?? "100 millis"))

    const calls: Array<ApiCall> = []
    const requestCounts: Record<string, number> = {}
    const statusCounts: Record<string, number> = {}
    const faults: Array<ActiveFault> = []
    const listeners = new Set<(event: EmulatorEvent) => void>()
    const watchers = new Set<() => void>()
    const timers = new Set<NodeJS.Timeout>()
    const deliveries = new Set<AbortController>()
    let closed = false

    // ---- events and waiting --------------------------------------------------------------------------------------

    // While a request is being handled its events wait, so that listeners (the benchmark's virtual users, who
    // answer with their next update) run after the bot's answer went out, not inside its round trip.
    let deferring = false
    const deferred: Array<() => EmulatorEvent> = []
    const emit = (make: () => EmulatorEvent) => {
      if (listeners.size === 0) return
      if (deferring) {
        deferred.push(make)
        return
      }
      const event = make()
      for (const listener of [...listeners]) listener(event)
    }
    const flushEvents = () => {
      deferring = false
      for (const make of deferred.splice(0)) emit(make)
    }
    const notify = () => {
      if (watchers.size === 0) return
      for (const watcher of [...watchers]) watcher()
    }
    const later = (millis: number, run: () => void) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        run()
      }, millis)
      timers.add(timer)
      return timer
    }
    const cancel = (timer: NodeJS.Timeout) => {
      clearTimeout(timer)
      timers.delete(timer)
    }

    // ---- chats ---------------------------------------------------------------------------------------------------

    const chats = new Map<number, ChatRecord>()
    const usernames = new Map<string, number>()
    const people = new Map<number, Person>()

    /** A chat id as Telegram reads it: a number, a numeric string, or an @username (of a channel). */
    const chatIdOf = (value: unknown): number | undefined => {
      if (typeof value === "number" && Number.isSafeInteger(value) && value !== 0) return value
      if (typeof value !== "string") return undefined
      if (/^-?\d+$/.test(value)) return chatIdOf(Number(value))
      if (!/^@[A-Za-z0-9_]{4,32}$/.test(value)) return undefined
      const name = value.slice(1).toLowerCase()
      const known = usernames.get(name)
      if (known !== undefined) return known
      const id = -1_000_000_000_000 - (usernames.size + 1)
      usernames.set(name, id)
      chats.set(id, newChat(id, { id, type: "channel", title: value.slice(1), username: value.slice(1) }))
      return id
    }

    const chatObjectOf = (id: number): Chat => {
      if (id > 0) {
        const who = people.get(id)
        return who === undefined ? { id, type: "private", first_name: "User" } : privateChatOf(who)
      }
      return id <= -1_000_000_000_000 ? { id, type: "channel", title: "Channel" } : { id, type: "group", title: "Group" }
    }

    const newChat = (id: number, chat: Chat): ChatRecord => ({
      id,
      chat,
      nextMessageId: 1,
      messages: new Map(),
      replyKeyboard: undefined,
      started: false,
      access: "open"
    })

    const chatRecord = (id: number): ChatRecord => {
      const existing = chats.get(id)
      if (existing !== undefined) return existing
      const created = newChat(id, chatObjectOf(id))
      chats.set(id, created)
      return created
    }

    const meet = (who: User | Person) => {
      const known = people.get(who.id)
      if (known === undefined || known.first_name !== who.first_name || known.username !== who.username) {
        const p: Person = {
          id: who.id,
          first_name: who.first_name,
          ...(who.last_name !== undefined ? { last_name: who.last_name } : {}),
          ...(who.username !== undefined ? { username: who.username } : {})
        }
        people.set(who.id, p)
        const chat = chats.get(who.id)
        if (chat !== undefined) chat.chat = privateChatOf(p)
      }
      const chat = chatRecord(who.id)
      chat.started = true
    }

    if (options.restore !== undefined) {
      const saved = options.restore
      observeUpdateId(saved.lastUpdateId)
      for (const p of saved.people) people.set(p.id, p)
      for (const [name, id] of saved.usernames) usernames.set(name, id)
      for (const entry of saved.chats) {
        const chat = newChat(entry.chat.id, entry.chat)
        chat.nextMessageId = entry.nextMessageId
        for (const stored of entry.messages) chat.messages.set(stored.message.message_id, { ...stored })
        chat.replyKeyboard = entry.replyKeyboard
        chat.started = entry.started
        chat.access = entry.access
        chats.set(chat.id, chat)
      }
    }

    const snapshot = (): EmulatorSnapshot => ({
      version: 1,
      lastUpdateId: lastUpdateId(),
      people: [...people.values()],
      usernames: [...usernames.entries()],
      chats: [...chats.values()].map((chat) => ({
        chat: chat.chat,
        nextMessageId: chat.nextMessageId,
        messages: [...chat.messages.values()].map((stored) => ({ message: stored.message, byBot: stored.byBot })),
        ...(chat.replyKeyboard !== undefined ? { replyKeyboard: chat.replyKeyboard } : {}),
        started: chat.started,
        access: chat.access
      }))
    })

    const store = (chat: ChatRecord, message: Message, byBot: boolean) => {
      chat.messages.set(message.message_id, { message, byBot })
      if (message.message_id >= chat.nextMessageId) chat.nextMessageId = message.message_id + 1
      if (chat.messages.size > maxMessages) {
        const oldest = chat.messages.keys().next()
        if (oldest.done !== true) chat.messages.delete(oldest.value)
      }
    }

    // ---- the update queue ------------------------------------------------------------------------------------------

    let queue: Array<Queued> = []
    let head = 0
    let confirmed = 0
    let unconfirmed = 0
    let allowed: ReadonlySet<string> = defaultAllowed
    let waiter:
      | { readonly respond: Respond; readonly limit: number; readonly pending: number; readonly timer: NodeJS.Timeout | undefined }
      | undefined
    let flushScheduled = false
    let webhook: Webhook | undefined
    const callbacks = new Map<string, number>()

    const enqueue = (update: Update) => {
      observeUpdateId(update.update_id)
      if (update.update_id < confirmed) return
      const type = Object.keys(update).find((key) => key !== "update_id") ?? "unknown"
      const item: Queued = {
        id: update.update_id,
        type,
        json: JSON.stringify(update),
        served: false,
        skipped: false,
        done: false,
        inFlight: false,
        retryAt: 0
      }
      const last = queue.at(-1)
      if (last === undefined || queue.length === head || last.id <= item.id) queue.push(item)
      else {
        let at = queue.length
        while (at > head && (queue[at - 1] as Queued).id > item.id) at--
        queue.splice(at, 0, item)
      }
      // Raw updates may be deliberately malformed (tests of hostile input): every field is read defensively here.
      const query: Partial<NonNullable<Update["callback_query"]>> | undefined = update.callback_query
      if (query !== undefined) {
        const chatId = query.message?.chat?.id ?? query.from?.id
        if (query.id !== undefined && chatId !== undefined) callbacks.set(query.id, chatId)
        if (query.from !== undefined) meet(query.from)
        // A press names a message of the chat: a raw update's stand-in becomes that message if the chat lacks it.
        const pressed = query.message
        if (pressed !== undefined && pressed.chat !== undefined && "date" in pressed && pressed.date !== 0) {
          const chat = chatRecord(pressed.chat.id)
          if (!chat.messages.has(pressed.message_id)) store(chat, pressed as Message, true)
        }
      }
      const from = update.message?.from ?? update.edited_message?.from
      const chatType = update.message?.chat?.type
      if (from !== undefined && chatType !== "group" && chatType !== "supergroup") meet(from)
    }

    const confirm = (offset: unknown) => {
      if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset === 0) return
      if (offset < 0) {
        const keep = -offset
        const live = queue.length - head
        for (let i = 0; i < live - keep; i++) drop(queue[head++] as Queued)
        confirmed = queue[head]?.id ?? confirmed
      } else {
        while (head < queue.length && (queue[head] as Queued).id < offset) drop(queue[head++] as Queued)
        if (offset > confirmed) confirmed = offset
      }
      compact()
    }
    const drop = (item: Queued) => {
      if (item.served && !item.done) unconfirmed--
    }
    const compact = () => {
      if (head > 1024 && head * 2 > queue.length) {
        queue = queue.slice(head)
        head = 0
      }
    }

    /** The next `limit` deliverable updates as one getUpdates answer; `pending` = delivered-but-unconfirmed when asked. */
    const collect = (limit: number, pending: number) => {
      const parts: Array<string> = []
      const fresh: Array<number> = []
      for (let i = head; i < queue.length && parts.length < limit; i++) {
        const item = queue[i] as Queued
        if (item.skipped) continue
        if (!allowed.has(item.type)) {
          item.skipped = true
          continue
        }
        parts.push(item.json)
        if (!item.served) {
          item.served = true
          unconfirmed++
          fresh.push(item.id)
        }
      }
      emit(() => ({ _tag: "UpdatesDelivered", fresh, unconfirmed: pending }))
      return `{"ok":true,"result":[${parts.join(",")}]}`
    }

    const hasReady = () => {
      for (let i = head; i < queue.length; i++) {
        const item = queue[i] as Queued
        if (!item.skipped && allowed.has(item.type)) return true
      }
      return false
    }

    const wake = () => {
      if (webhook !== undefined) return pump()
      if (flushScheduled || waiter === undefined) return
      flushScheduled = true
      // Updates pushed in the same turn of the event loop travel in one answer, as Telegram batches them.
      setImmediate(() => {
        flushScheduled = false
        const current = waiter
        if (current === undefined || !hasReady()) return
        waiter = undefined
        if (current.timer !== undefined) cancel(current.timer)
        current.respond(200, collect(current.limit, current.pending))
      })
    }

    const push = (...updates: ReadonlyArray<Update>) => {
      for (const update of updates) enqueue(update)
      wake()
      notify()
    }

    const setAllowed = (value: unknown) => {
      if (!Array.isArray(value)) return
      allowed = value.length === 0 ? defaultAllowed : new Set(value.filter((v): v is string => typeof v === "string"))
    }

    const getUpdates = (body: Record<string, unknown>, respond: Respond, res: ServerResponse | undefined) => {
      if (webhook !== undefined) {
        return respond(
          409,
          errorJson(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
        )
      }
      confirm(body.offset)
      setAllowed(body.allowed_updates)
      const limit = typeof body.limit === "number" ? Math.min(100, Math.max(1, Math.floor(body.limit))) : 100
      const timeoutMs = Math.min(typeof body.timeout === "number" && body.timeout > 0 ? body.timeout * 1000 : 0, longPollCap)
      if (waiter !== undefined) {
        const older = waiter
        waiter = undefined
        if (older.timer !== undefined) cancel(older.timer)
        older.respond(409, errorJson(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"))
      }
      const pending = unconfirmed
      if (timeoutMs <= 0 || closed || hasReady()) return respond(200, collect(limit, pending))
      const timer = later(timeoutMs, () => {
        if (waiter?.respond === respond) waiter = undefined
        respond(200, collect(limit, pending))
      })
      waiter = { respond, limit, pending, timer }
      res?.on("close", () => {
        if (waiter?.respond === respond) {
          cancel(timer)
          waiter = undefined
        }
      })
    }

    // ---- webhook -----------------------------------------------------------------------------------------------------

    const pendingCount = () => {
      let count = 0
      for (let i = head; i < queue.length; i++) {
        const item = queue[i] as Queued
        if (!item.skipped && !item.done && allowed.has(item.type)) count++
      }
      return count
    }

    const pump = () => {
      const hook = webhook
      if (hook === undefined || closed) return
      let inFlight = 0
      for (let i = head; i < queue.length; i++) if ((queue[i] as Queued).inFlight) inFlight++
      const at = now()
      let nextRetry = Infinity
      for (let i = head; i < queue.length && inFlight < hook.maxConnections; i++) {
        const item = queue[i] as Queued
        if (item.done || item.inFlight || item.skipped) continue
        if (!allowed.has(item.type)) {
          item.skipped = true
          continue
        }
        if (item.retryAt > at) {
          nextRetry = Math.min(nextRetry, item.retryAt)
          continue
        }
        inFlight++
        deliver(hook, item)
      }
      if (nextRetry < Infinity) later(Math.max(1, nextRetry - at), pump)
    }

    const deliver = (hook: Webhook, item: Queued) => {
      item.inFlight = true
      const fresh = !item.served
      const pending = unconfirmed
      if (fresh) {
        item.served = true
        unconfirmed++
      }
      emit(() => ({ _tag: "UpdatesDelivered", fresh: fresh ? [item.id] : [], unconfirmed: pending }))
      const abort = new AbortController()
      deliveries.add(abort)
      const failed = (message: string) => {
        item.retryAt = now() + retryDelay
        hook.lastErrorDate = unixNow()
        hook.lastErrorMessage = message
      }
      fetch(hook.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(hook.secret !== undefined ? { "x-telegram-bot-api-secret-token": hook.secret } : {})
        },
        body: item.json,
        signal: abort.signal
      }).then(
        async (response) => {
          await response.arrayBuffer().catch(() => undefined)
          if (response.status >= 200 && response.status < 300) {
            item.done = true
            unconfirmed--
            while (head < queue.length && ((queue[head] as Queued).done || (queue[head] as Queued).skipped)) head++
            confirmed = Math.max(confirmed, item.id + 1)
            compact()
          } else failed(`Wrong response from the webhook: ${response.status} ${response.statusText}`)
        },
        (cause: unknown) => failed(cause instanceof Error ? cause.message : String(cause))
      ).finally(() => {
        item.inFlight = false
        deliveries.delete(abort)
        if (!closed) {
          pump()
          notify()
        }
      })
    }

    const setWebhook = (body: Record<string, unknown>): [number, string] => {
      const url = typeof body.url === "string" ? body.url : ""
      if (body.drop_pending_updates === true) dropPending()
      setAllowed(body.allowed_updates)
      if (url.length === 0) return deleteWebhook({})
      if (!/^https?:\/\/[^\s/]+/.test(url)) return [400, errorJson(400, "Bad Request: bad webhook: Failed to resolve host: Name or service not known")]
      const secret = typeof body.secret_token === "string" ? body.secret_token : undefined
      if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) {
        return [400, errorJson(400, "Bad Request: secret token contains unallowed characters")]
      }
      const maxConnections = typeof body.max_connections === "number" ? Math.min(100, Math.max(1, body.max_connections)) : 40
      webhook = { url, secret, maxConnections, lastErrorDate: undefined, lastErrorMessage: undefined }
      if (waiter !== undefined) {
        const current = waiter
        waiter = undefined
        if (current.timer !== undefined) cancel(current.timer)
        current.respond(200, `{"ok":true,"result":[]}`)
      }
      pump()
      return [200, `{"ok":true,"result":true,"description":"Webhook was set"}`]
    }

    const deleteWebhook = (body: Record<string, unknown>): [number, string] => {
      if (body.drop_pending_updates === true) dropPending()
      const had = webhook !== undefined
      webhook = undefined
      return [200, `{"ok":true,"result":true,"description":"${had ? "Webhook was deleted" : "Webhook is already deleted"}"}`]
    }

    const dropPending = () => {
      for (let i = head; i < queue.length; i++) drop(queue[i] as Queued)
      confirmed = Math.max(confirmed, (queue.at(-1)?.id ?? confirmed - 1) + 1)
      queue = []
      head = 0
    }

    const webhookInfo = () => ({
      url: webhook?.url ?? "",
      has_custom_certificate: false,
      pending_update_count: pendingCount(),
      ...(webhook !== undefined ? { max_connections: webhook.maxConnections } : {}),
      ...(webhook?.lastErrorDate !== undefined ? { last_error_date: webhook.lastErrorDate } : {}),
      ...(webhook?.lastErrorMessage !== undefined ? { last_error_message: webhook.lastErrorMessage } : {}),
      ...(allowed !== defaultAllowed ? { allowed_updates: [...allowed] } : {})
    })

    // ---- messages ----------------------------------------------------------------------------------------------------

    type Outcome = readonly [number, string]
    const bad = (description: string): Outcome => [400, errorJson(400, `Bad Request: ${description}`)]

    /** Text or caption under its parse mode: the plain text and entities Telegram would store. */
    const formatted = (
      value: unknown,
      parseMode: unknown,
      entities: unknown
    ): { readonly text: string; readonly entities: ReadonlyArray<MessageEntity> } | string => {
      const source = typeof value === "string" ? value : ""
      if (parseMode === "HTML") {
        const parsed = TelegramHtml.parse(source)
        return parsed._tag === "Invalid" ? parsed.description : { text: parsed.text, entities: parsed.entities }
      }
      if (parseMode !== undefined && parseMode !== "MarkdownV2" && parseMode !== "Markdown") {
        return `unsupported parse_mode`
      }
      return { text: source, entities: Array.isArray(entities) ? (entities as Array<MessageEntity>) : [] }
    }

    const markupOf = (value: unknown): { readonly inline?: InlineKeyboardMarkup; readonly reply?: ReplyKeyboardMarkup | "remove" } | string => {
      const markup = typeof value === "string" ? RequestBody.parse("application/json", Buffer.from(value), "") : undefined
      const object =
        markup === undefined ? value : markup._tag === "Parsed" ? markup.parameters.body : undefined
      if (object === undefined || object === null) return {}
      if (typeof object !== "object") return "can't parse reply keyboard markup JSON object"
      const record = object as Record<string, unknown>
      if (Array.isArray(record.inline_keyboard)) {
        for (const row of record.inline_keyboard) {
          if (!Array.isArray(row)) return "field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays"
          for (const button of row as Array<Record<string, unknown>>) {
            if (typeof button?.text !== "string" || button.text.length === 0) return "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
            const data = button.callback_data
            // 21 UTF-16 units are at most 63 UTF-8 bytes: only longer data needs counting.
            if (data !== undefined && (typeof data !== "string" || data.length === 0 || (data.length > 21 && Buffer.byteLength(data) > 64))) {
              return "BUTTON_DATA_INVALID"
            }
            const url = button.url
            if (url !== undefined && (typeof url !== "string" || !/^(https?|tg):\/\/\S+$/i.test(url))) return "BUTTON_URL_INVALID"
            if (data === undefined && url === undefined && Object.keys(button).length === 1) {
              return "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
            }
          }
        }
        return { inline: object as InlineKeyboardMarkup }
      }
      if (Array.isArray(record.keyboard)) return { reply: object as ReplyKeyboardMarkup }
      if (record.remove_keyboard === true) return { reply: "remove" }
      return {}
    }

    /** 403 when a person cannot be written to; undefined when the chat is open. */
    const forbidden = (chatId: number): Outcome | undefined => {
      if (chatId <= 0) return undefined
      const chat = chats.get(chatId)
      const access = chat?.access ?? "open"
      if (access === "blocked") return [403, errorJson(403, "Forbidden: bot was blocked by the user")]
      if (access === "notStarted" || (options.requireStart === true && chat?.started !== true)) {
        return [403, errorJson(403, "Forbidden: bot can't initiate conversation with a user")]
      }
      return undefined
    }

    const targetOf = (body: Record<string, unknown>): number | Outcome => {
      if (body.chat_id === undefined || body.chat_id === "") return bad("chat_id is empty")
      const chatId = chatIdOf(body.chat_id)
      return chatId === undefined ? bad("chat not found") : chatId
    }

    const mediaOf = (method: string, body: Record<string, unknown>, files: ReadonlyArray<RequestBody.UploadedFile>, key: string) => {
      const field = method === "sendPhoto" ? "photo" : method === "sendVoice" ? "voice" : "document"
      const given = body[field]
      const upload = files.find((file) => file.field === field)
      const fileId = typeof given === "string" && !given.startsWith("attach://") && !/^https?:\/\//.test(given) ? given : `${field}-${key}`
      const unique = `u${key}`
      switch (field) {
        case "photo":
          return { photo: [{ file_id: fileId, file_unique_id: unique, width: 800, height: 800, file_size: upload?.size ?? 64_000 }] }
        case "voice":
          return { voice: { file_id: fileId, file_unique_id: unique, duration: typeof body.duration === "number" ? body.duration : 1, file_size: upload?.size ?? 9_000 } }
        default:
          return {
            document: {
              file_id: fileId,
              file_unique_id: unique,
              file_name: upload?.fileName ?? (typeof given === "string" && /^https?:\/\//.test(given) ? given.split("/").pop() ?? "file" : "file"),
              file_size: upload?.size ?? 20_000
            }
          }
      }
    }

    const send = (method: string, body: Record<string, unknown>, files: ReadonlyArray<RequestBody.UploadedFile>): Outcome => {
      const target = targetOf(body)
      if (typeof target !== "number") return target
      const refused = forbidden(target)
      if (refused !== undefined) return refused
      const isText = method === "sendMessage"
      if (isText && (typeof body.text !== "string" || body.text.trim().length === 0)) return bad("message text is empty")
      const content = isText
        ? formatted(body.text, body.parse_mode, body.entities)
        : formatted(body.caption, body.parse_mode, body.caption_entities)
      if (typeof content === "string") return bad(content)
      if (isText && content.text.trim().length === 0) return bad("message text is empty")
      if (isText && content.text.length > 4096) return bad("message is too long")
      if (!isText && content.text.length > 1024) return bad("message caption is too long")
      if (!isText && body[method === "sendPhoto" ? "photo" : method === "sendVoice" ? "voice" : "document"] === undefined) {
        return bad(`there is no ${method === "sendPhoto" ? "photo" : method === "sendVoice" ? "voice" : "document"} in the request`)
      }
      const markup = markupOf(body.reply_markup)
      if (typeof markup === "string") return bad(markup)
      const chat = chatRecord(target)
      const messageId = chat.nextMessageId
      const message = {
        message_id: messageId,
        ...(chat.chat.type === "channel" ? { sender_chat: chat.chat } : { from: botUser }),
        chat: chat.chat,
        date: unixNow(),
        ...(isText
          ? { text: content.text, ...(content.entities.length > 0 ? { entities: content.entities } : {}) }
          : {
              ...mediaOf(method, body, files, `${target}-${messageId}`),
              ...(content.text.length > 0
                ? { caption: content.text, ...(content.entities.length > 0 ? { caption_entities: content.entities } : {}) }
                : {})
            }),
        ...(markup.inline !== undefined ? { reply_markup: markup.inline } : {})
      } as Message
      store(chat, message, true)
      if (markup.reply !== undefined) chat.replyKeyboard = markup.reply === "remove" ? undefined : markup.reply
      emit(() => ({ _tag: "MessageSent", chatId: target, message, method }))
      return [200, okJson(message)]
    }

    const existing = (body: Record<string, unknown>, missing: string): { readonly chat: ChatRecord; readonly stored: Stored } | Outcome => {
      if (body.inline_message_id !== undefined) return bad("inline messages are not supported by the emulator")
      const target = targetOf(body)
      if (typeof target !== "number") return target
      const messageId = body.message_id
      if (typeof messageId !== "number") return bad("message identifier is not specified")
      const chat = chats.get(target)
      const stored = chat?.messages.get(messageId)
      if (chat === undefined || stored === undefined) return bad(missing)
      return { chat, stored }
    }

    const edit = (method: string, body: Record<string, unknown>): Outcome => {
      const found = existing(body, "message to edit not found")
      if (Array.isArray(found)) return found as Outcome
      const { chat, stored } = found as { readonly chat: ChatRecord; readonly stored: Stored }
      if (!stored.byBot) return bad("message can't be edited")
      const old = stored.message as Message & Record<string, unknown>
      const markup = markupOf(body.reply_markup)
      if (typeof markup === "string") return bad(markup)
      const inline = markup.inline
      let next: Record<string, unknown> = { ...old }
      if (method === "editMessageText") {
        if (typeof old.text !== "string") return bad("there is no text in the message to edit")
        if (typeof body.text !== "string" || body.text.trim().length === 0) return bad("message text is empty")
        const content = formatted(body.text, body.parse_mode, body.entities)
        if (typeof content === "string") return bad(content)
        if (content.text.length > 4096) return bad("message is too long")
        next = { ...next, text: content.text, entities: content.entities.length > 0 ? content.entities : undefined }
      } else if (method === "editMessageCaption") {
        if (old.text !== undefined) return bad("there is no caption in the message to edit")
        const content = formatted(body.caption, body.parse_mode, body.caption_entities)
        if (typeof content === "string") return bad(content)
        if (content.text.length > 1024) return bad("message caption is too long")
        next = {
          ...next,
          caption: content.text.length > 0 ? content.text : undefined,
          caption_entities: content.entities.length > 0 ? content.entities : undefined
        }
      }
      // Telegram keeps no keyboard that the edit does not repeat.
      next.reply_markup = inline
      const unchanged =
        next.text === old.text &&
        next.caption === old.caption &&
        sameJson(next.entities, old.entities) &&
        sameJson(next.caption_entities, old.caption_entities) &&
        sameJson(inline, old.reply_markup)
      if (unchanged) return bad(notModified)
      next.edit_date = unixNow()
      const message = withoutUndefined(next) as unknown as Message
      stored.message = message
      emit(() => ({ _tag: "MessageEdited", chatId: chat.id, message, method }))
      return [200, okJson(message)]
    }

    const deleteMessage = (body: Record<string, unknown>): Outcome => {
      const found = existing(body, "message to delete not found")
      if (Array.isArray(found)) return found as Outcome
      const { chat, stored } = found as { readonly chat: ChatRecord; readonly stored: Stored }
      chat.messages.delete(stored.message.message_id)
      emit(() => ({ _tag: "MessageDeleted", chatId: chat.id, messageId: stored.message.message_id }))
      return [200, okTrue]
    }

    const answerCallbackQuery = (body: Record<string, unknown>): Outcome => {
      const id = typeof body.callback_query_id === "string" ? body.callback_query_id : ""
      if (!callbacks.has(id)) return bad("query is too old and response timeout expired or query ID is invalid")
      if (typeof body.text === "string" && body.text.length > 200) return bad("MESSAGE_TOO_LONG")
      emit(() => ({
        _tag: "CallbackAnswered",
        chatId: callbacks.get(id),
        callbackQueryId: id,
        text: typeof body.text === "string" ? body.text : undefined,
        showAlert: body.show_alert === true
      }))
      return [200, okTrue]
    }

    let commands: ReadonlyArray<BotCommand> = []
    const setMyCommands = (body: Record<string, unknown>): Outcome => {
      const list = body.commands
      if (!Array.isArray(list) || list.length > 100) return bad("commands must be an array of at most 100 BotCommand")
      for (const entry of list as Array<Record<string, unknown>>) {
        if (typeof entry?.command !== "string" || !/^[a-z0-9_]{1,32}$/.test(entry.command)) return bad("BOT_COMMAND_INVALID")
        if (typeof entry.description !== "string" || entry.description.length === 0 || entry.description.length > 256) {
          return bad("command description is empty or too long")
        }
      }
      commands = list as Array<BotCommand>
      return [200, okTrue]
    }

    // ---- requests ----------------------------------------------------------------------------------------------------

    const handle = (call: ApiCall, respond: Respond, res: ServerResponse | undefined) => {
      const answer = (outcome: Outcome) => respond(outcome[0], outcome[1])
      const body = call.body
      switch (call.method) {
        case "getMe":
          return respond(200, getMeJson)
        case "getUpdates":
          return getUpdates(body, respond, res)
        case "setWebhook":
          return answer(setWebhook(body))
        case "deleteWebhook":
          return answer(deleteWebhook(body))
        case "getWebhookInfo":
          return respond(200, okJson(webhookInfo()))
        case "sendMessage":
        case "sendPhoto":
        case "sendVoice":
        case "sendDocument":
          return answer(send(call.method, body, call.files))
        case "editMessageText":
        case "editMessageCaption":
        case "editMessageReplyMarkup":
          return answer(edit(call.method, body))
        case "deleteMessage":
          return answer(deleteMessage(body))
        case "answerCallbackQuery":
          return answer(answerCallbackQuery(body))
        case "setMyCommands":
          return answer(setMyCommands(body))
        case "getMyCommands":
          return respond(200, okJson(commands))
        case "deleteMyCommands":
          commands = []
          return respond(200, okTrue)
        case "logOut":
        case "close":
        case "sendChatAction":
          return respond(200, okTrue)
        default:
          return respond(404, notFound)
      }
    }

    const faultFor = (call: ApiCall): Fault | undefined => {
      if (faults.length === 0) return undefined
      for (const entry of faults) {
        if (entry.remaining <= 0) continue
        if (entry.method !== "*" && entry.method !== call.method) continue
        if (entry.chatId !== undefined && chatIdOf(entry.chatId) !== chatIdOf(call.chatId)) continue
        if (entry.when !== undefined && !entry.when(call.body)) continue
        entry.remaining--
        return entry.fault
      }
      return undefined
    }

    const reply = (res: ServerResponse, status: number, json: string) => {
      statusCounts[status] = (statusCounts[status] ?? 0) + 1
      if (res.writableEnded || res.destroyed) return
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json) }).end(json)
    }

    const onRequest = (req: IncomingMessage, res: ServerResponse, data: Buffer) => {
      const url = req.url ?? ""
      const q = url.indexOf("?")
      const path = q < 0 ? url : url.slice(0, q)
      const match = /^\/bot([^/]+)\/([A-Za-z0-9_]+)\/?$/.exec(path)
      if (match === null) return reply(res, 404, notFound)
      if (match[1] !== apiToken) return reply(res, 401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
      const given = match[2] ?? ""
      const method = canonicalMethod.get(given.toLowerCase()) ?? given
      const parsed = RequestBody.parse(req.headers["content-type"], data, q < 0 ? "" : url.slice(q + 1))
      if (parsed._tag === "Invalid") return reply(res, 400, errorJson(400, parsed.description))
      const { body, raw, files } = parsed.parameters
      const callbackChat = method === "answerCallbackQuery" ? callbacks.get(String(body.callback_query_id)) : undefined
      const chatId = callbackChat ?? (typeof body.chat_id === "number" || typeof body.chat_id === "string" ? body.chat_id : undefined)
      const call: ApiCall = { method, body, raw, chatId, at: now(), files }
      requestCounts[method] = (requestCounts[method] ?? 0) + 1
      if (record) calls.push(call)
      const respond: Respond = (status, json) => reply(res, status, json)
      const fault = faultFor(call)
      deferring = true
      if (fault === undefined) handle(call, respond, res)
      else if (fault._tag === "Respond") respond(fault.status, JSON.stringify(fault.body))
      else if (fault._tag === "Delay") {
        later(fault.millis, () => {
          deferring = true
          handle(call, respond, res)
          flushEvents()
          notify()
        })
      }
      else {
        const cut = () => {
          statusCounts.dropped = (statusCounts.dropped ?? 0) + 1
          res.socket?.destroy()
        }
        if (fault.afterApplying) handle(call, cut, undefined)
        else cut()
      }
      flushEvents()
      notify()
    }

    const server = yield* Effect.acquireRelease(
      Effect.callback<Server>((resume) => {
        const srv = createServer((req, res) => {
          const chunks: Array<Buffer> = []
          req.on("data", (chunk: Buffer) => chunks.push(chunk))
          req.on("end", () => onRequest(req, res, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)))
        })
        srv.keepAliveTimeout = 60_000
        srv.headersTimeout = 65_000
        srv.listen(options.port ?? 0, "127.0.0.1", () => resume(Effect.succeed(srv)))
      }),
      (srv) =>
        Effect.callback<void>((resume) => {
          closed = true
          for (const timer of timers) clearTimeout(timer)
          timers.clear()
          for (const abort of deliveries) abort.abort()
          const current = waiter
          waiter = undefined
          current?.respond(200, `{"ok":true,"result":[]}`)
          srv.closeAllConnections()
          srv.close(() => resume(Effect.void))
        })
    )
    const port = (server.address() as AddressInfo).port

    // ---- the service -------------------------------------------------------------------------------------------------

    const waitUntil = (condition: () => boolean): Effect.Effect<void> =>
      Effect.gen(function* () {
        if (condition()) return
        const done = yield* Deferred.make<void>()
        const check = () => {
          if (condition()) Deferred.doneUnsafe(done, Effect.void)
        }
        watchers.add(check)
        // Conditions may also change without a request (a database row, say): re-check on a short real interval.
        const interval = setInterval(check, 20)
        yield* Deferred.await(done).pipe(
          Effect.ensuring(
            Effect.sync(() => {
              watchers.delete(check)
              clearInterval(interval)
            })
          )
        )
      })

    const addFault = (method: string, fault: Fault, target: FaultTarget = {}): InjectedFault => {
      const entry: ActiveFault = {
        method: canonicalMethod.get(method.toLowerCase()) ?? method,
        fault,
        chatId: target.chatId,
        when: target.when,
        remaining: target.times ?? Infinity
      }
      faults.push(entry)
      return {
        remaining: () => entry.remaining,
        clear: () => {
          entry.remaining = 0
          const at = faults.indexOf(entry)
          if (at >= 0) faults.splice(at, 1)
        }
      }
    }

    const listen = (listener: (event: EmulatorEvent) => void) => {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    }

    const findButton = (message: Message, button: string): string | undefined => {
      for (const row of message.reply_markup?.inline_keyboard ?? []) {
        for (const key of row) {
          if (!("callback_data" in key) || key.callback_data === undefined) continue
          if (key.text === button || key.callback_data === button) return key.callback_data
        }
      }
      return undefined
    }

    return BotApiEmulator.of({
      apiRoot: `http://127.0.0.1:${port}`,
      token: apiToken,
      botInfo: bot,
      push,
      confirmedOffset: () => confirmed,
      pendingUpdates: pendingCount,
      send: Effect.fn("BotApiEmulator.send")(function* (who: Person, content: string | Content) {
        meet(who)
        const chat = chatRecord(who.id)
        const message = messageOf(who, typeof content === "string" ? { kind: "text", text: content } : content, {
          messageId: chat.nextMessageId,
          date: unixNow()
        })
        store(chat, message, false)
        emit(() => ({ _tag: "MessageReceived", chatId: who.id, message }))
        const update: Update = { update_id: nextUpdateId(), message }
        push(update)
        return update
      }),
      edit: Effect.fn("BotApiEmulator.edit")(function* (who: Person, messageId: number, text: string) {
        const stored = chatRecord(who.id).messages.get(messageId)
        if (stored === undefined || stored.byBot) {
          return yield* new EmulatorError({ reason: new NoSuchMessage({ chatId: who.id, messageId }) })
        }
        const message = { ...stored.message, text, edit_date: unixNow() } as PersonMessage & Update.Edited
        stored.message = message
        emit(() => ({ _tag: "MessageEdited", chatId: who.id, message, method: "edit" }))
        const update: Update = { update_id: nextUpdateId(), edited_message: message }
        push(update)
        return update
      }),
      press: Effect.fn("BotApiEmulator.press")(function* (who: Person, chatId: number, messageId: number, button: string) {
        const stored = chats.get(chatId)?.messages.get(messageId)
        if (stored === undefined) return yield* new EmulatorError({ reason: new NoSuchMessage({ chatId, messageId }) })
        const data = findButton(stored.message, button)
        if (data === undefined) return yield* new EmulatorError({ reason: new NoSuchButton({ messageId, button }) })
        const update = callbackOn(who, stored.message, data)
        push(update)
        return update
      }),
      chat: (chatId) => {
        const id = chatIdOf(chatId)
        const chat = id === undefined ? undefined : chats.get(id)
        return {
          chatId: id ?? 0,
          messages: chat === undefined ? [] : [...chat.messages.values()].map((stored) => stored.message),
          replyKeyboard: chat?.replyKeyboard
        }
      },
      seedMessage: (chatId, seed) => {
        const id = chatIdOf(chatId) ?? 0
        const chat = chatRecord(id)
        const content = formatted(seed.text, seed.parse_mode, undefined)
        const text = typeof content === "string" ? { text: seed.text, entities: [] } : content
        const message = {
          message_id: chat.nextMessageId,
          ...(chat.chat.type === "channel" ? { sender_chat: chat.chat } : { from: botUser }),
          chat: chat.chat,
          date: unixNow(),
          text: text.text,
          ...(text.entities.length > 0 ? { entities: text.entities } : {}),
          ...(seed.reply_markup !== undefined ? { reply_markup: seed.reply_markup } : {})
        } as Message
        store(chat, message, true)
        emit(() => ({ _tag: "MessageSent", chatId: id, message, method: "seed" }))
        return message
      },
      setChatAccess: (chatId, access) => {
        chatRecord(chatId).access = access
      },
      listen,
      changes: Stream.callback<ChatEvent>((queue) =>
        Effect.acquireRelease(
          Effect.sync(() =>
            listen((event) => {
              if (event._tag !== "UpdatesDelivered") Queue.offerUnsafe(queue, event)
            })
          ),
          (unlisten) => Effect.sync(unlisten)
        )
      ),
      snapshot,
      calls,
      callsTo: (method) => calls.filter((c) => c.method === method),
      waitForCall: (predicate) =>
        Effect.map(
          waitUntil(() => calls.some(predicate)),
          () => calls.find(predicate) as ApiCall
        ),
      waitUntil,
      clearCalls: () => {
        calls.length = 0
      },
      stats: () => ({ requests: { ...requestCounts }, statuses: { ...statusCounts } }),
      script: (method, response, scriptOptions) => {
        addFault(method, Faults.respond(response.status, response.body), {
          times: scriptOptions?.times ?? 1,
          when: scriptOptions?.when
        })
      },
      fail: addFault,
      clearFaults: () => {
        faults.length = 0
      }
    })
  })

const sameJson = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b)

const withoutUndefined = (record: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value
  return out
}
