// The one way rows become typed values. PostgreSQL int8 and count(*) arrive as JS bigint; Telegram ids (up to 2^52)
// and our counters fit a JS number exactly, so rows expose plain numbers. A row that does not match its schema means
// the SQL and the code disagree: a bug, so a defect, never a user's problem.
import { Effect, Schema, SchemaTransformation } from "effect"

export const Int8 = Schema.Union([Schema.BigInt, Schema.Number]).pipe(
  Schema.decodeTo(
    Schema.Number,
    SchemaTransformation.transform({ decode: (value) => Number(value), encode: (value) => value })
  )
)

export const NullableInt8 = Schema.NullOr(Int8)

/** One row checked against `schema`. */
export const decodeRow = <A>(schema: Schema.Decoder<A>, row: unknown): Effect.Effect<A> =>
  Effect.orDie(Schema.decodeUnknownEffect(schema)(row))

/** Every row checked against `schema`. */
export const decodeRows = <A>(schema: Schema.Decoder<A>, rows: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<A>> =>
  Effect.forEach(rows, (row) => decodeRow(schema, row))

/** A query whose rows are checked against `schema`: `decodeQuery(Confession)(sql\`…\`)`. */
export const decodeQuery =
  <A>(schema: Schema.Decoder<A>) =>
  <E, R>(query: Effect.Effect<ReadonlyArray<unknown>, E, R>): Effect.Effect<ReadonlyArray<A>, E, R> =>
    Effect.flatMap(query, (rows) => decodeRows(schema, rows))
