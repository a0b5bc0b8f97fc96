// A fast local Bot API for the benchmark (node:http on 127.0.0.1). It serves getUpdates from the virtual users'
// traffic with Telegram's semantics (long poll, `limit`, an `offset` confirms every update below it, unconfirmed
// updates come back on every call), answers every other method, and times each update from the moment it was
// first handed out ("offered") to the bot's reply.
//
// Matching replies to updates: a virtual user has at most one update outstanding and sends the next only after
// the reply to the previous one (and not sooner than `paceMs` after it sent the previous one, Telegram's per-chat
// pace). The reply is the first of: an answerCallbackQuery with the update's callback id; an editMessageText of
// the message carrying the pressed button (every button press comes from its own message id); a sendMessage to the
// user's chat once the update was handed out. Anything else addressed to a virtual user (the toast after an edit,
// the edit after a toast) is an "extra reply", counted and otherwise ignored, so a handler's trailing message is
// never mistaken for the answer to the user's next update.
import { Effect } from "effect"
import type { Update } from "grammy/types"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import {
  type Action,
  type ActionKind,
  actionKinds,
  buttonMessageIdOf,
  callbackIdOf,
  ids,
  makeRandom,
  type Mix,
  nextAction,
  type Seeded,
  toUpdate,
  virtualUserId
} from "./workload.ts"

export const token = "123456:BENCH-TOKEN"

export const botInfo = {
  id: 777_001,
  is_bot: true as const,
  first_name: "Confessions Bench",
  username: "confessions_bench_bot",
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false
}

export interface EmulatorOptions {
  readonly seeded: Seeded
  readonly mix: Mix
  readonly randomSeed: number
  /** An update not answered within this long is counted as unanswered and its user moves on. */
  readonly replyTimeoutMs: number
  /** Reply texts that mean "the bot failed" (the router's apology). */
  readonly failureTexts: ReadonlyArray<string>
}

export interface LatencySummary {
  readonly count: number
  readonly mean: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
}

export interface WindowResult {
  readonly seconds: number
  /** Updates the users sent (queued for getUpdates) during the window. */
  readonly sent: number
  /** Updates handed out by getUpdates for the first time during the window. */
  readonly offered: number
  /** Updates answered during the window. */
  readonly answered: number
  readonly updatesPerSecond: number
  /** Offered → reply, milliseconds, over the updates answered in the window (the end-to-end latency). */
  readonly latency: LatencySummary
  /** Sent by the user → reply: includes time waiting in the emulator before the bot asked for it. */
  readonly userLatency: LatencySummary
  readonly byKind: Readonly<Record<ActionKind, LatencySummary>>
  /** Updates that got no reply within `replyTimeoutMs` (counted when they expire). */
  readonly unanswered: number
  /** Replies that were the router's apology ("a temporary problem"). */
  readonly failures: number
  /** Requests the emulator rejected with 400 (missing fields, text over 4,096, callback data over 64 bytes). */
  readonly badRequests: number
  /** Messages to a virtual user with nothing outstanding (a second message for an already answered update). */
  readonly extraReplies: number
  /** Messages to chats that are not virtual users (admins, the channel, seeded authors). */
  readonly otherChatMessages: number
  readonly apiCalls: Readonly<Record<string, number>>
  readonly getUpdatesCalls: number
  /**
   * At each getUpdates: how many updates the bot had received but not yet confirmed (from its offset to the
   * newest handed out), mean and max. Telegram answers at most 100 per call from the offset, so a bot that
   * confirms only handled updates cannot see new ones while this is at 100.
   */
  readonly unconfirmedMean: number
  readonly unconfirmedMax: number
  /** Updates handed out for the first time per getUpdates call. */
  readonly freshPerPoll: number
  /** Emulator CPU time during the window, as a share of one core. */
  readonly emulatorCpu: number
}

export interface Emulator {
  readonly apiRoot: string
  /**
   * Activates users `0 … count-1` (staggering new ones over one pace interval) and deactivates the rest; an
   * inactive user finishes its outstanding update and sends nothing more. `paceMs` 0 = a closed loop without think
   * time. `actionsPerUser` bounds how many actions each user performs (then it stops by itself).
   */
  readonly setUsers: (count: number, paceMs: number, actionsPerUser?: number) => void
  readonly beginWindow: () => void
  readonly endWindow: () => WindowResult
  /** Resolves when no user has an update outstanding or due (all inactive or out of actions), or after `maxMs`. */
  readonly idle: (maxMs: number) => Promise<boolean>
  /** Resolves at the first getUpdates call (the bot is polling), or rejects after `maxMs`. */
  readonly firstPoll: (maxMs: number) => Promise<void>
  readonly totals: () => Totals
  readonly outstanding: () => number
}

export interface Totals {
  readonly sent: number
  readonly offered: number
  readonly answered: number
  readonly unanswered: number
  readonly failures: number
  readonly badRequests: number
  readonly extraReplies: number
  readonly answeredByKind: Readonly<Record<ActionKind, number>>
  /** Steps answered by step position within their action, e.g. `comment#2` (the comment text). */
  readonly answeredBySteps: Readonly<Record<string, number>>
  readonly apiCalls: Readonly<Record<string, number>>
}

interface VirtualUser {
  readonly index: number
  readonly id: number
  active: boolean
  actionsLeft: number
  action: Action | undefined
  stepIndex: number
  outstanding: Pending | undefined
  lastSentAt: number
  /** Scheduled in the heap (to avoid double scheduling). */
  scheduled: boolean
}

interface Pending {
  readonly user: VirtualUser
  readonly updateId: number
  readonly kind: ActionKind
  readonly stepKey: string
  readonly sentAt: number
  offeredAt: number
  readonly callbackId: string | undefined
  /** The message carrying the pressed button (button presses only). */
  readonly messageId: number | undefined
}

interface Queued {
  readonly updateId: number
  readonly json: string
  readonly pending: Pending
}

interface Waiter {
  readonly res: ServerResponse
  readonly limit: number
  readonly timer: NodeJS.Timeout
}

interface Counters {
  sent: number
  offered: number
  answered: number
  unanswered: number
  failures: number
  badRequests: number
  extraReplies: number
  otherChatMessages: number
  getUpdatesCalls: number
  apiCalls: Record<string, number>
}

const zeroCounters = (): Counters => ({
  sent: 0,
  offered: 0,
  answered: 0,
  unanswered: 0,
  failures: 0,
  badRequests: 0,
  extraReplies: 0,
  otherChatMessages: 0,
  getUpdatesCalls: 0,
  apiCalls: {}
})

/** Growable array of doubles, so millions of latencies cost 8 bytes each. */
class Samples {
  private data = new Float64Array(1024)
  length = 0
  push(value: number) {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[this.length++] = value
  }
  summary(): LatencySummary {
    const sorted = this.data.slice(0, this.length).sort()
    const n = sorted.length
    if (n === 0) return { count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 }
    let sum = 0
    for (let i = 0; i < n; i++) sum += sorted[i] as number
    const at = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] as number
    return { count: n, mean: sum / n, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[n - 1] as number }
  }
}

interface Window {
  unconfirmedSum: number
  unconfirmedMax: number
  readonly startedAt: number
  readonly cpuAtStart: NodeJS.CpuUsage
  readonly counters: Counters
  readonly latency: Samples
  readonly userLatency: Samples
  readonly byKind: Record<ActionKind, Samples>
}

/** Min-heap of users by due time. */
class DueHeap {
  private readonly times: Array<number> = []
  private readonly users: Array<VirtualUser> = []
  get size() {
    return this.times.length
  }
  peekTime(): number {
    return this.times[0] ?? Infinity
  }
  push(time: number, user: VirtualUser) {
    this.times.push(time)
    this.users.push(user)
    let i = this.times.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((this.times[parent] as number) <= time) break
      this.swap(i, parent)
      i = parent
    }
  }
  pop(): VirtualUser | undefined {
    const top = this.users[0]
    const lastTime = this.times.pop()
    const lastUser = this.users.pop()
    if (this.times.length > 0 && lastTime !== undefined && lastUser !== undefined) {
      this.times[0] = lastTime
      this.users[0] = lastUser
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let smallest = i
        if (l < this.times.length && (this.times[l] as number) < (this.times[smallest] as number)) smallest = l
        if (r < this.times.length && (this.times[r] as number) < (this.times[smallest] as number)) smallest = r
        if (smallest === i) break
        this.swap(i, smallest)
        i = smallest
      }
    }
    return top
  }
  private swap(a: number, b: number) {
    const t = this.times[a] as number
    this.times[a] = this.times[b] as number
    this.times[b] = t
    const u = this.users[a] as VirtualUser
    this.users[a] = this.users[b] as VirtualUser
    this.users[b] = u
  }
}

const now = () => performance.now()

/** Starts the emulator; it stops (server closed, timers cleared, long polls answered) when the scope closes. */
export const make = (options: EmulatorOptions) =>
  Effect.acquireRelease(
    Effect.callback<EmulatorHandle>((resume) => {
      const handle = start(options, () => resume(Effect.succeed(handle)))
    }),
    (handle) => Effect.callback<void>((resume) => handle.close(() => resume(Effect.void)))
  ).pipe(Effect.map((handle) => handle.emulator))

interface EmulatorHandle {
  readonly emulator: Emulator
  readonly close: (done: () => void) => void
}

const start = (options: EmulatorOptions, onListening: () => void): EmulatorHandle => {
  const random = makeRandom(options.randomSeed)
  const failureTexts = new Set(options.failureTexts)
  const users: Array<VirtualUser> = []
  const byChat = new Map<number, Pending>()
  const byCallback = new Map<string, Pending>()
  const byMessage = new Map<number, Pending>()
  const outstanding = new Map<number, Pending>()
  const heap = new DueHeap()
  let queue: Array<Queued> = []
  let head = 0
  /** Queue index below which every update was offered at least once. */
  let offeredUntil = 0
  let nextUpdateId = 1
  let nextMessageId = 1_000
  let actionSerial = 0
  let paceMs = 0
  let waiter: Waiter | undefined
  let flushScheduled = false
  let closed = false
  let firstPollSeen: (() => void) | undefined
  let polled = false
  const totals = zeroCounters()
  const answeredByKind = Object.fromEntries(actionKinds.map((k) => [k, 0])) as Record<ActionKind, number>
  const answeredBySteps: Record<string, number> = {}
  let window: Window | undefined

  const count = (field: Exclude<keyof Counters, "apiCalls">, by = 1) => {
    totals[field] += by
    if (window) window.counters[field] += by
  }
  const countCall = (method: string) => {
    totals.apiCalls[method] = (totals.apiCalls[method] ?? 0) + 1
    if (window) window.counters.apiCalls[method] = (window.counters.apiCalls[method] ?? 0) + 1
  }

  // ---- virtual users -------------------------------------------------------------------------------------------

  const schedule = (user: VirtualUser, at: number) => {
    if (user.scheduled || closed) return
    user.scheduled = true
    heap.push(at, user)
  }

  const send = (user: VirtualUser, at: number) => {
    if (!user.active || user.outstanding) return
    if (!user.action || user.stepIndex >= user.action.steps.length) {
      if (user.actionsLeft <= 0) return
      user.actionsLeft--
      user.action = nextAction(random, options.seeded, options.mix, actionSerial++)
      user.stepIndex = 0
    }
    const action = user.action
    const step = action.steps[user.stepIndex]
    if (!step) return
    const updateId = nextUpdateId++
    const update: Update = toUpdate(user.id, step, updateId, Math.floor(Date.now() / 1000))
    const pending: Pending = {
      user,
      updateId,
      kind: action.kind,
      stepKey: `${action.kind}#${user.stepIndex + 1}`,
      sentAt: at,
      offeredAt: -1,
      callbackId: step._tag === "Button" ? callbackIdOf(updateId) : undefined,
      messageId: step._tag === "Button" ? buttonMessageIdOf(updateId) : undefined
    }
    user.stepIndex++
    user.outstanding = pending
    user.lastSentAt = at
    byChat.set(user.id, pending)
    if (pending.callbackId) byCallback.set(pending.callbackId, pending)
    if (pending.messageId !== undefined) byMessage.set(pending.messageId, pending)
    outstanding.set(updateId, pending)
    queue.push({ updateId, json: JSON.stringify(update), pending })
    count("sent")
    scheduleFlush()
  }

  const release = (pending: Pending) => {
    byChat.delete(pending.user.id)
    if (pending.callbackId) byCallback.delete(pending.callbackId)
    if (pending.messageId !== undefined) byMessage.delete(pending.messageId)
    outstanding.delete(pending.updateId)
    const user = pending.user
    user.outstanding = undefined
  }

  const next = (user: VirtualUser, at: number, abandonAction: boolean) => {
    if (abandonAction && user.action) user.stepIndex = user.action.steps.length
    if (!user.active) return
    const moreSteps = user.action !== undefined && user.stepIndex < user.action.steps.length
    if (!moreSteps && user.actionsLeft <= 0) return
    const due = Math.max(at, user.lastSentAt + paceMs)
    if (due <= at) send(user, at)
    else schedule(user, due)
  }

  const answer = (pending: Pending, at: number, text: string | undefined) => {
    release(pending)
    count("answered")
    answeredByKind[pending.kind]++
    answeredBySteps[pending.stepKey] = (answeredBySteps[pending.stepKey] ?? 0) + 1
    const failed = text !== undefined && failureTexts.has(text)
    if (failed) count("failures")
    if (window) {
      const offeredAt = pending.offeredAt >= 0 ? pending.offeredAt : pending.sentAt
      window.latency.push(at - offeredAt)
      window.userLatency.push(at - pending.sentAt)
      window.byKind[pending.kind].push(at - offeredAt)
    }
    // A failed step leaves the bot's conversation state unknown: start a fresh action.
    next(pending.user, at, failed)
  }

  const tick = () => {
    const at = now()
    while (heap.size > 0 && heap.peekTime() <= at) {
      const user = heap.pop()
      if (!user) break
      user.scheduled = false
      send(user, at)
    }
  }

  const expire = () => {
    const at = now()
    for (const pending of outstanding.values()) {
      if (at - pending.sentAt < options.replyTimeoutMs) continue
      release(pending)
      count("unanswered")
      next(pending.user, at, true)
    }
  }

  const ticker = setInterval(tick, 1)
  const expirer = setInterval(expire, 250)

  // ---- getUpdates ----------------------------------------------------------------------------------------------

  const confirm = (offset: number) => {
    while (head < queue.length && (queue[head] as Queued).updateId < offset) head++
    if (head > 4096 && head * 2 > queue.length) {
      queue = queue.slice(head)
      offeredUntil = Math.max(0, offeredUntil - head)
      head = 0
    }
  }

  const respondUpdates = (res: ServerResponse, limit: number) => {
    const end = Math.min(queue.length, head + limit)
    const at = now()
    const parts: Array<string> = []
    for (let i = head; i < end; i++) {
      const item = queue[i] as Queued
      parts.push(item.json)
      if (i >= offeredUntil) {
        if (item.pending.offeredAt < 0) item.pending.offeredAt = at
        count("offered")
      }
    }
    if (end > offeredUntil) offeredUntil = end
    reply(res, 200, `{"ok":true,"result":[${parts.join(",")}]}`)
  }

  const scheduleFlush = () => {
    if (flushScheduled || !waiter) return
    flushScheduled = true
    // Let updates sent in the same turn of the event loop travel in one answer, as Telegram batches them.
    setImmediate(() => {
      flushScheduled = false
      const current = waiter
      if (!current || head >= queue.length) return
      waiter = undefined
      clearTimeout(current.timer)
      respondUpdates(current.res, current.limit)
    })
  }

  const getUpdates = (body: Record<string, unknown>, res: ServerResponse) => {
    count("getUpdatesCalls")
    if (!polled) {
      polled = true
      firstPollSeen?.()
    }
    const offset = typeof body.offset === "number" ? body.offset : 0
    const limit = Math.min(100, Math.max(1, typeof body.limit === "number" ? body.limit : 100))
    const timeoutSeconds = typeof body.timeout === "number" ? body.timeout : 0
    confirm(offset)
    if (window) {
      const unconfirmed = Math.max(0, offeredUntil - head)
      window.unconfirmedSum += unconfirmed
      window.unconfirmedMax = Math.max(window.unconfirmedMax, unconfirmed)
    }
    if (waiter) {
      // Telegram answers the older of two concurrent long polls with a conflict; an empty answer is gentler.
      clearTimeout(waiter.timer)
      reply(waiter.res, 200, `{"ok":true,"result":[]}`)
      waiter = undefined
    }
    if (head < queue.length || timeoutSeconds <= 0 || closed) return respondUpdates(res, limit)
    const timer = setTimeout(() => {
      if (waiter?.res === res) waiter = undefined
      respondUpdates(res, limit)
    }, timeoutSeconds * 1000)
    waiter = { res, limit, timer }
    res.on("close", () => {
      if (waiter?.res === res) {
        clearTimeout(waiter.timer)
        waiter = undefined
      }
    })
  }

  // ---- other methods -------------------------------------------------------------------------------------------

  const badRequest = (res: ServerResponse, description: string) => {
    count("badRequests")
    reply(res, 400, JSON.stringify({ ok: false, error_code: 400, description: `Bad Request: ${description}` }))
  }

  const checkMarkup = (body: Record<string, unknown>): string | undefined => {
    const markup = body.reply_markup as { readonly inline_keyboard?: ReadonlyArray<ReadonlyArray<{ readonly callback_data?: string }>> } | undefined
    for (const row of markup?.inline_keyboard ?? []) {
      for (const button of row) {
        if (button.callback_data !== undefined && Buffer.byteLength(button.callback_data) > 64) return "BUTTON_DATA_INVALID"
      }
    }
    return undefined
  }

  const isVirtualUser = (chatId: number) => chatId > ids.virtualUserBase && chatId <= ids.virtualUserBase + users.length

  const onMessageTo = (chatId: unknown, text: string | undefined, editedMessageId: number | undefined) => {
    const at = now()
    if (typeof chatId !== "number" || !isVirtualUser(chatId)) return count("otherChatMessages")
    const pending = editedMessageId === undefined ? byChat.get(chatId) : byMessage.get(editedMessageId)
    // A new message can only answer an update the bot has already received.
    if (pending && pending.user.id === chatId && (editedMessageId !== undefined || pending.offeredAt >= 0)) {
      return answer(pending, at, text)
    }
    count("extraReplies")
  }

  const handle = (method: string, body: Record<string, unknown>, res: ServerResponse) => {
    countCall(method)
    switch (method) {
      case "getUpdates":
        return getUpdates(body, res)
      case "getMe":
        return reply(res, 200, JSON.stringify({ ok: true, result: botInfo }))
      case "sendMessage":
      case "editMessageText": {
        const text = typeof body.text === "string" ? body.text : undefined
        if (body.chat_id === undefined || text === undefined || text.length === 0) return badRequest(res, "message text is empty")
        if (text.length > 4096) return badRequest(res, "message is too long")
        const markupProblem = checkMarkup(body)
        if (markupProblem) return badRequest(res, markupProblem)
        const messageId = method === "sendMessage" ? nextMessageId++ : Number(body.message_id ?? 1)
        reply(
          res,
          200,
          JSON.stringify({ ok: true, result: { message_id: messageId, date: Math.floor(Date.now() / 1000), chat: chatOf(body.chat_id), text } })
        )
        return onMessageTo(body.chat_id, text, method === "editMessageText" ? Number(body.message_id) : undefined)
      }
      case "answerCallbackQuery": {
        reply(res, 200, `{"ok":true,"result":true}`)
        const id = typeof body.callback_query_id === "string" ? body.callback_query_id : ""
        const pending = byCallback.get(id)
        if (pending) return answer(pending, now(), typeof body.text === "string" ? body.text : undefined)
        return count("extraReplies")
      }
      default:
        return reply(res, 200, `{"ok":true,"result":true}`)
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const url = req.url ?? ""
      const slash = url.lastIndexOf("/")
      const method = url.slice(slash + 1)
      if (url.slice(0, slash) !== `/bot${token}`) {
        return reply(res, 401, JSON.stringify({ ok: false, error_code: 401, description: "Unauthorized" }))
      }
      let body: Record<string, unknown> = {}
      if (chunks.length > 0) {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"))
        if (typeof parsed === "object" && parsed !== null) body = parsed as Record<string, unknown>
      }
      handle(method, body, res)
    })
  })
  server.keepAliveTimeout = 60_000
  server.headersTimeout = 65_000
  server.listen(0, "127.0.0.1", onListening)

  const emulator: Emulator = {
    get apiRoot() {
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    },
    setUsers: (countWanted, pace, actionsPerUser = Number.POSITIVE_INFINITY) => {
      paceMs = pace
      const at = now()
      while (users.length < countWanted) {
        const index = users.length
        users.push({
          index,
          id: virtualUserId(index),
          active: false,
          actionsLeft: 0,
          action: undefined,
          stepIndex: 0,
          outstanding: undefined,
          lastSentAt: -Infinity,
          scheduled: false
        })
      }
      for (const user of users) {
        const wanted = user.index < countWanted
        if (wanted && !user.active) {
          user.active = true
          user.actionsLeft = actionsPerUser
          // Spread first sends over one pace interval (or 100 ms for a closed loop) so they do not arrive at once.
          if (!user.outstanding) schedule(user, at + random() * Math.max(pace, 100))
        } else if (wanted) {
          user.actionsLeft = actionsPerUser
        } else {
          user.active = false
        }
      }
    },
    beginWindow: () => {
      window = {
        unconfirmedSum: 0,
        unconfirmedMax: 0,
        startedAt: now(),
        cpuAtStart: process.cpuUsage(),
        counters: zeroCounters(),
        latency: new Samples(),
        userLatency: new Samples(),
        byKind: Object.fromEntries(actionKinds.map((k) => [k, new Samples()])) as Record<ActionKind, Samples>
      }
    },
    endWindow: () => {
      const w = window
      if (!w) throw new Error("endWindow without beginWindow")
      window = undefined
      const seconds = (now() - w.startedAt) / 1000
      const cpu = process.cpuUsage(w.cpuAtStart)
      return {
        seconds,
        sent: w.counters.sent,
        offered: w.counters.offered,
        answered: w.counters.answered,
        updatesPerSecond: w.counters.answered / seconds,
        latency: w.latency.summary(),
        userLatency: w.userLatency.summary(),
        byKind: Object.fromEntries(actionKinds.map((k) => [k, w.byKind[k].summary()])) as Record<ActionKind, LatencySummary>,
        unanswered: w.counters.unanswered,
        failures: w.counters.failures,
        badRequests: w.counters.badRequests,
        extraReplies: w.counters.extraReplies,
        otherChatMessages: w.counters.otherChatMessages,
        apiCalls: w.counters.apiCalls,
        getUpdatesCalls: w.counters.getUpdatesCalls,
        unconfirmedMean: w.counters.getUpdatesCalls === 0 ? 0 : w.unconfirmedSum / w.counters.getUpdatesCalls,
        unconfirmedMax: w.unconfirmedMax,
        freshPerPoll: w.counters.getUpdatesCalls === 0 ? 0 : w.counters.offered / w.counters.getUpdatesCalls,
        emulatorCpu: (cpu.user + cpu.system) / 1000 / (seconds * 1000)
      }
    },
    idle: (maxMs) =>
      new Promise<boolean>((resolve) => {
        const started = now()
        const check = () => {
          const busy = outstanding.size > 0 || users.some((u) => u.active && u.scheduled)
          if (!busy) return resolve(true)
          if (now() - started > maxMs || closed) return resolve(false)
          setTimeout(check, 20)
        }
        check()
      }),
    firstPoll: (maxMs) =>
      new Promise<void>((resolve, reject) => {
        if (polled) return resolve()
        const timer = setTimeout(() => reject(new Error(`the bot did not call getUpdates within ${maxMs} ms`)), maxMs)
        firstPollSeen = () => {
          clearTimeout(timer)
          resolve()
        }
      }),
    totals: () => ({
      sent: totals.sent,
      offered: totals.offered,
      answered: totals.answered,
      unanswered: totals.unanswered,
      failures: totals.failures,
      badRequests: totals.badRequests,
      extraReplies: totals.extraReplies,
      answeredByKind: { ...answeredByKind },
      answeredBySteps: { ...answeredBySteps },
      apiCalls: { ...totals.apiCalls }
    }),
    outstanding: () => outstanding.size
  }

  return {
    emulator,
    close: (done) => {
      closed = true
      clearInterval(ticker)
      clearInterval(expirer)
      if (waiter) {
        clearTimeout(waiter.timer)
        reply(waiter.res, 200, `{"ok":true,"result":[]}`)
        waiter = undefined
      }
      server.closeAllConnections()
      server.close(() => done())
    }
  }
}

const reply = (res: ServerResponse, status: number, json: string) => {
  if (res.writableEnded || res.destroyed) return
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json) }).end(json)
}

const chatOf = (chatId: unknown) =>
  typeof chatId === "number" && chatId > 0
    ? { id: chatId, type: "private", first_name: "User" }
    : { id: typeof chatId === "number" ? chatId : Number(chatId) || -1001, type: "channel", title: "Channel" }
