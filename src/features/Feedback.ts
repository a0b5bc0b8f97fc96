// Feedback to the admins: `/feedback` (awaiting feedback, or the text right after the command) stores it, thanks the
// user and notifies every admin with ✔️ Resolve; admins page through open items with `/feedbacks` and resolve each
// exactly once, after which it leaves the list (edited in place) and every admin's notification shows it resolved.
import { Effect, Layer, Option } from "effect"
import type { InlineKeyboardMarkup, MaybeInaccessibleMessage } from "grammy/types"
import { AppConfig } from "../AppConfig.ts"
import * as Conversation from "../domain/Conversation.ts"
import { type FeedbackId, UserId } from "../domain/Ids.ts"
import { AdminNotifications } from "../services/AdminNotifications.ts"
import type { FeedbackItem } from "../domain/Feedback.ts"
import { Feedback } from "../services/Feedback.ts"
import { ConversationStore } from "../services/ConversationStore.ts"
import { Telegram } from "../services/Telegram.ts"
import { type User, Users } from "../services/Users.ts"
import { Reply, Router } from "../updates/Router.ts"
import * as Keyboards from "../views/Keyboards.ts"
import * as FeedbackViews from "../views/FeedbackViews.ts"
import * as Messages from "../views/Messages.ts"

export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const feedback = yield* Feedback
    const users = yield* Users
    const notifications = yield* AdminNotifications
    const conversations = yield* ConversationStore
    const telegram = yield* Telegram
    const config = yield* AppConfig

    const present = (chatId: number, messageId: number | undefined, view: Keyboards.View) =>
      telegram.sendOrEdit(chatId, messageId, view.text, { replyMarkup: view.keyboard })

    const authorOf = (item: FeedbackItem) =>
      Effect.map(users.get(item.authorId), (user) => ({
        id: item.authorId,
        firstName: Option.getOrUndefined(Option.map(user, (u) => u.firstName))
      }))

    const openList = Effect.fnUntraced(function* (page: number) {
      const shown = yield* feedback.listOpen({ page })
      const authors = yield* Effect.forEach(shown.items, authorOf, { concurrency: 4 })
      const names = new Map<UserId, string>()
      for (const author of authors) if (author.firstName !== undefined) names.set(author.id, author.firstName)
      return FeedbackViews.openList(shown, names)
    })

    const notifyAdmins = Effect.fnUntraced(function* (item: FeedbackItem, author: User) {
      const notice = FeedbackViews.notification(item, { id: author.id, firstName: author.firstName })
      for (const admin of config.adminIds) {
        const sent = yield* telegram.sendMessage(admin, notice.text, { replyMarkup: notice.keyboard }).pipe(
          Effect.map(Option.some),
          Effect.catchTag("TelegramError", (error) =>
            Effect.as(Effect.logWarning("could not notify an admin about feedback", error.message), Option.none())
          )
        )
        if (Option.isSome(sent)) {
          yield* notifications.record({
            kind: "feedback",
            subjectId: item.id,
            adminId: UserId.make(admin),
            chatId: admin,
            messageId: sent.value
          })
        }
      }
    })

    const submit = Effect.fnUntraced(function* (user: User, chatId: number, text: string | undefined) {
      if (text === undefined) return yield* new Reply({ text: Messages.textOnly("feedback") })
      const item = yield* feedback.submit({ author: user, text }).pipe(
        Effect.catchReasons("FeedbackError", {
          Invalid: (reason) => Effect.fail(new Reply({ text: Messages.textProblem(reason.problem, "feedback") }))
        })
      )
      yield* conversations.clear(user.id)
      yield* telegram.sendMessage(chatId, Messages.feedbackThanks)
      yield* notifyAdmins(item, user)
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
        yield* present(context.chatId, undefined, yield* openList(1))
      }),
      { adminOnly: true }
    )

    yield* router.onCallback(
      "FeedbackPage",
      Effect.fn("Feedback.page")(function* (context) {
        yield* present(context.chatId, context.messageId, yield* openList(context.action.page))
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
      }),
      { adminOnly: true }
    )

    /** Every admin's notification of the item now shows it resolved, without the button. */
    const closeNotifications = Effect.fnUntraced(function* (id: FeedbackId) {
      const item = yield* feedback.get(id)
      if (Option.isNone(item)) return []
      const text = FeedbackViews.resolvedNotification(item.value, yield* authorOf(item.value))
      const copies = yield* notifications.copiesOf("feedback", id)
      yield* Effect.forEach(
        copies,
        (copy) =>
          telegram.editMessageText(copy.chatId, copy.messageId, text, { replyMarkup: { inline_keyboard: [] } }).pipe(
            Effect.catchTag("TelegramError", (error) =>
              Effect.logWarning("could not update an admin's feedback notification", error.message)
            )
          ),
        { discard: true }
      )
      return copies
    })

    yield* router.onCallback(
      "FeedbackResolve",
      Effect.fn("Feedback.resolve")(function* (context) {
        const id = context.action.feedbackId
        const toast = yield* feedback.resolve(id, context.user.id).pipe(
          Effect.as(Messages.feedbackResolved(id)),
          Effect.catchReasons("FeedbackError", {
            AlreadyResolved: () => Effect.succeed(Messages.feedbackAlreadyResolved(id)),
            NotFound: () => Effect.fail(new Reply({ text: Messages.feedbackNotFound(id) }))
          })
        )
        const copies = yield* closeNotifications(id)
        const pressedCopy = copies.some((copy) => copy.chatId === context.chatId && copy.messageId === context.messageId)
        // Pressed in the `/feedbacks` list: show the same page again, without the resolved item.
        if (!pressedCopy && context.messageId !== undefined) {
          const page = Keyboards.pageShown(keyboardOf(context.update.callback_query?.message))
          yield* present(context.chatId, context.messageId, yield* openList(page))
        }
        yield* telegram.answerCallbackQuery(context.callbackQueryId, { text: toast })
      }),
      { adminOnly: true }
    )
  })
)

/** The inline keyboard of the pressed message, as Telegram sent it with the press. */
const keyboardOf = (message: MaybeInaccessibleMessage | undefined): InlineKeyboardMarkup | undefined =>
  message !== undefined && "reply_markup" in message ? message.reply_markup : undefined
