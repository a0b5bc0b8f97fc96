// The processed-updates ledger that makes redelivery harmless. A handler's writes claim the update id inside their
// own transaction (`transaction`), so writes and the record commit or roll back together; a single-statement write
// (a reaction) can claim in the statement itself with the same semantics (`claimInStatement`). Read-only updates
// are recorded in batches by the dispatcher. Old ids are pruned on a schedule (Telegram keeps updates for 24 hours).
import { Context, Data, Duration, Effect, Layer, Option, Ref, Schedule } from "effect"
import { SqlClient, type Statement } from "effect/sql"
import type { SqlError } from "effect/sql/SqlError"
import type { UpdateId } from "../domain/Ids.ts"

/** The update being handled by the current fiber, and whether a transaction already claimed it. */
export interface CurrentUpdateState {
  readonly updateId: UpdateId
  readonly claimed: Ref.Ref<boolean>
}

export const CurrentUpdate = Context.Reference<Option.Option<CurrentUpdateState>>("confessions/sql/CurrentUpdate", {
  defaultValue: () => Option.none()
})

/**
 * Set inside a claiming transaction: a service that opens one while its caller already has one joins it instead of
 * opening a savepoint, so a feature can put several services' writes (and the messages they cause) in one commit.
 */
const InClaimingTransaction = Context.Reference<boolean>("confessions/sql/Processed/InClaimingTransaction", {
  defaultValue: () => false
})

/** A transaction found its update already recorded: it was handled before (a redelivery), so nothing is applied. */
export class AlreadyProcessed extends Data.TaggedError("AlreadyProcessed")<{ readonly updateId: UpdateId }> {}

export interface ProcessedOptions {
  /** How long a recorded id is kept; Telegram redelivers an unconfirmed update for at most 24 hours. */
  readonly retention: Duration.Input
  readonly pruneInterval: Duration.Input
}

export class Processed extends Context.Service<
  Processed,
  {
    /** Which of `ids` are already recorded (one statement). */
    readonly recordedAmong: (ids: ReadonlyArray<UpdateId>) => Effect.Effect<ReadonlySet<number>, SqlError>
    /** The highest recorded id (-1 when none): newer ids cannot have been handled by an earlier run. */
    readonly recordedMax: Effect.Effect<number, SqlError>
    /** Records ids handled without a claiming transaction (one statement for the whole batch). */
    readonly record: (ids: ReadonlyArray<UpdateId>) => Effect.Effect<void, SqlError>
    /**
     * Runs `effect` in a transaction that first claims the current update (when there is one and nothing claimed
     * it yet). A redelivered update fails `AlreadyProcessed` and its writes roll back. Inside another claiming
     * transaction it joins that one.
     */
    readonly transaction: <A, E, R>(
      effect: Effect.Effect<A, E, R>
    ) => Effect.Effect<A, E | SqlError | AlreadyProcessed, R>
    /**
     * For a single write statement that claims the current update itself, without a transaction: `cte` is its first
     * CTE (named e.g. `claim`), the insert into `processed_updates` when an update is being handled and nothing
     * claimed it yet, otherwise a constant row; either way it has one row (`claimed`) exactly when the statement may
     * write, so every write must depend on it. `commit` runs after the statement succeeded: it marks the update
     * claimed, or fails `AlreadyProcessed` when the id was already recorded (a redelivery; nothing was written).
     */
    readonly claimInStatement: Effect.Effect<{
      readonly cte: Statement.Fragment
      readonly commit: (claimed: boolean) => Effect.Effect<void, AlreadyProcessed>
    }>
    readonly prune: Effect.Effect<number, SqlError>
  }
>()("confessions/sql/Processed") {
  static readonly layer = (options: ProcessedOptions): Layer.Layer<Processed, never, SqlClient.SqlClient> =>
    Layer.effect(Processed, make(options))
}

const make = (options: ProcessedOptions) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const retentionSeconds = Duration.toSeconds(Duration.fromInputUnsafe(options.retention))

    /** Claims the update unless an earlier committed transaction did; returns whether this one claimed it. */
    const claim = (state: CurrentUpdateState) =>
      Effect.gen(function* () {
        if (yield* Ref.get(state.claimed)) return false
        const rows = yield* sql`
          insert into processed_updates (update_id) values (${state.updateId})
          on conflict (update_id) do nothing
          returning update_id`
        if (rows.length === 0) return yield* new AlreadyProcessed({ updateId: state.updateId })
        yield* Ref.set(state.claimed, true)
        return true
      })

    const prune = sql<{ n: number }>`
      with gone as (
        delete from processed_updates where processed_at < now() - make_interval(secs => ${retentionSeconds}) returning 1
      )
      select count(*)::int as n from gone`.pipe(
      Effect.map((rows) => rows[0]?.n ?? 0),
      Effect.withSpan("Processed.prune")
    )

    yield* prune.pipe(
      Effect.tap((n) => (n > 0 ? Effect.logDebug(`processed updates pruned: ${n}`) : Effect.void)),
      Effect.catchCause((cause) => Effect.logWarning("pruning processed updates failed", cause)),
      Effect.repeat(Schedule.spaced(options.pruneInterval)),
      Effect.forkScoped
    )

    return Processed.of({
      recordedAmong: Effect.fnUntraced(function* (ids) {
        if (ids.length === 0) return new Set<number>()
        const rows = yield* sql<{ updateId: bigint | number }>`
          select update_id from processed_updates where update_id in ${sql.in(ids)}`
        return new Set(rows.map((row) => Number(row.updateId)))
      }),
      recordedMax: sql<{ max: bigint | number | null }>`select max(update_id) as max from processed_updates`.pipe(
        Effect.map((rows) => (rows[0]?.max === null || rows[0]?.max === undefined ? -1 : Number(rows[0].max)))
      ),
      record: Effect.fnUntraced(function* (ids) {
        const [first, ...rest] = ids
        if (first === undefined) return
        yield* sql`
          insert into processed_updates ${sql.insert([{ updateId: first }, ...rest.map((updateId) => ({ updateId }))])}
          on conflict (update_id) do nothing`
      }),
      transaction: (effect) =>
        Effect.gen(function* () {
          if (yield* InClaimingTransaction) return yield* effect
          const current = yield* CurrentUpdate
          const claimedHere = yield* Ref.make(false)
          // A transaction that fails after claiming rolls its claim back too, so the flag is reset with it.
          return yield* sql
            .withTransaction(
              Effect.gen(function* () {
                if (Option.isSome(current)) yield* Ref.set(claimedHere, yield* claim(current.value))
                return yield* Effect.provideService(effect, InClaimingTransaction, true)
              })
            )
            .pipe(
              Effect.tapCause(() =>
                Effect.gen(function* () {
                  if (Option.isSome(current) && (yield* Ref.get(claimedHere))) yield* Ref.set(current.value.claimed, false)
                })
              )
            )
        }),
      claimInStatement: Effect.gen(function* () {
        const current = yield* CurrentUpdate
        const pending = Option.isSome(current) && !(yield* Ref.get(current.value.claimed)) ? current.value : undefined
        return {
          cte:
            pending === undefined
              ? sql`select true as claimed`
              : sql`
                  insert into processed_updates (update_id) values (${pending.updateId})
                  on conflict (update_id) do nothing
                  returning true as claimed`,
          commit: (claimed: boolean) =>
            pending === undefined
              ? Effect.void
              : claimed
                ? Ref.set(pending.claimed, true)
                : Effect.fail(new AlreadyProcessed({ updateId: pending.updateId }))
        }
      }),
      prune
    })
  })
