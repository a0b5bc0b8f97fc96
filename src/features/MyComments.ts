// "My comments": `/mycomments` and the 💬 My comments button of the profile show the user's own comments and replies,
// newest first, each with the confession it belongs to; paging edits the message in place.
import { Effect, Layer } from "effect"
import { Comments } from "../services/Comments.ts"
import { Telegram } from "../services/Telegram.ts"
import { Router } from "../updates/Router.ts"
import * as CommentViews from "../views/CommentViews.ts"

export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const comments = yield* Comments
    const telegram = yield* Telegram

    yield* router.onCommand(
      "mycomments",
      Effect.fn("MyComments.show")(function* (context) {
        const view = CommentViews.myComments(yield* comments.listByAuthor({ author: context.user.id, page: 1 }))
        yield* telegram.sendMessage(context.chatId, view.text, { replyMarkup: view.keyboard })
      })
    )

    yield* router.onCallback(
      "MyCommentsPage",
      Effect.fn("MyComments.page")(function* (context) {
        const view = CommentViews.myComments(
          yield* comments.listByAuthor({ author: context.user.id, page: context.action.page })
        )
        yield* telegram.sendOrEdit(context.chatId, context.messageId, view.text, { replyMarkup: view.keyboard })
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
      })
    )
  })
)
