// The benchmark's virtual users, driving the project's Bot API emulator (src/emulator) the way Telegram clients
// would: each user sends a text or presses a button, waits for the bot's answer, then acts again (not sooner than
// `paceMs` after its previous update, Telegram's per-chat pace). Latency runs from the moment the emulator first
// handed the update to the bot ("offered") to the bot's reply, read from the emulator's change feed.
//
// Matching replies to updates: a virtual user has at most one update outstanding. The reply is the first of: an
// answered callback with the update's callback id; an editMessageText of the message carrying the pressed button
// (every press comes from a message of its own, placed in the chat just before); a sendMessage to the user's chat
// once the update was handed out. Anything else addressed to a virtual user (the toast after an edit, the edit
// after a toast) is an "extra reply", counted and otherwise ignored, so a handler's trailing message is never
// mistaken for the answer to the user's next update.
import { Effect, Layer } from "effect"
import { BotApiEmulator, type EmulatorEvent } from "../../src/emulator/BotApiEmulator.ts"
import * as TelegramHtml from "../../src/emulator/TelegramHtml.ts"
import { callbackOn, messageOf, nextUpdateId, person, type Person } from "../../src/emulator/Updates.ts"
import {
  type Action,
  type ActionKind,
  actionKinds,
  ids,
  keyboardFor,
  makeRandom,
  type Mix,
  nextAction,
  type Seeded,
  virtualUserId
} from "./workload.ts"

export interface LoadOptions {
  readonly seeded: Seeded
  readonly mix: Mix
  readonly randomSeed: number
  /** An update not answered within this long is counted as unanswered and its user moves on. */
  readonly replyTimeoutMs: number
  /** Reply texts (HTML, as the bot sends them) that mean "the bot failed" (the router's apology). */
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

export interface Load {
  /** The emulator the users talk through (its apiRoot is the bot's TELEGRAM_API_ROOT). */
  readonly emulator: BotApiEmulator["Service"]
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
  /** Completes at the bot's first getUpdates call (it is polling). */
  readonly firstPoll: Effect.Effect<void>
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
  readonly person: Person
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
  updateId: number
  readonly kind: ActionKind
  readonly stepKey: string
  readonly sentAt: number
  offeredAt: number
  callbackId: string | undefined
  /** The message carrying the pressed button (button presses only). */
  messageId: number | undefined
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


/**
 * Starts the emulator (no call recording, a short history per chat) and the virtual users on it; both stop (timers
 * cleared, server closed) when the scope closes.
 */
export const make = (options: LoadOptions) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(
      BotApiEmulator.layer({ record: false, maxMessagesPerChat: 20, longPollCap: "30 seconds" })
    )
    const emulator = yield* BotApiEmulator.pipe(Effect.provideContext(context))
    return yield* Effect.acquireRelease(
      Effect.sync(() => start(emulator, options)),
      (handle) => Effect.sync(handle.stop)
    ).pipe(Effect.map((handle) => handle.load))
  })

const start = (emulator: BotApiEmulator["Service"], options: LoadOptions): { readonly load: Load; readonly stop: () => void } => {
  const random = makeRandom(options.randomSeed)
  const failureTexts = new Set(
    options.failureTexts.map((html) => {
      const parsed = TelegramHtml.parse(html)
      return parsed._tag === "Parsed" ? parsed.text : html
    })
  )
  const users: Array<VirtualUser> = []
  const byChat = new Map<number, Pending>()
  const byCallback = new Map<string, Pending>()
  const outstanding = new Map<number, Pending>()
  const heap = new DueHeap()
  let actionSerial = 0
  let paceMs = 0
  let stopped = false
  const totals = zeroCounters()
  const answeredByKind = Object.fromEntries(actionKinds.map((k) => [k, 0])) as Record<ActionKind, number>
  const answeredBySteps: Record<string, number> = {}
  let window: (Window & { readonly statsAtStart: ReturnType<typeof emulator.stats> }) | undefined
  const statsAtStart = emulator.stats()

  const count = (field: Exclude<keyof Counters, "apiCalls">, by = 1) => {
    totals[field] += by
    if (window) window.counters[field] += by
  }

  // ---- virtual users -------------------------------------------------------------------------------------------

  const schedule = (user: VirtualUser, at: number) => {
    if (user.scheduled || stopped) return
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
    const pending: Pending = {
      user,
      updateId: 0,
      kind: action.kind,
      stepKey: `${action.kind}#${user.stepIndex + 1}`,
      sentAt: at,
      offeredAt: -1,
      callbackId: undefined,
      messageId: undefined
    }
    user.stepIndex++
    user.outstanding = pending
    user.lastSentAt = at
    byChat.set(user.id, pending)
    // Registered before the update exists: the emulator may hand it out (and the bot answer it) only later, but
    // the bookkeeping must never miss it.
    if (step._tag === "Button") {
      // A press comes from a message of its own (the page the person is looking at), so an edit of that message
      // names this update.
      const shown = emulator.seedMessage(user.id, { text: "…", reply_markup: keyboardFor(step.data) })
      const updateId = nextUpdateId()
      const update = callbackOn(user.person, shown, step.data, updateId)
      pending.updateId = updateId
      pending.callbackId = update.callback_query?.id
      pending.messageId = shown.message_id
      if (pending.callbackId !== undefined) byCallback.set(pending.callbackId, pending)
      outstanding.set(updateId, pending)
      emulator.push(update)
    } else {
      const updateId = nextUpdateId()
      pending.updateId = updateId
      outstanding.set(updateId, pending)
      emulator.push({ update_id: updateId, message: messageOf(user.person, { kind: "text", text: step.text }, { messageId: updateId }) })
    }
    count("sent")
  }

  const release = (pending: Pending) => {
    byChat.delete(pending.user.id)
    if (pending.callbackId) byCallback.delete(pending.callbackId)
    outstanding.delete(pending.updateId)
    pending.user.outstanding = undefined
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

  // ---- what the bot does, from the emulator's change feed ------------------------------------------------------

  const isVirtualUser = (chatId: number) => chatId > ids.virtualUserBase && chatId <= ids.virtualUserBase + users.length

  const onMessageTo = (chatId: number, text: string | undefined, editedMessageId: number | undefined) => {
    const at = now()
    if (!isVirtualUser(chatId)) return count("otherChatMessages")
    const pending = byChat.get(chatId)
    const matches =
      pending !== undefined && (editedMessageId === undefined ? pending.offeredAt >= 0 : pending.messageId === editedMessageId)
    // A new message can only answer an update the bot has already received.
    if (matches && pending !== undefined) return answer(pending, at, text)
    count("extraReplies")
  }

  const onEvent = (event: EmulatorEvent) => {
    switch (event._tag) {
      case "UpdatesDelivered": {
        count("getUpdatesCalls")
        if (window) {
          window.unconfirmedSum += event.unconfirmed
          window.unconfirmedMax = Math.max(window.unconfirmedMax, event.unconfirmed)
        }
        const at = now()
        for (const id of event.fresh) {
          const pending = outstanding.get(id)
          if (pending !== undefined && pending.offeredAt < 0) pending.offeredAt = at
          count("offered")
        }
        return
      }
      case "MessageSent":
        if (event.method === "sendMessage") onMessageTo(event.chatId, "text" in event.message ? event.message.text : undefined, undefined)
        return
      case "MessageEdited":
        if (event.method === "editMessageText") {
          onMessageTo(event.chatId, "text" in event.message ? event.message.text : undefined, event.message.message_id)
        }
        return
      case "CallbackAnswered": {
        const pending = byCallback.get(event.callbackQueryId)
        if (pending) return answer(pending, now(), event.text)
        return count("extraReplies")
      }
      default:
        return
    }
  }
  const unlisten = emulator.listen(onEvent)

  const apiCallsSince = (before: ReturnType<typeof emulator.stats>) => {
    const after = emulator.stats().requests
    const calls: Record<string, number> = {}
    for (const [method, n] of Object.entries(after)) {
      const delta = n - (before.requests[method] ?? 0)
      if (delta > 0) calls[method] = delta
    }
    return calls
  }
  const badRequestsSince = (before: ReturnType<typeof emulator.stats>) =>
    (emulator.stats().statuses["400"] ?? 0) - (before.statuses["400"] ?? 0)

  const load: Load = {
    emulator,
    setUsers: (countWanted, pace, actionsPerUser = Number.POSITIVE_INFINITY) => {
      paceMs = pace
      const at = now()
      while (users.length < countWanted) {
        const index = users.length
        const id = virtualUserId(index)
        users.push({
          index,
          id,
          person: person(id, `User${index + 1}`),
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
        byKind: Object.fromEntries(actionKinds.map((k) => [k, new Samples()])) as Record<ActionKind, Samples>,
        statsAtStart: emulator.stats()
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
        badRequests: badRequestsSince(w.statsAtStart),
        extraReplies: w.counters.extraReplies,
        otherChatMessages: w.counters.otherChatMessages,
        apiCalls: apiCallsSince(w.statsAtStart),
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
          if (now() - started > maxMs || stopped) return resolve(false)
          setTimeout(check, 20)
        }
        check()
      }),
    firstPoll: emulator.waitUntil(() => (emulator.stats().requests.getUpdates ?? 0) > 0),
    totals: () => ({
      sent: totals.sent,
      offered: totals.offered,
      answered: totals.answered,
      unanswered: totals.unanswered,
      failures: totals.failures,
      badRequests: badRequestsSince(statsAtStart),
      extraReplies: totals.extraReplies,
      answeredByKind: { ...answeredByKind },
      answeredBySteps: { ...answeredBySteps },
      apiCalls: apiCallsSince(statsAtStart)
    }),
    outstanding: () => outstanding.size
  }

  return {
    load,
    stop: () => {
      stopped = true
      unlisten()
      clearInterval(ticker)
      clearInterval(expirer)
    }
  }
}
