// Column codecs shared by every repository: PostgreSQL int8 and count(*) arrive as JS bigint, and Telegram ids
// (up to 2^52) and our counters fit a JS number exactly, so rows expose plain numbers.
import { Schema, SchemaTransformation } from "effect"

export const Int8 = Schema.Union([Schema.BigInt, Schema.Number]).pipe(
  Schema.decodeTo(
    Schema.Number,
    SchemaTransformation.transform({ decode: (value) => Number(value), encode: (value) => value })
  )
)

export const NullableInt8 = Schema.NullOr(Int8)
