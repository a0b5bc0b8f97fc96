// /help and the ℹ️ Help button: the user commands, plus the admin commands for admins.
import { Effect, Layer } from "effect"
import { Telegram } from "../services/Telegram.ts"
import { Router } from "../updates/Router.ts"
import * as Keyboards from "../views/Keyboards.ts"
import * as Messages from "../views/Messages.ts"

export const layer = Layer.effectDiscard(
  Effect.gen(function* () {
    const router = yield* Router
    const telegram = yield* Telegram

    yield* router.onButtonText(Keyboards.labels.help, "help")
    yield* router.onCommand(
      "help",
      Effect.fn("Help.show")(function* (context) {
        yield* telegram.sendMessage(context.chatId, Messages.help(context.isAdmin), { replyMarkup: Keyboards.main })
      })
    )
  })
)
