// The local playground: the whole bot (App.make with every feature, the pipeline, metrics and logs) talking to the Bot
// API emulator in this process instead of Telegram, and a web page on the bot's HTTP server to chat as demo people
// and watch the channel. Its data stays apart from the real bot's: PGlite under <DATA_DIR>/playground/db (never
// DATABASE_URL) and the chats in <DATA_DIR>/playground/chats.json, so a restart goes on where it stopped. A reset
// closes the session (page streams first, then the bot, then the emulator), deletes that folder and starts a new one
// on the same port.
import { PgClient } from "@effect/sql-pg"
import { Clock, ConfigProvider, Context, Deferred, Duration, Effect, Layer, Option, Redacted, Schedule } from "effect"
import { HttpServer } from "effect/http"
import { SqlClient } from "effect/sql"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import * as App from "../App.ts"
import { AppConfig, type AppSettings } from "../AppConfig.ts"
import { BotApiEmulator, type EmulatorSnapshot } from "../emulator/BotApiEmulator.ts"
import * as Database from "../sql/Database.ts"
import * as Demo from "./Demo.ts"
import * as Routes from "./Routes.ts"
import * as Seed from "./Seed.ts"

export interface PlaygroundOptions {
  /** Start over: forget the saved database and chats first. */
  readonly reset: boolean
  /** Give a fresh playground the demo confessions and comments. */
  readonly seed: boolean
  /**
   * The database, emptied for a fresh playground (tests give theirs, and the chats then stay in memory). By default
   * PGlite under <DATA_DIR>/playground/db, with the chats saved beside it.
   */
  readonly database?: Layer.Layer<SqlClient.SqlClient | PgClient.PgClient, unknown> | undefined
  /** Told the page's address each time a session is up (`first` only for the first). */
  readonly onReady: (url: string, first: boolean) => Effect.Effect<void>
}

/** Runs playground sessions until interrupted; a reset from the page ends one and starts the next. */
export const run = (options: PlaygroundOptions) =>
  Effect.gen(function* () {
    const base = yield* settingsFromEnvironment
    const home = Path.resolve(base.dataDir, "playground")
    const persistent = options.database === undefined
    const page = yield* loadPage
    // One database for the whole run: a reset empties it instead of creating a new one, which for PGlite would mean
    // a new initdb (many seconds) each time.
    const built = yield* Layer.build(
      options.database ??
        Database.layerClient({
          url: Option.none(),
          dataDir: Path.join(home, "db"),
          poolMax: base.dbPoolMax,
          connectionTtl: base.dbConnectionTtl,
          acquireTimeout: base.dbAcquireTimeout
        })
    )
    // Only the clients: a built context also carries its memo map, and sessions given that would share (stale) layers.
    const database = Context.pick(SqlClient.SqlClient, PgClient.PgClient)(built)
    let port = base.httpPort
    let reset = options.reset
    let first = true
    // Tells sessions apart, across resets and across restarts of the process.
    const startedAt = yield* Clock.currentTimeMillis
    let sessions = 0
    while (true) {
      const saved = persistent && !reset ? yield* load(home) : undefined
      if (saved === undefined) yield* empty.pipe(Effect.provideContext(database))
      port = yield* Effect.scoped(
        session({
          options,
          base,
          home: persistent ? home : undefined,
          saved,
          port,
          first,
          page,
          database,
          id: `${startedAt.toString(36)}-${++sessions}`
        })
      )
      first = false
      reset = true
      yield* Effect.logInfo("playground: starting over with an empty database")
    }
  }).pipe(Effect.scoped)

/** The settings the playground changes, whatever the environment says; everything else is the user's. */
export const settingsFor = (
  base: AppSettings,
  place: { readonly apiRoot: string; readonly token: string; readonly dataDir: string; readonly port: number }
): AppSettings => ({
  ...base,
  botToken: Redacted.make(place.token),
  telegramApiRoot: place.apiRoot,
  databaseUrl: Option.none(),
  dataDir: place.dataDir,
  adminIds: Demo.admins,
  channelId: Option.some(Demo.channel),
  // The demo admin sees a confession at once; the page says that the real bot waits.
  adminNotifyJitter: Duration.zero,
  botMode: "polling",
  webhook: Option.none(),
  httpHost: "127.0.0.1",
  httpPort: place.port
})

// ---- internals ----------------------------------------------------------------------------------------------------

interface SessionInput {
  readonly options: PlaygroundOptions
  readonly base: AppSettings
  /** Where the chats are saved; `undefined` keeps them in memory. */
  readonly home: string | undefined
  readonly saved: EmulatorSnapshot | undefined
  readonly port: number
  readonly first: boolean
  readonly page: Routes.PageFiles
  readonly database: Context.Context<SqlClient.SqlClient | PgClient.PgClient>
  readonly id: string
}

/** One playground from start to reset; returns the port it served on, for the next session to take again. */
const session = (input: SessionInput) =>
  Effect.gen(function* () {
    const resetAsked = yield* Deferred.make<void>()
    const closing = yield* Deferred.make<void>()
    const emulator = Context.get(
      yield* Layer.build(BotApiEmulator.layer({ bot: Demo.bot, restore: input.saved, record: false, maxMessagesPerChat: 1000 })),
      BotApiEmulator
    )
    const home = input.home
    if (home !== undefined) {
      let dirty = true
      const unlisten = emulator.listen((event) => {
        if (event._tag !== "UpdatesDelivered") dirty = true
      })
      const save = Effect.suspend(() => {
        if (!dirty) return Effect.void
        dirty = false
        return write(home, emulator.snapshot())
      })
      yield* save
      yield* Effect.forkScoped(Effect.repeat(save, Schedule.spaced("500 millis")))
      // Added before the app, so it runs after the app has stopped: the last messages are in it.
      yield* Effect.addFinalizer(() => Effect.andThen(Effect.sync(unlisten), save))
    }

    const settings = settingsFor(input.base, {
      apiRoot: emulator.apiRoot,
      token: emulator.token,
      dataDir: home === undefined ? input.base.dataDir : Path.join(home, "db"),
      port: input.port
    })
    const routes = Routes.layer({
      page: input.page,
      session: input.id,
      requestReset: Deferred.succeed(resetAsked, undefined).pipe(Effect.asVoid),
      closing: Deferred.await(closing),
      notes: notes(input.base)
    }).pipe(Layer.provide(Layer.succeed(BotApiEmulator, emulator)))
    const app = yield* Layer.build(
      App.make({
        features: App.features,
        database: Layer.effectDiscard(Database.migrate).pipe(Layer.provideMerge(Layer.succeedContext(input.database))),
        routes
      }).pipe(
        Layer.provide(Layer.succeed(AppConfig, settings))
      )
    )
    // Added after the app, so it runs first when the session closes: open event streams end and the server can close.
    yield* Effect.addFinalizer(() => Deferred.succeed(closing, undefined))

    const port = Number(new URL(HttpServer.formatAddress(Context.get(app, HttpServer.HttpServer).address)).port)
    yield* input.options.onReady(`http://127.0.0.1:${port}`, input.first)
    // The app's context carries its logger, so these lines look like the bot's.
    // Untouched rather than new: a playground stopped before its first message is seeded when it comes back.
    const untouched = input.saved === undefined || input.saved.chats.every((chat) => chat.messages.length === 0)
    if (untouched && input.options.seed) yield* Effect.forkScoped(Effect.provideContext(Seed.run(emulator), app))
    yield* Deferred.await(resetAsked)
    return port
  })

/** AppConfig as the environment gives it, without requiring what the playground provides itself. */
const settingsFromEnvironment = Effect.gen(function* () {
  return yield* AppConfig
}).pipe(
  Effect.provide(
    AppConfig.layerConfig.pipe(
      Layer.provide(
        ConfigProvider.layerAdd(ConfigProvider.fromUnknown({ BOT_TOKEN: "playground", BOT_MODE: "polling" }), {
          asPrimary: true
        })
      )
    )
  )
)

const notes = (base: AppSettings): ReadonlyArray<string> => [
  "Nothing leaves this computer: the bot talks to a built-in Telegram emulator.",
  "Admins hear of a new confession at once here (ADMIN_NOTIFY_JITTER=0). The real bot waits a random delay of up to " +
    `${Duration.toSeconds(base.adminNotifyJitter)} seconds, so the moment of a notification cannot point at its author.`
]

const pageDir = new URL("./page/", import.meta.url)

const pageTypes: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "render.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8"
}

const loadPage = Effect.tryPromise(async () => {
  const files: Record<string, { readonly body: string; readonly contentType: string }> = {}
  for (const [name, contentType] of Object.entries(pageTypes)) {
    files[name] = { body: await Fs.readFile(new URL(name, pageDir), "utf8"), contentType }
  }
  return files
})

const snapshotFile = (home: string) => Path.join(home, "chats.json")

/** The saved chats, or `undefined` when there are none (or they cannot be read: the playground then starts over). */
const load = (home: string) =>
  Effect.tryPromise(async () => JSON.parse(await Fs.readFile(snapshotFile(home), "utf8")) as unknown).pipe(
    Effect.map((parsed): EmulatorSnapshot | undefined => {
      return typeof parsed === "object" && parsed !== null && "version" in parsed && parsed.version === 1
        ? (parsed as EmulatorSnapshot)
        : undefined
    }),
    Effect.orElseSucceed(() => undefined)
  )

/** Written beside and renamed over, so a crash never leaves half a file. */
const write = (home: string, snapshot: EmulatorSnapshot) =>
  Effect.tryPromise(async () => {
    await Fs.mkdir(home, { recursive: true, mode: 0o700 })
    const temporary = `${snapshotFile(home)}.tmp`
    await Fs.writeFile(temporary, JSON.stringify(snapshot), { mode: 0o600 })
    await Fs.rename(temporary, snapshotFile(home))
  }).pipe(Effect.catch((cause) => Effect.logWarning("playground: could not save the chats", cause)))

/** Every table gone; the next session's migrations create them anew. */
const empty = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`drop schema public cascade`
  yield* sql`create schema public`
})
