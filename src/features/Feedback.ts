// Feedback to the admins: `/feedback` (awaiting feedback, or the text right after the command) stores it, thanks the
// user and notifies every admin, without saying who sent it, with ✔️ Resolve · ↩️ Reply. Admins page through open items
// with `/feedbacks`; resolving is exactly once and turns every admin's copy into "resolved"; a reply is relayed to the
// sender by the bot, naming no admin. Every write commits with the messages it causes. A user sends at most
// FEEDBACK_PER_HOUR feedback messages an hour (ActivityLimits), since each one reaches every admin.
import { Effect, Layer } from "effect"
import { AppConfig } from "../AppConfig.ts"
import * as BotCall from "../domain/BotCall.ts"
import * as Conversation from "../domain/Conversation.ts"
import type { FeedbackId } from "../domain/Ids.ts"
import { ActivityLimits } from "../services/ActivityLimits.ts"
import { AdminNotifications } from "../services/AdminNotifications.ts"
import { ConversationStore } from "../services/ConversationStore.ts"
import { Courier } from "../services/Courier.ts"
import { Feedback } from "../services/Feedback.ts"
import { Telegram } from "../services/Telegram.ts"
import type { User } from "../services/Users.ts"
import { Reply, Router } from "../updates/Router.ts"
import * as FeedbackViews from "../views/FeedbackViews.ts"
import * as Keyboards from "../views/Keyboards.ts"
import * as Messages from "../views/Messages.ts"

export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const feedback = yield* Feedback
    const admins = yield* AdminNotifications
    const courier = yield* Courier
    const limits = yield* ActivityLimits
    const conversations = yield* ConversationStore
    const telegram = yield* Telegram
    const config = yield* AppConfig

    const topic = (id: FeedbackId) => `feedback:${id}`
    const openList = (page: number) => Effect.map(feedback.listOpen({ page }), FeedbackViews.openList)

    const submit = Effect.fnUntraced(function* (user: User, chatId: number, text: string | undefined) {
      if (text === undefined) return yield* new Reply({ text: Messages.textOnly("feedback") })
      yield* courier.commit(
        Effect.gen(function* () {
          const item = yield* feedback.submit({ author: user, text }).pipe(
            Effect.catchReasons("FeedbackError", {
              Invalid: (reason) => Effect.fail(new Reply({ text: Messages.textProblem(reason.problem, "feedback") }))
            })
          )
          // Spent only once the feedback is stored; a refusal rolls it back, with the admins' notices, and ends the flow.
          yield* limits.spend(user.id, "feedback").pipe(
            Effect.catchTag("ActivityLimitsError", (limit) =>
              Effect.andThen(
                conversations.clear(user.id),
                Effect.fail(new Reply({ text: Messages.activityLimit(limit.activity, limit.perHour, limit.retryAfter) }))
              )
            )
          )
          yield* courier.answer([BotCall.sendMessage(chatId, Messages.feedbackThanks)])
          yield* admins.notify(topic(item.id), FeedbackViews.notification(item))
        })
      )
      yield* conversations.clear(user.id)
    })

    yield* router.onCommand(
      "feedback",
      Effect.fn("Feedback.start")(function* (context) {
        // `/feedback some text` submits at once; a bare `/feedback` asks for the text.
        if (context.args !== "") return yield* submit(context.user, context.chatId, context.args)
        yield* conversations.set(context.user.id, Conversation.awaitingFeedback)
        yield* telegram.sendMessage(context.chatId, Messages.askFeedback(config.commentMaxLength))
      })
    )

    yield* router.onState(
      "AwaitingFeedback",
      Effect.fn("Feedback.write")(function* (context) {
        yield* submit(context.user, context.chatId, context.text)
      })
    )

    yield* router.onCommand(
      "feedbacks",
      Effect.fn("Feedback.list")(function* (context) {
        const view = yield* openList(1)
        yield* telegram.sendMessage(context.chatId, view.text, { replyMarkup: view.keyboard })
      }),
      { adminOnly: true }
    )

    yield* router.onCallback(
      "FeedbackPage",
      Effect.fn("Feedback.page")(function* (context) {
        const view = yield* openList(context.action.page)
        yield* telegram.sendOrEdit(context.chatId, context.messageId, view.text, { replyMarkup: view.keyboard })
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
      }),
      { adminOnly: true }
    )

    yield* router.onCallback(
      "FeedbackResolve",
      Effect.fn("Feedback.resolve")(function* (context) {
        const id = context.action.feedbackId
        yield* courier.commit(
          Effect.gen(function* () {
            const toast = yield* feedback.resolve(id, context.user.id).pipe(
              Effect.tap((item) => admins.close(topic(id), "resolved", FeedbackViews.resolvedNotification(item))),
              Effect.as(Messages.feedbackResolved(id)),
              Effect.catchReasons("FeedbackError", {
                AlreadyResolved: () => Effect.succeed(Messages.feedbackAlreadyResolved(id)),
                NotFound: () => Effect.fail(new Reply({ text: Messages.feedbackNotFound(id) }))
              })
            )
            // Pressed in the `/feedbacks` list: the same page again, without the resolved item.
            const list: Array<BotCall.BotCall> = []
            if (context.messageId !== undefined && FeedbackViews.isOpenList(context.keyboard)) {
              const view = yield* openList(Keyboards.pageShown(context.keyboard))
              list.push(BotCall.showInPlace(context.chatId, context.messageId, view.text, view.keyboard))
            }
            yield* courier.answer([...list, BotCall.answerCallback(context.callbackQueryId, toast)])
          })
        )
      }),
      { adminOnly: true }
    )

    yield* router.onCallback(
      "FeedbackReply",
      Effect.fn("Feedback.startReply")(function* (context) {
        const id = context.action.feedbackId
        yield* conversations.set(context.user.id, Conversation.awaitingFeedbackReply(id))
        yield* telegram.sendMessage(context.chatId, Messages.askFeedbackReply(id, config.commentMaxLength))
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
      }),
      { adminOnly: true }
    )

    yield* router.onState(
      "AwaitingFeedbackReply",
      Effect.fn("Feedback.reply")(function* (context) {
        const id = context.state.feedbackId
        if (context.text === undefined) return yield* new Reply({ text: Messages.textOnly("answer") })
        const text = context.text
        yield* courier.commit(
          Effect.gen(function* () {
            const item = yield* feedback.reply(id, text).pipe(
              Effect.catchReasons("FeedbackError", {
                Invalid: (reason) => Effect.fail(new Reply({ text: Messages.textProblem(reason.problem, "answer") })),
                NotFound: () =>
                  Effect.andThen(
                    conversations.clear(context.user.id),
                    Effect.fail(new Reply({ text: Messages.feedbackNotFound(id) }))
                  )
              })
            )
            yield* courier.send([
              {
                key: `${topic(id)}:answer:${context.updateId}`,
                kind: "notice",
                topic: topic(id),
                call: BotCall.sendMessage(item.authorId, Messages.feedbackAnswer(id, item.adminNote ?? ""))
              }
            ])
            yield* courier.answer([BotCall.sendMessage(context.chatId, Messages.feedbackReplySent(id))])
          })
        )
        yield* conversations.clear(context.user.id)
      })
    )
  })
)
