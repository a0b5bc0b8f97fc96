// The users repository: every interaction registers or touches its Telegram user, and the rest of the program
// reads anonymity defaults, block flags and reachability from here.
import { Context, Data, Effect, Layer, Option, Schema } from "effect"
import { SqlClient, SqlSchema } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import { UserId } from "../domain/Ids.ts"
import { Int8 } from "../sql/Columns.ts"

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
    readonly setAnonymity: (id: UserId, anonymous: boolean) => Effect.Effect<User, SqlError | UsersError>
    readonly setBlocked: (id: UserId, blocked: boolean) => Effect.Effect<User, SqlError | UsersError>
    /** The user blocked the bot: stop sending them anything until they write again. */
    readonly markInactive: (id: UserId) => Effect.Effect<void, SqlError>
  }
>()("confessions/services/Users") {
  static readonly layer: Layer.Layer<Users, never, SqlClient.SqlClient> = Layer.effect(
    Users,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient

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
          values (${p.id}, ${p.firstName.slice(0, 256)}, ${p.lastName?.slice(0, 256) ?? null}, ${p.username?.slice(0, 64) ?? null})
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
        register: Effect.fn("Users.register")(function* (profile) {
          return yield* upsert({
            id: profile.id,
            firstName: profile.firstName,
            lastName: profile.lastName ?? null,
            username: profile.username ?? null
          }).pipe(Effect.catchTag(["SchemaError", "NoSuchElementError"], Effect.die))
        }),
        get: Effect.fn("Users.get")(function* (id) {
          return yield* byId(id).pipe(Effect.catchTag("SchemaError", Effect.die))
        }),
        setAnonymity: Effect.fn("Users.setAnonymity")(function* (id, anonymous) {
          return yield* setFlag("anonymous_default", id, anonymous)
        }),
        setBlocked: Effect.fn("Users.setBlocked")(function* (id, blocked) {
          return yield* setFlag("blocked", id, blocked)
        }),
        markInactive: Effect.fn("Users.markInactive")(function* (id) {
          yield* sql`update users set inactive = true where id = ${id}`
        })
      })
    })
  )
}
