// The personal-data service on a real database: the export limit on the TestClock, the export's contents, and an
// erasure's claim on its update. The whole /mydata and /forget flows are in test/e2e/PersonalData.test.ts.
import { assert, describe, layer } from "@effect/vitest"
import { Duration, Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import { UserId } from "../../src/domain/Ids.ts"
import { PersonalData } from "../../src/services/PersonalData.ts"
import { Users } from "../../src/services/Users.ts"
import { Outbox } from "../../src/sql/Outbox.ts"
import { duringUpdate, newConfession, newUser, reasonOf, servicesOnDatabase } from "../support/Fixtures.ts"
import * as TestDatabase from "../support/TestDatabase.ts"

const Services = servicesOnDatabase(PersonalData.layer().pipe(Layer.provideMerge(Outbox.layer)))

describe("PersonalData", () => {
  layer(Services, { timeout: "120 seconds" })(TestDatabase.backend, (it) => {
    it.effect("allowExport - once per hour per person; the refusal says how long is left", () =>
      Effect.gen(function* () {
        const data = yield* PersonalData
        const ann = (yield* newUser()).id
        const ben = (yield* newUser()).id
        yield* data.allowExport(ann)
        yield* data.allowExport(ben)
        const first = yield* reasonOf(data.allowExport(ann))
        assert.strictEqual(first._tag, "TooSoon")
        assert.isTrue(first._tag === "TooSoon" && Duration.equals(first.retryAfter, Duration.hours(1)))
        yield* TestClock.adjust("59 minutes")
        const second = yield* reasonOf(data.allowExport(ann))
        assert.isTrue(second._tag === "TooSoon" && Duration.equals(second.retryAfter, Duration.minutes(1)))
        yield* TestClock.adjust("1 minute")
        yield* data.allowExport(ann)
        assert.strictEqual((yield* reasonOf(data.allowExport(ann)))._tag, "TooSoon", "and the next hour starts")
      }))

    it.effect("exportOf - the person's rows without the admins who decided; None for someone not stored", () =>
      Effect.gen(function* () {
        const data = yield* PersonalData
        const sql = yield* SqlClient.SqlClient
        const user = yield* newUser({ firstName: "Ivo", username: "ivo_x" })
        const id = yield* newConfession(user.id, "rejected")
        yield* sql`update confessions set decided_by = 900001, reject_reason = 'no' where id = ${id}`
        const exported = yield* data.exportOf(user.id)
        assert.isTrue(Option.isSome(exported))
        if (Option.isNone(exported)) return
        assert.deepInclude(exported.value.profile, { telegramId: user.id, firstName: "Ivo", username: "ivo_x", lastName: null })
        assert.deepStrictEqual(
          exported.value.confessions.map(({ id, status, rejectReason }) => ({ id, status, rejectReason })),
          [{ id, status: "rejected", rejectReason: "no" }]
        )
        assert.notInclude(JSON.stringify(exported.value), "900001")
        assert.deepStrictEqual(
          [exported.value.comments, exported.value.reactions, exported.value.reports, exported.value.feedback],
          [[], [], [], []]
        )
        assert.isTrue(Option.isNone(yield* data.exportOf(UserId.make(987_654_321))))
      }))

    it.effect("erase - claims its update: the row and an audit row go once; a redelivery erases nothing", () =>
      Effect.gen(function* () {
        const data = yield* PersonalData
        const users = yield* Users
        const sql = yield* SqlClient.SqlClient
        const user = yield* newUser({ firstName: "Once" })
        const [before] = yield* sql<{ n: number }>`select count(*)::int as n from audit_log where action = 'forget'`
        const erased = yield* data.erase(user.id, "keep").pipe(duringUpdate(830_001))
        assert.deepStrictEqual(erased, {
          confessions: [], kept: [], withdrawn: [], pending: [], comments: [], reported: [], feedback: [],
          openFeedback: [], affected: []
        })
        assert.isTrue(Option.isNone(yield* users.get(user.id)))
        // They write again (a new row), and the same update comes again: it is recognised and changes nothing.
        yield* users.forget(user.id)
        yield* users.register({ id: user.id, firstName: "Once", lastName: undefined, username: undefined })
        const again = yield* Effect.flip(data.erase(user.id, "keep").pipe(duringUpdate(830_001)))
        assert.strictEqual(again._tag, "AlreadyProcessed")
        assert.isTrue(Option.isSome(yield* users.get(user.id)))
        const [after] = yield* sql<{ n: number }>`select count(*)::int as n from audit_log where action = 'forget'`
        assert.strictEqual((after?.n ?? 0) - (before?.n ?? 0), 1)
      }))
  })
})
