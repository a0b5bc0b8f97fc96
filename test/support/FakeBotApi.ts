// A local stand-in for the Telegram Bot API: grammY talks real HTTP to it through TELEGRAM_API_ROOT. It serves
// getUpdates from a queue (long polling, confirmation by offset like Telegram), answers every other method, records
// every request body, and can be scripted to fail a method with any status.
import { Context, Deferred, Effect, Layer } from "effect"
import type { Update } from "grammy/types"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

export interface ApiCall {
  readonly method: string
  readonly body: Record<string, unknown>
  /** The request body exactly as sent, for "never contains X" checks. */
  readonly raw: string
}

export interface ScriptedResponse {
  readonly status: number
  readonly body: Record<string, unknown>
}

export const botInfo = {
  id: 777_000,
  is_bot: true as const,
  first_name: "Confessions",
  username: "confessions_test_bot",
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
  can_manage_bots: false,
  supports_guest_queries: false
}

export const token = "123456:TEST-TOKEN"

export class FakeBotApi extends Context.Service<
  FakeBotApi,
  {
    readonly apiRoot: string
    readonly calls: ReadonlyArray<ApiCall>
    readonly callsTo: (method: string) => ReadonlyArray<ApiCall>
    /** Queues updates for getUpdates (and wakes a waiting long poll). */
    readonly push: (...updates: ReadonlyArray<Update>) => void
    /** The offset the bot last confirmed: every update below it is gone for good, as on Telegram. */
    readonly confirmedOffset: () => number
    readonly pendingUpdates: () => number
    /** The next `times` calls of `method` (optionally only those matching `when`) get this response. */
    readonly script: (
      method: string,
      response: ScriptedResponse,
      options?: { readonly times?: number; readonly when?: (body: Record<string, unknown>) => boolean }
    ) => void
    /** Waits (real time) until some recorded call satisfies `predicate`, and returns it. */
    readonly waitForCall: (predicate: (call: ApiCall) => boolean) => Effect.Effect<ApiCall>
    /** Waits (real time) until `condition()` holds, re-checked after every request. */
    readonly waitUntil: (condition: () => boolean) => Effect.Effect<void>
    readonly clearCalls: () => void
  }
>()("confessions/test/FakeBotApi") {
  static readonly layer = Layer.effect(FakeBotApi, Effect.suspend(() => make))
}

interface Script {
  readonly method: string
  readonly response: ScriptedResponse
  remaining: number
  readonly when: ((body: Record<string, unknown>) => boolean) | undefined
}

const make = Effect.gen(function* () {
  const calls: Array<ApiCall> = []
  let queue: Array<Update> = []
  let confirmed = 0
  let nextMessageId = 1
  const scripts: Array<Script> = []
  const listeners = new Set<() => void>()
  const notify = () => {
    for (const listener of [...listeners]) listener()
  }

  const handle = (method: string, body: Record<string, unknown>, res: ServerResponse) => {
    const send = (status: number, json: Record<string, unknown>) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json))
    }
    const scripted = scripts.find((s) => s.method === method && s.remaining > 0 && (s.when === undefined || s.when(body)))
    if (scripted) {
      scripted.remaining -= 1
      return send(scripted.response.status, scripted.response.body)
    }
    switch (method) {
      case "getMe":
        return send(200, { ok: true, result: botInfo })
      case "getUpdates": {
        const offset = typeof body.offset === "number" ? body.offset : 0
        if (offset > confirmed) confirmed = offset
        queue = queue.filter((u) => u.update_id >= confirmed)
        const limit = typeof body.limit === "number" ? body.limit : 100
        const ready = () => queue.slice(0, limit)
        if (ready().length > 0) return send(200, { ok: true, result: ready() })
        const waitMs = Math.min(typeof body.timeout === "number" ? body.timeout * 1000 : 0, 500)
        const finish = () => {
          listeners.delete(onPush)
          clearTimeout(timer)
          if (!res.writableEnded && !res.destroyed) send(200, { ok: true, result: ready() })
        }
        const onPush = () => {
          if (ready().length > 0) finish()
        }
        const timer = setTimeout(finish, waitMs)
        listeners.add(onPush)
        res.on("close", () => {
          listeners.delete(onPush)
          clearTimeout(timer)
        })
        return
      }
      case "sendMessage":
        return send(200, {
          ok: true,
          result: {
            message_id: nextMessageId++,
            date: 0,
            chat: chatOf(body.chat_id),
            text: String(body.text ?? "")
          }
        })
      case "editMessageText":
        return send(200, {
          ok: true,
          result: { message_id: Number(body.message_id), date: 0, chat: chatOf(body.chat_id), text: String(body.text ?? "") }
        })
      default:
        return send(200, { ok: true, result: true })
    }
  }

  const server = yield* Effect.acquireRelease(
    Effect.callback<ReturnType<typeof createServer>>((resume) => {
      const srv = createServer((req: IncomingMessage, res: ServerResponse) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8")
          const method = (req.url ?? "").split("/").pop() ?? ""
          const body = raw.length > 0 ? (JSON.parse(raw) as Record<string, unknown>) : {}
          calls.push({ method, body, raw })
          handle(method, body, res)
          notify()
        })
      })
      srv.keepAliveTimeout = 1000
      srv.listen(0, "127.0.0.1", () => resume(Effect.succeed(srv)))
    }),
    (srv) =>
      Effect.callback<void>((resume) => {
        srv.closeAllConnections()
        srv.close(() => resume(Effect.void))
      })
  )
  const port = (server.address() as AddressInfo).port

  const waitUntil = (condition: () => boolean): Effect.Effect<void> =>
    Effect.gen(function* () {
      if (condition()) return
      const done = yield* Deferred.make<void>()
      const check = () => {
        if (condition()) Deferred.doneUnsafe(done, Effect.void)
      }
      listeners.add(check)
      // Conditions may also change without a request (e.g. a database row); re-check on a short real interval.
      const interval = setInterval(check, 20)
      yield* Deferred.await(done).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            listeners.delete(check)
            clearInterval(interval)
          })
        )
      )
    })

  return FakeBotApi.of({
    apiRoot: `http://127.0.0.1:${port}`,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    push: (...updates) => {
      queue.push(...updates)
      queue.sort((a, b) => a.update_id - b.update_id)
      notify()
    },
    confirmedOffset: () => confirmed,
    pendingUpdates: () => queue.filter((u) => u.update_id >= confirmed).length,
    script: (method, response, options) => {
      scripts.push({ method, response, remaining: options?.times ?? 1, when: options?.when })
    },
    waitForCall: (predicate) =>
      Effect.map(
        waitUntil(() => calls.some(predicate)),
        () => calls.find(predicate) as ApiCall
      ),
    waitUntil,
    clearCalls: () => {
      calls.length = 0
    }
  })
})

const chatOf = (chatId: unknown) =>
  typeof chatId === "number" && chatId > 0
    ? { id: chatId, type: "private", first_name: "User" }
    : { id: typeof chatId === "number" ? chatId : -1001, type: "channel", title: "Channel" }
