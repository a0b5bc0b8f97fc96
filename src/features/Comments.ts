// Reading and writing comments: the comments view (channel deep link `/start c<ID>`, `/comments <ID>`, paging in
// place), ➕ Add comment and `/comment <ID>` (awaiting comment), 💬 reply under a comment (awaiting reply), the replies
// view, and "someone commented on your confession" to the confession's author. Commenters are never named.
import { Effect, Layer, Option, Result } from "effect"
import { AppConfig } from "../AppConfig.ts"
import * as BotCall from "../domain/BotCall.ts"
import * as ContentRef from "../domain/ContentRef.ts"
import * as Conversation from "../domain/Conversation.ts"
import type { CommentId, ConfessionId, UserId } from "../domain/Ids.ts"
import * as Privacy from "../domain/Privacy.ts"
import { validateText } from "../domain/Validation.ts"
import { canParticipate } from "../domain/Permissions.ts"
import { ActivityLimits } from "../services/ActivityLimits.ts"
import { Comments } from "../services/Comments.ts"
import { Confessions } from "../services/Confessions.ts"
import { ConversationStore } from "../services/ConversationStore.ts"
import { Courier } from "../services/Courier.ts"
import { Telegram } from "../services/Telegram.ts"
import type { User } from "../services/Users.ts"
import { Reply, Router } from "../updates/Router.ts"
import * as CommentViews from "../views/CommentViews.ts"
import type * as Keyboards from "../views/Keyboards.ts"
import * as Messages from "../views/Messages.ts"

export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const comments = yield* Comments
    const confessions = yield* Confessions
    const conversations = yield* ConversationStore
    const telegram = yield* Telegram
    const courier = yield* Courier
    const limits = yield* ActivityLimits
    const config = yield* AppConfig

    const present = (chatId: number, messageId: number | undefined, view: Keyboards.View) =>
      telegram.sendOrEdit(chatId, messageId, view.text, { replyMarkup: view.keyboard })

    const notFound = (id: ConfessionId | string) => new Reply({ text: Messages.confessionNotFound(String(id)) })

    const showComments = (chatId: number, messageId: number | undefined, confessionId: ConfessionId, page: number) =>
      comments.page({ confessionId, page }).pipe(
        Effect.catchReasons("CommentsError", { ConfessionNotFound: () => Effect.fail(notFound(confessionId)) }),
        Effect.flatMap((view) => present(chatId, messageId, CommentViews.commentsPage(view)))
      )

    /** ➕ / `/comment <ID>`: only an approved confession takes comments, and only from someone not blocked. */
    const startComment = Effect.fnUntraced(function* (user: User, chatId: number, confessionId: ConfessionId) {
      if (!canParticipate(user)) return yield* new Reply({ text: Messages.blocked, alert: true })
      if (Option.isNone(yield* confessions.getVisible(confessionId))) return yield* notFound(confessionId)
      yield* conversations.set(user.id, Conversation.awaitingComment(confessionId))
      yield* telegram.sendMessage(chatId, Messages.askComment(confessionId, config.commentMaxLength))
    })

    /**
     * Stores the text as a comment (or a reply under `parentId`) together with the answer and the notices to the
     * confession's author and the replied comment's writer, unless they wrote it themselves. Notices go out
     * through the courier, never in this update, so nothing the writer waits for depends on who the author is. A text
     * problem keeps the flow so the user can try again; any other refusal ends it. The writer's hourly allowance
     * (COMMENTS_PER_HOUR) is spent only once the comment is stored, in the same transaction: a refusal for any other
     * reason spends nothing, and the limit's refusal rolls the comment and its notices back.
     */
    const write = Effect.fnUntraced(function* (
      user: User,
      chatId: number,
      text: string | undefined,
      confessionId: ConfessionId,
      parentId: CommentId | undefined
    ) {
      if (text === undefined) return yield* new Reply({ text: Messages.textOnly(parentId === undefined ? "comment" : "reply") })
      const ending = (reply: Reply) => Effect.andThen(conversations.clear(user.id), Effect.fail(reply))
      yield* courier.commit(
        Effect.gen(function* () {
          const added = yield* comments.add({ confessionId, author: user, text, parentId }).pipe(
            Effect.catchReasons("CommentsError", {
              Invalid: (reason) =>
                Effect.fail(
                  new Reply({ text: Messages.textProblem(reason.problem, parentId === undefined ? "comment" : "reply") })
                ),
              ConfessionNotFound: () => ending(notFound(confessionId)),
              CommentNotFound: () => ending(new Reply({ text: Messages.commentNotFound })),
              Blocked: () => ending(new Reply({ text: Messages.blocked }))
            })
          )
          yield* limits.spend(user.id, "comment").pipe(
            Effect.catchTag("ActivityLimitsError", (limit) =>
              ending(new Reply({ text: Messages.activityLimit(limit.activity, limit.perHour, limit.retryAfter) }))
            )
          )
          const done = parentId === undefined ? CommentViews.commentAdded(confessionId) : CommentViews.replyAdded(parentId)
          yield* courier.answer([BotCall.sendMessage(chatId, done.text, done.keyboard)])
          yield* courier.send(
            added.notify.map((addressee) => {
              const notice =
                addressee.about === "reply" && parentId !== undefined
                  ? CommentViews.newReplyNotice(confessionId, parentId)
                  : CommentViews.newCommentNotice(confessionId)
              return {
                key: `comment:${added.comment.id}:${addressee.about}`,
                kind: "notice",
                call: BotCall.sendMessage(addressee.userId, notice.text, notice.keyboard)
              }
            })
          )
        })
      )
      yield* conversations.clear(user.id)
    })

    yield* router.onDeepLink(
      Effect.fn("Comments.openFromLink")(function* (context) {
        yield* showComments(context.chatId, undefined, context.link.confessionId, 1)
      })
    )

    yield* router.onCommand(
      "comments",
      Effect.fn("Comments.open")(function* (context) {
        if (context.args === "") return yield* new Reply({ text: Messages.commentsUsage })
        const id = ContentRef.confession(context.args)
        if (Option.isNone(id)) return yield* notFound(context.args)
        yield* showComments(context.chatId, undefined, id.value, 1)
      })
    )

    yield* router.onCallback(
      "CommentsPage",
      Effect.fn("Comments.page")(function* (context) {
        yield* showComments(context.chatId, context.messageId, context.action.confessionId, context.action.page)
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
      })
    )

    yield* router.onCallback(
      "RepliesPage",
      Effect.fn("Comments.repliesPage")(function* (context) {
        const view = yield* comments.replies({ commentId: context.action.commentId, page: context.action.page }).pipe(
          Effect.catchReasons("CommentsError", {
            CommentNotFound: () => Effect.fail(new Reply({ text: Messages.commentNotFound }))
          })
        )
        yield* present(context.chatId, context.messageId, CommentViews.repliesPage(view))
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
      })
    )

    // The page counter between ⬅️ and ➡️ (here and in every other paged list) does nothing when pressed.
    yield* router.onCallback(
      "Noop",
      Effect.fn("Comments.noop")(function* (context) {
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
      })
    )

    yield* router.onCommand(
      "comment",
      Effect.fn("Comments.startFromCommand")(function* (context) {
        if (context.args === "") return yield* new Reply({ text: Messages.commentUsage })
        const id = ContentRef.confession(context.args)
        if (Option.isNone(id)) return yield* notFound(context.args)
        yield* startComment(context.user, context.chatId, id.value)
      })
    )

    yield* router.onCallback(
      "AddComment",
      Effect.fn("Comments.startFromButton")(function* (context) {
        yield* startComment(context.user, context.chatId, context.action.confessionId)
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
      })
    )

    yield* router.onCallback(
      "Reply",
      Effect.fn("Comments.startReply")(function* (context) {
        if (!canParticipate(context.user)) return yield* new Reply({ text: Messages.blocked, alert: true })
        // Only a visible comment (under an approved confession, not hidden) is quoted: a forged button on anything
        // else gets "not found" and learns nothing of it.
        const parent = yield* comments.getVisible(context.action.commentId)
        if (Option.isNone(parent)) return yield* new Reply({ text: Messages.commentNotFound })
        if (parent.value.parentId !== null) return yield* new Reply({ text: Messages.onlyTopLevelReplies })
        yield* conversations.set(context.user.id, Conversation.awaitingReply(parent.value.confessionId, parent.value.id))
        yield* telegram.sendMessage(context.chatId, Messages.askReply(parent.value, config.commentMaxLength))
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
      })
    )

    /**
     * A text for a comment or reply: posted at once, unless the privacy check finds something that identifies
     * people; then the writer sees what was found and chooses ✏️ Edit or ✅ Post anyway.
     */
    const checkThenWrite = Effect.fnUntraced(function* (
      user: User,
      chatId: number,
      text: string | undefined,
      confessionId: ConfessionId,
      parentId: CommentId | undefined
    ) {
      const what = parentId === undefined ? "comment" : "reply"
      if (text === undefined) return yield* new Reply({ text: Messages.textOnly(what) })
      const valid = validateText(text, config.commentMaxLength)
      if (Result.isFailure(valid)) return yield* new Reply({ text: Messages.textProblem(valid.failure, what) })
      const kinds = Privacy.scan(valid.success, config.privacyPatterns)
      if (kinds.length === 0) return yield* write(user, chatId, valid.success, confessionId, parentId)
      yield* conversations.set(user.id, Conversation.commentPreview(confessionId, parentId, valid.success))
      const view = CommentViews.privacyCheck(valid.success, kinds, what)
      yield* telegram.sendMessage(chatId, view.text, { replyMarkup: view.keyboard })
    })

    yield* router.onState(
      "AwaitingComment",
      Effect.fn("Comments.write")(function* (context) {
        yield* checkThenWrite(context.user, context.chatId, context.text, context.state.confessionId, undefined)
      })
    )

    yield* router.onState(
      "AwaitingReply",
      Effect.fn("Comments.writeReply")(function* (context) {
        yield* checkThenWrite(context.user, context.chatId, context.text, context.state.confessionId, context.state.commentId)
      })
    )

    // A new text while a flagged one waits replaces it, and is checked again.
    yield* router.onState(
      "CommentPreview",
      Effect.fn("Comments.rewrite")(function* (context) {
        const { confessionId, commentId } = context.state
        yield* checkThenWrite(context.user, context.chatId, context.text, confessionId, commentId)
      })
    )

    /** The flagged text waiting for a button, or "expired" (after /cancel, STATE_TTL, or a second press). */
    const flagged = (user: UserId) =>
      Effect.flatMap(conversations.get(user), (state) =>
        Option.isSome(state) && state.value._tag === "CommentPreview"
          ? Effect.succeed(state.value)
          : Effect.fail(new Reply({ text: Messages.commentPreviewExpired }))
      )

    yield* router.onCallback(
      "CommentPost",
      Effect.fn("Comments.postAnyway")(function* (context) {
        const preview = yield* flagged(context.user.id)
        yield* write(context.user, context.chatId, preview.text, preview.confessionId, preview.commentId)
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
      })
    )

    yield* router.onCallback(
      "CommentEdit",
      Effect.fn("Comments.edit")(function* (context) {
        const preview = yield* flagged(context.user.id)
        // Back to writing: the next text is checked again.
        yield* conversations.set(
          context.user.id,
          preview.commentId === undefined
            ? Conversation.awaitingComment(preview.confessionId)
            : Conversation.awaitingReply(preview.confessionId, preview.commentId)
        )
        yield* telegram.sendMessage(context.chatId, Messages.editComment)
        yield* telegram.answerCallbackQuery(context.callbackQueryId)
      })
    )
  })
)
