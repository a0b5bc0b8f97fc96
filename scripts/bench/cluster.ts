// Moving parts for running several bot processes on one machine, shared by the cluster tests (test/cluster) and the
// benchmark's multi-process scenarios: a Redis server of our own on a free port (stoppable, never the machine's shared
// one), a load balancer in front of webhook processes, a webhook "Telegram" that takes updates from the Bot API
// emulator and POSTs them to a URL the way Telegram does, and a readiness probe. Every piece is scoped.
import { Duration, Effect, Option, Semaphore } from "effect"
import { spawn } from "node:child_process"
import * as Fs from "node:fs"
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http"
import { type AddressInfo, connect } from "node:net"
import * as Path from "node:path"
import { freePort } from "./harness.ts"

// ---- Redis ------------------------------------------------------------------------------------------------------

export interface RedisServer {
  readonly url: string
  readonly port: number
  /** Stops the server (SIGTERM; it keeps nothing: no RDB, no AOF) and waits for it to exit. */
  readonly stop: Effect.Effect<void>
  /** Starts it again on the same port and waits until it answers. */
  readonly start: Effect.Effect<void>
}

/** Answers whether a Redis server on `port` replies +PONG within a second. */
const pong = (port: number) =>
  Effect.callback<boolean>((resume) => {
    const socket = connect(port, "127.0.0.1")
    const done = (ok: boolean) => {
      socket.destroy()
      resume(Effect.succeed(ok))
    }
    socket.setTimeout(1000, () => done(false))
    socket.on("error", () => done(false))
    socket.on("data", (data) => done(data.toString().startsWith("+PONG")))
    socket.on("connect", () => socket.write("PING\r\n"))
  })

/** A `redis-server` of this run on a free port, stopped when the scope closes. */
export const startRedis = (logFile: string) =>
  Effect.gen(function* () {
    const port = yield* freePort
    let child: ReturnType<typeof spawn> | undefined
    let exited: Promise<void> = Promise.resolve()
    const launch = Effect.gen(function* () {
      Fs.mkdirSync(Path.dirname(logFile), { recursive: true })
      const log = Fs.openSync(logFile, "a")
      const started = spawn(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"],
        { stdio: ["ignore", log, log] }
      )
      child = started
      exited = new Promise((resolve) => started.on("exit", () => resolve()))
      started.on("exit", () => Fs.closeSync(log))
      for (let attempt = 0; attempt < 100; attempt++) {
        if (yield* pong(port)) return
        yield* Effect.sleep("50 millis")
      }
      return yield* Effect.die(new Error(`redis-server on port ${port} did not answer; see ${logFile}`))
    })
    const stop = Effect.promise(() => {
      const current = child
      child = undefined
      if (current === undefined || current.exitCode !== null) return Promise.resolve()
      current.kill("SIGTERM")
      return exited
    })
    yield* Effect.acquireRelease(launch, () => stop)
    return { url: `redis://127.0.0.1:${port}`, port, stop, start: launch } satisfies RedisServer
  })

// ---- load balancer ----------------------------------------------------------------------------------------------

export interface LoadBalancer {
  /** POST here; the path is passed on as is. */
  readonly url: string
  /** Requests passed to each upstream, by its base URL. */
  readonly counts: () => Readonly<Record<string, number>>
}

/**
 * An HTTP load balancer on 127.0.0.1: every request goes to one of `upstreams()` (base URLs, read per request), picked
 * at random or in turn, and its answer comes back as is; an upstream that cannot be reached answers 502, as nginx
 * would. It does no health checks, so a test sees exactly what a dead or unready process does to deliveries.
 */
export const loadBalancer = (options: {
  readonly upstreams: () => ReadonlyArray<string>
  readonly strategy: "random" | "round-robin"
  readonly random?: () => number
  /** Sees each request's body and the upstream it goes to (tests record which process got which update). */
  readonly observe?: (body: Buffer, upstream: string) => void
}) =>
  Effect.gen(function* () {
    const counts: Record<string, number> = {}
    let turn = 0
    const random = options.random ?? Math.random
    const forward = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const upstreams = options.upstreams()
        const upstream =
          options.strategy === "random"
            ? upstreams[Math.floor(random() * upstreams.length)]
            : upstreams[turn++ % Math.max(1, upstreams.length)]
        if (upstream === undefined) {
          res.writeHead(503).end()
          return
        }
        counts[upstream] = (counts[upstream] ?? 0) + 1
        options.observe?.(Buffer.concat(chunks), upstream)
        const headers: Record<string, string> = {}
        for (const name of ["content-type", "x-telegram-bot-api-secret-token"]) {
          const value = req.headers[name]
          if (typeof value === "string") headers[name] = value
        }
        fetch(`${upstream}${req.url ?? "/"}`, {
          method: req.method ?? "POST",
          headers,
          body: Buffer.concat(chunks),
          signal: AbortSignal.timeout(120_000)
        }).then(
          async (answer) => {
            const body = Buffer.from(await answer.arrayBuffer())
            res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "text/plain" }).end(body)
          },
          () => res.writeHead(502).end()
        )
      })
    }
    const server = yield* Effect.acquireRelease(
      Effect.callback<ReturnType<typeof createHttpServer>>((resume) => {
        const created = createHttpServer({ keepAliveTimeout: 60_000 }, forward)
        created.listen(0, "127.0.0.1", () => resume(Effect.succeed(created)))
      }),
      (created) =>
        Effect.callback<void>((resume) => {
          created.closeAllConnections()
          created.close(() => resume(Effect.void))
        })
    )
    const port = (server.address() as AddressInfo).port
    return { url: `http://127.0.0.1:${port}`, counts: () => ({ ...counts }) } satisfies LoadBalancer
  })

// ---- webhook delivery -------------------------------------------------------------------------------------------

export interface WebhookBridge {
  /** Updates taken from the emulator and not yet answered 2xx. */
  readonly pending: () => number
  readonly delivered: () => number
  /** Answers by HTTP status ("0" for a failed connection), retries included. */
  readonly statuses: () => Readonly<Record<string, number>>
}

/**
 * Plays Telegram's webhook delivery for the emulator, whose own delivery needs an https:// URL a test cannot serve:
 * it long-polls the emulator's getUpdates (confirming what it took, as Telegram forgets nothing it still has to
 * deliver) and POSTs each update to `url` with the secret token, at most `maxConnections` at once, in arrival order,
 * trying an update again after `retryDelay` until it is answered 2xx. The bots' own setWebhook must not reach the
 * emulator (script it), or its getUpdates would answer 409.
 */
export const webhookBridge = (options: {
  readonly apiRoot: string
  readonly token: string
  readonly url: string
  readonly secret: string
  readonly maxConnections?: number
  readonly retryDelay?: Duration.Input
}) =>
  Effect.gen(function* () {
    const permits = yield* Semaphore.make(options.maxConnections ?? 40)
    const retryDelay = Duration.fromInputUnsafe(options.retryDelay ?? "100 millis")
    const statuses: Record<string, number> = {}
    let pending = 0
    let delivered = 0
    const post = (json: string) =>
      Effect.promise(() =>
        fetch(options.url, {
          method: "POST",
          headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": options.secret },
          body: json,
          signal: AbortSignal.timeout(120_000)
        }).then(
          async (answer) => {
            await answer.arrayBuffer().catch(() => undefined)
            return answer.status
          },
          () => 0
        )
      )
    const deliver = (json: string) =>
      Effect.gen(function* () {
        while (true) {
          const status = yield* permits.withPermit(post(json))
          statuses[String(status)] = (statuses[String(status)] ?? 0) + 1
          if (status >= 200 && status < 300) break
          yield* Effect.sleep(retryDelay)
        }
        pending--
        delivered++
      })
    const getUpdates = (offset: number) =>
      Effect.promise(() =>
        fetch(`${options.apiRoot}/bot${options.token}/getUpdates`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ offset, timeout: 1, limit: 100 }),
          signal: AbortSignal.timeout(10_000)
        }).then(
          async (answer) => Option.some((await answer.json()) as { readonly ok: boolean; readonly result?: Array<unknown> }),
          () => Option.none()
        )
      )
    yield* Effect.gen(function* () {
      let offset = 0
      while (true) {
        const answer = yield* getUpdates(offset)
        const updates = Option.isSome(answer) && answer.value.ok ? (answer.value.result ?? []) : []
        if (Option.isNone(answer) || !answer.value.ok) yield* Effect.sleep("100 millis")
        for (const update of updates) {
          const id = (update as { readonly update_id: number }).update_id
          offset = Math.max(offset, id + 1)
          pending++
          // Forked in arrival order; the semaphore hands out its permits first come, first served.
          yield* Effect.forkChild(deliver(JSON.stringify(update)))
          yield* Effect.yieldNow
        }
      }
    }).pipe(Effect.forkScoped)
    return {
      pending: () => pending,
      delivered: () => delivered,
      statuses: () => ({ ...statuses })
    } satisfies WebhookBridge
  })

// ---- readiness --------------------------------------------------------------------------------------------------

export interface Readiness {
  readonly status: number
  readonly body: Record<string, unknown>
}

/** GET /readyz of a process (status 0 when it does not answer). */
export const readiness = (port: number): Effect.Effect<Readiness> =>
  Effect.promise(() =>
    fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) }).then(
      async (answer): Promise<Readiness> => ({ status: answer.status, body: (await answer.json()) as Record<string, unknown> }),
      (): Readiness => ({ status: 0, body: {} })
    )
  )

/** Waits (polling every 50 ms, up to `max`) until `condition` holds for the process's readiness. */
export const waitForReadiness = (port: number, condition: (ready: Readiness) => boolean, max: Duration.Input = "60 seconds") =>
  Effect.gen(function* () {
    while (true) {
      const ready = yield* readiness(port)
      if (condition(ready)) return ready
      yield* Effect.sleep("50 millis")
    }
  }).pipe(
    Effect.timeoutOrElse({
      duration: max,
      orElse: () => Effect.die(new Error(`process on port ${port}: readiness condition not met within ${Duration.format(Duration.fromInputUnsafe(max))}`))
    })
  )
