// The buttons under comments: 👍 / 👎 (toggle and switch; the pressed comment's counts on the pressed message are
// rewritten in place from the numbers the press stored, or the page re-rendered when Telegram sent no keyboard),
// ⚠️ report (once per user; at REPORT_THRESHOLD every admin gets the comment with 🙈 Hide · ✔️ Keep), and the admins'
// decision, taken exactly once, with every admin's copy of the alert edited to the outcome.
import { Effect, Layer, Option } from "effect"
import type { InlineKeyboardMarkup } from "grammy/types"
import { AppConfig } from "../AppConfig.ts"
import type * as CallbackData from "../domain/CallbackData.ts"
import { type CommentId, UserId } from "../domain/Ids.ts"
import type * as Reaction from "../domain/Reaction.ts"
import { AdminNotifications } from "../services/AdminNotifications.ts"
import type { CommentRecord } from "../domain/Comment.ts"
import { Comments } from "../services/Comments.ts"
import type { Decision } from "../domain/Reaction.ts"
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
    const notifications = yield* AdminNotifications
    const telegram = yield* Telegram
    const config = yield* AppConfig

    const refused = {
      Blocked: () => Effect.fail(new Reply({ text: Messages.blocked, alert: true })),
      CommentNotFound: () => Effect.fail(new Reply({ text: Messages.commentNotFound }))
    }

    /**
     * Re-renders the comments or replies page the pressed message shows (which page: read back from its keyboard),
     * so the counts on its buttons are current: the fallback when the press did not carry a keyboard whose counts can
     * be rewritten. Best effort: the press itself is already stored.
     */
    const refresh = (comment: CommentRecord, chatId: number, messageId: number, keyboard: InlineKeyboardMarkup | undefined) => {
      const page = Keyboards.pageShown(keyboard)
      const view =
        comment.parentId === null
          ? Effect.map(comments.page({ confessionId: comment.confessionId, page }), CommentViews.commentsPage)
          : Effect.map(comments.replies({ commentId: comment.parentId, page }), CommentViews.repliesPage)
      return view.pipe(
        Effect.flatMap((rendered) => telegram.editMessageText(chatId, messageId, rendered.text, { replyMarkup: rendered.keyboard })),
        Effect.catchTags({
          // Hidden or deleted in the meantime: the toast already told the outcome.
          CommentsError: () => Effect.void,
          TelegramError: (error) => Effect.logWarning("could not refresh a comments view", error.message)
        })
      )
    }

    const press = (kind: Reaction.Kind) =>
      Effect.fn("Reactions.press")(function* (context: CommentButton) {
        const commentId = context.action.commentId
        const outcome = yield* reactions.toggle({ commentId, user: context.user, kind }).pipe(
          Effect.catchReasons("ReactionsError", refused)
        )
        yield* telegram.answerCallbackQuery(context.callbackQueryId, { text: Messages.reactionToast(kind, outcome) })
        if (context.messageId === undefined) return
        const keyboard = keyboardOf(context)
        // The press came with the message's keyboard: rewrite the pressed comment's two counts in it, no SQL.
        const counted = keyboard === undefined ? undefined : CommentViews.withReactionCounts(keyboard, commentId, outcome)
        if (counted !== undefined) {
          return yield* telegram.editMessageReplyMarkup(context.chatId, context.messageId, counted).pipe(
            Effect.catchTag("TelegramError", (error) => Effect.logWarning("could not update reaction counts", error.message))
          )
        }
        const comment = yield* comments.get(commentId)
        if (Option.isSome(comment)) yield* refresh(comment.value, context.chatId, context.messageId, keyboard)
      })

    yield* router.onCallback("Like", press("like"))
    yield* router.onCallback("Dislike", press("dislike"))

    /** Sends the alert to every admin and remembers each copy, so the decision can edit them all. */
    const alertAdmins = Effect.fnUntraced(function* (commentId: CommentId) {
      const comment = yield* comments.get(commentId)
      if (Option.isNone(comment)) return
      const alert = CommentViews.reportAlert(comment.value)
      for (const admin of config.adminIds) {
        const sent = yield* telegram.sendMessage(admin, alert.text, { replyMarkup: alert.keyboard }).pipe(
          Effect.map(Option.some),
          Effect.catchTag("TelegramError", (error) =>
            Effect.as(Effect.logWarning("could not alert an admin about a reported comment", error.message), Option.none())
          )
        )
        if (Option.isSome(sent)) {
          yield* notifications.record({
            kind: "report",
            subjectId: commentId,
            adminId: UserId.make(admin),
            chatId: admin,
            messageId: sent.value
          })
        }
      }
    })

    yield* router.onCallback(
      "Report",
      Effect.fn("Reactions.report")(function* (context) {
        const commentId = context.action.commentId
        const outcome = yield* reactions.report({ commentId, user: context.user }).pipe(
          Effect.catchReasons("ReactionsError", refused)
        )
        if (outcome.alert) yield* alertAdmins(commentId)
        yield* telegram.answerCallbackQuery(context.callbackQueryId, { text: Messages.reportToast(outcome) })
      })
    )

    /** Edits every admin's copy of the alert (and the pressed message, if it is not one of them) to the outcome. */
    const closeAlerts = Effect.fnUntraced(function* (
      commentId: CommentId,
      decision: Decision,
      pressed: { readonly chatId: number; readonly messageId: number | undefined }
    ) {
      const comment = yield* comments.get(commentId)
      if (Option.isNone(comment)) return
      const text = CommentViews.reportDecided(comment.value, decision)
      const copies = yield* notifications.copiesOf("report", commentId)
      const targets = copies.map((copy) => ({ chatId: copy.chatId, messageId: copy.messageId }))
      if (
        pressed.messageId !== undefined &&
        !targets.some((target) => target.chatId === pressed.chatId && target.messageId === pressed.messageId)
      ) {
        targets.push({ chatId: pressed.chatId, messageId: pressed.messageId })
      }
      yield* Effect.forEach(
        targets,
        (target) =>
          telegram.editMessageText(target.chatId, target.messageId, text, { replyMarkup: { inline_keyboard: [] } }).pipe(
            Effect.catchTag("TelegramError", (error) =>
              Effect.logWarning("could not update an admin's copy of a report alert", error.message)
            )
          ),
        { discard: true }
      )
    })

    const decide = (decision: Decision) =>
      Effect.fn("Reactions.decide")(function* (context: CommentButton) {
        const commentId = context.action.commentId
        const pressed = { chatId: context.chatId, messageId: context.messageId }
        yield* reactions.decide({ commentId, admin: context.user.id, decision }).pipe(
          Effect.catchReasons("ReactionsError", {
            AlreadyDecided: (reason) =>
              Effect.andThen(
                closeAlerts(commentId, reason.decision, pressed),
                Effect.fail(new Reply({ text: Messages.commentAlreadyDecided(reason.decision) }))
              ),
            CommentNotFound: refused.CommentNotFound
          })
        )
        yield* closeAlerts(commentId, decision, pressed)
        yield* telegram.answerCallbackQuery(context.callbackQueryId, { text: Messages.decisionToast(decision) })
      })

    yield* router.onCallback("HideComment", decide("hidden"), { adminOnly: true })
    yield* router.onCallback("KeepComment", decide("kept"), { adminOnly: true })
  })
)

/** A press of any button that carries a comment id (👍, 👎, 🙈, ✔️). */
type CommentButton = Omit<CallbackContext<CallbackData.Tag>, "action"> & {
  readonly action: { readonly commentId: CommentId }
}

/** The inline keyboard of the pressed message, as Telegram sent it with the press. */
const keyboardOf = (context: CommentButton): InlineKeyboardMarkup | undefined => {
  const message = context.update.callback_query?.message
  return message !== undefined && "reply_markup" in message ? message.reply_markup : undefined
}
