// /help is the bot's promise of what it understands: every command it lists, sent as written there (with an id where
// it takes one, and bare, as a newcomer types it), gets an answer of its own, never the "I don't know the command"
// or "I'm not sure what you mean" fallback, and the admin commands it lists to admins work for admins.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as CallbackData from "../../src/domain/CallbackData.ts"
import { person } from "../../src/emulator/Updates.ts"
import * as Messages from "../../src/views/Messages.ts"
import * as Session from "../support/Session.ts"
import * as TestApp from "../support/TestApp.ts"

const bea = person(TestApp.admins.bea, "Bea")
const student = person(920_000_001, "Sam")

/** `/comments <ID>` → `/comments`, `/block c<ID>` → `/block`. */
const bare = (listed: string): string => listed.split(" ")[0] ?? listed

/** The command as listed, with `<ID>` replaced by a real one (`c<ID>` keeps its prefix). */
const withId = (listed: string, id: number): string => listed.replace("<ID>", String(id))

const isFallback = (text: string): boolean =>
  text === Messages.notUnderstood || text.startsWith("🤔 I don't know the command")

describe("Help end to end", () => {
  it.live("every command /help lists is understood, bare and with an id, by the people it is listed for", () =>
    Session.withEmulator(
      Effect.gen(function* () {
        const session = yield* Session.launch()
        const id = yield* session.confess(student, "The vending machine on floor 3 owes me two euros")
        yield* session.press(bea, CallbackData.Approve({ confessionId: id }))

        const help = session.textsTo(yield* session.say(bea, "/help"), bea).join("\n")
        const listed = [
          ...Messages.userCommands.map(([command]) => [student, command] as const),
          ...Messages.adminCommands.map(([command]) => [bea, command] as const)
        ]
        for (const [, command] of listed) assert.include(help, command.replace("<", "&lt;").replace(">", "&gt;"))

        for (const [who, command] of listed) {
          for (const sent of new Set([bare(command), withId(command, id)])) {
            const answers = session.textsTo(yield* session.say(who, sent), who)
            assert.isAbove(answers.length, 0, `${sent} got no answer`)
            assert.isFalse(answers.some(isFallback), `${sent} fell through to the fallback: ${answers.join(" | ")}`)
            // Leave any flow the command started, so the next command is read as a command.
            yield* session.say(who, "/cancel")
          }
        }
      })
    ), { timeout: 120_000 })
})
