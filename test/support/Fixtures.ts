// What the database-backed service tests share: the layers beneath the service under test, fresh users and
// confessions, and helpers that run an effect as the handling of an update or take its expected failure apart.
import { Effect, Layer, Option, Predicate, Ref } from "effect"
import { SqlClient } from "effect/sql"
import { ConfessionId, UpdateId, UserId } from "../../src/domain/Ids.ts"
import { StatsCache, type StatsCacheOptions } from "../../src/services/StatsCache.ts"
import type { RateLimits } from "../../src/services/Telegram.ts"
import { StatsQueries } from "../../src/services/StatsQueries.ts"
import { Users } from "../../src/services/Users.ts"
import { type AlreadyProcessed, CurrentUpdate, Processed } from "../../src/sql/Processed.ts"
import * as TestDatabase from "./TestDatabase.ts"

/** Users and Processed on a fresh, migrated database, all of them visible to the test. */
/** Telegram limits a test never meets (the emulator has none). */
export const unlimited: RateLimits = { globalPerSecond: 100_000, privateChatPerSecond: 100_000, privateChatBurst: 100_000, groupPerMinute: 100_000 }

export const usersOnDatabase = () =>
  Users.layer.pipe(
    Layer.provideMerge(Processed.layer({ retention: "48 hours", pruneInterval: "1 hour" })),
    Layer.provideMerge(TestDatabase.layer())
  )

/**
 * `services` over a StatsCache (on StatsQueries), Users, Processed and a fresh database. Every layer stays visible to
 * the test, so the test shares the instances the services use (it sees, for example, what they forget in the cache).
 */
export const servicesOnDatabase = <A, E, R>(
  services: Layer.Layer<A, E, R>,
  statsCache: StatsCacheOptions = { ttl: "5 minutes", capacity: 100 }
) =>
  services.pipe(
    Layer.provideMerge(StatsCache.layer(statsCache)),
    Layer.provideMerge(StatsQueries.layer),
    Layer.provideMerge(usersOnDatabase())
  )

// Every test gets its own users and confessions, so tests sharing a database never see each other's rows.
let lastUserId = 10_000

/** Registers a fresh user (ids far above the small ids tests use for admins); `blocked` blocks them afterwards. */
export const newUser = (
  profile: { readonly firstName?: string; readonly username?: string; readonly blocked?: boolean } = {}
) =>
  Effect.gen(function* () {
    const users = yield* Users
    const user = yield* users.register({
      id: UserId.make(++lastUserId),
      firstName: profile.firstName ?? "Test",
      lastName: undefined,
      username: profile.username
    })
    return profile.blocked === true ? yield* users.setBlocked(user.id, true) : user
  })

/** Inserts an anonymous confession straight into the table, in any state, without going through the services. */
export const newConfession = (
  author: UserId,
  status: "pending" | "approved" | "rejected" | "deleted" = "approved"
) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ id: bigint }>`
      insert into confessions (author_id, text, anonymous, status)
      values (${author}, ${"a confession"}, true, ${status})
      returning id`
    return ConfessionId.make(Number(row?.id))
  })

/** The reason of the expected failure (a success fails the test; an error without a reason is a defect). */
export const reasonOf = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.flip(effect), (error) =>
    Predicate.hasProperty(error, "reason")
      ? // The services' own errors are the members of E that carry a `reason`.
        Effect.succeed(error.reason as Extract<E, { readonly reason: unknown }>["reason"])
      : Effect.die(error)
  )

/** The error of an effect expected to fail; no update is being handled here, so a redelivery would be a defect. */
export const failure = <A, E, R>(effect: Effect.Effect<A, E | AlreadyProcessed, R>) =>
  Effect.flip(Effect.catchTag(effect, "AlreadyProcessed", Effect.die))

/**
 * Runs `effect` as the handling of update `id`, as the dispatcher does: its first transaction claims the id. Each
 * call gets a fresh claim flag, as a redelivery does.
 */
export const duringUpdate =
  (id: number) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.flatMap(Ref.make(false), (claimed) =>
      Effect.provideService(effect, CurrentUpdate, Option.some({ updateId: UpdateId.make(id), claimed }))
    )
