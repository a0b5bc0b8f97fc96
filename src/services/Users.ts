// The users repository: every interaction registers or touches its Telegram user, and the rest of the program
// reads anonymity defaults, block flags and reachability from here. Registration is remembered for a short while
// (`touchInterval`), so a user's burst of updates costs one upsert, not one per update; this process's own writes
// refresh the remembered row, and writes that must see the latest block flag re-check it in SQL. A user's own change
// (the anonymity default) claims the update being handled, so a redelivered 🎭 toggle does not flip it back.
import { Clock, Context, Data, Duration, Effect, Layer, Option, Ref, Schema } from "effect"
import { SqlClient, SqlSchema } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { UserId } from "../domain/Ids.ts"
import { storable } from "../domain/Validation.ts"
import { Int8 } from "../sql/Rows.ts"
import { type AlreadyProcessed, Processed } from "../sql/Processed.ts"

/** What Telegram tells us about a person on every update. */
export interface TelegramProfile {
  readonly id: UserId
  readonly firstName: string
  readonly lastName: string | undefined
  readonly username: string | undefined
}

export class User extends Schema.Class<User>("User")({
  id: Int8.pipe(Schema.decodeTo(UserId)),
  firstName: Schema.String,
  lastName: Schema.NullOr(Schema.String),
  username: Schema.NullOr(Schema.String),
  anonymousDefault: Schema.Boolean,
  blocked: Schema.Boolean,
  inactive: Schema.Boolean,
  createdAt: Schema.Date,
  lastSeenAt: Schema.Date
}) {}

export interface UsersOptions {
  /** How long a registration is remembered before the next update refreshes names and last-seen time. */
  readonly touchInterval: Duration.Duration
  /** How many users are remembered at most (least recently registered forgotten first). */
  readonly remembered: number
}

export class UsersError extends Data.TaggedError("UsersError")<{
  readonly reason: "NotFound"
  readonly userId: UserId
}> {}

export class Users extends Context.Service<
  Users,
  {
    /** Creates the user on first contact, otherwise refreshes names and last-seen time (and reachability). */
    readonly register: (profile: TelegramProfile) => Effect.Effect<User, SqlError>
    readonly get: (id: UserId) => Effect.Effect<Option.Option<User>, SqlError>
    /** The user's own change: claims the current update, so a redelivered toggle fails `AlreadyProcessed`. */
    readonly setAnonymity: (
      id: UserId,
      anonymous: boolean
    ) => Effect.Effect<User, SqlError | UsersError | AlreadyProcessed>
    readonly setBlocked: (id: UserId, blocked: boolean) => Effect.Effect<User, SqlError | UsersError>
    /** The user blocked the bot: stop sending them anything until they write again. */
    readonly markInactive: (id: UserId) => Effect.Effect<void, SqlError>
    /** Drops the remembered row, e.g. after a write elsewhere changed the user (blocking by content id). */
    readonly forget: (id: UserId) => Effect.Effect<void>
  }
>()("confessions/services/Users") {
  /** Needs the SqlClient and the processed-updates ledger (the user's own writes claim the update). */
  static readonly layer: Layer.Layer<Users, never, SqlClient.SqlClient | Processed> = Layer.suspend(() =>
    Users.layerWith({ touchInterval: Duration.minutes(1), remembered: 10_000 })
  )

  static readonly layerWith = (options: UsersOptions): Layer.Layer<Users, never, SqlClient.SqlClient | Processed> => Layer.effect(
    Users,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const processed = yield* Processed
      // user id -> the row as last written or read, and when; insertion-ordered, so the oldest goes first.
      const recent = yield* Ref.make(new Map<UserId, { readonly user: User; readonly at: number }>())
      const touchMillis = Duration.toMillis(options.touchInterval)
      const remember = (user: User) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) =>
          Ref.update(recent, (map) => {
            map.delete(user.id)
            map.set(user.id, { user, at })
            if (map.size > options.remembered) {
              const oldest = map.keys().next()
              if (!oldest.done) map.delete(oldest.value)
            }
            return map
          })
        )
      const forgetUser = (id: UserId) => Ref.update(recent, (map) => (map.delete(id), map))
      const rememberedFresh = (profile: TelegramProfile) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const entry = (yield* Ref.get(recent)).get(profile.id)
          if (entry === undefined || now - entry.at >= touchMillis) return Option.none<User>()
          const user = entry.user
          const names = storedNames(profile)
          const sameNames =
            user.firstName === names.firstName && user.lastName === names.lastName && user.username === names.username
          return sameNames && !user.inactive ? Option.some(user) : Option.none<User>()
        })

      const upsert = SqlSchema.findOne({
        Request: Schema.Struct({
          id: UserId,
          firstName: Schema.String,
          lastName: Schema.NullOr(Schema.String),
          username: Schema.NullOr(Schema.String)
        }),
        Result: User,
        execute: (p) => sql`
          insert into users (id, first_name, last_name, username)
          values (${p.id}, ${p.firstName}, ${p.lastName}, ${p.username})
          on conflict (id) do update set
            first_name = excluded.first_name,
            last_name = excluded.last_name,
            username = excluded.username,
            inactive = false,
            last_seen_at = now()
          returning *`
      })

      const byId = SqlSchema.findOneOption({
        Request: UserId,
        Result: User,
        execute: (id) => sql`select * from users where id = ${id}`
      })

      const setFlag = (column: "anonymous_default" | "blocked", id: UserId, value: boolean) =>
        SqlSchema.findOneOption({
          Request: UserId,
          Result: User,
          execute: (userId) => sql`update users set ${sql(column)} = ${value} where id = ${userId} returning *`
        })(id).pipe(
          Effect.catchTag("SchemaError", Effect.die),
          Effect.flatMap(
            Option.match({
              onNone: () => Effect.fail(new UsersError({ reason: "NotFound", userId: id })),
              onSome: Effect.succeed
            })
          )
        )

      return Users.of({
        // Runs for every update (inside the router's span), mostly from the cache: a span of its own with a captured
        // stack costs more than the look-up and tells an operator nothing the update's span does not.
        register: Effect.fnUntraced(function* (profile) {
          const remembered = yield* rememberedFresh(profile)
          if (Option.isSome(remembered)) return remembered.value
          return yield* upsert(storedNames(profile)).pipe(Effect.catchTag(["SchemaError", "NoSuchElementError"], Effect.die), Effect.tap(remember))
        }),
        get: Effect.fn("Users.get")(function* (id) {
          return yield* byId(id).pipe(Effect.catchTag("SchemaError", Effect.die))
        }),
        setAnonymity: Effect.fn("Users.setAnonymity")(function* (id, anonymous) {
          return yield* processed.transaction(setFlag("anonymous_default", id, anonymous)).pipe(Effect.tap(remember))
        }),
        setBlocked: Effect.fn("Users.setBlocked")(function* (id, blocked) {
          return yield* setFlag("blocked", id, blocked).pipe(Effect.tap(remember))
        }),
        markInactive: Effect.fn("Users.markInactive")(function* (id) {
          yield* sql`update users set inactive = true where id = ${id}`
          yield* forgetUser(id)
        }),
        forget: forgetUser
      })
    })
  )
}

/** Names as stored: within the columns' limits, and storable whatever a client sent (NUL, broken surrogates). */
const storedNames = (profile: TelegramProfile) => ({
  id: profile.id,
  firstName: storable(profile.firstName.slice(0, 256)),
  lastName: profile.lastName === undefined ? null : storable(profile.lastName.slice(0, 256)),
  username: profile.username === undefined ? null : storable(profile.username.slice(0, 64))
})
