// Writing a confession: /confess (or ✍️ Confess) → the text, a photo or a voice note → a preview with ✅ Submit ·
// 🎭 Anonymous · ✖️ Cancel (✏️ Edit · ✅ Submit anyway when the privacy check finds a phone number, an e-mail, an
// @username, a Telegram link or a campus pattern) → a pending confession, announced to every admin with ✅ Approve ·
// ❌ Reject after a random delay. Media are re-sent by file_id, never forwarded. Also /cancel, which leaves any flow.
import { Duration, Effect, Layer, Option, Ref, Result } from "effect"
import { AppConfig } from "../AppConfig.ts"
import * as BotCall from "../domain/BotCall.ts"
import type * as CallbackData from "../domain/CallbackData.ts"
import * as Conversation from "../domain/Conversation.ts"
import type { UserId } from "../domain/Ids.ts"
import * as Media from "../domain/Media.ts"
import * as Permissions from "../domain/Permissions.ts"
import * as Privacy from "../domain/Privacy.ts"
import { type TextProblem, validateText } from "../domain/Validation.ts"
import { AdminNotifications } from "../services/AdminNotifications.ts"
import { Courier } from "../services/Courier.ts"
import { ConfessionLimits, type ConfessionLimitsError } from "../services/ConfessionLimits.ts"
import { Confessions, type ConfessionsError } from "../services/Confessions.ts"
import { ConversationStore } from "../services/ConversationStore.ts"
import { Telegram } from "../services/Telegram.ts"
import type { User } from "../services/Users.ts"
import { type CallbackContext, type MessageContext, Reply, Router, Silence } from "../updates/Router.ts"
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
    const voiceMaxSeconds = Math.floor(Duration.toSeconds(config.voiceMaxDuration))

    const refuseBlocked = (user: User) =>
      Permissions.canParticipate(user) ? Effect.void : Effect.fail(new Reply({ text: Messages.blocked, alert: true }))

    /**
     * Shows a rendered preview in place of the message the button was on (its text, or a media preview's caption), or
     * as a new message when there is none or it is gone.
     */
    const showInPlace = (context: Pick<CallbackContext<CallbackData.Tag>, "chatId" | "messageId">, view: ConfessionViews.Post) =>
      context.messageId === undefined
        ? telegram.perform(BotCall.send(context.chatId, view), { retry: true })
        : telegram
            .perform(BotCall.edit(context.chatId, context.messageId, view), { retry: true })
            .pipe(
              Effect.catchIf(
                (error) => error.reason._tag === "BadRequest",
                () => telegram.perform(BotCall.send(context.chatId, view), { retry: true })
              )
            )

    // Albums arrive as one message per item: refuse each album once. The ids of recent refusals, oldest first.
    const refusedAlbums = yield* Ref.make(new Set<string>())
    const refuseAlbumOnce = (mediaGroupId: string) =>
      Effect.gen(function* () {
        const fresh = yield* Ref.modify(refusedAlbums, (seen) => {
          if (seen.has(mediaGroupId)) return [false, seen] as const
          const next = new Set([...seen, mediaGroupId].slice(-1000))
          return [true, next] as const
        })
        return yield* fresh ? new Reply({ text: Messages.textPhotoOrVoice }) : new Silence()
      })

    /** The draft a message makes (a text, or a photo or voice note with its caption), or the rule it breaks. */
    const draftOf = (context: MessageContext) =>
      Effect.gen(function* () {
        const content = Media.classify(context.message)
        const rule = (problem: TextProblem, what: "confession" | "caption") =>
          new Reply({ text: Messages.textProblem(problem, what) })
        switch (content._tag) {
          case "Text": {
            const valid = validateText(content.text, maxLength)
            if (Result.isFailure(valid)) return yield* rule(valid.failure, "confession")
            return { text: valid.success, media: null }
          }
          case "Photo": {
            const caption = Media.validateCaption(content.caption)
            if (Result.isFailure(caption)) return yield* rule(caption.failure, "caption")
            return { text: caption.success, media: { kind: "photo" as const, fileId: content.fileId } }
          }
          case "Voice": {
            const voice = Media.validateVoice(content.duration, voiceMaxSeconds)
            if (Result.isFailure(voice)) {
              return yield* new Reply({ text: Messages.voiceTooLong(voice.failure.duration, voice.failure.maxDuration) })
            }
            const caption = Media.validateCaption(content.caption)
            if (Result.isFailure(caption)) return yield* rule(caption.failure, "caption")
            return {
              text: caption.success,
              media: { kind: "voice" as const, fileId: content.fileId, duration: content.duration }
            }
          }
          case "Document":
            return yield* new Reply({ text: Messages.sendAsPhoto })
          case "Album":
            return yield* refuseAlbumOnce(content.mediaGroupId)
          case "Other":
            return yield* new Reply({ text: Messages.textPhotoOrVoice })
        }
      })

    /** What the privacy check finds in a draft's text or caption, by kind. */
    const privacyOf = (text: string) => Privacy.scan(text, config.privacyPatterns)

    const showPreview = (context: MessageContext, anonymous: boolean) =>
      Effect.gen(function* () {
        const { text, media } = yield* draftOf(context)
        const draft = Conversation.confessionPreview(text, anonymous, media)
        yield* conversations.set(context.user.id, draft)
        const view = ConfessionViews.preview(draft, context.user, privacyOf(text))
        yield* telegram.perform(BotCall.send(context.chatId, view), { retry: true })
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
            ? Option.some(Conversation.confessionPreview(state.value.text, !state.value.anonymous, state.value.media))
            : Option.none()
        )
        if (Option.isNone(toggled) || toggled.value._tag !== "ConfessionPreview") {
          return yield* new Reply({ text: Messages.previewExpired })
        }
        yield* showInPlace(context, ConfessionViews.preview(toggled.value, context.user, privacyOf(toggled.value.text)))
        yield* telegram.answerCallbackQuery(context.callbackQueryId, {
          text: Messages.anonymousToast(toggled.value.anonymous)
        })
      })
    )

    // ✏️ Edit after the privacy check: the preview stays, and the next text (or photo, or voice note) replaces it.
    yield* router.onCallback(
      "PreviewEdit",
      Effect.fn("Confess.edit")(function* (context) {
        yield* currentDraft(context.user.id)
        yield* telegram.sendMessage(context.chatId, Messages.editDraft)
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
      })
    )

    yield* router.onCallback(
      "PreviewCancel",
      Effect.fn("Confess.cancelPreview")(function* (context) {
        const draft = yield* currentDraft(context.user.id)
        yield* conversations.clear(context.user.id)
        yield* showInPlace(context, { text: Messages.cancelled, media: draft.media })
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
              .submit({ author: context.user, text: draft.text, anonymous: draft.anonymous, media: draft.media })
              .pipe(Effect.catchTag("ConfessionsError", (e) => Effect.fail(submitReply(e))))
            const submitted = Messages.submitted(confession.id)
            yield* courier.answer([
              context.messageId === undefined || draft.media === undefined
                ? BotCall.showInPlace(context.chatId, context.messageId, submitted)
                : BotCall.editCaption(context.chatId, context.messageId, submitted),
              BotCall.answerCallback(context.callbackQueryId, Messages.submittedToast)
            ])
            yield* admins.notify(
              `confession:${confession.id}`,
              ConfessionViews.adminNotification(
                { id: confession.id, text: confession.text, anonymous: confession.anonymous, media: confession.media },
                context.user,
                privacyOf(confession.text)
              ),
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
