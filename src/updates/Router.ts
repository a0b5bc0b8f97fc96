// Routing from a Telegram update to one handler, and the one error boundary every handler runs inside.
// Features register commands, buttons (callback data tags), conversation-state handlers and reply-keyboard aliases
// while their layers are built; once the pipeline starts, the table is frozen. Known answers ("admins only", a
// handler's own `Reply`) reach the user as written; anything else becomes "a temporary problem" plus an error log
// with the update id and the full cause.
import { Cause, Clock, Context, Data, Duration, Effect, Layer, Metric, Option, Ref, type Tracer } from "effect"
import type { InlineKeyboardMarkup, Message, Update, User as TelegramUser } from "grammy/types"
import { AppConfig } from "../AppConfig.ts"
import * as CallbackData from "../domain/CallbackData.ts"
import * as DeepLink from "../domain/DeepLink.ts"
import type { Conversation } from "../domain/Conversation.ts"
import { UpdateId, UserId } from "../domain/Ids.ts"
import * as Permissions from "../domain/Permissions.ts"
import { ConversationStore } from "../services/ConversationStore.ts"
import { Telegram } from "../services/Telegram.ts"
import { type User, Users } from "../services/Users.ts"
import { AlreadyProcessed, CurrentUpdate } from "../sql/Processed.ts"

/** What every handler gets: the update, its registered sender and where to answer. */
export interface Incoming {
  readonly updateId: UpdateId
  readonly update: Update
  readonly user: User
  readonly chatId: number
  readonly isAdmin: boolean
}

export interface MessageContext extends Incoming {
  readonly message: Message
  /** The message text, `undefined` for photos, stickers, voice notes and the like. */
  readonly text: string | undefined
}

export interface CommandContext extends MessageContext {
  /** Lower-case command name without slash or @botname. */
  readonly command: string
  /** Everything after the command, trimmed. */
  readonly args: string
}

export interface CallbackContext<K extends CallbackData.Tag> extends Incoming {
  readonly action: CallbackData.Of<K>
  readonly callbackQueryId: string
  /** The message carrying the button (for editing it in place), when Telegram still has it. */
  readonly messageId: number | undefined
  /** That message's inline keyboard as Telegram sent it with the press (which page a list shows, counts to rewrite). */
  readonly keyboard: InlineKeyboardMarkup | undefined
}

export interface DeepLinkContext extends MessageContext {
  readonly link: DeepLink.DeepLink
}

export interface StateContext<K extends Conversation["_tag"]> extends MessageContext {
  readonly state: Extract<Conversation, { readonly _tag: K }>
}

/**
 * A handler's deliberate answer that ends the update: shown to the user as is (a toast for buttons, a message
 * otherwise). Features use it for decisions such as "already approved" or "confession #7 not found".
 */
export class Reply extends Data.TaggedError("Reply")<{
  readonly text: string
  /** For buttons: show a dialog instead of a toast. */
  readonly alert?: boolean
}> {}

/** A handler's deliberate decision to say nothing more (e.g. the second item of an album it already answered). */
export class Silence extends Data.TaggedError("Silence")<{}> {}

// Handlers are closed over their services when their feature layer is built, so they need no context.
type Handler<Ctx> = (context: Ctx) => Effect.Effect<void, unknown>

export interface RouteOptions {
  readonly adminOnly?: boolean
}

export class Router extends Context.Service<
  Router,
  {
    readonly onCommand: (names: string | ReadonlyArray<string>, handler: Handler<CommandContext>, options?: RouteOptions) => Effect.Effect<void>
    readonly onCallback: <K extends CallbackData.Tag>(tag: K, handler: Handler<CallbackContext<K>>, options?: RouteOptions) => Effect.Effect<void>
    readonly onState: <K extends Conversation["_tag"]>(tag: K, handler: Handler<StateContext<K>>) => Effect.Effect<void>
    /** `/start <payload>` from a link such as a channel post's "View / Add Comments" button. */
    readonly onDeepLink: (handler: Handler<DeepLinkContext>) => Effect.Effect<void>
    /** A reply-keyboard button whose text acts as a command (e.g. "✍️ Confess" → confess). */
    readonly onButtonText: (text: string, command: string) => Effect.Effect<void>
    /** Text or media outside any flow, and unknown commands. */
    readonly onFallback: (handler: Handler<MessageContext>) => Effect.Effect<void>
    /**
     * Handles one try of an update inside the error boundary; never fails, but says whether the try failed (see
     * `Handled`). Freezes the table on first use.
     */
    readonly route: (update: Update) => Effect.Effect<Handled>
    /** The "temporary problem" answer for an update that is given up on without a last try; never fails. */
    readonly apologise: (update: Update) => Effect.Effect<void>
    /** Answers a redelivered button press the dispatcher skips, so the user's button stops spinning. */
    readonly acknowledgeDuplicate: (update: Update) => Effect.Effect<void>
    /** The update kinds routes exist for, for `allowed_updates`. */
    readonly allowedUpdates: ReadonlyArray<string>
  }
>()("confessions/updates/Router") {
  /** The router's own answers come from the views (which sit above it), passed in here. */
  static readonly layer = (
    texts: RouterTexts
  ): Layer.Layer<Router, never, AppConfig | Users | ConversationStore | Telegram> => Layer.effect(Router, make(texts))
}

/**
 * How one try of an update ended: `Failed` when the boundary caught an unexpected failure or a defect (already
 * logged, with the user's apology only on the last try); whether to try again is the dispatcher's decision.
 * A try cut off by HANDLER_TIMEOUT is not `retryable`: it was answered at once, since two more tries of something
 * stuck would keep its user waiting minutes for the same apology.
 */
export type Handled =
  | { readonly _tag: "Done" }
  | { readonly _tag: "Failed"; readonly cause: Cause.Cause<unknown>; readonly retryable: boolean }

/**
 * Whether the current try of an update is its last. An earlier try that fails is tried again, so its user hears
 * nothing yet: they get one apology, when the update is given up on. Outside the dispatcher every try is the last.
 */
export const LastAttempt = Context.Reference<boolean>("confessions/updates/LastAttempt", { defaultValue: () => true })

/** The answers the router gives itself. */
export interface RouterTexts {
  /** A handler failed for a reason the user cannot fix: "please try again". */
  readonly temporaryProblem: string
  /** A non-admin used an admin command or button. */
  readonly adminsOnly: string
  /** Callback data that does not decode (forged, or from an older layout). */
  readonly staleButton: string
}

const updatesHandled = Metric.counter("confessions_updates_total", {
  description: "Updates handled, by kind and outcome",
  incremental: true
})
const handlerDuration = Metric.histogram("confessions_handler_duration_seconds", {
  description: "Time from routing an update to its handler finishing, by route",
  boundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
})
const handlerErrors = Metric.counter("confessions_handler_errors_total", {
  description: "Handler failures by error tag",
  incremental: true
})

interface Registered<Ctx> {
  readonly handler: Handler<Ctx>
  readonly adminOnly: boolean
}

const make = (texts: RouterTexts) => Effect.gen(function* () {
  const config = yield* AppConfig
  const users = yield* Users
  const conversations = yield* ConversationStore
  const telegram = yield* Telegram

  // The routing table is written only while feature layers are built and read-only afterwards (`frozen`), so a
  // plain Map owned by this layer is enough; nothing mutates it concurrently.
  const commands = new Map<string, Registered<CommandContext>>()
  const callbacks = new Map<CallbackData.Tag, Registered<CallbackContext<CallbackData.Tag>>>()
  const states = new Map<Conversation["_tag"], Handler<StateContext<Conversation["_tag"]>>>()
  const buttonTexts = new Map<string, string>()
  let fallback: Handler<MessageContext> | undefined
  let deepLink: Handler<DeepLinkContext> | undefined
  let frozen = false

  // `Metric.withAttributes` makes a new metric, whose series key is a JSON string built on its first update, every
  // time it is called. Per update that was a measurable cost; the label sets are few and fixed (update kinds ×
  // outcomes, route names of the frozen table), so each labelled metric is made once and reused.
  const byLabels = new Map<string, Metric.Metric<number, unknown>>()
  const labelled = (metric: Metric.Metric<number, unknown>, key: string, attributes: Metric.Metric.Attributes) => {
    let found = byLabels.get(key)
    if (found === undefined) {
      found = Metric.withAttributes(metric, attributes)
      byLabels.set(key, found)
    }
    return found
  }
  const handledAs = (kind: string, outcome: string) => labelled(updatesHandled, `updates ${kind} ${outcome}`, { kind, outcome })
  const durationOf = (route: string) => labelled(handlerDuration, `duration ${route}`, { route })

  const register = (what: string, write: () => void) =>
    Effect.suspend(() => (frozen ? Effect.die(new Error(`route registered after start: ${what}`)) : Effect.sync(write)))

  const answer = (incoming: Incoming, text: string, alert = false) =>
    Effect.gen(function* () {
      const query = incoming.update.callback_query
      if (query) yield* telegram.answerCallbackQuery(query.id, { text, showAlert: alert })
      else yield* telegram.sendMessage(incoming.chatId, text)
    })

  const dispatch = (incoming: Incoming): { readonly route: string; readonly run: Effect.Effect<void, unknown> } => {
    const { update } = incoming
    const query = update.callback_query
    if (query) {
      const action = Option.fromNullishOr(query.data).pipe(Option.flatMap(CallbackData.fromString))
      if (Option.isNone(action)) {
        return { route: "callback:invalid", run: telegram.answerCallbackQuery(query.id, { text: texts.staleButton }) }
      }
      const registered = callbacks.get(action.value._tag)
      if (!registered) {
        return { route: `callback:${action.value._tag}`, run: telegram.answerCallbackQuery(query.id, { text: texts.staleButton }) }
      }
      const context: CallbackContext<CallbackData.Tag> = {
        ...incoming,
        action: action.value,
        callbackQueryId: query.id,
        messageId: query.message?.message_id,
        keyboard: query.message !== undefined && "reply_markup" in query.message ? query.message.reply_markup : undefined
      }
      return {
        route: `callback:${action.value._tag}`,
        run: guard(incoming, registered.adminOnly, registered.handler(context))
      }
    }

    const message = update.message as Message
    const text = message.text
    const base: MessageContext = { ...incoming, message, text }
    const command = text === undefined ? undefined : parseCommand(message, text)
    const aliased = text === undefined ? undefined : buttonTexts.get(text.trim())
    const name = command?.name ?? aliased
    if (name === "start" && command !== undefined && command.args.length > 0 && deepLink !== undefined) {
      const link = DeepLink.fromPayload(command.args)
      if (Option.isSome(link)) {
        return { route: `deeplink:${link.value._tag}`, run: deepLink({ ...base, link: link.value }) }
      }
    }
    if (name !== undefined) {
      const registered = commands.get(name)
      if (registered) {
        const context: CommandContext = { ...base, command: name, args: command?.args ?? "" }
        return { route: `command:${name}`, run: guard(incoming, registered.adminOnly, registered.handler(context)) }
      }
      return { route: "command:unknown", run: runFallback(base) }
    }
    return {
      route: "message",
      run: Effect.gen(function* () {
        const state = yield* conversations.get(incoming.user.id)
        const handler = Option.isSome(state) ? states.get(state.value._tag) : undefined
        if (Option.isSome(state) && handler) {
          yield* Effect.annotateCurrentSpan("state", state.value._tag)
          return yield* handler({ ...base, state: state.value })
        }
        return yield* runFallback(base)
      })
    }
  }

  const runFallback = (context: MessageContext) => (fallback ? fallback(context) : Effect.void)

  const guard = (incoming: Incoming, adminOnly: boolean, run: Effect.Effect<void, unknown>) =>
    adminOnly && !incoming.isAdmin ? answer(incoming, texts.adminsOnly, false) : run

  const toIncoming = (update: Update, from: TelegramUser, chatId: number) =>
    Effect.gen(function* () {
      const user = yield* users.register({
        id: UserId.make(from.id),
        firstName: from.first_name,
        lastName: from.last_name,
        username: from.username
      })
      return {
        updateId: UpdateId.make(update.update_id),
        update,
        user,
        chatId,
        isAdmin: Permissions.isAdmin(config.adminIds, user.id)
      } satisfies Incoming
    })

  const route = (update: Update): Effect.Effect<Handled> =>
    // Data-first on purpose: effect 4.1's data-last `withSpan(name, options)` ignores `captureStackTrace` (it reads
    // the options from a third argument that form never has) and captures a stack per update anyway.
    Effect.withSpan(routeOnce(update), "Router.route", routeSpan)

  const routeOnce = (update: Update): Effect.Effect<Handled> =>
    Effect.gen(function* () {
      frozen = true
      let failure: Cause.Cause<unknown> | undefined
      let retryable = true
      const kind = update.callback_query ? "callback_query" : update.message ? "message" : "other"
      const sender = senderOf(update)
      // Only private messages and button presses are ours; edited messages, channel posts, group chatter and
      // update kinds we did not ask for are ignored without an answer.
      if (sender === undefined) {
        yield* Metric.update(handledAs(kind, "ignored"), 1)
        return done
      }
      const started = yield* Clock.currentTimeMillis
      let routeName = "register"
      const outcome = yield* Effect.gen(function* () {
        const incoming = yield* toIncoming(update, sender.from, sender.chatId)
        const { route, run } = dispatch(incoming)
        routeName = route
        yield* Effect.annotateCurrentSpan("route", route)
        return yield* run.pipe(
          Effect.timeoutOrElse({
            duration: config.handlerTimeout,
            orElse: () => Effect.fail(new HandlerTimedOut({ after: config.handlerTimeout }))
          }),
          Effect.as("ok" as const),
          Effect.catch((error) =>
            boundary(incoming, error).pipe(
              Effect.tap((outcome) =>
                Effect.sync(() => {
                  if (outcome === "error") failure = Cause.fail(error)
                  retryable = !(error instanceof HandlerTimedOut)
                })
              )
            )
          )
        )
      }).pipe(
        Effect.catchCause((cause) =>
          Cause.hasInterruptsOnly(cause)
            ? Effect.interrupt
            : Effect.gen(function* () {
                failure = cause
                yield* Metric.update(Metric.withAttributes(handlerErrors, { tag: tagOf(Cause.squash(cause)) }), 1)
                yield* giveUpOrRetry("update failed", cause, update, sender.chatId)
                return "error" as const
              })
        )
      )
      const elapsed = (yield* Clock.currentTimeMillis) - started
      yield* Metric.update(durationOf(routeName), elapsed / 1000)
      yield* Metric.update(handledAs(kind, outcome), 1)
      yield* Effect.logDebug("update handled").pipe(
        Effect.annotateLogs({ route: routeName, durationMs: elapsed, outcome })
      )
      return failure === undefined ? done : ({ _tag: "Failed", cause: failure, retryable } as const)
    }).pipe(Effect.annotateLogs({ updateId: update.update_id }))

  /** Known answers reach the user; a redelivered update is skipped; anything else is logged and apologised for. */
  const boundary = (incoming: Incoming, error: unknown) =>
    Effect.gen(function* () {
      if (error instanceof Reply) {
        yield* answer(incoming, error.text, error.alert ?? false)
        return "answered" as const
      }
      if (error instanceof Silence) return "answered" as const
      if (error instanceof AlreadyProcessed) {
        yield* Effect.logInfo("redelivered update skipped")
        yield* acknowledgeDuplicate(incoming.update)
        return "duplicate" as const
      }
      yield* Metric.update(Metric.withAttributes(handlerErrors, { tag: tagOf(error) }), 1)
      yield* giveUpOrRetry("handler failed", Cause.fail(error), incoming.update, incoming.chatId, error instanceof HandlerTimedOut)
      return "error" as const
    })

  /** A failed try: logged with its cause; on the last try the user gets the apology, on others nothing yet. */
  const giveUpOrRetry = (what: string, cause: Cause.Cause<unknown>, update: Update, chatId: number, final = false) =>
    Effect.gen(function* () {
      if (!final && !(yield* LastAttempt)) return yield* Effect.logWarning(`${what}; it will be tried again`, cause)
      yield* Effect.logError(what, cause)
      yield* apologise(update, chatId)
    })

  /**
   * "Please try again", unless the update's write already committed: then the outbox delivers its answer, and an
   * apology would make the user repeat what is already stored.
   */
  const apologise = (update: Update, chatId: number) =>
    Effect.gen(function* () {
      const current = yield* CurrentUpdate
      if (Option.isSome(current) && (yield* Ref.get(current.value.claimed))) {
        yield* Effect.logWarning("failed after its write committed; its answer comes from the outbox, no apology")
        return
      }
      const query = update.callback_query
      if (query) yield* telegram.answerCallbackQuery(query.id, { text: texts.temporaryProblem })
      else yield* telegram.sendMessage(chatId, texts.temporaryProblem)
    }).pipe(Effect.catchCause((cause) => Effect.logWarning("could not apologise to the user", cause)))

  /** A button pressed again after its update was handled: stop the button's spinner, change nothing. */
  const acknowledgeDuplicate = (update: Update) => {
    const query = update.callback_query
    return query === undefined
      ? Effect.void
      : telegram
          .answerCallbackQuery(query.id)
          .pipe(Effect.catchCause((cause) => Effect.logDebug("could not answer a redelivered button press", cause)))
  }

  return Router.of({
    onCommand: (names, handler, options) =>
      register(`command ${String(names)}`, () => {
        for (const name of typeof names === "string" ? [names] : names) {
          commands.set(name.toLowerCase(), { handler, adminOnly: options?.adminOnly ?? false })
        }
      }),
    onCallback: (tag, handler, options) =>
      register(`callback ${tag}`, () => {
        callbacks.set(tag, {
          // Safe: the table is keyed by this tag, so the handler only ever sees actions of its own tag.
          handler: handler as unknown as Handler<CallbackContext<CallbackData.Tag>>,
          adminOnly: options?.adminOnly ?? false
        })
      }),
    onState: (tag, handler) =>
      register(`state ${tag}`, () => {
        // Safe: keyed by this tag, so the handler only ever sees states of its own tag.
        states.set(tag, handler as unknown as Handler<StateContext<Conversation["_tag"]>>)
      }),
    onDeepLink: (handler) =>
      register("deep link", () => {
        deepLink = handler
      }),
    onButtonText: (text, command) => register(`button ${text}`, () => buttonTexts.set(text, command.toLowerCase())),
    onFallback: (handler) =>
      register("fallback", () => {
        fallback = handler
      }),
    route,
    apologise: (update) => {
      const sender = senderOf(update)
      return sender === undefined ? Effect.void : apologise(update, sender.chatId)
    },
    acknowledgeDuplicate,
    allowedUpdates: ["message", "callback_query"]
  })
})

const done: Handled = { _tag: "Done" }

// The one span per update operators read (annotated with its route). Its stack trace would always point at this
// line, and capturing one per update cost a measurable share of the pipeline's CPU (scripts/bench/NOTES.md).
const routeSpan: Tracer.SpanOptions = { captureStackTrace: false }

class HandlerTimedOut extends Data.TaggedError("HandlerTimedOut")<{ readonly after: Duration.Duration }> {}

/** The sender and the private chat to answer in; `undefined` for anything we do not handle. */
const senderOf = (update: Update): { readonly from: TelegramUser; readonly chatId: number } | undefined => {
  const query = update.callback_query
  if (query) return query.from.is_bot ? undefined : { from: query.from, chatId: query.message?.chat.id ?? query.from.id }
  const message = update.message
  if (message && message.chat.type === "private" && message.from && !message.from.is_bot) {
    return { from: message.from, chatId: message.chat.id }
  }
  return undefined
}

const parseCommand = (message: Message, text: string): { readonly name: string; readonly args: string } | undefined => {
  const entity = message.entities?.[0]
  if (!entity || entity.type !== "bot_command" || entity.offset !== 0) return undefined
  const [name = ""] = text.slice(1, entity.length).split("@")
  return { name: name.toLowerCase(), args: text.slice(entity.length).trim() }
}

const tagOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" ? error._tag : "Unknown"
