import { assert, describe, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { SqlClient } from "effect/sql"
import { CommentId, ConfessionId, UserId } from "../../src/domain/Ids.ts"
import { Comments, Invalid } from "../../src/services/Comments.ts"
import { StatsCache } from "../../src/services/StatsCache.ts"
import { Users } from "../../src/services/Users.ts"
import { duringUpdate, newConfession, newUser, reasonOf, servicesOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

// One StatsCache shared by the service and the test, so the test sees what the service forgets.
const Services = servicesOnDatabase(Comments.layer({ maxLength: 50, pageSize: 5 }), { ttl: "1 hour", capacity: 100 })

describe("Comments", () => {
  layer(Services, { timeout: "120 seconds" })(TestDatabase.backend, (it) => {
    it.effect("add - stores the trimmed text and says whom to tell: the confession's author, or nobody for their own", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const author = yield* newUser()
        const reader = yield* newUser()
        const id = yield* newConfession(author.id)
        const added = yield* comments.add({ confessionId: id, author: reader, text: "  nice one  " })
        assert.strictEqual(added.comment.text, "nice one")
        assert.strictEqual(added.comment.confessionId, id)
        assert.isNull(added.comment.parentId)
        assert.isFalse(added.comment.authorTag)
        assert.deepStrictEqual(added.notify, [{ userId: author.id, about: "comment" }])
        assert.notProperty(added.comment, "authorId")
        const own = yield* comments.add({ confessionId: id, author, text: "thanks" })
        assert.isTrue(own.comment.authorTag)
        assert.deepStrictEqual(own.notify, [])
        // A reply tells the replied comment's writer and the confession's author, never the writer, nobody twice.
        const third = yield* newUser()
        const reply = yield* comments.add({ confessionId: id, author: third, text: "+1", parentId: added.comment.id })
        assert.deepStrictEqual(reply.notify, [
          { userId: reader.id, about: "reply" },
          { userId: author.id, about: "comment" }
        ])
        const byAuthor = yield* comments.add({ confessionId: id, author, text: "thank you", parentId: added.comment.id })
        assert.deepStrictEqual(byAuthor.notify, [{ userId: reader.id, about: "reply" }])
        const selfReply = yield* comments.add({ confessionId: id, author: reader, text: "p.s.", parentId: added.comment.id })
        assert.deepStrictEqual(selfReply.notify, [{ userId: author.id, about: "comment" }])
        const underOwn = yield* comments.add({ confessionId: id, author: reader, text: "?", parentId: own.comment.id })
        assert.deepStrictEqual(underOwn.notify, [{ userId: author.id, about: "reply" }])
      }))

    it.effect("add - only approved confessions take comments", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const author = yield* newUser()
        for (const status of ["pending", "rejected", "deleted"] as const) {
          const id = yield* newConfession(author.id, status)
          const reason = yield* reasonOf(comments.add({ confessionId: id, author, text: "hello" }))
          assert.deepStrictEqual([reason._tag, "id" in reason ? reason.id : undefined], ["ConfessionNotFound", id], status)
        }
        const missing = ConfessionId.make(987_654_321)
        const reason = yield* reasonOf(comments.add({ confessionId: missing, author, text: "hello" }))
        assert.strictEqual(reason._tag, "ConfessionNotFound")
      }))

    it.effect("add - blocked authors are refused, also when blocked after they were loaded", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const users = yield* Users
        const author = yield* newUser()
        const id = yield* newConfession(author.id)
        const blocked = yield* newUser({ blocked: true })
        assert.strictEqual((yield* reasonOf(comments.add({ confessionId: id, author: blocked, text: "x" })))._tag, "Blocked")
        const stale = yield* newUser()
        yield* users.setBlocked(stale.id, true)
        assert.strictEqual((yield* reasonOf(comments.add({ confessionId: id, author: stale, text: "x" })))._tag, "Blocked")
        const page = yield* comments.page({ confessionId: id, page: 1 })
        assert.strictEqual(page.total, 0)
      }))

    it.effect("add - empty or too long text is Invalid and nothing is stored", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const author = yield* newUser()
        const id = yield* newConfession(author.id)
        const empty = yield* reasonOf(comments.add({ confessionId: id, author, text: "  \n " }))
        assert.strictEqual(empty instanceof Invalid ? empty.problem._tag : empty._tag, "Empty")
        const long = yield* reasonOf(comments.add({ confessionId: id, author, text: "x".repeat(51) }))
        assert.strictEqual(long instanceof Invalid ? long.problem._tag : long._tag, "TooLong")
        yield* comments.add({ confessionId: id, author, text: "x".repeat(50) })
        assert.strictEqual((yield* comments.page({ confessionId: id, page: 1 })).total, 1)
      }))

    it.effect("add - replies are counted on their parent and listed under it, oldest first", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const author = yield* newUser()
        const reader = yield* newUser()
        const id = yield* newConfession(author.id)
        const parent = (yield* comments.add({ confessionId: id, author: reader, text: "parent" })).comment
        for (const text of ["r1", "r2", "r3"]) {
          const reply = yield* comments.add({ confessionId: id, author, text, parentId: parent.id })
          assert.strictEqual(reply.comment.parentId, parent.id)
          assert.isTrue(reply.comment.authorTag)
        }
        const view = yield* comments.page({ confessionId: id, page: 1 })
        assert.deepStrictEqual(view.items.map((c) => [c.text, c.replies]), [["parent", 3]])
        const replies = yield* comments.replies({ commentId: parent.id, page: 1, pageSize: 2 })
        assert.strictEqual(replies.parent.id, parent.id)
        assert.strictEqual(replies.parent.replies, 3)
        assert.deepStrictEqual(replies.items.map((c) => c.text), ["r1", "r2"])
        assert.deepStrictEqual([replies.page, replies.totalPages, replies.total], [1, 2, 3])
        const last = yield* comments.replies({ commentId: parent.id, page: 9999, pageSize: 2 })
        assert.deepStrictEqual(last.items.map((c) => c.text), ["r3"])
        assert.strictEqual(last.page, 2)
        assert.deepStrictEqual(Option.map(yield* comments.get(parent.id), (c) => c.replies), Option.some(3))
      }))

    it.effect("add - a reply needs a visible top-level comment of the same confession", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const sql = yield* SqlClient.SqlClient
        const author = yield* newUser()
        const id = yield* newConfession(author.id)
        const other = yield* newConfession(author.id)
        const parent = (yield* comments.add({ confessionId: id, author, text: "parent" })).comment
        const reply = (yield* comments.add({ confessionId: id, author, text: "reply", parentId: parent.id })).comment
        const hidden = (yield* comments.add({ confessionId: id, author, text: "hidden" })).comment
        yield* sql`update comments set hidden = true where id = ${hidden.id}`
        const attempts: ReadonlyArray<readonly [ConfessionId, CommentId, string]> = [
          [id, reply.id, "reply to a reply"],
          [id, hidden.id, "reply to a hidden comment"],
          [other, parent.id, "parent under another confession"],
          [id, CommentId.make(987_654_321), "missing parent"]
        ]
        for (const [confessionId, parentId, label] of attempts) {
          const reason = yield* reasonOf(comments.add({ confessionId, author, text: "no", parentId }))
          assert.deepStrictEqual([reason._tag, "id" in reason ? reason.id : undefined], ["CommentNotFound", parentId], label)
        }
        assert.deepStrictEqual(Option.map(yield* comments.get(parent.id), (c) => c.replies), Option.some(1))
        assert.deepStrictEqual(Option.map(yield* comments.get(hidden.id), (c) => c.replies), Option.some(0))
        const replies = yield* comments.replies({ commentId: parent.id, page: 1 })
        assert.deepStrictEqual(replies.items.map((c) => c.text), ["reply"])
      }))

    it.effect("add - a redelivered update stores its comment once", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const author = yield* newUser()
        const id = yield* newConfession(author.id)
        yield* comments.add({ confessionId: id, author, text: "once" }).pipe(duringUpdate(7_000_001))
        const again = yield* Effect.flip(comments.add({ confessionId: id, author, text: "once" }).pipe(duringUpdate(7_000_001)))
        assert.strictEqual(again._tag, "AlreadyProcessed")
        assert.strictEqual((yield* comments.page({ confessionId: id, page: 1 })).total, 1)
      }))

    it.effect("add - forgets the author's cached profile numbers", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const stats = yield* StatsCache
        const author = yield* newUser()
        const id = yield* newConfession(author.id)
        assert.strictEqual((yield* stats.profileOf(author.id)).commentsWritten, 0)
        yield* comments.add({ confessionId: id, author, text: "one" })
        assert.strictEqual((yield* stats.profileOf(author.id)).commentsWritten, 1)
      }))

    it.effect("page - 23 comments make 5 pages of 5, newest first; forged pages are clamped", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const author = yield* newUser()
        const id = yield* newConfession(author.id)
        for (let i = 1; i <= 23; i++) yield* comments.add({ confessionId: id, author, text: `c${i}` })
        const first = yield* comments.page({ confessionId: id, page: 1 })
        assert.deepStrictEqual(first.confession, { id, text: "a confession", media: null })
        assert.deepStrictEqual(first.items.map((c) => c.text), ["c23", "c22", "c21", "c20", "c19"])
        assert.deepStrictEqual([first.page, first.totalPages, first.total], [1, 5, 23])
        const second = yield* comments.page({ confessionId: id, page: 2 })
        assert.deepStrictEqual(second.items.map((c) => c.text), ["c18", "c17", "c16", "c15", "c14"])
        for (const page of [5, 6, 9999, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY]) {
          const last = yield* comments.page({ confessionId: id, page })
          assert.deepStrictEqual(last.items.map((c) => c.text), ["c3", "c2", "c1"], `page ${page}`)
          assert.strictEqual(last.page, 5)
        }
        for (const page of [0, -1, -9999, Number.NaN, Number.NEGATIVE_INFINITY]) {
          const clamped = yield* comments.page({ confessionId: id, page })
          assert.strictEqual(clamped.page, 1, `page ${page}`)
          assert.strictEqual(clamped.items[0]?.text, "c23")
        }
        const wide = yield* comments.page({ confessionId: id, page: 1, pageSize: 10 })
        assert.deepStrictEqual([wide.items.length, wide.totalPages], [10, 3])
        const forgedSize = yield* comments.page({ confessionId: id, page: 2, pageSize: -3 })
        assert.deepStrictEqual([forgedSize.items.length, forgedSize.page, forgedSize.totalPages], [1, 2, 23])
      }))

    it.effect("page - hidden comments and replies stay out; author ids never appear", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const sql = yield* SqlClient.SqlClient
        const author = yield* newUser()
        const reader = yield* newUser()
        const id = yield* newConfession(author.id)
        const kept = (yield* comments.add({ confessionId: id, author: reader, text: "kept" })).comment
        const hidden = (yield* comments.add({ confessionId: id, author: reader, text: "hidden" })).comment
        yield* comments.add({ confessionId: id, author, text: "reply", parentId: kept.id })
        yield* sql`update comments set hidden = true where id = ${hidden.id}`
        const view = yield* comments.page({ confessionId: id, page: 1 })
        assert.deepStrictEqual(view.items.map((c) => c.text), ["kept"])
        assert.strictEqual(view.total, 1)
        assert.notProperty(view.confession, "authorId")
        for (const item of view.items) assert.notProperty(item, "authorId")
        assert.notInclude(JSON.stringify(view), String(reader.id))
        assert.notInclude(JSON.stringify(view), String(author.id))
      }))

    it.effect("page - an approved confession without comments has one empty page; others are not found", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const author = yield* newUser()
        const id = yield* newConfession(author.id)
        const empty = yield* comments.page({ confessionId: id, page: 7 })
        assert.deepStrictEqual([empty.items.length, empty.page, empty.totalPages, empty.total], [0, 1, 1, 0])
        for (const status of ["pending", "rejected", "deleted"] as const) {
          const hiddenFrom = yield* newConfession(author.id, status)
          const reason = yield* reasonOf(comments.page({ confessionId: hiddenFrom, page: 1 }))
          assert.strictEqual(reason._tag, "ConfessionNotFound", status)
        }
      }))

    it.effect("replies - not found for a reply, a hidden or a missing comment", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const sql = yield* SqlClient.SqlClient
        const author = yield* newUser()
        const id = yield* newConfession(author.id)
        const parent = (yield* comments.add({ confessionId: id, author, text: "parent" })).comment
        const reply = (yield* comments.add({ confessionId: id, author, text: "reply", parentId: parent.id })).comment
        const view = yield* comments.replies({ commentId: parent.id, page: -1 })
        assert.deepStrictEqual([view.page, view.totalPages, view.total], [1, 1, 1])
        for (const commentId of [reply.id, CommentId.make(987_654_321)]) {
          assert.strictEqual((yield* reasonOf(comments.replies({ commentId, page: 1 })))._tag, "CommentNotFound")
        }
        yield* sql`update comments set hidden = true where id = ${parent.id}`
        assert.strictEqual((yield* reasonOf(comments.replies({ commentId: parent.id, page: 1 })))._tag, "CommentNotFound")
      }))

    it.effect("listByAuthor - the user's visible comments, newest first, with their confession ids", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const sql = yield* SqlClient.SqlClient
        const author = yield* newUser()
        const writer = yield* newUser()
        const a = yield* newConfession(author.id)
        const b = yield* newConfession(author.id)
        const first = (yield* comments.add({ confessionId: a, author: writer, text: "on a" })).comment
        yield* comments.add({ confessionId: b, author: writer, text: "on b" })
        yield* comments.add({ confessionId: a, author: writer, text: "reply on a", parentId: first.id })
        const gone = (yield* comments.add({ confessionId: b, author: writer, text: "hidden" })).comment
        yield* comments.add({ confessionId: a, author, text: "someone else's" })
        yield* sql`update comments set hidden = true where id = ${gone.id}`
        const mine = yield* comments.listByAuthor({ author: writer.id, page: 1, pageSize: 2 })
        assert.deepStrictEqual(mine.items.map((c) => [c.text, c.confessionId]), [["reply on a", a], ["on b", b]])
        assert.deepStrictEqual([mine.page, mine.totalPages, mine.total], [1, 2, 3])
        const last = yield* comments.listByAuthor({ author: writer.id, page: 50, pageSize: 2 })
        assert.deepStrictEqual(last.items.map((c) => c.text), ["on a"])
        const nobody = yield* comments.listByAuthor({ author: UserId.make(987_654_321), page: 3 })
        assert.deepStrictEqual([nobody.items.length, nobody.page, nobody.totalPages, nobody.total], [0, 1, 1, 0])
      }))

    it.effect("get - any comment by id, hidden ones flagged; None when missing", () =>
      Effect.gen(function* () {
        const comments = yield* Comments
        const sql = yield* SqlClient.SqlClient
        const author = yield* newUser()
        const id = yield* newConfession(author.id)
        const added = (yield* comments.add({ confessionId: id, author, text: "look" })).comment
        assert.deepStrictEqual(yield* comments.get(added.id), Option.some(added))
        yield* sql`update comments set hidden = true where id = ${added.id}`
        assert.deepStrictEqual(Option.map(yield* comments.get(added.id), (c) => c.hidden), Option.some(true))
        assert.isTrue(Option.isNone(yield* comments.get(CommentId.make(987_654_321))))
      }))
  })
})
