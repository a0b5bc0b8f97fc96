// The whole typed configuration, read once from the environment (and `.env` when present) while layers are built.
// Every variable of PRODUCT.md's table lives here; services take their section through their own `layerConfig`.
import { Config, ConfigProvider, Context, Duration, Effect, FileSystem, Layer, Option, Redacted, Result, Schema } from "effect"
import * as Privacy from "./domain/Privacy.ts"

export interface AppSettings {
  readonly botToken: Redacted.Redacted<string>
  readonly telegramApiRoot: string
  readonly databaseUrl: Option.Option<Redacted.Redacted<string>>
  readonly dataDir: string
  readonly adminIds: ReadonlyArray<number>
  readonly channelId: Option.Option<string>
  /** Longest random delay before admins hear of a new confession, so its arrival does not match the author's moment. */
  readonly adminNotifyJitter: Duration.Duration
  readonly botMode: "polling" | "webhook"
  /** Present exactly when `botMode` is `webhook`. */
  readonly webhook: Option.Option<WebhookSettings>
  readonly httpPort: number
  /** The address the HTTP server binds: loopback unless a proxy in front needs `0.0.0.0`. */
  readonly httpHost: string
  /** Shared state for several processes (conversation flows, rate limits, per-user locks); `None` keeps it in memory. */
  readonly redisUrl: Option.Option<Redacted.Redacted<string>>
  /** Start of every Redis key and channel name; processes of one bot share it, two bots on one Redis must not. */
  readonly redisKeyPrefix: string
  readonly telegramRateLimits: {
    readonly globalPerSecond: number
    readonly privateChatPerSecond: number
    readonly privateChatBurst: number
    readonly groupPerMinute: number
  }
  readonly updateConcurrency: number
  readonly handlerTimeout: Duration.Duration
  readonly stateTtl: Duration.Duration
  readonly stateMaxEntries: number
  readonly stateSweepInterval: Duration.Duration
  readonly statsCacheTtl: Duration.Duration
  readonly statsCacheCapacity: number
  readonly dbPoolMax: number
  readonly dbConnectionTtl: Duration.Duration
  readonly dbAcquireTimeout: Duration.Duration
  readonly shutdownGrace: Duration.Duration
  readonly confessionMaxLength: number
  /** The longest voice note accepted as a confession. */
  readonly voiceMaxDuration: Duration.Duration
  /** The campus' own patterns the privacy check looks for, besides phone numbers, e-mails, @usernames and links. */
  readonly privacyPatterns: ReadonlyArray<Privacy.Pattern>
  readonly commentMaxLength: number
  readonly commentsPageSize: number
  readonly reportThreshold: number
  readonly confessionsPerHour: number
  readonly confessionCooldown: Duration.Duration
  /** Per-user hourly limits on what reaches other people: comments and replies, reports, feedback. */
  readonly commentsPerHour: number
  readonly reportsPerHour: number
  readonly feedbackPerHour: number
  readonly logLevel: "trace" | "debug" | "info" | "warn" | "error"
  readonly logFormat: "pretty" | "json"
}

export interface WebhookSettings {
  readonly url: string
  readonly secret: Redacted.Redacted<string>
}

export class AppConfig extends Context.Service<AppConfig, AppSettings>()("confessions/AppConfig") {
  /** Reads the current ConfigProvider (the process environment, plus `.env` through `layerDotEnv`). */
  static readonly layerConfig: Layer.Layer<AppConfig, Config.ConfigError> = Layer.effect(
    AppConfig,
    Effect.suspend(() => settings)
  )
  /** Settings from an explicit record of variables, as tests and scripts use it. */
  static readonly layerFromEnv = (env: Record<string, string | undefined>): Layer.Layer<AppConfig, Config.ConfigError> =>
    Layer.effect(AppConfig, settings.parse(ConfigProvider.fromEnv({ env: definedOnly(env) })))
}

/** Adds `.env` (when the file exists) behind the real environment: a variable set in the shell wins. */
export const layerDotEnv = (path = ".env"): Layer.Layer<never, never, FileSystem.FileSystem> =>
  ConfigProvider.layerAdd(
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const contents = yield* fs.readFileString(path).pipe(Effect.orElseSucceed(() => ""))
      return ConfigProvider.fromDotEnvContents(contents)
    })
  )

/** One readable line naming the variable and what was expected, for start-up failures. */
export const describeConfigError = (error: Config.ConfigError): string => {
  const text = error.cause.message.replace(/\s+/g, " ").trim()
  const name = /at \["([A-Z0-9_]+)"\]/.exec(text)?.[1]
  const firstExpectation = /Expected .*?(?= at \[| Expected |$)/.exec(text)?.[0] ?? text
  const expected =
    firstExpectation === "Expected string"
      ? "is required but not set"
      : firstExpectation === "Expected a valid Duration string"
        ? 'expected a duration such as "60 seconds" or "5 minutes"'
        : firstExpectation.charAt(0).toLowerCase() + firstExpectation.slice(1)
  return name === undefined ? `configuration error: ${expected}` : `configuration error: ${name} ${expected}`
}

const definedOnly = (env: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))

const between = (name: string, minimum: number, maximum: number, fallback: number) =>
  Config.schema(Schema.Int.check(Schema.isBetween({ minimum, maximum })), name).pipe(Config.withDefault(fallback))

const positiveDuration = (name: string, fallback: Duration.Input) =>
  Config.schema(
    Schema.DurationFromString.check(
      Schema.makeFilter((d: Duration.Duration) =>
        Duration.isGreaterThan(d, Duration.zero) && Duration.isFinite(d) ? true : "Expected a positive, finite duration"
      )
    ),
    name
  ).pipe(Config.withDefault(Duration.fromInputUnsafe(fallback)))

const nonNegativeDuration = (name: string, fallback: Duration.Input) =>
  Config.schema(
    Schema.DurationFromString.check(
      Schema.makeFilter((d: Duration.Duration) => (Duration.isFinite(d) ? true : "Expected a finite duration"))
    ),
    name
  ).pipe(Config.withDefault(Duration.fromInputUnsafe(fallback)))

const adminIdList = Config.Array(
  Schema.Trim.check(Schema.isPattern(/^[1-9][0-9]{0,15}$/, { message: "Expected positive integer user ids separated by commas" }))
    .pipe(Schema.decodeTo(Schema.NumberFromString))
    .check(Schema.isLessThanOrEqualTo(Number.MAX_SAFE_INTEGER)),
  "ADMIN_IDS"
)

const webhookSettings: Config.Config<WebhookSettings> = Config.all({
  // Telegram delivers webhooks over HTTPS only.
  url: Config.schema(
    Schema.String.check(Schema.isPattern(/^https:\/\/[^\s/]+(\/\S*)?$/, { message: "Expected an https:// URL" })),
    "WEBHOOK_URL"
  ),
  // Telegram allows 1–256 of these characters; fewer than 16 could be guessed by whoever can reach the hook.
  secret: Config.schema(
    Schema.Redacted(
      Schema.String.check(
        Schema.isPattern(/^[A-Za-z0-9_-]{16,256}$/, {
          message: "Expected 16 to 256 characters from A-Z, a-z, 0-9, _ and -"
        })
      )
    ),
    "WEBHOOK_SECRET"
  )
})

const botMode = Config.Literals(["polling", "webhook"], "BOT_MODE").pipe(Config.withDefault("polling" as const))

const settings: Config.Config<AppSettings> = Config.all({
  botToken: Config.Redacted("BOT_TOKEN"),
  telegramApiRoot: Config.URL("TELEGRAM_API_ROOT").pipe(
    Config.map((url) => url.toString().replace(/\/+$/, "")),
    Config.withDefault("https://api.telegram.org")
  ),
  databaseUrl: Config.option(Config.Redacted("DATABASE_URL")),
  dataDir: Config.NonEmptyString("DATA_DIR").pipe(Config.withDefault("./data")),
  adminIds: adminIdList.pipe(Config.withDefault<ReadonlyArray<number>>([])),
  channelId: Config.option(Config.NonEmptyString("CHANNEL_ID")),
  adminNotifyJitter: nonNegativeDuration("ADMIN_NOTIFY_JITTER", "60 seconds"),
  botMode,
  webhook: botMode.pipe(
    Config.flatMap((mode) =>
      mode === "webhook" ? webhookSettings.pipe(Config.map(Option.some)) : Config.succeed(Option.none())
    )
  ),
  httpPort: between("HTTP_PORT", 0, 65_535, 8080),
  httpHost: Config.schema(
    Schema.Trim.check(Schema.isPattern(/^[^\s]+$/, { message: "Expected a host name or IP address such as 127.0.0.1" })),
    "HTTP_HOST"
  ).pipe(Config.withDefault("127.0.0.1")),
  redisUrl: Config.option(
    Config.schema(
      Schema.Redacted(
        Schema.String.check(Schema.isPattern(/^rediss?:\/\/\S+$/, { message: "Expected a redis:// or rediss:// URL" }))
      ),
      "REDIS_URL"
    )
  ),
  redisKeyPrefix: Config.schema(
    Schema.String.check(Schema.isPattern(/^[^\s*?[\]]{1,64}$/, { message: "Expected 1 to 64 characters without spaces or * ? [ ]" })),
    "REDIS_KEY_PREFIX"
  ).pipe(Config.withDefault("confessions:")),
  telegramRateLimits: Config.all({
    globalPerSecond: between("TELEGRAM_RATE_GLOBAL", 1, 100_000, 30),
    privateChatPerSecond: between("TELEGRAM_RATE_PER_CHAT", 1, 100_000, 1),
    privateChatBurst: between("TELEGRAM_RATE_PER_CHAT_BURST", 1, 100_000, 3),
    groupPerMinute: between("TELEGRAM_RATE_PER_GROUP", 1, 100_000, 20)
  }),
  updateConcurrency: between("UPDATE_CONCURRENCY", 1, 10_000, 64),
  handlerTimeout: positiveDuration("HANDLER_TIMEOUT", "30 seconds"),
  stateTtl: positiveDuration("STATE_TTL", "10 minutes"),
  stateMaxEntries: between("STATE_MAX_ENTRIES", 1, 10_000_000, 2000),
  stateSweepInterval: positiveDuration("STATE_SWEEP_INTERVAL", "60 seconds"),
  statsCacheTtl: nonNegativeDuration("STATS_CACHE_TTL", "5 minutes"),
  statsCacheCapacity: between("STATS_CACHE_CAPACITY", 0, 10_000_000, 10_000),
  dbPoolMax: between("DB_POOL_MAX", 1, 1000, 10),
  dbConnectionTtl: positiveDuration("DB_CONNECTION_TTL", "5 minutes"),
  dbAcquireTimeout: positiveDuration("DB_ACQUIRE_TIMEOUT", "10 seconds"),
  shutdownGrace: nonNegativeDuration("SHUTDOWN_GRACE", "10 seconds"),
  confessionMaxLength: between("CONFESSION_MAX_LENGTH", 1, 3700, 3500),
  voiceMaxDuration: positiveDuration("VOICE_MAX_DURATION", "2 minutes"),
  privacyPatterns: Config.schema(
    Schema.String.check(
      Schema.makeFilter((raw: string) =>
        Result.match(Privacy.parsePatterns(raw), { onSuccess: () => true, onFailure: Privacy.describeProblem })
      )
    ),
    "PRIVACY_PATTERNS"
  ).pipe(
    Config.withDefault(""),
    // Checked just above, so the patterns parse.
    Config.map((raw) => Result.getOrElse(Privacy.parsePatterns(raw), () => []))
  ),
  commentMaxLength: between("COMMENT_MAX_LENGTH", 1, 3800, 1000),
  commentsPageSize: between("COMMENTS_PAGE_SIZE", 1, 10, 5),
  reportThreshold: between("REPORT_THRESHOLD", 1, 1000, 3),
  confessionsPerHour: between("CONFESSIONS_PER_HOUR", 1, 1000, 5),
  confessionCooldown: nonNegativeDuration("CONFESSION_COOLDOWN", "30 seconds"),
  commentsPerHour: between("COMMENTS_PER_HOUR", 1, 100_000, 30),
  reportsPerHour: between("REPORTS_PER_HOUR", 1, 100_000, 20),
  feedbackPerHour: between("FEEDBACK_PER_HOUR", 1, 100_000, 5),
  logLevel: Config.Literals(["trace", "debug", "info", "warn", "error"], "LOG_LEVEL").pipe(
    Config.withDefault("info" as const)
  ),
  logFormat: Config.Literals(["pretty", "json"], "LOG_FORMAT").pipe(
    Config.withDefault(process.stdout.isTTY ? ("pretty" as const) : ("json" as const))
  )
})
