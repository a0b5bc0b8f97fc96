// 👍 / 👎 under comments: toggle and switch. The pressed comment's counts on the pressed message are rewritten in place
// from the numbers the press stored, or the page re-rendered when Telegram sent no keyboard. A press is one SQL
// statement that also claims its update; its answer (the toast and the counts) is a refresh computed from that
// statement and sent at once, not an outbox row: the press itself is stored exactly once either way, and a count left
// stale by a crash is corrected by the next view.
import { Effect, Layer, Option } from "effect"
import type { InlineKeyboardMarkup } from "grammy/types"
import type * as CallbackData from "../domain/CallbackData.ts"
import type { CommentRecord } from "../domain/Comment.ts"
import type { CommentId } from "../domain/Ids.ts"
import type * as Reaction from "../domain/Reaction.ts"
import { Comments } from "../services/Comments.ts"
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
    const telegram = yield* Telegram

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
        const keyboard = context.keyboard
        // The press came with the message's keyboard: rewrite the pressed comment's two counts in it, no SQL.
        const counted = keyboard === undefined ? undefined : CommentViews.withReactionCounts(keyboard, commentId, outcome)
        if (counted !== undefined) {
          return yield* telegram.editMessageReplyMarkup(context.chatId, context.messageId, counted).pipe(
            Effect.catchTag("TelegramError", (error) => Effect.logWarning("could not update reaction counts", error.message))
          )
        }
        const comment = yield* comments.getVisible(commentId)
        if (Option.isSome(comment)) yield* refresh(comment.value, context.chatId, context.messageId, keyboard)
      })

    yield* router.onCallback("Like", press("like"))
    yield* router.onCallback("Dislike", press("dislike"))
  })
)

/** A press of any button that carries a comment id (👍, 👎, 🙈, ✔️). */
type CommentButton = Omit<CallbackContext<CallbackData.Tag>, "action"> & {
  readonly action: { readonly commentId: CommentId }
}
