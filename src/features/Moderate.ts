// The admins' ✅ Approve and ❌ Reject buttons (on the notification and in /pending). Approving decides exactly once
// (the database picks the winner), posts to the channel with the comments button (through the Publisher, whose
// recovery posts it later if this fails or the process dies first), tells the author with the post's link and turns
// every admin's copy into the outcome. Rejecting tells the author and asks the admin for an optional reason, which
// their next text (or /skip) answers.
import { Effect, Layer, Option } from "effect"
import * as Conversation from "../domain/Conversation.ts"
import type { ConfessionId } from "../domain/Ids.ts"
import { AdminNotifications } from "../services/AdminNotifications.ts"
import { ConversationStore } from "../services/ConversationStore.ts"
import { type ModeratedConfession, Moderation, type ModerationError } from "../services/Moderation.ts"
import { type Publication, Publisher } from "../services/Publisher.ts"
import { Telegram } from "../services/Telegram.ts"
import { Reply, Router } from "../updates/Router.ts"
import * as ConfessionViews from "../views/ConfessionViews.ts"
import * as Messages from "../views/Messages.ts"

export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const moderation = yield* Moderation
    const publisher = yield* Publisher
    const notifications = yield* AdminNotifications
    const conversations = yield* ConversationStore
    const telegram = yield* Telegram

    /** The loser of a race, a second press, or a forged id: answered, nothing changes. */
    const refused = (id: ConfessionId) => (error: ModerationError) =>
      Effect.fail(
        new Reply({
          text:
            error.reason._tag === "AlreadyDecided"
              ? Messages.alreadyDecided(id, error.reason.status)
              : Messages.confessionNotFound(id)
        })
      )

    /** Tells the author; a user who blocked the bot must not turn a finished decision into an error. */
    const tellAuthor = (confession: ModeratedConfession, text: string) =>
      telegram
        .sendMessage(confession.authorId, text)
        .pipe(Effect.catchCause((cause) => Effect.logWarning(`could not tell the author of confession #${confession.id}`, cause)))

    /**
     * Every admin's copy shows the outcome and loses its buttons, so nobody acts twice. Best effort: the decision is
     * made, and a copy left with its buttons only ever answers "already decided".
     */
    const editCopies = (confession: ModeratedConfession, decided: ConfessionViews.Outcome) =>
      Effect.gen(function* () {
        const view = ConfessionViews.outcome(confession, decided)
        const copies = yield* notifications.copiesOf("confession", confession.id)
        yield* Effect.forEach(
          copies,
          (copy) =>
            telegram
              .editMessageText(copy.chatId, copy.messageId, view.text)
              .pipe(Effect.catchCause((cause) => Effect.logWarning(`could not update an admin's copy of #${confession.id}`, cause))),
          { concurrency: 8, discard: true }
        )
      }).pipe(Effect.catchCause((cause) => Effect.logWarning(`could not update the admins' copies of #${confession.id}`, cause)))

    const approvedAnswer = (posted: Publication["posted"], id: ConfessionId) => {
      switch (posted) {
        case "posted":
        case "elsewhere":
          return { text: Messages.approvedToast }
        case "noChannel":
          return { text: Messages.approvedNoChannel, showAlert: true }
        case "failed":
          return { text: Messages.approvedPostFailed, showAlert: true }
        case "deletedMeanwhile":
          return { text: Messages.alreadyDecided(id, "deleted"), showAlert: true }
      }
    }

    yield* router.onCallback(
      "Approve",
      Effect.fn("Moderate.approve")(function* (context) {
        const id = context.action.confessionId
        const confession = yield* moderation.approve(id, context.user.id).pipe(Effect.catchTag("ModerationError", refused(id)))
        // Decided: the rest must happen once, whatever else goes on, so it is not interrupted half-way.
        yield* Effect.uninterruptible(
          Effect.gen(function* () {
            const post = yield* publisher.publish(confession)
            if (post.posted !== "deletedMeanwhile") {
              yield* tellAuthor(confession, Messages.authorApproved(id, post.url))
              yield* editCopies(confession, "approved")
            }
            yield* telegram.answerCallbackQuery(context.callbackQueryId, approvedAnswer(post.posted, id))
          })
        )
      }),
      { adminOnly: true }
    )

    yield* router.onCallback(
      "Reject",
      Effect.fn("Moderate.reject")(function* (context) {
        const id = context.action.confessionId
        const confession = yield* moderation.reject(id, context.user.id).pipe(Effect.catchTag("ModerationError", refused(id)))
        yield* Effect.uninterruptible(
          Effect.gen(function* () {
            yield* tellAuthor(confession, Messages.authorRejected(id))
            yield* editCopies(confession, "rejected")
            yield* conversations.set(context.user.id, Conversation.awaitingRejectReason(id))
            yield* telegram.answerCallbackQuery(context.callbackQueryId, { text: Messages.rejectedToast })
            yield* telegram.sendMessage(context.chatId, Messages.askRejectReason(id))
          })
        )
      }),
      { adminOnly: true }
    )

    yield* router.onState(
      "AwaitingRejectReason",
      Effect.fn("Moderate.rejectReason")(function* (context) {
        const id = context.state.confessionId
        if (context.text === undefined) return yield* new Reply({ text: Messages.textOnly("reason") })
        const confession = yield* moderation.setRejectReason(id, context.user.id, context.text).pipe(
          Effect.catchTag("ModerationError", (error) =>
            Effect.gen(function* () {
              const reason = error.reason
              // A reason that breaks the rule can be sent again; anything else ends the flow.
              if (reason._tag === "InvalidReason") return yield* new Reply({ text: Messages.textProblem(reason.problem, "reason") })
              yield* conversations.clear(context.user.id)
              return yield* new Reply({
                text:
                  reason._tag === "ReasonAlreadyGiven"
                    ? Messages.reasonAlreadyGiven(id)
                    : reason._tag === "DecidedByAnotherAdmin"
                      ? Messages.reasonNotYours(id)
                      : reason._tag === "NotRejected"
                        ? Messages.reasonNotRejected(id, reason.status)
                        : reason._tag === "AlreadyDecided"
                          ? Messages.alreadyDecided(id, reason.status)
                          : Messages.confessionNotFound(id)
              })
            })
          )
        )
        yield* conversations.clear(context.user.id)
        const delivered = yield* telegram.sendMessage(confession.authorId, Messages.authorRejectReason(id, confession.rejectReason ?? "")).pipe(
          Effect.as(true),
          Effect.catchCause((cause) =>
            Effect.as(Effect.logWarning(`could not pass on the reject reason of #${id}`, cause), false)
          )
        )
        yield* telegram.sendMessage(context.chatId, delivered ? Messages.reasonSent : Messages.reasonUndelivered)
      })
    )

    yield* router.onCommand(
      "skip",
      Effect.fn("Moderate.skipReason")(function* (context) {
        const state = yield* conversations.get(context.user.id)
        const waiting = Option.isSome(state) && state.value._tag === "AwaitingRejectReason"
        if (waiting) yield* conversations.clear(context.user.id)
        yield* telegram.sendMessage(context.chatId, waiting ? Messages.reasonSkipped : Messages.nothingToSkip)
      })
    )
  })
)
