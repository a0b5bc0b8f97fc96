// Reports on comments: ⚠️ under a comment counts once per user, and the report that reaches REPORT_THRESHOLD alerts
// every admin with 🙈 Hide · ✔️ Keep (through the outbox, in the report's own transaction, so the alert cannot be
// lost). `/reports` lists what is reported and undecided, as a backstop. The first decision is the only one; it
// turns every admin's copy of the alert into the outcome. A user files at most REPORTS_PER_HOUR reports an hour
// (ActivityLimits).
import { Effect, Layer, Option } from "effect"
import { AppConfig } from "../AppConfig.ts"
import * as BotCall from "../domain/BotCall.ts"
import type * as CallbackData from "../domain/CallbackData.ts"
import type { CommentId } from "../domain/Ids.ts"
import type { Decision } from "../domain/Reaction.ts"
import { ActivityLimits } from "../services/ActivityLimits.ts"
import { AdminNotifications } from "../services/AdminNotifications.ts"
import { Comments } from "../services/Comments.ts"
import { Courier } from "../services/Courier.ts"
import { Reactions } from "../services/Reactions.ts"
import { Telegram } from "../services/Telegram.ts"
import { type CallbackContext, Reply, Router } from "../updates/Router.ts"
import * as CommentViews from "../views/CommentViews.ts"
import * as Keyboards from "../views/Keyboards.ts"
import * as Messages from "../views/Messages.ts"

export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const reactions = yield* Reactions
    const comments = yield* Comments
    const admins = yield* AdminNotifications
    const courier = yield* Courier
    const limits = yield* ActivityLimits
    const telegram = yield* Telegram
    const config = yield* AppConfig

    const topic = (id: CommentId) => `comment:${id}`
    const reportsPage = (page: number) =>
      Effect.map(comments.reported({ page, threshold: config.reportThreshold }), CommentViews.reportsPage)

    yield* router.onCallback(
      "Report",
      Effect.fn("Reports.report")(function* (context) {
        const commentId = context.action.commentId
        yield* courier.commit(
          Effect.gen(function* () {
            const outcome = yield* reactions.report({ commentId, user: context.user }).pipe(
              Effect.catchReasons("ReactionsError", {
                Blocked: () => Effect.fail(new Reply({ text: Messages.blocked, alert: true })),
                CommentNotFound: () => Effect.fail(new Reply({ text: Messages.commentNotFound }))
              })
            )
            // Only a report that counts spends the hourly allowance; a refused one rolls back with its alert.
            if (outcome.counted) {
              yield* limits.spend(context.user.id, "report").pipe(
                Effect.catchTag("ActivityLimitsError", (limit) =>
                  Effect.fail(
                    new Reply({ text: Messages.activityLimit(limit.activity, limit.perHour, limit.retryAfter), alert: true })
                  )
                )
              )
            }
            if (outcome.alert) {
              // For the admins: read outside the visibility rule (`get`), though the report just found it visible.
              const comment = yield* comments.get(commentId)
              if (Option.isSome(comment)) yield* admins.notify(topic(commentId), CommentViews.reportAlert(comment.value))
            }
            yield* courier.answer([BotCall.answerCallback(context.callbackQueryId, Messages.reportToast(outcome))])
          })
        )
      })
    )

    const decide = (decision: Decision) =>
      Effect.fn("Reports.decide")(function* (context: CommentButton) {
        const commentId = context.action.commentId
        yield* courier.commit(
          Effect.gen(function* () {
            yield* reactions.decide({ commentId, admin: context.user.id, decision }).pipe(
              Effect.catchReasons("ReactionsError", {
                AlreadyDecided: (reason) => Effect.fail(new Reply({ text: Messages.commentAlreadyDecided(reason.decision) })),
                CommentNotFound: () => Effect.fail(new Reply({ text: Messages.commentNotFound })),
                Blocked: () => Effect.fail(new Reply({ text: Messages.commentNotFound }))
              })
            )
            // For the admins: the comment as it is now, hidden or not (`get` is outside the visibility rule).
            const comment = yield* comments.get(commentId)
            if (Option.isSome(comment)) {
              yield* admins.close(topic(commentId), decision, CommentViews.reportDecided(comment.value, decision))
            }
            // Pressed in the /reports list: the same page again, without the decided comment.
            const list: Array<BotCall.BotCall> = []
            if (context.messageId !== undefined && CommentViews.isReportsList(context.keyboard)) {
              const view = yield* reportsPage(Keyboards.pageShown(context.keyboard))
              list.push(BotCall.showInPlace(context.chatId, context.messageId, view.text, view.keyboard))
            }
            yield* courier.answer([...list, BotCall.answerCallback(context.callbackQueryId, Messages.decisionToast(decision))])
          })
        )
      })

    yield* router.onCallback("HideComment", decide("hidden"), { adminOnly: true })
    yield* router.onCallback("KeepComment", decide("kept"), { adminOnly: true })

    yield* router.onCommand(
      "reports",
      Effect.fn("Reports.list")(function* (context) {
        const view = yield* reportsPage(1)
        yield* telegram.sendMessage(context.chatId, view.text, { replyMarkup: view.keyboard })
      }),
      { adminOnly: true }
    )

    yield* router.onCallback(
      "ReportsPage",
      Effect.fn("Reports.page")(function* (context) {
        const view = yield* reportsPage(context.action.page)
        yield* telegram.sendOrEdit(context.chatId, context.messageId, view.text, { replyMarkup: view.keyboard })
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
      }),
      { adminOnly: true }
    )
  })
)

/** A press of a button that carries a comment id (🙈, ✔️). */
type CommentButton = Omit<CallbackContext<CallbackData.Tag>, "action"> & {
  readonly action: { readonly commentId: CommentId }
}
