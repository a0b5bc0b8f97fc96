// Memory of the conversation-state store: fills a store built by the real layer with 100,000 realistic entries and
// prints bytes per entry from `process.memoryUsage().heapUsed` deltas, measured after full garbage collections.
//
//   node scripts/bench/state-memory.ts          (re-runs itself with --expose-gc when `gc` is not exposed)
//   node --expose-gc scripts/bench/state-memory.ts
//
// The mix: 70 % previews with ~200-character texts (one in five holding non-Latin characters or an emoji, which
// V8 stores two bytes per character), the rest awaiting-* states. Texts go through JSON.parse, as Telegram's do, so
// they are flat strings and not concatenation ropes. User ids spread over Telegram's real range (most above 2^31).
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect, Layer } from "effect"
import * as Conversation from "../../src/domain/Conversation.ts"
import { CommentId, ConfessionId, UserId } from "../../src/domain/Ids.ts"
import { ConversationStore } from "../../src/services/ConversationStore.ts"

const entries = 100_000
const seedEntries = 2_000
const seedMegabytes = 1.2

// `gc` exists only under --expose-gc.
const gc = (globalThis as { gc?: () => void }).gc

const words = (
  "so today in the library someone sat next to me and started eating a whole rotisserie chicken without saying a " +
  "word and honestly I respect the confidence I have been pretending to understand linear algebra for three " +
  "semesters my roommate still thinks I am a morning person"
).split(" ")
const nonLatin = ["приветствую", "дружище", "😅", "ёлки", "🍕", "спасибо", "ünïversität", "🎓"]

/** A deterministic ~200-character text, different for every `n`. */
const textFor = (n: number): string => {
  const parts: Array<string> = [`#${n}`]
  let length = parts[0]?.length ?? 0
  let k = n
  while (length < 200) {
    k = (k * 1_103_515_245 + 12_345) % 2_147_483_648
    const pool = n % 5 === 0 && k % 4 === 0 ? nonLatin : words
    const word = pool[k % pool.length] ?? "x"
    parts.push(word)
    length += word.length + 1
  }
  return (JSON.parse(JSON.stringify({ text: parts.join(" ") })) as { text: string }).text
}

const stateFor = (n: number): Conversation.Conversation => {
  const bucket = n % 100
  const confession = ConfessionId.make(1 + (n % 50_000))
  if (bucket < 70) return Conversation.confessionPreview(textFor(n), n % 3 !== 0)
  if (bucket < 80) return Conversation.awaitingConfession
  if (bucket < 88) return Conversation.awaitingComment(confession)
  if (bucket < 93) return Conversation.awaitingReply(confession, CommentId.make(1 + (n % 400_000)))
  if (bucket < 97) return Conversation.awaitingFeedback
  return Conversation.awaitingRejectReason(confession)
}

const userFor = (n: number) => UserId.make(100_000_000 + n * 69_997)

const heapAfterGc = (collect: () => void) =>
  Effect.sync(() => {
    for (let i = 0; i < 4; i++) collect()
    return process.memoryUsage().heapUsed
  })

const perEntry = (bytes: number) => bytes / entries
const megabytesFor = (bytesPerEntry: number, count: number) => (bytesPerEntry * count) / 1_048_576

const measure = (collect: () => void) =>
  Effect.gen(function* () {
    // Payload alone: the same states in a plain array, which is what any store must hold at the least.
    const beforePayload = yield* heapAfterGc(collect)
    const payload: Array<Conversation.Conversation> = Array.from({ length: entries }, (_, i) => stateFor(i))
    const afterPayload = yield* heapAfterGc(collect)
    const payloadBytes = afterPayload - beforePayload - entries * 8 // minus the array's own slots
    payload.length = 0

    // The store, built by the real layer, filled with freshly made states (nothing else keeps them alive).
    const before = yield* heapAfterGc(collect)
    const total = yield* Effect.scoped(
      Effect.gen(function* () {
        const context = yield* Layer.build(
          ConversationStore.layer({ ttl: "10 minutes", maxEntries: entries, sweepInterval: "60 seconds" })
        )
        const store = yield* Effect.service(ConversationStore).pipe(Effect.provideContext(context))
        for (let i = 0; i < entries; i++) yield* store.set(userFor(i), stateFor(i))
        const size = yield* store.size
        if (size !== entries) return yield* Effect.die(`expected ${entries} entries, found ${size}`)
        const after = yield* heapAfterGc(collect)
        return after - before
      })
    )

    const bytes = perEntry(total)
    const overhead = bytes - perEntry(payloadBytes)
    yield* Effect.sync(() => {
      console.log(`entries:                 ${entries.toLocaleString("en")} (maxEntries ${entries.toLocaleString("en")})`)
      console.log(`bytes per entry:         ${bytes.toFixed(0)} (store total, states included)`)
      console.log(`  states (payload):      ${perEntry(payloadBytes).toFixed(0)}`)
      console.log(`  store bookkeeping:     ${overhead.toFixed(0)} (map slot, entry record, time)`)
      console.log(`estimated for ${seedEntries.toLocaleString("en")} entries: ${megabytesFor(bytes, seedEntries).toFixed(2)} MB ` +
        `(seed system: about ${seedMegabytes} MB)`)
      console.log(`estimated for ${entries.toLocaleString("en")} entries: ${megabytesFor(bytes, entries).toFixed(1)} MB`)
    })
  })

if (gc === undefined) {
  const child = spawnSync(process.execPath, ["--expose-gc", ...process.execArgv, fileURLToPath(import.meta.url)], {
    stdio: "inherit"
  })
  process.exitCode = child.status ?? 1
} else {
  // A script entry point: the one place a run function is allowed.
  void Effect.runPromise(measure(gc))
}
