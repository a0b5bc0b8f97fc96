import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Option, Result } from "effect"
import { SqlClient } from "effect/sql"
import { CommentId, ConfessionId, UserId } from "../../src/domain/Ids.ts"
import { Empty, TooLong } from "../../src/domain/Validation.ts"
import { Confessions } from "../../src/services/Confessions.ts"
import { AlreadyDecided, InvalidReason, Moderation, NotFound, NotRejected } from "../../src/services/Moderation.ts"
import { StatsCache } from "../../src/services/StatsCache.ts"
import { Users } from "../../src/services/Users.ts"
import { duringUpdate, failure, newUser, servicesOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const Services = servicesOnDatabase(
  Layer.mergeAll(Confessions.layer({ confessionMaxLength: 3500 }), Moderation.layer),
  { ttl: "5 minutes", capacity: 1000 }
)

const alice = UserId.make(11)
const bob = UserId.make(12)
const missing = ConfessionId.make(987_654_321)

/** A fresh author with one pending confession. */
const pendingConfession = (text = "a confession", anonymous = true) =>
  Effect.gen(function* () {
    const author = yield* newUser({ firstName: "Carol", username: "carol_k" })
    const confession = yield* (yield* Confessions).submit({ author, text, anonymous })
    return { author, confession }
  })

interface AuditRow {
  readonly actorId: unknown
  readonly action: string
  readonly subjectKind: string
  readonly subjectId: unknown
  readonly detail: string | null
}

const auditOf = (kind: string, id: number) =>
  SqlClient.SqlClient.use((sql) =>
    sql<AuditRow>`
      select actor_id, action, subject_kind, subject_id, detail from audit_log
      where subject_kind = ${kind} and subject_id = ${id} order by id`
  )

const isBlocked = (user: UserId) =>
  Effect.map(
    Users.use((users) => users.get(user)),
    Option.match({ onNone: () => assert.fail("user vanished"), onSome: (u) => u.blocked })
  )

describe("Moderation", () => {
  layer(Services, { timeout: "180 seconds" })(TestDatabase.backend, (it) => {
    it.effect("approve - pending becomes approved and returns what the post and the notice need", () =>
      Effect.gen(function* () {
        const moderation = yield* Moderation
        const { author, confession } = yield* pendingConfession("hello channel", false)
        const approved = yield* moderation.approve(confession.id, alice)
        assert.strictEqual(approved.id, confession.id)
        assert.strictEqual(approved.status, "approved")
        assert.strictEqual(approved.text, "hello channel")
        assert.isFalse(approved.anonymous)
        assert.strictEqual(approved.authorId, author.id)
        assert.strictEqual(approved.authorFirstName, "Carol")
        assert.strictEqual(approved.authorUsername, "carol_k")
        assert.strictEqual(approved.decidedBy, alice)
        assert.instanceOf(approved.decidedAt, Date)
        const read = yield* (yield* Confessions).get(confession.id)
        assert.deepStrictEqual(Option.map(read, (c) => c.status), Option.some("approved"))
      }))

    it.effect("approve - two admins at the same instant: exactly one wins, 100 times", () =>
      Effect.gen(function* () {
        const moderation = yield* Moderation
        for (let round = 0; round < 100; round++) {
          const { confession } = yield* pendingConfession(`race ${round}`)
          const outcomes = yield* Effect.all(
            [Effect.result(moderation.approve(confession.id, alice)), Effect.result(moderation.approve(confession.id, bob))],
            { concurrency: 2 }
          )
          const wins = outcomes.filter(Result.isSuccess)
          const losses = outcomes.filter(Result.isFailure).map((r) => ("reason" in r.failure ? r.failure.reason : r.failure))
          assert.strictEqual(wins.length, 1, `round ${round}`)
          assert.deepStrictEqual(losses, [new AlreadyDecided({ status: "approved" })], `round ${round}`)
          // The stored decider is the winner
          const read = yield* (yield* Confessions).get(confession.id)
          assert.deepStrictEqual(
            Option.map(read, (c) => c.decidedBy),
            Option.some(wins[0]!.success.decidedBy)
          )
        }
      }), { timeout: 120_000 })

    it.effect("approve / reject - reject then approve fails AlreadyDecided and changes nothing", () =>
      Effect.gen(function* () {
        const moderation = yield* Moderation
        const { confession } = yield* pendingConfession()
        const rejected = yield* moderation.reject(confession.id, alice)
        assert.strictEqual(rejected.status, "rejected")
        assert.isNull(rejected.rejectReason)
        const again = yield* failure(moderation.approve(confession.id, bob))
        assert.deepStrictEqual(again.reason, new AlreadyDecided({ status: "rejected" }))
        const twice = yield* failure(moderation.reject(confession.id, bob))
        assert.deepStrictEqual(twice.reason, new AlreadyDecided({ status: "rejected" }))
        const read = yield* (yield* Confessions).get(confession.id)
        assert.deepStrictEqual(Option.map(read, (c) => [c.status, c.decidedBy] as const), Option.some(["rejected", alice] as const))
      }))

    it.effect("approve / reject - unknown id fails NotFound", () =>
      Effect.gen(function* () {
        const moderation = yield* Moderation
        assert.deepStrictEqual((yield* failure(moderation.approve(missing, alice))).reason, new NotFound())
        assert.deepStrictEqual((yield* failure(moderation.reject(missing, alice))).reason, new NotFound())
      }))

    it.effect("approve / reject - forget the author's cached statistics", () =>
      Effect.gen(function* () {
        const moderation = yield* Moderation
        const stats = yield* StatsCache
        const { author, confession } = yield* pendingConfession()
        const second = yield* (yield* Confessions).submit({ author, text: "second", anonymous: true })
        assert.strictEqual((yield* stats.profileOf(author.id)).approvedConfessions, 0) // now cached
        yield* moderation.approve(confession.id, alice)
        assert.strictEqual((yield* stats.profileOf(author.id)).approvedConfessions, 1)
        yield* moderation.reject(second.id, alice)
        assert.strictEqual((yield* stats.profileOf(author.id)).approvedConfessions, 1)
        yield* moderation.delete(confession.id, alice)
        assert.strictEqual((yield* stats.profileOf(author.id)).approvedConfessions, 0)
      }))

    it.effect("reject - with a reason stores the validated reason; a bad reason changes nothing", () =>
      Effect.gen(function* () {
        const moderation = yield* Moderation
        const { confession } = yield* pendingConfession()
        const blank = yield* failure(moderation.reject(confession.id, alice, "   "))
        assert.deepStrictEqual(blank.reason, new InvalidReason({ problem: new Empty() }))
        const long = yield* failure(moderation.reject(confession.id, alice, "x".repeat(501)))
        assert.deepStrictEqual(long.reason, new InvalidReason({ problem: new TooLong({ length: 501, maxLength: 500 }) }))
        const read = yield* (yield* Confessions).get(confession.id)
        assert.deepStrictEqual(Option.map(read, (c) => c.status), Option.some("pending"))
        const rejected = yield* moderation.reject(confession.id, alice, "  off-topic ")
        assert.strictEqual(rejected.rejectReason, "off-topic")
      }))

    it.effect("setRejectReason - only the rejecting admin, only once, only on a rejected confession", () =>
      Effect.gen(function* () {
        const moderation = yield* Moderation
        const { author, confession } = yield* pendingConfession()
        const early = yield* failure(moderation.setRejectReason(confession.id, alice, "too early"))
        assert.deepStrictEqual(early.reason, new NotRejected({ status: "pending" }))
        yield* moderation.reject(confession.id, alice)
        const other = yield* failure(moderation.setRejectReason(confession.id, bob, "not mine to give"))
        assert.strictEqual(other.reason._tag, "DecidedByAnotherAdmin")
        const invalid = yield* failure(moderation.setRejectReason(confession.id, alice, "\n"))
        assert.deepStrictEqual(invalid.reason, new InvalidReason({ problem: new Empty() }))
        const given = yield* moderation.setRejectReason(confession.id, alice, " please keep it civil ")
        assert.strictEqual(given.rejectReason, "please keep it civil")
        assert.strictEqual(given.authorId, author.id)
        assert.strictEqual(given.authorFirstName, "Carol")
        const twice = yield* failure(moderation.setRejectReason(confession.id, alice, "again"))
        assert.strictEqual(twice.reason._tag, "ReasonAlreadyGiven")
        const approved = (yield* pendingConfession()).confession
        yield* moderation.approve(approved.id, alice)
        const notRejected = yield* failure(moderation.setRejectReason(approved.id, alice, "why"))
        assert.deepStrictEqual(notRejected.reason, new NotRejected({ status: "approved" }))
        const unknown = yield* failure(moderation.setRejectReason(missing, alice, "why"))
        assert.deepStrictEqual(unknown.reason, new NotFound())
      }))

    it.effect("delete - marks deleted, returns the channel post, writes an audit row", () =>
      Effect.gen(function* () {
        const moderation = yield* Moderation
        const confessions = yield* Confessions
        const { confession } = yield* pendingConfession()
        yield* moderation.approve(confession.id, alice)
        const sql = yield* SqlClient.SqlClient
        yield* sql`update confessions set channel_message_id = 4242 where id = ${confession.id}`
        const deleted = yield* moderation.delete(confession.id, bob)
        assert.deepStrictEqual(deleted, { id: confession.id, text: confession.text, media: null, channelMessageId: Option.some(4242) })
        const read = yield* confessions.get(confession.id)
        assert.deepStrictEqual(Option.map(read, (c) => c.status), Option.some("deleted"))
        const audit = yield* auditOf("confession", confession.id)
        assert.deepStrictEqual(
          audit.map((row) => [Number(row.actorId), row.action, row.subjectKind, Number(row.subjectId)]),
          [[bob, "delete", "confession", confession.id]]
        )
        // Twice: refused, and no second audit row
        const again = yield* failure(moderation.delete(confession.id, bob))
        assert.deepStrictEqual(again.reason, new AlreadyDecided({ status: "deleted" }))
        assert.strictEqual((yield* auditOf("confession", confession.id)).length, 1)
        // A deleted confession can no longer be decided
        const approveDeleted = yield* failure(moderation.approve(confession.id, alice))
        assert.deepStrictEqual(approveDeleted.reason, new AlreadyDecided({ status: "deleted" }))
      }))

    it.effect("delete - from pending or rejected; nothing to delete in the channel; unknown id NotFound", () =>
      Effect.gen(function* () {
        const moderation = yield* Moderation
        const pending = (yield* pendingConfession()).confession
        assert.deepStrictEqual((yield* moderation.delete(pending.id, alice)).channelMessageId, Option.none())
        const rejected = (yield* pendingConfession()).confession
        yield* moderation.reject(rejected.id, alice)
        assert.deepStrictEqual((yield* moderation.delete(rejected.id, alice)).channelMessageId, Option.none())
        assert.deepStrictEqual((yield* failure(moderation.delete(missing, alice))).reason, new NotFound())
        assert.strictEqual((yield* auditOf("confession", missing)).length, 0)
      }))

    it.effect("blockAuthorOf - via a confession id blocks the author; the audit row never names them", () =>
      Effect.gen(function* () {
        const moderation = yield* Moderation
        const confessions = yield* Confessions
        const { author, confession } = yield* pendingConfession()
        const changed = yield* moderation.blockAuthorOf({ kind: "confession", id: confession.id }, alice)
        assert.isTrue(changed)
        assert.isTrue(yield* isBlocked(author.id))
        // The blocked author can no longer confess
        const refused = yield* failure(confessions.submit({ author, text: "let me in", anonymous: true }))
        assert.strictEqual(refused.reason._tag, "Blocked")

        const audit = yield* auditOf("confession", confession.id)
        assert.strictEqual(audit.length, 1)
        const row = audit[0]!
        assert.deepStrictEqual(
          [Number(row.actorId), row.action, row.subjectKind, Number(row.subjectId)],
          [alice, "block", "confession", confession.id]
        )
        assert.notInclude(JSON.stringify(audit, (_, v) => (typeof v === "bigint" ? String(v) : v)), String(author.id))
        const byUser = yield* auditOf("user", author.id)
        assert.strictEqual(byUser.length, 0)

        // Blocking again changes nothing
        assert.isFalse(yield* moderation.blockAuthorOf({ kind: "confession", id: confession.id }, bob))
        assert.isTrue(yield* isBlocked(author.id))
      }))

    it.effect("unblockAuthorOf - reverses the block and is audited", () =>
      Effect.gen(function* () {
        const moderation = yield* Moderation
        const { author, confession } = yield* pendingConfession()
        yield* moderation.blockAuthorOf({ kind: "confession", id: confession.id }, alice)
        assert.isTrue(yield* moderation.unblockAuthorOf({ kind: "confession", id: confession.id }, bob))
        assert.isFalse(yield* isBlocked(author.id))
        assert.isFalse(yield* moderation.unblockAuthorOf({ kind: "confession", id: confession.id }, bob))
        const audit = yield* auditOf("confession", confession.id)
        assert.deepStrictEqual(audit.map((row) => row.action), ["block", "unblock", "unblock"])
      }))

    it.effect("blockAuthorOf - via a comment id blocks the comment's author, not the confession's", () =>
      Effect.gen(function* () {
        const moderation = yield* Moderation
        const sql = yield* SqlClient.SqlClient
        const { author, confession } = yield* pendingConfession()
        yield* moderation.approve(confession.id, alice)
        const commenter = yield* newUser()
        const [comment] = yield* sql<{ readonly id: unknown }>`
          insert into comments (confession_id, author_id, text) values (${confession.id}, ${commenter.id}, 'rude')
          returning id`
        const commentId = CommentId.make(Number(comment!.id))
        assert.isTrue(yield* moderation.blockAuthorOf({ kind: "comment", id: commentId }, alice))
        assert.isTrue(yield* isBlocked(commenter.id))
        assert.isFalse(yield* isBlocked(author.id))
        const audit = yield* auditOf("comment", commentId)
        assert.deepStrictEqual(audit.map((row) => [row.action, Number(row.subjectId)]), [["block", commentId]])
        assert.notInclude(JSON.stringify(audit, (_, v) => (typeof v === "bigint" ? String(v) : v)), String(commenter.id))
      }))

    it.effect("blockAuthorOf / unblockAuthorOf - unknown content fails NotFound and writes no audit row", () =>
      Effect.gen(function* () {
        const moderation = yield* Moderation
        const unknownComment = CommentId.make(987_654_321)
        const a = yield* failure(moderation.blockAuthorOf({ kind: "confession", id: missing }, alice))
        assert.deepStrictEqual(a.reason, new NotFound())
        const b = yield* failure(moderation.unblockAuthorOf({ kind: "comment", id: unknownComment }, alice))
        assert.deepStrictEqual(b.reason, new NotFound())
        assert.strictEqual((yield* auditOf("confession", missing)).length, 0)
        assert.strictEqual((yield* auditOf("comment", unknownComment)).length, 0)
      }))

    it.effect("approve / reject / delete / block - claim the update being handled; a redelivery changes nothing", () =>
      Effect.gen(function* () {
        const moderation = yield* Moderation
        const confessions = yield* Confessions
        const { confession: first } = yield* pendingConfession()
        const { confession: second, author } = yield* pendingConfession()
        yield* moderation.approve(first.id, alice).pipe(duringUpdate(92_001))
        const replayed = yield* Effect.flip(moderation.reject(second.id, alice).pipe(duringUpdate(92_001)))
        assert.strictEqual(replayed._tag, "AlreadyProcessed")
        const status = (id: ConfessionId) => Effect.map(confessions.get(id), Option.map((c) => c.status))
        assert.deepStrictEqual(yield* status(second.id), Option.some("pending"))

        yield* moderation.delete(second.id, alice).pipe(duringUpdate(92_002))
        const deleteAgain = yield* Effect.flip(moderation.delete(second.id, alice).pipe(duringUpdate(92_002)))
        assert.strictEqual(deleteAgain._tag, "AlreadyProcessed")
        assert.strictEqual((yield* auditOf("confession", second.id)).length, 1)

        yield* moderation.blockAuthorOf({ kind: "confession", id: second.id }, alice).pipe(duringUpdate(92_003))
        const unblock = yield* Effect.flip(
          moderation.unblockAuthorOf({ kind: "confession", id: second.id }, alice).pipe(duringUpdate(92_003))
        )
        assert.strictEqual(unblock._tag, "AlreadyProcessed")
        assert.isTrue(yield* isBlocked(author.id))
      }))

    it.effect("blockAuthorOf / unblockAuthorOf - the author's next registration sees the new flag at once", () =>
      Effect.gen(function* () {
        const moderation = yield* Moderation
        const users = yield* Users
        const { author, confession } = yield* pendingConfession()
        const profile = { id: author.id, firstName: author.firstName, lastName: undefined, username: author.username ?? undefined }
        assert.isFalse((yield* users.register(profile)).blocked)
        yield* moderation.blockAuthorOf({ kind: "confession", id: confession.id }, alice)
        assert.isTrue((yield* users.register(profile)).blocked)
        yield* moderation.unblockAuthorOf({ kind: "confession", id: confession.id }, alice)
        assert.isFalse((yield* users.register(profile)).blocked)
      }))
  })
})
