// One bot process of the cluster tests (test/cluster), started as `node test/support/ClusterBot.ts` with its settings
// in the environment, like src/main.ts: the real application with every feature, plus `/probe <tag>`, which records
// when its handler ran (in the update's own transaction, so only a try that committed leaves a row) and answers
// "probe <tag> done" through the outbox. The table `cluster_probe` is created by the test.
import { NodeRuntime } from "@effect/platform-node"
import { Clock, Effect, Layer, Random } from "effect"
import { SqlClient } from "effect/sql"
import * as App from "../../src/App.ts"
import { AppConfig } from "../../src/AppConfig.ts"
import * as BotCall from "../../src/domain/BotCall.ts"
import { Courier } from "../../src/services/Courier.ts"
import * as Database from "../../src/sql/Database.ts"
import { Router } from "../../src/updates/Router.ts"

export const probeTable = `
  create table if not exists cluster_probe (
    id bigserial primary key,
    update_id bigint not null,
    user_id bigint not null,
    tag text not null,
    pid int not null,
    started_at double precision not null,
    finished_at double precision not null
  )`

const probe = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const courier = yield* Courier
    const sql = yield* SqlClient.SqlClient
    yield* router.onCommand(
      "probe",
      Effect.fn("ClusterBot.probe")(function* (context) {
        const startedAt = yield* Clock.currentTimeMillis
        // Long enough that two handlers of one user running at once would overlap in the records.
        yield* Effect.sleep(`${yield* Random.nextIntBetween(2, 12)} millis`)
        yield* courier.commit(
          Effect.gen(function* () {
            const finishedAt = yield* Clock.currentTimeMillis
            yield* sql`
              insert into cluster_probe (update_id, user_id, tag, pid, started_at, finished_at)
              values (${context.updateId}, ${context.user.id}, ${context.args}, ${process.pid}, ${startedAt}, ${finishedAt})`
            yield* courier.answer([BotCall.sendMessage(context.chatId, `probe ${context.args} done`)])
          })
        )
      })
    )
  })
)

const program = Layer.launch(
  App.make({ features: Layer.mergeAll(App.features, probe), database: Database.layerConfig }).pipe(
    Layer.provide(AppConfig.layerConfig)
  )
)

if (import.meta.main) NodeRuntime.runMain(program)
