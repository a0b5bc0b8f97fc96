// Whatever no route claims (an unknown command, text or media outside any flow, a flow that expired): a short help
// naming the likely commands. Never silence.
import { Effect, Layer } from "effect"
import { Telegram } from "../services/Telegram.ts"
import { Router } from "../updates/Router.ts"
import * as Keyboards from "../views/Keyboards.ts"
import * as Messages from "../views/Messages.ts"

export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const telegram = yield* Telegram

    yield* router.onFallback(
      Effect.fn("Fallback.answer")(function* (context) {
        const command = context.text?.trim().match(/^\/[^\s@]+/)?.[0]
        const text = command === undefined ? Messages.notUnderstood : Messages.unknownCommand(command)
        yield* telegram.sendMessage(context.chatId, text, { replyMarkup: Keyboards.main })
      })
    )
  })
)
