import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Option, Ref } from "effect"
import { SqlClient } from "effect/sql"
import { CommentId, UpdateId } from "../../src/domain/Ids.ts"
import type * as Reaction from "../../src/domain/Reaction.ts"
import { Comments } from "../../src/services/Comments.ts"
import { Reactions } from "../../src/services/Reactions.ts"
import { StatsCache } from "../../src/services/StatsCache.ts"
import { type User, Users } from "../../src/services/Users.ts"
import { CurrentUpdate } from "../../src/sql/Processed.ts"
import { duringUpdate, newConfession, newUser, reasonOf, servicesOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const reportThreshold = 3

// One StatsCache shared by the services and the test, so the test sees what the services forget.
const Services = servicesOnDatabase(
  Layer.mergeAll(Reactions.layer({ reportThreshold }), Comments.layer({ maxLength: 1000, pageSize: 5 })),
  { ttl: "1 hour", capacity: 1000 }
)

const newUsers = (count: number) =>
  Effect.forEach(Array.from({ length: count }), () => newUser(), { concurrency: 16 })

/** A visible comment by a fresh user under a fresh approved confession. */
const newComment = Effect.gen(function* () {
  const comments = yield* Comments
  const author = yield* newUser()
  const confessionId = yield* newConfession(author.id)
  const { comment } = yield* comments.add({ confessionId, author, text: "a comment" })
  return { author, confessionId, commentId: comment.id }
})

/** The stored counters next to the rows they count. */
const counts = (commentId: CommentId) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{
      likes: number
      dislikes: number
      reports: number
      likeRows: number
      dislikeRows: number
      reportRows: number
    }>`
      select likes, dislikes, reports,
        (select count(*)::int from reactions where comment_id = c.id and kind = 'like') as like_rows,
        (select count(*)::int from reactions where comment_id = c.id and kind = 'dislike') as dislike_rows,
        (select count(*)::int from reports where comment_id = c.id) as report_rows
      from comments c where id = ${commentId}`
    if (row === undefined) return assert.fail(`comment ${commentId} is gone`)
    return row
  })

const assertConsistent = (commentId: CommentId) =>
  Effect.gen(function* () {
    const row = yield* counts(commentId)
    assert.strictEqual(row.likes, row.likeRows, "likes counter = like rows")
    assert.strictEqual(row.dislikes, row.dislikeRows, "dislikes counter = dislike rows")
    assert.strictEqual(row.reports, row.reportRows, "reports counter = report rows")
    return row
  })

const toggle = (commentId: CommentId, user: User, kind: Reaction.Kind) =>
  Reactions.use((reactions) => reactions.toggle({ commentId, user, kind }))

describe("Reactions", () => {
  layer(Services, { timeout: "120 seconds" })(TestDatabase.backend, (it) => {
    it.effect("toggle - like, like again removes, the other kind switches", () =>
      Effect.gen(function* () {
        const { commentId } = yield* newComment
        const ann = yield* newUser()
        const bob = yield* newUser()
        assert.deepStrictEqual(yield* toggle(commentId, ann, "like"), { likes: 1, dislikes: 0, mine: "like" })
        assert.deepStrictEqual(yield* toggle(commentId, bob, "dislike"), { likes: 1, dislikes: 1, mine: "dislike" })
        assert.deepStrictEqual(yield* toggle(commentId, ann, "like"), { likes: 0, dislikes: 1, mine: null })
        assert.deepStrictEqual(yield* toggle(commentId, ann, "dislike"), { likes: 0, dislikes: 2, mine: "dislike" })
        assert.deepStrictEqual(yield* toggle(commentId, ann, "like"), { likes: 1, dislikes: 1, mine: "like" })
        assert.deepStrictEqual(yield* toggle(commentId, bob, "dislike"), { likes: 1, dislikes: 0, mine: null })
        yield* assertConsistent(commentId)
      }))

    it.effect("toggle - a redelivered press is applied once; a new press toggles", () =>
      Effect.gen(function* () {
        const { commentId } = yield* newComment
        const ann = yield* newUser()
        yield* toggle(commentId, ann, "like").pipe(duringUpdate(7_000_001))
        const again = yield* Effect.flip(toggle(commentId, ann, "like").pipe(duringUpdate(7_000_001)))
        assert.strictEqual(again._tag, "AlreadyProcessed")
        assert.strictEqual((yield* assertConsistent(commentId)).likes, 1)
        const reactions = yield* Reactions
        const report = yield* Effect.flip(reactions.report({ commentId, user: ann }).pipe(duringUpdate(7_000_001)))
        assert.strictEqual(report._tag, "AlreadyProcessed")
        assert.strictEqual((yield* assertConsistent(commentId)).reports, 0)
        assert.deepStrictEqual(yield* toggle(commentId, ann, "like").pipe(duringUpdate(7_000_002)), { likes: 0, dislikes: 0, mine: null })
      }))

    it.effect("toggle - claims its update in the press's own statement; a redelivery changes nothing, even when refused", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const { commentId } = yield* newComment
        const ann = yield* newUser()
        const recorded = (id: number) =>
          Effect.map(sql<{ n: number }>`select count(*)::int as n from processed_updates where update_id = ${id}`, ([row]) => row?.n)
        const claimed = yield* Ref.make(false)
        const first = toggle(commentId, ann, "like").pipe(
          Effect.provideService(CurrentUpdate, Option.some({ updateId: UpdateId.make(7_100_001), claimed }))
        )
        assert.deepStrictEqual(yield* first, { likes: 1, dislikes: 0, mine: "like" })
        assert.isTrue(yield* Ref.get(claimed), "the update is marked claimed, so the dispatcher does not record it again")
        assert.strictEqual(yield* recorded(7_100_001), 1)
        // Later writes of the same update (already claimed) do not claim again.
        assert.deepStrictEqual(yield* first, { likes: 0, dislikes: 0, mine: null })
        // A refused press still records its update, like a committed claiming transaction did.
        const missing = CommentId.make(987_654_321)
        assert.strictEqual((yield* reasonOf(toggle(missing, ann, "like").pipe(duringUpdate(7_100_002))))._tag, "CommentNotFound")
        assert.strictEqual(yield* recorded(7_100_002), 1)
        assert.strictEqual((yield* Effect.flip(toggle(missing, ann, "like").pipe(duringUpdate(7_100_002))))._tag, "AlreadyProcessed")
        // Redelivered after it was applied: nothing changes, whatever the user holds now.
        const redelivered = yield* Effect.flip(toggle(commentId, ann, "dislike").pipe(duringUpdate(7_100_001)))
        assert.strictEqual(redelivered._tag, "AlreadyProcessed")
        const row = yield* assertConsistent(commentId)
        assert.deepStrictEqual([row.likes, row.dislikes], [0, 0])
      }))

    it.effect("toggle - the same update delivered 20 times at once is applied exactly once", () =>
      Effect.gen(function* () {
        const { commentId } = yield* newComment
        const ann = yield* newUser()
        const results = yield* Effect.forEach(
          Array.from({ length: 20 }),
          () => Effect.result(toggle(commentId, ann, "like").pipe(duringUpdate(7_200_001))),
          { concurrency: "unbounded" }
        )
        const applied = results.flatMap((r) => (r._tag === "Success" ? [r.success] : []))
        const skipped = results.filter((r) => r._tag === "Failure" && r.failure._tag === "AlreadyProcessed")
        assert.deepStrictEqual(applied, [{ likes: 1, dislikes: 0, mine: "like" }])
        assert.strictEqual(skipped.length, 19)
        const row = yield* assertConsistent(commentId)
        assert.deepStrictEqual([row.likes, row.dislikes], [1, 0])
      }))

    it.effect("toggle - 500 users liking at once, each press its own update (claimed in the statement), make 500 likes", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const { commentId } = yield* newComment
        const users = yield* newUsers(500)
        const results = yield* Effect.forEach(
          users,
          (user, index) => toggle(commentId, user, "like").pipe(duringUpdate(7_300_000 + index)),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(new Set(results.map((result) => result.likes)).size, 500)
        const row = yield* assertConsistent(commentId)
        assert.deepStrictEqual([row.likes, row.likeRows, row.dislikes], [500, 500, 0])
        const [claims] = yield* sql<{ n: number }>`
          select count(*)::int as n from processed_updates where update_id between 7300000 and 7300499`
        assert.strictEqual(claims?.n, 500)
      }))

    it.effect("toggle - 500 users liking one comment at once make exactly 500 likes", () =>
      Effect.gen(function* () {
        const { commentId } = yield* newComment
        const users = yield* newUsers(500)
        const results = yield* Effect.forEach(users, (user) => toggle(commentId, user, "like"), {
          concurrency: "unbounded"
        })
        assert.isTrue(results.every((result) => result.mine === "like"))
        // Each press saw a distinct total: the counter went up under the row lock, one by one.
        assert.strictEqual(new Set(results.map((result) => result.likes)).size, 500)
        const row = yield* assertConsistent(commentId)
        assert.deepStrictEqual([row.likes, row.likeRows, row.dislikes], [500, 500, 0])
      }))

    it.effect("toggle - one user pressing like 20 times at once ends with 0 or 1 like, never more", () =>
      Effect.gen(function* () {
        const { commentId } = yield* newComment
        const user = yield* newUser()
        const results = yield* Effect.forEach(Array.from({ length: 20 }), () => toggle(commentId, user, "like"), {
          concurrency: "unbounded"
        })
        const row = yield* assertConsistent(commentId)
        assert.include([0, 1], row.likes)
        assert.isTrue(results.every((result) => result.likes <= 1 && result.dislikes === 0))
      }))

    it.effect("toggle - one user mashing like and dislike at once keeps one row and true counters", () =>
      Effect.gen(function* () {
        const { commentId } = yield* newComment
        const user = yield* newUser()
        yield* Effect.forEach(
          Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? "dislike" : "like") as Reaction.Kind),
          (kind) => toggle(commentId, user, kind),
          { concurrency: "unbounded" }
        )
        const row = yield* assertConsistent(commentId)
        assert.isAtMost(row.likes + row.dislikes, 1)
        const last = yield* toggle(commentId, user, "like")
        const after = yield* assertConsistent(commentId)
        assert.deepStrictEqual([last.likes, last.dislikes], [after.likes, after.dislikes])
      }))

    it.effect("toggle - blocked users, hidden and missing comments are refused", () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const users = yield* Users
        const { commentId, confessionId } = yield* newComment
        const fresh = yield* newUser()
        const stale = yield* newUser()
        const blocked = yield* users.setBlocked(fresh.id, true)
        assert.strictEqual((yield* reasonOf(toggle(commentId, blocked, "like")))._tag, "Blocked")
        yield* users.setBlocked(stale.id, true)
        assert.strictEqual((yield* reasonOf(toggle(commentId, stale, "like")))._tag, "Blocked")
        const ok = yield* newUser()
        const missing = yield* reasonOf(toggle(CommentId.make(987_654_321), ok, "like"))
        assert.deepStrictEqual(missing._tag === "CommentNotFound" ? missing.id : undefined, 987_654_321)
        yield* sql`update comments set hidden = true where id = ${commentId}`
        assert.strictEqual((yield* reasonOf(toggle(commentId, ok, "like")))._tag, "CommentNotFound")
        yield* sql`update comments set hidden = false where id = ${commentId}`
        yield* sql`update confessions set status = 'deleted' where id = ${confessionId}`
        assert.strictEqual((yield* reasonOf(toggle(commentId, ok, "dislike")))._tag, "CommentNotFound")
        const row = yield* assertConsistent(commentId)
        assert.deepStrictEqual([row.likes, row.dislikes], [0, 0])
      }))

    it.effect("toggle - forgets the comment author's cached profile numbers", () =>
      Effect.gen(function* () {
        const stats = yield* StatsCache
        const { author, commentId } = yield* newComment
        const fan = yield* newUser()
        assert.strictEqual((yield* stats.profileOf(author.id)).likesReceived, 0)
        yield* toggle(commentId, fan, "like")
        assert.strictEqual((yield* stats.profileOf(author.id)).likesReceived, 1)
        yield* toggle(commentId, fan, "dislike")
        const profile = yield* stats.profileOf(author.id)
        assert.deepStrictEqual([profile.likesReceived, profile.dislikesReceived], [0, 1])
      }))

    it.effect("report - counts once per user and alerts exactly at the threshold", () =>
      Effect.gen(function* () {
        const reactions = yield* Reactions
        const { commentId } = yield* newComment
        const a = yield* newUser()
        const b = yield* newUser()
        const c = yield* newUser()
        const d = yield* newUser()
        const report = (user: User) => reactions.report({ commentId, user })
        assert.deepStrictEqual(yield* report(a), { reports: 1, counted: true, alert: false })
        assert.deepStrictEqual(yield* report(a), { reports: 1, counted: false, alert: false })
        assert.deepStrictEqual(yield* report(b), { reports: 2, counted: true, alert: false })
        assert.deepStrictEqual(yield* report(c), { reports: 3, counted: true, alert: true })
        assert.deepStrictEqual(yield* report(c), { reports: 3, counted: false, alert: false })
        assert.deepStrictEqual(yield* report(d), { reports: 4, counted: true, alert: false })
        yield* assertConsistent(commentId)
      }))

    it.effect("report - concurrent reports raise exactly one alert", () =>
      Effect.gen(function* () {
        const reactions = yield* Reactions
        const { commentId } = yield* newComment
        const users = yield* newUsers(30)
        // Every user reports twice at once: 60 presses, 30 reports.
        const results = yield* Effect.forEach([...users, ...users], (user) => reactions.report({ commentId, user }), {
          concurrency: "unbounded"
        })
        assert.strictEqual(results.filter((r) => r.alert).length, 1)
        assert.strictEqual(results.filter((r) => r.counted).length, 30)
        const row = yield* assertConsistent(commentId)
        assert.strictEqual(row.reports, 30)
      }))

    it.effect("report - blocked users and hidden comments are refused", () =>
      Effect.gen(function* () {
        const reactions = yield* Reactions
        const users = yield* Users
        const sql = yield* SqlClient.SqlClient
        const { commentId } = yield* newComment
        const u = yield* newUser()
        const v = yield* newUser()
        const blocked = yield* users.setBlocked(u.id, true)
        assert.strictEqual((yield* reasonOf(reactions.report({ commentId, user: blocked })))._tag, "Blocked")
        yield* sql`update comments set hidden = true where id = ${commentId}`
        assert.strictEqual((yield* reasonOf(reactions.report({ commentId, user: v })))._tag, "CommentNotFound")
      }))

    it.effect("decide - hide removes the comment from the view, exactly once", () =>
      Effect.gen(function* () {
        const reactions = yield* Reactions
        const comments = yield* Comments
        const stats = yield* StatsCache
        const { author, commentId, confessionId } = yield* newComment
        const admin = yield* newUser()
        assert.strictEqual((yield* stats.profileOf(author.id)).commentsWritten, 1)
        yield* reactions.decide({ commentId, admin: admin.id, decision: "hidden" })
        const view = yield* comments.page({ confessionId, page: 1 })
        assert.deepStrictEqual(view.items.map((c) => c.id), [])
        assert.strictEqual((yield* stats.profileOf(author.id)).commentsWritten, 0)
        const again = yield* reasonOf(reactions.decide({ commentId, admin: admin.id, decision: "kept" }))
        assert.deepStrictEqual(again._tag === "AlreadyDecided" ? again.decision : again._tag, "hidden")
      }))

    it.effect("decide - two admins at once: one decision wins, the other is told which", () =>
      Effect.gen(function* () {
        const reactions = yield* Reactions
        const comments = yield* Comments
        const { commentId, confessionId } = yield* newComment
        const a = yield* newUser()
        const b = yield* newUser()
        const outcomes = yield* Effect.forEach(
          [
            { admin: a.id, decision: "kept" as const },
            { admin: b.id, decision: "hidden" as const },
            { admin: a.id, decision: "hidden" as const },
            { admin: b.id, decision: "kept" as const }
          ],
          ({ admin, decision }) => Effect.result(reactions.decide({ commentId, admin, decision })),
          { concurrency: "unbounded" }
        )
        const wins = outcomes.filter((o) => o._tag === "Success")
        const losses = outcomes.flatMap((o) =>
          o._tag === "Failure" && o.failure._tag === "ReactionsError" ? [o.failure.reason] : []
        )
        assert.strictEqual(wins.length, 1)
        assert.strictEqual(losses.length, 3)
        const decisions = new Set(losses.map((r) => (r._tag === "AlreadyDecided" ? r.decision : r._tag)))
        assert.strictEqual(decisions.size, 1)
        const [decision] = decisions
        const visible = (yield* comments.page({ confessionId, page: 1 })).items.length
        assert.strictEqual(visible, decision === "kept" ? 1 : 0)
      }))

    it.effect("decide - keep leaves the comment; hiding a reply takes it off the parent's count", () =>
      Effect.gen(function* () {
        const reactions = yield* Reactions
        const comments = yield* Comments
        const { author, commentId, confessionId } = yield* newComment
        const admin = yield* newUser()
        yield* reactions.decide({ commentId, admin: admin.id, decision: "kept" })
        assert.strictEqual((yield* comments.page({ confessionId, page: 1 })).items.length, 1)
        const reply = (yield* comments.add({ confessionId, author, text: "reply", parentId: commentId })).comment
        yield* comments.add({ confessionId, author, text: "another", parentId: commentId })
        yield* reactions.decide({ commentId: reply.id, admin: admin.id, decision: "hidden" })
        const view = yield* comments.page({ confessionId, page: 1 })
        assert.deepStrictEqual(view.items.map((c) => c.replies), [1])
        const replies = yield* comments.replies({ commentId, page: 1 })
        assert.deepStrictEqual(replies.items.map((c) => c.text), ["another"])
        const missing = yield* reasonOf(
          reactions.decide({ commentId: CommentId.make(987_654_321), admin: admin.id, decision: "hidden" })
        )
        assert.strictEqual(missing._tag, "CommentNotFound")
      }))
  })
})
