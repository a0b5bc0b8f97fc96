import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, Option, Redacted } from "effect"
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { inspect } from "node:util"
import { AppConfig, describeConfigError } from "../src/AppConfig.ts"

const token = "123456:test-token-SECRET"
const load = (env: Record<string, string | undefined>) =>
  Effect.gen(function* () {
    return yield* AppConfig
  }).pipe(Effect.provide(AppConfig.layerFromEnv(env)))

const failure = (env: Record<string, string | undefined>) =>
  load(env).pipe(Effect.flip, Effect.map(describeConfigError))

const millis = (duration: Duration.Duration) => Duration.toMillis(duration)

// Through the same dotenv parser the program uses for `.env`.
const loadDotEnv = (contents: string) =>
  Effect.gen(function* () {
    return yield* AppConfig
  }).pipe(
    Effect.provide(AppConfig.layerConfig.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromDotEnvContents(contents)))))
  )

const envExample = () => Effect.sync(() => readFileSync(new URL("../.env.example", import.meta.url), "utf8"))

// PRODUCT.md's configuration table in its order, plus HANDLER_TIMEOUT, DB_ACQUIRE_TIMEOUT, the Telegram rate limits
// and the per-user activity limits next to their kin.
const documentedOrder = [
  "BOT_TOKEN", "TELEGRAM_API_ROOT", "TELEGRAM_RATE_GLOBAL", "TELEGRAM_RATE_PER_CHAT", "TELEGRAM_RATE_PER_CHAT_BURST",
  "TELEGRAM_RATE_PER_GROUP", "DATABASE_URL", "DATA_DIR", "ADMIN_IDS", "CHANNEL_ID", "BOT_MODE", "WEBHOOK_URL",
  "WEBHOOK_SECRET", "HTTP_PORT", "HTTP_HOST", "REDIS_URL", "REDIS_KEY_PREFIX", "ADMIN_NOTIFY_JITTER", "UPDATE_CONCURRENCY", "HANDLER_TIMEOUT", "STATE_TTL",
  "STATE_MAX_ENTRIES",
  "STATE_SWEEP_INTERVAL", "STATS_CACHE_TTL", "STATS_CACHE_CAPACITY", "DB_POOL_MAX", "DB_CONNECTION_TTL",
  "DB_ACQUIRE_TIMEOUT", "SHUTDOWN_GRACE", "CONFESSION_MAX_LENGTH", "COMMENT_MAX_LENGTH", "VOICE_MAX_DURATION",
  "PRIVACY_PATTERNS", "COMMENTS_PAGE_SIZE",
  "REPORT_THRESHOLD", "CONFESSIONS_PER_HOUR", "CONFESSION_COOLDOWN", "COMMENTS_PER_HOUR", "REPORTS_PER_HOUR",
  "FEEDBACK_PER_HOUR", "LOG_LEVEL", "LOG_FORMAT"
]
// Lines in `.env.example` that show an example rather than the default (no default exists, or it depends on a TTY).
const examplesNotDefaults = new Set(["DATABASE_URL", "ADMIN_IDS", "CHANNEL_ID", "WEBHOOK_URL", "WEBHOOK_SECRET", "REDIS_URL", "LOG_FORMAT"])
const variableLine = /^(?:# )?([A-Z][A-Z0-9_]*)=/

describe("AppConfig", () => {
  it.effect("layerFromEnv - every default matches PRODUCT.md's configuration table", () =>
    Effect.gen(function* () {
      const config = yield* load({ BOT_TOKEN: token })
      assert.strictEqual(Redacted.value(config.botToken), token)
      assert.strictEqual(config.telegramApiRoot, "https://api.telegram.org")
      assert.isTrue(Option.isNone(config.databaseUrl))
      assert.strictEqual(config.dataDir, "./data")
      assert.deepStrictEqual(config.adminIds, [])
      assert.isTrue(Option.isNone(config.channelId))
      assert.deepStrictEqual(config.adminNotifyJitter, Duration.seconds(60))
      assert.strictEqual(config.botMode, "polling")
      assert.isTrue(Option.isNone(config.webhook))
      assert.strictEqual(config.httpPort, 8080)
      assert.strictEqual(config.httpHost, "127.0.0.1")
      assert.isTrue(Option.isNone(config.redisUrl))
      assert.strictEqual(config.redisKeyPrefix, "confessions:")
      assert.deepStrictEqual(config.telegramRateLimits, {
        globalPerSecond: 30,
        privateChatPerSecond: 1,
        privateChatBurst: 3,
        groupPerMinute: 20
      })
      assert.strictEqual(config.updateConcurrency, 64)
      assert.strictEqual(millis(config.handlerTimeout), 30_000)
      assert.strictEqual(millis(config.stateTtl), 10 * 60_000)
      assert.strictEqual(config.stateMaxEntries, 2000)
      assert.strictEqual(millis(config.stateSweepInterval), 60_000)
      assert.strictEqual(millis(config.statsCacheTtl), 5 * 60_000)
      assert.strictEqual(config.statsCacheCapacity, 10_000)
      assert.strictEqual(config.dbPoolMax, 10)
      assert.strictEqual(millis(config.dbConnectionTtl), 5 * 60_000)
      assert.strictEqual(millis(config.dbAcquireTimeout), 10_000)
      assert.strictEqual(millis(config.shutdownGrace), 10_000)
      assert.strictEqual(config.confessionMaxLength, 3500)
      assert.strictEqual(config.commentMaxLength, 1000)
      assert.strictEqual(config.commentsPageSize, 5)
      assert.strictEqual(config.reportThreshold, 3)
      assert.strictEqual(config.confessionsPerHour, 5)
      assert.strictEqual(millis(config.confessionCooldown), 30_000)
      assert.deepStrictEqual([config.commentsPerHour, config.reportsPerHour, config.feedbackPerHour], [30, 20, 5])
      assert.strictEqual(config.logLevel, "info")
      assert.strictEqual(config.logFormat, process.stdout.isTTY ? "pretty" : "json")
    }))

  it.effect("layerFromEnv - reads every variable when set", () =>
    Effect.gen(function* () {
      const config = yield* load({
        BOT_TOKEN: token,
        TELEGRAM_API_ROOT: "http://127.0.0.1:8081/",
        DATABASE_URL: "postgres://bot:pw@db/confessions",
        DATA_DIR: "/var/lib/confessions",
        ADMIN_IDS: "11,22",
        CHANNEL_ID: "-1001234567890",
        BOT_MODE: "webhook",
        WEBHOOK_URL: "https://bot.example/telegram",
        WEBHOOK_SECRET: "hook_secret-1234567",
        HTTP_PORT: "9090",
        HTTP_HOST: "0.0.0.0",
        UPDATE_CONCURRENCY: "8",
        HANDLER_TIMEOUT: "5 seconds",
        STATE_TTL: "1 hour",
        STATE_MAX_ENTRIES: "50",
        STATE_SWEEP_INTERVAL: "10 seconds",
        STATS_CACHE_TTL: "0 seconds",
        STATS_CACHE_CAPACITY: "0",
        DB_POOL_MAX: "3",
        DB_CONNECTION_TTL: "1 minute",
        DB_ACQUIRE_TIMEOUT: "2 seconds",
        SHUTDOWN_GRACE: "0 seconds",
        CONFESSION_MAX_LENGTH: "2000",
        COMMENT_MAX_LENGTH: "500",
        VOICE_MAX_DURATION: "30 seconds",
        PRIVACY_PATTERNS: "student id=S[0-9]{7}",
        COMMENTS_PAGE_SIZE: "10",
        REPORT_THRESHOLD: "1",
        CONFESSIONS_PER_HOUR: "2",
        CONFESSION_COOLDOWN: "1 minute",
        COMMENTS_PER_HOUR: "7",
        REPORTS_PER_HOUR: "8",
        FEEDBACK_PER_HOUR: "9",
        LOG_LEVEL: "debug",
        LOG_FORMAT: "pretty"
      })
      assert.strictEqual(config.telegramApiRoot, "http://127.0.0.1:8081")
      assert.deepStrictEqual(Option.map(config.databaseUrl, Redacted.value), Option.some("postgres://bot:pw@db/confessions"))
      assert.strictEqual(config.dataDir, "/var/lib/confessions")
      assert.deepStrictEqual(config.adminIds, [11, 22])
      assert.deepStrictEqual(config.channelId, Option.some("-1001234567890"))
      assert.strictEqual(config.botMode, "webhook")
      assert.deepStrictEqual(
        Option.map(config.webhook, (webhook) => [webhook.url, Redacted.value(webhook.secret)]),
        Option.some(["https://bot.example/telegram", "hook_secret-1234567"])
      )
      assert.strictEqual(config.httpPort, 9090)
      assert.strictEqual(config.httpHost, "0.0.0.0")
      assert.strictEqual(config.updateConcurrency, 8)
      assert.strictEqual(millis(config.handlerTimeout), 5000)
      assert.strictEqual(millis(config.stateTtl), 3_600_000)
      assert.strictEqual(config.stateMaxEntries, 50)
      assert.strictEqual(millis(config.stateSweepInterval), 10_000)
      assert.strictEqual(millis(config.statsCacheTtl), 0)
      assert.strictEqual(config.statsCacheCapacity, 0)
      assert.strictEqual(config.dbPoolMax, 3)
      assert.strictEqual(millis(config.dbConnectionTtl), 60_000)
      assert.strictEqual(millis(config.dbAcquireTimeout), 2000)
      assert.strictEqual(millis(config.shutdownGrace), 0)
      assert.strictEqual(config.confessionMaxLength, 2000)
      assert.strictEqual(config.commentMaxLength, 500)
      assert.strictEqual(millis(config.voiceMaxDuration), 30_000)
      assert.deepStrictEqual(config.privacyPatterns.map((pattern) => pattern.name), ["student id"])
      assert.strictEqual(config.commentsPageSize, 10)
      assert.strictEqual(config.reportThreshold, 1)
      assert.strictEqual(config.confessionsPerHour, 2)
      assert.strictEqual(millis(config.confessionCooldown), 60_000)
      assert.deepStrictEqual([config.commentsPerHour, config.reportsPerHour, config.feedbackPerHour], [7, 8, 9])
      assert.strictEqual(config.logLevel, "debug")
      assert.strictEqual(config.logFormat, "pretty")
    }))

  it.effect("layerFromEnv - ADMIN_IDS tolerates spaces after commas", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual((yield* load({ BOT_TOKEN: token, ADMIN_IDS: "1, 2" })).adminIds, [1, 2])
      assert.deepStrictEqual((yield* load({ BOT_TOKEN: token, ADMIN_IDS: " 7 ,8 " })).adminIds, [7, 8])
    }))

  it.effect("layerFromEnv - undefined entries count as unset", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* load({ BOT_TOKEN: token, HTTP_PORT: undefined })).httpPort, 8080)
    }))

  // [variable, value(s), a fragment of what was expected]
  const malformed: ReadonlyArray<readonly [string, Record<string, string>, string]> = [
    ["ADMIN_IDS", { ADMIN_IDS: "0x10" }, "positive integer"],
    ["STATE_TTL", { STATE_TTL: "60s" }, 'duration such as "60 seconds"'],
    ["STATE_SWEEP_INTERVAL", { STATE_SWEEP_INTERVAL: "5m" }, 'duration such as "60 seconds"'],
    ["STATE_TTL", { STATE_TTL: "0 seconds" }, "positive, finite duration"],
    ["HANDLER_TIMEOUT", { HANDLER_TIMEOUT: "Infinity" }, "positive, finite duration"],
    ["ADMIN_IDS", { ADMIN_IDS: "1,abc" }, "expected"],
    ["UPDATE_CONCURRENCY", { UPDATE_CONCURRENCY: "-1" }, "between 1 and"],
    ["UPDATE_CONCURRENCY", { UPDATE_CONCURRENCY: "many" }, "expected"],
    ["DB_POOL_MAX", { DB_POOL_MAX: "0" }, "between 1 and"],
    ["COMMENTS_PAGE_SIZE", { COMMENTS_PAGE_SIZE: "2.5" }, "integer"],
    ["HTTP_PORT", { HTTP_PORT: "70000" }, "between 0 and 65535"],
    ["BOT_MODE", { BOT_MODE: "push" }, '"polling" | "webhook"'],
    ["LOG_LEVEL", { LOG_LEVEL: "verbose" }, '"info"'],
    ["LOG_FORMAT", { LOG_FORMAT: "xml" }, '"json"'],
    ["TELEGRAM_API_ROOT", { TELEGRAM_API_ROOT: "not a url" }, "URL"],
    ["WEBHOOK_URL", { BOT_MODE: "webhook" }, "is required but not set"],
    ["WEBHOOK_URL", { BOT_MODE: "webhook", WEBHOOK_SECRET: "s3cret-s3cret-s3cret" }, "is required but not set"],
    ["WEBHOOK_SECRET", { BOT_MODE: "webhook", WEBHOOK_URL: "https://bot.example/hook" }, "is required but not set"],
    ["WEBHOOK_URL", { BOT_MODE: "webhook", WEBHOOK_URL: "http://bot.example/hook", WEBHOOK_SECRET: "s3cret-s3cret-s3cret" }, "https://"],
    ["WEBHOOK_SECRET", { BOT_MODE: "webhook", WEBHOOK_URL: "https://bot.example/hook", WEBHOOK_SECRET: "s3cret" }, "16 to 256 characters"],
    ["WEBHOOK_SECRET", { BOT_MODE: "webhook", WEBHOOK_URL: "https://bot.example/hook", WEBHOOK_SECRET: "x".repeat(15) }, "16 to 256 characters"],
    ["WEBHOOK_SECRET", { BOT_MODE: "webhook", WEBHOOK_URL: "https://bot.example/hook", WEBHOOK_SECRET: "sixteen chars ok" }, "16 to 256 characters"],
    ["HTTP_HOST", { HTTP_HOST: " " }, "host name or IP address"],
    ["VOICE_MAX_DURATION", { VOICE_MAX_DURATION: "2m" }, "duration"],
    ["PRIVACY_PATTERNS", { PRIVACY_PATTERNS: "student id=S[0-9" }, "student id"],
    ["PRIVACY_PATTERNS", { PRIVACY_PATTERNS: "student id" }, "PRIVACY_PATTERNS"]
  ]

  it.effect("describeConfigError - one line naming the variable for every malformed kind", () =>
    Effect.gen(function* () {
      for (const [variable, env, expected] of malformed) {
        const line = yield* failure({ BOT_TOKEN: token, ...env })
        const context = `${JSON.stringify(env)} -> ${line}`
        assert.isTrue(line.startsWith(`configuration error: ${variable} `), context)
        assert.include(line, expected, context)
        assert.notInclude(line, "\n", context)
      }
    }))

  it.effect("describeConfigError - exact lines for a missing token and a bad duration", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* failure({}), "configuration error: BOT_TOKEN is required but not set")
      assert.strictEqual(yield* failure({ BOT_TOKEN: "" }), "configuration error: BOT_TOKEN is required but not set")
      assert.strictEqual(
        yield* failure({ BOT_TOKEN: token, STATE_TTL: "60s" }),
        'configuration error: STATE_TTL expected a duration such as "60 seconds" or "5 minutes"'
      )
    }))

  it.effect("layerFromEnv - secrets are redacted in String, JSON and inspect", () =>
    Effect.gen(function* () {
      const secrets = { token, database: "pw-DB-SECRET", webhook: "hook-SECRET-0123456789" }
      const config = yield* load({
        BOT_TOKEN: secrets.token,
        DATABASE_URL: `postgres://bot:${secrets.database}@db/confessions`,
        BOT_MODE: "webhook",
        WEBHOOK_URL: "https://bot.example/hook",
        WEBHOOK_SECRET: secrets.webhook
      })
      const renderings = [
        String(config),
        `${config.botToken}`,
        JSON.stringify(config),
        inspect(config, { depth: Infinity }),
        inspect(config.webhook, { depth: Infinity })
      ]
      for (const rendering of renderings) {
        for (const secret of Object.values(secrets)) assert.notInclude(rendering, secret)
      }
      assert.include(JSON.stringify(config), "<redacted>")
    }))

  it.effect("layerFromEnv - REDIS_URL is a redacted redis:// URL; REDIS_KEY_PREFIX has no glob characters", () =>
    Effect.gen(function* () {
      const config = yield* load({ BOT_TOKEN: token, REDIS_URL: "redis://:pw@cache:6379/2", REDIS_KEY_PREFIX: "{bot}:" })
      assert.deepStrictEqual(Option.map(config.redisUrl, Redacted.value), Option.some("redis://:pw@cache:6379/2"))
      assert.notInclude(inspect(config.redisUrl), "pw@cache")
      assert.strictEqual(config.redisKeyPrefix, "{bot}:")
      assert.include(yield* failure({ BOT_TOKEN: token, REDIS_URL: "cache:6379" }), "REDIS_URL")
      assert.include(yield* failure({ BOT_TOKEN: token, REDIS_KEY_PREFIX: "bot*" }), "REDIS_KEY_PREFIX")
    }))

  it.effect(".env.example - names every variable once, in PRODUCT.md's order", () =>
    Effect.gen(function* () {
      const names = (yield* envExample()).split("\n").flatMap((line) => variableLine.exec(line)?.[1] ?? [])
      assert.deepStrictEqual(names, documentedOrder)
    }))

  it.effect(".env.example - loads as shipped, and its commented values are the real defaults", () =>
    Effect.gen(function* () {
      const contents = yield* envExample()
      const shipped = yield* loadDotEnv(contents)
      assert.strictEqual(Redacted.value(shipped.botToken), "123456:replace-me")
      const uncommented = contents
        .split("\n")
        .map((line) => {
          const name = variableLine.exec(line)?.[1]
          return name !== undefined && !examplesNotDefaults.has(name) ? line.replace(/^# /, "") : line
        })
        .join("\n")
      assert.notStrictEqual(uncommented, contents)
      const { logFormat: _, ...fromExample } = yield* loadDotEnv(uncommented)
      const { logFormat: __, ...defaults } = yield* load({ BOT_TOKEN: "123456:replace-me" })
      assert.strictEqual(JSON.stringify(fromExample), JSON.stringify(defaults))
      // The example values are valid too, webhook ones included.
      const everything = yield* loadDotEnv(
        contents.replace(/^# ([A-Z][A-Z0-9_]*=)/gm, "$1").replace("BOT_MODE=polling", "BOT_MODE=webhook")
      )
      assert.strictEqual(everything.botMode, "webhook")
      assert.deepStrictEqual(everything.adminIds, [123456789, 987654321])
    }))

  // Without BOT_TOKEN elsewhere, `npm start` opens the local playground (test/playground/); a server never does.
  it.effect("npm start - without BOT_TOKEN in production exits non-zero with one stderr line naming BOT_TOKEN", () =>
    Effect.gen(function* () {
      // An empty working directory: no `.env` can supply a token and no `./data` is created. Imports still
      // resolve, because ES modules resolve relative to the importing file, not to the working directory.
      const cwd = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "confessions-start-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      )
      const main = fileURLToPath(new URL("../src/main.ts", import.meta.url))
      const env: Record<string, string> = { NODE_ENV: "production" }
      for (const name of ["PATH", "HOME"]) {
        const value = process.env[name]
        if (value !== undefined) env[name] = value
      }
      const { code, stderr } = yield* run(process.execPath, [main], { cwd, env })
      assert.notStrictEqual(code, 0)
      const lines = stderr.split("\n").filter((line) => line.length > 0)
      assert.strictEqual(lines.length, 1, stderr)
      assert.include(lines[0], "BOT_TOKEN")
    }))
})

const run = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env: Record<string, string> }
) =>
  Effect.callback<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }, Error>(
    (resume) => {
      const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
      child.on("error", (error) => resume(Effect.fail(error)))
      child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
      return Effect.sync(() => child.kill())
    }
  )
