// Writing a confession: /confess (or ✍️ Confess) → the text → a preview with ✅ Submit · 🎭 Anonymous · ✖️ Cancel →
// a pending confession, announced to every admin with ✅ Approve · ❌ Reject. Also /cancel, which leaves any flow.
import { Effect, Layer, Option, Result } from "effect"
import { AppConfig } from "../AppConfig.ts"
import type * as CallbackData from "../domain/CallbackData.ts"
import * as Conversation from "../domain/Conversation.ts"
import type { UserId } from "../domain/Ids.ts"
import * as Permissions from "../domain/Permissions.ts"
import { validateText } from "../domain/Validation.ts"
import * as BotCall from "../domain/BotCall.ts"
import { AdminNotifications } from "../services/AdminNotifications.ts"
import { Courier } from "../services/Courier.ts"
import { ConfessionLimits, type ConfessionLimitsError } from "../services/ConfessionLimits.ts"
import { Confessions, type ConfessionsError } from "../services/Confessions.ts"
import { ConversationStore } from "../services/ConversationStore.ts"
import { Telegram } from "../services/Telegram.ts"
import type { User } from "../services/Users.ts"
import { type CallbackContext, type MessageContext, Reply, Router } from "../updates/Router.ts"
import * as ConfessionViews from "../views/ConfessionViews.ts"
import * as Keyboards from "../views/Keyboards.ts"
import * as Messages from "../views/Messages.ts"

export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const config = yield* AppConfig
    const conversations = yield* ConversationStore
    const confessions = yield* Confessions
    const limits = yield* ConfessionLimits
    const admins = yield* AdminNotifications
    const courier = yield* Courier
    const telegram = yield* Telegram
    const maxLength = config.confessionMaxLength

    const refuseBlocked = (user: User) =>
      Permissions.canParticipate(user) ? Effect.void : Effect.fail(new Reply({ text: Messages.blocked, alert: true }))

    /** Shows the preview in place of the message the button was on, or as a new message when that is gone. */
    const showInPlace = (context: Pick<CallbackContext<CallbackData.Tag>, "chatId" | "messageId">, view: Keyboards.View) =>
      telegram.sendOrEdit(context.chatId, context.messageId, view.text, { replyMarkup: view.keyboard })

    /** The text of a draft, or the rule it breaks; the flow stays as it is on a failure. */
    const draftText = (context: MessageContext) =>
      Effect.gen(function* () {
        if (context.text === undefined) return yield* new Reply({ text: Messages.textOnly("confession") })
        const valid = validateText(context.text, maxLength)
        if (Result.isFailure(valid)) return yield* new Reply({ text: Messages.textProblem(valid.failure, "confession") })
        return valid.success
      })

    const showPreview = (context: MessageContext, anonymous: boolean) =>
      Effect.gen(function* () {
        const text = yield* draftText(context)
        const draft = Conversation.confessionPreview(text, anonymous)
        yield* conversations.set(context.user.id, draft)
        const view = ConfessionViews.preview(draft, context.user)
        yield* telegram.sendMessage(context.chatId, view.text, { replyMarkup: view.keyboard })
      })

    /** The draft behind a preview button, or "expired" (after /cancel, STATE_TTL, or a second press). */
    const currentDraft = (user: UserId) =>
      Effect.flatMap(conversations.get(user), (state) =>
        Option.isSome(state) && state.value._tag === "ConfessionPreview"
          ? Effect.succeed(state.value)
          : Effect.fail(new Reply({ text: Messages.previewExpired }))
      )

    const limitReply = (error: ConfessionLimitsError) =>
      new Reply({
        text:
          error.reason === "Cooldown"
            ? Messages.cooldown(error.retryAfter)
            : Messages.hourlyLimit(config.confessionsPerHour, error.retryAfter),
        alert: true
      })

    const submitReply = (error: ConfessionsError) =>
      error.reason._tag === "Invalid"
        ? new Reply({ text: Messages.textProblem(error.reason.problem, "confession"), alert: true })
        : new Reply({ text: Messages.blocked, alert: true })

    const startConfession = Effect.fn("Confess.start")(function* (context: MessageContext) {
      yield* refuseBlocked(context.user)
      yield* conversations.set(context.user.id, Conversation.awaitingConfession)
      yield* telegram.sendMessage(context.chatId, Messages.confessPrompt(maxLength))
    })

    yield* router.onButtonText(Keyboards.labels.confess, "confess")
    yield* router.onCommand("confess", startConfession)

    yield* router.onState(
      "AwaitingConfession",
      Effect.fn("Confess.text")(function* (context) {
        yield* showPreview(context, context.user.anonymousDefault)
      })
    )

    // A new text while the preview is shown replaces the draft and keeps this draft's anonymity choice.
    yield* router.onState(
      "ConfessionPreview",
      Effect.fn("Confess.replaceText")(function* (context) {
        yield* showPreview(context, context.state.anonymous)
      })
    )

    yield* router.onCallback(
      "PreviewToggleAnonymous",
      Effect.fn("Confess.toggleAnonymous")(function* (context) {
        const toggled = yield* conversations.update(context.user.id, (state) =>
          Option.isSome(state) && state.value._tag === "ConfessionPreview"
            ? Option.some(Conversation.confessionPreview(state.value.text, !state.value.anonymous))
            : Option.none()
        )
        if (Option.isNone(toggled) || toggled.value._tag !== "ConfessionPreview") {
          return yield* new Reply({ text: Messages.previewExpired })
        }
        yield* showInPlace(context, ConfessionViews.preview(toggled.value, context.user))
        yield* telegram.answerCallbackQuery(context.callbackQueryId, {
          text: Messages.anonymousToast(toggled.value.anonymous)
        })
      })
    )

    yield* router.onCallback(
      "PreviewCancel",
      Effect.fn("Confess.cancelPreview")(function* (context) {
        yield* currentDraft(context.user.id)
        yield* conversations.clear(context.user.id)
        yield* showInPlace(context, { text: Messages.cancelled })
        yield* telegram.answerCallbackQuery(context.callbackQueryId, { text: Messages.cancelled })
      })
    )

    yield* router.onCallback(
      "PreviewSubmit",
      Effect.fn("Confess.submit")(function* (context) {
        const draft = yield* currentDraft(context.user.id)
        yield* refuseBlocked(context.user)
        // The limit is spent only on a real submission, never for a preview; a refused press keeps the draft.
        yield* limits.check(context.user.id).pipe(Effect.catchTag("ConfessionLimitsError", (e) => Effect.fail(limitReply(e))))
        // The confession, the author's confirmation and the admins' notices (after a random delay, so their arrival
        // does not tell when the author was online) commit together.
        yield* courier.commit(
          Effect.gen(function* () {
            const confession = yield* confessions
              .submit({ author: context.user, text: draft.text, anonymous: draft.anonymous })
              .pipe(Effect.catchTag("ConfessionsError", (e) => Effect.fail(submitReply(e))))
            yield* courier.answer([
              BotCall.showInPlace(context.chatId, context.messageId, Messages.submitted(confession.id)),
              BotCall.answerCallback(context.callbackQueryId, Messages.submittedToast)
            ])
            yield* admins.notify(
              `confession:${confession.id}`,
              ConfessionViews.adminNotification(confession, context.user),
              { delayed: true }
            )
          })
        )
        yield* conversations.clear(context.user.id)
      })
    )

    yield* router.onCommand(
      "cancel",
      Effect.fn("Confess.cancel")(function* (context) {
        const hadFlow = yield* conversations.clear(context.user.id)
        yield* telegram.sendMessage(context.chatId, hadFlow ? Messages.cancelled : Messages.nothingToCancel, {
          replyMarkup: Keyboards.main
        })
      })
    )
  })
)
