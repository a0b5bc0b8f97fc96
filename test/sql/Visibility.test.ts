// The one visibility rule (src/sql/Visibility.ts) through every service read path that uses it: a confession is
// visible when approved; a comment when it is not hidden and its confession is visible. Each state a confession can
// leave the channel in (pending, rejected, deleted) and a hidden comment are checked against every path, and the
// moderators' `get` is checked to keep seeing all of it.
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import type { CommentId, ConfessionId } from "../../src/domain/Ids.ts"
import { Comments } from "../../src/services/Comments.ts"
import { Confessions } from "../../src/services/Confessions.ts"
import { Reactions } from "../../src/services/Reactions.ts"
import { StatsQueries } from "../../src/services/StatsQueries.ts"
import type { User } from "../../src/services/Users.ts"
import { newConfession, newUser, servicesOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const Services = servicesOnDatabase(
  Layer.mergeAll(
    Comments.layer({ maxLength: 1000, pageSize: 5 }),
    Reactions.layer({ reportThreshold: 1 }),
    Confessions.layer({ confessionMaxLength: 1000 })
  ),
  // No caching: the profile numbers are read afresh every time.
  { ttl: "0 seconds", capacity: 0 }
)

/**
 * An approved confession with a comment and a reply under it (both by `writer`), both reported once; then the
 * confession is moved to `status` (approved leaves it visible).
 */
const thread = (writer: User, status: "approved" | "pending" | "rejected" | "deleted") =>
  Effect.gen(function* () {
    const comments = yield* Comments
    const reactions = yield* Reactions
    const sql = yield* SqlClient.SqlClient
    const author = yield* newUser()
    const reporter = yield* newUser()
    const confessionId = yield* newConfession(author.id)
    const comment = (yield* comments.add({ confessionId, author: writer, text: `comment (${status})` })).comment
    const reply = (yield* comments.add({ confessionId, author: writer, text: `reply (${status})`, parentId: comment.id }))
      .comment
    yield* reactions.report({ commentId: comment.id, user: reporter })
    yield* sql`update confessions set status = ${status} where id = ${confessionId}`
    return { confessionId, commentId: comment.id, replyId: reply.id }
  })

/** What each non-moderator read path and action answers for a thread. */
const everyPath = (reader: User, confessionId: ConfessionId, commentId: CommentId, replyId: CommentId) =>
  Effect.gen(function* () {
    const comments = yield* Comments
    const confessions = yield* Confessions
    const reactions = yield* Reactions
    const outcome = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.match(effect, { onFailure: (e) => tagOf(e), onSuccess: () => "ok" })
    return {
      confession: Option.isSome(yield* confessions.getVisible(confessionId)),
      page: yield* outcome(comments.page({ confessionId, page: 1 })),
      replies: yield* outcome(comments.replies({ commentId, page: 1 })),
      comment: Option.isSome(yield* comments.getVisible(commentId)),
      reply: Option.isSome(yield* comments.getVisible(replyId)),
      addComment: yield* outcome(comments.add({ confessionId, author: reader, text: "hello" })),
      addReply: yield* outcome(comments.add({ confessionId, author: reader, text: "hello", parentId: commentId })),
      like: yield* outcome(reactions.toggle({ commentId, user: reader, kind: "like" })),
      likeReply: yield* outcome(reactions.toggle({ commentId: replyId, user: reader, kind: "like" })),
      report: yield* outcome(reactions.report({ commentId, user: reader }))
    }
  })

const tagOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "reason" in error
    ? String((error.reason as { readonly _tag: string })._tag)
    : String(error)

const hiddenEverywhere = {
  confession: false,
  page: "ConfessionNotFound",
  replies: "CommentNotFound",
  comment: false,
  reply: false,
  addComment: "ConfessionNotFound",
  addReply: "ConfessionNotFound",
  like: "CommentNotFound",
  likeReply: "CommentNotFound",
  report: "CommentNotFound"
}

describe("Visibility", () => {
  layer(Services, { timeout: "120 seconds" })(TestDatabase.backend, (it) => {
    it.effect("every read path and action - approved content is visible and open to everyone", () =>
      Effect.gen(function* () {
        const writer = yield* newUser()
        const reader = yield* newUser()
        const { confessionId, commentId, replyId } = yield* thread(writer, "approved")
        assert.deepStrictEqual(yield* everyPath(reader, confessionId, commentId, replyId), {
          confession: true,
          page: "ok",
          replies: "ok",
          comment: true,
          reply: true,
          addComment: "ok",
          addReply: "ok",
          like: "ok",
          likeReply: "ok",
          report: "ok"
        })
      }))

    it.effect("every read path and action - nothing under a pending, rejected or deleted confession exists for anyone", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        for (const status of ["pending", "rejected", "deleted"] as const) {
          const writer = yield* newUser()
          const reader = yield* newUser()
          const { confessionId, commentId, replyId } = yield* thread(writer, status)
          assert.deepStrictEqual(yield* everyPath(reader, confessionId, commentId, replyId), hiddenEverywhere, status)
          // Nothing was written by the refused actions.
          const [written] = yield* sql<{ comments: number; reactions: number; reports: number }>`
            select
              (select count(*)::int from comments where confession_id = ${confessionId}) as comments,
              (select count(*)::int from reactions where comment_id in (${commentId}, ${replyId})) as reactions,
              (select count(*)::int from reports where comment_id = ${commentId}) as reports`
          assert.deepStrictEqual(written, { comments: 2, reactions: 0, reports: 1 }, status)
        }
      }))

    it.effect("every read path and action - a hidden comment and its thread are gone (its replies stay readable by id only); its siblings stay", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const sql = yield* SqlClient.SqlClient
        const writer = yield* newUser()
        const reader = yield* newUser()
        const { confessionId, commentId, replyId } = yield* thread(writer, "approved")
        const sibling = (yield* comments.add({ confessionId, author: writer, text: "sibling" })).comment
        yield* sql`update comments set hidden = true where id = ${commentId}`
        const paths = yield* everyPath(reader, confessionId, commentId, replyId)
        assert.deepStrictEqual(paths, {
          ...hiddenEverywhere,
          confession: true,
          page: "ok",
          // The reply itself is not hidden: it stays readable by id, but nobody can reach its thread or answer it.
          reply: true,
          likeReply: "ok",
          addComment: "ok",
          addReply: "CommentNotFound"
        })
        const view = yield* comments.page({ confessionId, page: 1 })
        assert.deepStrictEqual(
          view.items.map((c) => c.text),
          ["hello", "sibling"]
        )
        assert.isTrue(Option.isSome(yield* comments.getVisible(sibling.id)))
      }))

    it.effect("reported - lists only visible comments; the writer's own list and numbers keep theirs, hidden ones aside", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const stats = yield* StatsQueries
        const sql = yield* SqlClient.SqlClient
        const writer = yield* newUser()
        const shown = yield* thread(writer, "approved")
        for (const status of ["pending", "rejected", "deleted"] as const) yield* thread(writer, status)
        // Reported (threshold 1) and undecided: only the comment under the approved confession is listed.
        const reported = yield* comments.reported({ page: 1, pageSize: 100, threshold: 1 })
        const listedTexts = reported.items.map((c) => c.text)
        assert.include(reported.items.map((c) => c.id), shown.commentId)
        for (const status of ["pending", "rejected", "deleted"]) assert.notInclude(listedTexts, `comment (${status})`)
        // "My comments" and the profile are the writer's own words: outside the rule, but hidden ones stay out.
        yield* sql`update comments set hidden = true where id = ${shown.replyId}`
        const mine = yield* comments.listByAuthor({ author: writer.id, page: 1, pageSize: 10 })
        assert.deepStrictEqual(
          mine.items.map((c) => c.text),
          ["reply (deleted)", "comment (deleted)", "reply (rejected)", "comment (rejected)", "reply (pending)",
            "comment (pending)", "comment (approved)"]
        )
        assert.strictEqual((yield* stats.profileOf(writer.id)).commentsWritten, 7)
      }))

    it.effect("get - moderators still see every comment and confession, whatever its state", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const confessions = yield* Confessions
        const sql = yield* SqlClient.SqlClient
        const writer = yield* newUser()
        for (const status of ["approved", "pending", "rejected", "deleted"] as const) {
          const { confessionId, commentId, replyId } = yield* thread(writer, status)
          yield* sql`update comments set hidden = true where id = ${replyId}`
          assert.isTrue(Option.isSome(yield* confessions.get(confessionId)), status)
          assert.isTrue(Option.isSome(yield* comments.get(commentId)), status)
          assert.deepStrictEqual(Option.map(yield* comments.get(replyId), (c) => c.hidden), Option.some(true), status)
        }
      }))
  })
})
